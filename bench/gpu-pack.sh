#!/usr/bin/env bash
# Packs .gpu/ for this project's device calls in one step, small enough that a first call can
# carry it alone (a call carries at most 64 MiB: tracked files + carried paths):
#   1. ../shared/gpu/pack.sh with the packages the suite, the benches and the GPU tests load;
#   2. the packed node_modules trimmed of what never loads there (better-sqlite3's sources and
#      other platforms' prebuilds, zod's TypeScript sources, lightningcss — vite's CSS path, no
#      test has CSS — and csv-*'s browser builds): 22.6 → about 20 MB compressed;
#      with --no-tests also vitest and vite (bench and suite calls only); with --kernels only
#      what the GPU tests, the trainer, optimizer and decode benches load (vitest, vite, sharp,
#      zod: no suite, no store); --no-sharp leaves sharp and its libvips out (17 MB: no image
#      decoding; tune and the trainer bench draw their images);
#   3. the build (dist) and the NVML addon as .gpu/extra.tar.xz (about 0.4 MB), so they travel
#      with .gpu: the command starts `source .gpu/enter.sh; tar -xJf .gpu/extra.tar.xz`.
# Run from the project root after `npm run build`. Prints what the call will carry.
#   bash bench/gpu-pack.sh [--no-tests] [--kernels] [--no-sharp]
set -euo pipefail
[ -f package.json ] || { echo "gpu-pack.sh: run it from the project root" >&2; exit 2; }
tests=1
mods=(commander zod yaml csv-parse csv-stringify jstat better-sqlite3 sharp)
for a in "$@"; do
  case "$a" in
    --no-tests) tests=0 ;;
    --kernels) mods=(sharp zod) ;;
    --no-sharp) mods=("${mods[@]/sharp}") ;;
    *) echo "gpu-pack.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
[ -d dist/src ] || { echo "gpu-pack.sh: no dist/ (npm run build first)" >&2; exit 2; }
[ $tests = 1 ] && mods+=(vitest vite)
args=()
for m in "${mods[@]}"; do [ -n "$m" ] && args+=(--module "$m"); done
bash ../shared/gpu/pack.sh "${args[@]}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
xz -dc .gpu/node_modules.tar.xz | tar -xf - -C "$stage"
rm -rf "$stage"/better-sqlite3/deps "$stage"/better-sqlite3/src "$stage"/zod/src \
  "$stage"/lightningcss-* "$stage"/csv-parse/dist/iife "$stage"/csv-parse/dist/umd \
  "$stage"/csv-stringify/dist/iife "$stage"/csv-stringify/dist/umd
if [ -d "$stage/better-sqlite3/prebuilds" ]; then
  find "$stage/better-sqlite3/prebuilds" -mindepth 1 -maxdepth 1 ! -name linux-x64.node -exec rm -rf {} +
fi
tar -cJf .gpu/node_modules.tar.xz -C "$stage" .
# The build without its source maps (half its size; nothing reads them there).
build=$(mktemp -d)
cp -r dist "$build/" && find "$build/dist" -name '*.map' -delete
tar -cJf .gpu/extra.tar.xz -C "$build" dist $( [ -d native/nvml/build/Release ] && echo -C "$PWD" native/nvml/build/Release )
rm -rf "$build"
tracked=$(git ls-files -z | xargs -0 stat -c %s | awk '{s+=$1} END {printf "%.1f", s/1048576}')
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r stat -c %s | awk '{s+=$1} END {printf "%.1f", s/1048576}')
gpu=$(du -sb .gpu | awk '{printf "%.1f", $1/1048576}')
echo "gpu-pack.sh: .gpu ${gpu} MiB + tracked ${tracked} MiB + untracked ${untracked:-0} MiB (limit 64 MiB a call)"
