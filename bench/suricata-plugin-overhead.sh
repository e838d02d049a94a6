#!/usr/bin/env bash
# What embargo.so costs Suricata, against Suricata alone and against the alternatives, on
# the same captures, every ratio taken inside one run of this script (issue 17):
#
#   bench/suricata-plugin-overhead.sh [--runs N] [--mib MIB] [--build DIR]
#       [--real DIR ...] [--real-repeat K] [--ruleset FILE_OR_DIR ...]
#       [--captures mix,real] [--configs A,B,...] [--callgrind [PACKETS]]
#       [--callgrind-ruleset] [--cache-sim] [--keep DIR]
#
# Configurations (Suricata 8.0.7 and 7.0.10, `--runmode single`, `-k none`):
#   A  S8 alone: no plugin, no rules; EVE alert + flow
#   B  S8 + sc8/embargo.so, `embargo: {mode: transactions}` + `embargo rules export
#      --format suricata-plugin` (one `embargo: sid N` rule per pack rule)
#   C  S8 + sc8/embargo.so, `mode: packets` (embargo's own per-packet engine) + the same rules
#   D  S8 + the plain export, `embargo rules export --format suricata` (no plugin)
#   E  S8 + a public ruleset (--ruleset; default: Suricata 8's own shipped rules)
#   F  S8 + the same ruleset + embargo.so (transactions) and its rules
#   G  S7 eve-log `filetype: regular`, types alert, dns, tls, http, quic, flow
#   H  S7 eve-log `filetype: embargo` (Suricata 7's embargo.so), the same types
#   P  B with `embargo.stream-payload: yes`: payload patterns also on Suricata's TCP stream
#      (off by default); a reference beside B, not a target.
#   M  S8 + six plain rules, one per field the transactions mode reads most (DNS query,
#      TLS SNI, JA4, HTTP host and user-agent, QUIC SNI), whose content (NUL bytes)
#      matches nothing: what Suricata's detection costs with the least rule set that
#      reads those fields, no plugin. A reference beside A, not a target.
# Captures:
#   mix   `gen-traffic -m MIB` (default 256), with IPv4/TCP/UDP checksums and TCP
#         acknowledgement numbers filled in: gen-traffic writes neither, and Suricata's
#         stream engine rejects a SYN-ACK that does not acknowledge the SYN, so without
#         this no TLS or HTTP session of the mix would reach Suricata's parsers.
#   real  every classic Ethernet pcap under the --real DIRs (recursive, sorted by path,
#         identical files once), concatenated, each file moved in time to start a second
#         after the previous one ends (--real-repeat K: the whole set K times, an hour
#         apart). Default: the repository's own captures (tests/pcap/*/*.pcap, pcaps/),
#         which are small; the pinned public collections are bench/corpora.tsv
#         (bench/fetch-corpora.sh DIR, then --real DIR/ndpi --real DIR/mercury ...).
# Each configuration runs RUNS times per capture, the configurations alternated (and the
# order rotated each round); every figure is a median. Per run: wall seconds, CPU seconds
# of the whole suricata process (user + sys, from wait4), and the CPU of each thread
# Suricata starts (worker W#01, flow manager, flow recycler), measured at the thread's end
# by a small LD_PRELOAD library this script compiles (cc): "threads CPU" leaves out the
# main thread, i.e. start-up (rule loading, Hyperscan compiles) and shutdown, which would
# otherwise dominate the ruleset configurations (E, F: ~10 s of start-up). Each target is
# judged twice, on threads CPU and (where counted) on instructions, as issue 17 states
# them: on this noisy VM the same build's CPU ratio moves by 5-9% between runs, the
# instruction count not at all. The worker's CPU, the whole process's and wall are
# printed beside. Each CPU ratio is also taken round by round (both configurations ran
# in each round, so the machine's drift over the run cancels in each round's ratio) and
# printed as the rounds' median and quartiles: how far the ratio moves within one run.
# Instructions: `perf stat -e instructions:u,cycles:u` per run when the machine has
# hardware counters (the cycles ratio is printed beside: CPU time without what a clock
# change or a hypervisor adds, the measure to read a CPU target against where it can be
# had); if not (a VM without a PMU), the script says so, and --callgrind [PACKETS]
# counts them under valgrind instead, once per configuration on the first PACKETS packets
# (default 50000) of each capture, in the packet worker thread only (the flow manager
# and recycler poll on a timer: under valgrind their counts follow wall time). E and F
# only with --callgrind-ruleset: loading a full ruleset under valgrind takes ~50x its
# native ~10 s (15-20 min each; the two run side by side).
# --cache-sim: callgrind simulates the caches too (about twice as slow) and the script
# prints valgrind's cycle estimate beside the instructions (Ir + 10 x first-level misses +
# 100 x last-level misses): where a CPU ratio runs above its instruction ratio, this says
# whether cache misses are why, without a PMU. A diagnosis, not a target.
#
# Environment: RUNS and MIB (defaults for --runs, --mib), SURICATA8 (default
# /var/cache/embargo/suricata-8.0.7/bin/suricata, scripts/build-suricata8.sh's prefix),
# SURICATA7 (default `suricata` on PATH). --build DIR (default build) must hold embargo,
# bench/gen-traffic, plugin/suricata/embargo.so (S7) and plugin/suricata/sc8/embargo.so
# (S8): cmake -S . -B DIR -DCMAKE_BUILD_TYPE=Release && cmake --build DIR -j2.
# A configuration whose Suricata or plugin is missing is skipped and said so.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec /usr/bin/python3 - "$root" "$@" <<'PY'
import argparse, glob, hashlib, os, re, shutil, statistics, struct, subprocess, sys, tempfile
import time

