// Energy per phase and channel, from a stream of samples and a list of phase marks.
//
// Both kinds of reading are treated as piecewise-linear functions of time between samples:
// - power P(t): the energy of a window is the integral of that interpolant (the trapezoid rule,
//   exact for a power curve that is linear between samples, e.g. P(t) = a + b·t);
// - a cumulative energy counter C(t): the energy of a window [s, e] is C(e) − C(s), each end
//   interpolated between the counter readings that bracket it.
// The ledger works incrementally (one segment at a time) so it keeps O(phases × channels)
// state, not the samples. Marks must be registered before any sample later than them is added;
// the sampler guarantees that (see sampler.ts) and `add` refuses samples out of that order.
//
// Ranges: every figure carries `low`/`high`. A model's bounds arrive as two more cumulative
// counters on its readings (energyLowJ/energyHighJ: the model rerun at each end of its stated
// uncertainty) and get the same counter arithmetic. A hardware counter that also has power
// readings is bounded by the counter and the integral; anything else has low = high = value.
// Sums add lows and highs (the bounds of one model move together, so this is the range of the
// sum, not a statistical interval).

import { TelemetryError } from "./errors.js";
import type { GpuSelection } from "./gpu-selection.js";
import type { ChannelInfo, Component, Provenance, Sample } from "./types.js";

export interface EnergyFigure {
  /** Joules, or null where the window is too short or the data missing (see `flag`). */
  joules: number | null;
  provenance: Provenance;
  source: string;
  /** "power × duration": a constant (a model, a manual average). */
  method: "counter delta" | "trapezoid integral of power" | "power × duration";
  flag?: string;
  /** Bounds of `joules` (null with it); see the file comment. */
  low?: number | null;
  high?: number | null;
}

export interface ChannelEnergy {
  channel: string;
  component: Component;
  source: string;
  /** Left out of component totals (see ChannelInfo.crossCheck). */
  crossCheck?: boolean;
  /**
   * Reported but left out of component totals, and why (a GPU the measured command did not use,
   * or one outside --gpus: see gpu-selection.ts).
   */
  notInTotal?: string;
  /** The best figure: the counter delta where the channel has a counter, else integrated power. */
  gross: EnergyFigure;
  /** gross − (idle-baseline mean power × this phase's duration); absent without a baseline. */
  net?: EnergyFigure;
  /** For channels with both a counter and power: the integrated power, as a cross-check. */
  integrated?: EnergyFigure;
  /** |integrated − gross| / gross, where both exist. */
  disagreement?: number;
  meanPowerW: number | null;
  powerSamples: number;
  counterSamples: number;
}

export interface ComponentTotal {
  component: Component;
  gross: number | null;
  net: number | null;
  /** The weakest provenance among the channels summed (estimated < sampled < counter). */
  provenance: Provenance;
  sources: string[];
  flag?: string;
  /** Sums of the parts' bounds (a part without bounds counts its value at both ends). */
  low?: number | null;
  high?: number | null;
  netLow?: number | null;
  netHigh?: number | null;
}

export interface PhaseEnergy {
  name: string;
  startMs: number;
  endMs: number;
  /** Date.now() at the mark: lets wall-clock readings (a meter's CSV) be placed in the phase. */
  wallStartMs: number;
  durationS: number;
  channels: ChannelEnergy[];
  totals: ComponentTotal[];
}

export interface EnergyReport {
  channels: ChannelInfo[];
  phases: PhaseEnergy[];
  baselinePhase: string | null;
  warnings: string[];
  /** Which GPUs the `gpu` totals hold and why (halfwatt measure); absent where not decided. */
  gpus?: GpuSelection;
}

export interface LedgerOptions {
  /** The phase whose mean power is subtracted to give net energy. */
  baselinePhase?: string;
  /** Relative counter-vs-integral difference past which a warning is raised (default 5 %). */
  agreementTolerance?: number;
}

export interface PhaseMark {
  name: string;
  t: number;
  wallMs: number;
}

