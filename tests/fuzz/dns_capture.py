#!/usr/bin/env python3
"""Capture real DNS answers from a server as seeds for fuzz_dns_answer.

Usage: dns_capture.py ADDR PORT OUTDIR NAME:TYPE...
Sends each query (RD set, no EDNS) over UDP; a truncated answer is asked
again over TCP, and both are kept. Each file is one raw response message.
Used with tests/lib/dns_server.sh and tests/data/dns/server/*.zone:
  source tests/lib/dns_server.sh
  dns_server_start 127.0.53.1 5353 tests/data/dns/server/*.zone
  tests/fuzz/dns_capture.py 127.0.53.1 5353 tests/fuzz/corpus/fuzz_dns_answer \
      a.resolver.test:A resolver.test:MX ...
"""
import random
import socket
import struct
import sys

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15,
         "TXT": 16, "AAAA": 28}


def query(name, qtype):
    qid = random.randrange(65536)
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        msg += bytes([len(label)]) + label.encode()
    return msg + b"\0" + struct.pack(">HH", qtype, 1)


def main():
    addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    for spec in sys.argv[4:]:
        name, t = spec.rsplit(":", 1)
        q = query(name, TYPES[t])
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(2)
        u.sendto(q, (addr, port))
        r = u.recv(65535)
        base = "%s/%s_%s" % (out, name.replace(".", "_"), t)
        open(base + ".udp", "wb").write(r)
        if r[2] & 0x02:  # TC: ask over TCP, 2-byte length prefix
            s = socket.create_connection((addr, port), timeout=2)
            s.sendall(struct.pack(">H", len(q)) + q)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    break
                buf += chunk
            open(base + ".tcp", "wb").write(buf[2:])
        print(base, len(r))


if __name__ == "__main__":
    main()
