#!/usr/bin/env bash
# Signed packs: `embargo rules update` from a local HTTPS server (a throwaway
# certificate on 127.0.0.1) installs a good pack, says "already current" for
# the same one, refuses each bad one with its own message and leaves the store
# as it was, refuses an older pack (a rollback) and goes back only by
# `rules rollback`; `rules verify`, `rules check` and `rules diff` agree.
# The keys are made here, for this test only.
#   pack-update.sh EMBARGO PYTHON RULES_DIR
set -u
embargo=$1 python=$2 rules=$3
dir=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
export EMBARGO_CACHE_DIR="$dir/cache"

cd "$dir"
openssl genpkey -algorithm ed25519 -out publisher.key 2>/dev/null
openssl genpkey -algorithm ed25519 -out stranger.key 2>/dev/null
mkdir keys
openssl pkey -in publisher.key -pubout -out keys/publisher.pem
# pack NAME VERSION [manifest options...]: the shipped rules with a manifest
pack() {
    local name=$1 version=$2
    shift 2
    mkdir -p "srv/$name"
    cp "$rules"/*.yaml "srv/$name/"
    "$embargo" rules manifest "srv/$name" --name test --version "$version" \
        --expires 2099-12-31 "$@" >/dev/null || bad "rules manifest $name"
}
sign() { openssl pkeyutl -sign -rawin -inkey "${2:-publisher.key}" -in "srv/$1/pack.yaml" \
    -out "srv/$1/pack.yaml.sig"; }

pack good1 1.0.0 && sign good1
pack good2 1.1.0
# 1.1.0 resolves one more Kaspersky update name
sed -i 's/- domain: \[upd\.kaspersky\.com,/- domain: [upd2.kaspersky.com, upd.kaspersky.com,/' \
    srv/good2/kaspersky.yaml
grep -q upd2.kaspersky.com srv/good2/kaspersky.yaml || bad "could not edit the 1.1.0 pack"
"$embargo" rules manifest srv/good2 --name test --version 1.1.0 --expires 2099-12-31 >/dev/null
sign good2
pack tampered 1.2.0 && sign tampered
echo "# changed after signing" >>srv/tampered/zte.yaml
pack unsigned 1.2.0
pack stranger 1.2.0 && sign stranger stranger.key
pack toonew 1.2.0 --min-engine 99.0.0 && sign toonew
pack unlisted 1.2.0 && sign unlisted
cp srv/unlisted/zte.yaml srv/unlisted/zz-extra.yaml
sed -i 's/^vendor: zte/vendor: zte2/' srv/unlisted/zz-extra.yaml

# A local HTTPS server with a certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout tls.key -out tls.crt 2>/dev/null ||
    bad "cannot make a certificate"
"$python" - >port 2>server.log <<'PY' &
import http.server, os, ssl, sys, functools
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="srv")
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("tls.crt", "tls.key")
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
PY
server=$!
for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
port=$(cat port)
[ -n "$port" ] || { bad "the HTTPS server did not start: $(cat server.log)"; exit 1; }
url="https://127.0.0.1:$port"

store="$dir/store"
# update NAME WANT_STATUS WANT_MESSAGE [options]: one update, its status and message
update() {
    local name=$1 want=$2 msg=$3
    shift 3
    "$embargo" rules update --from "$url/$name" --dest "$store" --keys keys \
        --ca-file tls.crt "$@" >out 2>err
    local st=$?
    [ "$st" -eq "$want" ] || bad "$name: exit $st, want $want: $(cat out err)"
    grep -q -- "$msg" out err || bad "$name: no '$msg' in: $(cat out err)"
}
state() { ls -l --time-style=+ "$store" 2>/dev/null | sed 's/ [0-9]* [A-Z][a-z]* //'; readlink "$store/current"; }

update good1 0 "updated to pack test 1.0.0 (signed by publisher.pem)"
[ "$(readlink "$store/current")" = 1.0.0 ] || bad "current is not 1.0.0"
"$embargo" rules check "$store/current" >/dev/null || bad "the installed pack does not check"
update good1 1 "already current"

before=$(state)
update tampered 2 "SHA-256 .*the file changed"
update unsigned 2 "unsigned: the source has no pack.yaml.sig"
update stranger 2 "bad signature: made by none of the 1 trusted key"
update toonew 2 "needs engine 99.0.0 or newer"
update missing 2 "The requested URL returned error: 404"
"$embargo" rules update --from "$url/good2" --dest "$store" --keys keys >out 2>err
[ $? -eq 2 ] && grep -qi "certificate" err || bad "an untrusted certificate: $(cat err)"
grep -q "nothing was changed" err || bad "a refusal does not say that nothing was changed"
"$embargo" rules update --from "http://127.0.0.1:$port/good2" --dest "$store" --keys keys \
    >out 2>err
[ $? -eq 2 ] && grep -q "only https:// and file://" err || bad "plain http: $(cat err)"
[ "$(state)" = "$before" ] || bad "a refused update changed the store: $before / $(state)"
ls -a "$store" | grep -q incoming && bad "a staging directory was left behind"

update good2 0 "updated to pack test 1.1.0 (signed by publisher.pem), previous 1.0.0"
[ "$(readlink "$store/previous")" = 1.0.0 ] || bad "previous is not 1.0.0"
before=$(state)
update good1 2 "older than the installed 1.1.0: a rollback is refused"
[ "$(state)" = "$before" ] || bad "a refused rollback changed the store"

# an installed pack whose manifest cannot be read: no update can tell a rollback
cp "$store/current/pack.yaml" saved.yaml
echo "extra: key" >>"$store/current/pack.yaml"
update good1 2 "the installed pack's manifest cannot be read"
cp saved.yaml "$store/current/pack.yaml"

# verify and check agree with update
"$embargo" rules verify srv/good2 --keys keys >out 2>err ||
    bad "verify good2: $(cat out err)"
nfiles=$(ls srv/good2/*.yaml | grep -vc '/pack\.yaml$')
grep -q "pack test 1.1.0 .*signed by publisher.pem, $nfiles files verified" out ||
    bad "verify good2 says: $(cat out)"
"$embargo" rules verify srv/tampered --keys keys >out 2>err
[ $? -eq 2 ] && grep -q "the file changed" err || bad "verify tampered: $(cat err)"
# a rule file beside a signed manifest that does not list it: never loaded unsigned
"$embargo" rules verify srv/unlisted --keys keys >out 2>err
[ $? -eq 2 ] && grep -q "zz-extra.yaml: a rule file the manifest does not list" err ||
    bad "verify unlisted: $(cat err)"
"$embargo" rules check srv/tampered >out 2>err
[ $? -eq 2 ] && grep -q "the manifest does not match" err || bad "check tampered: $(cat err)"

# diff: the one name 1.1.0 adds, as text and as JSON
"$embargo" rules diff srv/good1 srv/good2 >out || bad "rules diff"
grep -q "changed 4200101 (kaspersky update)" out && grep -q "+ domain upd2.kaspersky.com" out ||
    bad "diff text: $(cat out)"
"$embargo" rules diff --format json srv/good1 srv/good2 >diff.json || bad "rules diff json"
"$python" - diff.json <<'PY' || bad "diff json"
import json, sys
d = json.load(open(sys.argv[1]))
assert [r["sid"] for r in d["rules"]] == [4200101], d
assert d["rules"][0]["indicators_added"] == ["domain upd2.kaspersky.com"], d
assert d["rules"][0]["indicators_removed"] == [], d
assert d["summary"] == [{"vendor": "kaspersky", "channel": "update", "rules_added": 0,
                         "rules_removed": 0, "rules_changed": 1, "indicators_added": 1,
                         "indicators_removed": 0}], d
PY
"$embargo" rules diff srv/good1 srv/good1 | grep -q "no difference" || bad "diff of a pack with itself"

# rollback on purpose, then forward again
"$embargo" rules rollback --dest "$store" >out 2>err || bad "rollback: $(cat err)"
[ "$(readlink "$store/current")" = 1.0.0 ] && [ "$(readlink "$store/previous")" = 1.1.0 ] ||
    bad "after rollback: current $(readlink "$store/current"), previous $(readlink "$store/previous")"
update good2 0 "updated to pack test 1.1.0"

# --reload signals only an embargo process: a pid file that now names another
# process (left by a crash) is refused (the live test checks the signal itself)
"$python" -c 'import signal, sys, time
def got(*a):
    open("got-usr2", "w").write("1")
    sys.exit(0)
signal.signal(signal.SIGUSR2, got)
time.sleep(30)' &
sleeper=$!
echo "$sleeper" >pidfile
sleep 0.3
"$embargo" rules rollback --dest "$store" --reload pidfile >out 2>err
[ $? -eq 2 ] && grep -q "is python3, not embargo: not signalled" err ||
    bad "--reload to another program: $(cat err)"
kill "$sleeper" 2>/dev/null
wait "$sleeper" 2>/dev/null
[ -f got-usr2 ] && bad "--reload signalled a program that is not embargo"

[ $fail -eq 0 ] && echo "ok: update over HTTPS, 8 refusals each with its message and no change, rollback, verify, check, diff"
exit $fail
