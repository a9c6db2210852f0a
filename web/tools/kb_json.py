#!/usr/bin/env python3
"""kb_json.py - the SMTP error reference as static JSON for the dashboard.

    kb_json.py KBDIR OUTDIR

Reads kb/ with scripts/gen_kb.py's own loader (the one that generates the
tables compiled into libcoldpost, with the same checks), and writes:

    OUTDIR/index.json            every page (kind, key, title, name, family)
                                 and every signature rule (id, receiver,
                                 cause, codes, says), for the index
    OUTDIR/<kind>/<key>.json     one page: code, reply, cause, receiver,
                                 blocklist (receivers and blocklists carry
                                 their signature rules)
    OUTDIR/signature/<id>.json   one receiver signature rule, with its
                                 cause family's page summary and the steps
                                 that apply (its own or the family's)

The relay serves these as plain files: the reference needs no API key.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_kb  # noqa: E402  (the knowledge-base compiler's loader)

KIND = {"CP_KB_CODE": "code", "CP_KB_REPLY": "reply", "CP_KB_CAUSE": "cause",
        "CP_KB_RECEIVER": "receiver", "CP_KB_BLOCKLIST": "blocklist"}


def page_json(p):
    out = {"kind": KIND[p["kind"]], "key": p["key"], "title": p["title"]}
    for k in ("name", "ref", "family", "reason", "retry", "retry4", "zones",
              "delist"):
        if p.get(k) is not None:
            out[k] = p[k]
    for k in ("meaning", "who", "why", "cold"):
        out[k] = p[k].split("\n\n")
    out["steps"] = p["steps"]
    out["faq"] = [{"q": q, "a": a} for q, a in p["faq"]]
    out["related"] = p["related"]
    if p["hosts"]:
        out["hosts"] = p["hosts"]
    return out


def rule_json(r):
    out = {"id": r["id"], "cause": r["cause"], "reason": r["reason"],
           "says": r["says"], "match": r["match"], "prio": r["prio"]}
    for k in ("receiver", "blocklist", "retry", "codes"):
        if r.get(k) is not None:
            out[k] = r[k]
    if r["class"]:
        out["class"] = r["class"]
    if r["steps"]:
        out["steps"] = r["steps"]
    return out


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    kbdir, outdir = sys.argv[1], sys.argv[2]
    try:
        pages, rules = gen_kb.load(kbdir)
    except gen_kb.KbError as e:
        print("kb_json: %s" % e, file=sys.stderr)
        return 1
    causes = {p["key"]: p for p in pages if p["kind"] == "CP_KB_CAUSE"}
    by_owner = {}
    for r in rules:
        owner = r["receiver"] or r["blocklist"] or "generic"
        by_owner.setdefault(owner, []).append(r)
    index = {"pages": [], "signatures": []}
    for p in pages:
        pj = page_json(p)
        entry = {k: pj[k] for k in ("kind", "key", "title", "name", "family")
                 if k in pj}
        if pj["kind"] in ("receiver", "blocklist"):
            own = [rule_json(r) for r in rules
                   if r["receiver" if pj["kind"] == "receiver" else
                        "blocklist"] == p["key"]]
            pj["signatures"] = own
            entry["signatures"] = len(own)
        index["pages"].append(entry)
        write(os.path.join(outdir, pj["kind"], p["key"] + ".json"), pj)
    for r in rules:
        rj = rule_json(r)
        c = causes.get(r["cause"])
        if c is not None:
            rj["cause_title"] = c["title"]
            if not r["steps"]:
                rj["cause_steps"] = c["steps"]
        index["signatures"].append({k: rj[k] for k in (
            "id", "receiver", "blocklist", "cause", "codes", "says")
            if k in rj})
        write(os.path.join(outdir, "signature", r["id"] + ".json"), rj)
    write(os.path.join(outdir, "index.json"), index)
    print("kb_json: %d pages, %d signatures" % (len(pages), len(rules)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
