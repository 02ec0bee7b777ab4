#!/usr/bin/env bash
# halfwatt on the CPU adapter (lavapipe) vs PyTorch on the same CPU cores, same model, side by
# side in one run: the 2352 → 256 → 10 MLP (28×28×3 inputs, 10 classes, Adam lr 1e-3, f32, batch
# 32 by default), rounds interleaved A B A B … so that load from other processes falls on both;
# prints each round, the medians and halfwatt ÷ PyTorch. PyTorch: Debian's python3-torch (or any
# torch on /usr/bin/python3), the peer's variants that run on a CPU (default Adam there; fused
# Adam and fp16 autocast need CUDA in torch 1.13 and are reported as not run).
#   bench/cpu-train.sh [ROUNDS=5] [SECONDS=5]      env: BATCH, NEURONS, TUNE_CACHE, OUT (JSON)
# Run `npm run build` first. With TUNE_CACHE unset the script tunes this shape into a cache of its
# own first (halfwatt tune: the lanes kernel is a candidate on CPU adapters) and trains with it;
# TUNE_CACHE=off trains with the built-in heuristics.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
seconds=${2:-5}
batch=${BATCH:-32}
neurons=${NEURONS:-256}
work=$(mktemp -d)
cache=${TUNE_CACHE:-$work/gemm-tune.json}
threads=$(nproc)
if [[ -z ${TUNE_CACHE:-} ]]; then
  node dist/src/cli/main.js tune --batch "$batch" --neurons "$neurons" --inputs 2352 --classes 10 \
    --precision f32 --samples 1 --cache "$cache" >"$work/tune.txt" 2>/dev/null
  echo "tuned into $cache:" >&2
  cat "$work/tune.txt" >&2
fi
for r in $(seq 1 "$rounds"); do
  HALFWATT_TUNE_CACHE=$cache node dist/bench/train.bench.js --configs "f32:$batch:$neurons" \
    --image-size 28 --classes 10 --seconds "$seconds" --modes runtime --out "$work/halfwatt-$r.json" >/dev/null 2>&1
  /usr/bin/python3 bench/peers/torch_mlp.py --device cpu --threads "$threads" --configs "f32:$batch:$neurons" \
    --image-size 28 --classes 10 --seconds "$seconds" --out "$work/torch-$r.json" >/dev/null 2>&1
done
/usr/bin/python3 - "$work" "$rounds" "${OUT:-}" <<'PY'
import json, statistics, sys
work, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hw, pt, pv = [], [], []
for r in range(1, rounds + 1):
    h = json.load(open(f"{work}/halfwatt-{r}.json"))["rows"][0]
    t = json.load(open(f"{work}/torch-{r}.json"))["configs"][0]
    best = max((v for v in t["variants"] if v.get("samples_per_s")), key=lambda v: v["samples_per_s"])
    hw.append(h["samplesPerSecond"]); pt.append(best["samples_per_s"]); pv.append(best["variant"])
    print(f"round {r}: halfwatt {h['samplesPerSecond']:8.0f} samples/s   PyTorch ({best['variant']}) {best['samples_per_s']:8.0f}")
mh, mp = statistics.median(hw), statistics.median(pt)
print(f"median: halfwatt {mh:.0f} samples/s, PyTorch {mp:.0f}: halfwatt ÷ PyTorch = {mh / mp:.3f}")
if out:
    json.dump(dict(halfwatt=hw, torch=pt, torch_variant=pv, median_ratio=mh / mp), open(out, "w"), indent=2)
PY
