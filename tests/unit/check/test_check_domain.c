/*
 * Unit tests: the domain check (src/check/) on the fake resolver, zone
 * tests/data/check/check.zone: each finding, a good set-up and bad ones.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/check.h"
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
	snprintf(path, sizeof(path), "%s/check/check.zone", cptest_data_dir());
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

/* Check domain with up to 4 IPs and 8 selectors (NULL-terminated). */
static cp_check_report *
run(env *e, const char *domain, const char *const *ips,
    const char *const *sels)
{
	cp_check_opts o = { 0 };
	cp_check_report *r = NULL;
	cp_err err = { 0 };
	int rc;

	o.dns = e->dns;
	o.psl = e->psl;
	o.ips = ips;
	for (o.nips = 0; ips != NULL && ips[o.nips] != NULL; o.nips++)
		;
	o.selectors = sels;
	for (o.nselectors = 0; sels != NULL && sels[o.nselectors] != NULL;
	    o.nselectors++)
		;
	rc = cp_check_domain(&o, domain, &r, &err);
	CP_CHECK(rc == CP_OK && r != NULL, "%s: rc %d (%s)", domain, rc,
	    err.msg);
	if (r == NULL)
		_exit(1);
	return r;
}

/* The finding id [subject] has status st; returns it (or NULL). */
static const cp_check_finding *
expect_at(const cp_check_report *r, const char *id, const char *subject,
    cp_check_status st, int line)
{
	const cp_check_finding *f = cp_check_report_find(r, id, subject);

	if (f == NULL) {
		cptest_fail(__FILE__, line, "%s: no finding %s%s%s", r->domain,
		    id, subject ? " " : "", subject ? subject : "");
		return NULL;
	}
	if (f->status != st)
		cptest_fail(__FILE__, line, "%s: %s%s%s is %s, want %s (%s)",
		    r->domain, id, subject ? " " : "", subject ? subject : "",
		    cp_check_status_name(f->status), cp_check_status_name(st),
		    f->summary);
	return f;
}
#define expect(r, id, subj, st) expect_at(r, id, subj, st, __LINE__)

static void
expect_none(const cp_check_report *r, const char *id, int line)
{
	if (cp_check_report_find(r, id, NULL) != NULL)
		cptest_fail(__FILE__, line, "%s: unexpected finding %s",
		    r->domain, id);
}

static int
has_evidence(const cp_check_finding *f, const char *needle)
{
	for (size_t i = 0; f != NULL && i < f->nevidence; i++)
		if (strstr(f->evidence[i], needle) != NULL)
			return 1;
	return 0;
}

static int
fix_has(const cp_check_finding *f, const char *needle)
{
	return f != NULL && f->fix != NULL && strstr(f->fix, needle) != NULL;
}

