// The results store: one SQLite file (better-sqlite3) per --out, written as the suite runs.
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
// Concurrency: one writer per store. A `lock` row (pid, host, token, since) is taken inside
// BEGIN IMMEDIATE; a second process waits for it or fails at once with a message naming the
// holder. The lock dies with its process: a row whose pid no longer runs on this host (gone, a
// zombie, or reused by a process with another start time) is taken over. Readers (the export, a
// report of a running suite) open read-only and need no lock: WAL lets them read while the writer
// writes. SQLite's busy timeout covers the writes themselves.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { type ErrorCode, HalfwattError } from "../errors.js";
import type { KernelRecord } from "../model/mlp.js";
import type { EpochResult, LossScaleSummary, SplitMetrics } from "../model/trainer.js";
import type { Component, Provenance } from "../telemetry/types.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";
import type {
  FinishedRun,
  PlannedRun,
  ResultStore,
  RunConfiguration,
  RunEnvironment,
  RunMeasurement,
  RunRecord,
  RunStatus,
  SampleRecord,
  SuiteRecord,
  SuiteResults,
  SuiteSpec,
} from "./types.js";

type Db = Database.Database;
type Row = Record<string, unknown>;

/**
 * Store failures. E_INPUT where the user fixes it (a spec that does not match the stored suite,
 * a file that is not a store); E_RUNTIME otherwise (the store is in use, SQLite failed).
 */
export class StoreError extends HalfwattError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export interface OpenStoreOptions {
  /** When another process holds the store: wait for it (up to timeoutMs) instead of failing at once. */
  wait?: boolean;
  /** How long to wait for the other process, ms (default 10 minutes); also bounds the busy timeout. */
  timeoutMs?: number;
  /** Open for reading only: no lock, no migration, writes refused (report or export of a store in use). */
  readonly?: boolean;
  /**
   * Write under the lock another process holds, given its token (SqliteResultStore.lockToken): a
   * suite's worker processes join their parent's lock. Refused unless that lock is held, by a live
   * process; close() leaves it to its holder. Any other writer is still refused.
   */
  join?: string;
}

const DEFAULT_WAIT_MS = 10 * 60_000;
/** How long one write waits for SQLite's own lock (a checkpoint, another process taking the lock row). */
const BUSY_TIMEOUT_MS = 10_000;
const POLL_MS = 100;

/** Sleeps the thread: openStore is synchronous (the runner opens the store before anything async). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ms));
}

/**
 * A process's state letter and start time (clock ticks since boot) from Linux's /proc/PID/stat;
 * null where there is no /proc. The start time tells a reused pid from the lock's writer.
 */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], start: fields[19] };
  } catch {
    return null;
  }
}

/** Whether the process that wrote a lock row still runs (unknowable on another host: assumed so). */
function holderAlive(pid: number, host: string, procStart: string | null): boolean {
  if (host !== hostname()) return true;
  if (pid === process.pid) return true; // another handle of this process (its token differs)
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
  const stat = procStat(pid);
  if (!stat) return true;
  // A zombie has exited (its parent has not reaped it yet); another start time is another process.
  return stat.state !== "Z" && (procStart === null || stat.start === procStart);
}

/** NULL (SQLite's NaN) back to NaN, for columns the types call `number`. */
const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : (v as number));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => JSON.parse(v as string) as T;
const jsonOrNull = <T>(v: unknown): T | null => (v === null || v === undefined ? null : json<T>(v));
const now = () => new Date().toISOString();

/** A value as the mismatch message shows it. */
function show(v: unknown): string {
  return v === undefined ? "(not set)" : JSON.stringify(v);
}

/**
 * The first place where two JSON values differ, as a path ("replicates", "configurations[1].batch")
 * and both values; null when equal. Object keys compare as sets (order does not matter).
 */
