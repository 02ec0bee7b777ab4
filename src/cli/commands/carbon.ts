// `halfwatt carbon --watts W... --hours H --intensity G [--json]`: energy and carbon footprint,
// the dissertation's Table 3 (equations 1–3).
import { type Command, InvalidArgumentError } from "commander";
import { type CarbonResult, carbonFootprint } from "../../stats/carbon.js";
import { StatsInputError } from "../../stats/errors.js";
import { formatTable } from "./stats.js";

export const UNIT_NOTE =
  'Note: the dissertation labels the footprint "gCO2e/kWh"; kWh × gCO2e/kWh is a mass, in gCO2e.';

export function formatCarbon(r: CarbonResult): string {
  return [
    formatTable(
      ["Power (W)", "Hours", "kW", "kWh", "Intensity (gCO2e/kWh)", "Footprint (gCO2e)"],
      r.rows.map((row) => [row.watts, row.hours, row.watts / 1000, row.kwh, r.intensity, row.gco2e]),
    ),
    UNIT_NOTE,
  ].join("\n");
}

function parseNonNegative(value: string): number {
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || x < 0)
    throw new InvalidArgumentError(`not a non-negative number: ${value}`);
  return x;
}

export function register(program: Command): void {
  program
    .command("carbon")
    .description("energy (kWh = W·h/1000) and carbon footprint (gCO2e = kWh × intensity) of runs")
    .requiredOption("--watts <w...>", "average power draw in watts; several values for several runs")
    .requiredOption("--hours <h>", "duration of each run in hours", (v: string) => parseNonNegative(v))
    .requiredOption("--intensity <g>", "grid carbon intensity in gCO2e/kWh", (v: string) =>
      parseNonNegative(v),
    )
    .option("--json", "print JSON")
    .action((opts: { watts: string[]; hours: number; intensity: number; json?: boolean }) => {
      const watts = opts.watts.map((w) => {
        const x = Number(w);
        if (w.trim() === "" || !Number.isFinite(x)) throw new StatsInputError(`--watts: not a number: ${w}`);
        return x;
      });
      const result = carbonFootprint(watts, opts.hours, opts.intensity);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ ...result, note: UNIT_NOTE }, null, 2)}\n`
          : `${formatCarbon(result)}\n`,
      );
    });
}
