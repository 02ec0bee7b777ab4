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
  tune)
    # The GEMM issue's runs: the tensor-core tests on the GPU, `halfwatt tune` at 4096³ and for
    # the mixed-precision classifier's products (its cache then read by training), torch.matmul at
    # 4096³, and the trainer's samples/s with the cache off and on beside PyTorch AMP. Everything
    # lands in one archive ($OUT keeps few files).
    w="$out/tune-run"; mkdir -p "$w"
    nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$w/card.txt"
    timeout "${TEST_S:-150}" node node_modules/vitest/vitest.mjs run test/kernels/gemm.test.ts test/kernels/gemm-tune.test.ts > "$w/vitest-gemm.log" 2>&1
    echo "vitest rc $?"; grep -E "Test Files|Tests |FAIL|×" "$w/vitest-gemm.log" | head -12
    grep -E -A3 "Error:|AssertionError|expected" "$w/vitest-gemm.log" | head -30 | cut -c1-300
    export HALFWATT_TUNE_CACHE="$w/gemm-tune.json"
    timeout 90 $hw tune --shape '4096x4096x4096' --shape '4096x4096x4096:f16>f32' --samples 3 --json > "$w/tune-square.json" 2> "$w/tune-square.err"
    echo "tune square rc $?"
    node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));for(const x of r.results){const c=x.candidates.filter(c=>c.seconds).sort((a,b)=>a.seconds-b.seconds);console.log(x.key);for(const y of c.slice(0,12))console.log("  ",JSON.stringify(y.choice),(x.flops/y.seconds/1e12).toFixed(1));console.log("  failed:",x.candidates.filter(c=>!c.seconds).map(c=>c.choice.matrixTile+"/"+c.choice.splitK+": "+String(c.error).slice(0,150)).slice(0,6).join("\n   "))}' "$w/tune-square.json"
    timeout 100 $hw tune --precision mixed --batch 32 --neurons 1024 --samples 3 > "$w/tune-mixed-32.txt" 2>&1
    echo "tune mixed 32 rc $?"; grep -v '^\[' "$w/tune-mixed-32.txt" | head -20
    timeout 160 $hw tune --precision mixed --batch 256 --neurons 1024,2048 --samples 3 > "$w/tune-mixed-256.txt" 2>&1
    echo "tune mixed 256 rc $?"; grep -v '^\[' "$w/tune-mixed-256.txt" | head -24
    python3 bench/peers/torch_matmul.py --sizes 4096 --out "$w/torch.json" 2>&1 | tail -22
    cfgs=mixed:32:1024,mixed:256:1024,mixed:256:2048
    HALFWATT_TUNE_CACHE=off node dist/bench/train.bench.js --configs $cfgs --modes runtime --seconds 3 --out "$w/train-before.json" 2>&1 | quiet | grep -E "samples/s" | cut -c1-150
    node dist/bench/train.bench.js --configs $cfgs --modes runtime --seconds 3 --out "$w/train-after.json" 2>&1 | quiet | grep -E "samples/s" | cut -c1-150
    python3 bench/peers/torch_mlp.py --configs amp:32:1024,amp:256:1024,amp:256:2048 --seconds 3 --out "$w/torch-mlp.json" 2> "$w/torch-mlp.err" | tail -5
    tar czf "$out/tune-run.tar.gz" -C "$out" tune-run
    ;;
  trainer-tuned)
    # The trainer with the built-in heuristics (no tune cache) and with the cache `halfwatt tune`
    # wrote on this card (TUNE_CACHE, carried in the tree), beside PyTorch in the same call.
    nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$out/card.txt"
    cfgs=f32:32:1024,mixed:32:1024,mixed:256:1024,mixed:256:2048,f32:256:1024,f32:256:2048
    HALFWATT_TUNE_CACHE=off node dist/bench/train.bench.js --configs $cfgs --modes runtime --seconds 4 --out "$out/train-heuristics.json" 2>&1 | quiet | grep -E "samples/s" | cut -c1-110
    HALFWATT_TUNE_CACHE="$TUNE_CACHE" node dist/bench/train.bench.js --configs $cfgs --modes runtime --seconds 4 --out "$out/train-tuned.json" 2>&1 | quiet | grep -E "samples/s" | cut -c1-110
    python3 bench/peers/torch_mlp.py --configs f32:32:1024,amp:32:1024,amp:256:1024,amp:256:2048,f32:256:1024,f32:256:2048 \
      --seconds 4 --out "$out/torch-mlp.json" 2> "$out/torch-mlp.err" | grep samples
    ;;
  *) echo "usage: bench/gpu-run.sh kernels|telemetry|trainer|tune|trainer-tuned" >&2; exit 2 ;;
esac