/** One cumulative counter's value at a phase's start and end (NaN start: it was reset inside). */
interface CounterEnds {
  start?: number;
  end?: number;
}

/** The counter itself and a model's low and high bound counters. */
type Track = "value" | "low" | "high";

interface ChannelPhase {
  integralJ: number;
  coveredMs: number;
  powerSamples: number;
  counterSamples: number;
  counter: Record<Track, CounterEnds>;
}

interface Phase {
  name: string;
  start: number;
  end: number; // Infinity while open
  wallStartMs: number;
  perChannel: Map<string, ChannelPhase>;
}

interface Point {
  t: number;
  v: number;
}

const PROVENANCE_STRENGTH: Record<Provenance, number> = { estimated: 0, sampled: 1, counter: 2 };

export const DEFAULT_BASELINE_PHASE = "idle-baseline";

const lerp = (a: Point, b: Point, t: number) =>
  b.t === a.t ? b.v : a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t);

export class EnergyLedger {
  private readonly phases: Phase[] = [];
  private readonly lastPower = new Map<string, Point>();
  private readonly lastCounter: Record<Track, Map<string, Point>> = {
    value: new Map(),
    low: new Map(),
    high: new Map(),
  };
  private readonly byId: Map<string, ChannelInfo>;
  private latestSampleT = Number.NEGATIVE_INFINITY;
  private readonly warnings: string[] = [];
  readonly marks: PhaseMark[] = [];

  constructor(
    readonly channels: ChannelInfo[],
    private readonly options: LedgerOptions = {},
  ) {
    this.byId = new Map(channels.map((c) => [c.id, c]));
  }

  /** Closes the open phase (if any) at `t` and opens `name`. */
  mark(name: string, t: number, wallMs = Date.now()): void {
    if (t < this.latestSampleT)
      throw new TelemetryError(
        `phase mark "${name}" at ${t} ms comes after a sample at ${this.latestSampleT} ms was added`,
      );
    this.end(t);
    this.phases.push({
      name,
      start: t,
      end: Number.POSITIVE_INFINITY,
      wallStartMs: wallMs,
      perChannel: new Map(),
    });
    this.marks.push({ name, t, wallMs });
  }

  /** Closes the open phase at `t`. */
  end(t: number): void {
    const open = this.phases.at(-1);
    if (open && open.end === Number.POSITIVE_INFINITY) {
      if (t < open.start) throw new TelemetryError(`phase "${open.name}" cannot end before it starts`);
      open.end = t;
    }
  }

  /** Adds samples (any channel mix); per channel they must come in time order. */
  add(samples: readonly Sample[]): void {
    for (const s of samples) {
      if (!this.byId.has(s.channel)) continue;
      if (s.powerW !== undefined && Number.isFinite(s.powerW))
        this.powerPoint(s.channel, { t: s.t, v: s.powerW });
      if (s.energyJ !== undefined && Number.isFinite(s.energyJ))
        this.counterPoint(s.channel, { t: s.t, v: s.energyJ });
      if (s.energyLowJ !== undefined && Number.isFinite(s.energyLowJ))
        this.counterPoint(s.channel, { t: s.t, v: s.energyLowJ }, "low");
      if (s.energyHighJ !== undefined && Number.isFinite(s.energyHighJ))
        this.counterPoint(s.channel, { t: s.t, v: s.energyHighJ }, "high");
      if (s.t > this.latestSampleT) this.latestSampleT = s.t;
    }
  }

  /** A warning to carry in the report (e.g. a source that failed mid-run). */
  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  private state(phase: Phase, channel: string): ChannelPhase {
    let st = phase.perChannel.get(channel);
    if (!st) {
      st = emptyChannelPhase();
      phase.perChannel.set(channel, st);
    }
    return st;
  }

