/*
 * Unit tests: DNS block list checks (src/check/dnsbl.c) on the fake
 * resolver - query names (IPv4 octets, IPv6 nibbles, domains), every
 * Spamhaus ZEN and DBL code, the refusal answers, TXT reasons, bitmask
 * lists and --list specs.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/dnsbl.h"
#include "cptest.h"

static const char zone[] =
    "2.0.0.127.zen.spamhaus.org A 127.0.0.2\n"
    "2.0.0.127.zen.spamhaus.org TXT \"https://check.spamhaus.org/sbl/x\"\n"
    "3.0.0.127.zen.spamhaus.org A 127.0.0.3\n"
    "4.0.0.127.zen.spamhaus.org A 127.0.0.4\n"
    "5.0.0.127.zen.spamhaus.org A 127.0.0.5\n"
    "6.0.0.127.zen.spamhaus.org A 127.0.0.6\n"
    "7.0.0.127.zen.spamhaus.org A 127.0.0.7\n"
    "9.0.0.127.zen.spamhaus.org A 127.0.0.9\n"
    "10.0.0.127.zen.spamhaus.org A 127.0.0.10\n"
    "11.0.0.127.zen.spamhaus.org A 127.0.0.11\n"
    "20.0.0.127.zen.spamhaus.org A 127.0.0.4\n"
    "20.0.0.127.zen.spamhaus.org A 127.0.0.11\n"
    "52.0.0.127.zen.spamhaus.org A 127.255.255.252\n"
    "54.0.0.127.zen.spamhaus.org A 127.255.255.254\n"
    "55.0.0.127.zen.spamhaus.org A 127.255.255.255\n"
    "99.0.0.127.zen.spamhaus.org A 192.0.2.99\n"
    "77.0.0.127.zen.spamhaus.org TIMEOUT\n"
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
    ".zen.spamhaus.org A 127.0.0.3\n"
    "2.0.0.127.bl.spamcop.net A 127.0.0.2\n"
    "spam.example.dbl.spamhaus.org A 127.0.1.2\n"
    "spam.example.dbl.spamhaus.org TXT \"spam domain, see dbl\"\n"
    "phish.example.dbl.spamhaus.org A 127.0.1.4\n"
    "mal.example.dbl.spamhaus.org A 127.0.1.5\n"
    "cc.example.dbl.spamhaus.org A 127.0.1.6\n"
    "a102.example.dbl.spamhaus.org A 127.0.1.102\n"
    "a103.example.dbl.spamhaus.org A 127.0.1.103\n"
    "a104.example.dbl.spamhaus.org A 127.0.1.104\n"
    "a105.example.dbl.spamhaus.org A 127.0.1.105\n"
    "a106.example.dbl.spamhaus.org A 127.0.1.106\n"
    "ipq.example.dbl.spamhaus.org A 127.0.1.255\n"
    "spam.example.multi.uribl.com A 127.0.0.6\n"
    "ref.example.multi.uribl.com A 127.0.0.1\n"
    "spam.example.multi.surbl.org A 127.0.0.72\n";

static cp_dns *
load(void)
{
	cp_dns *d = cp_dns_new_fake();
	cp_err err = { 0 };

	CP_CHECK(d != NULL, "fake resolver");
	CP_CHECK(cp_dns_fake_load_mem(d, zone, sizeof(zone) - 1, "dnsbl",
	    &err) == CP_OK, "load: %s", err.msg);
	return d;
}

/* The result for zone on target against the built-in set. */
static const cp_dnsbl_result *
find(const cp_dnsbl_result *r, size_t n, const char *zonename)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].list->zone, zonename) == 0)
			return &r[i];
	return NULL;
}

