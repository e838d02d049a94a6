#!/usr/bin/env bash
# Builds Suricata 8.0.7 from the orig tarball in Debian's source archive (sid) into a
# cache directory outside the checkout, with its headers and libsuricata-config, so
# that embargo.so can be built for Suricata 8 (plugin/suricata/detect-sc8.c) and the
# tests/suricata8 cases can run it. Nothing of Suricata is ever put in the repository.
#
# Only a deb-src line is added for sid, so no sid binary package can be installed by
# accident; the build dependencies are bookworm's -dev packages. The tarball vendors its
# Rust crates (the build is offline); Rust is Debian's rustc-web/cargo-web (installed
# with the other build deps, into /usr/bin: 1.96 from bookworm-security, 1.85 from
# bookworm; bookworm's plain rustc 1.63, which rustc-web replaces, is older than 8.0's
# minimum, 1.75). rustup's ~/.cargo is never used: it is dropped from PATH and
# CARGO_HOME is a directory in the build tree.
#
# A no-op when the cache is complete (it holds a .complete stamp written last).
# Run as root (or with sudo available) on Debian 12 (bookworm).
#   scripts/build-suricata8.sh        -> prints the prefix on stdout
#   EMBARGO_SURICATA8_PREFIX=DIR      install prefix (default /var/cache/embargo/suricata-8.0.7)
#   EMBARGO_SURICATA8_JOBS=N          make -j N (default 2)
# The prefix holds bin/suricata, bin/libsuricata-config, include/, lib/.
set -euo pipefail
cd "$(dirname "$0")/.."

version=8.0.7
prefix="${EMBARGO_SURICATA8_PREFIX:-/var/cache/embargo/suricata-$version}"
jobs="${EMBARGO_SURICATA8_JOBS:-2}"
work="$prefix.build" # download and build tree, beside the prefix; removed on success
stamp="$prefix/.complete"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
log() { echo "build-suricata8: $*" >&2; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] &&
    [ -x "$prefix/bin/suricata" ] && [ -x "$prefix/bin/libsuricata-config" ]; then
    log "suricata $version already built in $prefix"
    echo "$prefix"
    exit 0
fi
start=$(date +%s)

# 1. Build dependencies: bookworm's -dev packages. Hyperscan or Vectorscan, whichever
#    scripts/install-deps.sh left (they conflict). NFQUEUE for the inline IPS mode.
#    Rust: rustc-web and cargo-web (they conflict with, and replace, rustc and cargo).
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
hs_pkg=libhyperscan-dev
if installed libvectorscan-dev; then
    hs_pkg=libvectorscan-dev
fi
pkgs=(build-essential pkg-config python3 libpcre2-dev libyaml-dev libjansson-dev libpcap-dev
    libcap-ng-dev libmagic-dev liblz4-dev libnet1-dev zlib1g-dev "$hs_pkg"
    libnetfilter-queue-dev libnfnetlink-dev dpkg-dev rustc-web cargo-web)
missing=()
for p in "${pkgs[@]}"; do
    installed "$p" || missing+=("$p")
done
updated=no
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    $SUDO apt-get update -qq
    updated=yes
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
        log "could not install ${missing[*]} (rustc-web/cargo-web need bookworm or bookworm-security main)"
        exit 1
    }
fi

# Rust: Debian's rustc-web/cargo-web only, first on PATH and named to configure and cargo
# (RUSTC, CARGO, RUSTDOC). No fallback to rustup: ~/.cargo/bin is removed from PATH,
# RUSTUP_* are unset, and CARGO_HOME (configure's default is ~/.cargo) is in the build tree.
rust_min=1.75.0 # MIN_RUSTC_VERSION in Suricata 8.0's configure.ac
rust_bin="$(dpkg -L rustc-web 2>/dev/null | sed -n 's|/rustc$||p' | grep '/bin$' | head -n1 || true)"
if ! installed rustc-web || ! installed cargo-web || [ -z "$rust_bin" ] ||
    [ ! -x "$rust_bin/rustc" ] || [ ! -x "$rust_bin/cargo" ] || [ ! -x "$rust_bin/rustdoc" ]; then
    log "Debian's rustc-web/cargo-web are not installed (apt-get install rustc-web cargo-web)"
    exit 1
