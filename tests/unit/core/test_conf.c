/*
 * Unit tests: the configuration table, the file reader, the rules between
 * keys, the dump round-trip and the key documentation (src/core/conf.c,
 * conf_keys.c; docs/config/).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/conf.h"
#include "cptest.h"

/* Every key away from its default (the test below checks that it is). */
static const char full_conf[] =
    "# every key set\n"
    "[server]\n"
    "hostname = relay.example.org\n"
    "user = mailer\n"
    "store = sqlite:/srv/coldpost/q.db\n"
    "[listen]\n"
    "submission = 127.0.0.1:2587, [::1]:2587\n"
    "submissions = 127.0.0.2:2465\n"
    "bounce = 127.0.0.3:2525\n"
    "http = 127.0.0.1:8080\n"
    "[tls]\n"
    "cert = /etc/c.pem\n"
    "key = \"/etc/k ;x.pem\"    ; quoted: ' ;' would start a comment\n"
    "min_version = TLSv1.3\n"
    "[submission]\n"
    "trusted_networks = 127.0.0.0/8, ::1, 2001:db8::/32\n"
    "auth_without_tls = on\n"
    "[limits]\n"
    "max_size = 10M\n"
    "max_recipients = 5\n"
    "max_line_length = 1000\n"
    "connections = 50\n"
    "connections_per_ip = 5\n"
    "auth_failures = 2\n"
    "auth_failure_delay = 500ms\n"
    "bad_commands = 3\n"
    "commands_before_auth = 4\n"
    "idle_timeout = 1m30s\n"
    "data_timeout = 2m\n"
    "[delivery]\n"
    "mx_port = 2526\n"
    "tls = verify\n"
    "connect_timeout = 5s\n"
    "command_timeout = 1m\n"
    "data_timeout = 3m\n"
    "connections_per_destination = 2\n"
    "connections_per_source_ip = 3\n"
    "messages_per_connection = 7\n"
    "[routes]\n"
    "Example.COM = [::1]:2525 tls=none\n"
    ".example.org = smtp.example.net:587\n"
    "* = 127.0.0.1\n"
    "[queue]\n"
    "retry = 1m, 1m, 2m\n"
    "expiry = 1d12h\n"
    "retention = 0\n"
    "[dkim]\n"
    "algorithm = ed25519-sha256\n"
    "[bounce]\n"
    "domain = b.example.org\n"
    "verp = off\n"
    "verp_prefix = x.\n"
    "unsubscribe_url = https://relay.example.org:8443/u\n"
    "[log]\n"
    "file = /var/log/cp.log\n"
    "json = yes\n"
    "debug = all\n"
    "[mailbox]\n"
    "daily_cap = 0\n"
    "cap_action = refuse\n"
    "ramp = 1, 2,3\n"
    "[throttle]\n"
    "start_rate = 10\n"
    "max_rate = 0\n"
    "ramp_time = 7d\n"
    "window = 30m\n"
    "refusal_share = 30\n"
    "min_answers = 5\n"
    "cooldown = 2d\n"
    "pause = 12h\n"
    "slowdown = 5m\n"
    "providers = acme .acme.test; other mx.other.test\n"
    "[cost]\n"
    "tiers = 1:200, 10:150,100:150\n"
    "minimum_cents = 0\n"
    "currency = EUR\n"
    "[webhook]\n"
    "timeout = 30s\n"
    "backoff_base = 1m\n"
    "backoff_max = 1h\n"
    "max_attempts = 20\n"
    "concurrency = 8\n";

static int
load(cp_conf *c, const char *text, cp_buf *diags, cp_err *err)
{
	return cp_conf_load_mem(c, text, strlen(text), "coldpost.conf", NULL,
	    diags, err);
}

/* The problems a file has, one per line ("" when it loads). */
static char *
problems(const char *text)
{
	cp_conf c;
	cp_buf d;
	cp_err err = { 0 };
	int rc;

	cp_buf_init(&d, 1 << 20);
	rc = load(&c, text, &d, &err);
	if (rc == CP_OK) {
		cp_conf_clear(&c);
		cp_buf_adds(&d, "");
	} else {
		CP_CHECK(d.len > 0, "rc %d without diagnostics", rc);
		CP_CHECK(strncmp(d.data, err.msg, strlen(err.msg) > 200 ? 200 :
		    strlen(err.msg)) == 0, "err '%s' is not the first '%s'",
		    err.msg, d.data);
	}
	return cp_buf_steal(&d);
}

static void
check_problem(const char *text, const char *want)
{
	char *p = problems(text);

	CP_CHECK(p != NULL && strstr(p, want) != NULL,
	    "problems '%s' lack '%s'", p ? p : "(none)", want);
	cp_free(p);
}

