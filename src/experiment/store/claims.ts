// What a suite's worker processes (workers.ts) add to the store (migration 4): claiming whole
// blocks of the plan, one worker each, the in-flight times of the host's runs (to apportion
// shared energy), and cleaning up after a worker that died. Which block comes next is blocks.ts's
// policy; here it is applied inside an IMMEDIATE transaction, so two workers never get one block.
import { gpuKey, nextBlock } from "../blocks.js";
import type { RunEnvironment } from "../types.js";
import type { StoreConnection } from "./connection.js";
import { jsonOrNull, now, type Row, strOrNull, suiteRecord } from "./rows.js";

/** What a suite's worker processes add to the ResultStore. */
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

export function claimBlock(
  c: StoreConnection,
  suiteId: number,
  session: string,
  worker: number,
  gpu: string | null,
): number | null {
  return c.guard(`claiming a block for worker ${worker}`, true, () =>
    c.tx(() => {
      const plan = c.plans.get(suiteId) ?? suiteRecord(c.suiteRow(suiteId)).plan;
      const completed = c.db
        .prepare("SELECT plan_index, env FROM runs WHERE suite_id = ? AND status = 'completed'")
        .all(suiteId) as Row[];
      const completedOn = new Map(
        completed.map((r) => [r.plan_index as number, gpuKey(jsonOrNull<RunEnvironment>(r.env)?.gpu)]),
      );
      const claimed = new Set(
        c.db
          .prepare("SELECT block FROM block_claims WHERE suite_id = ? AND session = ?")
          .pluck()
          .all(suiteId, session) as number[],
      );
      const next = nextBlock(plan, completedOn, claimed, gpu);
      if (next === null) return null;
      c.db
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

export function claims(
  c: StoreConnection,
  suiteId: number,
  session: string,
): { block: number; worker: number; gpu: string | null }[] {
  return c.guard("reading block claims", false, () =>
    (
      c.db
        .prepare(
          "SELECT block, worker, gpu FROM block_claims WHERE suite_id = ? AND session = ? ORDER BY block",
        )
        .all(suiteId, session) as Row[]
    ).map((r) => ({ block: r.block as number, worker: r.worker as number, gpu: strOrNull(r.gpu) })),
  );
}

export function runIntervals(
  c: StoreConnection,
  suiteId: number,
  host: string,
): { id: number; startMs: number; endMs: number }[] {
  return c.guard("reading the runs' times", false, () =>
    (
      c.db
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

export function setRunEnv(c: StoreConnection, runId: number, env: RunEnvironment): void {
  c.guard(`updating the environment of run ${runId}`, true, () =>
    c.tx(() => {
      c.requireRunning(runId, "updating its environment");
      c.db.prepare("UPDATE runs SET env = ? WHERE id = ?").run(JSON.stringify(env), runId);
    }),
  );
}

export function failWorkerRuns(
  c: StoreConnection,
  suiteId: number,
  worker: number,
  status: "interrupted" | "failed",
  error: string,
): number {
  return c.guard(`marking worker ${worker}'s runs ${status}`, true, () =>
    c.tx(
      () =>
        c.db
          .prepare(
            "UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE suite_id = ? AND status = 'running' AND json_extract(env, '$.worker') = ?",
          )
          .run(status, error, now(), suiteId, worker).changes,
    ),
  );
}
