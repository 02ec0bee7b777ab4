// `halfwatt stats <test> FILE [--json]`: the dissertation's Excel analysis, computed properly.
// Each test is a pure function from parsed options to { json, text } so tests can call it
// directly; `register` wires them to commander.
import type { Command } from "commander";
import {
  formatNumber,
  formatTable,
  formatInterval as interval,
  requireNoNaN,
  toJson,
} from "../../report/format.js";
import {
  type Alternative,
  anova,
  anovaFromSummary,
  anovaPower,
  anovaSampleSize,
  bootstrapMean,
  bootstrapMeanDifference,
  brownForsythe,
  type Correction,
  describe,
  findGroup,
  type Group,
  inputName,
  levene,
  pairByRow,
  pairs,
  pairwiseTTests,
  parseGroupsCsv,
  parseSummaryCsv,
  readGroupsCsv,
  readInput,
  StatsInputError,
  shapiroWilk,
  summarize,
  type TTestKind,
  tost,
  tTest,
  tTestPower,
  tTestSampleSize,
  tukeyHsd,
  type VarianceRatio,
  varianceRatio,
  welchAnova,
  welchAnovaFromSummary,
} from "../../stats/index.js";
import {
  choiceOption,
  integerOption,
  numberOption,
  positiveOption,
  probabilityOption,
  seedOption,
} from "../options.js";

export interface StatsOutput {
  /** What --json prints (infinite interval bounds become null). */
  json: unknown;
  /** The human-readable table. */
  text: string;
}

export function statsDescribe(groups: Group[]): StatsOutput {
  const described = groups.map((g) => describe(g.name, g.values));
  const rows: [string, (d: (typeof described)[number]) => number | null | string][] = [
    ["Mean", (d) => d.mean],
    ["Standard Error", (d) => d.sem],
    ["Standard Deviation", (d) => d.sd],
    ["Sample Variance", (d) => d.variance],
    ["Kurtosis", (d) => d.kurtosis],
    ["Skewness", (d) => d.skewness],
    ["Minimum", (d) => d.min],
    ["Maximum", (d) => d.max],
    ["Sum", (d) => d.sum],
    ["Count", (d) => d.count],
    ["95% CI of mean", (d) => interval(d.ci95)],
  ];
  const text = formatTable(
    ["", ...described.map((d) => d.name)],
    rows.map(([label, f]) => [label, ...described.map(f)]),
  );
  return {
    json: { groups: described },
    text: `${text}\nKurtosis and skewness are bias-corrected (Excel's KURT and SKEW); kurtosis is excess kurtosis.`,
  };
}

export function statsNormality(groups: Group[]): StatsOutput {
  const results = groups.map((g) => ({ name: g.name, ...shapiroWilk(g.values, `group "${g.name}"`) }));
  return {
    json: { groups: results },
    text: `Shapiro–Wilk (Royston 1995)\n${formatTable(
      ["Group", "W", "P-value"],
      results.map((r) => [r.name, r.w, r.p]),
    )}`,
  };
}

export function statsVariance(groups: Group[]): StatsOutput {
  const lev = levene(groups, "mean");
  const bf = brownForsythe(groups);
  // A group with zero variance makes its F ratios infinite (or undefined), but Levene and
  // Brown–Forsythe are still defined while any group has spread: report those, and mark the ratios.
  const ratios = pairs(groups).map(
    ([a, b]): VarianceRatio | { a: string; b: string; f: null; p: null; note: string } => {
      try {
        return varianceRatio(a, b);
      } catch (e) {
        if (!(e instanceof StatsInputError)) throw e;
        return { a: a.name, b: b.name, f: null, p: null, note: e.message };
      }
    },
  );
  const text = [
    formatTable(
      ["Test", "F", "P-value"],
      [
        ["Levene (mean-centred)", lev.f, lev.p],
        ["Brown–Forsythe (median-centred)", bf.f, bf.p],
      ],
    ),
    "",
    "F-test, larger variance over smaller (two-tailed p, as Excel's F.TEST)",
    formatTable(
      ["Group A", "Group B", "F", "P-value"],
      ratios.map((r) => [r.a, r.b, r.f, r.p]),
    ),
    ...ratios.flatMap((r) => ("note" in r ? [`${r.a} / ${r.b}: ${r.note}`] : [])),
  ].join("\n");
  return { json: { levene: lev, brownForsythe: bf, pairs: ratios }, text };
}

