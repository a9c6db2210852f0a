#!/usr/bin/env bash
# Proves: the delivery engine (coldpost/deliver.h), run alone on a real
# store by tests/tools/cp_deliver_run.c, delivers over static routes to real
# receivers on loopback: Postfix's smtp-sink and tests/lib/receiver.py
# (aiosmtpd) answering chosen codes.
#  - the receiver sees the tenant's pool address (127.0.0.9) as the client
#    and its EHLO name; a pool of two addresses shares the tenant's mail
#    between them; a tenant without a pool goes from the default source
#    with server.hostname;
#  - recipients of one domain go in one transaction, and many messages share
#    a connection (RSET between), up to delivery.messages_per_connection,
#    with at most delivery.connections_per_destination at once;
#  - the policy hook refuses (550 5.7.1, DSN) or defers recipients;
#  - STARTTLS: opportunistic, plain after a failed handshake, verify and
#    required refuse what they must;
#  - a recipient still undelivered at its expiry expires, with a DSN;
#  - a 451 is deferred, retried on the queue.retry schedule and delivered;
#    the attempts are in the store with code, cause and receiver;
#  - a 550 5.1.1 bounces at once, classified (recipient_unknown), and a DSN
#    (null sender, RFC 3464 report) is queued to the sender and delivered;
#  - with bounce.domain and bounce.verp each recipient gets its own
#    transaction and VERP return path.
# Ports 27020-27039, addresses 127.0.0.5-127.0.0.12.
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
chmod 755 "$tmp"	# smtp-sink writes as nobody
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

mkdir -p "$tmp/sink"
chmod 777 "$tmp/sink"
/usr/sbin/smtp-sink -u nobody -d "$tmp/sink/%M." 127.0.0.5:27025 100 \
  2>"$tmp/sink.log" &
pids+=($!)
receiver() { # name addr:port args...
  local name=$1 listen=$2 i
  shift 2
  "$py" "$here/tests/lib/receiver.py" --listen "$listen" --dir "$tmp/$name" \
    --pid-file "$tmp/$name.pid" --stats "$tmp/$name.json" "$@" \
    2>"$tmp/$name.log" &
  pids+=($!)
  for i in $(seq 100); do [ -s "$tmp/$name.pid" ] && return 0; sleep 0.1; done
  echo "receiver $name did not start"; cat "$tmp/$name.log"; exit 1
}
receiver retry 127.0.0.6:27026 --first 1 --rule 'rcpt:*=451 4.7.1 Try again later'
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.tls.test \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
receiver tls 127.0.0.8:27028 --tls "$tmp/cert.pem,$tmp/key.pem"
receiver failtls 127.0.0.8:27029 --fail-tls --first 1
receiver bounce 127.0.0.7:27027 --rule 'rcpt:nobody@*=550 5.1.1 The email account that you tried to reach does not exist'
for i in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.5/27025) 2>/dev/null && break; sleep 0.1
done

conf() { # retry, extra lines
  local retry=$1; shift
  cat >"$tmp/c.conf" <<EOF
[server]
hostname = relay.test
store = sqlite:$tmp/q.db
[queue]
retry = $retry
[routes]
sink.test = 127.0.0.5:27025
acme.example = 127.0.0.5:27025
retry.test = 127.0.0.6:27026
bounce.test = 127.0.0.7:27027
tls.test = 127.0.0.8:27028
verify.test = 127.0.0.8:27028 tls=verify
failtls.test = 127.0.0.8:27029
required.test = 127.0.0.5:27025 tls=required
dead.test = 127.0.0.8:27030
beta.example = 127.0.0.5:27025
; nothing else may look for MX records in real DNS
* = 127.0.0.8:27030
$*
EOF
}
conf 1s "[delivery]
connections_per_destination = 1
messages_per_connection = 10"
S=(--config "$tmp/c.conf")
"$cp" tenant add acme "${S[@]}" >/dev/null &&
  "$cp" tenant add beta "${S[@]}" >/dev/null &&
  "$cp" pool add acme 127.0.0.9 --ehlo out9.acme.test "${S[@]}" >/dev/null &&
  "$cp" tenant add gamma "${S[@]}" >/dev/null &&
  "$cp" pool add gamma 127.0.0.11 --ehlo o11.gamma.test "${S[@]}" >/dev/null &&
  "$cp" pool add gamma 127.0.0.12 --ehlo o12.gamma.test "${S[@]}" >/dev/null ||
  { echo "FAIL store setup"; exit 1; }

sink_count() { ls "$tmp/sink" | wc -l; }
field() { sed -n "s/^$1=\\([^ ]*\\).*/\\1/p; s/.* $1=\\([^ ]*\\).*/\\1/p" "$tmp/run.out" | head -1; }

# ---- pool source, EHLO, one transaction per domain, connection reuse
eng "${S[@]}" --push 30 --tenant 1 --from ann@acme.example \
  --rcpt a@sink.test --rcpt b@sink.test --timeout 30 >"$tmp/run.out" 2>"$tmp/run.err"
