#!/usr/bin/env python3
"""Compile the knowledge base (kb/) into C data for libcoldpost.

Reads every kb/**/*.txt file (format: docs/internals/kb-format.md), checks it
and writes one C file of static tables. Any error names the file and line and
fails the build. Standard library only: it runs with whatever python3 meson uses.

usage: gen_kb.py KB_DIR OUT.c [--check]
"""
import os
import re
import sys

CAUSES = ["authentication", "reputation", "blocklist", "content", "policy",
          "rate_limit", "recipient_unknown", "mailbox_full",
          "mailbox_disabled", "message_too_big", "tls", "relay_denied",
          "dns_or_routing", "protocol", "temporary", "other"]
RETRIES = ["soon", "later", "after_fix", "never"]
REASONS = ["authfailure", "badreputation", "blocked", "contenterror",
           "delivered", "emailtoolarge", "expired", "feedback", "filtered",
           "hasmoved", "hostunknown", "mailboxfull", "mailererror",
           "networkerror", "norelaying", "notaccept", "notcompliantrfc",
           "onhold", "policyviolation", "ratelimited", "rejected",
           "requireptr", "securityerror", "spamdetected", "suppressed",
           "suspend", "syntaxerror", "systemerror", "systemfull",
           "undefined", "userunknown", "vacation", "virusdetected"]
REASON_ALIASES = {"speeding": "ratelimited", "toomanyconn": "ratelimited",
                  "mesgtoobig": "emailtoolarge", "exceedlimit": "emailtoolarge"}
KINDS = {"codes": "CP_KB_CODE", "replies": "CP_KB_REPLY",
         "causes": "CP_KB_CAUSE", "receivers": "CP_KB_RECEIVER",
         "blocklists": "CP_KB_BLOCKLIST", "rules": "CP_KB_RULES"}
SECTIONS = ["meaning", "who", "why", "fix", "cold", "faq"]
RULE_KEYS = {"match", "code", "class", "cause", "reason", "retry", "says",
             "steps", "blocklist", "prio", "receiver"}
HEADER_KEYS = {"code", "cause", "receiver", "blocklist", "title", "name",
               "ref", "family", "reason", "retry", "retry4", "hosts",
               "signature", "zones", "delist", "related"}
ID_RE = re.compile(r"^[a-z0-9_]+$")


class KbError(Exception):
    pass


def fail(path, lineno, msg):
    raise KbError("%s:%d: %s" % (path, lineno, msg))


def parse_file(path):
    """Return (header dict of lists, sections dict, rules list)."""
    header, sections, rules = {}, {}, []
    cur = None            # ("section", name, lines) or ("rule", id, dict)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if line.startswith("#"):
            continue
        if line.startswith("== "):
            name = line[3:].strip()
            if name.startswith("rule "):
                rid = name[5:].strip()
                rule = {"_line": n, "_id": rid}
                rules.append(rule)
                cur = ("rule", rid, rule)
            else:
                if name not in SECTIONS:
                    fail(path, n, "unknown section '%s' (one of %s, or 'rule ID')"
                         % (name, " ".join(SECTIONS)))
                if name in sections:
                    fail(path, n, "section '%s' twice" % name)
                sections[name] = [n, []]
                cur = ("section", name, sections[name][1])
            continue
        if cur is None or cur[0] == "rule":
            if not line.strip():
                continue
            m = re.match(r"^([a-z0-9_]+):\s?(.*)$", line)
            if not m:
                fail(path, n, "expected 'key: value', got '%s'" % line[:60])
            key, val = m.group(1), m.group(2).strip()
            if cur is None:
                if key not in HEADER_KEYS:
                    fail(path, n, "unknown header key '%s'" % key)
                header.setdefault(key, []).append((n, val))
            else:
                if key not in RULE_KEYS:
                    fail(path, n, "unknown rule key '%s'" % key)
                cur[2].setdefault(key, []).append((n, val))
        else:
            cur[2].append((n, line))
    return header, sections, rules


def one(path, d, key, required=True, default=None):
    vals = d.get(key)
    if not vals:
        if required:
            fail(path, d.get("_line", 1), "missing key '%s'" % key)
        return default
    if len(vals) > 1:
        fail(path, vals[1][0], "key '%s' given twice" % key)
    return vals[0][1]


def paragraphs(lines):
    paras, cur = [], []
    for _, l in lines:
        if l.strip():
            cur.append(l.strip())
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return "\n\n".join(paras)


def parse_steps(path, lines):
    steps = []
    for n, l in lines:
        if not l.strip():
            continue
        m = re.match(r"^\s*(\d+)\.\s+(.*)$", l)
        if m:
            if int(m.group(1)) != len(steps) + 1:
                fail(path, n, "step %s out of order (expected %d)"
                     % (m.group(1), len(steps) + 1))
            steps.append(m.group(2).strip())
        elif steps:
            steps[-1] += " " + l.strip()      # continuation line
        else:
            fail(path, n, "fix steps must be numbered '1. ...'")
    return steps


