// Joins a halfwatt GEMM bench JSON (bench/gemm.bench.ts) and a torch peer JSON
// (bench/peers/torch_matmul.py) from the same card into a markdown table with ratios; with
// --trainer, a trainer bench JSON (bench/train.bench.ts) and the trainer peer's
// (bench/peers/torch_mlp.py): halfwatt ÷ the fastest PyTorch variant of each precision class.
//
//   node dist/bench/compare.js BENCH.json TORCH.json > table.md
//   node dist/bench/compare.js --trainer TRAIN.json TORCH-MLP.json > table.md
import { readFileSync } from "node:fs";
import { trainerTable } from "./trainer-table.js";

interface Row {
  group: string;
  case: string;
  variant: string;
  m: number;
  n: number;
  k: number;
  gflops: number | null;
}

const argv = process.argv.slice(2);
const trainer = argv[0] === "--trainer";
const [benchFile, torchFile] = trainer ? argv.slice(1) : argv;
if (!benchFile || !torchFile) {
  console.error("usage: node dist/bench/compare.js [--trainer] BENCH.json TORCH.json");
  process.exit(2);
}
if (trainer) {
  const h = JSON.parse(readFileSync(benchFile, "utf8"));
  const t = JSON.parse(readFileSync(torchFile, "utf8"));
  if (!Array.isArray(h.rows) || !Array.isArray(t.configs)) {
    console.error(`${benchFile} needs "rows" (bench/train.bench.ts), ${torchFile} "configs" (torch_mlp.py)`);
    process.exit(2);
  }
  console.log(`halfwatt adapter "${h.adapter}"; PyTorch ${t.torch} on ${t.card}.\n`);
  console.log(trainerTable(h.rows, t.configs));
  process.exit(0);
}
const bench = JSON.parse(readFileSync(benchFile, "utf8")) as { adapter: string; rows: Row[] };
const torch = JSON.parse(readFileSync(torchFile, "utf8")) as { card: string; torch: string; rows: Row[] };
const all = [...bench.rows, ...torch.rows];
const cases = [...new Map(bench.rows.map((r) => [`${r.group}|${r.case}`, r])).values()];
const get = (variant: string, c: Row) =>
  all.find((r) => r.variant === variant && r.group === c.group && r.case === c.case)?.gflops ?? null;
const tf = (g: number | null) => (g === null ? "–" : (g / 1000).toFixed(1));
const ratio = (a: number | null, b: number | null) => (a === null || b === null ? "–" : (a / b).toFixed(2));

console.log(
  `Card: ${torch.card} (torch ${torch.torch}); halfwatt adapter "${bench.adapter}". TFLOP/s from GPU timestamps (halfwatt) and CUDA events (torch), median of 5.\n`,
);
console.log(
  "| case | M×N×K | WGSL f32 | torch fp32 | ratio | WGSL f16 (f32 acc.) | WGSL subgroup-matrix f16 | torch fp16 | ratio (sgm/torch) | torch tf32 |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const c of cases) {
  const f32 = get("tiled-f32", c);
  const t32 = get("torch-fp32", c);
  const sgm = get("matrix-f16", c);
  const t16 = get("torch-fp16", c);
  console.log(
    `| ${c.case} | ${c.m}×${c.n}×${c.k} | ${tf(f32)} | ${tf(t32)} | ${ratio(f32, t32)} | ${tf(get("tiled-f16", c))} | ${tf(sgm)} | ${tf(t16)} | ${ratio(sgm, t16)} | ${tf(get("torch-tf32", c))} |`,
  );
}
