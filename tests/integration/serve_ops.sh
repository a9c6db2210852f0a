#!/usr/bin/env bash
# Operations of `coldpost serve`: started as root with server.user set, it
# binds, gives the store to that user and becomes it for good (the process
# runs as nobody and still commits messages); SIGHUP re-reads the file (a
# broken file is refused and the running settings stay); SIGTERM exits 0;
# --check validates without serving; `make install DESTDIR=...` lays out the
# binary, every man page, the systemd unit and an example configuration.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
bdir=${BUILD_DIR:-$(dirname "$cp")}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
t() { local n=$1; shift; if "$@"; then echo "ok   $n"; else echo "FAIL $n"; fails=$((fails+1)); fi; }
port=26421
chmod 755 "$tmp"
mkdir -m 777 "$tmp/state"
conf() { # $1: max_size
cat > "$tmp/c.conf" <<CONF
[server]
hostname = ops.test
user = nobody
store = sqlite:$tmp/state/q.db
[listen]
submission = 127.0.0.1:$port
submissions =
[tls]
cert =
key =
[submission]
trusted_networks = 127.0.0.0/8
[limits]
max_size = $1
[mailbox]
daily_cap = 0
[log]
file = $tmp/state/log
CONF
}
conf 1M
"$cp" tenant add ops --store "sqlite:$tmp/state/q.db" >/dev/null
"$cp" domain add ops.test --tenant ops --generate --store "sqlite:$tmp/state/q.db" >/dev/null
t "--check validates and exits 0" "$cp" serve --config "$tmp/c.conf" --check --no-delivery
"$cp" serve --config "$tmp/c.conf" --no-delivery --pid-file "$tmp/state/pid" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
t "runs as nobody after binding" [ "$(ps -o user= -p $pid | tr -d ' ')" = nobody ]
t "cannot regain root (real and saved uid dropped too)" bash -c "awk '/^Uid:/ {exit !(\$2 == \$3 && \$3 == \$4 && \$2 != 0)}' /proc/$pid/status"
t "the store belongs to nobody" [ "$(stat -c %U "$tmp/state/q.db")" = nobody ]
t "a message is committed as nobody" bash -c "swaks --server 127.0.0.1:$port -f a@ops.test -t x@example.net --body hi >/dev/null"
send_big() { # a 1.5 MB message; exit 0 if accepted
  /usr/bin/python3 - "$port" <<'PY'
import smtplib, sys
body = "Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 21000
try:
    s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
    s.sendmail("a@ops.test", ["x@example.net"], body)
    s.quit()
except smtplib.SMTPException as e:
    print(e, file=sys.stderr)
    sys.exit(1)
PY
}
not() { ! "$@"; }
t "1M size limit before reload (552)" not send_big
conf 4M; kill -HUP $pid; sleep 0.5
t "SIGHUP: the larger limit applies" send_big
echo "[limits]" >> "$tmp/c.conf"; echo "max_size = banana" >> "$tmp/c.conf"
kill -HUP $pid; sleep 0.5
t "SIGHUP with a broken file: refused, logged" grep -q "reload refused" "$tmp/state/log"
t "... and the server still serves" bash -c "swaks --server 127.0.0.1:$port -f a@ops.test -t x@example.net --body hi >/dev/null"
kill -TERM $pid; wait $pid; rc=$?; pid=
t "SIGTERM: exit 0" [ $rc -eq 0 ]
t "three messages in the store" [ "$("$cp" queue list --store "sqlite:$tmp/state/q.db" --json | jq length)" = 3 ]
dest=$tmp/dest
make -s -C "$here" install BUILD="$bdir" DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1
t "make install: the binary" [ -x "$dest/usr/bin/coldpost" ]
t "make install: every man page" bash -c "[ \$(ls '$dest/usr/share/man/man1' | wc -l) -eq \$(ls '$here/docs/man' | grep -c '\\.1\$') ]"
t "make install: the systemd unit runs the installed binary" grep -q "^ExecStart=/usr/bin/coldpost serve --config /etc/coldpost/coldpost.conf" "$dest/lib/systemd/system/coldpost.service"
t "make install: reload is SIGHUP, stop is SIGTERM" bash -c "grep -q '^ExecReload=/bin/kill -HUP' '$dest/lib/systemd/system/coldpost.service' && grep -q '^KillSignal=SIGTERM' '$dest/lib/systemd/system/coldpost.service'"
t "make install: an example configuration that checks" "$cp" config check --config "$dest/etc/coldpost/coldpost.conf"
echo "serve_ops: $fails failed"
exit $((fails > 0))
