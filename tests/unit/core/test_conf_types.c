/* Unit tests: the value types of the configuration (src/core/conf_types.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "coldpost/alloc.h"
#include "coldpost/conf.h"
#include "cptest.h"

static const struct {
	const char *in;
	int rc;
	long long ms;
	const char *why; /* part of the message, for errors */
} durations[] = {
	{ "0", CP_OK, 0, NULL },
	{ "30s", CP_OK, 30000, NULL },
	{ " 5m ", CP_OK, 300000, NULL },
	{ "1h30m", CP_OK, 5400000, NULL },
	{ "5d", CP_OK, 5LL * 86400000, NULL },
	{ "2w", CP_OK, 14LL * 86400000, NULL },
	{ "250ms", CP_OK, 250, NULL },
	{ "1m500ms", CP_OK, 60500, NULL },
	{ "0s", CP_OK, 0, NULL },
	{ "300", CP_ESYNTAX, 0, "'300' has no unit (write 300s" },
	{ "5x", CP_ESYNTAX, 0, "'5x' is not a duration (use 30s, 5m" },
	{ "5min", CP_ESYNTAX, 0, "is not a duration" },
	{ "", CP_ESYNTAX, 0, "is not a duration" },
	{ "-5s", CP_ESYNTAX, 0, "is not a duration" },
	{ "1.5h", CP_ESYNTAX, 0, "is not a duration" },
	{ "s", CP_ESYNTAX, 0, "is not a duration" },
	{ "5 m", CP_ESYNTAX, 0, "is not a duration" },
	{ "5m30", CP_ESYNTAX, 0, "has no unit" },
	{ "99999999999999999999s", CP_ESYNTAX, 0, "is not a duration" },
	{ "50000w", CP_ESYNTAX, 0, "too long" },
	{ "36500d1d", CP_ESYNTAX, 0, "too long" },
};

CP_TEST(conf_parse_duration)
{
	for (size_t i = 0; i < CP_NELEM(durations); i++) {
		int64_t ms = -1;
		cp_err err = { 0 };
		int rc = cp_conf_parse_duration(durations[i].in, &ms, &err);

		CP_CHECK(rc == durations[i].rc, "'%s': rc %d, want %d (%s)",
		    durations[i].in, rc, durations[i].rc, err.msg);
		if (rc == CP_OK && durations[i].rc == CP_OK)
			CP_CHECK(ms == durations[i].ms, "'%s': %lld ms, want %lld",
			    durations[i].in, (long long)ms, durations[i].ms);
		if (durations[i].why != NULL)
			CP_CHECK(strstr(err.msg, durations[i].why) != NULL,
			    "'%s': message '%s' lacks '%s'", durations[i].in,
			    err.msg, durations[i].why);
	}
}

CP_TEST(conf_format_duration)
{
	static const struct {
		long long ms;
		const char *out;
	} cases[] = {
		{ 0, "0s" }, { 250, "250ms" }, { 30000, "30s" },
		{ 300000, "5m" }, { 5400000, "1h30m" }, { 90000, "1m30s" },
		{ 5LL * 86400000, "5d" }, { 14LL * 86400000, "14d" },
		{ 86400000LL + 1, "1d1ms" },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_buf b;
		int64_t back = -1;

		cp_buf_init(&b, 64);
		CP_CHECK_INT(cp_conf_format_duration(cases[i].ms, &b), CP_OK);
		CP_CHECK_STR(b.data, cases[i].out);
		CP_CHECK_INT(cp_conf_parse_duration(b.data, &back, NULL), CP_OK);
		CP_CHECK_INT(back, cases[i].ms);
		cp_buf_free(&b);
	}
}

