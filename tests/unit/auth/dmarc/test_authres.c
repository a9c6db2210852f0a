/*
 * Unit tests: Authentication-Results (src/auth/authres.c), rendering with
 * RFC 8601 quoting, parsing, and the DMARC verdict's entry.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/authres.h"
#include "coldpost/dmarc.h"
#include "cptest.h"

static char *
render(const cp_authres *ar, const char *fold)
{
	cp_buf b;
	cp_err err = { 0 };

	cp_buf_init(&b, 8192);
	CP_CHECK(cp_authres_render(ar, fold, &b, &err) == CP_OK, "render: %s",
	    err.msg);
	return cp_buf_steal(&b);
}

CP_TEST(authres_render_spf_dkim_dmarc)
{
	cp_err err = { 0 };
	cp_authres *ar = cp_authres_new("mx.example.net", &err);
	char *s;

	CP_CHECK(ar != NULL, "new: %s", err.msg);
	CP_CHECK_INT(cp_authres_add_spf(ar, CP_AUTH_PASS, "bounce@example.com",
	    "mail.example.com", NULL, &err), CP_OK);
	CP_CHECK_INT(cp_authres_add_dkim(ar, CP_AUTH_PASS, "example.com", "sel1",
	    "ab/cd+efGHIJKLMNOP==", NULL, &err), CP_OK);
	CP_CHECK_INT(cp_authres_add_dkim(ar, CP_AUTH_FAIL, "esp.example", "s2",
	    "abcdefghijkl", "body hash mismatch", &err), CP_OK);
	CP_CHECK_INT(cp_authres_add_method(ar, "dmarc", "pass",
	    NULL, "p=reject dis=none", &err), CP_OK);
	CP_CHECK_INT(cp_authres_add_prop(ar, "header", "from", "example.com",
	    &err), CP_OK);
	s = render(ar, NULL);
	/* header.b: base64 '/' is a tspecial, so the value is quoted */
	CP_CHECK_STR(s, "Authentication-Results: mx.example.net; "
	    "spf=pass smtp.mailfrom=bounce@example.com; "
	    "dkim=pass header.d=example.com header.s=sel1 header.b=\"ab/cd+ef\"; "
	    "dkim=fail reason=\"body hash mismatch\" header.d=esp.example "
	    "header.s=s2 header.b=abcdefgh; "
	    "dmarc=pass (p=reject dis=none) header.from=example.com");
	cp_free(s);
	s = render(ar, "\r\n\t");
	{
		static const char want[] = "Authentication-Results: "
		    "mx.example.net;\r\n\tspf=pass smtp.mailfrom="
		    "bounce@example.com;\r\n\tdkim=pass";

		CP_CHECK(strncmp(s, want, sizeof(want) - 1) == 0, "folded: %s", s);
	}
	cp_free(s);
	cp_authres_free(ar);
}

CP_TEST(authres_render_quoting)
{
	cp_err err = { 0 };
	cp_authres *ar = cp_authres_new("relay 1 (edge)", &err);
	char *s;

	/* empty sender: the HELO identity */
	CP_CHECK_INT(cp_authres_add_spf(ar, CP_AUTH_NONE, "", "helo.example",
	    NULL, &err), CP_OK);
	/* local part that is not a dot-atom: the whole value is quoted */
	CP_CHECK_INT(cp_authres_add_spf(ar, CP_AUTH_SOFTFAIL, "a b\"c@example.com",
	    NULL, "quote \" and back\\slash", &err), CP_OK);
	CP_CHECK_INT(cp_authres_add_method(ar, "auth", "pass", NULL,
	    "nested (comment) \\ here", &err), CP_OK);
	CP_CHECK_INT(cp_authres_add_prop(ar, "smtp", "auth", "@example.com",
	    &err), CP_OK);
	CP_CHECK_INT(cp_authres_add_prop(ar, "policy", "x", "a=b;c", &err), CP_OK);
	s = render(ar, NULL);
	CP_CHECK_STR(s, "Authentication-Results: \"relay 1 (edge)\"; "
	    "spf=none smtp.helo=helo.example; "
	    "spf=softfail reason=\"quote \\\" and back\\\\slash\" "
	    "smtp.mailfrom=\"a b\\\"c@example.com\"; "
	    "auth=pass (nested \\(comment\\) \\\\ here) smtp.auth=@example.com "
	    "policy.x=\"a=b;c\"");
	cp_free(s);
	cp_authres_free(ar);

	/* nothing to report */
	ar = cp_authres_new("mx.example.net", &err);
	s = render(ar, NULL);
	CP_CHECK_STR(s, "Authentication-Results: mx.example.net; none");
	cp_free(s);
	cp_authres_free(ar);
}