export function firstDifference(
  stored: unknown,
  given: unknown,
  path = "",
): { path: string; stored: unknown; given: unknown } | null {
  if (Object.is(stored, given)) return null;
  if (Array.isArray(stored) && Array.isArray(given)) {
    for (let i = 0; i < Math.max(stored.length, given.length); i++) {
      const d = firstDifference(stored[i], given[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(stored) && isObj(given)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(given)])];
    for (const k of keys) {
      const d = firstDifference(stored[k], given[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return { path: path || "(the whole value)", stored, given };
}

/** The spec as compared and stored: its JSON form (undefined fields dropped), `origin` left out of comparisons. */
const specJson = (spec: SuiteSpec): Record<string, unknown> => JSON.parse(JSON.stringify(spec));
const withoutOrigin = (s: Record<string, unknown>) => {
  const { origin: _origin, ...rest } = s;
  return rest;
};

const splitColumns = (m: SplitMetrics | null) =>
  m ? [m.loss, m.accuracy, m.top5, m.samples, m.nonFiniteRows] : [null, null, null, null, null];

function splitOf(r: Row, prefix: string): SplitMetrics {
  return {
    loss: num(r[`${prefix}_loss`]),
    accuracy: num(r[`${prefix}_accuracy`]),
    top5: num(r[`${prefix}_top5`]),
    samples: num(r[`${prefix}_samples`]),
    nonFiniteRows: num(r[`${prefix}_non_finite_rows`]),
  };
}

function openDatabase(path: string, readonly: boolean, busyMs: number): Db {
  try {
    if (!readonly) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { readonly, fileMustExist: readonly, timeout: busyMs });
    // A file that is not SQLite fails at its first read, so read now.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (e) {
    throw new StoreError(
      readonly ? "E_INPUT" : "E_RUNTIME",
      `cannot open the results store ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

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

/** Takes the writer's lock, waiting for its holder if asked. Returns this handle's token. */
function acquireLock(db: Db, path: string, wait: boolean, timeoutMs: number): string {
  const token = randomUUID();
  const host = hostname();
  const take = db.transaction((): Row | null => {
    const holder = db.prepare("SELECT pid, host, proc_start, started_at FROM lock WHERE id = 1").get() as
      | Row
      | undefined;
    if (holder && holderAlive(holder.pid as number, holder.host as string, strOrNull(holder.proc_start)))
      return holder;
    db.prepare(
      "INSERT OR REPLACE INTO lock (id, pid, host, proc_start, token, started_at) VALUES (1, ?, ?, ?, ?, ?)",
    ).run(process.pid, host, procStat(process.pid)?.start ?? null, token, now());
    return null;
  });
  const start = Date.now();
  for (;;) {
    const holder = take.immediate();
    if (!holder) return token;
    const waited = Date.now() - start;
    if (!wait || waited >= timeoutMs) {
      const elsewhere =
        holder.host !== host
          ? ` (another host: if that process no longer runs, remove its lock with: sqlite3 ${path} "DELETE FROM lock")`
          : "";
      throw new StoreError(
        "E_RUNTIME",
        `the results store ${path} is in use by halfwatt pid ${holder.pid} on host ${holder.host} since ${holder.started_at}${wait ? ` (waited ${(waited / 1000).toFixed(1)} s)` : ""}: wait for it to finish, or use another --out${elsewhere}`,
      );
    }
    sleepSync(Math.min(POLL_MS, timeoutMs - waited));
  }
}

/**
 * What a Slurm array task's store adds to the ResultStore (migration 3): the blocks of the suite's
 * plan it holds, so that `halfwatt merge` can list the blocks no task completed.
 */
export interface TaskMarks {
  /**
   * Records that this store holds only `blocks` of suite `suiteId`'s plan, run by Slurm job
   * `slurmJob` ("<array job>_<task>", null outside Slurm). Marking the same blocks again (a
   * resubmitted task) updates the job; other blocks than those marked before are refused.
   */
  markTask(suiteId: number, blocks: readonly number[], slurmJob: string | null): void;
  /** The blocks suite `suiteId` holds in this store, ascending; null when it holds the whole plan. */
  taskBlocks(suiteId: number): number[] | null;
}

/**
 * What a suite's worker processes (workers.ts) add: claiming whole blocks, the in-flight times of
 * the host's runs (to apportion shared energy), and cleaning up after a worker that died.
 */
export interface WorkerStore {
  /**
   * Claims, for `worker` of `session`, the next block of the suite with runs not completed and no
   * claim of this session, in an IMMEDIATE transaction (two workers never get the same block).
   * Prefers a block whose completed runs ran on `gpu` (so a resumed block stays on its GPU), then
   * untouched blocks, then the rest; the lowest block number first. Null when none is left.
   */
  claimBlock(suiteId: number, session: string, worker: number, gpu: string | null): number | null;
  /** The blocks claimed in `session`, with their worker. */
  claims(suiteId: number, session: string): { block: number; worker: number; gpu: string | null }[];
  /** Start and end (ms since the epoch; end Infinity while running) of the suite's runs on `host`. */
  runIntervals(suiteId: number, host: string): { id: number; startMs: number; endMs: number }[];
  /** Rewrites a running run's environment (whether it overlapped is known only at its end). */
  setRunEnv(runId: number, env: RunEnvironment): void;
  /** Marks the running runs of `worker` (env.worker) failed or interrupted: its process died. */
  failWorkerRuns(suiteId: number, worker: number, status: "interrupted" | "failed", error: string): number;
}

export type SqliteResultStore = ResultStore &
  TaskMarks &
  WorkerStore & {
    path: string;
    /** This handle's lock token (for workers to join, see OpenStoreOptions.join); null when read-only. */
    readonly lockToken: string | null;
  };

/** The provenance column of a figure apportioned among runs in flight (see shared-energy.ts). */
export const SHARED_PROVENANCE = "estimated, shared";

/** Joins a lock another process holds (a suite's parent), checking it is held and alive. */
function joinLock(db: Db, path: string, token: string): void {
  const holder = db.prepare("SELECT pid, host, proc_start, token FROM lock WHERE id = 1").get() as
    | Row
    | undefined;
  if (!holder || holder.token !== token)
    throw new StoreError(
      "E_RUNTIME",
      `the results store ${path} is not held by the suite this worker belongs to (its lock is ${holder ? `held by pid ${holder.pid}` : "free"})`,
    );
  if (!holderAlive(holder.pid as number, holder.host as string, strOrNull(holder.proc_start)))
    throw new StoreError("E_RUNTIME", `the suite process (pid ${holder.pid}) holding ${path} is gone`);
}

/**
 * Opens (creating and migrating if needed) the results store at `path` for writing, taking its
 * writer's lock; or, with `readonly`, for reading. Close it to release the lock.
 */
export function openStore(path: string, options: OpenStoreOptions = {}): SqliteResultStore {
  const readonly = options.readonly ?? false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const db = openDatabase(path, readonly, Math.min(BUSY_TIMEOUT_MS, Math.max(timeoutMs, 1000)));
  let token: string | null = null;
  try {
    if (readonly) {
      const v = schemaVersion(db, path);
      if (v === 0) throw new StoreError("E_INPUT", `${path} is empty, not a halfwatt results store`);
      if (v !== SCHEMA_VERSION)
        throw new StoreError(
          "E_INPUT",
          `the results store ${path} has schema version ${v}, this halfwatt reads ${SCHEMA_VERSION}: open it for writing once to bring it up to date`,
        );
    } else {
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal")
        throw new StoreError(
          "E_RUNTIME",
          `the results store ${path} cannot use a write-ahead log (journal mode ${mode}); put it on a local disk`,
        );
      db.pragma("synchronous = NORMAL");
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

class SqliteStore implements ResultStore, TaskMarks, WorkerStore {
  private closed = false;
  /** Plans of the suites this handle opened, for startRun's check. */
  private readonly plans = new Map<number, PlannedRun[]>();

  private readonly db: Db;
  readonly path: string;
  /** This handle's lock token; null when opened read-only. */
  private readonly token: string | null;
  /** False for a worker that joined another process's lock: close() leaves the lock alone. */
  private readonly ownsLock: boolean;

  // Plain fields, not parameter properties: tests run this file under Node's type stripping.
  constructor(db: Db, path: string, token: string | null, ownsLock = true) {
    this.db = db;
    this.path = path;
    this.token = token;
    this.ownsLock = ownsLock;
  }

  get lockToken(): string | null {
    return this.token;
  }

  /** Runs `fn`, turning anything but a StoreError into one that names the store and the operation. */
  private guard<T>(what: string, write: boolean, fn: () => T): T {
    if (this.closed) throw new StoreError("E_RUNTIME", `${what}: the results store ${this.path} is closed`);
    if (write && this.token === null)
      throw new StoreError("E_RUNTIME", `${what}: the results store ${this.path} was opened read-only`);
    try {
      return fn();
    } catch (e) {
      if (e instanceof HalfwattError) throw e;
      throw new StoreError(
        "E_RUNTIME",
        `${what} in the results store ${this.path} failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  private tx<T>(fn: () => T): T {
    // IMMEDIATE: take the write lock first, so a read-then-write never fails half-way with BUSY.
    return this.db.transaction(fn).immediate();
  }

  private suiteRow(suiteId: number): Row {
    const row = this.db.prepare("SELECT * FROM suites WHERE id = ?").get(suiteId) as Row | undefined;
    if (!row) throw new StoreError("E_INPUT", `the results store ${this.path} has no suite ${suiteId}`);
    return row;
  }

  private runStatus(runId: number): RunStatus {
    const s = this.db.prepare("SELECT status FROM runs WHERE id = ?").pluck().get(runId) as
      | RunStatus
      | undefined;
    if (s === undefined)
      throw new StoreError("E_INPUT", `the results store ${this.path} has no run ${runId}`);
    return s;
  }

  private requireRunning(runId: number, what: string): void {
    const s = this.runStatus(runId);
    if (s !== "running")
      throw new StoreError("E_INPUT", `${what}: run ${runId} in ${this.path} is ${s}, not running`);
  }

  private suiteRecord(row: Row): SuiteRecord {
    return {
      id: row.id as number,
      name: row.name as string,
      spec: json<SuiteSpec>(row.spec),
      createdAt: row.created_at as string,
      plan: json<PlannedRun[]>(row.plan),
      notes: json<string[]>(row.notes),
      idleTempC: numOrNull(row.idle_temp_c),
    };
  }

  openSuite(spec: SuiteSpec, plan: PlannedRun[]): SuiteRecord {
    return this.guard(`opening suite "${spec.name}"`, true, () =>
      this.tx(() => {
        const given = specJson(spec);
        const planJson = JSON.parse(JSON.stringify(plan)) as PlannedRun[];
        const existing = this.db.prepare("SELECT * FROM suites WHERE name = ?").get(spec.name) as
          | Row
          | undefined;
        if (existing) {
          const record = this.suiteRecord(existing);
          const d = firstDifference(withoutOrigin(json(existing.spec)), withoutOrigin(given));
          if (d)
            throw new StoreError(
              "E_INPUT",
              `the store's suite "${spec.name}" was run with ${d.path} ${show(d.stored)}, this spec says ${show(d.given)}: use another --out or the same spec`,
            );
          const p = firstDifference(record.plan, planJson, "plan");
          if (p)
            throw new StoreError(
              "E_INPUT",
              `the store's suite "${spec.name}" has the same spec but another run plan (${p.path} ${show(p.stored)} there, ${show(p.given)} here; a different halfwatt version?): use another --out`,
            );
          this.plans.set(record.id, record.plan);
          return record;
        }
        const info = this.db
          .prepare(
            "INSERT INTO suites (name, spec, plan, notes, idle_temp_c, created_at) VALUES (?, ?, ?, '[]', NULL, ?)",
          )
          .run(spec.name, JSON.stringify(given), JSON.stringify(planJson), now());
        const id = Number(info.lastInsertRowid);
        this.plans.set(id, planJson);
        return this.suiteRecord(this.suiteRow(id));
      }),
    );
  }

  completedIndices(suiteId: number): Set<number> {
    return this.guard("reading completed runs", false, () => {
      this.suiteRow(suiteId);
      const rows = this.db
        .prepare("SELECT DISTINCT plan_index FROM runs WHERE suite_id = ? AND status = 'completed'")
        .pluck()
        .all(suiteId) as number[];
      return new Set(rows);
    });
  }

  recoverInterrupted(suiteId: number): number {
    return this.guard("recovering interrupted runs", true, () => {
      this.suiteRow(suiteId);
      return this.db
        .prepare(
          "UPDATE runs SET status = 'interrupted', error = coalesce(error, ?) WHERE suite_id = ? AND status = 'running'",
        )
        .run("the process writing this run stopped before it ended (crash or kill)", suiteId).changes;
    });
  }

  startRun(
    suiteId: number,
    run: PlannedRun,
    config: RunConfiguration,
    env: RunEnvironment,
    gpuTempC: number | null,
  ): number {
    return this.guard(`starting run ${run.index}`, true, () =>
      this.tx(() => {
        const suite = this.suiteRow(suiteId);
        const plan = this.plans.get(suiteId) ?? json<PlannedRun[]>(suite.plan);
        const planned = plan[run.index];
        const d = planned ? firstDifference(planned, JSON.parse(JSON.stringify(run))) : null;
        if (!planned || d)
          throw new StoreError(
            "E_INPUT",
            planned
              ? `run ${run.index} does not match suite ${suiteId}'s plan: ${d?.path} is ${show(d?.given)}, the plan says ${show(d?.stored)}`
              : `run index ${run.index} is not in suite ${suiteId}'s plan of ${plan.length} runs`,
          );
        if (config.id !== run.configId)
          throw new StoreError(
            "E_INPUT",
            `run ${run.index} is of configuration ${run.configId}, but configuration ${config.id} was given`,
          );
        const done = this.db
          .prepare("SELECT id FROM runs WHERE suite_id = ? AND plan_index = ? AND status = 'completed'")
          .pluck()
          .get(suiteId, run.index);
        if (done !== undefined)
          throw new StoreError(
            "E_INPUT",
            `run ${run.index} of suite ${suiteId} is already completed (run id ${done})`,
          );
        const info = this.db
          .prepare(
            `INSERT INTO runs (suite_id, plan_index, block, replicate, config_id, config, seed, status, env, started_at, gpu_temp_c)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)`,
          )
          .run(
            suiteId,
            run.index,
            run.block,
            run.replicate,
            run.configId,
            JSON.stringify(config),
            run.seed,
            JSON.stringify(env),
            now(),
            gpuTempC,
          );
        return Number(info.lastInsertRowid);
      }),
    );
  }

  addEpoch(runId: number, e: EpochResult): void {
    this.guard(`adding epoch ${e.epoch} to run ${runId}`, true, () =>
      this.tx(() => {
        this.requireRunning(runId, `adding epoch ${e.epoch}`);
        this.db
          .prepare("INSERT INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .run(
            runId,
            e.epoch,
            ...splitColumns(e.train),
            ...splitColumns(e.valid),
            e.seconds,
            e.samplesPerSecond,
            e.steps,
            e.skippedSteps,
          );
      }),
    );
  }

  addSamples(runId: number, samples: readonly SampleRecord[]): void {
    if (!samples.length) return;
    this.guard(`adding ${samples.length} samples to run ${runId}`, true, () => {
      const insert = this.db.prepare(
        "INSERT INTO samples (run_id, t, channel, power_w, energy_j) VALUES (?, ?, ?, ?, ?)",
      );
      // One transaction per batch: thousands of rows cost one commit, and a kill keeps the batch whole or not at all.
      this.tx(() => {
        this.requireRunning(runId, "adding samples");
        for (const s of samples) insert.run(runId, s.t, s.channel, s.powerW ?? null, s.energyJ ?? null);
      });
    });
  }

  finishRun(runId: number, r: FinishedRun): void {
    this.guard(`finishing run ${runId}`, true, () => {
      this.tx(() => {
        this.requireRunning(runId, "finishing the run");
        this.db
          .prepare(
            `UPDATE runs SET status = 'completed', ended_at = ?, seconds = ?, test_loss = ?, test_accuracy = ?, test_top5 = ?,
               test_samples = ?, test_non_finite_rows = ?, loss_scale = ?, kernels = ?, carbon_intensity = ?, carbon_pue = ?,
               carbon_source = ? WHERE id = ?`,
          )
          .run(
            now(),
            r.seconds,
            ...splitColumns(r.test),
            r.lossScale ? JSON.stringify(r.lossScale) : null,
            JSON.stringify(r.kernels),
            r.carbon.intensity,
            r.carbon.pue,
            r.carbon.source,
            runId,
          );
        const phase = this.db.prepare(
          "INSERT INTO phases (run_id, name, start_ms, end_ms) VALUES (?, ?, ?, ?)",
        );
        for (const p of r.phases) phase.run(runId, p.name, p.startMs, p.endMs);
        const energy = this.db.prepare(
          `INSERT INTO energy (run_id, phase, component, channel, source, provenance, gross_j, net_j, seconds, mean_power_w, flag,
                               gross_low_j, gross_high_j, net_low_j, net_high_j)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const e of r.energy)
          energy.run(
            runId,
            e.phase,
            e.component,
            e.channel,
            e.source,
            e.shared ? SHARED_PROVENANCE : e.provenance,
            e.grossJ,
            e.netJ,
            e.seconds,
            e.meanPowerW,
            e.flag ?? null,
            e.grossLowJ ?? null,
            e.grossHighJ ?? null,
            e.netLowJ ?? null,
            e.netHighJ ?? null,
          );
      });
      // A checkpoint syncs the WAL (synchronous = NORMAL syncs only there): the completed run survives a power cut.
      // Best effort: the run is already committed, and a failed checkpoint only defers the sync.
      try {
        this.db.pragma("wal_checkpoint(PASSIVE)");
      } catch {}
    });
  }

  failRun(runId: number, status: "interrupted" | "failed", error: string): void {
    this.guard(`marking run ${runId} ${status}`, true, () =>
      this.tx(() => {
        this.requireRunning(runId, `marking it ${status}`);
        this.db
          .prepare("UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ?")
          .run(status, error, now(), runId);
      }),
    );
  }

  setRunMeasurement(runId: number, m: RunMeasurement): void {
    this.guard(`recording run ${runId}'s measurement`, true, () => {
      this.db
        .prepare("UPDATE runs SET baseline_w = ?, measurement = ? WHERE id = ?")
        .run(m.baselineW.gpu ?? null, JSON.stringify(m), runId);
    });
  }

  addSuiteNote(suiteId: number, note: string): void {
    this.guard("adding a suite note", true, () => {
      const n = this.db
        .prepare("UPDATE suites SET notes = json_insert(notes, '$[#]', ?) WHERE id = ?")
        .run(note, suiteId).changes;
      if (!n) this.suiteRow(suiteId);
    });
  }

  setIdleTemp(suiteId: number, celsius: number): void {
    this.guard("setting the idle temperature", true, () => {
      const n = this.db
        .prepare("UPDATE suites SET idle_temp_c = ? WHERE id = ?")
        .run(celsius, suiteId).changes;
      if (!n) this.suiteRow(suiteId);
    });
  }

  results(suiteId: number): SuiteResults {
    return this.guard(`reading suite ${suiteId}`, false, () => {
      // One read transaction: the runs and their children are one consistent snapshot.
      const read = this.db.transaction(() => {
        const suite = this.suiteRecord(this.suiteRow(suiteId));
        const runRows = this.db
          .prepare("SELECT * FROM runs WHERE suite_id = ? ORDER BY id")
          .all(suiteId) as Row[];
        const children = (table: string, order: string) => {
          const byRun = new Map<number, Row[]>();
          const rows = this.db
            .prepare(
              `SELECT c.* FROM ${table} c JOIN runs r ON r.id = c.run_id WHERE r.suite_id = ? ORDER BY c.run_id, ${order}`,
            )
            .all(suiteId) as Row[];
          for (const row of rows) {
            const list = byRun.get(row.run_id as number);
            if (list) list.push(row);
            else byRun.set(row.run_id as number, [row]);
          }
          return (runId: number) => byRun.get(runId) ?? [];
        };
        const epochs = children("epochs", "c.epoch");
        const phases = children("phases", "c.id");
        const energy = children("energy", "c.id");
        return {
          suite,
          runs: runRows.map((r) =>
            runRecord(r, epochs(r.id as number), phases(r.id as number), energy(r.id as number)),
          ),
        };
      });
      const { suite, runs } = read();
      const samples = (runId: number): SampleRecord[] =>
        this.guard(`reading the samples of run ${runId}`, false, () =>
          (
            this.db
              .prepare("SELECT t, channel, power_w, energy_j FROM samples WHERE run_id = ? ORDER BY id")
              .all(runId) as Row[]
          ).map((s) => ({
            t: num(s.t),
            channel: s.channel as string,
            ...(s.power_w === null ? {} : { powerW: s.power_w as number }),
            ...(s.energy_j === null ? {} : { energyJ: s.energy_j as number }),
          })),
        );
      return { suite, runs, samples };
    });
  }

  markTask(suiteId: number, blocks: readonly number[], slurmJob: string | null): void {
    this.guard(`marking suite ${suiteId} as a task of blocks ${blocks.join(", ")}`, true, () =>
      this.tx(() => {
        const suite = this.suiteRecord(this.suiteRow(suiteId));
        const planned = new Set(suite.plan.map((r) => r.block));
        const wanted = [...new Set(blocks)].sort((a, b) => a - b);
        const unknown = wanted.filter((b) => !planned.has(b));
        if (!wanted.length || unknown.length)
          throw new StoreError(
            "E_INPUT",
            wanted.length
              ? `suite "${suite.name}" has blocks 0 to ${planned.size - 1}, not ${unknown.join(", ")}`
              : "a task holds at least one block",
          );
        const before = this.taskBlocks(suiteId);
        if (before && before.join(",") !== wanted.join(","))
          throw new StoreError(
            "E_INPUT",
            `the results store ${this.path} holds block(s) ${before.join(", ")} of suite "${suite.name}", not ${wanted.join(", ")}: give each task its own store`,
          );
        const upsert = this.db.prepare(
          "INSERT INTO task_blocks (suite_id, block, slurm_job) VALUES (?, ?, ?) ON CONFLICT (suite_id, block) DO UPDATE SET slurm_job = excluded.slurm_job",
        );
        for (const b of wanted) upsert.run(suiteId, b, slurmJob);
      }),
    );
  }

  taskBlocks(suiteId: number): number[] | null {
    return this.guard(`reading the task blocks of suite ${suiteId}`, false, () => {
      const blocks = this.db
        .prepare("SELECT block FROM task_blocks WHERE suite_id = ? ORDER BY block")
        .pluck()
        .all(suiteId) as number[];
      return blocks.length ? blocks : null;
    });
  }

  claimBlock(suiteId: number, session: string, worker: number, gpu: string | null): number | null {
    return this.guard(`claiming a block for worker ${worker}`, true, () =>
      this.tx(() => {
        const plan = this.plans.get(suiteId) ?? this.suiteRecord(this.suiteRow(suiteId)).plan;
        const completed = this.db
          .prepare("SELECT plan_index, env FROM runs WHERE suite_id = ? AND status = 'completed'")
          .all(suiteId) as Row[];
        const doneIndex = new Set(completed.map((r) => r.plan_index as number));
        const gpuOfDone = new Map<number, string | null>();
        for (const r of completed) {
          const env = jsonOrNull<RunEnvironment>(r.env);
          gpuOfDone.set(
            r.plan_index as number,
            env?.gpu ? `${env.gpu.index} ${env.gpu.pciBusId ?? ""}`.trim() : null,
          );
        }
        const taken = new Set(
          this.db
            .prepare("SELECT block FROM block_claims WHERE suite_id = ? AND session = ?")
            .pluck()
            .all(suiteId, session) as number[],
        );
        const blocks = [...new Set(plan.map((r) => r.block))].sort((a, b) => a - b);
        // 0: part done on this GPU; 1: untouched; 2: part done elsewhere.
        const rank = (b: number) => {
          const runs = plan.filter((r) => r.block === b);
          const done = runs.filter((r) => doneIndex.has(r.index));
          if (!done.length) return 1;
          return gpu !== null && done.some((r) => gpuOfDone.get(r.index) === gpu) ? 0 : 2;
        };
        const open = blocks
          .filter((b) => !taken.has(b) && plan.some((r) => r.block === b && !doneIndex.has(r.index)))
          .map((b) => ({ b, rank: rank(b) }))
          .sort((x, y) => x.rank - y.rank || x.b - y.b);
        const next = open[0]?.b;
        if (next === undefined) return null;
        this.db
          .prepare(
            `INSERT INTO block_claims (suite_id, block, session, worker, gpu, claimed_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (suite_id, block) DO UPDATE SET session = excluded.session, worker = excluded.worker,
               gpu = excluded.gpu, claimed_at = excluded.claimed_at`,
          )
          .run(suiteId, next, session, worker, gpu, now());
        return next;
      }),
    );
  }

  claims(suiteId: number, session: string): { block: number; worker: number; gpu: string | null }[] {
    return this.guard("reading block claims", false, () =>
      (
        this.db
          .prepare(
            "SELECT block, worker, gpu FROM block_claims WHERE suite_id = ? AND session = ? ORDER BY block",
          )
          .all(suiteId, session) as Row[]
      ).map((r) => ({ block: r.block as number, worker: r.worker as number, gpu: strOrNull(r.gpu) })),
    );
  }

  runIntervals(suiteId: number, host: string): { id: number; startMs: number; endMs: number }[] {
    return this.guard("reading the runs' times", false, () =>
      (
        this.db
          .prepare(
            "SELECT id, started_at, ended_at, status FROM runs WHERE suite_id = ? AND started_at IS NOT NULL AND json_extract(env, '$.hostname') = ?",
          )
          .all(suiteId, host) as Row[]
      ).map((r) => ({
        id: r.id as number,
        startMs: Date.parse(r.started_at as string),
        endMs:
          r.ended_at !== null
            ? Date.parse(r.ended_at as string)
            : r.status === "running"
              ? Infinity
              : Date.parse(r.started_at as string),
      })),
    );
  }

  setRunEnv(runId: number, env: RunEnvironment): void {
    this.guard(`updating the environment of run ${runId}`, true, () =>
      this.tx(() => {
        this.requireRunning(runId, "updating its environment");
        this.db.prepare("UPDATE runs SET env = ? WHERE id = ?").run(JSON.stringify(env), runId);
      }),
    );
  }

  failWorkerRuns(suiteId: number, worker: number, status: "interrupted" | "failed", error: string): number {
    return this.guard(`marking worker ${worker}'s runs ${status}`, true, () =>
      this.tx(
        () =>
          this.db
            .prepare(
              "UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE suite_id = ? AND status = 'running' AND json_extract(env, '$.worker') = ?",
            )
            .run(status, error, now(), suiteId, worker).changes,
      ),
    );
  }

  suites(): { id: number; name: string }[] {
    return this.guard(
      "listing suites",
      false,
      () =>
        this.db.prepare("SELECT id, name FROM suites ORDER BY id").all() as { id: number; name: string }[],
    );
  }

  close(): void {
    if (this.closed) return;
    try {
      if (this.token !== null && this.ownsLock)
        this.db.prepare("DELETE FROM lock WHERE token = ?").run(this.token);
    } finally {
      this.closed = true;
      this.db.close();
    }
  }
}

function runRecord(r: Row, epochs: Row[], phases: Row[], energy: Row[]): RunRecord {
  const carbonSource = strOrNull(r.carbon_source);
  return {
    id: r.id as number,
    index: r.plan_index as number,
    block: r.block as number,
    configId: r.config_id as string,
    replicate: r.replicate as number,
    seed: r.seed as number,
    config: json<RunConfiguration>(r.config),
    status: r.status as RunStatus,
    env: jsonOrNull<RunEnvironment>(r.env),
    startedAt: strOrNull(r.started_at),
    endedAt: strOrNull(r.ended_at),
    seconds: numOrNull(r.seconds),
    error: strOrNull(r.error),
    epochs: epochs.map((e) => ({
      epoch: e.epoch as number,
      train: splitOf(e, "train"),
      valid: splitOf(e, "valid"),
      seconds: num(e.seconds),
      samplesPerSecond: num(e.samples_per_second),
      steps: e.steps as number,
      skippedSteps: e.skipped_steps as number,
    })),
    test: r.test_samples === null ? null : splitOf(r, "test"),
    lossScale: jsonOrNull<LossScaleSummary>(r.loss_scale),
    kernels: json<KernelRecord[]>(r.kernels),
    phases: phases.map((p) => ({ name: p.name as string, startMs: num(p.start_ms), endMs: num(p.end_ms) })),
    energy: energy.map((e) => ({
      phase: e.phase as string,
      component: e.component as Component,
      channel: strOrNull(e.channel),
      source: e.source as string,
      // "estimated, shared": an apportioned figure (SHARED_PROVENANCE); its strength is an estimate's.
      provenance: (e.provenance === SHARED_PROVENANCE ? "estimated" : e.provenance) as Provenance,
      ...(e.provenance === SHARED_PROVENANCE ? { shared: true } : {}),
      grossJ: numOrNull(e.gross_j),
      netJ: numOrNull(e.net_j),
      seconds: num(e.seconds),
      meanPowerW: numOrNull(e.mean_power_w),
      ...(e.flag === null ? {} : { flag: e.flag as string }),
      ...(e.gross_low_j == null && e.gross_high_j == null && e.net_low_j == null && e.net_high_j == null
        ? {}
        : {
            grossLowJ: numOrNull(e.gross_low_j),
            grossHighJ: numOrNull(e.gross_high_j),
            netLowJ: numOrNull(e.net_low_j),
            netHighJ: numOrNull(e.net_high_j),
          }),
    })),
    carbon:
      carbonSource === null
        ? null
        : { intensity: num(r.carbon_intensity), pue: num(r.carbon_pue), source: carbonSource },
    gpuTempC: numOrNull(r.gpu_temp_c),
    // Only where recorded (migration 5), so records of older runs read as they always did.
    ...(r.measurement == null ? {} : { measurement: json<RunMeasurement>(r.measurement) }),
  };
}
