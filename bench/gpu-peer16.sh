#!/usr/bin/env bash
# Issue 16's same-call comparison (one device call): `halfwatt tune` for the classifier's products,
# the trainer bench at the six configurations (with the copy and Adam ceilings), PyTorch's MLP peer
# in every variant (default Adam, fused, fused + torch.compile; for 16-bit also fp16 AMP and bf16
# autocast with fused Adam), a 1 GiB device copy timed with CUDA events, and the ratio table
# against the fastest PyTorch variant of each precision class. Everything lands in one archive.
# Here first: npm run build && bash ../shared/gpu/pack.sh --module sharp --module zod --module jstat \
#   --module commander --module csv-parse --module csv-stringify --module yaml --module better-sqlite3
set -uo pipefail
out=${OUT:-bench/results}
w="$out/peer16"; mkdir -p "$w"
rm -rf node_modules
source .gpu/enter.sh
export PYTHONUNBUFFERED=1
hw="node dist/src/cli/main.js"
quiet() { grep -v -E '^(Warning:|Running "|Progress:|\s*$)'; }
nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$w/card.txt"
python3 -c 'import torch; print("torch", torch.__version__)' | tee -a "$w/card.txt"
export HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
timeout "${TUNE_S:-200}" $hw tune --precision mixed,f32 --batch 32,256 --neurons 1024,2048 --samples 1 > "$w/tune.txt" 2>&1
echo "tune rc $?"; grep -v '^\[' "$w/tune.txt" | tail -3 | cut -c1-200
cfgs=f32:32:1024,mixed:32:1024,mixed:256:1024,mixed:256:2048,f32:256:1024,f32:256:2048
S=${SECONDS_PER_ROW:-3}
timeout 150 node dist/bench/train.bench.js --configs $cfgs --modes runtime --seconds $S --ceilings \
  --out "$w/train.json" > "$w/train.txt" 2>&1
echo "bench rc $?"; quiet < "$w/train.txt" | grep -E "samples/s|ceiling|copy" | cut -c1-160
python3 - <<'PY' | tee "$w/copy.txt"
import torch
a = torch.empty(2**30, dtype=torch.uint8, device="cuda"); b = torch.empty_like(a)
for _ in range(3): b.copy_(a)
s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
ts = []
for _ in range(10):
    s.record(); b.copy_(a); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e) / 1e3)
t = sorted(ts)[len(ts) // 2]
print(f"torch 1 GiB device copy: {t*1e3:.3f} ms, {2 * 2**30 / t / 1e12:.2f} TB/s (read + write), CUDA events, median of 10")
PY
timeout "${PEER_S:-330}" python3 bench/peers/torch_mlp.py --configs f32:32:1024,amp:32:1024,amp:256:1024,amp:256:2048,f32:256:1024,f32:256:2048 \
  --seconds $S --out "$w/torch-mlp.json" > "$w/torch-mlp.txt" 2> "$w/torch-mlp.err"
echo "torch peer rc $?"; tail -3 "$w/torch-mlp.err" | cut -c1-200
node dist/bench/compare.js --trainer "$w/train.json" "$w/torch-mlp.json" | tee "$w/table.md"
tar -C "$out" -czf "$out/peer16.tgz" peer16