fi
path="$rust_bin"
IFS=: read -r -a path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
    case "$d" in
    "" | "$rust_bin" | "$HOME/.cargo/bin" | */.cargo/bin) ;;
    *) path="$path:$d" ;;
    esac
done
export PATH="$path"
export RUSTC="$rust_bin/rustc" CARGO="$rust_bin/cargo" RUSTDOC="$rust_bin/rustdoc"
export CARGO_HOME="$work/cargo-home"
unset RUSTUP_HOME RUSTUP_TOOLCHAIN
rust_ver="$("$RUSTC" --version | sed -n 's/^rustc \([0-9][0-9.]*\).*/\1/p')"
if [ -z "$rust_ver" ] ||
    [ "$(printf '%s\n' "$rust_min" "$rust_ver" | sort -V | head -n1)" != "$rust_min" ]; then
    log "rustc-web's $RUSTC is ${rust_ver:-of unknown version}; Suricata $version needs >= $rust_min"
    exit 1
fi
log "using $RUSTC ($("$RUSTC" --version)), $CARGO ($("$CARGO" --version)); rustc-web $(dpkg-query -W -f='${Version}' rustc-web)"

# 2. The orig tarball, from sid's source archive (deb-src only).
sources=/etc/apt/sources.list.d/embargo-suricata8.sources
want_sources="Types: deb-src
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
if [ ! -f "$sources" ] || [ "$(cat "$sources")" != "$want_sources" ]; then
    log "adding $sources (sid: deb-src only)"
    printf '%s\n' "$want_sources" | $SUDO tee "$sources" >/dev/null
    updated=no
fi
mkdir -p "$work/download"
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chown _apt "$work/download" || true # apt downloads as _apt where it may write
fi
tarball() { ls "$work/download"/suricata_"$version".orig.tar.* 2>/dev/null | head -n1; }
if [ -z "$(tarball)" ]; then
    [ "$updated" = yes ] || $SUDO apt-get update -qq
    # The Debian revision is whatever sid has for 8.0.7 (e.g. 1:8.0.7-1).
    debver="$(apt-cache showsrc suricata 2>/dev/null | sed -n 's/^Version: //p' |
        grep -E "^([0-9]+:)?$version-" | head -n1 || true)"
    [ -n "$debver" ] || {
        log "no suricata $version in the source archive (apt-cache showsrc suricata)"
        exit 1
    }
    log "downloading the source of suricata=$debver"
    # Only the orig tarball is needed; a missing Debian diff is not an error here.
    (cd "$work/download" && apt-get source -qq --download-only "suricata=$debver" >&2) || true
    [ -n "$(tarball)" ] || {
        log "could not download suricata_$version.orig.tar.*"
        exit 1
    }
fi

# 3. configure, make, install (with headers and the library for plugins).
src="$work/suricata-$version"
rm -rf "$src"
log "unpacking $(basename "$(tarball)")"
tar -xf "$(tarball)" -C "$work"
[ -x "$src/configure" ] || {
    log "no configure in $src"
    exit 1
}
rm -rf "$prefix"
(
    cd "$src"
    log "configure --prefix=$prefix"
    ./configure -q --prefix="$prefix" --sysconfdir="$prefix/etc" \
        --localstatedir="$prefix/var" --disable-gccmarch-native \
        --disable-suricata-update --enable-nfqueue >"$work/configure.log" 2>&1 || {
        tail -n 40 "$work/configure.log" >&2
        exit 1
    }
    log "make -j$jobs (several minutes)"
    make -j"$jobs" >"$work/make.log" 2>&1 || {
        tail -n 60 "$work/make.log" >&2
        exit 1
    }
    make install install-headers install-library >"$work/install.log" 2>&1 || {
        tail -n 40 "$work/install.log" >&2
        exit 1
    }
)
"$prefix/bin/suricata" -V | grep -q "version $version" || {
    log "installed suricata does not report version $version"
    exit 1
}
printf '%s\n' "$version" >"$stamp"
rm -rf "$work"
log "suricata $version built in $prefix in $(($(date +%s) - start)) s"
echo "$prefix"
