#!/usr/bin/env bash
# Proves: `coldpost check DOMAIN --json` finds what a receiver would find
# through a real DNS server (Knot on 127.0.0.91:5391, started here by
# tests/lib/dns_server.sh), for a good set-up (SPF with the sending IP, a
# 2048-bit DKIM key made by `coldpost dkim keygen`, DMARC p=reject with
# rua, MX, a PTR with forward-confirmed reverse DNS, MTA-STS, TLS-RPT),
# broken ones (two SPF records, 11 lookups through nested includes, an SPF
# syntax error, a 512-bit key, a revoked key, DMARC p=none, a malformed
# DMARC record, a PTR that does not confirm forward, a null MX) and a
# domain with nothing published - each finding's pass/warn/fail and the
# exit status (0 no fail, 1 a fail, 2 usage).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
# shellcheck source=../lib/dns_server.sh
source "$here/tests/lib/dns_server.sh"
tmp=$(mktemp -d)
trap 'dns_server_stop; rm -rf "$tmp"' EXIT
pass=0
fail=0
z=$tmp/zones
mkdir -p "$z"

# ---- key records ---------------------------------------------------------
"$bin" dkim keygen --selector s1 --domain good.test --out "$tmp/s1.pem" \
  --json > "$tmp/s1.json"