export interface AnovaOptions {
  summary?: boolean;
  welch?: boolean;
  alpha?: number;
}

/** ANOVA of FILE (`-`: standard input, read once). */
export function statsAnova(file: string, options: AnovaOptions = {}): StatsOutput {
  const alpha = options.alpha ?? 0.05;
  const text = readInput(file);
  const name = inputName(file);
  const groups = options.summary ? null : parseGroupsCsv(text, name);
  const summaries = groups ? summarize(groups) : parseSummaryCsv(text, name);
  if (options.welch) {
    const w = groups ? welchAnova(groups) : welchAnovaFromSummary(summaries);
    return {
      json: w,
      text: `Welch's ANOVA\n${formatTable(["F", "df1", "df2", "P-value"], [[w.f, w.df1, w.df2, w.p]])}`,
    };
  }
  const table = groups ? anova(groups, alpha) : anovaFromSummary(summaries, alpha);
  const out = [
    "Anova: Single Factor",
    "",
    "SUMMARY",
    formatTable(
      ["Groups", "Count", "Sum", "Average", "Variance"],
      summaries.map((s) => [s.name, s.count, s.count * s.mean, s.mean, s.variance]),
    ),
    "",
    "ANOVA",
    formatTable(
      ["Source of Variation", "SS", "df", "MS", "F", "P-value", "F crit"],
      [
        [
          "Between Groups",
          table.between.ss,
          table.between.df,
          table.between.ms,
          table.f,
          table.p,
          table.fCritical,
        ],
        ["Within Groups", table.within.ss, table.within.df, table.within.ms, "", "", ""],
        ["Total", table.total.ss, table.total.df, "", "", "", ""],
      ],
    ),
    "",
    `alpha ${formatNumber(alpha)}; eta² ${formatNumber(table.etaSquared)}, omega² ${formatNumber(table.omegaSquared)}`,
  ].join("\n");
  return { json: table, text: out };
}

export interface TTestCliOptions {
  a: string;
  b: string;
  paired?: boolean;
  welch?: boolean;
  alternative?: Alternative;
  alpha?: number;
}

function kindOf(options: { paired?: boolean; welch?: boolean }): TTestKind {
  if (options.paired && options.welch) throw new StatsInputError("choose one of --paired and --welch");
  return options.paired ? "paired" : options.welch ? "welch" : "student";
}

const KIND_TITLE: Record<TTestKind, string> = {
  paired: "t-Test: Paired Two Sample for Means",
  student: "t-Test: Two-Sample Assuming Equal Variances",
  welch: "t-Test: Two-Sample Assuming Unequal Variances (Welch)",
};

export function statsTTest(groups: Group[], options: TTestCliOptions, file?: string): StatsOutput {
  const kind = kindOf(options);
  const alternative = options.alternative ?? "two-sided";
  const alpha = options.alpha ?? 0.05;
  const a = findGroup(groups, options.a, file);
  const b = findGroup(groups, options.b, file);
  // Paired: match values by file row; rows missing either value are dropped and named.
  const paired = kind === "paired" ? pairByRow(a, b) : null;
  const r = tTest(paired?.a ?? a.values, paired?.b ?? b.values, {
    kind,
    alternative,
    alpha,
    labelA: a.name,
    labelB: b.name,
  });
  const dropped = paired?.droppedRows ?? [];
  const text = [
    `${KIND_TITLE[kind]}: ${a.name} − ${b.name}, ${alternative}`,
    ...(dropped.length
      ? [
          `${dropped.length} row(s) dropped for lack of a pair (line ${dropped.join(", ")}); ${paired?.a.length} complete pairs used`,
        ]
      : []),
    formatTable(
      [
        "t Stat",
        "df",
        "P-value",
        "Mean difference",
        `${formatNumber((1 - alpha) * 100)}% CI`,
        "Cohen's d",
        "Hedges' g",
      ],
      [[r.t, r.df, r.p, r.meanDifference, interval(r.ci), r.cohensD, r.hedgesG]],
    ),
  ].join("\n");
  return { json: paired ? { ...r, n: paired.a.length, droppedRows: dropped } : r, text };
}

