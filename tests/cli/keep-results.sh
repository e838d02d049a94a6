#!/bin/sh
# An output file that holds earlier results is never replaced silently:
# scan, live and report refuse it (exit 2, one line naming it, the file as it
# was); scan --append adds to it, scan --force and report --force replace it;
# /dev/null and an empty file are written as they are.
#   keep-results.sh EMBARGO CAPTURE
set -u
embargo=$1 pcap=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

printf 'earlier result\n' >"$dir/eve.json"
"$embargo" scan -q -o "$dir/eve.json" "$pcap" 2>"$dir/err"
rc=$?
[ $rc -eq 2 ] || fail "scan over an earlier result: exit $rc, want 2"
grep -q "eve.json: already holds 15 bytes of earlier results; --append adds to it, --force replaces it" "$dir/err" ||
    fail "scan message: $(cat "$dir/err")"
[ "$(wc -l <"$dir/err")" -eq 1 ] || fail "scan message is not one line: $(cat "$dir/err")"
[ "$(cat "$dir/eve.json")" = "earlier result" ] || fail "scan touched the earlier result"

"$embargo" scan -q --append -o "$dir/eve.json" "$pcap" 2>/dev/null
[ $? -eq 1 ] || fail "scan --append: want exit 1 (alerts)"
[ "$(head -1 "$dir/eve.json")" = "earlier result" ] || fail "--append lost the earlier result"
n=$(grep -c '"event_type":"alert"' "$dir/eve.json")
[ "$n" -gt 0 ] || fail "--append wrote no alert"

"$embargo" scan -q --force -o "$dir/eve.json" "$pcap" 2>/dev/null
[ $? -eq 1 ] || fail "scan --force: want exit 1 (alerts)"
grep -q "earlier result" "$dir/eve.json" && fail "--force kept the earlier result"
[ "$(grep -c '"event_type":"alert"' "$dir/eve.json")" -eq "$n" ] || fail "--force: alert count"

"$embargo" scan -q --append --force -o "$dir/x.json" "$pcap" 2>"$dir/err"
[ $? -eq 2 ] && grep -q "exclude each other" "$dir/err" || fail "--append with --force accepted"

: >"$dir/empty.json"
"$embargo" scan -q -o "$dir/empty.json" "$pcap" 2>/dev/null
[ $? -eq 1 ] || fail "scan into an empty file refused"
"$embargo" scan -q -o /dev/null "$pcap" 2>/dev/null
[ $? -eq 1 ] || fail "scan into /dev/null refused"

printf 'old report\n' >"$dir/report.txt"
"$embargo" report -q -o "$dir/report.txt" "$dir/eve.json" 2>"$dir/err"
[ $? -eq 2 ] || fail "report over an earlier report: want exit 2"
grep -q "report.txt: already holds 11 bytes of earlier results; --force replaces it" "$dir/err" ||
    fail "report message: $(cat "$dir/err")"
[ "$(cat "$dir/report.txt")" = "old report" ] || fail "report touched the earlier report"
"$embargo" report -q --force -o "$dir/report.txt" "$dir/eve.json" 2>/dev/null
[ $? -eq 1 ] || fail "report --force: want exit 1"
grep -q "embargo compliance report" "$dir/report.txt" || fail "report --force wrote no report"

"$embargo" live -i lo -o "$dir/eve.json" 2>"$dir/err"
[ $? -eq 2 ] && grep -q "already holds" "$dir/err" || fail "live over an earlier result: $(cat "$dir/err")"
echo "ok: earlier results are kept unless --append or --force says otherwise"
