#!/usr/bin/env bash
# Proves: `coldpost suppress` and `coldpost policy` work as
# coldpost-suppress(1) and coldpost-policy(1) say, against a temp SQLite
# store: suppressions added (several at once, case kept, a second add keeps
# the first reason), listed per tenant and for all, removed; refusals (no
# tenant, unknown tenant, bad reason, not an address, removing what is not
# there) with exit 1 or 2; a mailbox's cap today from its own, its tenant's
# and the config's cap, with the ramp (mailbox.ramp) and its time zone's
# midnight; MX hosts grouped into providers (built-in table and
# throttle.providers, a malformed table refused); pause and resume by hand
# stored as events with their evidence, the paused pair shown as paused and
# only that pair; --json everywhere; the store found through --config.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
fails=0
t() { # name, command...: the command must succeed
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
rc_is() { # want, command...: the command's exit code must be want
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "  (exit $got, want $want: $*)"; cat "$tmp/err" >&2; return 1
  fi
}
has() { grep -q -- "$1" "$2"; } # pattern, file
hasnt() { ! grep -q -- "$1" "$2"; }
js() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$tmp/out')); $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dsn="sqlite:$tmp/store.db"
S=(--store "$dsn")

"$cp" tenant add acme --daily-cap 5 "${S[@]}" >/dev/null &&
"$cp" tenant add beta "${S[@]}" >/dev/null &&
"$cp" domain add acme.example --tenant acme --generate ed25519 "${S[@]}" >/dev/null &&
"$cp" domain add beta.example --tenant beta --generate ed25519 "${S[@]}" >/dev/null &&
"$cp" mailbox add ann@acme.example --tenant acme --password x --tz Asia/Tokyo "${S[@]}" >/dev/null 2>&1 &&
"$cp" mailbox add bob@acme.example --tenant acme --password x --daily-cap 3 "${S[@]}" >/dev/null 2>&1 &&
"$cp" mailbox add cy@beta.example --tenant beta --password x "${S[@]}" >/dev/null 2>&1 ||
  { echo "FAIL fixture: $("$cp" mailbox add ann@acme.example --tenant acme --password x "${S[@]}" 2>&1)"; exit 1; }

# ---- suppress
t "add two" rc_is 0 "$cp" suppress add Bob@Example.org carol@example.org --tenant acme "${S[@]}"
t "add says suppressed" has "carol@example.org suppressed" "$tmp/out"
t "add again (other case) keeps it" rc_is 0 "$cp" suppress add bob@EXAMPLE.org --tenant acme --reason complaint "${S[@]}"
t "says suppressed already" has "was suppressed already" "$tmp/out"
t "add for beta (json, reason, note)" rc_is 0 "$cp" suppress add dan@example.org --tenant beta --reason unsubscribe --note "one-click 2026-11-28" "${S[@]}" --json
t "json add" js 'assert d==[{"address":"dan@example.org","added":True}]'
t "list acme" rc_is 0 "$cp" suppress list --tenant acme "${S[@]}" --json
t "acme has 2, first reason kept" js 'assert [(e["address"],e["reason"]) for e in d]==[("Bob@Example.org","manual"),("carol@example.org","manual")]'
t "list all" rc_is 0 "$cp" suppress list "${S[@]}"
t "list shows beta's note" has "one-click 2026-11-28" "$tmp/out"
t "list shows reason" has "unsubscribe" "$tmp/out"
t "rm (other case)" rc_is 0 "$cp" suppress rm BOB@example.org --tenant acme "${S[@]}"
t "rm again is not found" rc_is 1 "$cp" suppress rm bob@example.org --tenant acme "${S[@]}"
t "rm says not suppressed" has "not suppressed" "$tmp/err"
t "list acme after rm" rc_is 0 "$cp" suppress list --tenant acme "${S[@]}" --json
t "acme has 1" js 'assert [e["address"] for e in d]==["carol@example.org"]'
t "no tenant is usage" rc_is 2 "$cp" suppress add x@example.org "${S[@]}"
t "unknown tenant" rc_is 1 "$cp" suppress add x@example.org --tenant nope "${S[@]}"
t "bad reason is usage" rc_is 2 "$cp" suppress add x@example.org --tenant acme --reason spite "${S[@]}"
t "not an address" rc_is 1 "$cp" suppress add not-an-address --tenant acme "${S[@]}"
t "no address is usage" rc_is 2 "$cp" suppress add --tenant acme "${S[@]}"
t "unknown subcommand" rc_is 2 "$cp" suppress drop x@example.org --tenant acme "${S[@]}"
t "help" rc_is 0 "$cp" suppress --help
t "help says exit codes" has "exit: 0 done" "$tmp/out"

# ---- caps and ramp
cat > "$tmp/c.conf" <<EOF
[server]
store = $dsn
[mailbox]
daily_cap = 4
ramp = 1,2
[throttle]
providers = acme .acme-mx.test; google .gmail-relay.test
EOF
C=(--config "$tmp/c.conf")
t "usage ann (ramp day 1, tenant cap 5)" rc_is 0 "$cp" policy usage ann@acme.example "${C[@]}" --json
t "ann: cap 1 of 5, ramping, Tokyo" js 'assert d["cap"]==1 and d["full_cap"]==5 and d["ramping"] and d["age_days"]==0 and d["used"]==0 and d["tz"]=="Asia/Tokyo"'
t "ann resets at Tokyo midnight (15:00 UTC)" js 'import time; assert d["resets_at"]%86400==15*3600 and 0<d["resets_at"]-time.time()<=86400'
t "usage bob (own cap 3)" rc_is 0 "$cp" policy usage bob@acme.example "${C[@]}" --json
t "bob: full cap 3, UTC midnight" js 'assert d["full_cap"]==3 and d["cap"]==1 and d["resets_at"]%86400==0'
t "usage cy (config cap 4)" rc_is 0 "$cp" policy usage cy@beta.example "${C[@]}"
t "cy text: full cap 4, ramp" bash -c "grep -q 'full cap:   4' $tmp/out && grep -q 'cap today:  1 (ramp)' $tmp/out && grep -q 'day 1 of its life; ramping' $tmp/out"
t "usage of nobody" rc_is 1 "$cp" policy usage nobody@acme.example "${C[@]}"

# ---- providers
t "provider of MX hosts" rc_is 0 "$cp" policy provider ALT1.aspmx.l.google.com. acme-com.mail.protection.outlook.com mta7.am0.yahoodns.net mx1.acme-mx.test smtp.gmail-relay.test mx.small.test "${C[@]}" --json
t "grouped" js 'assert [e["provider"] for e in d]==["google","microsoft","yahoo","acme","google","mx.small.test"]'
printf '[server]\nstore = %s\n[throttle]\nproviders = Acme .x.test\n' "$dsn" > "$tmp/bad.conf"
t "malformed throttle.providers" rc_is 1 "$cp" policy provider mx.x.test --config "$tmp/bad.conf"
t "names the problem" has "not a provider name" "$tmp/err"

# ---- pause, resume, show
t "empty show" rc_is 0 "$cp" policy "${C[@]}"
t "says no state yet" has "no provider state yet" "$tmp/out"
t "pause 127.0.0.2 at google" rc_is 0 "$cp" policy pause 127.0.0.2 aspmx.l.google.com --for 6h --note "550 5.7.1 127.0.0.2 listed at zen.spamhaus.org" "${C[@]}"
t "pause says until" has "127.0.0.2 paused at aspmx.l.google.com until" "$tmp/out"
t "pause 127.0.0.3 at microsoft then resume" bash -c "'$cp' policy pause 127.0.0.3 microsoft --config '$tmp/c.conf' >/dev/null 2>&1 && '$cp' policy resume 127.0.0.3 microsoft --note delisted --config '$tmp/c.conf' >/dev/null 2>&1"
t "show (json)" rc_is 0 "$cp" policy show "${C[@]}" --json
t "google pair paused, microsoft pair not" js '
p={(x["provider"],x["source_ip"]):x for x in d["providers"]}
assert p[("google","127.0.0.2")]["phase"]=="paused"
assert p[("microsoft","127.0.0.3")]["phase"]=="ramping" and p[("microsoft","127.0.0.3")]["paused_until"]==0
assert p[("google","127.0.0.2")]["rate"]==60'
t "events newest first, with evidence" js '
k=[(e["kind"],e["provider"]) for e in d["events"]]
assert k==[("resume","microsoft"),("manual-pause","microsoft"),("manual-pause","google")], k
assert "zen.spamhaus.org" in d["events"][2]["evidence"]'
t "show (text)" rc_is 0 "$cp" policy "${C[@]}"
t "text shows paused state" bash -c "grep -E -q '^google +127.0.0.2 +60 paused' $tmp/out"
t "text shows evidence" has "    550 5.7.1 127.0.0.2 listed at zen.spamhaus.org" "$tmp/out"
t "--limit 1" rc_is 0 "$cp" policy show --limit 1 "${C[@]}" --json
t "one event" js 'assert len(d["events"])==1'
later=$(( $(date +%s) + 7 * 3600 ))
t "--now 7 h later" rc_is 0 "$cp" policy show --now "$later" "${C[@]}" --json
t "the 6 h pause is over then, the rate climbed" js "
p={(x['provider'],x['source_ip']):x for x in d['providers']}
assert d['now']==$later
assert p[('google','127.0.0.2')]['phase']=='ramping', p
assert p[('google','127.0.0.2')]['rate']>60, p"
t "bad --now is usage" rc_is 2 "$cp" policy show --now soon "${C[@]}"
t "pause of a non-IP" rc_is 1 "$cp" policy pause mail.example google "${C[@]}"
t "bad --for is usage" rc_is 2 "$cp" policy pause 127.0.0.2 google --for soon "${C[@]}"
t "pause without provider is usage" rc_is 2 "$cp" policy pause 127.0.0.2 "${C[@]}"
t "unknown subcommand" rc_is 2 "$cp" policy frobnicate "${C[@]}"
t "unreadable config is a system error" rc_is 3 "$cp" policy --config /nonexistent/c.conf
t "man pages exist" bash -c "test -s $here/docs/man/coldpost-suppress.1 && test -s $here/docs/man/coldpost-policy.1 && grep -q coldpost.\\\\-suppress $here/docs/man/coldpost.1"

if [ "$fails" -gt 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