def parse_faq(path, lines):
    faq, q = [], None
    for n, l in lines:
        s = l.strip()
        if not s:
            continue
        if s.startswith("Q:"):
            if q is not None:
                fail(path, n, "question without answer")
            q = s[2:].strip()
        elif s.startswith("A:"):
            if q is None:
                fail(path, n, "answer without question")
            faq.append([q, s[2:].strip()])
            q = None
        elif faq and q is None:
            faq[-1][1] += " " + s
        elif q is not None:
            q += " " + s
        else:
            fail(path, n, "faq lines must start with 'Q:' or 'A:'")
    if q is not None:
        fail(path, lines[-1][0] if lines else 1, "question without answer")
    return faq


def check_enum(path, n, val, allowed, what):
    if val not in allowed:
        fail(path, n, "unknown %s '%s' (one of: %s)" % (what, val, " ".join(allowed)))


def check_pattern(path, n, pat):
    try:
        re.compile(pat)
    except re.error as e:
        fail(path, n, "bad pattern '%s': %s" % (pat, e))
    if re.search(r"\(\?[=!<]|\\[1-9]", pat):
        fail(path, n, "pattern uses look-around or back-reference (not Hyperscan)")


def load(kbdir):
    pages, rules, pats = [], [], []
    seen_rule_ids = set()
    for sub in ["causes", "codes", "replies", "receivers", "blocklists", "rules"]:
        d = os.path.join(kbdir, sub)
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".txt"):
                continue
            path = os.path.join(d, fn)
            base = fn[:-4]
            header, sections, frules = parse_file(path)
            page = load_page(path, sub, base, header, sections)
            if page is not None:
                pages.append(page)
            owner = page["key"] if page else one(path, header, "receiver")
            if sub == "rules" and owner != "unknown" and not ID_RE.match(owner):
                fail(path, 1, "bad receiver id '%s'" % owner)
            if frules and sub not in ("receivers", "blocklists", "rules"):
                fail(path, frules[0]["_line"], "rules only in receivers, blocklists, rules")
            for r in frules:
                rule = load_rule(path, sub, base, owner, r)
                if rule["id"] in seen_rule_ids:
                    fail(path, r["_line"], "duplicate rule id '%s'" % rule["id"])
                seen_rule_ids.add(rule["id"])
                rules.append(rule)
    return pages, rules


def load_page(path, sub, base, header, sections):
    keyname = {"codes": "code", "replies": "code", "causes": "cause",
               "receivers": "receiver", "blocklists": "blocklist"}.get(sub)
    if keyname is None:       # rules file: header only names the receiver
        for k in header:
            if k not in ("receiver", "title"):
                fail(path, header[k][0][0], "rules files take only 'receiver' and 'title'")
        return None
    key = one(path, header, keyname)
    if key != base:
        fail(path, header[keyname][0][0], "%s '%s' does not match file name '%s'"
             % (keyname, key, base))
    if sub == "codes" and not re.match(r"^X\.[0-7]\.\d{1,3}$", key):
        fail(path, 1, "code must look like X.7.1")
    if sub == "replies" and not re.match(r"^[2-5]\d\d$", key):
        fail(path, 1, "reply code must be three digits 200-599")
    if sub == "causes":
        check_enum(path, 1, key, CAUSES, "cause family")
    if sub in ("receivers", "blocklists") and not ID_RE.match(key):
        fail(path, 1, "id must be lowercase [a-z0-9_]")
    page = {"kind": KINDS[sub], "key": key, "path": path}
    page["title"] = one(path, header, "title")
    page["name"] = one(path, header, "name", sub in ("receivers", "blocklists"))
    page["ref"] = one(path, header, "ref", False)
    fam = one(path, header, "family", sub in ("codes", "replies"))
    if fam is not None:
        check_enum(path, header["family"][0][0], fam, CAUSES, "cause family")
    page["family"] = fam
    reason = one(path, header, "reason", sub in ("codes", "replies"))
    if reason is not None:
        reason = REASON_ALIASES.get(reason, reason)
        check_enum(path, header["reason"][0][0], reason, REASONS, "reason")
    page["reason"] = reason
    for k in ("retry", "retry4"):
        v = one(path, header, k, k == "retry" and sub in ("codes", "replies"))
        if v is not None:
            check_enum(path, header[k][0][0], v, RETRIES, "retry advice")
        page[k] = v
    page["hosts"] = (one(path, header, "hosts", False) or "").split()
    page["signatures"] = [(n, v) for n, v in header.get("signature", [])]
    for n, v in page["signatures"]:
        check_pattern(path, n, v)
    page["zones"] = one(path, header, "zones", False)
    page["delist"] = one(path, header, "delist", False)
    page["related"] = (one(path, header, "related", False) or "").split()
    for s in SECTIONS:
        if s not in sections:
            fail(path, 1, "missing section '== %s'" % s)
    page["meaning"] = paragraphs(sections["meaning"][1])
    page["who"] = paragraphs(sections["who"][1])
    page["why"] = paragraphs(sections["why"][1])
    page["cold"] = paragraphs(sections["cold"][1])
    page["steps"] = parse_steps(path, sections["fix"][1])
    if len(page["steps"]) < 2:
        fail(path, sections["fix"][0], "at least 2 fix steps")
    page["faq"] = parse_faq(path, sections["faq"][1])
    if not page["faq"]:
        fail(path, sections["faq"][0], "at least one Q:/A: pair")
    for s in ("meaning", "who", "why", "cold"):
        if not page[s]:
            fail(path, sections[s][0], "section '%s' is empty" % s)
    return page


