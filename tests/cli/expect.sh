#!/usr/bin/env bash
# Runs a command and checks its exit status and what it printed.
#   expect.sh STATUS OUT_REGEX ERR_REGEX -- COMMAND ARGS...
# An empty regex checks nothing; a regex starting with '!' must NOT match.
set -u
want_status=$1 out_re=$2 err_re=$3
shift 3
[ "$1" = "--" ] && shift
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
status=$?
fail=0
check() { # name file regex
    local re=$3
    [ -z "$re" ] && return 0
    if [ "${re:0:1}" = "!" ]; then
        if grep -Eq -- "${re:1}" "$2"; then echo "FAIL: $1 matches '${re:1}'"; fail=1; fi
    elif ! grep -Eq -- "$re" "$2"; then
        echo "FAIL: $1 does not match '$re'"; fail=1
    fi
}
if [ "$status" != "$want_status" ]; then
    echo "FAIL: exit status $status, want $want_status"
    fail=1
fi
check stdout "$out" "$out_re"
check stderr "$err" "$err_re"
if [ $fail -ne 0 ]; then
    echo "command: $*"
    echo "--- stdout"; head -c 4000 "$out"
    echo "--- stderr"; head -c 4000 "$err"
    exit 1
fi
echo "ok: $*"
