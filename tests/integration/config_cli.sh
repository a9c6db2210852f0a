#!/usr/bin/env bash
# Proves: `coldpost config` works as its man page says — show --defaults
# lists every key with its doc comment and reads back; show FILE prints the
# file's values over the defaults (relative paths made absolute, changed keys
# marked) and its output checks and reads back to the same config; --json
# rows; check prints every problem as FILE:LINE: [section] key: problem and
# exits 1, "FILE: ok" and 0 for good files (the shipped example and demo),
# 3 for a missing file, 2 for bad usage.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
fails=0
q() { "$@" >/dev/null 2>&1; } # quietly
t() { # name, command...: the command must succeed
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# --defaults: every key, documented, and a file that checks
"$cp" config show --defaults > "$tmp/defaults.conf"; rc=$?
t "show --defaults exits 0" test $rc -eq 0
t "defaults: [limits] max_size = 25M" grep -qx 'max_size = 25M' "$tmp/defaults.conf"
t "defaults: daily cap 2" grep -qx 'daily_cap = 2' "$tmp/defaults.conf"
t "defaults: no trusted networks" grep -qx 'trusted_networks =' "$tmp/defaults.conf"
t "defaults: doc comment with bounds and reload" \
  grep -qx '; size, 1K..1G; live (SIGHUP)' "$tmp/defaults.conf"
t "defaults: restart keys marked" grep -qx '; addresses, at most 16; restart' "$tmp/defaults.conf"
nkeys=$("$cp" config show --defaults --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["keys"]))')
ndocs=$(ls "$here"/docs/config/*.md | grep -vc README.md)
t "one doc page per key ($nkeys keys, $ndocs pages)" test "$nkeys" -eq "$ndocs"
"$cp" config show --defaults --json > "$tmp/defaults.json"
t "every JSON key is in the INI dump" python3 - "$tmp/defaults.json" "$tmp/defaults.conf" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["keys"]
text = open(sys.argv[2]).read()
sec = None
seen = set()
for line in text.splitlines():
    if line.startswith("["):
        sec = line.strip("[]")
        seen.add(sec)
    elif "=" in line and not line.startswith(";") and not line.startswith("#"):
        seen.add(sec + "." + line.split("=")[0].strip())
missing = [r["key"] for r in rows if r["key"] not in seen]
assert not missing, missing
PY
t "--defaults output checks" q "$cp" config check --config "$tmp/defaults.conf"

# a real file: values over the defaults, relative paths from its folder
mkdir -p "$tmp/etc"
cat > "$tmp/etc/coldpost.conf" <<'EOF'
[server]
hostname = relay.example.org
store = sqlite:../var/queue.db
[listen]
submission = 127.0.0.1:2587, [::1]:2587
submissions = 127.0.0.1:2465
[tls]
cert = tls/cert.pem
key = tls/key.pem
[submission]
trusted_networks = 127.0.0.0/8, ::1
[limits]
max_size = 10M   ; smaller
[routes]
example.com = [::1]:2525 tls=none
* = smart.example.net:587 tls=verify
[queue]
retry = 1m,2m,4m
expiry = 1h
EOF
out=$("$cp" config show --config "$tmp/etc/coldpost.conf"); rc=$?
t "show FILE exits 0" test $rc -eq 0
t "show: value from the file" grep -qx 'max_size = 10M' <<<"$out"
t "show: changed key marked" grep -qx '; default: 25M' <<<"$out"
t "show: unchanged default present" grep -qx 'max_recipients = 100' <<<"$out"
real=$(cd "$tmp" && pwd -P)
t "show: sqlite path made absolute" grep -qx "store = sqlite:$real/var/queue.db" <<<"$out"
t "show: cert path made absolute" grep -qx "cert = $real/etc/tls/cert.pem" <<<"$out"
t "show: IPv6 listener" grep -qx 'submission = 127.0.0.1:2587, \[::1\]:2587' <<<"$out"
t "show: routes section" grep -qx 'example.com = \[::1\]:2525 tls=none' <<<"$out"
t "show: default route port kept" grep -qx '\* = smart.example.net:587 tls=verify' <<<"$out"
# the dump reads back to the same thing (round trip through the CLI)
printf '%s\n' "$out" > "$tmp/dump.conf"
t "show output checks" q "$cp" config check --config "$tmp/dump.conf"
"$cp" config show --config "$tmp/dump.conf" | tail -n +2 > "$tmp/dump2.conf"
t "show of the show is the same" diff <(tail -n +2 "$tmp/dump.conf") "$tmp/dump2.conf"
j=$("$cp" config show --json --config "$tmp/etc/coldpost.conf")
t "--json rows" python3 - "$j" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
k = {r["key"]: r for r in o["keys"]}
assert o["file"].endswith("etc/coldpost.conf"), o["file"]
assert k["limits.max_size"]["value"] == "10M" and k["limits.max_size"]["default"] == "25M"
assert k["limits.max_size"]["changed"] is True and k["limits.max_size"]["live"] is True
assert k["limits.max_size"]["bounds"] == "1K..1G"
assert k["listen.submission"]["live"] is False
assert k["limits.max_recipients"]["changed"] is False
assert k["routes"]["value"] == {"example.com": "[::1]:2525 tls=none", "*": "smart.example.net:587 tls=verify"}, k["routes"]
assert k["delivery.tls"]["values"] == ["none", "opportunistic", "required", "verify"]
assert k["queue.retry"]["value"] == "1m,2m,4m"
for r in o["keys"]:
    assert r["summary"], r
PY

# check: every problem with file and line, exit 1
cat > "$tmp/bad.conf" <<'EOF'
[server]
hostname = relay.example.org
[limits]
max_size = 25X
max_sise = 1M
max_recipients = 0
[limit]
x = 1
[listen]
submission = 127.0.0.1
[submission]
trusted_networks = 10.0.0.1/8
[queue]
retry = 10m, 5m
oops
EOF
"$cp" config check --config "$tmp/bad.conf" > "$tmp/out" 2> "$tmp/err"; rc=$?
t "check bad file exits 1" test $rc -eq 1
t "check: nothing on stdout" test ! -s "$tmp/out"
for want in \
  "$tmp/bad.conf:4: [limits] max_size: '25X' is not a size (use 25M, 1G, ...)" \
  "$tmp/bad.conf:5: [limits] max_sise: unknown key (did you mean max_size?)" \
  "$tmp/bad.conf:6: [limits] max_recipients: '0' is below the minimum 1" \
  "$tmp/bad.conf:7: [limit]: unknown section (did you mean [limits]?)" \
  "$tmp/bad.conf:10: [listen] submission: '127.0.0.1' has no port (use 127.0.0.1:587)" \
  "$tmp/bad.conf:12: [submission] trusted_networks: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)" \
  "$tmp/bad.conf:14: [queue] retry: steps must not get shorter: 5m after 10m" \
  "$tmp/bad.conf:15: syntax error (expected [section] or key = value)"; do
  t "check says: ${want#"$tmp/"}" grep -qxF "$want" "$tmp/err"
done
t "check: 8 problems, in line order" test "$(wc -l < "$tmp/err")" -eq 8
t "check: lines ascending" bash -c "cut -d: -f2 '$tmp/err' | sort -nc"
t "check --json lists the errors" python3 - "$("$cp" config check --json --config "$tmp/bad.conf")" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
assert o["ok"] is False and len(o["errors"]) == 8, o
assert o["errors"][0].endswith(":4: [limits] max_size: '25X' is not a size (use 25M, 1G, ...)")
PY
"$cp" config check --json --config "$tmp/bad.conf" >/dev/null; rc=$?
t "check --json bad file exits 1" test $rc -eq 1
# a rule between keys, reported at the line that set it
printf '[tls]\ncert =\nkey =\n' > "$tmp/rule.conf"
t "check: rule with its line" grep -qxF "$tmp/rule.conf:2: [listen] submissions: implicit TLS needs tls.cert and tls.key" \
  <("$cp" config check --config "$tmp/rule.conf" 2>&1)
# show refuses a bad file too
"$cp" config show --config "$tmp/bad.conf" >/dev/null 2>&1; rc=$?
t "show bad file exits 1" test $rc -eq 1

# the files we ship
for f in "$here/docs/config/example.conf" "$here/config/demo.conf"; do
  out=$("$cp" config check --config "$f"); rc=$?
  t "check $(basename "$f") exits 0" test $rc -eq 0
  t "check $(basename "$f") says ok" test "$out" = "$f: ok"
done
t "check --json ok" python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["ok"] is True and o["errors"] == []' \
  "$("$cp" config check --json --config "$here/config/demo.conf")"
demo=$("$cp" config show --config "$here/config/demo.conf")
t "demo listens on loopback only" python3 - "$demo" <<'PY'
import sys
for line in sys.argv[1].splitlines():
    for key in ("submission =", "submissions =", "bounce =", "http ="):
        if line.startswith(key):
            for a in line.split("=", 1)[1].split(","):
                a = a.strip()
                assert not a or a.startswith("127.") or a.startswith("[::1]"), line
                if a:
                    assert int(a.rsplit(":", 1)[1]) >= 1024, line
PY
t "demo store under the repo" grep -qx "store = sqlite:$here/run/demo/queue.db" <<<"$demo"

# errors of use and of the system
"$cp" config check --config "$tmp/nope.conf" 2> "$tmp/err"; rc=$?
t "missing file exits 3" test $rc -eq 3
t "missing file says so" grep -q "nope.conf: cannot read: No such file or directory" "$tmp/err"
"$cp" config >/dev/null 2>&1; rc=$?
t "no subcommand exits 2" test $rc -eq 2
"$cp" config frob >/dev/null 2>&1; rc=$?
t "unknown subcommand exits 2" test $rc -eq 2
"$cp" config show --bogus >/dev/null 2>&1; rc=$?
t "unknown option exits 2" test $rc -eq 2
"$cp" config check --defaults >/dev/null 2>&1; rc=$?
t "check --defaults exits 2" test $rc -eq 2
"$cp" config show --defaults --config x >/dev/null 2>&1; rc=$?
t "--defaults with --config exits 2" test $rc -eq 2
"$cp" config check "$tmp/bad.conf" >/dev/null 2>&1; rc=$?
t "a file without --config exits 2" test $rc -eq 2
t "--help exits 0" q "$cp" config --help
t "show --help exits 0" q "$cp" config show --help
t "listed in coldpost --help" grep -q '^  config ' <<<"$("$cp" --help)"

echo "config_cli: $fails failed"
[ "$fails" -eq 0 ]
