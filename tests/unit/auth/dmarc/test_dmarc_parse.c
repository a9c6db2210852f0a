/* Unit tests: the DMARC record parser (src/auth/dmarc/dmarc_parse.c). */
#include <string.h>

#include "coldpost/dmarc.h"
#include "cptest.h"

static const struct {
	const char *txt;
	int rc;
	const char *msg; /* a part of the error message, for errors */
} cases[] = {
	{ "v=DMARC1; p=reject", CP_OK, NULL },
	{ "v=DMARC1;p=none", CP_OK, NULL },
	{ "v=DMARC1 ; p = quarantine ;", CP_OK, NULL },
	{ "  v=DMARC1; p=reject;;", CP_OK, NULL },
	{ "v=DMARC1; P=Reject; ADKIM=S", CP_OK, NULL },
	{ "v=DMARC1; p=none; foo=bar; x_y=1", CP_OK, NULL }, /* unknown: ignored */
	{ "v=DMARC1; p=none; pct=0", CP_OK, NULL },
	{ "v=DMARC1; p=none; pct=100", CP_OK, NULL },
	{ "v=DMARC1; p=none; rua=mailto:a@example.com!10m, mailto:b@example.com",
	    CP_OK, NULL },
	{ "v=DMARC1; p=none; fo=0:1 : d:s; rf=afrf; ri=3600", CP_OK, NULL },
	{ "p=reject; v=DMARC1", CP_ESYNTAX, "must start with v=DMARC1" },
	{ "v=DMARC2; p=reject", CP_ESYNTAX, "v=DMARC2" },
	{ "v=dmarc1; p=reject", CP_ESYNTAX, "v=dmarc1" }, /* %x44 %x4d ... */
	{ "v=DMARC1; p=reject; pct=200", CP_ESYNTAX, "pct=200: out of range" },
	{ "v=DMARC1; p=reject; pct=1000", CP_ESYNTAX, "pct=1000" },
	{ "v=DMARC1; p=reject; pct=-1", CP_ESYNTAX, "pct=-1" },
	{ "v=DMARC1; p=reject; pct=", CP_ESYNTAX, "pct=" },
	{ "v=DMARC1; p=reject; adkim=x", CP_ESYNTAX, "adkim=x" },
	{ "v=DMARC1; p=reject; aspf=relaxed", CP_ESYNTAX, "aspf=relaxed" },
	{ "v=DMARC1; p=block", CP_ESYNTAX, "p=block" },
	{ "v=DMARC1", CP_ESYNTAX, "no p= tag" },
	{ "v=DMARC1; sp=reject", CP_ESYNTAX, "no p= tag" },
	{ "v=DMARC1; p=reject; sp=maybe", CP_ESYNTAX, "sp=maybe" },
	{ "v=DMARC1; p=reject; np=all", CP_ESYNTAX, "np=all" },
	{ "v=DMARC1; p=reject; p=none", CP_ESYNTAX, "p= appears twice" },
	{ "v=DMARC1; p=reject; v=DMARC1", CP_ESYNTAX, "first tag" },
	{ "v=DMARC1; p=reject; rua=", CP_ESYNTAX, "rua= is empty" },
	{ "v=DMARC1; p=reject; rua=dmarc@example.com", CP_ESYNTAX,
	    "rua=dmarc@example.com: not a URI" },
	{ "v=DMARC1; p=reject; rua=mailto:a@example.com,", CP_ESYNTAX,
	    "empty URI" },
	{ "v=DMARC1; p=reject; rua=mailto:a@example.com!", CP_ESYNTAX,
	    "size after '!'" },
	{ "v=DMARC1; p=reject; rua=mailto:a@example.com!10x", CP_ESYNTAX,
	    "size after '!'" },
	{ "v=DMARC1; p=reject; rua=mailto:a@example.com!99999999999999999999",
	    CP_ESYNTAX, "size" },
	{ "v=DMARC1; p=reject; ruf=mailto:a b@example.com", CP_ESYNTAX,
	    "not allowed in a URI" },
	{ "v=DMARC1; p=reject; ruf=mailto:a%zz@example.com", CP_ESYNTAX,
	    "%-escape" },
	{ "v=DMARC1; p=reject; fo=2", CP_ESYNTAX, "fo=2" },
	{ "v=DMARC1; p=reject; fo=", CP_ESYNTAX, "fo=" },
	{ "v=DMARC1; p=reject; rf=a f", CP_ESYNTAX, "rf=a f" },
	{ "v=DMARC1; p=reject; ri=4294967296", CP_ESYNTAX, "ri=4294967296" },
	{ "v=DMARC1; p=reject; ri=1h", CP_ESYNTAX, "ri=1h" },
	{ "v=DMARC1; p=reject; garbage", CP_ESYNTAX, "no '='" },
	{ "v=DMARC1; p=reject; 1x=2", CP_ESYNTAX, "bad tag name" },
	{ "v=DMARC1; =reject", CP_ESYNTAX, "bad tag name" },
	{ "", CP_ESYNTAX, "empty" },
	{ "   ", CP_ESYNTAX, "empty" },
	{ ";v=DMARC1; p=none", CP_ESYNTAX, "" },
};

