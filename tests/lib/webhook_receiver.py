#!/usr/bin/python3
"""A webhook receiver for tests: an HTTP server on loopback that checks
each POST's signature (docs/webhooks.md) and fails on purpose.

  webhook_receiver.py --listen 127.0.0.1:31080 --secret S --log FILE
      [--fail N] [--hang M] [--hang-seconds S] [--pid-file FILE]

The first N POSTs get a 500, the next M get no answer for S seconds (the
sender's timeout should fire first), every later one a 200. Each POST is
one JSON line in --log: time, status, event type, event id, delivery,
attempt, sig_ok (signature valid and timestamp within 5 minutes).
Only the standard library (http.server, hmac).
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"n": 0}
args = None


def verify(secret, ts, body, sig):
    if not ts or not sig or not sig.startswith("v1="):
        return False
    try:
        if abs(time.time() - int(ts)) > 300:
            return False
    except ValueError:
        return False
    want = hmac.new(secret.encode(), ts.encode() + b"." + body,
                    hashlib.sha256).hexdigest()
    return hmac.compare_digest("v1=" + want, sig)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with lock:
            state["n"] += 1
            k = state["n"]
        if k <= args.fail:
            status = 500
        elif k <= args.fail + args.hang:
            status = 0  # no answer
        else:
            status = 200
        try:
            ev = json.loads(body)
        except ValueError:
            ev = {}
        rec = {
            "time": time.time(), "n": k, "status": status,
            "type": ev.get("type"), "id": ev.get("id"),
            "tenant": ev.get("tenant"), "data": ev.get("data"),
            "header_event": self.headers.get("X-Coldpost-Event"),
            "delivery": self.headers.get("X-Coldpost-Delivery"),
            "attempt": self.headers.get("X-Coldpost-Attempt"),
            "sig_ok": verify(args.secret,
                             self.headers.get("X-Coldpost-Timestamp"), body,
                             self.headers.get("X-Coldpost-Signature")),
        }
        with lock:
            with open(args.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if status == 0:
            time.sleep(args.hang_seconds)
            status = 500
        try:
            out = b'{"ok":true}' if status == 200 else b'{"ok":false}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:
            pass  # the sender gave up waiting


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--hang", type=int, default=0)
    p.add_argument("--hang-seconds", type=float, default=5.0)
    p.add_argument("--pid-file")
    args = p.parse_args()
    host, port = args.listen.rsplit(":", 1)
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(str(os.getpid()))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