CP_TEST(conf_table)
{
	size_t n;
	const cp_conf_key *k = cp_conf_keys(&n);

	CP_CHECK(n >= 40, "only %zu keys", n);
	for (size_t i = 0; i < n; i++) {
		CP_CHECK(k[i].summary != NULL && k[i].summary[0] != '\0',
		    "%s: no summary", k[i].name);
		CP_CHECK(cp_conf_find_key(k[i].name) == &k[i], "%s: found "
		    "another row", k[i].name);
		CP_CHECK(k[i].min <= k[i].max, "%s: bounds", k[i].name);
		CP_CHECK((k[i].type == CP_CONF_ENUM ||
		    k[i].type == CP_CONF_ENUMSET) == (k[i].values != NULL),
		    "%s: values only for enums", k[i].name);
		for (size_t j = 0; j < i; j++) { /* sections stay together */
			size_t si = strcspn(k[i].name, ".");
			size_t sj = strcspn(k[j].name, ".");

			if (si == sj && strncmp(k[i].name, k[j].name, si) == 0)
				CP_CHECK(strncmp(k[i - 1].name, k[i].name, si) ==
				    0, "%s: its section is split", k[i].name);
		}
	}
	CP_CHECK(cp_conf_find_key("limits.nope") == NULL, "unknown key found");
}

CP_TEST(conf_defaults)
{
	size_t n;
	const cp_conf_key *k = cp_conf_keys(&n);
	cp_conf c;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_conf_init(&c, &err), CP_OK);
	/* the text of each default is its canonical form */
	for (size_t i = 0; i < n; i++) {
		cp_buf b;

		cp_buf_init(&b, 4096);
		CP_CHECK_INT(cp_conf_format(&c, &k[i], &b), CP_OK);
		CP_CHECK(strcmp(b.data ? b.data : "", k[i].def) == 0,
		    "%s: default '%s' is written '%s'", k[i].name, k[i].def,
		    b.data ? b.data : "");
		cp_buf_free(&b);
	}
	CP_CHECK_INT(c.limits.max_size, 25 << 20);
	CP_CHECK_INT(c.mailbox.daily_cap, 2);
	CP_CHECK_INT(c.mailbox.cap_action, CP_CONF_CAP_DEFER);
	CP_CHECK_INT(c.queue.expiry, 5LL * 86400 * 1000);
	CP_CHECK_INT(c.queue.retention, 7LL * 86400 * 1000);
	CP_CHECK_INT(c.queue.retry.n, 8);
	CP_CHECK_INT(c.delivery.mx_port, 25);
	CP_CHECK_INT(c.delivery.tls, CP_CONF_TLS_OPPORTUNISTIC);
	CP_CHECK_INT(c.submission.trusted_networks.n, 0); /* no open relay */
	CP_CHECK_INT(c.submission.auth_without_tls, 0);
	CP_CHECK_INT(c.listen.submission.n, 1);
	CP_CHECK_INT(c.listen.submission.v[0].port, 587);
	CP_CHECK_INT(c.listen.submissions.v[0].port, 465);
	CP_CHECK_STR(c.server.store, "sqlite:/var/lib/coldpost/queue.db");
	CP_CHECK_INT(c.routes.n, 0);
	CP_CHECK_INT(cp_conf_validate(&c, &err), CP_OK);
	cp_conf_clear(&c);
	cp_conf_clear(&c); /* cleared twice is fine */
}

CP_TEST(conf_load_every_key)
{
	cp_conf c, def;
	cp_buf d;
	cp_err err = { 0 };
	size_t n, nd;
	const cp_conf_key *k = cp_conf_keys(&n);
	const cp_conf_key *diff[128];

	cp_buf_init(&d, 1 << 16);
	CP_CHECK_INT(load(&c, full_conf, &d, &err), CP_OK);
	if (err.code != CP_OK) {
		cp_buf_free(&d);
		return;
	}
	CP_CHECK_INT(cp_conf_init(&def, NULL), CP_OK);
	nd = cp_conf_diff(&c, &def, diff, CP_NELEM(diff));
	CP_CHECK(nd == n, "%zu of %zu keys differ from the defaults: add the "
	    "missing ones to full_conf", nd, n);
	for (size_t i = 0, j = 0; i < n; i++) {
		if (j < nd && diff[j] == &k[i])
			j++;
		else
			CP_CHECK(0, "%s keeps its default", k[i].name);
	}
	CP_CHECK_STR(c.tls.key, "/etc/k ;x.pem");
	CP_CHECK_INT(c.limits.auth_failure_delay, 500);
	CP_CHECK_INT(c.limits.idle_timeout, 90000);
	CP_CHECK_INT(c.queue.expiry, 36LL * 3600 * 1000);
	CP_CHECK_INT(c.log.debug, (1u << (CP_CONF_DEBUG_HTTP + 1)) - 1);
	CP_CHECK_INT(c.log.json, 1);
	CP_CHECK_INT(c.routes.n, 3);
	if (c.routes.n == 3) {
		CP_CHECK_STR(c.routes.v[0].domain, "example.com");
		CP_CHECK_STR(c.routes.v[0].host, "::1");
		CP_CHECK_INT(c.routes.v[0].tls, CP_CONF_TLS_NONE);
		CP_CHECK_INT(c.routes.v[2].port, 25);
	}
	cp_conf_clear(&def);
	cp_conf_clear(&c);
	cp_buf_free(&d);
}

