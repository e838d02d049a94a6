#!/usr/bin/env python3
"""Checks that `embargo --help`, each `embargo COMMAND --help` and the man page
docs/embargo.1 agree: every option a help text names is in the man page, every
option the man page names is in some help text, and each command's synopsis
line in the help is the man page's.
    check-help-man.py EMBARGO docs/embargo.1
"""
import re, subprocess, sys

embargo, man_path = sys.argv[1], sys.argv[2]
roff = open(man_path, encoding="utf-8").read()
# roff to plain words: \- is a dash, font escapes go, macro names go
man = re.sub(r"\\f[BIPR]", "", roff).replace("\\-", "-")
man = re.sub(r"^\.[A-Z]{1,2} ?", "", man, flags=re.M)
man = man.replace('"', "")
opt_re = re.compile(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-zA-Z])(?![\w-])")

def help_of(*cmd):
    r = subprocess.run([embargo, *cmd, "--help"] if cmd else [embargo, "--help"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (cmd, r.returncode, r.stderr)
    return r.stdout

fail = 0
all_help = help_of()
help_opts = set(opt_re.findall(all_help))
for cmd in ("scan", "live", "report", "rules"):
    text = help_of(cmd)
    assert text.startswith("usage: embargo " + cmd), text[:80]
    for o in set(opt_re.findall(text)):
        help_opts.add(o)
        if o not in set(opt_re.findall(man)):
            print(f"FAIL: `embargo {cmd} --help` names {o}, the man page does not")
            fail = 1
    # option pairs "-x, --long" of the help are written the same way in the man page
    for short, long in re.findall(r"(-[a-zA-Z]), (--[a-z-]+)", text):
        if not re.search(re.escape(short) + r"\s*,\s*" + re.escape(long), man):
            print(f"FAIL: man page lacks '{short}, {long}' ({cmd})")
            fail = 1
for o in sorted(set(opt_re.findall(man))):
    if o not in help_opts and o not in ("-V",):
        print(f"FAIL: the man page names {o}, no --help does")
        fail = 1
# the command list of the synopsis
for cmd in ("scan", "live", "report", "rules check"):
    if f"embargo {cmd}" not in all_help or f"embargo {cmd}" not in man:
        print(f"FAIL: 'embargo {cmd}' missing from --help or the man page")
        fail = 1
if fail:
    sys.exit(1)
print(f"ok: {len(help_opts)} options agree between --help and {man_path}")
