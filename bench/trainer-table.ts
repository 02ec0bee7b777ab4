// halfwatt's trainer (bench/train.bench.ts JSON) against PyTorch at its best
// (bench/peers/torch_mlp.py JSON): for each configuration, halfwatt's samples/s ÷ the fastest
// PyTorch variant of the same precision class (f32 ↔ 32-bit, mixed ↔ 16-bit), that variant named
// beside the ratio, and the variants that could not run listed with their reasons.

export interface HalfwattTrainerRow {
  mode: string;
  precision: "f32" | "mixed";
  batch: number;
  neurons: number;
  /** Absent where the step failed to run (error says why). */
  samplesPerSecond?: number;
  error?: string;
}

export interface TorchVariantRow {
  variant: string;
  configuration?: string;
  samples_per_s: number | null;
  error?: string | null;
}

export interface TorchConfigRow {
  precision: "f32" | "amp";
  precision_class: "32-bit" | "16-bit";
  batch: number;
  neurons: number;
  variants: TorchVariantRow[];
  fastest: string | null;
}

export interface TableRow {
  config: string;
  halfwatt: number | null;
  /** The fastest PyTorch variant of the class that ran, and its samples/s (null: none ran). */
  best: { variant: string; samplesPerSecond: number } | null;
  /** halfwatt ÷ best (null when either is missing). */
  ratio: number | null;
  /** Why halfwatt's step could not run here, or null. */
  error: string | null;
  failed: string[];
}

const torchPrecision = { f32: "f32", mixed: "amp" } as const;

/** The fastest variant that ran, by samples/s (recomputed: the peer's "fastest" is not trusted blindly). */
export function fastestVariant(c: TorchConfigRow): TorchVariantRow | null {
  let best: TorchVariantRow | null = null;
  for (const v of c.variants)
    if (
      v.samples_per_s !== null &&
      !v.error &&
      (best === null || v.samples_per_s > (best.samples_per_s as number))
    )
      best = v;
  return best;
}

/**
 * One row per halfwatt row of a trained step (the default step, "runtime", and any other step it
 * was asked for, such as overlap4, named beside the configuration; not the naive composition),
 * matched to the PyTorch config of the same class, batch and width.
 */
export function trainerRows(halfwatt: HalfwattTrainerRow[], torch: TorchConfigRow[]): TableRow[] {
  return halfwatt
    .filter((h) => h.mode !== "naive")
    .map((h) => {
      const t = torch.find(
        (c) => c.precision === torchPrecision[h.precision] && c.batch === h.batch && c.neurons === h.neurons,
      );
      const v = t ? fastestVariant(t) : null;
      const best = v ? { variant: v.variant, samplesPerSecond: v.samples_per_s as number } : null;
      const ran = h.error || h.samplesPerSecond === undefined ? null : h.samplesPerSecond;
      return {
        config: `${h.precision}/${h.batch}/${h.neurons}${h.mode === "runtime" ? "" : ` ${h.mode}`}`,
        halfwatt: ran,
        best,
        ratio: best && ran !== null ? ran / best.samplesPerSecond : null,
        error: ran === null ? (h.error ?? "no samples/s recorded") : null,
        failed: (t?.variants ?? []).filter((x) => x.error).map((x) => `${x.variant}: ${x.error}`),
      };
    });
}

const k = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));

/** The markdown table (and the variants that could not run, below it). */
export function trainerTable(halfwatt: HalfwattTrainerRow[], torch: TorchConfigRow[]): string {
  const rows = trainerRows(halfwatt, torch);
  const lines = [
    "| config | halfwatt samples/s | fastest PyTorch variant (same precision class) | its samples/s | halfwatt ÷ it |",
    "|---|---:|---|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.config} | ${r.halfwatt === null ? "–" : k(r.halfwatt)} | ${r.best?.variant ?? "none ran"} | ${r.best ? k(r.best.samplesPerSecond) : "–"} | ${r.ratio === null ? "–" : `${r.ratio.toFixed(2)}×`} |`,
    ),
  ];
  const broken = rows.filter((r) => r.error).map((r) => `- ${r.config}: ${r.error}`);
  if (broken.length) lines.push("", "halfwatt steps that could not run:", ...broken);
  const failed = rows.flatMap((r) => r.failed.map((f) => `- ${r.config} ${f}`));
  if (failed.length) lines.push("", "PyTorch variants that could not run:", ...failed);
  return lines.join("\n");
}
