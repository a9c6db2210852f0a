#!/usr/bin/python3
"""receiver.py - a configurable receiving MTA for coldpost's relay tests.

Stands for a Gmail- or Microsoft-like inbound server on loopback: accepts
mail with aiosmtpd (Debian's python3-aiosmtpd; run it with /usr/bin/python3)
and saves each accepted message as a file, or answers chosen codes at
chosen phases, drops the line in the middle of DATA, stays silent after the
final dot, or breaks the TLS handshake, for the first N transactions or
always.

  receiver.py --listen 127.0.0.1:28025 --dir OUT [options]

  --listen HOST:PORT     where to listen (required)
  --dir DIR              each accepted message saved as DIR/NNNNNN.eml, with
                         X-Peer (client IP), X-Helo, X-Mail-From ("<>" for
                         the null sender), X-Rcpt-To (one per recipient) and X-TLS ("no" or protocol and
                         cipher) prepended
  --hostname NAME        name in the greeting and EHLO reply
  --banner TEXT          greeting after "220 NAME " (default: ESMTP)
  --accept TEXT          reply to an accepted DATA (default "250 2.0.0 OK
                         queued as NNNNNN"); "{id}" becomes the file number
  --tls CERT,KEY         offer STARTTLS with this certificate
  --rule PHASE:GLOB=CODE TEXT
                         answer CODE TEXT at PHASE when GLOB matches (may be
                         given many times; the first match wins). Phases and
                         what GLOB is matched against (case-insensitive):
                           connect  client IP; the greeting is the reply and
                                    the connection is closed
                           helo     the HELO/EHLO name
                           mail     the MAIL FROM address
                           rcpt     the RCPT TO address
                           data     each recipient of the transaction; the
                                    reply to the final dot
                         "\\n" in TEXT makes a multi-line reply, each line
                         with the code, e.g.
                         'rcpt:*@gmail.test=550 5.1.1 No such user\\n5.1.1 bye'
  --drop-mid-data        answer 354, read part of the message, close the line
  --delay-data SECONDS   say nothing for that long after the final dot (the
                         message is kept only if the client is still there)
  --fail-tls             offer STARTTLS (even without --tls), answer 220,
                         then send garbage and close instead of a handshake
  --first N              the rules and faults above apply to the first N
                         transactions (MAIL commands; connections for the
                         connect and helo rules and --fail-tls), then
                         everything is accepted: "4xx, then delivered"
  --pid-file FILE        written once listening (a readiness signal)
  --stats FILE           JSON counts, rewritten after every event

SIGTERM or SIGINT stops it (pid file removed).
"""

import argparse
import asyncio
import fnmatch
import json
import logging
import os
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, MISSING

PHASES = ("connect", "helo", "mail", "rcpt", "data")


def parse_rule(text):
    """'PHASE:GLOB=CODE TEXT' -> (phase, glob, [reply lines])."""
    phase, sep, rest = text.partition(":")
    if not sep or phase not in PHASES:
        raise argparse.ArgumentTypeError(
            f"rule {text!r}: phase must be one of {', '.join(PHASES)}")
    glob, sep, reply = rest.partition("=")
    if not sep or not glob:
        raise argparse.ArgumentTypeError(f"rule {text!r}: no GLOB=REPLY")
    code, _, first = reply.partition(" ")
    if len(code) != 3 or not code.isdigit() or code[0] not in "2345":
        raise argparse.ArgumentTypeError(f"rule {text!r}: bad code {code!r}")
    parts = first.split("\\n")
    lines = [parts[0]] + [p.strip() for p in parts[1:]]
    out = [f"{code}-{l}" for l in lines[:-1]] + [f"{code} {lines[-1]}"]
    return phase, glob.lower(), out


