#!/usr/bin/env bash
# Makes a fresh Debian 12 machine ready for halfwatt, idempotently:
#   1. a Vulkan driver Dawn accepts (Mesa >= 24 lavapipe from bookworm-backports
#      when no Vulkan driver is present; Mesa 22, Debian 12's default, is refused
#      by Dawn: "Vulkan shaderUniform*ArrayDynamicIndexing required"),
#   2. npm ci, 3. the build.
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

npm ci --no-audit --no-fund
npm run build
echo "setup.sh: ready"
