// Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, §13.3), seeded so a run
// can be replayed: resample with replacement, recompute the statistic, take the α/2 and 1 − α/2
// quantiles (Hyndman–Fan type 7) of the replicates.
import { quantile, sum } from "./descriptive.js";
import { requireCount, requireProbability, StatsInputError } from "./errors.js";

export { seededRandom } from "../util/rng.js";

import { seededRandom } from "../util/rng.js";

export interface BootstrapOptions {
  /** Number of resamples (default 10000). */
  resamples?: number;
  confidence?: number;
  seed?: number;
}

export interface BootstrapInterval {
  estimate: number;
  ci: [number, number];
  resamples: number;
  seed: number;
}

function resampleMean(values: ArrayLike<number>, random: () => number, scratch: Float64Array): number {
  const n = values.length;
  for (let i = 0; i < n; i++) scratch[i] = values[Math.floor(random() * n)];
  return sum(scratch) / n;
}

function settings(options: BootstrapOptions): Required<BootstrapOptions> {
  const resamples = options.resamples ?? 10000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 100)
    throw new StatsInputError(`resamples must be an integer >= 100, got ${resamples}`);
  requireProbability(confidence, "confidence level");
  return { resamples, confidence, seed: options.seed ?? 1 };
}

function percentileInterval(replicates: Float64Array, confidence: number): [number, number] {
  const tail = (1 - confidence) / 2;
  return [quantile(replicates, tail), quantile(replicates, 1 - tail)];
}

/** Percentile bootstrap interval for the mean of one sample. */
export function bootstrapMean(values: ArrayLike<number>, options: BootstrapOptions = {}): BootstrapInterval {
  requireCount(values, 2, "bootstrap sample");
  const { resamples, confidence, seed } = settings(options);
  const random = seededRandom(seed);
  const scratch = new Float64Array(values.length);
  const replicates = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) replicates[r] = resampleMean(values, random, scratch);
  return {
    estimate: sum(values) / values.length,
    ci: percentileInterval(replicates, confidence),
    resamples,
    seed,
  };
}

/** Percentile bootstrap interval for mean(a) − mean(b), resampling each group independently. */
export function bootstrapMeanDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: BootstrapOptions = {},
): BootstrapInterval {
  requireCount(a, 2, "bootstrap sample a");
  requireCount(b, 2, "bootstrap sample b");
  const { resamples, confidence, seed } = settings(options);
  const random = seededRandom(seed);
  const scratchA = new Float64Array(a.length);
  const scratchB = new Float64Array(b.length);
  const replicates = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++)
    replicates[r] = resampleMean(a, random, scratchA) - resampleMean(b, random, scratchB);
  return {
    estimate: sum(a) / a.length - sum(b) / b.length,
    ci: percentileInterval(replicates, confidence),
    resamples,
    seed,
  };
}
