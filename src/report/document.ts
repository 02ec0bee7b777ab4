// The report as a neutral document — sections of paragraphs, tables and chart references — built
// once from ReportData, so report.html and report.md hold the same tables and text.
import { deviceEnergyParts, deviceFactorStatistics, hasDeviceFactor } from "./device-factor.js";
import { type DocumentPart, paragraph as p, type Section } from "./document-parts.js";
import { interval, percent, pValue, sig } from "./numbers.js";
import { equivalenceBlocks, openingSection, trainEnergyBlocks } from "./study.js";
import type { MeanCi, ReportData, TestOutcome } from "./types.js";

export type { DocumentPart, Section };
/** @deprecated the old name of DocumentPart ("block" now means only a plan's replicate block). */
export type Block = DocumentPart;

function meanCell(e: MeanCi | undefined): string {
  return e ? sig(e.mean) : "—";
}
function ciCell(e: MeanCi | undefined): string {
  if (!e) return "—";
  return e.ci95 ? interval(e.ci95) : e.n === 1 ? "— (1 run)" : "—";
}
function outcome<T>(o: TestOutcome<T>, text: (r: T) => string): string {
  return o.result ? text(o.result) : `not computed: ${o.note ?? "not applicable"}`;
}

export function buildDocument(
  data: ReportData,
  charts: { timeline: Map<string, string>; names: string[] },
): Section[] {
  const configs = data.configurations;
  const sections: Section[] = [];

  // The picture first, then the conclusion, then the tables.
  const opening = openingSection(data, charts.names);
  if (opening) sections.push(opening);

  sections.push({
    title: "Conclusion",
    blocks: [
      ...data.conclusion.map(p),
      ...(data.caveats.length ? [p("Caveats:"), { kind: "list", items: data.caveats } as Block] : []),
    ],
  });

  sections.push({
    title: "Configurations",
    blocks: [
      {
        kind: "table",
        caption: "Hyper-parameters (the dissertation's Tables 1–2)",
        headers: ["", ...configs.map((c) => c.id)],
        rows: [
          ["Floating point", ...configs.map((c) => (c.precision === "f32" ? "32" : "mixed (f16 + f32)"))],
          ["Batch size", ...configs.map((c) => String(c.config.batch))],
          ["Neurons", ...configs.map((c) => c.config.neurons.join(", "))],
          ["Epochs", ...configs.map((c) => String(c.config.epochs))],
          [
            "Optimizer",
            ...configs.map(
              (c) =>
                `${c.config.optimizer.name}${c.config.optimizer.lr !== undefined ? `, lr ${c.config.optimizer.lr}` : ""}`,
            ),
          ],
          ["Completed runs", ...configs.map((c) => String(c.completed))],
        ],
      },
      {
        kind: "table",
        caption: "Environment",
        headers: ["", ""],
        rows: [
          ["Suite", `${data.suite.name} (${data.suite.origin}), created ${data.suite.createdAt}`],
          [
            "Runs",
            `${data.completed} completed of ${data.planned} planned${data.finished ? "" : " (not finished)"}`,
          ],
          ["Adapter", data.environment.adapters.join("; ") || "—"],
          ["Driver", data.environment.drivers.join("; ") || "—"],
          ["Host", data.environment.hosts.join("; ") || "—"],
          ...Object.entries(data.environment.versions).map(([k, v]) => [k, v.join("; ")]),
          ["Report generated", data.suite.generatedAt],
        ],
      },
      {
        kind: "table",
        caption:
          "Telemetry sources and provenance (counter: hardware energy counter; sampled: integrated power readings; estimated: a model)",
        headers: ["Component", "Channel", "Source", "Provenance"],
        rows: data.environment.sources.map((s) => [
          s.component,
          s.channel ?? "(component total)",
          s.source,
          s.provenance,
        ]),
      },
      ...(data.environment.notes.length
        ? [p("Telemetry notes:"), { kind: "list", items: data.environment.notes } as Block]
        : []),
      ...stepKernelBlocks(data),
    ],
  });

  const metric = data.metric;
  sections.push({
    title: "Energy per run",
    blocks: [
      p(
        `Energy of the phases ${data.energyPhases.join(" + ")} per run, in kJ, ${metric?.basis === "gross" ? "gross (no idle baseline in some runs)" : "net of the idle baseline (gross − baseline mean power × duration)"}; mean over completed runs with its 95 % t interval (x̄ ± t₀.₉₇₅,ₙ₋₁·s/√n). The wall meter (system) covers the whole machine and is not added to gpu + cpu + dram. Statistics compare: ${metric?.label ?? "—"}.`,
      ),
      {
        kind: "table",
        headers: ["Configuration", "n", "Component", "Mean (kJ)", "95 % CI (kJ)", "SD (kJ)", "Provenance"],
        rows: configs.flatMap((c) =>
          (["gpu", "cpu", "dram", "system", "measured", "total"] as const).flatMap((k) => {
            const e = c.energy[k];
            if (!e) return [];
            const label =
              k === "measured" ? "total, measured only" : k === "total" ? "total with estimates" : k;
            // Apportioned among runs in flight on the host in some run of this configuration.
            const shared = data.runs.some(
              (r) =>
                r.configId === c.id &&
                (k === "total"
                  ? Object.values(r.components).some((x) => x?.shared)
                  : k !== "measured" && r.components[k]?.shared),
            );
            const provenance = e.provenance ? `${e.provenance}${shared ? ", shared" : ""}` : "—";
            return [[c.id, String(e.n), label, meanCell(e), ciCell(e), sig(e.sd), provenance]];
          }),
        ),
      },
      {
        kind: "chart",
        name: "energy",
        title: "Energy per run by configuration and component (mean, 95 % CI)",
      },
      {
        kind: "table",
        caption: "Mean power over the energy phases (W, gross)",
        headers: ["Configuration", "gpu", "cpu", "dram", "system", "compared components", "seconds per run"],
        rows: configs.map((c) => [
          c.id,
          sig(c.meanPowerW.gpu),
          sig(c.meanPowerW.cpu),
          sig(c.meanPowerW.dram),
          sig(c.meanPowerW.system),
          sig(c.meanPowerW.metric),
          sig(c.meanSeconds),
        ]),
      },
      { kind: "chart", name: "mean-power", title: "Mean power per component (W, gross)" },
      ...trainEnergyBlocks(data),
      {
        kind: "table",
        caption: "Every completed run",
        headers: [
          "Run",
          "Configuration",
          "Replicate",
          // The device only where there is more than one (the statistics' device factor).
          ...(hasDeviceFactor(data) ? ["Device"] : []),
          "Seconds",
          "Measured total (kJ)",
          "Total with estimates (kJ) [models' range]",
          "Compared (kJ)",
        ],
        rows: data.runs.map((r) => {
          const shared = Object.values(r.components).some((c) => c?.shared) ? ", shared" : "";
          return [
            String(r.runId),
            r.configId,
            String(r.replicate),
            ...(hasDeviceFactor(data) ? [r.block] : []),
            sig(r.seconds),
            r.measuredKJ === null ? "—" : `${sig(r.measuredKJ)} (${r.measuredProvenance})`,
            r.totalHighKJ > r.totalLowKJ
              ? `${sig(r.totalKJ)} [${sig(r.totalLowKJ)}, ${sig(r.totalHighKJ)}] (${r.totalProvenance}${shared})`
              : `${sig(r.totalKJ)} (${r.totalProvenance}${shared})`,
            sig(r.metricKJ),
          ];
        }),
      },
      ...deviceEnergyParts(data),
    ],
  });

  sections.push({
    title: "Power timelines",
    blocks: configs.flatMap((c): Block[] => {
      const name = charts.timeline.get(c.id);
      return name
        ? [
            {
              kind: "chart",
              name,
              title: `Power of run ${c.representativeRunId} (${c.id}, the run with the median energy), phases shaded`,
            },
          ]
        : [p(`${c.id}: no telemetry samples stored for run ${c.representativeRunId ?? "—"}.`)];
    }),
  });

  sections.push({
    title: "Training",
    blocks: [
      ...(charts.names.includes("train-loss")
        ? [{ kind: "chart", name: "train-loss", title: "Training loss per epoch" } as Block]
        : []),
      ...(charts.names.includes("valid-accuracy")
        ? [{ kind: "chart", name: "valid-accuracy", title: "Validation accuracy per epoch" } as Block]
        : []),
      p(
        data.accuracyTarget === null
          ? "No epoch results stored: no time to accuracy."
          : `Time to accuracy: seconds of training until validation accuracy first reached ${percent(data.accuracyTarget)} (${data.accuracyTargetSource}).`,
      ),
      {
        kind: "table",
        headers: [
          "Configuration",
          "Best valid accuracy",
          "Mean test accuracy",
          "Runs reaching target",
          "Mean seconds to target",
        ],
        rows: configs.map((c) => [
          c.id,
          percent(c.bestValidAccuracy),
          percent(c.meanTestAccuracy),
          `${c.timeToAccuracy.reached} of ${c.completed}`,
          sig(c.timeToAccuracy.meanSeconds),
        ]),
      },
      ...equivalenceBlocks(data),
    ],
  });

  const pue = [...new Set(data.carbon.map((r) => r.pue))];
  sections.push({
    title: "Carbon",
    blocks: [
      p(
        `The dissertation's four steps (Table 3): kW = W / 1000; kWh = kW × hours; the grid's carbon intensity; gCO2e = kWh × PUE × intensity. "Its way" multiplies the mean power of the compared components by the training hours; "measured" converts the measured energy itself (1 kWh = 3.6 MJ). The dissertation labels the footprint "gCO2e/kWh"; kWh × gCO2e/kWh is a mass, in gCO2e. PUE: ${pue.map((x) => sig(x)).join(", ") || "—"}.`,
      ),
      {
        kind: "table",
        headers: ["Step", ...data.carbon.map((r) => r.configId)],
        rows: [
          ["Power consumption (W)", ...data.carbon.map((r) => sig(r.watts))],
          ["Step 1: kW", ...data.carbon.map((r) => sig(r.kW))],
          ["Hours", ...data.carbon.map((r) => sig(r.hours))],
          ["Step 2: kWh (its way)", ...data.carbon.map((r) => sig(r.kWh))],
          ["Step 3: intensity (gCO2e/kWh)", ...data.carbon.map((r) => sig(r.intensity))],
          ["PUE", ...data.carbon.map((r) => sig(r.pue))],
          ["Step 4: gCO2e (its way)", ...data.carbon.map((r) => sig(r.gCO2e))],
          ["Measured kWh (gross)", ...data.carbon.map((r) => sig(r.measuredGrossKWh))],
          ["Measured gCO2e (gross)", ...data.carbon.map((r) => sig(r.measuredGrossGCO2e))],
          [`Measured kWh (${metric?.basis ?? "net"})`, ...data.carbon.map((r) => sig(r.measuredNetKWh))],
          [`Measured gCO2e (${metric?.basis ?? "net"})`, ...data.carbon.map((r) => sig(r.measuredNetGCO2e))],
          ["Intensity source", ...data.carbon.map((r) => r.source ?? "— (no intensity)")],
        ],
      },
    ],
  });

  const s = data.statistics;
  if (s) {
    const blocks: Block[] = [
      p(`On per-run energy: ${s.metric.label}, provenance ${s.metric.provenance}. α = 0.05.`),
      {
        kind: "table",
        caption: "Normality (Shapiro–Wilk) per configuration",
        headers: ["Configuration", "n", "W", "p"],
        rows: s.shapiro.map((x) => [
          x.configId,
          String(x.n),
          x.w === null ? `— (${x.note})` : sig(x.w),
          pValue(x.p),
        ]),
      },
      {
        kind: "table",
        caption: "Variance checks, ANOVA",
        headers: ["Test", "Result"],
        rows: [
          ["Levene (mean)", outcome(s.levene, (r) => `F = ${sig(r.f)}, p = ${pValue(r.p)}`)],
          ["Brown–Forsythe (median)", outcome(s.brownForsythe, (r) => `F = ${sig(r.f)}, p = ${pValue(r.p)}`)],
          [
            "One-way ANOVA",
            outcome(
              s.anova,
              (r) =>
                `F(${r.dfBetween}, ${r.dfWithin}) = ${sig(r.f)}, p = ${pValue(r.p)}; SS between ${sig(r.ssBetween)}, within ${sig(r.ssWithin)}; η² = ${sig(r.etaSquared, 3)}, ω² = ${sig(r.omegaSquared, 3)}`,
            ),
          ],
          [
            "Welch's ANOVA",
            outcome(s.welch, (r) => `F(${sig(r.df1)}, ${sig(r.df2)}) = ${sig(r.f)}, p = ${pValue(r.p)}`),
          ],
          [
            "Runs per configuration for 80 % power at a 5 % difference",
            outcome(
              s.power,
              (r) =>
                `${r.n} (difference ${sig(r.delta)} kJ, pooled SD ${sig(r.pooledSd)} kJ, d = ${sig(r.effect, 3)})`,
            ),
          ],
        ],
      },
      ...deviceFactorStatistics(data, s),
      {
        kind: "table",
        caption: "Pairwise Welch t-tests, Holm-adjusted; effect sizes (pooled SD)",
        headers: ["a", "b", "a − b (kJ)", "a vs b", "t", "df", "p", "p (Holm)", "Cohen's d", "Hedges' g"],
        rows: s.pairwise.map((c) => [
          c.a,
          c.b,
          sig(c.difference),
          percent(c.relative),
          c.t === null ? `— (${c.note})` : sig(c.t),
          sig(c.df),
          pValue(c.p),
          pValue(c.pHolm),
          sig(c.cohensD, 3),
          sig(c.hedgesG, 3),
        ]),
      },
    ];
    blocks.push(
      s.tukey.result
        ? {
            kind: "table",
            caption: "Tukey HSD (simultaneous 95 % intervals)",
            headers: ["a", "b", "a − b (kJ)", "95 % CI (kJ)", "p"],
            rows: s.tukey.result.map((t) => [t.a, t.b, sig(t.difference), interval(t.ci), pValue(t.p)]),
          }
        : p(`Tukey HSD not computed: ${s.tukey.note ?? "not applicable"}.`),
    );
    sections.push({ title: "Statistics", blocks });
  }

  if (data.excluded.length)
    sections.push({
      title: "Runs left out",
      blocks: [
        p(
          "Only completed runs that trained enter the figures above. These did not complete, or diverged; an attempt a resumed suite redid names the run that replaced it (its plan slot is complete):",
        ),
        {
          kind: "table",
          headers: ["Run", "Configuration", "Replicate", "Status", "Error", "Redone as"],
          rows: data.excluded.map((r) => [
            String(r.runId),
            r.configId,
            String(r.replicate),
            r.status,
            r.error ?? "—",
            r.redoneBy === null ? "—" : `run ${r.redoneBy}`,
          ]),
        },
      ],
    });
  return sections;
}

/** The step-kernel table (one column per configuration with a kernel table) and its notes. */
function stepKernelBlocks(data: ReportData): Block[] {
  const sk = data.stepKernels;
  const ids = data.configurations.map((c) => c.id).filter((id) => sk.rows.some((r) => r.cells[id]));
  if (!ids.length) return [];
  const blocks: Block[] = [
    {
      kind: "table",
      caption:
        "Step kernels: what one training step ran, per configuration (its first completed run's kernel table: the part and its op; the kernel where one is chosen, input → output type)",
      headers: ["Part of the step", ...ids],
      rows: sk.rows.map((r) => [r.role, ...ids.map((id) => r.cells[id] ?? "—")]),
    },
  ];
  if (sk.varied.length)
    blocks.push(
      p(
        `Not every run of ${sk.varied.join(", ")} recorded the same step (the table shows the first); the store's kernel tables say which ran what.`,
      ),
    );
  return blocks;
}
