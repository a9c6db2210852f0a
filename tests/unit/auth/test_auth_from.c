/*
 * Unit tests: the From field parser for DMARC's author domain
 * (src/auth/auth_from.c, RFC 5322 3.4 and 4.4, RFC 6854, RFC 6532).
 */
#include <string.h>

#include "coldpost/auth.h"
#include "cptest.h"

static const struct {
	const char *from;
	int rc;
	const char *domains; /* the domains, ',' separated */
	const char *local1;  /* the first local part, or NULL */
} cases[] = {
	{ " john@example.com", CP_OK, "example.com", "john" },
	{ " John Doe <john@Example.COM>", CP_OK, "example.com", "john" },
	{ " \"Doe, John\" <john@example.com>", CP_OK, "example.com", "john" },
	{ " \"a@evil.example\" <john@example.com>", CP_OK, "example.com",
	    "john" },
	{ " john@example.com (John Doe)", CP_OK, "example.com", "john" },
	{ " (comment (nested) \\) ) John <j@example.com> (x)", CP_OK,
	    "example.com", "j" },
	{ " j (c) @ (c) example (c) . (c) com", CP_OK, "example.com", "j" },
	{ " \"john q\"@example.com", CP_OK, "example.com", "john q" },
	{ " \"a\\\"b\"@example.com", CP_OK, "example.com", "a\"b" },
	{ " John\r\n Doe\r\n\t<john@example.com>", CP_OK, "example.com",
	    "john" },
	{ " =?utf-8?q?Jos=C3=A9?= <jose@example.com>", CP_OK, "example.com",
	    "jose" },
	{ " J. Doe <j.doe@example.com>", CP_OK, "example.com", "j.doe" },
	{ " a@example.com, b@example.net", CP_OK, "example.com,example.net",
	    "a" },
	{ " a@example.com,, ,b@example.net,", CP_OK,
	    "example.com,example.net", "a" },
	{ " <@route.example,@other.example:a@example.com>", CP_OK,
	    "example.com", "a" },
	{ " Team: a@example.com, B <b@example.org>;", CP_OK,
	    "example.com,example.org", "a" },
	{ " Undisclosed recipients:;", CP_OK, "", NULL },
	{ " josé@exämple.com", CP_OK, "xn--exmple-cua.com", "josé" },
	{ " a@[192.0.2.1]", CP_OK, "", "a" }, /* a literal: no domain */
	/* errors */
	{ "", CP_ESYNTAX, NULL, NULL },
	{ " john", CP_ESYNTAX, NULL, NULL },
	{ " John Doe", CP_ESYNTAX, NULL, NULL },
	{ " <>", CP_ESYNTAX, NULL, NULL },
	{ " John <john@example.com", CP_ESYNTAX, NULL, NULL },
	{ " a@b@example.com", CP_ESYNTAX, NULL, NULL },
	{ " real@bank.example <attacker@evil.example>", CP_ESYNTAX, NULL,
	    NULL },
	{ " a@example.com b@example.net", CP_ESYNTAX, NULL, NULL },
	{ " a@example.com.", CP_ESYNTAX, NULL, NULL },
	{ " a@.example.com", CP_ESYNTAX, NULL, NULL },
	{ " \"unclosed@example.com", CP_ESYNTAX, NULL, NULL },
	{ " (unclosed a@example.com", CP_ESYNTAX, NULL, NULL },
	{ " G: a@example.com", CP_ESYNTAX, NULL, NULL },
	{ " G: H: a@example.com;;", CP_ESYNTAX, NULL, NULL },
	{ " @example.com", CP_ESYNTAX, NULL, NULL },
	{ " a@exa mple.com", CP_ESYNTAX, NULL, NULL },
	{ " a@exa\001mple.com", CP_ESYNTAX, NULL, NULL },
	{ " a@ex$ample.com", CP_EINVAL, NULL, NULL },
	{ " a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".com", CP_EINVAL, NULL, NULL },
};

CP_TEST(auth_parse_from)
{
	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_auth_from f;
		cp_err err = { 0 };
		char got[1024] = "";
		size_t n = 0;
		int rc = cp_auth_parse_from(cases[i].from, strlen(cases[i].from),
		    &f, &err);

		CP_CHECK(rc == cases[i].rc, "case %zu '%s': got %d, want %d (%s)",
		    i, cases[i].from, rc, cases[i].rc, err.msg);
		if (rc != CP_OK || cases[i].rc != CP_OK) {
			if (rc != CP_OK)
				CP_CHECK(strncmp(err.msg, "from: ", 6) == 0,
				    "case %zu: message '%s'", i, err.msg);
			continue;
		}
		for (size_t k = 0; k < f.n; k++) {
			if (f.mbox[k].literal)
				continue;
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s",
			    n ? "," : "", f.mbox[k].domain);
		}
		CP_CHECK(strcmp(got, cases[i].domains) == 0, "case %zu '%s': "
		    "domains '%s', want '%s'", i, cases[i].from, got,
		    cases[i].domains);
		if (cases[i].local1 != NULL && f.n > 0)
			CP_CHECK_STR(f.mbox[0].local, cases[i].local1);
	}
}

CP_TEST(auth_parse_from_counts)
{
	cp_auth_from f;
	char big[4096];
	size_t n = 0;

	CP_CHECK_INT(cp_auth_parse_from(" G: a@x.example;, b@y.example", 29, &f,
	    NULL), CP_OK);
	CP_CHECK_INT(f.n, 2);
	CP_CHECK_INT(f.ngroups, 1);
	CP_CHECK(f.mbox[1].literal == 0, "not a literal");
	/* past CP_AUTH_FROM_MAX: counted, not kept */
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%sa%d@d%d.example",
		    i ? ", " : "", i, i);
	CP_CHECK_INT(cp_auth_parse_from(big, n, &f, NULL), CP_OK);
	CP_CHECK_INT(f.n, CP_AUTH_FROM_MAX);
	CP_CHECK_INT(f.n_all, 20);
	/* not NUL-terminated input: only len bytes are read */
	CP_CHECK_INT(cp_auth_parse_from("a@example.comXXX", 13, &f, NULL), CP_OK);
	CP_CHECK_STR(f.mbox[0].domain, "example.com");
	/* deep comments are refused, not recursed into */
	memset(big, '(', 200);
	CP_CHECK_INT(cp_auth_parse_from(big, 200, &f, NULL), CP_ESYNTAX);
}
