# shellcheck shell=bash
# relay.sh - what the relay's end-to-end tests share: a private directory,
# a self-signed certificate, a store with tenants, pools, domains (DKIM
# keys) and mailboxes made with the real `coldpost` commands, a
# configuration file, `coldpost serve` started and stopped (or killed), the
# receiving MTAs (tests/lib/receiver.py and Postfix's smtp-sink), and DKIM
# verification at the receiver with dkimpy. Source it from a bash test:
#
#   source "$here/tests/lib/relay.sh"
#   relay_init                        # temp dir, cert; trap cleans up on EXIT
#   relay_tenant acme acme.test ann@acme.test pw-ann 127.0.0.21:out1.acme.test
#   relay_set listen.submission 127.0.0.1:28201
#   relay_route gmail.test 127.0.0.31:28231
#   relay_receiver gmail 127.0.0.31:28231 --rule 'rcpt:x@*=550 5.1.1 no'
#   relay_start                       # writes the config, waits for the port
#   swaks --server 127.0.0.1:28201 ... ; relay_wait_files gmail 1 20
#   relay_dkim_verify "$RELAY_DIR/rcv/gmail/mail/000001.eml"
#
# Functions (all work under `set -euo pipefail`):
#   relay_init                 RELAY_DIR (mktemp -d), RELAY_CERT/RELAY_KEY, the
#                              defaults below, an EXIT trap calling
#                              relay_cleanup (a test with its own trap calls
#                              relay_cleanup from it). COLDPOST is the binary
#                              (default build/coldpost), PY=/usr/bin/python3.
#   relay_cp ARGS...           `coldpost ARGS --store sqlite:$RELAY_DIR/queue.db`
#   relay_tenant T DOMAIN MAILBOX PASSWORD [IP:EHLO...]
#                              tenant T (no daily cap), its sending DOMAIN
#                              with a fresh RSA key (`coldpost dkim keygen`,
#                              selector "s1"), MAILBOX with PASSWORD, and pool
#                              addresses; the DKIM TXT record is kept in
#                              $RELAY_DIR/dkim/s1._domainkey.DOMAIN.txt
#   relay_mailbox T ADDRESS PASSWORD [add options]   another mailbox
#   relay_set SECTION.KEY VALUE   a configuration key (overrides a default)
#   relay_unset SECTION.KEY       leave a key out (its built-in default)
#   relay_route DOMAIN VALUE      a [routes] line: DOMAIN = VALUE
#   relay_config                  writes $RELAY_CONF from the above
#   relay_start [SERVE ARGS...]   relay_config, then `coldpost serve --config
#                              $RELAY_CONF --pid-file ...` in the background
#                              (plus --dns-server $RELAY_DNS when set), log in
#                              $RELAY_DIR/serve.log; waits until the first
#                              submission port accepts connections (20 s);
#                              sets RELAY_PID. Returns 1 (log printed) when
#                              it exits or does not listen.
#   relay_start_or_exit [SERVE ARGS...]  relay_start; on failure counts it,
#                              prints the summary and exits 1
#   RELAY_WRAP                 a command serve runs under (gdb, valgrind)
#   relay_stop [SECONDS]       SIGTERM, wait (default 30 s), then SIGKILL;
#                              returns serve's exit status (137 if killed)
#   relay_kill9                kill -9 now, reaped
#   relay_receiver NAME HOST:PORT [receiver.py options]
#                              a receiver.py saving into
#                              $RELAY_DIR/rcv/NAME/mail, stats in
#                              $RELAY_DIR/rcv/NAME/stats.json; waits for it
#   relay_receiver_stop NAME
#   relay_sink NAME HOST:PORT [smtp-sink options]
#                              Postfix's smtp-sink, every transaction appended
#                              to $RELAY_DIR/sink/NAME/dump
#   relay_files NAME           number of messages receiver NAME saved
#   relay_stat NAME KEY        a count from receiver NAME's stats (a.b for
#                              nested keys)
#   relay_wait_files NAME N SECONDS   until NAME saved at least N messages
#   relay_wait CMD SECONDS     until the shell command CMD succeeds
#   relay_queue_json MSGID     `coldpost queue show MSGID --json`
#   relay_dkim_verify FILE     dkimpy verifies the DKIM-Signature of a saved
#                              message (the X- lines receiver.py added are
#                              removed first); keys from $RELAY_DIR/dkim/,
#                              or from DNS at $RELAY_DKIM_DNS (HOST:PORT) with
#                              kdig when set. Prints dkimpy's verdict.
#   relay_send_py ARGS...      tests/lib/relay_submit.py (smtplib client)
#   relay_cleanup              stops everything started, removes RELAY_DIR
#                              (kept when RELAY_KEEP=1)
#   relay_check NAME CMD...    runs CMD; counts and prints ok/FAIL NAME
#   relay_summary SCRIPT       prints "SCRIPT: N passed, N failed", returns
#                              1 on any failure

