#!/usr/bin/env bash
# Benchmark: bounce emails parsed per second on one core, coldpost
# (cp_bounce_parse) vs Sisimai (libsisimai-perl) on the same emails (the
# whole labelled corpus, tests/data/bounces/corpus.tar.xz), in one run.
# Rates are per second of CPU each process got (the machine is shared);
# wall times are printed too.
# usage: bench/bounce/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_init "$@"
tar -C "$tmp" -xJf "$root/tests/data/bounces/corpus.tar.xz"
find "$tmp" -type f -name '*.eml' | sort > "$tmp/list"
echo "corpus: $(wc -l < "$tmp/list") emails ($(cat $(cat "$tmp/list") | wc -c) bytes), ${secs}s each, pinned to one core"
cp_out=$(taskset -c 0 "$build/bench/cp-bench-bounce" "$tmp/list" "$secs")
ss_out=$(taskset -c 0 perl "$root/bench/bounce/sisimai_bench.pl" "$tmp/list" "$secs")
bench_ratio emails "$cp_out" "$ss_out" sisimai
