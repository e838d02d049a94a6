#!/usr/bin/env bash
# embargo live on a veth pair between two network namespaces that this test
# creates: tcpreplay sends pcap cases from one namespace, embargo captures in
# the other. Checks the alerts (names alert, lookalikes do not), SIGUSR1
# statistics, SIGUSR2 reload (a good pack, then a broken one that must leave
# the running rules in place), and the SIGINT shutdown (statistics, EVE
# closed, exit status 1 = alerts written); the rules are a pack store that
# `embargo rules update --reload` moves to a new signed pack while live runs, and
# the new pack's Dahua rules then alert. With THREADS above 1, `live -j
# THREADS`: the kernel spreads the packets over the workers (PACKET_FANOUT),
# and a DNS answer seen by one worker attributes the connection another sees
# (the threads-placement case's four attributions).
#   run-live-test.sh EMBARGO RULES_DIR PCAP_CASES_DIR REAL_PCAP [THREADS]
# Needs root, `ip netns` and tcpreplay; exits 77 (skipped) without them.
# Only namespace traffic; every wait is bounded.
set -u
embargo=$1 rules=$2 cases=$3 real_pcap=$4 threads=${5:-1}

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v tcpreplay >/dev/null || skip "tcpreplay not installed (scripts/install-deps.sh)"
command -v ip >/dev/null || skip "ip (iproute2) not installed"

tag=$$
nsa="emb-live-a-$tag" nsb="emb-live-b-$tag" va="emba$tag" vb="embb$tag"
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    ip netns del "$nsa" 2>/dev/null
    ip netns del "$nsb" 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$nsa" 2>/dev/null || skip "cannot create a network namespace (ip netns add)"
ip netns add "$nsb" || exit 1
ip link add "$va" type veth peer name "$vb" || skip "cannot create a veth pair"
ip link set "$va" netns "$nsa" && ip link set "$vb" netns "$nsb" || exit 1
for ns in "$nsa" "$nsb"; do
    # no IPv6 autoconfiguration chatter on the link: only the replayed packets
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
    ip -n "$ns" link set lo up
done
ip -n "$nsa" link set "$va" up && ip -n "$nsb" link set "$vb" up || exit 1

