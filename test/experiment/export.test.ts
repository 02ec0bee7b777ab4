// CSV export of a results store: each table back through csv-parse equals the table as SQLite
// itself returns it (read here with better-sqlite3, not through the exporter), NULL apart from an
// empty string, numbers to the last bit, JSON columns as JSON; and the file is what Excel opens
// (BOM, CRLF, RFC 4180 quoting).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORT_TABLES, exportCsv } from "../../src/experiment/export.js";
import { openStore, StoreError } from "../../src/experiment/store.js";
import type { SampleRecord } from "../../src/experiment/types.js";
import { makeRng, runSeed } from "../helpers/rng.js";
import { makeEnv, makeEpoch, makeFinish, makePlan, makeSamples, makeSpec } from "./fixtures/store-data.js";

const seed = runSeed();
console.log(`export.test.ts seed ${seed} (HALFWATT_SEED=${seed} replays it)`);

let dir: string;
let dbPath: string;
const allSamples: SampleRecord[] = [];
const ERROR_TEXT = 'device lost, "VK_ERROR_DEVICE_LOST"\r\nat step 12; 25 °C × 2';
const LONE_LF = "kernel panic\nafter a lone line feed";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "halfwatt-export-"));
  dbPath = join(dir, "results.db");
  const rng = makeRng(seed);
  const store = openStore(dbPath);
  try {
    for (const name of ['first, "quoted" study', "second"]) {
      const spec = makeSpec(rng, name);
      const plan = makePlan(spec, rng);
      const suite = store.openSuite(spec, plan);
      store.addSuiteNote(suite.id, "line one\nline two, with a comma");
      plan.slice(0, 4).forEach((run, i) => {
        const config = spec.configurations.find((c) => c.id === run.configId);
        if (!config) throw new Error("fixture");
        const id = store.startRun(suite.id, run, config, makeEnv(rng), i % 2 ? null : 40 + rng());
        store.addEpoch(id, makeEpoch(rng, 1, { emptyValid: i === 0 }));
        const samples = makeSamples(rng, 3000 + i * 1000);
        allSamples.push(...samples);
        store.addSamples(id, samples);
        if (i === 1) store.failRun(id, "failed", name === "second" ? LONE_LF : ERROR_TEXT);
        else if (i === 2) store.failRun(id, "interrupted", "");
        else store.finishRun(id, makeFinish(rng, { noTest: i === 3 }));
      });
    }
  } finally {
    store.close();
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Cell {
  v: string;
  q: boolean;
}

const readCsv = (file: string): Cell[][] =>
  parse(readFileSync(file), {
    bom: true,
    cast: (v: string, c: { quoting: boolean }) => ({ v, q: c.quoting }),
  }) as unknown as Cell[][];

/** Whether a CSV cell holds exactly this SQLite value. */
function same(cell: Cell, value: unknown): boolean {
  if (value === null) return cell.v === "" && !cell.q;
  if (typeof value === "number") return cell.v !== "" && Object.is(Number(cell.v), value);
  return cell.v === value;
}

describe("exportCsv", () => {
  let outDir: string;
  let exported: ReturnType<typeof exportCsv>;

  beforeAll(() => {
    outDir = join(dir, "csv", "nested");
    exported = exportCsv(dbPath, outDir);
  });

  it("writes every table, one file each, with SQLite's columns and rows cell for cell", () => {
    expect(exported.map((t) => t.table)).toStrictEqual([
      "suites",
      "runs",
      "epochs",
      "phases",
      "energy",
      "samples",
    ]);
    const db = new Database(dbPath, { readonly: true });
    try {
      for (const table of EXPORT_TABLES) {
        const file = join(outDir, `${table}.csv`);
        expect(exported.find((t) => t.table === table)?.file).toBe(file);
        const [header, ...rows] = readCsv(file);
        const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map(
          (c) => c.name,
        );
        expect(header.map((c) => c.v)).toStrictEqual(columns);
        const want = db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).raw(true).all() as unknown[][];
        expect(rows.length).toBe(want.length);
        expect(exported.find((t) => t.table === table)?.rows).toBe(want.length);
        expect(want.length).toBeGreaterThan(0);
        for (let r = 0; r < want.length; r++)
          for (let c = 0; c < columns.length; c++)
            if (!same(rows[r][c], want[r][c]))
              throw new Error(
                `${table}.csv row ${r + 2} column ${columns[c]}: ${JSON.stringify(rows[r][c])} is not ${JSON.stringify(want[r][c])}`,
              );
      }
    } finally {
      db.close();
    }
  });

  it("keeps the values as written: samples to the last bit, NULL apart from '', text with quotes and line breaks, JSON columns", () => {
    const [header, ...rows] = readCsv(join(outDir, "samples.csv"));
    const col = (name: string) => header.findIndex((h) => h.v === name);
    expect(
      rows.map((r) => ({
        t: Number(r[col("t")].v),
        channel: r[col("channel")].v,
        p: r[col("power_w")],
        e: r[col("energy_j")],
      })),
    ).toStrictEqual(
      allSamples.map((s) => ({
        t: s.t,
        channel: s.channel,
        p: s.powerW === undefined ? { v: "", q: false } : { v: String(s.powerW), q: false },
        e: s.energyJ === undefined ? { v: "", q: false } : { v: String(s.energyJ), q: false },
      })),
    );

    const [rh, ...runs] = readCsv(join(outDir, "runs.csv"));
    const rc = (name: string) => rh.findIndex((h) => h.v === name);
    expect(runs.map((r) => r[rc("status")].v)).toStrictEqual([
      "completed",
      "failed",
      "interrupted",
      "completed",
      "completed",
      "failed",
      "interrupted",
      "completed",
    ]);
    expect(runs[1][rc("error")]).toStrictEqual({ v: ERROR_TEXT, q: true });
    expect(runs[5][rc("error")]).toStrictEqual({ v: LONE_LF, q: true });
    expect(runs[2][rc("error")]).toStrictEqual({ v: "", q: true }); // an empty message, not NULL
    expect(runs[0][rc("error")]).toStrictEqual({ v: "", q: false }); // NULL
    const env = JSON.parse(runs[0][rc("env")].v);
    expect(Object.keys(env)).toStrictEqual(["adapter", "driver", "hostname", "versions"]);
    expect(JSON.parse(runs[0][rc("config")].v).id).toBe(runs[0][rc("config_id")].v);
    expect(JSON.parse(runs[0][rc("kernels")].v)[0]).toStrictEqual({
      op: "gemm",
      role: "forward",
      input: "f16",
      output: "f32",
      variant: "subgroup-matrix",
    });

    const [sh, ...suites] = readCsv(join(outDir, "suites.csv"));
    const sc = (name: string) => sh.findIndex((h) => h.v === name);
    expect(suites.map((s) => s[sc("name")])).toStrictEqual([
      { v: 'first, "quoted" study', q: true },
      { v: "second", q: false },
    ]);
    expect(JSON.parse(suites[0][sc("notes")].v)).toStrictEqual(["line one\nline two, with a comma"]);
    expect(JSON.parse(suites[0][sc("spec")].v).name).toBe('first, "quoted" study');

    const [eh, ...epochs] = readCsv(join(outDir, "epochs.csv"));
    expect(epochs[0][eh.findIndex((h) => h.v === "valid_loss")]).toStrictEqual({ v: "", q: false }); // NaN of an empty split
  });

  it("writes what Excel opens: a UTF-8 BOM, CRLF records, RFC 4180 quoting", () => {
    const raw = readFileSync(join(outDir, "runs.csv"), "utf8");
    expect(raw.startsWith("\uFEFFid,suite_id,plan_index,")).toBe(true);
    expect(raw.endsWith("\r\n")).toBe(true);
    // The error field: quoted, its quotes doubled, its own line break kept inside the quotes.
    expect(raw).toContain(',"device lost, ""VK_ERROR_DEVICE_LOST""\r\nat step 12; 25 °C × 2",');
    expect(raw).toContain(',"kernel panic\nafter a lone line feed",');
    const suitesRaw = readFileSync(join(outDir, "suites.csv"), "utf8");
    expect(suitesRaw.split("\r\n")[1]).toMatch(/^1,"first, ""quoted"" study","\{/);
    // Every record ends with CRLF: no bare \n outside quoted fields (the notes' \n is JSON-escaped).
    expect(suitesRaw.replace(/\r\n/g, "").includes("\n")).toBe(false);
  });

  it("exports from a store that a writer holds open, and from an open store's handle", () => {
    const store = openStore(dbPath);
    try {
      const again = exportCsv(store, join(dir, "csv2"));
      expect(again.map((t) => t.rows)).toStrictEqual(exported.map((t) => t.rows));
      expect(readFileSync(join(dir, "csv2", "samples.csv"), "utf8")).toBe(
        readFileSync(join(outDir, "samples.csv"), "utf8"),
      );
    } finally {
      store.close();
    }
  });

  it("refuses to overwrite CSV files already there without force, naming them; with force replaces them", () => {
    const target = join(dir, "csv-again");
    mkdirSync(target);
    // One earlier file (edited in a spreadsheet, say) and an unrelated one.
    writeFileSync(join(target, "runs.csv"), "EDITED");
    writeFileSync(join(target, "notes.txt"), "mine");
    expect(() => exportCsv(dbPath, target)).toThrow(StoreError);
    try {
      exportCsv(dbPath, target);
    } catch (e) {
      expect((e as StoreError).code).toBe("E_INPUT");
      expect((e as Error).message).toBe(
        `${join(target, "runs.csv")} already exists: pass --force to replace it, or choose another --csv folder`,
      );
    }
    // Nothing was written: the other tables' files are not there either.
    expect(readFileSync(join(target, "runs.csv"), "utf8")).toBe("EDITED");
    expect(existsSync(join(target, "suites.csv"))).toBe(false);
    const forced = exportCsv(dbPath, target, { force: true });
    expect(forced.map((t) => t.rows)).toStrictEqual(exported.map((t) => t.rows));
    expect(readFileSync(join(target, "runs.csv"), "utf8")).toBe(
      readFileSync(join(outDir, "runs.csv"), "utf8"),
    );
    expect(readFileSync(join(target, "notes.txt"), "utf8")).toBe("mine");
  });

  it("refuses a missing file and a database that is not a store, naming it", () => {
    const absent = join(dir, "absent.db");
    expect(() => exportCsv(absent, join(dir, "x"))).toThrow(StoreError);
    expect(() => exportCsv(absent, join(dir, "x"))).toThrow(/cannot open the results store .*absent\.db/);
    const other = join(dir, "other.db");
    const db = new Database(other);
    db.exec("CREATE TABLE photos (id INTEGER)");
    db.close();
    expect(() => exportCsv(other, join(dir, "x"))).toThrow(
      /other\.db is an SQLite database but not a halfwatt results store/,
    );
  });
});
