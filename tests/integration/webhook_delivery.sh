#!/usr/bin/env bash
# Proves: webhooks (coldpost/webhook.h, docs/webhooks.md) reach a real HTTP
# receiver on loopback (tests/lib/webhook_receiver.py) that fails on
# purpose, at least once, signed, with growing delays, across a kill -9:
#  - one event through 500, 500, 500, a timeout, then 200: five POSTs of the
#    same event id, attempts 1..5 in the header, every signature valid,
#    the gaps between tries growing (backoff_base 1s, doubling, jitter);
#  - twelve events of six types while the receiver fails at first: every
#    event id answered 200 at least once, type header = body type, an
#    endpoint with --events bounced gets only the bounced ones, the other
#    tenant's endpoint nothing;
#  - the sender killed with -9 while its POSTs hang: after a restart (same
#    node) every queued event arrives, without waiting for the leases;
#  - the delivery engine's observer: messages delivered, deferred (451) and
#    bounced (550 5.1.1) by real SMTP receivers become delivered, deferred
#    and bounced webhooks with the reply, cause and recipient;
#  - `coldpost webhook` add/list/rm/test as coldpost-webhook(1) says, with
#    its refusals (exit 1 or 2).
# The sender runs in tests/tools/cp_webhook_run.c (`coldpost serve` wiring:
# see the report of issue 8). Ports 31080-31089, address 127.0.0.1,
# 127.0.0.31-32 for SMTP.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
bdir=${BUILD_DIR:-$(dirname "$cp")}
run=$bdir/tests/cp-webhook-run
py=/usr/bin/python3
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); [ -z "${2:-}" ] || sed 's/^/     /' "$2" | tail -15; }
check() { # name, command...
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name" "$tmp/run.err"; fi
}
rc_is() { # want, command...
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  [ "$got" -eq "$want" ] || { echo "  (exit $got, want $want: $*)"; cat "$tmp/err"; return 1; }
}
pyq() { "$py" -c "$1" "${@:2}"; } # python snippet, args

secret=whsec_0123456789abcdef
dsn="sqlite:$tmp/q.db"
S=(--store "$dsn")
cat >"$tmp/c.conf" <<EOF
[server]
hostname = relay.test
store = $dsn
[delivery]
connect_timeout = 2s
[routes]
ok.test = 127.0.0.31:31025 tls=none
bad.test = 127.0.0.32:31026 tls=none
acme.example = 127.0.0.31:31025 tls=none
[queue]
retry = 1h
[webhook]
timeout = 2s
backoff_base = 1s
backoff_max = 8s
max_attempts = 10
concurrency = 4
EOF

receiver() { # name port args... (a fresh log each start)
  local name=$1 port=$2 i
  shift 2
  rm -f "$tmp/$name.pid"
  "$py" "$here/tests/lib/webhook_receiver.py" --listen "127.0.0.1:$port" \
    --secret "$secret" --log "$tmp/$name.log" --pid-file "$tmp/$name.pid" \
    "$@" 2>>"$tmp/$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
  for i in $(seq 100); do [ -s "$tmp/$name.pid" ] && return 0; sleep 0.1; done
  echo "receiver $name did not start"; cat "$tmp/$name.err"; exit 1
}

"$cp" tenant add acme "${S[@]}" >/dev/null && "$cp" tenant add beta "${S[@]}" >/dev/null ||
  { echo "FAIL setup"; exit 1; }
check "add an endpoint for every event" \
  rc_is 0 "$cp" webhook add --tenant acme http://127.0.0.1:31080/hook --secret "$secret" "${S[@]}"
check "add prints id and events" grep -q "webhook 1 added for acme" "$tmp/out"
check "add an endpoint for bounces only" \
  rc_is 0 "$cp" webhook add --tenant acme http://127.0.0.1:31081/b --events ' bounced' --secret "$secret" --json "${S[@]}"
check "the filter is kept canonical" pyq 'import json,sys; d=json.load(open(sys.argv[1])); assert d["events"]=="bounced" and d["id"]==2, d' "$tmp/out"
check "another tenant's endpoint, secret generated" \
  rc_is 0 "$cp" webhook add --tenant beta http://127.0.0.1:31082/beta "${S[@]}"
