#!/usr/bin/env bash
# Installs Debian's Suricata 7 (bookworm-backports, built with plugin support)
# and unpacks the headers of the very same version, which the embargo plugin
# (plugin/suricata/) is compiled against. Debian ships no Suricata headers, so
# they come from the source package's orig tarball in Debian's source archive;
# only src/ is unpacked (the EVE filetype API compiles unconfigured).
#
# Idempotent; run as root (or with sudo available) on Debian 12 (bookworm).
#   scripts/install-suricata.sh            -> prints the include dir on stdout
#   EMBARGO_SURICATA_SRC=DIR               where to unpack (default: .suricata-src
#                                          in the repository, which git ignores)
# The include dir is also written to $EMBARGO_SURICATA_SRC/include-dir, where
# scripts/test.sh reads it.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
log() { echo "install-suricata: $*" >&2; }

dest="${EMBARGO_SURICATA_SRC:-$PWD/.suricata-src}"
sources=/etc/apt/sources.list.d/embargo-suricata.sources

# 1. bookworm-backports (binaries and sources), in the deb822 format of
#    /etc/apt/sources.list.d/debian.sources.
want_sources="Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
updated=no
if [ ! -f "$sources" ] || [ "$(cat "$sources")" != "$want_sources" ]; then
    log "adding $sources (bookworm-backports: deb, deb-src)"
    printf '%s\n' "$want_sources" | $SUDO tee "$sources" >/dev/null
    $SUDO apt-get update -qq
    updated=yes
fi

# 2. suricata from backports (stable's 6.0 has no EVE filetype plugins).
installed_version() { dpkg-query -W -f='${Version}' suricata 2>/dev/null || true; }
version="$(installed_version)"
case "${version#*:}" in # without the epoch (1:7.0.10-1~bpo12+1)
    7.*) log "suricata $version already installed" ;;
    *)
        [ "$updated" = yes ] || $SUDO apt-get update -qq
        updated=yes
        log "installing suricata from bookworm-backports"
        $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports suricata >&2
        version="$(installed_version)"
        ;;
esac
upstream="${version#*:}"
upstream="${upstream%-*}"

# 3. the source of that exact version; only the orig tarball's src/ is kept.
inc="$dest/suricata-$upstream/src"
if [ -f "$inc/suricata-plugin.h" ] && [ -f "$dest/version" ] &&
    [ "$(cat "$dest/version")" = "$version" ]; then
    log "headers of $version already in $inc"
else
    mkdir -p "$dest/download"
    # apt downloads as _apt when it may write there (else it warns and runs as root).
    if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
        chown _apt "$dest/download" || true
    fi
    rm -rf "$dest/suricata-"*/
    (
        cd "$dest/download"
        have_orig() { ls suricata_"$upstream".orig.tar.* >/dev/null 2>&1; }
        # Only the orig tarball is needed: a mirror that lacks the .dsc or the
        # Debian diff (apt-get then fails) is fine as long as the orig came.
        if ! have_orig; then
            log "downloading the source of suricata=$version"
            apt-get source -qq --download-only "suricata=$version" >&2 || true
        fi
        if ! have_orig && [ "$updated" = no ]; then
            $SUDO apt-get update -qq
            apt-get source -qq --download-only "suricata=$version" >&2 || true
        fi
        have_orig || {
            log "could not download suricata_$upstream.orig.tar.* (deb-src for bookworm-backports?)"
            exit 1
        }
    )
    tarball="$(ls "$dest/download"/suricata_"$upstream".orig.tar.* | head -n1)"
    log "unpacking src/ of $(basename "$tarball")"
    tar -xf "$tarball" -C "$dest" --wildcards "suricata-$upstream/src/*.h"
    printf '%s\n' "$version" >"$dest/version"
fi
test -f "$inc/suricata-plugin.h" || {
    log "no suricata-plugin.h in $inc"
    exit 1
}
printf '%s\n' "$inc" >"$dest/include-dir"
echo "$inc"
