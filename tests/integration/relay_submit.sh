#!/usr/bin/env bash
# Proves: `coldpost serve` (the submission side, --no-delivery) with real
# clients (swaks, Python's smtplib) on loopback: STARTTLS then AUTH PLAIN
# and LOGIN accepted; AUTH refused before TLS; implicit TLS on the
# submissions port; a wrong password refused and repeated failures
# disconnected; no open relay (an unauthenticated, untrusted client can
# neither MAIL nor RCPT); a mailbox cannot send as another mailbox, and a
# tenant never as another tenant's domain (even with send_as_domain, and a
# foreign From is signed with the sender's own domain, never the other
# tenant's key); a trusted network relays for a known domain only; the size
# limit (552), and a smaller one after SIGHUP; the per-IP connection limit
# (421 4.7.0); the idle timeout (421 4.4.2, closed); the accepted
# message is in the store with Received added, Bcc removed, Message-ID and
# Date added, and its DKIM signature (rsa-sha256, and ed25519-sha256 for an
# Ed25519 domain) verifies with dkimpy against the domain's published key;
# SIGTERM drains and exits 0.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
py=/usr/bin/python3
fails=0
t() { # name, command...: the command must succeed
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
PORT=26587 SPORT=26465
S=(--store "sqlite:$tmp/q.db")

# ---- the store: two tenants, their domains and mailboxes
"$cp" tenant add acme "${S[@]}" >/dev/null &&
"$cp" tenant add beta "${S[@]}" >/dev/null &&
"$cp" domain add acme.example --tenant acme --selector s1 --generate rsa \
  "${S[@]}" --json >"$tmp/acme.json" &&
"$cp" domain add ed.example --tenant acme --selector e1 --generate ed25519 \
  "${S[@]}" --json >"$tmp/ed.json" &&
"$cp" domain add beta.example --tenant beta --selector b1 --generate rsa \
  "${S[@]}" --json >"$tmp/beta.json" &&
openssl genpkey -algorithm ed25519 -out "$tmp/gone.pem" 2>/dev/null &&
"$cp" domain add nokey.example --tenant acme --selector n1 --key "$tmp/gone.pem" \
  "${S[@]}" >/dev/null &&
rm -f "$tmp/gone.pem" &&  # the key file is gone: the domain cannot sign
"$cp" mailbox add ann@acme.example --tenant acme --password pw-ann "${S[@]}" >/dev/null &&
"$cp" mailbox add bob@beta.example --tenant beta --password pw-bob \
  --send-as-domain "${S[@]}" >/dev/null ||
  { echo "FAIL store setup"; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null ||
  { echo "FAIL certificate"; exit 1; }

cat >"$tmp/coldpost.conf" <<EOF
[server]
hostname = relay.test
user = ""
store = sqlite:q.db
[listen]
submission = 127.0.0.1:$PORT
submissions = 127.0.0.1:$SPORT
[tls]
cert = cert.pem
key = key.pem
[submission]
trusted_networks = 127.0.0.5
[limits]
max_size = 64K
auth_failures = 2
auth_failure_delay = 100ms
connections_per_ip = 4
idle_timeout = 3s
[log]
file = $tmp/serve.log
EOF

"$cp" serve --config "$tmp/coldpost.conf" --no-delivery 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  sleep 0.1
done

# ---- swaks: STARTTLS + AUTH PLAIN; no Date, no Message-ID, a Bcc that must go
printf '%s\r\n' "From: Ann <ann@acme.example>" "To: rcpt1@dest.example" \
  "Bcc: hidden@secret.example," " other@secret.example" "Subject: first" "" \
  "hello from swaks" >"$tmp/m1.txt"
swaks_ok() { # name, swaks args...: exit 0 and "queued as"
  local name=$1; shift
  swaks --server 127.0.0.1:$PORT --helo client.test "$@" >"$tmp/swaks.out" 2>&1 &&
    grep -q "queued as" "$tmp/swaks.out"
}
t "swaks STARTTLS + AUTH PLAIN accepted" swaks_ok plain --tls \
  --auth PLAIN --auth-user ann@acme.example --auth-password pw-ann \
  --from ann@acme.example --to rcpt1@dest.example,rcpt2@dest.example \
  --data "$tmp/m1.txt"
id1=$(sed -n 's/.*queued as \([0-9][0-9]*\).*/\1/p' "$tmp/swaks.out" | head -1)

# ---- Python smtplib: everything else
cat >"$tmp/t.py" <<'EOF'
import smtplib, ssl, socket, sys, time, base64
PORT, SPORT = int(sys.argv[1]), int(sys.argv[2])
fails = 0
ids = {}
def check(name, cond, detail=""):
    global fails
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else "  (%r)" % (detail,)))
    if not cond:
        fails += 1
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
MSG = ("From: %s\r\nTo: x@dest.example\r\nSubject: %s\r\n\r\n"
       "Body line one.\r\nBody line two.\r\n")
