# shellcheck shell=bash
# dns_server.sh - start a real authoritative DNS server (Knot DNS, Debian
# package `knot`; queries with `kdig`/`knsupdate` from `knot-dnsutils`) for
# integration tests. Source it from a bash test script (tests run as root):
#
#   source "$here/tests/lib/dns_server.sh"
#   trap dns_server_stop EXIT            # stops every server started
#   dns_server_start 127.0.0.53 5353 zones/*.zone || exit 1
#   "$COLDPOST" dns example.com TXT --dns-server 127.0.0.53:5353
#
# dns_server_start [-u] [-k ALG:NAME:SECRET] ADDR PORT ZONEFILE...
#   Starts knotd in the background, listening on ADDR (IPv4 like 127.0.0.53
#   or IPv6 like ::1) and PORT, UDP and TCP, serving the zone files, with its
#   config, database, copies of the zones and log in a private temp dir.
#   Port 53 works too (OpenDKIM, libspf2 and other users of the system
#   resolver ask port 53 only: see dns_server_exec). Waits until the server
#   answers the SOA of every zone (10 s at most), then returns 0; on failure
#   prints the server's log and returns 1.
#   The zone of a file is its first $ORIGIN line, else the file name without
#   the ".zone" suffix ("example.com.zone" -> example.com). A zone file
#   without an SOA record gets one added (serial 1, minimum/negative TTL 300,
#   "ns.ZONE. hostmaster.ZONE.") and one without NS gets "ns.ZONE." - so a
#   test's zone file only needs the records it is about. Relative owner
#   names and "@" work as in any zone file (RFC 1035 5.1).
#   -u  accept RFC 2136 dynamic updates signed with a TSIG key (a random
#       hmac-sha256 key named "coldpost-update" unless -k gives one).
#   -k ALG:NAME:SECRET  the TSIG key for updates (implies -u), SECRET in
#       base64, e.g. hmac-sha256:mykey:c2VjcmV0c2VjcmV0c2VjcmV0.
#   Sets, for the server just started:
#     DNS_SERVER_ADDR, DNS_SERVER_PORT  where it listens
#     DNS_SERVER_SPEC   "ADDR:PORT" ("[ADDR]:PORT" for IPv6): --dns-server value
#     DNS_SERVER_PID    knotd's pid (also in $DNS_SERVER_DIR/knotd.pid)
#     DNS_SERVER_DIR    its private directory (knot.conf, knotd.log, zones/)
#     DNS_SERVER_TSIG   with -u/-k: "ALG:NAME:SECRET" (the `knsupdate -y`
#                       form); also in $DNS_SERVER_DIR/tsig.key
#   Several servers may run at once (different ADDR or PORT).
#
# dns_server_start_blackhole ADDR PORT
#   Starts a "server" that reads UDP queries and accepts TCP connections but
#   never answers (for timeout tests). Sets DNS_SERVER_PID/ADDR/PORT/SPEC/DIR.
#
# dns_server_stop [PID]
#   Stops the server with that pid, or every server this shell started, and
#   removes their directories. Safe to call twice and from an EXIT trap.
#
# dns_server_exec CMD [ARGS...]
#   Runs CMD in a private mount namespace where /etc/resolv.conf says
#   "nameserver $DNS_SERVER_ADDR" (the last server started, which should
#   listen on port 53): for peers that use the system resolver (libresolv),
#   without touching the machine's /etc/resolv.conf. Returns CMD's status.
#
# All functions work under `set -euo pipefail`.
#
# dns_server_update [SERVER_SPEC] < NSUPDATE_COMMANDS
#   Sends an RFC 2136 update with knsupdate and the TSIG key of the last
#   server started (which must have been started with -u or -k).

_dns_server_pids=()
_dns_server_dirs=()

# Zone name of a zone file: first $ORIGIN, else the file name.
_dns_server_zone_name() {
  local f=$1 o
  o=$(awk 'toupper($1) == "$ORIGIN" { print $2; exit }' "$f")
  if [ -z "$o" ]; then
    o=$(basename "$f")
    o=${o%.zone}
  fi
  o=${o%.}
  printf '%s\n' "$o" | tr 'A-Z' 'a-z'
}

# Copy a zone file, adding SOA/NS records when it has none.
_dns_server_prepare_zone() { # src, zone, dst
  local src=$1 zone=$2 dst=$3
  {
    printf '$ORIGIN %s.\n$TTL 300\n' "$zone"
    if ! grep -Eiq '^[^;]*[[:space:]]SOA([[:space:]]|$)' "$src"; then
      printf '@ 300 IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n' "$zone" "$zone"
    fi
    if ! grep -Eiq '^[^;]*[[:space:]]NS[[:space:]]' "$src"; then
      printf '@ 300 IN NS ns.%s.\n' "$zone"
    fi
    cat "$src"
    printf '\n'
  } > "$dst"
}

