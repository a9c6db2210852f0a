#!/usr/bin/env bash
# Proves tenant isolation end to end: two tenants (acme with dedicated
# addresses 127.0.0.21 and 127.0.0.22, globex with 127.0.0.23), each with its
# own sending domain and DKIM key. A mailbox of one tenant cannot send as
# the other's domain, even with --send-as-domain; a message whose From:
# header names the other tenant's domain is never signed with that
# domain's key; every message leaves only from its own tenant's pool with
# that address's EHLO name (X-Peer/X-Helo at the receiver, Python smtplib
# clients) and carries its own domain's signature, which dkimpy verifies.
# Ports 28250-28269; addresses 127.0.0.21-23, 127.0.0.38.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tests/lib/relay.sh"
relay_init

relay_tenant acme acme.test ann@acme.test 'pw-ann-4711' \
  127.0.0.21:out1.acme.test 127.0.0.22:out2.acme.test
relay_tenant globex globex.test gus@globex.test 'pw-gus-0815' \
  127.0.0.23:out.globex.test
relay_mailbox acme sales@acme.test 'pw-sales-1618' --send-as-domain
relay_set listen.submission 127.0.0.1:28250
relay_route '*' "127.0.0.38:28251"
relay_receiver world 127.0.0.38:28251
relay_start_or_exit

sw() { # swaks args...: $out, $rc
  rc=0
  out=$(swaks --server 127.0.0.1:28250 -tls --timeout 10 "$@" 2>&1) || rc=$?
}
refused() {
  if [ "$rc" -ne 0 ] && grep -Eq '<[*~]\* +5[0-9][0-9]' <<<"$out"; then return 0; fi
  echo "swaks exit $rc, wanted a 5xx:"; echo "$out" | tail -12; return 1
}

sw --auth PLAIN --auth-user ann@acme.test --auth-password 'pw-ann-4711' \
  --from gus@globex.test --to x@world.test
relay_check "acme mailbox, MAIL FROM of globex's mailbox: refused" refused
sw --auth PLAIN --auth-user sales@acme.test --auth-password 'pw-sales-1618' \
  --from ceo@globex.test --to x@world.test
relay_check "acme mailbox with --send-as-domain, globex address: refused" refused
sw --auth PLAIN --auth-user gus@globex.test --auth-password 'pw-ann-4711' \
  --from gus@globex.test --to x@world.test
relay_check "globex login with acme's password: refused" refused

# From: header of the other tenant's domain, envelope its own
rc=0
out=$(swaks --server 127.0.0.1:28250 -tls --auth PLAIN --auth-user ann@acme.test \
  --auth-password 'pw-ann-4711' --from ann@acme.test --to spoof@world.test \
  --h-From '"Globex CEO" <ceo@globex.test>' --h-X-Test-Id spoof-hdr 2>&1) || rc=$?

# ten messages from each tenant, in parallel
relay_send_py --server 127.0.0.1:28250 --starttls --user ann@acme.test \
  --password 'pw-ann-4711' --from ann@acme.test --to a1@world.test,a2@world.test \
  --count 10 --per-conn 3 --prefix acme >"$RELAY_DIR/acme.out" 2>&1 &
c1=$!
relay_send_py --server 127.0.0.1:28250 --starttls --user gus@globex.test \
  --password 'pw-gus-0815' --from gus@globex.test --to g1@world.test \
  --count 10 --per-conn 4 --prefix globex >"$RELAY_DIR/globex.out" 2>&1 &
c2=$!
rc1=0 rc2=0
wait $c1 || rc1=$?
wait $c2 || rc2=$?
relay_check "acme's 10 messages accepted" test "$rc1" -eq 0
relay_check "globex's 10 messages accepted" test "$rc2" -eq 0

relay_check "all delivered (20 + the spoof attempt, if accepted)" relay_wait_files world 20 40
sleep 2
"$PY" - "$RELAY_DIR/rcv/world/mail" >"$RELAY_DIR/peers" <<'PYEOF'
import email, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(f, "rb"))
    sig = m.get("DKIM-Signature", "")
    d = [t.strip()[2:] for t in sig.replace("\r\n", "").split(";") if t.strip().startswith("d=")]
    print(f, m["X-Test-Id"] or "-", m["X-Mail-From"], m["X-Peer"], m["X-Helo"], d[0] if d else "-")
PYEOF
pool_ok() { # prefix, allowed peer:helo pairs...
  local pfx=$1 n=0 bad=0 f id from peer helo d
  shift
  while read -r f id from peer helo d; do
    case $id in "$pfx"-*) ;; *) continue ;; esac
    n=$((n + 1))
    case " $* " in *" $peer:$helo "*) ;; *) echo "$id left from $peer ($helo)"; bad=1 ;; esac
  done <"$RELAY_DIR/peers"
  [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}
relay_check "acme's mail left only from acme's pool with its EHLO names" \
  pool_ok acme 127.0.0.21:out1.acme.test 127.0.0.22:out2.acme.test
relay_check "globex's mail left only from globex's pool" \
  pool_ok globex 127.0.0.23:out.globex.test
sig_ok() { # prefix domain: every message signed by domain, dkimpy passes
  local pfx=$1 dom=$2 f id from peer helo d n=0
  while read -r f id from peer helo d; do
    case $id in "$pfx"-*) ;; *) continue ;; esac
    n=$((n + 1))
    [ "$d" = "$dom" ] || { echo "$id signed by d=$d"; return 1; }
    relay_dkim_verify "$f" >/dev/null || { echo "$id: dkimpy fails"; return 1; }
  done <"$RELAY_DIR/peers"
  [ "$n" -gt 0 ]
}
relay_check "acme's messages signed d=acme.test, verified" sig_ok acme acme.test
relay_check "globex's messages signed d=globex.test, verified" sig_ok globex globex.test
spoof_ok() {
  local f id from peer helo d
  while read -r f id from peer helo d; do
    [ "$id" = spoof-hdr ] || continue
    [ "$d" != globex.test ] || { echo "signed with globex's key: $f"; return 1; }
    case $peer in 127.0.0.21|127.0.0.22) ;; *) echo "left from $peer"; return 1 ;; esac
  done <"$RELAY_DIR/peers"
}
relay_check "From: globex.test by an acme mailbox: refused or never signed by globex.test" spoof_ok

j=$(relay_cp queue list --tenant globex --json --limit 0 2>&1) || true
relay_check "queue list --tenant globex: globex's 10 recipients, none of acme's" relay_json "$j" \
  "len(j) == 10 and all(r['address'] == 'g1@world.test' for r in j)"
j=$(relay_cp queue list --tenant acme --json --limit 0 2>&1) || true
relay_check "queue list --tenant acme: none of globex's" relay_json "$j" \
  "len(j) >= 20 and not any(r['address'] == 'g1@world.test' for r in j)"

stop_rc=0
relay_stop 30 || stop_rc=$?
relay_check "serve drains and exits 0 on SIGTERM (got $stop_rc)" test "$stop_rc" -eq 0
relay_summary relay_e2e_isolation