export interface TostCliOptions {
  a: string;
  b: string;
  /** Symmetric interval ±margin, or low and high given apart. */
  margin?: number;
  low?: number;
  high?: number;
  pooled?: boolean;
  alpha?: number;
}

/** TOST equivalence of mean(A) − mean(B) within (low, high): Welch, or Student with --pooled. */
export function statsTost(groups: Group[], options: TostCliOptions, file?: string): StatsOutput {
  const bounds = options.margin !== undefined;
  if (bounds === (options.low !== undefined || options.high !== undefined))
    throw new StatsInputError("give --margin M (the interval ±M) or both --low and --high, not both");
  if (!bounds && (options.low === undefined || options.high === undefined))
    throw new StatsInputError("--low and --high go together: give both");
  const low = bounds ? -(options.margin as number) : (options.low as number);
  const high = bounds ? (options.margin as number) : (options.high as number);
  const alpha = options.alpha ?? 0.05;
  const a = findGroup(groups, options.a, file);
  const b = findGroup(groups, options.b, file);
  const kind = options.pooled ? "student" : "welch";
  const r = tost(a.values, b.values, low, high, { kind, alpha, labelA: a.name, labelB: b.name });
  const text = [
    `TOST (two one-sided ${kind === "welch" ? "Welch" : "Student"} t-tests): ${a.name} − ${b.name} within (${formatNumber(low)}, ${formatNumber(high)}), alpha ${formatNumber(alpha)}`,
    formatTable(
      ["Test", "t Stat", "df", "P-value"],
      [
        [`H0: difference <= ${formatNumber(low)}`, r.lower.t, r.df, r.lower.p],
        [`H0: difference >= ${formatNumber(high)}`, r.upper.t, r.df, r.upper.p],
      ],
    ),
    formatTable(
      ["Mean difference", `${formatNumber((1 - 2 * alpha) * 100)}% CI`, "TOST P-value", "Equivalent"],
      [[r.meanDifference, interval(r.ci), r.p, r.equivalent ? "yes" : "no"]],
    ),
  ].join("\n");
  return { json: r, text };
}

export interface PairwiseCliOptions {
  paired?: boolean;
  welch?: boolean;
  alternative?: Alternative;
  correction?: Correction;
  alpha?: number;
}

export function statsPairwise(groups: Group[], options: PairwiseCliOptions = {}): StatsOutput {
  const r = pairwiseTTests(groups, {
    kind: kindOf(options),
    alternative: options.alternative,
    correction: options.correction,
    alpha: options.alpha,
  });
  const text = [
    `Pairwise ${kindOf(options)} t-tests (${options.alternative ?? "two-sided"}), ${r.correction} adjustment, alpha ${formatNumber(r.alpha)}`,
    formatTable(
      ["Group A", "Group B", "t", "df", "P-value", "Adjusted", "Reject H0"],
      r.comparisons.map((c) => [c.a, c.b, c.t, c.df, c.p, c.pAdjusted, c.reject ? "yes" : "no"]),
    ),
    ...r.comparisons.flatMap((c) =>
      c.droppedRows?.length
        ? [`${c.a} / ${c.b}: line ${c.droppedRows.join(", ")} dropped for lack of a pair`]
        : [],
    ),
  ].join("\n");
  return { json: r, text };
}

