/*
 * Unit tests: DMARC evaluation (src/auth/dmarc/dmarc_eval.c) on the fake
 * resolver, zone tests/data/dmarc/dmarc.zone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/dmarc.h"
#include "cptest.h"

typedef struct env {
	cp_dns *dns;
	cp_psl *psl;
} env;

static env
setup(void)
{
	char path[512];
	cp_err err = { 0 };
	env e;

	e.dns = cp_dns_new_fake();
	snprintf(path, sizeof(path), "%s/dmarc/dmarc.zone", cptest_data_dir());
	CP_CHECK(cp_dns_fake_load(e.dns, path, &err) == CP_OK, "zone: %s",
	    err.msg);
	e.psl = cp_psl_load(NULL, &err);
	CP_CHECK(e.psl != NULL, "psl: %s", err.msg);
	if (e.psl == NULL)
		_exit(1);
	return e;
}

static void
teardown(env *e)
{
	cp_dns_free(e->dns);
	cp_psl_free(e->psl);
}

static unsigned
fixed_roll(void *arg)
{
	return *(const unsigned *)arg;
}

/*
 * Evaluate with an SPF outcome ("pass:domain", or NULL) and up to two
 * DKIM outcomes; roll is the pct draw.
 */
static void
eval(env *e, const char *from, const char *spf, const char *dkim1,
    const char *dkim2, unsigned roll, cp_dmarc_verdict *v)
{
	static unsigned r;
	cp_dmarc_dkim d[2];
	char sbuf[256], dbuf[2][256];
	const char *in[2] = { dkim1, dkim2 };
	cp_dmarc_query q = { 0 };
	cp_err err = { 0 };
	int rc;

	r = roll;
	q.from_domain = from;
	q.roll = fixed_roll;
	q.roll_arg = &r;
	if (spf != NULL) {
		char *c;

		snprintf(sbuf, sizeof(sbuf), "%s", spf);
		c = strchr(sbuf, ':');
		*c = '\0';
		CP_CHECK_INT(cp_auth_result_from_name(sbuf, &q.spf_result), CP_OK);
		q.spf_domain = c + 1;
	}
	for (size_t i = 0; i < 2 && in[i]; i++) {
		char *c;

		snprintf(dbuf[i], sizeof(dbuf[i]), "%s", in[i]);
		c = strchr(dbuf[i], ':');
		*c = '\0';
		CP_CHECK_INT(cp_auth_result_from_name(dbuf[i], &d[i].result),
		    CP_OK);
		d[i].domain = c + 1;
		d[i].selector = "sel";
		q.ndkim = i + 1;
	}
	q.dkim = d;
	rc = cp_dmarc_evaluate(e->dns, e->psl, &q, v, &err);
	CP_CHECK(rc == CP_OK, "%s: evaluate: %s", from, err.msg);
}

#define EXPECT(v, res, disp)                                                 \
	do {                                                                 \
		CP_CHECK_STR(cp_dmarc_result_name((v)->result), (res));      \
		CP_CHECK_STR(cp_dmarc_disposition_name((v)->disposition),    \
		    (disp));                                                 \
		if (strcmp(cp_dmarc_result_name((v)->result), (res)) != 0)   \
			printf("    reason: %s\n", (v)->reason);             \
	} while (0)