check "a generated secret is whsec_ and 64 hex" grep -Eq '^secret: whsec_[0-9a-f]{64}$' "$tmp/out"

# ---- 1. one event through 500 x3, a timeout, then 200 -------------------
receiver r1 31080 --fail 3 --hang 1 --hang-seconds 4
receiver r2 31081
receiver r3 31082
"$run" --config "$tmp/c.conf" --emit bounced --tenant 1 --until-empty --timeout 60 \
  >"$tmp/run.out" 2>"$tmp/run.err"
check "sender settles after the failures" test $? -eq 0
check "five POSTs, 500 500 500 timeout 200, attempts 1..5, signed" pyq '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert [r["status"] for r in L]==[500,500,500,0,200], [r["status"] for r in L]
assert len({r["id"] for r in L})==1, "one event id"
assert [r["attempt"] for r in L]==["1","2","3","4","5"], [r["attempt"] for r in L]
assert all(r["sig_ok"] for r in L), "signature"
assert all(r["type"]=="bounced" and r["header_event"]=="bounced" for r in L)
d=L[0]["data"]; assert d["code"]==550 and d["cause"]=="recipient_unknown" and d["recipient"]=="r1@example.net", d
assert L[0]["tenant"]=="acme", L[0]["tenant"]
' "$tmp/r1.log"
check "delays grow: 1s base doubling, the timeout counted" pyq '
import json,sys
t=[json.loads(l)["time"] for l in open(sys.argv[1])]
g=[b-a for a,b in zip(t,t[1:])]
print("     gaps:", " ".join("%.1f" % x for x in g))
assert 0.4 <= g[0] <= 2.6, g     # [0.5,1]s, whole seconds, 0.5s polls
assert g[2] >= 1.5, g            # [2,4]s
assert g[3] >= 5.5, g            # 2s timeout + [4,8]s
assert g[3] > g[0] and g[3] > g[1] and g[2] >= g[0], g
assert sum(g) < 30, g
' "$tmp/r1.log"
check "the bounces-only endpoint got the bounce once" pyq '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert [r["status"] for r in L]==[200] and L[0]["type"]=="bounced" and L[0]["sig_ok"], L
' "$tmp/r2.log"
check "outbox empty after 2xx" rc_is 0 "$cp" webhook list --json "${S[@]}"
check "list shows nothing pending" pyq 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["pending"] for x in d]==[0,0,0], d; assert "secret" not in d[0]' "$tmp/out"
check "the other tenant saw nothing" test ! -s "$tmp/r3.log"

# ---- 2. twelve events of six types, receiver failing at first -----------
kill "$r1_pid" "$r2_pid"; wait "$r1_pid" "$r2_pid" 2>/dev/null
rm -f "$tmp/r1.log" "$tmp/r2.log"
receiver r1 31080 --fail 5 --hang 1 --hang-seconds 4
receiver r2 31081 --fail 1
"$run" --config "$tmp/c.conf" --emit delivered,deferred,bounced,complained,provider.cut,provider.recovered \
  --count 2 --tenant 1 --until-empty --timeout 90 >"$tmp/run.out" 2>"$tmp/run.err"
check "sender settles" test $? -eq 0
check "every one of 12 events answered 200 at least once, all signed" pyq '
import json,sys,collections
L=[json.loads(l) for l in open(sys.argv[1])]
ok=collections.Counter(r["type"] for r in L if r["status"]==200)
ids={r["id"] for r in L if r["status"]==200}
assert len(ids)==12, (len(ids), ok)
assert all(ok[t]>=2 for t in ["delivered","deferred","bounced","complained","provider.cut","provider.recovered"]), ok
assert all(r["sig_ok"] and r["type"]==r["header_event"] for r in L)
assert sum(1 for r in L if r["status"]!=200)==6, "5 failures and 1 timeout"
c=[r for r in L if r["type"]=="provider.cut"][0]["data"]
assert c["provider"]=="google" and c["rate_after"]==300 and c["kind"]=="cut", c
m=[r for r in L if r["type"]=="complained"][0]["data"]
assert m["feedback_type"]=="abuse", m
' "$tmp/r1.log"
check "the filtered endpoint: both bounces, nothing else" pyq '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert {r["type"] for r in L}=={"bounced"}, L
assert len({r["id"] for r in L if r["status"]==200})==2, L
' "$tmp/r2.log"
check "the other tenant still saw nothing" test ! -s "$tmp/r3.log"

