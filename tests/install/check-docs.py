#!/usr/bin/env python3
"""Checks that the docs and the code agree on the names a user types or reads:

- every rule key, channel and alert field (`context.embargo.field`) the code
  knows is documented, and docs/rules.md's key table names no key the code
  does not know;
- every option that a command line in README.md or docs/*.md gives to
  `embargo scan|live|report|rules check|rules export` is one that command's
  --help lists, and README's synopsis of each command names every option of
  the command's --help usage line.

The names come from the sources (plugin/pack/indicator.c, plugin/detect/fields.c)
and from the built command, so a rename in the code fails here until the docs
follow.
    check-docs.py EMBARGO SOURCE_DIR
"""
import glob
import os
import re
import subprocess
import sys

embargo, src = sys.argv[1], sys.argv[2]
fail = []


def read(path):
    with open(os.path.join(src, path), encoding="utf-8") as f:
        return f.read()


def c_table(path, name):
    """The string literals of the C array `name` in `path`."""
    text = read(path)
    m = re.search(r"\b" + re.escape(name) + r"\[[^]]*\]\s*=\s*\{(.*?)\};", text, re.S)
    if not m:
        fail.append(f"{path}: no table {name}")
        return []
    return re.findall(r'"([^"]*)"', m.group(1))


keys = c_table("plugin/pack/indicator.c", "key_names")
channels = c_table("plugin/pack/indicator.c", "channel_names")
fields = c_table("plugin/detect/fields.c", "evidence_names")

rules_md = read("docs/rules.md")
docs = {p: read(p) for p in ["README.md"] + sorted(
    os.path.relpath(p, src) for p in glob.glob(os.path.join(src, "docs", "*.md")))}
all_docs = "\n".join(docs.values())

for k in keys:
    if f"`{k}`" not in rules_md:
        fail.append(f"docs/rules.md: rule key `{k}` (plugin/pack/indicator.c) is not documented")
for ch in channels:
    if not re.search(r"\b" + re.escape(ch) + r"\b", rules_md):
        fail.append(f"docs/rules.md: channel '{ch}' is not documented")
for fd in fields:
    if f"`{fd}`" not in all_docs:
        fail.append(f"docs: alert field `{fd}` (plugin/detect/fields.c) is documented nowhere")
# The key table of docs/rules.md (the one under "## Keys"): its first column names keys.
key_table = rules_md.split("| key |", 1)[-1].split("\n\n", 1)[0]
for row in re.findall(r"^\| (`[^|]*`) \|", key_table, re.M):
    for k in re.findall(r"`([^`]+)`", row):
        if k not in keys:
            fail.append(f"docs/rules.md: the key table names `{k}`, which the loader does not know")


def help_of(*cmd):
    r = subprocess.run([embargo, *cmd, "--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        fail.append(f"embargo {' '.join(cmd)} --help: exit {r.returncode}")
    return r.stdout


opt_re = re.compile(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-zA-Z])(?![\w-])")
helps = {c: help_of(c) for c in ("scan", "live", "report", "rules")}
help_opts = {c: set(opt_re.findall(t)) | {"-h", "--help"} for c, t in helps.items()}

# Command lines in the docs: "embargo CMD ..." up to the end of the line or a backtick.
cmd_re = re.compile(r"embargo (scan|live|report|rules (?:check|export))\b([^`\n]*)")
for path, text in docs.items():
    for cmd, rest in cmd_re.findall(text):
        base = cmd.split()[0]
        rest = re.sub(r"(?:^|\s)-\s", " ", rest)  # "-o -": standard output
        for o in opt_re.findall(rest):
            if o not in help_opts[base]:
                fail.append(f"{path}: `embargo {cmd}` is given {o}, which "
                            f"`embargo {base} --help` does not list")

# README's synopsis lists every option of each command's usage line.
readme = docs["README.md"]
for c in ("scan", "live", "report"):
    usage = helps[c].splitlines()[0] if helps[c] else ""
    syn = re.search(r"^\s+embargo " + c + r" .*$", readme, re.M)
    if not syn:
        fail.append(f"README.md: no synopsis line for embargo {c}")
        continue
    for o in opt_re.findall(usage):
        if o not in opt_re.findall(syn.group(0)):
            fail.append(f"README.md: the synopsis of embargo {c} lacks {o} (its --help has it)")

if fail:
    print("\n".join("FAIL: " + f for f in fail))
    sys.exit(1)
print(f"ok: {len(keys)} keys, {len(channels)} channels, {len(fields)} alert fields and the "
      f"options of {len(docs)} documents agree with the code")
