#!/usr/bin/env bash
# Benchmark: bounce emails parsed per second on one core, coldpost
# (cp_bounce_parse) vs Sisimai (libsisimai-perl) on the same emails (the
# whole labelled corpus, tests/data/bounces/corpus.tar.xz), in one run.
# Rates are per second of CPU each process got (the machine is shared);
# wall times are printed too.
# The two take turns, ROUNDS times (default 3), and the ratio is that of
# the median rates: the machine is shared, and a load that comes and goes
# would otherwise favour whichever ran while it was quiet.
# usage: bench/bounce/run.sh [SECONDS] [BUILD_DIR]   (env ROUNDS)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_init "$@"
rounds=${ROUNDS:-3}
tar -C "$tmp" -xJf "$root/tests/data/bounces/corpus.tar.xz"
find "$tmp" -type f -name '*.eml' | sort > "$tmp/list"
echo "corpus: $(wc -l < "$tmp/list") emails ($(cat $(cat "$tmp/list") | wc -c) bytes), ${secs}s each, ${rounds} rounds, pinned to one core"
rate() { sed -E 's/.*= ([0-9]+) emails.*/\1/' <<<"$1"; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cp_rates="" ss_rates=""
for r in $(seq "$rounds"); do
  cp_out=$(taskset -c 0 "$build/bench/cp-bench-bounce" "$tmp/list" "$secs")
  ss_out=$(taskset -c 0 perl "$root/bench/bounce/sisimai_bench.pl" "$tmp/list" "$secs")
  echo "round $r: $cp_out"
  echo "round $r: $ss_out"
  cp_rates="$cp_rates $(rate "$cp_out")"
  ss_rates="$ss_rates $(rate "$ss_out")"
done
cp_med=$(median <<<"$cp_rates")
ss_med=$(median <<<"$ss_rates")
bench_ratio emails "coldpost: median of$cp_rates = $cp_med emails/s per cpu second" \
  "sisimai: median of$ss_rates = $ss_med emails/s per cpu second" sisimai
