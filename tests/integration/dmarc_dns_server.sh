#!/usr/bin/env bash
# Proves: `coldpost dmarc --dns-server` finds DMARC policies through the
# c-ares resolver against a real DNS server (Knot on 127.0.0.57, started
# here by tests/lib/dns_server.sh): the organizational domain's record
# under co.uk with sp=, np= from real NXDOMAIN answers for A/AAAA/MX,
# several records (none), a record split over character-strings longer
# than 255 bytes in all, a malformed record (permerror), and a server that
# never answers (temperror).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
zones=$here/tests/data/dmarc/server
# shellcheck source=../lib/dns_server.sh
source "$here/tests/lib/dns_server.sh"
tmp=$(mktemp -d)
trap 'dns_server_stop; rm -rf "$tmp"' EXIT
pass=0
fail=0

dns_server_start 127.0.0.57 5357 "$zones/example.co.uk.zone" \
  "$zones/dmarc.test.zone"
server=$DNS_SERVER_SPEC

check() { # name, python expression over j, args...
  local name=$1 expr=$2 out rc=0
  shift 2
  out=$("$bin" dmarc --json "$@" 2>"$tmp/err") || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "FAIL $name: exit $rc ($(cat "$tmp/err"))"; fail=$((fail + 1)); return
  fi
  if python3 -c '
import json, sys
j = json.loads(sys.argv[2])
ok = eval(sys.argv[1])
if not ok:
    print(json.dumps(j, indent=1))
sys.exit(0 if ok else 1)' "$expr" "$out" >"$tmp/py" 2>&1; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name: $expr"; sed 's/^/     /' "$tmp/py"
  fi
}

check co_uk_org_record "j['result'] == 'pass' and j['org_domain'] == 'example.co.uk' and j['record_at_org'] and j['dns'] == '$server'" \
  --dns-server "$server" --from-domain mail.example.co.uk --spf pass:bounce.example.co.uk
check co_uk_sp "j['result'] == 'fail' and j['disposition'] == 'quarantine' and j['policy_tag'] == 'sp'" \
  --dns-server "$server" --from-domain mail.example.co.uk --spf pass:other.co.uk
check np_nxdomain "j['result'] == 'fail' and j['disposition'] == 'reject' and j['policy_tag'] == 'np' and j['from_exists'] is False" \
  --dns-server "$server" --from-domain ghost.dmarc.test
check np_existing "j['disposition'] == 'quarantine' and j['policy_tag'] == 'sp' and j['from_exists'] is True" \
  --dns-server "$server" --from-domain exists.dmarc.test
check strict_dkim "j['result'] == 'fail' and not j['dkim'][0]['aligned']" \
  --dns-server "$server" --from-domain exists.dmarc.test --dkim pass:dmarc.test
check multiple_records "j['result'] == 'none' and '2 DMARC records' in j['reason']" \
  --dns-server "$server" --from-domain multi.dmarc.test
check split_strings "j['result'] == 'fail' and j['policy'] == 'quarantine' and j['record_name'] == '_dmarc.split.dmarc.test' and j['parsed']['rua'][0]['uri'] == 'mailto:' + 'a' * 300 + '@dmarc.test'" \
  --dns-server "$server" --from-domain split.dmarc.test
check permerror "j['result'] == 'permerror' and 'aspf=x' in j['reason']" \
  --dns-server "$server" --from-domain broken.dmarc.test

dns_server_start_blackhole 127.0.0.57 5358
check temperror_no_answer "j['result'] == 'temperror' and j['disposition'] == 'none' and '_dmarc.example.co.uk' in j['reason']" \
  --dns-server "$DNS_SERVER_SPEC" --timeout 200 --from-domain example.co.uk

echo "dmarc_dns_server: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