/* dump, read back: the same config, and the same dump */
static void
round_trip(const char *text, unsigned flags)
{
	cp_conf a, b;
	cp_buf d1, d2, diags;
	cp_err err = { 0 };
	const cp_conf_key *diff[8];
	size_t nd;

	cp_buf_init(&d1, 1 << 20);
	cp_buf_init(&d2, 1 << 20);
	cp_buf_init(&diags, 1 << 16);
	CP_CHECK_INT(load(&a, text, NULL, &err), CP_OK);
	if (err.code != CP_OK)
		return;
	CP_CHECK_INT(cp_conf_dump(&a, flags, &d1), CP_OK);
	CP_CHECK_INT(load(&b, d1.data, &diags, &err), CP_OK);
	if (err.code != CP_OK) {
		CP_CHECK(0, "dump does not load: %s\n%s", diags.data, d1.data);
		cp_conf_clear(&a);
		return;
	}
	nd = cp_conf_diff(&a, &b, diff, CP_NELEM(diff));
	CP_CHECK(nd == 0, "flags %u: %zu keys differ after the round trip, "
	    "first %s", flags, nd, nd ? diff[0]->name : "");
	CP_CHECK_INT(cp_conf_dump(&b, flags, &d2), CP_OK);
	CP_CHECK_STR(d2.data, d1.data);
	cp_conf_clear(&a);
	cp_conf_clear(&b);
	cp_buf_free(&d1);
	cp_buf_free(&d2);
	cp_buf_free(&diags);
}

CP_TEST(conf_dump_round_trip)
{
	round_trip(full_conf, 0);
	round_trip(full_conf, CP_CONF_DUMP_DOC | CP_CONF_DUMP_CHANGED);
	round_trip("", 0); /* the defaults */
	round_trip("", CP_CONF_DUMP_DOC);
	round_trip("[server]\nhostname =\nuser = \"\"\n[tls]\ncert = \" a\"\n"
		   "key = \"#k\"\n[log]\nfile = \";x\"\n", CP_CONF_DUMP_CHANGED);
}

CP_TEST(conf_dump_text)
{
	cp_conf c;
	cp_buf d;
	cp_err err = { 0 };

	cp_buf_init(&d, 1 << 20);
	CP_CHECK_INT(load(&c, "[limits]\nmax_size = 10240K\n[tls]\nkey = "
			      "\"/k ;1\"\n[routes]\nexample.com = h:26\n",
	    NULL, &err), CP_OK);
	if (err.code != CP_OK)
		return;
	CP_CHECK_INT(cp_conf_dump(&c, CP_CONF_DUMP_CHANGED, &d), CP_OK);
	CP_CHECK(strstr(d.data, "[limits]\n; default: 25M\nmax_size = 10M\n") !=
	    NULL, "%s", d.data);
	CP_CHECK(strstr(d.data, "\nmax_recipients = 100\n") != NULL, "%s",
	    d.data);
	CP_CHECK(strstr(d.data, "key = \"/k ;1\"\n") != NULL, "%s", d.data);
	CP_CHECK(strstr(d.data, "[routes]\n; default: (empty)\n"
				"example.com = h:25\n") == NULL &&
	    strstr(d.data, "example.com = h:26\n") != NULL, "%s", d.data);
	cp_buf_reset(&d);
	CP_CHECK_INT(cp_conf_dump(&c, CP_CONF_DUMP_DOC, &d), CP_OK);
	CP_CHECK(strstr(d.data, "; largest message accepted (the SIZE "
				"extension)\n; size, 1K..1G; live (SIGHUP)\n"
				"max_size = 10M\n") != NULL, "%s", d.data);
	CP_CHECK(strstr(d.data, "; addresses, at most 16; restart\n"
				"submission = 0.0.0.0:587\n") != NULL, "%s",
	    d.data);
	cp_conf_clear(&c);
	cp_buf_free(&d);
}

