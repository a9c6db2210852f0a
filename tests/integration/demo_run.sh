#!/usr/bin/env bash
# `make run`'s demo, end to end, in a scratch copy: the relay starts with
# config/demo.conf, a self-signed certificate and the demo tenant are made on
# first run, swaks submits over STARTTLS with AUTH, and the message reaches
# the demo inbox DKIM-signed. Uses the demo's fixed ports (2587, 2465, 2526).
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/config"
cp "$here/config/demo.conf" "$tmp/config/"
bdir=${BUILD_DIR:-$here/build}
out=$(DEMO_ROOT="$tmp" DEMO_ONESHOT=1 bash "$here/scripts/demo.sh" "$bdir" 2>&1)
rc=$?
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
check "demo exits 0" '[ $rc -eq 0 ]'
check "certificate made on first run" '[ -s "$tmp/run/demo/tls/cert.pem" ]'
check "the hint names swaks" 'grep -q "swaks --server 127.0.0.1:2587" <<<"$out"'
msg=$(grep -l "coldpost demo" "$tmp/run/demo/inbox/"*.eml 2>/dev/null | head -1)
check "message in the demo inbox" '[ -n "$msg" ]'
check "signed with d=demo.example" 'grep -q "d=demo.example" "$msg"'
rec=$("$bdir/coldpost" domain show demo.example --config "$tmp/config/demo.conf" --json |
     jq -r .dkim_record)
check "DKIM verifies with dkimpy" '[ -n "$msg" ] && grep -v "^X-" "$msg" |
    REC="$rec" /usr/bin/python3 -c "import sys, os, dkim
raw = sys.stdin.buffer.read()
sys.exit(0 if dkim.verify(raw, dnsfunc=lambda n, timeout=5: os.environ[\"REC\"].encode()) else 1)"'
check "the hint gives the dashboard and an API key" 'grep -Eq "dashboard: http://127.0.0.1:8025/ +\(API key: cpk_" <<<"$out"'
key=$(cat "$tmp/run/demo/api-key" 2>/dev/null)
check "the API lists the message with the demo key" '[ -n "$key" ] && grep -q "prospect@example.net\|ann@demo.example" "$tmp/run/demo/api-check.json"'
[ $fail -eq 0 ] || { echo "$out" | tail -30; }
exit $fail