export function statsTukey(groups: Group[], alpha = 0.05): StatsOutput {
  const r = tukeyHsd(groups, alpha);
  const text = [
    `Tukey HSD, alpha ${formatNumber(alpha)} (difference = A − B, simultaneous ${formatNumber((1 - alpha) * 100)}% intervals)`,
    formatTable(
      ["Group A", "Group B", "Mean difference", "P-value", "Lower", "Upper", "Reject H0"],
      r.comparisons.map((c) => [c.a, c.b, c.meanDifference, c.p, c.ci[0], c.ci[1], c.reject ? "yes" : "no"]),
    ),
  ].join("\n");
  return { json: r, text };
}

export interface PowerCliOptions {
  test: "ttest" | "anova";
  effect: number;
  groups?: number;
  alpha?: number;
  power?: number;
  n?: number;
  alternative?: Alternative;
}

export function statsPower(options: PowerCliOptions): StatsOutput {
  const alpha = options.alpha ?? 0.05;
  if (options.test !== "ttest" && options.test !== "anova")
    throw new StatsInputError(`--test must be ttest or anova, got ${JSON.stringify(options.test)}`);
  if (options.test === "anova" && options.groups === undefined)
    throw new StatsInputError("--test anova needs --groups K (the number of groups, >= 2)");
  if (options.test === "ttest" && options.groups !== undefined && options.groups !== 2)
    throw new StatsInputError(`--test ttest compares 2 groups; --groups ${options.groups} applies to anova`);
  if (options.n !== undefined && !(Number.isInteger(options.n) && options.n >= 2))
    throw new StatsInputError(`--n must be an integer >= 2 (per group), got ${options.n}`);
  const groups = options.test === "ttest" ? 2 : (options.groups as number);
  const effectName = options.test === "ttest" ? "Cohen's d" : "Cohen's f";
  const what = `${options.test === "ttest" ? "two-sample t-test" : `one-way ANOVA, ${groups} groups`}, ${effectName} ${formatNumber(options.effect)}, alpha ${formatNumber(alpha)}`;
  if (options.n !== undefined) {
    const power =
      options.test === "ttest"
        ? tTestPower({ effect: options.effect, alpha, n: options.n, alternative: options.alternative })
        : anovaPower({ effect: options.effect, alpha, n: options.n, groups });
    return { json: { power }, text: `Power of ${what}, n = ${options.n} per group: ${formatNumber(power)}` };
  }
  const target = options.power ?? 0.8;
  const s =
    options.test === "ttest"
      ? tTestSampleSize({ effect: options.effect, alpha, power: target, alternative: options.alternative })
      : anovaSampleSize({ effect: options.effect, alpha, power: target, groups });
  const json = {
    n: s.n,
    nExact: s.nExact,
    nTotal: s.nTotal,
    nTotalExact: s.nTotalExact,
    achievedPower: s.power,
  };
  const text = [
    `Sample size for ${what}, power ${formatNumber(target)}:`,
    `  n = ${s.n} per group (exact ${formatNumber(s.nExact)}), ${s.nTotal} in total; achieved power ${formatNumber(s.power)}`,
  ].join("\n");
  return { json, text };
}

export interface BootstrapCliOptions {
  a: string;
  b?: string;
  resamples?: number;
  seed?: number;
  confidence?: number;
}

export function statsBootstrap(groups: Group[], options: BootstrapCliOptions, file?: string): StatsOutput {
  const a = findGroup(groups, options.a, file);
  const settings = { resamples: options.resamples, seed: options.seed, confidence: options.confidence };
  const r = options.b
    ? bootstrapMeanDifference(a.values, findGroup(groups, options.b, file).values, settings)
    : bootstrapMean(a.values, settings);
  const label = options.b ? `mean(${a.name}) − mean(${options.b})` : `mean(${a.name})`;
  return {
    json: r,
    text: `Percentile bootstrap, ${r.resamples} resamples, seed ${r.seed}: ${label} = ${formatNumber(r.estimate)}, ${formatNumber((options.confidence ?? 0.95) * 100)}% CI ${interval(r.ci)}`,
  };
}

