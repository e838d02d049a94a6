#!/usr/bin/env bash
# Suricata 8's cost with embargo.so's `embargo` keyword against the same Suricata 8
# without the plugin, on the same capture, in the same run of this script.
#   bench/suricata8-overhead.sh PLUGIN [RUNS] [MIB]
#     PLUGIN  the Suricata 8 embargo.so (e.g. build/plugin/suricata/sc8/embargo.so)
#     RUNS    runs per configuration, alternated (default 5); the median is reported
#     MIB     size of the capture bench/gen-traffic writes (default 256)
#   SURICATA8=...  the suricata binary (default: scripts/build-suricata8.sh's prefix)
#   EMBARGO=...    the embargo command, for the rule export (default build/embargo)
#   GEN_TRAFFIC=.. bench/gen-traffic (default build/bench/gen-traffic)
# Both configurations log the same EVE types (alert, flow); "plain" loads no plugin and
# no rules, "embargo" loads the plugin and the exported pack (one keyword rule per pack
# rule). Prints median wall and CPU (user+sys) seconds of each and the ratio.
set -euo pipefail
plugin="$(readlink -f "${1:?usage: bench/suricata8-overhead.sh PLUGIN [RUNS] [MIB]}")"
cd "$(dirname "$0")/.."
runs="${2:-5}"
mib="${3:-256}"
prefix="${EMBARGO_SURICATA8_PREFIX:-/var/cache/embargo/suricata-8.0.7}"
suricata="${SURICATA8:-$prefix/bin/suricata}"
embargo="${EMBARGO:-build/embargo}"
gen="${GEN_TRAFFIC:-build/bench/gen-traffic}"
work="$(mktemp -d /tmp/embargo-bench8.XXXXXX)"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT

"$gen" -m "$mib" -o "$work/mix.pcap" >&2
"$embargo" rules export --format suricata-plugin rules >"$work/embargo.rules"
printf 'config classification: policy-violation,Potential Corporate Privacy Violation,1\n' \
    >"$work/classification.config"
: >"$work/reference.config"

/usr/bin/python3 - "$suricata" "$plugin" "$runs" "$work" "$PWD" <<'PY'
import os, resource, statistics, subprocess, sys, time

suricata, plugin, runs, work, root = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
capture = os.path.join(work, "mix.pcap")

def conf(name):
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write("%YAML 1.1\n---\n")
        if name == "embargo":
            f.write("plugins: [%s]\nembargo:\n  rules: %s\n  cache-dir: %s\n"
                    % (plugin, os.path.join(root, "rules"), work))
        f.write("classification-file: %s/classification.config\n"
                "reference-config-file: %s/reference.config\n"
                "outputs:\n  - eve-log:\n      enabled: yes\n      filetype: regular\n"
                "      filename: eve.json\n      types: [alert, flow]\n" % (work, work))
    return path

def run(name):
    d = os.path.join(work, "log-" + name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    rules = os.path.join(work, "embargo.rules") if name == "embargo" else "/dev/null"
    cmd = [suricata, "-r", capture, "-c", conf(name), "-l", d, "-k", "none",
           "--runmode", "single", "-S", rules]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("suricata failed (%d): %s" % (p.returncode, " ".join(cmd)))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    alerts = 0
    with open(os.path.join(d, "eve.json"), "rb") as f:
        alerts = sum(1 for l in f if b'"event_type":"alert"' in l)
    return wall, cpu, alerts

print("capture: %.1f MB (bench/gen-traffic)" % (os.path.getsize(capture) / 1e6))
res = {"plain": [], "embargo": []}
run("plain"); run("embargo")  # warm the page cache and the database cache
for i in range(runs):
    for name in ("plain", "embargo"):
        res[name].append(run(name))
for name in ("plain", "embargo"):
    r = res[name]
    print("%-8s median wall %.3f s, cpu %.3f s (%d runs); %d alerts"
          % (name, statistics.median(x[0] for x in r), statistics.median(x[1] for x in r),
             len(r), r[0][2]))
w = statistics.median(x[0] for x in res["embargo"]) / statistics.median(x[0] for x in res["plain"])
c = statistics.median(x[1] for x in res["embargo"]) / statistics.median(x[1] for x in res["plain"])
print("overhead: wall x%.3f (%+.1f%%), cpu x%.3f (%+.1f%%)" % (w, (w - 1) * 100, c, (c - 1) * 100))
PY
