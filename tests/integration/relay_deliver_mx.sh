#!/usr/bin/env bash
# Proves: the delivery engine finds next hops in real DNS (Knot on
# loopback, tests/lib/dns_server.sh) as RFC 5321 5.1 and RFC 7505 say, with
# delivery.mx_port pointing at receivers on 127.0.0.x:
#  - MX hosts are tried by preference: the first refuses connections, the
#    second takes the mail, the third (a lower preference) sees nothing;
#  - a 421 greeting moves on to the next MX;
#  - a domain without MX is its own implicit MX (its A record);
#  - a null MX ("0 .") bounces at once with 556 5.1.10 and a DSN;
#  - a domain that does not exist bounces with 550 5.1.2;
#  - the DSNs go out like any message (null sender) to the sender's domain;
#  - the source address is the tenant's pool address;
#  - IPv6 first (AAAA before A) from a source that can, IPv4 from an IPv4
#    pool address.
# Ports 27040-27059, addresses 127.0.0.21-127.0.0.31.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
bdir=${BUILD_DIR:-$(dirname "$cp")}
run=$bdir/tests/cp-deliver-run
eng() { # cp-deliver-run with its stderr also kept in all.err (sanitizer reports)
  "$run" "$@" 2> >(tee -a "$tmp/all.err" >&2)
}
py=/usr/bin/python3
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
source "$here/tests/lib/dns_server.sh"
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  dns_server_stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else
    echo "FAIL $name"; fails=$((fails + 1)); tail -15 "$tmp/run.err" | sed 's/^/     /'; fi
}

cat >"$tmp/mx.test.zone" <<'EOF'
$ORIGIN mx.test.
pref      300 IN MX 10 dead.mx.test.
pref      300 IN MX 20 live.mx.test.
pref      300 IN MX 30 backup.mx.test.
greet     300 IN MX 10 busy.mx.test.
greet     300 IN MX 20 live.mx.test.
nullmx    300 IN MX 0 .
implicit  300 IN A 127.0.0.22
dead      300 IN A 127.0.0.21
live      300 IN A 127.0.0.22
backup    300 IN A 127.0.0.23
busy      300 IN A 127.0.0.24
v6        300 IN AAAA ::1
v6        300 IN A 127.0.0.23
EOF
dns_server_start 127.0.0.31 27053 "$tmp/mx.test.zone" >/dev/null || exit 1
dns=$DNS_SERVER_SPEC

for h in live backup; do mkdir -p "$tmp/$h"; chmod 777 "$tmp/$h"; done
/usr/sbin/smtp-sink -u nobody -d "$tmp/live/%M." 127.0.0.22:27045 100 2>/dev/null &
pids+=($!)
/usr/sbin/smtp-sink -u nobody -d "$tmp/backup/%M." 127.0.0.23:27045 100 2>/dev/null &
pids+=($!)
mkdir -p "$tmp/v6"; chmod 777 "$tmp/v6"
/usr/sbin/smtp-sink -u nobody -d "$tmp/v6/%M." '[::1]:27045' 100 2>/dev/null &
pids+=($!)
"$py" "$here/tests/lib/receiver.py" --listen 127.0.0.24:27045 --dir "$tmp/busy" \
  --pid-file "$tmp/busy.pid" --rule 'connect:*=421 4.3.2 Too busy, try another server' \
  2>"$tmp/busy.log" &
pids+=($!)
for i in $(seq 100); do [ -s "$tmp/busy.pid" ] && break; sleep 0.1; done
for a in 127.0.0.22 127.0.0.23; do
  for i in $(seq 50); do (exec 3<>/dev/tcp/$a/27045) 2>/dev/null && break; sleep 0.1; done
done

cat >"$tmp/c.conf" <<EOF
[server]
hostname = relay.test
store = sqlite:$tmp/q.db
[delivery]
mx_port = 27045
connect_timeout = 5s
EOF
S=(--config "$tmp/c.conf")
"$cp" tenant add acme "${S[@]}" >/dev/null &&
  "$cp" tenant add beta "${S[@]}" >/dev/null &&
  "$cp" pool add acme 127.0.0.9 --ehlo out9.acme.test "${S[@]}" >/dev/null ||
  { echo "FAIL store setup"; exit 1; }

eng "${S[@]}" --dns-server "$dns" --push 1 --tenant 1 --from ann@implicit.mx.test \
  --rcpt a@pref.mx.test --rcpt b@nullmx.mx.test --rcpt c@implicit.mx.test \
  --rcpt d@greet.mx.test --rcpt e@nxd.mx.test \
  --until-final --timeout 60 >"$tmp/run.out" 2>"$tmp/run.err"