CP_TEST(dmarc_parse_record_cases)
{
	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_dmarc_record rec;
		cp_err err = { 0 };
		int rc = cp_dmarc_parse_record(cases[i].txt, strlen(cases[i].txt),
		    &rec, &err);

		CP_CHECK(rc == cases[i].rc, "case %zu '%s': got %d, want %d (%s)",
		    i, cases[i].txt, rc, cases[i].rc, err.msg);
		if (cases[i].msg != NULL)
			CP_CHECK(strstr(err.msg, cases[i].msg) != NULL,
			    "case %zu '%s': message '%s' lacks '%s'", i,
			    cases[i].txt, err.msg, cases[i].msg);
	}
}

CP_TEST(dmarc_parse_record_fields)
{
	static const char txt[] = "v=DMARC1; p=quarantine; sp=reject; np=none; "
	    "adkim=s; aspf=r; pct=42; fo=1:d; ri=3600; rf=afrf; "
	    "rua=mailto:agg@example.com!10m,https://r.example.net/x%2Cy; "
	    "ruf=mailto:f@example.com!512";
	cp_dmarc_record rec;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dmarc_parse_record(txt, strlen(txt), &rec, &err), CP_OK);
	CP_CHECK_INT(rec.p, CP_DMARC_POLICY_QUARANTINE);
	CP_CHECK_INT(rec.sp, CP_DMARC_POLICY_REJECT);
	CP_CHECK_INT(rec.np, CP_DMARC_POLICY_NONE);
	CP_CHECK_INT(rec.adkim, CP_DMARC_ALIGN_STRICT);
	CP_CHECK_INT(rec.aspf, CP_DMARC_ALIGN_RELAXED);
	CP_CHECK_INT(rec.pct, 42);
	CP_CHECK_INT(rec.fo, CP_DMARC_FO_1 | CP_DMARC_FO_D);
	CP_CHECK_INT(rec.ri, 3600);
	CP_CHECK_INT(rec.rf_afrf, 1);
	CP_CHECK_INT(rec.nrua, 2);
	CP_CHECK_STR(rec.rua[0].uri, "mailto:agg@example.com");
	CP_CHECK_INT((long long)rec.rua[0].max_size, 10LL << 20);
	CP_CHECK_STR(rec.rua[1].uri, "https://r.example.net/x%2Cy");
	CP_CHECK_INT((long long)rec.rua[1].max_size, 0);
	CP_CHECK_INT(rec.nruf, 1);
	CP_CHECK_INT((long long)rec.ruf[0].max_size, 512);
	CP_CHECK_INT(rec.bad_policy, 0);
	CP_CHECK_INT(rec.ntags, 12); /* v= and the 11 known tags */
}

CP_TEST(dmarc_parse_record_defaults)
{
	cp_dmarc_record rec;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dmarc_parse_record("v=DMARC1; p=none", 16, &rec, &err),
	    CP_OK);
	CP_CHECK_INT(rec.p, CP_DMARC_POLICY_NONE);
	CP_CHECK_INT(rec.sp, CP_DMARC_POLICY_UNSET);
	CP_CHECK_INT(rec.np, CP_DMARC_POLICY_UNSET);
	CP_CHECK_INT(rec.adkim, CP_DMARC_ALIGN_RELAXED);
	CP_CHECK_INT(rec.aspf, CP_DMARC_ALIGN_RELAXED);
	CP_CHECK_INT(rec.pct, 100);
	CP_CHECK_INT(rec.fo, CP_DMARC_FO_0);
	CP_CHECK_INT(rec.ri, 86400);
	CP_CHECK_INT(rec.nrua, 0);
}

/* Missing / bad p= is reported last, with the rest parsed (6.6.3 step 6). */
CP_TEST(dmarc_parse_record_bad_policy)
{
	static const char nop[] = "v=DMARC1; rua=mailto:d@example.com; pct=50";
	static const char badp[] = "v=DMARC1; p=nope; rua=mailto:d@example.com";
	static const char badpct[] = "v=DMARC1; p=nope; pct=101";
	cp_dmarc_record rec;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dmarc_parse_record(nop, strlen(nop), &rec, &err),
	    CP_ESYNTAX);
	CP_CHECK_INT(rec.bad_policy, 1);
	CP_CHECK_INT(rec.nrua, 1);
	CP_CHECK_INT(rec.pct, 50);
	CP_CHECK_INT(cp_dmarc_parse_record(badp, strlen(badp), &rec, &err),
	    CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "p=nope") != NULL, "msg: %s", err.msg);
	CP_CHECK_INT(rec.bad_policy, 1);
	CP_CHECK_INT(rec.nrua, 1);
	/* another error wins and is not a policy error */
	CP_CHECK_INT(cp_dmarc_parse_record(badpct, strlen(badpct), &rec, &err),
	    CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "pct=101") != NULL, "msg: %s", err.msg);
	CP_CHECK_INT(rec.bad_policy, 0);
}