def conn(src="127.0.0.1"):
    s = smtplib.SMTP("127.0.0.1", PORT, source_address=(src, 0), timeout=10)
    s.ehlo("client.test")
    return s
def tls_conn(src="127.0.0.1"):
    s = conn(src)
    s.starttls(context=ctx)
    s.ehlo("client.test")
    return s
def send(s, frm, hdr_from, subject, rcpts=("x@dest.example",)):
    code, msg = s.mail(frm)
    if code != 250:
        return code, msg
    for r in rcpts:
        code, msg = s.rcpt(r)
        if code != 250:
            return code, msg
    return s.data(MSG % (hdr_from, subject))

# STARTTLS + AUTH LOGIN
s = tls_conn()
check("EHLO after STARTTLS offers AUTH PLAIN LOGIN",
      "PLAIN" in s.esmtp_features.get("auth", "") and
      "LOGIN" in s.esmtp_features.get("auth", ""), s.esmtp_features)
s.user, s.password = "ann@acme.example", "pw-ann"
code, msg = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
check("AUTH LOGIN accepted", code == 235, (code, msg))
code, msg = send(s, "ann@acme.example", "ann@acme.example", "login")
check("message after AUTH LOGIN queued", code == 250 and b"queued as" in msg, (code, msg))
ids["login"] = msg.split()[-1].decode()
# a mailbox cannot send as another one, nor as another tenant's domain
code, msg = s.mail("bob@beta.example")
check("MAIL FROM another tenant's mailbox refused 553 5.7.1",
      code == 553 and b"5.7.1" in msg, (code, msg))
s.rset()
code, msg = s.mail("other@acme.example")
check("MAIL FROM another address of its domain refused (no send_as_domain)",
      code == 553, (code, msg))
s.rset()
# the null sender has no mailbox
code, msg = s.mail("")
check("MAIL FROM <> of a mailbox refused", code == 553, (code, msg))
s.quit()

# AUTH before STARTTLS is refused
s = conn()
check("AUTH not offered before TLS", "auth" not in s.esmtp_features, s.esmtp_features)
check("STARTTLS offered", "starttls" in s.esmtp_features, s.esmtp_features)
code, msg = s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0ann@acme.example\0pw-ann").decode())
check("AUTH before TLS refused (538/530)", code in (530, 538), (code, msg))
# no open relay: untrusted and unauthenticated
code, msg = s.mail("ann@acme.example")
check("no open relay: MAIL without AUTH refused 530 5.7.0",
      code == 530 and b"5.7.0" in msg, (code, msg))
code, msg = s.rcpt("victim@dest.example")
check("no open relay: RCPT without AUTH refused", code >= 500, (code, msg))
code, msg = s.docmd("DATA")
check("no open relay: DATA refused", code >= 500, (code, msg))
s.close()

# implicit TLS on the submissions port
s = smtplib.SMTP_SSL("127.0.0.1", SPORT, context=ctx, timeout=10)
s.ehlo("client.test")
check("implicit TLS: AUTH offered at once", "auth" in s.esmtp_features, s.esmtp_features)
s.login("ann@acme.example", "pw-ann")
code, msg = send(s, "ann@acme.example", "ann@acme.example", "implicit")
check("implicit TLS: message queued", code == 250, (code, msg))
s.quit()

# wrong password, then too many failures
s = tls_conn()
def plain(s, user, pw): # one AUTH PLAIN (login() would try LOGIN too)
    s.user, s.password = user, pw
    return s.auth("PLAIN", s.auth_plain)
t0 = time.time()
try:
    plain(s, "ann@acme.example", "wrong")
    check("wrong password refused", False, "accepted")
except smtplib.SMTPAuthenticationError as e:
    check("wrong password refused 535", e.smtp_code == 535, e)
try:
    plain(s, "ann@acme.example", "wrong-again")
    check("second failure disconnects", False, "accepted")
except smtplib.SMTPAuthenticationError as e:
    check("second failure answered 421", e.smtp_code == 421, e)
except smtplib.SMTPServerDisconnected:
    check("second failure disconnects", True)
try:
    s.noop()
    check("connection closed after the failures", False, "still open")
except (smtplib.SMTPServerDisconnected, OSError):
    check("connection closed after the failures", True)
check("failures were delayed", time.time() - t0 >= 0.1, time.time() - t0)

