// Slurm array tasks' marks (migration 3): a task's store holds only some blocks of its suite's
// plan and says which, so that `halfwatt merge` can list the blocks no task completed.
import type { StoreConnection } from "./connection.js";
import { StoreError } from "./errors.js";
import { suiteRecord } from "./rows.js";

/** What a Slurm array task's store adds to the ResultStore. */
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

export function markTask(
  c: StoreConnection,
  suiteId: number,
  blocks: readonly number[],
  slurmJob: string | null,
): void {
  c.guard(`marking suite ${suiteId} as a task of blocks ${blocks.join(", ")}`, true, () =>
    c.tx(() => {
      const suite = suiteRecord(c.suiteRow(suiteId));
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
      const before = taskBlocks(c, suiteId);
      if (before && before.join(",") !== wanted.join(","))
        throw new StoreError(
          "E_INPUT",
          `the results store ${c.path} holds block(s) ${before.join(", ")} of suite "${suite.name}", not ${wanted.join(", ")}: give each task its own store`,
        );
      const upsert = c.db.prepare(
        "INSERT INTO task_blocks (suite_id, block, slurm_job) VALUES (?, ?, ?) ON CONFLICT (suite_id, block) DO UPDATE SET slurm_job = excluded.slurm_job",
      );
      for (const b of wanted) upsert.run(suiteId, b, slurmJob);
    }),
  );
}

export function taskBlocks(c: StoreConnection, suiteId: number): number[] | null {
  return c.guard(`reading the task blocks of suite ${suiteId}`, false, () => {
    const blocks = c.db
      .prepare("SELECT block FROM task_blocks WHERE suite_id = ? ORDER BY block")
      .pluck()
      .all(suiteId) as number[];
    return blocks.length ? blocks : null;
  });
}