root = sys.argv[1]
sys.path.insert(0, os.path.join(root, "bench"))
import pcaputil  # bench/pcaputil.py

ap = argparse.ArgumentParser(prog="bench/suricata-plugin-overhead.sh")
ap.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", 5)))
ap.add_argument("--mib", type=int, default=int(os.environ.get("MIB", 256)))
ap.add_argument("--build", default=os.path.join(root, "build"))
ap.add_argument("--real", action="append", default=[], metavar="DIR")
ap.add_argument("--real-repeat", type=int, default=1, metavar="K")
ap.add_argument("--ruleset", action="append", default=[], metavar="FILE_OR_DIR")
ap.add_argument("--captures", default="mix,real")
ap.add_argument("--configs", default="A,B,C,D,E,F,G,H,M,P")
ap.add_argument("--callgrind", type=int, nargs="?", const=50000, default=0, metavar="PACKETS")
ap.add_argument("--callgrind-ruleset", action="store_true",
                help="count E and F under callgrind too (~15-20 min each, run side by side)")
ap.add_argument("--cache-sim", action="store_true",
                help="with --callgrind: simulate the caches and print a cycle estimate")
ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary dir)")
a = ap.parse_args(sys.argv[2:])

S8 = os.environ.get("SURICATA8", "/var/cache/embargo/suricata-8.0.7/bin/suricata")
S7 = os.environ.get("SURICATA7") or shutil.which("suricata") or "suricata"
S8_SHARE = os.path.join(os.path.dirname(os.path.dirname(S8)), "share", "suricata")
build = os.path.abspath(a.build)
EMBARGO = os.path.join(build, "embargo")
GEN = os.path.join(build, "bench", "gen-traffic")
PLUGIN8 = os.path.join(build, "plugin", "suricata", "sc8", "embargo.so")
PLUGIN7 = os.path.join(build, "plugin", "suricata", "embargo.so")
RULES = os.path.join(root, "rules")
for need in (EMBARGO, GEN):
    if not os.access(need, os.X_OK):
        sys.exit("missing %s: cmake -S . -B %s -DCMAKE_BUILD_TYPE=Release && cmake --build %s -j2"
                 % (need, build, build))

work = os.path.abspath(a.keep) if a.keep else tempfile.mkdtemp(prefix="embargo-sc-overhead.")
os.makedirs(work, exist_ok=True)
W = lambda *p: os.path.join(work, *p)
started = time.time()


