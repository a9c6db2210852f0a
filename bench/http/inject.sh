#!/usr/bin/env bash
# bench/http/inject.sh [MESSAGES] [CLIENTS] - messages per second injected
# through the HTTP API (POST /v1/messages, structured JSON, keep-alive)
# against SMTP submission (AUTH PLAIN, many messages per connection), in
# the same run, on the same `coldpost serve --no-delivery` and store. Both
# paths end in the same signer workers (DKIM) and group-commit writer, so
# the difference is the front end: HTTP parsing, JSON, MIME building and
# key lookup against the SMTP dialogue. Each message: one recipient, the
# same subject and ~1 KiB text body. Prints both rates and their ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
n=${1:-2000}
clients=${2:-4}
py=/usr/bin/python3
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
S=(--store "sqlite:$tmp/q.db")
"$cp" tenant add bench "${S[@]}" >/dev/null
"$cp" domain add bench.test --tenant bench --selector s1 --generate rsa "${S[@]}" >/dev/null
printf 'pw-bench-1\n' | "$cp" mailbox add ann@bench.test --tenant bench \
  --password-stdin "${S[@]}" >/dev/null
key=$("$cp" apikey add --tenant bench --rate 1000000 --json "${S[@]}" 2>/dev/null |
  "$py" -c 'import json,sys; print(json.load(sys.stdin)["key"])')
cat >"$tmp/c.conf" <<CONF
[server]
hostname = bench.localhost
user =
store = sqlite:$tmp/q.db
[listen]
submission = 127.0.0.1:30587
submissions =
http = 127.0.0.1:30588
[tls]
cert =
key =
[submission]
auth_without_tls = true
[limits]
connections_per_ip = 64
[log]
file = $tmp/log
CONF
"$cp" serve --config "$tmp/c.conf" --no-delivery 2>"$tmp/err" &
pid=$!
for i in $(seq 100); do
  "$py" -c 'import socket; socket.create_connection(("127.0.0.1", 30588), 1)' 2>/dev/null && break
  sleep 0.1
done

"$py" - "$n" "$clients" "$key" <<'PY'
import http.client, json, smtplib, sys, threading, time
n, clients, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
text = ("Hello, this is a benchmark message. " * 28)[:1000]

def http_worker(count, errs):
    c = http.client.HTTPConnection("127.0.0.1", 30588, timeout=60)
    hdr = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    for i in range(count):
        body = json.dumps({"mailbox": "ann@bench.test", "to": ["r%d@example.org" % i],
                           "subject": "bench", "text": text})
        c.request("POST", "/v1/messages", body, hdr)
        r = c.getresponse(); r.read()
        if r.status != 202: errs.append(r.status)
    c.close()

def smtp_worker(count, errs):
    s = smtplib.SMTP("127.0.0.1", 30587, timeout=60)
    s.login("ann@bench.test", "pw-bench-1")
    for i in range(count):
        msg = ("From: ann@bench.test\r\nTo: r%d@example.org\r\nSubject: bench\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n") % (i, text)
        try: s.sendmail("ann@bench.test", ["r%d@example.org" % i], msg)
        except Exception as e: errs.append(str(e))
    s.quit()

def run(worker):
    errs = []
    per = n // clients
    ts = [threading.Thread(target=worker, args=(per, errs)) for _ in range(clients)]
    t0 = time.monotonic()
    for t in ts: t.start()
    for t in ts: t.join()
    dt = time.monotonic() - t0
    if errs: print("errors:", errs[:3], len(errs)); sys.exit(1)
    return per * clients / dt

smtp = run(smtp_worker)   # warm both paths in turn; SMTP first, then HTTP
http_ = run(http_worker)
print("SMTP submission: %.0f messages/s (%d messages, %d clients)" % (smtp, n, clients))
print("HTTP API inject: %.0f messages/s (%d messages, %d clients)" % (http_, n, clients))
print("ratio HTTP/SMTP: %.2f" % (http_ / smtp))
PY
