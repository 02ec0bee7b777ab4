# Steps the device-call scripts share (sourced by bench/gpu-peer16.sh and bench/gpu-tune-compare.sh,
# never run alone). Each writes into the results folder $w and archives it as $out/$archive after
# its step, so a call cut off at its time limit still returns what it finished.

# Node, the Vulkan loader and the packed packages (.gpu/enter.sh), then the build and, when packed,
# an earlier build (old/dist, old/shaders) for a before/after; the card into card.txt.
gpu_enter() {
  source .gpu/enter.sh > /dev/null 2>&1
  [ -f .gpu/extra.tar.xz ] && tar -xJf .gpu/extra.tar.xz
  [ -f .gpu/old.tar.xz ] && tar -xJf .gpu/old.tar.xz
  nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$w/card.txt"
}

gpu_pack() { tar -C "$out" -czf "$out/$archive" "$(basename "$w")"; }

# A trainer bench's output without Dawn's warnings and progress lines.
quiet() { grep -v -E '^(Warning:|Running "|Progress:|\s*$)'; }

# The GPU tests named in GPU_TESTS (vitest arguments), if any, within GPU_TESTS_S seconds.
gpu_tests() {
  [ -n "${GPU_TESTS:-}" ] || return 0
  timeout "${GPU_TESTS_S:-120}" node node_modules/vitest/vitest.mjs run $GPU_TESTS > "$w/vitest.log" 2>&1
  echo "GPU tests rc $?"; grep -E "Test Files|Tests |×" "$w/vitest.log" | head -8
}

# WRONG_EDIT (a sed expression on WRONG_FILE, default src/kernels/gemm-subgroup-matrix.ts) and
# WRONG_TESTS (vitest arguments): those tests again with the edit — they should fail — then the
# file restored. vitest runs the TypeScript sources, so dist is unaffected.
gpu_wrong_edit() {
  [ -n "${WRONG_EDIT:-}" ] || return 0
  local f=${WRONG_FILE:-src/kernels/gemm-subgroup-matrix.ts}
  cp "$f" "$w/wrong-orig.txt"; sed -i "$WRONG_EDIT" "$f"
  cmp -s "$f" "$w/wrong-orig.txt" && echo "wrong edit changed nothing in $f"
  timeout "${WRONG_S:-90}" node node_modules/vitest/vitest.mjs run $WRONG_TESTS > "$w/wrong.log" 2>&1
  echo "wrong-edit tests rc $? (non-zero expected)"; grep -E "Test Files|Tests |AssertionError" "$w/wrong.log" | head -4
  cp "$w/wrong-orig.txt" "$f"; gpu_pack
}

# The decode bench over DECODE_IMAGES images (issue 18's throughput target), with the host's CPU.
gpu_decode() {
  [ -n "${DECODE_IMAGES:-}" ] || return 0
  nproc > "$w/nproc.txt"; lscpu > "$w/lscpu.txt" 2>/dev/null
  timeout 90 node dist/bench/decode.bench.js --images "$DECODE_IMAGES" --out "$w/decode.json" > "$w/decode.txt" 2>&1
  echo "decode rc $?"; cut -c1-240 "$w/decode.txt"; gpu_pack
}

# The fused first layer on each tile in FUSED_TILES, at FUSED_CONFIGS (default f32 and mixed batch
# 32, f32 batch 256).
gpu_fused_tiles() {
  for tile in ${FUSED_TILES:-}; do
    timeout 60 node dist/bench/train.bench.js --configs "${FUSED_CONFIGS:-f32:32:1024,mixed:32:1024,f32:256:1024}" --modes fused \
      --fused-tile "$tile" --seconds "$S" --out "$w/fused-$tile.json" > "$w/fused-$tile.txt" 2>&1
    echo "fused $tile rc $?"; quiet < "$w/fused-$tile.txt" | grep -E "samples/s" | cut -c1-200; gpu_pack
  done
}
