#!/bin/sh
# bench/false-positives.sh on a corpus built here: a capture and its byte-identical
# copy (read once, counted as a duplicate), its gzip (read), a Git LFS pointer
# (counted apart), a file cut inside its header (unreadable, exit 2 named) and a
# text file (not a capture). With the shipped explanations the capture's alerts are
# unexplained (exit 1, each listed with its flow); with an explanation file that
# names them, exit 0. A --corpora-dir run names the pinned collections it lacks.
#   false-positives.sh REPO EMBARGO_BUILD_DIR CAPTURE
set -u
repo=$1 build=$2 pcap=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; cat "$dir/out" "$dir/err" 2>/dev/null | head -60; exit 1; }
fp=$repo/bench/false-positives.sh

c=$dir/corpus
mkdir -p "$c/a" "$c/b"
cp "$pcap" "$c/a/one.pcap"
cp "$pcap" "$c/b/copy.pcap"
gzip -c "$pcap" >"$c/b/zipped.pcap.gz"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n' >"$c/b/lfs.pcap"
head -c 10 "$pcap" >"$c/b/cut.pcap"
echo notes >"$c/b/notes.txt"
echo "corpus built by tests/cli/false-positives.sh" >"$c/COMMIT"

sids=$("$build/embargo" scan -q -o - "$pcap" | grep -o '"signature_id":[0-9]*' | cut -d: -f2 | sort -u)
[ -n "$sids" ] || fail "the capture raises no alert: the test needs one that does"
nsid=$(echo "$sids" | wc -l)
per=$("$build/embargo" scan -q -o - "$pcap" | grep -c '"event_type":"alert"')

"$fp" --no-build --build "$build" --corpus "$c" >"$dir/out" 2>"$dir/err"
rc=$?
[ $rc -eq 1 ] || fail "unexplained alerts: exit $rc, want 1"
grep -q "^captures: 5 (2 read, 1 duplicates of a capture read, 1 Git LFS pointers never fetched, 1 unreadable)" "$dir/out" ||
    fail "capture counts"
grep -q "b/cut.pcap: rejected (exit 2): " "$dir/out" || fail "the cut capture is not named with its error"
grep -q "notes.txt" "$dir/out" && fail "a text file was taken for a capture"
grep -q "^alerts:   $((2 * per)) " "$dir/out" || fail "want $((2 * per)) alerts (the capture and its gzip)"
n=$(grep -c '\[UNEXPLAINED\]' "$dir/out")
[ "$n" -eq $((2 * nsid)) ] || fail "want $((2 * nsid)) unexplained entries, got $n"
tail -n1 "$dir/out" | grep -q "^$((2 * per)) alerts: 0 true-vendor, 0 limits, $((2 * per)) unexplained$" ||
    fail "last line: $(tail -n1 "$dir/out")"

{
    echo "alerts:"
    for s in $sids; do
        for cap in a/one.pcap b/zipped.pcap.gz; do
            printf '  - capture: %s\n    sid: %s\n    kind: true-vendor\n    reason: the test capture\n' "$cap" "$s"
        done
    done
} >"$dir/explained.yaml"
"$fp" --no-build --build "$build" --corpus "$c" --explained "$dir/explained.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
[ $rc -eq 0 ] || fail "every alert explained: exit $rc, want 0"
tail -n1 "$dir/out" | grep -q "^$((2 * per)) alerts: $((2 * per)) true-vendor, 0 limits, 0 unexplained$" ||
    fail "last line with explanations: $(tail -n1 "$dir/out")"

# --corpora-dir: a directory holding one collection of bench/corpora.tsv by name
mkdir -p "$dir/cdir"
mv "$c" "$dir/cdir/zeek"
"$fp" --no-build --build "$build" --corpora-dir "$dir/cdir" >"$dir/out" 2>"$dir/err"
grep -q "suricata-verify: not in $dir/cdir" "$dir/err" || fail "a missing collection is not named"
grep -q "zeek: at corpus built by tests/cli/false-positives.sh, pinned at a13de64f" "$dir/err" ||
    fail "a collection at another commit is not named"
grep -q "^  zeek: $dir/cdir/zeek" "$dir/out" || fail "the collection present was not run"
echo "ok"
