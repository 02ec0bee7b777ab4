#!/usr/bin/env bash
# The GPU-machine runs behind docs/performance.md and docs/telemetry.md, one command each.
# Here first: npm run build && bash ../shared/gpu/pack.sh --module commander --module benny \
#   --module jstat --module vitest --module fast-check
# Then a device call carrying [".gpu", "dist", "native/nvml/build/Release"] runs
#   bash bench/gpu-run.sh kernels     # tests on the GPU, `npm run bench`, the torch peer
#   bash bench/gpu-run.sh telemetry   # halfwatt measure around a GEMM load, sampler overhead
#   bash bench/gpu-run.sh trainer     # model tests, trainer bench vs PyTorch, end-to-end training
#     (pack with --module vitest --module vite --module sharp --module zod --module jstat --module commander
#      --module csv-parse --module yaml)
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
  trainer)
    # The trainer issue's runs: kernel + model tests on the GPU, the trainer bench (runtime vs the
    # naive composition, with a per-kernel step profile) beside the PyTorch peer, the optimizer
    # fixture, and an end-to-end run on the synthetic set in both precisions.
    nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$out/card.txt"
    node node_modules/vitest/vitest.mjs run test/kernels test/model > "$out/vitest-trainer.log" 2>&1
    echo "vitest rc $?"; grep -E "Test Files|Tests |FAIL|✗|×|Error:" "$out/vitest-trainer.log" | head -40
    node dist/bench/train.bench.js --seconds "${SECONDS_PER_ROW:-8}" --out "$out/train-bench.json" 2>&1 | quiet
    python3 bench/peers/torch_mlp.py --configs f32:32:1024,amp:32:1024,amp:256:1024,amp:256:2048,f32:256:1024,f32:256:2048 \
      --seconds "${SECONDS_PER_ROW:-8}" --out "$out/torch-mlp.json" > /dev/null 2> "$out/torch-mlp.err"
    echo "torch peer rc $?"
    python3 bench/peers/torch_optim_fixture.py > "$out/torch-optim.json" 2> "$out/torch-optim.err"
    echo "optim fixture rc $?"
    for p in f32 mixed; do
      $hw train --data synthetic:classes=10,size=32,train=4000,valid=500,test=500,seed=1 --precision $p \
        --batch 64 --neurons 512 --epochs 3 --cache-dir /tmp/hwcache --json > "$out/train-synthetic-$p.json" 2> "$out/train-synthetic-$p.err"
      echo "train $p rc $?"
    done
    ;;
  *) echo "usage: bench/gpu-run.sh kernels|telemetry|trainer" >&2; exit 2 ;;
esac
