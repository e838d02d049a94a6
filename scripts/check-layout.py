#!/usr/bin/env python3
"""Checks the source layout: no include cycle between files or between rooms,
and no product source file longer than the limit.

    scripts/check-layout.py [--max-lines N] [ROOT]

A file's unit is its path without the extension, so foo.c and foo.h are one
unit: foo.c including bar.h while bar.c includes foo.h is a cycle, though no
header includes itself. A unit also depends on every unit whose .c file
defines a function or global variable (not static) that it names: a shared
header that declares the functions of two .c files that call each other hides
a cycle from the includes alone. A room is the first directory under plugin/
(and `include` for the public headers). `#include "x"` is resolved against
the including file's directory, then plugin/, then include/; includes that do
not resolve to a file of the tree (system and Suricata headers) are ignored.

Prints the rooms in dependency order and exits 0, or prints every cycle and
every file over the limit and exits 1. Needs only the standard library.
"""
import argparse
import os
import re
import sys

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# A definition at file scope, not static: "type name(" ... "{", or "type name =".
FUNC_DEF_RE = re.compile(r'^(?!static\b|extern\b|typedef\b|return\b)[A-Za-z_][\w \t*]*?\b(\w+)\s*\([^;{]*?\)\s*(?:__attribute__\s*\(\(.*?\)\)\s*)?\{',
                         re.M | re.S)
VAR_DEF_RE = re.compile(r'^(?!static\b|extern\b|typedef\b|struct\b[^=]*\{|enum\b|union\b)'
                        r'[A-Za-z_][\w \t*]*?\b(\w+)\s*(?:\[[^]]*\])?\s*=', re.M)
IDENT_RE = re.compile(r'\b[A-Za-z_]\w*\b')


def strip_comments_and_strings(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def sources(root):
    for top in ("plugin", "include"):
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, n), root)


def resolve(root, path, name):
    for base in (os.path.dirname(path), "plugin", "include"):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def unit(path):
    return os.path.splitext(path)[0]


def room(path):
    parts = path.split(os.sep)
    return parts[1] if parts[0] == "plugin" and len(parts) > 2 else parts[0]


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def topo(graph):
    order, seen = [], set()

    def visit(v):
        if v in seen:
            return
        seen.add(v)
        for w in sorted(graph.get(v, ())):
            visit(w)
        order.append(v)

    for v in sorted(graph):
        visit(v)
    return order


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--max-lines", type=int, default=850)
    args = ap.parse_args()
    root = os.path.abspath(args.root)

    units, rooms, why = {}, {}, {}
    too_long = []
    texts, defined_in = {}, {}
    for path in sources(root):
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            texts[path] = f.read()
        if path.endswith(".c"):
            code = strip_comments_and_strings(texts[path])
            for m in list(FUNC_DEF_RE.finditer(code)) + list(VAR_DEF_RE.finditer(code)):
                defined_in.setdefault(m.group(1), set()).add(path)
    for path, text in texts.items():
        lines = text.count("\n")
        if path.endswith(".c") and lines > args.max_lines:
            too_long.append((path, lines))
        u, r = unit(path), room(path)
        units.setdefault(u, set())
        rooms.setdefault(r, set())
        for name in INCLUDE_RE.findall(text):
            target = resolve(root, path, name)
            if target is None:
                continue
            tu, tr = unit(target), room(target)
            if tu != u:
                units[u].add(tu)
                why.setdefault((u, tu), f"{path} includes {target}")
            if tr != r:
                rooms[r].add(tr)
                why.setdefault((r, tr), f"{path} includes {target}")
        if not path.endswith(".c"):
            continue
        for name in sorted(set(IDENT_RE.findall(strip_comments_and_strings(text)))):
            if path in defined_in.get(name, ()):
                continue  # its own definition (two hosts may define one entry point)
            for target in sorted(defined_in.get(name, ())):
                tu, tr = unit(target), room(target)
                if tu != u:
                    units[u].add(tu)
                    why.setdefault((u, tu), f"{path} uses {name} of {target}")
                if tr != r:
                    rooms[r].add(tr)
                    why.setdefault((r, tr), f"{path} uses {name} of {target}")

    bad = False
    for kind, graph in (("file", units), ("room", rooms)):
        for comp in cycles(graph):
            bad = True
            print(f"dependency cycle between {kind}s: {' <-> '.join(comp)}")
            members = set(comp)
            for a in comp:
                for b in sorted(graph[a] & members):
                    print(f"  {why[(a, b)]}")
    for path, n in too_long:
        bad = True
        print(f"{path}: {n} lines, over the limit of {args.max_lines}: split it by what it owns")
    if bad:
        return 1
    print("rooms, each after what it depends on: " + " -> ".join(topo(rooms)))
    for r in topo(rooms):
        print(f"  {r}: {', '.join(sorted(rooms[r])) or '-'}")
    print(f"ok: {len(units)} units in {len(rooms)} rooms, no dependency cycle, "
          f"no source file over {args.max_lines} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