CP_TEST(dnsbl_query_names)
{
	size_t n;
	const cp_dnsbl_list *l = cp_dnsbl_builtin(&n);
	char q[1100];
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dnsbl_query_name("192.0.2.1", &l[0], q, sizeof(q),
	    &err), CP_OK);
	CP_CHECK_STR(q, "1.2.0.192.zen.spamhaus.org");
	CP_CHECK_INT(cp_dnsbl_query_name("2001:db8::1", &l[0], q, sizeof(q),
	    &err), CP_OK);
	CP_CHECK_STR(q, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.zen.spamhaus.org");
	CP_CHECK_INT(cp_dnsbl_query_name("2001:DB8:abcd::fe", &l[0], q,
	    sizeof(q), &err), CP_OK);
	CP_CHECK_STR(q, "e.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a."
	    "8.b.d.0.1.0.0.2.zen.spamhaus.org");
	CP_CHECK_INT(cp_dnsbl_query_name("example.com.", &l[7], q, sizeof(q),
	    &err), CP_OK);
	CP_CHECK_STR(q, "example.com.dbl.spamhaus.org");
	CP_CHECK_INT(cp_dnsbl_query_name("example.com", &l[0], q, sizeof(q),
	    &err), CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_query_name("192.0.2.1", &l[7], q, sizeof(q),
	    &err), CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_query_name("192.0.2.1", &l[0], q, 10, &err),
	    CP_ETOOBIG);
}

static const struct {
	const char *ip;
	cp_dnsbl_state state;
	const char *code;
	const char *list;
} zen_cases[] = {
	{ "127.0.0.2", CP_DNSBL_LISTED, "127.0.0.2", "SBL" },
	{ "127.0.0.3", CP_DNSBL_LISTED, "127.0.0.3", "SBL CSS" },
	{ "127.0.0.4", CP_DNSBL_LISTED, "127.0.0.4", "XBL" },
	{ "127.0.0.5", CP_DNSBL_LISTED, "127.0.0.5", "XBL" },
	{ "127.0.0.6", CP_DNSBL_LISTED, "127.0.0.6", "XBL" },
	{ "127.0.0.7", CP_DNSBL_LISTED, "127.0.0.7", "XBL" },
	{ "127.0.0.9", CP_DNSBL_LISTED, "127.0.0.9", "SBL DROP/EDROP" },
	{ "127.0.0.10", CP_DNSBL_LISTED, "127.0.0.10", "PBL ISP" },
	{ "127.0.0.11", CP_DNSBL_LISTED, "127.0.0.11", "PBL Spamhaus" },
	{ "127.0.0.52", CP_DNSBL_BLOCKED, "127.255.255.252", NULL },
	{ "127.0.0.54", CP_DNSBL_BLOCKED, "127.255.255.254", NULL },
	{ "127.0.0.55", CP_DNSBL_BLOCKED, "127.255.255.255", NULL },
	{ "127.0.0.99", CP_DNSBL_ERROR, "192.0.2.99", NULL },
	{ "127.0.0.1", CP_DNSBL_NOT_LISTED, NULL, NULL },
	{ "2001:db8::1", CP_DNSBL_LISTED, "127.0.0.3", "SBL CSS" },
};

CP_TEST(dnsbl_zen_codes)
{
	cp_dns *d = load();
	size_t nb;
	const cp_dnsbl_list *l = cp_dnsbl_builtin(&nb);
	cp_err err = { 0 };

	for (size_t i = 0; i < CP_NELEM(zen_cases); i++) {
		cp_dnsbl_result *r = NULL;
		size_t n = 0;

		CP_CHECK_INT(cp_dnsbl_check(d, zen_cases[i].ip, l, 1, &r, &n,
		    &err), CP_OK);
		CP_CHECK_INT(n, 1);
		if (n != 1)
			continue;
		CP_CHECK(r[0].state == zen_cases[i].state, "%s: state %s",
		    zen_cases[i].ip, cp_dnsbl_state_name(r[0].state));
		if (zen_cases[i].code != NULL) {
			CP_CHECK_INT(r[0].nhits, 1);
			CP_CHECK_STR(r[0].hits[0].addr, zen_cases[i].code);
			CP_CHECK_STR(r[0].hits[0].list, zen_cases[i].list);
		} else {
			CP_CHECK_INT(r[0].nhits, 0);
		}
		if (zen_cases[i].state == CP_DNSBL_BLOCKED)
			CP_CHECK(r[0].error != NULL &&
			    strstr(r[0].error, "not a listing") != NULL,
			    "%s: error %s", zen_cases[i].ip, r[0].error);
		cp_dnsbl_results_free(r, n);
	}
	cp_dns_free(d);
}

