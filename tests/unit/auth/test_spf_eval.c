/*
 * Unit tests: check_host() details the suites do not look at (src/auth/spf/
 * spf_eval.c): the reason and the deciding mechanism, lookup and query
 * counts, the null reverse path, %{t} and %{r} in explanations, the HELO
 * identity, limits, misuse.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/spf.h"
#include "cptest.h"

static const char zone[] =
    "$ORIGIN example.com.\n"
    "@          TXT \"v=spf1 ip4:192.0.2.0/24 include:_spf.example.com mx "
    "-all exp=why.example.com\"\n"
    "_spf       TXT \"v=spf1 ip6:2001:db8::/32 a:mail.example.com ~all\"\n"
    "why        TXT \"%{i} refused by %{d} at %{t} [%{r}]\"\n"
    "@          MX  10 mail\n"
    "mail       A   198.51.100.7\n"
    "mail       TXT \"v=spf1 a -all\"\n"
    "voids      TXT \"v=spf1 a:n1.example.com a:n2.example.com "
    "a:n3.example.com -all\"\n"
    "deep       TXT \"v=spf1 include:d1.example.com -all\"\n"
    "d1         TXT \"v=spf1 include:d2.example.com\"\n"
    "d2         TXT \"v=spf1 a a a a a a a a a a\"\n"
    "d2         A   203.0.113.9\n"
    "two        TXT \"v=spf1 -all\"\n"
    "two        TXT \"v=spf1 +all\"\n"
    "loop       TXT \"v=spf1 include:loop.example.com -all\"\n"
    "bad        TXT \"v=spf1 ip4:192.0.2.1 mx:example.com:25 -all\"\n";

static cp_dns *
dns(void)
{
	cp_dns *d = cp_dns_new_fake();
	cp_err err = { 0 };

	CP_CHECK(cp_dns_fake_load_mem(d, zone, sizeof(zone) - 1, "zone", &err)
	    == CP_OK, "zone: %s", err.msg);
	return d;
}

static void
check(cp_dns *d, const char *ip, const char *sender, const char *helo,
    const char *domain, cp_spf_result *res)
{
	cp_spf_query q = { ip, sender, helo, domain };
	cp_err err = { 0 };
	cp_spf *spf = cp_spf_new(d, &err);

	cp_spf_set_now(spf, 1700000000);
	CP_CHECK(cp_spf_set_receiver(spf, "mx.receiver.test", &err) == CP_OK,
	    "receiver");
	CP_CHECK(cp_spf_check_host(spf, &q, res, &err) == CP_OK, "%s", err.msg);
	cp_spf_free(spf);
}

CP_TEST(spf_eval_reason_and_counts)
{
	cp_dns *d = dns();
	cp_spf_result r;

	check(d, "192.0.2.77", "bob@example.com", "h.test", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_PASS);
	CP_CHECK_STR(r.mechanism, "ip4:192.0.2.0/24");
	CP_CHECK_STR(r.mech_domain, "example.com");
	CP_CHECK_INT(r.lookups, 0);
	CP_CHECK_INT(r.dns_queries, 1);
	CP_CHECK(strstr(r.reason, "matched 192.0.2.77") != NULL, "%s", r.reason);
	cp_spf_result_clear(&r);

	/* through the include: the outer term decides, the reason nests */
	check(d, "2001:db8::25", "bob@example.com", "h.test", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_PASS);
	CP_CHECK_STR(r.mechanism, "include:_spf.example.com");
	CP_CHECK(strstr(r.reason, "ip6:2001:db8::/32") != NULL, "%s", r.reason);
	CP_CHECK_INT(r.lookups, 1);
	cp_spf_result_clear(&r);

	/* fail: include (a) and mx spent, exp= with %{t} and %{r} */
	check(d, "203.0.113.1", "bob@example.com", "h.test", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_FAIL);
	CP_CHECK_STR(r.mechanism, "-all");
	CP_CHECK_INT(r.lookups, 3);
	CP_CHECK_INT(r.void_lookups, 0);
	CP_CHECK_INT(r.dns_queries, 6); /* TXT TXT A MX A, then exp TXT */
	CP_CHECK_STR(r.explanation, "203.0.113.1 refused by example.com at "
				    "1700000000 [mx.receiver.test]");
	cp_spf_result_clear(&r);
	cp_dns_free(d);
}

