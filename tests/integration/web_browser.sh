#!/usr/bin/env bash
# Proves: the web dashboard works in a real browser against a real relay.
# Debian's Chromium (headless, driven by playwright-core from web/'s npm
# devDependencies) opens the dashboard that `coldpost serve` serves from
# web/dist on listen.http, is sent to the login page, has a wrong key
# refused, logs in with an API key made by `coldpost apikey add`, and then
# looks at every page: the overview (totals and the Chart.js chart drawn),
# mailboxes (one without a cap; one on day 1 of its warm-up: 5 of 40 a
# day), domains (the records to
# publish, and the live check answered by Knot serving the domain's zone),
# messages (sent through SMTP submission with swaks: one relayed to
# Postfix's smtp-sink appears as delivered, one refused by a Gmail-like
# receiver with 550 5.7.26 appears as bounced; search and state filter find
# each; their pages show the 250 answer, and the refusal classified as
# authentication with links into the reference; the overview then counts
# both and shows the refusal by cause family), each
# tool (deliverability test, blacklist checker: 127.0.0.2 listed on the
# Spamhaus zone the test's DNS serves, content checker, error
# lookup, cost calculator: $108.00 for 120 mailboxes at the default tiers),
# and the SMTP error reference (the index lists every page that
# `coldpost explain --list --json` lists, sample pages carry the library's
# titles, and all pages and receiver signatures render); a tenant's key
# logs in as that tenant and sees its messages. Any console error,
# uncaught exception, or request to another origin fails the test. A
# screenshot of each page is saved under tests/output/screenshots/.
# Ports 32110-32129; addresses 127.0.0.91 (pool), 127.0.0.92 (smtp-sink),
# 127.0.0.93 (DNS), 127.0.0.94 (a Gmail-like receiver that refuses).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/dns_server.sh"
source "$here/tests/lib/relay.sh"
web=$here/web
shots=${WEB_SHOTS:-$here/tests/output/screenshots}

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "web_browser: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (scripts/deps.sh test installs it)"
  exit 1
fi
# The dashboard and the test's own npm packages (make test builds them
# first; a lone run builds them here).
if [ ! -d "$web/node_modules/playwright-core" ] || [ ! -f "$web/dist/index.html" ]; then
  (cd "$web" && npm ci --no-audit --no-fund && npm run build) || {
    echo "web_browser: cannot build the dashboard (npm ci && npm run build in web/)"; exit 1; }
fi

relay_init
relay_tenant acme acme.test ann@acme.test 'pw-ann-31415' 127.0.0.91:out1.acme.test
relay_mailbox acme ben@acme.test 'pw-ben-27182' --daily-cap 40
relay_set mailbox.ramp 5,10,20
{
  echo '@ MX 10 mx.acme.test.'
  echo 'mx A 127.0.0.92'
  echo '@ TXT "v=spf1 ip4:127.0.0.91 -all"'
  echo '_dmarc TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.test"'
  relay_zone_dkim acme.test
} >"$RELAY_DIR/acme.test.zone"
# one blocklist that lists 127.0.0.2 (the RFC 5782 test address); the
# server refuses the other lists' zones
printf '%s\n' '2.0.0.127 A 127.0.0.2' \
  '2.0.0.127 TXT "https://check.spamhaus.org/sbl/query/SBL2"' >"$RELAY_DIR/zen.spamhaus.org.zone"
dns_server_start 127.0.0.93 32119 "$RELAY_DIR/acme.test.zone" "$RELAY_DIR/zen.spamhaus.org.zone"
RELAY_DNS=$DNS_SERVER_SPEC

relay_set listen.submission 127.0.0.1:32110
relay_set listen.http 127.0.0.1:32180
relay_route sink.test "127.0.0.92:32116"
relay_route acme.test "127.0.0.92:32116"
relay_route gmail.test "127.0.0.94:32117"
relay_sink sink 127.0.0.92:32116
relay_receiver gmail 127.0.0.94:32117 --hostname mx.google.test \
  --banner "ESMTP a1si1 - gsmtp" \
  --rule "rcpt:*=550 5.7.26 Unauthenticated email from acme.test is not accepted due to domain's DMARC policy - gsmtp"

# An admin API key, shown once by the command that makes it.
out=$(relay_cp apikey add --note "browser test" --json 2>"$RELAY_DIR/apikey.err") || {
  echo "coldpost apikey add failed: $out $(cat "$RELAY_DIR/apikey.err")"; exit 1; }
key=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$out")
relay_check "an admin API key was made" test -n "$key"
out=$(relay_cp apikey add --tenant acme --note "browser test" --json 2>"$RELAY_DIR/apikey.err") || {
  echo "coldpost apikey add --tenant failed: $out $(cat "$RELAY_DIR/apikey.err")"; exit 1; }
tkey=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$out")

relay_start_or_exit --web-root "$web/dist"
"$COLDPOST" explain --list --json >"$RELAY_DIR/reference.json"

# What the browser test runs to send one message through SMTP submission
# (STARTTLS + AUTH, like a mail client) to \$1; prints the queue id last.
cat >"$RELAY_DIR/send.sh" <<SEND
set -euo pipefail
out=\$(swaks --server 127.0.0.1:32110 -tls --auth PLAIN \
  --auth-user ann@acme.test --auth-password 'pw-ann-31415' \
  --from ann@acme.test --to "\$1" --h-Subject "Browser test" \
  --body "Hello, sent while a browser watched." 2>&1) || { echo "\$out"; exit 1; }
sed -n 's/.*queued as \([0-9][0-9]*\).*/\1/p' <<<"\$out" | tail -1
SEND

rm -rf "$shots"
mkdir -p "$shots"
# Each step of the browser run prints ok/FAIL and counts here.
rc=0
WEB_BASE=http://127.0.0.1:32180 WEB_KEY="$key" WEB_SHOTS="$shots" \
  WEB_SEND="$RELAY_DIR/send.sh" WEB_MAILBOX=ann@acme.test WEB_DOMAIN=acme.test \
  WEB_REF="$RELAY_DIR/reference.json" WEB_TENANT_KEY="$tkey" WEB_TENANT=acme WEB_RAMPING=ben@acme.test \
  WEB_LISTED_ZONE=zen.spamhaus.org timeout 600 node "$web/test/browser.mjs" \
  >"$RELAY_DIR/browser.log" 2>&1 || rc=$?
cat "$RELAY_DIR/browser.log"
relay_pass=$((relay_pass + $(grep -c '^ok ' "$RELAY_DIR/browser.log" || true)))
steps_failed=$(grep -c '^FAIL ' "$RELAY_DIR/browser.log" || true)
relay_fail=$((relay_fail + steps_failed))
if [ "$rc" -ne 0 ] && [ "$steps_failed" -eq 0 ]; then
  relay_fail=$((relay_fail + 1)); echo "FAIL the browser run ended with status $rc"
fi
relay_check "a screenshot of each page" test "$(ls "$shots"/*.png 2>/dev/null | wc -l)" -ge 21
relay_check "the message reached smtp-sink" relay_wait "grep -q 'Subject: Browser test' '$RELAY_DIR/sink/sink/dump'" 5
relay_summary web_browser
