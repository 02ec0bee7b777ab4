// `halfwatt carbon --watts W... --hours H --intensity G [--json]`: energy and carbon footprint,
// the dissertation's Table 3 (equations 1–3).
import type { Command } from "commander";
import { formatTable } from "../../report/format.js";
import { type CarbonResult, carbonFootprint } from "../../stats/carbon.js";
import { listOption, nonNegativeOption } from "../options.js";

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

export function register(program: Command): void {
  program
    .command("carbon")
    .description("energy (kWh = W·h/1000) and carbon footprint (gCO2e = kWh × intensity) of runs")
    .requiredOption(
      "--watts <w...>",
      "average power draw in watts; several values (or a comma-separated list) for several runs",
      listOption("--watts", nonNegativeOption("--watts")),
    )
    .requiredOption("--hours <h>", "duration of each run in hours", nonNegativeOption("--hours"))
    .requiredOption("--intensity <g>", "grid carbon intensity in gCO2e/kWh", nonNegativeOption("--intensity"))
    .option("--json", "print JSON")
    .action((opts: { watts: number[]; hours: number; intensity: number; json?: boolean }) => {
      const result = carbonFootprint(opts.watts, opts.hours, opts.intensity);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ ...result, note: UNIT_NOTE }, null, 2)}\n`
          : `${formatCarbon(result)}\n`,
      );
    });
}
