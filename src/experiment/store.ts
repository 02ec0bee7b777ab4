// The results store: one SQLite file (better-sqlite3) per --out, written as the suite runs. This
// module is its public face, the names the rest of halfwatt imports; each job lives in a module
// of src/experiment/store/:
//   open.ts        openStore: for writing (migrated, under the writer's lock) or read-only
//   database.ts    the SQLite file: write-ahead log for writing, read-only (also in a read-only folder)
//   schema.ts      the schema version and migrations (the migrations themselves: ../migrations.ts)
//   lock.ts        the writer's lock row: taken, waited for, joined by a suite's workers, taken over
//   connection.ts  one open handle: its guard (errors naming the store) and transactions
//   results.ts     suites, runs, epochs, samples, phases, energy (the ResultStore of types.ts)
//   task-marks.ts  the blocks a Slurm array task's store holds
//   claims.ts      worker processes' block claims (which block next: ../blocks.ts)
//   rows.ts        rows to records and back; every INSERT names its columns
//   difference.ts  where a resumed suite's spec or plan differs from the stored one
//
// Durability: every write is its own committed transaction (a batch of samples, an epoch, a run's
// end), so a crash or SIGKILL loses at most the run in progress, which recoverInterrupted() then
// marks `interrupted`. The journal is WAL with synchronous = NORMAL: in WAL mode NORMAL never
// corrupts the database, and a process crash loses nothing committed (the WAL is in the OS's page
// cache); only a power cut or OS crash can roll back the last commits since a checkpoint. FULL
// would fsync at every commit, ten times a second with the sampler's batches, for no gain a resume
// does not already give; instead finishRun() checkpoints, which syncs the WAL, so each completed
// run is on disk.
//
// Concurrency: one writer per store (lock.ts). Readers (the export, a report of a running suite)
// open read-only and need no lock: WAL lets them read while the writer writes. SQLite's busy
// timeout covers the writes themselves.
export type { WorkerStore } from "./store/claims.js";
export { openReadOnlyDatabase } from "./store/database.js";
export { firstDifference } from "./store/difference.js";
export { StoreError } from "./store/errors.js";
export { type OpenStoreOptions, openStore, type SqliteResultStore } from "./store/open.js";
export { SHARED_PROVENANCE } from "./store/rows.js";
export { migrate, schemaVersion } from "./store/schema.js";
export type { TaskMarks } from "./store/task-marks.js";