CP_TEST(check_good_setup)
{
	env e = setup();
	static const char *const ips[] = { "192.0.2.10", NULL };
	static const char *const sels[] = { "s1", NULL };
	cp_check_report *r = run(&e, "Good.Test.", ips, sels);
	const cp_check_finding *f;

	CP_CHECK_STR(r->domain, "good.test");
	CP_CHECK_STR(r->org_domain, "good.test");
	CP_CHECK_INT(r->nfail, 0);
	CP_CHECK_INT(r->nwarn, 0);
	for (size_t i = 0; i < r->n; i++)
		CP_CHECK(r->findings[i].status == CP_CHECK_PASS, "%s: %s",
		    r->findings[i].id, r->findings[i].summary);
	f = expect(r, "spf.record", NULL, CP_CHECK_PASS);
	CP_CHECK(has_evidence(f, "good.test. TXT \"v=spf1 ip4:192.0.2.10 "
	    "include:_spf.good.test -all\""), "SPF record verbatim");
	expect(r, "spf.syntax", NULL, CP_CHECK_PASS);
	expect(r, "spf.lookups", NULL, CP_CHECK_PASS);
	CP_CHECK_INT(r->spf_lookups, 1);
	CP_CHECK(r->spf_path == NULL, "no path under the limit");
	expect(r, "spf.void", NULL, CP_CHECK_PASS);
	expect(r, "spf.includes", NULL, CP_CHECK_PASS);
	expect(r, "spf.all", NULL, CP_CHECK_PASS);
	expect(r, "spf.ip", "192.0.2.10", CP_CHECK_PASS);
	expect(r, "dkim.record", "s1", CP_CHECK_PASS);
	f = expect(r, "dkim.key", "s1", CP_CHECK_PASS);
	CP_CHECK(f && strstr(f->summary, "2048-bit RSA"), "key size named");
	expect(r, "dkim.testing", "s1", CP_CHECK_PASS);
	expect_none(r, "dkim.selectors", __LINE__);
	expect(r, "dmarc.record", NULL, CP_CHECK_PASS);
	expect(r, "dmarc.policy", NULL, CP_CHECK_PASS);
	expect(r, "dmarc.pct", NULL, CP_CHECK_PASS);
	expect(r, "dmarc.rua", NULL, CP_CHECK_PASS);
	expect(r, "dmarc.subdomains", NULL, CP_CHECK_PASS);
	expect_none(r, "dmarc.org", __LINE__);
	expect(r, "mx.record", NULL, CP_CHECK_PASS);
	expect(r, "mx.resolve", NULL, CP_CHECK_PASS);
	expect(r, "ptr.record", "192.0.2.10", CP_CHECK_PASS);
	expect(r, "ptr.fcrdns", "192.0.2.10", CP_CHECK_PASS);
	expect(r, "ptr.ehlo", "192.0.2.10", CP_CHECK_PASS);
	f = expect(r, "mta_sts.record", NULL, CP_CHECK_PASS);
	CP_CHECK(f && f->detail && strstr(f->detail, "HTTPS"), "says the "
	    "policy is not fetched");
	expect(r, "tls_rpt.record", NULL, CP_CHECK_PASS);
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_ipv6_sender)
{
	env e = setup();
	static const char *const ips[] = { "2001:db8::1", NULL };
	static const char *const sels[] = { "s1", NULL };
	cp_check_report *r = run(&e, "good.test", ips, sels);
	const cp_check_finding *f;

	f = expect(r, "spf.ip", "2001:db8::1", CP_CHECK_FAIL);
	CP_CHECK(fix_has(f, "v=spf1 ip6:2001:db8::1 ip4:192.0.2.10"), "fix: "
	    "ip6 term first (%s)", f ? f->fix : "");
	expect(r, "ptr.record", "2001:db8::1", CP_CHECK_PASS);
	expect(r, "ptr.fcrdns", "2001:db8::1", CP_CHECK_PASS);
	expect(r, "ptr.ehlo", "2001:db8::1", CP_CHECK_PASS);
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_nothing_published)
{
	env e = setup();
	static const char *const ips[] = { "192.0.2.20", NULL };
	cp_check_report *r = run(&e, "nothing.test", ips, NULL);
	const cp_check_finding *f;

	f = expect(r, "spf.record", NULL, CP_CHECK_FAIL);
	CP_CHECK(fix_has(f, "nothing.test. TXT \"v=spf1 ip4:192.0.2.20 -all\""),
	    "fix: a record with the IP (%s)", f ? f->fix : "");
	expect_none(r, "spf.syntax", __LINE__);
	expect_none(r, "spf.lookups", __LINE__);
	CP_CHECK_INT(r->spf_lookups, -1);
	expect(r, "spf.ip", "192.0.2.20", CP_CHECK_FAIL);
	CP_CHECK(r->dkim_probed, "common selectors probed");
	CP_CHECK_INT(r->ndkim_found, 0);
	expect(r, "dkim.selectors", NULL, CP_CHECK_FAIL);
	f = expect(r, "dmarc.record", NULL, CP_CHECK_FAIL);
	CP_CHECK(fix_has(f, "_dmarc.nothing.test. TXT \"v=DMARC1; p=none; "
	    "rua=mailto:dmarc-reports@nothing.test\""), "DMARC fix");
	expect_none(r, "dmarc.policy", __LINE__);
	expect(r, "mx.record", NULL, CP_CHECK_FAIL);
	expect_none(r, "mx.resolve", __LINE__);
	f = expect(r, "ptr.record", "192.0.2.20", CP_CHECK_FAIL);
	CP_CHECK(fix_has(f, "20.2.0.192.in-addr.arpa. PTR mail.nothing.test."),
	    "PTR fix");
	expect_none(r, "ptr.fcrdns", __LINE__);
	expect(r, "mta_sts.record", NULL, CP_CHECK_WARN);
	expect(r, "tls_rpt.record", NULL, CP_CHECK_WARN);
	CP_CHECK(r->nfail >= 6, "fails: %zu", r->nfail);
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_spf_findings)
{
	env e = setup();
	static const char *const ip[] = { "192.0.2.10", NULL };
	cp_check_report *r;
	const cp_check_finding *f;

	r = run(&e, "twospf.test", ip, NULL);
	f = expect(r, "spf.record", NULL, CP_CHECK_FAIL);
	CP_CHECK(f && f->nevidence == 2, "both records shown, not the "
	    "verification TXT");
	CP_CHECK(fix_has(f, "\"v=spf1 ip4:192.0.2.10 include:_spf.good.test "
	    "-all\""), "merged record (%s)", f ? f->fix : "");
	expect_none(r, "spf.syntax", __LINE__);
	f = expect(r, "spf.ip", "192.0.2.10", CP_CHECK_FAIL);
	CP_CHECK(f && strstr(f->summary, "permerror"), "permerror");
	cp_check_report_free(r);

	r = run(&e, "lookups.test", NULL, NULL);
	f = expect(r, "spf.lookups", NULL, CP_CHECK_FAIL);
	CP_CHECK_INT(r->spf_lookups, 11);
	CP_CHECK(r->spf_path != NULL && strcmp(r->spf_path, "lookups.test -> "
	    "include:a.lookups.test -> include:c.lookups.test -> "
	    "a:h.lookups.test (in c.lookups.test): lookup 11") == 0,
	    "path: %s", r->spf_path ? r->spf_path : "(none)");
	CP_CHECK(r->nspf_tree == 4, "tree lines: %zu", r->nspf_tree);
	CP_CHECK(has_evidence(f, "    b.lookups.test (include:b.lookups.test)"
	    ": 3 lookups"), "tree in evidence");
	expect(r, "spf.includes", NULL, CP_CHECK_PASS);
	cp_check_report_free(r);

	r = run(&e, "edge.test", NULL, NULL);
	expect(r, "spf.lookups", NULL, CP_CHECK_WARN);
	CP_CHECK_INT(r->spf_lookups, 9);
	cp_check_report_free(r);

	r = run(&e, "syntax.test", ip, NULL);
	expect(r, "spf.record", NULL, CP_CHECK_PASS);
	f = expect(r, "spf.syntax", NULL, CP_CHECK_FAIL);
	CP_CHECK(f && strstr(f->summary, "'ip4:192.0.2.300'"), "offending "
	    "term shown: %s", f ? f->summary : "");
	CP_CHECK(fix_has(f, "syntax.test. TXT \"v=spf1 ip4:192.0.2.10 -all\""),
	    "record without the term");
	expect_none(r, "spf.lookups", __LINE__);
	f = expect(r, "spf.ip", "192.0.2.10", CP_CHECK_FAIL);
	CP_CHECK(fix_has(f, "spf.syntax"), "ip fix points at the syntax");
	cp_check_report_free(r);

	r = run(&e, "void.test", NULL, NULL);
	f = expect(r, "spf.void", NULL, CP_CHECK_FAIL);
	CP_CHECK_INT(r->spf_void, 3);
	CP_CHECK(has_evidence(f, "nx3.void.test (mx:nx3.void.test)"), "names");
	cp_check_report_free(r);
	r = run(&e, "onevoid.test", NULL, NULL);
	expect(r, "spf.void", NULL, CP_CHECK_WARN);
	cp_check_report_free(r);

	r = run(&e, "plusall.test", NULL, NULL);
	f = expect(r, "spf.all", NULL, CP_CHECK_FAIL);
	CP_CHECK(fix_has(f, "\"v=spf1 ip4:192.0.2.10 -all\""), "fix: -all");
	cp_check_report_free(r);
	r = run(&e, "qall.test", NULL, NULL);
	expect(r, "spf.all", NULL, CP_CHECK_WARN);
	cp_check_report_free(r);
	r = run(&e, "softall.test", NULL, NULL);
	expect(r, "spf.all", NULL, CP_CHECK_PASS);
	cp_check_report_free(r);
	r = run(&e, "noall.test", NULL, NULL);
	f = expect(r, "spf.all", NULL, CP_CHECK_WARN);
	CP_CHECK(fix_has(f, "\"v=spf1 ip4:192.0.2.10 -all\""), "fix adds -all");
	cp_check_report_free(r);
	r = run(&e, "redir.test", NULL, NULL);
	expect(r, "spf.all", NULL, CP_CHECK_PASS); /* from the redirect */
	expect(r, "spf.includes", NULL, CP_CHECK_PASS);
	CP_CHECK_INT(r->spf_lookups, 1);
	cp_check_report_free(r);

	r = run(&e, "badinclude.test", ip, NULL);
	f = expect(r, "spf.includes", NULL, CP_CHECK_FAIL);
	CP_CHECK(has_evidence(f, "missing.badinclude.test has no SPF record"),
	    "names the include");
	expect(r, "spf.ip", "192.0.2.10", CP_CHECK_PASS); /* ip4 first */
	cp_check_report_free(r);

	r = run(&e, "ptrmech.test", NULL, NULL);
	expect(r, "spf.ptr", NULL, CP_CHECK_WARN);
	cp_check_report_free(r);

	static const char *const other[] = { "203.0.113.9", NULL };
	r = run(&e, "good.test", other, NULL);
	f = expect(r, "spf.ip", "203.0.113.9", CP_CHECK_FAIL);
	CP_CHECK(fix_has(f, "good.test. TXT \"v=spf1 ip4:203.0.113.9 "
	    "ip4:192.0.2.10 include:_spf.good.test -all\""), "fix: %s",
	    f ? f->fix : "");
	CP_CHECK(has_evidence(f, "fail, by -all"), "mechanism shown");
	cp_check_report_free(r);

	r = run(&e, "spftemp.test", NULL, NULL);
	expect(r, "spf.record", NULL, CP_CHECK_FAIL);
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_dkim_findings)
{
	env e = setup();
	static const char *const sels[] = { "k2048", "k512", "k1024",
		"testing", "revoked", "broken", "sha1", "ed", "missing",
		"notkey", NULL };
	cp_check_report *r = run(&e, "dkim.test", NULL, sels);
	const cp_check_finding *f;

	expect(r, "dkim.record", "k2048", CP_CHECK_PASS);
	expect(r, "dkim.key", "k2048", CP_CHECK_PASS);
	expect(r, "dkim.testing", "k2048", CP_CHECK_PASS);
	f = expect(r, "dkim.key", "k512", CP_CHECK_FAIL);
	CP_CHECK(f && strstr(f->summary, "512-bit"), "size: %s",
	    f ? f->summary : "");
	expect(r, "dkim.key", "k1024", CP_CHECK_WARN);
	f = expect(r, "dkim.testing", "testing", CP_CHECK_WARN);
	CP_CHECK(fix_has(f, "testing._domainkey.dkim.test. TXT \"v=DKIM1; "
	    "k=rsa; t=s; p=MIIB"), "fix keeps t=s: %s", f ? f->fix : "");
	f = expect(r, "dkim.record", "revoked", CP_CHECK_FAIL);
	CP_CHECK(f && strstr(f->summary, "revoked"), "revoked");
	CP_CHECK(cp_check_report_find(r, "dkim.key", "revoked") == NULL,
	    "no key finding for a revoked key");
	f = expect(r, "dkim.record", "broken", CP_CHECK_FAIL);
	CP_CHECK(has_evidence(f, "p=not base64!"), "record verbatim");
	expect(r, "dkim.record", "sha1", CP_CHECK_FAIL);
	expect(r, "dkim.record", "ed", CP_CHECK_PASS);
	f = expect(r, "dkim.key", "ed", CP_CHECK_PASS);
	CP_CHECK(f && f->detail && strstr(f->detail, "RSA"), "ed25519 note");
	expect(r, "dkim.record", "missing", CP_CHECK_FAIL);
	expect(r, "dkim.key", "notkey", CP_CHECK_FAIL);
	expect(r, "dkim.rsa", NULL, CP_CHECK_PASS);
	expect_none(r, "dkim.selectors", __LINE__);
	cp_check_report_free(r);

	/* probing: the common selectors, ed25519 only */
	r = run(&e, "edonly.test", NULL, NULL);
	f = expect(r, "dkim.selectors", NULL, CP_CHECK_PASS);
	CP_CHECK(r->ndkim_found == 1 && strcmp(r->dkim_found[0], "default") ==
	    0, "found default");
	CP_CHECK(r->findings[0].id != NULL, "findings");
	expect(r, "dkim.key", "default", CP_CHECK_PASS);
	expect(r, "dkim.rsa", NULL, CP_CHECK_WARN);
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_dmarc_findings)
{
	env e = setup();
	cp_check_report *r;
	const cp_check_finding *f;

	r = run(&e, "none.test", NULL, NULL);
	expect(r, "dmarc.record", NULL, CP_CHECK_PASS);
	f = expect(r, "dmarc.policy", NULL, CP_CHECK_WARN);
	CP_CHECK(f && f->detail && strstr(f->detail, "reports"), "advice");
	CP_CHECK(fix_has(f, "_dmarc.none.test. TXT \"v=DMARC1; p=quarantine; "
	    "rua=mailto:d@none.test\""), "fix: %s", f ? f->fix : "");
	expect(r, "dmarc.pct", NULL, CP_CHECK_PASS);
	expect(r, "dmarc.rua", NULL, CP_CHECK_PASS);
	cp_check_report_free(r);

	r = run(&e, "pct.test", NULL, NULL);
	expect(r, "dmarc.policy", NULL, CP_CHECK_PASS);
	f = expect(r, "dmarc.pct", NULL, CP_CHECK_WARN);
	CP_CHECK(fix_has(f, "\"v=DMARC1; p=quarantine; rua=mailto:d@pct.test\""),
	    "fix: %s", f ? f->fix : "");
	cp_check_report_free(r);

	r = run(&e, "norua.test", NULL, NULL);
	f = expect(r, "dmarc.rua", NULL, CP_CHECK_WARN);
	CP_CHECK(fix_has(f, "rua=mailto:dmarc-reports@norua.test"), "rua fix");
	cp_check_report_free(r);

	r = run(&e, "malformed.test", NULL, NULL);
	f = expect(r, "dmarc.record", NULL, CP_CHECK_FAIL);
	CP_CHECK(has_evidence(f, "\"v=DMARC1; p=bogus; aspf=x\""), "verbatim");
	expect_none(r, "dmarc.policy", __LINE__);
	cp_check_report_free(r);

	r = run(&e, "twodmarc.test", NULL, NULL);
	f = expect(r, "dmarc.record", NULL, CP_CHECK_FAIL);
	CP_CHECK(f && f->nevidence == 2, "both shown");
	cp_check_report_free(r);

	r = run(&e, "weaksp.test", NULL, NULL);
	f = expect(r, "dmarc.subdomains", NULL, CP_CHECK_WARN);
	CP_CHECK(fix_has(f, "\"v=DMARC1; p=reject; rua=mailto:d@weaksp.test\""),
	    "sp dropped: %s", f ? f->fix : "");
	cp_check_report_free(r);

	/* a subdomain under a record at the organizational domain */
	r = run(&e, "mail.org.test", NULL, NULL);
	CP_CHECK_STR(r->org_domain, "org.test");
	f = expect(r, "dmarc.record", NULL, CP_CHECK_PASS);
	CP_CHECK(has_evidence(f, "_dmarc.org.test. TXT"), "org record");
	f = expect(r, "dmarc.policy", NULL, CP_CHECK_PASS);
	CP_CHECK(f && strstr(f->summary, "sp=quarantine"), "sp applies: %s",
	    f ? f->summary : "");
	expect(r, "dmarc.org", NULL, CP_CHECK_PASS);
	expect(r, "dmarc.subdomains", NULL, CP_CHECK_PASS);
	cp_check_report_free(r);

	/* a subdomain with its own record, the org without one */
	r = run(&e, "own.nodmarcorg.test", NULL, NULL);
	expect(r, "dmarc.record", NULL, CP_CHECK_PASS);
	expect(r, "dmarc.policy", NULL, CP_CHECK_PASS);
	expect(r, "dmarc.org", NULL, CP_CHECK_WARN);
	cp_check_report_free(r);

	r = run(&e, "extrua.test", NULL, NULL);
	f = expect(r, "dmarc.rua", NULL, CP_CHECK_WARN);
	CP_CHECK(fix_has(f, "extrua.test._report._dmarc.reports.example"),
	    "authorization record: %s", f ? f->fix : "");
	cp_check_report_free(r);
	r = run(&e, "okrua.test", NULL, NULL);
	expect(r, "dmarc.rua", NULL, CP_CHECK_PASS);
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_mx_findings)
{
	env e = setup();
	cp_check_report *r;
	const cp_check_finding *f;

	r = run(&e, "nullmx.test", NULL, NULL);
	f = expect(r, "mx.record", NULL, CP_CHECK_FAIL);
	CP_CHECK(f && strstr(f->summary, "null MX"), "null MX named");
	expect_none(r, "mx.resolve", __LINE__);
	cp_check_report_free(r);
	r = run(&e, "implicit.test", NULL, NULL);
	expect(r, "mx.record", NULL, CP_CHECK_WARN);
	cp_check_report_free(r);
	r = run(&e, "deadmx.test", NULL, NULL);
	expect(r, "mx.record", NULL, CP_CHECK_PASS);
	expect(r, "mx.resolve", NULL, CP_CHECK_FAIL);
	CP_CHECK(r->nfail >= 1 && r->npass + r->nwarn + r->nfail == r->n,
	    "counts follow a restated finding");
	cp_check_report_free(r);
	r = run(&e, "halfmx.test", NULL, NULL);
	expect(r, "mx.resolve", NULL, CP_CHECK_WARN);
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_ptr_findings)
{
	env e = setup();
	static const char *const ips[] = { "192.0.2.21", "192.0.2.22",
		"192.0.2.23", "192.0.2.24", NULL };
	cp_check_report *r = run(&e, "good.test", ips, NULL);
	const cp_check_finding *f;

	expect(r, "ptr.record", "192.0.2.21", CP_CHECK_PASS);
	f = expect(r, "ptr.fcrdns", "192.0.2.21", CP_CHECK_FAIL);
	CP_CHECK(fix_has(f, "mail.noconfirm.test. A 192.0.2.21"), "fix");
	expect(r, "ptr.fcrdns", "192.0.2.22", CP_CHECK_PASS);
	f = expect(r, "ptr.ehlo", "192.0.2.22", CP_CHECK_FAIL);
	CP_CHECK(f && strstr(f->summary, "192.0.2.22"), "why: %s",
	    f ? f->summary : "");
	expect(r, "ptr.ehlo", "192.0.2.23", CP_CHECK_WARN);
	f = expect(r, "ptr.ehlo", "192.0.2.24", CP_CHECK_FAIL);
	CP_CHECK(f && strstr(f->summary, "'dsl'"), "word: %s",
	    f ? f->summary : "");
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_sts_tlsrpt_findings)
{
	env e = setup();
	cp_check_report *r;
	const cp_check_finding *f;

	r = run(&e, "stsbad.test", NULL, NULL);
	f = expect(r, "mta_sts.record", NULL, CP_CHECK_FAIL);
	CP_CHECK(has_evidence(f, "\"v=STSv1; id=not valid!\""), "verbatim");
	expect(r, "tls_rpt.record", NULL, CP_CHECK_FAIL);
	cp_check_report_free(r);
	r = run(&e, "sts2.test", NULL, NULL);
	expect(r, "mta_sts.record", NULL, CP_CHECK_FAIL);
	f = expect(r, "tls_rpt.record", NULL, CP_CHECK_PASS);
	CP_CHECK(f && strstr(f->summary, "https://reports.sts2.test/tls"),
	    "https rua");
	cp_check_report_free(r);
	teardown(&e);
}

