#!/usr/bin/env bash
# Proves: `coldpost auth` evaluates SPF, DKIM and DMARC of a message
# together and writes the Authentication-Results field (RFC 8601), with
# keys and policies served by a real DNS server (Knot on 127.0.0.92:5392,
# started here by tests/lib/dns_server.sh): a message signed by
# `coldpost dkim sign` from an authorized IP passes all three; a body
# changed after signing fails DKIM, and DMARC then rests on SPF alignment
# (pass with an aligned MAIL FROM, fail with another domain's); a wrong
# IP fails SPF (DMARC passes through DKIM); a bounce (null MAIL FROM) is
# checked as the HELO name; two From fields are a DMARC permerror.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
# shellcheck source=../lib/dns_server.sh
source "$here/tests/lib/dns_server.sh"
tmp=$(mktemp -d)
trap 'dns_server_stop; rm -rf "$tmp"' EXIT
pass=0
fail=0

"$bin" dkim keygen --selector s1 --domain auth.test --out "$tmp/key.pem" \
  --json > "$tmp/key.json"
key=$(python3 -c 'import json,sys
print(" ".join("\"%s\"" % s for s in json.load(open(sys.argv[1]))["strings"]))' \
  "$tmp/key.json")
cat > "$tmp/auth.test.zone" <<EOF
@              TXT "v=spf1 ip4:192.0.2.10 -all"
bounce         TXT "v=spf1 ip4:192.0.2.10 -all"
mail           TXT "v=spf1 ip4:192.0.2.10 -all"
mail           A   192.0.2.10
s1._domainkey  TXT ( $key )
_dmarc         TXT "v=DMARC1; p=reject; rua=mailto:dmarc@auth.test"
EOF
# an ESP's bounce domain: authorizes the IP, is not aligned with auth.test
cat > "$tmp/esp.test.zone" <<EOF
@              TXT "v=spf1 ip4:192.0.2.10 -all"
EOF
dns_server_start 127.0.0.92 5392 "$tmp/auth.test.zone" "$tmp/esp.test.zone"
server=$DNS_SERVER_SPEC

printf '%s\r\n' \
  'From: "Doe, Jane" <jane@auth.test>' \
  'To: Bob <bob@example.net>' \
  'Subject: the numbers' \
  'Date: Tue, 14 Nov 2023 22:13:20 +0000' \
  'Message-ID: <n1@auth.test>' \
  '' \
  'Hi Bob,' \
  'the numbers are in.' > "$tmp/msg.eml"
"$bin" dkim sign --key "$tmp/key.pem" --selector s1 --domain auth.test \
  < "$tmp/msg.eml" > "$tmp/signed.eml"
sed 's/numbers are in/numbers are out/' "$tmp/signed.eml" > "$tmp/tampered.eml"
printf 'From: a@auth.test\r\nFrom: b@auth.test\r\n\r\nx\r\n' > "$tmp/twofrom.eml"

# run NAME MESSAGE 'needle|needle...' coldpost-auth-args...: each needle
# must be in the Authentication-Results field
run() {
  local name=$1 msg=$2 want=$3 out rc=0 n ok=1
  shift 3
  out=$("$bin" auth --dns-server "$server" --authserv-id mx.example.net \
    "$@" < "$msg" 2>"$tmp/err") || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "FAIL $name: exit $rc ($(cat "$tmp/err"))"; fail=$((fail + 1)); return
  fi
  IFS='|' read -ra needles <<<"$want"
  for n in "${needles[@]}"; do
    if ! grep -qF -- "$n" <<<"$out"; then ok=0; echo "     missing: $n"; fi
  done
  if [ "$ok" = 1 ] && head -1 <<<"$out" | grep -q '^Authentication-Results: mx.example.net;$'; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/     /' <<<"$out"
  fi
}

run all_pass "$tmp/signed.eml" \
  "spf=pass (ip4:192.0.2.10) smtp.mailfrom=bounce@auth.test;|dkim=pass header.d=auth.test header.s=s1 header.b=|dmarc=pass (p=reject dis=none) header.from=auth.test" \
  --ip 192.0.2.10 --helo mail.auth.test --mail-from bounce@auth.test
run tampered_spf_aligned "$tmp/tampered.eml" \
  "spf=pass (ip4:192.0.2.10) smtp.mailfrom=b@bounce.auth.test|dkim=fail reason=\"body hash mismatch|dmarc=pass (p=reject dis=none)" \
  --ip 192.0.2.10 --helo mail.auth.test --mail-from b@bounce.auth.test
run tampered_spf_not_aligned "$tmp/tampered.eml" \
  "spf=pass (ip4:192.0.2.10) smtp.mailfrom=bounce@esp.test|dkim=fail|dmarc=fail (p=reject dis=reject) header.from=auth.test" \
  --ip 192.0.2.10 --helo mail.esp.test --mail-from bounce@esp.test
run wrong_ip "$tmp/signed.eml" \
  "spf=fail (-all) smtp.mailfrom=bounce@auth.test|dkim=pass|dmarc=pass" \
  --ip 198.51.100.1 --helo mail.auth.test --mail-from bounce@auth.test
run wrong_ip_tampered "$tmp/tampered.eml" \
  "spf=fail|dkim=fail|dmarc=fail (p=reject dis=reject)" \
  --ip 198.51.100.1 --helo mail.auth.test --mail-from bounce@auth.test
run null_sender_helo "$tmp/signed.eml" \
  "spf=pass (ip4:192.0.2.10) smtp.helo=mail.auth.test|dkim=pass|dmarc=pass" \
  --ip 192.0.2.10 --helo mail.auth.test --mail-from ''
run two_from_fields "$tmp/twofrom.eml" \
  "spf=pass|dkim=none|dmarc=permerror reason=\"2 From header fields" \
  --ip 192.0.2.10 --helo mail.auth.test --mail-from bounce@auth.test

# --json: the three results with their details
out=$("$bin" auth --json --dns-server "$server" --authserv-id mx.example.net \
  --ip 198.51.100.1 --helo mail.auth.test --mail-from bounce@auth.test \
  < "$tmp/tampered.eml")
if python3 -c 'import json, sys
j = json.loads(sys.argv[1])
s, d, m = j["spf"], j["dkim"], j["dmarc"]
assert s["result"] == "fail" and s["identity"] == "mailfrom" and s["domain"] == "auth.test", s
assert s["mechanism"] == "-all" and s["lookups"] == 0, s
assert d["result"] == "fail" and len(d["signatures"]) == 1, d
g = d["signatures"][0]
assert g["domain"] == "auth.test" and g["selector"] == "s1" and g["key_bits"] == 2048, g
assert g["reason"] == "body hash mismatch", g
assert m["result"] == "fail" and m["disposition"] == "reject", m
assert m["from_domain"] == "auth.test" and m["from_addresses"][0]["local"] == "jane", m
assert m["domains"][0]["record"] == "v=DMARC1; p=reject; rua=mailto:dmarc@auth.test", m
assert j["authentication_results"].startswith("Authentication-Results: mx.example.net; spf=fail"), j
' "$out" 2>"$tmp/py"; then
  pass=$((pass + 1)); echo "ok   json_details"
else
  fail=$((fail + 1)); echo "FAIL json_details"; sed 's/^/     /' "$tmp/py"
fi

# the field goes in front of the message and stays parseable: the signed
# message with it still verifies (Authentication-Results is not signed)
{ "$bin" auth --dns-server "$server" --authserv-id mx.example.net \
    --ip 192.0.2.10 --helo mail.auth.test --mail-from bounce@auth.test \
    < "$tmp/signed.eml" | sed 's/$/\r/'; cat "$tmp/signed.eml"; } > "$tmp/delivered.eml"
rc=0
"$bin" dkim verify --dns-server "$server" < "$tmp/delivered.eml" > "$tmp/v" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^dkim: pass' "$tmp/v"; then
  pass=$((pass + 1)); echo "ok   field_prepended_still_verifies"
else
  fail=$((fail + 1)); echo "FAIL field_prepended_still_verifies (exit $rc)"; cat "$tmp/v"
fi

# usage: exit 2
rc=0; "$bin" auth --ip 192.0.2.10 < "$tmp/msg.eml" >/dev/null 2>&1 || rc=$?
rc2=0; "$bin" auth --ip 192.0.2.10 --helo '' --mail-from '' < "$tmp/msg.eml" >/dev/null 2>&1 || rc2=$?
if [ "$rc" -eq 2 ] && [ "$rc2" -eq 2 ]; then
  pass=$((pass + 1)); echo "ok   usage_exit_2"
else
  fail=$((fail + 1)); echo "FAIL usage_exit_2: $rc $rc2"
fi

echo "auth_message: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
