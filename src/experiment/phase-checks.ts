// Checks that compilation and warm-up stayed out of `train` (issue 18 §1): within a run, epoch 1
// within a tolerance of the median epoch; across replicates, the first replicate of a
// configuration within a tolerance of the others in train-phase seconds per sample. Both compare
// |x − reference| / reference with the tolerance (MEASUREMENT_RULES.phaseTolerance: 10 %).
import type { EpochResult } from "../model/trainer.js";
import { RUN_PHASE_NAMES } from "./phase-names.js";
import type { PhaseRecord } from "./types.js";

export interface EpochCheck {
  /** Epoch 1's training seconds. */
  firstS: number;
  /** The median epoch's (all epochs, epoch 1 included), s. */
  medianS: number;
  /** |first − median| / median. */
  deviation: number;
  ok: boolean;
}

export interface ReplicateCheck {
  configId: string;
  /** The run id of the configuration's first replicate. */
  firstRunId: number;
  /** Its train-phase seconds per training sample. */
  firstSPerSample: number;
  /** The median over the other replicates, s per sample. */
  othersSPerSample: number;
  deviation: number;
  ok: boolean;
}

/** A run's planned train seconds (warm-up s per step × steps) against its measured train phase. */
export interface PlanCheck {
  plannedS: number;
  trainS: number;
  /** trainS / plannedS. */
  ratio: number;
  /** Whether the plan was within a factor of `factor` of the phase, either way. */
  ok: boolean;
}

/**
 * The plan vs the train phase (null without a finite plan or a phase, or where both are shorter
 * than `minSeconds`). The plan counts training steps only, so the phase (each epoch's validation
 * too) is expected at or a little above it; a plan off by more than `factor` either way was timed
 * in an unsteady state (e.g. idle clocks), and the up-front length check that used it could have
 * passed or warned wrongly. Below a second, validation passes and launch jitter alone move the
 * ratio past any useful factor (lavapipe's quick suite: 0.33–1.63× on 0.25–0.7 s phases).
 */
export function planCheck(
  plannedS: number,
  trainS: number | null,
  factor: number,
  minSeconds = 0,
): PlanCheck | null {
  if (!(Number.isFinite(plannedS) && plannedS > 0) || trainS === null || !(trainS > 0)) return null;
  if (plannedS < minSeconds && trainS < minSeconds) return null;
  const ratio = trainS / plannedS;
  return { plannedS, trainS, ratio, ok: ratio <= factor && ratio >= 1 / factor };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Epoch 1 vs the median epoch of one run (null with no epoch). */
export function epochCheck(
  epochs: readonly Pick<EpochResult, "epoch" | "seconds">[],
  tolerance: number,
): EpochCheck | null {
  const first = epochs.find((e) => e.epoch === 1);
  if (!first || !epochs.length) return null;
  const medianS = median(epochs.map((e) => e.seconds));
  const deviation = medianS > 0 ? Math.abs(first.seconds - medianS) / medianS : 0;
  return { firstS: first.seconds, medianS, deviation, ok: deviation <= tolerance };
}

/** Seconds of a run's train phase (null without one). */
export function trainPhaseSeconds(phases: readonly PhaseRecord[]): number | null {
  const p = phases.find((x) => x.name === RUN_PHASE_NAMES.train);
  return p ? (p.endMs - p.startMs) / 1000 : null;
}

/** Seconds of a run's train phase per training sample it processed (null without either). */
export function trainSecondsPerSample(
  phases: readonly PhaseRecord[],
  epochs: readonly Pick<EpochResult, "train">[],
): number | null {
  const seconds = trainPhaseSeconds(phases);
  const samples = epochs.reduce((n, e) => n + e.train.samples, 0);
  if (seconds === null || samples <= 0) return null;
  return seconds / samples;
}

/** A completed run as the replicate check reads it. */
export interface ReplicateRun {
  id: number;
  configId: string;
  replicate: number;
  phases: readonly PhaseRecord[];
  epochs: readonly Pick<EpochResult, "train">[];
}

/** Per configuration with ≥ 2 replicates: its lowest-numbered replicate vs the median of the others. */
export function replicateChecks(runs: readonly ReplicateRun[], tolerance: number): ReplicateCheck[] {
  const byConfig = new Map<string, ReplicateRun[]>();
  for (const r of runs) byConfig.set(r.configId, [...(byConfig.get(r.configId) ?? []), r]);
  const out: ReplicateCheck[] = [];
  for (const [configId, list] of byConfig) {
    const timed = list
      .map((r) => ({ r, s: trainSecondsPerSample(r.phases, r.epochs) }))
      .filter((x): x is { r: ReplicateRun; s: number } => x.s !== null)
      .sort((a, b) => a.r.replicate - b.r.replicate);
    if (timed.length < 2) continue;
    const [first, ...others] = timed;
    const ref = median(others.map((x) => x.s));
    const deviation = ref > 0 ? Math.abs(first.s - ref) / ref : 0;
    out.push({
      configId,
      firstRunId: first.r.id,
      firstSPerSample: first.s,
      othersSPerSample: ref,
      deviation,
      ok: deviation <= tolerance,
    });
  }
  return out;
}
