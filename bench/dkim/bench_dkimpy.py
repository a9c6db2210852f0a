#!/usr/bin/python3
"""DKIM messages signed or verified per second by dkimpy (python3-dkim),
for bench/dkim/run.sh; keys for verify from a dict (no network DNS).

  bench_dkimpy.py sign KEY.pem SELECTOR DOMAIN SECONDS < message
  bench_dkimpy.py verify NAME RECORD SECONDS < signed-message
"""
import sys
import time

import dkim


def main():
    msg = sys.stdin.buffer.read()
    mode = sys.argv[1]
    done = 0
    if mode == "sign":
        key = open(sys.argv[2], "rb").read()
        sel, dom, secs = sys.argv[3].encode(), sys.argv[4].encode(), float(sys.argv[5])
        signalg = b"ed25519-sha256" if b"BEGIN" not in key else b"rsa-sha256"
        t0 = time.process_time()
        while True:
            for _ in range(5):
                dkim.sign(msg, sel, dom, key, canonicalize=(b"relaxed", b"relaxed"),
                          signature_algorithm=signalg)
                done += 1
            t = time.process_time() - t0
            if t >= secs:
                break
        print("dkimpy sign: %d messages in %.2f s = %.0f msg/s" % (done, t, done / t))
    else:
        name, record, secs = sys.argv[2].encode(), sys.argv[3].encode(), float(sys.argv[4])

        def dnsfunc(n, timeout=5):
            return record if n.rstrip(b".") == name else None
        t0 = time.process_time()
        while True:
            for _ in range(5):
                if not dkim.verify(msg, dnsfunc=dnsfunc):
                    sys.exit("dkimpy: verify failed")
                done += 1
            t = time.process_time() - t0
            if t >= secs:
                break
        print("dkimpy verify: %d messages in %.2f s = %.0f msg/s" % (done, t, done / t))


main()