fail=0
bad() { echo "FAIL: $*"; fail=1; }
# wait_for SECONDS FILE REGEX: until FILE matches REGEX
wait_for() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        grep -Eq -- "$3" "$2" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    grep -Eq -- "$3" "$2" 2>/dev/null
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# wait_lines SECONDS FILE N: until FILE has N lines
wait_lines() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        [ "$(lines "$2")" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
replay() {
    ip netns exec "$nsb" tcpreplay -q -i "$vb" --pps 1000 "$1" >"$tmp/tcpreplay.log" 2>&1 ||
        { bad "tcpreplay $1"; cat "$tmp/tcpreplay.log"; }
}

# The rules come from a pack store that `embargo rules update` fills: pack 1.0.0 is the
# shipped pack without Dahua's file; 1.1.0, installed while live runs, has it (step 3).
command -v openssl >/dev/null || skip "openssl not installed"
export EMBARGO_CACHE_DIR="$tmp/cache"
openssl genpkey -algorithm ed25519 -out "$tmp/pub.key" 2>/dev/null
mkdir -p "$tmp/keys" "$tmp/p1" "$tmp/p2"
openssl pkey -in "$tmp/pub.key" -pubout -out "$tmp/keys/pub.pem"
cp "$rules"/*.yaml "$tmp/p2/"
rm -f "$tmp/p2/pack.yaml"
cp "$tmp"/p2/*.yaml "$tmp/p1/"
rm "$tmp/p1/dahua.yaml"
for v in 1 2; do
    "$embargo" rules manifest "$tmp/p$v" --version "1.$((v - 1)).0" --expires 2099-12-31 \
        >/dev/null && openssl pkeyutl -sign -rawin -inkey "$tmp/pub.key" \
        -in "$tmp/p$v/pack.yaml" -out "$tmp/p$v/pack.yaml.sig" || bad "cannot sign pack $v"
done
store="$tmp/store"
"$embargo" rules update --from "$tmp/p1" --dest "$store" --keys "$tmp/keys" >/dev/null ||
    bad "cannot install pack 1.0.0"
eve="$tmp/eve.json" err="$tmp/stderr"
# ip netns exec execs embargo: $! is embargo's pid.
ip netns exec "$nsa" "$embargo" live -i "$va" -j "$threads" -r "$store/current" -o "$eve" \
    -f "ip or vlan" --pid-file "$tmp/pid" --inventory "$tmp/inv.db" --sensor veth 2>"$err" &
pid=$!
# bound the whole run; the watchdog's sleep must not outlive it (ctest waits on its output)
(
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    sleep 90 &
    s=$!
    wait "$s"
    kill -KILL "$pid"
) >/dev/null 2>&1 &
watchdog=$!

wait_for 15 "$err" "listening on $va" || bad "embargo did not start listening"

# 1. DNS names of the shipped pack and their lookalikes: 13 alerts.
replay "$cases/dns-kaspersky/input.pcap"
wait_lines 10 "$eve" 13 || bad "dns-kaspersky: $(lines "$eve") alerts, want 13"

# 2. SIGUSR1: capture statistics, capture goes on.
kill -USR1 "$pid"
wait_for 10 "$err" "SIGUSR1: [0-9]+ packets received, [0-9]+ dropped by the kernel, [0-9]+ dropped by the interface" ||
    bad "no statistics after SIGUSR1"
wait_for 5 "$err" "SIGUSR1: [0-9]+ packets inspected, [0-9]+ flows, 13 alerts written" ||
    bad "SIGUSR1 engine statistics"

# 3. `rules update --reload`: pack 1.1.0 installed and SIGUSR2 sent by the pid file.
"$embargo" rules update --from "$tmp/p2" --dest "$store" --keys "$tmp/keys" \
    --reload "$tmp/pid" >"$tmp/update.out" 2>&1 || bad "rules update: $(cat "$tmp/update.out")"
nvendors=$(ls "$tmp"/p2/*.yaml | grep -vc '/pack\.yaml$')
wait_for 10 "$err" "rules reloaded from $store/current: [0-9]+ rules of $nvendors vendors" ||
    bad "no reload message after rules update --reload"
# no flow lost: the flows the statistics counted before are all kept (a packet still in
# flight at SIGUSR1, or one the kernel sends on the veth, such as IPv6 neighbour discovery,
# may add one between the two: more is fine, fewer is a loss)
flows_before=$(sed -n 's/.*SIGUSR1: [0-9]* packets inspected, \([0-9]*\) flows.*/\1/p' "$err" | head -1)
flows_kept=$(sed -n 's/.*rules reloaded from .*; \([0-9]*\) flows kept/\1/p' "$err" | head -1)
[ -n "$flows_before" ] && [ -n "$flows_kept" ] && [ "$flows_kept" -ge "$flows_before" ] ||
    bad "the update's reload kept ${flows_kept:-?} flows of ${flows_before:-?}"

# 4. SIGUSR2 with a broken pack: the error is named, the old rules stay.
cp "$cases/broken-rules-channel/rules.yaml" "$store/current/zz-broken.yaml"
kill -USR2 "$pid"
wait_for 10 "$err" "reload failed: still running with the rules loaded before" ||
    bad "no 'reload failed' message after SIGUSR2 with a broken pack"
grep -Eq "zz-broken\.yaml:[0-9]+:[0-9]+: unknown channel 'updates'" "$err" ||
    bad "the broken file's error is not named"
kill -0 "$pid" 2>/dev/null || bad "embargo died on a broken reload"

# 5. The rules still work: the real Kaspersky updater capture, 4 more alerts.
replay "$real_pcap"
wait_lines 10 "$eve" 17 || bad "after reloads: $(lines "$eve") alerts, want 17"

# 6. logrotate: the file is moved away, SIGHUP reopens the path; then attribution:
# lookups, then connections to the answers (some answers in IP fragments), 12 more
# alerts, 4 of them by attribution, all in the new file.
mv "$eve" "$eve.1"
kill -HUP "$pid"
wait_for 10 "$err" "SIGHUP: $eve reopened" || bad "no reopen after SIGHUP"
replay "$cases/threads-placement/input.pcap"
wait_lines 10 "$eve" 12 || bad "threads-placement: $(lines "$eve") alerts in the new file, want 12"
[ "$(lines "$eve.1")" -eq 17 ] || bad "the rotated file holds $(lines "$eve.1") lines, want 17"
if [ "$threads" -gt 1 ]; then
    grep -q "$threads capture threads, packets spread by flow" "$err" ||
        bad "no word of the capture threads"
fi

# 7. SIGINT: statistics, EVE closed, exit status 1 (alerts written).
kill -INT "$pid"
wait "$pid"
status=$?
pid=""
kill "$watchdog" 2>/dev/null
[ "$status" -eq 1 ] || bad "exit status $status after SIGINT, want 1"
grep -Eq "SIGINT, stopping: [0-9]+ packets received, 0 dropped by the kernel" "$err" ||
    bad "no final statistics after SIGINT"
grep -Eq "SIGINT, stopping: [0-9]+ packets inspected, [0-9]+ flows, 29 alerts written" "$err" ||
    bad "final engine statistics"

python3 - "$eve.1" "$eve" <<'PY' || fail=1
import json, sys
records = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
alerts = [r for r in records if r.get("event_type") == "alert"]
ok = True
def check(what, cond):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
dns = [a for a in alerts if a.get("app_proto") == "dns" and
       "easy4ipcloud" not in a["alert"]["context"]["embargo"]["value"]]
check("13 DNS alerts", len(dns) == 13)
by_port = {}
for a in dns:
    by_port.setdefault(a["src_port"], []).append(a)
first = by_port.get(40001, [{}])[0]
check("s05.upd.kaspersky.com alerts as 4200101",
      first.get("alert", {}).get("signature_id") == 4200101 and
      first["alert"]["context"]["embargo"]["value"] == "s05.upd.kaspersky.com")
check("4 alerts of 4200101", sum(a["alert"]["signature_id"] == 4200101 for a in dns) == 4)
for port in (41001, 41002, 41004, 41005, 41006, 41011):
    check(f"lookalike on port {port} does not alert", port not in by_port)
check("no alert on notkaspersky.com",
      not any(a["alert"]["context"]["embargo"]["value"] == "notkaspersky.com" for a in alerts))
real = [a for a in alerts if "94.75.236.123" in (a.get("src_ip"), a.get("dest_ip"))]
check("4 alerts from the real capture after the reloads", len(real) == 4)
check("4200102 among them", any(a["alert"]["signature_id"] == 4200102 for a in real))
attributed = [a for a in alerts if a["alert"]["context"]["embargo"]["field"] == "dns.attribution"]
check("4 connections attributed by DNS", len(attributed) == 4 and
      all(a["dest_port"] == 37777 and a["alert"]["signature_id"] == 4200502 for a in attributed))
check("flow ids unique per connection",
      len({a["flow_id"] for a in alerts if a["dest_port"] == 37777}) == 4)
check("live packets: pkt_src wire/pcap", all(a.get("pkt_src") == "wire/pcap" for a in alerts))
check("eve.json ends with a stats record", records[-1].get("event_type") == "stats")
import sqlite3
db = sqlite3.connect(sys.argv[1].rsplit("/", 1)[0] + "/inv.db")
check("the inventory holds the 29 alerts, rotation or not",
      db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 29)
cap = records[-1].get("stats", {}).get("capture", {})
check("the stats record has the kernel's counters", cap.get("kernel_packets", 0) > 0 and
      cap.get("kernel_drops") == 0)
check("the inventory keeps the stats record (coverage)",
      db.execute("SELECT COUNT(*), MAX(kernel_packets) FROM coverage").fetchone() ==
      (1, cap.get("kernel_packets")))
check("stats count the 29 alerts", records[-1].get("stats", {}).get("detect", {}).get("alert") == 29)
sys.exit(0 if ok else 1)
PY

if [ $fail -ne 0 ]; then
    echo "--- embargo stderr"; cat "$err"
    echo "--- eve.json ($(lines "$eve") lines)"; head -c 3000 "$eve" 2>/dev/null
    exit 1
fi
echo "ok: live capture on veth (-j $threads), 29 alerts (4 by DNS attribution), SIGUSR1 statistics, SIGUSR2 reload (good and broken), SIGHUP reopen, SIGINT shutdown"
