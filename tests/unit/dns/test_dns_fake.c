/* Unit tests: the fake resolver and its zone files (src/dns/dns_fake.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/dns.h"
#include "cptest.h"

static cp_dns *
load(void)
{
	char path[512];
	cp_err err = { 0 };
	cp_dns *d = cp_dns_new_fake();

	snprintf(path, sizeof(path), "%s/dns/basic.zone", cptest_data_dir());
	CP_CHECK(cp_dns_fake_load(d, path, &err) == CP_OK, "load: %s", err.msg);
	return d;
}

static cp_dns_answer *
q(cp_dns *d, const char *name, int type)
{
	cp_dns_answer *a = NULL;
	cp_err err = { 0 };

	CP_CHECK(cp_dns_query(d, name, type, &a, &err) == CP_OK, "%s: %s", name,
	    err.msg);
	return a;
}

CP_TEST(dns_fake_zone_records)
{
	cp_dns *d = load();
	cp_dns_answer *a;
	char ip[64];

	a = q(d, "Example.COM.", CP_DNS_MX);
	CP_CHECK(a && a->status == CP_DNS_OK && a->n == 2, "MX count");
	if (a && a->n == 2) {
		CP_CHECK_STR(a->rr[0].u.mx.host, "mx1.example.com");
		CP_CHECK_INT(a->rr[0].u.mx.pref, 10);
		CP_CHECK_STR(a->rr[1].u.mx.host, "mx2.example.net");
	}
	cp_dns_answer_free(a);
	a = q(d, "example.com", CP_DNS_TXT);
	CP_CHECK(a && a->n == 1, "TXT");
	if (a && a->n == 1) /* strings of one RR joined, RFC 7208 3.3 */
		CP_CHECK_STR(a->rr[0].u.txt.data, "v=spf1 ip4:192.0.2.0/24 -all");
	cp_dns_answer_free(a);
	a = q(d, "www.example.com", CP_DNS_A); /* through the CNAME */
	CP_CHECK(a && a->n == 1, "CNAME followed");
	if (a && a->n == 1) {
		inet_ntop(AF_INET, &a->rr[0].u.a, ip, sizeof(ip));
		CP_CHECK_STR(ip, "192.0.2.10");
	}
	cp_dns_answer_free(a);
	a = q(d, "sel._domainkey.example.com", CP_DNS_TXT); /* ( ... ) */
	CP_CHECK(a && a->n == 1 &&
	    strcmp(a->rr[0].u.txt.data, "v=DKIM1; k=rsa; p=MIGfMA0") == 0,
	    "multi-line TXT");
	cp_dns_answer_free(a);
	a = q(d, "esc.example.com", CP_DNS_TXT);
	CP_CHECK(a && a->n == 1 && strcmp(a->rr[0].u.txt.data, "say \"hi\"; ok") == 0,
	    "escapes: %s", a && a->n ? a->rr[0].u.txt.data : "-");
	cp_dns_answer_free(a);
	a = q(d, "10.2.0.192.in-addr.arpa", CP_DNS_PTR);
	CP_CHECK(a && a->n == 1 && strcmp(a->rr[0].u.name, "mx1.example.com") == 0,
	    "PTR");
	cp_dns_answer_free(a);
	a = q(d, "null.example.org", CP_DNS_MX);
	CP_CHECK(a && a->n == 1 && a->rr[0].u.mx.host[0] == '\0', "null MX");
	cp_dns_answer_free(a);
	cp_dns_free(d);
}

CP_TEST(dns_fake_negative_answers)
{
	cp_dns *d = load();
	cp_dns_answer *a;

	a = q(d, "nope.example.com", CP_DNS_A);
	CP_CHECK(a && a->status == CP_DNS_NXDOMAIN, "nxdomain");
	cp_dns_answer_free(a);
	a = q(d, "mx1.example.com", CP_DNS_TXT);
	CP_CHECK(a && a->status == CP_DNS_NODATA, "nodata");
	cp_dns_answer_free(a);
	a = q(d, "deep.example.com", CP_DNS_A); /* empty non-terminal */
	CP_CHECK(a && a->status == CP_DNS_NODATA, "empty non-terminal");
	cp_dns_answer_free(a);
	a = q(d, "slow.example.com", CP_DNS_TXT);
	CP_CHECK(a && a->status == CP_DNS_TEMPFAIL && a->why, "timeout");
	cp_dns_answer_free(a);
	a = q(d, "loop1.example.com", CP_DNS_A);
	CP_CHECK(a && a->status == CP_DNS_TEMPFAIL, "CNAME loop");
	cp_dns_answer_free(a);
	CP_CHECK(cp_dns_fake_queries(d) == 5, "query count %lu",
	    cp_dns_fake_queries(d));
	cp_dns_free(d);
}

CP_TEST(dns_zone_errors_name_the_line)
{
	static const struct {
		const char *zone, *msg;
	} bad[] = {
		{ "a.example. A 999.1.1.1\n", "zone:1" },
		{ "\n\na.example. BOGUS x\n", "zone:3: unknown record type" },
		{ "a.example. TXT \"open\n", "unterminated" },
		{ "a.example. MX mx\n", "PREF HOST" },
		{ "a.example. TXT ( \"x\"\n", NULL }, /* unclosed: takes the rest */
		{ "a.example. A\n", "no data" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cp_dns *d = cp_dns_new_fake();
		cp_err err = { 0 };
		int rc = cp_dns_fake_load_mem(d, bad[i].zone, strlen(bad[i].zone),
		    "zone", &err);

		if (bad[i].msg)
			CP_CHECK(rc != CP_OK && strstr(err.msg, bad[i].msg),
			    "case %zu: rc %d '%s'", i, rc, err.msg);
		cp_dns_free(d);
	}
}

CP_TEST(dns_reverse_and_servers)
{
	char out[128];
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dns_reverse_name("192.0.2.10", out, sizeof(out)), CP_OK);
	CP_CHECK_STR(out, "10.2.0.192.in-addr.arpa");
	CP_CHECK_INT(cp_dns_reverse_name("2001:db8::1", out, sizeof(out)), CP_OK);
	CP_CHECK_STR(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d."
			  "0.1.0.0.2.ip6.arpa");
	CP_CHECK_INT(cp_dns_reverse_name("nope", out, sizeof(out)), CP_EINVAL);
	CP_CHECK_INT(cp_dns_check_servers("127.0.0.1:5353", &err), CP_OK);
	CP_CHECK_INT(cp_dns_check_servers("127.0.0.1,[::1]:53", &err), CP_OK);
	CP_CHECK_INT(cp_dns_check_servers("127.0.0.1:99999", &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "out of range") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_dns_check_servers("ns.example:53", &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "not an IPv4") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_dns_check_servers("[::1:53", &err), CP_EINVAL);
}
