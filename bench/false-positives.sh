#!/usr/bin/env bash
# False positives on benign public captures: runs the shipped pack over every
# capture of the test-capture collections the user has checked out (never
# downloads anything), then lists every alert, each marked explained or not by
# bench/false-positives-explained.yaml.
#
#   bench/false-positives.sh {--corpora-dir DIR | --corpus DIR [--corpus DIR ...]}
#       [--rules RULES] [--build BUILD_DIR] [--no-build] [--timeout SECONDS]
#       [--explained FILE] [--keep DIR]
#
# --corpora-dir DIR: every collection of bench/corpora.tsv found in DIR (as
# bench/fetch-corpora.sh DIR leaves them), in that list's order; a collection
# missing from DIR, or at another commit than its pin, is named on stderr.
# Each corpus is searched recursively for *.pcap, *.pcapng, *.cap, *.trace (and
# the same names ending in .gz, decompressed to a temporary directory).
# One `embargo scan` per capture, with a per-capture timeout; captures that
# embargo rejects (exit 2), that time out or that fail to decompress are
# counted as unreadable and listed. Which collections to use, and how to pin
# them: bench/README.md, "false-positives.sh".
#
# Exit status: 0 every alert explained, 1 at least one alert unexplained,
# 2 usage or build error.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
    exit 2
}

corpora=()
corpora_dir=
rules=$repo/rules
build=$repo/build-fp # its own Release tree: never the developer's build/
do_build=1
timeout_s=60
explained=$repo/bench/false-positives-explained.yaml
keep=
while [ $# -gt 0 ]; do
    case $1 in
        --corpus) [ $# -ge 2 ] || usage; corpora+=("$2"); shift 2 ;;
        --corpora-dir) [ $# -ge 2 ] || usage; corpora_dir=$2; shift 2 ;;
        --rules) [ $# -ge 2 ] || usage; rules=$2; shift 2 ;;
        --build) [ $# -ge 2 ] || usage; build=$2; shift 2 ;;
        --no-build) do_build=0; shift ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
        --explained) [ $# -ge 2 ] || usage; explained=$2; shift 2 ;;
        --keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
        -h|--help) usage ;;
        *) echo "false-positives.sh: unknown argument: $1" >&2; usage ;;
    esac
done
if [ -n "$corpora_dir" ]; then
    [ -d "$corpora_dir" ] || { echo "false-positives.sh: not a directory: $corpora_dir" >&2; exit 2; }
    while IFS=$'\t' read -r name _ pin _; do
        case $name in '#'*|'') continue ;; esac
        d=$corpora_dir/$name
        if [ ! -d "$d" ]; then
            echo "false-positives.sh: $name: not in $corpora_dir (bench/fetch-corpora.sh $corpora_dir $name)" >&2
            continue
        fi
        have=$(head -n1 "$d/COMMIT" 2>/dev/null || git -C "$d" rev-parse HEAD 2>/dev/null || echo unknown)
        [ "$have" = "$pin" ] || echo "false-positives.sh: $name: at $have, pinned at $pin" >&2
        corpora+=("$d")
    done <"$repo/bench/corpora.tsv"
