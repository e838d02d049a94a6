#!/usr/bin/env python3
"""Checks `embargo report` in one format against eve.json files produced by
scanning the repository's pcap cases, plus tests/report/extra-eve.json (other
record types, bad lines, a Suricata alert that is not embargo's, and an
alert whose names carry HTML/script injection).

Every number the report prints is compared with an independent aggregation
done here from the same EVE files; the facts of the real Kaspersky capture
(128.3.116.128, 4 update alerts) are checked as fixed numbers.

    check-report.py --embargo BIN --cases tests/pcap --real pcaps/x.pcap
                    --extra tests/report/extra-eve.json --format text|json|csv|html|errors
                    [--chromium /usr/bin/chromium] [--screenshot out.png]
Exit 77 (skipped) for html when chromium is not installed.
"""
import argparse, csv, io, json, os, re, shutil, subprocess, sys, tempfile

p = argparse.ArgumentParser()
p.add_argument("--embargo", required=True)
p.add_argument("--cases", required=True)
p.add_argument("--real", required=True)
p.add_argument("--extra", required=True)
p.add_argument("--format", required=True)
p.add_argument("--chromium", default="chromium")
p.add_argument("--screenshot")
args = p.parse_args()

failures = []
def check(what, cond):
    if not cond:
        failures.append(what)
        print("FAIL:", what)

tmp = tempfile.mkdtemp(prefix="embargo-report-")
def run(*cmd, want=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if want is not None and r.returncode != want:
        print(f"FAIL: {' '.join(cmd)}: exit {r.returncode}, want {want}\n{r.stderr[:2000]}")
        failures.append("exit status")
    return r

# ---- inputs: eve files from scans of the pcap cases ----
eves = []
for name, pcap in [("dns", f"{args.cases}/dns-kaspersky/input.pcap"),
                   ("sni", f"{args.cases}/vendors-dns-sni/input.pcap"),
                   ("dev", f"{args.cases}/device-discovery/input.pcap"),
                   ("real", args.real)]:
    out = os.path.join(tmp, name + ".json")
    run(args.embargo, "scan", "-q", "-o", out, pcap, want=1)
    eves.append(out)
extra = os.path.join(tmp, "extra.json")
shutil.copy(args.extra, extra)
eves.append(extra)
clean = os.path.join(tmp, "clean.json")
run(args.embargo, "scan", "-q", "-o", clean, f"{args.cases}/clean/input.pcap", want=0)

# ---- the reference aggregation ----
def ts_us(s):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([+-])(\d\d):?(\d\d)|Z)?", s)
    import calendar
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    us = int((m.group(7) or "0")[:6].ljust(6, "0"))
    off = 0
    if m.group(8):
        off = (int(m.group(9)) * 3600 + int(m.group(10)) * 60) * (1 if m.group(8) == "+" else -1)
    return (calendar.timegm((y, mo, d, h, mi, se)) - off) * 1000000 + us

def fmt(us):
    import datetime
    t = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06d+0000" % (us % 1000000)

def first(v):
    if isinstance(v, list):
        v = v[0] if v else None
    return v if isinstance(v, str) else None

ref = {"records": 0, "alerts": 0, "skipped": 0, "bad": [], "vendors": {}, "hosts": {},
       "devices": {}}
def span(d, t):
    d["alerts"] = d.get("alerts", 0) + 1
    d["first"] = min(d.get("first", t), t)
    d["last"] = max(d.get("last", t), t)

for path in eves:
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        ref["records"] += 1
        try:
            r = json.loads(line)
            assert isinstance(r, dict)
        except Exception:
            ref["bad"].append(f"{path}:{n}")
            continue
        a = r.get("alert") if r.get("event_type") == "alert" else None
        meta = (a or {}).get("metadata", {})
        ctx = (a or {}).get("context", {}).get("embargo", {})
        vendor = first(meta.get("vendor")) or first(ctx.get("vendor"))
        if not isinstance(a, dict) or not vendor:
            ref["skipped"] += 1
            continue
        ref["alerts"] += 1
        channel = first(meta.get("channel")) or first(ctx.get("channel")) or "unknown"
        product = first(meta.get("product")) or ""
        fl = r.get("flow", {})
        if fl.get("src_ip") and fl.get("dest_ip"):
            client = fl["src_ip"]
        elif r.get("direction") == "to_client":
            client = r["dest_ip"]
        else:
            client = r["src_ip"]
        t = ts_us(r["timestamp"])
        dev = ctx.get("device", {}).get("host")
        if dev:  # what a device said of itself: the device is the host
            client = dev
            # the report replaces control bytes (a sysDescr's line ends) with '?'
            d = ref["devices"].setdefault((dev, vendor), {
                "field": ctx["field"], "value": re.sub(r"[\x00-\x1f\x7f]", "?", ctx["value"])})
            span(d, t)
        v = ref["vendors"].setdefault(vendor, {"hosts": set(), "channels": {}})
        span(v, t)
        v["hosts"].add(client)
        c = v["channels"].setdefault(channel, {"hosts": set()})
        span(c, t)
        c["hosts"].add(client)
        h = ref["hosts"].setdefault(client, {"items": {}})
        span(h, t)
        span(h["items"].setdefault((vendor, product, channel), {}), t)