CP_TEST(dnsbl_builtin_set_and_txt)
{
	cp_dns *d = load();
	size_t nb, n = 0;
	const cp_dnsbl_list *l = cp_dnsbl_builtin(&nb);
	cp_dnsbl_result *r = NULL;
	const cp_dnsbl_result *z, *sc, *bar;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dnsbl_check(d, "127.0.0.2", l, nb, &r, &n, &err),
	    CP_OK);
	CP_CHECK_INT(n, 7); /* the IP lists only */
	z = find(r, n, "zen.spamhaus.org");
	sc = find(r, n, "bl.spamcop.net");
	bar = find(r, n, "b.barracudacentral.org");
	CP_CHECK(z && sc && bar, "lists present");
	if (z && sc && bar) {
		CP_CHECK_STR(z->txt, "https://check.spamhaus.org/sbl/x");
		CP_CHECK_STR(z->query, "2.0.0.127.zen.spamhaus.org");
		CP_CHECK(sc->state == CP_DNSBL_LISTED, "spamcop listed");
		CP_CHECK(sc->txt == NULL, "no txt");
		CP_CHECK(bar->state == CP_DNSBL_NOT_LISTED, "barracuda");
	}
	cp_dnsbl_results_free(r, n);

	/* a timeout is an error, not a listing */
	CP_CHECK_INT(cp_dnsbl_check(d, "127.0.0.77", l, 1, &r, &n, &err),
	    CP_OK);
	CP_CHECK(n == 1 && r[0].state == CP_DNSBL_ERROR && r[0].error,
	    "timeout is error");
	cp_dnsbl_results_free(r, n);
	cp_dns_free(d);
}

static const struct {
	const char *dom;
	cp_dnsbl_state state;
	const char *code;
	const char *meaning;
} dbl_cases[] = {
	{ "spam.example", CP_DNSBL_LISTED, "127.0.1.2", "spam domain" },
	{ "phish.example", CP_DNSBL_LISTED, "127.0.1.4", "phishing domain" },
	{ "mal.example", CP_DNSBL_LISTED, "127.0.1.5", "malware domain" },
	{ "cc.example", CP_DNSBL_LISTED, "127.0.1.6",
	    "botnet command and control domain" },
	{ "a102.example", CP_DNSBL_LISTED, "127.0.1.102",
	    "abused legitimate domain: spam" },
	{ "a103.example", CP_DNSBL_LISTED, "127.0.1.103",
	    "abused legitimate domain: redirector or URL shortener" },
	{ "a104.example", CP_DNSBL_LISTED, "127.0.1.104",
	    "abused legitimate domain: phishing" },
	{ "a105.example", CP_DNSBL_LISTED, "127.0.1.105",
	    "abused legitimate domain: malware" },
	{ "a106.example", CP_DNSBL_LISTED, "127.0.1.106",
	    "abused legitimate domain: botnet command and control" },
	{ "ipq.example", CP_DNSBL_BLOCKED, "127.0.1.255", NULL },
	{ "clean.example", CP_DNSBL_NOT_LISTED, NULL, NULL },
};

