#!/usr/bin/env bash
# Compares `coldpost lint` with SpamAssassin on the same messages (not run
# in CI: scripts/deps.sh bench installs spamassassin and the sample sets).
#
#   bench/lint/compare.sh [BUILD_DIR] [MESSAGE...]
#
# Messages, by default: the crafted cold emails of tests/data/lint/, the
# ham/spam samples shipped by Debian's spamassassin package, and the MIME
# test messages of Python's email package (libpython3.11-testsuite), when
# installed. SpamAssassin runs with local tests only (-L: no DNS, no
# network) in test mode (-t), with a throw-away HOME so nothing of root's
# is touched. Prints one row per message (both verdicts and scores) and,
# per set, the agreement rate under two mappings of coldpost's three
# verdicts onto SpamAssassin's two:
#   strict:  coldpost fail          <=> SpamAssassin spam
#   loose:   coldpost warn or fail  <=> SpamAssassin spam
#   content: coldpost's score without the compliance rules (canspam.*,
#            optout.*, header.message-id, header.date) reaching the fail
#            line (10) <=> SpamAssassin spam: spam signs only
# coldpost judges a cold email against deliverability practice and
# CAN-SPAM (opt-out, postal address...), SpamAssassin judges spamminess;
# the two are expected to disagree on ordinary personal mail, which has no
# opt-out or address. The table shows where and why.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
[ $# -gt 0 ] && shift
cp=$build/coldpost
command -v spamassassin >/dev/null || { echo "compare: spamassassin is not installed (scripts/deps.sh bench)" >&2; exit 2; }
[ -x "$cp" ] || { echo "compare: no $cp (build first)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home"

msgs=("$@")
if [ ${#msgs[@]} -eq 0 ]; then
  msgs=("$here"/tests/data/lint/*.eml /usr/share/doc/spamassassin/examples/sample-*.txt)
  for f in /usr/lib/python3.11/test/test_email/data/msg_*.txt; do
    [ -f "$f" ] && msgs+=("$f")
  done
fi

# one line per message: set<TAB>name<TAB>sa_verdict<TAB>sa_score<TAB>cp_verdict<TAB>cp_score<TAB>content_score<TAB>cp_rules
one() {
  local f=$1 set name sa sa_v sa_s cpj cp_v cp_s cp_c cp_r args=""
  case "$f" in
    *tests/data/lint/*) set=crafted ;;
    */spamassassin/*) set=sa-sample ;;
    *) set=python-email ;;
  esac
  name=$(basename "$f")
  if [ "$set" = crafted ]; then
    args=$(sed -n 's/^args: //p' "${f%.eml}.expect" 2>/dev/null)
  fi
  sa=$(HOME="$tmp/home" spamassassin -L -t -x <"$f" 2>/dev/null | grep -m1 '^X-Spam-Status:')
  case "$sa" in
    *"Status: Yes"*) sa_v=spam ;;
    *"Status: No"*) sa_v=ham ;;
    *) sa_v=error ;;
  esac
  sa_s=$(printf '%s' "$sa" | sed -n 's/.*score=\([-0-9.]*\).*/\1/p')
  # shellcheck disable=SC2086
  cpj=$("$cp" lint --json $args "$f" 2>/dev/null)
  if [ -n "$cpj" ]; then
    read -r cp_v cp_s cp_c cp_r < <(printf '%s' "$cpj" | python3 -c '
import json, sys
r = json.load(sys.stdin)
rules = sorted({f["rule"] for f in r["findings"] if f["severity"] != "info"})
compliance = ("canspam.", "optout.", "header.message-id", "header.date")
content = sum(f["points"] for f in r["findings"] if not f["rule"].startswith(compliance))
print(r["verdict"], r["score"], content, ",".join(rules) or "-")')
  else
    cp_v=error cp_s=- cp_c=- cp_r="(not a message)"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$set" "$name" "$sa_v" "${sa_s:--}" "$cp_v" "$cp_s" "$cp_c" "$cp_r"
}
export -f one
export cp tmp

printf '%s\n' "${msgs[@]}" | xargs -d '\n' -P 2 -I{} bash -c 'one "$1"' _ {} | sort >"$tmp/rows"

printf '%-13s %-26s %-5s %7s  %-5s %5s %7s  %s\n' SET MESSAGE SA SCORE LINT SCORE CONTENT "LINT FINDINGS (warn/fail)"
while IFS=$'\t' read -r set name sav sas cpv cps cpc rules; do
  printf '%-13s %-26s %-5s %7s  %-5s %5s %7s  %s\n' "$set" "$name" "$sav" "$sas" "$cpv" "$cps" "$cpc" "$rules"
done <"$tmp/rows"
echo
python3 - "$tmp/rows" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
sets = sorted({r[0] for r in rows}) + ["all"]
print("%-13s %5s %8s %9s %9s %8s %8s %8s" % ("set", "msgs", "sa spam", "lint fail",
                                               "lint warn", "strict", "loose", "content"))
for s in sets:
    rs = [r for r in rows if (s == "all" or r[0] == s) and r[2] != "error" and r[4] != "error"]
    if not rs:
        continue
    n = len(rs)
    spam = sum(r[2] == "spam" for r in rs)
    fail = sum(r[4] == "fail" for r in rs)
    warn = sum(r[4] == "warn" for r in rs)
    strict = sum((r[4] == "fail") == (r[2] == "spam") for r in rs)
    loose = sum((r[4] in ("warn", "fail")) == (r[2] == "spam") for r in rs)
    content = sum((int(r[6]) >= 10) == (r[2] == "spam") for r in rs)
    print("%-13s %5d %8d %9d %9d %7.0f%% %7.0f%% %7.0f%%" % (s, n, spam, fail, warn,
          100.0 * strict / n, 100.0 * loose / n, 100.0 * content / n))
errs = [r for r in rows if r[2] == "error" or r[4] == "error"]
if errs:
    print("left out (not a message to one of the two): %d: %s" % (
        len(errs), " ".join(r[1] for r in errs)))
EOF
