#!/usr/bin/env bash
# Proves the relay's inbound listener (listen.bounce) end to end: messages
# sent through the relay with VERP on reach a Gmail-like receiver with a
# per-recipient return path, List-Unsubscribe (mailto on the bounce domain)
# added and covered by a DKIM signature dkimpy verifies. Then the receiver
# side answers later, as real receivers do, with mail to the relay's
# inbound listener (Python smtplib; reports built with the email package):
#  - an RFC 3464 DSN (5.1.1) to the first message's return path: the
#    recipient goes from delivered to bounced with reason userunknown and
#    its cause, and is on the tenant's suppression list (reason bounce);
#  - an RFC 5965 ARF complaint to the second's: suppressed (complaint);
#  - a mail from the third recipient to its List-Unsubscribe address:
#    suppressed (unsubscribe); the same mail from someone else: nothing;
#  - no relaying: another domain (550 5.7.1), a made-up VERP tag or local
#    part of the bounce domain (550 5.1.1), AUTH (503) are refused;
#    postmaster, bare or at the bounce domain, is taken (RFC 5321 4.5.1)
#    and kept for the operator.
#  - the tenant's webhook endpoint (a real HTTP receiver on loopback) gets
#    a signed `bounced` event marked late for the DSN and a `complained`
#    event with the feedback type for the ARF report.
#  - the https link's token is the HTTP API's (coldpost/unsub.h): its
#    one-click POST (RFC 8058) suppresses that recipient too.
# The RCPT-time suppression check of the submission server is not wired
# yet (src/policy/), so suppression is checked with `coldpost suppress
# list`. Ports 33001-33080; addresses 127.0.0.21, 127.0.0.46.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/relay.sh"
relay_init

relay_tenant acme acme.test ann@acme.test 'pw-ann-3301' 127.0.0.21:out1.acme.test
relay_cp tenant set acme --unsubscribe on >/dev/null
relay_set listen.submission 127.0.0.1:33001
relay_set listen.bounce 127.0.0.1:33025
relay_set bounce.domain bounce.acme.test
relay_set bounce.verp on
relay_set bounce.unsubscribe_url https://relay.acme.test
relay_set listen.http 127.0.0.1:33080
relay_set queue.retry 1s,2s
relay_route gmail.test "127.0.0.46:33031"
relay_receiver gmail 127.0.0.46:33031 --hostname mx.gmail.test
"$PY" "$here/tests/lib/webhook_receiver.py" --listen 127.0.0.1:33061 \
  --secret s-acme --log "$RELAY_DIR/hooks-acme.log" &
_relay_pids+=($!)
relay_cp webhook add --tenant acme http://127.0.0.1:33061/hook --secret s-acme >/dev/null
relay_start_or_exit

relay_check "tenant show says unsubscribe on" bash -c \
  "'$COLDPOST' tenant show acme --store '$RELAY_STORE' | grep -q 'unsubscribe.*on'"

send() { # to subject prefix -> queue id
  local out
  out=$(relay_send_py --server 127.0.0.1:33001 --starttls --user ann@acme.test \
    --password 'pw-ann-3301' --from ann@acme.test --to "$1" --subject "$2" \
    --prefix "$3" 2>&1) || true
  relay_qid "$out"
}
q1=$(send ann.user@gmail.test "Quick question" in1)
q2=$(send carl@gmail.test "Partnership" in2)
q3=$(send dora@gmail.test "Following up" in3)
q4=$(send erin@gmail.test "One more thing" in4)
relay_check "four messages accepted ($q1 $q2 $q3 $q4)" test -n "$q1" -a -n "$q2" -a -n "$q3" -a -n "$q4"
# the sender's own List-Unsubscribe stays; two recipients: no token fits both
out=$(relay_send_py --server 127.0.0.1:33001 --starttls --user ann@acme.test \
  --password 'pw-ann-3301' --from ann@acme.test --to fred@gmail.test \
  --header 'List-Unsubscribe: <mailto:optout@acme.test>' --subject own \
  --prefix in5 2>&1) || true
