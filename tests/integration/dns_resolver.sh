#!/usr/bin/env bash
# Proves: coldpost's resolver (c-ares, src/dns/dns_cares.c) gets every case
# right against a real authoritative server (Knot DNS, tests/lib/
# dns_server.sh) serving tests/data/dns/server/*.zone, through
# `coldpost dns NAME TYPE --json`:
#   A (2 records), AAAA, MX (2, and a null MX), TXT strings joined per
#   record, two TXT records, a 2000-byte TXT that only TCP can carry (and
#   fails through a UDP-only relay, so TCP was really used), PTR from an
#   IP, NS, a CNAME chain (TTL the least on the way), a CNAME into another
#   zone (asked again), a CNAME loop (tempfail), NXDOMAIN and NODATA with
#   the SOA's negative TTL, an empty non-terminal (NODATA), REFUSED, a
#   server that never answers (tempfail within the small timeout), the
#   cache (--repeat), /etc/resolv.conf as the server list (port 53, in a
#   private mount namespace), and usage errors.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
# shellcheck source=../lib/dns_server.sh
source "$here/tests/lib/dns_server.sh"
tmp=$(mktemp -d)
relay_pid=""
cleanup() {
  dns_server_stop
  if [ -n "$relay_pid" ]; then
    kill "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

zones=("$here"/tests/data/dns/server/resolver.test.zone
       "$here"/tests/data/dns/server/other.test.zone
       "$here"/tests/data/dns/server/2.0.192.in-addr.arpa.zone)
dns_server_start 127.0.53.1 5353 "${zones[@]}"
srv=$DNS_SERVER_SPEC

# check NAME TYPE PYTHON-EXPR [coldpost options...]: the expression is
# evaluated with o = the JSON answer; exit status 0 unless status is
# tempfail/error (then 1).
check() {
  local name=$1 type=$2 expr=$3 out rc=0; shift 3
  out=$("$bin" dns "$name" "$type" --dns-server "$srv" --json "$@" 2>&1) || rc=$?
  if python3 - "$out" "$expr" "$rc" <<'PY'
import json, sys
out, expr, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
o = json.loads(out.splitlines()[-1])
want_rc = 1 if o["status"] in ("tempfail", "error") else 0
r = o["records"]
if rc != want_rc:
    sys.exit("exit %d, want %d" % (rc, want_rc))
if not eval(expr):
    sys.exit("false: " + expr)
PY
  then ok "$name $type: ${expr:0:110}"
  else bad "$name $type: ${expr:0:300}"; echo "     got: ${out:0:600}"
  fi
}

check a.resolver.test A 'o["status"]=="ok" and o["ttl"]==600 and sorted(x["address"] for x in r)==["192.0.2.1","192.0.2.2"]'
check aaaa.resolver.test AAAA 'o["status"]=="ok" and [x["address"] for x in r]==["2001:db8::1"] and o["ttl"]==300'
check resolver.test MX 'sorted((x["preference"],x["exchange"]) for x in r)==[(10,"mx1.resolver.test"),(20,"mx2.other.test")]'
check nullmx.resolver.test MX 'len(r)==1 and r[0]["preference"]==0 and r[0]["exchange"]=="" and r[0]["null_mx"] is True'
check txt.resolver.test TXT 'len(r)==1 and r[0]["text"]=="v=spf1 ip4:192.0.2.0/24 -all"'
check multi.resolver.test TXT 'sorted(x["text"] for x in r)==["first","second"]'
big=$(python3 -c 'print("".join("%03d-" % i + "x"*246 for i in range(8)))')
check big.resolver.test TXT "len(r)==1 and r[0]['length']==2000 and r[0]['text']=='$big'"
check bin.resolver.test TXT 'r[0]["length"]==5 and r[0]["text"]=="a\x00b\"c" and r[0]["data"]=="\"a\\000b\\\"c\""'
check 192.0.2.1 PTR 'o["name"]=="1.2.0.192.in-addr.arpa" and [x["target"] for x in r]==["a.resolver.test"]'
check resolver.test NS '[x["target"] for x in r]==["ns1.resolver.test"]'
check chain1.resolver.test A 'o["status"]=="ok" and o["ttl"]==60 and [x["address"] for x in r]==["192.0.2.3"] and o["name"]=="chain1.resolver.test"'
check chain1.resolver.test CNAME '[x["target"] for x in r]==["chain2.resolver.test"]'
check ext.resolver.test A 'o["status"]=="ok" and [x["address"] for x in r]==["192.0.2.80"] and o["stats"]["queries"]==2'
check loop1.resolver.test A 'o["status"]=="tempfail" and "CNAME" in o["why"]'
check nope.resolver.test A 'o["status"]=="nxdomain" and o["ttl"]==120 and r==[]'
check nodata.resolver.test TXT 'o["status"]=="nodata" and o["ttl"]==120 and r==[]'
check ent.resolver.test A 'o["status"]=="nodata" and o["ttl"]==120'
check example.org A 'o["status"]=="tempfail" and "REFUSED" in o["why"]'
check a.resolver.test A 'o["stats"]["queries"]==1 and o["stats"]["cache_hits"]==1 and o["ttl"] in (599,600)' --repeat 2

# TCP fallback: over UDP the answer is truncated (TC, no EDNS) ...
if kdig @127.0.53.1 -p 5353 +notcp +ignore +noedns big.resolver.test TXT | grep -q 'Flags: qr aa tc'; then
  ok "big TXT is truncated over UDP (TC set)"
else
  bad "big TXT not truncated over UDP"
fi
# ... and through a relay that carries UDP only, coldpost cannot get it,
# while a small answer passes: the full answer above came over TCP.
python3 - 127.0.53.3 5353 127.0.53.1 5353 "$tmp/relay.ready" <<'PY' &
import socket, sys, select
la, lp, sa, sp, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((la, lp))
open(ready, "w").close()
while True:
    data, peer = s.recvfrom(65535)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
    u.sendto(data, (sa, sp))
    try:
        s.sendto(u.recv(65535), peer)
    except socket.timeout:
        pass
    u.close()
PY
relay_pid=$!
for _ in $(seq 50); do [ -e "$tmp/relay.ready" ] && break; sleep 0.1; done
srv_main=$srv
srv=127.0.53.3:5353
check txt.resolver.test TXT 'o["status"]=="ok" and r[0]["text"].startswith("v=spf1")' --timeout 300 --tries 1
check big.resolver.test TXT 'o["status"]=="tempfail"' --timeout 300 --tries 1
srv=$srv_main

# A server that never answers: tempfail, fast with a small timeout.
dns_server_start_blackhole 127.0.53.4 5353
srv=$DNS_SERVER_SPEC
start=$(date +%s%N)
check a.resolver.test A 'o["status"]=="tempfail" and "timeout" in o["why"]' --timeout 200 --tries 2
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -lt 3000 ]; then ok "timeout took $ms ms (200 + 400 expected, default would be 14 s)"; else bad "timeout took $ms ms"; fi
# Nothing listening: connection refused, at once.
srv=127.0.53.5:5353
check a.resolver.test A 'o["status"]=="tempfail" and "refused" in o["why"]'
srv=$srv_main

# Human output.
out=$("$bin" dns resolver.test MX --dns-server "$srv")
if grep -q '^; resolver.test MX: ok, ttl 300, 2 records$' <<<"$out" &&
   grep -qP '^resolver.test.\t300\tIN\tMX\t10 mx1.resolver.test.$' <<<"$out"; then
  ok "human output"
else
  bad "human output: $out"
fi

# /etc/resolv.conf as the server list: a server on port 53 and a private
# resolv.conf naming it (dns_server_exec), no --dns-server.
dns_server_start 127.0.53.2 53 "${zones[@]}"
out=$(dns_server_exec "$bin" dns txt.resolver.test TXT --json)
if python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["records"][0]["text"].startswith("v=spf1 ip4")' "$out"; then
  ok "servers from /etc/resolv.conf"
else
  bad "servers from /etc/resolv.conf: $out"
fi

# Usage errors exit 2.
for args in "a.test A --dns-server 1.2.3.4:0" "a.test BOGUS --dns-server $srv" "" "a.test A --timeout x --dns-server $srv"; do
  rc=0; "$bin" dns $args >/dev/null 2>&1 || rc=$?
  if [ "$rc" = 2 ]; then ok "usage error exits 2: '$args'"; else bad "'$args' exit $rc"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
