// rampClocks: a busy load (src/kernels/spin.ts) for a stated time right before a run's `train`
// mark, so training starts at the clocks a long job runs at. Why: after the idle baseline (and
// the host-side model set-up that follows the warm-up) an H200 starts a load at idle clocks and
// takes a few hundred ms to raise them. In the 2026-12-03 H200 studies epoch 1 of every batch-256
// run was 0.15–0.25 s slower than the median epoch (fashion: 0.22 vs 0.07 s, its second epoch
// still slow), and the warm-up's timed steps just after the baseline ran 2–4× slower than the
// same steps in the preload. The ramp is in `setup` (its energy is recorded there, not in train).
import type { GpuContext } from "../gpu/device.js";
import { spin } from "../kernels/spin.js";
import { createTensor, destroyTensor } from "../kernels/tensor.js";

export interface RampResult {
  /** Wall time of the load, s (≥ the time asked for, 0 when none was asked). */
  seconds: number;
  /** Submissions of the spin kernel (0 when no ramp was asked for). */
  dispatches: number;
}

/** One submission's target length, s: long enough to keep the GPU busy, short enough to stop on time. */
const SLICE_S = 0.02;
const MAX_ITERS = 1 << 20;

/**
 * Keeps ctx's GPU busy for at least `seconds` (0: returns at once), one spin dispatch per
 * submission, each waited for, its length doubled until one takes about SLICE_S.
 * invocations: u32 outputs per dispatch (default 2^20, 4 MiB: every SM of a large GPU busy).
 */
export async function rampClocks(
  ctx: GpuContext,
  seconds: number,
  invocations = 1 << 20,
): Promise<RampResult> {
  if (!(seconds > 0)) return { seconds: 0, dispatches: 0 };
  const out = await createTensor(ctx, "u32", [invocations], "clock ramp");
  const q = ctx.device.queue;
  const started = performance.now();
  let iters = 16;
  let dispatches = 0;
  try {
    while ((performance.now() - started) / 1000 < seconds) {
      const t0 = performance.now();
      await spin(ctx, { out, iters, seed: dispatches });
      await q.onSubmittedWorkDone();
      dispatches++;
      if ((performance.now() - t0) / 1000 < SLICE_S / 2 && iters < MAX_ITERS) iters *= 2;
    }
    ctx.check("clock ramp");
    return { seconds: (performance.now() - started) / 1000, dispatches };
  } finally {
    destroyTensor(out);
  }
}