CP_TEST(dnsbl_domain_lists)
{
	cp_dns *d = load();
	size_t nb;
	const cp_dnsbl_list *l = cp_dnsbl_builtin(&nb);
	cp_err err = { 0 };

	for (size_t i = 0; i < CP_NELEM(dbl_cases); i++) {
		cp_dnsbl_result *r = NULL;
		const cp_dnsbl_result *x;
		size_t n = 0;

		CP_CHECK_INT(cp_dnsbl_check(d, dbl_cases[i].dom, l, nb, &r, &n,
		    &err), CP_OK);
		CP_CHECK_INT(n, 3);
		x = find(r, n, "dbl.spamhaus.org");
		CP_CHECK(x != NULL, "dbl");
		if (x == NULL)
			continue;
		CP_CHECK(x->state == dbl_cases[i].state, "%s: %s",
		    dbl_cases[i].dom, cp_dnsbl_state_name(x->state));
		if (dbl_cases[i].code != NULL && x->nhits == 1) {
			CP_CHECK_STR(x->hits[0].addr, dbl_cases[i].code);
			if (dbl_cases[i].meaning != NULL)
				CP_CHECK_STR(x->hits[0].meaning,
				    dbl_cases[i].meaning);
		} else {
			CP_CHECK_INT(x->nhits, dbl_cases[i].code ? 1 : 0);
		}
		if (strcmp(dbl_cases[i].dom, "spam.example") == 0) {
			const cp_dnsbl_result *u = find(r, n,
			    "multi.uribl.com");
			const cp_dnsbl_result *s = find(r, n,
			    "multi.surbl.org");

			CP_CHECK_STR(x->txt, "spam domain, see dbl");
			/* URIBL 127.0.0.6: black + grey bits */
			CP_CHECK(u && u->state == CP_DNSBL_LISTED, "uribl");
			if (u && u->nhits == 1)
				CP_CHECK_STR(u->hits[0].meaning,
				    "domain seen in spam (black), domain of "
				    "bulk senders, some of it unsolicited "
				    "(grey)");
			/* SURBL 127.0.0.72: PH + ABUSE bits */
			CP_CHECK(s && s->state == CP_DNSBL_LISTED, "surbl");
			if (s && s->nhits == 1)
				CP_CHECK_STR(s->hits[0].meaning,
				    "phishing (PH), spam and other abuse "
				    "(ABUSE)");
		}
		cp_dnsbl_results_free(r, n);
	}
	{
		cp_dnsbl_result *r = NULL;
		const cp_dnsbl_result *u;
		size_t n = 0;

		CP_CHECK_INT(cp_dnsbl_check(d, "ref.example", l, nb, &r, &n,
		    &err), CP_OK);
		u = find(r, n, "multi.uribl.com");
		CP_CHECK(u && u->state == CP_DNSBL_BLOCKED, "uribl refused");
		cp_dnsbl_results_free(r, n);
	}
	cp_dns_free(d);
}