CP_TEST(conf_parse_size)
{
	static const struct {
		const char *in;
		int rc;
		long long bytes;
	} cases[] = {
		{ "25M", CP_OK, 25LL << 20 },  { "25m", CP_OK, 25LL << 20 },
		{ "25MB", CP_OK, 25LL << 20 }, { "25MiB", CP_OK, 25LL << 20 },
		{ "512K", CP_OK, 512LL << 10 }, { "1G", CP_OK, 1LL << 30 },
		{ "2T", CP_OK, 2LL << 40 },    { "1000", CP_OK, 1000 },
		{ "1000B", CP_OK, 1000 },      { " 1K ", CP_OK, 1024 },
		{ "0", CP_OK, 0 },
		{ "25X", CP_ESYNTAX, 0 },      { "M", CP_ESYNTAX, 0 },
		{ "", CP_ESYNTAX, 0 },	       { "1.5M", CP_ESYNTAX, 0 },
		{ "-1M", CP_ESYNTAX, 0 },      { "25 M", CP_ESYNTAX, 0 },
		{ "25iB", CP_ESYNTAX, 0 },     { "25MBB", CP_ESYNTAX, 0 },
		{ "2000T", CP_ESYNTAX, 0 },    { "99999999999999999999", CP_ESYNTAX, 0 },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		int64_t b = -1;
		cp_err err = { 0 };
		int rc = cp_conf_parse_size(cases[i].in, &b, &err);

		CP_CHECK(rc == cases[i].rc, "'%s': rc %d (%s)", cases[i].in, rc,
		    err.msg);
		if (rc == CP_OK)
			CP_CHECK(b == cases[i].bytes, "'%s': %lld", cases[i].in,
			    (long long)b);
	}
	{
		cp_err err = { 0 };
		int64_t b;

		cp_conf_parse_size("25X", &b, &err);
		CP_CHECK_STR(err.msg, "'25X' is not a size (use 25M, 1G, ...)");
	}
	{
		static const long long round[] = { 25LL << 20, 1000, 1024,
			3LL << 30, (1LL << 20) + 1, 0 };

		for (size_t i = 0; i < CP_NELEM(round); i++) {
			cp_buf t;
			int64_t back = -1;

			cp_buf_init(&t, 64);
			cp_conf_format_size(round[i], &t);
			CP_CHECK_INT(cp_conf_parse_size(t.data, &back, NULL),
			    CP_OK);
			CP_CHECK(back == round[i], "%lld -> %s -> %lld",
			    round[i], t.data, (long long)back);
			cp_buf_free(&t);
		}
	}
}

CP_TEST(conf_parse_int_bool)
{
	int64_t v;
	int b;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_conf_parse_int("42", &v, NULL), CP_OK);
	CP_CHECK_INT(v, 42);
	CP_CHECK_INT(cp_conf_parse_int("-7", &v, NULL), CP_OK);
	CP_CHECK_INT(v, -7);
	CP_CHECK_INT(cp_conf_parse_int("9223372036854775807", &v, NULL), CP_OK);
	CP_CHECK_INT(cp_conf_parse_int("9223372036854775808", &v, &err),
	    CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "too large") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_conf_parse_int("12abc", &v, &err), CP_ESYNTAX);
	CP_CHECK_STR(err.msg, "'12abc' is not a number (digits only)");
	CP_CHECK_INT(cp_conf_parse_int("", &v, NULL), CP_ESYNTAX);
	CP_CHECK_INT(cp_conf_parse_int("0x10", &v, NULL), CP_ESYNTAX);
	CP_CHECK_INT(cp_conf_parse_int("-", &v, NULL), CP_ESYNTAX);

	for (const char *const *s = (const char *const[]){ "on", "YES", "true",
		 "1", NULL };
	     *s; s++) {
		b = -1;
		CP_CHECK(cp_conf_parse_bool(*s, &b, NULL) == CP_OK && b == 1,
		    "%s", *s);
	}
	for (const char *const *s = (const char *const[]){ "off", "No",
		 "false", "0", NULL };
	     *s; s++) {
		b = -1;
		CP_CHECK(cp_conf_parse_bool(*s, &b, NULL) == CP_OK && b == 0,
		    "%s", *s);
	}
	CP_CHECK_INT(cp_conf_parse_bool("maybe", &b, &err), CP_ESYNTAX);
	CP_CHECK_STR(err.msg, "'maybe' is not a boolean (use on or off)");
	CP_CHECK_INT(cp_conf_parse_bool("", &b, NULL), CP_ESYNTAX);
	CP_CHECK_INT(cp_conf_parse_bool("onn", &b, NULL), CP_ESYNTAX);
}

static const char *
addr_text(const cp_conf_addr *a, char *buf, size_t cap)
{
	cp_buf b;

	cp_buf_init(&b, 128);
	cp_conf_format_addr(a, &b);
	snprintf(buf, cap, "%s", b.data ? b.data : "?");
	cp_buf_free(&b);
	return buf;
}

