#!/usr/bin/env bash
# Benchmark: replies classified per second on one core, coldpost vs Sisimai
# (libsisimai-perl, Sisimai::Reason->match) on the same strings, same run.
# usage: bench/explain/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_init "$@"
tail -n +2 "$root/tests/data/smtp-replies/replies.tsv" | cut -f1 > "$tmp/replies"
echo "corpus: $(wc -l < "$tmp/replies") replies ($(wc -c < "$tmp/replies") bytes), ${secs}s each, pinned to one core"
cp_out=$(taskset -c 0 "$build/bench/cp-bench-classify" "$tmp/replies" "$secs")
ss_out=$(taskset -c 0 perl "$root/bench/explain/sisimai_bench.pl" "$tmp/replies" "$secs")
bench_ratio replies "$cp_out" "$ss_out" sisimai