check "30 messages, 60 recipients delivered" grep -q "^delivered=60 " "$tmp/run.out"
check "30 files at the sink" test "$(sink_count)" -eq 30
check "client address is the pool's 127.0.0.9" \
  test "$(grep -l '^X-Client-Addr: 127.0.0.9$' "$tmp"/sink/* | wc -l)" -eq 30
check "EHLO name is the pool's" \
  test "$(grep -l '^X-Helo-Args: out9.acme.test$' "$tmp"/sink/* | wc -l)" -eq 30
check "both recipients in one transaction" \
  test "$(grep -c '^X-Rcpt-Args:' "$(ls "$tmp"/sink/* | head -1)")" -eq 2
conns=$(field connections)
check "30 messages over 3 connections, one at a time, 10 each: $conns" test "${conns:-99}" -eq 3
check "log line per attempt" grep -q 'rcpt=<a@sink.test> mx=127.0.0.5 ip=127.0.0.9 status=sent code=250' "$tmp/run.err"
rm -f "$tmp"/sink/*

# ---- a tenant without a pool: default source, server.hostname
eng "${S[@]}" --push 1 --tenant 2 --from bob@beta.example \
  --rcpt c@sink.test --timeout 20 >"$tmp/run.out" 2>"$tmp/run.err"
f=$(ls "$tmp"/sink/* 2>/dev/null | head -1)
check "no pool: EHLO server.hostname" grep -q '^X-Helo-Args: relay.test$' "${f:-/dev/null}"
check "no pool: not the other tenant's address" \
  bash -c "! grep -q '^X-Client-Addr: 127.0.0.9$' '${f:-/dev/null}'"
rm -f "$tmp"/sink/*

# ---- a pool of two addresses: the tenant's mail is spread over both, each
# address with its own EHLO name
eng "${S[@]}" --push 10 --tenant 3 --from gil@gamma.example \
  --rcpt g@sink.test --timeout 20 >"$tmp/run.out" 2>"$tmp/run.err"
n11=$(grep -l '^X-Client-Addr: 127.0.0.11$' "$tmp"/sink/* 2>/dev/null | xargs -r grep -l '^X-Helo-Args: o11.gamma.test$' | wc -l)
n12=$(grep -l '^X-Client-Addr: 127.0.0.12$' "$tmp"/sink/* 2>/dev/null | xargs -r grep -l '^X-Helo-Args: o12.gamma.test$' | wc -l)
check "pool of two: 5 + 5 messages, each address with its EHLO ($n11 + $n12)" \
  test "$n11" -eq 5 -a "$n12" -eq 5
rm -f "$tmp"/sink/*

# ---- 451, retried after queue.retry (1s), then delivered
eng "${S[@]}" --push 1 --tenant 1 --from ann@acme.example \
  --rcpt x@retry.test --until-final --timeout 30 >"$tmp/run.out" 2>"$tmp/run.err"
check "451 deferred then delivered" grep -q "^delivered=1 deferred=1 " "$tmp/run.out"
check "retried message at the receiver" test "$(ls "$tmp/retry" | wc -l)" -eq 1
msg=$(grep -o 'id=[0-9]* rcpt=<x@retry.test>' "$tmp/run.err" | head -1 | sed 's/id=\([0-9]*\).*/\1/')
"$cp" queue show "${msg:-0}" "${S[@]}" --json >"$tmp/show.json" 2>>"$tmp/run.err"
check "store: delivered after 2 attempts, 451 recorded with its cause" "$py" -c "
import json; d = json.load(open('$tmp/show.json'))
r = d['recipients'][0]; a = d['attempts']
assert r['state'] == 'delivered' and r['attempts'] == 2, r
assert [x['outcome'] for x in a] == ['delivered', 'deferred'], a
assert a[1]['code'] == 451 and a[1]['enhanced'] == '4.7.1' and a[1]['cause'], a[1]
assert a[1]['mx'] == '127.0.0.6' and a[1]['source_ip'] == '127.0.0.9', a[1]
"

# ---- 550 5.1.1: bounced at once, classified, DSN to the sender delivered
eng "${S[@]}" --push 1 --tenant 1 --from ann@acme.example \
  --rcpt nobody@bounce.test --until-final --timeout 30 >"$tmp/run.out" 2>"$tmp/run.err"
check "550 bounced, one DSN" grep -q "^delivered=1 deferred=0 bounced=1 expired=0 dsns=1 " "$tmp/run.out"
msg=$(grep -o 'id=[0-9]* rcpt=<nobody@bounce.test>' "$tmp/run.err" | head -1 | sed 's/id=\([0-9]*\).*/\1/')
"$cp" queue show "${msg:-0}" "${S[@]}" --json >"$tmp/show.json" 2>>"$tmp/run.err"
check "store: bounced, cause recipient_unknown, attempt with code 550" "$py" -c "
import json; d = json.load(open('$tmp/show.json'))
r = d['recipients'][0]; a = d['attempts'][0]
assert r['state'] == 'bounced' and r['last_cause'] == 'recipient_unknown', r
assert a['code'] == 550 and a['enhanced'] == '5.1.1' and a['receiver'], a
"
f=$(grep -l '^X-Rcpt-Args: <ann@acme.example>' "$tmp"/sink/* 2>/dev/null | head -1)
check "DSN delivered to the sender with the null sender" grep -q '^X-Mail-Args: <>' "${f:-/dev/null}"
check "DSN is a delivery-status report for the recipient" \
  bash -c "grep -qi 'Final-Recipient: rfc822; *nobody@bounce.test' '${f:-/dev/null}' &&
           grep -qi '^Status: 5.1.1' '${f:-/dev/null}'"
rm -f "$tmp"/sink/*

# ---- VERP: one transaction per recipient, each with its own return path
conf 1s "[bounce]
domain = bounces.relay.test
verp = on"
eng "${S[@]}" --push 1 --tenant 1 --from ann@acme.example \
  --rcpt a@sink.test --rcpt b@sink.test --timeout 20 >"$tmp/run.out" 2>"$tmp/run.err"
check "VERP: two transactions" test "$(sink_count)" -eq 2
check "VERP: return paths b-+ID-TAG@bounces.relay.test, distinct" bash -c "
  test \$(grep -h '^X-Mail-Args:' '$tmp'/sink/* | grep -c '<b-+[0-9]*-[0-9a-f]\{8\}@bounces.relay.test>') -eq 2 &&
  test \$(grep -h '^X-Mail-Args:' '$tmp'/sink/* | sort -u | wc -l) -eq 2"

rm -f "$tmp"/sink/*

# ---- the policy hook: asked before each recipient goes out
eng "${S[@]}" --push 1 --tenant 1 --from bob@beta.example \
  --rcpt ok@sink.test --rcpt x@acme.example --rcpt y@retry.test \
  --policy-refuse acme.example --policy-defer retry.test \
  --timeout 20 >"$tmp/run.out" 2>"$tmp/run.err"
check "policy: 1 sent, 1 refused (bounced, DSN sent), 1 deferred" \
  grep -q "^delivered=2 deferred=1 bounced=1 expired=0 dsns=1 " "$tmp/run.out"
check "policy refusal recorded as 550 5.7.1 with its reason" \
  grep -q 'rcpt=<x@acme.example> .*status=bounced code=550 dsn=5.7.1 .*suppression list' "$tmp/run.err"
check "policy deferral recorded with its reason" \
  grep -q 'rcpt=<y@retry.test> .*status=deferred code=451 .*daily cap reached' "$tmp/run.err"
check "policy: nothing reached the refused or deferred receivers" \
  bash -c "test \$(grep -l 'X-Rcpt-Args: <ok@sink.test>' '$tmp'/sink/* | wc -l) -eq 1 &&
           test \$(ls '$tmp'/sink | wc -l) -eq 2 && test \$(ls '$tmp'/retry | wc -l) -eq 1"
rm -f "$tmp"/sink/*

# ---- STARTTLS: opportunistic used when offered, falls back to plain when
# the handshake fails; verify refuses a self-signed certificate; required
# defers when the server offers no STARTTLS
conf 1h ""
eng "${S[@]}" --push 1 --tenant 1 --from ann@acme.example \
  --rcpt a@tls.test --rcpt b@failtls.test --rcpt c@verify.test --rcpt d@required.test \
  --timeout 30 >"$tmp/run.out" 2>"$tmp/run.err"
check "TLS: 2 delivered, 2 deferred" grep -q "^delivered=2 deferred=2 " "$tmp/run.out"
check "opportunistic STARTTLS used" \
  bash -c "grep -q '^X-TLS: TLS' '$tmp'/tls/* && ! grep -q '^X-TLS: no' '$tmp'/tls/*"
check "failed handshake: delivered in the clear on a new connection" \
  grep -q '^X-TLS: no' "$tmp"/failtls/*
check "tls=verify: self-signed certificate deferred" \
  grep -q 'rcpt=<c@verify.test> .*status=deferred.*certificate' "$tmp/run.err"
check "tls=required: no STARTTLS offered, deferred 4.7.4" \
  grep -q 'rcpt=<d@required.test> .*status=deferred code=421 dsn=4.7.4' "$tmp/run.err"

# ---- expiry: a recipient that cannot be delivered before it expires is
# expired (not lost) and its sender gets a DSN
conf 1s ""
eng "${S[@]}" --push 1 --tenant 1 --from ann@acme.example --expires 3 \
  --rcpt z@dead.test --until-final --timeout 40 >"$tmp/run.out" 2>"$tmp/run.err"
check "expired after retries, DSN sent" grep -q "^delivered=1 .* expired=1 dsns=1 " "$tmp/run.out"
f=$(grep -l '^X-Rcpt-Args: <ann@acme.example>' "$tmp"/sink/* 2>/dev/null | head -1)
check "expiry DSN delivered from the null sender" grep -q '^X-Mail-Args: <>' "${f:-/dev/null}"
check "expiry DSN names the recipient" grep -qi 'Final-Recipient: rfc822; *z@dead.test' "${f:-/dev/null}"

sleep 0.2
check "no sanitizer report from the engine" \
  bash -c "! grep -q 'Sanitizer\|runtime error' '$tmp/all.err'"

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
