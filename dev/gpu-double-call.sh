#!/usr/bin/env bash
# One device call for the double-buffered tensor-core tiles (kind w): their GPU test and a wrong
# edit (dev/gpu-tile-try.sh: GPU_TESTS, WRONG_EDIT), each tile timed against kind b at the
# batch-256 weight gradients and forward (STEPS=double), then a tune of the mixed batch-256
# products with the kind-w tiles in MATRIX_TILES, and the mixed batch-256 rows against PyTorch's
# bf16 autocast + fused Adam in the same call (the fastest 16-bit variant at these rows in every
# earlier call). Archives: $OUT/try.tgz, $OUT/peer16.tgz.
# Here first: npm run build && bash bench/gpu-pack.sh --no-sharp (carry [".gpu"]).
set -uo pipefail
OUT=${OUT:-bench/results}
GPU_TESTS="test/kernels/gemm.test.ts -t kind-w" GPU_TESTS_S=${GPU_TESTS_S:-70} \
  WRONG_EDIT='s/kEnd, 1u - buf);/kEnd, buf);/' WRONG_TESTS="test/kernels/gemm.test.ts -t kind-w" WRONG_S=40 \
  STEPS=double TOP=20 OUT=$OUT bash dev/gpu-tile-try.sh
out=$OUT; w="$out/peer16"; archive=peer16.tgz; mkdir -p "$w"
source bench/gpu-lib.sh
gpu_enter > /dev/null
export HALFWATT_TUNE_CACHE="$w/gemm-tune.json" PYTHONUNBUFFERED=1
timeout 120 node dist/src/cli/main.js tune --precision mixed --batch 256 --neurons 1024,2048 --samples 1 \
  > "$w/tune-mixed.txt" 2>&1
echo "tune rc $?"; grep -E "150528" "$w/tune-mixed.txt" | grep -v '^\[' | cut -c1-200; gpu_pack
cfgs=mixed:256:1024,mixed:256:2048
timeout 70 node dist/bench/train.bench.js --configs $cfgs --modes runtime --seconds 2 --out "$w/train.json" \
  > "$w/train.txt" 2>&1
echo "bench rc $?"; quiet < "$w/train.txt" | grep -E "samples/s" | cut -c1-300; gpu_pack
timeout 100 python3 bench/peers/torch_mlp.py --configs amp:256:1024,amp:256:2048 --variants bf16-fused \
  --seconds 2 --out "$w/torch-mlp.json" > "$w/torch-mlp.txt" 2> "$w/torch-mlp.err"
echo "torch peer rc $?"; tail -2 "$w/torch-mlp.err" | cut -c1-200
node dist/bench/compare.js --trainer "$w/train.json" "$w/torch-mlp.json" | tee "$w/table.md"
gpu_pack
