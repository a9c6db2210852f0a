#!/usr/bin/env bash
# Proves: the management commands work as coldpost-tenant(1), -pool, -domain,
# -mailbox, -queue and -status say, against a temp SQLite store: add, list,
# show, rm of tenants, IPs, domains (DKIM key made, or read from a file, and
# its TXT record printed and checked against the key) and mailboxes; the
# refusals (duplicate names, bad IP, bad address, a mailbox on another
# tenant's domain, a tenant with mailboxes removed without --force, an
# option that does not apply) with exit 1 or 2 and a message naming the
# problem; passwords set and verified (never printed); the queue commands on
# messages put there by cp-store-seed (hold, release, retry, delete by
# message and by recipient id); status counts; --json everywhere; the store
# found through --config.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cp=${COLDPOST:-$here/build/coldpost}
bdir=${BUILD_DIR:-$(dirname "$cp")}
seed=$bdir/tests/cp-store-seed
fails=0
t() { # name, command...: the command must succeed
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
rc_is() { # want, command...: the command's exit code must be want
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "  (exit $got, want $want: $*)"; cat "$tmp/err" >&2; return 1
  fi
}
has() { grep -q -- "$1" "$2"; } # pattern, file
js() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$tmp/out')); $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dsn="sqlite:$tmp/store.db"
S=(--store "$dsn")

# ---- tenants
t "tenant add acme" rc_is 0 "$cp" tenant add acme --daily-cap 50 "${S[@]}"
t "tenant add says id" has "tenant acme added (id 1)" "$tmp/out"
t "tenant add beta (json)" rc_is 0 "$cp" tenant add beta "${S[@]}" --json
t "tenant json name and cap" js 'assert d["name"]=="beta" and d["daily_cap"]==0 and d["id"]==2'
t "duplicate tenant refused (exit 1)" rc_is 1 "$cp" tenant add acme "${S[@]}"
t "duplicate tenant message" has "tenant acme already exists" "$tmp/err"
t "duplicate tenant, other case, refused" rc_is 1 "$cp" tenant add ACME "${S[@]}"
t "bad tenant name refused" rc_is 1 "$cp" tenant add "a b" "${S[@]}"
t "bad --daily-cap is usage (exit 2)" rc_is 2 "$cp" tenant add gamma --daily-cap x "${S[@]}"
t "option that does not apply is usage" rc_is 2 "$cp" tenant add gamma --ehlo x "${S[@]}"
t "unknown subcommand is usage" rc_is 2 "$cp" tenant frob "${S[@]}"
t "missing argument is usage" rc_is 2 "$cp" tenant show "${S[@]}"
t "tenant show unknown: exit 1" rc_is 1 "$cp" tenant show nosuch "${S[@]}"
t "tenant show unknown: message" has "no tenant 'nosuch'" "$tmp/err"

# ---- pools
t "pool add" rc_is 0 "$cp" pool add acme 127.0.0.2 --ehlo mx1.acme.example "${S[@]}"
t "pool add IPv6" rc_is 0 "$cp" pool add acme 2001:db8::7 --ehlo mx6.acme.example "${S[@]}"
t "pool add without --ehlo is usage" rc_is 2 "$cp" pool add acme 127.0.0.3 "${S[@]}"
t "bad IP refused (exit 1)" rc_is 1 "$cp" pool add acme 300.1.1.1 --ehlo x.example "${S[@]}"
t "bad IP message" has "not an IPv4 or IPv6 address" "$tmp/err"
t "same IP for another tenant refused" rc_is 1 "$cp" pool add beta 127.0.0.2 --ehlo b.example "${S[@]}"
t "pool for unknown tenant refused" rc_is 1 "$cp" pool add nosuch 127.0.0.9 --ehlo b.example "${S[@]}"
t "pool list" rc_is 0 "$cp" pool list "${S[@]}"
t "pool list row aligned" grep -Eq '^127\.0\.0\.2 +acme +mx1\.acme\.example ' "$tmp/out"
t "pool list has header" grep -Eq '^IP +TENANT +EHLO +CREATED$' "$tmp/out"
t "pool list TENANT (json)" rc_is 0 "$cp" pool list beta "${S[@]}" --json
t "beta has no IPs" js 'assert d==[]'
t "pool show" rc_is 0 "$cp" pool show 2001:db8::7 "${S[@]}" --json
t "pool show json" js 'assert d["tenant"]=="acme" and d["ehlo"]=="mx6.acme.example"'
t "pool rm" rc_is 0 "$cp" pool rm 2001:db8::7 "${S[@]}"
t "pool rm again: not found" rc_is 1 "$cp" pool rm 2001:db8::7 "${S[@]}"

# ---- domains
t "domain add (RSA made)" rc_is 0 "$cp" domain add acme.example --tenant acme --selector s1 "${S[@]}"
t "domain add prints the record owner" has "s1._domainkey.acme.example. IN TXT \"v=DKIM1; k=rsa; p=" "$tmp/out"
t "domain add ed25519 (json)" rc_is 0 "$cp" domain add beta.example --tenant beta --generate ed25519 "${S[@]}" --json
t "ed25519 json record" js 'assert d["alg"]=="ed25519-sha256" and d["dkim_record"].startswith("v=DKIM1; k=ed25519; p=") and d["dkim_name"].startswith("s")'
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/k.pem" 2>/dev/null
t "domain add --key FILE" rc_is 0 "$cp" domain add other.example --tenant beta --selector k1 --key "$tmp/k.pem" "${S[@]}" --json
t "--key keeps the path" js "assert d['key_path']=='$tmp/k.pem'"
want=$(openssl pkey -in "$tmp/k.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
t "record's p= is the file's public key" js "assert d['dkim_record'].endswith('p=$want')"
t "domain add RSA 2048 by default" bash -c '"$0" domain show acme.example --store "$1" --json > "$2/d.json" &&
  /usr/bin/python3 -c "
import json,base64,subprocess,sys
d=json.load(open(sys.argv[1]))
p=d[\"dkim_record\"].split(\"p=\")[1]
out=subprocess.run([\"openssl\",\"pkey\",\"-pubin\",\"-inform\",\"DER\",\"-text\",\"-noout\"],input=base64.b64decode(p),capture_output=True).stdout
assert b\"2048 bit\" in out, out
" "$2/d.json"' "$cp" "$dsn" "$tmp"
t "domain show human" rc_is 0 "$cp" domain show acme.example "${S[@]}"
t "domain show: selector line" grep -Eq '^selector +s1$' "$tmp/out"
t "domain show: record split in 255-byte strings" grep -Eq '^s1\._domainkey\.acme\.example\. IN TXT "[^"]{255}" "[^"]+"$' "$tmp/out"
t "duplicate domain refused" rc_is 1 "$cp" domain add ACME.example --tenant beta "${S[@]}"
t "duplicate domain message" has "already exists" "$tmp/err"
t "--key and --generate together is usage" rc_is 2 "$cp" domain add x.example --tenant acme --key "$tmp/k.pem" --generate "${S[@]}"
t "--generate bad type is usage" rc_is 2 "$cp" domain add x.example --tenant acme --generate=dsa "${S[@]}"
t "missing --key file: cannot read (exit 3)" rc_is 3 "$cp" domain add x.example --tenant acme --key "$tmp/none.pem" "${S[@]}"
t "bad domain name refused" rc_is 1 "$cp" domain add "bad..example" --tenant acme "${S[@]}"
t "domain list --tenant beta" rc_is 0 "$cp" domain list --tenant beta "${S[@]}"
t "domain list shows beta's two" test "$(grep -c ' beta ' "$tmp/out")" -eq 2
t "domain list: not acme's" bash -c "! grep -q acme.example $tmp/out"

# ---- mailboxes
t "mailbox add with --password-stdin" bash -c 'echo "s3cret pass" | "$0" mailbox add ann@acme.example --tenant acme --password-stdin --tz Europe/Paris --store "$1" > "$2/out"' "$cp" "$dsn" "$tmp"
t "mailbox add says password set" has "password set" "$tmp/out"
t "password not printed" bash -c "! grep -q s3cret $tmp/out"
t "mailbox add --password, json" rc_is 0 "$cp" mailbox add bob@acme.example --tenant acme --password hunter22 --daily-cap 10 "${S[@]}" --json
t "mailbox json: no hash, cap 10" js 'assert d["password_set"] and d["daily_cap"]==10 and "pwhash" not in d and "hunter22" not in json.dumps(d)'
t "mailbox without password" rc_is 0 "$cp" mailbox add cat@beta.example --tenant beta "${S[@]}"
t "duplicate mailbox refused" rc_is 1 "$cp" mailbox add ANN@acme.example --tenant acme "${S[@]}"
t "another tenant's domain refused (exit 1)" rc_is 1 "$cp" mailbox add eve@beta.example --tenant acme "${S[@]}"
t "another tenant's domain message" has "domain beta.example belongs to tenant 'beta', not 'acme'" "$tmp/err"
t "unknown domain refused" rc_is 1 "$cp" mailbox add eve@nowhere.example --tenant acme "${S[@]}"
t "unknown domain message" has "not a sending domain" "$tmp/err"
t "bad address refused" rc_is 1 "$cp" mailbox add not-an-address --tenant acme "${S[@]}"
t "bad address message" has "mailbox address" "$tmp/err"
t "bad time zone refused" rc_is 1 "$cp" mailbox add tz@acme.example --tenant acme --tz "Nowhere/../x" "${S[@]}"
t "empty password refused" bash -c 'printf "\n" | "$0" mailbox add emp@acme.example --tenant acme --password-stdin --store "$1" 2>/dev/null; test $? -eq 1' "$cp" "$dsn"
t "refused add left no mailbox" rc_is 1 "$cp" mailbox show emp@acme.example "${S[@]}"
t "check-password right" bash -c 'echo "s3cret pass" | "$0" mailbox check-password ann@acme.example --password-stdin --store "$1" >/dev/null' "$cp" "$dsn"
t "check-password wrong: exit 1" bash -c 'echo "wrong" | "$0" mailbox check-password ann@acme.example --password-stdin --store "$1" >/dev/null; test $? -eq 1' "$cp" "$dsn"
t "passwd (stdin, CRLF line)" bash -c 'printf "n3w-pass\r\n" | "$0" mailbox passwd ann@acme.example --store "$1" >/dev/null' "$cp" "$dsn"
t "old password no longer matches" bash -c 'echo "s3cret pass" | "$0" mailbox check-password ann@acme.example --store "$1" >/dev/null; test $? -eq 1' "$cp" "$dsn"
t "new password matches" rc_is 0 "$cp" mailbox check-password ann@acme.example --password n3w-pass "${S[@]}"
t "passwd for cat (had none)" rc_is 0 "$cp" mailbox passwd cat@beta.example --password kitty-1 "${S[@]}"
t "passwd unknown mailbox: exit 1" rc_is 1 "$cp" mailbox passwd nosuch@acme.example --password x "${S[@]}"
t "mailbox show" rc_is 0 "$cp" mailbox show ann@acme.example "${S[@]}"
t "mailbox show: tz" grep -Eq '^tz +Europe/Paris$' "$tmp/out"
t "mailbox show: password set, no hash" bash -c "grep -Eq '^password +set$' $tmp/out && ! grep -q argon2 $tmp/out"
t "mailbox show: usage today against the ramped cap (1 on day 1, default 2)" grep -Eq "^today +0 of 1 \(ramping up\)$" "$tmp/out"
t "mailbox show: the ramp stage" grep -Eq "^ramp stage +day 1; ramp" "$tmp/out"
t "mailbox list --tenant acme" rc_is 0 "$cp" mailbox list --tenant acme "${S[@]}" --json
t "acme has ann and bob" js 'assert sorted(m["address"] for m in d)==["ann@acme.example","bob@acme.example"]'
t "mailbox list (human)" rc_is 0 "$cp" mailbox list "${S[@]}"
t "mailbox list: 3 rows + header" test "$(wc -l < "$tmp/out")" -eq 4
t "mailbox rm" rc_is 0 "$cp" mailbox rm bob@acme.example "${S[@]}"
t "mailbox rm again: exit 1" rc_is 1 "$cp" mailbox rm bob@acme.example "${S[@]}"
t "domain rm with mailboxes refused" rc_is 1 "$cp" domain rm beta.example "${S[@]}"
t "domain rm message says --force" has "force" "$tmp/err"
t "domain rm other.example (no mailboxes)" rc_is 0 "$cp" domain rm other.example "${S[@]}"

# ---- tenant list / show / rm
t "tenant list" rc_is 0 "$cp" tenant list "${S[@]}"
t "tenant list: acme row" grep -Eq '^acme +1 +50 +1 +1 +1 ' "$tmp/out"
t "tenant show acme (json)" rc_is 0 "$cp" tenant show acme "${S[@]}" --json
t "tenant show lists its parts" js 'assert [m["address"] for m in d["mailboxes"]]==["ann@acme.example"] and d["pool"][0]["ip"]=="127.0.0.2" and d["domains"][0]["domain"]=="acme.example"'

# ---- the queue, seeded
t "seed helper built" test -x "$seed"
m1=$("$seed" "$dsn" message 1 a@x.example b@y.example)
m2=$("$seed" "$dsn" message 1 --hold c@z.example)
m3=$("$seed" "$dsn" message 2 d@w.example)
t "seeded 3 messages" test "$m1" = 1 -a "$m2" = 2 -a "$m3" = 3
"$seed" "$dsn" attempt 1 deferred 451 4.7.1 greylisting >/dev/null
"$seed" "$dsn" attempt 2 bounced 550 5.1.1 mailbox >/dev/null
t "queue list" rc_is 0 "$cp" queue list "${S[@]}"
t "queue list: header" grep -Eq '^RCPT +MSG +STATE +TRIES +NEXT +RECIPIENT +LAST$' "$tmp/out"
t "queue list: deferred row with its answer" grep -Eq '^1 +1 +deferred +1 .* a@x\.example +451 4\.7\.1 greylisting$' "$tmp/out"
t "queue list: held row" grep -Eq '^3 +2 +held +0 ' "$tmp/out"
t "queue list --state bounced" rc_is 0 "$cp" queue list --state bounced "${S[@]}" --json
t "only the bounced one" js 'assert [r["id"] for r in d]==[2] and d[0]["last_cause"]=="mailbox"'
t "queue list --limit 2" rc_is 0 "$cp" queue list --limit 2 "${S[@]}" --json
t "two rows" js 'assert len(d)==2'
t "queue list --tenant beta" rc_is 0 "$cp" queue list --tenant beta "${S[@]}" --json
t "beta's one recipient" js 'assert [r["address"] for r in d]==["d@w.example"]'
t "--state bad is usage" rc_is 2 "$cp" queue list --state frozen "${S[@]}"
t "queue show" rc_is 0 "$cp" queue show "$m1" "${S[@]}"
t "queue show: fields" bash -c "grep -Eq '^tenant +acme$' $tmp/out && grep -Eq '^message-id +<seed@acme.example>$' $tmp/out"
t "queue show: attempts table" grep -Eq ' 2 +bounced +mx\.example\.net +mailbox +seeded reply$' "$tmp/out"
t "queue show json" rc_is 0 "$cp" queue show "$m1" "${S[@]}" --json
t "queue show json: 2 rcpts, 2 attempts, 1 open" js 'assert len(d["recipients"])==2 and len(d["attempts"])==2 and d["open"]==1'
t "queue show unknown: exit 1" rc_is 1 "$cp" queue show 99 "${S[@]}"
t "queue show non-number: usage" rc_is 2 "$cp" queue show abc "${S[@]}"
t "hold message 1" rc_is 0 "$cp" queue hold "$m1" "${S[@]}"
t "hold changed 1 (the bounced one is final)" has "message 1: 1 recipient held" "$tmp/out"
t "rcpt 1 is held" bash -c '"$0" queue list --state held --store "$1" --json | /usr/bin/python3 -c "import json,sys; assert sorted(r[\"id\"] for r in json.load(sys.stdin))==[1,3]"' "$cp" "$dsn"
t "release --rcpt 3" rc_is 0 "$cp" queue release 3 --rcpt "${S[@]}" --json
t "release json" js 'assert d=={"rcpt":3,"action":"release","changed":1}'
t "rcpt 3 queued again" bash -c '"$0" queue list --state queued --store "$1" --json | /usr/bin/python3 -c "import json,sys; assert 3 in [r[\"id\"] for r in json.load(sys.stdin)]"' "$cp" "$dsn"
t "release message 1" rc_is 0 "$cp" queue release "$m1" "${S[@]}"
t "released 1" has "1 recipient released" "$tmp/out"
t "retry message 1" rc_is 0 "$cp" queue retry "$m1" "${S[@]}" --json
t "retry json" js 'assert d["action"]=="retry" and d["message"]==1'
t "delete message 2" rc_is 0 "$cp" queue delete "$m2" "${S[@]}"
t "deleted 1" has "message 2: 1 recipient cancelled" "$tmp/out"
t "delete unknown recipient: exit 1" rc_is 1 "$cp" queue delete 99 --rcpt "${S[@]}"
t "delete unknown recipient message" has "no recipient 99" "$tmp/err"
t "hold unknown message: exit 1" rc_is 1 "$cp" queue hold 99 "${S[@]}"

# ---- status
t "status" rc_is 0 "$cp" status "${S[@]}"
t "status: cancelled 1" grep -Eq '^  cancelled +1$' "$tmp/out"
t "status: greylisting row" grep -Eq '^  greylisting +0 +1 +0 +0 +1$' "$tmp/out"
t "status: mailboxes today, ann ramping on day 1 (cap 1)" grep -Eq "^  ann@acme.example +0 +1 +day 1, ramping$" "$tmp/out"
t "status json" rc_is 0 "$cp" status "${S[@]}" --json
t "status json counts" js 'q=d["queue"]; assert q["bounced"]==1 and q["cancelled"]==1 and q["queued"]+q["deferred"]==2 and {a["cause"]:a["bounced"] for a in d["attempts"]}["mailbox"]==1'
t "status json: mailboxes and policy decisions" js 'assert any(m["address"]=="ann@acme.example" and m["ramping"] for m in d["mailboxes_today"]) and d["provider_events"]==[]'
t "status --since 1m still sees the attempts" rc_is 0 "$cp" status --since 1m "${S[@]}" --json
t "two causes" js 'assert len(d["attempts"])==2'
t "status --since bad is usage" rc_is 2 "$cp" status --since soon "${S[@]}"
t "status --help" rc_is 0 "$cp" status --help

# ---- tenant rm: refused with mailboxes, --force cancels its queue
t "tenant rm with mailboxes refused (exit 1)" rc_is 1 "$cp" tenant rm acme "${S[@]}"
t "tenant rm message" has "tenant 'acme' has 1 mailbox: rm --force removes them too" "$tmp/err"
t "tenant still there" rc_is 0 "$cp" tenant show acme "${S[@]}"
t "tenant rm --force" rc_is 0 "$cp" tenant rm acme --force "${S[@]}"
t "tenant rm --force says what went" has "tenant acme removed (with 1 mailbox, 1 domain, 1 IP)" "$tmp/out"
t "its mailbox is gone" rc_is 1 "$cp" mailbox show ann@acme.example "${S[@]}"
t "its IP is gone" rc_is 1 "$cp" pool show 127.0.0.2 "${S[@]}"
t "its waiting recipient was cancelled, beta's stays" bash -c '"$0" status --store "$1" --json | /usr/bin/python3 -c "import json,sys; q=json.load(sys.stdin)[\"queue\"]; assert (q[\"queued\"],q[\"deferred\"],q[\"held\"],q[\"cancelled\"])==(1,0,0,2), q"' "$cp" "$dsn"
t "tenant without mailboxes removed without --force" bash -c '"$0" tenant add empty --store "$1" >/dev/null && "$0" tenant rm empty --store "$1" >/dev/null' "$cp" "$dsn"

# ---- the store through --config, and without one
mkdir -p "$tmp/etc"
printf '[server]\nstore = sqlite:../var/cfg.db\n' > "$tmp/etc/coldpost.conf"
mkdir -p "$tmp/var"
t "--config FILE finds the store" rc_is 0 "$cp" tenant add viaconf --config "$tmp/etc/coldpost.conf"
t "store file made beside the config" test -f "$tmp/var/cfg.db"
t "--config listing" rc_is 0 "$cp" tenant list --config "$tmp/etc/coldpost.conf"
t "--config listing has it" has viaconf "$tmp/out"
t "missing config file: exit 3" rc_is 3 "$cp" tenant list --config "$tmp/none.conf"
t "missing config message suggests --store" has "give --store DSN" "$tmp/err"
t "bad DSN: error" bash -c '"$0" tenant list --store "nosuch:/x" >/dev/null 2>&1; test $? -ne 0' "$cp"
for g in tenant pool domain mailbox queue; do
  t "$g --help (exit 0)" rc_is 0 "$cp" $g --help
  t "$g --help lists --store" has "store DSN" "$tmp/out"
  t "$g without subcommand is usage" rc_is 2 "$cp" $g
done
t "coldpost --help lists the commands" bash -c '"$0" --help | grep -Eq "^  status +queue by state"' "$cp"
t "status with an argument is usage" rc_is 2 "$cp" status extra "${S[@]}"
t "man pages exist" bash -c "for c in tenant pool domain mailbox queue status; do test -s $here/docs/man/coldpost-\$c.1 || exit 1; done"

if [ "$fails" -gt 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
