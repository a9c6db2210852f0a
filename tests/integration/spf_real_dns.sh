#!/usr/bin/env bash
# Proves: `coldpost spf --dns-server` gets the RFC 7208 suite's answers from
# a real authoritative DNS server (Knot, tests/lib/dns_server.sh) through the
# c-ares resolver, on a sample of the suite covering every scenario (record
# lookup and selection, each mechanism, CIDR, exp= and macros, %{p}, the
# lookup limits, CNAMEs, binary and multi-string TXT, a null MX), plus a
# server that never answers (temperror). The zone data comes from
# tests/data/spf/rfc7208-tests.json: one server per scenario, one zone per
# top-level domain. Tests whose zone data times out (the suite's TIMEOUT)
# or that query single-label names are not in the sample: a real server
# cannot play them. Prints one line per test and the pass count.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
suite=$here/tests/data/spf/rfc7208-tests.json
addr=127.0.0.73
port=${SPF_DNS_PORT:-53073}
tmp=$(mktemp -d)
# shellcheck source=../lib/dns_server.sh
source "$here/tests/lib/dns_server.sh"
cleanup() { dns_server_stop; rm -rf "$tmp"; }
trap cleanup EXIT

sample="longlabel nolocalpart non-ascii-policy two-spaces null-text toolonglabel
both txtonly spfonly
nospace1 empty multitxt1 case-insensitive multispf2
detect-errors-anywhere modifier-charset-good redirect-after-mechanisms2 default-result
all-double all-neutral
ptr-match-target ptr-match-ip6 ptr-case-change ptr-nomatch-invalid ptr-cname-loop
a-dual-cidr-ip6-match a-multi-ip1 a-colon-domain a-nxdomain a-dash-in-toplabel a-cidr4-0-ip6
include-softfail include-permerror include-none include-fail
mx-multi-ip1 mx-cidr6-0-ip6 mx-empty mx-implicit mx-colon-domain
exists-ip4 exists-ip6only
cidr4-0 ip4-mapped-ip6 cidr6-33 cidr6-0-ip4
redirect-cancels-prior-exp include-ignores-exp exp-multiple-txt redirect-implicit exp-void dorky-sentinel
trailing-dot-domain trailing-dot-exp macro-mania-in-domain p-macro-ip4-valid p-macro-multiple v-macro-ip6
domain-name-truncation upper-macro macro-reverse-split-on-dash macro-multiple-delimiters
mech-at-limit include-over-limit void-over-limit mx-limit ptr-limit redirect-loop
cname-aliasing bytes-bug"

# Zone files per scenario (zones/N/TLD.zone) and the tests to run
# (tests/N.tsv: id, host, mailfrom, helo, results, explanation, separated
# by \x1f: a tab would let read(1) swallow the empty mailfrom of a bounce).
python3 - "$suite" "$tmp" "$sample" <<'PY'
import json, os, sys
suite, out, sample = sys.argv[1], sys.argv[2], set(sys.argv[3].split())
d = json.load(open(suite))

def owner(name):
    s = ""
    for ch in name.encode("latin-1"):
        c = chr(ch)
        s += c if (c.isalnum() or c in "-_.*") and ch < 128 else "\\%03d" % ch
    return s + "."

def txt(strings):
    parts = []
    for x in strings:
        b = bytes.fromhex(x["hex"]) if isinstance(x, dict) else x.encode()
        for i in range(0, max(len(b), 1), 255):   # RFC 7208 3.3: 255 a string
            chunk = b[i:i + 255]
            parts.append('"' + "".join(
                chr(c) if 0x20 <= c < 0x7f and chr(c) not in '"\\' else "\\%03d" % c
                for c in chunk) + '"')
    return " ".join(parts) if parts else '""'

