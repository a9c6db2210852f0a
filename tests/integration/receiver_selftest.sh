#!/usr/bin/env bash
# Proves: tests/lib/receiver.py (the receiving MTA the relay tests stand
# for Gmail- and Microsoft-like servers) does what its options say, driven
# by a real client (swaks): messages saved with X-Peer/X-Helo/X-Mail-From/
# X-Rcpt-To/X-TLS, the client's source address seen (127.0.0.x), STARTTLS,
# per-phase rules with multi-line replies, --first N, a line dropped in
# DATA, silence after the final dot, a broken TLS handshake, the stats
# file and the pid file. Ports 28100-28119.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -z "${2:-}" ] || sed 's/^/     /' <<<"$2" | tail -20; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.receiver.test \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1

start() { # name port args...: starts a receiver, waits for its pid file
  local name=$1 port=$2 i
  shift 2
  mkdir -p "$tmp/$name"
  "$py" "$here/tests/lib/receiver.py" --listen "127.0.0.1:$port" \
    --dir "$tmp/$name/mail" --pid-file "$tmp/$name/pid" \
    --stats "$tmp/$name/stats.json" "$@" 2>"$tmp/$name/log" &
  pids+=($!)
  for i in $(seq 100); do
    [ -s "$tmp/$name/pid" ] && return 0
    sleep 0.1
  done
  echo "receiver $name did not start:"; cat "$tmp/$name/log"; return 1
}

stat() { # name key[.sub]
  "$py" -c 'import json,sys; j=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): j=j[k]
print(j)' "$tmp/$1/stats.json" "$2"
}

nmail() { ls "$tmp/$1/mail" 2>/dev/null | grep -c '\.eml$' || true; }

send() { # port, swaks args...: output in $out, status in $rc
  local port=$1
  shift
  rc=0
  out=$(swaks --server 127.0.0.1 --port "$port" --from ann@sender.test \
    --helo client.sender.test --timeout 5 "$@" 2>&1) || rc=$?
}

# 1. plain acceptance and the prepended headers
start plain 28101 --hostname mx.google.test --banner "ESMTP a1si1 - gsmtp" \
  --accept "250 2.0.0 OK  1764300000 {id} - gsmtp"
send 28101 --to bob@gmail.test,carol@gmail.test --header "Subject: hi"
f=$tmp/plain/mail/000001.eml
if [ "$rc" -eq 0 ] && [ -f "$f" ] && grep -q '^X-Peer: 127.0.0.1' "$f" &&
   grep -q '^X-Helo: client.sender.test' "$f" &&
   grep -q '^X-Mail-From: ann@sender.test' "$f" &&
   [ "$(grep -c '^X-Rcpt-To: ' "$f")" -eq 2 ] && grep -q '^X-TLS: no' "$f" &&
   grep -q '^Subject: hi' "$f" &&
   grep -q '220 mx.google.test ESMTP a1si1 - gsmtp' <<<"$out" &&
   grep -q '250 2.0.0 OK  1764300000 000001 - gsmtp' <<<"$out"; then
  ok "accepts and saves with X- headers, Gmail-like texts"
else bad "plain acceptance (rc $rc)" "$out$(cat "$f" 2>/dev/null)"; fi

# 2. the client's source address is what X-Peer shows
send 28101 --to bob@gmail.test --local-interface 127.0.0.9
if [ "$rc" -eq 0 ] && grep -q '^X-Peer: 127.0.0.9' "$tmp/plain/mail/000002.eml"; then
  ok "X-Peer is the client's source address"
else bad "X-Peer 127.0.0.9 (rc $rc)" "$out"; fi
if [ "$(stat plain messages)" = 2 ] && [ "$(stat plain recipients)" = 3 ] &&
   [ "$(stat plain connections)" = 2 ] && [ "$(stat plain transactions)" = 2 ]; then
  ok "stats count messages and recipients"
else bad "stats" "$(cat "$tmp/plain/stats.json")"; fi

send 28101 --to bob@gmail.test --from '<>'
if [ "$rc" -eq 0 ] && grep -q '^X-Mail-From: <>' "$tmp/plain/mail/000003.eml"; then
  ok "null sender saved as X-Mail-From: <>"
else bad "null sender (rc $rc)" "$out"; fi

# 3. STARTTLS
start tls 28102 --tls "$tmp/cert.pem,$tmp/key.pem"
send 28102 --to bob@outlook.test -tls
if [ "$rc" -eq 0 ] && grep -q '^X-TLS: TLSv1' "$tmp/tls/mail/000001.eml" &&
   [ "$(stat tls tls)" = 1 ]; then
  ok "STARTTLS, X-TLS names the protocol"
else bad "STARTTLS (rc $rc)" "$out"; fi

# 4. rcpt rule, multi-line reply; other domains still accepted
start rules 28103 --rule 'rcpt:*@gmail.test=550 5.1.1 The email account that you tried to reach does not exist.\n5.1.1 https://support.google.test/mail/?p=NoSuchUser' \
  --rule 'mail:spammer@*=553 5.7.1 sender refused' \
  --rule 'helo:bad.helo=550 5.7.1 bad HELO' \
  --rule 'connect:127.0.0.5=554 5.7.1 Service unavailable; Client host [127.0.0.5] blocked'
