#!/usr/bin/env bash
# Proves: `coldpost serve` drains on SIGTERM without losing a message it
# acknowledged: while 12 trusted-network clients submit as fast as they can
# (each message DKIM-signed, group-committed), SIGTERM arrives; every
# message that got "250 ... queued as ID" is in the store under that ID
# (zero loss), the store holds nothing that was never acknowledged except
# at most one message per client cut at its final reply, the server exits
# 0; a client in the middle of DATA when the drain starts finishes its
# message (250), then gets 421 4.3.2; an idle client gets 421 4.3.2 at once;
# new connections are refused (the listener is closed).
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
PORT=26687
S=(--store "sqlite:$tmp/q.db")
"$cp" tenant add acme "${S[@]}" >/dev/null &&
"$cp" domain add acme.example --tenant acme --selector s1 --generate rsa \
  "${S[@]}" >/dev/null || { echo "FAIL store setup"; exit 1; }
cat >"$tmp/coldpost.conf" <<EOF
[server]
hostname = relay.test
user = ""
store = sqlite:q.db
[listen]
submission = 127.0.0.1:$PORT
submissions =
[tls]
cert = ""
key = ""
[submission]
trusted_networks = 127.0.0.0/8
[limits]
connections_per_ip = 100
[log]
file = $tmp/serve.log
EOF
"$cp" serve --config "$tmp/coldpost.conf" --no-delivery 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
  sleep 0.1
done

cat >"$tmp/load.py" <<'EOF'
import os, signal, smtplib, socket, sys, threading, time
PORT, PID, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
acked, lock, stop = [], threading.Lock(), threading.Event()
BODY = "From: news@acme.example\r\nTo: x@dest.example\r\nSubject: load\r\n\r\n" + \
    ("The quick brown fox jumps over the lazy dog. " * 20 + "\r\n") * 6
def client(n):
    try:
        s = smtplib.SMTP("127.0.0.1", PORT, timeout=30)
        s.ehlo("load%d.test" % n)
        while not stop.is_set():
            s.mail("news@acme.example")
            s.rcpt("x%d@dest.example" % n)
            code, msg = s.data(BODY)
            if code == 250:
                with lock:
                    acked.append(msg.split()[-1].decode())
    except (smtplib.SMTPException, OSError):
        pass  # 421 4.3.2 or the closed connection: the drain
def raw(line_wait):
    c = socket.create_connection(("127.0.0.1", PORT))
    c.settimeout(30)
    f = c.makefile("rb")
    f.readline()
    c.sendall(b"EHLO mid.test\r\n")
    while f.readline()[3:4] == b"-":
        pass
    return c, f
# a client idle between transactions, and one that will be inside DATA
idle_c, idle_f = raw(0)
mid_c, mid_f = raw(0)
mid_c.sendall(b"MAIL FROM:<news@acme.example>\r\n")
mid_f.readline()
mid_c.sendall(b"RCPT TO:<y@dest.example>\r\n")
mid_f.readline()
mid_c.sendall(b"DATA\r\n")
go = mid_f.readline()
mid_c.sendall(b"From: news@acme.example\r\nSubject: mid\r\n\r\nfirst half\r\n")
threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
for th in threads:
    th.start()
time.sleep(2.5)
os.kill(PID, signal.SIGTERM)
time.sleep(0.5)
idle_line = idle_f.readline()
mid_c.sendall(b"second half\r\n.\r\n")
mid_reply = mid_f.readline()
mid_c.sendall(b"NOOP\r\n")
mid_next = mid_f.readline()
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    refused = False
except OSError:
    refused = True
stop.set()
for th in threads:
    th.join()
with open(OUT, "w") as f:
    f.write("\n".join(acked) + "\n")
print("go=%r idle=%r mid=%r next=%r refused=%r acked=%d" %
      (go, idle_line, mid_reply, mid_next, refused, len(acked)))
ok = (go.startswith(b"354") and idle_line.startswith(b"421 4.3.2") and
      mid_reply.startswith(b"250") and mid_next.startswith(b"421 4.3.2") and
      refused and len(acked) > 20)
mid_id = mid_reply.split()[-1].decode() if mid_reply.startswith(b"250") else ""
with open(OUT, "a") as f:
    f.write(mid_id + "\n")
sys.exit(0 if ok else 1)
EOF
t "drain: idle client 421 4.3.2, client in DATA finishes (250) then 421 4.3.2, listener closed" \
  $py "$tmp/load.py" $PORT $pid "$tmp/acked"
wait "$pid"; rc=$?
pid=
t "SIGTERM under load: exits 0" test "$rc" -eq 0

"$cp" queue list --json --limit 0 "${S[@]}" >"$tmp/queue.json"
t "every acknowledged message is in the store (zero loss)" $py -c "
import json
rows = json.load(open('$tmp/queue.json'))
stored = {str(r['message']) for r in rows}
acked = {l.strip() for l in open('$tmp/acked') if l.strip()}
lost = acked - stored
extra = stored - acked
print('  acked %d, stored %d, lost %d, stored but not acked %d' % (len(acked), len(stored), len(lost), len(extra)))
assert not lost, sorted(lost)[:10]
assert len(extra) <= 12, len(extra)
"
t "log: drained sessions closed with reason=shutdown" grep -q "reason=shutdown" "$tmp/serve.log"
[ $fails -eq 0 ] || { echo "--- serve log"; tail -n 20 "$tmp/serve.log" "$tmp/serve.err"; }
echo "relay_drain: $fails failed"
[ $fails -eq 0 ]
