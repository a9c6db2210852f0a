/*
 * Unit tests: the SPF record parser and the macros (src/auth/spf/
 * spf_parse.c, spf_macro.c): syntax errors name the offending term, static
 * lookup counts, the RFC 7208 section 7.4 macro examples.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "auth/spf/spf_int.h"
#include "coldpost/spf.h"
#include "cptest.h"

static const struct {
	const char *txt;
	int rc;
	int term; /* offending term index, for CP_ESYNTAX */
	const char *why; /* a substring of the reason */
} parse_cases[] = {
	{ "v=spf1", CP_OK, 0, NULL },
	{ "V=SPF1 -ALL", CP_OK, 0, NULL },
	{ "v=spf1 a  -all ", CP_OK, 0, NULL },
	{ "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a/24//64 mx:m.example.com//0 "
	  "ptr:example.com exists:%{i}.x.example.com include:_spf.example.com "
	  "redirect=_spf.example.net exp=why.%{d} foo=bar ~all", CP_OK, 0, NULL },
	{ "v=spf1 a:foo:bar/baz.example.com", CP_OK, 0, NULL },
	{ "v=spf1 a:foo.example.xn--zckzah -all", CP_OK, 0, NULL },
	{ "v=spf10", CP_ESYNTAX, -1, "v=spf1" },
	{ "spf1 -all", CP_ESYNTAX, -1, "v=spf1" },
	{ "v=spf1 ip4:1.2.3.4 -all moo", CP_ESYNTAX, 2, "unknown mechanism" },
	{ "v=spf1 -all.", CP_ESYNTAX, 0, "unknown mechanism" },
	{ "v=spf1 -all:foobar", CP_ESYNTAX, 0, "no argument" },
	{ "v=spf1 ip4:1.2.3.4/33", CP_ESYNTAX, 0, "0 to /32" },
	{ "v=spf1 ip4:1.2.3.4/032", CP_ESYNTAX, 0, "leading zero" },
	{ "v=spf1 ip4:01.2.3.4", CP_ESYNTAX, 0, "dotted-quad" },
	{ "v=spf1 ip4:1.2.3", CP_ESYNTAX, 0, "dotted-quad" },
	{ "v=spf1 ip4:1.2.3.4:8080", CP_ESYNTAX, 0, "dotted-quad" },
	{ "v=spf1 ip4:1.2.3.4//32", CP_ESYNTAX, 0, "CIDR" },
	{ "v=spf1 ip6::CAFE::BABE", CP_ESYNTAX, 0, "IPv6" },
	{ "v=spf1 ip6:::1/129", CP_ESYNTAX, 0, "128" },
	{ "v=spf1 a/24/64", CP_ESYNTAX, 0, "'//'" },
	{ "v=spf1 a//129", CP_ESYNTAX, 0, "0-128" },
	{ "v=spf1 mx/33", CP_ESYNTAX, 0, "0-32" },
	{ "v=spf1 a:museum", CP_ESYNTAX, 0, "top-level" },
	{ "v=spf1 a:abc.123", CP_ESYNTAX, 0, "not all digits" },
	{ "v=spf1 a:example.-com", CP_ESYNTAX, 0, "top-level" },
	{ "v=spf1 a:", CP_ESYNTAX, 0, "empty domain-spec" },
	{ "v=spf1 include", CP_ESYNTAX, 0, "needs" },
	{ "v=spf1 include:x.example.com/24", CP_ESYNTAX, 0, "top-level" },
	{ "v=spf1 ptr/0", CP_ESYNTAX, 0, "CIDR" },
	{ "v=spf1 exists:%{x}.example.com", CP_ESYNTAX, 0, "macro letter" },
	{ "v=spf1 exists:%(ir).example.com", CP_ESYNTAX, 0, "'%'" },
	{ "v=spf1 exists:%{d0}.example.com", CP_ESYNTAX, 0, "nonzero" },
	{ "v=spf1 -all exp=%{r}.example.com", CP_ESYNTAX, 1, "only in exp" },
	{ "v=spf1 exp=a.example.com exp=b.example.com", CP_ESYNTAX, 1, "twice" },
	{ "v=spf1 redirect=a.example.com -all redirect=a.example.com",
	  CP_ESYNTAX, 2, "twice" },
	{ "v=spf1 exp=", CP_ESYNTAX, 0, "empty" },
	{ "v=spf1 1up=foo", CP_ESYNTAX, 0, "modifier name" },
	{ "v=spf1 =all", CP_ESYNTAX, 0, "modifier name" },
	{ "v=spf1 redirect:example.com", CP_ESYNTAX, 0, "unknown mechanism" },
	{ "v=spf1 foo=%abc", CP_ESYNTAX, 0, "'%'" },
	{ "v=spf1 a:ctrl.example.com\rptr -all", CP_ESYNTAX, 0, "control" },
	{ "v=spf1 \x80" "a:example.net -all", CP_ESYNTAX, 0, "non-ASCII" },
};