class State:
    """What the receiver has seen so far, shared by all sessions."""

    def __init__(self, args):
        self.args = args
        self.connections = 0
        self.transactions = 0
        self.seq = 0
        self.counts = {
            "connections": 0, "transactions": 0, "messages": 0,
            "recipients": 0, "rejected": {p: 0 for p in PHASES},
            "dropped": 0, "delayed": 0, "delayed_abandoned": 0,
            "tls": 0, "tls_failed": 0,
        }
        self.write_stats()

    def active(self, index):
        """Do the rules and faults apply to connection/transaction index?"""
        return self.args.first is None or index < self.args.first

    def write_stats(self):
        if not self.args.stats:
            return
        tmp = self.args.stats + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.counts, f, sort_keys=True)
            f.write("\n")
        os.replace(tmp, self.args.stats)

    def count(self, key, phase=None):
        if phase:
            self.counts[key][phase] += 1
        else:
            self.counts[key] += 1
        self.write_stats()

    def match(self, phase, subjects, index):
        if not self.active(index):
            return None
        for ph, glob, reply in self.args.rule:
            if ph != phase:
                continue
            for s in subjects:
                if fnmatch.fnmatchcase((s or "").lower(), glob):
                    return reply
        return None

    def save(self, session, envelope, tls):
        self.seq += 1
        name = f"{self.seq:06d}"
        head = [f"X-Peer: {session.peer[0]}",
                f"X-Helo: {session.host_name or ''}",
                f"X-Mail-From: {envelope.mail_from or ''}"]
        head += [f"X-Rcpt-To: {r}" for r in envelope.rcpt_tos]
        head.append(f"X-TLS: {tls}")
        data = ("\r\n".join(head) + "\r\n").encode() + \
            envelope.original_content
        path = os.path.join(self.args.dir, name + ".eml")
        with open(path + ".tmp", "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(path + ".tmp", path)
        self.counts["messages"] += 1
        self.counts["recipients"] += len(envelope.rcpt_tos)
        self.write_stats()
        return name


class Handler:
    """aiosmtpd hooks: the per-phase rules and saving messages."""

    def __init__(self, state):
        self.st = state

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        reply = self.st.match("helo", [hostname], server.conn_index)
        if reply:
            self.st.count("rejected", "helo")
            return "\r\n".join(reply)
        return f"250 {server.hostname}"

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        reply = self.st.match("helo", [hostname], server.conn_index)
        if reply:
            self.st.count("rejected", "helo")
            return reply
        if server.fake_starttls and not server._tls_protocol:
            responses.insert(-1, "250-STARTTLS")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        server.txn_index = self.st.transactions
        self.st.transactions += 1
        self.st.counts["transactions"] = self.st.transactions
        reply = self.st.match("mail", [address], server.txn_index)
        if reply:
            self.st.count("rejected", "mail")
            return "\r\n".join(reply)
        self.st.write_stats()
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        reply = self.st.match("rcpt", [address], server.txn_index)
        if reply:
            self.st.count("rejected", "rcpt")
            return "\r\n".join(reply)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        idx = server.txn_index
        if self.st.args.delay_data and self.st.active(idx):
            self.st.count("delayed")
            try:
                await asyncio.sleep(self.st.args.delay_data)
            except asyncio.CancelledError:
                self.st.count("delayed_abandoned")
                raise
            if server.transport is None or server.transport.is_closing():
                self.st.count("delayed_abandoned")
                return "421 4.4.2 too late"
        reply = self.st.match("data", envelope.rcpt_tos, idx)
        if reply:
            self.st.count("rejected", "data")
            return "\r\n".join(reply)
        name = self.st.save(session, envelope, server.tls_info())
        return self.st.args.accept.replace("{id}", name)


class Receiver(SMTP):
    """aiosmtpd's server with the faults that hooks cannot express."""

    def __init__(self, state, handler, **kw):
        super().__init__(handler, **kw)
        self.st = state
        self.conn_index = 0
        self.txn_index = 0
        self.fake_starttls = False

    def tls_info(self):
        if self._tls_protocol is None:
            return "no"
        obj = self.transport.get_extra_info("ssl_object")
        if obj is None:
            return "yes"
        return f"{obj.version()} {obj.cipher()[0]}"

    async def _handle_client(self):
        self.conn_index = self.st.connections
        self.st.connections += 1
        self.st.counts["connections"] = self.st.connections
        self.st.write_stats()
        self.fake_starttls = (self.st.args.fail_tls and
                              self.st.active(self.conn_index))
        reply = self.st.match("connect", [self.session.peer[0]],
                              self.conn_index)
        if reply:
            self.st.count("rejected", "connect")
            await self.push("\r\n".join(reply))
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_STARTTLS(self, arg):
        if not self.fake_starttls:
            return await super().smtp_STARTTLS(arg)
        await self.push("220 2.0.0 Ready to start TLS")
        self.st.count("tls_failed")
        # Not a TLS record: the client's handshake fails at once.
        self._writer.write(b"this is not TLS\r\n" * 4)
        await self._writer.drain()
        self.transport.close()

    async def smtp_DATA(self, arg):
        if (not self.st.args.drop_mid_data or not self.st.active(
                self.txn_index) or not self.envelope.rcpt_tos or arg or
                not self.session.host_name):
            return await super().smtp_DATA(arg)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        # Read some of the message so the line goes down mid-transfer.
        try:
            await asyncio.wait_for(self._reader.readuntil(b"\r\n"), 10)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            pass
        self.st.count("dropped")
        self.transport.abort()

    def connection_made(self, transport):
        super().connection_made(transport)
        if self._tls_protocol is not None and self.session.ssl is not None:
            self.st.count("tls")


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--listen", required=True, metavar="HOST:PORT")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--hostname", default="mx.receiver.test")
    ap.add_argument("--banner", default="ESMTP")
    ap.add_argument("--accept", default="250 2.0.0 OK queued as {id}")
    ap.add_argument("--tls", metavar="CERT,KEY")
    ap.add_argument("--rule", action="append", default=[], type=parse_rule)
    ap.add_argument("--drop-mid-data", action="store_true")
    ap.add_argument("--delay-data", type=float, default=0)
    ap.add_argument("--fail-tls", action="store_true")
    ap.add_argument("--first", type=int)
    ap.add_argument("--pid-file")
    ap.add_argument("--stats")
    args = ap.parse_args()

    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        ap.error("--listen wants HOST:PORT")
    host = host.strip("[]")
    os.makedirs(args.dir, exist_ok=True)
    ctx = None
    if args.tls:
        cert, sep, key = args.tls.partition(",")
        if not sep:
            ap.error("--tls wants CERT,KEY")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="receiver %(levelname)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    state = State(args)
    handler = Handler(state)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ident = args.banner

    def factory():
        r = Receiver(state, handler, hostname=args.hostname,
                     tls_context=ctx, data_size_limit=64 << 20,
                     enable_SMTPUTF8=True, loop=loop,
                     timeout=max(300, args.delay_data + 60))
        if ident:
            r.__ident__ = ident
        return r

    server = loop.run_until_complete(
        loop.create_server(factory, host=host, port=int(port),
                           reuse_address=True))
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or
                                stop.set_result(True))
    if args.pid_file:
        with open(args.pid_file + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(args.pid_file + ".tmp", args.pid_file)
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        if args.pid_file:
            try:
                os.unlink(args.pid_file)
            except FileNotFoundError:
                pass
        state.write_stats()
    return 0


if __name__ == "__main__":
    sys.exit(main())
