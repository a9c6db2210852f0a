#!/usr/bin/python3
"""Convert an SPF council test suite (YAML) to the JSON the tests read.

usage: /usr/bin/python3 scripts/spf_suite_json.py SUITE.yml OUT.json

Run once when the suite changes; the JSON is checked in under tests/data/spf/
so the tests need no YAML library. Needs Debian's python3-yaml (hence
/usr/bin/python3).

The zone data is resolved here with the rules of the reference driver
(pyspf test/testspf.py), so the C side only loads records:
  * "SPF:" records are also served as TXT, unless the name lists a "TXT:"
    entry of its own (then no copies at all).
  * "NONE" values mean no record of that type (and suppress the copy).
  * a bare TIMEOUT times out every query type with no record listed before
    it; records after it (and the generated TXT copies) are never served.
  * a value that is a list is several character-strings of one TXT RR.
Each TXT string is kept as text when it is printable ASCII, else as
{"hex": "..."} (the YAML "\\xEF" escapes are bytes, as the suite intends).

Output:
{"source": ..., "scenarios": [{"description": ..., "records": [
   {"name": n, "type": "A"|"AAAA"|"MX"|"PTR"|"CNAME"|"TXT"|"SPF",
    "data": "zone-form data" | [strings...]},
   {"name": n, "timeout": "ALL" | ["TXT", ...]}],
  "tests": [{"id": ..., "spec": ..., "helo": ..., "host": ..., "mailfrom": ...,
             "result": [acceptable results, preferred first],
             "explanation": text (optional; "DEFAULT" = no exp= text)}]}]}
"""
import json
import sys

import yaml

TYPES = ["A", "AAAA", "MX", "TXT", "PTR", "CNAME", "SPF"]


def txt_string(s):
    if isinstance(s, bytes):
        b = s
    else:
        s = str(s)
        if all(ord(c) < 256 for c in s):
            b = s.encode("latin-1")
        else:
            b = s.encode("utf-8")
    if all(0x20 <= c < 0x7F for c in b):
        return b.decode("ascii")
    return {"hex": b.hex()}


def txt_strings(v):
    if isinstance(v, list):
        return [txt_string(x) for x in v]
    return [txt_string(v)]


def resolve(name, entries):
    """Records and timeouts of one name, as the reference driver serves them."""
    name = name.lower().rstrip(".")
    has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
    out, copies, seen = [], [], set()
    timeout = None
    for e in entries:
        if e == "TIMEOUT":
            missing = [t for t in TYPES if t not in seen]
            timeout = "ALL" if not seen else missing
            break
        for t, v in e.items():
            if t not in TYPES:
                raise SystemExit("%s: unknown type %s" % (name, t))
            if v == "NONE":
                continue
            if v == "TIMEOUT":
                raise SystemExit("%s: typed TIMEOUT not supported" % name)
            seen.add(t)
            if t in ("TXT", "SPF"):
                rec = {"name": name, "type": t, "data": txt_strings(v)}
                if t == "SPF" and not has_txt:
                    copies.append({"name": name, "type": "TXT",
                                   "data": rec["data"]})
            elif t == "MX":
                pref, host = v
                host = str(host).rstrip(".") or "."
                rec = {"name": name, "type": t, "data": "%d %s" % (pref, host)}
            else:
                rec = {"name": name, "type": t, "data": str(v)}
            out.append(rec)
    if timeout is None:
        out += copies
    else:
        out.append({"name": name, "timeout": timeout})
    return out


def result_list(r):
    old = {"unknown": "permerror", "error": "temperror"}
    if not isinstance(r, list):
        r = [r]
    return [old.get(x, x) for x in r]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    scenarios = []
    with open(src, "rb") as f:
        for doc in yaml.safe_load_all(f):
            recs = []
            for name, entries in doc.get("zonedata", {}).items():
                recs += resolve(name, entries)
            tests = []
            for tid, t in doc["tests"].items():
                o = {"id": tid, "spec": str(t.get("spec", "")),
                     "helo": t["helo"], "host": t["host"],
                     "mailfrom": t["mailfrom"],
                     "result": result_list(t["result"])}
                if "explanation" in t:
                    o["explanation"] = t["explanation"]
                tests.append(o)
            scenarios.append({"description": doc.get("description", ""),
                              "records": recs, "tests": tests})
    with open(dst, "w", encoding="utf-8") as f:
        json.dump({"source": src.split("/")[-1], "scenarios": scenarios}, f,
                  indent=1, ensure_ascii=True)
        f.write("\n")
    print("%s: %d scenarios, %d tests" % (
        dst, len(scenarios), sum(len(s["tests"]) for s in scenarios)))


if __name__ == "__main__":
    main()
