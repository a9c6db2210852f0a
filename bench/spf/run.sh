#!/usr/bin/env bash
# Benchmark: SPF evaluations per second against a warm cache, coldpost vs
# libspf2 (Debian libspf2-dev) vs pyspf (python3-spf), same records
# (records.txt: a sender that delegates to two providers, its MX, a netblock)
# and the same mix of queries (queries.txt: passes early, late, through
# includes, over IPv6, through mx, and a fail that walks the whole record),
# in one run, each pinned to the same core.
#
# Fairness: all three evaluate in-process with DNS answered from memory -
# coldpost's fake resolver, libspf2's SPF_dns_zone layer, pyspf's DNSLookup
# replaced by a dictionary - so the figures compare SPF evaluation (parsing,
# macros, matching, the limits), not resolvers. Each checks its answers
# against the expected results before timing. Not part of CI.
# usage: bench/spf/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-5}
build=${2:-$root/build}
here=$root/bench/spf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$build/bench/cp-bench-spf" ] || { echo "no $build/bench/cp-bench-spf: build first (ninja -C $build)" >&2; exit 2; }
[ -r /usr/include/spf2/spf.h ] || { echo "libspf2-dev missing (scripts/deps.sh bench)" >&2; exit 2; }
/usr/bin/python3 -c 'import spf' 2>/dev/null || { echo "python3-spf missing (scripts/deps.sh bench)" >&2; exit 2; }
cc -O2 -o "$tmp/bench_libspf2" "$here/bench_libspf2.c" -lspf2

echo "records: $(grep -vc '^#' "$here/records.txt") DNS records; queries: $(grep -vc '^#' "$here/queries.txt") per round; ${secs}s each, pinned to core 0"
echo "warm cache: every implementation in-process, DNS answers from memory (coldpost: the fake resolver)"
cp_out=$(taskset -c 0 "$build/bench/cp-bench-spf" "$here/records.txt" "$here/queries.txt" "$secs")
ls_out=$(taskset -c 0 "$tmp/bench_libspf2" "$here/records.txt" "$here/queries.txt" "$secs")
py_out=$(taskset -c 0 /usr/bin/python3 "$here/bench_pyspf.py" "$here/records.txt" "$here/queries.txt" "$secs")
echo "$cp_out"
echo "$ls_out"
echo "$py_out"
rate() { sed -E 's/.*= ([0-9]+) evaluations.*/\1/' <<<"$1"; }
cp=$(rate "$cp_out"); ls=$(rate "$ls_out"); py=$(rate "$py_out")
awk -v a="$cp" -v b="$ls" -v c="$py" 'BEGIN {
  printf "ratio: coldpost/libspf2 = %.2fx, coldpost/pyspf = %.1fx\n", a / b, a / c }'