CP_TEST(authres_refuses_injection)
{
	cp_err err = { 0 };
	cp_authres *ar;

	CP_CHECK(cp_authres_new("mx\r\nX-Evil: 1", &err) == NULL, "CRLF in id");
	CP_CHECK(cp_authres_new("", &err) == NULL, "empty id");
	ar = cp_authres_new("mx.example.net", &err);
	CP_CHECK_INT(cp_authres_add_method(ar, "sp f", "pass", NULL, NULL, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_authres_add_method(ar, "spf", "pass;x", NULL, NULL,
	    &err), CP_EINVAL);
	CP_CHECK_INT(cp_authres_add_method(ar, "spf", "pass", "a\nb", NULL,
	    &err), CP_EINVAL);
	CP_CHECK_INT(cp_authres_add_method(ar, "spf", "pass", NULL, NULL, &err),
	    CP_OK);
	CP_CHECK_INT(cp_authres_add_prop(ar, "smtp", "mailfrom", "x\r\ny",
	    &err), CP_EINVAL);
	CP_CHECK_INT(cp_authres_add_prop(ar, "smtp.x", "mailfrom", "x", &err),
	    CP_EINVAL);
	for (int i = 1; i < CP_AUTHRES_METHODS_MAX; i++)
		CP_CHECK_INT(cp_authres_add_method(ar, "x", "pass", NULL, NULL,
		    &err), CP_OK);
	CP_CHECK_INT(cp_authres_add_method(ar, "x", "pass", NULL, NULL, &err),
	    CP_ETOOBIG);
	cp_authres_free(ar);
}

CP_TEST(authres_parse_fields)
{
	static const char gmail[] =
	    "Authentication-Results: mx.google.com;\r\n"
	    "       dkim=pass header.i=@example.com header.s=20230601 "
	    "header.b=AbCdEf+/;\r\n"
	    "       spf=pass (google.com: domain of bounce@example.com designates "
	    "192.0.2.1 as permitted sender) smtp.mailfrom=bounce@example.com;\r\n"
	    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) "
	    "header.from=example.com";
	cp_authres *ar = NULL;
	const cp_authres_method *m;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_authres_parse(gmail, strlen(gmail), &ar, &err), CP_OK);
	if (ar == NULL) {
		printf("    %s\n", err.msg);
		return;
	}
	CP_CHECK_STR(cp_authres_authserv_id(ar), "mx.google.com");
	CP_CHECK_INT(cp_authres_count(ar), 3);
	m = cp_authres_find(ar, "dkim");
	CP_CHECK(m != NULL && strcmp(m->result, "pass") == 0, "dkim");
	CP_CHECK_STR(cp_authres_prop_value(m, "header", "i"), "@example.com");
	CP_CHECK_STR(cp_authres_prop_value(m, "header", "b"), "AbCdEf+/");
	m = cp_authres_find(ar, "spf");
	CP_CHECK_STR(cp_authres_prop_value(m, "smtp", "mailfrom"),
	    "bounce@example.com");
	CP_CHECK(m->comment && strncmp(m->comment, "google.com: domain", 18) == 0,
	    "comment: %s", m->comment ? m->comment : "(null)");
	m = cp_authres_find(ar, "DMARC");
	CP_CHECK_STR(m->comment, "p=REJECT sp=REJECT dis=NONE");
	CP_CHECK_STR(cp_authres_prop_value(m, "header", "from"), "example.com");
	cp_authres_free(ar);
}

