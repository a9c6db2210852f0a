#!/usr/bin/env bash
# Proves: tests/lib/dns_server.sh starts a real Knot DNS server on a given
# 127.0.0.x address and port (including 53), serves zone files named by
# $ORIGIN or file name (SOA/NS added when missing), accepts TSIG-signed
# RFC 2136 updates when started with -u and refuses unsigned ones, points
# the system resolver at itself in dns_server_exec, runs two servers at
# once, a blackhole that never answers, and stops them all.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/dns_server.sh
source "$here/tests/lib/dns_server.sh"
tmp=$(mktemp -d)
trap 'dns_server_stop; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$tmp/second.zone" <<'Z'
$ORIGIN Second.Example.
$TTL 60
@   IN SOA ns1.second.example. root.second.example. 7 3600 600 86400 120
@   IN NS  ns1.second.example.
ns1 IN A   192.0.2.53
mx  IN MX  10 mail.second.example.
Z

# 1. a server on a high port, serving a file-named zone and a $ORIGIN zone.
dns_server_start -u 127.0.52.1 5353 "$here/tests/data/dns/server/smoke.test.zone" "$tmp/second.zone"
first_pid=$DNS_SERVER_PID
[ "$DNS_SERVER_SPEC" = 127.0.52.1:5353 ] || fail "spec $DNS_SERVER_SPEC"
kill -0 "$first_pid" || fail "no process $first_pid"
got=$(kdig @127.0.52.1 -p 5353 +short www.smoke.test A)
[ "$got" = 192.0.2.10 ] || fail "www.smoke.test A: '$got'"
got=$(kdig @127.0.52.1 -p 5353 +short smoke.test TXT)
[ "$got" = '"v=spf1 -all"' ] || fail "smoke.test TXT: '$got'"
got=$(kdig @127.0.52.1 -p 5353 +short mx.second.example MX)
[ "$got" = '10 mail.second.example.' ] || fail "MX: '$got'"
got=$(kdig @127.0.52.1 -p 5353 +short second.example SOA | awk '{print $3, $7}')
[ "$got" = '7 120' ] || fail "SOA kept from file: '$got'"
got=$(kdig @127.0.52.1 -p 5353 +short smoke.test SOA | awk '{print $1, $7}')
[ "$got" = 'ns.smoke.test. 300' ] || fail "SOA added: '$got'"
kdig @127.0.52.1 -p 5353 nope.smoke.test A | grep -q 'status: NXDOMAIN' || fail "no NXDOMAIN"
kdig @127.0.52.1 -p 5353 +tcp +short www.smoke.test A | grep -qx 192.0.2.10 || fail "TCP"
echo "ok: serves zones on 127.0.52.1:5353 (UDP and TCP)"

# 2. dynamic update with the TSIG key; an unsigned one is refused.
[ -n "$DNS_SERVER_TSIG" ] && [ -s "$DNS_SERVER_DIR/tsig.key" ] || fail "no TSIG key"
printf 'zone smoke.test\nupdate add new.smoke.test. 60 TXT "added"\n' | dns_server_update
got=$(kdig @127.0.52.1 -p 5353 +short new.smoke.test TXT)
[ "$got" = '"added"' ] || fail "update not applied: '$got'"
if printf 'server 127.0.52.1 5353\nzone smoke.test\nupdate add bad.smoke.test. 60 A 192.0.2.66\nsend\n' |
     knsupdate >/dev/null 2>&1; then
  fail "unsigned update accepted"
fi
[ -z "$(kdig @127.0.52.1 -p 5353 +short bad.smoke.test A)" ] || fail "unsigned update applied"
echo "ok: TSIG-signed update applied, unsigned update refused"

# 3. a second server at once, on port 53, used as the system resolver.
sum_before=$(md5sum < /etc/resolv.conf)
dns_server_start 127.0.52.2 53 "$tmp/second.zone"
[ "$DNS_SERVER_PID" != "$first_pid" ] || fail "same pid"
got=$(dns_server_exec getent ahostsv4 ns1.second.example | awk 'NR==1{print $1}')
[ "$got" = 192.0.2.53 ] || fail "system resolver through port 53: '$got'"
[ "$(md5sum < /etc/resolv.conf)" = "$sum_before" ] || fail "the machine's resolv.conf was changed"
echo "ok: port 53 server answers the system resolver (getent) inside dns_server_exec"

# 4. stop one; the other keeps answering.
second_pid=$DNS_SERVER_PID
second_dir=$DNS_SERVER_DIR
dns_server_stop "$second_pid"
! kill -0 "$second_pid" 2>/dev/null || fail "second server still running"
[ ! -d "$second_dir" ] || fail "dir left behind"
kdig @127.0.52.1 -p 5353 +short www.smoke.test A | grep -qx 192.0.2.10 || fail "first server gone"

# 5. blackhole: no answer within the timeout.
dns_server_start_blackhole 127.0.52.3 5353
start=$(date +%s%N)
if kdig @127.0.52.3 -p 5353 +timeout=1 +retry=0 www.smoke.test A >/dev/null 2>&1 &&
   kdig @127.0.52.3 -p 5353 +timeout=1 +retry=0 www.smoke.test A | grep -q 'status:'; then
  fail "blackhole answered"
fi
echo "ok: blackhole silent ($(( ($(date +%s%N) - start) / 1000000 )) ms)"

# 6. stop all.
dns_server_stop
! kill -0 "$first_pid" 2>/dev/null || fail "first server still running"
! kdig @127.0.52.1 -p 5353 +timeout=1 +retry=0 www.smoke.test A 2>/dev/null | grep -q 'status:' || fail "still answering"
dns_server_stop   # twice is fine
echo "ok: all stopped"
