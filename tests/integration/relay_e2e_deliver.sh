#!/usr/bin/env bash
# Proves: `coldpost serve` takes mail from real clients (swaks with
# STARTTLS + AUTH on the submission port; Python smtplib with implicit TLS
# + AUTH on the submissions port) and delivers it to real receivers:
# receiver.py as a Gmail-like server reached by a static route (with
# opportunistic STARTTLS outbound), receiver.py as a Microsoft-like server
# found through MX records served by Knot (delivery.mx_port), MX fallback
# to the second preference when the first does not answer, implicit MX (A
# record only), null MX (RFC 7505: bounced, never tried), and Postfix's
# smtp-sink. Every message leaves from the tenant's dedicated address
# (127.0.0.21) with its EHLO name (X-Peer/X-Helo at the receiver), carries
# a DKIM signature that dkimpy verifies with the key published in DNS, a
# Received field, no Bcc; `coldpost queue show --json` records each
# attempt with its source address, receiver and outcome.
# Ports 28210-28229; addresses 127.0.0.21, 127.0.0.31-36, 127.0.0.62.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/dns_server.sh"
source "$here/tests/lib/relay.sh"
relay_init

relay_tenant acme acme.test ann@acme.test 'pw-ann-2718' 127.0.0.21:out1.acme.test
mx_port=28215
cat >"$RELAY_DIR/outlook.test.zone" <<Z
@ MX 10 mx1.outlook.test.
mx1 A 127.0.0.32
Z
cat >"$RELAY_DIR/fallback.test.zone" <<Z
@ MX 10 dead.fallback.test.
@ MX 20 live.fallback.test.
dead A 127.0.0.33
live A 127.0.0.34
Z
cat >"$RELAY_DIR/implicit.test.zone" <<Z
@ A 127.0.0.35
Z
cat >"$RELAY_DIR/nullmx.test.zone" <<Z
@ MX 0 .
Z
relay_zone_dkim acme.test >"$RELAY_DIR/acme.test.zone"
dns_server_start 127.0.0.62 28219 "$RELAY_DIR"/*.zone
RELAY_DNS=$DNS_SERVER_SPEC
RELAY_DKIM_DNS=$DNS_SERVER_SPEC

relay_set listen.submission 127.0.0.1:28210
relay_set listen.submissions 127.0.0.1:28212
relay_set delivery.mx_port $mx_port
relay_set delivery.tls none
relay_route gmail.test "127.0.0.31:28211 tls=opportunistic"
relay_route sink.test "127.0.0.36:28216"
relay_receiver gmail 127.0.0.31:28211 --tls "$RELAY_CERT,$RELAY_KEY" \
  --hostname mx.google.test --banner "ESMTP a1si1 - gsmtp" \
  --accept "250 2.0.0 OK  1764300000 a1si{id} - gsmtp"
relay_receiver outlook 127.0.0.32:$mx_port \
  --hostname mx1.outlook.test --banner "Microsoft ESMTP MAIL Service ready" \
  --accept "250 2.6.0 <{id}@outlook.test> [InternalId=1] Queued mail for delivery"
relay_receiver fallback 127.0.0.34:$mx_port
relay_receiver implicit 127.0.0.35:$mx_port
relay_sink sink 127.0.0.36:28216
relay_start_or_exit

# swaks: STARTTLS + AUTH on the submission port
out=$(swaks --server 127.0.0.1:28210 -tls --auth PLAIN \
  --auth-user ann@acme.test --auth-password 'pw-ann-2718' \
  --from ann@acme.test --to bob@gmail.test --h-Subject "Quarterly numbers" \
  --body "Hello Bob" 2>&1) || { echo "swaks failed:"; echo "$out"; }
q1=$(relay_qid "$out")
relay_check "swaks STARTTLS+AUTH accepted with a queue id" test -n "$q1"

# smtplib: implicit TLS + AUTH, two recipients and a Bcc
out=$(relay_send_py --server 127.0.0.1:28212 --ssl --user ann@acme.test \
  --password 'pw-ann-2718' --from ann@acme.test \
  --to carol@outlook.test,erin@fallback.test --bcc dave@outlook.test \
  --prefix py 2>&1) || true
q2=$(relay_qid "$out")
relay_check "smtplib implicit TLS+AUTH accepted ($out)" test -n "$q2"
out=$(relay_send_py --server 127.0.0.1:28212 --ssl --user ann@acme.test \
  --password 'pw-ann-2718' --from ann@acme.test \
  --to frank@implicit.test,gina@nullmx.test,hal@sink.test --prefix py2 2>&1) || true
q3=$(relay_qid "$out")
relay_check "second smtplib message accepted" test -n "$q3"

relay_check "delivered to the Gmail-like receiver" relay_wait_files gmail 1 30
relay_check "delivered to the MX of outlook.test" relay_wait_files outlook 1 30
relay_check "MX fallback: delivered to the second preference" relay_wait_files fallback 1 30
relay_check "implicit MX: delivered to the A record" relay_wait_files implicit 1 30
relay_check "delivered to smtp-sink" relay_wait "grep -q 'X-Test-Id: py2-0' '$RELAY_DIR/sink/sink/dump'" 30

g=$RELAY_DIR/rcv/gmail/mail/000001.eml
relay_check "gmail: from the dedicated IP 127.0.0.21" grep -q '^X-Peer: 127.0.0.21' "$g"
relay_check "gmail: EHLO is the pool's name" grep -q '^X-Helo: out1.acme.test' "$g"
relay_check "gmail: STARTTLS used outbound (route tls=opportunistic)" grep -q '^X-TLS: TLSv1' "$g"
relay_check "gmail: envelope sender is the mailbox" grep -q '^X-Mail-From: ann@acme.test' "$g"
relay_check "gmail: Received field added" grep -q '^Received: ' "$g"
relay_check "gmail: DKIM verified by dkimpy (key from DNS)" relay_dkim_verify "$g"
relay_check "gmail: DKIM d=acme.test" grep -Eq 'd=acme\.test' "$g"

o=$(grep -ls "X-Test-Id: py-0" "$RELAY_DIR"/rcv/outlook/mail/*.eml | head -1 || true); o=${o:-/nonexistent}
relay_check "outlook: from 127.0.0.21" grep -q '^X-Peer: 127.0.0.21' "$o"
relay_check "outlook: DKIM verified by dkimpy" relay_dkim_verify "$o"
relay_check "outlook: Bcc removed from the header" bash -c "! grep -qi '^Bcc:' $RELAY_DIR/rcv/outlook/mail/*.eml"
relay_check "outlook: the Bcc recipient got it" relay_wait "cat $RELAY_DIR/rcv/outlook/mail/*.eml | grep -q '^X-Rcpt-To: dave@outlook.test'" 20
relay_check "fallback: from 127.0.0.21" grep -q '^X-Peer: 127.0.0.21' "$RELAY_DIR"/rcv/fallback/mail/000001.eml
relay_check "sink: from 127.0.0.21" relay_wait "grep -q '127.0.0.21' '$RELAY_DIR/sink/sink/dump'" 5

# the queue's record of it
q1_delivered() {
  relay_json "$(relay_queue_json "$q1")" "j['recipients'][0]['state'] == 'delivered'"
}
nullmx_bounced() {
  relay_json "$(relay_queue_json "$q3")" \
    "[r['state'] for r in j['recipients'] if r['address'] == 'gina@nullmx.test'] == ['bounced']"
}
relay_check "queue show: gmail recipient delivered" relay_wait q1_delivered 20
j=$(relay_queue_json "$q1" 2>&1) || true
relay_check "queue show: the attempt names source IP, MX, code, reply" relay_json "$j" \
  "any(a['source_ip'] == '127.0.0.21' and a['code'] == 250 and '127.0.0.31' in (a['mx'] or '') and 'gsmtp' in (a['reply'] or '') for a in j['attempts'])"
relay_check "null MX: bounced" relay_wait nullmx_bounced 20
j=$(relay_queue_json "$q3" 2>&1) || true
relay_check "null MX: the reply says so (RFC 7505 5.1.10 / null MX)" relay_json "$j" \
  "any(r['address'] == 'gina@nullmx.test' and ('null' in (r['last_reply'] or '').lower() or '5.1.10' in (r['last_reply'] or '') + (r['last_enhanced'] or '')) for r in j['recipients'])"
relay_check "null MX: one attempt, no server contacted for it" relay_json "$j" "
rid = [r['id'] for r in j['recipients'] if r['address'] == 'gina@nullmx.test'][0]
at = [a for a in j['attempts'] if a['rcpt'] == rid]
len(at) == 1 and at[0]['mx'] == '' and at[0]['outcome'] == 'bounced'"
relay_check "implicit MX: the attempt went to the domain's own address" relay_json "$j" \
  "any(a['mx'] == 'implicit.test' and a['code'] == 250 for a in j['attempts'])"
j=$(relay_queue_json "$q2" 2>&1) || true
relay_check "queue show: the Microsoft-like reply recorded" relay_json "$j" \
  "any('Queued mail for delivery' in (a['reply'] or '') and a['mx'] == 'mx1.outlook.test' for a in j['attempts'])"
relay_check "MX fallback: delivered by the preference-20 host" relay_json "$j" \
  "any(a['mx'] == 'live.fallback.test' and a['code'] == 250 for a in j['attempts'])"

stop_rc=0
relay_stop 30 || stop_rc=$?
relay_check "serve drains and exits 0 on SIGTERM (got $stop_rc)" test "$stop_rc" -eq 0
relay_summary relay_e2e_deliver