# tenant isolation: bob (beta, send_as_domain) never sends as acme.example
s = tls_conn()
s.login("bob@beta.example", "pw-bob")
code, msg = s.mail("ann@acme.example")
check("tenant isolation: send_as_domain mailbox cannot use another tenant's domain",
      code == 553, (code, msg))
s.rset()
code, msg = send(s, "sales@beta.example", "sales@beta.example", "asdomain")
check("send_as_domain: another address of its own domain accepted", code == 250, (code, msg))
ids["asdomain"] = msg.split()[-1].decode()
code, msg = send(s, "bob@beta.example", "ceo@acme.example", "foreign from")
check("foreign From header accepted (signed with the sender's domain)", code == 250, (code, msg))
ids["foreign"] = msg.split()[-1].decode()
s.quit()

# trusted network: no AUTH, but only for a known domain
s = conn("127.0.0.5")
code, msg = send(s, "news@acme.example", "News <news@acme.example>", "trusted")
check("trusted network relays for a known domain", code == 250, (code, msg))
ids["trusted"] = msg.split()[-1].decode()
s.mail("news@acme.example")
code, msg = s.rcpt("postmaster")
check("RCPT without a domain refused 553 5.1.3", code == 553 and b"5.1.3" in msg, (code, msg))
code, msg = s.rcpt("x" * 70 + "@dest.example")
check("RCPT with a 70-byte local part refused (5.1.3)", code in (501, 553) and b"5.1.3" in msg, (code, msg))
s.rset()
code, msg = s.mail("news@unknown.example")
check("trusted network: unknown sender domain refused 550 5.7.1",
      code == 550 and b"5.7.1" in msg, (code, msg))
s.rset()
code, msg = s.mail("")
check("trusted network: null sender refused", code == 550, (code, msg))
s.rset()
code, msg = send(s, "news@ed.example", "news@ed.example", "ed25519")
check("trusted network: Ed25519 domain accepted", code == 250, (code, msg))
ids["ed"] = msg.split()[-1].decode()
code, msg = send(s, "news@nokey.example", "news@nokey.example", "nokey")
check("domain without a usable key: stored unsigned, still accepted",
      code == 250, (code, msg))
# size limit
big = "From: news@acme.example\r\nSubject: big\r\n\r\n" + ("x" * 998 + "\r\n") * 80
s.mail("news@acme.example")
s.rcpt("x@dest.example")
code, msg = s.data(big)
check("message over limits.max_size refused 552", code == 552, (code, msg))
code, msg = s.mail("news@acme.example", ["SIZE=1000000"])
check("MAIL SIZE= over the limit refused 552", code == 552, (code, msg))
s.quit()

# per-IP connection limit: 4 open, the 5th gets 421 4.7.0
socks = []
for i in range(4):
    c = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.9", 0))
    c.recv(512)
    socks.append(c)
c = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.9", 0))
line = c.recv(512)
check("connection over limits.connections_per_ip gets 421 4.7.0",
      line.startswith(b"421 4.7.0"), line)
c.close()
c = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.10", 0))
line = c.recv(512)
check("another address is still served", line.startswith(b"220"), line)
c.close()
for c in socks:
    c.close()

# idle timeout: 421 4.4.2, then the connection is closed
c = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.11", 0))
c.settimeout(10)
c.recv(512)
t0 = time.time()
line = c.recv(512)
check("idle client gets 421 4.4.2 after limits.idle_timeout",
      line.startswith(b"421 4.4.2") and 2.5 <= time.time() - t0 < 9,
      (line, time.time() - t0))
check("then the connection is closed", c.recv(512) == b"")
c.close()

with open(sys.argv[3], "w") as f:
    for k, v in ids.items():
        f.write("%s %s\n" % (k, v))
sys.exit(1 if fails else 0)
EOF
$py "$tmp/t.py" $PORT $SPORT "$tmp/ids" || fails=$((fails + 1))
id_of() { sed -n "s/^$1 //p" "$tmp/ids"; }

# ---- SIGHUP: new limits for new sessions
cat >"$tmp/size.py" <<'EOF'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), source_address=("127.0.0.5", 0), timeout=10)
msg = "From: news@acme.example\r\nSubject: 40K\r\n\r\n" + ("y" * 998 + "\r\n") * 40
s.ehlo("client.test")
s.mail("news@acme.example"); s.rcpt("x@dest.example")
try:
    code, _ = s.data(msg)
except smtplib.SMTPDataError as e:
    code = e.smtp_code
