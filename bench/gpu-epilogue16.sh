#!/usr/bin/env bash
# Issue 16's next GPU experiment, one device call (after `npm run build && bash bench/gpu-pack.sh`,
# carrying [".gpu"]): is the portable fused kernel's 5.2 ms with the f16 copy (918 µs without it,
# H200, docs/performance.md, last section) a rolled epilogue loop? Times the fused first layer on
# the portable t64 tile at f32/32/1024 (no copy) and mixed/32/1024 (f16 inputs, writes the copy),
# with the shader's loop and with the generator's epilogue (--unrolled-epilogue), the default
# step beside them, after the fused kernels' GPU tests. Everything lands in $OUT/epilogue16.tgz.
#   bash bench/gpu-epilogue16.sh
set -uo pipefail
base=${OUT:-bench/results}
out="$base/epilogue16"
mkdir -p "$out"
source .gpu/enter.sh > /dev/null 2>&1
[ -f .gpu/extra.tar.xz ] && tar -xJf .gpu/extra.tar.xz
export HALFWATT_TUNE_CACHE=${HALFWATT_TUNE_CACHE:-$PWD/bench/results/h200-2026-12-02-peer16/gemm-tune.json}
nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$out/card.txt"
node node_modules/vitest/vitest.mjs run test/kernels/weight-update.test.ts > "$out/vitest.log" 2>&1
echo "vitest rc $?"; grep -E "Test Files|Tests |×" "$out/vitest.log" | head -8
cfgs=f32:32:1024,mixed:32:1024
for u in "" --unrolled-epilogue; do
  echo "== fused t64 ${u:-(shader loop)}"
  timeout 90 node dist/bench/train.bench.js --configs $cfgs --modes fused --fused-tile t64 $u --seconds 3 \
    --table-configs none --out "$out/fused${u:+-unrolled}.json" 2>&1 | grep -E "samples/s" | cut -c1-220
done
echo "== default step"
timeout 90 node dist/bench/train.bench.js --configs $cfgs --modes runtime,unfused --seconds 3 \
  --table-configs none --out "$out/default.json" 2>&1 | grep -E "samples/s" | cut -c1-220
tar -czf "$base/epilogue16.tgz" -C "$base" epilogue16