  private powerPoint(channel: string, p: Point): void {
    const prev = this.lastPower.get(channel);
    if (prev && p.t < prev.t) {
      this.warn(`${channel}: power sample out of time order dropped`);
      return;
    }
    for (const ph of this.phases) {
      if (p.t >= ph.start && p.t < ph.end) this.state(ph, channel).powerSamples++;
      if (!prev) continue;
      const a = Math.max(prev.t, ph.start);
      const b = Math.min(p.t, ph.end);
      if (b <= a) continue;
      const st = this.state(ph, channel);
      st.integralJ += ((lerp(prev, p, a) + lerp(prev, p, b)) / 2) * ((b - a) / 1000);
      st.coveredMs += b - a;
    }
    this.lastPower.set(channel, p);
  }

  private counterPoint(channel: string, c: Point, track: Track = "value"): void {
    const last = this.lastCounter[track];
    const prev = last.get(channel);
    const what = track === "value" ? "" : ` (${track} bound)`;
    if (prev && c.t < prev.t) {
      this.warn(`${channel}: counter sample${what} out of time order dropped`);
      return;
    }
    if (prev && c.v < prev.v) {
      // Sources unwrap known wrap-arounds; a decrease left here is a reset (driver reload).
      this.warn(
        `${channel}: energy counter${what} went backwards (${prev.v} → ${c.v} J); phases spanning it have no counter figure`,
      );
      last.set(channel, c);
      for (const ph of this.phases)
        if (ph.start < c.t && ph.end > prev.t) this.state(ph, channel).counter[track].start = Number.NaN;
      return;
    }
    for (const ph of this.phases) {
      const ends = () => this.state(ph, channel).counter[track];
      if (track === "value" && c.t >= ph.start && c.t < ph.end) this.state(ph, channel).counterSamples++;
      // A boundary at exactly a reading's time takes that reading; otherwise interpolate.
      if (c.t === ph.start) ends().start = c.v;
      else if (prev && prev.t < ph.start && ph.start < c.t) ends().start = lerp(prev, c, ph.start);
      if (c.t === ph.end) ends().end = c.v;
      else if (prev && prev.t < ph.end && ph.end < c.t) ends().end = lerp(prev, c, ph.end);
    }
    last.set(channel, c);
  }

  /** Energy of every closed phase. */
  report(): EnergyReport {
    const closed = this.phases.filter((p) => Number.isFinite(p.end));
    const baselineName = this.options.baselinePhase ?? DEFAULT_BASELINE_PHASE;
    const baseline = closed.find((p) => p.name === baselineName) ?? null;
    const warnings = [...this.warnings];
    const grossOf = (ph: Phase) =>
      new Map(this.channels.map((c) => [c.id, this.channelEnergy(ph, c, warnings)]));
    const baselineGross = baseline ? grossOf(baseline) : null;
    const phases: PhaseEnergy[] = closed.map((ph) => {
      const durationS = (ph.end - ph.start) / 1000;
      const channels = [...grossOf(ph).values()];
      if (baseline && baselineGross) {
        const baseS = (baseline.end - baseline.start) / 1000;
        for (const ce of channels) {
          const base = baselineGross.get(ce.channel)?.gross;
          const baseW = base?.joules != null && baseS > 0 ? base.joules / baseS : null;
          const joules =
            ce.gross.joules != null && baseW != null ? ce.gross.joules - baseW * durationS : null;
          ce.net = { ...ce.gross, joules, ...netBounds(ce.gross, base, joules, durationS / baseS) };
          if (baseW == null) ce.net.flag ??= `no idle-baseline power (${base?.flag ?? "channel missing"})`;
        }
      }
      return {
        name: ph.name,
        startMs: ph.start,
        endMs: ph.end,
        wallStartMs: ph.wallStartMs,
        durationS,
        channels,
        totals: componentTotals(channels),
      };
    });
    // The baseline's figures are computed twice (as a phase and as the baseline): one warning each.
    return {
      channels: this.channels,
      phases,
      baselinePhase: baseline ? baseline.name : null,
      warnings: [...new Set(warnings)],
    };
  }