CP_TEST(dmarc_relaxed_alignment)
{
	env e = setup();
	cp_dmarc_verdict v;

	/* SPF for a subdomain of the From domain's organization: aligned */
	eval(&e, "example.com", "pass:bounce.example.com", NULL, NULL, 0, &v);
	EXPECT(&v, "pass", "none");
	CP_CHECK(v.spf.aligned && v.spf.aligned_relaxed && !v.spf.aligned_strict,
	    "spf relaxed only");
	CP_CHECK_STR(v.record_name, "_dmarc.example.com");
	CP_CHECK_STR(v.record_txt,
	    "v=DMARC1; p=reject; rua=mailto:dmarc@example.com");
	CP_CHECK(strstr(v.reason, "SPF passed for bounce.example.com") != NULL,
	    "reason: %s", v.reason);
	cp_dmarc_verdict_clear(&v);

	/* DKIM d= the parent of a From subdomain; SPF for another domain */
	eval(&e, "mail.example.com", "pass:bounce.esp.example", "pass:example.com",
	    NULL, 0, &v);
	EXPECT(&v, "pass", "none");
	CP_CHECK(!v.spf.aligned, "spf is not aligned");
	CP_CHECK(v.ndkim == 1 && v.dkim[0].aligned && v.dkim[0].counts,
	    "dkim aligned");
	CP_CHECK_INT(v.record_at_org, 1);
	cp_dmarc_verdict_clear(&v);

	/* nothing aligned: reject */
	eval(&e, "example.com", "pass:esp.example", "pass:esp.example",
	    "fail:example.com", 0, &v);
	EXPECT(&v, "fail", "reject");
	CP_CHECK(!v.dkim[1].counts && v.dkim[1].aligned, "failing dkim aligned "
	    "but does not count");
	CP_CHECK(strstr(v.reason, "DKIM d=example.com fail") != NULL, "reason: %s",
	    v.reason);
	cp_dmarc_verdict_clear(&v);

	/* aligned but not passing: SPF softfail does not count */
	eval(&e, "example.com", "softfail:example.com", NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "reject");
	cp_dmarc_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(dmarc_strict_alignment)
{
	env e = setup();
	cp_dmarc_verdict v;

	/* aspf=s: a subdomain's SPF pass does not align */
	eval(&e, "example.org", "pass:bounce.example.org", NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "quarantine");
	CP_CHECK(!v.spf.aligned && v.spf.aligned_relaxed, "relaxed only");
	CP_CHECK(strstr(v.reason, "(strict)") != NULL, "reason: %s", v.reason);
	cp_dmarc_verdict_clear(&v);
	/* the exact domain does */
	eval(&e, "example.org", "pass:EXAMPLE.org.", NULL, NULL, 0, &v);
	EXPECT(&v, "pass", "none");
	CP_CHECK(v.spf.aligned_strict, "strict");
	cp_dmarc_verdict_clear(&v);
	/* adkim=s: d=parent of the From domain does not align... */
	eval(&e, "news.example.org", NULL, "pass:example.org", NULL, 0, &v);
	EXPECT(&v, "fail", "quarantine");
	CP_CHECK_STR(v.policy_tag, "p"); /* no sp=: p applies */
	cp_dmarc_verdict_clear(&v);
	/* ...the same domain does */
	eval(&e, "news.example.org", NULL, "pass:news.example.org", NULL, 0, &v);
	EXPECT(&v, "pass", "none");
	cp_dmarc_verdict_clear(&v);
	/* strict DKIM through a record split over two strings */
	eval(&e, "split.com", NULL, "pass:mail.split.com", NULL, 0, &v);
	EXPECT(&v, "fail", "reject");
	CP_CHECK_INT(v.rec.adkim, CP_DMARC_ALIGN_STRICT);
	cp_dmarc_verdict_clear(&v);
	/* an SPF pass given as an address aligns by its domain */
	eval(&e, "example.org", "pass:bounce+x@example.org", NULL, NULL, 0, &v);
	EXPECT(&v, "pass", "none");
	CP_CHECK_STR(v.spf.domain, "example.org");
	cp_dmarc_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(dmarc_multilabel_suffixes)
{
	env e = setup();
	cp_dmarc_verdict v;

	/* co.uk: example.co.uk is the organization, not co.uk */
	eval(&e, "mail.example.co.uk", "pass:bounce.example.co.uk", NULL, NULL,
	    0, &v);
	EXPECT(&v, "pass", "none");
	CP_CHECK_STR(v.org_domain, "example.co.uk");
	CP_CHECK_STR(v.record_name, "_dmarc.example.co.uk");
	cp_dmarc_verdict_clear(&v);
	eval(&e, "mail.example.co.uk", "pass:other.co.uk", "pass:evil.co.uk",
	    NULL, 0, &v);
	EXPECT(&v, "fail", "reject");
	CP_CHECK_STR(v.spf.org_domain, "other.co.uk");
	cp_dmarc_verdict_clear(&v);

	/* com.au */
	eval(&e, "shop.example.com.au", NULL, "pass:example.com.au", NULL, 0, &v);
	EXPECT(&v, "pass", "none");
	cp_dmarc_verdict_clear(&v);
	eval(&e, "shop.example.com.au", NULL, "pass:another.com.au", NULL, 0, &v);
	EXPECT(&v, "fail", "quarantine");
	cp_dmarc_verdict_clear(&v);

	/* private section: each blogspot.com / github.io name is its own org */
	eval(&e, "www.alice.blogspot.com", NULL, "pass:alice.blogspot.com", NULL,
	    0, &v);
	EXPECT(&v, "pass", "none");
	CP_CHECK_STR(v.org_domain, "alice.blogspot.com");
	cp_dmarc_verdict_clear(&v);
	eval(&e, "alice.blogspot.com", "pass:bob.blogspot.com", NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "reject");
	cp_dmarc_verdict_clear(&v);
	/* bob's record would be at the suffix: never looked up there */
	eval(&e, "bob.blogspot.com", "pass:other.example", NULL, NULL, 0, &v);
	EXPECT(&v, "none", "none");
	CP_CHECK_INT(v.have_record, 0);
	cp_dmarc_verdict_clear(&v);
	eval(&e, "alice.github.io", "pass:bob.github.io", "pass:alice.github.io",
	    NULL, 0, &v);
	EXPECT(&v, "pass", "none");
	CP_CHECK(!v.spf.aligned && v.dkim[0].aligned, "github.io alignment");
	cp_dmarc_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(dmarc_subdomain_policy)
{
	env e = setup();
	cp_dmarc_verdict v;

	/* sp= of the organizational domain's record */
	eval(&e, "news.example.net", "pass:esp.example", NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "quarantine");
	CP_CHECK_STR(v.policy_tag, "sp");
	CP_CHECK_INT(v.record_at_org, 1);
	cp_dmarc_verdict_clear(&v);
	/* p= at the organizational domain itself */
	eval(&e, "example.net", "pass:esp.example", NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "reject");
	CP_CHECK_STR(v.policy_tag, "p");
	cp_dmarc_verdict_clear(&v);
	/* a subdomain with its own record: its p=, not the org's sp= */
	eval(&e, "own.example.net", "pass:esp.example", NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "none");
	CP_CHECK_STR(v.record_name, "_dmarc.own.example.net");
	cp_dmarc_verdict_clear(&v);
	/* np= for a subdomain that does not exist (RFC 9091) */
	eval(&e, "ghost.example.edu", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "reject");
	CP_CHECK_STR(v.policy_tag, "np");
	CP_CHECK_INT(v.from_exists, 0);
	cp_dmarc_verdict_clear(&v);
	eval(&e, "exists.example.edu", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "quarantine");
	CP_CHECK_STR(v.policy_tag, "sp");
	CP_CHECK_INT(v.from_exists, 1);
	cp_dmarc_verdict_clear(&v);
	/* a non-DMARC TXT at _dmarc.sub is discarded; the org's record rules */
	eval(&e, "sub.spfonly.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "quarantine");
	CP_CHECK_STR(v.record_name, "_dmarc.spfonly.com");
	cp_dmarc_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(dmarc_pct_sampling)
{
	env e = setup();
	cp_dmarc_verdict v;

	/* pct=25: draws 0..24 apply reject, 25..99 step down to quarantine */
	eval(&e, "pct-reject.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "reject");
	CP_CHECK(v.sampled && !v.sampled_out, "sampled in");
	cp_dmarc_verdict_clear(&v);
	eval(&e, "pct-reject.com", NULL, NULL, NULL, 24, &v);
	EXPECT(&v, "fail", "reject");
	cp_dmarc_verdict_clear(&v);
	eval(&e, "pct-reject.com", NULL, NULL, NULL, 25, &v);
	EXPECT(&v, "fail", "quarantine");
	CP_CHECK(v.sampled && v.sampled_out, "sampled out");
	CP_CHECK_INT(v.policy, CP_DMARC_POLICY_REJECT); /* requested */
	cp_dmarc_verdict_clear(&v);
	eval(&e, "pct-reject.com", NULL, NULL, NULL, 99, &v);
	EXPECT(&v, "fail", "quarantine");
	cp_dmarc_verdict_clear(&v);
	/* pct=0 quarantine: never applied */
	eval(&e, "pct-quarantine.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "none");
	cp_dmarc_verdict_clear(&v);
	/* a pass draws nothing */
	eval(&e, "pct-reject.com", "pass:pct-reject.com", NULL, NULL, 99, &v);
	EXPECT(&v, "pass", "none");
	CP_CHECK_INT(v.sampled, 0);
	cp_dmarc_verdict_clear(&v);
	teardown(&e);
}

/* The default draw (arc4random): about pct% of failures get the policy. */
CP_TEST(dmarc_pct_random_draw)
{
	env e = setup();
	cp_dmarc_query q = { 0 };
	int rejected = 0;

	q.from_domain = "pct-reject.com";
	for (int i = 0; i < 2000; i++) {
		cp_dmarc_verdict v;

		CP_CHECK_INT(cp_dmarc_evaluate(e.dns, e.psl, &q, &v, NULL), CP_OK);
		CP_CHECK(v.roll < 100, "draw %u", v.roll);
		rejected += v.disposition == CP_DMARC_DISP_REJECT;
		cp_dmarc_verdict_clear(&v);
	}
	/* 25% of 2000 = 500; 6 standard deviations is about +-116 */
	CP_CHECK(rejected > 380 && rejected < 620, "%d of 2000 rejected",
	    rejected);
	teardown(&e);
}

CP_TEST(dmarc_missing_and_multiple)
{
	env e = setup();
	cp_dmarc_verdict v;

	eval(&e, "nodmarc.com", "pass:nodmarc.com", NULL, NULL, 0, &v);
	EXPECT(&v, "none", "none");
	CP_CHECK(v.record_txt == NULL && !v.have_record, "no record");
	CP_CHECK(strstr(v.reason, "no DMARC record at _dmarc.nodmarc.com") !=
	    NULL, "reason: %s", v.reason);
	CP_CHECK(v.spf.aligned, "alignment is still reported");
	cp_dmarc_verdict_clear(&v);
	/* subdomain: both names tried */
	eval(&e, "a.b.nodmarc.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "none", "none");
	CP_CHECK(strstr(v.reason, "nor at _dmarc.nodmarc.com") != NULL,
	    "reason: %s", v.reason);
	cp_dmarc_verdict_clear(&v);
	eval(&e, "multi.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "none", "none");
	CP_CHECK(strstr(v.reason, "2 DMARC records") != NULL, "reason: %s",
	    v.reason);
	cp_dmarc_verdict_clear(&v);
	/* a record that does not start with v=DMARC1 is no record */
	eval(&e, "broken-order.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "none", "none");
	CP_CHECK(strstr(v.reason, "none starting with v=DMARC1; the first is "
	    "\"p=reject; v=DMARC1\"") != NULL, "reason: %s", v.reason);
	cp_dmarc_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(dmarc_dns_failure_temperror)
{
	env e = setup();
	cp_dmarc_verdict v;

	eval(&e, "slow.com", "pass:slow.com", NULL, NULL, 0, &v);
	EXPECT(&v, "temperror", "none");
	CP_CHECK(strstr(v.reason, "_dmarc.slow.com") != NULL, "reason: %s",
	    v.reason);
	cp_dmarc_verdict_clear(&v);
	/* NXDOMAIN at the From domain, timeout at the organizational one */
	eval(&e, "mail.slow-org.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "temperror", "none");
	CP_CHECK(strstr(v.reason, "_dmarc.slow-org.com") != NULL, "reason: %s",
	    v.reason);
	cp_dmarc_verdict_clear(&v);
	/* timeouts added at run time, to count the lookups too */
	{
		cp_err err = { 0 };
		unsigned long before;

		CP_CHECK_INT(cp_dns_fake_timeout(e.dns, "_dmarc.timeout.example",
		    CP_DNS_TXT, &err), CP_OK);
		before = cp_dns_fake_queries(e.dns);
		eval(&e, "timeout.example", NULL, NULL, NULL, 0, &v);
		EXPECT(&v, "temperror", "none");
		CP_CHECK_INT(cp_dns_fake_queries(e.dns) - before, 1);
		cp_dmarc_verdict_clear(&v);
	}
	teardown(&e);
}

CP_TEST(dmarc_malformed_permerror)
{
	env e = setup();
	cp_dmarc_verdict v;

	eval(&e, "broken-pct.com", "pass:broken-pct.com", NULL, NULL, 0, &v);
	EXPECT(&v, "permerror", "none");
	CP_CHECK(strstr(v.reason, "pct=200: out of range 0-100") != NULL,
	    "reason: %s", v.reason);
	CP_CHECK_STR(v.record_txt, "v=DMARC1; p=reject; pct=200");
	cp_dmarc_verdict_clear(&v);
	eval(&e, "broken-p.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "permerror", "none");
	CP_CHECK(strstr(v.reason, "p=block: expected none, quarantine or "
	    "reject") != NULL, "reason: %s", v.reason);
	cp_dmarc_verdict_clear(&v);
	eval(&e, "broken-uri.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "permerror", "none");
	CP_CHECK(strstr(v.reason, "rua=dmarc@broken-uri.com: not a URI") !=
	    NULL, "reason: %s", v.reason);
	cp_dmarc_verdict_clear(&v);
	/* no p= but a usable rua=: evaluated as p=none (6.6.3 step 6) */
	eval(&e, "nop-rua.com", NULL, NULL, NULL, 0, &v);
	EXPECT(&v, "fail", "none");
	CP_CHECK_INT(v.policy, CP_DMARC_POLICY_NONE);
	CP_CHECK(strstr(v.reason, "read as p=none") != NULL, "reason: %s",
	    v.reason);
	cp_dmarc_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(dmarc_bad_from_domain)
{
	env e = setup();
	cp_dmarc_query q = { 0 };
	cp_dmarc_verdict v;
	cp_err err = { 0 };

	q.from_domain = "not a domain";
	CP_CHECK_INT(cp_dmarc_evaluate(e.dns, e.psl, &q, &v, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "not a domain") != NULL, "msg: %s", err.msg);
	cp_dmarc_verdict_clear(&v);
	q.from_domain = NULL;
	CP_CHECK_INT(cp_dmarc_evaluate(e.dns, e.psl, &q, &v, &err), CP_EINVAL);
	cp_dmarc_verdict_clear(&v);
	/* a From domain whose _dmarc name is too long for DNS: none */
	{
		char name[260];

		memset(name, 'a', 63);
		memcpy(name + 63, ".", 1);
		memset(name + 64, 'b', 63);
		memcpy(name + 127, ".", 1);
		memset(name + 128, 'c', 63);
		memcpy(name + 191, ".", 1);
		memset(name + 192, 'd', 57);
		memcpy(name + 249, ".com", 5);
		eval(&e, name, NULL, NULL, NULL, 0, &v);
		EXPECT(&v, "none", "none");
		cp_dmarc_verdict_clear(&v);
	}
	teardown(&e);
}

/* Every allocation failing in turn: CP_ENOMEM or a verdict, no leak. */
CP_TEST(dmarc_eval_alloc_failures)
{
	env e = setup();
	cp_dmarc_dkim d[2] = { { CP_AUTH_PASS, "example.com", "s" },
		{ CP_AUTH_FAIL, "x.example", "s" } };
	cp_dmarc_query q = { 0 };
	int nomem = 0;

	q.from_domain = "news.example.edu";
	q.spf_domain = "example.edu";
	q.spf_result = CP_AUTH_PASS;
	q.dkim = d;
	q.ndkim = 2;
	for (unsigned long n = 1; n < 150; n++) {
		cp_dmarc_verdict v;
		cp_err err = { 0 };
		int rc;

		cp_alloc_fail_at(n);
		rc = cp_dmarc_evaluate(e.dns, e.psl, &q, &v, &err);
		cp_alloc_fail_at(0);
		CP_CHECK(rc == CP_OK || rc == CP_ENOMEM, "n=%lu: rc %d", n, rc);
		nomem += rc == CP_ENOMEM;
		cp_dmarc_verdict_clear(&v);
	}
	CP_CHECK(nomem > 0, "no allocation failed");
	teardown(&e);
}