CP_TEST(spf_parse_records)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		cp_spf_record *rec = NULL;
		cp_spf_syntax syn;
		cp_err err = { 0 };
		int rc = cp_spf_parse_record(parse_cases[i].txt,
		    strlen(parse_cases[i].txt), &rec, &syn, &err);

		CP_CHECK(rc == parse_cases[i].rc, "case %zu '%s': rc %d (%s)", i,
		    parse_cases[i].txt, rc, err.msg);
		if (rc == CP_ESYNTAX && parse_cases[i].rc == CP_ESYNTAX) {
			CP_CHECK(syn.term == parse_cases[i].term,
			    "case %zu: term %d, want %d (%s)", i, syn.term,
			    parse_cases[i].term, err.msg);
			CP_CHECK(strstr(syn.why, parse_cases[i].why) != NULL ||
			    strstr(err.msg, parse_cases[i].why) != NULL,
			    "case %zu: '%s' lacks '%s'", i, err.msg,
			    parse_cases[i].why);
			CP_CHECK(rec == NULL, "case %zu: record on error", i);
		}
		cp_spf_record_free(rec);
	}
}

CP_TEST(spf_parse_fields_and_counts)
{
	const char *txt = "v=spf1 ip4:192.0.2.0/24 -a:mail.example.com/24//64 "
			  "~mx ptr include:_spf.example.com ?exists:%{i}.x.org "
			  "redirect=r.example.com exp=e.example.com x-y=1";
	cp_spf_record *rec;
	cp_spf_syntax syn;
	cp_err err = { 0 };
	char ip[INET_ADDRSTRLEN];

	CP_CHECK_INT(cp_spf_parse_record(txt, strlen(txt), &rec, &syn, &err),
	    CP_OK);
	if (rec == NULL)
		return;
	CP_CHECK_INT(rec->nterms, 9);
	CP_CHECK_INT(rec->ndns, 6); /* a mx ptr include exists redirect */
	CP_CHECK_INT(rec->redirect, 6);
	CP_CHECK_INT(rec->exp, 7);
	CP_CHECK_INT(rec->terms[0].kind, CP_SPF_IP4);
	inet_ntop(AF_INET, &rec->terms[0].net.v4, ip, sizeof(ip));
	CP_CHECK_STR(ip, "192.0.2.0");
	CP_CHECK_INT(rec->terms[0].cidr4, 24);
	CP_CHECK_INT(rec->terms[1].qualifier, '-');
	CP_CHECK_STR(rec->terms[1].arg, "mail.example.com");
	CP_CHECK_INT(rec->terms[1].cidr4, 24);
	CP_CHECK_INT(rec->terms[1].cidr6, 64);
	CP_CHECK_INT(rec->terms[2].qualifier, '~');
	CP_CHECK(rec->terms[2].arg == NULL, "mx without domain");
	CP_CHECK_STR(rec->terms[4].text, "include:_spf.example.com");
	CP_CHECK_STR(rec->terms[5].arg, "%{i}.x.org");
	CP_CHECK_INT(rec->terms[8].kind, CP_SPF_UNKNOWN_MOD);
	CP_CHECK_STR(rec->terms[8].name, "x-y");
	CP_CHECK_STR(rec->terms[8].arg, "1");
	cp_spf_record_free(rec);

	/* an "all" makes redirect= dead: it costs no lookup (6.1) */
	txt = "v=spf1 redirect=a.example.com ~all";
	CP_CHECK_INT(cp_spf_parse_record(txt, strlen(txt), &rec, NULL, &err),
	    CP_OK);
	CP_CHECK(rec && rec->ndns == 0 && rec->has_all, "dead redirect");
	cp_spf_record_free(rec);

	/* NUL bytes are data, not the end */
	CP_CHECK_INT(cp_spf_parse_record("v=spf1 a:x.com\0", 15, &rec, &syn,
	    &err), CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "term 1") && strstr(syn.text, "\\x00"),
	    "NUL named: %s / %s", err.msg, syn.text);
	CP_CHECK(cp_spf_is_record("v=spf1", 6) && cp_spf_is_record("V=Spf1 a", 8)
	    && !cp_spf_is_record("v=spf10", 7) && !cp_spf_is_record("v=spf", 5),
	    "is_record");
}

