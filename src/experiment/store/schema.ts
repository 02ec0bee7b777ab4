// The store's schema version, and bringing a store up to date with migrations.ts.
import { MIGRATIONS, SCHEMA_VERSION } from "../migrations.js";
import type { Db } from "./database.js";
import { StoreError } from "./errors.js";
import { now } from "./rows.js";

/** The store's schema version (0: an empty file); refuses other SQLite files and newer stores. */
export function schemaVersion(db: Db, path: string, known = SCHEMA_VERSION): number {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  if (!tables.includes("schema_version")) {
    if (tables.length)
      throw new StoreError(
        "E_INPUT",
        `${path} is an SQLite database but not a halfwatt results store (it has no schema_version table)`,
      );
    return 0;
  }
  const v = (db.prepare("SELECT max(version) FROM schema_version").pluck().get() as number | null) ?? 0;
  if (v > known)
    throw new StoreError(
      "E_INPUT",
      `the results store ${path} has schema version ${v}, written by a newer halfwatt; this one reads up to version ${known}`,
    );
  return v;
}

/**
 * Brings the schema up to the last of `migrations` in one transaction (a crash leaves the old
 * version). Exported, with the list as a parameter, so a test can play a later version's migration.
 */
export function migrate(db: Db, path: string, migrations: readonly string[] = MIGRATIONS): void {
  db.transaction(() => {
    const from = schemaVersion(db, path, migrations.length);
    if (from === 0)
      db.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    const record = db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
    for (let v = from; v < migrations.length; v++) {
      db.exec(migrations[v]);
      record.run(v + 1, now());
    }
  }).immediate();
}

/**
 * For a read-only open: refuses an empty file and a store of another schema version, saying
 * plainly that a read-only open does not migrate and what does.
 */
export function requireCurrentSchema(db: Db, path: string): void {
  const v = schemaVersion(db, path);
  if (v === 0) throw new StoreError("E_INPUT", `${path} is empty, not a halfwatt results store`);
  if (v !== SCHEMA_VERSION)
    throw new StoreError(
      "E_INPUT",
      `the results store ${path} has schema version ${v}, this halfwatt reads ${SCHEMA_VERSION}: it needs a migration, which a read-only open (report, export, merge's inputs) never writes; open it for writing once to bring it up to date (halfwatt suite … --resume on the folder that holds it; on a copy if it must stay as it is)`,
    );
}
