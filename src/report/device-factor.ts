// The report's parts about the device factor, shown only when a suite's runs ran on more than one
// device (or overlapped on a host): the device as the statistics' blocking factor (the RCBD ANOVA,
// configuration + device, beside the one-way one), which configurations ran where, each device's
// idle GPU power, and the note that overlapping runs share the host's CPU and RAM.
//
// Words (docs/experiment.md, glossary): the report's "device factor" is the factor src/stats calls
// the RCBD's "block"; a plan's "block" (a replicate) is another thing, and the document's pieces
// are "parts". ReportData.blocks (src/report/types.ts) still holds the device factor's levels.
import { SHARED_PROVENANCE } from "../experiment/provenance.js";
import { type DocumentPart, paragraph as p } from "./document-parts.js";
import { pValue, sig } from "./numbers.js";
import type { BlockedAnovaSummary, ReportData, ReportStatistics } from "./types.js";

/** More than one device: the statistics take the device as a factor. */
export function hasDeviceFactor(data: ReportData): boolean {
  return data.blocks.length > 1;
}

/** What the blocked ANOVA's relative efficiency R says, in words. */
export function efficiencyVerdict(r: number): string {
  return r > 1
    ? `blocking helped: a completely randomised design would need about ${sig(r, 3)} times as many runs for the same precision`
    : `blocking did not help: the device offsets are smaller than the noise, and the blocks cost degrees of freedom (an unblocked design would need ${sig(r, 3)} times the runs)`;
}

/** A row of the ANOVA table for one effect. */
const effectRow = (source: string, e: BlockedAnovaSummary["block"]): string[] => [
  source,
  sig(e.ss),
  String(e.df),
  sig(e.ms),
  sig(e.f),
  pValue(e.p),
];

/** The statistics section's RCBD ANOVA with the device factor, its reading, and the runs per device. */
export function deviceFactorStatistics(data: ReportData, s: ReportStatistics): DocumentPart[] {
  if (!s.blocked) return [];
  const out: DocumentPart[] = [];
  const b = s.blocked.result;
  if (!b) {
    out.push(
      p(`Blocked ANOVA (configuration + device) not computed: ${s.blocked.note ?? "not applicable"}.`),
    );
  } else {
    out.push({
      kind: "table",
      caption: `Blocked ANOVA: randomised complete block design, ${s.metric.label} ~ configuration + device (no interaction; ${b.blocks.length} devices; type II sums of squares, kJ²)`,
      headers: ["Source", "SS", "df", "MS", "F", "p"],
      rows: [
        effectRow("Configuration", b.configuration),
        effectRow("Device (block)", b.block),
        ["Residual", sig(b.residual.ss), String(b.residual.df), sig(b.residual.ms), "", ""],
        ["Total", sig(b.total.ss), String(b.total.df), "", "", ""],
      ],
    });
    const oneWay = s.anova.result;
    out.push(
      p(
        `The device as a blocking factor: each device's constant offset is taken out of the error. Device effect F(${b.block.df}, ${b.residual.df}) = ${sig(b.block.f)}, p = ${pValue(b.block.p)}; configuration F(${b.configuration.df}, ${b.residual.df}) = ${sig(b.configuration.f)}, p = ${pValue(b.configuration.p)}, partial η² = ${sig(b.partialEtaSquared, 3)}${oneWay ? ` (one-way, ignoring the device: F = ${sig(oneWay.f)}, p = ${pValue(oneWay.p)})` : ""}. Relative efficiency of the blocked design against a completely randomised one: ${sig(b.relativeEfficiency, 3)} — ${efficiencyVerdict(b.relativeEfficiency)}. Sums of squares: ${b.note}.`,
      ),
    );
  }
  const configs = data.configurations.map((c) => c.id);
  out.push({
    kind: "table",
    caption: "Completed runs per device (block) and configuration",
    headers: ["Device", ...configs, "Runs"],
    rows: data.blocks.map((device) => [
      device.label,
      ...configs.map((id) => String(device.runs[id] ?? 0)),
      String(Object.values(device.runs).reduce((a, x) => a + x, 0)),
    ]),
  });
  return out;
}

/** The energy section's note on overlapping runs and the per-device idle baselines. */
export function deviceEnergyParts(data: ReportData): DocumentPart[] {
  const overlapped = data.runs.filter((r) => r.overlapped).length;
  if (!hasDeviceFactor(data) && !overlapped) return [];
  const out: DocumentPart[] = [];
  if (overlapped)
    out.push(
      p(
        `${overlapped} of ${data.runs.length} runs overlapped with other runs on their host. Each run's GPU energy is its own GPU's; the CPU and RAM (and a wall meter) serve every run in flight, so their energy in those runs is the host's apportioned by each run's share of the time (${SHARED_PROVENANCE}) and is never counted twice.`,
      ),
    );
  if (data.blocks.some((device) => device.idleGpuW))
    out.push({
      kind: "table",
      caption: "Idle GPU power per device (mean over the idle-baseline phase of its runs, W, gross)",
      headers: ["Device", "Runs with a baseline", "Mean idle GPU power (W)", "SD (W)", "Overlapped runs"],
      rows: data.blocks.map((device) => [
        device.label,
        String(device.idleGpuW?.n ?? 0),
        sig(device.idleGpuW?.mean),
        sig(device.idleGpuW?.sd),
        String(device.overlapped),
      ]),
    });
  return out;
}
