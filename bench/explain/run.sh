#!/usr/bin/env bash
# Benchmark: replies classified per second on one core, coldpost vs Sisimai
# (libsisimai-perl, Sisimai::Reason->match) on the same strings, same run.
# usage: bench/explain/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-5}
build=${2:-$root/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tail -n +2 "$root/tests/data/smtp-replies/replies.tsv" | cut -f1 > "$tmp/replies"
echo "corpus: $(wc -l < "$tmp/replies") replies ($(wc -c < "$tmp/replies") bytes), ${secs}s each, pinned to one core"
cp_out=$(taskset -c 0 "$build/bench/cp-bench-classify" "$tmp/replies" "$secs")
ss_out=$(taskset -c 0 perl "$root/bench/explain/sisimai_bench.pl" "$tmp/replies" "$secs")
echo "$cp_out"
echo "$ss_out"
cp_rate=$(sed -E 's/.*= ([0-9]+) replies.*/\1/' <<<"$cp_out")
ss_rate=$(sed -E 's/.*= ([0-9]+) replies.*/\1/' <<<"$ss_out")
awk -v a="$cp_rate" -v b="$ss_rate" 'BEGIN { printf "ratio: coldpost/sisimai = %.1fx\n", a / b }'
