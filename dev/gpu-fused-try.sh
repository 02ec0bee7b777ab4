#!/usr/bin/env bash
# One device call timing the first layer's fused weight gradient + optimizer on tensor-core tiles
# (issue 16) against the default (unfused) step, all at the same configurations in one call, each
# run archived as it ends into $OUT/fz.tgz. GPU_TESTS (vitest arguments) runs those tests first.
# Here first: npm run build && bash bench/gpu-pack.sh (carry [".gpu"]).
#   [GPU_TESTS=…] [HALFWATT_TUNE_CACHE=…] [FZ_CONFIGS=mixed:256:1024] [FZ_S=2]
#   FZ_RUNS="default b2x2a4x4 b2x2a4x2" bash dev/gpu-fused-try.sh
# A run is a tile name (the first layer fused on that tile, train.bench --modes fused
# --fused-tile), "default" (the step as the trainer runs it) or "unfused" (dW stored, then Adam).
set -uo pipefail
out=${OUT:-bench/results}
w="$out/fz"; archive=fz.tgz; mkdir -p "$w"
source bench/gpu-lib.sh
gpu_enter
gpu_tests; gpu_pack
gpu_wrong_edit
for run in ${FZ_RUNS:-default}; do
  case $run in
    default) args=(--modes runtime) ;;
    unfused) args=(--modes unfused) ;;
    *) args=(--modes fused --fused-tile "$run") ;;
  esac
  timeout 90 node dist/bench/train.bench.js --configs "${FZ_CONFIGS:-mixed:256:1024}" \
    "${args[@]}" --seconds "${FZ_S:-2}" --out "$w/$run.json" > "$w/$run.txt" 2>&1
  echo "$run rc $?"; quiet < "$w/$run.txt" | grep -E "samples/s" | cut -c1-260; gpu_pack
done
