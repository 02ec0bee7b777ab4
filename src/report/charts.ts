// Vega-Lite specifications of the report's charts, and their rendering to SVG strings in Node
// (vega's headless SVG renderer: no canvas, no browser, nothing fetched — the data are inline).
import type { TopLevelSpec } from "vega-lite";
import type { PhaseRecord, SampleRecord } from "../experiment/types.js";
import type { ConfigurationSummary, ReportData } from "./types.js";

export interface Chart {
  /** File name stem under charts/ (letters, digits, dash). */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const CONFIG = {
  font: FONT,
  view: { stroke: "#ccc" },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelLimit: 240 },
};

/** A chart name safe as a file name. */
export function chartName(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "") || "chart";
}

/** The configuration axis of the bar charts, in the suite's order, labels slanted to stay apart. */
function configurationAxis(data: ReportData) {
  return {
    field: "configuration",
    type: "nominal" as const,
    title: null,
    sort: data.configurations.map((c) => c.id),
    axis: { labelAngle: -20, labelLimit: 200 },
  };
}

/**
 * The report's opening picture: energy per training sample (J, train phase, the compared
 * components) by configuration with 95 % CI whiskers, and beside it mean test accuracy with its CI.
 */
export function energyPerSampleChart(data: ReportData): Chart {
  const rows = data.configurations.flatMap((c) =>
    c.perSampleJ
      ? [
          {
            configuration: c.id,
            precision: c.precision,
            J: c.perSampleJ.mean,
            lo: c.perSampleJ.ci95 ? c.perSampleJ.ci95[0] : c.perSampleJ.mean,
            hi: c.perSampleJ.ci95 ? c.perSampleJ.ci95[1] : c.perSampleJ.mean,
          },
        ]
      : [],
  );
  const accuracy = data.configurations.flatMap((c) =>
    c.testAccuracy
      ? [
          {
            configuration: c.id,
            precision: c.precision,
            accuracy: c.testAccuracy.mean * 100,
            lo: (c.testAccuracy.ci95 ? c.testAccuracy.ci95[0] : c.testAccuracy.mean) * 100,
            hi: (c.testAccuracy.ci95 ? c.testAccuracy.ci95[1] : c.testAccuracy.mean) * 100,
          },
        ]
      : [],
  );
  const x = configurationAxis(data);
  const color = { field: "precision", type: "nominal" as const, title: "precision" };
  const title = "Energy per training sample (J, mean, 95 % CI) and test accuracy (%, mean, 95 % CI)";
  return {
    name: "energy-per-sample",
    title,
    spec: {
      config: CONFIG,
      hconcat: [
        {
          width: { step: 36 },
          height: 240,
          data: { values: rows },
          encoding: { x, color },
          layer: [
            {
              mark: { type: "bar" },
              encoding: {
                // The metric's label is in the caption beside it: an axis title that long overflows.
                y: { field: "J", type: "quantitative", title: "train energy per sample (J)" },
              },
            },
            {
              mark: { type: "rule", strokeWidth: 1.5 },
              encoding: {
                y: { field: "lo", type: "quantitative" },
                y2: { field: "hi" },
                color: { value: "black" },
              },
            },
          ],
        },
        {
          width: { step: 36 },
          height: 240,
          data: { values: accuracy },
          encoding: { x, color },
          layer: [
            {
              mark: { type: "point", filled: true, size: 60 },
              encoding: {
                y: {
                  field: "accuracy",
                  type: "quantitative",
                  title: "test accuracy (%)",
                  scale: { zero: false },
                },
              },
            },
            {
              mark: { type: "rule", strokeWidth: 1.5 },
              encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
            },
          ],
        },
      ],
    },
  };
}

/** Mean kJ per run by configuration and component with 95 % CI whiskers (Figure 13, with energy). */
export function energyChart(data: ReportData): Chart {
  const rows = data.configurations.flatMap((c) =>
    (["gpu", "cpu", "dram", "system", "measured", "total"] as const).flatMap((k) => {
      const e = c.energy[k];
      if (!e) return [];
      return [
        {
          configuration: c.id,
          component: k === "measured" ? "total (measured)" : k === "total" ? "total (with estimates)" : k,
          kJ: e.mean,
          lo: e.ci95 ? e.ci95[0] : e.mean,
          hi: e.ci95 ? e.ci95[1] : e.mean,
          provenance: e.provenance ?? "",
        },
      ];
    }),
  );
  return {
    name: "energy",
    title: "Energy per run by configuration and component (mean, 95 % CI)",
    spec: {
      config: CONFIG,
      width: { step: 14 },
      height: 260,
      data: { values: rows },
      encoding: {
        x: configurationAxis(data),
        xOffset: { field: "component", type: "nominal" },
        color: { field: "component", type: "nominal", title: "component" },
      },
      layer: [
        {
          mark: { type: "bar" },
          encoding: { y: { field: "kJ", type: "quantitative", title: "energy per run (kJ)" } },
        },
        {
          mark: { type: "rule", strokeWidth: 1.5 },
          encoding: {
            y: { field: "lo", type: "quantitative" },
            y2: { field: "hi" },
            color: { value: "black" },
          },
        },
      ],
    },
  };
}

