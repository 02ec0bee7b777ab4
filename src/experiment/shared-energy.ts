// Apportioning what runs in flight at once share: when a suite runs one worker per GPU, each run's
// GPU energy is its own GPU's counter, but the CPU, the RAM and a wall meter serve every run in
// flight on the host. Each run's sampler measures the host's whole CPU/RAM energy over its
// window, so summing those figures over overlapping runs would count the host several times.
//
// The rule: at each instant t the host's power P(t) is split equally among the n(t) runs in flight
// on the host, so a run's share of a phase [a, b] is ∫ₐᵇ P(t) / n(t) dt. Summed over the runs, the
// shares give back ∫ P(t) dt over the time any run was in flight: nothing counted twice, nothing
// lost. P comes from the run's own samples of the channel (a cumulative energy counter, or power
// readings turned into one by the trapezoid rule), taken as constant between readings; n(t) from
// the runs' start and end times in the store (a step function). "In flight" is a run's whole
// record, from its start in the store to its end: a run in its idle baseline counts, as it holds
// its GPU and its share of the host. A run's energy window (its sampler's phases) starts a few
// hundred ms after its record does (the sampler's start) and ends before its record is written,
// so over those edges another run's share is a little smaller than the rule gives: a few tenths of
// a second per run, below the sensors' resolution for runs of minutes.
//
// The ratio share / whole of each phase and channel then scales every figure of that row (gross,
// net and their ranges): net × ratio assumes the baseline was shared in the same proportion.

/** A run's record on the host's wall clock (ms since the epoch); endMs Infinity while it runs. */
export interface InFlight {
  startMs: number;
  endMs: number;
}

/** n(t) as steps: from `t` until the next step's `t`, `n` runs are in flight. */
export interface ConcurrencyStep {
  t: number;
  n: number;
}

/** The step function n(t) of a set of intervals (each counted on [start, end)). */
export function concurrencySteps(intervals: readonly InFlight[]): ConcurrencyStep[] {
  const events: { t: number; d: number }[] = [];
  for (const i of intervals) {
    if (!(i.endMs > i.startMs)) continue;
    events.push({ t: i.startMs, d: 1 });
    if (Number.isFinite(i.endMs)) events.push({ t: i.endMs, d: -1 });
  }
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  const steps: ConcurrencyStep[] = [];
  let n = 0;
  for (const e of events) {
    n += e.d;
    const last = steps.at(-1);
    if (last && last.t === e.t) last.n = n;
    else steps.push({ t: e.t, n });
  }
  return steps;
}

/** n(t) at time t (0 before the first step). */
export function concurrencyAt(steps: readonly ConcurrencyStep[], t: number): number {
  let n = 0;
  for (const s of steps) {
    if (s.t > t) break;
    n = s.n;
  }
  return n;
}

/**
 * ∫ₐᵇ w(t) dt where w = 1/n(t), and 1 where n(t) = 0 (an instant no record covers: the run's own
 * window is always in flight, so this only happens at the clock's edges, and then nothing is shared).
 */
export function inverseConcurrencyIntegral(steps: readonly ConcurrencyStep[], a: number, b: number): number {
  if (!(b > a)) return 0;
  let total = 0;
  let t = a;
  let n = concurrencyAt(steps, a);
  for (const s of steps) {
    if (s.t <= a) continue;
    if (s.t >= b) break;
    total += (s.t - t) / Math.max(1, n);
    t = s.t;
    n = s.n;
  }
  return total + (b - t) / Math.max(1, n);
}

/** Whether more than one run was in flight at any time in [a, b). */
export function overlapsIn(steps: readonly ConcurrencyStep[], a: number, b: number): boolean {
  if (concurrencyAt(steps, a) > 1) return true;
  return steps.some((s) => s.t > a && s.t < b && s.n > 1);
}

/** A cumulative-energy reading: t on the wall clock (ms), e in joules. */
export interface EnergyPoint {
  t: number;
  e: number;
}

/** Power readings (t ms, W) as a cumulative energy (J) by the trapezoid rule. */
export function cumulativeFromPower(points: readonly { t: number; w: number }[]): EnergyPoint[] {
  const out: EnergyPoint[] = [];
  let e = 0;
  points.forEach((p, i) => {
    if (i > 0) e += ((points[i - 1].w + p.w) / 2) * ((p.t - points[i - 1].t) / 1000);
    out.push({ t: p.t, e });
  });
  return out;
}

/**
 * The whole and the shared energy (J) of [a, b] from cumulative readings: between readings the
 * power is constant (their difference over their interval), and each piece is divided by n(t).
 */
export function sharedEnergy(
  points: readonly EnergyPoint[],
  steps: readonly ConcurrencyStep[],
  a: number,
  b: number,
): { whole: number; shared: number } {
  let whole = 0;
  let shared = 0;
  for (let i = 1; i < points.length; i++) {
    const p0 = points[i - 1];
    const p1 = points[i];
    const dt = p1.t - p0.t;
    if (!(dt > 0) || !Number.isFinite(p1.e - p0.e)) continue;
    const lo = Math.max(a, p0.t);
    const hi = Math.min(b, p1.t);
    if (!(hi > lo)) continue;
    const power = (p1.e - p0.e) / dt; // J per ms
    whole += power * (hi - lo);
    shared += power * inverseConcurrencyIntegral(steps, lo, hi);
  }
  return { whole, shared };
}

/**
 * The share of [a, b]'s energy that belongs to this run: shared / whole from the readings, or,
 * where the readings carry no energy there (a zero or missing channel), the time average of
 * 1/n(t) over the window.
 */
export function shareOf(
  points: readonly EnergyPoint[],
  steps: readonly ConcurrencyStep[],
  a: number,
  b: number,
): number {
  const { whole, shared } = sharedEnergy(points, steps, a, b);
  if (whole > 0) return shared / whole;
  return b > a ? inverseConcurrencyIntegral(steps, a, b) / (b - a) : 1;
}