  private channelEnergy(ph: Phase, ch: ChannelInfo, warnings: string[]): ChannelEnergy {
    const st = ph.perChannel.get(ch.id) ?? emptyChannelPhase();
    const durationMs = ph.end - ph.start;
    const tooShort =
      durationMs < ch.updatePeriodMs
        ? `window of ${durationMs.toFixed(1)} ms is shorter than the sensor's update period (${ch.updatePeriodMs} ms)`
        : undefined;

    let integrated: EnergyFigure | undefined;
    if (ch.power) {
      const gap = durationMs - st.coveredMs;
      const flag =
        tooShort ??
        (st.coveredMs === 0
          ? "no power samples in this window"
          : gap > Math.max(ch.updatePeriodMs, 1e-6 * durationMs)
            ? `power samples cover ${st.coveredMs.toFixed(0)} of ${durationMs.toFixed(0)} ms`
            : undefined);
      integrated = {
        joules: tooShort || st.coveredMs === 0 ? null : st.integralJ,
        provenance: ch.power,
        source: ch.source,
        method: "trapezoid integral of power",
        ...(flag ? { flag } : {}),
      };
    }
    let counter: EnergyFigure | undefined;
    if (ch.counter) {
      const known = st.counter.value.start !== undefined && st.counter.value.end !== undefined;
      const delta = known
        ? (st.counter.value.end as number) - (st.counter.value.start as number)
        : Number.NaN;
      const flag =
        tooShort ??
        (Number.isNaN(delta)
          ? known
            ? "energy counter reset inside this window"
            : "no counter readings bracket this window"
          : undefined);
      const joules = flag ? null : delta;
      counter = {
        joules,
        provenance: ch.counter,
        source: ch.source,
        method: "counter delta",
        ...(flag ? { flag } : {}),
        ...modelBounds(joules, st.counter),
      };
    }
    if (integrated) Object.assign(integrated, { low: integrated.joules, high: integrated.joules });
    const gross = (counter ?? integrated) as EnergyFigure;
    // The known error term of a hardware counter: its disagreement with the power integral.
    if (
      counter &&
      integrated &&
      counter.joules != null &&
      integrated.joules != null &&
      ch.counter !== "estimated"
    ) {
      counter.low = Math.min(counter.joules, integrated.joules);
      counter.high = Math.max(counter.joules, integrated.joules);
    }
    const out: ChannelEnergy = {
      channel: ch.id,
      component: ch.component,
      source: ch.source,
      ...(ch.crossCheck ? { crossCheck: true } : {}),
      gross,
      meanPowerW: gross.joules != null && durationMs > 0 ? gross.joules / (durationMs / 1000) : null,
      powerSamples: st.powerSamples,
      counterSamples: st.counterSamples,
    };
    if (counter && integrated) {
      out.integrated = integrated;
      if (counter.joules != null && integrated.joules != null && counter.joules !== 0) {
        out.disagreement = Math.abs(integrated.joules - counter.joules) / Math.abs(counter.joules);
        const tol = this.options.agreementTolerance ?? 0.05;
        if (out.disagreement > tol)
          warnings.push(
            `${ch.source}, phase "${ph.name}": counter ${counter.joules.toFixed(2)} J and integrated power ${integrated.joules.toFixed(2)} J differ by ${(100 * out.disagreement).toFixed(1)} % (> ${(100 * tol).toFixed(0)} %)`,
          );
      }
    }
    return out;
  }
}

function emptyChannelPhase(): ChannelPhase {
  return {
    integralJ: 0,
    coveredMs: 0,
    powerSamples: 0,
    counterSamples: 0,
    counter: { value: {}, low: {}, high: {} },
  };
}

const delta = (e: CounterEnds) =>
  e.start !== undefined && e.end !== undefined && !Number.isNaN(e.start) ? e.end - e.start : null;

/**
 * A counter figure's bounds from its low/high bound counters, widened to include the value;
 * low = high = value where the channel has none (or they do not bracket this window).
 */
function modelBounds(
  joules: number | null,
  ends: Record<Track, CounterEnds>,
): { low: number | null; high: number | null } {
  if (joules == null) return { low: null, high: null };
  const lo = delta(ends.low);
  const hi = delta(ends.high);
  if (lo == null || hi == null) return { low: joules, high: joules };
  return { low: Math.min(lo, hi, joules), high: Math.max(lo, hi, joules) };
}

