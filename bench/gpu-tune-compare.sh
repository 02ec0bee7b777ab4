#!/usr/bin/env bash
# One device call for a GEMM change (issue 16): the GPU tests named in GPU_TESTS, the decode bench
# (DECODE_IMAGES, issue 18), tuning (TUNE=full: `halfwatt tune` for the classifier's products into
# a fresh cache; TUNE_SHAPES: only those `tune --shape` products; neither: no cache at all, the
# heuristics), the trainer bench at CONFIGS with this build, and — when .gpu/old.tar.xz holds an
# earlier build (old/dist, old/shaders) — the same bench on that build (OLD_CACHE its tune cache,
# default none), for a before/after on one card in one call; then the fused first layer on the
# tiles named in FUSED_TILES. Results are archived into $OUT/tc.tgz after each step.
# Here first: npm run build && bash bench/gpu-pack.sh (carry [".gpu"]).
#   [CONFIGS=f32:32:1024,…] [TUNE=full | TUNE_SHAPES="…"] [OLD_CACHE=…] [FUSED_TILES="t64v"]
#   [GPU_TESTS="test/kernels/gemm.test.ts -t skinny"] [DECODE_IMAGES=3000] [SECONDS_PER_ROW=2]
#   bash bench/gpu-tune-compare.sh
set -uo pipefail
out=${OUT:-bench/results}
w="$out/tc"; archive=tc.tgz; mkdir -p "$w"
source bench/gpu-lib.sh
gpu_enter
S=${SECONDS_PER_ROW:-2}
cfgs=${CONFIGS:-f32:32:1024,mixed:32:1024,mixed:256:1024,mixed:256:2048,f32:256:1024,f32:256:2048}
gpu_tests
gpu_decode
export HALFWATT_TUNE_CACHE=off
t0=$SECONDS
if [ "${TUNE:-}" = full ]; then
  export HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
  timeout "${TUNE_S:-280}" node dist/src/cli/main.js tune --precision mixed,f32 --batch 32,256 \
    --neurons 1024,2048 --samples 1 > "$w/tune.txt" 2>&1
  echo "tune rc $? in $((SECONDS - t0)) s"; grep -v '^\[' "$w/tune.txt" | tail -2 | cut -c1-200
elif [ -n "${TUNE_SHAPES:-}" ]; then
  export HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
  shapes=(); for s in $TUNE_SHAPES; do shapes+=(--shape "$s"); done
  timeout "${TUNE_S:-120}" node dist/src/cli/main.js tune "${shapes[@]}" --samples 1 --json > "$w/tune.json" 2> "$w/tune.err"
  echo "tune rc $? in $((SECONDS - t0)) s"
fi
gpu_pack
timeout 150 node dist/bench/train.bench.js --configs $cfgs --modes runtime --seconds $S \
  --out "$w/train.json" > "$w/train.txt" 2>&1
echo "bench rc $?"; quiet < "$w/train.txt" | grep -E "samples/s" | cut -c1-160; gpu_pack
if [ -d old/dist ]; then
  HALFWATT_TUNE_CACHE="${OLD_CACHE:-off}" timeout 150 node old/dist/bench/train.bench.js --configs $cfgs \
    --modes runtime --seconds $S --out "$w/train-old.json" > "$w/train-old.txt" 2>&1
  echo "old bench rc $?"; quiet < "$w/train-old.txt" | grep -E "samples/s" | cut -c1-160; gpu_pack
fi
gpu_fused_tiles
