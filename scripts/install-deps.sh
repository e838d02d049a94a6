#!/usr/bin/env bash
# Installs every Debian package embargo needs to build, test and demo.
# Idempotent; run as root (or with sudo available). Debian 12 (bookworm).
#   EMBARGO_HS=vectorscan scripts/install-deps.sh   builds against libvectorscan-dev
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

hs_pkg=libhyperscan-dev
if [ "${EMBARGO_HS:-}" = "vectorscan" ]; then
    hs_pkg=libvectorscan-dev
fi

pkgs=(
    build-essential cmake pkg-config clang-format
    libpcap-dev "$hs_pkg" libyaml-dev libjansson-dev libcriterion-dev
    python3-scapy python3-jsonschema python3-yaml
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
