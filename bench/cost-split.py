"""Groups callgrind's self cost per function into packet-path stages (see cost-split.sh)."""
import argparse
import glob
import os
import re

import pcaputil  # bench/pcaputil.py, beside this script

# (stage, what a function's "file:function [object]" must contain), first match wins.
STAGES = [
    ("read", ("plugin/cli/capfile.c", "plugin/cli/cmd-scan.c", "libpcap")),
    ("decode", ("plugin/packet/decode.c",)),
    ("defrag", ("plugin/packet/defrag.c",)),
    ("flow", ("plugin/packet/flow.c",)),
    ("reassembly", ("plugin/packet/stream.c",)),
    ("extract (protocol parsers)", ("plugin/protocols/",)),
    ("scan (Hyperscan)", ("plugin/detect/match.c", "libhs")),
    ("detect (rounds, inspect, attribution)", ("plugin/detect/",)),
    ("output (EVE)", ("plugin/output/", "libjansson")),
    ("names and helpers (common)", ("plugin/common/",)),
    ("QUIC keys (libcrypto)", ("libcrypto",)),
    ("C library (memcpy, malloc, ...)", ("libc.so",)),
]
OTHER = "other (loader, rules, YAML, start-up)"
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")
DEFINITION = re.compile(r"^[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\(")


def function_files(root):
    """Function name -> plugin/... file defining it, from the sources: callgrind names
    the header a piece of inlined code came from (string_fortified.h:emb__decode), and
    the function name then tells where it belongs."""
    out = {}
    for path in glob.glob(os.path.join(root, "plugin", "**", "*.[ch]"), recursive=True):
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = DEFINITION.match(line)
                if m and not line.rstrip().endswith(";"):
                    out.setdefault(m.group(1), rel)
    return out


def by_stage(path, files):
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        started = False
        for line in f:
            if "file:function" in line:
                started = True
                continue
            m = LINE.match(line) if started else None
            if not m:
                continue
            cost, where = int(m.group(1).replace(",", "")), m.group(2)
            fn = re.match(r"[^:]*:([A-Za-z_]\w*)", where)
            if "plugin/" not in where.split(":")[0] and fn and fn.group(1) in files:
                where = files[fn.group(1)] + ":" + where  # inlined from a header
            stage = next((s for s, keys in STAGES if any(k in where for k in keys)), OTHER)
            out[stage] = out.get(stage, 0) + cost
    return out


def main():
    ap = argparse.ArgumentParser()
    for a in ("--mix", "--one", "--pcap", "--size", "--cpu"):
        ap.add_argument(a, required=True)
    a = ap.parse_args()
    files = function_files(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    mix, one, n = by_stage(a.mix, files), by_stage(a.one, files), pcaputil.count(a.pcap)
    rows = [(s, (mix.get(s, 0) - one.get(s, 0)) / (n - 1)) for s, _ in STAGES] + \
           [(OTHER, (mix.get(OTHER, 0) - one.get(OTHER, 0)) / (n - 1))]
    total = sum(v for _, v in rows)
    user, sys_ = (float(x) for x in a.cpu.split())
    print(f"mix: {a.size} MiB, {n} packets; one scan outside valgrind: "
          f"{user:.2f} s user, {sys_:.2f} s system (read() copies are system time)")
    print(f"{'stage':42s} {'instr/packet':>13s} {'share':>7s}")
    for s, v in rows:
        print(f"{s:42s} {v:13.0f} {100 * v / total if total else 0:6.1f}%")
    print(f"{'total':42s} {total:13.0f} {100.0:6.1f}%")


if __name__ == "__main__":
    main()
