#!/usr/bin/env bash
# Proves: `coldpost dmarc --zone` gives the right DMARC result, disposition,
# record, organizational domain, policy and per-identifier alignment for
# each case of tests/data/dmarc/dmarc.zone: relaxed and strict alignment of
# SPF and DKIM, organizational domains under co.uk, com.au, blogspot.com
# and github.io, sp= and np= for subdomains, pct= sampling, a missing
# record, several records, DNS failure (temperror) and malformed records
# (permerror with the reason); plus the Authentication-Results line, the
# human output and the exit codes for usage errors and bad input.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
zone=$here/tests/data/dmarc/dmarc.zone
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

# check NAME 'PYTHON EXPRESSION over j' ARGS... : runs coldpost dmarc --json
# on the zone, then asserts the expression about the JSON object j.
check() {
  local name=$1 expr=$2 out rc=0
  shift 2
  out=$("$bin" dmarc --zone "$zone" --json "$@" 2>"$tmp/err") || rc=$?
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

r() { # result and disposition
  printf "j['result'] == '%s' and j['disposition'] == '%s'" "$1" "$2"
}

# --- relaxed alignment (the default) --------------------------------------
check relaxed_spf_subdomain "$(r pass none) and j['spf']['aligned'] and not j['spf']['aligned_strict'] and j['spf']['mode'] == 'relaxed' and j['record'] == 'v=DMARC1; p=reject; rua=mailto:dmarc@example.com' and j['parsed']['rua'][0]['uri'] == 'mailto:dmarc@example.com'" \
  --from-domain example.com --spf pass:bounce.example.com
check relaxed_dkim_parent "$(r pass none) and j['dkim'][0]['aligned'] and not j['spf']['aligned'] and j['record_at_org'] and j['record_name'] == '_dmarc.example.com'" \
  --from-domain mail.example.com --spf pass:esp.example --dkim pass:example.com
check relaxed_nothing_aligned "$(r fail reject) and not j['dkim'][0]['counts'] and j['dkim'][1]['aligned'] and not j['dkim'][1]['counts']" \
  --from-domain example.com --spf pass:esp.example --dkim pass:esp.example --dkim fail:example.com
check relaxed_softfail_does_not_count "$(r fail reject) and j['spf']['aligned'] and not j['spf']['counts']" \
  --from-domain example.com --spf softfail:example.com

# --- strict alignment -------------------------------------------------------
check strict_spf_subdomain_fails "$(r fail quarantine) and not j['spf']['aligned'] and j['spf']['aligned_relaxed'] and j['spf']['mode'] == 'strict'" \
  --from-domain example.org --spf pass:bounce.example.org
check strict_spf_exact_passes "$(r pass none) and j['spf']['aligned_strict']" \
  --from-domain example.org --spf pass:example.org
check strict_dkim_parent_fails "$(r fail quarantine) and j['dkim'][0]['mode'] == 'strict' and not j['dkim'][0]['aligned']" \
  --from-domain news.example.org --dkim pass:example.org
check strict_dkim_exact_passes "$(r pass none)" \
  --from-domain news.example.org --dkim pass:news.example.org
check strict_split_record "$(r fail reject) and j['parsed']['adkim'] == 's' and j['record'] == 'v=DMARC1; p=reject; adkim=s'" \
  --from-domain split.com --dkim pass:mail.split.com

# --- organizational domains under multi-label and private suffixes --------
check co_uk_aligned "$(r pass none) and j['org_domain'] == 'example.co.uk' and j['record_name'] == '_dmarc.example.co.uk'" \
  --from-domain mail.example.co.uk --spf pass:bounce.example.co.uk
check co_uk_siblings_not_aligned "$(r fail reject) and j['spf']['org_domain'] == 'other.co.uk' and not j['dkim'][0]['aligned']" \
  --from-domain mail.example.co.uk --spf pass:other.co.uk --dkim pass:evil.co.uk
check com_au_aligned "$(r pass none) and j['org_domain'] == 'example.com.au'" \
  --from-domain shop.example.com.au --dkim pass:example.com.au
check com_au_siblings_not_aligned "$(r fail quarantine)" \
  --from-domain shop.example.com.au --dkim pass:another.com.au
check blogspot_own_org "$(r pass none) and j['org_domain'] == 'alice.blogspot.com'" \
  --from-domain www.alice.blogspot.com --dkim pass:alice.blogspot.com
check blogspot_neighbours_not_aligned "$(r fail reject) and j['spf']['org_domain'] == 'bob.blogspot.com'" \
  --from-domain alice.blogspot.com --spf pass:bob.blogspot.com
check blogspot_suffix_record_unused "$(r none none) and j['record'] is None" \
  --from-domain bob.blogspot.com --spf pass:other.example
check github_io "$(r pass none) and not j['spf']['aligned'] and j['dkim'][0]['aligned']" \
  --from-domain alice.github.io --spf pass:bob.github.io --dkim pass:alice.github.io

# --- subdomain policies ------------------------------------------------------
check sp_for_subdomain "$(r fail quarantine) and j['policy_tag'] == 'sp' and j['policy'] == 'quarantine'" \
  --from-domain news.example.net --spf pass:esp.example
check p_at_org_domain "$(r fail reject) and j['policy_tag'] == 'p'" \
  --from-domain example.net --spf pass:esp.example
check subdomain_own_record "$(r fail none) and j['record_name'] == '_dmarc.own.example.net'" \
  --from-domain own.example.net
check np_nonexistent "$(r fail reject) and j['policy_tag'] == 'np' and j['from_exists'] is False" \
  --from-domain ghost.example.edu
check np_existing_gets_sp "$(r fail quarantine) and j['policy_tag'] == 'sp' and j['from_exists'] is True" \
  --from-domain exists.example.edu
check non_dmarc_txt_discarded "$(r fail quarantine) and j['record_name'] == '_dmarc.spfonly.com'" \
  --from-domain sub.spfonly.com

# --- pct ----------------------------------------------------------------------
check pct_inside "$(r fail reject) and j['sampled'] and not j['sampled_out'] and j['pct'] == 25 and j['pct_draw'] == 24" \
  --from-domain pct-reject.com --pct-draw 24
check pct_outside "$(r fail quarantine) and j['sampled_out'] and j['policy'] == 'reject'" \
  --from-domain pct-reject.com --pct-draw 25
check pct_zero_quarantine "$(r fail none)" \
  --from-domain pct-quarantine.com --pct-draw 0

# --- no record, several records, DNS failure ---------------------------------
check missing_record "$(r none none) and j['record'] is None and 'no DMARC record' in j['reason'] and j['spf']['aligned']" \
  --from-domain nodmarc.com --spf pass:nodmarc.com
check missing_at_both "$(r none none) and 'nor at _dmarc.nodmarc.com' in j['reason']" \
  --from-domain a.b.nodmarc.com
check multiple_records "$(r none none) and '2 DMARC records' in j['reason']" \
  --from-domain multi.com
check not_v_first "$(r none none)" --from-domain broken-order.com
check dns_failure_temperror "$(r temperror none) and '_dmarc.slow.com' in j['reason']" \
  --from-domain slow.com --spf pass:slow.com
check dns_failure_at_org "$(r temperror none) and '_dmarc.slow-org.com' in j['reason']" \
  --from-domain mail.slow-org.com

# --- malformed records ---------------------------------------------------------
check permerror_pct "$(r permerror none) and 'pct=200: out of range 0-100' in j['reason'] and j['record'] == 'v=DMARC1; p=reject; pct=200'" \
  --from-domain broken-pct.com --spf pass:broken-pct.com
check permerror_p "$(r permerror none) and 'p=block' in j['reason']" \
  --from-domain broken-p.com
check permerror_uri "$(r permerror none) and 'rua=dmarc@broken-uri.com: not a URI' in j['reason']" \
  --from-domain broken-uri.com
check no_p_with_rua_is_none "$(r fail none) and j['policy'] == 'none' and 'read as p=none' in j['reason']" \
  --from-domain nop-rua.com

# --- Authentication-Results ------------------------------------------------
check authres_line "$(r pass none) and j['authentication_results'] == 'Authentication-Results: mx.example.net;\n\tspf=pass smtp.mailfrom=esp.example;\n\tdkim=pass header.d=example.net header.s=sel1;\n\tdmarc=pass (p=reject sp=quarantine dis=none) header.from=news.example.net'" \
  --from-domain news.example.net --spf pass:esp.example --dkim pass:example.net:sel1 --authserv-id mx.example.net

# --- human output and exit codes -------------------------------------------
human() { # name, expected exit, grep pattern, args...
  local name=$1 want=$2 pat=$3 got=0
  shift 3
  "$bin" dmarc "$@" >"$tmp/out" 2>&1 || got=$?
  if [ "$got" -eq "$want" ] && grep -q -- "$pat" "$tmp/out"; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name: exit $got (want $want), output:"
    sed 's/^/     /' "$tmp/out"
  fi
}
human human_output 0 '^dmarc: fail (disposition: quarantine)' \
  --zone "$zone" --from-domain news.example.net --spf pass:esp.example
human human_policy_line 0 'policy:      sp=quarantine' \
  --zone "$zone" --from-domain news.example.net
human usage_no_from 2 'from-domain is required' --zone "$zone"
human usage_bad_spf 2 'expected RESULT:DOMAIN' --zone "$zone" --from-domain example.com --spf pass
human usage_bad_result 2 "unknown result 'great'" --zone "$zone" --from-domain example.com --dkim great:example.com
human usage_bad_draw 2 'pct-draw' --zone "$zone" --from-domain example.com --pct-draw 100
human usage_zone_and_server 2 'exclude each other' --zone "$zone" --dns-server 127.0.0.1:53 --from-domain example.com
human bad_from_domain 1 'not a domain name' --zone "$zone" --from-domain 'bad domain'
human missing_zone 1 'cannot\|No such' --zone "$tmp/none.zone" --from-domain example.com
human missing_psl 1 'publicsuffix' --zone "$zone" --psl "$tmp/none.dat" --from-domain example.com
human help 0 'usage: coldpost dmarc' --help

echo "dmarc_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
