#!/usr/bin/env bash
# The main job, for a newcomer: the relay on loopback with a demo tenant.
#
# Makes (once) under run/demo/: a self-signed certificate, the SQLite store
# with tenant "demo", sending domain demo.example (a DKIM key generated) and
# mailbox ann@demo.example (password demo-password); starts a local inbox
# standing for the recipients' mail servers (config/demo.conf routes every
# domain there, so nothing leaves this machine), then `coldpost serve` with
# config/demo.conf, and says how to send a first message. Ctrl-C stops both.
# DEMO_ONESHOT=1: send one message, wait for it in the inbox, stop (tests).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
cp="$here/$build/coldpost"
[ -x "$cp" ] || cp="$build/coldpost"
# DEMO_ROOT: a copy of the tree's config/ elsewhere (tests); run/ is beside it
root=${DEMO_ROOT:-$here}
conf="$root/config/demo.conf"
run="$root/run/demo"
mkdir -p "$run/tls" "$run/inbox"

if [ ! -s "$run/tls/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=coldpost.localhost \
        -addext "subjectAltName=DNS:coldpost.localhost,IP:127.0.0.1" \
        -keyout "$run/tls/key.pem" -out "$run/tls/cert.pem" 2>/dev/null
    chmod 600 "$run/tls/key.pem"
    echo "demo: made a self-signed certificate in run/demo/tls/"
fi
if ! "$cp" tenant show demo --config "$conf" >/dev/null 2>&1; then
    "$cp" tenant add demo --config "$conf"
    "$cp" domain add demo.example --tenant demo --selector demo --generate --config "$conf" >/dev/null
    echo demo-password | "$cp" mailbox add ann@demo.example --tenant demo --password-stdin \
        --send-as-domain --config "$conf"
    echo "demo: tenant demo, domain demo.example (DKIM key made), mailbox ann@demo.example"
    # an admin key of the HTTP API, kept for the dashboard's login
    "$cp" apikey add --note "demo dashboard" --config "$conf" 2>/dev/null >"$run/api-key"
    chmod 600 "$run/api-key"
fi
web=()
[ -f "$here/web/dist/index.html" ] && web=(--web-root "$here/web/dist")

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

/usr/bin/python3 "$here/scripts/demo-inbox.py" 127.0.0.1:2526 "$run/inbox" &
pids+=($!)
"$cp" serve --config "$conf" "${web[@]}" &
pids+=($!)
for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/2587) 2>/dev/null && break
    sleep 0.1
done

cat <<TXT

coldpost is relaying on 127.0.0.1:2587 (STARTTLS) and 127.0.0.1:2465 (TLS).
Send a first message (in another terminal):

  swaks --server 127.0.0.1:2587 -tls \\
        -au ann@demo.example -ap demo-password \\
        -f ann@demo.example -t prospect@example.net

It is signed with demo.example's key and delivered to the demo inbox
(run/demo/inbox/). Like every new mailbox, ann@demo.example may send 1
message a day during its first week, then 2 (mailbox.daily_cap, the ramp):
the rest is accepted and held until the next day. Then:

  $cp queue list --config config/demo.conf      the queue, per recipient
  $cp queue show 1 --config config/demo.conf    one message, every attempt
  $cp status --config config/demo.conf          totals and causes
  $cp policy usage ann@demo.example --config config/demo.conf    the cap today
  $cp explain "550 5.7.1 ..."                   what a receiver's reply means

The dashboard: http://127.0.0.1:8025/  (API key: $(cat "$run/api-key" 2>/dev/null))
$([ ${#web[@]} -gt 0 ] || echo "  (not built: make web)")

Ctrl-C stops the relay.
TXT

if [ "${DEMO_ONESHOT:-}" = 1 ]; then
    swaks --server 127.0.0.1:2587 -tls -au ann@demo.example -ap demo-password \
        -f ann@demo.example -t prospect@example.net --h-Subject "coldpost demo" \
        --body "Hello from the coldpost demo." >/dev/null
    before=$(ls "$run/inbox" | wc -l)
    for _ in $(seq 100); do
        grep -l "coldpost demo" "$run/inbox"/*.eml >/dev/null 2>&1 && break
        sleep 0.1
    done
    "$cp" queue list --config "$conf" --limit 5
    # the same through the HTTP API with the demo's key
    /usr/bin/python3 -c 'import sys, urllib.request
r = urllib.request.Request("http://127.0.0.1:8025/v1/messages",
    headers={"Authorization": "Bearer " + open(sys.argv[1]).read().strip()})
open(sys.argv[2], "wb").write(urllib.request.urlopen(r, timeout=5).read())' \
        "$run/api-key" "$run/api-check.json" || echo "demo: the HTTP API did not answer" >&2
    grep -l "coldpost demo" "$run/inbox"/*.eml >/dev/null 2>&1 || {
        echo "demo: the message did not reach the inbox ($before there)" >&2; exit 1; }
    echo "demo: delivered, DKIM-signed: $(grep -c '^DKIM-Signature' $(grep -l 'coldpost demo' "$run/inbox"/*.eml | tail -1))"
    exit 0
fi
wait "${pids[1]}"
