#!/usr/bin/env bash
# Proves: `coldpost blacklist` against a real DNS server (Knot on
# 127.0.0.67, started by tests/lib/dns_server.sh) serving local copies of
# zen.spamhaus.org, dbl.spamhaus.org, bl.spamcop.net and multi.uribl.com:
# every Spamhaus ZEN return code decoded in --json (one IP per code), the
# 127.255.255.252/254/255 refusals reported as "blocked", not listed, an
# IPv6 entry in nibble form, a domain on DBL with its TXT reason, --list
# replacing the built-in set, a server that never answers (error, exit 0),
# and the exit statuses 0/1/2.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
# shellcheck source=../lib/dns_server.sh
source "$here/tests/lib/dns_server.sh"
tmp=$(mktemp -d)
trap 'dns_server_stop; rm -rf "$tmp"' EXIT
pass=0
fail=0

# One test IP 127.0.0.N per ZEN code 127.0.0.N (and 127.0.0.5x for the
# refusals); 2001:db8::1 listed as CSS.
cat >"$tmp/zen.spamhaus.org.zone" <<'Z'
$ORIGIN zen.spamhaus.org.
2.0.0.127   A 127.0.0.2
2.0.0.127   TXT "https://check.spamhaus.org/sbl/query/SBL1"
3.0.0.127   A 127.0.0.3
4.0.0.127   A 127.0.0.4
5.0.0.127   A 127.0.0.5
6.0.0.127   A 127.0.0.6
7.0.0.127   A 127.0.0.7
9.0.0.127   A 127.0.0.9
10.0.0.127  A 127.0.0.10
11.0.0.127  A 127.0.0.11
52.0.0.127  A 127.255.255.252
54.0.0.127  A 127.255.255.254
55.0.0.127  A 127.255.255.255
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2 A 127.0.0.3
Z
cat >"$tmp/dbl.spamhaus.org.zone" <<'Z'
$ORIGIN dbl.spamhaus.org.
spam.example    A 127.0.1.2
spam.example    TXT "https://www.spamhaus.org/query/domain/spam.example"
phish.example   A 127.0.1.4
a103.example    A 127.0.1.103
Z
cat >"$tmp/bl.spamcop.net.zone" <<'Z'
$ORIGIN bl.spamcop.net.
2.0.0.127 A 127.0.0.2
Z
cat >"$tmp/multi.uribl.com.zone" <<'Z'
$ORIGIN multi.uribl.com.
spam.example A 127.0.0.2
Z

