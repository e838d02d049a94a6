#!/usr/bin/python3
"""Run end-to-end pcap cases (tests/pcap/<case>/test.yaml) against the embargo binary.

    /usr/bin/python3 tests/pcap/run-case.py --embargo build/embargo --rules-default rules \
        [--schema shared/reference/eve-schema-suricata-8.0.6.json] [-v] [--keep] CASE_DIR...

For each case: runs `embargo scan -r RULES -o TMP/eve.json [args...] PCAP...` in a scratch
directory with TZ=UTC, checks the exit status and stderr, checks that every EVE line is JSON
(and valid against the schema when one is given), then runs the suricata-verify style
`checks`. Prints PASS/FAIL per case; exits 0 only if every case passed. See README.md for
the test.yaml format. Needs python3-yaml and python3-jsonschema (Debian packages).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

KNOWN_KEYS = {"rules", "pcaps", "args", "exit", "stderr", "eve-empty", "checks", "timeout"}


class CaseFailure(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Field lookup and matching (the subset of suricata-verify's filter semantics we use)


def find_value(path, event):
    """Value at a dotted path; numeric components index arrays. Suffix components
    __len, __contains, __startswith, __endswith work as in suricata-verify and are handled
    by match_one. Returns (found, value)."""
    cur = event
    for part in path.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return False, None
            cur = cur[part]
        elif isinstance(cur, list):
            try:
                idx = int(part)
            except ValueError:
                return False, None
            if not -len(cur) <= idx < len(cur):
                return False, None
            cur = cur[idx]
        else:
            return False, None
    return True, cur


def same(expected, actual):
    """Equality that does not let True == 1 or 1 == 1.0 pass across JSON types."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(same(e, a) for e, a in zip(expected, actual)))
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(same(expected[k], actual[k]) for k in expected))
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return type(expected) is type(actual) and expected == actual
    return expected == actual


def match_one(key, expected, event):
    if key == "has-key":
        keys = expected if isinstance(expected, list) else [expected]
        return all(find_value(k, event)[0] for k in keys)
    if key == "not-has-key":
        keys = expected if isinstance(expected, list) else [expected]
        return not any(find_value(k, event)[0] for k in keys)
    for op in ("__len", "__contains", "__startswith", "__endswith"):
        if key.endswith("." + op):
            found, val = find_value(key[: -len(op) - 1], event)
            if not found:
                return False
            if op == "__len":
                return hasattr(val, "__len__") and same(expected, len(val))
            if op == "__contains":
                return hasattr(val, "__contains__") and expected in val
            if not isinstance(val, str):
                return False
            return val.startswith(expected) if op == "__startswith" else val.endswith(expected)
    found, val = find_value(key, event)
    if expected is None:
        return not found or val is None
    return found and same(expected, val)


def matches(match, event):
    return all(match_one(k, v, event) for k, v in (match or {}).items())


# --------------------------------------------------------------------------------------------


def summarise(event):
    """One short line per event for failure reports."""
    a = event.get("alert", {})
    emb = a.get("context", {}).get("embargo", {})
    return "pcap_cnt=%s %s %s:%s -> %s:%s sid=%s field=%s value=%s" % (
        event.get("pcap_cnt"), event.get("proto"), event.get("src_ip"), event.get("src_port"),
        event.get("dest_ip"), event.get("dest_port"), a.get("signature_id"),
        emb.get("field"), emb.get("value"))


def near_misses(match, events):
    """For events that fail only some keys of a match, name the keys and the values seen."""
    match = match or {}
    best, out = None, []
    for n, ev in enumerate(events):
        bad = [k for k, v in match.items() if not match_one(k, v, ev)]
        if not bad or len(bad) * 2 > len(match):
            continue
        if best is None or len(bad) < best:
            best, out = len(bad), []
        if len(bad) == best:
            out.append("  event %d (%s) differs in:\n%s" % (n + 1, summarise(ev), "\n".join(
                "      %s: expected %s, got %s" % (
                    k, json.dumps(match[k]), json.dumps(find_value(k, ev)[1])
                    if find_value(k, ev)[0] else "(absent)") for k in bad)))
    return ("closest events:\n" + "\n".join(out[:5]) + "\n") if out else ""


def load_schema_validator(path):
    if not path or not os.path.exists(path):
        print("schema check skipped: no schema file")
        return None
    import jsonschema
    with open(path) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