# ---- 3. kill -9 while POSTs hang; restart delivers ---------------------
kill "$r1_pid"; wait "$r1_pid" 2>/dev/null
rm -f "$tmp/r1.log"
receiver r1 31080 --hang 100 --hang-seconds 30
"$run" --config "$tmp/c.conf" --emit delivered --count 3 --tenant 1 --timeout 120 \
  >"$tmp/run.out" 2>"$tmp/run.err" &
runner=$!
pids+=($runner)
for i in $(seq 100); do
  [ "$(cat "$tmp/r1.log" 2>/dev/null | wc -l)" -ge 3 ] && break; sleep 0.1
done
kill -9 "$runner"; wait "$runner" 2>/dev/null
check "three POSTs were in flight at the kill" test "$(wc -l <"$tmp/r1.log")" -eq 3
"$cp" webhook list --json "${S[@]}" >"$tmp/out"
check "the three wait in the outbox after the kill" pyq 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["pending"]==3, d' "$tmp/out"
kill "$r1_pid"; wait "$r1_pid" 2>/dev/null
ids_before=$(pyq 'import json,sys; print(",".join(sorted(json.loads(l)["id"] for l in open(sys.argv[1]))))' "$tmp/r1.log")
rm -f "$tmp/r1.log"
receiver r1 31080
start=$(date +%s)
"$run" --config "$tmp/c.conf" --until-empty --timeout 60 >"$tmp/run.out" 2>"$tmp/run.err"
check "restarted sender settles" test $? -eq 0
check "restart gave the leases back at once" test $(( $(date +%s) - start )) -lt 30
check "the same three events arrive after the restart" pyq '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
got=",".join(sorted(r["id"] for r in L if r["status"]==200))
assert got==sys.argv[2], (got, sys.argv[2])
assert all(r["sig_ok"] and r["type"]=="delivered" for r in L)
' "$tmp/r1.log" "$ids_before"
check "run said it gave leases back" grep -q "gave back 3 deliveries" "$tmp/run.err"

# ---- 4. the delivery engine's observer feeds webhooks -------------------
seed=$bdir/tests/cp-store-seed
mkdir -p "$tmp/sink"; chmod 777 "$tmp/sink"
/usr/sbin/smtp-sink -u nobody -d "$tmp/sink/%M." 127.0.0.31:31025 100 2>"$tmp/sink.log" &
pids+=($!)
"$py" "$here/tests/lib/receiver.py" --listen 127.0.0.32:31026 --dir "$tmp/smtp2" \
  --pid-file "$tmp/smtp2.pid" --stats "$tmp/smtp2.json" \
  --rule 'rcpt:gone@*=550 5.1.1 The email account that you tried to reach does not exist' \
  --rule 'rcpt:later@*=451 4.7.1 Try again later' 2>"$tmp/smtp2.log" &
pids+=($!)
for i in $(seq 100); do [ -s "$tmp/smtp2.pid" ] && break; sleep 0.1; done
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.31/31025) 2>/dev/null && break; sleep 0.1; done
kill "$r1_pid" "$r2_pid"; wait "$r1_pid" "$r2_pid" 2>/dev/null
rm -f "$tmp/r1.log" "$tmp/r2.log"
receiver r1 31080 --fail 1
receiver r2 31081
"$seed" "$dsn" message 1 ann@ok.test gone@bad.test later@bad.test >/dev/null &&
  "$seed" "$dsn" message 2 zed@ok.test >/dev/null || bad "seed messages"
timeout 90 "$run" --config "$tmp/c.conf" --deliver --until-empty --timeout 60 \
  >"$tmp/run.out" 2>"$tmp/run.err"
check "delivery and webhooks settle" test $? -eq 0
check "delivered, deferred (451) and bounced (550 5.1.1) became webhooks" pyq '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1]) ]
by={}
for r in L:
    if r["status"]==200: by[r["data"]["recipient"]]=r
