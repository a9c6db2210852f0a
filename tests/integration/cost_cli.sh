#!/usr/bin/env bash
# Proves: `coldpost cost` works as its man page says — the --json figures at
# tier boundaries, the $50 minimum, the floor, graduated pricing, --daily-cap,
# --tiers, --config with custom cost.* keys, the human table, and the exit
# codes (0 ok, 1 malformed config file, 2 usage, 3 unreadable file).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t() { # name, command...: the command must succeed
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(json.dumps(v))' "$1"; }
# name, expected, field, cost args...
jt() {
  local name=$1 want=$2 field=$3; shift 3
  local got
  got=$("$cp" cost --json "$@" | jget "$field")
  if [ "$got" = "$want" ]; then echo "ok   $name"; else
    echo "FAIL $name: $field got '$got', want '$want'"; fails=$((fails + 1)); fi
}

jt "1 mailbox: minimum total" 5000 total_cents --mailboxes 1
jt "1 mailbox: minimum applied" true minimum_applied --mailboxes 1
jt "1 mailbox: effective price" 5000 effective_price_cents --mailboxes 1
jt "1 mailbox: cost per 1000" 83333 cost_per_1000_sends_cents --mailboxes 1
jt "99: price 100" 100 price_cents --mailboxes 99
jt "99: tier 1" 1 tier --mailboxes 99
jt "99: total" 9900 total_cents --mailboxes 99
jt "100: price 90" 90 price_cents --mailboxes 100
jt "249: price 90" 90 price_cents --mailboxes 249
jt "250: price 80" 80 price_cents --mailboxes 250
jt "499: price 80" 80 price_cents --mailboxes 499
jt "500: price 70" 70 price_cents --mailboxes 500
jt "999: price 70" 70 price_cents --mailboxes 999
jt "1000: price 60" 60 price_cents --mailboxes 1000
jt "2499: price 60" 60 price_cents --mailboxes 2499
jt "2500: floor 55" 55 price_cents --mailboxes 2500
jt "2500: tier 6" 6 tier --mailboxes 2500
jt "10M: floor total" 550000000 total_cents --mailboxes 10000000
jt "3000: capacity per day" 6000 capacity_per_day --mailboxes 3000
jt "3000: capacity per month" 180000 capacity_per_month --mailboxes 3000
jt "3000: cost per 1000" 917 cost_per_1000_sends_cents --mailboxes 3000
jt "3000: minimum not applied" false minimum_applied --mailboxes 3000
jt "daily cap 30" 9000 capacity_per_day --mailboxes 300 --daily-cap 30
jt "daily cap 0: no cost per 1000" null cost_per_1000_sends_cents --mailboxes 300 --daily-cap 0
jt "graduated 400" 35480 total_cents --mailboxes 400 --graduated
jt "graduated pricing named" '"graduated"' pricing --mailboxes 400 --graduated
jt "--tiers override" 15000 total_cents --mailboxes 100 --tiers 1:200,10:150
jt "--tiers: minimum still applies" 5000 total_cents --mailboxes 5 --tiers 1:200,10:150

cat >"$tmp/c.conf" <<'CONF'
[mailbox]
daily_cap = 20
[cost]
tiers = 1:120,50:100,500:75
minimum_cents = 9900
currency = EUR
CONF
jt "--config: tier price" 100 price_cents --mailboxes 60 --config "$tmp/c.conf"
jt "--config: minimum" 9900 total_cents --mailboxes 60 --config "$tmp/c.conf"
jt "--config: currency" '"EUR"' currency --mailboxes 60 --config "$tmp/c.conf"
jt "--config: daily cap" 1200 capacity_per_day --mailboxes 60 --config "$tmp/c.conf"
jt "--config: --daily-cap wins" 60 capacity_per_day --mailboxes 60 --daily-cap 1 --config "$tmp/c.conf"
jt "--config: floor" 75 price_cents --mailboxes 500 --config "$tmp/c.conf"
jt "--config + --tiers" 80 price_cents --mailboxes 500 --config "$tmp/c.conf" --tiers 1:90,400:80

out=$("$cp" cost --mailboxes 1); rc=$?
t "table exits 0" test $rc -eq 0
t "table: monthly total 50.00" grep -qE '^monthly total +50\.00 USD$' <<<"$out"
t "table: minimum applies" grep -q '(applies)' <<<"$out"
t "table: capacity" grep -qE '^capacity +2 / day' <<<"$out"
out=$("$cp" cost --mailboxes 2500); rc=$?
t "table: floor price" grep -qE '^price +0\.55 USD' <<<"$out"
t "table: thousands" grep -qE '^monthly total +1,375\.00 USD$' <<<"$out"
t "--help exits 0" bash -c '"$1" cost --help | grep -q "^usage: coldpost cost"' _ "$cp"
t "listed in coldpost usage" bash -c '"$1" 2>&1 | grep -q "^  cost "' _ "$cp"

rc_of() { "$cp" cost "$@" >/dev/null 2>"$tmp/err"; echo $?; }
t "no --mailboxes: 2" test "$(rc_of)" = 2
t "0 mailboxes: 2" test "$(rc_of --mailboxes 0)" = 2
t "10000001 mailboxes: 2" test "$(rc_of --mailboxes 10000001)" = 2
t "-5 mailboxes: 2" test "$(rc_of --mailboxes -5)" = 2
t "abc mailboxes: 2" test "$(rc_of --mailboxes abc)" = 2
t "10000000 mailboxes: 0" test "$(rc_of --mailboxes 10000000)" = 0
t "unknown option: 2" test "$(rc_of --mailboxes 5 --bogus)" = 2
t "bad --daily-cap: 2" test "$(rc_of --mailboxes 5 --daily-cap x)" = 2
t "bad --tiers: 2" test "$(rc_of --mailboxes 5 --tiers 1:100,100:120)" = 2
t "bad --tiers names the item" grep -q "item 2 '100:120'" "$tmp/err"
printf '[cost]\ntiers = 1:100,x:5\n' >"$tmp/bad.conf"
t "bad cost.tiers in file: 1" test "$(rc_of --mailboxes 5 --config "$tmp/bad.conf")" = 1
t "bad file names line and item" grep -q "bad.conf:2:.*item 2 'x:5'" "$tmp/err"
t "missing file: 3" test "$(rc_of --mailboxes 5 --config "$tmp/none.conf")" = 3

echo "cost_cli: $fails failed"
[ "$fails" -eq 0 ]