/** Mean power (W) per component and configuration over the energy phases. */
export function powerChart(data: ReportData): Chart {
  const rows = data.configurations.flatMap((c) =>
    (["gpu", "cpu", "dram", "system"] as const).flatMap((k) =>
      c.meanPowerW[k] === undefined ? [] : [{ configuration: c.id, component: k, watts: c.meanPowerW[k] }],
    ),
  );
  return {
    name: "mean-power",
    title: "Mean power per component (W, gross)",
    spec: {
      config: CONFIG,
      width: { step: 14 },
      height: 200,
      data: { values: rows },
      mark: "bar",
      encoding: {
        x: configurationAxis(data),
        xOffset: { field: "component", type: "nominal" },
        y: { field: "watts", type: "quantitative", title: "mean power (W)" },
        color: { field: "component", type: "nominal" },
      },
    },
  };
}

/** At most this many points per channel in a timeline (bucket means beyond). */
const MAX_POINTS = 600;

/**
 * Power per channel over time: power readings as they are; a channel with only an energy counter
 * is differentiated (ΔE/Δt between consecutive readings). Long series are averaged into buckets.
 */
export function powerSeries(
  samples: readonly SampleRecord[],
): { s: number; watts: number; channel: string }[] {
  const byChannel = new Map<string, SampleRecord[]>();
  for (const x of samples) {
    const list = byChannel.get(x.channel) ?? [];
    list.push(x);
    byChannel.set(x.channel, list);
  }
  const out: { s: number; watts: number; channel: string }[] = [];
  for (const [channel, list] of byChannel) {
    list.sort((a, b) => a.t - b.t);
    let points = list
      .filter((x) => x.powerW !== undefined && Number.isFinite(x.powerW))
      .map((x) => ({ s: x.t / 1000, watts: x.powerW as number }));
    if (!points.length) {
      const counter = list.filter((x) => x.energyJ !== undefined && Number.isFinite(x.energyJ));
      points = counter.slice(1).flatMap((x, i) => {
        const dt = (x.t - counter[i].t) / 1000;
        return dt > 0
          ? [{ s: x.t / 1000, watts: ((x.energyJ as number) - (counter[i].energyJ as number)) / dt }]
          : [];
      });
    }
    const size = Math.ceil(points.length / MAX_POINTS);
    for (let i = 0; i < points.length; i += size) {
      const bucket = points.slice(i, i + size);
      out.push({
        s: bucket.reduce((a, p) => a + p.s, 0) / bucket.length,
        watts: bucket.reduce((a, p) => a + p.watts, 0) / bucket.length,
        channel,
      });
    }
  }
  return out;
}

/** The representative run's power per channel with its phases shaded. */
export function timelineChart(
  config: ConfigurationSummary,
  runId: number,
  samples: readonly SampleRecord[],
  phases: readonly PhaseRecord[],
): Chart {
  const series = powerSeries(samples);
  const shaded = phases.map((p) => ({ phase: p.name, start: p.startMs / 1000, end: p.endMs / 1000 }));
  return {
    name: chartName(`timeline-${config.id}`),
    title: `Power of run ${runId} (${config.id}, median energy), phases shaded`,
    spec: {
      config: CONFIG,
      width: 640,
      height: 200,
      layer: [
        {
          data: { values: shaded },
          mark: { type: "rect", opacity: 0.18 },
          encoding: {
            x: { field: "start", type: "quantitative", title: "time from run start (s)" },
            x2: { field: "end" },
            color: { field: "phase", type: "nominal", title: "phase", scale: { scheme: "pastel1" } },
          },
        },
        {
          data: { values: series },
          mark: { type: "line", strokeWidth: 1.5 },
          encoding: {
            x: { field: "s", type: "quantitative" },
            y: { field: "watts", type: "quantitative", title: "power (W)" },
            stroke: { field: "channel", type: "nominal", title: "channel" },
          },
        },
      ],
      resolve: { scale: { color: "independent" } },
    },
  };
}

/** One line per run of a per-epoch metric, coloured by configuration. */
export function curveChart(
  name: string,
  title: string,
  yTitle: string,
  points: { configuration: string; run: number; epoch: number; value: number }[],
  order: string[],
): Chart {
  return {
    name,
    title,
    spec: {
      config: CONFIG,
      width: 420,
      height: 220,
      data: { values: points },
      mark: { type: "line", point: true, strokeWidth: 1.2 },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1 } },
        y: { field: "value", type: "quantitative", title: yTitle, scale: { zero: false } },
        color: { field: "configuration", type: "nominal", sort: order },
        detail: { field: "run", type: "nominal" },
      },
    },
  };
}

/** The chart as an SVG string (Vega-Lite → Vega → headless SVG renderer). */
export async function renderSvg(chart: Chart): Promise<string> {
  // Loaded on first use: every CLI command imports the report's modules, few draw charts.
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(compile(chart.spec).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    // A title for assistive technology and for a reader of the bare file.
    return svg.replace(
      /^<svg([^>]*)>/,
      (_m, attrs: string) => `<svg${attrs} role="img" aria-label="${escapeAttribute(chart.title)}">`,
    );
  } finally {
    view.finalize();
  }
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
