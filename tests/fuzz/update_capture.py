#!/usr/bin/env python3
"""Capture real RFC 2136 UPDATE replies as seeds for fuzz_prov_reply.

Usage: update_capture.py ADDR PORT ALG:NAME:SECRET ZONE OUTDIR
Sends UPDATEs over TCP to a server started with
tests/lib/dns_server.sh -k ALG:NAME:SECRET (hmac-sha256 only here):
signed with the right key (add, delete), with a wrong secret, with an
unknown key name, unsigned, and for a zone the server does not serve.
Each seed is the fuzz input format of fuzz_prov_reply.c: one byte N, the
N bytes of the request's TSIG MAC (N = 0: unsigned), then the reply.
  source tests/lib/dns_server.sh
  dns_server_start -k hmac-sha256:cp-fuzz-key:Y29sZHBvc3QtZnV6ei1zZWNyZXQ= \
      127.0.0.96 29540 zone.test.zone
  tests/fuzz/update_capture.py 127.0.0.96 29540 \
      hmac-sha256:cp-fuzz-key:Y29sZHBvc3QtZnV6ei1zZWNyZXQ= zone.test \
      tests/fuzz/corpus/fuzz_prov_reply
"""
import base64
import hashlib
import hmac
import os
import random
import socket
import struct
import sys
import time


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.lower().encode()
    return out + b"\0"


def rr(name, rtype, rclass, ttl, rdata):
    return name_wire(name) + struct.pack(">HHIH", rtype, rclass, ttl,
                                         len(rdata)) + rdata


def update(qid, zone, records):
    msg = struct.pack(">HHHHHH", qid, 5 << 11, 1, 0, len(records), 0)
    msg += name_wire(zone) + struct.pack(">HH", 6, 1)
    return msg + b"".join(records)


def sign(msg, keyname, secret):
    """RFC 8945 4.3.3: the MAC covers the message and the TSIG variables."""
    alg = name_wire("hmac-sha256")
    now = int(time.time())
    tvars = (name_wire(keyname) + struct.pack(">HI", 255, 0) + alg +
             struct.pack(">HIHHH", now >> 32, now & 0xffffffff, 300, 0, 0))
    mac = hmac.new(secret, msg + tvars, hashlib.sha256).digest()
    qid = struct.unpack(">H", msg[:2])[0]
    rdata = (alg + struct.pack(">HIH", now >> 32, now & 0xffffffff, 300) +
             struct.pack(">H", len(mac)) + mac + struct.pack(">HHH", qid, 0, 0))
    arcount = struct.unpack(">H", msg[10:12])[0] + 1
    signed = msg[:10] + struct.pack(">H", arcount) + msg[12:]
    return signed + rr(keyname, 250, 255, 0, rdata), mac


def exchange(addr, port, msg):
    with socket.create_connection((addr, port), timeout=5) as s:
        s.sendall(struct.pack(">H", len(msg)) + msg)
        n = struct.unpack(">H", s.recv(2, socket.MSG_WAITALL))[0]
        return s.recv(n, socket.MSG_WAITALL)


def txt(s):
    b = s.encode()
    return bytes([len(b)]) + b


def main():
    addr, port, key, zone, outdir = sys.argv[1:6]
    alg, keyname, secret = key.split(":", 2)
    assert alg == "hmac-sha256"
    secret = base64.b64decode(secret)
    os.makedirs(outdir, exist_ok=True)
    owner = "fuzz-seed." + zone
    cases = {
        "signed_add": ([rr(owner, 16, 1, 300, txt("v=spf1 -all"))],
                       keyname, secret, zone),
        "signed_delete": ([rr(owner, 16, 255, 0, b"")], keyname, secret,
                          zone),
        "bad_secret": ([rr(owner, 16, 1, 300, txt("x"))], keyname,
                       b"wrong-secret-wrong-secret", zone),
        "bad_key": ([rr(owner, 16, 1, 300, txt("x"))], "no-such-key",
                    secret, zone),
        "unsigned": ([rr(owner, 16, 1, 300, txt("x"))], None, None, zone),
        "not_served": ([rr("x.elsewhere.test", 16, 1, 300, txt("x"))],
                       keyname, secret, "elsewhere.test"),
    }
    for label, (records, kname, ksecret, z) in cases.items():
        msg = update(random.randrange(65536), z, records)
        mac = b""
        if kname is not None:
            msg, mac = sign(msg, kname, ksecret)
        reply = exchange(addr, int(port), msg)
        with open(os.path.join(outdir, label), "wb") as f:
            f.write(bytes([len(mac)]) + mac + reply)
        print(label, len(reply), "bytes, rcode", reply[3] & 0xf)


if __name__ == "__main__":
    main()
