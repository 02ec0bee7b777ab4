// The baseline's power state: before every idle baseline, wait until the GPU's measured power has
// settled (SettleRule: the last N s within X W and a slope bound), with a timeout. Temperature
// alone is not enough: an H200 back at its idle temperature can still draw 45 W more than cold.
import type { SettleRule } from "./measurement-rules.js";

/** One power reading: t in ms (any monotonic origin), watts. */
export interface PowerReading {
  t: number;
  w: number;
}

export interface SettleState {
  settled: boolean;
  /** max − min over the window, W (null: the window is not full yet). */
  spreadW: number | null;
  /** Least-squares slope over the window, W/s (null: the window is not full yet). */
  slopeWPerS: number | null;
  /** Mean over the window, W. */
  meanW: number | null;
}

/** Least-squares slope of w on t, W per second. */
export function slopePerSecond(r: readonly PowerReading[]): number {
  const n = r.length;
  const mt = r.reduce((s, x) => s + x.t, 0) / n;
  const mw = r.reduce((s, x) => s + x.w, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const x of r) {
    sxy += (x.t - mt) * (x.w - mw);
    sxx += (x.t - mt) ** 2;
  }
  return sxx > 0 ? (sxy / sxx) * 1000 : 0;
}

/**
 * Whether `readings` (in time order) end in a settled window: they must span at least
 * `windowSeconds`, and the readings of the last `windowSeconds` lie within `withinWatts` with a
 * slope of at most `maxSlopeWPerS`.
 */
export function settleState(readings: readonly PowerReading[], rule: SettleRule): SettleState {
  const none = { settled: false, spreadW: null, slopeWPerS: null, meanW: null };
  if (readings.length < 2) return none;
  const end = readings[readings.length - 1].t;
  if (end - readings[0].t < rule.windowSeconds * 1000) return none;
  const win = readings.filter((r) => r.t >= end - rule.windowSeconds * 1000);
  if (win.length < 2) return none;
  const ws = win.map((r) => r.w);
  const spreadW = Math.max(...ws) - Math.min(...ws);
  const slopeWPerS = slopePerSecond(win);
  return {
    settled: spreadW <= rule.withinWatts && Math.abs(slopeWPerS) <= rule.maxSlopeWPerS,
    spreadW,
    slopeWPerS,
    meanW: ws.reduce((a, b) => a + b, 0) / ws.length,
  };
}

export interface SettleResult extends SettleState {
  /** How long the wait took, s. */
  seconds: number;
  readings: number;
  timedOut: boolean;
}

export interface SettleClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Reads `readPower` every `rule.intervalMs` until settleState says settled, the timeout passes or
 * `signal` aborts. A reader that returns null (no power sensor) ends the wait at once, unsettled.
 */
export async function waitForSettledPower(
  readPower: () => number | null | Promise<number | null>,
  rule: SettleRule,
  clock: SettleClock,
  signal?: AbortSignal,
): Promise<SettleResult> {
  const start = clock.now();
  const readings: PowerReading[] = [];
  let state: SettleState = { settled: false, spreadW: null, slopeWPerS: null, meanW: null };
  for (;;) {
    const w = await readPower();
    if (w === null) break;
    readings.push({ t: clock.now(), w });
    state = settleState(readings, rule);
    if (state.settled || signal?.aborted) break;
    if (clock.now() - start >= rule.timeoutSeconds * 1000)
      return { ...state, seconds: (clock.now() - start) / 1000, readings: readings.length, timedOut: true };
    await clock.sleep(rule.intervalMs);
  }
  return { ...state, seconds: (clock.now() - start) / 1000, readings: readings.length, timedOut: false };
}
