// One timing rule for the benches' memory ceilings (train.bench's --ceilings, optimizer.bench):
// seconds per call of `encode`, by wall clock — one untimed submit first (first-use costs), then
// `reps` calls recorded into one encoder and submitted once, so the queue's round trip is paid
// once over all of them.
import type { GpuContext } from "../src/gpu/device.js";

export async function wallPerCall(
  ctx: GpuContext,
  encode: (e: GPUCommandEncoder) => void,
  reps: number,
): Promise<number> {
  const enc0 = ctx.device.createCommandEncoder();
  encode(enc0);
  ctx.device.queue.submit([enc0.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
  const enc = ctx.device.createCommandEncoder();
  for (let i = 0; i < reps; i++) encode(enc);
  const t0 = performance.now();
  ctx.device.queue.submit([enc.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / 1000 / reps;
}
