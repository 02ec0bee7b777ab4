#!/usr/bin/env bash
# The GPU-machine runs behind docs/performance.md and docs/telemetry.md, one command each.
# Here first: npm run build && bash ../shared/gpu/pack.sh --module commander --module benny \
#   --module jstat --module vitest --module fast-check
# Then a device call carrying [".gpu", "dist", "native/nvml/build/Release"] runs
#   bash bench/gpu-run.sh kernels     # tests on the GPU, `npm run bench`, the torch peer
#   bash bench/gpu-run.sh telemetry   # halfwatt measure around a GEMM load, sampler overhead
# Results go to $OUT (or bench/results when OUT is unset).
set -uo pipefail
out=${OUT:-bench/results}
mkdir -p "$out"
rm -rf node_modules
source .gpu/enter.sh
export PYTHONUNBUFFERED=1
hw="node dist/src/cli/main.js"
quiet() { grep -v -E '^(Warning:|Running "|Progress:|\s*$|  .*:$|    [0-9]+ ops/s)'; }
case "${1:-}" in
  kernels)
    nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$out/card.txt"
    $hw devices --json > "$out/devices.json" 2>/dev/null
    node node_modules/vitest/vitest.mjs run test/kernels test/telemetry > "$out/vitest.log" 2>&1
    echo "vitest rc $?"; grep -E "Test Files|Tests |FAIL|✗|×" "$out/vitest.log" | head -20
    grep -E "skipped:" "$out/vitest.log" | sort -u | head -5
    node dist/bench/gemm.bench.js --out "$out/bench.json" 2>&1 | quiet | tail -28
    python3 bench/peers/torch_matmul.py --out "$out/torch.json" | tail -26
    ;;
  telemetry)
    $hw devices 2>/dev/null | sed -n '/Telemetry/,$p' | head -12
    $hw measure --nvidia-smi --hz 10 --baseline-seconds 10 --cooldown-seconds 10 --json -- \
      node dist/bench/sampler-overhead.js --load 30 > "$out/agreement-10hz.json" 2> "$out/measure-10hz.err"
    echo "measure 10 Hz rc $?"
    $hw measure --nvidia-smi --hz 100 --baseline-seconds 10 --json -- \
      node dist/bench/sampler-overhead.js --load 20 > "$out/agreement-100hz.json" 2> "$out/measure-100hz.err"
    echo "measure 100 Hz rc $?"
    node dist/bench/sampler-overhead.js --out "$out/sampler-overhead.json" 2>&1 | grep -v '^Warning' | tail -12
    ;;
  *) echo "usage: bench/gpu-run.sh kernels|telemetry" >&2; exit 2 ;;
esac