CP_TEST(conf_error_messages)
{
	/* the message names the file, line, section, key and the problem */
	check_problem("# 1\n[server]\nhostname = a.example\n\n; 5\n; 6\n"
		      "[limits]\nmax_recipients = 10\n\n\n\nmax_size = 25X\n",
	    "coldpost.conf:12: [limits] max_size: '25X' is not a size (use "
	    "25M, 1G, ...)\n");
	check_problem("[limits]\nmax_sise = 1M\n",
	    "coldpost.conf:2: [limits] max_sise: unknown key (did you mean "
	    "max_size?)");
	check_problem("[limits]\nmx_port = 26\n",
	    "coldpost.conf:2: [limits] mx_port: unknown key (mx_port is in "
	    "[delivery])");
	check_problem("[limits]\nfrobnicate = 1\n",
	    "coldpost.conf:2: [limits] frobnicate: unknown key\n");
	check_problem("[limit]\nmax_size = 1M\nmax_recipients = 2\n",
	    "coldpost.conf:1: [limit]: unknown section (did you mean "
	    "[limits]?)\n");
	{ /* reported once per section, at its header */
		char *p = problems("[frobs]\n; c\na = 1\nb = 2\n[frobs]\nc = 3\n"
				   "[limits]\nmax_size = 1X\n");

		CP_CHECK_STR(p, "coldpost.conf:1: [frobs]: unknown section\n"
				"coldpost.conf:8: [limits] max_size: '1X' is not "
				"a size (use 25M, 1G, ...)\n");
		cp_free(p);
	}
	check_problem("max_size = 1M\n", "coldpost.conf:1: max_size: outside "
					 "a section (put it under [section]) "
					 "(max_size is in [limits])");
	check_problem("[limits]\nmax_size = 1M\nmax_size = 2M\n",
	    "coldpost.conf:3: [limits] max_size: set twice (first on line 2)");
	check_problem("[limits]\nmax_size = 1X\nmax_size = 2M\n",
	    "coldpost.conf:3: [limits] max_size: set twice (first on line 2)");
	check_problem("[limits]\nmax_size = 2G\n",
	    "coldpost.conf:2: [limits] max_size: '2G' is above the maximum 1G");
	check_problem("[limits]\nmax_size = 1000\n",
	    "coldpost.conf:2: [limits] max_size: '1000' is below the minimum 1K");
	check_problem("[limits]\nidle_timeout = 2h\n",
	    "[limits] idle_timeout: '2h' is above the maximum 1h");
	check_problem("[limits]\nmax_recipients = 0\n",
	    "[limits] max_recipients: '0' is below the minimum 1");
	check_problem("[limits]\nmax_recipients =\n",
	    "[limits] max_recipients: '' is not a number");
	check_problem("[server]\nhostname = not a host\n",
	    "coldpost.conf:2: [server] hostname: 'not a host' is not a host "
	    "name");
	check_problem("[server]\nstore = mysql:x\n",
	    "[server] store: 'mysql:x' is not a store (use sqlite:");
	check_problem("[server]\nuser = Root\n", "[server] user: 'Root' is not "
						 "a user name");
	check_problem("[server]\nstore =\n",
	    "[server] store: must not be empty");
	check_problem("[server]\nhostname = a\"b\n", "holds a '\"'");
	check_problem("[server]\nhostname = \"a.example\n",
	    "coldpost.conf:2: [server] hostname: no closing '\"'");
	check_problem("[server]\nhostname = \"a.example\" x\n",
	    "text after the closing '\"'");
	check_problem("[tls]\nmin_version = TLSv1.1\n",
	    "[tls] min_version: 'TLSv1.1' is not one of TLSv1.2 or TLSv1.3");
	check_problem("[log]\ndebug = dns, nope\n",
	    "[log] debug: 'nope' is not one of conf, net,");
	check_problem("[listen]\nsubmission = 127.0.0.1\n",
	    "coldpost.conf:2: [listen] submission: '127.0.0.1' has no port "
	    "(use 127.0.0.1:587)");
	check_problem("[submission]\ntrusted_networks = 10.0.0.1/8\n",
	    "[submission] trusted_networks: '10.0.0.1/8' has host bits set "
	    "(did you mean 10.0.0.0/8?)");
	check_problem("[queue]\nretry = 1h, 5m\n",
	    "[queue] retry: steps must not get shorter: 5m after 1h");
	check_problem("[queue]\nretry =\n",
	    "[queue] retry: needs at least one duration");
	check_problem("[queue]\nretry = 8d\n",
	    "[queue] retry: '8d' is above the maximum 7d");
	check_problem("[routes]\nexample.com = a:25\nEXAMPLE.com. = b:25\n",
	    "coldpost.conf:3: [routes] example.com: set twice (first on line "
	    "2)");
	check_problem("[routes]\nexa mple = a\n",
	    "coldpost.conf:2: [routes] exa mple: 'exa mple' is not a domain");
	check_problem("[routes]\nexample.com = a:99999\n",
	    "[routes] example.com: 'a:99999': the port must be 1-65535");
	/* syntax errors come from inih, with their line, in line order */
	check_problem("[limits]\nmax_size = 1X\noops\n",
	    "coldpost.conf:2: [limits] max_size: '1X' is not a size (use 25M, "
	    "1G, ...)\ncoldpost.conf:3: syntax error (expected [section] or "
	    "key = value)\n");
	check_problem("[limits\nmax_size = 1M\n",
	    "coldpost.conf:1: syntax error");
	check_problem("[limits]\n= 5\n", "coldpost.conf:2: no key before '='");
}