CP_TEST(conf_parse_addr)
{
	static const struct {
		const char *in;
		int rc;
		const char *out; /* canonical form, or part of the message */
	} cases[] = {
		{ "127.0.0.1:587", CP_OK, "127.0.0.1:587" },
		{ "0.0.0.0:25", CP_OK, "0.0.0.0:25" },
		{ "[::1]:587", CP_OK, "[::1]:587" },
		{ "[::]:465", CP_OK, "[::]:465" },
		{ "[2001:DB8:0:0::1]:2525", CP_OK, "[2001:db8::1]:2525" },
		{ "[::ffff:192.0.2.1]:25", CP_OK, "[::ffff:192.0.2.1]:25" },
		{ " 10.1.2.3:65535 ", CP_OK, "10.1.2.3:65535" },
		{ "127.0.0.1", CP_ESYNTAX, "has no port (use 127.0.0.1:587)" },
		{ "::1:587", CP_ESYNTAX, "put an IPv6 address in brackets" },
		{ "[::1]", CP_ESYNTAX, "has no port" },
		{ "[::1:587", CP_ESYNTAX, "no closing ']'" },
		{ "[127.0.0.1]:587", CP_ESYNTAX, "not an IPv6 address" },
		{ "localhost:587", CP_ESYNTAX, "not a numeric IP address" },
		{ "127.0.0.1:0", CP_ESYNTAX, "port must be 1-65535" },
		{ "127.0.0.1:65536", CP_ESYNTAX, "port must be 1-65535" },
		{ "127.0.0.1:", CP_ESYNTAX, "port must be 1-65535" },
		{ "127.0.0.1:58x", CP_ESYNTAX, "port must be 1-65535" },
		{ "[::1]587", CP_ESYNTAX, "port must be 1-65535" },
		{ "256.0.0.1:25", CP_ESYNTAX, "not a numeric IP address" },
		{ ":25", CP_ESYNTAX, "not a numeric IP address" },
		{ "", CP_ESYNTAX, "has no port" },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_conf_addr a;
		cp_err err = { 0 };
		char buf[80];
		int rc = cp_conf_parse_addr(cases[i].in, &a, &err);

		CP_CHECK(rc == cases[i].rc, "'%s': rc %d (%s)", cases[i].in, rc,
		    err.msg);
		if (rc == CP_OK && cases[i].rc == CP_OK)
			CP_CHECK_STR(addr_text(&a, buf, sizeof(buf)),
			    cases[i].out);
		else if (rc != CP_OK)
			CP_CHECK(strstr(err.msg, cases[i].out) != NULL,
			    "'%s': message '%s' lacks '%s'", cases[i].in,
			    err.msg, cases[i].out);
	}
}

CP_TEST(conf_parse_addrs)
{
	cp_conf_addrs l = { 0, NULL };
	cp_err err = { 0 };
	char buf[80];

	CP_CHECK_INT(cp_conf_parse_addrs("127.0.0.1:587,[::1]:587 , "
					 "10.0.0.1:465", &l, &err), CP_OK);
	CP_CHECK_INT(l.n, 3);
	if (l.n == 3) {
		CP_CHECK_INT(l.v[0].family, AF_INET);
		CP_CHECK_INT(l.v[0].port, 587);
		CP_CHECK_INT(l.v[1].family, AF_INET6);
		CP_CHECK_STR(addr_text(&l.v[2], buf, sizeof(buf)),
		    "10.0.0.1:465");
	}
	/* a failed parse leaves the list as it was */
	CP_CHECK_INT(cp_conf_parse_addrs("127.0.0.1:587, bogus", &l, &err),
	    CP_ESYNTAX);
	CP_CHECK_INT(l.n, 3);
	CP_CHECK(strstr(err.msg, "'bogus'") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_conf_parse_addrs("[::1]:25, [0::1]:25", &l, &err),
	    CP_ESYNTAX);
	CP_CHECK_STR(err.msg, "'[0::1]:25' is listed twice");
	/* the same IP on two ports is two listeners */
	CP_CHECK_INT(cp_conf_parse_addrs("[::1]:25 [::1]:26", &l, &err), CP_OK);
	CP_CHECK_INT(l.n, 2);
	CP_CHECK_INT(cp_conf_parse_addrs("", &l, &err), CP_OK);
	CP_CHECK_INT(l.n, 0);
	CP_CHECK_INT(cp_conf_parse_addrs(" , ,", &l, &err), CP_OK);
	CP_CHECK_INT(l.n, 0);
	cp_free(l.v);
}

static const char *
cidr_text(const cp_conf_cidr *c, char *buf, size_t cap)
{
	cp_buf b;

	cp_buf_init(&b, 128);
	cp_conf_format_cidr(c, &b);
	snprintf(buf, cap, "%s", b.data ? b.data : "?");
	cp_buf_free(&b);
	return buf;
}

