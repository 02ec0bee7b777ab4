#!/usr/bin/env bash
# One configuration of issue 16's table measured again, alternately, to settle a ratio whose
# calls disagree: the config's products tuned into a fresh cache (so any card serves), then
# REPEATS rounds of halfwatt's default step and PyTorch's VARIANTS, each round joined into a
# ratio table. Everything lands in $OUT/repeat.tgz.
# Here first: npm run build && bash bench/gpu-pack.sh --no-sharp --no-tests (carry [".gpu"]).
#   CONFIG=f32:32:1024 VARIANTS=fused,fused+compile [REPEATS=2] [SECONDS_PER_ROW=4]
#   bash bench/gpu-row-repeat.sh
set -uo pipefail
out=${OUT:-bench/results}
w="$out/repeat"; archive=repeat.tgz; mkdir -p "$w"
source bench/gpu-lib.sh
gpu_enter
export PYTHONUNBUFFERED=1 HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
IFS=: read -r precision batch neurons <<< "$CONFIG"
peer=${precision/mixed/amp}:$batch:$neurons
timeout 120 node dist/src/cli/main.js tune --precision "$precision" --batch "$batch" --neurons "$neurons" \
  --samples 1 > "$w/tune.txt" 2>&1
echo "tune rc $?"; gpu_pack
S=${SECONDS_PER_ROW:-4}
for r in $(seq 1 "${REPEATS:-2}"); do
  timeout 90 node dist/bench/train.bench.js --configs "$CONFIG" --modes runtime --seconds "$S" \
    --out "$w/train-$r.json" > "$w/train-$r.txt" 2>&1
  echo "round $r halfwatt rc $?"; quiet < "$w/train-$r.txt" | grep -E "samples/s" | cut -c1-160
  timeout 150 python3 bench/peers/torch_mlp.py --configs "$peer" --variants "$VARIANTS" --seconds "$S" \
    --out "$w/torch-$r.json" > "$w/torch-$r.txt" 2> "$w/torch-$r.err"
  echo "round $r torch rc $?"
  node dist/bench/compare.js --trainer "$w/train-$r.json" "$w/torch-$r.json" | tee "$w/table-$r.md" | tail -n 1
  gpu_pack
done