def load_rule(path, sub, base, owner, r):
    rid = r["_id"]
    if not re.match(r"^[a-z0-9_]+\.[a-z0-9_.\-]+$", rid) or rid.split(".")[0] != base:
        fail(path, r["_line"], "rule id '%s' must be '%s.name'" % (rid, base))
    if "match" not in r:
        fail(path, r["_line"], "rule '%s' has no match" % rid)
    rule = {"id": rid, "line": r["_line"], "path": path}
    rule["match"] = [v for _, v in r["match"]]
    for n, v in r["match"]:
        check_pattern(path, n, v)
    rule["cause"] = one(path, r, "cause")
    check_enum(path, r["cause"][0][0], rule["cause"], CAUSES, "cause family")
    reason = REASON_ALIASES.get(one(path, r, "reason"), one(path, r, "reason"))
    check_enum(path, r["reason"][0][0], reason, REASONS, "reason")
    rule["reason"] = reason
    rule["retry"] = one(path, r, "retry", False)
    if rule["retry"] is not None:
        check_enum(path, r["retry"][0][0], rule["retry"], RETRIES, "retry advice")
    rule["says"] = one(path, r, "says")
    steps = one(path, r, "steps", False)
    rule["steps"] = [s.strip() for s in steps.split("|") if s.strip()] if steps else []
    rule["codes"] = one(path, r, "code", False)
    if rule["codes"]:
        for c in rule["codes"].split():
            if not re.match(r"^[2-5](\d{0,2}|(\.\d{1,3}){1,2}|\.)$", c):
                fail(path, r["code"][0][0], "bad code prefix '%s'" % c)
    cls = one(path, r, "class", False)
    if cls is not None and cls not in ("4", "5"):
        fail(path, r["class"][0][0], "class must be 4 or 5")
    rule["class"] = int(cls) if cls else 0
    prio = one(path, r, "prio", False)
    try:
        rule["prio"] = int(prio) if prio is not None else (30 if sub == "rules" else 50)
    except ValueError:
        fail(path, r["prio"][0][0], "prio must be an integer")
    recv = one(path, r, "receiver", False)
    if recv is not None and sub != "rules":
        fail(path, r["receiver"][0][0], "'receiver' only in rules files")
    if sub == "receivers":
        rule["receiver"] = owner
    elif sub == "rules":
        rule["receiver"] = recv if recv else (owner if owner != "unknown" else None)
    else:
        rule["receiver"] = None
    bl = one(path, r, "blocklist", False)
    rule["blocklist"] = owner if (sub == "blocklists" and bl is None) else bl
    return rule


def cstr(s):
    if s is None:
        return "NULL"
    out = ['"']
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif 32 <= ch < 127:
            out.append(c)
        else:
            out.append('\\%03o' % ch)
    out.append('"')
    return "".join(out)


def enum_or(val, names, none="-1"):
    return str(names.index(val)) if val is not None else none


def strlist(name, items, out):
    if not items:
        return "NULL"
    out.append("static const char *const %s[] = { %s };" %
               (name, ", ".join(cstr(i) for i in items)))
    return name


