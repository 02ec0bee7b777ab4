// The report's "Measured phases" section: each run's idle-baseline watts (outliers flagged), the
// settle wait before it, who paid the dataset's upload, the warm-up, the planned train length,
// and the two checks that compilation and warm-up stayed out of `train` (src/experiment/
// phase-checks.ts). Runs from stores older than migration 6 have no measurement: the section then
// says so instead of a table.
import { MEASUREMENT_RULES } from "../experiment/measurement-rules.js";
import { type PlanCheck, planCheck, replicateChecks, trainPhaseSeconds } from "../experiment/phase-checks.js";
import type { RunMeasurement, RunRecord, SuiteResults } from "../experiment/types.js";
import type { Component } from "../telemetry/types.js";
import type { Block, Section } from "./document.js";
import { sig } from "./numbers.js";

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Outliers by the modified z-score (Iglewicz & Hoaglin 1993): z = 0.6745 (x − median) / MAD,
 * flagged past `limit` (3.5). Where the MAD is 0 (most values equal), the mean absolute deviation
 * stands in, z = (x − median) / (1.253314 · meanAD); where that is 0 too, nothing is flagged.
 * Fewer than 3 values: nothing is flagged (no spread to judge by). Nor is a value within
 * `minDeviation` of the median (units of the values): with baselines 0.4 W apart, z alone flagged
 * 80.9 W among 79.7–80.7 W in the fashion study on the H200.
 */