_relay_here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3
COLDPOST=${COLDPOST:-$_relay_here/build/coldpost}
declare -gA _relay_kv=()
declare -ga _relay_keys=()
declare -ga _relay_pids=()
declare -gA _relay_rcv=()
RELAY_PID=
RELAY_DNS=${RELAY_DNS:-}
RELAY_DKIM_DNS=${RELAY_DKIM_DNS:-}
relay_pass=0
relay_fail=0

relay_init() {
  RELAY_DIR=$(mktemp -d /tmp/relaytest.XXXXXX)
  chmod 755 "$RELAY_DIR"
  mkdir -p "$RELAY_DIR/dkim" "$RELAY_DIR/rcv" "$RELAY_DIR/sink"
  RELAY_CONF=$RELAY_DIR/coldpost.conf
  RELAY_STORE=sqlite:$RELAY_DIR/queue.db
  RELAY_CERT=$RELAY_DIR/cert.pem
  RELAY_KEY=$RELAY_DIR/key.pem
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=relay.test \
    -addext subjectAltName=DNS:relay.test \
    -keyout "$RELAY_KEY" -out "$RELAY_CERT" >/dev/null 2>&1
  trap relay_cleanup EXIT
  relay_set server.hostname relay.test
  relay_set server.user ""
  relay_set server.store "$RELAY_STORE"
  relay_set listen.submission 127.0.0.1:28001
  relay_set listen.submissions ""
  relay_set tls.cert "$RELAY_CERT"
  relay_set tls.key "$RELAY_KEY"
  relay_set submission.trusted_networks ""
  relay_set delivery.tls none
  relay_set delivery.connect_timeout 5s
  relay_set delivery.command_timeout 10s
  relay_set delivery.data_timeout 10s
  relay_set queue.retry 1s,2s
  relay_set queue.expiry 1h
  relay_set mailbox.daily_cap 0
  relay_set throttle.max_rate 0   # pacing has its own tests
  relay_set log.file "$RELAY_DIR/coldpost.log"
}

relay_cp() {
  "$COLDPOST" "$@" --store "$RELAY_STORE"
}

relay_tenant() { # tenant domain mailbox password [ip:ehlo...]
  local t=$1 dom=$2 mbox=$3 pw=$4 spec pem=$RELAY_DIR/dkim/$2.pem
  shift 4
  relay_cp tenant add "$t" --daily-cap 0 >/dev/null
  "$COLDPOST" dkim keygen --selector s1 --domain "$dom" --out "$pem" >/dev/null
  relay_cp domain add "$dom" --tenant "$t" --selector s1 --key "$pem" >/dev/null
  printf 'v=DKIM1; k=rsa; p=%s' \
    "$(openssl pkey -in "$pem" -pubout -outform DER 2>/dev/null | base64 -w0)" \
    >"$RELAY_DIR/dkim/s1._domainkey.$dom.txt"
  relay_mailbox "$t" "$mbox" "$pw"
  for spec in "$@"; do
    relay_cp pool add "$t" "${spec%%:*}" --ehlo "${spec#*:}" >/dev/null
  done
}

relay_mailbox() { # tenant address password [options]
  local t=$1 a=$2 pw=$3
  shift 3
  printf '%s\n' "$pw" | relay_cp mailbox add "$a" --tenant "$t" \
    --password-stdin "$@" >/dev/null
}

relay_set() {
  [ -n "${_relay_kv[$1]+x}" ] || _relay_keys+=("$1")
  _relay_kv[$1]=$2
}

relay_unset() {
  unset "_relay_kv[$1]"
}

relay_route() {
  relay_set "routes.$1" "$2"
}

