#!/usr/bin/env bash
# Proves: a receiver that misbehaves gets the message again later, and the
# message is never lost: one that drops the line in the middle of DATA,
# one that says nothing after the final dot for longer than
# delivery.data_timeout, one that answers 421 twice (Microsoft's text), one
# whose TLS handshake breaks (route tls=required, then a good handshake),
# and one offering STARTTLS that breaks under opportunistic TLS. Each is
# delivered in the end (retry schedule 1s,2s), and `coldpost queue show
# --json` lists every attempt: the failed ones deferred with a cause, then
# the delivery, all with the receiver's address. Real client: swaks.
# Ports 28270-28289; addresses 127.0.0.21, 127.0.0.41-45.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/relay.sh"
relay_init

relay_tenant acme acme.test ann@acme.test 'pw-ann-1123' 127.0.0.21:out1.acme.test
relay_set listen.submission 127.0.0.1:28270
relay_set delivery.data_timeout 3s
relay_set delivery.command_timeout 5s
relay_set queue.retry 1s,2s
relay_route drop.test "127.0.0.41:28271"
relay_route slow.test "127.0.0.42:28272"
relay_route busy.test "127.0.0.43:28273"
relay_route tls.test "127.0.0.44:28274 tls=required"
relay_route tlsopp.test "127.0.0.45:28275 tls=opportunistic"
relay_receiver drop 127.0.0.41:28271 --drop-mid-data --first 1
relay_receiver slow 127.0.0.42:28272 --delay-data 8 --first 1
relay_receiver busy 127.0.0.43:28273 --first 2 \
  --hostname mail.protection.outlook.test \
  --rule 'data:*=421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing transmission channel' \
  --accept "250 2.6.0 <{id}@outlook.test> Queued mail for delivery"
relay_receiver tls 127.0.0.44:28274 --tls "$RELAY_CERT,$RELAY_KEY" --fail-tls --first 1
relay_receiver tlsopp 127.0.0.45:28275 --tls "$RELAY_CERT,$RELAY_KEY" --fail-tls --first 1
relay_start_or_exit

declare -A qid=()
body=$(seq -f 'line %g of a message long enough to be cut in the middle' 1 400)
for d in drop slow busy tls tlsopp; do
  out=$(swaks --server 127.0.0.1:28270 -tls --auth PLAIN --auth-user ann@acme.test \
    --auth-password 'pw-ann-1123' --from ann@acme.test --to "rcpt@$d.test" \
    --h-Subject "retry $d" --h-X-Test-Id "retry-$d" --body "$body" 2>&1) || true
  qid[$d]=$(relay_qid "$out")
  relay_check "$d: accepted" test -n "${qid[$d]}"
done

for d in drop slow busy tls tlsopp; do
  relay_check "$d: delivered in the end" relay_wait_files "$d" 1 60
done
relay_check "drop: the receiver did drop the line once" test "$(relay_stat drop dropped)" -eq 1
relay_check "slow: the receiver stayed silent once, the client left" \
  test "$(relay_stat slow delayed_abandoned)" -eq 1
relay_check "busy: answered 421 twice" test "$(relay_stat busy rejected.data)" -eq 2
relay_check "tls: one broken handshake" test "$(relay_stat tls tls_failed)" -eq 1
relay_check "tls: delivered over TLS on the retry (tls=required)" \
  grep -q '^X-TLS: TLSv1' "$RELAY_DIR/rcv/tls/mail/000001.eml"
relay_check "tlsopp: one broken handshake" test "$(relay_stat tlsopp tls_failed)" -eq 1
for d in drop slow busy tls tlsopp; do
  relay_check "$d: the whole message arrived" grep -q 'line 400 of a message' \
    "$RELAY_DIR/rcv/$d/mail/000001.eml"
  relay_check "$d: from the dedicated IP" grep -q '^X-Peer: 127.0.0.21' \
    "$RELAY_DIR/rcv/$d/mail/000001.eml"
done

# the queue's account of it
done_in_queue() { # domain
  relay_json "$(relay_queue_json "${qid[$1]}")" "j['recipients'][0]['state'] == 'delivered'"
}
for d in drop slow busy tls tlsopp; do
  relay_check "$d: delivered in the queue" relay_wait "done_in_queue $d" 20
done
attempts_ok() { # domain, minimum failed attempts, python condition on the failed ones
  local j
  j=$(relay_queue_json "${qid[$1]}") || return 1
  relay_json "$j" "
fails = [a for a in j['attempts'] if a['code'] != 250]
oks = [a for a in j['attempts'] if a['code'] == 250]
good = all(a['outcome'] == 'deferred' and a['cause'] and a['mx'] for a in fails)
ordered = all(a['time'] <= b['time'] for a in fails for b in oks)
len(fails) >= $2 and len(oks) >= 1 and good and ordered and ($3)"
}
relay_check "drop: attempt deferred with a cause, then delivered" attempts_ok drop 1 True
relay_check "slow: attempt deferred (data timeout), then delivered" attempts_ok slow 1 True
relay_check "busy: two 421 attempts recorded with the reply and a receiver" attempts_ok busy 2 \
  "sum(1 for a in fails if a['code'] == 421 and 'concurrent server connections' in a['reply'] and a['receiver']) == 2"
relay_check "tls: failed handshake deferred, then delivered" attempts_ok tls 1 True
j=$(relay_queue_json "${qid[tlsopp]}") || true
relay_check "tlsopp: delivered (in clear after the failed handshake, or on retry)" \
  relay_json "$j" "any(a['code'] == 250 for a in j['attempts'])"

stop_rc=0
relay_stop 30 || stop_rc=$?
relay_check "serve drains and exits 0 on SIGTERM (got $stop_rc)" test "$stop_rc" -eq 0
relay_summary relay_e2e_retry