CP_TEST(authres_parse_variants)
{
	static const struct {
		const char *txt;
		int rc;
		size_t n;
	} cases[] = {
		{ "example.org; none", CP_OK, 0 },
		{ "example.org 1; none", CP_OK, 0 },
		{ "example.org;\n none", CP_OK, 0 },
		{ "\"quoted id\"; spf=pass", CP_OK, 1 },
		{ "example.org; dkim/1 = pass (ok) header.d = example.com", CP_OK, 1 },
		{ "example.org; spf=pass smtp.mailfrom=\"a b\"@example.com", CP_OK, 1 },
		{ "example.org; spf=fail reason=\"no; really\" smtp.helo=h.example;",
		    CP_OK, 1 },
		{ "example.org (comment (nested)); auth=pass smtp.auth=u", CP_OK, 1 },
		{ "mx.microsoft.com 1; dmarc=pass (p=reject) action=none "
		    "header.from=example.com; arc=none", CP_OK, 2 },
		{ "example.org", CP_ESYNTAX, 0 },
		{ "example.org spf=pass", CP_ESYNTAX, 0 },
		{ "example.org; spf", CP_ESYNTAX, 0 },
		{ "example.org; spf=", CP_ESYNTAX, 0 },
		{ "example.org; spf=pass smtp", CP_ESYNTAX, 0 },
		{ "example.org; spf=pass smtp.mailfrom", CP_ESYNTAX, 0 },
		{ "example.org; spf=pass smtp.mailfrom=", CP_ESYNTAX, 0 },
		{ "example.org; spf=pass (unclosed", CP_ESYNTAX, 0 },
		{ "example.org; spf=pass reason=\"unclosed", CP_ESYNTAX, 0 },
		{ "example.org; none; spf=pass", CP_ESYNTAX, 0 },
		{ "", CP_ESYNTAX, 0 },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_authres *ar = NULL;
		cp_err err = { 0 };
		int rc = cp_authres_parse(cases[i].txt, strlen(cases[i].txt), &ar,
		    &err);

		CP_CHECK(rc == cases[i].rc, "case %zu '%s': rc %d, want %d (%s)",
		    i, cases[i].txt, rc, cases[i].rc, err.msg);
		if (rc == CP_OK)
			CP_CHECK(cp_authres_count(ar) == cases[i].n,
			    "case %zu: %zu results", i, cp_authres_count(ar));
		cp_authres_free(ar);
	}
	{
		static const char t[] = "x; spf=pass smtp.mailfrom=\"a b\"@example.com";
		cp_authres *ar = NULL;

		cp_authres_parse(t, strlen(t), &ar, NULL);
		CP_CHECK(ar != NULL, "parsed");
		if (ar)
			CP_CHECK_STR(cp_authres_prop_value(cp_authres_method_at(ar, 0),
			    "smtp", "mailfrom"), "\"a b\"@example.com");
		cp_authres_free(ar);
	}
	{
		static const char t[] = "x; dmarc=pass action=none";
		cp_authres *ar = NULL;

		cp_authres_parse(t, strlen(t), &ar, NULL);
		CP_CHECK(ar != NULL, "parsed");
		if (ar)
			CP_CHECK_STR(cp_authres_prop_value(cp_authres_method_at(ar, 0),
			    "", "action"), "none");
		cp_authres_free(ar);
	}
}

