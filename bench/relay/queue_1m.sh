#!/usr/bin/env bash
# bench/relay/queue_1m.sh [RCPTS] - the relay holding a million queued
# recipients: resident memory stays small.
#
# Phase 1: `coldpost serve --no-delivery` (delivery held) takes RCPTS
# recipients (default 1,000,000) over SMTP from 4 parallel smtplib clients,
# 100 recipients per message; prints the rate and the server's peak RSS
# (VmHWM). Phase 2: the same store served with delivery on, every domain
# routed to a closed port (each attempt fails and defers), for 30 s: the
# engine works through the million without holding it in memory; prints the
# peak RSS and how many recipients it tried. Target: under 2 GiB in both.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
total=${1:-1000000}
per=100
clients=4
port=${PORT:-26587}
tmp=$(mktemp -d)
trap 'kill $(cat "$tmp/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$tmp"' EXIT

conf() { # $1: 1 = deliver
    cat > "$tmp/c.conf" <<CONF
[server]
hostname = bench.localhost
user =
store = sqlite:$tmp/q.db
[listen]
submission = 127.0.0.1:$port
submissions =
[tls]
cert =
key =
[submission]
trusted_networks = 127.0.0.0/8
[mailbox]
daily_cap = 0
[log]
file = $tmp/log
[routes]
* = 127.0.0.1:9 tls=none
CONF
}
start() { # extra args
    "$cp" serve --config "$tmp/c.conf" --pid-file "$tmp/pid" "$@" &
    for _ in $(seq 100); do
        [ -s "$tmp/pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the relay did not start" >&2; tail "$tmp/log" >&2; exit 1
}
hwm() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$(cat "$tmp/pid")/status"; }
stop() { kill -TERM "$(cat "$tmp/pid")"; while [ -e "$tmp/pid" ]; do sleep 0.1; done; }

conf
"$cp" tenant add bench --store "sqlite:$tmp/q.db" >/dev/null
"$cp" domain add sender.test --tenant bench --generate --store "sqlite:$tmp/q.db" >/dev/null
start --no-delivery
t0=$(date +%s.%N)
/usr/bin/python3 - "$port" "$total" "$per" "$clients" <<'PY'
import smtplib, sys
from multiprocessing import Pool
port, total, per, clients = map(int, sys.argv[1:5])
msgs = total // per
def run(k):
    s = smtplib.SMTP("127.0.0.1", port)
    for m in range(k, msgs, clients):
        rc = ["r%d.%d@d%02d.bench.test" % (m, i, i % 50) for i in range(per)]
        body = ("From: a@sender.test\r\nSubject: m%d\r\n\r\n" % m) + "x" * 1000 + "\r\n"
        s.sendmail("a@sender.test", rc, body)
    s.quit()
with Pool(clients) as p:
    p.map(run, range(clients))
PY
t1=$(date +%s.%N)
queued=$("$cp" status --store "sqlite:$tmp/q.db" --json | jq '.queue.queued')
echo "phase 1 (delivery held): $total recipients in $(awk "BEGIN {printf \"%.1f\", $t1 - $t0}") s, queued $queued, peak RSS $(hwm) MiB"
stop
conf
start
sleep 30
echo "phase 2 (delivering, every attempt refused): peak RSS $(hwm) MiB after 30 s"
stop
"$cp" status --store "sqlite:$tmp/q.db" --since 1h | head -20
echo "db size: $(du -m "$tmp/q.db" | cut -f1) MiB"
