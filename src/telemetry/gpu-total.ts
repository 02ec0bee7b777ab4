// Applies a GPU selection (gpu-selection.ts decides it) to an energy report (ledger.ts builds it):
// the GPUs left out are marked and the totals recomputed without them. Its own module so that the
// selection's policy does not import the ledger, whose report only carries the selection's type:
// the two depend one way.
import type { GpuSelection } from "./gpu-selection.js";
import { componentTotals, type EnergyReport } from "./ledger.js";

/**
 * Marks the GPUs outside the selection `notInTotal` in every phase, recomputes the phases'
 * totals without them, and records the selection in `report.gpus`. A fallback to every GPU is
 * also a warning, since the total may then hold idle GPUs.
 */
export function applyGpuSelection(report: EnergyReport, selection: GpuSelection): void {
  const left = new Map(
    selection.gpus
      .filter((g) => !g.inTotal)
      .map((g) => {
        const state = g.used ? "used by the command" : "idle: no process of the command seen on it";
        return [g.channel, selection.rule === "explicit" ? `not among --gpus (${state})` : state];
      }),
  );
  for (const phase of report.phases) {
    for (const c of phase.channels) {
      const why = left.get(c.channel);
      if (why) c.notInTotal = why;
    }
    phase.totals = componentTotals(phase.channels);
  }
  report.gpus = selection;
  if (selection.rule === "all" && selection.detection && selection.gpus.length > 1)
    report.warnings.push(`gpu total: ${selection.reason}`);
  for (const g of selection.gpus)
    if (g.error) report.warnings.push(`GPU ${g.index}: process lists not read: ${g.error}`);
}
