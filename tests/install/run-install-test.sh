#!/usr/bin/env bash
# Install checks (issue 9, item 4), from a fresh build configured for /usr:
#  1. cmake --install into a staging prefix (DESTDIR): the command, rule pack,
#     man page, docs, library, header and embargo.pc are where GNUInstallDirs
#     says; the staged command finds the staged pack (not the source tree) and
#     scans the bundled capture; a program builds against the staged embargo.pc.
#  2. cpack -G DEB: the package's Depends; as root, `dpkg -i` installs it, the
#     installed `embargo --version` and a scan work, `dpkg -r` removes it.
#     (Skipped with a message when not root or without dpkg.)
#   run-install-test.sh SOURCE_DIR WORK_DIR
set -u
src=$1 work=$2
fail=0
bad() { echo "FAIL: $*"; fail=1; }
rm -rf "$work" && mkdir -p "$work"
build="$work/build" stage="$work/stage"
cmake -S "$src" -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DEMBARGO_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -50 "$work/build.log"; exit 1; }

# ---- 1. staged install ----
DESTDIR="$stage" cmake --install "$build" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; exit 1; }
multiarch=$(grep -E '^CMAKE_INSTALL_LIBDIR:' "$build/CMakeCache.txt" | cut -d= -f2)
[ -n "$multiarch" ] || multiarch=lib
for f in usr/bin/embargo usr/share/embargo/rules/kaspersky.yaml usr/share/embargo/rules/pack.yaml \
    usr/share/man/man1/embargo.1 \
    usr/share/doc/embargo/README.md usr/share/doc/embargo/rules.md \
    "usr/$multiarch/libembargo.a" usr/include/embargo/embargo.h \
    "usr/$multiarch/pkgconfig/embargo.pc"; do
    [ -e "$stage/$f" ] || bad "not installed: /$f"
done
if grep -q '^EMBARGO_SURICATA_PLUGIN:.*=ON' "$build/CMakeCache.txt" 2>/dev/null ||
    [ -e "$build/plugin/suricata/embargo.so" ]; then
    [ -e "$stage/usr/$multiarch/embargo/embargo.so" ] || bad "plugin not installed"
fi
man -l "$stage/usr/share/man/man1/embargo.1" >/dev/null 2>&1 || bad "man page does not render"
staged="$stage/usr/bin/embargo"
out=$(env -u EMBARGO_RULES "$staged" --version) || bad "staged --version"
echo "$out"
echo "$out" | grep -q "^rule pack embargo-core [0-9.]* (released .*: $stage/usr/bin/../share/embargo/rules$" ||
    bad "the staged command does not use the staged pack"
out=$(cd / && env -u EMBARGO_RULES "$staged" rules check 2>&1) || bad "staged rules check"
echo "$out" | grep -q "^rules: $stage/usr/bin/../share/embargo/rules" || bad "rules check: $out"
(cd "$work" && env -u EMBARGO_RULES "$staged" scan -o staged-eve.json "$src/pcaps/detect-kaspersky.pcap"
    [ $? -eq 1 ]) 2>"$work/scan.err" || bad "staged scan: $(cat "$work/scan.err")"
[ "$(grep -c '"event_type":"alert"' "$work/staged-eve.json" 2>/dev/null)" = 4 ] ||
    bad "staged scan: want 4 alerts"

# a program against the staged library, through embargo.pc
cat >"$work/use.c" <<'C'
#include <embargo/embargo.h>
#include <stdio.h>
int main(int argc, char **argv) {
    emb_rules_t *r;
    if (argc < 2 || emb_rules_load(argv[1], &r, NULL) != 0)
        return 1;
    emb_rules_summary_t s;
    emb_rules_summary(r, &s);
    printf("%zu rules, Hyperscan %s\n", s.rules, emb_hyperscan_version());
    emb_rules_free(r);
    return 0;
}
C
export PKG_CONFIG_PATH="$stage/usr/$multiarch/pkgconfig"
pkg-config --exists embargo || bad "pkg-config does not find embargo.pc"
[ "$(pkg-config --modversion embargo)" = "$(grep -o 'project(embargo VERSION [0-9.]*' "$src/CMakeLists.txt" | cut -d' ' -f3)" ] ||
    bad "embargo.pc version"
# shellcheck disable=SC2046
cc -o "$work/use" "$work/use.c" $(pkg-config --cflags embargo) $(pkg-config --static --libs embargo) \
    2>"$work/cc.log" || bad "cannot build against embargo.pc: $(cat "$work/cc.log")"
[ -x "$work/use" ] && { "$work/use" "$stage/usr/share/embargo/rules" | grep -q "^[0-9]* rules, Hyperscan" ||
    bad "program linked against libembargo.a"; }
unset PKG_CONFIG_PATH

# ---- 2. the .deb ----
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$build"/embargo_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { bad "no .deb built"; exit 1; }
echo "package: $deb"
dpkg-deb -f "$deb" Depends
dpkg-deb -f "$deb" Depends | grep -q "libhyperscan5 | libvectorscan5" || bad "Depends"
dpkg-deb -c "$deb" >"$work/deb-contents.txt"
for f in ./usr/bin/embargo ./usr/share/embargo/rules/kaspersky.yaml ./usr/share/man/man1/embargo.1 \
    ./usr/include/embargo/embargo.h; do
    grep -q " $f\$" "$work/deb-contents.txt" || bad "$f not in the .deb"
done
if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
    echo "SKIP: dpkg -i needs root: the package was built and inspected only"
elif dpkg -s embargo >/dev/null 2>&1; then
    echo "SKIP: an embargo package is already installed; not replacing it"
else
    dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; bad "dpkg -i"; }
    if [ -x /usr/bin/embargo ]; then
        env -u EMBARGO_RULES /usr/bin/embargo --version | tee "$work/version.txt"
        grep -q "^rule pack .*: /usr/bin/../share/embargo/rules$" "$work/version.txt" ||
            bad "installed command does not find /usr/share/embargo/rules"
        (cd "$work" && env -u EMBARGO_RULES /usr/bin/embargo scan -q -o deb-eve.json \
            "$src/pcaps/detect-kaspersky.pcap"; [ $? -eq 1 ]) || bad "installed scan"
        [ "$(grep -c '"event_type":"alert"' "$work/deb-eve.json" 2>/dev/null)" = 4 ] ||
            bad "installed scan: want 4 alerts"
        man -w embargo >/dev/null 2>&1 || [ -e /usr/share/man/man1/embargo.1.gz ] ||
            [ -e /usr/share/man/man1/embargo.1 ] || bad "man page not installed"
    fi
    dpkg -r embargo >"$work/dpkg-r.log" 2>&1 || bad "dpkg -r: $(cat "$work/dpkg-r.log")"
    [ ! -e /usr/bin/embargo ] || bad "/usr/bin/embargo left after dpkg -r"
fi
[ $fail -eq 0 ] && echo "ok: staged install, pkg-config, .deb" && rm -rf "$work"
exit $fail
