#!/usr/bin/env bash
# Proves: stopping the delivery engine drains: a message in flight at a slow
# receiver (silent 2 s after the final dot) is finished and recorded
# before the engine stops, and messages not begun are given back to the
# queue (due again, not lost, not in flight) for the next run, which
# delivers them. Ports 27060-27069.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
bdir=${BUILD_DIR:-$(dirname "$cp")}
run=$bdir/tests/cp-deliver-run
eng() { # cp-deliver-run with its stderr also kept in all.err (sanitizer reports)
  "$run" "$@" 2> >(tee -a "$tmp/all.err" >&2)
}
py=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else
    echo "FAIL $name"; fails=$((fails + 1)); tail -8 "$tmp/run.err" | sed 's/^/     /'; fi
}
"$py" "$here/tests/lib/receiver.py" --listen 127.0.0.40:27060 --dir "$tmp/mail" \
  --pid-file "$tmp/r.pid" --delay-data 2 2>"$tmp/r.log" &
pids+=($!)
for i in $(seq 100); do [ -s "$tmp/r.pid" ] && break; sleep 0.1; done
cat >"$tmp/c.conf" <<EOF2
[server]
hostname = relay.test
store = sqlite:$tmp/q.db
[delivery]
connections_per_destination = 1
[routes]
slow.test = 127.0.0.40:27060
EOF2
S=(--config "$tmp/c.conf")
"$cp" tenant add acme "${S[@]}" >/dev/null || { echo "FAIL setup"; exit 1; }

# 5 messages, one connection, 2 s each: stopped after ~1 s (the timeout)
eng "${S[@]}" --push 5 --tenant 1 --rcpt a@slow.test --timeout 1 \
  >"$tmp/run.out" 2>"$tmp/run.err"
check "the message in flight finished during the stop" grep -q "^delivered=1 " "$tmp/run.out"
"$cp" queue list "${S[@]}" --json >"$tmp/q.json" 2>>"$tmp/run.err"
check "store: 1 delivered, 4 queued with no lease" "$py" -c "
import json; d = json.load(open('$tmp/q.json'))
rows = d if isinstance(d, list) else d.get('recipients', d.get('rows'))
st = sorted(r['state'] for r in rows)
assert st == ['delivered'] + ['queued'] * 4, st
assert all(r['owner'] in (None, '') for r in rows if r['state'] == 'queued'), rows
"
# the next run claims them (released leases are due now)
eng "${S[@]}" --until-final --timeout 40 >"$tmp/run.out" 2>"$tmp/run.err"
check "next run delivers the 4 given back" grep -q "^delivered=4 .* claimed=4 " "$tmp/run.out"
check "receiver has 5 messages, no duplicate" test "$(ls "$tmp/mail" | wc -l)" -eq 5

sleep 0.2
check "no sanitizer report from the engine" \
  bash -c "! grep -q 'Sanitizer\|runtime error' '$tmp/all.err'"

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
