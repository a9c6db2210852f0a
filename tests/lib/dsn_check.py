#!/usr/bin/python3
"""dsn_check.py - checks a DSN saved by tests/lib/receiver.py.

  dsn_check.py FILE KEY=VALUE...

Parses the message with Python's email package and checks that it is an
RFC 3464 report (multipart/report; report-type=delivery-status, a
message/delivery-status part, every line ending in CRLF and at most 998
octets, Auto-Submitted: auto-replied, From MAILER-DAEMON, a Message-ID and
a Date) and that the expectations hold. Keys:
  mail_from=    the envelope sender (X-Mail-From; "" for the null sender)
  rcpt=ADDR     the envelope recipient (X-Rcpt-To)
  final=ADDR    a per-recipient group with Final-Recipient: rfc822; ADDR,
                to which the following keys apply:
  action=, status=PREFIX, diag~=TEXT (Diagnostic-Code contains TEXT),
  remote~=TEXT (Remote-MTA contains it)
  text~=TEXT    the human part contains TEXT
  headers~=TEXT the text/rfc822-headers part contains TEXT
  groups=N      the number of per-recipient groups
Prints what it found; exit 0 when all hold, 1 when not.
"""
import email
import email.policy
import sys


def groups(body):
    """The field groups of a delivery-status body, unfolded."""
    out, cur, last = [], {}, None
    for line in body.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if cur:
                out.append(cur)
            cur, last = {}, None
            continue
        if line[0] in " \t" and last:
            cur[last] += " " + line.strip()
            continue
        k, _, v = line.partition(":")
        last = k.strip().lower()
        cur[last] = v.strip()
    if cur:
        out.append(cur)
    return out


def main():
    path = sys.argv[1]
    raw = open(path, "rb").read()
    bad = []
    # the receiver's X- lines first, then the DSN as it was sent
    for i, line in enumerate(raw.split(b"\r\n")[:-1]):
        if b"\n" in line or b"\r" in line:
            bad.append(f"line {i}: bare CR or LF")
        if len(line) > 998:
            bad.append(f"line {i}: {len(line)} octets")
    if not raw.endswith(b"\r\n"):
        bad.append("does not end with CRLF")
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    if m.get_content_type() != "multipart/report":
        bad.append(f"type {m.get_content_type()}")
    if m.get_param("report-type") != "delivery-status":
        bad.append(f"report-type {m.get_param('report-type')}")
    if (m["Auto-Submitted"] or "").strip() != "auto-replied":
        bad.append(f"Auto-Submitted: {m['Auto-Submitted']}")
    if "MAILER-DAEMON" not in (m["From"] or ""):
        bad.append(f"From: {m['From']}")
    for h in ("Message-ID", "Date"):
        if not m[h]:
            bad.append(f"no {h}")
    text = status = headers = ""
    for part in m.walk():
        t = part.get_content_type()
        if t == "text/plain" and not text:
            text = part.get_payload(decode=True).decode("utf-8", "replace")
        elif t == "message/delivery-status":
            p = part.get_payload()
            if isinstance(p, list):  # the email package parses it in blocks
                status = "\n\n".join(str(x) for x in p)
            else:
                status = p
        elif t == "text/rfc822-headers":
            headers = part.get_payload(decode=True).decode("utf-8", "replace")
    gs = groups(status)
    if not gs or "reporting-mta" not in gs[0]:
        bad.append("no per-message group with Reporting-MTA")
    rcpts = gs[1:]
    print(f"{path}: {len(rcpts)} recipient group(s): " +
          "; ".join(f"{g.get('final-recipient')} {g.get('action')} "
                    f"{g.get('status')}" for g in rcpts))
    cur = None
    for kv in sys.argv[2:]:
        if "~=" in kv:
            k, v = kv.split("~=", 1)
            op = "in"
        else:
            k, v = kv.split("=", 1)
            op = "eq"
        if k == "mail_from":
            got = (m["X-Mail-From"] or "").strip()
            if got != v:
                bad.append(f"envelope sender {got!r}, want {v!r}")
        elif k == "rcpt":
            got = [x.strip() for x in m.get_all("X-Rcpt-To") or []]
            if v not in got:
                bad.append(f"envelope recipients {got}, want {v}")
        elif k == "groups":
            if len(rcpts) != int(v):
                bad.append(f"{len(rcpts)} recipient groups, want {v}")
        elif k == "final":
            cur = None
            for g in rcpts:
                fr = g.get("final-recipient", "")
                if fr.lower().replace(" ", "") == "rfc822;" + v.lower():
                    cur = g
            if cur is None:
                bad.append(f"no Final-Recipient: rfc822; {v}")
        elif k == "text":
            if v not in text:
                bad.append(f"human part lacks {v!r}")
        elif k == "headers":
            if v not in headers:
                bad.append(f"rfc822-headers part lacks {v!r}")
        elif cur is not None:
            field = {"action": "action", "status": "status",
                     "diag": "diagnostic-code",
                     "remote": "remote-mta"}[k]
            got = cur.get(field, "")
            ok = (v in got) if op == "in" else (
                got.startswith(v) if k == "status" else got == v)
            if not ok:
                bad.append(f"{field}: {got!r}, want {op} {v!r}")
    for b in bad:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
