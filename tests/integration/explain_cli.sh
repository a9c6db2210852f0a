#!/usr/bin/env bash
# Proves: `coldpost explain` works as its man page says — replies, codes
# alone, pages, --json fields, --list, --batch (one object per line, errors
# as objects, exit 0), and the exit codes for bad input and bad usage.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
fails=0
t() { # name, command...: the command must succeed
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
jget() { python3 -c 'import json,sys; o=json.load(sys.stdin); print(o.get(sys.argv[1]) if not isinstance(o.get(sys.argv[1]),list) else len(o[sys.argv[1]]))' "$1"; }

out=$("$cp" explain "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"); rc=$?
t "reply page exits 0" test $rc -eq 0
t "reply page names the cause" grep -q 'Cause: *blocklist' <<<"$out"
t "reply page has numbered steps" grep -qE '^  1\. ' <<<"$out"
t "reply page says not a dead address" grep -q 'not a dead address' <<<"$out"

t "codes alone: 550 5.1.1" test "$("$cp" explain --json 550 5.1.1 | jget cause)" = recipient_unknown
t "enhanced alone: 5.7.26" test "$("$cp" explain --json 5.7.26 | jget cause)" = authentication
t "codes alone marked" test "$("$cp" explain --json 5.7.26 | jget confidence)" = codes_only

j=$("$cp" explain --json "421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. 421 4.7.28 - gsmtp")
for f in code enhanced class cause reason receiver retry steps rule; do
  t "json has $f" python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert sys.argv[2] in o' "$j" "$f"
done
t "json: gmail recognised" test "$(jget receiver <<<"$j")" = gmail
t "json: transient class" test "$(jget class <<<"$j")" = transient
t "json: reputation" test "$(jget cause <<<"$j")" = reputation
t "json: steps non-empty" test "$(jget steps <<<"$j")" -ge 2

t "--host recognises the receiver" test "$("$cp" explain --json --host aspmx.l.google.com 550 5.1.1 unknown | jget receiver)" = gmail
t "receiver page" grep -q 'Gmail' <<<"$("$cp" explain gmail)"
t "cause page" grep -q 'How to fix it' <<<"$("$cp" explain blocklist)"

list=$("$cp" explain --list)
for k in X.0.0 X.1.1 X.7.1 X.7.30 550 421 gmail microsoft spamhaus authentication; do
  t "--list has $k" grep -qE "^  $k " <<<"$list"
done
t "--list --json parses" python3 -c 'import json,sys; assert len(json.load(sys.stdin)) > 150' <<<"$("$cp" explain --list --json)"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown" \
  "this is not a reply" "" "452 4.2.2 The email account that you tried to reach is over quota - gsmtp" \
  "650 out of range" > "$tmp/in"
"$cp" explain --batch "$tmp/in" > "$tmp/out"; rc=$?
t "--batch exits 0 with bad lines" test $rc -eq 0
t "--batch one object per line" test "$(wc -l < "$tmp/out")" -eq 5
t "--batch errors are objects" python3 - "$tmp/out" <<'PY'
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert o[0]["cause"] == "recipient_unknown", o[0]
assert "error" in o[1] and "no reply code" in o[1]["error"], o[1]
assert "error" in o[2] and "empty" in o[2]["error"], o[2]
assert o[3]["cause"] == "mailbox_full" and o[3]["receiver"] == "gmail", o[3]
assert "error" in o[4] and "out of range" in o[4]["error"], o[4]
assert [x["input"] for x in o][1] == "this is not a reply"
PY
t "--batch - reads stdin" test "$(printf '550 5.1.1 x\n421 try later\n' | "$cp" explain --batch - | wc -l)" -eq 2

"$cp" explain "hello world" >/dev/null 2>"$tmp/err"; rc=$?
t "malformed reply exits 1" test $rc -eq 1
t "malformed reply says why" grep -q 'no reply code' "$tmp/err"
"$cp" explain --bogus >/dev/null 2>&1; rc=$?
t "unknown option exits 2" test $rc -eq 2
"$cp" explain --batch /nonexistent >/dev/null 2>&1; rc=$?
t "unreadable batch file exits 3" test $rc -eq 3
t "--help exits 0" "$cp" explain --help
echo "$fails failed"
[ "$fails" -eq 0 ]