def emit(pages, rules, outpath):
    out = ["/* Generated by scripts/gen_kb.py from kb/. Do not edit. */",
           '#include "bounce/kb_int.h"', ""]
    keys = {p["key"] for p in pages}
    for p in pages:
        for rel in p["related"]:
            pass  # related may name codes in class form (5.7.1); checked in C tests
    for i, p in enumerate(pages):
        p["steps_c"] = strlist("pg%d_steps" % i, p["steps"], out)
        p["related_c"] = strlist("pg%d_related" % i, p["related"], out)
        p["hosts_c"] = strlist("pg%d_hosts" % i, p["hosts"], out)
        if p["faq"]:
            out.append("static const cp_kb_faq pg%d_faq[] = { %s };" % (i, ", ".join(
                "{ %s, %s }" % (cstr(q), cstr(a)) for q, a in p["faq"])))
            p["faq_c"] = "pg%d_faq" % i
        else:
            p["faq_c"] = "NULL"
    out.append("")
    out.append("const cp_kb_page cp_kb_pages[] = {")
    for p in pages:
        out.append("  { %s, %s, %s, %s, %s, %s, %s, %s, %s," % (
            p["kind"], cstr(p["key"]), cstr(p["title"]), cstr(p["name"]),
            cstr(p["ref"]), enum_or(p["family"], CAUSES), cstr(p["reason"]),
            enum_or(p["retry"], RETRIES), enum_or(p["retry4"], RETRIES)))
        out.append("    %s, %s, %s, %s," % (cstr(p["meaning"]), cstr(p["who"]),
                                           cstr(p["why"]), cstr(p["cold"])))
        out.append("    %s, %d, %s, %d, %s, %d, %s, %d, %s, %s }," % (
            p["steps_c"], len(p["steps"]), p["faq_c"], len(p["faq"]),
            p["related_c"], len(p["related"]), p["hosts_c"], len(p["hosts"]),
            cstr(p["delist"]), cstr(p["zones"])))
    if not pages:
        out.append("  { 0 }")
    out.append("};")
    out.append("const size_t cp_kb_npages = %d;" % len(pages))
    out.append("")
    for i, r in enumerate(rules):
        r["steps_c"] = strlist("rl%d_steps" % i, r["steps"], out)
    out.append("const cp_kb_rule cp_kb_rules[] = {")
    for r in rules:
        out.append("  { %s, %s, %s, %s, %s, %s, %d, %s, %d, %s, %s, %d }," % (
            cstr(r["id"]), cstr(r["receiver"]), cstr(r["blocklist"]),
            enum_or(r["cause"], CAUSES), cstr(r["reason"]),
            enum_or(r["retry"], RETRIES), r["class"], cstr(r["codes"]),
            r["prio"], cstr(r["says"]), r["steps_c"], len(r["steps"])))
    if not rules:
        out.append("  { 0 }")
    out.append("};")
    out.append("const size_t cp_kb_nrules = %d;" % len(rules))
    out.append("")
    # Every pattern the matcher compiles: rule patterns, then receiver and
    # blocklist signatures. kind/index say what a match means.
    out.append("const cp_kb_pattern cp_kb_patterns[] = {")
    for i, r in enumerate(rules):
        for m in r["match"]:
            out.append("  { %s, CP_KB_PAT_RULE, %d }," % (cstr(m), i))
    for i, p in enumerate(pages):
        for _, s in p["signatures"]:
            kind = "CP_KB_PAT_RECEIVER" if p["kind"] == "CP_KB_RECEIVER" else "CP_KB_PAT_BLOCKLIST"
            out.append("  { %s, %s, %d }," % (cstr(s), kind, i))
    npat = sum(len(r["match"]) for r in rules) + sum(len(p["signatures"]) for p in pages)
    if npat == 0:
        out.append("  { 0 }")
    out.append("};")
    out.append("const size_t cp_kb_npatterns = %d;" % npat)
    out.append("")
    out.append("const char *const cp_kb_cause_names[] = { %s };" %
               ", ".join(cstr(c) for c in CAUSES))
    out.append("const char *const cp_kb_retry_names[] = { %s };" %
               ", ".join(cstr(c) for c in RETRIES))
    out.append("const char *const cp_kb_reason_names[] = { %s };" %
               ", ".join(cstr(c) for c in REASONS))
    out.append("const size_t cp_kb_nreasons = %d;" % len(REASONS))
    out.append("")
    data = "\n".join(out) + "\n"
    try:
        with open(outpath, encoding="utf-8") as f:
            if f.read() == data:
                return          # unchanged: keep the timestamp, skip the recompile
    except OSError:
        pass
    tmp = outpath + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
    os.replace(tmp, outpath)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        pages, rules = load(sys.argv[1])
    except KbError as e:
        print("gen_kb: %s" % e, file=sys.stderr)
        return 1
    if "--check" not in sys.argv:
        emit(pages, rules, sys.argv[2])
    n = {}
    for p in pages:
        n[p["kind"]] = n.get(p["kind"], 0) + 1
    print("gen_kb: %d pages (%s), %d rules" % (len(pages), ", ".join(
        "%s %d" % (k[6:].lower(), v) for k, v in sorted(n.items())), len(rules)),
        file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