def run_case(case_dir, opts, validator):
    case_dir = os.path.abspath(case_dir)
    with open(os.path.join(case_dir, "test.yaml")) as f:
        cfg = yaml.safe_load(f) or {}
    unknown = set(cfg) - KNOWN_KEYS
    if unknown:
        raise CaseFailure("test.yaml: unknown keys %s" % sorted(unknown))
    if "exit" not in cfg:
        raise CaseFailure("test.yaml: 'exit' is required")
    exit_expected = cfg["exit"]
    checks = cfg.get("checks") or []

    # A case must say what must NOT alert, unless it is an error case (exit 2).
    if exit_expected != 2 and not any(
            c.get("filter", {}).get("count") == 0 for c in checks):
        raise CaseFailure("test.yaml: no negative check (a filter with count: 0)")

    rules = (os.path.join(case_dir, cfg["rules"]) if "rules" in cfg else opts.rules_default)
    pcaps = [os.path.join(case_dir, p) for p in cfg.get("pcaps", ["input.pcap"])]
    for p in pcaps:
        if not os.path.exists(p):
            raise CaseFailure("missing input %s" % p)

    tmp = tempfile.mkdtemp(prefix="embargo-case-")
    try:
        eve = os.path.join(tmp, "eve.json")
        cmd = [opts.embargo, "scan", "-r", rules, "-o", eve] + \
            [str(a).replace("{case}", case_dir) for a in cfg.get("args", [])] + pcaps
        env = dict(os.environ, TZ="UTC")
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True,
                                  timeout=cfg.get("timeout", 60))
        except subprocess.TimeoutExpired:
            raise CaseFailure("timed out: %s" % " ".join(cmd))
        stderr = proc.stderr.decode("utf-8", "replace")
        stdout = proc.stdout.decode("utf-8", "replace")
        context = "command: %s\nexit: %d\nstderr:\n%s" % (
            " ".join(cmd), proc.returncode, _indent(stderr))
        if opts.verbose:
            print(context)
            if stdout:
                print("stdout:\n" + _indent(stdout))

        if proc.returncode < 0:
            raise CaseFailure("killed by signal %d\n%s" % (-proc.returncode, context))
        if proc.returncode != exit_expected:
            raise CaseFailure("exit status %d, expected %d\n%s" % (
                proc.returncode, exit_expected, context))
        if "stderr" in cfg and not re.search(cfg["stderr"], stderr, re.MULTILINE):
            raise CaseFailure("stderr does not match /%s/\n%s" % (cfg["stderr"], context))

        events, lines = [], []
        if os.path.exists(eve):
            with open(eve, "rb") as f:
                data = f.read()
            if data and not data.endswith(b"\n"):
                raise CaseFailure("eve.json does not end with a newline\n" + context)
            for n, line in enumerate(data.decode("utf-8").split("\n")[:-1] if data else [], 1):
                try:
                    ev = json.loads(line)
                except ValueError as e:
                    raise CaseFailure("eve.json line %d is not JSON (%s): %r" % (n, e, line))
                if not isinstance(ev, dict):
                    raise CaseFailure("eve.json line %d is not an object: %r" % (n, line))
                if validator is not None:
                    errs = sorted(validator.iter_errors(ev), key=lambda e: list(e.path))
                    if errs:
                        raise CaseFailure("eve.json line %d fails the schema: %s at %s\n%s" % (
                            n, errs[0].message, "/".join(map(str, errs[0].absolute_path)),
                            line))
                events.append(ev)
                lines.append(line)
        elif exit_expected != 2:
            raise CaseFailure("no EVE file written at %s\n%s" % (eve, context))

        if cfg.get("eve-empty") and events:
            raise CaseFailure("eve.json should be empty, has %d lines:\n%s" % (
                len(events), _indent("\n".join(lines))))

        for i, check in enumerate(checks, 1):
            flt = check.get("filter")
            if flt is None or "count" not in flt:
                raise CaseFailure("check %d: only 'filter' checks with a 'count' exist" % i)
            got = [n for n, ev in enumerate(events) if matches(flt.get("match"), ev)]
            if len(got) != flt["count"]:
                seen = "\n".join(summarise(e) for e in events) or "(no events)"
                matched = "\n".join(lines[n] for n in got) or "(none)"
                raise CaseFailure(
                    "check %d failed: expected count %d, got %d\n  match: %s\n"
                    "events that matched:\n%s\n%sall events seen (%d):\n%s" % (
                        i, flt["count"], len(got), json.dumps(flt.get("match")),
                        _indent(matched), near_misses(flt.get("match"), events),
                        len(events), _indent(seen)))
        return len(checks)
    finally:
        if opts.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _indent(text):
    return "\n".join("    " + line for line in text.rstrip("\n").split("\n"))


def main():
    ap = argparse.ArgumentParser(description="Run tests/pcap cases against embargo.")
    ap.add_argument("--embargo", required=True, help="path to the embargo binary")
    ap.add_argument("--rules-default", required=True,
                    help="rules file or directory used when a case has no 'rules:'")
    ap.add_argument("--schema", help="EVE JSON schema; every line is validated against it")
    ap.add_argument("-v", "--verbose", action="store_true", help="print command and stderr")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("cases", nargs="+", metavar="CASE_DIR")
    opts = ap.parse_args()
    opts.embargo = os.path.abspath(opts.embargo)
    opts.rules_default = os.path.abspath(opts.rules_default)
    if not os.access(opts.embargo, os.X_OK):
        print("embargo binary not found or not executable: %s" % opts.embargo,
              file=sys.stderr)
        return 2

    validator = load_schema_validator(opts.schema)
    failed = []
    for case in opts.cases:
        name = os.path.basename(os.path.normpath(case))
        try:
            n = run_case(case, opts, validator)
            print("PASS %s (%d checks)" % (name, n))
        except CaseFailure as e:
            failed.append(name)
            print("FAIL %s: %s" % (name, e))
        except (OSError, yaml.YAMLError) as e:
            failed.append(name)
            print("FAIL %s: %s" % (name, e))
    if len(opts.cases) > 1:
        print("%d passed, %d failed%s" % (len(opts.cases) - len(failed), len(failed),
                                          (": " + " ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
