// A plan's blocks: a block is one replicate of the plan, every configuration once in a seeded
// random order (plan.ts). Workers on several GPUs (workers.ts) and Slurm array tasks run whole
// blocks, so every configuration of a replicate runs on one device. This module holds the policy
// of which block a worker takes next; store/claims.ts applies it inside the claiming transaction.
import { deviceFactor } from "./device-factor.js";
import type { PlannedRun, RunEnvironment } from "./types.js";

/** @deprecated the device factor, not a plan's block: use deviceFactor (device-factor.ts). */
export const deviceBlock = deviceFactor;

/** A GPU as block claims and the scheduling policy name it: "index pci" (null: no GPU recorded). */
export function gpuKey(gpu: RunEnvironment["gpu"] | null | undefined): string | null {
  return gpu ? `${gpu.index} ${gpu.pciBusId ?? ""}`.trim() : null;
}

/**
 * The next block for a worker on GPU `gpu` (gpuKey; null: unknown), or null when none is left:
 * among the blocks of `plan` with a run not completed and not in `claimed`, first one whose
 * completed runs ran on this GPU (a resumed block stays on its GPU, so it stays one device's),
 * then an untouched one, then the rest (part done elsewhere); the lowest block number first.
 * `completedOn`: plan index → gpuKey of the GPU that completed it, for the completed runs.
 */
export function nextBlock(
  plan: readonly PlannedRun[],
  completedOn: ReadonlyMap<number, string | null>,
  claimed: ReadonlySet<number>,
  gpu: string | null,
): number | null {
  const blocks = [...new Set(plan.map((r) => r.block))].sort((a, b) => a - b);
  // 0: part done on this GPU; 1: untouched; 2: part done elsewhere.
  const rank = (b: number) => {
    const done = plan.filter((r) => r.block === b && completedOn.has(r.index));
    if (!done.length) return 1;
    return gpu !== null && done.some((r) => completedOn.get(r.index) === gpu) ? 0 : 2;
  };
  const open = blocks
    .filter((b) => !claimed.has(b) && plan.some((r) => r.block === b && !completedOn.has(r.index)))
    .map((b) => ({ b, rank: rank(b) }))
    .sort((x, y) => x.rank - y.rank || x.b - y.b);
  return open[0]?.b ?? null;
}
