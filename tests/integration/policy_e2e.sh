#!/usr/bin/env bash
# Proves: the sending policy (docs/policy.md) holds end to end through
# `coldpost serve`, real receivers on loopback and MX records served by
# Knot. Recipient domains go by MX to a Gmail-like receiver (MX hosts under
# gmail-e2e.test, grouped as "google" by throttle.providers; a second
# domain, workspace-e2e.test, is "hosted" on the same MX, as a company on
# Google Workspace) and to a Microsoft-like one (outlook-e2e.test,
# "microsoft"). The policy's clock is moved with COLDPOST_TEST_CLOCK_FILE
# and SIGHUP; rates at later times are read with `coldpost policy show
# --now`.
#  1. a mailbox capped at 2/day (no ramp, Asia/Tokyo) sends 2 messages; the
#     3rd is accepted, held (deferred: "daily cap of 2 ... held until
#     <next Tokyo midnight> Asia/Tokyo", next attempt at that midnight) and
#     not delivered; a day later on the test clock, `coldpost queue retry`
#     makes it due and it is delivered;
#  2. a burst of "550 5.7.1 ... likely unsolicited mail" at the Gmail-like
#     provider halves that provider's rate for the source IP (one cut, the
#     answers as evidence) while the Microsoft-like provider's rate from
#     the same IP is untouched; the rate is held for the cool-down, then
#     climbs back: half at the cool-down's end, 3/4 halfway up the ramp,
#     full at its end;
#  3. a Spamhaus answer naming the source IP pauses that IP at the
#     Gmail-like provider only: mail from it to the Microsoft-like provider
#     is still delivered, mail to the Gmail-like one is held, other source
#     IPs at Google are not paused;
#  4. an address on the tenant's suppression list (`coldpost suppress
#     add`) is refused at RCPT with a 5xx naming the list; a hard bounce
#     (550 5.1.10 recipient not found) puts its address on the list, so a
#     later submission is refused; another tenant may still send to it.
#  5. webhooks (tests/lib/webhook_receiver.py on loopback, signed): the
#     tenant of the cut source IP gets provider.cut with the rates and the
#     evidence, the paused IP's tenant gets provider.cut (kind pause);
#     when the test clock passes the cool-down, provider.recovered (kind
#     recover) arrives without any mail being sent; no tenant gets
#     another tenant's events.
# Ports 34101-34129; addresses 127.0.0.31-32, .36 (receivers), .41-.43
# (source IPs), .64 (DNS).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/dns_server.sh"
source "$here/tests/lib/relay.sh"
relay_init

SUB=127.0.0.1:34101
MXPORT=34125
# the source IPs of the three tenants (one per case, so that each pair's
# pacing state is the case's own)
relay_tenant acme acme.test ann@acme.test pw-ann-1 127.0.0.41:out.acme.test
relay_mailbox acme cap@acme.test pw-cap-1 --daily-cap 2 --tz Asia/Tokyo
relay_tenant beta beta.test bea@beta.test pw-bea-1 127.0.0.42:out.beta.test
relay_tenant gamma gamma.test gus@gamma.test pw-gus-1 127.0.0.43:out.gamma.test