# the record as zone-file strings of at most 255 bytes
key2048=$(python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
assert j["bits"] == 2048, j["bits"]
print(" ".join("\"%s\"" % s for s in j["strings"]))' "$tmp/s1.json")
# a 512-bit key: keygen refuses to make one, so take the test key's
k512=$(openssl pkey -in "$here/tests/data/dkim/keys/rsa512.pem" -pubout \
  -outform DER | base64 -w0)

# ---- zones ----------------------------------------------------------------
cat > "$z/good.test.zone" <<EOF
@              TXT "v=spf1 ip4:192.0.2.10 include:_spf.good.test -all"
_spf           TXT "v=spf1 ip4:198.51.100.0/24 -all"
@              MX  10 mail
mail           A   192.0.2.10
s1._domainkey  TXT ( $key2048 )
_dmarc         TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
_mta-sts       TXT "v=STSv1; id=20240601T000000"
_smtp._tls     TXT "v=TLSRPTv1; rua=mailto:tls-reports@good.test"
EOF
cat > "$z/2.0.192.in-addr.arpa.zone" <<EOF
10             PTR mail.good.test.
11             PTR mail.noconfirm.test.
EOF
cat > "$z/noconfirm.test.zone" <<EOF
mail           A   192.0.2.99
EOF
cat > "$z/twospf.test.zone" <<EOF
@              TXT "v=spf1 ip4:192.0.2.10 -all"
@              TXT "v=spf1 include:_spf.good.test ~all"
EOF
# 1 + 3 + 3 + 4 = 11 lookups, all names existing (no void lookups); the
# 11th is l1's mx, met after l2 and l3 are done
cat > "$z/lookups.test.zone" <<EOF
@              TXT "v=spf1 include:l1.lookups.test -all"
l1             TXT "v=spf1 include:l2.lookups.test a:h.lookups.test mx:lookups.test ~all"
l2             TXT "v=spf1 include:l3.lookups.test a:h.lookups.test mx:lookups.test ~all"
l3             TXT "v=spf1 a:h.lookups.test mx:lookups.test a:h.lookups.test exists:h.lookups.test ~all"
h              A   192.0.2.99
@              MX  10 h
EOF
cat > "$z/syntax.test.zone" <<EOF
@              TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.0/33 -all"
EOF
cat > "$z/weakkey.test.zone" <<EOF
s512._domainkey     TXT "v=DKIM1; k=rsa; p=$k512"
revoked._domainkey  TXT "v=DKIM1; k=rsa; p="
EOF
cat > "$z/dmarcnone.test.zone" <<EOF
_dmarc         TXT "v=DMARC1; p=none; rua=mailto:dmarc@dmarcnone.test"
EOF
cat > "$z/dmarcbad.test.zone" <<EOF
_dmarc         TXT "v=DMARC1; p=reject; pct=150"
EOF
cat > "$z/nullmx.test.zone" <<EOF
@              MX  0 .
@              TXT "v=spf1 ip4:192.0.2.10 -all"
EOF
: > "$z/missing.test.zone"   # the zone exists, nothing is published
: > "$z/113.0.203.in-addr.arpa.zone" # no PTR for 203.0.113.x

dns_server_start 127.0.0.91 5391 "$z"/*.zone
server=$DNS_SERVER_SPEC

# check NAME WANT_EXIT 'id[@subject]=status ...' [coldpost check args...]
check() {
  local name=$1 want_exit=$2 want=$3 out rc=0
  shift 3
  out=$("$bin" check --json --dns-server "$server" "$@" 2>"$tmp/err") || rc=$?
  if [ "$rc" -ne "$want_exit" ]; then
    echo "FAIL $name: exit $rc, want $want_exit ($(cat "$tmp/err"))"
    fail=$((fail + 1)); return
  fi
  if python3 - "$want" "$out" >"$tmp/py" 2>&1 <<'PY'; then
import json, sys
want, j = sys.argv[1], json.loads(sys.argv[2])
bad = []
for item in want.split():
    key, status = item.split("=")
    fid, _, subj = key.partition("@")
    found = [f for f in j["findings"] if f["id"] == fid and
             (not subj or f["subject"] == subj)]
    if status == "absent":
        if found:
            bad.append("%s: present (%s)" % (key, found[0]["status"]))
        continue
    if not found:
        bad.append("%s: missing" % key)
    elif found[0]["status"] != status:
        bad.append("%s: %s, want %s (%s)" % (key, found[0]["status"], status,
                                             found[0]["summary"]))
s = j["summary"]
if s["pass"] + s["warn"] + s["fail"] != len(j["findings"]):
    bad.append("summary counts do not add up")
if (s["fail"] > 0) != (j["exit"] == 1):
    bad.append("exit field disagrees with the fails")
for f in j["findings"]:
    if f["status"] != "pass" and not f["fix"] and f["id"] not in (
            "spf.void",):
        bad.append("%s has no fix" % f["id"])
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/     /' "$tmp/py"
  fi
}

# a python assertion over the JSON of one run (exit status not checked)
check_expr() { # name, expression over j, args...
  local name=$1 expr=$2 out
  shift 2
  out=$("$bin" check --json --dns-server "$server" "$@" 2>"$tmp/err") || true
  if python3 -c 'import json, sys
j = json.loads(sys.argv[2])
f = {x["id"] + ("@" + x["subject"] if x["subject"] else ""): x for x in j["findings"]}
ok = eval("(" + sys.argv[1] + ")")
sys.exit(0 if ok else 1)' "$expr" "$out" 2>"$tmp/py"; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name: $expr"; sed 's/^/     /' "$tmp/py"
  fi
}

check good_setup 0 "spf.record=pass spf.syntax=pass spf.lookups=pass
  spf.void=pass spf.includes=pass spf.all=pass spf.ip@192.0.2.10=pass
  dkim.record@s1=pass dkim.key@s1=pass dkim.testing@s1=pass
  dmarc.record=pass dmarc.policy=pass dmarc.pct=pass dmarc.rua=pass
  dmarc.subdomains=pass mx.record=pass mx.resolve=pass
  ptr.record@192.0.2.10=pass ptr.fcrdns@192.0.2.10=pass
  ptr.ehlo@192.0.2.10=pass mta_sts.record=pass tls_rpt.record=pass" \
  good.test --ip 192.0.2.10 --selector s1
check_expr good_all_pass_evidence \
  "j['summary'] == {'pass': len(j['findings']), 'warn': 0, 'fail': 0} and
   f['dkim.key@s1']['summary'] == '2048-bit RSA key' and
   f['spf.record']['evidence'] == ['good.test. TXT \"v=spf1 ip4:192.0.2.10 include:_spf.good.test -all\"'] and
   j['spf_lookups'] == 1 and j['dns'] == '$server' and
   'HTTPS' in f['mta_sts.record']['detail']" \
  good.test --ip 192.0.2.10 --selector s1
check good_probed_selectors 0 "dkim.selectors=pass dkim.key@s1=pass" good.test
check subdomain_uses_org_dmarc 1 "dmarc.record=pass dmarc.policy=pass
  dmarc.org=pass spf.record=fail" mail.good.test --selector s1
check unauthorized_ip 1 "spf.ip@203.0.113.7=fail spf.ip@192.0.2.10=pass
  ptr.record@203.0.113.7=fail" good.test --ip 192.0.2.10 --ip 203.0.113.7 \
  --selector s1
check_expr unauthorized_ip_fix \
  "f['spf.ip@203.0.113.7']['fix'] == 'good.test. TXT \"v=spf1 ip4:203.0.113.7 ip4:192.0.2.10 include:_spf.good.test -all\"' and
   f['ptr.record@203.0.113.7']['fix'].startswith('Ask whoever runs the address block (your hosting provider) for: 7.113.0.203.in-addr.arpa. PTR mail.good.test.')" \
  good.test --ip 203.0.113.7 --selector s1

check two_spf_records 1 "spf.record=fail spf.syntax=absent spf.ip@192.0.2.10=fail" \
  twospf.test --ip 192.0.2.10
check spf_11_lookups 1 "spf.record=pass spf.syntax=pass spf.lookups=fail
  spf.void=pass spf.includes=pass" lookups.test
check_expr spf_11_lookups_path \
  "j['spf_lookups'] == 11 and j['spf_path'] == 'lookups.test -> include:l1.lookups.test -> mx:lookups.test (in l1.lookups.test): lookup 11' and
   len(j['spf_tree']) == 4" lookups.test
check spf_syntax_error 1 "spf.record=pass spf.syntax=fail spf.lookups=absent
  spf.ip@192.0.2.10=fail" syntax.test --ip 192.0.2.10
check_expr spf_syntax_offending_term \
  "'ip4:192.0.2.0/33' in f['spf.syntax']['summary'] and
   f['spf.syntax']['fix'].endswith('syntax.test. TXT \"v=spf1 ip4:192.0.2.10 -all\"')" \
  syntax.test
check dkim_512_and_revoked 1 "dkim.record@s512=pass dkim.key@s512=fail
  dkim.record@revoked=fail dkim.key@revoked=absent" \
  weakkey.test --selector s512 --selector revoked
check dmarc_p_none 1 "dmarc.record=pass dmarc.policy=warn dmarc.rua=pass
  dmarc.subdomains=pass" dmarcnone.test
check_expr dmarc_p_none_fix \
  "f['dmarc.policy']['fix'] == 'When the reports are clean: _dmarc.dmarcnone.test. TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc@dmarcnone.test\"'" \
  dmarcnone.test
check dmarc_malformed 1 "dmarc.record=fail dmarc.policy=absent" dmarcbad.test
check_expr dmarc_malformed_evidence \
  "'pct=150' in f['dmarc.record']['summary'] and
   f['dmarc.record']['evidence'] == ['_dmarc.dmarcbad.test. TXT \"v=DMARC1; p=reject; pct=150\"']" \
  dmarcbad.test
check ptr_not_confirmed 1 "ptr.record@192.0.2.11=pass ptr.fcrdns@192.0.2.11=fail" \
  good.test --ip 192.0.2.11 --selector s1
check null_mx 1 "mx.record=fail mx.resolve=absent spf.record=pass" nullmx.test
check nothing_published 1 "spf.record=fail spf.ip@192.0.2.10=fail
  dkim.selectors=fail dmarc.record=fail mx.record=fail
  ptr.record@192.0.2.10=pass mta_sts.record=warn tls_rpt.record=warn" \
  missing.test --ip 192.0.2.10

# human output: grouped, with a summary line; exit status the same
rc=0
"$bin" check --dns-server "$server" good.test --ip 192.0.2.10 --selector s1 \
  > "$tmp/human" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^SPF (RFC 7208)$' "$tmp/human" &&
   grep -q '^  PASS  dkim.key \[s1\]: 2048-bit RSA key$' "$tmp/human" &&
   grep -Eq '^good.test: [0-9]+ pass, 0 warn, 0 fail - all good$' "$tmp/human"; then
  pass=$((pass + 1)); echo "ok   human_output"
else
  fail=$((fail + 1)); echo "FAIL human_output (exit $rc)"; sed 's/^/     /' "$tmp/human"
fi

# usage errors: exit 2
rc=0; "$bin" check >/dev/null 2>&1 || rc=$?
rc2=0; "$bin" check 'not a domain' --dns-server "$server" >/dev/null 2>&1 || rc2=$?
rc3=0; "$bin" check good.test --ip 300.1.1.1 --dns-server "$server" >/dev/null 2>&1 || rc3=$?
if [ "$rc" -eq 2 ] && [ "$rc2" -eq 2 ] && [ "$rc3" -eq 2 ]; then
  pass=$((pass + 1)); echo "ok   usage_exit_2"
else
  fail=$((fail + 1)); echo "FAIL usage_exit_2: $rc $rc2 $rc3"
fi

echo "check_domain: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
