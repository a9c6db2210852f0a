#!/usr/bin/env bash
# Installs the Debian 12 packages coldpost needs, when they are missing.
#   scripts/deps.sh run    build and run coldpost
#   scripts/deps.sh test   also build and pass every test (sanitizers, fuzzing,
#                          the real peers the integration tests talk to)
#   scripts/deps.sh bench  also what the benchmarks compare against
# Node.js and npm come with the machine: Debian's npm package conflicts with
# them and is never installed here.
set -euo pipefail

run_pkgs=(gcc make meson ninja-build pkg-config python3
          libhyperscan-dev libjansson-dev libc-ares-dev libpsl-dev publicsuffix
          libsqlite3-dev libsodium-dev libinih-dev libssl-dev libidn2-dev libevent-dev
          openssl swaks python3-aiosmtpd libgmime-3.0-dev libpcre2-dev libxml2-dev libldns-dev
          libicu-dev libcurl4-openssl-dev)
test_pkgs=(clang libclang-rt-14-dev llvm knot knot-dnsutils jq
           swaks libnet-ssleay-perl libio-socket-ssl-perl
           python3-dkim opendkim-tools libopendkim-dev openssl postfix
           chromium curl)
bench_pkgs=(libsisimai-perl libspf2-dev python3-spf spamassassin libpython3.11-testsuite)

case "${1:-}" in
  run)   want=("${run_pkgs[@]}") ;;
  test)  want=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  bench) want=("${run_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# postfix only for its smtp-sink (a test receiver): installed unconfigured,
# it never starts.
echo "postfix postfix/main_mailer_type select No configuration" |
  $sudo debconf-set-selections
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
