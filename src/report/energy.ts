// Per-run energy for the report: the component totals (EnergyRecord rows with channel null) of the
// energy phases, summed per component, on a net-of-baseline basis. The wall meter ("system")
// covers the whole machine, so it is reported on its own and never added to gpu + cpu + dram.
// Estimated components are never silently mixed into measured ones: each run has a measured-only
// sum and a sum with estimates, each with the weakest provenance of its parts.
import { HalfwattError } from "../errors.js";
import { deviceBlock } from "../experiment/blocks.js";
import type { EnergyRecord, RunRecord } from "../experiment/types.js";
import { DEFAULT_BASELINE_PHASE } from "../telemetry/ledger.js";
import type { Component, Provenance } from "../telemetry/types.js";
import { withoutResidue } from "./numbers.js";
import type { ComponentEnergy, EnergyMetric, RunEnergy } from "./types.js";

/** The phases whose energy counts: training and the test pass (not the baseline or cooldown). */
export const ENERGY_PHASES = ["train", "test"] as const;
/** Components summed into a run's total (the machine's parts). */
export const SUMMED_COMPONENTS: Component[] = ["gpu", "cpu", "dram"];
export const ALL_COMPONENTS: Component[] = ["gpu", "cpu", "dram", "system"];

const STRENGTH: Record<Provenance, number> = { estimated: 0, sampled: 1, counter: 2 };

/** The weakest of the provenances (estimated < sampled < counter); null for none. */
export function weakest(list: readonly Provenance[]): Provenance | null {
  let w: Provenance | null = null;
  for (const p of list) if (w === null || STRENGTH[p] < STRENGTH[w]) w = p;
  return w;
}

/** The component-total rows of the energy phases, checked: a NaN or negative duration is a store bug. */
function energyRows(run: RunRecord, phases: readonly string[]): EnergyRecord[] {
  return run.energy.filter((e, i) => {
    if (e.channel !== null || !phases.includes(e.phase)) return false;
    const bad = !(Number.isFinite(e.seconds) && e.seconds >= 0)
      ? "seconds"
      : e.grossJ !== null && !Number.isFinite(e.grossJ)
        ? "grossJ"
        : e.netJ !== null && !Number.isFinite(e.netJ)
          ? "netJ"
          : null;
    if (bad)
      throw new HalfwattError(
        "E_INPUT",
        `run ${run.id} (${run.configId} #${run.replicate}): energy[${i}] (${e.phase}/${e.component}) field ${bad} is not a finite number (${String(e[bad])})`,
      );
    return true;
  });
}

/** Whether every energy row of the run has a net figure (a baseline was measured). */
export function hasNet(run: RunRecord, phases: readonly string[] = ENERGY_PHASES): boolean {
  return energyRows(run, phases).every((e) => e.grossJ === null || e.netJ !== null);
}

/** Duration of the energy phases, s: from the phase marks, else from the energy rows. */
function phaseSeconds(run: RunRecord, phases: readonly string[]): number {
  const marked = run.phases.filter((p) => phases.includes(p.name));
  if (marked.length) return marked.reduce((s, p) => s + Math.max(0, p.endMs - p.startMs), 0) / 1000;
  const byPhase = new Map<string, number>();
  for (const e of energyRows(run, phases))
    byPhase.set(e.phase, Math.max(byPhase.get(e.phase) ?? 0, e.seconds));
  return [...byPhase.values()].reduce((s, x) => s + x, 0);
}

/** Per-component energy of one run; `basis` picks net or gross. */
export function componentEnergy(
  run: RunRecord,
  basis: "net" | "gross",
  phases: readonly string[] = ENERGY_PHASES,
): { seconds: number; components: Partial<Record<Component, ComponentEnergy>> } {
  const seconds = phaseSeconds(run, phases);
  const components: Partial<Record<Component, ComponentEnergy>> = {};
  for (const component of ALL_COMPONENTS) {
    const rows = energyRows(run, phases).filter((e) => e.component === component && e.grossJ !== null);
    if (!rows.length) continue;
    const gross = rows.reduce((s, e) => s + (e.grossJ ?? 0), 0);
    // The scale of the rows' figures: a net that cancels to within rounding of it is 0 (a constant
    // model's gross − baseline), not 1e-18 kJ.
    const scale = rows.reduce((s, e) => s + Math.abs(e.grossJ ?? 0), 0);
    const value = withoutResidue(
      basis === "net" ? rows.reduce((s, e) => s + (e.netJ ?? 0), 0) : gross,
      scale,
    );
    // Bounds (issue 12): each row's low/high on the same basis, its value where it has none.
    const bound = (e: EnergyRecord, side: "low" | "high") => {
      const v = basis === "net" ? e.netJ : e.grossJ;
      const b =
        basis === "net"
          ? side === "low"
            ? e.netLowJ
            : e.netHighJ
          : side === "low"
            ? e.grossLowJ
            : e.grossHighJ;
      return b ?? v ?? 0;
    };
    const low = withoutResidue(
      rows.reduce((s, e) => s + Math.min(bound(e, "low"), bound(e, "high")), 0),
      scale,
    );
    const high = withoutResidue(
      rows.reduce((s, e) => s + Math.max(bound(e, "low"), bound(e, "high")), 0),
      scale,
    );
    components[component] = {
      lowKJ: Math.min(low, value) / 1000,
      highKJ: Math.max(high, value) / 1000,
      kJ: value / 1000,
      grossKJ: gross / 1000,
      meanPowerW: seconds > 0 ? gross / seconds : 0,
      provenance: weakest(rows.map((e) => e.provenance)) as Provenance,
      shared: rows.some((e) => e.shared === true),
    };
  }
  return { seconds, components };
}