CP_TEST(conf_reader_syntax)
{
	cp_conf c;
	cp_err err = { 0 };
	char *p;

	/* comments, blanks, CRLF, a BOM, name: value, spaces around names */
	CP_CHECK_INT(load(&c, "\xEF\xBB\xBF# c\r\n; c\r\n  [ limits ]  \r\n"
			      "  max_size = 1M ; trailing\r\n"
			      "max_recipients: 7 # also a comment\r\n"
			      "\r\n[server]\nhostname=a.example\n", NULL, &err),
	    CP_OK);
	if (err.code == CP_OK) {
		CP_CHECK_INT(c.limits.max_size, 1 << 20);
		CP_CHECK_INT(c.limits.max_recipients, 7);
		/* ';' without a blank before it is part of the value */
		cp_conf_clear(&c);
	}
	check_problem("[server]\nhostname=a.example;no-comment\n",
	    "'a.example;no-comment' is not a host name");
	/* an indented line is a key, not a continuation */
	CP_CHECK_INT(load(&c, "[limits]\nmax_size = 1M\n    max_recipients = "
			      "9\n", NULL, &err), CP_OK);
	if (err.code == CP_OK) {
		CP_CHECK_INT(c.limits.max_recipients, 9);
		cp_conf_clear(&c);
	}
	/* a line too long, a NUL byte */
	{
		size_t n = CP_CONF_LINE_MAX + 100;
		char *big = cp_malloc(n + 64);

		memcpy(big, "[server]\nhostname = ", 20);
		memset(big + 20, 'a', n);
		memcpy(big + 20 + n, "\n[limits]\nmax_size = 1X\n", 25);
		p = problems(big);
		CP_CHECK(strstr(p, "coldpost.conf:2: line is longer than 16384 "
				   "bytes\ncoldpost.conf:4: [limits] max_size")
		    != NULL, "%s", p);
		cp_free(p);
		cp_free(big);
	}
	{
		static const char nul[] = "[limits]\nmax_size = 1\0M\n"
					  "max_recipients = 0\n";
		cp_buf d;

		cp_buf_init(&d, 4096);
		CP_CHECK_INT(cp_conf_load_mem(&c, nul, sizeof(nul) - 1, "f",
		    NULL, &d, &err), CP_ESYNTAX);
		CP_CHECK(d.data && strstr(d.data, "f:2: holds a NUL byte\n"
						  "f:3: [limits] max_recipients"),
		    "%s", d.data ? d.data : "");
		cp_buf_free(&d);
	}
	/* many problems: the first 50, then a count */
	{
		cp_buf t;

		cp_buf_init(&t, 1 << 20);
		cp_buf_adds(&t, "[limits]\n");
		for (int i = 0; i < 70; i++)
			cp_buf_addf(&t, "bad%d = 1\n", i);
		p = problems(t.data);
		CP_CHECK(strstr(p, "coldpost.conf:51: [limits] bad49") != NULL &&
		    strstr(p, "bad50") == NULL &&
		    strstr(p, "coldpost.conf: 20 more problems not shown\n"),
		    "%s", p);
		cp_free(p);
		cp_buf_free(&t);
	}
}