const parseAlternative = choiceOption<Alternative>("--alternative", ["two-sided", "less", "greater"]);
const parseCorrection = choiceOption<Correction>("--correction", ["bonferroni", "holm", "bh", "none"]);

/** Prints a result; a NaN anywhere in it is an error (E_RANGE), never output with status 0. */
function emit(out: StatsOutput, json?: boolean): void {
  requireNoNaN(out.json, "result");
  process.stdout.write(json ? `${toJson(out.json)}\n` : `${out.text}\n`);
}

const FILE_HELP =
  "FILE: CSV, or - for standard input. Wide (a column per group, empty cells for unequal n) or long\n(header group,value); # lines are comments. Comma, semicolon or tab separated (detected);\nwith ; or tabs a decimal comma (1,5) is read as 1.5. Paired tests match a wide file's rows.";

export function register(program: Command): void {
  const stats = program
    .command("stats")
    .description("statistics on grouped measurements (CSV); --json for machine-readable output")
    .addHelpText(
      "after",
      "\nIn JSON output, infinite bounds of one-sided confidence intervals are written as null.\nSee docs/statistics.md for formulas and conventions.",
    );

  stats
    .command("describe <file>")
    .description(
      "count, sum, mean, variance, SD, SEM, skewness, kurtosis (Excel's), min, max, 95% CI of the mean",
    )
    .option("--json", "print JSON")
    .addHelpText("after", `\n${FILE_HELP}`)
    .action((file: string, opts: { json?: boolean }) => emit(statsDescribe(readGroupsCsv(file)), opts.json));

  stats
    .command("normality <file>")
    .description("Shapiro–Wilk W and p per group (Royston 1995, 3 <= n <= 5000)")
    .option("--json", "print JSON")
    .action((file: string, opts: { json?: boolean }) => emit(statsNormality(readGroupsCsv(file)), opts.json));

  stats
    .command("variance <file>")
    .description("Levene, Brown–Forsythe, and pairwise F ratios (larger/smaller variance, two-tailed p)")
    .option("--json", "print JSON")
    .action((file: string, opts: { json?: boolean }) => emit(statsVariance(readGroupsCsv(file)), opts.json));

  stats
    .command("anova <file>")
    .description("one-way ANOVA (Excel's Anova: Single Factor) or Welch's ANOVA")
    .option("--summary", "FILE has the header group,count,mean,variance (sample variance)")
    .option("--welch", "Welch's ANOVA (unequal variances)")
    .option("--alpha <a>", "significance level for F crit", probabilityOption("--alpha"), 0.05)
    .option("--json", "print JSON")
    .action((file: string, opts: AnovaOptions & { json?: boolean }) =>
      emit(statsAnova(file, opts), opts.json),
    );

  stats
    .command("ttest <file>")
    .description("t-test of group A against group B (difference = A − B)")
    .requiredOption("--a <name>", "group A")
    .requiredOption("--b <name>", "group B")
    .option("--paired", "paired test (rows are matched)")
    .option("--welch", "Welch's test (unequal variances)")
    .option("--alternative <h1>", "two-sided, less (A < B) or greater (A > B)", parseAlternative, "two-sided")
    .option("--alpha <a>", "1 − confidence level of the interval", probabilityOption("--alpha"), 0.05)
    .option("--json", "print JSON (a one-sided interval's infinite bound is null)")
    .action((file: string, opts: TTestCliOptions & { json?: boolean }) =>
      emit(statsTTest(readGroupsCsv(file), opts, file), opts.json),
    );

  stats
    .command("tost <file>")
    .description(
      "equivalence test (two one-sided t-tests) of mean(A) − mean(B) within ±margin or (low, high)",
    )
    .requiredOption("--a <name>", "group A")
    .requiredOption("--b <name>", "group B")
    .option("--margin <m>", "the equivalence interval ±m", positiveOption("--margin"))
    .option("--low <x>", "lower equivalence bound (with --high)", numberOption("--low"))
    .option("--high <x>", "upper equivalence bound (with --low)", numberOption("--high"))
    .option("--pooled", "Student's pooled variance instead of Welch's")
    .option("--alpha <a>", "level of each one-sided test (below 0.5)", probabilityOption("--alpha"), 0.05)
    .option("--json", "print JSON")
    .action((file: string, opts: TostCliOptions & { json?: boolean }) =>
      emit(statsTost(readGroupsCsv(file), opts, file), opts.json),
    );

  stats
    .command("pairwise <file>")
    .description("t-tests of every pair of groups with a multiple-comparison adjustment")
    .option("--paired", "paired tests")
    .option("--welch", "Welch's tests")
    .option(
      "--alternative <h1>",
      "two-sided, less or greater (for A − B, A before B in the file)",
      parseAlternative,
    )
    .option("--correction <c>", "bonferroni, holm, bh (Benjamini–Hochberg) or none", parseCorrection, "holm")
    .option("--alpha <a>", "family-wise error rate / FDR", probabilityOption("--alpha"), 0.05)
    .option("--json", "print JSON")
    .action((file: string, opts: PairwiseCliOptions & { json?: boolean }) =>
      emit(statsPairwise(readGroupsCsv(file), opts), opts.json),
    );

  stats
    .command("tukey <file>")
    .description("Tukey's HSD (Tukey–Kramer for unequal n)")
    .option("--alpha <a>", "family-wise error rate", probabilityOption("--alpha"), 0.05)
    .option("--json", "print JSON")
    .action((file: string, opts: { alpha: number; json?: boolean }) =>
      emit(statsTukey(readGroupsCsv(file), opts.alpha), opts.json),
    );

  stats
    .command("power")
    .description("sample size per group for a target power, or the power of a given n per group")
    .requiredOption(
      "--test <t>",
      "ttest (two-sample, effect = Cohen's d) or anova (effect = Cohen's f)",
      choiceOption("--test", ["ttest", "anova"] as const),
    )
    .requiredOption("--effect <x>", "effect size", positiveOption("--effect"))
    .option(
      "--groups <k>",
      "number of groups (required with --test anova)",
      integerOption("--groups", { min: 2 }),
    )
    .option("--alpha <a>", "significance level", probabilityOption("--alpha"), 0.05)
    .option("--power <p>", "target power", probabilityOption("--power"), 0.8)
    .option(
      "--n <n>",
      "n per group (an integer >= 2): report its power instead of solving for n",
      integerOption("--n", { min: 2 }),
    )
    .option("--alternative <h1>", "t-test alternative", parseAlternative, "two-sided")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nn is per group; JSON also gives nTotal (= n × groups; statsmodels' FTestAnovaPower nobs is this total)\nand nExact, the real-valued solution before rounding up.",
    )
    .action((opts: PowerCliOptions & { json?: boolean }) => emit(statsPower(opts), opts.json));

  stats
    .command("bootstrap <file>")
    .description("percentile bootstrap CI for mean(A), or mean(A) − mean(B) with --b")
    .requiredOption("--a <name>", "group A")
    .option("--b <name>", "group B")
    .option("--resamples <n>", "resamples", integerOption("--resamples", { min: 1 }), 10000)
    .option("--seed <n>", "RNG seed, an integer in [0, 2^32 - 1]", seedOption("--seed"), 1)
    .option("--confidence <c>", "confidence level", probabilityOption("--confidence"), 0.95)
    .option("--json", "print JSON")
    .action((file: string, opts: BootstrapCliOptions & { json?: boolean }) =>
      emit(statsBootstrap(readGroupsCsv(file), opts, file), opts.json),
    );
}