cat >"$RELAY_DIR/gmail-e2e.test.zone" <<Z
@ MX 5 aspmx.gmail-e2e.test.
aspmx A 127.0.0.31
Z
cat >"$RELAY_DIR/workspace-e2e.test.zone" <<Z
@ MX 1 aspmx.gmail-e2e.test.
Z
cat >"$RELAY_DIR/outlook-e2e.test.zone" <<Z
@ MX 0 mx1.outlook-e2e.test.
mx1 A 127.0.0.32
Z
dns_server_start 127.0.0.64 34109 "$RELAY_DIR"/*.zone >/dev/null
RELAY_DNS=$DNS_SERVER_SPEC

echo 0 >"$RELAY_DIR/clock"
export COLDPOST_TEST_CLOCK_FILE=$RELAY_DIR/clock

relay_set listen.submission $SUB
relay_set delivery.mx_port $MXPORT
relay_set queue.retry 1s,2s,5s
relay_set queue.expiry 2d
relay_set mailbox.daily_cap 0
relay_set mailbox.ramp ""
relay_set mailbox.cap_action defer
# every pair starts at full speed (36000/h: no pacing delay in a test);
# a cut halves it, holds it a day, then it climbs back over 10 days
relay_set throttle.start_rate 36000
relay_set throttle.max_rate 36000
relay_set throttle.ramp_time 10d
relay_set throttle.cooldown 1d
relay_set throttle.window 1h
relay_set throttle.refusal_share 40
relay_set throttle.min_answers 5
relay_set throttle.pause 1d
relay_set throttle.providers "google .gmail-e2e.test; microsoft .outlook-e2e.test"
# DSNs to the senders' domains: a receiver of our own
for d in acme.test beta.test gamma.test; do relay_route $d 127.0.0.36:34126; done

GMAIL_SPAM='550 5.7.1 [127.0.0.42] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to https://support.google.com/mail/?p=UnsolicitedMessageError a1si2 - gsmtp'
SPAMHAUS='550 5.7.1 Service unavailable; Client host [127.0.0.43] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.43'
NOUSER='550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ghost@outlook-e2e.test not found by SMTP address lookup'
relay_receiver gmail 127.0.0.31:$MXPORT --hostname mx.google.test \
  --banner "ESMTP a1si1 - gsmtp" \
  --rule "data:spam*@gmail-e2e.test=$GMAIL_SPAM" \
  --rule "rcpt:bl*@gmail-e2e.test=$SPAMHAUS"
relay_receiver outlook 127.0.0.32:$MXPORT --hostname mx1.outlook-e2e.test \
  --banner "Microsoft ESMTP MAIL Service ready" \
  --rule "rcpt:ghost@outlook-e2e.test=$NOUSER"
relay_receiver home 127.0.0.36:34126
for t in beta:34111 gamma:34112; do
  "$PY" "$here/tests/lib/webhook_receiver.py" --listen 127.0.0.1:${t#*:} \
    --secret s-${t%%:*} --log "$RELAY_DIR/hooks-${t%%:*}.log" &
  _relay_pids+=($!)
  relay_cp webhook add --tenant ${t%%:*} http://127.0.0.1:${t#*:}/hook \
    --secret s-${t%%:*} >/dev/null
done
relay_set webhook.backoff_base 1s
relay_set listen.http 127.0.0.1:34113
relay_start_or_exit
# signed, answered events of TYPE at tenant T's endpoint matching PY_EXPR
# on the event's data d: their count
hooks() {
  "$PY" -c 'import json, sys
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    d = e.get("data") or {}
    n += bool(e.get("status") == 200 and e.get("sig_ok") and
              e.get("type") == sys.argv[2] and eval(sys.argv[3]))
print(n)' "$RELAY_DIR/hooks-$1.log" "$2" "$3" 2>/dev/null || echo 0
}

CONF=(--config "$RELAY_CONF")
send() { # user password to [prefix]: one message; prints "ID CODE TEXT"
  relay_send_py --server $SUB --starttls --user "$1" --password "$2" \
    --from "$1" --to "$3" --prefix "${4:-m}" 2>&1 || true
}
# files at receiver NAME whose envelope sender is FROM
from_count() {
  grep -l "^X-Mail-From: $2" "$RELAY_DIR"/rcv/"$1"/mail/*.eml 2>/dev/null |
    wc -l
}
show() { # [--now T]: the policy's state as JSON, by default at the
  # policy's clock (the system's plus the test clock's file)
  local now=$(($(date +%s) + $(cat "$RELAY_DIR/clock")))
  [ "${1:-}" = --now ] && now=$2
  "$COLDPOST" policy show "${CONF[@]}" --json --limit 0 --now "$now"
}
# pair PROVIDER IP FIELD [--now T]: one field of a pair ("-" if none)
pair() {
  local j
  j=$(show "${@:4}") || { echo "?"; return; }
  "$PY" -c 'import json,sys
d=json.loads(sys.argv[1])
p=[x for x in d["providers"] if x["provider"]==sys.argv[2] and x["source_ip"]==sys.argv[3]]
print(p[0][sys.argv[4]] if p else "-")' "$j" "$1" "$2" "$3"
}
eq() { # name want got
  relay_check "$1 (got $3)" test "$3" = "$2"
}

# ==== 1. daily cap 2, the 3rd held until the mailbox's next midnight
echo "--- 1. daily cap"
q=()
for i in 1 2 3; do
  out=$(send cap@acme.test pw-cap-1 "c$i@gmail-e2e.test" cap$i)
  q+=("$(relay_qid "$out")")
done
relay_check "3 messages of the capped mailbox accepted (${q[*]})" \
  test -n "${q[0]}" -a -n "${q[1]}" -a -n "${q[2]}"
relay_check "2 of them delivered" relay_wait "[ \$(from_count gmail cap@acme.test) -ge 2 ]" 20
held=
held_is_deferred() {
  local id
  for id in "${q[@]}"; do
    if relay_json "$(relay_queue_json "$id")" \
      "j['recipients'][0]['state'] == 'deferred'" >/dev/null 2>&1; then
      held=$id; return 0
    fi
  done
  return 1
}
relay_check "the 3rd is held (deferred)" relay_wait held_is_deferred 15
held_is_deferred || true
sleep 3 # retries are every 1-5 s: a held message would have gone by now
relay_check "still only 2 delivered after 3 s" test "$(from_count gmail cap@acme.test)" -eq 2
# the next local midnight in Tokyo, as the reason must name it
read -r mid_text mid_unix < <("$PY" -c 'import datetime, zoneinfo
tz = zoneinfo.ZoneInfo("Asia/Tokyo")
d = datetime.datetime.now(tz).date() + datetime.timedelta(days=1)
m = datetime.datetime(d.year, d.month, d.day, tzinfo=tz)
print(m.strftime("%Y-%m-%d_00:00"), int(m.timestamp()))')
mid_text=${mid_text/_/ }
j=$(relay_queue_json "${held:-0}" 2>&1) || true
echo "    held: $(relay_json "$j" "print(j['recipients'][0]['last_reply']) or True" 2>&1 | head -1)"
relay_check "reason names the cap and the next Tokyo midnight ($mid_text)" relay_json "$j" \
  "r = j['recipients'][0]['last_reply'] or ''
'daily cap of 2' in r and 'held until $mid_text Asia/Tokyo' in r"
relay_check "held until that midnight ($mid_unix), not retried before" relay_json "$j" \
  "j['recipients'][0]['next_attempt'] == $mid_unix"
relay_check "no attempt reached a receiver for it" relay_json "$j" \
  "all(a['mx'] == '' for a in j['attempts'])"

# a day later on the policy's clock: the cap has reset
echo 86400 >"$RELAY_DIR/clock"
kill -HUP "$RELAY_PID"
relay_check "serve read the test clock (+86400 s)" \
  relay_wait "grep -q 'runs 86400 s ahead' '$RELAY_DIR/coldpost.log'" 10
relay_check "queue retry makes it due" relay_cp queue retry "${held:-0}"
relay_check "a day later the 3rd is delivered" relay_wait "[ \$(from_count gmail cap@acme.test) -ge 3 ]" 20

# ==== 2. a concentration of 550 5.7.1 at Google halves its rate only
echo "--- 2. cut at the Gmail-like provider"
send bea@beta.test pw-bea-1 ok1@workspace-e2e.test okw >/dev/null
send bea@beta.test pw-bea-1 ok2@gmail-e2e.test okg >/dev/null
for i in 1 2 3; do send bea@beta.test pw-bea-1 m$i@outlook-e2e.test okm$i >/dev/null; done
relay_check "2 delivered at google (one for a Workspace domain)" \
  relay_wait "[ \$(from_count gmail bea@beta.test) -ge 2 ]" 20
relay_check "3 delivered at microsoft" \
  relay_wait "[ \$(from_count outlook bea@beta.test) -ge 3 ]" 20
g0=$(pair google 127.0.0.42 rate); m0=$(pair microsoft 127.0.0.42 rate)
echo "    before: google/127.0.0.42 $g0/h, microsoft/127.0.0.42 $m0/h"
eq "google rate before: full" 36000 "$g0"
eq "microsoft rate before: full" 36000 "$m0"
for i in 1 2 3 4; do send bea@beta.test pw-bea-1 spam$i@gmail-e2e.test spam$i >/dev/null; done
relay_check "the 4 refusals came back (4 DSNs)" relay_wait "[ \$(relay_files home) -ge 4 ]" 30
relay_check "a cut event for google/127.0.0.42" \
  relay_wait "[ \"\$(pair google 127.0.0.42 cuts)\" = 1 ]" 10
sleep 1
g1=$(pair google 127.0.0.42 rate); m1=$(pair microsoft 127.0.0.42 rate)
echo "    after:  google/127.0.0.42 $g1/h ($(pair google 127.0.0.42 phase)), microsoft/127.0.0.42 $m1/h ($(pair microsoft 127.0.0.42 phase))"
eq "google rate halved" 18000 "$g1"
eq "google cooling down" cooling "$(pair google 127.0.0.42 phase)"
eq "one burst, one cut" 1 "$(pair google 127.0.0.42 cuts)"
eq "microsoft rate untouched" 36000 "$m1"
eq "microsoft not cut" 0 "$(pair microsoft 127.0.0.42 cuts)"
j=$(show)
relay_check "the cut's event carries the answers as evidence" relay_json "$j" \
  "e = [e for e in j['events'] if e['kind'] == 'cut' and e['source_ip'] == '127.0.0.42']
len(e) == 1 and e[0]['provider'] == 'google' and e[0]['rate_before'] == 36000 and e[0]['rate_after'] == 18000 and 'likely unsolicited mail' in e[0]['evidence'] and 'policy refusals' in e[0]['evidence'] and '5.7.1 550' not in e[0]['evidence']"
relay_check "coldpost status shows the cut with its evidence" bash -c \
  "\"$COLDPOST\" status --store \"$RELAY_STORE\" | grep -E '^  [0-9-]+ [0-9:]+ +cut +google from 127.0.0.42 +36000 -> 18000/h'"
relay_check "the Gmail wording was not taken for a listed IP (no pause)" \
  test "$(pair google 127.0.0.42 paused_until)" = 0
cut_until=$("$PY" -c 'import json,sys
d=json.loads(sys.argv[1])
print([e for e in d["events"] if e["kind"]=="cut"][0]["until"])' "$j")
cut_time=$("$PY" -c 'import json,sys
d=json.loads(sys.argv[1])
print([e for e in d["events"] if e["kind"]=="cut"][0]["time"])' "$j")
relay_check "cool-down of 1 day ($cut_time -> $cut_until)" test $((cut_until - cut_time)) -eq 86400
# recovery on schedule: held a day, then 10 days back to full
r_cool=$(pair google 127.0.0.42 rate --now $((cut_until - 60)))
r_end=$(pair google 127.0.0.42 rate --now "$cut_until")
r_mid=$(pair google 127.0.0.42 rate --now $((cut_until + 5 * 86400)))
r_full=$(pair google 127.0.0.42 rate --now $((cut_until + 10 * 86400)))
p_full=$(pair google 127.0.0.42 phase --now $((cut_until + 10 * 86400)))
m_mid=$(pair microsoft 127.0.0.42 rate --now $((cut_until + 5 * 86400)))
echo "    recovery: 1 min before the cool-down ends $r_cool/h, at its end $r_end/h, +5d $r_mid/h, +10d $r_full/h ($p_full); microsoft +5d $m_mid/h"
eq "held through the cool-down" 18000 "$r_cool"
eq "half at the cool-down's end" 18000 "$r_end"
eq "3/4 halfway up the ramp" 27000 "$r_mid"
eq "full at the ramp's end" 36000 "$r_full"
eq "phase full again" full "$p_full"
eq "microsoft stays full" 36000 "$m_mid"

# ==== 3. a listed source IP is paused at that provider only
echo "--- 3. blocklist pause"
send gus@gamma.test pw-gus-1 bl1@gmail-e2e.test bl >/dev/null
relay_check "google/127.0.0.43 paused" \
  relay_wait "[ \"\$(pair google 127.0.0.43 phase)\" = paused ]" 20
pu=$(pair google 127.0.0.43 paused_until)
echo "    google/127.0.0.43 paused until $pu; google/127.0.0.41 $(pair google 127.0.0.41 phase), google/127.0.0.42 $(pair google 127.0.0.42 phase)"
j=$(show)
relay_check "the pause event names the Spamhaus answer" relay_json "$j" \
  "any(e['kind'] == 'pause' and e['provider'] == 'google' and e['source_ip'] == '127.0.0.43' and 'zen.spamhaus.org' in e['evidence'] for e in j['events'])"
relay_check "paused for throttle.pause (1 day)" relay_json "$j" \
  "e = [e for e in j['events'] if e['kind'] == 'pause'][0]
e['until'] - e['time'] == 86400"
eq "other source IPs at google not paused" 0 "$(pair google 127.0.0.41 paused_until)"
out=$(send gus@gamma.test pw-gus-1 after@gmail-e2e.test blg)
qg=$(relay_qid "$out")
out=$(send gus@gamma.test pw-gus-1 after@outlook-e2e.test blm)
relay_check "from the paused IP, microsoft still receives" \
  relay_wait "[ \$(from_count outlook gus@gamma.test) -ge 1 ]" 20
relay_check "... from 127.0.0.43" bash -c \
  "grep -l '^X-Mail-From: gus@gamma.test' $RELAY_DIR/rcv/outlook/mail/*.eml | xargs grep -q '^X-Peer: 127.0.0.43'"
eq "microsoft/127.0.0.43 not paused" 0 "$(pair microsoft 127.0.0.43 paused_until)"
paced() {
  relay_json "$(relay_queue_json "$qg")" \
    "r = j['recipients'][0]
r['state'] == 'deferred' and 'paced' in (r['last_reply'] or '')"
}
relay_check "mail to google from it is held (paced, deferred)" relay_wait paced 15
j=$(relay_queue_json "${qg:-0}" 2>&1) || true
# the pause ends at $pu on the policy's clock, 86400 s ahead of the queue's
relay_check "held until the pause ends" relay_json "$j" \
  "abs(j['recipients'][0]['next_attempt'] - ($pu - 86400)) <= 5"
eq "nothing from gamma reached google" 0 "$(from_count gmail gus@gamma.test)"

# ==== 4. suppression: by hand, and by a hard bounce
echo "--- 4. suppression"
relay_check "suppress add dana@outlook-e2e.test" \
  relay_cp suppress add dana@outlook-e2e.test --tenant acme
out=$(send ann@acme.test pw-ann-1 dana@outlook-e2e.test sup)
echo "    $out"
relay_check "refused at RCPT with 550 naming the list" \
  grep -Eq '^sup-0 550 .*suppression list' <<<"$out"
out=$(send ann@acme.test pw-ann-1 ghost@outlook-e2e.test hb1)
relay_check "a message to ghost@ is accepted" grep -q 'queued as' <<<"$out"
on_list() {
  relay_json "$(relay_cp suppress list --tenant acme --json)" \
    "any(e['address'] == 'ghost@outlook-e2e.test' and e['reason'] == 'bounce' for e in j)"
}
relay_check "the hard bounce put ghost@ on acme's list (reason bounce)" relay_wait on_list 20
out=$(send ann@acme.test pw-ann-1 ghost@outlook-e2e.test hb2)
echo "    $out"
relay_check "a later submission to ghost@ is refused with 550" \
  grep -Eq '^hb2-0 550 .*suppression list' <<<"$out"
out=$(send bea@beta.test pw-bea-1 ghost@outlook-e2e.test hb3)
relay_check "another tenant may still submit to ghost@" grep -q 'queued as' <<<"$out"
eq "dana@ never reached the receiver" 0 \
  "$(grep -l '^X-Rcpt-To: dana@' "$RELAY_DIR"/rcv/outlook/mail/*.eml 2>/dev/null | wc -l)"

# ==== 5. provider webhooks
echo "--- 5. provider.cut / provider.recovered webhooks"
relay_check "beta gets provider.cut for google/127.0.0.42 (36000 -> 18000/h, evidence)" \
  relay_wait "[ \$(hooks beta provider.cut \"d['kind'] == 'cut' and d['provider'] == 'google' and d['source_ip'] == '127.0.0.42' and d['rate_before'] == 36000 and d['rate_after'] == 18000 and 'unsolicited' in d['evidence']\") -ge 1 ]" 15
relay_check "gamma gets provider.cut (kind pause) for google/127.0.0.43" \
  relay_wait "[ \$(hooks gamma provider.cut \"d['kind'] == 'pause' and d['source_ip'] == '127.0.0.43' and 'spamhaus' in d['evidence']\") -ge 1 ]" 15
eq "no recovery announced during the cool-down" 0 "$(hooks beta provider.recovered True)"
# past the cool-down of the cut (1 day after it) on the policy's clock:
# no mail is sent, the relay's housekeeping notices
echo $((86400 * 3)) >"$RELAY_DIR/clock"
kill -HUP "$RELAY_PID"
relay_check "beta gets provider.recovered (kind recover) for google/127.0.0.42" \
  relay_wait "[ \$(hooks beta provider.recovered \"d['kind'] == 'recover' and d['provider'] == 'google' and d['source_ip'] == '127.0.0.42'\") -ge 1 ]" 15
relay_check "gamma gets provider.recovered when the pause of 127.0.0.43 ends" \
  relay_wait "[ \$(hooks gamma provider.recovered \"d['source_ip'] == '127.0.0.43'\") -ge 1 ]" 15
relay_check "the recover event is stored (coldpost policy show)" relay_json "$(show)" \
  "any(e['kind'] == 'recover' and e['source_ip'] == '127.0.0.42' for e in j['events'])"
eq "beta saw nothing of 127.0.0.43" 0 "$(hooks beta provider.cut "d['source_ip'] != '127.0.0.42'")"
eq "gamma saw nothing of 127.0.0.42" 0 "$(hooks gamma provider.cut "d['source_ip'] != '127.0.0.43'")"
eq "one recovery per pair, not one per second" 1 "$(hooks beta provider.recovered "d['source_ip'] == '127.0.0.42'")"

# ==== 6. /metrics: the MX lookups went to Knot and were timed
curl -s http://127.0.0.1:34113/metrics >"$RELAY_DIR/metrics" || true
relay_check "metrics: DNS round trips to Knot counted in the latency histogram" \
  "$PY" "$here/tests/lib/prom_hist.py" "$RELAY_DIR/metrics" coldpost_dns_query_seconds 3
relay_check "metrics: store commits timed" \
  "$PY" "$here/tests/lib/prom_hist.py" "$RELAY_DIR/metrics" coldpost_store_commit_seconds 10
relay_check "metrics: provider cuts by source IP and provider" \
  grep -q '^coldpost_provider_cuts_total{source_ip="127.0.0.42",provider="google"} 1' "$RELAY_DIR/metrics"

stop_rc=0
relay_stop 30 || stop_rc=$?
relay_check "serve drains and exits 0 (got $stop_rc)" test "$stop_rc" -eq 0
relay_summary policy_e2e
