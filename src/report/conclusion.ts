// The plain-language conclusion, generated from the numbers: which configuration used least
// energy, by how much against each other one, and how sure (Holm-adjusted Welch p, the CI), with
// the caveats a reader needs (estimates, short runs, few replicates, an unfinished suite).
import { DIVERGENCE_RULE } from "../experiment/divergence.js";
import { SHARED_PROVENANCE } from "../experiment/provenance.js";
import { interval, percent, pValue, sig } from "./numbers.js";
import { stepDifferenceCaveat } from "./step-kernels.js";
import type { ReportData } from "./types.js";

/** Percentage points of a fraction difference (0.004 → "0.4"). */
const points = (x: number) => sig(x * 100, 3);

/**
 * Does mixed precision keep the accuracy: one sentence per mixed configuration, from the TOST on
 * test accuracy against its f32 twin (equivalent, not shown equivalent, or why not testable).
 */
export function equivalenceConclusion(data: ReportData): string[] {
  const eq = data.equivalence;
  if (!eq?.rows.length) return [];
  const margin = `±${points(eq.margin)} percentage point${eq.margin === 0.01 ? "" : "s"}`;
  return eq.rows.map((r) => {
    if (r.f32 === null)
      return `${r.mixed} has no f32 twin (same batch and widths): its accuracy is not tested.`;
    const diff = r.difference === null ? "" : `test accuracy ${points(r.difference)} points against ${r.f32}`;
    if (r.equivalent === null || r.p === null || r.ci90 === null)
      return `${r.mixed}: ${diff ? `${diff}; ` : ""}equivalence within ${margin} not testable (${r.note ?? "too few runs"}).`;
    const ci = `90 % CI [${points(r.ci90[0])}, ${points(r.ci90[1])}] points, TOST p = ${pValue(r.p)}`;
    return r.equivalent
      ? `${r.mixed} keeps ${r.f32}'s accuracy: ${diff}, equivalent within ${margin} (${ci}).`
      : `${r.mixed} is not shown to keep ${r.f32}'s accuracy within ${margin}: ${diff} (${ci}); more runs, or a real loss.`;
  });
}

/** Runs shorter than this (energy phases, s) are flagged: sensor update periods dominate. */
export const SHORT_RUN_SECONDS = 60;
/** Configurations with fewer completed runs than this are flagged. */
export const MIN_REPLICATES = 3;

