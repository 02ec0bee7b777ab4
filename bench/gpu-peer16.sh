#!/usr/bin/env bash
# Issue 16's same-call comparison, one device call: the GPU tests named in GPU_TESTS (if any), the
# decode bench (DECODE_IMAGES, issue 18), the GEMM tune, the trainer bench at the six
# configurations (MODES, default runtime = the default step; with the copy and Adam ceilings
# measured in the same run, for the per-kernel table), the fused first layer on the tiles
# named in FUSED_TILES, PyTorch's MLP peer in VARIANTS (default: every variant that was ever the
# fastest of its class — default Adam, fused, fused + torch.compile; for 16-bit fp16 AMP and bf16
# autocast with fused Adam), and the ratio table against the fastest PyTorch variant of each
# precision class. Everything lands in $OUT/peer16.tgz.
# Tuning: without HALFWATT_TUNE_CACHE, a full tune into a fresh cache; with it and TUNE_SHAPES
# (tune --shape specs, space-separated), those products re-tuned into a copy of that cache.
# Here first: npm run build && bash bench/gpu-pack.sh [--no-tests] (carry [".gpu"]).
#   [GPU_TESTS="test/kernels/weight-update.test.ts"] [SECONDS_PER_ROW=3] [DECODE_IMAGES=4000]
#   [HALFWATT_TUNE_CACHE=… [TUNE_SHAPES="32x1024x150528:f32>f32:bias:relu …"]] [FUSED_TILES="t64v"]
#   [FUSED_CONFIGS=f32:32:1024,mixed:32:1024,f32:256:1024]
#   [VARIANTS=fused,fused+compile,bf16-fused] [PEER=0] [CONFIGS=mixed:256:1024,…]
#   [MODES=runtime,overlap OVERLAP_CHUNKS=2,4,8] [DRAIN_EVERY=20 [DRAIN_CONFIGS=…]] [BENCH_S=200]
#   bash bench/gpu-peer16.sh
set -uo pipefail
out=${OUT:-bench/results}
w="$out/peer16"; archive=peer16.tgz; mkdir -p "$w"
source bench/gpu-lib.sh
gpu_enter
export PYTHONUNBUFFERED=1
python3 -c 'import torch; print("torch", torch.__version__)' | tee -a "$w/card.txt"
S=${SECONDS_PER_ROW:-3}
gpu_tests
gpu_decode
t0=$SECONDS
if [ -z "${HALFWATT_TUNE_CACHE:-}" ]; then
  export HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
  # One precision at a time, each written to the cache as it ends: a tune cut off by its time
  # limit loses one half, not everything.
  for p in mixed f32; do
    timeout "$(( ${TUNE_S:-200} / 2 ))" node dist/src/cli/main.js tune --precision $p --batch 32,256 \
      --neurons 1024,2048 --samples 1 > "$w/tune-$p.txt" 2>&1
    echo "tune $p rc $? at $((SECONDS - t0)) s"; grep -v '^\[' "$w/tune-$p.txt" | tail -2 | cut -c1-200
  done
elif [ -n "${TUNE_SHAPES:-}" ]; then
  cp "$HALFWATT_TUNE_CACHE" "$w/gemm-tune.json"; export HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
  shapes=(); for s in $TUNE_SHAPES; do shapes+=(--shape "$s"); done
  timeout "${TUNE_S:-120}" node dist/src/cli/main.js tune "${shapes[@]}" --samples 1 > "$w/tune.txt" 2>&1
  echo "tune rc $? in $((SECONDS - t0)) s"; grep -v '^\[' "$w/tune.txt" | cut -c1-200
fi
cfgs=${CONFIGS:-f32:32:1024,mixed:32:1024,mixed:256:1024,mixed:256:2048,f32:256:1024,f32:256:2048}
timeout "${BENCH_S:-200}" node dist/bench/train.bench.js --configs "$cfgs" --modes "${MODES:-runtime}" --seconds $S \
  --overlap-chunks "${OVERLAP_CHUNKS:-4}" --ceilings --out "$w/train.json" > "$w/train.txt" 2>&1
echo "bench rc $?"; quiet < "$w/train.txt" | grep -E "samples/s" | cut -c1-200; gpu_pack
# DRAIN_EVERY=N: the default step again with the queue drained every N steps (how the bench timed
# until 2026-12-08), so a drain's cost is the difference from the rows above; at DRAIN_CONFIGS
# (default: every configuration), within DRAIN_S seconds.
if [ -n "${DRAIN_EVERY:-}" ]; then
  timeout "${DRAIN_S:-120}" node dist/bench/train.bench.js --configs "${DRAIN_CONFIGS:-$cfgs}" --modes runtime --seconds $S \
    --drain-every "$DRAIN_EVERY" --out "$w/train-drain$DRAIN_EVERY.json" > "$w/train-drain$DRAIN_EVERY.txt" 2>&1
  echo "bench (drained every $DRAIN_EVERY) rc $?"; quiet < "$w/train-drain$DRAIN_EVERY.txt" | grep -E "samples/s" | cut -c1-200; gpu_pack
fi
# PEER=0: halfwatt only (a kernel experiment's tune and step, no PyTorch rows or ratio table).
[ "${PEER:-1}" = 0 ] && { gpu_fused_tiles; exit 0; }
timeout "${PEER_S:-300}" python3 bench/peers/torch_mlp.py \
  --configs "${cfgs//mixed/amp}" \
  --variants "${VARIANTS:-adam,fused,fused+compile,amp-fused,bf16-fused}" --seconds $S \
  --out "$w/torch-mlp.json" > "$w/torch-mlp.txt" 2> "$w/torch-mlp.err"
echo "torch peer rc $?"; tail -2 "$w/torch-mlp.err" | cut -c1-200
node dist/bench/compare.js --trainer "$w/train.json" "$w/torch-mlp.json" | tee "$w/table.md"
gpu_pack
gpu_fused_tiles