CP_TEST(conf_rules)
{
	check_problem("[tls]\ncert = /c.pem\nkey =\n",
	    "coldpost.conf:3: [tls] key: is empty but tls.cert is set");
	check_problem("[tls]\ncert =\nkey = /k.pem\n[listen]\nsubmissions =\n",
	    "coldpost.conf:2: [tls] cert: is empty but tls.key is set");
	check_problem("[tls]\ncert =\nkey =\n",
	    "coldpost.conf:2: [listen] submissions: implicit TLS needs tls.cert "
	    "and tls.key");
	check_problem("[listen]\nsubmission =\nsubmissions =\n",
	    "coldpost.conf:2: [listen] submission: no submission listener");
	check_problem("[listen]\nsubmission = 127.0.0.1:587\nbounce = "
		      "127.0.0.1:587\n",
	    "coldpost.conf:3: [listen] bounce: 127.0.0.1:587 clashes with "
	    "submission in listen.submission");
	check_problem("[listen]\nhttp = 127.0.0.1:465\n",
	    "[listen] http: 127.0.0.1:465 clashes with submissions");
	check_problem("[listen]\nsubmission = [::]:587\nbounce = [::1]:587\n",
	    "[listen] bounce: [::1]:587 clashes");
	check_problem("[limits]\nconnections = 10\n",
	    "coldpost.conf:2: [limits] connections_per_ip: 20 is more than "
	    "limits.connections (10)");
	check_problem("[limits]\nauth_failure_delay = 10s\nidle_timeout = 5s\n",
	    "coldpost.conf:2: [limits] auth_failure_delay: must be shorter "
	    "than limits.idle_timeout");
	check_problem("[queue]\nretry = 1h\nexpiry = 30m\n",
	    "coldpost.conf:3: [queue] expiry: 30m is not longer than the first "
	    "retry step 1h");
	{ /* families do not clash: IPv6 sockets are IPv6-only */
		char *p = problems("[listen]\nsubmission = 0.0.0.0:587\n"
				   "bounce = [::]:587\n");

		CP_CHECK_STR(p, "");
		cp_free(p);
	}
	{ /* the same rules without a file */
		cp_conf c;
		cp_err err = { 0 };

		cp_conf_init(&c, NULL);
		CP_CHECK_INT(cp_conf_set(&c, "tls.cert", "", &err), CP_OK);
		CP_CHECK_INT(cp_conf_validate(&c, &err), CP_EINVAL);
		CP_CHECK_STR(err.msg, "[tls] cert: is empty but tls.key is set "
				      "(a key needs its certificate)");
		cp_conf_clear(&c);
	}
}

CP_TEST(conf_set)
{
	cp_conf c;
	cp_err err = { 0 };
	const cp_conf_route *r;

	CP_CHECK_INT(cp_conf_init(&c, &err), CP_OK);
	CP_CHECK_INT(cp_conf_set(&c, "limits.max_size", "10M", &err), CP_OK);
	CP_CHECK_INT(c.limits.max_size, 10 << 20);
	CP_CHECK_INT(cp_conf_set(&c, "limits.max_size", "25X", &err),
	    CP_ESYNTAX);
	CP_CHECK_STR(err.msg, "limits.max_size: '25X' is not a size (use 25M, "
			      "1G, ...)");
	CP_CHECK_INT(c.limits.max_size, 10 << 20); /* unchanged */
	CP_CHECK_INT(cp_conf_set(&c, "limits.nope", "1", &err), CP_EINVAL);
	CP_CHECK_STR(err.msg, "limits.nope: unknown key");
	CP_CHECK_INT(cp_conf_set(&c, "server.hostname", "a\tb\x01", &err),
	    CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "control character") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_conf_set(&c, "submission.trusted_networks",
	    "127.0.0.0/8, ::1", &err), CP_OK);
	CP_CHECK_INT(c.submission.trusted_networks.n, 2);
	CP_CHECK_INT(cp_conf_set(&c, "routes", "x", &err), CP_ESYNTAX);
	/* routes: add, replace, look up */
	CP_CHECK_INT(cp_conf_set(&c, "routes.example.com", "a.example:2525",
	    &err), CP_OK);
	CP_CHECK_INT(cp_conf_set(&c, "routes..example.com", "b.example tls=verify",
	    &err), CP_OK);
	CP_CHECK_INT(cp_conf_set(&c, "routes.*", "[::1]:26", &err), CP_OK);
	CP_CHECK_INT(cp_conf_set(&c, "routes.mail.example.com", "c.example",
	    &err), CP_OK);
	CP_CHECK_INT(cp_conf_set(&c, "routes.EXAMPLE.com", "d.example:2526",
	    &err), CP_OK);
	CP_CHECK_INT(c.routes.n, 4);
	CP_CHECK_INT(cp_conf_set(&c, "routes.bad domain", "x", &err),
	    CP_ESYNTAX);
	r = cp_conf_find_route(&c, "Example.COM.");
	CP_CHECK(r && strcmp(r->host, "d.example") == 0 && r->port == 2526,
	    "exact, replaced");
	r = cp_conf_find_route(&c, "a.b.example.com");
	CP_CHECK(r && strcmp(r->host, "b.example") == 0 &&
	    r->tls == CP_CONF_TLS_VERIFY, "subdomain");
	r = cp_conf_find_route(&c, "x.mail.example.com");
	CP_CHECK(r && strcmp(r->host, "b.example") == 0, "only exact for mail.");
	r = cp_conf_find_route(&c, "mail.example.com");
	CP_CHECK(r && strcmp(r->host, "c.example") == 0, "exact beats parent");
	r = cp_conf_find_route(&c, "example.net");
	CP_CHECK(r && strcmp(r->host, "::1") == 0 && r->port == 26, "star");
	cp_conf_clear(&c);
	CP_CHECK_INT(cp_conf_init(&c, &err), CP_OK);
	CP_CHECK(cp_conf_find_route(&c, "example.com") == NULL, "no routes");
	cp_conf_clear(&c);
}

