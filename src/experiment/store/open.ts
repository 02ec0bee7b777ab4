// Opening a results store: for writing (created and migrated if needed, under the writer's lock,
// or joining a suite parent's lock), or for reading only. The handle it returns is the store's
// whole API: the results (results.ts), Slurm task marks (task-marks.ts) and worker claims
// (claims.ts), each a module of its own; this class only routes the calls to them.
import type { EpochResult } from "../../model/trainer.js";
import type {
  FinishedRun,
  PlannedRun,
  ResultStore,
  RunConfiguration,
  RunEnvironment,
  RunMeasurement,
  SampleRecord,
  SuiteRecord,
  SuiteResults,
  SuiteSpec,
} from "../types.js";
import type { WorkerStore } from "./claims.js";
import * as claims from "./claims.js";
import { StoreConnection } from "./connection.js";
import { type Db, openReadOnlyDatabase, openWritableDatabase } from "./database.js";
import { StoreError } from "./errors.js";
import { acquireLock, joinLock, releaseLock } from "./lock.js";
import * as results from "./results.js";
import { migrate, requireCurrentSchema } from "./schema.js";
import type { TaskMarks } from "./task-marks.js";
import * as marks from "./task-marks.js";

export interface OpenStoreOptions {
  /** When another process holds the store: wait for it (up to timeoutMs) instead of failing at once. */
  wait?: boolean;
  /** How long to wait for the other process, ms (default 10 minutes); also bounds the busy timeout. */
  timeoutMs?: number;
  /**
   * Open for reading only: no lock, no migration, no checkpoint, writes refused (report or export
   * of a store in use, or of one in a read-only folder).
   */
  readonly?: boolean;
  /**
   * Write under the lock another process holds, given its token (SqliteResultStore.lockToken): a
   * suite's worker processes join their parent's lock. Refused unless that lock is held, by a live
   * process; close() leaves it to its holder. Any other writer is still refused.
   */
  join?: string;
}

export type SqliteResultStore = ResultStore &
  TaskMarks &
  WorkerStore & {
    path: string;
    /** This handle's lock token (for workers to join, see OpenStoreOptions.join); null when read-only. */
    readonly lockToken: string | null;
  };

const DEFAULT_WAIT_MS = 10 * 60_000;
/** How long one write waits for SQLite's own lock (a checkpoint, another process taking the lock row). */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens (creating and migrating if needed) the results store at `path` for writing, taking its
 * writer's lock; or, with `readonly`, for reading. Close it to release the lock.
 */
export function openStore(path: string, options: OpenStoreOptions = {}): SqliteResultStore {
  const readonly = options.readonly ?? false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const busyMs = Math.min(BUSY_TIMEOUT_MS, Math.max(timeoutMs, 1000));
  const db = readonly ? openReadOnlyDatabase(path, busyMs) : openWritableDatabase(path, busyMs);
  let token: string | null = null;
  try {
    if (readonly) requireCurrentSchema(db, path);
    else {
      migrate(db, path);
      if (options.join !== undefined) {
        joinLock(db, path, options.join);
        token = options.join;
      } else token = acquireLock(db, path, options.wait ?? false, timeoutMs);
    }
    db.pragma("foreign_keys = ON");
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError("E_RUNTIME", `cannot open the results store ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return new SqliteStore(db, path, token, options.join === undefined);
}

class SqliteStore extends StoreConnection implements ResultStore, TaskMarks, WorkerStore {
  // Plain constructor, not parameter properties: tests run this file under Node's type stripping.
  constructor(db: Db, path: string, token: string | null, ownsLock: boolean) {
    super(db, path, token, ownsLock);
  }

  get lockToken(): string | null {
    return this.token;
  }

  openSuite(spec: SuiteSpec, plan: PlannedRun[]): SuiteRecord {
    return results.openSuite(this, spec, plan);
  }
  completedIndices(suiteId: number): Set<number> {
    return results.completedIndices(this, suiteId);
  }
  recoverInterrupted(suiteId: number): number {
    return results.recoverInterrupted(this, suiteId);
  }
  startRun(
    suiteId: number,
    run: PlannedRun,
    config: RunConfiguration,
    env: RunEnvironment,
    gpuTempC: number | null,
  ): number {
    return results.startRun(this, suiteId, run, config, env, gpuTempC);
  }
  addEpoch(runId: number, e: EpochResult): void {
    results.addEpoch(this, runId, e);
  }
  addSamples(runId: number, samples: readonly SampleRecord[]): void {
    results.addSamples(this, runId, samples);
  }
  finishRun(runId: number, r: FinishedRun): void {
    results.finishRun(this, runId, r);
  }
  failRun(runId: number, status: "interrupted" | "failed", error: string): void {
    results.failRun(this, runId, status, error);
  }
  setRunMeasurement(runId: number, m: RunMeasurement): void {
    results.setRunMeasurement(this, runId, m);
  }
  addSuiteNote(suiteId: number, note: string): void {
    results.addSuiteNote(this, suiteId, note);
  }
  setIdleTemp(suiteId: number, celsius: number): void {
    results.setIdleTemp(this, suiteId, celsius);
  }
  results(suiteId: number): SuiteResults {
    return results.results(this, suiteId);
  }
  suites(): { id: number; name: string }[] {
    return results.suites(this);
  }

  markTask(suiteId: number, blocks: readonly number[], slurmJob: string | null): void {
    marks.markTask(this, suiteId, blocks, slurmJob);
  }
  taskBlocks(suiteId: number): number[] | null {
    return marks.taskBlocks(this, suiteId);
  }

  claimBlock(suiteId: number, session: string, worker: number, gpu: string | null): number | null {
    return claims.claimBlock(this, suiteId, session, worker, gpu);
  }
  claims(suiteId: number, session: string): { block: number; worker: number; gpu: string | null }[] {
    return claims.claims(this, suiteId, session);
  }
  runIntervals(suiteId: number, host: string): { id: number; startMs: number; endMs: number }[] {
    return claims.runIntervals(this, suiteId, host);
  }
  setRunEnv(runId: number, env: RunEnvironment): void {
    claims.setRunEnv(this, runId, env);
  }
  failWorkerRuns(suiteId: number, worker: number, status: "interrupted" | "failed", error: string): number {
    return claims.failWorkerRuns(this, suiteId, worker, status, error);
  }

  close(): void {
    if (this.closed) return;
    try {
      if (this.token !== null && this.ownsLock) releaseLock(this.db, this.token);
    } finally {
      this.closed = true;
      this.db.close();
    }
  }
}