relay_check "a message with its own List-Unsubscribe accepted" test -n "$(relay_qid "$out")"
out=$(relay_send_py --server 127.0.0.1:33001 --starttls --user ann@acme.test \
  --password 'pw-ann-3301' --from ann@acme.test --to gina@gmail.test,hank@gmail.test \
  --subject two --prefix in6 2>&1) || true
relay_check "a message to two recipients accepted" test -n "$(relay_qid "$out")"
relay_check "the receiver got all seven copies" relay_wait_files gmail 7 30

# the saved copy of the message to $1
saved() { grep -l "^X-Rcpt-To: .*$1" "$RELAY_DIR"/rcv/gmail/mail/*.eml | head -1; }
m1=$(saved ann.user@gmail.test || true)
m2=$(saved carl@gmail.test || true)
m3=$(saved dora@gmail.test || true)
m4=$(saved erin@gmail.test || true)
verp_of() { sed -n 's/^X-Mail-From: <\?\([^>]*\)>\?\r\?$/\1/p' "$1" | head -1 | tr -d '\r'; }
v1=$(verp_of "${m1:-/dev/null}")
v2=$(verp_of "${m2:-/dev/null}")
relay_check "VERP return paths on the bounce domain ($v1, $v2)" bash -c \
  "[[ '$v1' == b-+*-*@bounce.acme.test && '$v2' == b-+*-*@bounce.acme.test && '$v1' != '$v2' ]]"

# List-Unsubscribe: present, mailto on the bounce domain, signed
unsub_of() {
  "$PY" - "$1" <<'EOF'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
v = m.get("List-Unsubscribe", "")
u = re.search(r"<mailto:([^>]+)>", v)
print(u.group(1) if u else "")
EOF
}
u3=$(unsub_of "${m3:-/dev/null}")
relay_check "List-Unsubscribe mailto on the bounce domain ($u3)" bash -c \
  "[[ '$u3' == unsub+*-*@bounce.acme.test ]]"
https_of() {
  "$PY" - "$1" <<'EOF'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
v = re.sub(r"\s+", "", m.get("List-Unsubscribe", ""))
u = re.search(r"<(https://[^>]+)>", v)
print(u.group(1) if u else "")
EOF
}
h3=$(https_of "${m3:-/dev/null}")
relay_check "List-Unsubscribe https URL ($h3)" bash -c \
  "[[ '$h3' == https://relay.acme.test/unsubscribe/* ]]"
relay_check "List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058)" \
  grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "${m3:-/dev/null}"
relay_check "one List-Unsubscribe field per message" bash -c \
  "[ \$(grep -ci '^List-Unsubscribe:' '${m3:-/dev/null}') -eq 1 ]"
relay_check "dkimpy verifies the signed message" relay_dkim_verify "${m3:-/dev/null}"
m5=$(saved fred@gmail.test || true)
relay_check "the sender's own List-Unsubscribe is kept, none added" bash -c \
  "[ \$(grep -ci '^List-Unsubscribe' '${m5:-/dev/null}') -eq 1 ] && grep -q '^List-Unsubscribe: <mailto:optout@acme.test>' '${m5:-/dev/null}'"
m6=$(saved gina@gmail.test || true)
relay_check "a message to two recipients gets no List-Unsubscribe" bash -c \
  "[ -s '${m6:-/dev/null}' ] && ! grep -qi '^List-Unsubscribe' '${m6:-/dev/null}'"
relay_check "the signature covers List-Unsubscribe and -Post" "$PY" - "${m3:-/dev/null}" <<'EOF'
import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
sig = re.sub(r"\s+", "", m.get("DKIM-Signature", ""))
h = dict(t.split("=", 1) for t in sig.split(";") if "=" in t).get("h", "")
names = [n.lower() for n in h.split(":")]
sys.exit(0 if "list-unsubscribe" in names and
         "list-unsubscribe-post" in names else print(names) or 1)
EOF

# ---- the relay refuses what is not ours ---------------------------------
smtp() { # mail_from rcpt -> "code" of RCPT (or the error)
  "$PY" - "$1" "$2" <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", 33025, timeout=10)
s.ehlo("mx.gmail.test")
s.mail(sys.argv[1])
code, text = s.rcpt(sys.argv[2])
print(code, text.decode(errors="replace"))
s.quit()
EOF
}
r=$(smtp someone@gmail.test ann@gmail.test)
relay_check "no relaying to another domain: 550 5.7.1 ($r)" bash -c "[[ '$r' == '550 5.7.1'* ]]"
r=$(smtp '' victim@example.org)
relay_check "no relaying for the null sender either ($r)" bash -c "[[ '$r' == '550 5.7.1'* ]]"
forged=$(sed 's/-[0-9a-f]\{8\}@/-00000000@/' <<<"$v1")
r=$(smtp '' "$forged")
relay_check "a made-up VERP tag: 550 5.1.1 ($r)" bash -c "[[ '$r' == '550 5.1.1'* ]]"
r=$(smtp '' "postmaster-x@bounce.acme.test")
relay_check "a made-up local part: 550 5.1.1 ($r)" bash -c "[[ '$r' == '550 5.1.1'* ]]"
r=$("$PY" - <<'EOF'
import smtplib
s = smtplib.SMTP("127.0.0.1", 33025, timeout=10)
s.ehlo("x")
print(s.docmd("AUTH", "PLAIN AGFubkBhY21lLnRlc3QAcHctYW5uLTMzMDE=")[0])
s.quit()
EOF
)
relay_check "no AUTH on the inbound port ($r)" test "$r" -ge 500

# ---- a DSN for the first message -----------------------------------------
deliver_in() { # mail_from rcpt file -> "code text" of the final dot
  "$PY" - "$1" "$2" "$3" <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", 33025, timeout=30)
s.ehlo("mx.gmail.test")
try:
    s.sendmail(sys.argv[1], [sys.argv[2]], open(sys.argv[3], "rb").read())
    print("250")
except smtplib.SMTPException as e:
    print("error", e)
s.quit()
EOF
}
# RFC 5321 4.5.1: postmaster is taken, bare or at the bounce domain
printf 'From: ops@gmail.test\r\nTo: postmaster@bounce.acme.test\r\nSubject: your relay\r\n\r\nHello postmaster\r\n' \
  >"$RELAY_DIR/pm.eml"
r=$(deliver_in ops@gmail.test PostMaster@bounce.acme.test "$RELAY_DIR/pm.eml")
relay_check "postmaster@ the bounce domain (any case) is accepted ($r)" test "$r" = 250
r=$(deliver_in ops@gmail.test postmaster "$RELAY_DIR/pm.eml")
relay_check "bare <postmaster> is accepted ($r)" test "$r" = 250
relay_check "... kept for the operator and logged" relay_wait \
  "grep -q 'mail to <postmaster> from <ops@gmail.test>: kept in the store' '$RELAY_DIR/coldpost.log'" 10
"$PY" - "${m1:-/dev/null}" "$v1" "$RELAY_DIR/dsn.eml" <<'EOF'
import email, email.message, email.utils, sys
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
orig = email.message_from_binary_file(open(sys.argv[1], "rb"))
m = MIMEMultipart("report", report_type="delivery-status")
m["From"] = "Mail Delivery Subsystem <mailer-daemon@mx.gmail.test>"
m["To"] = sys.argv[2]
m["Subject"] = "Delivery Status Notification (Failure)"
m["Date"] = email.utils.formatdate()
m["Message-ID"] = email.utils.make_msgid(domain="mx.gmail.test")
m["Auto-Submitted"] = "auto-replied"
m.attach(MIMEText("Your message wasn't delivered to ann.user@gmail.test "
                  "because the address couldn't be found.\n"))
ds = email.message.Message()
ds.set_type("message/delivery-status")
pm = email.message.Message()
pm["Reporting-MTA"] = "dns; mx.gmail.test"
pm["Arrival-Date"] = email.utils.formatdate()
pr = email.message.Message()
pr["Final-Recipient"] = "rfc822; ann.user@gmail.test"
pr["Action"] = "failed"
pr["Status"] = "5.1.1"
pr["Remote-MTA"] = "dns; mx.gmail.test"
pr["Diagnostic-Code"] = ("smtp; 550-5.1.1 The email account that you tried "
                         "to reach does not exist.")
ds.set_payload([pm, pr])
m.attach(ds)
hdr = email.message.Message()
hdr.set_type("text/rfc822-headers")
hdr.set_payload("".join(f"{k}: {v}\n" for k, v in orig.items()
                        if not k.startswith("X-")))
m.attach(hdr)
open(sys.argv[3], "wb").write(m.as_bytes().replace(b"\n", b"\r\n"))
EOF
r=$(deliver_in '' "$v1" "$RELAY_DIR/dsn.eml")
relay_check "the DSN is accepted (250) ($r)" test "$r" = 250
state1() {
  relay_json "$(relay_queue_json "$q1")" "j['recipients'][0]['state'] == 'bounced'"
}
relay_check "the recipient went from delivered to bounced" state1
j=$(relay_queue_json "$q1") || true
relay_check "the late bounce is recorded with reason and cause" relay_json "$j" "
at = j['attempts']
len(at) == 2 and at[0]['outcome'] == 'bounced' and at[0]['reason'] == 'userunknown' and at[0]['cause'] != '' and at[0]['code'] == 550 and 'does not exist' in at[0]['reply'] and at[1]['outcome'] == 'delivered'"
relay_check "recipient's last reason is userunknown" relay_json "$j" \
  "j['recipients'][0]['last_reason'] == 'userunknown'"
sup=$(relay_cp suppress list --json) || true
relay_check "the hard bounce is suppressed (reason bounce)" relay_json "$sup" \
  "any(s['address'] == 'ann.user@gmail.test' and s['reason'] == 'bounce' for s in j)"
relay_check "the inbound message is logged with its id and the message's" \
  grep -Eq 'inbound=[0-9]+ rcpt=[0-9]+ message=[0-9]+ msgid=<.*> to=<ann.user@gmail.test> bounce reason=userunknown' \
  "$RELAY_DIR/coldpost.log"

# ---- an ARF complaint for the second ---------------------------------------
"$PY" - "${m2:-/dev/null}" "$v2" "$RELAY_DIR/arf.eml" <<'EOF'
import email, email.message, email.utils, sys
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.message import MIMEMessage
raw = open(sys.argv[1], "rb").read().split(b"\r\n")
while raw and raw[0].split(b":", 1)[0] in (b"X-Peer", b"X-Helo",
        b"X-Mail-From", b"X-Rcpt-To", b"X-TLS"):
    raw.pop(0)
orig = email.message_from_bytes(b"\r\n".join(raw))
m = MIMEMultipart("report", report_type="feedback-report")
m["From"] = "<staff@fbl.gmail.test>"
m["To"] = sys.argv[2]
m["Subject"] = "FW: Partnership"
m["Date"] = email.utils.formatdate()
m["Message-ID"] = email.utils.make_msgid(domain="fbl.gmail.test")
m.attach(MIMEText("This is an email abuse report for an email message "
                  "received from IP 127.0.0.21.\n"))
fr = email.message.Message()
fr.set_type("message/feedback-report")
fb = email.message.Message()
fb["Feedback-Type"] = "abuse"
fb["User-Agent"] = "GmailFBL/1.0"
fb["Version"] = "1"
fb["Original-Mail-From"] = "<" + sys.argv[2] + ">"
fb["Original-Rcpt-To"] = "<carl@gmail.test>"
fb["Source-IP"] = "127.0.0.21"
fb["Arrival-Date"] = email.utils.formatdate()
fr.set_payload([fb])
m.attach(fr)
m.attach(MIMEMessage(orig))
open(sys.argv[3], "wb").write(m.as_bytes().replace(b"\n", b"\r\n"))
EOF
r=$(deliver_in '' "$v2" "$RELAY_DIR/arf.eml")
relay_check "the ARF report is accepted (250) ($r)" test "$r" = 250
sup=$(relay_cp suppress list --json) || true
relay_check "the complaint is suppressed (reason complaint)" relay_json "$sup" \
  "any(s['address'] == 'carl@gmail.test' and s['reason'] == 'complaint' for s in j)"
j=$(relay_queue_json "$q2") || true
relay_check "the complaint is recorded, the recipient stays delivered" relay_json "$j" "
j['recipients'][0]['state'] == 'delivered' and j['attempts'][0]['reason'] == 'feedback'"
hook() { # TYPE PY_EXPR on the event's data d: signed, answered ones exist
  "$PY" -c 'import json, sys
sys.exit(0 if any(e.get("status") == 200 and e.get("sig_ok") and
                  e.get("type") == sys.argv[2] and
                  eval(sys.argv[3], {"d": e.get("data") or {}})
                  for e in map(json.loads, open(sys.argv[1]))) else 1)' \
    "$RELAY_DIR/hooks-acme.log" "$1" "$2" 2>/dev/null
}
relay_check "webhook: bounced (late, reason userunknown) for the DSN" relay_wait \
  "hook bounced \"d['recipient'] == 'ann.user@gmail.test' and d.get('late') is True and d['reason'] == 'userunknown' and d['code'] == 550\"" 20
relay_check "webhook: complained (feedback_type abuse) for the ARF report" relay_wait \
  "hook complained \"d['recipient'] == 'carl@gmail.test' and d['feedback_type'] == 'abuse' and d['message'] > 0\"" 20

# ---- unsubscribe by mail ----------------------------------------------------
printf 'From: Eve <eve@gmail.test>\r\nTo: %s\r\nSubject: unsubscribe\r\n\r\nunsubscribe\r\n' \
  "$u3" >"$RELAY_DIR/unsub-eve.eml"
r=$(deliver_in eve@gmail.test "$u3" "$RELAY_DIR/unsub-eve.eml")
relay_check "a stranger's mail to the unsubscribe address is taken ($r)" test "$r" = 250
sup=$(relay_cp suppress list --json) || true
relay_check "... and suppresses nobody" relay_json "$sup" \
  "not any(s['address'] in ('eve@gmail.test', 'dora@gmail.test') for s in j)"
printf 'From: Dora <dora@gmail.test>\r\nTo: %s\r\nSubject: unsubscribe\r\n\r\nunsubscribe\r\n' \
  "$u3" >"$RELAY_DIR/unsub.eml"
r=$(deliver_in dora@gmail.test "$u3" "$RELAY_DIR/unsub.eml")
relay_check "the recipient's unsubscribe mail is accepted ($r)" test "$r" = 250
sup=$(relay_cp suppress list --json) || true
relay_check "its sender is suppressed (reason unsubscribe)" relay_json "$sup" \
  "any(s['address'] == 'dora@gmail.test' and s['reason'] == 'unsubscribe' for s in j)"

# ---- the https link of RFC 8058: the HTTP API verifies the relay's token ---
h4=$(https_of "${m4:-/dev/null}")
r=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
  -d 'List-Unsubscribe=One-Click' "http://127.0.0.1:33080${h4#https://relay.acme.test}" || true)
relay_check "one-click POST of the https link succeeds ($r)" test "$r" = 200
sup=$(relay_cp suppress list --json) || true
relay_check "... and suppresses its recipient" relay_json "$sup" \
  "any(s['address'] == 'erin@gmail.test' and s['reason'] == 'unsubscribe' for s in j)"
relay_check "exactly four suppressions" relay_json "$sup" "len(j) == 4"

stop_rc=0
relay_stop 30 || stop_rc=$?
relay_check "serve drains and exits 0 on SIGTERM (got $stop_rc)" test "$stop_rc" -eq 0
relay_check "the inbound rows are kept and processed" "$PY" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
kinds = [r[0] for r in db.execute("SELECT kind FROM inbound WHERE processed > 0 ORDER BY id")]
sys.exit(0 if kinds == ["postmaster", "postmaster", "bounce", "complaint", "none", "unsubscribe"] else print(kinds) or 1)' "$RELAY_DIR/queue.db"
relay_summary relay_inbound