CP_TEST(conf_copy_diff)
{
	cp_conf a, b;
	cp_err err = { 0 };
	const cp_conf_key *diff[4];

	CP_CHECK_INT(load(&a, full_conf, NULL, &err), CP_OK);
	if (err.code != CP_OK)
		return;
	CP_CHECK_INT(cp_conf_copy(&b, &a, &err), CP_OK);
	CP_CHECK_INT(cp_conf_diff(&a, &b, diff, 4), 0);
	CP_CHECK(a.routes.v != b.routes.v && a.tls.key != b.tls.key,
	    "deep copy");
	cp_conf_set(&b, "listen.submission", "127.0.0.1:2588", &err);
	cp_conf_set(&b, "mailbox.daily_cap", "9", &err);
	CP_CHECK_INT(cp_conf_diff(&a, &b, diff, 4), 2);
	CP_CHECK_STR(diff[0]->name, "listen.submission");
	CP_CHECK(!(diff[0]->flags & CP_CONF_LIVE), "listeners need a restart");
	CP_CHECK_STR(diff[1]->name, "mailbox.daily_cap");
	CP_CHECK(diff[1]->flags & CP_CONF_LIVE, "the cap is live");
	cp_conf_clear(&a);
	CP_CHECK_STR(b.tls.key, "/etc/k ;x.pem"); /* b owns its own */
	cp_conf_clear(&b);
}

