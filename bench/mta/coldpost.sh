#!/bin/bash
# bench/mta/coldpost.sh start|stop - coldpost under ../shared/bench/mta-bench.sh
#
#   cd ../shared/bench
#   ./mta-bench.sh --name coldpost --start "$REPO/bench/mta/coldpost.sh start" \
#       --stop "$REPO/bench/mta/coldpost.sh stop" --port 2587 --sink-port 2526
#
# Takes the binary from $COLDPOST or PATH. Writes a configuration from the
# BENCH_* variables: submission on 127.0.0.1:$BENCH_PORT, loopback trusted
# (like Postfix's mynetworks; with BENCH_AUTH_USER a mailbox with that
# password instead), every bench domain routed to the sink without TLS (the
# sink has none), the per-mailbox daily cap off, the store in $BENCH_WORK.
# Signs every message with RSA-2048 (d=sender.test s=bench; the key is kept
# in $BENCH_KEYS across runs) and writes its TXT value to
# $BENCH_WORK/dkim-dns.txt so the runner verifies a sample with dkimpy.
set -eu
: "${BENCH_WORK:?}" "${BENCH_PORT:?}" "${BENCH_SINK_HOST:?}" "${BENCH_SINK_PORT:?}"
W=$BENCH_WORK
CP=${COLDPOST:-$(command -v coldpost || true)}
[ -x "$CP" ] || { echo "coldpost.sh: set COLDPOST=/path/to/coldpost" >&2; exit 1; }
SENDER=${BENCH_SENDER_DOMAIN:-sender.test}
KEYS=${BENCH_KEYS:-$W}
KEY=$KEYS/coldpost-$SENDER-rsa2048.pem
CONF=$W/coldpost.conf

case "${1:-}" in
start)
    mkdir -p "$W/log" "$KEYS"
    [ -s "$KEY" ] || "$CP" dkim keygen --bits 2048 --out "$KEY" >/dev/null
    store="sqlite:$W/queue.db"
    {
        echo "[server]"
        echo "hostname = coldpost.bench.test"
        echo "user =                 ; stay the user the runner started us as"
        echo "store = $store"
        echo "[listen]"
        echo "submission = 127.0.0.1:$BENCH_PORT"
        echo "submissions ="      # plain SMTP only: the bench has no TLS
        echo "[tls]"
        echo "cert ="
        echo "key ="
        echo "[submission]"
        if [ -n "${BENCH_AUTH_USER:-}" ]; then
            echo "trusted_networks ="
            echo "auth_without_tls = on"
        else
            echo "trusted_networks = 127.0.0.0/8"
        fi
        echo "[mailbox]"
        echo "daily_cap = 0"
        echo "[throttle]"
        echo "max_rate = 0"          # no per-provider pacing (routes are not paced anyway)
        echo "[log]"
        echo "file = $W/log/coldpost.log"
        echo "[routes]"
        while read -r d; do
            [ -n "$d" ] && echo "$d = $BENCH_SINK_HOST:$BENCH_SINK_PORT tls=none"
        done < "${BENCH_DOMAINS_FILE:?}"
    } > "$CONF"
    "$CP" tenant add bench --store "$store" >/dev/null
    "$CP" domain add "$SENDER" --tenant bench --selector bench --key "$KEY" \
        --store "$store" >/dev/null
    if [ -n "${BENCH_AUTH_USER:-}" ]; then
        "$CP" mailbox add "$BENCH_AUTH_USER" --tenant bench --send-as-domain \
            --password "${BENCH_AUTH_PASS:?}" --store "$store" >/dev/null
    fi
    # the TXT value of the signing key, for the runner's dkimpy sample
    "$CP" domain show "$SENDER" --store "$store" --json |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["dkim_record"])' \
        > "$W/dkim-dns.txt"
    "$CP" serve --config "$CONF" --pid-file "$W/pid" >>"$W/log/coldpost.out" 2>&1 &
    for _ in $(seq 100); do
        [ -s "$W/pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$BENCH_PORT") 2>/dev/null && exit 0
        sleep 0.1
    done
    echo "coldpost.sh: the relay did not come up; see $W/log/" >&2
    tail -5 "$W/log/coldpost.log" >&2 || true
    exit 1
    ;;
stop)
    [ -s "$W/pid" ] || exit 0
    pid=$(cat "$W/pid")
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
*)
    echo "usage: coldpost.sh start|stop (run by ../shared/bench/mta-bench.sh)" >&2
    exit 2
    ;;
esac
