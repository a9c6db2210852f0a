#!/usr/bin/env bash
# Proves: a 5xx ends a recipient at once and its mailbox is told. A
# Gmail-like receiver (receiver.py) refuses one recipient at RCPT with
# Gmail's multi-line 550 5.1.1 text and accepts the other; a second
# receiver refuses a message at the final dot (554 5.7.1, spam). Each
# refused recipient is bounced after one attempt (no retry), the accepted
# one delivered, and an RFC 3464 DSN reaches the sender's mailbox domain
# (its own receiver): null envelope sender, multipart/report with the
# recipient's Final-Recipient, Action: failed, Status, Remote-MTA and the
# receiver's words in Diagnostic-Code, a human part, the original header.
# No DSN for the delivered recipient. Real client: Python smtplib.
# Ports 28290-28309; addresses 127.0.0.21, 127.0.0.46-48.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/relay.sh"
relay_init

relay_tenant acme acme.test ann@acme.test 'pw-ann-6626' 127.0.0.21:out1.acme.test
relay_set listen.submission 127.0.0.1:28290
relay_set queue.retry 1s,2s
relay_route gmail.test "127.0.0.46:28291"
relay_route spamcheck.test "127.0.0.47:28292"
relay_route acme.test "127.0.0.48:28293"
relay_receiver gmail 127.0.0.46:28291 --hostname mx.google.test \
  --banner "ESMTP a1si1 - gsmtp" \
  --rule 'rcpt:nobody@gmail.test=550 5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 double-checking the recipient'"'"'s email address for typos or\n5.1.1 unnecessary spaces. For more information, go to\n5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si1 - gsmtp'
relay_receiver spam 127.0.0.47:28292 \
  --rule 'data:*=554 5.7.1 Message rejected as spam by Content Filtering.'
relay_receiver home 127.0.0.48:28293
relay_start_or_exit

out=$(relay_send_py --server 127.0.0.1:28290 --starttls --user ann@acme.test \
  --password 'pw-ann-6626' --from ann@acme.test \
  --to nobody@gmail.test,somebody@gmail.test --subject "Partnership" --prefix b1 2>&1) || true
q1=$(relay_qid "$out")
relay_check "message to gmail.test accepted ($out)" test -n "$q1"
out=$(relay_send_py --server 127.0.0.1:28290 --starttls --user ann@acme.test \
  --password 'pw-ann-6626' --from ann@acme.test --to x@spamcheck.test \
  --subject "Limited offer" --prefix b2 2>&1) || true
q2=$(relay_qid "$out")
relay_check "message to spamcheck.test accepted" test -n "$q2"

relay_check "the good recipient delivered" relay_wait_files gmail 1 30
relay_check "two DSNs reach the sender's domain" relay_wait_files home 2 40
sleep 3
relay_check "exactly two DSNs" test "$(relay_files home)" -eq 2
relay_check "gmail got only the accepted recipient" bash -c \
  "! grep -h '^X-Rcpt-To:' $RELAY_DIR/rcv/gmail/mail/*.eml | grep -q nobody"

d1=$(grep -l 'nobody@gmail.test' "$RELAY_DIR"/rcv/home/mail/*.eml | head -1 || true)
d2=$(grep -l 'x@spamcheck.test' "$RELAY_DIR"/rcv/home/mail/*.eml | head -1 || true)
relay_check "DSN for the 550 at RCPT: RFC 3464 fields" "$PY" "$here/tests/lib/dsn_check.py" \
  "${d1:-/nonexistent}" mail_from=\<\> rcpt=ann@acme.test groups=1 final=nobody@gmail.test \
  action=failed status=5.1.1 'diag~=The email account that you tried to reach does not exist' \
  'diag~=550' 'text~=nobody@gmail.test' 'headers~=Subject: Partnership'
relay_check "DSN for the 554 at the final dot" "$PY" "$here/tests/lib/dsn_check.py" \
  "${d2:-/nonexistent}" mail_from=\<\> rcpt=ann@acme.test groups=1 final=x@spamcheck.test \
  action=failed status=5.7.1 'diag~=rejected as spam' 'headers~=Subject: Limited offer'
relay_check "DSN leaves from the tenant's address" grep -q '^X-Peer: 127.0.0.21' "${d1:-/nonexistent}"

states() {
  relay_json "$(relay_queue_json "$q1")" \
    "sorted((r['address'], r['state']) for r in j['recipients']) == [('nobody@gmail.test', 'bounced'), ('somebody@gmail.test', 'delivered')]"
}
relay_check "queue: nobody bounced, somebody delivered" relay_wait states 10
j=$(relay_queue_json "$q1") || true
relay_check "queue: the bounce tried once, 550 recorded with a cause" relay_json "$j" "
rid = [r['id'] for r in j['recipients'] if r['address'] == 'nobody@gmail.test'][0]
at = [a for a in j['attempts'] if a['rcpt'] == rid]
len(at) == 1 and at[0]['code'] == 550 and at[0]['outcome'] == 'bounced' and at[0]['cause'] and 'NoSuchUser' in at[0]['reply']"
j=$(relay_queue_json "$q2") || true
relay_check "queue: the spam refusal bounced with a cause" relay_json "$j" "
j['recipients'][0]['state'] == 'bounced' and j['attempts'][-1]['code'] == 554 and j['attempts'][-1]['cause']"

stop_rc=0
relay_stop 30 || stop_rc=$?
relay_check "serve drains and exits 0 on SIGTERM (got $stop_rc)" test "$stop_rc" -eq 0
relay_summary relay_e2e_bounce