static char *
write_tmp(const char *dir, const char *name, const char *text)
{
	char *path = cp_malloc(strlen(dir) + strlen(name) + 2);
	FILE *f;

	snprintf(path, strlen(dir) + strlen(name) + 2, "%s/%s", dir, name);
	f = fopen(path, "w");
	CP_CHECK(f != NULL, "%s: %s", path, strerror(errno));
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

CP_TEST(conf_load_file_paths)
{
	char tmpl[] = "/tmp/cp-conf-XXXXXX", real[4096], want[4200];
	char *dir = mkdtemp(tmpl), *sub, *path;
	cp_conf c;
	cp_buf d;
	cp_err err = { 0 };

	CP_CHECK(dir != NULL, "mkdtemp");
	if (dir == NULL)
		return;
	CP_CHECK(realpath(dir, real) != NULL, "realpath");
	sub = cp_malloc(strlen(dir) + 8);
	snprintf(sub, strlen(dir) + 8, "%s/etc", dir);
	mkdir(sub, 0700);
	path = write_tmp(sub, "c.conf",
	    "[server]\nstore = sqlite:data/./q.db\n[tls]\ncert = ../tls/c.pem\n"
	    "key = /abs/k.pem\n[log]\nfile = ../../log/x.log\n");
	cp_buf_init(&d, 4096);
	CP_CHECK_INT(cp_conf_load_file(&c, path, &d, &err), CP_OK);
	if (err.code == CP_OK) {
		snprintf(want, sizeof(want), "sqlite:%s/etc/data/q.db", real);
		CP_CHECK_STR(c.server.store, want);
		snprintf(want, sizeof(want), "%s/tls/c.pem", real);
		CP_CHECK_STR(c.tls.cert, want);
		CP_CHECK_STR(c.tls.key, "/abs/k.pem");
		CP_CHECK(c.log.file[0] == '/' && strstr(c.log.file, "/log/x.log")
		    && strstr(c.log.file, "..") == NULL, "%s", c.log.file);
		cp_conf_clear(&c);
	}
	unlink(path);
	cp_free(path);
	/* the file's name in messages as given */
	path = write_tmp(sub, "bad.conf", "[limits]\nmax_size = 25X\n");
	cp_buf_reset(&d);
	CP_CHECK_INT(cp_conf_load_file(&c, path, &d, &err), CP_ESYNTAX);
	snprintf(want, sizeof(want), "%s:2: [limits] max_size: '25X' is not a "
				     "size (use 25M, 1G, ...)\n", path);
	CP_CHECK_STR(d.data, want);
	unlink(path);
	/* a file that is not there */
	cp_buf_reset(&d);
	CP_CHECK_INT(cp_conf_load_file(&c, path, &d, &err), CP_EIO);
	CP_CHECK(strstr(err.msg, "cannot read: No such file") != NULL, "%s",
	    err.msg);
	CP_CHECK_INT(err.sys, ENOENT);
	cp_free(path);
	cp_buf_free(&d);
	rmdir(sub);
	rmdir(dir);
	cp_free(sub);
}

/* Every allocation that can fail does so cleanly: CP_ENOMEM, no leak (the
   sanitizer build checks the leaks), nothing half-loaded. */
CP_TEST(conf_alloc_failures)
{
	int done = 0;

	for (unsigned long n = 1; n < 5000 && !done; n++) {
		cp_conf c;
		cp_buf d;
		cp_err err = { 0 };
		int rc;

		cp_buf_init(&d, 1 << 16);
		cp_alloc_fail_at(n);
		rc = load(&c, full_conf, NULL, &err);
		cp_alloc_fail_at(0);
		if (rc == CP_OK) {
			cp_buf dump;

			cp_buf_init(&dump, 1 << 20);
			CP_CHECK_INT(cp_conf_dump(&c, 0, &dump), CP_OK);
			cp_buf_free(&dump);
			cp_conf_clear(&c);
			done = 1;
		} else {
			CP_CHECK(rc == CP_ENOMEM, "allocation %lu: rc %d (%s)", n,
			    rc, err.msg);
		}
		cp_buf_free(&d);
	}
	CP_CHECK(done, "never loaded");
}

/* The files we ship load. */
CP_TEST(conf_shipped_files)
{
	static const char *const files[] = { "../../docs/config/example.conf",
		"../../config/demo.conf" };

	for (size_t i = 0; i < CP_NELEM(files); i++) {
		char path[4096];
		cp_conf c;
		cp_buf d;
		cp_err err = { 0 };

		snprintf(path, sizeof(path), "%s/%s", cptest_data_dir(),
		    files[i]);
		cp_buf_init(&d, 1 << 16);
		CP_CHECK(cp_conf_load_file(&c, path, &d, &err) == CP_OK,
		    "%s: %s", files[i], d.data ? d.data : err.msg);
		if (err.code == CP_OK)
			cp_conf_clear(&c);
		cp_buf_free(&d);
	}
}

/* docs/config/<key>.md for every key and a key for every page; each page
   gives the table's default and reload. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cp_buf b;
	char chunk[4096];
	size_t got;

	if (f == NULL)
		return NULL;
	cp_buf_init(&b, 1 << 20);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cp_buf_add(&b, chunk, got);
	fclose(f);
	if (b.data == NULL)
		cp_buf_adds(&b, "");
	return cp_buf_steal(&b);
}

CP_TEST(conf_docs)
{
	size_t n;
	const cp_conf_key *k = cp_conf_keys(&n);
	char dir[4096], path[4400], want[512];
	char *idx;
	DIR *dp;
	struct dirent *e;
	int pages = 0;

	snprintf(dir, sizeof(dir), "%s/../../docs/config", cptest_data_dir());
	snprintf(path, sizeof(path), "%s/README.md", dir);
	idx = slurp(path);
	CP_CHECK(idx != NULL, "%s is missing", path);
	for (size_t i = 0; i < n; i++) {
		char *doc;

		snprintf(path, sizeof(path), "%s/%s.md", dir, k[i].name);
		doc = slurp(path);
		CP_CHECK(doc != NULL, "key %s has no docs/config/%s.md",
		    k[i].name, k[i].name);
		if (doc == NULL)
			continue;
		snprintf(want, sizeof(want), "# %s\n", k[i].name);
		CP_CHECK(strncmp(doc, want, strlen(want)) == 0,
		    "%s.md: the title is not the key", k[i].name);
		if (k[i].def[0] != '\0')
			snprintf(want, sizeof(want), "\n- Default: `%s`\n",
			    k[i].def);
		else
			snprintf(want, sizeof(want), "\n- Default: (empty)\n");
		CP_CHECK(strstr(doc, want) != NULL, "%s.md lacks '%s'",
		    k[i].name, want + 1);
		snprintf(want, sizeof(want), "\n- Reload: %s",
		    (k[i].flags & CP_CONF_LIVE) ? "live" : "restart");
		CP_CHECK(strstr(doc, want) != NULL, "%s.md lacks '%s'",
		    k[i].name, want + 1);
		CP_CHECK(strstr(doc, "\n- Type: ") != NULL &&
		    strstr(doc, "\nExample:\n") != NULL,
		    "%s.md lacks its type or example", k[i].name);
		snprintf(want, sizeof(want), "[%s](%s.md)", k[i].name,
		    k[i].name);
		CP_CHECK(idx && strstr(idx, want) != NULL,
		    "README.md does not list %s", k[i].name);
		cp_free(doc);
	}
	dp = opendir(dir);
	CP_CHECK(dp != NULL, "%s", dir);
	while (dp && (e = readdir(dp)) != NULL) {
		size_t l = strlen(e->d_name);
		char key[256];

		if (l < 4 || strcmp(e->d_name + l - 3, ".md") != 0 ||
		    strcmp(e->d_name, "README.md") == 0)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(l - 3), e->d_name);
		CP_CHECK(cp_conf_find_key(key) != NULL,
		    "docs/config/%s names no key", e->d_name);
		pages++;
	}
	if (dp)
		closedir(dp);
	CP_CHECK_INT(pages, n);
	cp_free(idx);
}