CP_TEST(dmarc_parse_record_uri_limits)
{
	char txt[2048];
	cp_dmarc_record rec;
	cp_err err = { 0 };
	size_t n;

	/* ten URIs: eight kept, all counted */
	n = (size_t)snprintf(txt, sizeof(txt), "v=DMARC1; p=none; rua=");
	for (int i = 0; i < 10; i++)
		n += (size_t)snprintf(txt + n, sizeof(txt) - n,
		    "%smailto:r%d@example.com!%dk", i ? "," : "", i, i + 1);
	CP_CHECK_INT(cp_dmarc_parse_record(txt, n, &rec, &err), CP_OK);
	CP_CHECK_INT(rec.nrua, CP_DMARC_URI_MAX);
	CP_CHECK_INT(rec.nrua_all, 10);
	CP_CHECK_STR(rec.rua[7].uri, "mailto:r7@example.com");
	CP_CHECK_INT((long long)rec.rua[7].max_size, 8 * 1024);
	/* one URI longer than the record can hold */
	n = (size_t)snprintf(txt, sizeof(txt), "v=DMARC1; p=none; ruf=mailto:");
	memset(txt + n, 'a', 600);
	n += 600;
	CP_CHECK_INT(cp_dmarc_parse_record(txt, n, &rec, &err), CP_ETOOBIG);
	CP_CHECK(strstr(err.msg, "ruf") != NULL, "msg: %s", err.msg);
	/* units */
	n = (size_t)snprintf(txt, sizeof(txt),
	    "v=DMARC1; p=none; rua=mailto:a@x.example!1g,mailto:b@x.example!2T");
	CP_CHECK_INT(cp_dmarc_parse_record(txt, n, &rec, &err), CP_OK);
	CP_CHECK_INT((long long)rec.rua[0].max_size, 1LL << 30);
	CP_CHECK_INT((long long)rec.rua[1].max_size, 2LL << 40);
}

/* Bytes, not strings: no NUL needed, NULs inside are errors. */
CP_TEST(dmarc_parse_record_bytes)
{
	static const char txt[] = "v=DMARC1; p=reject; pct=50XXXX";
	static const char nul[] = "v=DMARC1; p=re\0ject";
	cp_dmarc_record rec;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dmarc_parse_record(txt, strlen(txt) - 4, &rec, &err),
	    CP_OK);
	CP_CHECK_INT(rec.pct, 50);
	CP_CHECK_INT(cp_dmarc_parse_record(nul, sizeof(nul) - 1, &rec, &err),
	    CP_ESYNTAX);
	CP_CHECK_INT(cp_dmarc_parse_record(NULL, 0, &rec, NULL), CP_ESYNTAX);
}

CP_TEST(dmarc_is_record)
{
	CP_CHECK(cp_dmarc_is_record("v=DMARC1; p=none", 16), "plain");
	CP_CHECK(cp_dmarc_is_record("v=DMARC1", 8), "v only");
	CP_CHECK(cp_dmarc_is_record(" v = DMARC1 ;p=x", 16), "spaces");
	CP_CHECK(!cp_dmarc_is_record("v=spf1 -all", 11), "spf");
	CP_CHECK(!cp_dmarc_is_record("p=reject; v=DMARC1", 18), "order");
	CP_CHECK(!cp_dmarc_is_record("v=DMARC10", 9), "DMARC10");
	CP_CHECK(!cp_dmarc_is_record("", 0), "empty");
}

/* parse(render(parse(x))) gives the same record. */
CP_TEST(dmarc_render_record_round_trip)
{
	static const char *const recs[] = {
		"v=DMARC1; p=none",
		"v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=s; "
		"pct=7; fo=0:1:d:s; ri=60; rua=mailto:a@example.com!1m,"
		"mailto:b@example.com!1500; ruf=mailto:c@example.com!3g",
		"v=DMARC1; p=quarantine; fo=s; rua=mailto:x@example.org",
	};

	for (size_t i = 0; i < CP_NELEM(recs); i++) {
		cp_dmarc_record a, b;
		char out[1024];
		cp_err err = { 0 };

		CP_CHECK_INT(cp_dmarc_parse_record(recs[i], strlen(recs[i]), &a,
		    &err), CP_OK);
		cp_dmarc_render_record(&a, out, sizeof(out));
		CP_CHECK_INT(cp_dmarc_parse_record(out, strlen(out), &b, &err),
		    CP_OK);
		a.seen = b.seen = 0;
		a.ntags = b.ntags = 0;
		CP_CHECK(memcmp(&a, &b, sizeof(a)) == 0, "case %zu: '%s' -> '%s'",
		    i, recs[i], out);
	}
	{
		cp_dmarc_record r;
		char out[256];

		cp_dmarc_parse_record(recs[0], strlen(recs[0]), &r, NULL);
		cp_dmarc_render_record(&r, out, sizeof(out));
		CP_CHECK_STR(out, "v=DMARC1; p=none");
	}
}