CP_TEST(conf_parse_cidr)
{
	static const struct {
		const char *in;
		int rc;
		const char *out;
	} cases[] = {
		{ "10.0.0.0/8", CP_OK, "10.0.0.0/8" },
		{ "127.0.0.1", CP_OK, "127.0.0.1/32" },
		{ "0.0.0.0/0", CP_OK, "0.0.0.0/0" },
		{ "192.168.1.128/25", CP_OK, "192.168.1.128/25" },
		{ "::1", CP_OK, "::1/128" },
		{ "2001:db8::/32", CP_OK, "2001:db8::/32" },
		{ "2001:DB8:1:2::/64", CP_OK, "2001:db8:1:2::/64" },
		{ "fe80::/10", CP_OK, "fe80::/10" },
		{ "::/0", CP_OK, "::/0" },
		{ "::ffff:10.0.0.0/104", CP_OK, "::ffff:10.0.0.0/104" },
		{ "10.0.0.1/8", CP_ESYNTAX,
		    "'10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)" },
		{ "2001:db8::1/32", CP_ESYNTAX,
		    "has host bits set (did you mean 2001:db8::/32?)" },
		{ "fe81::/10", CP_ESYNTAX, "did you mean fe80::/10?" },
		{ "10.0.0.0/33", CP_ESYNTAX, "prefix length must be 0-32" },
		{ "::/129", CP_ESYNTAX, "prefix length must be 0-128" },
		{ "10.0.0.0/", CP_ESYNTAX, "prefix length" },
		{ "10.0.0.0/8x", CP_ESYNTAX, "prefix length" },
		{ "10.0.0/8", CP_ESYNTAX, "is not a network" },
		{ "example.com", CP_ESYNTAX, "is not a network" },
		{ "[::1]", CP_ESYNTAX, "is not a network" },
		{ "", CP_ESYNTAX, "is not a network" },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_conf_cidr c;
		cp_err err = { 0 };
		char buf[80];
		int rc = cp_conf_parse_cidr(cases[i].in, &c, &err);

		CP_CHECK(rc == cases[i].rc, "'%s': rc %d (%s)", cases[i].in, rc,
		    err.msg);
		if (rc == CP_OK && cases[i].rc == CP_OK)
			CP_CHECK_STR(cidr_text(&c, buf, sizeof(buf)),
			    cases[i].out);
		else if (rc != CP_OK)
			CP_CHECK(strstr(err.msg, cases[i].out) != NULL,
			    "'%s': message '%s' lacks '%s'", cases[i].in,
			    err.msg, cases[i].out);
	}
}

static int
match(const cp_conf_cidrs *l, const char *ip)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return cp_conf_cidrs_match(l, AF_INET, a);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return cp_conf_cidrs_match(l, AF_INET6, a);
	return -1;
}

CP_TEST(conf_cidrs_match)
{
	cp_conf_cidrs l = { 0, NULL };
	cp_err err = { 0 };

	CP_CHECK_INT(match(&l, "127.0.0.1"), 0); /* empty: nobody */
	CP_CHECK_INT(cp_conf_parse_cidrs("127.0.0.0/8, ::1, 192.168.1.128/25,"
					 " 2001:db8:ab00::/40", &l, &err),
	    CP_OK);
	CP_CHECK_INT(l.n, 4);
	CP_CHECK_INT(match(&l, "127.0.0.1"), 1);
	CP_CHECK_INT(match(&l, "127.255.255.254"), 1);
	CP_CHECK_INT(match(&l, "128.0.0.1"), 0);
	CP_CHECK_INT(match(&l, "::ffff:127.0.0.1"), 1); /* v4-mapped */
	CP_CHECK_INT(match(&l, "::ffff:10.0.0.1"), 0);
	CP_CHECK_INT(match(&l, "::1"), 1);
	CP_CHECK_INT(match(&l, "::2"), 0);
	CP_CHECK_INT(match(&l, "192.168.1.128"), 1);
	CP_CHECK_INT(match(&l, "192.168.1.255"), 1);
	CP_CHECK_INT(match(&l, "192.168.1.127"), 0);
	CP_CHECK_INT(match(&l, "2001:db8:abff::1"), 1);
	CP_CHECK_INT(match(&l, "2001:db8:ac00::1"), 0);
	CP_CHECK_INT(cp_conf_parse_cidrs("0.0.0.0/0", &l, &err), CP_OK);
	CP_CHECK_INT(match(&l, "203.0.113.9"), 1);
	CP_CHECK_INT(match(&l, "2001:db8::1"), 0); /* families stay apart */
	CP_CHECK_INT(cp_conf_parse_cidrs("10.0.0.0/8 10.0.0.0/8", &l, &err),
	    CP_ESYNTAX);
	CP_CHECK_STR(err.msg, "'10.0.0.0/8' is listed twice");
	cp_free(l.v);
}

