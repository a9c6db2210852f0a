/*
 * Unit tests: the record parsers of the domain check (MTA-STS, TLS-RPT)
 * and the generic reverse-DNS test (src/check/check_records.c).
 */
#include <string.h>

#include "coldpost/check.h"
#include "cptest.h"

static const struct {
	const char *txt;
	int rc;
	const char *id;
} sts_cases[] = {
	{ "v=STSv1; id=20160831085700Z", CP_OK, "20160831085700Z" },
	{ "v=STSv1;id=1", CP_OK, "1" },
	{ "v=STSv1; id=abc;", CP_OK, "abc" },
	{ "v=STSv1;  id=abc ;  ext_x-1=value", CP_OK, "abc" },
	{ "v=STSv1; id=12345678901234567890123456789012", CP_OK,
	    "12345678901234567890123456789012" },
	{ "v=STSv1; id=123456789012345678901234567890123", CP_ESYNTAX, "" },
	{ "v=STSv1", CP_ESYNTAX, "" },
	{ "v=STSv1;", CP_ESYNTAX, "" },              /* no id */
	{ "v=STSv1; mode=enforce", CP_ESYNTAX, "" }, /* no id */
	{ "v=STSv1; id=a b", CP_ESYNTAX, "" },
	{ "v=STSv1; id=a-b", CP_ESYNTAX, "" },
	{ "v=STSv1; id=", CP_ESYNTAX, "" },
	{ "v=STSv1; id=1; id=2", CP_ESYNTAX, "" },
	{ "v=stsv1; id=1", CP_ESYNTAX, "" },         /* %s: case matters */
	{ " v=STSv1; id=1", CP_ESYNTAX, "" },
	{ "v=STSv2; id=1", CP_ESYNTAX, "" },
	{ "v=STSv1; id=1;; x=y", CP_ESYNTAX, "" },
	{ "v=STSv1; id=1; x", CP_ESYNTAX, "" },
	{ "v=STSv1; id=1; _x=y", CP_ESYNTAX, "" },   /* ext name: alnum first */
	{ "v=STSv1; id=1; x=a=b", CP_ESYNTAX, "" },
	{ "", CP_ESYNTAX, "" },
};

CP_TEST(check_parse_mta_sts)
{
	for (size_t i = 0; i < CP_NELEM(sts_cases); i++) {
		char id[64];
		cp_err err = { 0 };
		int rc = cp_check_parse_mta_sts(sts_cases[i].txt,
		    strlen(sts_cases[i].txt), id, sizeof(id), &err);

		CP_CHECK(rc == sts_cases[i].rc, "case %zu '%s': got %d, want %d "
		    "(%s)", i, sts_cases[i].txt, rc, sts_cases[i].rc, err.msg);
		if (rc == CP_OK)
			CP_CHECK_STR(id, sts_cases[i].id);
		else
			CP_CHECK(strncmp(err.msg, "mta-sts: ", 9) == 0, "case %zu: "
			    "message '%s'", i, err.msg);
	}
}

static const struct {
	const char *txt;
	int rc;
	size_t nrua;
} tlsrpt_cases[] = {
	{ "v=TLSRPTv1; rua=mailto:tls@example.com", CP_OK, 1 },
	{ "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt", CP_OK, 1 },
	{ "v=TLSRPTv1; rua=mailto:a@example.com, https://r.example.com/x",
	    CP_OK, 2 },
	{ "v=TLSRPTv1; rua=mailto:a@example.com;", CP_OK, 1 },
	{ "v=TLSRPTv1; rua=mailto:a@example.com; ext=1", CP_OK, 1 },
	{ "v=TLSRPTv1", CP_ESYNTAX, 0 },
	{ "v=TLSRPTv1; ruf=mailto:a@example.com", CP_ESYNTAX, 0 },
	{ "v=TLSRPTv1; rua=", CP_ESYNTAX, 0 },
	{ "v=TLSRPTv1; rua=http://r.example.com/", CP_ESYNTAX, 0 },
	{ "v=TLSRPTv1; rua=mailto:nobody", CP_ESYNTAX, 0 },
	{ "v=TLSRPTv1; rua=mailto:a@b.example,", CP_ESYNTAX, 0 },
	{ "v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@d.example",
	    CP_ESYNTAX, 0 },
	{ "v=tlsrptv1; rua=mailto:a@b.example", CP_ESYNTAX, 0 },
	{ "v=DMARC1; rua=mailto:a@b.example", CP_ESYNTAX, 0 },
};

