# bench/lib.sh - what the bench/*/run.sh scripts share; source it.
#   bench_init "$@"     root, secs (arg 1, default 5), build (arg 2), tmp
#                       (removed on exit)
#   bench_ratio UNIT OURS THEIRS NAME
#                       prints both outputs and OURS' rate / THEIRS' rate;
#                       each output ends its figure with "= N UNIT"
bench_init() {
  root=$(cd "$(dirname "${BASH_SOURCE[1]}")/../.." && pwd)
  secs=${1:-5}
  build=${2:-$root/build}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
}

bench_ratio() {
  local unit=$1 ours=$2 theirs=$3 name=$4 a b
  echo "$ours"
  echo "$theirs"
  a=$(sed -E "s/.*= ([0-9]+) $unit.*/\\1/" <<<"$ours")
  b=$(sed -E "s/.*= ([0-9]+) $unit.*/\\1/" <<<"$theirs")
  awk -v a="$a" -v b="$b" -v n="$name" \
    'BEGIN { printf "ratio: coldpost/%s = %.1fx\n", n, a / b }'
}
