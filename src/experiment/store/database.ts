// Opening the results store's SQLite file: for writing (its folder created, write-ahead log,
// synchronous = NORMAL) or for reading only, including a store in a folder this process cannot
// write (an archive, a read-only share, another user's results).
//
// Why read-only needs care: a WAL-mode database is read through two files beside it, DB-wal and
// DB-shm (the WAL index). A read-only connection still creates them when they are missing, so in
// a read-only folder SQLite fails with "attempt to write a readonly database"
// (SQLITE_READONLY_DIRECTORY). When they are missing the store was closed cleanly and the file
// alone holds every commit, so it is read from an in-memory copy instead. When DB-wal exists
// but DB-shm cannot be made (SQLite then says "unable to open database file"), commits sit in the
// log where SQLite cannot read them: refused, saying so.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StoreError } from "./errors.js";

export type Db = Database.Database;

/** The largest store read from an in-memory copy: readFileSync's limit, and memory well spent. */
const MAX_COPY_BYTES = 2 ** 31 - 1;

/** A store file's write-ahead log, beside it. */
const walOf = (path: string) => `${path}-wal`;

/** Whether this process may create files in the store's folder. */
function folderWritable(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Reads one row, so that a file that is not SQLite, or cannot be read, fails here. */
function probe(db: Db): Db {
  db.prepare("SELECT count(*) FROM sqlite_master").get();
  return db;
}

/**
 * The store file as an in-memory, read-only database (SQLite's deserialize). Bytes 18 and 19 of
 * the header (the file format's write and read versions, https://sqlite.org/fileformat.html
 * §1.3.3) say 2 for WAL, which an in-memory image cannot use; they are set to 1 (rollback journal),
 * which reads the same pages, since the log is empty.
 */
function inMemoryCopy(path: string): Db {
  const size = statSync(path).size;
  if (size > MAX_COPY_BYTES)
    throw new StoreError(
      "E_INPUT",
      `cannot read the results store ${path}: its folder is read-only, so SQLite cannot read it in place, and at ${(size / 2 ** 30).toFixed(1)} GiB it is too large for an in-memory copy (at most ${MAX_COPY_BYTES / 2 ** 30} GiB); copy it to a writable folder`,
    );
  const image = readFileSync(path);
  if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  return probe(new Database(image, { readonly: true }));
}

/**
 * Opens the store at `path` for reading only: SQLite's readonly mode, no lock, nothing written;
 * in a folder this process cannot write, from an in-memory copy of a cleanly closed store.
 * `busyMs`: how long a read waits for a writer's checkpoint. Errors: E_INPUT (no such file, not
 * SQLite, or unreadable where it lies).
 */
export function openReadOnlyDatabase(path: string, busyMs = 5000): Db {
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyMs });
    return probe(db);
  } catch (e) {
    db?.close();
    let failure = e;
    const code = (e as { code?: string }).code;
    if (code === "SQLITE_READONLY_DIRECTORY" || (code === "SQLITE_CANTOPEN" && !folderWritable(path))) {
      if (existsSync(walOf(path)) && statSync(walOf(path)).size > 0)
        throw new StoreError(
          "E_INPUT",
          `cannot read the results store ${path}: its folder is read-only and its write-ahead log ${walOf(path)} holds commits not yet in the store file, which SQLite reads only through an index file (${path}-shm) it cannot create there; copy the store with its -wal file to a writable folder, or make the folder writable`,
          { cause: e },
        );
      if (code === "SQLITE_READONLY_DIRECTORY")
        try {
          return inMemoryCopy(path);
        } catch (copyError) {
          if (copyError instanceof StoreError) throw copyError;
          failure = copyError;
        }
    }
    throw new StoreError("E_INPUT", `cannot open the results store ${path}: ${(failure as Error).message}`, {
      cause: failure,
    });
  }
}

/**
 * Opens (creating it and its folder if needed) the store at `path` for writing: write-ahead log,
 * synchronous = NORMAL (see store.ts on durability). `busyMs`: SQLite's busy timeout. E_RUNTIME.
 */
export function openWritableDatabase(path: string, busyMs: number): Db {
  let db: Db | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = probe(new Database(path, { timeout: busyMs }));
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal")
      throw new StoreError(
        "E_RUNTIME",
        `the results store ${path} cannot use a write-ahead log (journal mode ${mode}); put it on a local disk`,
      );
    db.pragma("synchronous = NORMAL");
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError("E_RUNTIME", `cannot open the results store ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