fmt_name = args.format
check("the inputs hold alerts of at least 3 hosts", len(ref["hosts"]) >= 3)
check("two bad lines in extra-eve.json", [b.split(":")[-1] for b in ref["bad"]] == ["2", "5"])

def report(*extra_args, want=1):
    return run(args.embargo, "report", *extra_args, *eves, want=want)

if fmt_name == "json":
    r = report("--format", "json")
    rep = json.loads(r.stdout)
    check("stderr names bad lines as file:line",
          all(f"{b}: not a JSON record, skipped" in r.stderr for b in ref["bad"]))
    check("input.records", rep["input"]["records"] == ref["records"])
    check("input.alerts", rep["input"]["alerts"] == ref["alerts"])
    check("input.skipped", rep["input"]["skipped"] == ref["skipped"])
    check("input.bad_lines", rep["input"]["bad_lines"] == len(ref["bad"]))
    check("input.bad_line_places", rep["input"]["bad_line_places"] == ref["bad"])
    check("hosts_total", rep["hosts_total"] == len(ref["hosts"]))
    check("vendors", sorted(v["vendor"] for v in rep["vendors"]) == sorted(ref["vendors"]))
    allt = [h["first"] for h in ref["hosts"].values()] + [h["last"] for h in ref["hosts"].values()]
    check("first_seen", rep["first_seen"] == fmt(min(allt)))
    check("last_seen", rep["last_seen"] == fmt(max(allt)))
    for v in rep["vendors"]:
        e = ref["vendors"][v["vendor"]]
        check(f"vendor {v['vendor']} alerts/hosts/first/last",
              (v["alerts"], v["hosts"], v["first_seen"], v["last_seen"]) ==
              (e["alerts"], len(e["hosts"]), fmt(e["first"]), fmt(e["last"])))
        check(f"vendor {v['vendor']} channels",
              {c["channel"]: (c["alerts"], c["hosts"]) for c in v["channels"]} ==
              {k: (c["alerts"], len(c["hosts"])) for k, c in e["channels"].items()})
    counts = [v["alerts"] for v in rep["vendors"]]
    check("vendors sorted by alerts", counts == sorted(counts, reverse=True))
    for h in rep["hosts"]:
        e = ref["hosts"][h["host"]]
        check(f"host {h['host']} alerts/first/last",
              (h["alerts"], h["first_seen"], h["last_seen"]) == (e["alerts"], fmt(e["first"]), fmt(e["last"])))
        check(f"host {h['host']} seen",
              {(s["vendor"], s["product"] or "", s["channel"]): (s["alerts"], s["first_seen"], s["last_seen"])
               for s in h["seen"]} ==
              {k: (i["alerts"], fmt(i["first"]), fmt(i["last"])) for k, i in e["items"].items()})
        check(f"host {h['host']} top destinations <= 5, sorted",
              len(h["top_destinations"]) <= 5 and
              [d["alerts"] for d in h["top_destinations"]] ==
              sorted((d["alerts"] for d in h["top_destinations"]), reverse=True))
    # fixed facts of the real capture and of the injected alert
    real = [h for h in rep["hosts"] if h["host"] == "128.3.116.128"]
    check("128.3.116.128: 4 kaspersky update alerts, Kaspersky Endpoint Security",
          len(real) == 1 and real[0]["alerts"] == 4 and
          [(s["vendor"], s["product"], s["channel"], s["alerts"]) for s in real[0]["seen"]] ==
          [("kaspersky", "Kaspersky Endpoint Security", "update", 4)] and
          real[0]["first_seen"] == "2018-08-07T16:10:33.773168+0000" and
          real[0]["top_destinations"] == [{"ip": "94.75.236.123", "name": None, "alerts": 4}])
    inj = [h for h in rep["hosts"] if h["host"] == "10.0.0.66"]
    check("the to_client alert is the client's (10.0.0.66), time +0200 read as UTC",
          len(inj) == 1 and inj[0]["first_seen"] == "2024-09-30T12:07:00.000000+0000" and
          inj[0]["top_destinations"][0]["ip"] == "203.0.113.66" and
          inj[0]["top_destinations"][0]["name"] == "<svg onload=alert(3)>.evil.example")
    check("the Suricata alert without vendor is not a host", "10.0.0.5" not in [h["host"] for h in rep["hosts"]])
    check("devices: one per device host and vendor, with what told",
          {(d["host"], d["vendor"]): (d["field"], d["value"], d["alerts"]) for d in rep["devices"]} ==
          {k: (d["field"], d["value"], d["alerts"]) for k, d in ref["devices"].items()})
    check("a device found by SSDP is a host (192.0.2.70), not the group it announced to",
          "192.0.2.70" in [h["host"] for h in rep["hosts"]] and
          "239.255.255.250" not in [h["host"] for h in rep["hosts"]])
    check("a DHCP client is the address it asked for (192.0.2.76), not 0.0.0.0",
          "192.0.2.76" in [h["host"] for h in rep["hosts"]] and
          "0.0.0.0" not in [h["host"] for h in rep["hosts"]])
    hw = [v for v in rep["vendors"] if v["vendor"] == "huawei"]
    check("huawei's bans in words: new authorizations for everyone, not use",
          len(hw) == 1 and hw[0]["bans"].startswith(
              "no new FCC equipment authorizations (equipment already authorized may still be "
              "used), for everyone; no procurement, by federal agencies; no use, by federal "
              "contractors"))