relay_config() {
  local sec k key
  : >"$RELAY_CONF"
  for sec in server listen tls submission limits delivery routes queue dkim \
    bounce log mailbox throttle webhook http; do
    printf '[%s]\n' "$sec" >>"$RELAY_CONF"
    for k in "${_relay_keys[@]}"; do
      [ -n "${_relay_kv[$k]+x}" ] || continue
      [ "${k%%.*}" = "$sec" ] || continue
      key=${k#*.}
      printf '%s = %s\n' "$key" "${_relay_kv[$k]}" >>"$RELAY_CONF"
    done
    printf '\n' >>"$RELAY_CONF"
  done
}

# Does HOST:PORT accept TCP connections?
_relay_port_open() {
  "$PY" -c 'import socket,sys
h,p=sys.argv[1].rsplit(":",1)
s=socket.socket(); s.settimeout(1)
try: s.connect((h.strip("[]"),int(p)))
except OSError: sys.exit(1)' "$1" 2>/dev/null
}

relay_start() {
  local addr i args=()
  relay_config
  addr=${_relay_kv[listen.submission]%%,*}
  # Tests never ask the machine's resolver: without a test DNS server,
  # lookups go to a port where nothing listens and fail at once.
  args+=(--dns-server "${RELAY_DNS:-127.0.0.1:9}")
  rm -f "$RELAY_DIR/serve.pid"
  echo "=== serve start $(date +%T.%N)" >>"$RELAY_DIR/serve.log"
  # RELAY_WRAP: a debugging wrapper, e.g. "gdb -batch -ex run -ex bt --args"
  ${RELAY_WRAP:-} "$COLDPOST" serve --config "$RELAY_CONF" \
    --pid-file "$RELAY_DIR/serve.pid" "${args[@]}" "$@" \
    >>"$RELAY_DIR/serve.log" 2>&1 &
  RELAY_PID=$!
  for i in $(seq 200); do
    if ! kill -0 "$RELAY_PID" 2>/dev/null; then
      echo "coldpost serve exited at start:"; tail -30 "$RELAY_DIR/serve.log"
      tail -30 "$RELAY_DIR/coldpost.log" 2>/dev/null
      RELAY_PID=; return 1
    fi
    if _relay_port_open "$addr"; then return 0; fi
    sleep 0.1
  done
  echo "coldpost serve does not listen on $addr after 20 s:"
  tail -30 "$RELAY_DIR/serve.log"
  return 1
}

# relay_start, or count a failure, print the summary and exit 1.
relay_start_or_exit() {
  if relay_start "$@"; then return 0; fi
  relay_fail=$((relay_fail + 1))
  echo "FAIL coldpost serve starts"
  relay_summary "$(basename "$0" .sh)" || true
  exit 1
}

relay_stop() { # [seconds]: SIGTERM, then SIGKILL
  local pid=$RELAY_PID wait=${1:-30} rc=0 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq $((wait * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "coldpost serve ignored SIGTERM for ${wait}s: kill -9"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  RELAY_PID=
  return "$rc"
}

relay_kill9() {
  [ -n "$RELAY_PID" ] || return 0
  kill -KILL "$RELAY_PID" 2>/dev/null || true
  wait "$RELAY_PID" 2>/dev/null || true
  RELAY_PID=
}

relay_receiver() { # name host:port [options]
  local name=$1 listen=$2 d=$RELAY_DIR/rcv/$1 i
  shift 2
  mkdir -p "$d"
  rm -f "$d/pid"
  "$PY" "$_relay_here/tests/lib/receiver.py" --listen "$listen" \
    --dir "$d/mail" --pid-file "$d/pid" --stats "$d/stats.json" "$@" \
    2>>"$d/log" &
  _relay_rcv[$name]=$!
  _relay_pids+=($!)
  for i in $(seq 100); do
    [ -s "$d/pid" ] && return 0
    kill -0 "${_relay_rcv[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "receiver $name did not start:"; cat "$d/log"; return 1
}

relay_receiver_stop() {
  local pid=${_relay_rcv[$1]:-}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "_relay_rcv[$1]"
}

relay_sink() { # name host:port [smtp-sink options]
  local name=$1 listen=$2 d=$RELAY_DIR/sink/$1 i
  shift 2
  mkdir -p "$d"
  chmod 777 "$d"
  /usr/sbin/smtp-sink -u nobody -h "mx.$name.test" -D "$d/dump" "$@" \
    "$listen" 256 >"$d/log" 2>&1 &
  _relay_pids+=($!)
  for i in $(seq 100); do
    _relay_port_open "$listen" && return 0
    sleep 0.1
  done
  echo "smtp-sink $name did not start:"; cat "$d/log"; return 1
}

relay_files() {
  local n
  n=$(find "$RELAY_DIR/rcv/$1/mail" -name '*.eml' 2>/dev/null | wc -l)
  echo "$n"
}

relay_stat() {
  "$PY" -c 'import json,sys
j=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): j=j[k]
print(j)' "$RELAY_DIR/rcv/$1/stats.json" "$2"
}

relay_wait() { # cmd seconds
  local end=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$end" ]; do
    if eval "$1" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  eval "$1" >/dev/null 2>&1
}

relay_wait_files() { # name n seconds
  relay_wait "[ \$(relay_files $1) -ge $2 ]" "$3"
}

relay_queue_json() {
  relay_cp queue show "$1" --json
}

relay_dkim_verify() { # file
  "$PY" - "$1" "$RELAY_DIR/dkim" "$RELAY_DKIM_DNS" <<'EOF'
import subprocess, sys
import dkim

path, keydir, dns = sys.argv[1], sys.argv[2], sys.argv[3]
raw = open(path, "rb").read()
# receiver.py put X-Peer ... X-TLS in front: not part of what was signed
lines = raw.split(b"\r\n")
while lines and lines[0].split(b":", 1)[0] in (
        b"X-Peer", b"X-Helo", b"X-Mail-From", b"X-Rcpt-To", b"X-TLS"):
    lines.pop(0)
msg = b"\r\n".join(lines)

def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    name = name.rstrip(".")
    if dns:
        host, port = dns.rsplit(":", 1)
        out = subprocess.run(["kdig", "@" + host, "-p", port, "+short",
                              "TXT", name], capture_output=True, text=True,
                             timeout=timeout).stdout
        # kdig prints "a" "b": join the character-strings of one record
        parts = [p for p in out.strip().split('"') if p.strip()]
        return "".join(parts).encode()
    try:
        return open(f"{keydir}/{name}.txt", "rb").read()
    except FileNotFoundError:
        return b""

try:
    ok = dkim.verify(msg, dnsfunc=dnsfunc)
except Exception as e:
    print(f"dkim: error {e}")
    sys.exit(1)
print("dkim: pass" if ok else "dkim: fail")
sys.exit(0 if ok else 1)
EOF
}

relay_send_py() {
  "$PY" "$_relay_here/tests/lib/relay_submit.py" "$@"
}

relay_cleanup() {
  local p
  if [ -n "${RELAY_PID:-}" ]; then
    kill -TERM "$RELAY_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$RELAY_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=
  fi
  for p in "${_relay_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${_relay_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  _relay_pids=()
  if declare -F dns_server_stop >/dev/null; then dns_server_stop || true; fi
  if [ -n "${RELAY_DIR:-}" ] && [ "${RELAY_KEEP:-0}" != 1 ]; then
    rm -rf "$RELAY_DIR"
  elif [ -n "${RELAY_DIR:-}" ]; then
    echo "kept $RELAY_DIR"
  fi
}

relay_check() { # name cmd... (locals named so as not to hide the caller's)
  local _rc_name=$1 _rc_out _rc_rc=0
  shift
  _rc_out=$("$@" 2>&1) || _rc_rc=$?
  if [ "$_rc_rc" -eq 0 ]; then
    relay_pass=$((relay_pass + 1)); echo "ok   $_rc_name"
  else
    relay_fail=$((relay_fail + 1)); echo "FAIL $_rc_name"
    [ -z "$_rc_out" ] || printf '%s\n' "$_rc_out" | tail -25 | sed 's/^/     /'
  fi
}

relay_summary() {
  # a sanitizer build reports to serve's stderr: any report fails the test
  if grep -Eq 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' \
    "$RELAY_DIR/serve.log" 2>/dev/null; then
    relay_fail=$((relay_fail + 1))
    echo "FAIL sanitizer report in coldpost serve's output:"
    grep -E -A12 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' \
      "$RELAY_DIR/serve.log" | head -40 | sed 's/^/     /'
  fi
  echo "$1: $relay_pass passed, $relay_fail failed"
  if [ "$relay_fail" -ne 0 ]; then
    echo "--- coldpost log (last 40 lines)"
    tail -40 "$RELAY_DIR/coldpost.log" 2>/dev/null || true
    tail -20 "$RELAY_DIR/serve.log" 2>/dev/null || true
    return 1
  fi
}

# relay_json JSON PYCODE: true when the Python expression over j (the
# parsed JSON) is; prints the JSON when not. PYCODE may have statements on
# lines before the expression, which is its last line.
relay_json() {
  "$PY" -c 'import json, sys
j = json.loads(sys.argv[1])
code = sys.argv[2].strip().split("\n")
exec("\n".join(code[:-1]))
ok = eval(code[-1])
if not ok:
    print(json.dumps(j, indent=1)[:3000])
sys.exit(0 if ok else 1)' "$1" "$2"
}

# The queue id in a client's output ("250 2.0.0 Ok: queued as ID").
relay_qid() {
  sed -n 's/.*queued as \([0-9][0-9]*\).*/\1/p' <<<"$1" | tail -1
}

# relay_zone_dkim DOMAIN: the DKIM TXT record of DOMAIN as zone file lines
# (character-strings of at most 255 bytes, RFC 1035 3.3.14).
relay_zone_dkim() {
  local rec
  rec=$(cat "$RELAY_DIR/dkim/s1._domainkey.$1.txt")
  printf 's1._domainkey.%s. 300 IN TXT (' "$1"
  while [ -n "$rec" ]; do
    printf ' "%s"' "${rec:0:250}"
    rec=${rec:250}
  done
  printf ' )\n'
}