fi
[ ${#corpora[@]} -gt 0 ] || { echo "false-positives.sh: no corpus given or found" >&2; usage; }
for d in "${corpora[@]}"; do
    [ -d "$d" ] || { echo "false-positives.sh: not a directory: $d" >&2; exit 2; }
done
[ -e "$rules" ] || { echo "false-positives.sh: no rules at $rules" >&2; exit 2; }
[ -f "$explained" ] || { echo "false-positives.sh: no explanation file $explained" >&2; exit 2; }

if [ "$do_build" = 1 ]; then
    if [ ! -f "$build/CMakeCache.txt" ]; then
        cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEMBARGO_TESTS=OFF >/dev/null
    fi
    cmake --build "$build" -j2 --target embargo >/dev/null
    type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
    [ "$type" = Release ] || echo "false-positives.sh: warning: $build is a '$type' build, not Release" >&2
fi
embargo=$build/embargo
[ -x "$embargo" ] || { echo "false-positives.sh: no embargo binary at $embargo" >&2; exit 2; }

if [ -n "$keep" ]; then
    mkdir -p "$keep"
    tmp=$(cd "$keep" && pwd)
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
fi
mkdir -p "$tmp/eve" "$tmp/gunzip"

# corpora.tsv: index, name, absolute dir, commit, where the commit came from
: >"$tmp/corpora.tsv"
declare -A seen_names=()
i=0
for d in "${corpora[@]}"; do
    abs=$(cd "$d" && pwd)
    name=$(basename "$abs")
    if [ -n "${seen_names[$name]:-}" ]; then name="$name#$i"; fi
    seen_names[$name]=1
    commit=unknown
    source="no COMMIT file, not a git checkout"
    if [ -f "$abs/COMMIT" ]; then
        commit=$(head -n1 "$abs/COMMIT" | tr -d '[:space:]')
        source="COMMIT file"
    elif c=$(git -C "$abs" rev-parse HEAD 2>/dev/null); then
        commit=$c
        source="git checkout $(git -C "$abs" rev-parse --show-toplevel)"
        if [ -n "$(git -C "$abs" status --porcelain -- . 2>/dev/null | head -n1)" ]; then
            source="$source, with local changes"
        fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$i" "$name" "$abs" "$commit" "$source" >>"$tmp/corpora.tsv"
    i=$((i + 1))
done

captures() {    # the capture files under $1, NUL-separated; .git is skipped
    find "$1" -name .git -prune -o -type f \
        \( -iname '*.pcap' -o -iname '*.pcapng' -o -iname '*.cap' -o -iname '*.trace' \
        -o -iname '*.pcap.gz' -o -iname '*.pcapng.gz' -o -iname '*.cap.gz' -o -iname '*.trace.gz' \) \
        -print0
}
# manifest.tsv: corpus index, path relative to the corpus, exit status
# (0/1 scan, 2 rejected, 124 timeout, 125 decompression failed, other: crash;
# "dup" for a capture whose bytes equal one already read, which is not scanned
# again), eve file (for "dup": the first capture's corpus/path), stderr file
: >"$tmp/manifest.tsv"
n=0
total=0
declare -A first_of=()   # sha256 of a capture -> corpus/path that had it first
while IFS=$'\t' read -r idx name abs _; do
    total=$((total + $(captures "$abs" | tr -cd '\0' | wc -c)))
done <"$tmp/corpora.tsv"
echo "false-positives.sh: $total captures in ${#corpora[@]} corpora, $embargo, rules $rules" >&2

while IFS=$'\t' read -r idx name abs _; do
    while IFS= read -r -d '' f; do
        rel=${f#"$abs"/}
        n=$((n + 1))
        if head -c 40 -- "$f" | grep -q '^version https://git-lfs'; then
            # a Git LFS pointer: the capture itself was never fetched
            printf '%s\t%s\tlfs\t-\t-\n' "$idx" "$rel" >>"$tmp/manifest.tsv"
            continue
        fi
        sum=$(sha256sum -- "$f" | cut -d' ' -f1)
        if [ -n "${first_of[$sum]:-}" ]; then
            printf '%s\t%s\tdup\t%s\t-\n' "$idx" "$rel" "${first_of[$sum]}" >>"$tmp/manifest.tsv"
            continue
        fi
        first_of[$sum]=$name/$rel
        eve=$tmp/eve/$n.json
        err=$tmp/eve/$n.err
        input=$f
        rc=
        case $f in
            *.gz|*.GZ)
                input=$tmp/gunzip/$n-$(basename "${f%.*}")
                if ! gzip -dc -- "$f" >"$input" 2>"$err"; then rc=125; fi
                ;;
        esac
        if [ -z "$rc" ]; then
            rc=0
            timeout "$timeout_s" "$embargo" scan -r "$rules" -o "$eve" --force --no-progress \
                -- "$input" >/dev/null 2>"$err" || rc=$?
        fi
        [ "$input" = "$f" ] || rm -f "$input"
        printf '%s\t%s\t%s\t%s\t%s\n' "$idx" "$rel" "$rc" "$eve" "$err" >>"$tmp/manifest.tsv"
        if [ $((n % 200)) = 0 ]; then echo "false-positives.sh: $n/$total" >&2; fi
    done < <(captures "$abs" | LC_ALL=C sort -z)
done <"$tmp/corpora.tsv"

rc=0
/usr/bin/python3 "$repo/bench/false-positives.py" --corpora "$tmp/corpora.tsv" \
    --manifest "$tmp/manifest.tsv" --explained "$explained" --timeout "$timeout_s" || rc=$?
exit "$rc"
