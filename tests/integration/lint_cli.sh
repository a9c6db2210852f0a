#!/usr/bin/env bash
# Proves: `coldpost lint` gives each crafted cold email in tests/data/lint/
# exactly the findings and verdict its .expect file names (the clean ones
# pass with no finding; every other one trips the rule it was written for
# and nothing else), with the exit status of its verdict; and that the
# options and exit codes work as coldpost-lint(1) says: --json fields,
# --warn-ok, --warn-at/--fail-at, --max-links, --sending-domain, stdin,
# 1 for input that is not a message, 2 usage, 3 unreadable file.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
data=$here/tests/data/lint
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }

# verdict and the sorted, distinct rule ids of a --json report on stdin
summary() {
  python3 -c '
import json, sys
r = json.load(sys.stdin)
rules = sorted({f["rule"] for f in r["findings"]})
for f in r["findings"]:
    assert f["evidence"] and f["fix"] and f["severity"] in ("info", "warn", "fail"), f
assert r["score"] == sum(f["points"] for f in r["findings"]), "score is not the sum"
print(r["verdict"], " ".join(rules) if rules else "none")'
}

n=0
for eml in "$data"/*.eml; do
  name=$(basename "$eml" .eml)
  exp=$data/$name.expect
  [ -f "$exp" ] || { bad "$name: no .expect file"; continue; }
  args=$(sed -n 's/^args: //p' "$exp")
  want="$(sed -n 's/^verdict: //p' "$exp") $(sed -n 's/^rules: //p' "$exp")"
  # shellcheck disable=SC2086
  "$cp" lint --json $args "$eml" >"$tmp/out.json" 2>"$tmp/err"
  rc=$?
  got=$(summary <"$tmp/out.json" 2>>"$tmp/err")
  if [ "$got" = "$want" ]; then ok "$name: $got"; else
    bad "$name: got '$got', want '$want' ($(head -c 300 "$tmp/err"))"; fi
  case "$want" in
    pass*) wrc=0 ;;
    *) wrc=1 ;;
  esac
  if [ "$rc" = "$wrc" ]; then ok "$name: exit $rc"; else bad "$name: exit $rc, want $wrc"; fi
  n=$((n + 1))
done
[ "$n" -ge 30 ] && ok "$n crafted messages checked" || bad "only $n crafted messages"

# the human report
out=$("$cp" lint "$data/clean.eml")
case "$out" in *"clean.eml: pass (score 0)"*"no findings"*) ok "text: clean passes" ;;
  *) bad "text: clean: $out" ;; esac
out=$("$cp" lint "$data/fake_reply.eml")
case "$out" in *"fail (score 10)"*"FAIL subject.fake-reply"*"seen: subject starts with \"Re: \""*"In-Reply-To"*) ok "text: fake reply evidence and fix" ;;
  *) bad "text: fake reply: $out" ;; esac

# stdin, --sending-domain default, thresholds, --warn-ok, --max-links
got=$("$cp" lint --json - <"$data/clean.eml" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["sending_domain"], r["from_domain"], r["stats"]["links"], r["stats"]["text_part"])')
[ "$got" = "northwind-analytics.example northwind-analytics.example 2 True" ] && ok "stdin, default sending domain, stats" || bad "stdin: $got"
got=$("$cp" lint --json --fail-at 20 "$data/fake_reply.eml" | summary)
[ "$got" = "warn subject.fake-reply" ] && ok "--fail-at 20 turns a 10-point fail into warn" || bad "--fail-at: $got"
"$cp" lint --warn-ok "$data/subject_shouting.eml" >/dev/null; rc=$?
[ $rc = 0 ] && ok "--warn-ok: warn exits 0" || bad "--warn-ok: exit $rc"
"$cp" lint "$data/subject_shouting.eml" >/dev/null; rc=$?
[ $rc = 1 ] && ok "warn exits 1" || bad "warn: exit $rc"
"$cp" lint --warn-ok "$data/fake_reply.eml" >/dev/null; rc=$?
[ $rc = 1 ] && ok "--warn-ok: fail still exits 1" || bad "--warn-ok fail: exit $rc"
got=$("$cp" lint --json --max-links 10 "$data/too_many_links.eml" | summary)
[ "$got" = "pass link.off-domain" ] && ok "--max-links 10" || bad "--max-links: $got"
got=$("$cp" lint --json --warn-at 1 "$data/no_one_click.eml" | summary)
[ "$got" = "warn optout.one-click" ] && ok "--warn-at 1" || bad "--warn-at: $got"
got=$("$cp" lint --json --sending-domain Mail.Northwind-Analytics.Example. "$data/clean.eml" | summary)
[ "$got" = "pass none" ] && ok "--sending-domain: subdomain, case and root dot" || bad "--sending-domain: $got"

# exit codes
"$cp" lint --help >"$tmp/help"; rc=$?
[ $rc = 0 ] && grep -q -- '--sending-domain' "$tmp/help" && ok "--help" || bad "--help: $rc"
"$cp" lint >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "no message: exit 2" || bad "no message: exit $rc"
"$cp" lint --bogus "$data/clean.eml" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "unknown option: exit 2" || bad "unknown option: exit $rc"
"$cp" lint --max-links 0 "$data/clean.eml" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "--max-links 0: exit 2" || bad "--max-links 0: exit $rc"
"$cp" lint "$data/clean.eml" "$data/clean.eml" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "two messages: exit 2" || bad "two messages: exit $rc"
"$cp" lint "$tmp/missing.eml" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 3 ] && grep -q 'missing.eml' "$tmp/err" && ok "unreadable file: exit 3" || bad "unreadable: exit $rc"
: >"$tmp/empty.eml"
"$cp" lint "$tmp/empty.eml" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q 'empty' "$tmp/err" && ok "empty file: exit 1" || bad "empty: exit $rc"
printf 'no header here, just words\n\nand a body\n' >"$tmp/nohdr.eml"
"$cp" lint "$tmp/nohdr.eml" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q 'not a' "$tmp/err" && ok "no header: exit 1" || bad "no header: exit $rc ($(cat "$tmp/err"))"
"$cp" lint --psl "$tmp/missing.dat" "$data/clean.eml" >/dev/null 2>&1; rc=$?
[ $rc = 3 ] && ok "unreadable --psl: exit 3" || bad "--psl: exit $rc"

echo "lint_cli: $fails failed"
[ "$fails" -eq 0 ]
