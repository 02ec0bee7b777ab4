// The experiment report: buildReport turns SuiteResults into report.html (self-contained, inline
// SVG charts), report.md (same tables, charts as files) and ReportData (the numbers shown);
// writeReport puts them in a folder. Chart rendering is asynchronous (vega's SVG renderer), so
// both return promises.
//
// Each file is written to a temporary file beside it, then renamed over it: a full disk or a
// crash leaves the previous report (or none), never a truncated one, and an error names the file
// and says that `halfwatt report` rebuilds the report from the store.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HalfwattError } from "../errors.js";
import type { SuiteResults } from "../experiment/types.js";
import type { EpochResult } from "../model/trainer.js";
import { measuredPhasesSection } from "./baseline-power.js";
import {
  type Chart,
  curveChart,
  energyChart,
  energyPerSampleChart,
  powerChart,
  renderSvg,
  timelineChart,
} from "./charts.js";
import { collectReportData } from "./data.js";
import { buildDocument } from "./document.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import type { ReportData } from "./types.js";

export type { ReportData } from "./types.js";

export interface BuiltReport {
  html: string;
  markdown: string;
  data: ReportData;
  /** Chart name → SVG (writeReport writes them as charts/<name>.svg). */
  charts: Map<string, string>;
}

function charts(results: SuiteResults, data: ReportData): { list: Chart[]; timeline: Map<string, string> } {
  const list: Chart[] = [];
  const timeline = new Map<string, string>();
  if (data.configurations.some((c) => c.perSampleJ)) list.push(energyPerSampleChart(data));
  if (data.configurations.some((c) => Object.keys(c.energy).length))
    list.push(energyChart(data), powerChart(data));
  for (const c of data.configurations) {
    if (c.representativeRunId === null) continue;
    const run = results.runs.find((r) => r.id === c.representativeRunId);
    const samples = results.samples(c.representativeRunId);
    if (!run || !samples.length) continue;
    const chart = timelineChart(c, run.id, samples, run.phases);
    // Two configuration ids that differ only in characters a file name cannot hold stay apart.
    if (list.some((x) => x.name === chart.name)) chart.name = `${chart.name}-${run.id}`;
    timeline.set(c.id, chart.name);
    list.push(chart);
  }
  // Diverged runs' losses (NaN, or far above the rest) would only flatten the curves.
  const completed = results.runs.filter((r) => r.status === "completed" && r.diverged === undefined);
  const curve = (pick: (e: EpochResult) => number) =>
    completed.flatMap((r) =>
      r.epochs.map((e) => ({ configuration: r.configId, run: r.id, epoch: e.epoch, value: pick(e) })),
    );
  const loss = curve((e) => e.train.loss).filter((x) => Number.isFinite(x.value));
  const accuracy = curve((e) => e.valid.accuracy).filter((x) => Number.isFinite(x.value));
  const order = data.configurations.map((c) => c.id);
  if (loss.length) list.push(curveChart("train-loss", "Training loss per epoch", "train loss", loss, order));
  if (accuracy.length)
    list.push(
      curveChart("valid-accuracy", "Validation accuracy per epoch", "valid accuracy", accuracy, order),
    );
  return { list, timeline };
}

export async function buildReport(
  results: SuiteResults,
  options: { generatedAt?: Date } = {},
): Promise<BuiltReport> {
  const data = collectReportData(results, options.generatedAt ?? new Date());
  const { list, timeline } = charts(results, data);
  const svgs = new Map<string, string>();
  for (const c of list) svgs.set(c.name, await renderSvg(c));
  const sections = buildDocument(data, { timeline, names: list.map((c) => c.name) });
  const measured = measuredPhasesSection(results);
  if (measured) sections.push(measured);
  const title = `halfwatt report: ${data.suite.name}`;
  const meta = `Suite ${data.suite.id} (${data.suite.origin}); ${data.completed} of ${data.planned} runs completed; generated ${data.suite.generatedAt}.`;
  return {
    html: renderHtml(title, meta, sections, svgs),
    markdown: renderMarkdown(title, meta, sections, new Set(svgs.keys())),
    data,
    charts: svgs,
  };
}

/** A report file that could not be written (E_RUNTIME): names the file and how to rebuild it. */
export class ReportWriteError extends HalfwattError {
  constructor(
    readonly file: string,
    cause: unknown,
    rebuild: string,
  ) {
    super("E_RUNTIME", `cannot write ${file}: ${(cause as Error)?.message ?? String(cause)}; ${rebuild}`, {
      cause,
    });
  }
}

/** Writes `text` to `file` through a temporary file in the same folder and a rename (atomic on POSIX). */
function writeAtomically(file: string, text: string, rebuild: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, file);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw new ReportWriteError(file, e, rebuild);
  }
}

/**
 * Writes report.html, report.md and charts/*.svg into `dir` (created if needed), each atomically.
 * `store`: the results store's path, for the error's "`halfwatt report STORE --out DIR` rebuilds it".
 */
export async function writeReport(
  results: SuiteResults,
  dir: string,
  options: { generatedAt?: Date; store?: string } = {},
): Promise<BuiltReport & { files: string[] }> {
  const report = await buildReport(results, options);
  const rebuild = `\`halfwatt report ${options.store ?? "RESULTS.sqlite"} --out ${dir}\` rebuilds the report from the store`;
  const charts = join(dir, "charts");
  try {
    mkdirSync(charts, { recursive: true });
  } catch (e) {
    throw new ReportWriteError(charts, e, rebuild);
  }
  const files = [join(dir, "report.html"), join(dir, "report.md")];
  writeAtomically(files[0], report.html, rebuild);
  writeAtomically(files[1], report.markdown, rebuild);
  for (const [name, svg] of report.charts) {
    const file = join(charts, `${name}.svg`);
    writeAtomically(file, svg, rebuild);
    files.push(file);
  }
  return { ...report, files };
}
