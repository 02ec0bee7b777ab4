// The carbon table in the dissertation's four steps (Table 3): kW = W/1000, kWh = kW × hours,
// the grid's intensity, gCO2e = kWh × intensity — here × PUE too (facility overhead; 1.0 = none).
// "Its way" takes the mean power over the run's energy phases × the trainer's hours, as the
// dissertation multiplied watts read during training by 2 h; beside it, the measured energy
// itself (gross, and net of the idle baseline), turned into kWh and gCO2e with the same factors.
import type { SuiteResults } from "../experiment/types.js";
import { mean } from "../stats/index.js";
import type { CarbonRow, ConfigurationSummary, RunEnergy } from "./types.js";

const J_PER_KWH = 3.6e6;

/** Intensity, PUE and their source for a configuration's runs (or the spec's constant). */
function carbonFactors(
  results: SuiteResults,
  runIds: number[],
): { intensity: number | null; pue: number | null; source: string | null } {
  const runs = results.runs.filter((r) => runIds.includes(r.id));
  const withCarbon = runs.flatMap((r) => (r.carbon ? [r.carbon] : []));
  if (withCarbon.length && withCarbon.length === runs.length)
    return {
      intensity: mean(withCarbon.map((c) => c.intensity)),
      pue: mean(withCarbon.map((c) => c.pue)),
      source: [...new Set(withCarbon.map((c) => c.source))].join("; "),
    };
  const spec = results.suite.spec.carbon;
  if (spec?.source.kind === "constant")
    return { intensity: spec.source.intensity, pue: spec.pue, source: "constant (suite specification)" };
  return { intensity: null, pue: spec?.pue ?? null, source: null };
}

export function carbonRows(
  results: SuiteResults,
  configurations: ConfigurationSummary[],
  runs: RunEnergy[],
): CarbonRow[] {
  return configurations.flatMap((c) => {
    const energy = runs.filter((e) => e.configId === c.id);
    if (!energy.length) return [];
    const watts = mean(energy.map((e) => e.metricMeanPowerW));
    const hours = mean(energy.map((e) => (e.trainSeconds ?? e.seconds) / 3600));
    const kW = watts / 1000;
    const kWh = kW * hours;
    const grossKWh = mean(energy.map((e) => (e.metricGrossKJ * 1000) / J_PER_KWH));
    const netKWh = mean(energy.map((e) => (e.metricKJ * 1000) / J_PER_KWH));
    const { intensity, pue, source } = carbonFactors(results, c.runIds);
    const footprint = (x: number) => (intensity === null ? null : x * (pue ?? 1) * intensity);
    return [
      {
        configId: c.id,
        watts,
        kW,
        hours,
        kWh,
        intensity,
        pue,
        gCO2e: footprint(kWh),
        measuredGrossKWh: grossKWh,
        measuredGrossGCO2e: footprint(grossKWh),
        measuredNetKWh: netKWh,
        measuredNetGCO2e: footprint(netKWh),
        source,
      },
    ];
  });
}
