// The report's parts about what the study answers (issue 18 §2): the opening picture (energy per
// sample beside accuracy), energy per sample, per epoch and to the accuracy target, and whether
// mixed precision keeps the accuracy of its f32 twin (TOST). Blocks for document.ts.
import { type DocumentPart, paragraph as p, type Section } from "./document-parts.js";
import { interval, percent, pValue, sig } from "./numbers.js";
import type { MeanCi, ReportData } from "./types.js";

const withCi = (e: MeanCi | null, digits = 4) =>
  !e ? "—" : e.ci95 ? `${sig(e.mean, digits)} ${interval(e.ci95, digits)}` : `${sig(e.mean, digits)} (1 run)`;
const points = (x: number | null) => (x === null ? "—" : sig(x * 100, 3));
const pointsInterval = (ci: [number, number] | null) => (ci ? `[${points(ci[0])}, ${points(ci[1])}]` : "—");

/** The first section: the picture, before the conclusion and the tables. */
export function openingSection(data: ReportData, chartNames: readonly string[]): Section | null {
  if (!chartNames.includes("energy-per-sample")) return null;
  return {
    title: "Energy per sample and accuracy",
    blocks: [
      {
        kind: "chart",
        name: "energy-per-sample",
        title: "Energy per training sample and test accuracy by configuration (mean, 95 % CI)",
      },
      p(
        `Train-phase energy (${data.metric?.label ?? "—"}, provenance ${data.metric?.provenance ?? "—"}) divided by the training samples processed (epochs × training set); test accuracy of each run's final model. Whiskers: 95 % t intervals across replicates.`,
      ),
    ],
  };
}

/** Energy per sample, per epoch and to the accuracy target, per configuration. */
export function trainEnergyBlocks(data: ReportData): DocumentPart[] {
  const target =
    data.accuracyTarget === null
      ? "no accuracy target (no validation accuracy stored)"
      : `accuracy target ${percent(data.accuracyTarget)} validation accuracy (${data.accuracyTargetSource})`;
  return [
    p(
      `Training energy: the train phase only (not the test pass), ${data.metric?.label ?? "—"}. Per sample: ÷ training samples processed; per epoch: ÷ epochs. Energy to accuracy: the train energy up to and including the first epoch whose validation accuracy reached the ${target}; the store keeps energy per phase, not per epoch, so it is apportioned by epoch time. Runs that never reached it are counted, not averaged. Mean with 95 % t interval [low, high] across runs.`,
    ),
    {
      kind: "table",
      caption: "Energy per sample, per epoch and to the accuracy target",
      headers: [
        "Configuration",
        "n",
        "J per sample [95 % CI]",
        "kJ per epoch [95 % CI]",
        "Runs reaching target",
        "kJ to target [95 % CI]",
        "Provenance",
      ],
      rows: data.configurations.map((c) => [
        c.id,
        String(c.completed),
        withCi(c.perSampleJ),
        withCi(c.perEpochKJ),
        `${c.energyToAccuracy.reached} of ${c.completed}${c.energyToAccuracy.notReached ? ` (${c.energyToAccuracy.notReached} never)` : ""}`,
        withCi(c.energyToAccuracy.kJ),
        c.perSampleJ?.provenance ?? "—",
      ]),
    },
  ];
}

/** Does mixed precision keep the accuracy? The TOST per mixed configuration and its f32 twin. */
export function equivalenceBlocks(data: ReportData): DocumentPart[] {
  const eq = data.equivalence;
  if (!eq?.rows.length) return [];
  return [
    p(
      `Does mixed precision keep the accuracy? Test accuracy of each mixed configuration against its f32 twin (same batch, widths, epochs, optimizer): difference mixed − f32 in percentage points with its Welch 95 % interval, and the equivalence test (TOST: two one-sided Welch t-tests at α = ${eq.alpha}) for a margin of ±${points(eq.margin)} points (${eq.marginSource === "default" ? "the default; the suite spec's equivalenceMargin sets it" : "the suite spec's equivalenceMargin"}). Equivalent when both one-sided tests reject, i.e. when the 90 % interval lies inside the margin.`,
    ),
    {
      kind: "table",
      caption: "Accuracy equivalence (TOST) of mixed against f32",
      headers: [
        "Mixed",
        "f32 twin",
        "n (mixed, f32)",
        "Difference (points)",
        "95 % CI (points)",
        "90 % CI (points)",
        "p (d ≤ −margin)",
        "p (d ≥ +margin)",
        "TOST p",
        "Equivalent",
      ],
      rows: eq.rows.map((r) => [
        r.mixed,
        r.f32 ?? "— (none)",
        `${r.nMixed}, ${r.nF32}`,
        points(r.difference),
        pointsInterval(r.ci95),
        pointsInterval(r.ci90),
        pValue(r.pLower),
        pValue(r.pUpper),
        pValue(r.p),
        r.equivalent === null ? `— (${r.note ?? "not testable"})` : r.equivalent ? "yes" : "not shown",
      ]),
    },
  ];
}
