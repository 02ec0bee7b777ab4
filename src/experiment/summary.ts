// The end of a suite, as every way of running one reports it (one process, `--devices`, a Slurm
// `--task`): the one-line count of what happened and the exit status it implies.
import type { SuiteRunSummary } from "./runner.js";

/** "6 run(s) completed, 0 interrupted, 0 failed[, 1 diverged][, 2 done before][ (stopped: …)]" */
export function summaryLine(s: SuiteRunSummary): string {
  return `${s.completed} run(s) completed, ${s.interrupted} interrupted, ${s.failed} failed${s.diverged ? `, ${s.diverged} diverged` : ""}${s.skipped ? `, ${s.skipped} done before` : ""}${s.stopped ? " (stopped: finish with --resume)" : ""}`;
}

/**
 * The exit status of a suite: `stopExit` (128 + the signal's number: 130 for SIGINT, 143 for
 * SIGTERM; 130 when stopped otherwise) when it was stopped; 1 when a run failed or diverged, or
 * `lost` (a worker process ended without its summary); else 0. A diverged run is recorded, yet
 * the suite does not hold the comparison it planned, which a script should notice.
 */
export function suiteExitCode(
  s: SuiteRunSummary,
  o: { stopExit?: number | null; lost?: boolean } = {},
): number {
  if (s.stopped) return o.stopExit ?? 130;
  if (s.failed || s.diverged || o.lost) return 1;
  return 0;
}