export function outliers(values: readonly number[], limit: number, minDeviation = 0): boolean[] {
  if (values.length < 3) return values.map(() => false);
  const med = median(values);
  const dev = values.map((x) => Math.abs(x - med));
  const mad = median(dev);
  const meanAd = dev.reduce((a, b) => a + b, 0) / dev.length;
  const scale = mad > 0 ? mad / 0.6745 : meanAd * 1.253314;
  if (!(scale > 0)) return values.map(() => false);
  return dev.map((d) => d / scale > limit && d >= minDeviation);
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function settleCell(r: RunRecord): string {
  const s = r.measurement?.settle;
  if (s === undefined) return "—";
  if (s === null) return "no power reading";
  return s.timedOut ? `not settled (${sig(s.seconds, 3)} s)` : `settled in ${sig(s.seconds, 3)} s`;
}

function uploadCell(r: RunRecord): string {
  const u = r.measurement?.upload;
  if (!u) return "—";
  if (u.paidBy === "this-run") return `this run: ${sig(u.seconds, 3)} s, ${sig(u.bytes / 2 ** 20, 3)} MiB`;
  return u.paidBy === "earlier-run"
    ? "an earlier run (resident)"
    : `per run (streamed), ${sig(u.seconds, 3)} s`;
}

/** The run's plan check as stored, or for stores older than it, from its train phase. */
function planOf(r: RunRecord): PlanCheck | null {
  const m = r.measurement;
  if (!m) return null;
  return (
    m.planCheck ??
    planCheck(
      m.plannedTrainSeconds,
      trainPhaseSeconds(r.phases),
      MEASUREMENT_RULES.planFactor,
      MEASUREMENT_RULES.planMinSeconds,
    )
  );
}

/** The planned train seconds, and where the run was checked, the phase as a multiple of the plan. */
function planCell(m: RunMeasurement, c: PlanCheck | null): string {
  const plan = `≈ ${sig(m.plannedTrainSeconds, 3)} s`;
  if (!c) return plan;
  return `${plan} (phase ${sig(c.ratio, 3)}×${c.ok ? "" : ", OFF"})`;
}

export function measuredPhasesSection(results: SuiteResults): Section | null {
  const runs = results.runs.filter((r) => r.status === "completed");
  if (!runs.length) return null;
  const measured = runs.filter((r) => r.measurement);
  if (!measured.length)
    return {
      title: "Measured phases",
      blocks: [
        {
          kind: "paragraph",
          text: "This store predates the per-run measurement record (baseline watts, warm-up, phase checks).",
        },
      ],
    };
  const rules = MEASUREMENT_RULES;
  const components = [
    ...new Set(measured.flatMap((r) => Object.keys(r.measurement?.baselineW ?? {}) as Component[])),
  ];
  const flags = new Map<Component, boolean[]>(
    components.map((c) => {
      const vals = measured.map((r) => r.measurement?.baselineW[c]);
      const present = vals.filter((v): v is number => v !== undefined);
      const flagged = outliers(present, rules.baselineOutlierZ, rules.baselineOutlierMinW);
      let k = 0;
      return [c, vals.map((v) => (v === undefined ? false : flagged[k++]))];
    }),
  );
  const plans = measured.map(planOf);
  const rows = measured.map((r, i) => {
    const m = r.measurement;
    const e = m?.epochCheck;
    return [
      String(r.id),
      r.configId,
      String(r.replicate),
      ...components.map((c) => {
        const w = m?.baselineW[c];
        if (w === undefined) return "—";
        return flags.get(c)?.[i] ? `${sig(w, 4)} (outlier)` : sig(w, 4);
      }),
      settleCell(r),
      uploadCell(r),
      m
        ? `${m.warmupRamp?.dispatches ? `clock ramp ${sig(m.warmupRamp.seconds, 3)} s, then ` : ""}${m.warmup.steps} steps, ${sig(m.warmup.seconds, 3)} s${m.ramp?.dispatches ? `; clock ramp ${sig(m.ramp.seconds, 3)} s` : ""}`
        : "—",
      m && Number.isFinite(m.plannedTrainSeconds) ? planCell(m, plans[i]) : "—",
      e ? `${pct(e.deviation)} ${e.ok ? "ok" : "PAST"}` : "—",
    ];
  });
  const nOut = [...flags.values()].reduce((n, f) => n + f.filter(Boolean).length, 0);
  const checks = replicateChecks(runs, rules.phaseTolerance);
  const epochFails = measured.filter((r) => r.measurement?.epochCheck && !r.measurement.epochCheck.ok).length;
  const planned = plans.filter((c) => c !== null);
  const planFails = planned.filter((c) => !c.ok).length;
  const blocks: Block[] = [
    {
      kind: "paragraph",
      text: `Before the first baseline every configuration was warmed up (the GPU in the power state later baselines find); before each baseline the GPU's power had to settle (the last ${rules.settle.windowSeconds} s within ${rules.settle.withinWatts} W, slope ≤ ${rules.settle.maxSlopeWPerS} W/s, at most ${rules.settle.timeoutSeconds} s). Each run's setup holds the dataset's upload when it paid it and its warm-up (pipelines compiled, uncounted steps on a throwaway model, timed until steady), where clock ramps are listed, a busy load before the warm-up's timed steps (so the plan is timed at working clocks) and again right before train (so it starts at them); train holds the epochs alone. Checks: epoch 1 within ${pct(rules.phaseTolerance)} of the median epoch (${epochFails} of ${measured.length} runs past it); the first replicate of each configuration within ${pct(rules.phaseTolerance)} of the others in train seconds per sample. Baseline watts are gross mean power over the idle window; ${nOut ? `${nOut} flagged as outliers` : "none is an outlier"} (modified z-score > ${rules.baselineOutlierZ} and at least ${rules.baselineOutlierMinW} W from the median). Planned train seconds are estimates (warm-up s per step × steps)${planned.length ? `, checked against the train phase where either lasts ${rules.planMinSeconds} s or more: within a factor of ${rules.planFactor} in ${planned.length - planFails} of ${planned.length} runs (the phase also holds each epoch's validation, so it is expected at or a little above the plan)` : ""}.`,
    },
    {
      kind: "table",
      caption:
        "Per run: baseline watts, settle wait, upload, warm-up, planned train length, epoch 1 vs the median epoch",
      headers: [
        "Run",
        "Configuration",
        "Replicate",
        ...components.map((c) => `baseline ${c} (W)`),
        "settle",
        "upload",
        "warm-up",
        "planned train",
        "epoch 1 vs median",
      ],
      rows,
    },
  ];
  if (checks.length)
    blocks.push({
      kind: "table",
      caption: "First replicate vs the others: train-phase seconds per sample",
      headers: [
        "Configuration",
        "first replicate (µs/sample)",
        "others, median (µs/sample)",
        "difference",
        "check",
      ],
      rows: checks.map((c) => [
        c.configId,
        sig(1e6 * c.firstSPerSample, 4),
        sig(1e6 * c.othersSPerSample, 4),
        pct(c.deviation),
        c.ok ? "ok" : "PAST",
      ]),
    });
  return { title: "Measured phases", blocks };
}
