#!/usr/bin/env bash
# Proves: `coldpost bounce` reads a DSN from a file and from stdin, prints
# the reason, status and VERP token in text and JSON, reads a directory in
# batch mode (one JSON line per email), says nothing failed for a
# non-bounce, and keeps its exit codes (0 read, 1 unreadable, 2 usage).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fail=$((fail + 1)); fi
}

mkdir "$tmp/dir"
printf '%s\r\n' \
  'From: MAILER-DAEMON@mx.example.net (Mail Delivery System)' \
  'To: bounces+r77-1f2e3d4c@send.example.com' \
  'Subject: Undelivered Mail Returned to Sender' \
  'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"' \
  '' '--b1' 'Content-Type: message/delivery-status' '' \
  'Reporting-MTA: dns; mx.example.net' '' \
  'Final-Recipient: rfc822; nora@example.org' 'Action: failed' 'Status: 5.1.1' \
  'Diagnostic-Code: smtp; 550 5.1.1 <nora@example.org>: User unknown' '' \
  '--b1' 'Content-Type: text/rfc822-headers' '' \
  'Return-Path: <bounces+r77-1f2e3d4c@send.example.com>' \
  'Message-ID: <m77@send.example.com>' '' '--b1--' > "$tmp/dir/a.eml"
printf 'From: Otto <otto@example.org>\nSubject: hi\n\nsee you\n' > "$tmp/dir/b.eml"

out=$("$bin" bounce "$tmp/dir/a.eml")
check "text names the recipient" grep -q 'nora@example.org' <<<"$out"
check "text says the reason" grep -q 'reason userunknown (hard: suppress)' <<<"$out"
check "text gives the VERP token" grep -q 'verp: r77-1f2e3d4c' <<<"$out"
json=$("$bin" bounce --json - < "$tmp/dir/a.eml")
check "json from stdin" python3 -c 'import json,sys
o = json.loads(sys.argv[1]); r = o["recipients"][0]
assert o["file"] == "-" and o["family"] == "rfc3464", o
assert o["message_id"] == "<m77@send.example.com>" and o["verp"] == "r77-1f2e3d4c", o
assert r["reason"] == "userunknown" and r["status"] == "5.1.1" and r["replycode"] == 550, r
assert r["hard"] is True and r["cause"] == "recipient_unknown", r' "$json"
"$bin" bounce --batch "$tmp/dir" > "$tmp/batch"
check "batch: one line per email" test "$(wc -l < "$tmp/batch")" -eq 2
check "batch: non-bounce has no recipient" python3 -c 'import json,sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows[0]["recipients"][0]["recipient"] == "nora@example.org", rows
assert rows[1]["recipients"] == [], rows' "$tmp/batch"
check "help exits 0" sh -c '"$0" bounce --help > /dev/null' "$bin"
set +e
"$bin" bounce > /dev/null 2>&1; rc_usage=$?
"$bin" bounce --json --batch "$tmp/dir" > /dev/null 2>&1; rc_both=$?
"$bin" bounce "$tmp/missing.eml" > /dev/null 2>&1; rc_missing=$?
set -e
check "no file is a usage error" test "$rc_usage" -eq 2
check "--json with --batch is a usage error" test "$rc_both" -eq 2
check "a missing file exits 1" test "$rc_missing" -eq 1
echo "bounce_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
