#!/usr/bin/python3
"""SPF evaluations per second with pyspf (Debian python3-spf), its DNS
function replaced by a dictionary (answers from memory, the warm cache the
other two get too), on the same records and queries as cp-bench-spf.

usage: /usr/bin/python3 bench_pyspf.py RECORDS QUERIES SECONDS
"""
import socket
import sys
import time

import spf

records = {}
with open(sys.argv[1]) as f:
    for line in f:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        name, typ, data = line.split(None, 2)
        if typ == "TXT":
            val = (data.encode(),)
        elif typ == "MX":
            pref, host = data.split()
            val = (int(pref), host)
        elif typ == "AAAA":
            val = socket.inet_pton(socket.AF_INET6, data)
        else:
            val = data
        records.setdefault((name.lower(), typ), []).append(((name, typ), val))


def lookup(name, qtype, strict=True, timeout=None, *args, **kw):
    return records.get((name.lower().rstrip("."), qtype), [])


spf.DNSLookup = lookup

queries = []
with open(sys.argv[2]) as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            queries.append(line.split())
secs = float(sys.argv[3])
for ip, sender, helo, want in queries:
    got = spf.query(i=ip, s=sender, h=helo).check()[0]
    if got != want:
        sys.exit("pyspf: %s %s: got %s, want %s" % (ip, sender, got, want))
n = 0
t0 = time.monotonic()
while True:
    for ip, sender, helo, want in queries:
        spf.query(i=ip, s=sender, h=helo).check()
    n += len(queries)
    el = time.monotonic() - t0
    if el >= secs:
        break
print("pyspf:    %d evaluations in %.2f s = %.0f evaluations/s "
      "(DNSLookup from a dict: DNS answers from memory, in-process)"
      % (n, el, n / el))
