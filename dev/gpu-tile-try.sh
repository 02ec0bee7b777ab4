#!/usr/bin/env bash
# One device call of kernel experiments (issue 16), each step archived as it ends into
# $OUT/try.tgz: dev/tune-try.js on the products that bound the study's steps, with tiles and
# splits the tuner does not try, and — when .gpu/old.tar.xz holds another build (old/dist,
# old/shaders) — that build's skinny kernel on the same shapes, for a same-card comparison.
# GPU_TESTS (vitest arguments) runs those tests first (then pack without --no-tests).
# Here first: npm run build && bash bench/gpu-pack.sh --no-tests (carry [".gpu"]).
#   [GPU_TESTS="test/kernels/gemm.test.ts"] [WRONG_EDIT=… WRONG_TESTS=… (bench/gpu-lib.sh)]
#   [STEPS="skinny matrix32 dw256 staged f32skinny f32big k64 frag words persist robust mma"]
#   bash dev/gpu-tile-try.sh
set -uo pipefail
out=${OUT:-bench/results}
w="$out/try"; archive=try.tgz; mkdir -p "$w"
source bench/gpu-lib.sh
gpu_enter
export HALFWATT_TUNE_CACHE=off
gpu_tests
gpu_wrong_edit
try() { # name, timeout, build dir, args…
  local name=$1 limit=$2 build=$3; shift 3
  local t0=$SECONDS
  timeout "$limit" node "$build/dev/tune-try.js" "$@" --out "$w/$name.json" > "$w/$name.txt" 2> "$w/$name.err"
  echo "== $name rc $? in $((SECONDS - t0)) s"; grep -v '^\s*$' "$w/$name.txt" | head -${TOP:-14} | cut -c1-110
  gpu_pack
}
f32fwd='32x1024x150528:f32>f32:bias:relu'
f16fwd='32x1024x150528:bias:relu'
for step in ${STEPS:-skinny matrix32 dw256}; do
  case $step in
    skinny)
      try skinny-main 60 dist --shape "$f32fwd" --shape "$f16fwd" --skinny-splits 64,128,256 --samples 3
      [ -d old/dist ] && try skinny-alt 60 old/dist --shape "$f32fwd" --shape "$f16fwd" --skinny-splits 64,128,256 --samples 3
      ;;
    matrix32)
      try matrix32 150 dist --shape "$f16fwd" --shape '32x2048x150528:bias:relu' --skinny-splits 128 \
        --matrix-tiles b1x1a2x2,p1x1a2x2,u1x1a2x2,p1x1a2x4,u1x1a2x4,p1x2a2x2,p1x4a2x1,b1x2a2x2 \
        --splits 16,32,64,128 --samples 2
      ;;
    dw256)
      try dw256 150 dist --shape '150528x1024x256:tA:f16>f32' --shape '150528x1024x256:f16>f32' \
        --shape '1024x150528x256:tA:f16>f32' --shape '150528x1024x256:tA' \
        --matrix-tiles p1x1a4x4,u1x1a4x4,b2x4a4x4,p2x2a4x4,p1x2a4x4,p2x1a4x4,u2x2a4x4,p2x2a2x4,p2x2a2x2 \
        --splits 1 --samples 3
      ;;
    staged) # the weight gradients (Xᵀ·dZ) on staged tiles, Aᵀ staged in its stored order
      try staged 150 dist --shape '150528x1024x256:tA:f16>f32' --shape '150528x2048x256:tA:f16>f32' \
        --shape '150528x1024x32:tA:f16>f32' \
        --matrix-tiles p1x1a4x4,b2x4a4x4,b2x2a2x2,s2x2a2x2,b2x2a4x4,b4x2a4x4,b2x4a2x4,b1x1a4x4,b1x2a4x4 \
        --splits 1 --samples 3
      ;;
    f32skinny) # the f32 batch-32 forwards: 32 rows a workgroup against 16
      try f32skinny 90 dist --shape "$f32fwd" --shape '32x2048x150528:f32>f32:bias:relu' \
        --skinny-splits 64,128,256 --skinny-rows 16 --samples 3
      ;;
    f32big) # the f32 batch-256 products on the vector tiles, single- and double-buffered
      try f32big 150 dist --shape '256x1024x150528:f32>f32:bias:relu' --shape '150528x1024x256:tA:f32>f32' \
        --shape '256x2048x150528:f32>f32:bias:relu' --tiles t128v,t128vd,t128k16vd,t64v,t64vd,t128x64v,t64x128v --splits 1,18,33,66 --samples 2
      ;;
    k64) # tensor-core tiles staged 64 deep, and 256×128 (8 subgroups): the batch-256 weight gradients and forward
      try k64 150 dist --shape '150528x1024x256:tA:f16>f32' --shape '150528x2048x256:tA:f16>f32' \
        --shape '256x1024x150528:bias:relu' \
        --matrix-tiles b2x2a4x4,b2x2a4x4k64,b4x2a2x4k64,b2x2a2x4k64,b2x4a4x4,b2x4a4x4k64,b4x2a4x4 --splits 1,8,16 --samples 3
      ;;
    frag) # tensor-core tiles staged through fragments (kind c) against the staged kinds
      try frag 150 dist --shape '150528x1024x256:tA:f16>f32' --shape '150528x2048x256:tA:f16>f32' \
        --shape '256x1024x150528:bias:relu' --shape '150528x1024x32:tA:f16>f32' \
        --matrix-tiles b2x2a4x4,c2x2a4x4,c2x4a4x4,b2x4a4x4,c2x2a4x4k64 --splits 1,8,16 --samples 3
      ;;
    words) # kinds n (staged by 32-bit words) and r (rotated stores), dev/gemm-tiles.ts, against kind b at the batch-256 tensor-core products
      try words 120 dist --shape '150528x1024x256:tA:f16>f32' --shape '150528x2048x256:tA:f16>f32' \
        --matrix-tiles b2x2a4x4,n2x2a4x4,r2x2a4x4,b2x4a4x4,n2x4a4x4,r2x4a4x4 --splits 1 --samples 3
      try words-fwd 90 dist --shape '256x1024x150528:bias:relu' --shape '256x2048x150528:bias:relu' \
        --matrix-tiles b2x2a4x4,n2x2a4x4,r2x2a4x4,b2x4a4x4,n2x4a4x4,r2x4a4x4 --splits 8,16 --samples 3
      ;;
    persist) # kind q (persistent, dev/gemm-tiles.ts) against kind b at the batch-256 weight gradients, 1 to 4 workgroups an SM (132 SMs)
      try persist 120 dist --shape '150528x1024x256:tA:f16>f32' --shape '150528x2048x256:tA:f16>f32' \
        --matrix-tiles b2x2a4x4,q2x2a4x4w132,q2x2a4x4w264,q2x2a4x4w396,q2x2a4x4w528,qr2x2a4x4w264,qn2x2a4x4w264,b2x4a4x4,q2x4a4x4w132,q2x4a4x4w264 \
        --splits 1 --samples 3
      ;;
    robust) # Dawn's robustness transform (an index clamp on every array access) on the batch-256
      # products' production tiles, on and then off, and the tensor-core ceilings with it off: a
      # large gain off says the staging stores' index arithmetic (8 half stores a 16-byte chunk)
      # costs more than the clamps' share of 2–4 % measured at 4096³ on the older direct kinds.
      for r in on off; do
        if [ $r = off ]; then export HALFWATT_DAWN_TOGGLES=disable_robustness; fi
        try robust-$r-f16 120 dist --shape '150528x1024x256:tA:f16>f32' --shape '256x1024x150528:bias:relu' \
          --matrix-tiles b2x2a4x4,b2x4a4x4 --splits 1,16 --samples 3
        try robust-$r-f32 120 dist --shape '256x1024x150528:f32>f32:bias:relu' --shape '150528x1024x256:tA:f32>f32' \
          --tiles t128v,t64v --splits 1,18 --samples 3
      done
      timeout 90 node dist/dev/mma-ceiling.js --wgs 1056 --out "$w/mma-robust-off.json" > "$w/mma-robust-off.txt" 2>&1
      echo "== mma (robustness off) rc $?"; grep -v '^Warning' "$w/mma-robust-off.txt" | cut -c1-110; gpu_pack
      unset HALFWATT_DAWN_TOGGLES
      ;;
    mma) # the tensor-core path's ceilings: multiply-adds fed from registers, workgroup memory, storage
      timeout 90 node dist/dev/mma-ceiling.js --wgs 1056 --out "$w/mma.json" > "$w/mma.txt" 2>&1
      echo "== mma rc $?"; grep -v '^Warning' "$w/mma.txt" | cut -c1-110; gpu_pack
      ;;
  esac
done