CP_TEST(dnsbl_list_specs)
{
	cp_dnsbl_list l;
	char z[256];
	cp_err err = { 0 };
	cp_dnsbl_result *r = NULL;
	size_t n = 0;
	cp_dns *d = load();

	CP_CHECK_INT(cp_dnsbl_list_from_spec("zen.spamhaus.org.", z,
	    sizeof(z), &l, &err), CP_OK);
	CP_CHECK_STR(l.name, "Spamhaus ZEN");
	CP_CHECK_STR(l.zone, "zen.spamhaus.org");
	CP_CHECK(l.ncodes > 9, "codes kept");
	CP_CHECK_INT(cp_dnsbl_list_from_spec("bl.example:domain", z,
	    sizeof(z), &l, &err), CP_OK);
	CP_CHECK(l.kind == CP_DNSBL_DOMAIN && l.ncodes == 0, "custom domain");
	CP_CHECK_INT(cp_dnsbl_list_from_spec("bl.spamcop.net", z, sizeof(z),
	    &l, &err), CP_OK);
	CP_CHECK(l.kind == CP_DNSBL_IP, "default ip");
	CP_CHECK_INT(cp_dnsbl_check(d, "127.0.0.2", &l, 1, &r, &n, &err),
	    CP_OK);
	CP_CHECK(n == 1 && r[0].state == CP_DNSBL_LISTED, "custom listed");
	cp_dnsbl_results_free(r, n);
	CP_CHECK_INT(cp_dnsbl_list_from_spec("x.example:url", z, sizeof(z),
	    &l, &err), CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_list_from_spec(":ip", z, sizeof(z), &l, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_list_from_spec("bad zone!:ip", z, sizeof(z), &l,
	    &err), CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_list_from_spec("a..b", z, sizeof(z), &l, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_check(d, "bad name!", &l, 1, &r, &n, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_check(d, "a..b", &l, 1, &r, &n, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_check(d, "", &l, 1, &r, &n, &err), CP_EINVAL);
	/* no list of the target's kind */
	CP_CHECK_INT(cp_dnsbl_list_from_spec("bl.example:domain", z,
	    sizeof(z), &l, &err), CP_OK);
	CP_CHECK_INT(cp_dnsbl_check(d, "192.0.2.1", &l, 1, &r, &n, &err),
	    CP_EINVAL);
	cp_dns_free(d);
}

CP_TEST(dnsbl_lists_file)
{
	static const char good[] =
	    "# lists\n"
	    "zen.spamhaus.org\n"
	    "\n"
	    "  bl.example.net:ip\t\r\n"
	    "dbl.spamhaus.org:domain";
	static const char bad_kind[] = "zen.spamhaus.org\nx.example:url\n";
	static const char nul[] = "zen.spamhaus.org\nx\0y\n";
	cp_dnsbl_set s = { 0 };
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dnsbl_set_parse(&s, good, sizeof(good) - 1, "f",
	    &err), CP_OK);
	CP_CHECK_INT(s.n, 3);
	if (s.n == 3) {
		CP_CHECK_STR(s.lists[0].name, "Spamhaus ZEN");
		CP_CHECK_STR(s.lists[1].zone, "bl.example.net");
		CP_CHECK_STR(s.lists[1].name, "bl.example.net");
		CP_CHECK(s.lists[1].kind == CP_DNSBL_IP, "ip");
		CP_CHECK(s.lists[2].kind == CP_DNSBL_DOMAIN, "domain");
		CP_CHECK(s.lists[2].ncodes > 5, "DBL codes");
	}
	cp_dnsbl_set_free(&s);
	CP_CHECK_INT(cp_dnsbl_set_parse(&s, bad_kind, sizeof(bad_kind) - 1,
	    "f", &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "f: line 2:") != NULL, "msg %s", err.msg);
	CP_CHECK_INT(s.n, 1);
	cp_dnsbl_set_free(&s);
	CP_CHECK_INT(cp_dnsbl_set_parse(&s, nul, sizeof(nul) - 1, "f", &err),
	    CP_EINVAL);
	cp_dnsbl_set_free(&s);
	CP_CHECK_INT(cp_dnsbl_set_parse(&s, "a b\n", 4, "f", &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_dnsbl_set_parse(&s, "zen.x # c\n", 10, "f", &err),
	    CP_EINVAL);
	cp_dnsbl_set_free(&s);
	for (int i = 0; i < CP_DNSBL_SET_MAX; i++)
		CP_CHECK_INT(cp_dnsbl_set_add(&s, "bl.example", &err), CP_OK);
	CP_CHECK_INT(cp_dnsbl_set_add(&s, "bl.example", &err), CP_ETOOBIG);
	cp_dnsbl_set_free(&s);
}

/* Every allocation failing in turn: CP_ENOMEM or a full answer, no leak
 * (the sanitizer build checks leaks), never a half-filled result. */
CP_TEST(dnsbl_alloc_failures)
{
	size_t nb;
	const cp_dnsbl_list *l = cp_dnsbl_builtin(&nb);
	int seen_ok = 0;

	for (unsigned long n = 1; n < 400 && seen_ok < 3; n++) {
		cp_dns *d = load();
		cp_dnsbl_result *r = NULL;
		size_t nr = 0;
		cp_err err = { 0 };
		int rc;

		cp_alloc_fail_at(n);
		rc = cp_dnsbl_check(d, "127.0.0.2", l, nb, &r, &nr, &err);
		cp_alloc_fail_at(0);
		CP_CHECK(rc == CP_OK || rc == CP_ENOMEM, "n=%lu: rc %d", n, rc);
		CP_CHECK((rc == CP_OK) == (r != NULL), "n=%lu", n);
		if (rc == CP_OK) {
			/* the TXT lookup may fail inside the resolver (an
			 * answer with status tempfail): a listing without a
			 * reason, which is what a real resolver can give */
			seen_ok++;
			CP_CHECK(nr == 7 && r[0].state == CP_DNSBL_LISTED &&
			    r[0].nhits == 1, "n=%lu: complete", n);
			if (nr > 0 && r[0].txt != NULL)
				CP_CHECK_STR(r[0].txt,
				    "https://check.spamhaus.org/sbl/x");
		}
		cp_dnsbl_results_free(r, nr);
		cp_dns_free(d);
	}
	CP_CHECK(seen_ok, "completes once allocations stop failing");
}
