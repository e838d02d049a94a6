#!/usr/bin/env bash
# Installs every Debian package embargo needs to build, test and demo.
# Idempotent; run as root (or with sudo available). Debian 12 (bookworm).
#   EMBARGO_HS=vectorscan scripts/install-deps.sh   installs libvectorscan-dev instead
#   EMBARGO_HS=hyperscan  scripts/install-deps.sh   back to libhyperscan-dev
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Hyperscan and Vectorscan conflict; either builds embargo. Keep the one that
# is there unless EMBARGO_HS asks for the other, which then replaces it.
case "${EMBARGO_HS:-}" in
    vectorscan) hs_pkg=libvectorscan-dev other=libhyperscan-dev ;;
    hyperscan) hs_pkg=libhyperscan-dev other=libvectorscan-dev ;;
    "")
        hs_pkg=libhyperscan-dev other=libvectorscan-dev
        if installed libvectorscan-dev; then
            hs_pkg=libvectorscan-dev other=libhyperscan-dev
        fi
        ;;
    *) echo "install-deps: EMBARGO_HS must be hyperscan or vectorscan" >&2; exit 2 ;;
esac

pkgs=(
    build-essential cmake pkg-config clang-format
    libpcap-dev "$hs_pkg" libyaml-dev libjansson-dev libcriterion-dev libssl-dev
    libcurl4-openssl-dev openssl # rules update: HTTPS fetch; the tests sign packs with openssl
    libsqlite3-dev libpq-dev postgresql # the inventory; its test starts a PostgreSQL 15
    python3-scapy python3-jsonschema python3-yaml python3-cryptography
    tcpreplay iproute2 chromium # live capture on veth (tests/live), the HTML report check
    clang libclang-rt-14-dev cppcheck
)

missing=()
for p in "${pkgs[@]}"; do
    installed "$p" || missing+=("$p")
done
# The runtime libraries conflict too (libhyperscan5 / libvectorscan5).
remove=()
if installed "$other"; then
    remove=("$other-") # apt-get's syntax for "remove this one"
    case "$other" in
        libhyperscan-dev) remove+=(libhyperscan5-) ;;
        libvectorscan-dev) remove+=(libvectorscan5-) ;;
    esac
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" "${remove[@]}"