want={"ann@ok.test","gone@bad.test","later@bad.test"}
assert want <= set(by), sorted(by)
extra=[r for r in L if r["data"]["recipient"] not in want]
assert all(r["type"]=="delivered" and r["data"]["recipient"]=="ann@acme.example" for r in extra), extra  # the DSN
a,g,l=by["ann@ok.test"],by["gone@bad.test"],by["later@bad.test"]
assert a["type"]=="delivered" and a["data"]["code"]==250, a
assert g["type"]=="bounced" and g["data"]["code"]==550 and g["data"]["enhanced"]=="5.1.1", g
assert g["data"].get("cause"), g
assert "does not exist" in g["data"]["reply"], g
assert l["type"]=="deferred" and l["data"]["code"]==451 and l["data"]["next_attempt"]>0, l
assert all(r["sig_ok"] and r["tenant"]=="acme" for r in L)
' "$tmp/r1.log"
check "the bounces-only endpoint got only gone@" pyq '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert [(r["type"], r["data"]["recipient"]) for r in L]==[("bounced","gone@bad.test")], L
' "$tmp/r2.log"
check "tenant beta got its delivery" pyq '
import json,sys
L=[json.loads(l) for l in open(sys.argv[1])]
assert [(r["type"], r["data"]["recipient"], r["tenant"]) for r in L if r["status"]==200]==[("delivered","zed@ok.test","beta")], L
' "$tmp/r3.log"

# ---- 5. the CLI ----------------------------------------------------------
check "test sends a signed test event" rc_is 0 "$cp" webhook test 1 "${S[@]}"
check "test says the status" grep -q "answered 200" "$tmp/out"
check "the receiver got a valid test event" pyq '
import json,sys
r=[json.loads(l) for l in open(sys.argv[1])][-1]
assert r["type"]=="test" and r["sig_ok"] and r["tenant"]=="acme", r
' "$tmp/r1.log"
kill "$r3_pid"; wait "$r3_pid" 2>/dev/null
check "test of a dead endpoint fails (exit 1)" rc_is 1 "$cp" webhook test 3 "${S[@]}"
check "and says why" grep -q "connection refused" "$tmp/err"
check "test --json" rc_is 1 "$cp" webhook test 3 --json "${S[@]}"
check "test --json fields" pyq 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and d["status"]==0 and "refused" in d["error"], d' "$tmp/out"
check "list --tenant beta: one endpoint" rc_is 0 "$cp" webhook list --tenant beta --secrets "${S[@]}"
check "list shows its secret on request" grep -Eq 'secret=whsec_[0-9a-f]{64}' "$tmp/out"
check "list has no acme endpoint" bash -c "! grep -q 31080 '$tmp/out'"
check "rm of another tenant's endpoint: not found" rc_is 1 "$cp" webhook rm 3 --tenant acme "${S[@]}"
check "rm by its tenant" rc_is 0 "$cp" webhook rm 3 --tenant beta "${S[@]}"
check "rm again: not found" rc_is 1 "$cp" webhook rm 3 "${S[@]}"
check "unknown event: exit 1" rc_is 1 "$cp" webhook add --tenant acme http://127.0.0.1:31083/ --events bounce "${S[@]}"
check "says which event" grep -q "unknown event 'bounce'" "$tmp/err"
check "not http(s): exit 1" rc_is 1 "$cp" webhook add --tenant acme ftp://127.0.0.1/ "${S[@]}"
check "unknown tenant: exit 1" rc_is 1 "$cp" webhook add --tenant nope http://127.0.0.1:31083/ "${S[@]}"
check "add without --tenant: exit 2" rc_is 2 "$cp" webhook add http://127.0.0.1:31083/ "${S[@]}"
check "rm without id: exit 2" rc_is 2 "$cp" webhook rm "${S[@]}"
check "rm bad id: exit 2" rc_is 2 "$cp" webhook rm x1 "${S[@]}"
check "unknown subcommand: exit 2" rc_is 2 "$cp" webhook frob
check "--help: exit 0" rc_is 0 "$cp" webhook --help

if [ "$fails" -ne 0 ]; then echo "webhook_delivery: $fails failed"; exit 1; fi
echo "webhook_delivery: all passed"
