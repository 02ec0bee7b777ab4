// The planned length of a run's train phase, before any run: an estimate from the warm-up's timed
// steps × the steps the run will take (the per-epoch validation pass is not in it), and the
// warning when it is shorter than the shortest phase worth measuring (MEASUREMENT_RULES).
import type { RunConfiguration } from "./types.js";

export interface PlannedDuration {
  configId: string;
  /** s per full-batch step, from the warm-up. */
  secondsPerStep: number;
  steps: number;
  /** Estimated train-phase seconds (an estimate: steps × s per step). */
  trainSeconds: number;
}

/** steps = epochs × ceil(train images / batch). */
export function plannedDuration(
  config: RunConfiguration,
  trainImages: number,
  secondsPerStep: number,
): PlannedDuration {
  const steps = config.epochs * Math.ceil(trainImages / Math.min(config.batch, Math.max(1, trainImages)));
  return { configId: config.id, secondsPerStep, steps, trainSeconds: steps * secondsPerStep };
}

/** The warning for a train phase shorter than `minSeconds`, or null. */
export function shortPhaseWarning(d: PlannedDuration, minSeconds: number): string | null {
  if (!(d.trainSeconds < minSeconds)) return null;
  return `${d.configId}: its planned train phase is about ${d.trainSeconds.toFixed(1)} s (an estimate: ${d.steps} steps × ${(1000 * d.secondsPerStep).toFixed(2)} ms), shorter than the ${minSeconds} s this GPU's energy counter needs to be read reliably (docs/telemetry.md); add epochs or data for figures worth comparing`;
}
