#!/usr/bin/env bash
# provision_apply.sh - `coldpost provision --apply` against a real Knot DNS
# server that takes RFC 2136 updates signed with TSIG: the records are
# written and read back (kdig), a second run changes nothing, the domain
# then passes `coldpost check`, an existing SPF record is merged rather
# than doubled, a wrong key is refused, and a DKIM key rotation publishes
# a new selector, switches the store to it and retires the old one.
# Ports 29530-29539 on 127.0.0.95.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
COLDPOST=${COLDPOST:-$here/build/coldpost}
source "$here/tests/lib/dns_server.sh"

tmp=$(mktemp -d)
cleanup() { dns_server_stop; rm -rf "$tmp"; }
trap cleanup EXIT

fails=0
ok()   { printf 'ok   %s\n' "$1"; }
bad()  { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
check() { # description, command...
  local d=$1; shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}

addr=127.0.0.95
port=29531
key="hmac-sha256:cp-prov-key:$(head -c 32 /dev/urandom | base64)"

# The sending domain already has mail (MX) and an SPF record with an
# include of its mailbox provider; the provider's zone and the reverse
# zones of the sending IPs are on the same server.
cat > "$tmp/acme.test.zone" <<'EOF'
$ORIGIN acme.test.
@        IN MX  10 mx.mailhost.test.
@        IN TXT "v=spf1 include:_spf.mailhost.test ~all"
@        IN TXT "google-site-verification=abc123"
www      IN A   192.0.2.80
EOF
cat > "$tmp/mailhost.test.zone" <<'EOF'
$ORIGIN mailhost.test.
_spf     IN TXT "v=spf1 ip4:198.51.100.0/24 include:_spf2.mailhost.test ~all"
_spf2    IN TXT "v=spf1 ip4:203.0.113.0/24 -all"
mx       IN A   198.51.100.25
EOF
cat > "$tmp/rev4.zone" <<'EOF'
$ORIGIN 2.0.192.in-addr.arpa.
80       IN PTR www.acme.test.
EOF
cat > "$tmp/rev6.zone" <<'EOF'
$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
EOF
# gamma.test's SPF needs 11 lookups through its includes.
cat > "$tmp/gamma.test.zone" <<'EOF'
$ORIGIN gamma.test.
@        IN MX  10 mx.mailhost.test.
@        IN TXT "v=spf1 include:a.gamma.test include:b.gamma.test ~all"
a        IN TXT "v=spf1 a mx ptr exists:x.gamma.test ~all"
b        IN TXT "v=spf1 a mx a:x.gamma.test mx:y.gamma.test include:c.gamma.test ~all"
c        IN TXT "v=spf1 ip4:203.0.113.9 ~all"
EOF
dns_server_start -k "$key" "$addr" "$port" "$tmp/acme.test.zone" \
  "$tmp/mailhost.test.zone" "$tmp/rev4.zone" "$tmp/rev6.zone" \
  "$tmp/gamma.test.zone"
srv=$DNS_SERVER_SPEC

q() { kdig @"$addr" -p "$port" +short +norec "$@"; }

# A store with a tenant, its pool (one IPv4, one IPv6) and the domain.
store="sqlite:$tmp/cp.db"
"$COLDPOST" tenant add acme --store "$store" >/dev/null
"$COLDPOST" pool add acme 192.0.2.25 --ehlo mta1.acme.test --store "$store" >/dev/null
"$COLDPOST" pool add acme 2001:db8::25 --ehlo mta1.acme.test --store "$store" >/dev/null
"$COLDPOST" domain add acme.test --tenant acme --selector s1 --store "$store" >/dev/null

prov() { "$COLDPOST" provision acme.test --store "$store" \
  --bounce-domain bounce.acme.test --server "$srv" --tsig "$key" "$@"; }

# 1. Without --apply: a plan, nothing written.
out=$(prov --json --dns-server "$srv")
check "plan: SPF merged into the existing record" \
  test "$(jq -r '.records[] | select(.kind=="spf" and .name=="acme.test") | .value' <<<"$out")" \
  = "v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 include:_spf.mailhost.test ~all"
check "plan: lookups counted through the includes (2)" \
  test "$(jq -r .spf_lookups <<<"$out")" = 2
check "plan: the DKIM record is new" \
  test "$(jq -r '.records[] | select(.kind=="dkim") | .state' <<<"$out")" = new
check "plan: the domain's MX is not touched" \
  test "$(jq '[.records[] | select(.kind=="mx" and .name=="acme.test")] | length' <<<"$out")" = 0
check "plan: the bounce domain's MX is new" \
  test "$(jq -r '.records[] | select(.kind=="mx" and .name=="bounce.acme.test") | .state' <<<"$out")" = new
out=$("$COLDPOST" provision acme.test --store "$store" --dns-server "$srv" --json)
check "plan without a bounce domain: the domain's MX kept" \
  test "$(jq -r '.records[] | select(.kind=="mx" and .name=="acme.test") | .state' <<<"$out")" = kept
check "plan without a bounce domain: no second SPF name" \
  test "$(jq '[.records[] | select(.kind=="spf")] | length' <<<"$out")" = 1
check "plan: nothing written yet" test -z "$(q s1._domainkey.acme.test TXT)"
zone=$(prov --zone --dns-server "$srv")
check "--zone: DKIM as 255-byte strings" \
  grep -Eq '^s1\._domainkey\.acme\.test\. 3600 IN TXT "[^"]{255}" "' <<<"$zone"

# 2. Apply: written, and the server answers with the records.
out=$(prov --apply)
echo "$out"
check "apply: reports changes" grep -q 'records written' <<<"$out"
spf=$(q acme.test TXT | grep 'v=spf1' || true)
check "apply: one SPF record at acme.test" test "$(printf '%s\n' "$spf" | grep -c spf1)" = 1
check "apply: SPF lists both IPs and keeps the include" \
  grep -q 'ip4:192.0.2.25 ip6:2001:db8::25 include:_spf.mailhost.test ~all' <<<"$spf"
check "apply: other TXT records kept" grep -q google-site <<<"$(q acme.test TXT)"
check "apply: DKIM published" grep -q 'v=DKIM1' <<<"$(q s1._domainkey.acme.test TXT)"
check "apply: DMARC p=none with rua" \
  grep -q 'v=DMARC1; p=none; rua=mailto:dmarc-reports@acme.test' <<<"$(q _dmarc.acme.test TXT)"
check "apply: bounce domain MX" test "$(q bounce.acme.test MX)" = "10 mta1.acme.test."
check "apply: bounce domain SPF" grep -q 'v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 -all' <<<"$(q bounce.acme.test TXT)"
check "apply: EHLO name A" test "$(q mta1.acme.test A)" = 192.0.2.25
check "apply: EHLO name AAAA" test "$(q mta1.acme.test AAAA)" = 2001:db8::25
check "apply: PTR of the IPv4" test "$(q -x 192.0.2.25)" = mta1.acme.test.
check "apply: PTR of the IPv6" test "$(q -x 2001:db8::25)" = mta1.acme.test.
check "apply: DKIM record verifies against the store's key" \
  test "$(q s1._domainkey.acme.test TXT | tr -d '" ' | sed 's/.*p=//')" \
  = "$("$COLDPOST" domain show acme.test --store "$store" --json | jq -r .dkim_record | tr -d ' ' | sed 's/.*p=//')"

# 3. Again: nothing to change.
out=$(prov --apply)
check "second run: no change" grep -q 'no change: every record is already published' <<<"$out"
out=$(prov --apply --json)
check "second run (json): 0 changes" test "$(jq -r .changes <<<"$out")" = 0
check "second run: still one SPF record" test "$(q acme.test TXT | grep -c spf1)" = 1

# 4. The deliverability test has no failing finding.
set +e
chk=$("$COLDPOST" check acme.test --dns-server "$srv" --selector s1 \
  --ip 192.0.2.25 --ip 2001:db8::25 --json)
crc=$?
set -e
check "coldpost check: exit 0" test "$crc" = 0
check "coldpost check: no fail finding" test "$(jq '[.findings[] | select(.status=="fail")] | length' <<<"$chk")" = 0
if [ "$crc" != 0 ]; then jq -r '.findings[] | select(.status=="fail") | "\(.id) \(.summary)"' <<<"$chk"; fi

# 5. A wrong key is refused and nothing changes.
set +e
"$COLDPOST" provision acme.test --store "$store" --bounce-domain other.acme.test \
  --server "$srv" --tsig "hmac-sha256:cp-prov-key:$(head -c 32 /dev/urandom | base64)" \
  --apply > "$tmp/bad.out" 2>&1
brc=$?
set -e
check "wrong TSIG secret: exit 1" test "$brc" = 1
check "wrong TSIG secret: said why" grep -Eq 'NOTAUTH|BADSIG' "$tmp/bad.out"
check "wrong TSIG secret: nothing written" test -z "$(q other.acme.test MX)"

# 6. Rotation: a new selector, the store switched, the old one retired
#    after a short grace.
out=$(prov --rotate --selector s2 --grace 1s)
echo "$out"
check "rotate: new selector published" grep -q 'v=DKIM1' <<<"$(q s2._domainkey.acme.test TXT)"
check "rotate: store signs with s2" \
  test "$("$COLDPOST" domain show acme.test --store "$store" --json | jq -r .selector)" = s2
check "rotate: old selector removed" test -z "$(q s1._domainkey.acme.test TXT)"
check "rotate: said it retired s1" grep -q 'selector s1 retired' <<<"$out"
# without --grace the old record stays until --retire
out=$(prov --rotate --selector s3)
check "rotate without grace: s2 kept" grep -q 'v=DKIM1' <<<"$(q s2._domainkey.acme.test TXT)"
check "rotate without grace: tells how to retire" grep -q -- '--retire s2' <<<"$out"
set +e
prov --retire s3 > "$tmp/ret.out" 2>&1; rrc=$?
set -e
check "retire refuses the active selector" test "$rrc" = 1
prov --retire s2 > "$tmp/ret.out"
check "retire s2: removed" test -z "$(q s2._domainkey.acme.test TXT)"
check "retire s2 again: no change" grep -q 'no change' <<<"$(prov --retire s2)"
out=$(prov --apply --json)
check "after rotation: plan is all the same" test "$(jq -r .changes <<<"$out")" = 0

# 7. domain add --provision: a second domain of the same tenant,
#    provisioned in the same command.
cat > "$tmp/beta.test.zone" <<'EOF'
$ORIGIN beta.test.
@ IN MX 10 mx.mailhost.test.
EOF
dns_server_start -k "$key" "$addr" $((port + 1)) "$tmp/beta.test.zone"
srv2=$DNS_SERVER_SPEC
out=$("$COLDPOST" domain add beta.test --tenant acme --selector b1 --store "$store" \
  --provision --server "$srv2" --tsig "$key")
check "domain add --provision: added" grep -q 'domain beta.test added' <<<"$out"
check "domain add --provision: DKIM published" \
  grep -q 'v=DKIM1' <<<"$(kdig @"$addr" -p $((port + 1)) +short b1._domainkey.beta.test TXT)"
check "domain add --provision: new SPF" \
  test "$(kdig @"$addr" -p $((port + 1)) +short beta.test TXT)" = '"v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 -all"'

# 8. No store: --ip and a key made once in --key-dir; an SPF record over
#    the lookup limit is not written (exit 1), the rest is.
mkdir -p "$tmp/keys"
gprov() { "$COLDPOST" provision gamma.test --ip 192.0.2.26=mta2.gamma.test \
  --selector g1 --key-dir "$tmp/keys" --server "$srv" --tsig "$key" "$@"; }
set +e
gprov --apply --json > "$tmp/g.json" 2> "$tmp/g.err"; grc=$?
set -e
check "over the SPF limit: exit 1" test "$grc" = 1
check "over the SPF limit: SPF blocked" \
  test "$(jq -r '.records[] | select(.kind=="spf") | .state' "$tmp/g.json")" = blocked
check "over the SPF limit: the note counts 11" \
  grep -q 'still 11 lookups' <<<"$(jq -r '.records[] | select(.kind=="spf") | .note' "$tmp/g.json")"
check "over the SPF limit: SPF left as it was" \
  test "$(q gamma.test TXT)" = '"v=spf1 include:a.gamma.test include:b.gamma.test ~all"'
check "over the SPF limit: DKIM written anyway" grep -q v=DKIM1 <<<"$(q g1._domainkey.gamma.test TXT)"
check "key kept in --key-dir, mode 0600" test "$(stat -c %a "$tmp/keys/gamma.test.g1.pem")" = 600
sum1=$(sha256sum < "$tmp/keys/gamma.test.g1.pem")
set +e
gprov --apply --json > "$tmp/g2.json" 2>/dev/null
set -e
check "no store, second run: the key file is reused" test "$(sha256sum < "$tmp/keys/gamma.test.g1.pem")" = "$sum1"
check "no store, second run: no change" test "$(jq -r .changes "$tmp/g2.json")" = 0
set +e
zone=$(gprov --ed25519 --zone --dns-server "$srv")
set -e
check "--ed25519: a second key record at g1-ed" \
  grep -q '^g1-ed\._domainkey\.gamma\.test\. 3600 IN TXT "v=DKIM1; k=ed25519; p=' <<<"$zone"
check "--ed25519: its key kept in --key-dir" test -s "$tmp/keys/gamma.test.g1-ed.pem"
check "--zone: the blocked SPF record is a comment" grep -q '^; not written' <<<"$zone"

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all provisioning checks passed"
