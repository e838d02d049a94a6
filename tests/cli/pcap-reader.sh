#!/bin/sh
# scan's own reader of classic pcap (plugin/cli/capfile.c) must give exactly
# what libpcap gives: the same capture rewritten with nanosecond timestamps, in
# the other byte order, and both, scans to the same eve.json; a copy cut inside
# its last record is handed to libpcap at that record, which warns where it
# ends, and the alerts before the cut are kept; a pipe is read as a file is.
# With -j 2 and -j 3 the file is read once for all workers in 1 MiB blocks
# (capfile_open_shared): a capture of several blocks, with a record header and
# a record's data running across block boundaries, whole and cut inside a
# block, gives the same eve.json and the same warning as -j 1.
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
# Several blocks: the capture's records over and over (times moved on), with
# filler records (an unknown EtherType) placed so that a record header runs
# across the first and third block boundaries and a record's data across the
# second.
"$python" - "$pcap" "$dir" <<'PY' || fail "could not write the multi-block capture"
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
block = 1 << 20
recs, off = [], 24
while off < len(data):
    sec, usec, cap, length = struct.unpack("<IIII", data[off:off + 16])
    recs.append((sec, usec, data[off + 16:off + 16 + cap], length))
    off += 16 + cap
span = recs[-1][0] - recs[0][0] + 10
o, size = [data[:24]], 24
points = [block - 8, 2 * block - 40, 3 * block - 3]
def rec(sec, usec, b, length):
    global size
    o.append(struct.pack("<IIII", sec, usec, len(b), length) + b)
    size += 16 + len(b)
def filler(sec, n):
    rec(sec, 0, b"\xff" * 12 + b"\x88\xb5" + b"\0" * (n - 14), n)
rep = 0
while size < 3 * block + 200000:
    for sec, usec, b, length in recs:
        t = sec + rep * span
        if points and size + 16 + len(b) > points[0]:
            gap = points[0] - size
            if gap >= 30:
                filler(t, gap - 16)
            points.pop(0)
        rec(t, usec, b, length)
    rep += 1
blob = b"".join(o)
open(out + "/blocks.pcap", "wb").write(blob)
open(out + "/blocks-cut-header.pcap", "wb").write(blob[:block - 4])
open(out + "/blocks-cut-data.pcap", "wb").write(blob[:2 * block + 7])
PY
for v in blocks blocks-cut-header blocks-cut-data; do
    for j in 1 2 3; do
        "$embargo" scan -q -j $j -o "$dir/$v-$j.json" "$dir/$v.pcap" 2>"$dir/$v-$j.err"
        echo $? >>"$dir/$v-$j.err"
        strip "$dir/$v-$j.json" >"$dir/$v-$j.norm"
    done
    [ "$(grep -c '"event_type":"alert"' "$dir/$v-1.norm")" -gt 0 ] || fail "$v: no alerts"
    for j in 2 3; do
        cmp -s "$dir/$v-1.norm" "$dir/$v-$j.norm" || fail "$v: -j $j eve.json differs from -j 1"
        cmp -s "$dir/$v-1.err" "$dir/$v-$j.err" ||
            fail "$v: -j $j says $(cat "$dir/$v-$j.err"), -j 1 $(cat "$dir/$v-1.err")"
    done
done
grep -q "warning: capture ends early" "$dir/blocks-cut-header-1.err" ||
    fail "cut inside a record header: no warning"

n_want=$(grep -c '"event_type":"alert"' "$dir/want.json")
n_cut=$(grep -c '"event_type":"alert"' "$dir/cut.json")
[ "$n_cut" -le "$n_want" ] || fail "cut capture: more alerts than the whole one"
echo "ok"
