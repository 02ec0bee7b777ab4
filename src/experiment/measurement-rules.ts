// The rules that keep a run's measured phases clean, as plain data (docs/experiment.md,
// docs/telemetry.md): the up-front load before the first baseline, the power settle rule before
// every baseline, the warm-up, the clock ramp before train, the shortest train phase worth measuring, and the checks that
// compilation and warm-up stayed out of `train`.

export interface SettleRule {
  /** Power is settled when the last `windowSeconds` of readings... */
  windowSeconds: number;
  /** ...lie within this many watts of each other (max − min)... */
  withinWatts: number;
  /** ...and their least-squares slope is at most this, W/s in magnitude. */
  maxSlopeWPerS: number;
  /** Give up (and record the baseline as unsettled) after this long, s. */
  timeoutSeconds: number;
  /** Between readings, ms. */
  intervalMs: number;
}

export interface MeasurementRules {
  /**
   * Seconds of load (the configurations' warm-up steps, round-robin) before the first baseline,
   * on a GPU read by NVML: an H200 idles at 79 W cold but ~126 W for ≥ 90 s after any load while a
   * process holds the device, so without it the first baseline alone is read cold.
   */
  preloadSeconds: { nvml: number; other: number };
  settle: SettleRule;
  /** Timed full-batch warm-up steps per run (after the untimed compiling ones): the first chunk. */
  warmupTimedSteps: number;
  /**
   * The warm-up times steps until at least this long is timed and the step time is steady
   * (src/model/warmup.ts timeSteps), s: the planned train length comes from it.
   */
  warmupTimedSeconds: { nvml: number; other: number };
  /**
   * Seconds of busy load (src/experiment/clock-ramp.ts) right before each run's train mark, and
   * as long before its warm-up's timed steps, on a GPU read by NVML: the H200 starts a load after
   * idle at idle clocks (epoch 1 of its batch-256 runs was 0.15–0.25 s slow; a plan timed there
   * came out 2.8× too long). Recorded in setup.
   */
  rampSeconds: { nvml: number; other: number };
  /**
   * The shortest planned train phase measured without a warning, s, where the GPU's energy comes
   * from NVML's counter (docs/telemetry.md: its ~1 s averaging of power and its update period make
   * shorter phases disagree by 15–61 % between counter and integrated power on the H200).
   */
  minTrainSeconds: { nvml: number; other: number };
  /** Relative tolerance of the phase checks (epoch 1 vs the median epoch; first replicate vs the others). */
  phaseTolerance: number;
  /**
   * A run's planned train seconds must lie within this factor of its measured train phase
   * (phase-checks.ts planCheck). The plan counts training steps only, the phase adds each epoch's
   * validation: 1.0–1.34× in the H200 studies where the timing was steady; the one unsteady plan
   * (warm-up timed at idle clocks) was 2.8× too long.
   */
  planFactor: number;
  /** Plans and phases both shorter than this are not checked, s (phase-checks.ts planCheck). */
  planMinSeconds: number;
  /** A run's baseline watts is an outlier past this modified z-score (Iglewicz & Hoaglin: 3.5). */
  baselineOutlierZ: number;
  /**
   * ...and at least this far from the median, W: 2 W over a 40 s train phase is 80 J of an 18 kJ
   * run, and NVIDIA states board power draw to ±5 W; closer baselines are the same power state.
   */
  baselineOutlierMinW: number;
}

export const MEASUREMENT_RULES: MeasurementRules = {
  preloadSeconds: { nvml: 15, other: 0 },
  settle: { windowSeconds: 10, withinWatts: 5, maxSlopeWPerS: 0.2, timeoutSeconds: 120, intervalMs: 1000 },
  warmupTimedSteps: 3,
  warmupTimedSeconds: { nvml: 0.5, other: 0.1 },
  rampSeconds: { nvml: 1, other: 0 },
  minTrainSeconds: { nvml: 60, other: 0 },
  phaseTolerance: 0.1,
  planFactor: 1.5,
  planMinSeconds: 1,
  baselineOutlierZ: 3.5,
  baselineOutlierMinW: 2,
};
