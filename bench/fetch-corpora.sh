#!/usr/bin/env bash
# Clones the capture collections of bench/corpora.tsv into DIR, each at its
# pinned commit and with only the paths listed checked out (a partial clone:
# blobs outside them are never downloaded). A collection already in DIR is
# moved to its commit, not cloned again. Needs git and access to github.com;
# nothing here runs in CI or in the install.
#
#   bench/fetch-corpora.sh DIR [NAME ...]
#
# With NAMEs, only those collections. Then:
#   bench/false-positives.sh --corpora-dir DIR
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
list=$repo/bench/corpora.tsv
[ $# -ge 1 ] || { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir"
declare -A want=()
for n in "$@"; do want[$n]=1; done
failed=0
while IFS=$'\t' read -r name url commit paths; do
    case $name in '#'*|'') continue ;; esac
    if [ $# -gt 0 ] && [ -z "${want[$name]:-}" ]; then continue; fi
    dest=$dir/$name
    echo "fetch-corpora.sh: $name: $url at $commit" >&2
    if [ ! -d "$dest/.git" ]; then
        if ! git clone --quiet --filter=blob:none --no-checkout "$url" "$dest"; then
            echo "fetch-corpora.sh: $name: clone failed" >&2
            failed=1
            continue
        fi
    fi
    if [ "$paths" = - ]; then
        git -C "$dest" sparse-checkout disable
    else
        # shellcheck disable=SC2086 # paths are space-separated on purpose
        git -C "$dest" sparse-checkout set --cone $paths
    fi
    if ! git -C "$dest" -c advice.detachedHead=false checkout --quiet "$commit"; then
        git -C "$dest" fetch --quiet origin "$commit" &&
            git -C "$dest" -c advice.detachedHead=false checkout --quiet "$commit" ||
            { echo "fetch-corpora.sh: $name: commit $commit not found" >&2; failed=1; }
    fi
done <"$list"
exit "$failed"