_dns_server_spec() { # addr port
  case $1 in
    *:*) printf '[%s]:%s\n' "$1" "$2" ;;
    *)   printf '%s:%s\n' "$1" "$2" ;;
  esac
}

dns_server_start() {
  local update=0 key="" opt OPTIND=1
  while getopts 'uk:' opt; do
    case $opt in
      u) update=1 ;;
      k) update=1; key=$OPTARG ;;
      *) echo "dns_server_start: usage: [-u] [-k ALG:NAME:SECRET] ADDR PORT ZONEFILE..." >&2
         return 2 ;;
    esac
  done
  shift $((OPTIND - 1))
  if [ $# -lt 3 ]; then
    echo "dns_server_start: usage: [-u] [-k ALG:NAME:SECRET] ADDR PORT ZONEFILE..." >&2
    return 2
  fi
  local addr=$1 port=$2; shift 2
  command -v knotd >/dev/null || [ -x /usr/sbin/knotd ] || {
    echo "dns_server_start: knotd not found (apt-get install knot knot-dnsutils)" >&2; return 1; }
  local knotd=/usr/sbin/knotd
  command -v knotd >/dev/null && knotd=$(command -v knotd)

  local dir zones=() f z
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cp-dns.XXXXXX") || return 1
  mkdir -p "$dir/zones" "$dir/db" "$dir/run"

  local alg="" kname="" secret=""
  if [ "$update" = 1 ]; then
    if [ -z "$key" ]; then
      secret=$(head -c 32 /dev/urandom | base64)
      key="hmac-sha256:coldpost-update:$secret"
    fi
    IFS=: read -r alg kname secret <<<"$key"
    if [ -z "$alg" ] || [ -z "$kname" ] || [ -z "$secret" ]; then
      echo "dns_server_start: -k wants ALG:NAME:SECRET" >&2; rm -rf "$dir"; return 2
    fi
    printf '%s\n' "$key" > "$dir/tsig.key"
  fi

  {
    printf 'server:\n'
    printf '    rundir: "%s/run"\n' "$dir"
    printf '    pidfile: "%s/knotd.pid"\n' "$dir"
    printf '    listen: %s@%s\n' "$addr" "$port"
    printf '    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n'
    printf 'log:\n  - target: "%s/knotd.log"\n    any: info\n' "$dir"
    printf 'database:\n    storage: "%s/db"\n' "$dir"
    if [ "$update" = 1 ]; then
      printf 'key:\n  - id: %s\n    algorithm: %s\n    secret: %s\n' "$kname" "$alg" "$secret"
      printf 'acl:\n  - id: cp_update\n    key: %s\n    action: update\n' "$kname"
    fi
    printf 'template:\n  - id: default\n    storage: "%s/zones"\n' "$dir"
    printf '    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n'
    printf '    semantic-checks: off\n'
    if [ "$update" = 1 ]; then printf '    acl: cp_update\n'; fi
    printf 'zone:\n'
  } > "$dir/knot.conf"

  for f in "$@"; do
    if [ ! -r "$f" ]; then
      echo "dns_server_start: cannot read zone file $f" >&2; rm -rf "$dir"; return 1
    fi
    z=$(_dns_server_zone_name "$f")
    _dns_server_prepare_zone "$f" "$z" "$dir/zones/$z.zone"
    printf '  - domain: %s\n    file: "%s/zones/%s.zone"\n' "$z" "$dir" "$z" >> "$dir/knot.conf"
    zones+=("$z")
  done

  "$knotd" -c "$dir/knot.conf" >"$dir/knotd.out" 2>&1 &
  local pid=$!
  _dns_server_pids+=("$pid")
  _dns_server_dirs+=("$dir")
  printf '%s\n' "$pid" > "$dir/server.pid"

  # Wait until every zone answers its SOA (authoritative, rcode NOERROR).
  local i ok
  for i in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "dns_server_start: knotd exited; its log:" >&2
      cat "$dir/knotd.out" "$dir/knotd.log" >&2 2>/dev/null
      dns_server_stop "$pid"
      return 1
    fi
    ok=1
    for z in "${zones[@]}"; do
      if ! kdig @"$addr" -p "$port" +timeout=1 +retry=0 +norec "$z" SOA 2>/dev/null |
           grep -q 'status: NOERROR'; then
        ok=0; break
      fi
    done
    if [ "$ok" = 1 ]; then break; fi
    sleep 0.1
  done
  if [ "$ok" != 1 ]; then
    echo "dns_server_start: no answer from $addr port $port after 10 s; log:" >&2
    cat "$dir/knotd.out" "$dir/knotd.log" >&2 2>/dev/null
    dns_server_stop "$pid"
    return 1
  fi
  DNS_SERVER_ADDR=$addr
  DNS_SERVER_PORT=$port
  DNS_SERVER_SPEC=$(_dns_server_spec "$addr" "$port")
  DNS_SERVER_PID=$pid
  DNS_SERVER_DIR=$dir
  DNS_SERVER_TSIG=""
  if [ "$update" = 1 ]; then DNS_SERVER_TSIG=$key; fi
  export DNS_SERVER_ADDR DNS_SERVER_PORT DNS_SERVER_SPEC DNS_SERVER_PID DNS_SERVER_DIR DNS_SERVER_TSIG
  return 0
}

