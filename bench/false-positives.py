#!/usr/bin/python3
"""Report of bench/false-positives.sh: reads the per-capture EVE files the script
wrote, totals captures, packets, flows and alerts, lists every alert grouped by
sid and marks it explained or not by the explanation file.

Exit status: 0 every alert explained, 1 some alert unexplained, 2 bad input."""
import argparse
import collections
import json
import os
import re
import sys

import yaml

KINDS = ("true-vendor", "limit")
# capture, sid, kind, reason are required; fix is required for a limit;
# corpus, flow, evidence and origin are for the reader only.
KEYS = {"corpus", "capture", "sid", "kind", "reason", "fix", "flow", "evidence", "origin"}


def load_explained(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    entries = doc.get("alerts") or []
    out = []
    for i, e in enumerate(entries):
        where = f"{path}: alerts[{i}]"
        if not isinstance(e, dict):
            sys.exit(f"false-positives: {where}: not a mapping")
        unknown = set(e) - KEYS
        if unknown:
            sys.exit(f"false-positives: {where}: unknown key(s) {', '.join(sorted(unknown))}")
        for key in ("capture", "sid", "kind", "reason"):
            if key not in e:
                sys.exit(f"false-positives: {where}: missing '{key}'")
        if e["kind"] not in KINDS:
            sys.exit(f"false-positives: {where}: kind must be one of {', '.join(KINDS)}")
        if e["kind"] == "limit" and not e.get("fix"):
            sys.exit(f"false-positives: {where}: a limit needs its planned 'fix'")
        sids = e["sid"] if isinstance(e["sid"], list) else [e["sid"]]
        e["_sids"] = {int(s) for s in sids}
        e["_used"] = 0
        out.append(e)
    return out


def find_explanation(entries, rel, sid):
    """An entry names a capture by its path relative to the collection's root.
    A corpus given above that root (paths longer) or below it (paths shorter,
    still with a directory) matches too: the two paths must agree on their last
    components, at least two of them."""
    for e in entries:
        if sid not in e["_sids"]:
            continue
        cap = e["capture"].strip("/")
        if rel == cap:
            return e
        short, long_ = sorted((rel, cap), key=len)
        if "/" in short and long_.endswith("/" + short):
            return e
    return None


PREFIX = re.compile(r"^embargo: .*?\.(pcap|pcapng|cap|trace): ", re.I)
SUMMARY = re.compile(r"(\d+) files?, (\d+) packets, (\d+) flows")


def read_eve(eve, err):
    """Return (packets, flows, alerts, warnings) of one scan."""
    packets = flows = None
    alerts = []
    if os.path.exists(eve):
        with open(eve, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                t = rec.get("event_type")
                if t == "alert":
                    alerts.append(rec)
                elif t == "stats":
                    st = rec.get("stats", {})
                    packets = st.get("decoder", {}).get("pkts", packets)
                    flows = st.get("flow", {}).get("total", flows)
    lines = []
    if os.path.exists(err):
        with open(err, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if packets is None or flows is None:
            m = SUMMARY.search(text)
            if m:
                packets, flows = int(m.group(2)), int(m.group(3))
        lines = [PREFIX.sub("", l) for l in text.splitlines() if l.strip()]
    return packets or 0, flows or 0, alerts, lines


def endpoint(ip, port):
    ip = str(ip)
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def flow_of(a):
    return (f"{endpoint(a.get('src_ip'), a.get('src_port', '-'))} -> "
            f"{endpoint(a.get('dest_ip'), a.get('dest_port', '-'))} {a.get('proto', '?')}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpora", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--explained", required=True)
    ap.add_argument("--timeout", default="?")
    args = ap.parse_args()

    corpora = {}
    with open(args.corpora, encoding="utf-8") as f:
        for line in f:
            idx, name, path, commit, source = line.rstrip("\n").split("\t")
            corpora[idx] = dict(name=name, path=path, commit=commit, source=source,
                                captures=0, read=0, dups=0, lfs=0, packets=0, flows=0, alerts=0)
    entries = load_explained(args.explained)

    unreadable = []          # (corpus, rel, why, detail)
    warned = []              # (corpus, rel, warning)
    all_alerts = []          # (corpus name, rel, alert)
    packets = flows = 0
    with open(args.manifest, encoding="utf-8") as f:
        for line in f:
            idx, rel, rc, eve, err = line.rstrip("\n").split("\t")
            c = corpora[idx]
            c["captures"] += 1
            if rc == "dup":      # same bytes as an earlier capture: counted once
                c["dups"] += 1
                continue
            if rc == "lfs":      # a Git LFS pointer, not a capture
                c["lfs"] += 1
                continue
            rc = int(rc)
            p, fl, alerts, lines = read_eve(eve, err)
            if rc in (0, 1):
                c["read"] += 1
                for w in lines:
                    if w.startswith("warning: "):
                        warned.append((c["name"], rel, w))
            else:
                why = {2: "rejected (exit 2)", 124: f"timed out after {args.timeout} s",
                       125: "gzip failed"}.get(rc, f"exit {rc}" + (
                           f" (signal {rc - 128})" if rc > 128 else ""))
                detail = lines[0] if lines else ""
                unreadable.append((c["name"], rel, why, detail))
            c["packets"] += p
            c["flows"] += fl
            c["alerts"] += len(alerts)
            packets += p
            flows += fl
            for a in alerts:
                all_alerts.append((c["name"], rel, a))

    captures = sum(c["captures"] for c in corpora.values())
    read = sum(c["read"] for c in corpora.values())
    dups = sum(c["dups"] for c in corpora.values())
    lfs = sum(c["lfs"] for c in corpora.values())
    print("== corpora")
    for c in corpora.values():
        print(f"  {c['name']}: {c['path']}")
        print(f"    commit {c['commit']} ({c['source']})")
        lfs_note = f"{c['lfs']} LFS pointers, " if c["lfs"] else ""
        print(f"    {c['captures']} captures, {c['read']} read, {c['dups']} duplicates, "
              f"{lfs_note}{c['packets']} packets, {c['flows']} flows, {c['alerts']} alerts")
    print()
    lfs_note = f"{lfs} Git LFS pointers never fetched, " if lfs else ""
    print(f"captures: {captures} ({read} read, {dups} duplicates of a capture read, "
          f"{lfs_note}{len(unreadable)} unreadable)")
    print(f"packets:  {packets}")
    print(f"flows:    {flows}")
    per_m = len(all_alerts) * 1e6 / flows if flows else 0.0
    print(f"alerts:   {len(all_alerts)} ({per_m:.1f} per million flows)")

    if unreadable:
        print()
        reasons = collections.Counter(f"{why}: {d}" if d else why
                                      for _, _, why, d in unreadable)
        print(f"== unreadable captures ({len(unreadable)}), by reason")
        for r, k in reasons.most_common():
            print(f"  {k:5d}  {r}")
        print()
        print(f"== unreadable captures ({len(unreadable)})")
        for name, rel, why, detail in unreadable:
            print(f"  {name}/{rel}: {why}" + (f": {detail}" if detail else ""))
    if warned:
        print()
        print(f"== captures read with a warning ({len(warned)})")
        for name, rel, w in warned:
            print(f"  {name}/{rel}: {w}")

    by_sid = collections.OrderedDict()
    for item in sorted(all_alerts, key=lambda t: (t[2]["alert"]["signature_id"], t[0], t[1],
                                                  t[2].get("pcap_cnt", 0))):
        by_sid.setdefault(item[2]["alert"]["signature_id"], []).append(item)
    counts = collections.Counter()
    recall = []
    if by_sid:
        print()
        print("== alerts by sid")
    for sid, items in by_sid.items():
        msg = items[0][2]["alert"].get("signature", "")
        print(f"sid {sid} \"{msg}\": {len(items)} alert{'s' if len(items) != 1 else ''}")
        for name, rel, a in items:
            ev = a["alert"].get("context", {}).get("embargo", {})
            e = find_explanation(entries, rel, sid)
            if e is None:
                mark = "UNEXPLAINED"
                counts["unexplained"] += 1
            else:
                e["_used"] += 1
                mark = e["kind"]
                counts[e["kind"]] += 1
                if e["kind"] == "true-vendor":
                    recall.append((name, rel, sid, ev, flow_of(a)))
            print(f"  [{mark}] {name}/{rel}")
            print(f"      {flow_of(a)}  {ev.get('field', '?')}={ev.get('value', '?')!r}"
                  f"  (packet {a.get('pcap_cnt', '?')})")
            if e is not None:
                print(f"      {e['kind']}: {e['reason']}")
                if e.get("fix"):
                    print(f"      fix: {e['fix']}")
    if recall:
        print()
        print(f"== recall: true vendor flows found ({len(recall)})")
        for name, rel, sid, ev, flow in recall:
            print(f"  {ev.get('vendor', '?')} sid {sid}: {name}/{rel}  {flow}  "
                  f"{ev.get('field', '?')}={ev.get('value', '?')!r}")
    stale = [e for e in entries if e["_used"] == 0]
    if stale:
        print()
        print(f"== explanations that matched no alert ({len(stale)})")
        for e in stale:
            print(f"  {e['capture']} sid {sorted(e['_sids'])}")
    print()
    if flows:
        print(f"limits (false positives): {counts['limit']} "
              f"({counts['limit'] * 1e6 / flows:.1f} per million flows); "
              f"unexplained: {counts['unexplained']}")
    print(f"{len(all_alerts)} alerts: {counts['true-vendor']} true-vendor, "
          f"{counts['limit']} limits, {counts['unexplained']} unexplained")
    return 1 if counts["unexplained"] else 0


if __name__ == "__main__":
    sys.exit(main())
