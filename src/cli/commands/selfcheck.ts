// `halfwatt selfcheck [--json]`: runs every GEMM path this adapter has (f32, f16, f16→f32 and the
// tensor-core path where present) on fresh random inputs and checks each against the float64
// reference, with the same error bound as the test suite. The quick start's first command.
import type { Command } from "commander";
import { openDevice } from "../../gpu/device.js";
import { roundToF16 } from "../../kernels/f16.js";
import { type GemmVariant, gemm } from "../../kernels/gemm.js";
import { matrixUnsupportedReason } from "../../kernels/gemm-subgroup-matrix.js";
import { sync } from "../../kernels/program.js";
import { gemmBound, gemmReference } from "../../kernels/reference/gemm.js";
import { createTensor, destroyTensor, downloadF32, fill, tensorFrom } from "../../kernels/tensor.js";
import { seededRandom } from "../../util/rng.js";
import { seedOption } from "../options.js";

export interface SelfcheckRow {
  path: string;
  shape: string;
  maxAbsError: number;
  worstRatio: number;
  ok: boolean;
  skipped?: string;
}

export async function selfcheck(
  seed = Math.floor(Math.random() * 2 ** 31),
): Promise<{ adapter: string; seed: number; rows: SelfcheckRow[] }> {
  const ctx = await openDevice();
  const rand = seededRandom(seed);
  const rows: SelfcheckRow[] = [];
  const cases: { path: string; inT: "f32" | "f16"; outT: "f32" | "f16"; variant: GemmVariant }[] = [
    { path: "tiled f32", inT: "f32", outT: "f32", variant: "tiled" },
    { path: "tiled f16 (f32 accumulation)", inT: "f16", outT: "f16", variant: "tiled" },
    { path: "tiled f16→f32", inT: "f16", outT: "f32", variant: "tiled" },
    { path: "subgroup-matrix f16→f32", inT: "f16", outT: "f32", variant: "subgroup-matrix" },
    { path: "subgroup-matrix f16", inT: "f16", outT: "f16", variant: "subgroup-matrix" },
  ];
  const forms = [
    { transA: false, transB: false, name: "A·B" },
    { transA: false, transB: true, name: "A·Bᵀ" },
    { transA: true, transB: false, name: "Aᵀ·B" },
  ];
  const [m, n, k] = [67, 129, 1031];
  for (const c of cases) {
    if (c.variant === "subgroup-matrix" || c.inT === "f16") {
      const why =
        c.inT === "f16" && !ctx.caps.f16
          ? "no shader-f16"
          : c.variant === "subgroup-matrix"
            ? matrixUnsupportedReason(ctx)
            : null;
      if (why) {
        rows.push({ path: c.path, shape: "-", maxAbsError: 0, worstRatio: 0, ok: true, skipped: why });
        continue;
      }
    }
    for (const f of forms) {
      const q = (x: number) => (c.inT === "f16" ? roundToF16(x) : Math.fround(x));
      const A = Float64Array.from({ length: m * k }, () => q(rand() * 2 - 1));
      const B = Float64Array.from({ length: k * n }, () => q(rand() * 2 - 1));
      const bias = Float64Array.from({ length: n }, () =>
        (c.outT === "f16" ? roundToF16 : Math.fround)(rand() - 0.5),
      );
      const a = await tensorFrom(ctx, c.inT, f.transA ? [k, m] : [m, k], A, "A");
      const b = await tensorFrom(ctx, c.inT, f.transB ? [n, k] : [k, n], B, "B");
      const out = await createTensor(ctx, c.outT, [m, n], "C");
      const biasT = await tensorFrom(ctx, c.outT, [n], bias, "bias");
      fill(ctx, out, Number.NaN);
      const g = { m, n, k, transA: f.transA, transB: f.transB, alpha: 1, beta: 0, relu: true };
      await gemm(ctx, a, b, out, { ...g, bias: biasT, variant: c.variant });
      await sync(ctx);
      const got = await downloadF32(ctx, out);
      const ref = gemmReference(A, B, null, bias, g);
      let maxAbs = 0;
      let worst = 0;
      for (let i = 0; i < got.length; i++) {
        const err = Number.isFinite(got[i]) ? Math.abs(got[i] - ref.c[i]) : Number.POSITIVE_INFINITY;
        maxAbs = Math.max(maxAbs, err);
        worst = Math.max(worst, err / gemmBound(k, ref.absdot[i], ref.c[i], c.outT));
      }
      rows.push({
        path: `${c.path} ${f.name}`,
        shape: `${m}×${n}×${k}`,
        maxAbsError: maxAbs,
        worstRatio: worst,
        ok: worst <= 1,
      });
      destroyTensor(a, b, out, biasT);
    }
  }
  const adapter = ctx.adapterName;
  ctx.destroy();
  return { adapter, seed, rows };
}

export function register(program: Command): void {
  program
    .command("selfcheck")
    .description("check every GEMM path of this adapter against a float64 reference")
    .option("--json", "print JSON")
    .option("--seed <n>", "random seed, an integer in [0, 2^32 - 1] (default: fresh)", seedOption("--seed"))
    .action(async (opts: { json?: boolean; seed?: number }) => {
      const r = await selfcheck(opts.seed);
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        const lines = [
          `GEMM self-check on "${r.adapter}" (seed ${r.seed}); error as a fraction of the bound:`,
        ];
        for (const row of r.rows)
          lines.push(
            row.skipped
              ? `  skip  ${row.path.padEnd(36)} ${row.skipped}`
              : `  ${row.ok ? "ok  " : "FAIL"}  ${row.path.padEnd(36)} ${row.shape}  max |err| ${row.maxAbsError.toExponential(2)}  ${(row.worstRatio * 100).toFixed(1)}% of bound`,
          );
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      if (r.rows.some((x) => !x.ok)) process.exitCode = 1;
    });
}
