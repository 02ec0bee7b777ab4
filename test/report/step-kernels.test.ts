// The step-kernel table and the twin check, on kernel tables written out by hand after the ones
// the 2026-12-04 H200 study recorded (f32 at batch 32: layer 0's dW fused with Adam; mixed: not).
import { describe, expect, it } from "vitest";
import type { RunConfiguration } from "../../src/experiment/types.js";
import type { KernelRecord } from "../../src/model/mlp.js";
import { stepDifferenceCaveat, stepKernels } from "../../src/report/step-kernels.js";

const cfg = (precision: "f32" | "mixed", batch: number): { id: string; config: RunConfiguration } => {
  const id = `${precision}-b${batch}-n64`;
  return {
    id,
    config: { id, precision, batch, neurons: [64], epochs: 2, optimizer: { name: "adam", lr: 0.001 } },
  };
};
const k = (op: string, role: string, input: string, output: string, variant?: string): KernelRecord => ({
  op,
  role,
  input,
  output,
  ...(variant ? { variant } : {}),
});

function step(precision: "f32" | "mixed", fused: boolean): KernelRecord[] {
  const t = precision === "f32" ? "f32" : "f16";
  return [
    k("batch_input", "gather + normalise", "u8", t),
    k("gemm", "forward layer 0 + bias + ReLU", t, t, "skinny"),
    k("gemm", "forward layer 1", t, t, "skinny"),
    k("gemm", "weight gradient layer 1 (Hᵀ·dZ)", t, "f32", "tiled t32"),
    k("gemm", "input gradient layer 1 (dZ·Wᵀ)", t, t, "tiled t32 split-K 11"),
    ...(precision === "mixed" ? [k("nonfinite", "overflow check", "f16", "flag")] : []),
    fused
      ? k("weight_grad_update", "weight gradient layer 0 (Xᵀ·dZ) + adam", t, "f32", "tiled t64")
      : k("gemm", "weight gradient layer 0 (Hᵀ·dZ)", t, "f32", "subgroup-matrix p1x1a4x4"),
    k(
      "adam",
      `adam over all parameters${precision === "mixed" ? ", writes the f16 copy" : ""}`,
      "f32",
      "f32",
    ),
  ];
}

describe("step kernels", () => {
  const configs = [cfg("f32", 32), cfg("mixed", 32), cfg("mixed", 256), cfg("f32", 256)];
  const tables = new Map<string, KernelRecord[][]>([
    ["f32-b32-n64", [step("f32", true), step("f32", true)]],
    ["mixed-b32-n64", [step("mixed", false)]],
    ["mixed-b256-n64", [step("mixed", false)]],
    ["f32-b256-n64", [step("f32", false), step("f32", true)]],
  ]);
  const sk = stepKernels(configs, tables);

  it("one row per part of the step: a layer's GEMMs apart, Adam one row whether or not it writes the f16 copy", () => {
    const roles = sk.rows.map((r) => r.role);
    // In step order; the parts one side alone ran right after the part before them.
    expect(roles).toEqual([
      "gather + normalise (batch_input)",
      "forward layer 0 + bias + ReLU (gemm)",
      "forward layer 1 (gemm)",
      "weight gradient layer 1 (Hᵀ·dZ) (gemm)",
      "input gradient layer 1 (dZ·Wᵀ) (gemm)",
      "overflow check (nonfinite)",
      "weight gradient layer 0 (Hᵀ·dZ) (gemm)",
      "weight gradient layer 0 (Xᵀ·dZ) + adam (weight_grad_update)",
      "adam over all parameters (adam)",
    ]);
    const fwd = sk.rows.find((r) => r.role.startsWith("forward layer 0"));
    expect(fwd?.cells["mixed-b32-n64"]).toBe("skinny, f16 → f16");
    expect(fwd?.cells["f32-b32-n64"]).toBe("skinny, f32 → f32");
    expect(sk.rows.at(-1)?.cells["mixed-b32-n64"]).toBe("f32 → f32");
    const check = sk.rows.find((r) => r.role.startsWith("overflow check"));
    expect(Object.keys(check?.cells ?? {}).sort()).toEqual(["mixed-b256-n64", "mixed-b32-n64"]);
  });

  it("a twin that ran another step is named with the parts each side alone ran; the overflow check is by design", () => {
    // Batch 32: f32 fused, mixed not. Batch 256: f32's first run unfused like mixed's (its second
    // run, fused, makes it "varied" but the first stands for it).
    expect(sk.differences).toHaveLength(1);
    const d = sk.differences[0];
    expect([d.mixed, d.f32]).toEqual(["mixed-b32-n64", "f32-b32-n64"]);
    expect(d.onlyF32.map((x) => x.op)).toEqual(["weight_grad_update"]);
    expect(d.onlyMixed.map((x) => x.role)).toEqual(["weight gradient layer 0 (Hᵀ·dZ)"]);
    const text = stepDifferenceCaveat(d);
    expect(text).toContain(
      "only f32-b32-n64 ran weight_grad_update (weight gradient layer 0 (Xᵀ·dZ) + adam)",
    );
    expect(text).toContain("only mixed-b32-n64 ran gemm (weight gradient layer 0 (Hᵀ·dZ))");
    expect(text).not.toContain("nonfinite");
    expect(sk.varied).toEqual(["f32-b256-n64"]);
  });

  it("the same step on both sides, or no kernel tables (older stores): no difference", () => {
    const same = stepKernels(
      [cfg("f32", 32), cfg("mixed", 32)],
      new Map([
        ["f32-b32-n64", [step("f32", false)]],
        ["mixed-b32-n64", [step("mixed", false)]],
      ]),
    );
    expect(same.differences).toEqual([]);
    const none = stepKernels([cfg("f32", 32), cfg("mixed", 32)], new Map([["f32-b32-n64", [[]]]]));
    expect(none).toEqual({ rows: [], varied: [], differences: [] });
  });
});
