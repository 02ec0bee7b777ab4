// `halfwatt export DB --csv DIR`: every table of a results store as one CSV file, for spreadsheet
// users. RFC 4180 as Excel reads it: a header row, CRLF line ends, fields quoted (quotes doubled)
// when they hold a comma, quote or line break; UTF-8 with a byte-order mark, without which Excel
// takes the file for the local code page and garbles "°C" or "×". NULL is an empty field and an
// empty string a quoted one (""), so the two stay apart for a reader that checks quoting. JSON
// columns (spec, config, env, kernels, loss scale) are written as their JSON text; numbers as
// JavaScript prints them, which reads back to the same double.
//
// The store is opened read-only and read in one transaction, so a suite still writing to it gets
// a consistent snapshot and is not disturbed.
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { type Options as CsvOptions, stringify } from "csv-stringify/sync";
import { SCHEMA_VERSION } from "./migrations.js";
import { openReadOnlyDatabase, StoreError, schemaVersion } from "./store.js";

/** The tables exported, in this order, each to `<table>.csv`. */
export const EXPORT_TABLES = ["suites", "runs", "epochs", "phases", "energy", "samples"] as const;

export interface ExportedTable {
  table: (typeof EXPORT_TABLES)[number];
  file: string;
  columns: string[];
  rows: number;
}

const CSV_OPTIONS: CsvOptions = {
  record_delimiter: "windows",
  // Line breaks inside a field must be quoted (csv-stringify leaves a lone \n unquoted when the
  // record delimiter is \r\n); an empty string is quoted to tell it from NULL.
  quoted_match: [/[\r\n]/, /^$/],
};

/** Rows per write: the samples table can hold millions, so it is streamed, not loaded. */
const CHUNK_ROWS = 5000;

/**
 * Writes each table of the store at `store` (a path, or an open store's handle, whose path is
 * used) to `dir` (created if needed). CSV files of the same names already there are refused
 * (E_INPUT, naming them) unless `force`, as `halfwatt merge` refuses to replace its output: an
 * export of another store, or one edited in a spreadsheet, is not overwritten by accident.
 */
export function exportCsv(
  store: string | { path: string },
  dir: string,
  options: { force?: boolean } = {},
): ExportedTable[] {
  const path = typeof store === "string" ? store : store.path;
  let db: Database.Database;
  try {
    db = openReadOnlyDatabase(path);
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError("E_INPUT", `cannot open the results store ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    let version: number;
    try {
      version = schemaVersion(db, path);
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError("E_INPUT", `cannot read the results store ${path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (version === 0)
      throw new StoreError("E_INPUT", `${path} is an empty file, not a halfwatt results store`);
    if (version !== SCHEMA_VERSION)
      throw new StoreError(
        "E_INPUT",
        `the results store ${path} has schema version ${version}, this halfwatt exports ${SCHEMA_VERSION}: open it for writing once (halfwatt suite … --resume) to bring it up to date`,
      );
    const existing = EXPORT_TABLES.map((t) => join(dir, `${t}.csv`)).filter((f) => existsSync(f));
    if (existing.length && !options.force)
      throw new StoreError(
        "E_INPUT",
        `${existing.join(", ")} already exist${existing.length === 1 ? "s" : ""}: pass --force to replace ${existing.length === 1 ? "it" : "them"}, or choose another --csv folder`,
      );
    mkdirSync(dir, { recursive: true });
    db.exec("BEGIN");
    try {
      return EXPORT_TABLES.map((table) => exportTable(db, table, join(dir, `${table}.csv`)));
    } finally {
      db.exec("COMMIT");
    }
  } finally {
    db.close();
  }
}

function exportTable(db: Database.Database, table: ExportedTable["table"], file: string): ExportedTable {
  const stmt = db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).raw(true);
  const columns = stmt.columns().map((c) => c.name);
  const fd = openSync(file, "w");
  let rows = 0;
  try {
    writeSync(fd, `\uFEFF${stringify([columns], CSV_OPTIONS)}`);
    let chunk: unknown[][] = [];
    const flush = () => {
      if (chunk.length) writeSync(fd, stringify(chunk, CSV_OPTIONS));
      chunk = [];
    };
    for (const row of stmt.iterate() as Iterable<unknown[]>) {
      chunk.push(row);
      rows++;
      if (chunk.length >= CHUNK_ROWS) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { table, file, columns, rows };
}
