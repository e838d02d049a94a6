#!/usr/bin/python3
"""Classic pcap files for the bench scripts: records, a count, the first packet alone.

    bench/pcaputil.py count PCAP          prints the number of records
    bench/pcaputil.py first PCAP OUT      writes PCAP's first record alone to OUT
"""
import struct
import sys

MAGIC = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">"}  # microsecond pcap only


def byte_order(data):
    """'<' or '>' for a classic microsecond pcap, None for anything else."""
    return MAGIC.get(data[:4]) if len(data) >= 24 else None


def records(data):
    """(sec, usec, caplen, len, bytes) of each whole record; stops at the first cut one."""
    end = byte_order(data)
    if end is None:
        return
    off = 24
    while off + 16 <= len(data):
        sec, usec, cap, length = struct.unpack(end + "IIII", data[off:off + 16])
        if cap > 262144 or off + 16 + cap > len(data):
            return
        yield sec, usec, cap, length, data[off + 16:off + 16 + cap]
        off += 16 + cap


def count(path):
    return sum(1 for _ in records(open(path, "rb").read()))


def first(path, out):
    data = open(path, "rb").read()
    for rec in records(data):
        open(out, "wb").write(data[:24 + 16 + rec[2]])
        return


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "count":
        print(count(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "first":
        first(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
