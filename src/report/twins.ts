// A mixed configuration's f32 twin: the one configuration it is compared with on accuracy (TOST,
// statistics.ts) and on the step it ran (step-kernels.ts). Its own module so both can use it.
import type { RunConfiguration } from "../experiment/types.js";

/** The f32 configuration with the same batch, widths, epochs and optimizer as `mixed`, if any. */
export function f32Twin<C extends { id: string; config: RunConfiguration }>(
  mixed: C,
  configurations: readonly C[],
): C | null {
  const key = (c: RunConfiguration) =>
    JSON.stringify([
      c.batch,
      c.neurons,
      c.epochs,
      c.optimizer.name,
      c.optimizer.lr,
      c.optimizer.momentum ?? null,
      c.optimizer.nesterov ?? null,
      c.optimizer.weightDecay ?? null,
    ]);
  return (
    configurations.find((c) => c.config.precision === "f32" && key(c.config) === key(mixed.config)) ?? null
  );
}
