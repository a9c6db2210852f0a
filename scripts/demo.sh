#!/usr/bin/env bash
# The main job until the relay lands: a short tour of `coldpost explain`.
set -euo pipefail
build=${1:-build}
cp="$build/coldpost"
show() { printf '\n\033[1m$ coldpost %s\033[0m\n' "$*"; "$cp" "$@" || true; }

show explain "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
show explain --json "421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. 421 4.7.28 - gsmtp"
show explain 5.7.26
# a domain's DNS set-up, answered from a zone file instead of DNS (config/demo.zone)
show check acme.example --ip 192.0.2.10 --selector s1 --zone config/demo.zone
cat <<TXT

Try your own:   $cp explain "550 5.7.1 ..."
                $cp check YOURDOMAIN --ip YOUR.SENDING.IP --selector YOURSELECTOR
                $cp explain --list
                $cp explain --batch replies.txt      (one reply per line -> JSON lines)
TXT