dns_server_start_blackhole() {
  if [ $# -ne 2 ]; then
    echo "dns_server_start_blackhole: usage: ADDR PORT" >&2; return 2
  fi
  local addr=$1 port=$2 dir pid i
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cp-dns.XXXXXX") || return 1
  # Reads and drops every UDP datagram; accepts TCP and never writes.
  python3 - "$addr" "$port" "$dir/ready" >"$dir/blackhole.log" 2>&1 <<'PY' &
import socket, sys, select
addr, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
u = socket.socket(fam, socket.SOCK_DGRAM)
u.bind((addr, port))
t = socket.socket(fam, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, port))
t.listen(16)
open(ready, "w").close()
held = []
while True:
    r, _, _ = select.select([u, t] + held, [], [])
    for s in r:
        if s is u:
            u.recvfrom(65535)
        elif s is t:
            c, _ = t.accept()
            held.append(c)
        else:
            if not s.recv(65535):
                held.remove(s)
                s.close()
PY
  pid=$!
  _dns_server_pids+=("$pid")
  _dns_server_dirs+=("$dir")
  for i in $(seq 1 50); do
    if [ -e "$dir/ready" ]; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [ ! -e "$dir/ready" ]; then
    echo "dns_server_start_blackhole: did not start:" >&2
    cat "$dir/blackhole.log" >&2
    dns_server_stop "$pid"
    return 1
  fi
  DNS_SERVER_ADDR=$addr
  DNS_SERVER_PORT=$port
  DNS_SERVER_SPEC=$(_dns_server_spec "$addr" "$port")
  DNS_SERVER_PID=$pid
  DNS_SERVER_DIR=$dir
  DNS_SERVER_TSIG=""
  export DNS_SERVER_ADDR DNS_SERVER_PORT DNS_SERVER_SPEC DNS_SERVER_PID DNS_SERVER_DIR DNS_SERVER_TSIG
}

dns_server_stop() {
  local want=${1:-} i pid dir n keep_p=() keep_d=() had_e=0
  # runs to the end whatever fails (it is an EXIT trap's job), and leaves
  # the caller's errexit as it found it
  case $- in *e*) had_e=1 ;; esac
  set +e
  for i in "${!_dns_server_pids[@]}"; do
    pid=${_dns_server_pids[$i]}
    dir=${_dns_server_dirs[$i]}
    if [ -n "$want" ] && [ "$want" != "$pid" ]; then
      keep_p+=("$pid"); keep_d+=("$dir"); continue
    fi
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for n in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
  done
  _dns_server_pids=("${keep_p[@]}")
  _dns_server_dirs=("${keep_d[@]}")
  if [ "$had_e" = 1 ]; then set -e; fi
  return 0
}

dns_server_exec() {
  if [ -z "${DNS_SERVER_ADDR:-}" ]; then
    echo "dns_server_exec: no server started" >&2; return 2
  fi
  [ "${DNS_SERVER_PORT:-53}" = 53 ] ||
    echo "dns_server_exec: warning: the server listens on port $DNS_SERVER_PORT; the system resolver asks 53" >&2
  local conf="$DNS_SERVER_DIR/resolv.conf"
  printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$DNS_SERVER_ADDR" > "$conf"
  unshare -m -- sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$conf" "$@"
}

dns_server_update() {
  local spec=${1:-} addr port
  if [ -z "${DNS_SERVER_TSIG:-}" ]; then
    echo "dns_server_update: the last server was not started with -u or -k" >&2; return 2
  fi
  addr=$DNS_SERVER_ADDR; port=$DNS_SERVER_PORT
  if [ -n "$spec" ]; then
    addr=${spec%:*}; port=${spec##*:}; addr=${addr#[}; addr=${addr%]}
  fi
  { printf 'server %s %s\n' "$addr" "$port"; cat; printf 'send\n'; } |
    knsupdate -y "$DNS_SERVER_TSIG"
}
