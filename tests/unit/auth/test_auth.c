/*
 * Unit tests: SPF, DKIM and DMARC of a message together (src/auth/auth.c)
 * on the fake resolver, zone tests/data/auth/auth.zone; messages signed
 * here with tests/data/dkim/keys/rsa2048.pem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/auth.h"
#include "cptest.h"

#define AUTH_NOW 1700000000

static const char msg_plain[] =
    "From: \"Doe, Jane\" <jane@auth.test>\r\n"
    "To: bob@example.net\r\n"
    "Subject: hello\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <1@auth.test>\r\n"
    "\r\n"
    "Hi Bob,\r\n"
    "see you.\r\n";

typedef struct tenv {
	cp_dns *dns;
	cp_psl *psl;
} tenv;

static tenv
setup(void)
{
	char path[512];
	cp_err err = { 0 };
	tenv e;

	e.dns = cp_dns_new_fake();
	snprintf(path, sizeof(path), "%s/auth/auth.zone", cptest_data_dir());
	CP_CHECK(cp_dns_fake_load(e.dns, path, &err) == CP_OK, "zone: %s",
	    err.msg);
	e.psl = cp_psl_load(NULL, &err);
	CP_CHECK(e.psl != NULL, "psl: %s", err.msg);
	if (e.psl == NULL)
		_exit(1);
	return e;
}

static void
teardown(tenv *e)
{
	cp_dns_free(e->dns);
	cp_psl_free(e->psl);
}

/* msg with a DKIM-Signature of auth.test (selector s1) in front; free(). */
static char *
sign(const char *msg, const char *domain)
{
	char path[512];
	cp_dkim_sign_opts o = { 0 };
	cp_dkim_signer *s = NULL;
	cp_dkim_key *key = NULL;
	cp_err err = { 0 };
	cp_buf sig;
	char *out;

	snprintf(path, sizeof(path), "%s/dkim/keys/rsa2048.pem",
	    cptest_data_dir());
	CP_CHECK(cp_dkim_key_load(path, &key, &err) == CP_OK, "key: %s",
	    err.msg);
	o.key = key;
	o.domain = domain;
	o.selector = "s1";
	o.hcanon = o.bcanon = CP_DKIM_RELAXED;
	o.timestamp = AUTH_NOW - 60;
	cp_buf_init(&sig, 1 << 20);
	CP_CHECK(cp_dkim_signer_new(&o, 1, &s, &err) == CP_OK, "signer: %s",
	    err.msg);
	CP_CHECK(cp_dkim_signer_write(s, msg, strlen(msg), &err) == CP_OK &&
	    cp_dkim_signer_finish(s, "\r\n", &sig, &err) == CP_OK, "sign: %s",
	    err.msg);
	out = malloc(sig.len + strlen(msg) + 1);
	if (out == NULL)
		_exit(1);
	memcpy(out, sig.data, sig.len);
	memcpy(out + sig.len, msg, strlen(msg) + 1);
	cp_buf_free(&sig);
	cp_dkim_signer_free(s);
	cp_dkim_key_free(key);
	return out;
}

typedef struct mem_reader {
	const char *p;
	size_t len, off, step;
} mem_reader;