dns_server_start 127.0.0.67 5367 "$tmp"/*.zone
server=$DNS_SERVER_SPEC
zen=(--list zen.spamhaus.org)

# run NAME WANT_EXIT PY_EXPR ARGS...: --json output checked by a Python expr
run() {
  local name=$1 want=$2 expr=$3 out rc=0
  shift 3
  out=$("$bin" blacklist --json --dns-server "$server" --timeout 500 "$@" \
    2>"$tmp/err") || rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $name: exit $rc, want $want ($(cat "$tmp/err"))"
    fail=$((fail + 1)); return
  fi
  if python3 -c '
import json, sys
j = json.loads(sys.argv[2])
L = {x["zone"]: x for x in j["lists"]}
ok = eval("(" + sys.argv[1] + ")")
if not ok:
    print(json.dumps(j, indent=1))
sys.exit(0 if ok else 1)' "$expr" "$out" >"$tmp/py" 2>&1; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name: $expr"; sed 's/^/     /' "$tmp/py"
  fi
}

# every ZEN code: code -> sub-list it must decode to
for c in 2:SBL 3:"SBL CSS" 4:XBL 5:XBL 6:XBL 7:XBL 9:"SBL DROP/EDROP" \
  10:"PBL ISP" 11:"PBL Spamhaus"; do
  n=${c%%:*} sub=${c#*:}
  run "zen 127.0.0.$n -> $sub" 1 \
    "j['listed'] and L['zen.spamhaus.org']['codes'] == ['127.0.0.$n'] and
     L['zen.spamhaus.org']['meanings'][0].startswith('$sub: ') and
     L['zen.spamhaus.org']['delist'] == 'https://check.spamhaus.org/'" \
    "${zen[@]}" "127.0.0.$n"
done
run "zen SBL TXT reason" 1 \
  "L['zen.spamhaus.org']['txt'] == 'https://check.spamhaus.org/sbl/query/SBL1'" \
  "${zen[@]}" 127.0.0.2
for c in 52:typo 54:"public/open resolver" 55:"too many queries"; do
  n=${c%%:*} why=${c#*:}
  run "zen 127.255.255.2$n is a refusal ($why)" 0 \
    "not j['listed'] and L['zen.spamhaus.org']['status'] == 'blocked' and
     L['zen.spamhaus.org']['listed'] is False and
     '$why' in L['zen.spamhaus.org']['error']" "${zen[@]}" "127.0.0.$n"
done
run "zen clean IP" 0 \
  "L['zen.spamhaus.org']['status'] == 'not listed' and
   L['zen.spamhaus.org']['codes'] == []" "${zen[@]}" 127.0.0.1
run "zen IPv6 nibble entry" 1 \
  "L['zen.spamhaus.org']['codes'] == ['127.0.0.3'] and
   L['zen.spamhaus.org']['query'].startswith('1.0.0.0.') and
   L['zen.spamhaus.org']['query'].endswith('8.b.d.0.1.0.0.2.zen.spamhaus.org')" \
  "${zen[@]}" 2001:db8::1

# the built-in set: IP lists only for an IP; the zones not served here
# answer REFUSED or NXDOMAIN from this server, never "listed"
run "built-in set, IP on ZEN and SpamCop" 1 \
  "len(j['lists']) == 7 and j['listed_on'] == 2 and
   L['bl.spamcop.net']['listed'] and L['zen.spamhaus.org']['listed'] and
   all(x['kind'] == 'ip' for x in j['lists']) and
   not L['psbl.surriel.com']['listed']" 127.0.0.2
run "built-in set, domain on DBL and URIBL" 1 \
  "len(j['lists']) == 3 and L['dbl.spamhaus.org']['codes'] == ['127.0.1.2']
   and L['dbl.spamhaus.org']['meanings'] == ['DBL: spam domain']
   and L['dbl.spamhaus.org']['txt'].endswith('/spam.example')
   and L['multi.uribl.com']['meanings'] == ['domain seen in spam (black)']" \
  spam.example
run "DBL phishing" 1 \
  "L['dbl.spamhaus.org']['meanings'] == ['DBL: phishing domain']" \
  --list dbl.spamhaus.org:domain phish.example
run "DBL abused redirector" 1 \
  "'redirector' in L['dbl.spamhaus.org']['meanings'][0]" \
  --list dbl.spamhaus.org:domain a103.example
run "DBL clean domain" 0 \
  "L['dbl.spamhaus.org']['status'] == 'not listed'" \
  --list dbl.spamhaus.org:domain clean.example

# a lists file replaces the built-in set too
printf '# test lists\nbl.spamcop.net\n\ndbl.spamhaus.org:domain\n' >"$tmp/lists"
run "--lists-file" 1 \
  "[x['zone'] for x in j['lists']] == ['bl.spamcop.net'] and
   L['bl.spamcop.net']['listed']" --lists-file "$tmp/lists" 127.0.0.2
printf 'bl.spamcop.net:url\n' >"$tmp/badlists"

# human output
out=$("$bin" blacklist --dns-server "$server" "${zen[@]}" 127.0.0.4) && rc=0 || rc=$?
if [ "$rc" -eq 1 ] && grep -q "LISTED" <<<"$out" &&
  grep -q "XBL: hijacked" <<<"$out" &&
  grep -q "delisting: https://check.spamhaus.org/" <<<"$out" &&
  grep -q "listed on 1 of 1 lists" <<<"$out"; then
  pass=$((pass + 1)); echo "ok   human output"
else
  fail=$((fail + 1)); echo "FAIL human output (exit $rc):"; echo "$out"
fi

# usage errors: exit 2
for args in "" "127.0.0.2 extra" "--list x:url 127.0.0.2" \
  "--timeout 0 127.0.0.2" "--list zen.spamhaus.org example.com" \
  "bad!name" "--lists-file $tmp/badlists 127.0.0.2" \
  "--lists-file $tmp/nonexistent 127.0.0.2"; do
  rc=0
  # shellcheck disable=SC2086
  "$bin" blacklist --dns-server "$server" $args >/dev/null 2>&1 || rc=$?
  if [ "$rc" -eq 2 ]; then
    pass=$((pass + 1)); echo "ok   usage '$args' -> 2"
  else
    fail=$((fail + 1)); echo "FAIL usage '$args': exit $rc"
  fi
done

# a server that never answers: an error per list, not a listing
dns_server_start_blackhole 127.0.0.67 5368
run "dead server is an error" 0 \
  "not j['listed'] and L['zen.spamhaus.org']['status'] == 'error' and
   j['unchecked'] == 1" --dns-server "$DNS_SERVER_SPEC" --timeout 200 \
  "${zen[@]}" 127.0.0.2

echo "blacklist_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