s.quit()
print(code)
EOF
code=$($py "$tmp/size.py" $PORT 2>&1)
t "a 40K message fits limits.max_size = 64K" test "$code" = 250
sed -i 's/^max_size = 64K/max_size = 32K/' "$tmp/coldpost.conf"
kill -HUP "$pid"
for _ in $(seq 1 50); do grep -q "settings reloaded" "$tmp/serve.log" && break; sleep 0.1; done
t "after SIGHUP with max_size = 32K it is refused 552" test "$($py "$tmp/size.py" $PORT)" = 552

# ---- what was stored
"$cp" queue list --json --limit 0 --config "$tmp/coldpost.conf" >"$tmp/queue.json" 2>"$tmp/err"
t "queue list shows the first message's 2 recipients, queued" $py -c "
import json, sys
rows = json.load(open('$tmp/queue.json'))
rows = rows.get('recipients', rows) if isinstance(rows, dict) else rows
mine = [r for r in rows if str(r.get('message')) == '$id1']
assert len(mine) == 2 and all(r['state'] == 'queued' for r in mine), mine
"
"$cp" queue show "$id1" --body --config "$tmp/coldpost.conf" >"$tmp/m1.eml" 2>"$tmp/err"
t "stored body has Received first after the signature" $py -c "
import re
h = open('$tmp/m1.eml','rb').read().split(b'\r\n\r\n')[0]
names = [l.split(b':')[0].lower() for l in h.split(b'\r\n') if l and l[:1] not in b' \t']
assert names[0] == b'dkim-signature' and names[1] == b'received', names
"
t "stored body: Bcc removed" bash -c "! grep -qi '^Bcc:' '$tmp/m1.eml' && ! grep -q 'hidden@secret' '$tmp/m1.eml'"
t "stored body: Message-ID and Date added" bash -c "grep -qi '^Message-ID: <' '$tmp/m1.eml' && grep -qi '^Date: ' '$tmp/m1.eml'"

# verify.py MESSAGE DOMAIN.json D: dkimpy verifies the signature with the
# domain's published key record, d= is D, From is over-signed, relaxed/relaxed
cat >"$tmp/verify.py" <<'EOF'
import dkim, json, sys
msg = open(sys.argv[1], 'rb').read()
d = json.load(open(sys.argv[2]))
want_d = sys.argv[3]
rec = d["dkim_record"].encode()
def dns(name, timeout=5):
    return rec if name.decode().rstrip('.') == d["dkim_name"] else None
sig = dkim.DKIM(msg)
ok = sig.verify(dnsfunc=dns)
if not ok:
    print("  dkim: %s" % sig.signature_fields, file=sys.stderr)
assert ok, "signature does not verify"
fields = sig.signature_fields
assert fields[b'd'].decode() == want_d, fields[b'd']
hl = [h.strip().lower() for h in fields[b'h'].split(b':')]
assert hl.count(b'from') == 2, hl       # From over-signed
assert fields[b'c'] == b'relaxed/relaxed', fields[b'c']
EOF
verify() { $py "$tmp/verify.py" "$@"; }
verify_ed() { grep -q 'a=ed25519-sha256' "$1" && verify "$@"; }
verify_not() { verify "$1" "$2" "$3" && ! grep -q "d=$4" "$1"; }
t "DKIM (rsa-sha256, d=acme.example) verifies with dkimpy" verify "$tmp/m1.eml" "$tmp/acme.json" acme.example
for k in trusted ed foreign asdomain; do
  "$cp" queue show "$(id_of $k)" --body --config "$tmp/coldpost.conf" >"$tmp/$k.eml" 2>/dev/null
done
t "trusted client's message signed d=acme.example, verifies" verify "$tmp/trusted.eml" "$tmp/acme.json" acme.example
t "Ed25519 domain: ed25519-sha256 signature verifies" verify_ed "$tmp/ed.eml" "$tmp/ed.json" ed.example
t "tenant isolation: From ceo@acme.example signed d=beta.example only" verify_not "$tmp/foreign.eml" "$tmp/beta.json" beta.example acme.example
t "send_as_domain message signed d=beta.example" verify "$tmp/asdomain.eml" "$tmp/beta.json" beta.example
t "log: accepted message line with its DKIM d= and s=" grep -q "id=$id1 .*from=<ann@acme.example> nrcpts=2 .*dkim=d=acme.example s=s1" "$tmp/serve.log"
t "log: the unsigned message says why" grep -q "stored unsigned" "$tmp/serve.log"
t "log: refusals carry their reply" grep -q "refused MAIL: 553 5.7.1" "$tmp/serve.log"

# ---- SIGTERM drains and exits 0
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
t "SIGTERM: exits 0" test "$rc" -eq 0
[ $fails -eq 0 ] || { echo "--- serve log"; tail -n 40 "$tmp/serve.log" "$tmp/serve.err"; }
echo "relay_submit: $fails failed"
[ $fails -eq 0 ]