/**
 * Net bounds: each bound is a whole alternative model, so its baseline is subtracted from the
 * same bound (low − low·r, high − high·r, r = phase / baseline duration); the two results and
 * the net value are then ordered, since a higher idle floor means a lower net.
 */
function netBounds(
  gross: EnergyFigure,
  base: EnergyFigure | undefined,
  net: number | null,
  ratio: number,
): { low: number | null; high: number | null } {
  if (net == null || !base || base.joules == null || !Number.isFinite(ratio))
    return { low: null, high: null };
  const a = (gross.low ?? gross.joules ?? 0) - (base.low ?? base.joules) * ratio;
  const b = (gross.high ?? gross.joules ?? 0) - (base.high ?? base.joules) * ratio;
  return { low: Math.min(a, b, net), high: Math.max(a, b, net) };
}

/**
 * Sums channels per component; the total is only as strong as its weakest part. Cross-checks and
 * channels marked notInTotal are reported but never summed.
 */
export function componentTotals(channels: readonly ChannelEnergy[]): ComponentTotal[] {
  const out: ComponentTotal[] = [];
  for (const component of ["gpu", "cpu", "dram", "system"] as Component[]) {
    const parts = channels.filter((c) => c.component === component && !c.crossCheck && !c.notInTotal);
    if (!parts.length) continue;
    const missing = parts.filter((c) => c.gross.joules == null);
    const sum = (pick: (c: ChannelEnergy) => number | null | undefined) => {
      let s = 0;
      for (const c of parts) {
        const v = pick(c);
        if (v == null) return null;
        s += v;
      }
      return s;
    };
    const weakest = parts
      .map((c) => c.gross.provenance)
      .reduce((a, b) => (PROVENANCE_STRENGTH[b] < PROVENANCE_STRENGTH[a] ? b : a));
    const withNet = parts.every((c) => c.net);
    const net = withNet ? sum((c) => c.net?.joules) : null;
    out.push({
      component,
      gross: sum((c) => c.gross.joules),
      net,
      low: sum((c) => (c.gross.joules == null ? null : (c.gross.low ?? c.gross.joules))),
      high: sum((c) => (c.gross.joules == null ? null : (c.gross.high ?? c.gross.joules))),
      netLow: withNet ? sum((c) => (c.net?.joules == null ? null : (c.net.low ?? c.net.joules))) : null,
      netHigh: withNet ? sum((c) => (c.net?.joules == null ? null : (c.net.high ?? c.net.joules))) : null,
      provenance: weakest,
      sources: parts.map((c) => c.source),
      ...(missing.length ? { flag: `no figure from ${missing.map((c) => c.source).join(", ")}` } : {}),
    });
  }
  return out;
}

export interface PhaseTotal {
  joules: number | null;
  low: number | null;
  high: number | null;
  provenance: Provenance;
}

/**
 * A phase's total over `components` (default gpu + cpu + dram: the wall plug's `system` already
 * contains them), from its component totals; null where a component's figure is missing.
 */
export function phaseTotal(
  totals: readonly ComponentTotal[],
  components: readonly Component[] = ["gpu", "cpu", "dram"],
  which: "gross" | "net" = "gross",
): PhaseTotal | null {
  const parts = totals.filter((t) => components.includes(t.component));
  if (!parts.length) return null;
  let joules: number | null = 0;
  let low: number | null = 0;
  let high: number | null = 0;
  for (const t of parts) {
    const v = which === "gross" ? t.gross : t.net;
    const lo = which === "gross" ? t.low : t.netLow;
    const hi = which === "gross" ? t.high : t.netHigh;
    joules = v == null || joules == null ? null : joules + v;
    low = v == null || low == null ? null : low + (lo ?? v);
    high = v == null || high == null ? null : high + (hi ?? v);
  }
  const provenance = parts
    .map((t) => t.provenance)
    .reduce((a, b) => (PROVENANCE_STRENGTH[b] < PROVENANCE_STRENGTH[a] ? b : a));
  return { joules, low, high, provenance };
}