CP_TEST(conf_parse_durations)
{
	cp_conf_durations l = { 0, NULL };
	cp_err err = { 0 };

	CP_CHECK_INT(cp_conf_parse_durations("5m,10m, 20m 1h", &l, &err), CP_OK);
	CP_CHECK_INT(l.n, 4);
	if (l.n == 4) {
		CP_CHECK_INT(l.v[0], 300000);
		CP_CHECK_INT(l.v[3], 3600000);
	}
	CP_CHECK_INT(cp_conf_parse_durations("5m,5m", &l, &err), CP_OK);
	CP_CHECK_INT(cp_conf_parse_durations("10m,5m", &l, &err), CP_ESYNTAX);
	CP_CHECK_STR(err.msg, "steps must not get shorter: 5m after 10m");
	CP_CHECK_INT(l.n, 2); /* unchanged by the failure */
	CP_CHECK_INT(cp_conf_parse_durations("5m,soon", &l, &err), CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "'soon' is not a duration") != NULL, "%s",
	    err.msg);
	cp_free(l.v);
}

CP_TEST(conf_parse_route)
{
	static const struct {
		const char *in;
		int rc;
		const char *host;
		int port, tls;
		const char *out;
	} cases[] = {
		{ "smtp.example.net:587", CP_OK, "smtp.example.net", 587, -1,
		    "smtp.example.net:587" },
		{ "Smtp.Example.NET.", CP_OK, "smtp.example.net", 25, -1,
		    "smtp.example.net:25" },
		{ "127.0.0.1:2525 tls=none", CP_OK, "127.0.0.1", 2525,
		    CP_CONF_TLS_NONE, "127.0.0.1:2525 tls=none" },
		{ "[::1]:2525  tls=verify ", CP_OK, "::1", 2525,
		    CP_CONF_TLS_VERIFY, "[::1]:2525 tls=verify" },
		{ "[2001:db8::25]", CP_OK, "2001:db8::25", 25, -1,
		    "[2001:db8::25]:25" },
		{ "relay tls=required", CP_OK, "relay", 25,
		    CP_CONF_TLS_REQUIRED, "relay:25 tls=required" },
		{ "", CP_ESYNTAX, NULL, 0, 0, "no destination" },
		{ "::1:25", CP_ESYNTAX, NULL, 0, 0, "in brackets" },
		{ "host:0", CP_ESYNTAX, NULL, 0, 0, "port must be 1-65535" },
		{ "host:25 tls=maybe", CP_ESYNTAX, NULL, 0, 0,
		    "'tls=maybe' is not a route option" },
		{ "host:25 mx", CP_ESYNTAX, NULL, 0, 0, "not a route option" },
		{ "bad_host!:25", CP_ESYNTAX, NULL, 0, 0,
		    "is not a host name or address" },
		{ "[::1:25", CP_ESYNTAX, NULL, 0, 0, "not an IPv6 address" },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_conf_route r = { NULL, NULL, 0, -1 };
		cp_err err = { 0 };
		int rc = cp_conf_parse_route(cases[i].in, &r, &err);

		CP_CHECK(rc == cases[i].rc, "'%s': rc %d (%s)", cases[i].in, rc,
		    err.msg);
		if (rc == CP_OK && cases[i].rc == CP_OK) {
			cp_buf b;

			CP_CHECK_STR(r.host, cases[i].host);
			CP_CHECK_INT(r.port, cases[i].port);
			CP_CHECK_INT(r.tls, cases[i].tls);
			cp_buf_init(&b, 512);
			cp_conf_format_route(&r, &b);
			CP_CHECK_STR(b.data, cases[i].out);
			cp_buf_free(&b);
		} else if (rc != CP_OK) {
			CP_CHECK(strstr(err.msg, cases[i].out) != NULL,
			    "'%s': message '%s' lacks '%s'", cases[i].in,
			    err.msg, cases[i].out);
		}
		cp_free(r.host);
	}
}
