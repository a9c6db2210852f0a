#!/usr/bin/env bash
# Proves: a recipient that only ever gets 4xx is retried on the
# queue.retry schedule until queue.expiry (1m, the shortest allowed), then
# expires, and its mailbox gets an RFC 3464 DSN (Action: failed, the last
# 4xx status and the receiver's words). Meanwhile its attempts are in the
# queue, deferred with a cause. A second recipient of the same message at
# a good receiver is delivered and not reported. Real client: swaks.
# Takes about 75 s. Ports 28310-28329; addresses 127.0.0.21, 127.0.0.49-50.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/relay.sh"
relay_init

relay_tenant acme acme.test ann@acme.test 'pw-ann-1414' 127.0.0.21:out1.acme.test
relay_set listen.submission 127.0.0.1:28310
relay_set queue.retry 2s,5s
relay_set queue.expiry 1m
relay_route outlook.test "127.0.0.49:28311"
relay_route acme.test "127.0.0.50:28312"
relay_route ok.test "127.0.0.50:28312"
relay_receiver outlook 127.0.0.49:28311 --hostname mail.protection.outlook.test \
  --rule 'rcpt:*=451 4.7.650 The mail server [127.0.0.21] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster'
relay_receiver home 127.0.0.50:28312
relay_start_or_exit

t0=$(date +%s)
out=$(swaks --server 127.0.0.1:28310 -tls --auth PLAIN --auth-user ann@acme.test \
  --auth-password 'pw-ann-1414' --from ann@acme.test \
  --to never@outlook.test,fine@ok.test --h-Subject "Expiring" 2>&1) || true
q=$(relay_qid "$out")
relay_check "accepted" test -n "$q"

deferred_twice() {
  relay_json "$(relay_queue_json "$q")" "
r = [x for x in j['recipients'] if x['address'] == 'never@outlook.test'][0]
at = [a for a in j['attempts'] if a['rcpt'] == r['id']]
r['state'] == 'deferred' and len(at) >= 2 and all(a['code'] == 451 and a['outcome'] == 'deferred' and a['cause'] for a in at)"
}
relay_check "retried: deferred attempts with the 451 and a cause" relay_wait deferred_twice 20
relay_check "the other recipient delivered meanwhile" relay_wait \
  "grep -qs '^X-Rcpt-To: fine@ok.test' $RELAY_DIR/rcv/home/mail/000001.eml" 20
dsn_file() { grep -ls '^X-Rcpt-To: ann@acme.test' "$RELAY_DIR"/rcv/home/mail/*.eml | head -1; }
relay_check "DSN after expiry reaches the mailbox's domain" relay_wait '[ -n "$(dsn_file)" ]' 120
t1=$(date +%s)
relay_check "not before the expiry ($((t1 - t0)) s after submission)" test $((t1 - t0)) -ge 55
d=$(dsn_file || true)
relay_check "the DSN says failed, with the last reply" "$PY" "$here/tests/lib/dsn_check.py" \
  "${d:-/nonexistent}" mail_from=\<\> rcpt=ann@acme.test groups=1 final=never@outlook.test \
  action=failed 'diag~=temporarily rate limited' 'text~=never@outlook.test' 'headers~=Subject: Expiring'
expired() {
  relay_json "$(relay_queue_json "$q")" "
sorted((r['address'], r['state']) for r in j['recipients']) == [('fine@ok.test', 'delivered'), ('never@outlook.test', 'expired')]"
}
relay_check "queue: expired and delivered" relay_wait expired 10
n=$(relay_stat outlook rejected.rcpt)
relay_check "retried several times on the schedule ($n attempts in 1m)" test "$n" -ge 5
sleep 3
relay_check "one DSN only" test "$(grep -ls '^X-Rcpt-To: ann@acme.test' "$RELAY_DIR"/rcv/home/mail/*.eml | wc -l)" -eq 1

stop_rc=0
relay_stop 30 || stop_rc=$?
relay_check "serve drains and exits 0 on SIGTERM (got $stop_rc)" test "$stop_rc" -eq 0
relay_summary relay_e2e_expiry