static void
expand_check(const spf_macro_env *env, const char *in, int flags,
    const char *want)
{
	cp_buf out;
	const char *why = NULL;
	size_t at = 0;

	cp_buf_init(&out, 4096);
	CP_CHECK(spf_macro_check(in, strlen(in), flags, &why, &at) == CP_OK,
	    "'%s': %s", in, why ? why : "");
	CP_CHECK_INT(spf_macro_expand(env, in, strlen(in), flags, &out), CP_OK);
	CP_CHECK(out.data && strcmp(out.data, want) == 0,
	    "'%s' -> '%s', want '%s'", in, out.data ? out.data : "", want);
	cp_buf_free(&out);
}

CP_TEST(spf_macro_rfc7208_examples)
{
	/* RFC 7208 7.4 */
	spf_macro_env env = { .sender = "strong-bad@email.example.com",
		.local = "strong-bad", .odomain = "email.example.com",
		.domain = "email.example.com", .helo = "mx.example.org",
		.now = 1234567890 };
	static const struct {
		const char *in, *out;
	} ex[] = {
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
		  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
		  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net",
		  "example.com.trusted-domains.example.net" },
		{ "%%%_%-", "% %20" },
		{ "%{S}", "strong-bad%40email.example.com" },
		{ "%{h}", "mx.example.org" },
		{ "%{p}", "unknown" },
	};
	static const unsigned char v4[4] = { 192, 0, 2, 3 };
	struct in6_addr a6;

	memcpy(env.ip, v4, 4);
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		expand_check(&env, ex[i].in, 0, ex[i].out);
	expand_check(&env, "%{c} %{r} %{t}", SPF_MACRO_EXP,
	    "192.0.2.3 unknown 1234567890");
	/* IPv6 nibbles come out upper case, as the RFC 7208 suite expects
	 * (v-macro-ip6); the RFC's own example is lower case; DNS ignores it */
	inet_pton(AF_INET6, "2001:db8::cb01", &a6);
	memcpy(env.ip, &a6, 16);
	env.v6 = 1;
	expand_check(&env, "%{ir}.%{v}._spf.%{d2}",
	    0, "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2"
	    ".ip6._spf.example.com");
	expand_check(&env, "%{c}", SPF_MACRO_EXP, "2001:db8::cb01");
}

CP_TEST(spf_domain_truncation)
{
	/* 7.3: names over 253 lose labels from the left */
	spf_macro_env env = { .domain = "" };
	char spec[400];
	cp_buf out;
	size_t o = 0;

	for (int i = 0; i < 30; i++)
		o += (size_t)snprintf(spec + o, sizeof(spec) - o, "label%02d.", i);
	snprintf(spec + o, sizeof(spec) - o, "example.com.");
	cp_buf_init(&out, 4096);
	CP_CHECK_INT(spf_expand_domain(&env, spec, &out), CP_OK);
	CP_CHECK(out.len <= 253 && out.len > 240, "len %zu", out.len);
	CP_CHECK(strncmp(out.data, "label", 5) == 0 &&
	    strcmp(out.data + out.len - 11, "example.com") == 0,
	    "cut at a label, trailing dot gone: %s", out.data);
	cp_buf_free(&out);
}
