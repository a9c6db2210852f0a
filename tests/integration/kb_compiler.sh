#!/usr/bin/env bash
# Proves: the knowledge-base compiler (scripts/gen_kb.py) refuses broken
# files with the file, the line and what is wrong, and compiles the real kb/.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
gen="$here/scripts/gen_kb.py"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
t() { local name=$1; shift; if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi; }

t "the real kb compiles" python3 "$gen" "$here/kb" "$tmp/kb.c"
t "generated C is not empty" test -s "$tmp/kb.c"

page() { # file body: a valid code page with one line replaced by sed expr $2
  mkdir -p "$tmp/kb/codes"
  cat > "$tmp/kb/codes/X.0.99.txt" <<'PAGE'
code: X.0.99
title: A test code
family: other
reason: undefined
retry: later
== meaning
Means something.
== who
Someone.
== why
A reason.
== fix
1. Do this.
2. Then that.
== cold
Cold words.
== faq
Q: Why?
A: Because.
PAGE
  [ -n "${1:-}" ] && sed -i "$1" "$tmp/kb/codes/X.0.99.txt"
}
expect_error() { # name, sed expr, expected message part
  rm -rf "$tmp/kb"; page "$2"
  out=$(python3 "$gen" "$tmp/kb" "$tmp/out.c" 2>&1); rc=$?
  t "$1: refused" test $rc -ne 0
  t "$1: names file:line and says '$3'" grep -q "X.0.99.txt:[0-9]*: .*$3" <<<"$out"
}
rm -rf "$tmp/kb"; page ""
t "a valid page compiles" python3 "$gen" "$tmp/kb" "$tmp/out.c"
expect_error "unknown family" 's/^family: other/family: bogus/' "unknown cause family 'bogus'"
expect_error "unknown header key" 's/^title:/titel:/' "unknown header key 'titel'"
expect_error "steps out of order" 's/^2\. Then/3. Then/' "step 3 out of order"
expect_error "unknown section" 's/^== cold/== warm/' "unknown section 'warm'"
expect_error "answer without question" 's/^Q: Why?/Why?/' "faq lines must start"
expect_error "code and file name disagree" 's/^code: X.0.99/code: X.0.98/' "does not match file name"
rm -rf "$tmp/kb"; page ""
mkdir -p "$tmp/kb/rules"
printf 'receiver: unknown\n== rule other.x\nmatch: a(b\ncause: other\nreason: undefined\nsays: x\n' > "$tmp/kb/rules/generic.txt"
out=$(python3 "$gen" "$tmp/kb" "$tmp/out.c" 2>&1)
t "rule id must carry the file name" grep -q "generic.txt:2: rule id 'other.x' must be 'generic.name'" <<<"$out"
sed -i 's/other\.x/generic.x/' "$tmp/kb/rules/generic.txt"
out=$(python3 "$gen" "$tmp/kb" "$tmp/out.c" 2>&1)
t "a bad pattern is named" grep -q "generic.txt:3: bad pattern 'a(b'" <<<"$out"
echo "$fails failed"
[ "$fails" -eq 0 ]
