#!/usr/bin/env python3
"""Check one histogram in a Prometheus text exposition (for tests).

  prom_hist.py FILE NAME MIN_COUNT

Exits 0 when NAME is declared `# TYPE NAME histogram`, its _bucket samples
have increasing `le` bounds ending with +Inf and non-decreasing counts,
the +Inf bucket equals NAME_count, NAME_sum is >= 0, and the count is at
least MIN_COUNT; else prints what is wrong and exits 1. Standard library
only.
"""
import re
import sys


def main():
    path, name, least = sys.argv[1], sys.argv[2], int(sys.argv[3])
    text = open(path, encoding="utf-8").read()
    if "# TYPE %s histogram\n" % name not in text:
        sys.exit("%s: no TYPE line" % name)
    buckets = re.findall(r'^%s_bucket\{(?:[^}]*,)?le="([^"]+)"\} (\d+)$'
                         % re.escape(name), text, re.M)
    count = re.search(r"^%s_count (\d+)$" % re.escape(name), text, re.M)
    total = re.search(r"^%s_sum ([0-9.eE+-]+)$" % re.escape(name), text,
                      re.M)
    if not buckets or count is None or total is None:
        sys.exit("%s: buckets, _sum or _count missing" % name)
    bounds = [float("inf") if le == "+Inf" else float(le)
              for le, _ in buckets]
    counts = [int(n) for _, n in buckets]
    if bounds != sorted(bounds) or bounds[-1] != float("inf"):
        sys.exit("%s: bounds out of order: %s" % (name, bounds))
    if counts != sorted(counts):
        sys.exit("%s: bucket counts decrease: %s" % (name, counts))
    if counts[-1] != int(count.group(1)):
        sys.exit("%s: +Inf %d != count %s" % (name, counts[-1],
                                             count.group(1)))
    if float(total.group(1)) < 0 or counts[-1] < least:
        sys.exit("%s: count %d (want >= %d), sum %s" % (name, counts[-1],
                                                       least, total.group(1)))
    print("%s: %d observations, sum %ss" % (name, counts[-1],
                                           total.group(1)))


main()
