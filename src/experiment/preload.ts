// preload: before the suite's first baseline, every configuration to run is warmed up on the
// first batch of the train split — its pipelines compiled, its steps timed — round-robin until at
// least `seconds` of load have passed. Two jobs in one pass: the GPU reaches the power state every
// later baseline will find it in (an H200 idles at 79 W cold, ~126 W after a load while a process
// holds it), and each configuration's planned train-phase length is known before any run
// (an estimate: the timed s per step × the run's steps). Outside every run's phases.
import type { Dataset } from "../data/index.js";
import type { GpuContext } from "../gpu/device.js";
import { freeGpuSplit } from "../model/mlp.js";
import { warmUp } from "../model/warmup.js";
import { trainConfigOf } from "./measure-run.js";
import { type PlannedDuration, plannedDuration } from "./planned-duration.js";
import { uploadHead } from "./resident-data.js";
import type { RunConfiguration, SuiteSpec } from "./types.js";

export interface PreloadResult {
  /** Wall time of the whole preload, s. */
  seconds: number;
  /** Warm-up passes run (each configuration at least once). */
  passes: number;
  planned: PlannedDuration[];
}

export async function preload(
  ctx: GpuContext,
  spec: SuiteSpec,
  dataset: Dataset,
  configs: readonly RunConfiguration[],
  seconds: number,
  options: { timedSteps: number; minTimedSeconds?: number; signal?: AbortSignal },
): Promise<PreloadResult> {
  const started = performance.now();
  const maxBatch = Math.max(...configs.map((c) => c.batch));
  const head = await uploadHead(ctx, dataset.train, maxBatch);
  const splits = { train: head, valid: null, test: null };
  const perStep = new Map<string, number[]>();
  let passes = 0;
  try {
    do {
      for (const c of configs) {
        if (options.signal?.aborted) break;
        const w = await warmUp(ctx, trainConfigOf(spec, c, spec.seed), dataset, splits, {
          timedSteps: options.timedSteps,
          minTimedSeconds: options.minTimedSeconds,
          evaluate: false,
        });
        perStep.set(c.id, [...(perStep.get(c.id) ?? []), w.secondsPerStep]);
        passes++;
      }
    } while (!options.signal?.aborted && (performance.now() - started) / 1000 < seconds);
  } finally {
    freeGpuSplit(head);
  }
  // The last pass of each configuration: the first one's steps can still be paying first-use costs.
  const planned = configs
    .filter((c) => perStep.has(c.id))
    .map((c) => plannedDuration(c, dataset.train.count, (perStep.get(c.id) as number[]).at(-1) as number));
  return { seconds: (performance.now() - started) / 1000, passes, planned };
}
