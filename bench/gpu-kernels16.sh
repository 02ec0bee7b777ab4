#!/usr/bin/env bash
# Issue 16's GPU-kernel run (one device call): the fused weight-gradient/optimizer and optimizer
# tests on the GPU (tensor-core path included), then the trainer bench at the six configurations
# (fused vs unfused, per-kernel tables, 1 GiB copy and Adam ceilings), with the built-in
# heuristics and again after `halfwatt tune`. Everything lands in one archive in $OUT.
# Here first: npm run build && bash ../shared/gpu/pack.sh --module vitest --module vite \
#   --module sharp --module zod --module jstat --module commander --module csv-parse --module yaml
set -uo pipefail
out=${OUT:-bench/results}
w="$out/kernels16"; mkdir -p "$w"
rm -rf node_modules
source .gpu/enter.sh
hw="node dist/src/cli/main.js"
quiet() { grep -v -E '^(Warning:|Running "|Progress:|\s*$)'; }
nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$w/card.txt"
timeout "${TEST_S:-150}" node node_modules/vitest/vitest.mjs run test/kernels/weight-update.test.ts \
  test/kernels/adam.test.ts test/kernels/sgd.test.ts test/model/trainer-steps.test.ts > "$w/vitest.log" 2>&1
echo "vitest rc $?"; grep -E "Test Files|Tests |FAIL|×|skipped:" "$w/vitest.log" | sort -u | head -20
grep -E -A3 "AssertionError|Error:" "$w/vitest.log" | head -16 | cut -c1-300
cfgs=f32:32:1024,mixed:32:1024,mixed:256:1024,mixed:256:2048,f32:256:1024,f32:256:2048
S=${SECONDS_PER_ROW:-2}
export HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
timeout 120 node dist/bench/train.bench.js --configs $cfgs --modes runtime,fused --seconds $S --ceilings \
  --out "$w/train-heuristics.json" 2>&1 | quiet | cut -c1-160
echo "bench heuristics rc $?"
timeout "${TUNE_S:-170}" $hw tune --precision mixed,f32 --batch 32,256 --neurons 1024,2048 --samples 2 > "$w/tune.txt" 2>&1
echo "tune rc $?"; grep -v '^\[' "$w/tune.txt" | tail -4
timeout 100 node dist/bench/train.bench.js --configs $cfgs --modes runtime,fused --seconds $S \
  --out "$w/train-tuned.json" 2>&1 | quiet | grep -E "samples/s" | cut -c1-160
echo "bench tuned rc $?"
tar -C "$out" -czf "$out/kernels16.tgz" kernels16 && rm -rf "$w"