elif fmt_name == "text":
    r = report()
    out = r.stdout
    nh, nv = len(ref["hosts"]), len(ref["vendors"])
    check("headline", f"  {ref['alerts']} alerts from {nh} internal hosts, {nv} vendors, "
          "2018-08-07 16:10:33 to " in out)
    check("records line", f"read {ref['records']} records from {len(eves)} files: {ref['skipped']} other "
          f"records skipped, {len(ref['bad'])} bad lines" in out)
    for name, v in ref["vendors"].items():
        if name.startswith("<"):
            continue
        check(f"vendor line {name}", re.search(rf"^  {re.escape(name)} +{v['alerts']} alerts +"
                                               rf"{len(v['hosts'])} hosts? ", out, re.M))
        for ch, c in v["channels"].items():
            check(f"channel line {name} {ch}", re.search(
                rf"^    {re.escape(ch)} +{c['alerts']} alerts +{len(c['hosts'])} hosts?$", out, re.M))
    for ip, h in ref["hosts"].items():
        check(f"host line {ip}", re.search(rf"^  {re.escape(ip)} +{h['alerts']} alerts ", out, re.M))
    check("Devices section", "\nDevices (found by what they say of themselves)\n" in out)
    for (host, vendor), d in ref["devices"].items():
        check(f"device line {host} {vendor}", re.search(
            rf"^  {re.escape(host)} +{re.escape(vendor)} +{re.escape(d['field'])} +", out, re.M))
    check("kaspersky's bans in words", "    bans: no sale, for everyone; no updates, for everyone; "
          "no new FCC equipment authorizations (equipment already authorized may still be used), "
          "for everyone\n" in out)
    check("real capture host", re.search(r"^    kaspersky +update +Kaspersky Endpoint Security +4 "
                                         r" 2018-08-07 16:10:33 \.\. 2018-08-07 16:10:33$", out, re.M))
    check("bad places", "Bad lines (not JSON), skipped: " + " ".join(ref["bad"]) in out)
    check("no control bytes", not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", out))
    r = run(args.embargo, "report", eves[3], want=1)
    check("real capture alone", "  4 alerts from 1 internal host, 1 vendor, 2018-08-07 16:10:33 to "
          "2018-08-07 16:10:33 UTC" in r.stdout)
    r = run(args.embargo, "report", clean, want=0)
    check("clean capture: nothing seen, exit 0", "No traffic of a banned vendor was seen." in r.stdout)

elif fmt_name == "csv":
    out = os.path.join(tmp, "r.csv")
    r = report("--format", "csv", "-o", out)
    check("summary on stderr", f"{ref['alerts']} alerts from {len(ref['hosts'])} hosts" in r.stderr)
    rows = list(csv.reader(open(out, newline="", encoding="utf-8")))
    check("header", rows[0] == ["host", "vendor", "product", "channel", "alerts", "first_seen",
                                "last_seen", "top_destination"])
    want = {(ip, v, p, c): i for ip, h in ref["hosts"].items() for (v, p, c), i in h["items"].items()}
    check("one row per host, vendor, product and channel", len(rows) - 1 == len(want))
    for row in rows[1:]:
        key = tuple(row[:4])
        vendor = row[1][1:] if row[1].startswith("'") else row[1]
        key = (row[0], vendor, row[2], row[3])
        e = want.get(key)
        check(f"row {key}", e is not None and int(row[4]) == e["alerts"] and
              row[5] == fmt(e["first"]) and row[6] == fmt(e["last"]))
    check("sum of alerts", sum(int(r[4]) for r in rows[1:]) == ref["alerts"])
    check("CRLF line ends", open(out, "rb").read().count(b"\r\n") == len(rows))
    inj = [r for r in rows if r[0] == "10.0.0.66"]
    check("injected names kept as text, quotes doubled",
          len(inj) == 1 and inj[0][1] == "<script>document.title='pwned'</script>" and
          inj[0][2] == "<img src=x onerror=\"document.title='pwned2'\">")

elif fmt_name == "html":
    chromium = shutil.which(args.chromium)
    out = os.path.join(tmp, "report.html")
    r = report("--format", "html", "-o", out)
    html = open(out, encoding="utf-8").read()
    check("no <script in the page", "<script" not in html.lower())
    check("injected names are escaped", "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
          and "&lt;svg onload=alert(3)&gt;.evil.example" in html and "&lt;b&gt;" not in html)
    check("no network fetches", not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
          and "@import" not in html and "url(" not in html)
    check("a Content-Security-Policy that forbids scripts", "default-src 'none'" in html)
    check("two inline SVG charts", html.count("<svg class=\"chart\"") == 2)
    if not chromium:
        print("SKIP: chromium not installed (scripts/install-deps.sh): the page was checked as text only")
        sys.exit(1 if failures else 77)
    prof = tempfile.mkdtemp(prefix="embargo-chromium-")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-dev-shm-usage", f"--user-data-dir={prof}", "--hide-scrollbars"]
    d = subprocess.run(flags + ["--dump-dom", "file://" + out], capture_output=True, text=True,
                       timeout=120)
    dom = d.stdout
    check("chromium rendered the page", "<title>embargo compliance report</title>" in dom)
    check("no script ran: the title is unchanged", "pwned" not in dom.split("</title>")[0])
    check("no script element in the DOM", "<script" not in dom.lower())
    for v in ref["vendors"]:
        if not v.startswith("<"):
            check(f"vendor {v} in the DOM", f">{v}<" in dom)
    for ip in ref["hosts"]:
        check(f"host {ip} in the DOM", f"<b>{ip}</b>" in dom)
    check("timeline chart in the DOM", 'id="chart-timeline"' in dom and "<rect" in dom)
    check("hosts chart in the DOM", 'id="chart-hosts"' in dom)
    check("injected vendor shown as text", "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom)
    shot = args.screenshot or os.path.join(tmp, "report.png")
    s = subprocess.run(flags + ["--window-size=1100,1500", f"--screenshot={shot}", "file://" + out],
                       capture_output=True, text=True, timeout=120)
    check("screenshot taken", os.path.exists(shot) and os.path.getsize(shot) > 10000)
    shutil.rmtree(prof, ignore_errors=True)
    print("screenshot:", shot)

elif fmt_name == "errors":
    run(args.embargo, "report", "--format", "pdf", eves[0], want=2)
    r = run(args.embargo, "report", os.path.join(tmp, "missing.json"), want=2)
    check("missing file named", "missing.json: cannot read" in r.stderr)
    r = run(args.embargo, "report", want=2)
    check("no files", "no EVE files given" in r.stderr)
    r = run(args.embargo, "report", "-o", "/dev/full", eves[0], want=2)
    check("write failure", "/dev/full: write failed" in r.stderr)
    r = subprocess.run([args.embargo, "report", "-"], input=open(eves[3]).read(),
                       capture_output=True, text=True, timeout=60)
    check("standard input read", r.returncode == 1 and "  4 alerts from 1 internal host" in r.stdout)
else:
    sys.exit(f"unknown format {fmt_name}")

if not args.screenshot:
    shutil.rmtree(tmp, ignore_errors=True)
if failures:
    sys.exit(1)
print(f"ok: report --format {fmt_name}")