send 28103 --to bob@gmail.test
if [ "$rc" -ne 0 ] && grep -q '550-5.1.1 The email account' <<<"$out" &&
   grep -q '550 5.1.1 https://support.google.test' <<<"$out" && [ "$(nmail rules)" = 0 ]; then
  ok "rcpt rule answers a multi-line 550"
else bad "rcpt rule (rc $rc)" "$out"; fi
send 28103 --to bob@outlook.test
if [ "$rc" -eq 0 ] && [ "$(nmail rules)" = 1 ]; then ok "unmatched recipient accepted"
else bad "unmatched recipient (rc $rc)" "$out"; fi
send 28103 --to bob@outlook.test --from spammer@x.test
if [ "$rc" -ne 0 ] && grep -q '553 5.7.1 sender refused' <<<"$out"; then ok "mail rule"
else bad "mail rule (rc $rc)" "$out"; fi
send 28103 --to bob@outlook.test --helo bad.helo
if [ "$rc" -ne 0 ] && grep -q '550 5.7.1 bad HELO' <<<"$out"; then ok "helo rule"
else bad "helo rule (rc $rc)" "$out"; fi
send 28103 --to bob@outlook.test --local-interface 127.0.0.5
if [ "$rc" -ne 0 ] && grep -q '554 5.7.1 Service unavailable' <<<"$out"; then ok "connect rule"
else bad "connect rule (rc $rc)" "$out"; fi
if [ "$(stat rules rejected.rcpt)" = 1 ] && [ "$(stat rules rejected.mail)" = 1 ] &&
   [ "$(stat rules rejected.helo)" -ge 1 ] && [ "$(stat rules rejected.connect)" = 1 ]; then
  ok "stats count rejections per phase"
else bad "rejection stats" "$(cat "$tmp/rules/stats.json")"; fi

# 5. data rule for the first transaction only: 421, then delivered
start first 28104 --rule 'data:*=421 4.7.0 Temporary System Problem.  Try again later.' --first 1
send 28104 --to bob@gmail.test
first_rc=$rc first_out=$out
send 28104 --to bob@gmail.test
if [ "$first_rc" -ne 0 ] && grep -q '421 4.7.0 Temporary System Problem' <<<"$first_out" &&
   [ "$rc" -eq 0 ] && [ "$(nmail first)" = 1 ]; then
  ok "--first 1: 421 once, then accepted"
else bad "--first (rc $first_rc then $rc)" "$first_out$out"; fi

# 6. the line dropped in the middle of DATA: nothing saved
start drop 28105 --drop-mid-data --first 1
send 28105 --to bob@gmail.test --body "$(seq 1 2000)"
drop_rc=$rc drop_out=$out
send 28105 --to bob@gmail.test
if [ "$drop_rc" -ne 0 ] && [ "$(stat drop dropped)" = 1 ] && [ "$rc" -eq 0 ] &&
   [ "$(nmail drop)" = 1 ]; then
  ok "--drop-mid-data closes the line, nothing kept"
else bad "--drop-mid-data (rc $drop_rc then $rc)" "$drop_out"; fi

# 7. silence after the final dot: the client times out, the message is not kept
start delay 28106 --delay-data 4 --first 1
t0=$(date +%s)
send 28106 --to bob@gmail.test --timeout 1
delay_rc=$rc delay_out=$out
sleep 4
send 28106 --to bob@gmail.test
if [ "$delay_rc" -ne 0 ] && [ "$(stat delay delayed)" = 1 ] &&
   [ "$(stat delay delayed_abandoned)" = 1 ] && [ "$rc" -eq 0 ] &&
   [ "$(nmail delay)" = 1 ]; then
  ok "--delay-data: client times out, message not kept"
else bad "--delay-data (rc $delay_rc then $rc, $(( $(date +%s) - t0 ))s)" "$delay_out$(cat "$tmp/delay/stats.json")"; fi

# 8. a broken TLS handshake, with and without a certificate
start failtls 28107 --fail-tls --first 1
send 28107 --to bob@outlook.test -tls
ftls_rc=$rc ftls_out=$out
send 28107 --to bob@outlook.test
if [ "$ftls_rc" -ne 0 ] && grep -q 'STARTTLS' <<<"$ftls_out" &&
   [ "$(stat failtls tls_failed)" = 1 ] && [ "$rc" -eq 0 ] &&
   [ "$(nmail failtls)" = 1 ]; then
  ok "--fail-tls breaks the handshake"
else bad "--fail-tls (rc $ftls_rc then $rc)" "$ftls_out$out"; fi

# 9. SIGTERM stops it and removes the pid file
p=$(cat "$tmp/plain/pid")
kill "$p"
src=0
timeout 5 tail --pid="$p" -f /dev/null || src=$?
if [ "$src" -eq 0 ] && [ ! -e "$tmp/plain/pid" ]; then ok "SIGTERM stops, pid file removed"
else bad "SIGTERM"; fi

echo "receiver_selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
