#!/usr/bin/env bash
# ci: long
# Proves at-least-once delivery across crashes: 5,000 messages submitted
# by 5 parallel Python smtplib clients (trusted loopback, several messages
# per connection) while `coldpost serve` is killed with kill -9 at random
# moments 5 times and restarted each time. Clients retry what was not
# accepted. Afterwards every message a client saw accepted (250) has
# reached the receiver (Postfix's smtp-sink) at least once. Losses fail
# the test; duplicates (messages delivered more than once, expected when a
# crash falls between the receiver's 250 and the store's record of it)
# and messages delivered without the client seeing their 250 are counted
# and printed. Runs in about 1-3 minutes.
# Ports 28330-28349; addresses 127.0.0.21, 127.0.0.51.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/relay.sh"
relay_init

TOTAL=${CRASH_TOTAL:-5000}
CLIENTS=5
KILLS=5
per=$((TOTAL / CLIENTS))
relay_tenant acme acme.test ann@acme.test 'pw-ann-0001' 127.0.0.21:out1.acme.test
relay_set listen.submission 127.0.0.1:28330
relay_set submission.trusted_networks 127.0.0.0/8
relay_set limits.connections_per_ip 100
relay_set queue.retry 1s,2s
relay_route '*' "127.0.0.51:28331"
relay_sink sink 127.0.0.51:28331
relay_start_or_exit

t0=$SECONDS
cpids=()
for c in $(seq 1 $CLIENTS); do
  relay_send_py --server 127.0.0.1:28330 --from ann@acme.test \
    --to "r$c@dest.test" --count "$per" --per-conn 25 --prefix "c$c" \
    --timeout 10 --retry-until 170 --log "$RELAY_DIR/client$c.log" \
    >/dev/null 2>"$RELAY_DIR/client$c.err" &
  cpids+=($!)
done

# kill -9 at random points while the clients submit, restart each time
kills=0
for k in $(seq 1 $KILLS); do
  sleep "$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.2f", 0.5 + rand() * 2 }')"
  done_n=$(cat "$RELAY_DIR"/client*.log 2>/dev/null | grep -c ' 250 ' || true)
  echo "kill -9 #$k at $((SECONDS - t0))s ($done_n accepted so far)"
  relay_kill9
  kills=$((kills + 1))
  sleep 0.$((RANDOM % 5))
  relay_start || { echo "restart $k failed"; break; }
done

crc=0
for p in "${cpids[@]}"; do wait "$p" || crc=$((crc + 1)); done
accepted=$(cat "$RELAY_DIR"/client*.log | grep -c ' 250 ' || true)
echo "clients done at $((SECONDS - t0))s: $accepted of $TOTAL accepted, $crc client(s) gave up on some"

# wait for delivery to finish: every accepted id at the sink, or the queue idle
count_missing() {
  "$PY" - "$RELAY_DIR" <<'PYEOF'
import collections, glob, re, sys
d = sys.argv[1]
acc = set()
for f in glob.glob(d + "/client*.log"):
    for line in open(f):
        p = line.split()
        if len(p) >= 2 and p[1] == "250":
            acc.add(p[0])
got = collections.Counter(re.findall(rb"^X-Test-Id: (\S+)", open(d + "/sink/sink/dump", "rb").read(), re.M)) if glob.glob(d + "/sink/sink/dump") else collections.Counter()
print(len(acc - set(x.decode() for x in got)))
PYEOF
}
relay_wait '[ "$(count_missing)" -eq 0 ]' 90 || true
elapsed=$((SECONDS - t0))

"$PY" - "$RELAY_DIR" "$TOTAL" <<'PYEOF' | tee "$RELAY_DIR/report"
import collections, glob, re, sys
d, total = sys.argv[1], int(sys.argv[2])
acc = set()
for f in glob.glob(d + "/client*.log"):
    for line in open(f):
        p = line.split()
        if len(p) >= 2 and p[1] == "250":
            acc.add(p[0])
raw = open(d + "/sink/sink/dump", "rb").read()
got = collections.Counter(x.decode() for x in re.findall(rb"^X-Test-Id: (\S+)", raw, re.M))
lost = sorted(acc - set(got))
dups = {k: v for k, v in got.items() if v > 1}
extra = sorted(set(got) - acc)
print(f"submitted {total}, accepted {len(acc)}, delivered {len(got)} distinct "
      f"({sum(got.values())} deliveries)")
print(f"lost {len(lost)}, duplicated {len(dups)} (extra copies "
      f"{sum(v - 1 for v in dups.values())}), delivered without a 250 seen "
      f"{len(extra)}")
if lost:
    print("LOST: " + " ".join(lost[:50]))
if dups:
    print("duplicates (first 20): " + " ".join(f"{k}x{v}" for k, v in list(dups.items())[:20]))
PYEOF
lost=$(sed -n 's/^lost \([0-9]*\),.*/\1/p' "$RELAY_DIR/report")
acc_n=$(sed -n 's/.*accepted \([0-9]*\),.*/\1/p' "$RELAY_DIR/report")
relay_check "server killed with -9 $KILLS times and restarted" test "$kills" -eq "$KILLS"
relay_check "clients got most messages accepted ($acc_n of $TOTAL)" test "${acc_n:-0}" -ge $((TOTAL * 9 / 10))
relay_check "no accepted message lost (lost: ${lost:-?})" test "${lost:-1}" -eq 0
relay_check "whole run under 3 minutes (${elapsed}s)" test "$elapsed" -lt 180
j=$(relay_cp status --json 2>&1) || true
echo "store: $(relay_json "$j" True >/dev/null 2>&1 && "$PY" -c 'import json,sys; q=json.loads(sys.argv[1])["queue"]; print(" ".join(f"{k}={v}" for k,v in q.items()))' "$j")"
relay_check "the queue is drained: nothing queued, deferred or in flight" relay_json "$j" \
  "j['queue']['queued'] == 0 and j['queue']['deferred'] == 0 and j['queue']['inflight'] == 0 and j['queue']['delivered'] >= $TOTAL"
relay_stop 30 || true
relay_summary relay_crash