export function conclude(data: ReportData): { conclusion: string[]; caveats: string[] } {
  const conclusion: string[] = [];
  const caveats: string[] = [];
  const configs = data.configurations.filter((c) => c.energy.metric);
  const metric = data.metric;
  const diverged = data.excluded.filter((r) => r.status === "diverged");
  if (!metric || !configs.length) {
    conclusion.push(
      diverged.length
        ? `No run trained to completion (${diverged.length} diverged), so there is nothing to compare.`
        : "No run completed, so there is nothing to compare yet.",
    );
  } else {
    const ranked = [...configs].sort((a, b) => (a.energy.metric?.mean ?? 0) - (b.energy.metric?.mean ?? 0));
    const best = ranked[0];
    const bm = best.energy.metric;
    const ciText = bm?.ci95 ? `95 % CI ${interval(bm.ci95)} kJ` : "no CI: a single run";
    if (ranked.length === 1) {
      conclusion.push(
        `Only one configuration completed (${best.id}): ${sig(bm?.mean)} kJ per run (${ciText}), ${metric.label}. There is nothing to compare it with.`,
      );
    } else {
      conclusion.push(
        `${best.id} used the least energy: ${sig(bm?.mean)} kJ per run (${ciText}; ${metric.label}, ${best.completed} run${best.completed === 1 ? "" : "s"}).`,
      );
      const nonPositive = ranked.filter((c) => (c.energy.metric?.mean ?? 0) <= 0).map((c) => c.id);
      if (nonPositive.length)
        conclusion.push(
          `Net energy at or below zero for ${nonPositive.join(", ")}: what these runs added above the idle baseline is within the measurement's noise, so no percentage is given for them; run longer (more epochs or data) to compare them.`,
        );
      for (const other of ranked.slice(1)) {
        const om = other.energy.metric?.mean ?? 0;
        if (nonPositive.length && (om <= 0 || (bm?.mean ?? 0) <= 0)) {
          const pair0 = data.statistics?.pairwise.find(
            (p) => (p.a === best.id && p.b === other.id) || (p.a === other.id && p.b === best.id),
          );
          conclusion.push(
            `Against ${other.id} (${sig(om)} kJ): ${sig(om - (bm?.mean ?? 0))} kJ per run more${pair0?.pHolm != null ? ` (Holm-adjusted p = ${pValue(pair0.pHolm)})` : ""}.`,
          );
          continue;
        }
        const saving = om !== 0 ? (om - (bm?.mean ?? 0)) / om : 0;
        const pair = data.statistics?.pairwise.find(
          (p) => (p.a === best.id && p.b === other.id) || (p.a === other.id && p.b === best.id),
        );
        const how =
          pair?.pHolm === null || pair?.pHolm === undefined
            ? `not testable (${pair?.note ?? "too few runs"})`
            : pair.pHolm <= 0.05
              ? `a real difference at the 5 % level (Welch t-test, Holm-adjusted p = ${pValue(pair.pHolm)}, Hedges' g = ${sig(pair.hedgesG, 3)})`
              : `not distinguishable from noise with these runs (Holm-adjusted p = ${pValue(pair.pHolm)})`;
        conclusion.push(
          `Against ${other.id} (${sig(om)} kJ): ${percent(saving)} less energy (${sig(om - (bm?.mean ?? 0))} kJ per run), ${how}.`,
        );
      }
      const anova = data.statistics?.anova.result;
      const blocked = data.statistics?.blocked?.result;
      // With runs on several devices the blocked test is the one to read: a device's constant
      // offset is error to the one-way ANOVA but is taken out by the block.
      if (blocked)
        conclusion.push(
          `Across all configurations, with the device as a blocking factor (${blocked.blocks.length} devices), the ANOVA of configuration + device gives F(${blocked.configuration.df}, ${blocked.residual.df}) = ${sig(blocked.configuration.f)}, p = ${pValue(blocked.configuration.p)} (partial η² = ${sig(blocked.partialEtaSquared, 3)}); this p, not the one-way ANOVA's${anova ? ` (F = ${sig(anova.f)}, p = ${pValue(anova.p)})` : ""}, is the one for the configuration effect, since the runs ran on different devices (device effect p = ${pValue(blocked.block.p)}).`,
        );
      else if (anova)
        conclusion.push(
          `Across all configurations, one-way ANOVA gives F = ${sig(anova.f)}, p = ${pValue(anova.p)} (η² = ${sig(anova.etaSquared, 3)}).`,
        );
    }
    conclusion.push(...equivalenceConclusion(data));
    const power = data.statistics?.power.result;
    if (power)
      conclusion.push(
        `To detect a 5 % energy difference (${sig(power.delta)} kJ) with 80 % power, ${power.n} runs per configuration are needed (pooled SD ${sig(power.pooledSd)} kJ).`,
      );
  }

  if (metric?.kind === "total" || metric?.provenance === "estimated")
    caveats.push(
      `The compared energy (${metric.label}) includes estimated components (models, not measurements): differences between configurations may be partly the model's.`,
    );
  const estimated = [
    ...new Set(
      data.runs.flatMap((r) =>
        Object.entries(r.components)
          .filter(([, c]) => c?.provenance === "estimated")
          .map(([k]) => k),
      ),
    ),
  ];
  if (estimated.length && metric?.kind === "measured")
    caveats.push(
      `Estimated components (${estimated.join(", ")}) are left out of the compared energy; they appear only in "total with estimates".`,
    );
  const overlapped = data.runs.filter((r) => r.overlapped).length;
  if (overlapped)
    caveats.push(
      `${overlapped} runs overlapped with others on their host: their CPU and RAM energy is apportioned among the runs in flight (${SHARED_PROVENANCE}).`,
    );
  if (data.statistics?.blocked?.result)
    caveats.push(
      `The runs ran on ${data.blocks.length} devices: the per-configuration means, their intervals and the pairwise Welch t-tests do not take the device into account (a device offset widens them); the blocked ANOVA does.`,
    );
  if (data.statistics?.blocked && !data.statistics.blocked.result)
    caveats.push(
      `The runs ran on ${data.blocks.length} devices but the blocked ANOVA could not be computed (${data.statistics.blocked.note}); the one-way ANOVA counts device differences as noise.`,
    );
  if (metric?.basis === "gross")
    caveats.push("Some runs have no idle baseline, so energies are gross (idle power included), not net.");
  if (data.configurations.some((c) => (c.energy.metric?.mean ?? 0) <= 0))
    caveats.push(
      "Some configurations' mean net energy is at or below zero: their work is too short to stand out from the idle baseline's variation.",
    );
  const short = data.runs.filter((r) => r.seconds < SHORT_RUN_SECONDS);
  if (short.length)
    caveats.push(
      `${short.length} of ${data.runs.length} runs lasted under ${SHORT_RUN_SECONDS} s of measured phases: sensor update periods (NVML averages power over about 1 s) and start-up weigh on their energy.`,
    );
  const few = data.configurations.filter((c) => c.completed < MIN_REPLICATES);
  if (few.length)
    caveats.push(
      `Fewer than ${MIN_REPLICATES} completed runs for ${few.map((c) => `${c.id} (${c.completed})`).join(", ")}: intervals are wide or missing and normality cannot be checked.`,
    );
  if (diverged.length)
    caveats.push(
      `${diverged.length} run(s) diverged (${[...new Set(diverged.map((r) => r.configId))].join(", ")}): stopped early by the rule "${DIVERGENCE_RULE}", kept in the store and listed below, left out of every figure and test above.`,
    );
  for (const d of data.stepKernels.differences) caveats.push(stepDifferenceCaveat(d));
  if (!data.finished)
    caveats.push(
      `The suite is not finished: ${data.completed} of ${data.planned} planned runs completed${data.excluded.length ? `, ${data.excluded.length} ended otherwise (listed below)` : ""}.`,
    );
  return { conclusion, caveats };
}