CP_TEST(spf_eval_identities)
{
	cp_dns *d = dns();
	cp_spf_result r;

	/* null reverse path: postmaster@HELO, here mail.example.com */
	check(d, "198.51.100.7", "", "mail.example.com", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_PASS);
	CP_CHECK_STR(r.domain, "mail.example.com");
	cp_spf_result_clear(&r);
	check(d, "198.51.100.8", NULL, "mail.example.com", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_FAIL);
	CP_CHECK(r.explanation == NULL, "no exp= there");
	cp_spf_result_clear(&r);
	/* the HELO identity, asked for explicitly */
	check(d, "198.51.100.7", "x@elsewhere.test", "mail.example.com",
	    "mail.example.com", &r);
	CP_CHECK_INT(r.result, CP_SPF_PASS);
	cp_spf_result_clear(&r);
	/* an IPv4-mapped IPv6 client is IPv4 */
	check(d, "::ffff:192.0.2.1", "bob@example.com", "h", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_PASS);
	cp_spf_result_clear(&r);
	/* initial processing: no SPF for single labels and literals */
	check(d, "192.0.2.1", "bob@localhost", "h", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_NONE);
	CP_CHECK(strstr(r.reason, "multi-label") != NULL, "%s", r.reason);
	cp_spf_result_clear(&r);
	check(d, "192.0.2.1", "bob@nowhere.example.org", "h", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_NONE);
	CP_CHECK(strstr(r.reason, "does not exist") != NULL, "%s", r.reason);
	cp_spf_result_clear(&r);
	cp_dns_free(d);
}

CP_TEST(spf_eval_errors_and_limits)
{
	cp_dns *d = dns();
	cp_spf_result r;
	cp_spf_query q = { "not-an-ip", "a@example.com", "h", NULL };
	cp_err err = { 0 };
	cp_spf *spf;

	check(d, "192.0.2.1", "a@voids.example.com", "h", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_PERMERROR);
	CP_CHECK_INT(r.void_lookups, 3);
	CP_CHECK(strstr(r.reason, "void") && strstr(r.reason, "a:n3"), "%s",
	    r.reason);
	CP_CHECK(r.mechanism[0] == '\0', "no mechanism for an error");
	cp_spf_result_clear(&r);

	check(d, "192.0.2.1", "a@deep.example.com", "h", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_PERMERROR);
	CP_CHECK_INT(r.lookups, 11);
	CP_CHECK(strstr(r.reason, "too many DNS lookups") &&
	    strstr(r.reason, "d2.example.com"), "%s", r.reason);
	cp_spf_result_clear(&r);

	check(d, "192.0.2.1", "a@two.example.com", "h", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_PERMERROR);
	CP_CHECK(strstr(r.reason, "2 SPF records") != NULL, "%s", r.reason);
	cp_spf_result_clear(&r);

	/* syntax errors anywhere, even after a match: the term is named */
	check(d, "192.0.2.1", "a@bad.example.com", "h", NULL, &r);
	CP_CHECK_INT(r.result, CP_SPF_PERMERROR);
	CP_CHECK(strstr(r.reason, "term 2 'mx:example.com:25'") != NULL, "%s",
	    r.reason);
	cp_spf_result_clear(&r);

	/* limits can be set: 3 void lookups allowed */
	spf = cp_spf_new(d, &err);
	cp_spf_set_limits(spf, 10, 3);
	q.ip = "192.0.2.1";
	q.sender = "a@voids.example.com";
	CP_CHECK_INT(cp_spf_check_host(spf, &q, &r, &err), CP_OK);
	CP_CHECK_INT(r.result, CP_SPF_FAIL);
	cp_spf_result_clear(&r);
	/* raised limits still stop an include loop */
	cp_spf_set_limits(spf, 100000, 3);
	q.sender = "a@loop.example.com";
	CP_CHECK_INT(cp_spf_check_host(spf, &q, &r, &err), CP_OK);
	CP_CHECK_INT(r.result, CP_SPF_PERMERROR);
	CP_CHECK(strstr(r.reason, "nested") != NULL, "%s", r.reason);
	cp_spf_result_clear(&r);
	q.ip = "not-an-ip";
	CP_CHECK_INT(cp_spf_check_host(spf, &q, &r, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "not-an-ip") != NULL, "%s", err.msg);
	cp_spf_result_clear(&r);
	cp_spf_free(spf);
	cp_dns_free(d);

	CP_CHECK_STR(cp_spf_verdict_name(CP_SPF_SOFTFAIL), "softfail");
	CP_CHECK_INT(cp_spf_verdict_from_name("unknown"), CP_SPF_PERMERROR);
	CP_CHECK_INT(cp_spf_verdict_from_name("bogus"), -1);
}