cat "$tmp/run.out"
check "3 delivered + 2 DSNs, 2 bounced" \
  grep -q "^delivered=5 deferred=0 bounced=2 expired=0 dsns=2 " "$tmp/run.out"
rcpts() { grep -h '^X-Rcpt-Args:' "$tmp"/$1/* 2>/dev/null | sort | tr '\n' ' '; }
check "preference order: the live MX got a, c, d and the DSNs" \
  test "$(rcpts live)" = "X-Rcpt-Args: <a@pref.mx.test> X-Rcpt-Args: <ann@implicit.mx.test> X-Rcpt-Args: <ann@implicit.mx.test> X-Rcpt-Args: <c@implicit.mx.test> X-Rcpt-Args: <d@greet.mx.test> "
check "the MX of lower preference got nothing" test -z "$(rcpts backup)"
check "refused connection to the first MX, then the next" \
  grep -q 'connect dead.mx.test \[127.0.0.21\] from 127.0.0.9: .*refused' "$tmp/run.err"
check "421 greeting, then the next MX" \
  grep -q 'connect busy.mx.test \[127.0.0.24\] from 127.0.0.9: 421 4.3.2' "$tmp/run.err"
check "source address is the pool's at the MX" \
  test "$(grep -L '^X-Client-Addr: 127.0.0.9$' "$tmp"/live/* | wc -l)" -eq 0
check "null MX bounced with 556 5.1.10 naming it" \
  grep -q 'rcpt=<b@nullmx.mx.test> mx=- ip=- status=bounced code=556 dsn=5.1.10 .*null MX' "$tmp/run.err"
check "no such domain bounced with 550 5.1.2" \
  grep -q 'rcpt=<e@nxd.mx.test> .*status=bounced code=550 dsn=5.1.2' "$tmp/run.err"
check "DSNs come from the null sender" \
  test "$(grep -l '^X-Mail-Args: <>' "$tmp"/live/* | wc -l)" -eq 2
msg=$(grep -o 'id=[0-9]* rcpt=<b@nullmx.mx.test>' "$tmp/run.err" | head -1 | sed 's/id=\([0-9]*\).*/\1/')
"$cp" queue show "${msg:-0}" "${S[@]}" --json >"$tmp/show.json" 2>>"$tmp/run.err"
check "store: attempts with mx host, states per recipient" "$py" -c "
import json; d = json.load(open('$tmp/show.json'))
st = {r['address']: r['state'] for r in d['recipients']}
assert st == {'a@pref.mx.test': 'delivered', 'b@nullmx.mx.test': 'bounced',
  'c@implicit.mx.test': 'delivered', 'd@greet.mx.test': 'delivered',
  'e@nxd.mx.test': 'bounced'}, st
mx = {a['mx'] for a in d['attempts'] if a['outcome'] == 'delivered'}
assert mx == {'live.mx.test', 'implicit.mx.test'}, mx
n = [a for a in d['attempts'] if a['code'] == 556][0]
assert n['enhanced'] == '5.1.10' and 'null MX' in n['reply'], n
"

# ---- IPv6 and IPv4: AAAA first from a source that can (the default one);
# a pool of IPv4 addresses goes to the A record
eng "${S[@]}" --dns-server "$dns" --push 1 --tenant 2 --from bob@implicit.mx.test \
  --rcpt six@v6.mx.test --timeout 30 >"$tmp/run.out" 2>"$tmp/run.err"
eng "${S[@]}" --dns-server "$dns" --push 1 --tenant 1 --from ann@implicit.mx.test \
  --rcpt four@v6.mx.test --timeout 30 >>"$tmp/run.out" 2>>"$tmp/run.err"
check "no pool: delivered over IPv6 to the AAAA first" \
  bash -c "grep -q '^X-Rcpt-Args: <six@v6.mx.test>' '$tmp'/v6/* && grep -q '^X-Client-Addr: ipv6:::1' '$tmp'/v6/*"
check "IPv4 pool: delivered to the A record" \
  bash -c "grep -q '^X-Rcpt-Args: <four@v6.mx.test>' '$tmp'/backup/* && grep -q '^X-Client-Addr: 127.0.0.9' '$tmp'/backup/*"

sleep 0.2
check "no sanitizer report from the engine" \
  bash -c "! grep -q 'Sanitizer\|runtime error' '$tmp/all.err'"

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
