#!/usr/bin/env bash
# Proves: webhooks through `coldpost serve`. A tenant's endpoint (a real
# HTTP receiver on loopback, tests/lib/webhook_receiver.py, that answers
# 500 to its first POST) gets a signed `delivered` event for the recipient
# a receiver accepted and a `bounced` event, with cause and reason, for the
# one it refused with 550 5.1.1; the failed POST is retried; another
# tenant's endpoint gets nothing. Retention: with queue.retention 1s the
# finished message's body is purged by the next sweep (its envelope and
# attempts stay). Ports 28350-28359; 127.0.0.49.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/relay.sh"
relay_init

relay_tenant acme acme.test ann@acme.test 'pw-ann-3113'
relay_tenant beta beta.test bob@beta.test 'pw-bob-3113'
relay_set listen.submission 127.0.0.1:28350
relay_set webhook.backoff_base 1s
relay_set queue.retention 1s
relay_route gmail.test "127.0.0.49:28351"
relay_route acme.test "127.0.0.49:28351"   # DSNs stay on loopback
relay_receiver gmail 127.0.0.49:28351 --hostname mx.google.test \
  --rule 'rcpt:nobody@gmail.test=550 5.1.1 The email account that you tried to reach does not exist. a1si1 - gsmtp'
"$PY" "$here/tests/lib/webhook_receiver.py" --listen 127.0.0.1:28352 --secret s-acme \
  --log "$RELAY_DIR/hooks-acme.log" --fail 1 &
_relay_pids+=($!)
"$PY" "$here/tests/lib/webhook_receiver.py" --listen 127.0.0.1:28353 --secret s-beta \
  --log "$RELAY_DIR/hooks-beta.log" &
_relay_pids+=($!)
relay_cp webhook add --tenant acme http://127.0.0.1:28352/hook --secret s-acme >/dev/null
relay_cp webhook add --tenant beta http://127.0.0.1:28353/hook --secret s-beta >/dev/null
relay_start_or_exit

out=$(relay_send_py --server 127.0.0.1:28350 --starttls --user ann@acme.test \
  --password 'pw-ann-3113' --from ann@acme.test \
  --to nobody@gmail.test,somebody@gmail.test --subject "Hello" --prefix w1 2>&1) || true
relay_check "message accepted ($out)" test -n "$(relay_qid "$out")"
events() { # log type rcpt: count of 200-answered, signed events
  "$PY" -c 'import json, sys
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    n += (e.get("status") == 200 and e.get("sig_ok") and
          e.get("type") == sys.argv[2] and
          (e.get("data") or {}).get("recipient") == sys.argv[3])
print(n)' "$1" "$2" "$3" 2>/dev/null || echo 0
}
has_both() {
  [ "$(events "$RELAY_DIR/hooks-acme.log" delivered somebody@gmail.test)" -ge 1 ] &&
    [ "$(events "$RELAY_DIR/hooks-acme.log" bounced nobody@gmail.test)" -ge 1 ]
}
relay_check "delivered and bounced events arrive, signed" relay_wait has_both 40
relay_check "the first POST failed (500) and was retried" \
  grep -q '"status": *500' "$RELAY_DIR/hooks-acme.log"
relay_check "the bounced event carries cause and reason" grep -q '"type": "bounced".*"recipient": "nobody@gmail.test".*"cause": "recipient_unknown", "reason": "userunknown"' "$RELAY_DIR/hooks-acme.log"
relay_check "the other tenant's endpoint got nothing" \
  test "$(wc -l < "$RELAY_DIR/hooks-beta.log" 2>/dev/null || echo 0)" -eq 0
body_gone() { ! relay_cp queue show 1 --body >/dev/null 2>&1; }
relay_check "retention: the finished message's body is purged" relay_wait body_gone 30
relay_check "... its envelope and attempts stay" bash -c \
  "relay_cp() { \"$COLDPOST\" \"\$@\" --store \"$RELAY_STORE\"; }; relay_cp queue show 1 --json | grep -q '\"body_purged\": true'"
relay_summary relay_e2e_webhook
