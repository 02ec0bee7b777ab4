// The trainer comparison table (bench/trainer-table.ts): each halfwatt row is divided by the
// fastest PyTorch variant of its own precision class that ran, and that variant is named.
import { describe, expect, it } from "vitest";
import { type TorchConfigRow, trainerRows, trainerTable } from "../../bench/trainer-table.js";

const torch: TorchConfigRow[] = [
  {
    precision: "f32",
    precision_class: "32-bit",
    batch: 32,
    neurons: 1024,
    fastest: "adam", // deliberately wrong: the table recomputes the fastest
    variants: [
      { variant: "adam", samples_per_s: 8800 },
      { variant: "fused", samples_per_s: 13600 },
      { variant: "fused+compile", samples_per_s: 14400 },
    ],
  },
  {
    precision: "amp",
    precision_class: "16-bit",
    batch: 32,
    neurons: 1024,
    fastest: "bf16-fused",
    variants: [
      { variant: "amp-adam", samples_per_s: 7600 },
      { variant: "amp-fused", samples_per_s: 10300 },
      { variant: "amp-fused+compile", samples_per_s: null, error: "RuntimeError: compile failed" },
      { variant: "bf16-fused", samples_per_s: 13500 },
    ],
  },
];
const halfwatt = [
  { mode: "runtime", precision: "f32" as const, batch: 32, neurons: 1024, samplesPerSecond: 10100 },
  { mode: "naive", precision: "f32" as const, batch: 32, neurons: 1024, samplesPerSecond: 1 },
  { mode: "runtime", precision: "mixed" as const, batch: 32, neurons: 1024, samplesPerSecond: 11300 },
  { mode: "runtime", precision: "mixed" as const, batch: 256, neurons: 2048, samplesPerSecond: 33800 },
];

describe("trainer table: halfwatt ÷ fastest PyTorch variant of the same class", () => {
  it("divides by the class's fastest variant that ran and names it", () => {
    const rows = trainerRows(halfwatt, torch);
    expect(rows.map((r) => r.config)).toEqual(["f32/32/1024", "mixed/32/1024", "mixed/256/2048"]);
    expect(rows[0].best).toEqual({ variant: "fused+compile", samplesPerSecond: 14400 });
    expect(rows[0].ratio).toBeCloseTo(10100 / 14400, 12);
    // mixed is compared with the 16-bit class (bf16 included), never with the 32-bit rows
    expect(rows[1].best).toEqual({ variant: "bf16-fused", samplesPerSecond: 13500 });
    expect(rows[1].ratio).toBeCloseTo(11300 / 13500, 12);
    expect(rows[1].failed).toEqual(["amp-fused+compile: RuntimeError: compile failed"]);
    // no PyTorch row of that shape: no ratio, said so
    expect(rows[2].best).toBeNull();
    expect(rows[2].ratio).toBeNull();
  });

  it("gives a step other than the default its own row, named (the naive composition none)", () => {
    const overlap = { ...halfwatt[2], mode: "overlap4", samplesPerSecond: 14900 };
    const rows = trainerRows([...halfwatt, overlap], torch);
    expect(rows.map((r) => r.config)).toEqual([
      "f32/32/1024",
      "mixed/32/1024",
      "mixed/256/2048",
      "mixed/32/1024 overlap4",
    ]);
    expect(rows[3].ratio).toBeCloseTo(14900 / 13500, 12);
    expect(trainerTable([overlap], torch)).toContain(
      "| mixed/32/1024 overlap4 | 14.9k | bf16-fused | 13.5k | 1.10× |",
    );
  });

  it("a halfwatt step that failed gets no figure and no ratio, its error said under the table", () => {
    const failed = {
      mode: "overlap4",
      precision: "mixed" as const,
      batch: 32,
      neurons: 1024,
      error: "gemm (subgroup-matrix): shader did not compile",
    };
    const [r] = trainerRows([failed], torch);
    expect(r.halfwatt).toBeNull();
    expect(r.ratio).toBeNull();
    expect(r.error).toBe("gemm (subgroup-matrix): shader did not compile");
    const table = trainerTable([halfwatt[2], failed], torch);
    expect(table).toContain("| mixed/32/1024 overlap4 | – | bf16-fused | 13.5k | – |");
    expect(table).toContain(
      "halfwatt steps that could not run:\n- mixed/32/1024 overlap4: gemm (subgroup-matrix): shader did not compile",
    );
    // A step that ran has no error.
    expect(trainerRows([halfwatt[2]], torch)[0].error).toBeNull();
  });

  it("a failed variant is never the best, even with a figure", () => {
    const t: TorchConfigRow[] = [
      {
        ...torch[0],
        variants: [
          { variant: "fused", samples_per_s: 99999, error: "x" },
          { variant: "adam", samples_per_s: 5000 },
        ],
      },
    ];
    const [r] = trainerRows([halfwatt[0]], t);
    expect(r.best?.variant).toBe("adam");
    expect(r.ratio).toBeCloseTo(10100 / 5000, 12);
  });

  it("prints the table with the variant beside each ratio, and the failures below", () => {
    const md = trainerTable(halfwatt, torch);
    expect(md).toContain("| f32/32/1024 | 10.1k | fused+compile | 14.4k | 0.70× |");
    expect(md).toContain("| mixed/32/1024 | 11.3k | bf16-fused | 13.5k | 0.84× |");
    expect(md).toContain("| mixed/256/2048 | 33.8k | none ran | – | – |");
    expect(md).toContain("- mixed/32/1024 amp-fused+compile: RuntimeError: compile failed");
  });
});