CP_TEST(check_parse_tlsrpt)
{
	for (size_t i = 0; i < CP_NELEM(tlsrpt_cases); i++) {
		cp_check_tlsrpt t;
		cp_err err = { 0 };
		int rc = cp_check_parse_tlsrpt(tlsrpt_cases[i].txt,
		    strlen(tlsrpt_cases[i].txt), &t, &err);

		CP_CHECK(rc == tlsrpt_cases[i].rc, "case %zu '%s': got %d, want "
		    "%d (%s)", i, tlsrpt_cases[i].txt, rc, tlsrpt_cases[i].rc,
		    err.msg);
		if (rc == CP_OK)
			CP_CHECK_INT(t.nrua, tlsrpt_cases[i].nrua);
	}
	{
		cp_check_tlsrpt t;
		const char *s = "v=TLSRPTv1; rua=mailto:a@example.com ,  "
		    "https://r.example.com/x";

		CP_CHECK_INT(cp_check_parse_tlsrpt(s, strlen(s), &t, NULL), CP_OK);
		CP_CHECK_STR(t.rua[0], "mailto:a@example.com");
		CP_CHECK_STR(t.rua[1], "https://r.example.com/x");
	}
}

static const struct {
	const char *name, *ip;
	int generic;
} ptr_cases[] = {
	{ "mail.example.com", "192.0.2.1", 0 },
	{ "mx1.mail.example.co.uk", "192.0.2.1", 0 },
	{ "smtp-out-7.example.net", "192.0.2.1", 0 },
	{ "server1.example.com", "192.0.2.1", 0 },
	{ "1-2-3-4.dynamic.example.net", "1.2.3.4", 1 },
	{ "4.3.2.1.broadband.example.net", "1.2.3.4", 1 },
	{ "ec2-54-10-20-30.compute-1.amazonaws.com", "54.10.20.30", 1 },
	{ "static.30.20.10.5.clients.your-server.de", "5.10.20.30", 1 },
	{ "host-001002003004.example.net", "1.2.3.4", 1 },
	{ "c0000201.example.net", "192.0.2.1", 1 },
	{ "dsl-pool.isp.example", "192.0.2.24", 1 },
	{ "cpe-ab12.cable.isp.example", "192.0.2.24", 1 },
	{ "ppp-91.isp.example", NULL, 1 },
	{ "10.11.12.13.in.example.net", "192.0.2.1", 1 }, /* mostly numbers */
	{ "static.example.com", "192.0.2.1", 0 },  /* 'static' alone */
	{ "host.example.com", "192.0.2.1", 0 },
	{ "dynamic.com", "192.0.2.1", 0 },         /* the domain itself */
	{ "mail.example.com", "2001:db8::1", 0 },
	{ "2001-db8--a00-1.pool.isp.example", "2001:db8::a00:1", 1 },
	{ "x.a000001.ip6.isp.example", "2001:db8::a00:1", 1 },
};

CP_TEST(check_ptr_generic)
{
	for (size_t i = 0; i < CP_NELEM(ptr_cases); i++) {
		char why[160];
		int g = cp_check_ptr_generic(ptr_cases[i].name, ptr_cases[i].ip,
		    why, sizeof(why));

		CP_CHECK(g == ptr_cases[i].generic, "case %zu %s (%s): got %d (%s)",
		    i, ptr_cases[i].name, ptr_cases[i].ip ? ptr_cases[i].ip : "-",
		    g, why);
		CP_CHECK(g ? why[0] != '\0' : why[0] == '\0', "case %zu: why",
		    i);
	}
}
