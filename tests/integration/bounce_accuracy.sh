#!/usr/bin/env bash
# Proves: `coldpost bounce` gives the right reason (Sisimai's names) for
# the recipients of the labelled bounce corpus
# (tests/data/bounces/labels.tsv over corpus.tar.xz: LF, CRLF and CR-only
# copies), and no recipient at all for the emails that are not bounces.
# Runs the real CLI once in batch mode; prints the accuracy, a per-reason
# table and every miss; fails below the threshold or on any non-bounce
# that reports a recipient.
# The issue's target, 95%, is the CI threshold (the parser reaches
# 95.9%, 512/534); MIN_ACCURACY overrides it.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
data=${BOUNCE_DATA:-$here/tests/data/bounces}
min=${MIN_ACCURACY:-95}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tar -C "$tmp" -xJf "$data/corpus.tar.xz"
tail -n +2 "$data/labels.tsv" | cut -f1 | sort -u | sed "s|^|$tmp/|" > "$tmp/list"
"$bin" bounce --batch "$tmp/list" > "$tmp/out"
[ "$(wc -l < "$tmp/list")" -eq "$(wc -l < "$tmp/out")" ] || {
  echo "FAIL: $(wc -l < "$tmp/list") emails in, $(wc -l < "$tmp/out") objects out"; exit 1; }

python3 - "$data/labels.tsv" "$tmp/out" "$tmp/" "$min" <<'PY'
import json, sys, collections
labels, outf, prefix, minacc = sys.argv[1:5]
rows = [l.rstrip("\n").split("\t") for l in open(labels, encoding="utf-8")][1:]
outs = {}
for l in open(outf, encoding="utf-8"):
    o = json.loads(l)
    outs[o["file"][len(prefix):]] = o
per = collections.defaultdict(lambda: [0, 0])
ok = n = 0
misses, bad_not = [], []
for f, subset, idx, nr, rcpt, reason, status, code, hard, fbt in rows:
    o = outs.get(f, {"recipients": [], "error": "no output"})
    rs = o.get("recipients", [])
    if subset == "not":
        if rs:
            bad_not.append((f, [r["recipient"] for r in rs]))
        continue
    got = None
    if rcpt:
        got = next((r for r in rs if r["recipient"].lower() == rcpt.lower()), None)
    if got is None and int(idx) - 1 < len(rs):
        got = rs[int(idx) - 1]
    greason = got["reason"] if got else "(none)"
    n += 1
    per[reason][0] += 1
    if greason == reason:
        ok += 1
        per[reason][1] += 1
    else:
        misses.append((f, idx, rcpt, reason, greason,
                       got["rule"] if got else "", (got or {}).get("diagnostic", "")[:110]))
acc = 100.0 * ok / n if n else 0.0
print("bounce reason accuracy: %d/%d = %.1f%% (threshold %s%%)" % (ok, n, acc, minacc))
print("%-16s %6s %6s %7s" % ("reason", "total", "right", "acc"))
for r in sorted(per, key=lambda k: -per[k][0]):
    t, c = per[r]
    print("%-16s %6d %6d %6.1f%%" % (r, t, c, 100.0 * c / t))
if misses:
    print("misses (file #idx recipient: want -> got [rule] diagnostic):")
    for f, i, rc, w, g, rule, d in misses:
        print("  %s #%s %s: %s -> %s [%s] %s" % (f, i, rc, w, g, rule, d))
for f, rs in bad_not:
    print("FAIL: %s is not a bounce but reported %s" % (f, rs))
sys.exit(0 if acc >= float(minacc) and not bad_not else 1)
PY