CP_TEST(check_bad_arguments)
{
	env e = setup();
	static const char *const bad_ip[] = { "192.0.2.300", NULL };
	cp_check_opts o = { 0 };
	cp_check_report *r = NULL;
	cp_err err = { 0 };

	o.dns = e.dns;
	o.psl = e.psl;
	CP_CHECK_INT(cp_check_domain(&o, "no spaces.test", &r, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_check_domain(&o, "localhost", &r, &err), CP_EINVAL);
	CP_CHECK_INT(cp_check_domain(&o, "a..b", &r, &err), CP_EINVAL);
	o.ips = bad_ip;
	o.nips = 1;
	CP_CHECK_INT(cp_check_domain(&o, "good.test", &r, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "192.0.2.300") != NULL, "%s", err.msg);
	CP_CHECK(r == NULL, "no report");
	teardown(&e);
}

/* Every allocation failing in turn: CP_ENOMEM and no leak, or a report. */
CP_TEST(check_alloc_failures)
{
	env e = setup();
	static const char *const ips[] = { "192.0.2.10", NULL };
	static const char *const sels[] = { "s1", NULL };
	cp_check_opts o = { 0 };
	int seen_ok = 0;

	o.dns = e.dns;
	o.psl = e.psl;
	o.ips = ips;
	o.nips = 1;
	o.selectors = sels;
	o.nselectors = 1;
	for (unsigned long n = 1; n < 1500; n += 2) {
		cp_check_report *r = NULL;
		cp_err err = { 0 };
		int rc;

		cp_alloc_fail_at(n);
		rc = cp_check_domain(&o, "good.test", &r, &err);
		cp_alloc_fail_at(0);
		CP_CHECK(rc == CP_OK || rc == CP_ENOMEM, "n=%lu: rc %d", n, rc);
		CP_CHECK((rc == CP_OK) == (r != NULL), "n=%lu: report iff ok", n);
		if (rc == CP_OK)
			seen_ok++;
		cp_check_report_free(r);
	}
	CP_CHECK(seen_ok, "completes once allocations stop failing");
	teardown(&e);
}
