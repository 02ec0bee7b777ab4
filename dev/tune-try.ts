// Times GEMM candidates that the tuner does not try: subgroup-matrix tiles outside MATRIX_TILES
// at chosen split-K counts, the skinny kernel at chosen splits, beside the tuner's own candidates
// (--production). Each candidate is checked against the heuristic kernel's output first, exactly
// as `halfwatt tune` does (tuneGemm); nothing is written to a tune cache. For one device call
// that asks "would this tile pay?" before it joins a registry.
//   node dist/dev/tune-try.js --shape 32x1024x150528:bias:relu [--shape …] [--production]
//        [--matrix-tiles p1x1a2x2,u1x1a2x4] [--splits 1,16,64] [--skinny-splits 64,128]
//        [--skinny-rows 16] [--tiles t128vd,t64vd] [--samples 3] [--out FILE]
// --skinny-rows: the skinny splits also at these rows per workgroup; --tiles: portable tiles
// (TILES or dev/gemm-tiles.ts) at the --splits counts.
// Shapes as `halfwatt tune --shape` reads them (MxNxK[:tA][:tB][:f16>f32][:bias][:relu]).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseShape } from "../src/cli/commands/tune.js";
import { openDevice } from "../src/gpu/device.js";
import { MATRIX_TILES, matrixTile } from "../src/kernels/gemm-subgroup-matrix.js";
import {
  type CandidateResult,
  describeChoice,
  type GemmChoice,
  gemmCandidates,
  tuneGemm,
} from "../src/kernels/gemm-tune.js";
import { enableDevTiles } from "./gemm-tiles.js";

const { values } = parseArgs({
  options: {
    shape: { type: "string", multiple: true },
    production: { type: "boolean", default: false },
    "matrix-tiles": { type: "string" },
    splits: { type: "string", default: "1" },
    "skinny-splits": { type: "string" },
    "skinny-rows": { type: "string" },
    tiles: { type: "string" },
    samples: { type: "string", default: "3" },
    out: { type: "string" },
  },
});
const list = (s: string | undefined) => (s ? s.split(",").filter(Boolean) : []);
const ints = (s: string | undefined) => list(s).map((x) => Number(x));

const shapes = (values.shape ?? []).map(parseShape);
if (!shapes.length) throw new Error("tune-try: give at least one --shape");
const extraTiles = list(values["matrix-tiles"]);
// gemm() resolves tuned tile names through MATRIX_TILES: register the extra ones in this process.
for (const name of extraTiles) MATRIX_TILES[name] ??= matrixTile(name);
enableDevTiles();

const ctx = await openDevice();
const report: unknown[] = [];
for (const call of shapes) {
  const candidates: GemmChoice[] = values.production ? gemmCandidates(ctx, call) : [];
  for (const t of extraTiles)
    for (const splitK of ints(values.splits))
      candidates.push({ variant: "subgroup-matrix", matrixTile: t, splitK });
  for (const splitK of ints(values["skinny-splits"])) {
    candidates.push({ variant: "skinny", splitK });
    for (const skinnyRows of ints(values["skinny-rows"]))
      candidates.push({ variant: "skinny", skinnyRows, splitK });
  }
  for (const tile of list(values.tiles))
    for (const splitK of ints(values.splits)) candidates.push({ variant: "tiled", tile, splitK });
  const r = await tuneGemm(ctx, call, { candidates, samples: Number(values.samples) });
  const rows: CandidateResult[] = [r.heuristic, ...r.candidates];
  const timed = rows
    .filter((c) => c.seconds !== null)
    .sort((a, b) => (a.seconds as number) - (b.seconds as number));
  console.log(
    `\n${call.label}  (${(r.flops / 1e9).toFixed(1)} GFLOP; heuristic ${describeChoice(r.heuristic.choice)})`,
  );
  for (const c of timed) {
    const s = c.seconds as number;
    console.log(
      `  ${describeChoice(c.choice).padEnd(40)} ${(s * 1e6).toFixed(0).padStart(7)} µs ${(r.flops / s / 1e12).toFixed(1).padStart(6)} TFLOP/s`,
    );
  }
  for (const c of rows.filter((x) => x.seconds === null))
    console.log(`  ${describeChoice(c.choice).padEnd(40)} failed: ${c.error?.slice(0, 160)}`);
  report.push({ shape: call.label, flops: r.flops, results: rows });
}
if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 1)}\n`);
ctx.device.destroy();