/**
 * Chooses what the statistics compare, suite-wide: the sum of the components measured in every
 * completed run, or — when no component is measured in all of them — everything, estimates
 * included (then labelled estimated). Net of the baseline unless some run has no baseline.
 */
export function chooseMetric(
  runs: RunRecord[],
  phases: readonly string[] = ENERGY_PHASES,
): EnergyMetric | null {
  if (!runs.length) return null;
  const basis = runs.every((r) => hasNet(r, phases)) ? "net" : "gross";
  const per = runs.map((r) => componentEnergy(r, basis, phases).components);
  const present = SUMMED_COMPONENTS.filter((c) => per.some((p) => p[c]));
  const measured = present.filter((c) => per.every((p) => p[c] && p[c].provenance !== "estimated"));
  const kind = measured.length ? "measured" : "total";
  const components = kind === "measured" ? measured : present;
  const provenance =
    weakest(per.flatMap((p) => components.flatMap((c) => (p[c] ? [p[c].provenance] : [])))) ?? "estimated";
  const parts = components.length ? components.join(" + ") : "no component";
  return {
    kind,
    components,
    basis,
    provenance,
    label: `${parts} (${basis}${kind === "total" ? ", estimates included" : ""})`,
  };
}

/** The phase whose energy is divided per sample and per epoch (training only, not the test pass). */
export const TRAIN_PHASE = "train";

/**
 * The train phase's energy under the suite's metric (its components and basis), kJ, with the
 * weakest provenance of what was summed; the training samples processed (Σ epochs' train
 * samples) and the epochs run.
 */
export function trainEnergy(
  run: RunRecord,
  metric: EnergyMetric,
): { kJ: number; provenance: Provenance | null; samples: number; epochs: number } {
  const { components } = componentEnergy(run, metric.basis, [TRAIN_PHASE]);
  const parts = metric.components.flatMap((c) => (components[c] ? [components[c]] : []));
  return {
    kJ: parts.reduce((s, c) => s + c.kJ, 0),
    provenance: weakest(parts.map((c) => c.provenance)),
    samples: run.epochs.reduce((s, e) => s + (Number.isFinite(e.train.samples) ? e.train.samples : 0), 0),
    epochs: run.epochs.length,
  };
}

/**
 * Energy to accuracy, kJ: the train energy up to and including the first epoch whose validation
 * accuracy reaches `target`. The store keeps energy per phase, not per epoch, so the train energy
 * is apportioned by epoch time (Σ seconds of epochs 1..k / Σ seconds of all epochs); null if no
 * epoch reaches the target.
 */
export function energyToAccuracy(run: RunRecord, trainKJ: number, target: number): number | null {
  const total = run.epochs.reduce((s, e) => s + e.seconds, 0);
  let upTo = 0;
  for (const e of run.epochs) {
    upTo += e.seconds;
    if (e.valid.accuracy >= target) return total > 0 ? (trainKJ * upTo) / total : trainKJ;
  }
  return null;
}

/** One run's energy figures under the suite's metric. */
export function runEnergy(
  run: RunRecord,
  metric: EnergyMetric,
  phases: readonly string[] = ENERGY_PHASES,
): RunEnergy {
  const { seconds, components } = componentEnergy(run, metric.basis, phases);
  const summed = SUMMED_COMPONENTS.flatMap((c) => (components[c] ? [components[c]] : []));
  const measured = summed.filter((c) => c.provenance !== "estimated");
  const inMetric = metric.components.flatMap((c) => (components[c] ? [components[c]] : []));
  const metricGrossKJ = inMetric.reduce((s, c) => s + c.grossKJ, 0);
  const train = trainEnergy(run, metric);
  return {
    runId: run.id,
    configId: run.configId,
    replicate: run.replicate,
    block: deviceBlock(run.env),
    overlapped: run.env?.overlapped === true,
    seconds,
    trainSeconds: run.seconds,
    components,
    measuredKJ: measured.length ? measured.reduce((s, c) => s + c.kJ, 0) : null,
    measuredProvenance: weakest(measured.map((c) => c.provenance)),
    totalKJ: summed.reduce((s, c) => s + c.kJ, 0),
    totalLowKJ: summed.reduce((s, c) => s + c.lowKJ, 0),
    totalHighKJ: summed.reduce((s, c) => s + c.highKJ, 0),
    totalProvenance: weakest(summed.map((c) => c.provenance)) ?? "estimated",
    metricKJ: inMetric.reduce((s, c) => s + c.kJ, 0),
    metricGrossKJ,
    metricMeanPowerW: seconds > 0 ? (metricGrossKJ * 1000) / seconds : 0,
    trainKJ: train.kJ,
    trainProvenance: train.provenance,
    trainSamples: train.samples,
    epochCount: train.epochs,
  };
}

/**
 * The run's GPU power over its idle-baseline phase (W, gross), from that phase's GPU component
 * row: the power its own GPU draws doing nothing, which differs from card to card. Null where the
 * run has no baseline row (baseline disabled, or a store without one).
 */
export function idleGpuPowerW(run: RunRecord): number | null {
  const row = run.energy.find(
    (e) => e.phase === DEFAULT_BASELINE_PHASE && e.component === "gpu" && e.channel === null,
  );
  if (!row) return null;
  if (row.meanPowerW !== null && Number.isFinite(row.meanPowerW)) return row.meanPowerW;
  return row.grossJ !== null && Number.isFinite(row.grossJ) && row.seconds > 0
    ? row.grossJ / row.seconds
    : null;
}
