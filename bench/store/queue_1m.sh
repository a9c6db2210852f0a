#!/usr/bin/env bash
# Benchmark (not CI): the store with 1,000,000 queued recipients.
# Inserts 100k messages x 10 recipients (small bodies, 100 messages per
# commit), then in fresh processes counts and streams the queue and claims
# it all, 1000 at a time. Each phase reports its time and its process's
# peak RSS: the relay must hold 1M queued recipients in under 2 GiB, so no
# phase may grow with the queue. Also reports the database's size.
# usage: bench/store/queue_1m.sh [BUILD_DIR]   (env: NMSG NRCPT BATCH HOLD=1)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${BUILD_DIR:-$root/build}}
bin="$build/cp-bench-store"
[ -x "$bin" ] || bin="$build/bench/cp-bench-store"
[ -x "$bin" ] || { echo "no cp-bench-store in $build (ninja -C $build)" >&2; exit 2; }
nmsg=${NMSG:-100000}
nrcpt=${NRCPT:-10}
batch=${BATCH:-100}
work=$(mktemp -d "${TMPDIR:-/tmp}/cp-queue1m-XXXXXX")
trap 'rm -rf "$work"' EXIT
dsn="sqlite:$work/queue.db"

echo "queue_1m: $nmsg messages x $nrcpt recipients = $((nmsg * nrcpt)) recipients, $batch messages per commit"
"$bin" insert "$dsn" "$nmsg" "$nrcpt" "$batch" ${HOLD:+hold}
size=$(( $(stat -c %s "$work/queue.db") + $(stat -c %s "$work/queue.db-wal" 2>/dev/null || echo 0) ))
awk -v b="$size" -v n=$((nmsg * nrcpt)) 'BEGIN { printf "database: %.1f MiB (%.0f bytes per recipient)\n", b / 1048576, b / n }'
"$bin" scan "$dsn"
if [ -z "${HOLD:-}" ]; then
  "$bin" claim "$dsn" 1000
fi
