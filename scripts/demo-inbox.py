#!/usr/bin/python3
"""demo-inbox.py HOST:PORT DIR - the demo's receiving mail server.

Stands for the recipients' MX hosts in `make run`: every message the relay
delivers is saved as DIR/<n>.eml with the client address and envelope in
front, and a line is printed so the newcomer sees the delivery happen.
"""
import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self, folder):
        self.folder = folder
        self.count = itertools.count(len(os.listdir(folder)) + 1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.count)
        path = os.path.join(self.folder, "%d.eml" % n)
        head = "X-Peer: %s\r\nX-Mail-From: %s\r\nX-Rcpt-To: %s\r\n" % (
            session.peer[0], envelope.mail_from, ",".join(envelope.rcpt_tos))
        with open(path + ".tmp", "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(path + ".tmp", path)
        print("demo inbox: message %d from %s for %s -> %s" % (
            n, envelope.mail_from, ", ".join(envelope.rcpt_tos), path),
            flush=True)
        return "250 2.0.0 saved as %d" % n


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    folder = sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    ctl = Controller(Inbox(folder), hostname=host, port=int(port),
                     decode_data=False)
    ctl.start()
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