/* render -> parse gives back every value, quoting undone. */
CP_TEST(authres_round_trip)
{
	cp_err err = { 0 };
	cp_authres *ar = cp_authres_new("mx (1).example.net", &err), *back = NULL;
	char *s;

	cp_authres_add_spf(ar, CP_AUTH_PERMERROR, "x@example.com", NULL,
	    "too many \"lookups\" \\o/", &err);
	cp_authres_add_dkim(ar, CP_AUTH_PASS, "example.com", "s", "a/b=c+d/e=f",
	    NULL, &err);
	cp_authres_add_method(ar, "dmarc", "fail", NULL, "p=reject (strict)",
	    &err);
	cp_authres_add_prop(ar, "header", "from", "example.com", &err);
	s = render(ar, "\r\n\t");
	CP_CHECK_INT(cp_authres_parse(s, strlen(s), &back, &err), CP_OK);
	if (back != NULL) {
		const cp_authres_method *m;

		CP_CHECK_STR(cp_authres_authserv_id(back), "mx (1).example.net");
		CP_CHECK_INT(cp_authres_count(back), 3);
		m = cp_authres_method_at(back, 0);
		CP_CHECK_STR(m->result, "permerror");
		CP_CHECK_STR(m->reason, "too many \"lookups\" \\o/");
		m = cp_authres_method_at(back, 1);
		CP_CHECK_STR(cp_authres_prop_value(m, "header", "b"), "a/b=c+d/");
		m = cp_authres_method_at(back, 2);
		CP_CHECK_STR(m->comment, "p=reject (strict)");
	}
	cp_free(s);
	cp_authres_free(back);
	cp_authres_free(ar);
}

CP_TEST(authres_result_names)
{
	cp_auth_result r;

	CP_CHECK_INT(cp_auth_result_from_name("PASS", &r), CP_OK);
	CP_CHECK_INT(r, CP_AUTH_PASS);
	CP_CHECK_INT(cp_auth_result_from_name("hardfail", &r), CP_OK);
	CP_CHECK_INT(r, CP_AUTH_FAIL);
	CP_CHECK_INT(cp_auth_result_from_name("error", &r), CP_OK);
	CP_CHECK_INT(r, CP_AUTH_TEMPERROR);
	CP_CHECK_INT(cp_auth_result_from_name("unknown", &r), CP_OK);
	CP_CHECK_INT(r, CP_AUTH_PERMERROR);
	CP_CHECK_INT(cp_auth_result_from_name("maybe", &r), CP_EINVAL);
	CP_CHECK_STR(cp_auth_result_name(CP_AUTH_SOFTFAIL), "softfail");
	CP_CHECK_STR(cp_auth_result_name((cp_auth_result)99), "none");
}

/* The dmarc= entry for verdicts. */
CP_TEST(authres_dmarc_verdict)
{
	cp_err err = { 0 };
	cp_dmarc_verdict v;
	cp_authres *ar = cp_authres_new("mx.example.net", &err);
	char *s;

	memset(&v, 0, sizeof(v));
	v.result = CP_DMARC_FAIL;
	v.disposition = CP_DMARC_DISP_QUARANTINE;
	v.have_record = 1;
	v.rec.p = CP_DMARC_POLICY_REJECT;
	v.rec.sp = CP_DMARC_POLICY_NONE;
	snprintf(v.from_domain, sizeof(v.from_domain), "example.com");
	CP_CHECK_INT(cp_dmarc_add_authres(ar, &v, &err), CP_OK);
	memset(&v, 0, sizeof(v));
	v.result = CP_DMARC_PERMERROR;
	snprintf(v.from_domain, sizeof(v.from_domain), "broken.example");
	snprintf(v.reason, sizeof(v.reason), "_dmarc.broken.example: dmarc: "
	    "pct=200: out of range 0-100");
	CP_CHECK_INT(cp_dmarc_add_authres(ar, &v, &err), CP_OK);
	s = render(ar, NULL);
	CP_CHECK_STR(s, "Authentication-Results: mx.example.net; "
	    "dmarc=fail (p=reject sp=none dis=quarantine) header.from=example.com; "
	    "dmarc=permerror reason=\"_dmarc.broken.example: dmarc: pct=200: out "
	    "of range 0-100\" header.from=broken.example");
	cp_free(s);
	cp_authres_free(ar);
}