static ssize_t
mem_read(void *arg, char *buf, size_t len)
{
	mem_reader *m = arg;
	size_t n = m->len - m->off;

	if (n > len)
		n = len;
	if (m->step && n > m->step)
		n = m->step;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static int
check(tenv *e, const char *msg, const char *ip, const char *helo,
    const char *mail_from, size_t step, cp_auth_verdict *v)
{
	cp_auth_opts o = { 0 };
	cp_auth_envelope env = { 0 };
	mem_reader m = { msg, strlen(msg), 0, step };
	cp_err err = { 0 };
	int rc;

	o.dns = e->dns;
	o.psl = e->psl;
	o.now = AUTH_NOW;
	env.ip = ip;
	env.helo = helo;
	env.mail_from = mail_from;
	rc = cp_auth_check_message(&o, &env, mem_read, &m, v, &err);
	CP_CHECK(rc == CP_OK, "check: %d %s", rc, err.msg);
	return rc;
}

/* The rendered field, on one line; free(). */
static char *
render(const cp_auth_verdict *v, const char *mail_from, const char *helo)
{
	cp_auth_envelope env = { "192.0.2.10", helo, mail_from, NULL };
	cp_err err = { 0 };
	cp_buf b;

	cp_buf_init(&b, 1 << 16);
	CP_CHECK(cp_auth_render(v, &env, "mx.example.net", NULL, &b, &err) ==
	    CP_OK, "render: %s", err.msg);
	return b.data ? b.data : cp_strdup("");
}

CP_TEST(auth_all_pass)
{
	tenv e = setup();
	char *m = sign(msg_plain, "auth.test"), *ar;
	cp_auth_verdict v;

	check(&e, m, "192.0.2.10", "mail.auth.test", "bounce@auth.test", 0, &v);
	CP_CHECK_INT(v.spf, CP_AUTH_PASS);
	CP_CHECK_STR(v.spf_domain, "auth.test");
	CP_CHECK_INT(v.spf_helo, 0);
	CP_CHECK_INT(v.dkim, CP_AUTH_PASS);
	CP_CHECK_INT(v.nsigs, 1);
	CP_CHECK_INT(v.dmarc, CP_DMARC_PASS);
	CP_CHECK_STR(v.dmarc_domain, "auth.test");
	CP_CHECK_INT(v.nfrom_fields, 1);
	CP_CHECK_INT(v.ndmarcs, 1);
	CP_CHECK(strlen(v.sigs[0].b) == 8, "header.b: '%s'", v.sigs[0].b);
	ar = render(&v, "bounce@auth.test", "mail.auth.test");
	{
		char want[512];

		snprintf(want, sizeof(want), "Authentication-Results: "
		    "mx.example.net; spf=pass (ip4:192.0.2.10) "
		    "smtp.mailfrom=bounce@auth.test; dkim=pass header.d=auth.test "
		    "header.s=s1 header.b=%s; dmarc=pass (p=reject dis=none) "
		    "header.from=auth.test", v.sigs[0].b);
		CP_CHECK_STR(ar, want);
	}
	/* what it renders parses back */
	{
		cp_authres *p = NULL;
		cp_err err = { 0 };

		CP_CHECK(cp_authres_parse(ar, strlen(ar), &p, &err) == CP_OK,
		    "parse: %s", err.msg);
		CP_CHECK_INT(cp_authres_count(p), 3);
		cp_authres_free(p);
	}
	cp_free(ar);
	cp_auth_verdict_clear(&v);

	/* the same, fed one byte at a time */
	check(&e, m, "192.0.2.10", "mail.auth.test", "bounce@auth.test", 1, &v);
	CP_CHECK_INT(v.spf, CP_AUTH_PASS);
	CP_CHECK_INT(v.dkim, CP_AUTH_PASS);
	CP_CHECK_INT(v.dmarc, CP_DMARC_PASS);
	cp_auth_verdict_clear(&v);
	free(m);
	teardown(&e);
}

CP_TEST(auth_tampered_body_and_wrong_ip)
{
	tenv e = setup();
	char *m = sign(msg_plain, "auth.test"), *p, *ar;
	cp_auth_verdict v;

	p = strstr(m, "see you.");
	p[0] = 'S'; /* the body changed after signing */
	check(&e, m, "192.0.2.10", "mail.auth.test", "bounce@auth.test", 0, &v);
	CP_CHECK_INT(v.dkim, CP_AUTH_FAIL);
	CP_CHECK_INT(v.sigs[0].r.reason, CP_DKIM_EBODYHASH);
	CP_CHECK_INT(v.spf, CP_AUTH_PASS);
	/* SPF aligned (bounce.auth.test, relaxed): DMARC still passes */
	CP_CHECK_INT(v.dmarc, CP_DMARC_PASS);
	cp_auth_verdict_clear(&v);

	/* tampered, from another IP: nothing left to pass */
	check(&e, m, "198.51.100.1", "mail.auth.test", "bounce@auth.test", 0,
	    &v);
	CP_CHECK_INT(v.spf, CP_AUTH_FAIL);
	CP_CHECK_INT(v.dkim, CP_AUTH_FAIL);
	CP_CHECK_INT(v.dmarc, CP_DMARC_FAIL);
	CP_CHECK_INT(v.disposition, CP_DMARC_DISP_REJECT);
	ar = render(&v, "bounce@auth.test", "mail.auth.test");
	CP_CHECK(strstr(ar, "spf=fail (-all)") && strstr(ar, "dkim=fail "
	    "reason=") && strstr(ar, "dmarc=fail (p=reject dis=reject)"), "%s",
	    ar);
	cp_free(ar);
	cp_auth_verdict_clear(&v);
	free(m);

	/* intact message, wrong IP: DKIM carries DMARC */
	m = sign(msg_plain, "auth.test");
	check(&e, m, "198.51.100.1", "mail.auth.test", "bounce@auth.test", 0,
	    &v);
	CP_CHECK_INT(v.spf, CP_AUTH_FAIL);
	CP_CHECK_INT(v.dkim, CP_AUTH_PASS);
	CP_CHECK_INT(v.dmarc, CP_DMARC_PASS);
	cp_auth_verdict_clear(&v);
	free(m);
	teardown(&e);
}

CP_TEST(auth_null_sender_checks_helo)
{
	tenv e = setup();
	cp_auth_verdict v;
	char *ar;

	check(&e, msg_plain, "192.0.2.10", "mail.auth.test", "", 0, &v);
	CP_CHECK_INT(v.spf_helo, 1);
	CP_CHECK_INT(v.spf, CP_AUTH_PASS);
	CP_CHECK_STR(v.spf_domain, "mail.auth.test");
	CP_CHECK_INT(v.dkim, CP_AUTH_NONE);
	CP_CHECK_INT(v.dmarc, CP_DMARC_PASS); /* HELO aligned, relaxed */
	ar = render(&v, "", "mail.auth.test");
	CP_CHECK(strstr(ar, "spf=pass (ip4:192.0.2.10) smtp.helo=mail.auth.test;"
	    " dkim=none;") != NULL, "%s", ar);
	cp_free(ar);
	cp_auth_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(auth_from_field_problems)
{
	tenv e = setup();
	cp_auth_verdict v;
	char *ar;
	static const struct {
		const char *msg;
		const char *why;
	} bad[] = {
		{ "To: b@example.net\r\nSubject: x\r\n\r\nbody\r\n",
		    "no From header field" },
		{ "From: a@auth.test\r\nFrom: b@auth.test\r\n\r\nbody\r\n",
		    "2 From header fields" },
		{ "From: Jane\r\n\r\nbody\r\n", "From field unusable" },
		{ "From: Undisclosed:;\r\n\r\nbody\r\n", "no address" },
		{ "From: a@[192.0.2.1]\r\n\r\nbody\r\n", "domain literal" },
	};

	for (size_t i = 0; i < CP_NELEM(bad); i++) {
		check(&e, bad[i].msg, "192.0.2.10", "mail.auth.test",
		    "b@auth.test", 0, &v);
		CP_CHECK(v.dmarc == CP_DMARC_PERMERROR, "case %zu: dmarc %s", i,
		    cp_dmarc_result_name(v.dmarc));
		CP_CHECK(strstr(v.from_error, bad[i].why) != NULL, "case %zu: %s",
		    i, v.from_error);
		CP_CHECK_INT(v.spf, CP_AUTH_PASS); /* SPF is still reported */
		ar = render(&v, "b@auth.test", "mail.auth.test");
		CP_CHECK(strstr(ar, "dmarc=permerror reason=") != NULL, "%s", ar);
		cp_free(ar);
		cp_auth_verdict_clear(&v);
	}
	/* a message that is all header (no empty line) still works */
	check(&e, "From: a@auth.test\r\nSubject: x\r\n", "192.0.2.10",
	    "mail.auth.test", "b@auth.test", 0, &v);
	CP_CHECK_INT(v.dmarc, CP_DMARC_PASS);
	cp_auth_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(auth_several_author_domains)
{
	tenv e = setup();
	cp_auth_verdict v;
	char *ar;

	/* auth.test passes through SPF; quiet.test fails (p=quarantine);
	   nodmarc.test has no policy: the strictest outcome is the fail */
	check(&e, "From: a@auth.test, b@quiet.test, c@nodmarc.test, "
	    "d@AUTH.test\r\n\r\nx\r\n", "192.0.2.10", "mail.auth.test",
	    "b@auth.test", 0, &v);
	CP_CHECK_INT(v.ndmarcs, 3); /* auth.test once */
	CP_CHECK_INT(v.dmarc, CP_DMARC_FAIL);
	CP_CHECK_INT(v.disposition, CP_DMARC_DISP_QUARANTINE);
	CP_CHECK_STR(v.dmarc_domain, "quiet.test");
	CP_CHECK(strstr(v.dmarc_reason, "3 author domains") != NULL, "%s",
	    v.dmarc_reason);
	ar = render(&v, "b@auth.test", "mail.auth.test");
	CP_CHECK(strstr(ar, "dmarc=pass (p=reject dis=none) "
	    "header.from=auth.test") && strstr(ar, "dmarc=fail "
	    "(p=quarantine dis=quarantine) header.from=quiet.test") &&
	    strstr(ar, "dmarc=none header.from=nodmarc.test"), "%s", ar);
	cp_free(ar);
	cp_auth_verdict_clear(&v);
	teardown(&e);
}

CP_TEST(auth_given_spf_and_errors)
{
	tenv e = setup();
	cp_auth_opts o = { 0 };
	cp_auth_envelope env = { 0 };
	cp_spf_result spf = { 0 };
	cp_auth_verdict v;
	cp_auth *a = NULL;
	cp_err err = { 0 };
	unsigned long before;

	o.dns = e.dns;
	o.psl = e.psl;
	o.now = AUTH_NOW;
	env.ip = "not-an-ip";
	env.helo = "h";
	env.mail_from = "a@auth.test";
	CP_CHECK_INT(cp_auth_new(&o, &env, &a, &err), CP_EINVAL);
	CP_CHECK(a == NULL, "nothing made");
	env.ip = "192.0.2.10";
	env.helo = "";
	env.mail_from = "";
	CP_CHECK_INT(cp_auth_new(&o, &env, &a, &err), CP_EINVAL);

	/* an SPF result from the SMTP session is used, not recomputed */
	spf.result = CP_SPF_SOFTFAIL;
	snprintf(spf.domain, sizeof(spf.domain), "auth.test");
	snprintf(spf.mechanism, sizeof(spf.mechanism), "~all");
	env.helo = "mail.auth.test";
	env.mail_from = "a@auth.test";
	env.spf = &spf;
	CP_CHECK_INT(cp_auth_new(&o, &env, &a, &err), CP_OK);
	CP_CHECK_INT(cp_auth_write(a, msg_plain, strlen(msg_plain), &err),
	    CP_OK);
	before = cp_dns_fake_queries(e.dns);
	CP_CHECK_INT(cp_auth_finish(a, &v, &err), CP_OK);
	CP_CHECK_INT(v.spf, CP_AUTH_SOFTFAIL);
	CP_CHECK_STR(v.spf_res.mechanism, "~all");
	/* only DMARC's lookups: no SPF TXT query for auth.test */
	CP_CHECK(cp_dns_fake_queries(e.dns) - before <= 2, "queries: %lu",
	    cp_dns_fake_queries(e.dns) - before);
	CP_CHECK_INT(v.dmarc, CP_DMARC_FAIL);
	cp_auth_verdict_clear(&v);
	cp_auth_free(a);
	teardown(&e);
}

CP_TEST(auth_alloc_failures)
{
	tenv e = setup();
	char *m = sign(msg_plain, "auth.test");
	int ok = 0;

	for (unsigned long n = 1; n < 400; n++) {
		cp_auth_opts o = { 0 };
		cp_auth_envelope env = { "192.0.2.10", "mail.auth.test",
			"b@auth.test", NULL };
		mem_reader rd = { m, strlen(m), 0, 0 };
		cp_auth_verdict v;
		cp_err err = { 0 };
		int rc;

		o.dns = e.dns;
		o.psl = e.psl;
		o.now = AUTH_NOW;
		cp_alloc_fail_at(n);
		rc = cp_auth_check_message(&o, &env, mem_read, &rd, &v, &err);
		cp_alloc_fail_at(0);
		CP_CHECK(rc == CP_OK || rc == CP_ENOMEM, "n=%lu: rc %d (%s)", n,
		    rc, err.msg);
		if (rc == CP_OK && v.dkim == CP_AUTH_PASS &&
		    v.dmarc == CP_DMARC_PASS)
			ok++;
		cp_auth_verdict_clear(&v);
	}
	CP_CHECK(ok > 0, "passes once allocations stop failing");
	free(m);
	teardown(&e);
}
