// Text rendering of an energy report: every figure with its provenance and source.
import { describeGpuSelection, type GpuSelection } from "./gpu-selection.js";
import type { ChannelEnergy, EnergyFigure, EnergyReport } from "./ledger.js";

const joules = (j: number | null) =>
  j == null ? "—" : Math.abs(j) >= 1e4 ? `${(j / 1e3).toFixed(2)} kJ` : `${j.toFixed(2)} J`;

/** "x J (y–z)" where a range is known and not a single point. */
export function withRange(j: number | null, low?: number | null, high?: number | null): string {
  if (j == null || low == null || high == null || (low === j && high === j)) return joules(j);
  return `${joules(j)} (${joules(low)}–${joules(high)})`;
}

function figure(f: EnergyFigure): string {
  return `${withRange(f.joules, f.low, f.high)} [${f.provenance}]${f.flag ? ` (${f.flag})` : ""}`;
}

/** " [used]", " [idle, not in total]" … for a GPU channel of a measurement that decided them. */
function gpuMark(c: ChannelEnergy, gpus?: GpuSelection): string {
  const g = gpus?.gpus.find((e) => e.channel === c.channel);
  if (!g) return "";
  return ` [${g.used ? "used" : "idle"}${g.inTotal ? "" : ", not in total"}]`;
}

function channelLine(c: ChannelEnergy, gpus?: GpuSelection): string[] {
  const mean = c.meanPowerW == null ? "" : `, mean ${c.meanPowerW.toFixed(1)} W`;
  const lines = [
    `    ${c.source}${c.crossCheck ? " (cross-check)" : ""}${gpuMark(c, gpus)}: gross ${figure(c.gross)}${mean}`,
  ];
  if (c.net) lines.push(`      net of idle baseline: ${figure(c.net)}`);
  if (c.integrated) {
    const d =
      c.disagreement == null ? "" : `, differs from the counter by ${(100 * c.disagreement).toFixed(2)} %`;
    lines.push(`      integrated power: ${figure(c.integrated)}${d}`);
  }
  return lines;
}

export function formatEnergyReport(r: EnergyReport): string {
  const out: string[] = [];
  if (r.gpus) out.push(describeGpuSelection(r.gpus));
  for (const p of r.phases) {
    out.push(`phase "${p.name}" (${p.durationS.toFixed(3)} s):`);
    for (const c of p.channels) out.push(...channelLine(c, r.gpus));
    for (const t of p.totals)
      out.push(
        `  total ${t.component}: ${withRange(t.gross, t.low, t.high)}${t.net != null ? `, net ${withRange(t.net, t.netLow, t.netHigh)}` : ""} [${t.provenance}]${t.flag ? ` (${t.flag})` : ""}`,
      );
  }
  if (r.baselinePhase) out.push(`net = gross − (mean power in "${r.baselinePhase}") × phase duration`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push(
    "provenance: counter = hardware energy counter delta; sampled = measured power, integrated; estimated = model",
    "ranges (low–high): a model's stated uncertainty, or a counter's disagreement with its power integral",
  );
  return out.join("\n");
}