def say(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------- captures

def fix_checksums(src, dst):
    """Copies classic pcap `src` to `dst` with the IPv4 header, TCP and UDP checksums set and
    each TCP segment's acknowledgement number the one its peer would send (the next
    sequence number seen from the other side). For gen-traffic's mix, which leaves both 0."""
    import array

    def csum(b):
        if len(b) & 1:
            b += b"\0"
        s = sum(array.array("H", b))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF  # native order, stored back with "=H"

    data = memoryview(open(src, "rb").read())
    end = pcaputil.byte_order(bytes(data[:24]))
    out, nxt, off = [bytes(data[:24])], {}, 24
    while off + 16 <= len(data):
        cap = struct.unpack_from(end + "I", data, off + 8)[0]
        out.append(bytes(data[off:off + 16]))
        f = bytearray(data[off + 16:off + 16 + cap])
        off += 16 + cap
        if len(f) >= 34 and f[12:14] == b"\x08\x00" and f[14] >> 4 == 4:
            ihl, tot, proto = (f[14] & 15) * 4, struct.unpack_from(">H", f, 16)[0], f[23]
            l4 = 14 + ihl
            f[24:26] = b"\0\0"
            struct.pack_into("=H", f, 24, csum(bytes(f[14:l4])))
            if tot <= len(f) - 14:
                seg = f[l4:14 + tot]
                pseudo = bytes(f[26:34]) + struct.pack(">BBH", 0, proto, len(seg))
                if proto == 6 and len(seg) >= 20:
                    key = bytes(f[26:34]) + bytes(seg[0:4])
                    rkey = bytes(f[30:34]) + bytes(f[26:30]) + bytes(seg[2:4]) + bytes(seg[0:2])
                    flags, seq = seg[13], struct.unpack_from(">I", seg, 4)[0]
                    n = len(seg) - (seg[12] >> 4) * 4 + (1 if flags & 0x03 else 0)
                    nxt[key] = (seq + n) & 0xFFFFFFFF
                    if flags & 0x10 and rkey in nxt:
                        struct.pack_into(">I", seg, 8, nxt[rkey])
                    seg[16:18] = b"\0\0"
                    struct.pack_into("=H", seg, 16, csum(pseudo + bytes(seg)))
                    f[l4:14 + tot] = seg
                elif proto == 17 and len(seg) >= 8:
                    seg[6:8] = b"\0\0"
                    struct.pack_into("=H", seg, 6, csum(pseudo + bytes(seg)) or 0xFFFF)
                    f[l4:14 + tot] = seg
        out.append(bytes(f))
    with open(dst, "wb") as o:
        o.write(b"".join(out))


def concat_real(dirs, out, repeat):
    """Every classic microsecond Ethernet pcap under `dirs` (sorted, identical bytes once),
    whole records, each file moved to start 1 s after the previous file's last record (a
    step back in time inside a file becomes no step, a gap over an hour an hour); the whole
    set `repeat` times, an hour apart. Returns (files, packets, names)."""
    files = sorted(set(p for d in dirs for pat in ("*.pcap", "*.cap")
                       for p in glob.glob(os.path.join(d, "**", pat), recursive=True)))
    seen, chosen = set(), []
    for path in files:
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        end = pcaputil.byte_order(data)
        if end is None or struct.unpack(end + "I", data[20:24])[0] != 1:
            continue
        digest = hashlib.sha1(data).digest()
        if digest in seen:
            continue
        recs = list(pcaputil.records(data))
        if recs:
            seen.add(digest)
            chosen.append(recs)
    npkts, t = 0, 1.6e9
    with open(out, "wb") as o:
        o.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for k in range(repeat):
            for recs in chosen:
                prev = recs[0][0] + recs[0][1] / 1e6
                for sec, usec, cap, length, body in recs:
                    now = sec + usec / 1e6
                    t += min(max(0.0, now - prev), 3600.0)  # no step back, none over an hour
                    prev = now
                    s = int(t)
                    o.write(struct.pack("<IIII", s, min(999999, int(round((t - s) * 1e6))),
                                        cap, length))
                    o.write(body)
                    npkts += 1
                t += 1.0
            t += 3600.0
    return len(chosen), npkts


def first_packets(src, dst, n):
    data = open(src, "rb").read()
    end, off, k = pcaputil.byte_order(data), 24, 0
    while off + 16 <= len(data) and k < n:
        off += 16 + struct.unpack_from(end + "I", data, off + 8)[0]
        k += 1
    open(dst, "wb").write(data[:off])
    return k


captures = []  # (name, path, description)
want = set(a.captures.split(","))
if "mix" in want:
    raw = W("mix-raw.pcap")
    subprocess.run([GEN, "-m", str(a.mib), "-o", raw], check=True)
    fix_checksums(raw, W("mix.pcap"))
    os.unlink(raw)
    n = pcaputil.count(W("mix.pcap"))
    captures.append(("mix", W("mix.pcap"), "gen-traffic -m %d (checksums and acks filled in): "
                     "%d packets, %.1f MiB" % (a.mib, n, os.path.getsize(W("mix.pcap")) / 2**20)))
if "real" in want:
    dirs = a.real
    what = ", ".join(dirs)
    if not dirs:
        dirs = [os.path.join(root, "pcaps")] + sorted(glob.glob(os.path.join(root, "tests", "pcap", "*")))
        what = "the repository's own captures (pcaps/, tests/pcap/; small: see --real)"
    used, n = concat_real(dirs, W("real.pcap"), a.real_repeat)
    if n:
        captures.append(("real", W("real.pcap"), "%s: %d Ethernet captures%s, %d packets, %.1f MiB"
                         % (what, used, " x%d" % a.real_repeat if a.real_repeat > 1 else "", n,
                            os.path.getsize(W("real.pcap")) / 2**20)))
    else:
        say("real mix: no classic Ethernet pcap under %s" % what)

# ---------------------------------------------------------------- rules

def export(fmt, dest):
    p = subprocess.run([EMBARGO, "rules", "export", "--format", fmt, RULES],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit("embargo rules export --format %s failed" % fmt)
    open(dest, "wb").write(p.stdout)
    return sum(1 for l in p.stdout.splitlines() if l.startswith(b"alert"))


n_plugin = export("suricata-plugin", W("embargo-plugin.rules"))
n_plain = export("suricata", W("embargo-plain.rules"))

rulesets = a.ruleset or [os.path.join(S8_SHARE, "rules")]
rs_files = []
for r in rulesets:
    rs_files += sorted(glob.glob(os.path.join(r, "*.rules"))) if os.path.isdir(r) else [r]
rs_active = 0
with open(W("ruleset.rules"), "wb") as o:
    for f in rs_files:
        body = open(f, "rb").read()
        rs_active += sum(1 for l in body.splitlines()
                         if re.match(rb"\s*(alert|drop|pass|reject|rejectsrc|rejectdst|rejectboth)\s", l))
        o.write(body + b"\n")
# M: one rule per field, content that no name holds (NUL bytes).
with open(W("minimal.rules"), "w") as o:
    for n, (proto, buf) in enumerate([("dns", "dns.query"), ("tls", "tls.sni"), ("tls", "ja4.hash"),
                                      ("http", "http.host"), ("http", "http.user_agent"),
                                      ("quic", "quic.sni")]):
        o.write('alert %s any any -> any any (msg:"minimal %s"; %s; content:"|00|none|00|"; '
                'sid:%d; rev:1;)\n' % (proto, buf, buf, 9000001 + n))
with open(W("ruleset+embargo.rules"), "wb") as o:
    o.write(open(W("ruleset.rules"), "rb").read() + open(W("embargo-plugin.rules"), "rb").read())

# ---------------------------------------------------------------- configurations

VARS = """vars:
  address-groups:
    HOME_NET: "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"
    EXTERNAL_NET: "!$HOME_NET"
    HTTP_SERVERS: "$HOME_NET"
    SMTP_SERVERS: "$HOME_NET"
    SQL_SERVERS: "$HOME_NET"
    DNS_SERVERS: "$HOME_NET"
    TELNET_SERVERS: "$HOME_NET"
    AIM_SERVERS: "$EXTERNAL_NET"
    DC_SERVERS: "$HOME_NET"
    DNP3_SERVER: "$HOME_NET"
    DNP3_CLIENT: "$HOME_NET"
    MODBUS_CLIENT: "$HOME_NET"
    MODBUS_SERVER: "$HOME_NET"
    ENIP_CLIENT: "$HOME_NET"
    ENIP_SERVER: "$HOME_NET"
  port-groups:
    HTTP_PORTS: "80"
    SHELLCODE_PORTS: "!80"
    ORACLE_PORTS: 1521
    SSH_PORTS: 22
    DNP3_PORTS: 20000
    MODBUS_PORTS: 502
    FILE_DATA_PORTS: "[$HTTP_PORTS,110,143]"
    FTP_PORTS: 21
    GENEVE_PORTS: 6081
    VXLAN_PORTS: 4789
    TEREDO_PORTS: 3544
    SIP_PORTS: "[5060, 5061]"
"""


def s8_yaml(plugin_mode, stream_payload=False):
    # Suricata's defaults otherwise; the settings docs/suricata.md recommends for the
    # plugin (QUIC on, midstream) in every S8 configuration alike, and Suricata 8's
    # Hyperscan cache (start-up only).
    y = ("%%YAML 1.1\n---\n%s"
         "classification-file: %s/classification.config\n"
         "reference-config-file: %s/reference.config\n"
         "threshold-file: /dev/null\n"
         "detect:\n  sgh-mpm-caching: yes\n  sgh-mpm-caching-path: %s\n"
         "stream:\n  midstream: yes\n"
         "app-layer:\n  protocols:\n    quic:\n      enabled: yes\n"
         "outputs:\n  - eve-log:\n      enabled: yes\n      filetype: regular\n"
         "      filename: eve.json\n      append: no\n      types: [alert, flow]\n"
         % (VARS, S8_SHARE, S8_SHARE, W("hs-cache")))
    if plugin_mode:
        y += ("plugins: [%s]\nembargo:\n  mode: %s\n  rules: %s\n  cache-dir: %s\n"
              % (PLUGIN8, plugin_mode, RULES, W("embargo-cache")))
        if stream_payload:
            y += "  stream-payload: yes\n"
    return y


def s7_yaml(filetype):
    return ("%%YAML 1.1\n---\nplugins: [%s]\n"
            "app-layer:\n  protocols:\n    quic:\n      enabled: yes\n"
            "outputs:\n  - eve-log:\n      enabled: yes\n      filetype: %s\n"
            "      filename: eve.json\n      append: no\n"
            "      types: [alert, dns, {tls: {extended: yes}}, {http: {extended: yes}}, quic, flow]\n"
            "      embargo:\n        rules: %s\n        cache-dir: %s\n"
            % (PLUGIN7, filetype, RULES, W("embargo-cache")))


CONFIGS = [  # key, label, suricata, yaml, rules file, needs
    ("A", "S8 alone", S8, s8_yaml(None), "/dev/null", [S8]),
    ("B", "S8 + embargo.so (transactions)", S8, s8_yaml("transactions"),
     W("embargo-plugin.rules"), [S8, PLUGIN8]),
    ("C", "S8 + embargo.so (packets)", S8, s8_yaml("packets"), W("embargo-plugin.rules"),
     [S8, PLUGIN8]),
    ("D", "S8 + plain exported rules", S8, s8_yaml(None), W("embargo-plain.rules"), [S8]),
    ("E", "S8 + ruleset", S8, s8_yaml(None), W("ruleset.rules"), [S8]),
    ("F", "S8 + ruleset + embargo.so (tx)", S8, s8_yaml("transactions"),
     W("ruleset+embargo.rules"), [S8, PLUGIN8]),
    ("G", "S7 eve regular", S7, s7_yaml("regular"), "/dev/null", [S7, PLUGIN7]),
    ("H", "S7 eve embargo", S7, s7_yaml("embargo"), "/dev/null", [S7, PLUGIN7]),
    ("M", "S8 + 6 plain rules, no match", S8, s8_yaml(None), W("minimal.rules"), [S8]),
    ("P", "S8 + embargo.so (tx, stream payload)", S8, s8_yaml("transactions", True),
     W("embargo-plugin.rules"), [S8, PLUGIN8]),
]
keys = a.configs.split(",")
configs = []
for key, label, binary, y, rules, needs in CONFIGS:
    if key not in keys:
        continue
    missing = [n for n in needs if not (shutil.which(n) if os.sep not in n else os.path.exists(n))]
    if missing:
        say("%s (%s): skipped, missing %s" % (key, label, ", ".join(missing)))
        continue
    path = W("%s.yaml" % key)
    open(path, "w").write(y)
    configs.append((key, label, binary, path, rules))
os.makedirs(W("hs-cache"), exist_ok=True)
os.makedirs(W("embargo-cache"), exist_ok=True)

# ---------------------------------------------------------------- measuring

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
/* At each thread's end, "name<TAB>cpu_seconds<TAB>user<TAB>sys<TAB>minor faults<TAB>
 * involuntary switches" appended to $THREADCPU_OUT. */
struct start { void *(*fn)(void *); void *arg; };
static void report(void *unused) {
    (void)unused;
    const char *path = getenv("THREADCPU_OUT");
    struct timespec ts;
    struct rusage ru = {0};
    char name[17] = {0}, line[192];
    if (!path || clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return;
    getrusage(RUSAGE_THREAD, &ru);
    prctl(PR_GET_NAME, name);
    int n = snprintf(line, sizeof(line), "%s\t%ld.%09ld\t%ld.%06ld\t%ld.%06ld\t%ld\t%ld\n", name,
                     (long)ts.tv_sec, ts.tv_nsec, (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
                     (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_minflt, ru.ru_nivcsw);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
        if (write(fd, line, (size_t)n) < 0) {}
        close(fd);
    }
}
static void *trampoline(void *p) {
    struct start s = *(struct start *)p;
    void *r;
    free(p);
    pthread_cleanup_push(report, NULL);
    r = s.fn(s.arg);
    pthread_cleanup_pop(1);
    return r;
}
typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    static create_fn real;
    if (!real)
        real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    struct start *s = malloc(sizeof(*s));
    if (!s)
        return real(t, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int rc = real(t, attr, trampoline, s);
    if (rc != 0)
        free(s);
    return rc;
}
"""
open(W("threadcpu.c"), "w").write(SHIM)
shim = W("threadcpu.so")
if subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim, W("threadcpu.c"), "-ldl"]).returncode:
    say("could not build the thread-CPU library: packet-path CPU not measured")
    shim = None


def perf_works():
    if not shutil.which("perf"):
        return False, "perf is not installed"
    p = subprocess.run(["perf", "stat", "-x,", "-e", "instructions:u", "--", "true"],
                       capture_output=True, text=True)
    first = (p.stderr.strip().splitlines() or [""])[-1].split(",")[0]
    if p.returncode == 0 and first.isdigit():
        return True, ""
    return False, "perf stat -e instructions:u: %s" % (first or p.stderr.strip()[:80])


PERF, perf_why = perf_works()


def run(cfg, capture, logdir, env_extra=None, wrap=None):
    """One run: {wall, cpu, pkt (packet-path CPU or None), insn (or None)}."""
    key, label, binary, conf, rules = cfg
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    cmd = [binary, "-c", conf, "-r", capture, "-l", logdir, "-k", "none", "--runmode", "single",
           "-S", rules]
    env = dict(os.environ)
    tc = os.path.join(logdir, "threadcpu.txt")
    if shim and not wrap:
        env["LD_PRELOAD"] = shim
        env["THREADCPU_OUT"] = tc
    perf_out = os.path.join(logdir, "perf.txt")
    if wrap:
        cmd = wrap + cmd
    elif PERF:
        cmd = ["perf", "stat", "-x,", "-e", "instructions:u,cycles:u", "-o", perf_out, "--"] + cmd
    out = open(os.path.join(logdir, "stdout.txt"), "wb")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    out.close()
    if status != 0:
        tail = open(os.path.join(logdir, "stdout.txt"), "rb").read()[-600:].decode("utf-8", "replace")
        raise RuntimeError("%s (%s) failed (status %d): %s\n%s" % (key, label, status, " ".join(cmd), tail))
    r = {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "pkt": None, "worker": None,
         "wsys": None, "wflt": None, "insn": None, "cycles": None}
    if os.path.exists(tc):
        threads = [l.rstrip("\n").split("\t") for l in open(tc) if "\t" in l]
        r["pkt"] = sum(float(t[1]) for t in threads)
        r["worker"] = sum(float(t[1]) for t in threads if t[0].startswith("W#"))
        w = [t for t in threads if t[0].startswith("W#") and len(t) >= 6]
        if w:
            r["wsys"] = sum(float(t[3]) for t in w)
            r["wflt"] = sum(int(t[4]) for t in w)
    if PERF and not wrap and os.path.exists(perf_out):
        for l in open(perf_out):
            f = l.split(",")
            if len(f) > 2 and f[0].isdigit() and f[2].startswith("instructions"):
                r["insn"] = int(f[0])
            elif len(f) > 2 and f[0].isdigit() and f[2].startswith("cycles"):
                r["cycles"] = int(f[0])
    return r


def eve_summary(logdir):
    """Alerts, alerts by signature id, EVE records; rules loaded and failed (S8 and S7 log)."""
    alerts, sids, records = 0, {}, 0
    path = os.path.join(logdir, "eve.json")
    if os.path.exists(path):
        with open(path, "rb") as f:
            for line in f:
                records += 1
                if b'"event_type":"alert"' in line:
                    alerts += 1
                    m = re.search(rb'"signature_id":(\d+)', line)
                    if m:
                        sid = int(m.group(1))
                        sids[sid] = sids.get(sid, 0) + 1
    log = open(os.path.join(logdir, "stdout.txt"), "rb").read().decode("utf-8", "replace")
    m = re.search(r"(\d+) rules successfully loaded, (\d+) rules failed", log)
    return {"alerts": alerts, "sids": sids, "records": records,
            "loaded": int(m.group(1)) if m else None, "failed": int(m.group(2)) if m else None}


def callgrind(cfg, capture, logdir):
    """Instructions in Suricata's packet worker under callgrind: the thread that
    reads the capture (it calls libpcap's pcap_dispatch, a name even Debian's
    stripped Suricata 7 keeps). Not the main thread (start-up and shutdown), nor
    the flow manager and recycler: they poll on a timer, so under valgrind's
    slowdown their counts follow the run's wall time, not its work."""
    out = os.path.join(logdir, "cg.out")
    run(cfg, capture, logdir, wrap=["valgrind", "--tool=callgrind", "--separate-threads=yes",
                                    "--callgrind-out-file=" + out] +
        (["--cache-sim=yes"] if a.cache_sim else []))
    total, cycles = 0, 0
    for f in glob.glob(out + "-*"):
        text = open(f, errors="replace").read()
        if "pcap_dispatch" not in text:
            continue
        if a.cache_sim:
            cg_i1[(os.path.basename(os.path.dirname(logdir)), cfg[0])] = i1_by_object(text)
        ev = re.search(r"^events: (.*)$", text, re.M)
        m = re.search(r"^(?:totals|summary): ([\d ]+)$", text, re.M)
        if ev and m:
            n = dict(zip(ev.group(1).split(), map(int, m.group(1).split())))
            total += n.get("Ir", 0)
            # valgrind's cycle estimate (callgrind_annotate's CEst, without branch simulation)
            cycles += (n.get("Ir", 0) + 10 * sum(n.get(k, 0) for k in ("I1mr", "D1mr", "D1mw")) +
                       100 * sum(n.get(k, 0) for k in ("ILmr", "DLmr", "DLmw")))
    return total, (cycles if a.cache_sim else None)


def i1_by_object(text):
    """First-level instruction-cache misses (I1mr) of one callgrind thread file,
    summed by shared object (its self cost: a cost line after `calls=` is the
    call's inclusive cost and is skipped)."""
    names, cur, skip, col, by = {}, None, False, None, {}
    for line in text.splitlines():
        if line.startswith("events:"):
            ev = line.split()[1:]
            col = ev.index("I1mr") + 1 if "I1mr" in ev else None
        elif line.startswith(("ob=", "cob=")):
            m = re.match(r"c?ob=\((\d+)\)(?: (.*))?$", line)
            if m:
                if m.group(2):
                    names[m.group(1)] = os.path.basename(m.group(2))
                if line.startswith("ob="):
                    cur = names.get(m.group(1), "?")
        elif line.startswith("calls="):
            skip = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if skip:
                skip = False
            elif col is not None:
                v = line.split()
                if len(v) > col:
                    by[cur] = by.get(cur, 0) + int(v[col])
    return by


cg_i1 = {}  # (capture, configuration) -> {object: I1 misses}, with --cache-sim
med = statistics.median


def fmt_ratio(x, y):
    return "%.3fx" % (x / y) if x is not None and y else "n/a"


# ---------------------------------------------------------------- the runs

say("embargo: %s" % subprocess.run(["git", "-C", root, "log", "-1", "--format=%h %cd", "--date=short"],
                                   capture_output=True, text=True).stdout.strip())
say("Suricata 8: %s; Suricata 7: %s" % (S8, S7))
say("embargo rules: %d keyword rules (suricata-plugin export), %d plain rules (suricata export)"
    % (n_plugin, n_plain))
say("ruleset (E, F): %d active rules in %d files from %s" % (rs_active, len(rs_files), ", ".join(rulesets)))
say("instructions: %s" % ("perf stat -e instructions:u,cycles:u, per run" if PERF else
                          "not counted by perf (%s)%s" % (perf_why, "; callgrind on the first %d "
                          "packets" % a.callgrind if a.callgrind else "; --callgrind counts them "
                          "under valgrind")))
say("runs: %d per configuration and capture, alternated; medians" % a.runs)

results = {}  # (capture, key) -> dict
for cname, cpath, cdesc in captures:
    say("\n== capture %s: %s" % (cname, cdesc))
    runs = {cfg[0]: [] for cfg in configs}
    info = {}
    for cfg in configs:  # warm-up: page cache, Hyperscan and embargo database caches
        d = W("log", cname, cfg[0])
        try:
            run(cfg, cpath, d)
        except RuntimeError as e:
            say("warm-up: %s" % e)
            continue
        info[cfg[0]] = eve_summary(d)
    active = [cfg for cfg in configs if cfg[0] in info]
    for i in range(a.runs):
        order = active[i % len(active):] + active[:i % len(active)] if active else []
        for cfg in order:
            runs[cfg[0]].append(run(cfg, cpath, W("log", cname, cfg[0])))
        say("  round %d/%d done (%.0f s since start)" % (i + 1, a.runs, time.time() - started))
    cg, cyc, ncut = {}, {}, 0
    if a.callgrind and shutil.which("valgrind"):
        from concurrent.futures import ThreadPoolExecutor
        cut = W("%s-cg.pcap" % cname)
        ncut = first_packets(cpath, cut, a.callgrind)
        todo = [cfg for cfg in active if a.callgrind_ruleset or cfg[0] not in ("E", "F")]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # counts, not times
            counts = pool.map(lambda cfg: callgrind(cfg, cut, W("log", cname, cfg[0] + "-cg")), todo)
            for cfg, (n, c) in zip(todo, counts):
                cg[cfg[0]] = n / ncut
                cyc[cfg[0]] = c / ncut if c is not None else None
        say("  callgrind done on %d packets (%.0f s since start)" % (ncut, time.time() - started))
    elif a.callgrind:
        say("  --callgrind: valgrind is not installed")
    for cfg in active:
        k, rs = cfg[0], runs[cfg[0]]
        results[(cname, k)] = dict(info[k], label=cfg[1],
                                   wall=med(r["wall"] for r in rs), cpu=med(r["cpu"] for r in rs),
                                   pkt=med(r["pkt"] for r in rs) if rs[0]["pkt"] is not None else None,
                                   worker=med(r["worker"] for r in rs) if rs[0]["worker"] is not None else None,
                                   wsys=med(r["wsys"] for r in rs) if rs[0]["wsys"] is not None else None,
                                   wflt=med(r["wflt"] for r in rs) if rs[0]["wflt"] is not None else None,
                                   insn=med(r["insn"] for r in rs) if rs[0]["insn"] is not None else None,
                                   cycles=med(r["cycles"] for r in rs) if rs[0]["cycles"] is not None else None,
                                   cg=cg.get(k), cyc=cyc.get(k),
                                   rounds=[r["pkt"] if r["pkt"] is not None else r["cpu"] for r in rs])
    # the table
    say("\n| | configuration | wall s | CPU s | threads CPU s | worker CPU s | worker sys s, page faults "
        "| main thread CPU s | instructions | alerts | rules loaded/failed |")
    say("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    opt = lambda v, f="%.3f": f % v if v is not None else "-"
    for cfg in active:
        r = results[(cname, cfg[0])]
        insn = ("%.4g" % r["insn"]) if r["insn"] else ("%.0f/pkt" % r["cg"] if r["cg"] else "-")
        if r["cyc"]:
            insn += " (~%.0f cycles)" % r["cyc"]
        say("| %s | %s | %.3f | %.3f | %s | %s | %s | %s | %s | %d | %s |" % (
            cfg[0], r["label"], r["wall"], r["cpu"], opt(r["pkt"]), opt(r["worker"]),
            "%s, %s" % (opt(r["wsys"]), opt(r["wflt"], "%d")),
            opt(r["cpu"] - r["pkt"] if r["pkt"] is not None else None), insn, r["alerts"],
            "%s/%s" % (r["loaded"], r["failed"]) if r["loaded"] is not None else "-"))
    say("CPU s: the whole process (user+sys); threads: every thread Suricata starts (worker, "
        "flow manager, flow recycler); worker: W#01 alone (its system time and minor page "
        "faults, medians, beside); main thread: CPU s less threads "
        "(start-up and shutdown); instructions: %s."
        % ("perf instructions:u, whole process" if PERF else
           "callgrind, per packet, in the packet worker thread, on the first %d packets" % ncut if cg
           else "not counted"))
    for cfg in active:
        by = cg_i1.get((cname, cfg[0]))
        if by:
            say("%s: first-level instruction misses in the worker, %.2f M: %s" % (
                cfg[0], sum(by.values()) / 1e6, ", ".join(
                    "%s %.2f M" % (o, n / 1e6) for o, n in sorted(by.items(), key=lambda x: -x[1])[:6])))
    # alerts of B, C, D by embargo sid (D's sids are sid * 1000 + n)
    got = {k: results.get((cname, k)) for k in "BCD"}
    if any(got.values()):
        by = {}
        for k, r in got.items():
            if r:
                by[k] = {}
                for sid, n in r["sids"].items():
                    s = sid // 1000 if k == "D" and sid >= 10**8 else sid
                    by[k][s] = by[k].get(s, 0) + n
        sids = sorted(set().union(*[set(v) for v in by.values()]))
        diff = [s for s in sids if len(set(by[k].get(s, 0) for k in by)) > 1]
        say("alerts by embargo sid where %s differ (%d sids alert in any of them):"
            % ("/".join(sorted(by)), len(sids)))
        say("  %-9s %s" % ("sid", " ".join("%7s" % k for k in sorted(by))))
        for s in diff:
            say("  %-9d %s" % (s, " ".join("%7d" % by[k].get(s, 0) for k in sorted(by))))
        if not diff:
            say("  none")
    h, g = results.get((cname, "H")), results.get((cname, "G"))
    if h and g:
        say("S7 EVE records: regular %d, embargo %d (%d embargo alerts)"
            % (g["records"], h["records"], h["alerts"]))

# ---------------------------------------------------------------- targets

def paired(xs, ys):
    """The ratio round by round: both configurations ran in each round, minutes
    apart at most, so a drift of the machine's speed over the run (this VM's
    hour-to-hour swing is larger than the targets' margins) cancels in each
    round's ratio, where the ratio of the two medians above keeps it. Printed
    as the rounds' median and quartiles: their spread is the measurement's own
    uncertainty, to read a ratio against its target with."""
    r = sorted(x / y for x, y in zip(xs, ys) if y)
    if len(r) < 3:
        return ""
    q = statistics.quantiles(r, n=4, method="inclusive")
    return " [by round: median %.3fx, quartiles %.3fx-%.3fx, %d rounds]" % (
        statistics.median(r), q[0], q[2], len(r))


TARGETS = [  # numerator, denominator, text, target, strict
    ("B", "A", "S8 + embargo (transactions) / S8 alone", 1.10, False),
    ("C", "A", "S8 + embargo (packets) / S8 alone", None, False),
    ("D", "A", "S8 + plain exported rules / S8 alone", None, False),
    ("F", "E", "S8+ruleset + embargo / S8+ruleset", 1.05, False),
    ("B", "D", "S8 + embargo (transactions) / S8 + plain exported rules", 1.0, True),
    ("H", "G", "S7 embargo output / S7 regular", 1.05, False),
    ("M", "A", "S8 + 6 plain rules matching nothing / S8 alone (reference)", None, False),
    ("B", "M", "S8 + embargo (transactions) / S8 + 6 plain rules matching nothing", None, False),
    ("P", "A", "S8 + embargo (tx, stream payload) / S8 alone (reference)", None, False),
    ("P", "B", "S8 + embargo (tx, stream payload) / S8 + embargo (tx)", None, False),
]
say("\n== targets (each judged on the threads' CPU and, where counted, on instructions, as "
    "issue 17 states them; the worker's CPU, the whole process's and wall beside)")
for cname, _, _ in captures:
    for num, den, text, target, strict in TARGETS:
        x, y = results.get((cname, num)), results.get((cname, den))
        if not x or not y:
            continue
        ratio = x["pkt"] / y["pkt"] if x["pkt"] is not None else x["cpu"] / y["cpu"]
        insn, iratio, cratio = "", None, None
        if x["insn"] and y["insn"]:
            insn, iratio = ", instructions %s" % fmt_ratio(x["insn"], y["insn"]), x["insn"] / y["insn"]
            if x["cycles"] and y["cycles"]:
                insn += ", cycles %s (perf)" % fmt_ratio(x["cycles"], y["cycles"])
                cratio = x["cycles"] / y["cycles"]
        elif x["cg"] and y["cg"]:
            insn = ", instructions %s (callgrind)" % fmt_ratio(x["cg"], y["cg"])
            iratio = x["cg"] / y["cg"]
            if x.get("cyc") and y.get("cyc"):
                insn += ", cycle estimate %s (cache-sim)" % fmt_ratio(x["cyc"], y["cyc"])
        line = "[%s] %s: threads CPU %s%s (worker %s), process CPU %s, wall %s%s" % (
            cname, text, fmt_ratio(x["pkt"], y["pkt"]), paired(x["rounds"], y["rounds"]),
            fmt_ratio(x["worker"], y["worker"]), fmt_ratio(x["cpu"], y["cpu"]),
            fmt_ratio(x["wall"], y["wall"]), insn)
        if target:
            def verdict(r):
                return "met" if (r < target if strict else r <= target) else "NOT met"
            line += "   target %s %.2fx: threads CPU %s" % ("<" if strict else "<=", target,
                                                            verdict(ratio))
            if iratio is not None:
                line += ", instructions %s" % verdict(iratio)
            if cratio is not None:
                line += ", cycles %s" % verdict(cratio)
        say(line)
say("\n%.0f s in all; work dir %s%s" % (time.time() - started, work, " (kept)" if a.keep else ""))
if not a.keep:
    shutil.rmtree(work, ignore_errors=True)
PY
