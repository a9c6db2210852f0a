#!/usr/bin/env bash
# Proves: `coldpost serve` is no open relay and checks who sends as whom,
# with a real client (swaks): without AUTH nothing is relayed (to an
# outside domain, to the tenant's own domain, on the STARTTLS port and on
# the implicit-TLS port); AUTH is not offered before TLS; a wrong password
# is refused; an authenticated mailbox may not use another MAIL FROM (nor
# another address of its domain unless it has --send-as-domain); only the
# one allowed message reaches the receiver. Then submission.trusted_networks
# set to loopback and reloaded with SIGHUP lets a trusted client relay for a
# domain the store knows, still not for an unknown sender domain.
# Ports 28230-28249; addresses 127.0.0.21, 127.0.0.37.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/relay.sh"
relay_init

relay_tenant acme acme.test ann@acme.test 'pw-ann-31415' 127.0.0.21:out1.acme.test
relay_mailbox acme sales@acme.test 'pw-sales-1618' --send-as-domain
relay_set listen.submission 127.0.0.1:28230
relay_set listen.submissions 127.0.0.1:28232
relay_set submission.trusted_networks ""
relay_route '*' "127.0.0.37:28231"
relay_receiver world 127.0.0.37:28231
relay_start_or_exit

sw() { # swaks args...; output in $out, status in $rc
  rc=0
  out=$(swaks --server 127.0.0.1:28230 --timeout 10 --h-Subject relaytest \
    "$@" 2>&1) || rc=$?
}
refused() { # pattern: swaks failed and the refusal matches pattern
  if [ "$rc" -ne 0 ] && grep -Eq "$1" <<<"$out"; then return 0; fi
  echo "swaks exit $rc; wanted a refusal matching '$1':"; echo "$out" | tail -15
  return 1
}
accepted() {
  if [ "$rc" -eq 0 ] && grep -q 'queued as' <<<"$out"; then return 0; fi
  echo "swaks exit $rc:"; echo "$out" | tail -15; return 1
}

sw --from ann@acme.test --to victim@elsewhere.test
relay_check "no AUTH, outside domain: refused with 5xx" refused '<[*~]\* +5[0-9][0-9]'
sw --from ann@acme.test --to bob@acme.test
relay_check "no AUTH, the tenant's own domain: refused" refused '<[*~]\* +5[0-9][0-9]'
sw --from someone@elsewhere.test --to victim@elsewhere.test -tls
relay_check "no AUTH after STARTTLS: refused" refused '<[*~]\* +5[0-9][0-9]'
rc=0
out=$(swaks --server 127.0.0.1:28232 --tls-on-connect --timeout 10 \
  --from ann@acme.test --to victim@elsewhere.test 2>&1) || rc=$?
relay_check "no AUTH on the implicit-TLS port: refused" refused '<[*~]\* +5[0-9][0-9]'
sw --from ann@acme.test --to victim@elsewhere.test --auth PLAIN \
  --auth-user ann@acme.test --auth-password 'pw-ann-31415'
relay_check "AUTH before TLS: not offered or refused" refused \
  "(not supported|not advertise|<[*~]\* +5[0-9][0-9])"
sw -tls --from ann@acme.test --to victim@elsewhere.test --auth PLAIN \
  --auth-user ann@acme.test --auth-password 'wrong-password'
relay_check "wrong password: 535" refused '<[*~]\* +535'
sw -tls --from boss@elsewhere.test --to victim@elsewhere.test --auth PLAIN \
  --auth-user ann@acme.test --auth-password 'pw-ann-31415'
relay_check "authenticated, MAIL FROM of an outside domain: refused" refused '<[*~]\* +5[0-9][0-9]'
sw -tls --from ceo@acme.test --to victim@elsewhere.test --auth LOGIN \
  --auth-user ann@acme.test --auth-password 'pw-ann-31415'
relay_check "authenticated, another address of its domain: refused" refused '<[*~]\* +5[0-9][0-9]'
sw -tls --from ceo@acme.test --to friend@elsewhere.test --auth LOGIN \
  --auth-user sales@acme.test --auth-password 'pw-sales-1618'
relay_check "--send-as-domain mailbox may use any address of its domain" accepted
sw -tls --from ann@acme.test --to friend@elsewhere.test --auth PLAIN \
  --auth-user ann@acme.test --auth-password 'pw-ann-31415'
relay_check "authenticated as itself: accepted" accepted

relay_check "the two allowed messages delivered" relay_wait_files world 2 30
sleep 2
relay_check "nothing else reached the receiver" test "$(relay_files world)" -eq 2
relay_check "no refused recipient reached it" bash -c \
  "! grep -h '^X-Rcpt-To:' $RELAY_DIR/rcv/world/mail/*.eml | grep -qv friend@elsewhere.test"

# trusted networks, reloaded live
relay_set submission.trusted_networks "127.0.0.0/8, ::1"
relay_config
kill -HUP "$RELAY_PID"
trusted_ok() {
  sw --from ann@acme.test --to trusted@elsewhere.test
  [ "$rc" -eq 0 ]
}
relay_check "after SIGHUP, loopback is trusted: relayed without AUTH" relay_wait trusted_ok 10
sw --from someone@unknown-domain.test --to trusted2@elsewhere.test
relay_check "trusted client, sender domain the store does not know: refused" refused '<[*~]\* +5[0-9][0-9]'
relay_check "the trusted message delivered" relay_wait_files world 3 30

stop_rc=0
relay_stop 30 || stop_rc=$?
relay_check "serve drains and exits 0 on SIGTERM (got $stop_rc)" test "$stop_rc" -eq 0
relay_summary relay_e2e_open_relay