found = set()
os.makedirs(os.path.join(out, "tests"))
for n, sc in enumerate(d["scenarios"]):
    tests = [t for t in sc["tests"] if t["id"] in sample]
    if not tests:
        continue
    zones = {}
    for r in sc["records"]:
        if "timeout" in r or r["type"] == "SPF":
            continue   # type SPF is never asked by RFC 7208 checkers
        tld = r["name"].rsplit(".", 1)[-1]
        data = txt(r["data"]) if r["type"] == "TXT" else r["data"]
        if r["type"] in ("MX",):
            pref, host = data.split(" ", 1)
            data = "%s %s" % (pref, "." if host == "." else owner(host))
        elif r["type"] in ("PTR", "CNAME"):
            data = owner(data.rstrip("."))
        zones.setdefault(tld, []).append("%s 300 IN %s %s" % (
            owner(r["name"]), r["type"], data))
    zd = os.path.join(out, "zones", "%02d" % n)
    os.makedirs(zd)
    for tld, lines in zones.items():
        with open(os.path.join(zd, tld + ".zone"), "w") as f:
            f.write("$ORIGIN %s.\n" % tld + "\n".join(lines) + "\n")
    with open(os.path.join(out, "tests", "%02d.tsv" % n), "w") as f:
        for t in tests:
            found.add(t["id"])
            f.write("\x1f".join([t["id"], t["host"], t["mailfrom"], t["helo"],
                               ",".join(t["result"]),
                               t.get("explanation", "")]) + "\n")
missing = sample - found
if missing:
    sys.exit("sample names unknown tests: %s" % " ".join(sorted(missing)))
PY

pass=0
fail=0
total=0
for tsv in "$tmp"/tests/*.tsv; do
  n=$(basename "$tsv" .tsv)
  dns_server_start "$addr" "$port" "$tmp"/zones/"$n"/*.zone
  while IFS=$'\x1f' read -r id host mailfrom helo results explanation; do
    total=$((total + 1))
    out=$("$bin" spf --ip "$host" --sender "$mailfrom" --helo "$helo" --json \
            --dns-server "$DNS_SERVER_SPEC" --timeout 1000 --receiver mx.test) || {
      echo "FAIL $id: exit status $?"; fail=$((fail + 1)); continue; }
    got=$(jq -r .result <<<"$out")
    exp=$(jq -r '.explanation // "DEFAULT"' <<<"$out")
    ok=0
    case ",$results," in *",$got,"*) ok=1 ;; esac
    if [ "$ok" = 1 ] && [ -n "$explanation" ] && [ "$explanation" != "$exp" ]; then ok=0; fi
    if [ "$ok" = 1 ]; then
      pass=$((pass + 1))
      printf 'ok   %-28s %-9s lookups=%s  %s\n' "$id" "$got" "$(jq -r .lookups <<<"$out")" \
        "$(jq -r '.mechanism // "-"' <<<"$out")"
    else
      fail=$((fail + 1))
      echo "FAIL $id: got $got (want $results), explanation '$exp' (want '${explanation:-any}')"
      jq -r .reason <<<"$out" | sed 's/^/     /'
    fi
  done < "$tsv"
  dns_server_stop
done

# A server that never answers: temperror, not a hang.
total=$((total + 1))
dns_server_start_blackhole "$addr" "$port"
start=$(date +%s)
out=$("$bin" spf --ip 192.0.2.1 --sender a@example.com --helo h.example.com --json \
        --dns-server "$DNS_SERVER_SPEC" --timeout 200)
got=$(jq -r .result <<<"$out")
if [ "$got" = temperror ] && [ $(( $(date +%s) - start )) -lt 30 ]; then
  pass=$((pass + 1)); echo "ok   silent-server                temperror ($(jq -r .reason <<<"$out"))"
else
  fail=$((fail + 1)); echo "FAIL silent-server: got $got"
fi
dns_server_stop

echo "spf over real DNS: $pass/$total passed"
[ "$fail" -eq 0 ] && [ "$total" -ge 30 ]
