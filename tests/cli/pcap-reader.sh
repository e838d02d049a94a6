#!/bin/sh
# scan's own reader of classic pcap (plugin/cli/capfile.c) must give exactly
# what libpcap gives: the same capture rewritten with nanosecond timestamps, in
# the other byte order, and both, scans to the same eve.json; a copy cut inside
# its last record is handed to libpcap at that record, which warns where it
# ends, and the alerts before the cut are kept; a pipe is read as a file is.
#   pcap-reader.sh EMBARGO PYTHON CAPTURE
set -u
embargo=$1 python=$2 pcap=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$python" - "$pcap" "$dir" <<'PY' || fail "could not rewrite the capture"
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
magic, = struct.unpack("<I", data[:4])
assert magic == 0xA1B2C3D4, "the test wants a little-endian microsecond pcap"
hdr = data[4:24]
recs, off = [], 24
while off < len(data):
    sec, usec, cap, length = struct.unpack("<IIII", data[off:off + 16])
    recs.append((sec, usec, cap, length, data[off + 16:off + 16 + cap]))
    off += 16 + cap
def write(name, end, nano):
    m = 0xA1B23C4D if nano else 0xA1B2C3D4
    major, minor, zone, sig, snap, link = struct.unpack("<HHiIII", hdr)
    o = [struct.pack(end + "IHHiIII", m, major, minor, zone, sig, snap, link)]
    for sec, usec, cap, length, b in recs:
        o.append(struct.pack(end + "IIII", sec, usec * 1000 + 999 if nano else usec, cap, length) + b)
    open(out + "/" + name, "wb").write(b"".join(o))
write("nano.pcap", "<", True)
write("swapped.pcap", ">", False)
write("nano-swapped.pcap", ">", True)
cut = data[:len(data) - 3]
open(out + "/cut.pcap", "wb").write(cut)
PY

"$embargo" scan -q -o "$dir/want.json" "$pcap"
[ $? -eq 1 ] || fail "the capture must raise alerts"
strip() { sed 's/"uptime":[0-9]*,//' "$1"; }
for v in nano swapped nano-swapped; do
    "$embargo" scan -q -o "$dir/$v.json" "$dir/$v.pcap"
    [ $? -eq 1 ] || fail "$v: no alerts"
    [ "$(strip "$dir/want.json")" = "$(strip "$dir/$v.json")" ] || fail "$v: eve.json differs"
done

# From a pipe (libpcap alone reads it: reading the stream twice would lose bytes).
mkfifo "$dir/fifo"
cat "$pcap" >"$dir/fifo" &
"$embargo" scan -q -o "$dir/fifo.json" "$dir/fifo"
[ $? -eq 1 ] || fail "from a pipe: no alerts"
wait
[ "$(strip "$dir/want.json" | grep -v '"event_type":"stats"')" = \
  "$(strip "$dir/fifo.json" | grep -v '"event_type":"stats"')" ] || fail "from a pipe: alerts differ"

"$embargo" scan -q -o "$dir/cut.json" "$dir/cut.pcap" 2>"$dir/err"
rc=$?
[ $rc -eq 1 ] || [ $rc -eq 0 ] || fail "cut capture: exit $rc"
grep -q "cut.pcap: warning: capture ends early after packet " "$dir/err" ||
    fail "cut capture: no warning naming where it ends: $(cat "$dir/err")"
n_want=$(grep -c '"event_type":"alert"' "$dir/want.json")
n_cut=$(grep -c '"event_type":"alert"' "$dir/cut.json")
[ "$n_cut" -le "$n_want" ] || fail "cut capture: more alerts than the whole one"
echo "ok"
