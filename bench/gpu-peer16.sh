#!/usr/bin/env bash
# Issue 16's same-call comparison, one device call: the GPU tests named in GPU_TESTS (if any), the
# trainer bench at the six configurations (modes runtime and unfused, with the copy and Adam
# ceilings), PyTorch's MLP peer in the variants that were ever fastest (default Adam, fused, fused +
# torch.compile; for 16-bit fp16 AMP and bf16 autocast with fused Adam), and the ratio table
# against the fastest PyTorch variant of each precision class. Tunes first unless
# HALFWATT_TUNE_CACHE names a cache. Everything lands in $OUT/peer16.tgz.
# Here first: npm run build && bash bench/gpu-pack.sh --kernels (carry [".gpu"]).
#   [GPU_TESTS="test/kernels/weight-update.test.ts"] [SECONDS_PER_ROW=3] bash bench/gpu-peer16.sh
set -uo pipefail
out=${OUT:-bench/results}
w="$out/peer16"; mkdir -p "$w"
source .gpu/enter.sh > /dev/null 2>&1
[ -f .gpu/extra.tar.xz ] && tar -xJf .gpu/extra.tar.xz
export PYTHONUNBUFFERED=1
quiet() { grep -v -E '^(Warning:|Running "|Progress:|\s*$)'; }
nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$w/card.txt"
python3 -c 'import torch; print("torch", torch.__version__)' | tee -a "$w/card.txt"
if [ -n "${GPU_TESTS:-}" ]; then
  node node_modules/vitest/vitest.mjs run $GPU_TESTS > "$w/vitest.log" 2>&1
  echo "GPU tests rc $?"; grep -E "Test Files|Tests |×" "$w/vitest.log" | head -8
fi
if [ -z "${HALFWATT_TUNE_CACHE:-}" ]; then
  export HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
  timeout "${TUNE_S:-200}" node dist/src/cli/main.js tune --precision mixed,f32 --batch 32,256 \
    --neurons 1024,2048 --samples 1 > "$w/tune.txt" 2>&1
  echo "tune rc $?"; grep -v '^\[' "$w/tune.txt" | tail -3 | cut -c1-200
fi
cfgs=f32:32:1024,mixed:32:1024,mixed:256:1024,mixed:256:2048,f32:256:1024,f32:256:2048
S=${SECONDS_PER_ROW:-3}
timeout 200 node dist/bench/train.bench.js --configs $cfgs --modes runtime,unfused --seconds $S --ceilings \
  --out "$w/train.json" > "$w/train.txt" 2>&1
echo "bench rc $?"; quiet < "$w/train.txt" | grep -E "samples/s|ceiling|copy" | cut -c1-200
timeout "${PEER_S:-300}" python3 bench/peers/torch_mlp.py \
  --configs f32:32:1024,amp:32:1024,amp:256:1024,amp:256:2048,f32:256:1024,f32:256:2048 \
  --variants adam,fused,fused+compile,amp-fused,bf16-fused --seconds $S \
  --out "$w/torch-mlp.json" > "$w/torch-mlp.txt" 2> "$w/torch-mlp.err"
echo "torch peer rc $?"; tail -3 "$w/torch-mlp.err" | cut -c1-200
node dist/bench/compare.js --trainer "$w/train.json" "$w/torch-mlp.json" | tee "$w/table.md"
tar -C "$out" -czf "$out/peer16.tgz" peer16
