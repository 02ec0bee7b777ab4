// Apportioning a worker's run: the shared components' records (CPU, RAM, wall meter) scaled by the
// run's share of each phase when other runs of the suite were in flight on the host (the rule:
// shared-energy.ts). Kept out of the per-run body (measure-run.ts), which hands it the readings.
import {
  type ConcurrencyStep,
  concurrencySteps,
  cumulativeFromPower,
  type EnergyPoint,
  overlapsIn,
  shareOf,
} from "./shared-energy.js";
import type { WorkerStore } from "./store.js";
import type { EnergyRecord, RunEnvironment } from "./types.js";

/** Components whose energy the runs in flight on one host share (the GPUs are each run's own). */
export const SHARED_COMPONENTS: readonly string[] = ["cpu", "dram", "system"];

/**
 * Scales the shared components' records of a run by the run's share of each phase
 * (shared-energy.ts) and labels them `estimated, shared`. `points` are each channel's cumulative
 * energy readings on the wall clock; `phases` the phases' wall-clock windows.
 */
export function apportionShared(
  records: readonly EnergyRecord[],
  points: ReadonlyMap<string, EnergyPoint[]>,
  phases: readonly { name: string; startMs: number; endMs: number }[],
  steps: readonly ConcurrencyStep[],
): EnergyRecord[] {
  const window = new Map(phases.map((p) => [p.name, p]));
  const ratio = (phase: string, channel: string): number => {
    const w = window.get(phase);
    if (!w) return 1;
    return shareOf(points.get(channel) ?? [], steps, w.startMs, w.endMs);
  };
  const scale = (e: EnergyRecord, r: number): EnergyRecord => {
    const by = (v: number | null | undefined) => (v === null || v === undefined ? v : v * r);
    return {
      ...e,
      provenance: "estimated",
      shared: true,
      grossJ: by(e.grossJ) ?? null,
      netJ: by(e.netJ) ?? null,
      meanPowerW: by(e.meanPowerW) ?? null,
      ...(e.grossLowJ !== undefined ? { grossLowJ: by(e.grossLowJ) } : {}),
      ...(e.grossHighJ !== undefined ? { grossHighJ: by(e.grossHighJ) } : {}),
      ...(e.netLowJ !== undefined ? { netLowJ: by(e.netLowJ) } : {}),
      ...(e.netHighJ !== undefined ? { netHighJ: by(e.netHighJ) } : {}),
    };
  };
  return records.map((e) => {
    if (!SHARED_COMPONENTS.includes(e.component)) return e;
    if (e.channel !== null) return scale(e, ratio(e.phase, e.channel));
    // A component's total: its channels' shares weighted by their energy (cross-checks left out, as in the total).
    const parts = records.filter(
      (c) =>
        c.phase === e.phase &&
        c.component === e.component &&
        c.channel !== null &&
        !c.flag?.startsWith("cross-check"),
    );
    const whole = parts.reduce((s, c) => s + (c.grossJ ?? 0), 0);
    const r =
      whole > 0
        ? parts.reduce((s, c) => s + (c.grossJ ?? 0) * ratio(c.phase, c.channel as string), 0) / whole
        : parts.length
          ? ratio(e.phase, parts[0].channel as string)
          : 1;
    return scale(e, r);
  });
}

/** A host-wide channel's readings over a run, on the wall clock (ms since the epoch). */
export type ShareableReadings = Map<string, { t: number; e?: number; w?: number }[]>;

/**
 * A worker's run: when other runs were in flight on this host during its phases (`windows`, wall
 * clock), its shared components' energy is apportioned and the run's env marked overlapped.
 */
export function apportionWorkerRun(
  energy: EnergyRecord[],
  readings: ShareableReadings,
  windows: readonly { name: string; startMs: number; endMs: number }[],
  fallback: { startMs: number; endMs: number },
  store: WorkerStore,
  suiteId: number,
  runId: number,
  env: RunEnvironment,
): EnergyRecord[] {
  // Runs in flight on this host now or during this run, this one included (still running).
  const steps = concurrencySteps(store.runIntervals(suiteId, env.hostname));
  const first = windows[0]?.startMs ?? fallback.startMs;
  const last = windows.at(-1)?.endMs ?? fallback.endMs;
  if (!overlapsIn(steps, first, last)) return energy;
  const points = new Map<string, EnergyPoint[]>();
  for (const [channel, list] of readings) {
    const counter = list.filter((p) => p.e !== undefined).map((p) => ({ t: p.t, e: p.e as number }));
    points.set(
      channel,
      counter.length >= 2
        ? counter
        : cumulativeFromPower(
            list.filter((p) => p.w !== undefined).map((p) => ({ t: p.t, w: p.w as number })),
          ),
    );
  }
  store.setRunEnv(runId, { ...env, overlapped: true });
  return apportionShared(energy, points, windows, steps);
}
