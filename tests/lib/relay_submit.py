#!/usr/bin/python3
"""relay_submit.py - a submission client for the relay tests (smtplib).

Sends COUNT messages to a submission server, several per connection,
optionally with STARTTLS or implicit TLS and AUTH, and prints one line per
message: "ID CODE TEXT" (CODE 250 when accepted; the text of the reply to
the final dot says "queued as QUEUEID"), also appended to --log. Each
message carries "X-Test-Id: ID" and "Message-ID: <ID@relay-submit.test>",
ID being PREFIX-N, so a receiver can tell which arrived and how often.

With --retry-until SECONDS a message that was not accepted (refused
connection, dropped line, 4xx) is tried again until it is, or the time is
up: the crash test keeps its clients going while the server is killed.
Exit: 0 every message accepted, 1 not, 2 usage.
"""

import argparse
import smtplib
import socket
import ssl
import sys
import time


def connect(a):
    host, _, port = a.server.rpartition(":")
    src = (a.source, 0) if a.source else None
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if a.ssl:
        s = smtplib.SMTP_SSL(host, int(port), timeout=a.timeout,
                             source_address=src, context=ctx,
                             local_hostname=a.helo)
    else:
        s = smtplib.SMTP(host, int(port), timeout=a.timeout,
                         source_address=src, local_hostname=a.helo)
    s.ehlo()
    if a.starttls:
        s.starttls(context=ctx)
        s.ehlo()
    if a.user:
        s.login(a.user, a.password)
    return s


def message(a, mid):
    hdr = [f"From: <{a.sender}>", f"To: {', '.join(a.to)}",
           f"Subject: {a.subject} {mid}", f"X-Test-Id: {mid}",
           f"Message-ID: <{mid}@relay-submit.test>"]
    hdr += a.header
    if a.bcc:
        hdr.append(f"Bcc: {a.bcc}")
    body = a.body.replace("\\n", "\r\n")
    return ("\r\n".join(hdr) + "\r\n\r\n" + body + "\r\n").encode()


def send_one(s, a, mid):
    """One transaction; returns (code, text). Raises on a broken line."""
    code, text = s.mail(a.sender)
    if code != 250:
        s.rset()
        return code, text.decode(errors="replace")
    ok = 0
    last = (0, b"")
    for r in a.to + ([a.bcc] if a.bcc else []):
        c, t = s.rcpt(r)
        if c in (250, 251):
            ok += 1
        else:
            last = (c, t)
    if ok == 0:
        s.rset()
        return last[0], last[1].decode(errors="replace")
    code, text = s.data(message(a, mid))
    return code, text.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True, metavar="HOST:PORT")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--ssl", action="store_true", help="implicit TLS")
    ap.add_argument("--user")
    ap.add_argument("--password", default="")
    ap.add_argument("--from", dest="sender", required=True)
    ap.add_argument("--to", required=True, help="comma list")
    ap.add_argument("--bcc", help="one more envelope recipient, in Bcc:")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--subject", default="test")
    ap.add_argument("--body", default="Hello from relay_submit.py.")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--prefix", default="m")
    ap.add_argument("--per-conn", type=int, default=10)
    ap.add_argument("--helo", default="client.relay-submit.test")
    ap.add_argument("--source", help="source IP address")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--retry-until", type=float, default=0)
    ap.add_argument("--log")
    a = ap.parse_args()
    a.to = [t for t in a.to.split(",") if t]
    deadline = time.time() + a.retry_until
    log = open(a.log, "a", buffering=1) if a.log else None
    s = None
    sent = 0
    accepted = 0
    i = 0
    while i < a.count:
        mid = f"{a.prefix}-{i}"
        try:
            if s is None or sent >= a.per_conn:
                if s is not None:
                    try:
                        s.quit()
                    except (smtplib.SMTPException, OSError):
                        pass
                s = connect(a)
                sent = 0
            code, text = send_one(s, a, mid)
            sent += 1
        except (smtplib.SMTPException, OSError, socket.timeout) as e:
            code, text = 0, f"{type(e).__name__}: {e}"
            if isinstance(e, smtplib.SMTPResponseException):
                code = e.smtp_code
                text = e.smtp_error.decode(errors="replace")
            try:
                if s is not None:
                    s.close()
            except OSError:
                pass
            s = None
        line = f"{mid} {code} {' '.join(text.split())}"
        if code != 250 and time.time() < deadline:
            time.sleep(0.2)
            continue
        print(line, flush=True)
        if log:
            log.write(line + "\n")
        if code == 250:
            accepted += 1
        i += 1
    if s is not None:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass
    return 0 if accepted == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
