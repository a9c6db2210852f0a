#!/usr/bin/env bash
# Runs every suite twice: a normal build (gcc, -Werror) and an
# AddressSanitizer + UndefinedBehaviorSanitizer build (clang, with the fuzz
# targets as real libFuzzer binaries). Unit tests, integration scripts and
# the replay of every checked-in fuzz corpus run in both; integration
# scripts marked "# ci: long" run only in the normal build.
# The last line is "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
passed=0
failed=0
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

say() { printf '%s\n' "$*"; }

build() { # dir, meson args...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --werror "$@" >"$logdir/setup.log" 2>&1 || {
      cat "$logdir/setup.log"; return 1; }
  fi
  ninja -C "$dir" >"$logdir/build.log" 2>&1 || { tail -50 "$logdir/build.log"; return 1; }
}

record() { # name, status, log
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); say "ok   $1"
  else
    failed=$((failed + 1)); say "FAIL $1"; tail -40 "$3" | sed 's/^/     /'
  fi
}

run_unit() { # build dir, label
  local log="$logdir/unit.log" line p f
  CP_TEST_DATA="$root/tests/data" "$1/tests/cp-unit" >"$log" 2>&1
  grep -E '^(ok  |FAIL) ' "$log" | sed "s/^/[$2] /"
  grep -B30 '^FAIL ' "$log" | grep -v '^ok  ' | sed 's/^/     /' || true
  line=$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ -z "$line" ]; then
    failed=$((failed + 1)); say "FAIL [$2] unit runner crashed"; tail -20 "$log"; return
  fi
  p=$(sed -E 's/unit: ([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f))
}

run_integration() { # build dir, label, long?
  local s name log
  for s in tests/integration/*.sh; do
    name=$(basename "$s" .sh)
    if [ "$3" = nolong ] && grep -q '^# ci: long' "$s"; then continue; fi
    log="$logdir/$name.log"
    COLDPOST="$root/$1/coldpost" BUILD_DIR="$root/$1" timeout 1200 bash "$s" >"$log" 2>&1
    record "[$2] integration $name" $? "$log"
  done
}

run_fuzz_replay() { # build dir, label
  local d t log
  for d in tests/fuzz/corpus/*/; do
    t=$(basename "$d")
    log="$logdir/$t.log"
    if [ ! -x "$1/tests/$t" ]; then
      echo "no fuzz target $t for corpus $d" >"$log"; record "[$2] fuzz replay $t" 1 "$log"; continue
    fi
    "$1/tests/$t" -runs=0 "$d" >"$log" 2>&1
    record "[$2] fuzz replay $t ($(ls "$d" | wc -l) inputs)" $? "$log"
  done
}

suite() { # build dir, label, long?
  run_unit "$1" "$2"
  run_integration "$1" "$2" "$3"
  run_fuzz_replay "$1" "$2"
}

say "== normal build (gcc)"
if build build; then
  suite build normal long
else
  failed=$((failed + 1)); say "FAIL normal build"
fi

say "== ASan + UBSan build (clang)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
if CC=clang build build-san -Db_sanitize=address,undefined -Db_lundef=false \
     -Dfuzz=true -Dc_args=-fno-sanitize-recover=all -Dbuildtype=debug; then
  suite build-san sanitizers nolong
else
  failed=$((failed + 1)); say "FAIL sanitizer build"
fi

say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
