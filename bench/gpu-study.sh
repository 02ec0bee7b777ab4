#!/usr/bin/env bash
# One device call's share of a suite on the GPU machine (docs/results/*/README.md say which ran).
#   bash bench/gpu-study.sh SUITE_FILE NAME SECONDS [suite options…]
# The store lives in .study/NAME (git-ignored, so it stays on the machine between calls while the
# machine is held): the first call starts the suite, a later one resumes it. The suite is sent
# SIGTERM after SECONDS (it stops after the current step, marks that run interrupted, and a later
# --resume redoes it). The decoded dataset is cached in .study/cache across calls. The store,
# the log and whatever report was written come back as $OUT/NAME.tar.gz.
# Run after `source .gpu/enter.sh`; GEMM choices from HALFWATT_TUNE_CACHE when set.
set -uo pipefail
suite=$1 name=$2 limit=$3
shift 3
out=.study/$name
mkdir -p "$out" .study/cache
resume=()
[ -f "$out/results.sqlite" ] && resume=(--resume)
echo "gpu-study: $name, ${resume[*]:-fresh}, ${limit}s, $(date -u +%FT%TZ)" | tee -a "$out/progress.log"
timeout -s TERM -k 60 "$limit" node dist/src/cli/main.js suite "$suite" --out "$out" \
  --cache-dir .study/cache "${resume[@]}" "$@" 2>&1 | tee -a "$out/progress.log" | grep -v "epoch [2-4]/"
echo "gpu-study: suite exit ${PIPESTATUS[0]}" | tee -a "$out/progress.log"
tar -czf "${OUT:-/tmp}/$name.tar.gz" -C .study "$name"
