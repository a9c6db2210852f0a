#!/usr/bin/env bash
# Proves: `coldpost dkim` keygen/sign/verify behave as documented in
# coldpost-dkim(1): keygen writes a 0600 PKCS#8 key (never over an existing
# file) and a TXT record in 255-byte strings that a real DNS server (Knot)
# serves and verify accepts; sign keeps the message byte for byte after the
# new field, in the message's own line ends, with the requested tags;
# verify --json reports result and per-signature reasons (body hash
# mismatch, key not found, revoked, temperror from a server that never
# answers) with the documented exit codes; usage errors exit 2.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
COLDPOST=${COLDPOST:-$here/build/coldpost}
# shellcheck source=../lib/dns_server.sh
source "$here/tests/lib/dns_server.sh"
tmp=$(mktemp -d)
trap 'dns_server_stop; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
D=cli.test

# keygen: files, modes, records
"$COLDPOST" dkim keygen --selector big --domain $D --bits 4096 --out "$tmp/big.pem" > "$tmp/big.rec"
[ "$(stat -c %a "$tmp/big.pem")" = 600 ] || fail "key mode $(stat -c %a "$tmp/big.pem")"
head -1 "$tmp/big.pem" | grep -qx -- '-----BEGIN PRIVATE KEY-----' || fail "not PKCS#8"
grep -q '^big._domainkey.cli.test.	IN	TXT	( "v=DKIM1; k=rsa; p=' "$tmp/big.rec" || fail "record: $(cat "$tmp/big.rec")"
longest=$(grep -o '"[^"]*"' "$tmp/big.rec" | awk '{ print length($0) - 2 }' | sort -n | tail -1)
[ "$longest" -le 255 ] && [ "$(grep -o '"[^"]*"' "$tmp/big.rec" | wc -l)" -ge 3 ] || fail "strings of $longest bytes"
rc=0; "$COLDPOST" dkim keygen --out "$tmp/big.pem" >/dev/null 2>&1 || rc=$?
[ $rc = 1 ] || fail "overwrote an existing key (exit $rc)"
"$COLDPOST" dkim keygen --alg ed25519 --selector ed --domain $D --json > "$tmp/ed.json"
[ "$(json "$tmp/ed.json" 'd["algorithm"], d["name"], d["bits"]')" = "('ed25519-sha256', 'ed._domainkey.cli.test', 256)" ] ||
  fail "keygen json: $(cat "$tmp/ed.json")"
json "$tmp/ed.json" 'd["private_key"]' > "$tmp/ed.pem"
rc=0; "$COLDPOST" dkim keygen --bits 512 >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || fail "--bits 512: exit $rc"
rc=0; "$COLDPOST" dkim keygen --alg dsa >/dev/null 2>&1 || rc=$?; [ $rc = 2 ] || fail "--alg dsa: exit $rc"
echo "ok: keygen (4096-bit record in $(grep -o '"[^"]*"' "$tmp/big.rec" | wc -l) strings, ed25519 --json, no overwrite)"

# a zone with the generated keys, a revoked one, served by Knot
{ echo "\$ORIGIN $D."; grep -v '^;' "$tmp/big.rec"
  printf 'ed._domainkey TXT "%s"\n' "$(json "$tmp/ed.json" 'd["record"]')"
  echo 'gone._domainkey TXT "v=DKIM1; k=rsa; p="'; } > "$tmp/$D.zone"
dns_server_start 127.0.0.78 5378 "$tmp/$D.zone" >/dev/null
S=127.0.0.78:5378

# sign: CRLF message, LF message
printf 'From: a@cli.test\r\nTo: b@example.net\r\nSubject: cli\r\n\r\nBody line\r\n' > "$tmp/m.eml"
"$COLDPOST" dkim sign --key "$tmp/big.pem" --selector big --domain $D < "$tmp/m.eml" > "$tmp/s.eml"
tail -c "$(wc -c < "$tmp/m.eml")" "$tmp/s.eml" | cmp -s - "$tmp/m.eml" || fail "message changed"
grep -q $'^ b=.*\r$' "$tmp/s.eml" || fail "signature not in CRLF"
"$COLDPOST" dkim verify --json --dns-server $S < "$tmp/s.eml" > "$tmp/v.json" || fail "verify: $(cat "$tmp/v.json")"
[ "$(json "$tmp/v.json" 'd["result"], d["signatures"][0]["key_bits"], d["signatures"][0]["canon"]')" = "('pass', 4096, 'relaxed/relaxed')" ] ||
  fail "verify json: $(cat "$tmp/v.json")"
tr -d '\r' < "$tmp/m.eml" > "$tmp/lf.eml"
"$COLDPOST" dkim sign --key "$tmp/ed.pem" --selector ed --domain $D --canon simple/simple \
  --headers 'from:to:subject:from' --expire 3600 < "$tmp/lf.eml" > "$tmp/lf.s.eml"
! grep -q $'\r' "$tmp/lf.s.eml" || fail "CR in an LF message"
grep -q 'h=from:to:subject:from;' "$tmp/lf.s.eml" || fail "h= not as given"
grep -q ' x=' "$tmp/lf.s.eml" || fail "no x="
"$COLDPOST" dkim verify --dns-server $S < "$tmp/lf.s.eml" > "$tmp/v.txt" || fail "LF verify: $(cat "$tmp/v.txt")"
grep -q '^  pass      d=cli.test s=ed a=ed25519-sha256 c=simple/simple' "$tmp/v.txt" || fail "human: $(cat "$tmp/v.txt")"
echo "ok: sign (CRLF and LF messages, h= as given, x=) verified through Knot"

# verify: failures and exit codes
sed 's/Body line/Body lime/' "$tmp/s.eml" > "$tmp/bad.eml"
rc=0; "$COLDPOST" dkim verify --json --dns-server $S < "$tmp/bad.eml" > "$tmp/v.json" || rc=$?
[ $rc = 1 ] && [ "$(json "$tmp/v.json" 'd["result"], d["signatures"][0]["reason"]')" = "('fail', 'body hash mismatch')" ] ||
  fail "tampered: exit $rc $(cat "$tmp/v.json")"
for sel in nokey gone; do
  "$COLDPOST" dkim sign --key "$tmp/big.pem" --selector $sel --domain $D < "$tmp/m.eml" > "$tmp/$sel.eml"
  rc=0; "$COLDPOST" dkim verify --json --dns-server $S < "$tmp/$sel.eml" > "$tmp/v.json" || rc=$?
  want=$([ $sel = nokey ] && echo 'key not found' || echo 'key revoked')
  [ $rc = 1 ] && [ "$(json "$tmp/v.json" 'd["signatures"][0]["result"], d["signatures"][0]["reason"]')" = "('permerror', '$want')" ] ||
    fail "$sel: exit $rc $(cat "$tmp/v.json")"
done
rc=0; "$COLDPOST" dkim verify --json --dns-server $S < "$tmp/m.eml" > "$tmp/v.json" || rc=$?
[ $rc = 1 ] && [ "$(json "$tmp/v.json" 'd["result"], len(d["signatures"])')" = "('none', 0)" ] || fail "unsigned: $(cat "$tmp/v.json")"
dns_server_start_blackhole 127.0.0.79 5379
rc=0; "$COLDPOST" dkim verify --json --timeout 200 --dns-server 127.0.0.79:5379 < "$tmp/s.eml" > "$tmp/v.json" || rc=$?
[ $rc = 1 ] && [ "$(json "$tmp/v.json" 'd["result"], d["signatures"][0]["reason"]')" = "('temperror', 'key lookup failed')" ] ||
  fail "blackhole: exit $rc $(cat "$tmp/v.json")"
rc=0; "$COLDPOST" dkim verify --zone "$tmp/$D.zone" < "$tmp/s.eml" > /dev/null || rc=$?
[ $rc = 0 ] || fail "--zone: exit $rc"
echo "ok: verify reasons (body hash, key not found, revoked, none, temperror) and exit codes"

# usage
for args in "sign --selector s --domain d" "sign --key x --selector s --domain d --canon loose" \
            "verify --zone a --dns-server 127.0.0.1" "verify --dns-server nohost:53" "frobnicate" ""; do
  rc=0; "$COLDPOST" dkim $args < /dev/null > /dev/null 2>&1 || rc=$?
  [ $rc = 2 ] || fail "'dkim $args': exit $rc, want 2"
done
rc=0; "$COLDPOST" dkim sign --key "$tmp/big.pem" --selector big --domain $D --alg ed25519-sha256 < "$tmp/m.eml" > /dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "alg/key mismatch: exit $rc"
rc=0; printf 'To: x@y\r\n\r\nno from\r\n' | "$COLDPOST" dkim sign --key "$tmp/big.pem" --selector big --domain $D > /dev/null 2>&1 || rc=$?
[ $rc = 1 ] || fail "no From: exit $rc"
echo "ok: usage errors exit 2, unusable input exits 1"
