#!/usr/bin/env bash
# Proves: the reply classifier gets the cause family right on >= 95% of the
# labelled corpus (tests/data/smtp-replies/replies.tsv), through the real
# CLI (`coldpost explain --batch`). Prints the accuracy, the confusions and
# every miss; fails below the threshold.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${COLDPOST:-$here/build/coldpost}
tsv=${REPLIES_TSV:-$here/tests/data/smtp-replies/replies.tsv}
min=${MIN_ACCURACY:-95.0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tail -n +2 "$tsv" | cut -f1 > "$tmp/in"
"$bin" explain --batch "$tmp/in" > "$tmp/out"
[ "$(wc -l < "$tmp/in")" -eq "$(wc -l < "$tmp/out")" ] || {
  echo "FAIL: $(wc -l < "$tmp/in") replies in, $(wc -l < "$tmp/out") objects out"; exit 1; }

python3 - "$tsv" "$tmp/out" "$min" <<'PY'
import json, sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")][1:]
outs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
ok, conf, misses = 0, collections.Counter(), []
for row, o in zip(rows, outs):
    want = row[2]
    got = o.get("cause", "ERROR:" + o.get("error", "?"))
    if got == want:
        ok += 1
    else:
        conf[(want, got)] += 1
        misses.append((want, got, o.get("rule"), row[1], row[0][:150]))
n = len(rows)
acc = 100.0 * ok / n
print("cause family accuracy: %d/%d = %.1f%%" % (ok, n, acc))
if conf:
    print("confusions (want -> got: count):")
    for (w, g), c in conf.most_common():
        print("  %-18s -> %-18s %d" % (w, g, c))
    print("misses:")
    for w, g, r, recv, t in misses:
        print("  want %-17s got %-17s rule %-28s [%s] %s" % (w, g, r, recv, t))
sys.exit(0 if acc >= float(sys.argv[3]) else 1)
PY
