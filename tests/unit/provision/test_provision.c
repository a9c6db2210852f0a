/*
 * Unit tests of the provisioning plan (provision_plan.c), what-is-there
 * on the fake resolver (provision_dns.c), the --tsig/--server parsers and
 * the UPDATE reply parser on real Knot replies (provision_update.c), and
 * cp_store_set_domain_key (key rotation in the store).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/provision.h"
#include "coldpost/store.h"
#include "cptest.h"

static const cp_prov_ip ips[] = {
	{ "192.0.2.25", "mta1.acme.test" },
	{ "2001:DB8:0::25", "mta1.acme.test" },
};

static char *
merge(const char *existing, const cp_prov_spf_cost *costs, size_t ncosts,
    int *rc, int *lookups, char **notes)
{
	cp_buf out, nb;
	cp_err err = { 0 };
	char *s;

	cp_buf_init(&out, 1 << 16);
	cp_buf_init(&nb, 1 << 16);
	*rc = cp_prov_spf_merge(existing, ips, 2, costs, ncosts, &out, lookups,
	    &nb, &err);
	s = cp_strdup(out.data ? out.data : "");
	if (notes)
		*notes = cp_strdup(nb.data ? nb.data : "");
	cp_buf_free(&out);
	cp_buf_free(&nb);
	return s;
}

CP_TEST(prov_spf_new_record)
{
	int rc, n = -1;
	char *s = merge(NULL, NULL, 0, &rc, &n, NULL);

	CP_CHECK_INT(rc, CP_OK);
	CP_CHECK_STR(s, "v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 -all");
	CP_CHECK_INT(n, 0);
	cp_free(s);
}

CP_TEST(prov_spf_merge_keeps_terms_and_is_idempotent)
{
	static const cp_prov_spf_cost c[] = { { "_spf.google.com", 3 } };
	int rc, n;
	char *s = merge("v=spf1 include:_spf.google.com ~all", c, 1, &rc, &n,
	    NULL), *s2;

	CP_CHECK_INT(rc, CP_OK);
	CP_CHECK_STR(s, "v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 "
	    "include:_spf.google.com ~all");
	CP_CHECK_INT(n, 4);
	s2 = merge(s, c, 1, &rc, &n, NULL);     /* the second run */
	CP_CHECK_STR(s2, s);
	cp_free(s);
	cp_free(s2);
	/* listed already with /32 and a different spelling: not added */
	s = merge("v=spf1 ip4:192.0.2.25/32 +ip6:2001:db8:0:0::25 -all", NULL,
	    0, &rc, &n, NULL);
	CP_CHECK_STR(s, "v=spf1 ip4:192.0.2.25/32 +ip6:2001:db8:0:0::25 -all");
	cp_free(s);
	/* a wider range is not an exact listing: the IP is added */
	s = merge("v=spf1 ip4:192.0.2.0/24 -ip6:2001:db8::25 -all", NULL, 0,
	    &rc, &n, NULL);
	CP_CHECK_STR(s, "v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 "
	    "ip4:192.0.2.0/24 -ip6:2001:db8::25 -all");
	cp_free(s);
}

CP_TEST(prov_spf_plus_all_and_redirect)
{
	static const cp_prov_spf_cost c[] = { { "_spf.example.net", 2 } };
	int rc, n;
	char *notes, *s = merge("v=spf1 a +all", NULL, 0, &rc, &n, &notes);

	CP_CHECK_STR(s, "v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 a ~all");
	CP_CHECK(strstr(notes, "every host") != NULL, "notes: %s", notes);
	cp_free(s);
	cp_free(notes);
	/* redirect costs 1 + its target; dead after an all (RFC 7208 6.1) */
	s = merge("v=spf1 mx redirect=_spf.example.net", c, 1, &rc, &n, NULL);
	CP_CHECK_INT(n, 4);
	cp_free(s);
	s = merge("v=spf1 mx -all redirect=_spf.example.net", c, 1, &rc, &n,
	    NULL);
	CP_CHECK_INT(n, 1);
	cp_free(s);
}

CP_TEST(prov_spf_over_limit_trimmed)
{
	static const cp_prov_spf_cost c[] = { { "a.test", 4 }, { "b.test", 3 } };
	int rc, n;
	char *notes;
	/* include a (1+4) b (1+3) twice + ptr + mx = 15; repeats and ptr
	   dropped: 1+4 + 1+3 + 1 = 10 */
	char *s = merge("v=spf1 include:a.test include:b.test include:b.test "
	    "ptr mx ~all", c, 2, &rc, &n, &notes);

	CP_CHECK_INT(rc, CP_OK);
	CP_CHECK_INT(n, 10);
	CP_CHECK_STR(s, "v=spf1 ip4:192.0.2.25 ip6:2001:db8::25 include:a.test "
	    "include:b.test mx ~all");
	CP_CHECK(strstr(notes, "repeated") && strstr(notes, "ptr"), "notes: %s",
	    notes);
	cp_free(s);
	cp_free(notes);
}

CP_TEST(prov_spf_over_limit_blocked)
{
	static const cp_prov_spf_cost c[] = { { "a.test", 9 } };
	int rc, n;
	char *notes, *s = merge("v=spf1 include:a.test a mx ~all", c, 1, &rc, &n,
	    &notes);

	CP_CHECK_INT(rc, CP_ETOOBIG);
	CP_CHECK_INT(n, 12);
	CP_CHECK(strstr(notes, "not written") != NULL, "notes: %s", notes);
	cp_free(s);
	cp_free(notes);
}

CP_TEST(prov_spf_broken_and_bad_ip)
{
	static const cp_prov_ip bad[] = { { "192.0.2.300", NULL } };
	cp_buf out;
	cp_err err = { 0 };
	int rc, n;
	char *s = merge("v=spf1 ip4:1.2.3 -all", NULL, 0, &rc, &n, NULL);

	CP_CHECK_INT(rc, CP_ESYNTAX);
	cp_free(s);
	cp_buf_init(&out, 1024);
	CP_CHECK_INT(cp_prov_spf_merge(NULL, bad, 1, NULL, 0, &out, &n, NULL,
	    &err), CP_EINVAL);
	cp_buf_free(&out);
}

CP_TEST(prov_txt_strings)
{
	char v[600];
	cp_buf b;

	memset(v, 'a', sizeof(v));
	cp_buf_init(&b, 1 << 16);
	CP_CHECK_INT(cp_prov_txt_strings(v, 600, &b), CP_OK);
	/* 255 + 255 + 90, each quoted, separated by a space */
	CP_CHECK_INT(b.len, 600 + 3 * 2 + 2);
	CP_CHECK(b.data[256] == '"' && b.data[257] == ' ' && b.data[258] == '"',
	    "split: %.20s", b.data + 250);
	cp_buf_reset(&b);
	CP_CHECK_INT(cp_prov_txt_strings("a\"b\\c\x01", 6, &b), CP_OK);
	CP_CHECK_STR(b.data, "\"a\\\"b\\\\c\\001\"");
	cp_buf_reset(&b);
	cp_prov_txt_strings("", 0, &b);
	CP_CHECK_STR(b.data, "\"\"");
	cp_buf_free(&b);
}

/* The record of kind at owner; the test stops when there is none. */
static const cp_prov_record *
find(const cp_prov_plan *p, cp_prov_kind k, const char *owner)
    __attribute__((returns_nonnull));

static const cp_prov_record *
find(const cp_prov_plan *p, cp_prov_kind k, const char *owner)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rec[i].kind == k && strcmp(p->rec[i].owner, owner) == 0)
			return &p->rec[i];
	cptest_fail(__FILE__, __LINE__, "no %s record at %s",
	    cp_prov_kind_name(k), owner);
	exit(1);
}

static int
has(const cp_prov_plan *p, cp_prov_kind k, const char *owner)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rec[i].kind == k && strcmp(p->rec[i].owner, owner) == 0)
			return 1;
	return 0;
}

static void
input(cp_prov_input *in)
{
	memset(in, 0, sizeof(*in));
	in->domain = "acme.test";
	in->ips = ips;
	in->nips = 2;
	in->bounce_domain = "bounce.acme.test";
	in->selector = "s1";
	in->dkim_record = "v=DKIM1; k=rsa; p=AAAA";
}

CP_TEST(prov_plan_records)
{
	cp_prov_input in;
	cp_prov_plan *p;
	const cp_prov_record *r;
	cp_buf line;
	cp_err err = { 0 };

	input(&in);
	CP_CHECK_INT(cp_prov_plan_compute(&in, &p, &err), CP_OK);
	r = find(p, CP_PROV_SPF, "acme.test");
	CP_CHECK(r && r->how == CP_PROV_REPLACE && r->old == NULL, "spf");
	CP_CHECK(has(p, CP_PROV_SPF, "bounce.acme.test"), "bounce spf");
	r = find(p, CP_PROV_DKIM, "s1._domainkey.acme.test");
	CP_CHECK(r && strcmp(r->data, in.dkim_record) == 0, "dkim");
	r = find(p, CP_PROV_DMARC, "_dmarc.acme.test");
	CP_CHECK(r && r->how == CP_PROV_IFNONE, "dmarc");
	CP_CHECK_STR(r->data, "v=DMARC1; p=none; "
	    "rua=mailto:dmarc-reports@acme.test");
	CP_CHECK(r->note && strstr(r->note, "p=quarantine"), "advice");
	r = find(p, CP_PROV_MX, "bounce.acme.test");
	CP_CHECK(r && strcmp(r->data, "10 mta1.acme.test") == 0, "mx");
	r = find(p, CP_PROV_PTR, "25.2.0.192.in-addr.arpa");
	CP_CHECK(r && strcmp(r->data, "mta1.acme.test") == 0, "ptr4");
	CP_CHECK(has(p, CP_PROV_PTR, "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"), "ptr6");
	r = find(p, CP_PROV_ADDR, "mta1.acme.test");
	CP_CHECK(r && r->type == CP_DNS_A, "A of the EHLO name");
	CP_CHECK_INT(p->blocked, 0);
	cp_buf_init(&line, 1 << 16);
	cp_prov_zone_line(find(p, CP_PROV_MX, "bounce.acme.test"), &line);
	CP_CHECK_STR(line.data, "bounce.acme.test. 3600 IN MX 10 "
	    "mta1.acme.test.");
	cp_buf_free(&line);
	cp_prov_plan_free(p);
}

CP_TEST(prov_plan_keeps_what_exists)
{
	cp_prov_input in;
	cp_prov_plan *p;
	const cp_prov_record *r;
	cp_err err = { 0 };

	input(&in);
	in.bounce_domain = NULL;  /* bounces to the domain itself */
	in.has_dmarc = 1;
	in.domain_has_mx = 1;
	in.spf_domain.spf = "v=spf1 mx -all";
	in.spf_domain.nspf = 1;
	in.ips = ips + 1;
	in.nips = 1;
	CP_CHECK_INT(cp_prov_plan_compute(&in, &p, &err), CP_OK);
	CP_CHECK(!has(p, CP_PROV_SPF, "bounce.acme.test"), "no bounce");
	r = find(p, CP_PROV_SPF, "acme.test");
	CP_CHECK_STR(r->data, "v=spf1 ip6:2001:db8::25 mx -all");
	CP_CHECK_STR(r->old, "v=spf1 mx -all");
	CP_CHECK(find(p, CP_PROV_DMARC, "_dmarc.acme.test")->how == CP_PROV_KEEP,
	    "dmarc kept");
	CP_CHECK(find(p, CP_PROV_MX, "acme.test")->how == CP_PROV_KEEP,
	    "mx kept");
	cp_prov_plan_free(p);
	/* two SPF records: not merged, blocked */
	input(&in);
	in.spf_domain.spf = "v=spf1 -all";
	in.spf_domain.nspf = 2;
	CP_CHECK_INT(cp_prov_plan_compute(&in, &p, &err), CP_OK);
	r = find(p, CP_PROV_SPF, "acme.test");
	CP_CHECK(r->state == CP_PROV_BLOCKED && strstr(r->note, "2 SPF"),
	    "blocked: %s", r->note);
	CP_CHECK_INT(p->blocked, 1);
	cp_prov_plan_free(p);
}

static const char zone[] =
	"acme.test. TXT \"v=spf1 include:_spf.mail.test ~all\"\n"
	"acme.test. TXT \"site-verification=1\"\n"
	"acme.test. MX 10 mx.mail.test.\n"
	"_spf.mail.test. TXT \"v=spf1 include:_s2.mail.test a mx ~all\"\n"
	"_s2.mail.test. TXT \"v=spf1 exists:%{i}.x.test ptr ~all\"\n";

CP_TEST(prov_read_and_compare)
{
	cp_dns *d = cp_dns_new_fake();
	cp_prov_existing ex;
	cp_prov_input in;
	cp_prov_plan *p;
	size_t nch = 0;
	cp_err err = { 0 };
	int has;

	CP_CHECK_INT(cp_dns_fake_load_mem(d, zone, sizeof(zone) - 1, "z",
	    &err), CP_OK);
	CP_CHECK_INT(cp_prov_read_spf(d, "acme.test", &ex, &err), CP_OK);
	CP_CHECK_STR(ex.spf, "v=spf1 include:_spf.mail.test ~all");
	CP_CHECK_INT(ex.nspf, 1);
	CP_CHECK_INT(ex.ncosts, 1);
	/* _spf: include a mx = 3, + _s2: exists ptr = 2 */
	CP_CHECK_INT(ex.costs[0].lookups, 5);
	CP_CHECK_INT(cp_prov_has_record(d, "acme.test", CP_DNS_MX, &has, &err),
	    CP_OK);
	CP_CHECK_INT(has, 1);
	input(&in);
	in.spf_domain = ex;
	in.domain_has_mx = 1;
	CP_CHECK_INT(cp_prov_plan_compute(&in, &p, &err), CP_OK);
	CP_CHECK_INT(p->spf_lookups, 6);
	CP_CHECK_INT(cp_prov_plan_compare(p, d, &nch, &err), CP_OK);
	CP_CHECK_INT(find(p, CP_PROV_SPF, "acme.test")->state, CP_PROV_CHANGE);
	CP_CHECK_INT(find(p, CP_PROV_DKIM, "s1._domainkey.acme.test")->state,
	    CP_PROV_NEW);
	CP_CHECK_INT(nch, p->n);
	cp_prov_plan_free(p);
	cp_dns_free(d);

	/* everything published: all the same, nothing to do */
	d = cp_dns_new_fake();
	cp_dns_fake_load_mem(d, zone, sizeof(zone) - 1, "z", &err);
	input(&in);
	in.spf_domain = ex;
	in.domain_has_mx = 1;
	CP_CHECK_INT(cp_prov_plan_compute(&in, &p, &err), CP_OK);
	for (size_t i = 0; i < p->n; i++) {
		const cp_prov_record *r = &p->rec[i];
		const char *strs[2] = { r->data, NULL };

		if (r->type == CP_DNS_TXT) {
			/* written cut in two strings: the same value joined */
			size_t h = strlen(r->data) / 2;
			char *a = cp_strndup(r->data, h);

			strs[0] = a;
			strs[1] = r->data + h;
			CP_CHECK_INT(cp_dns_fake_add_txt(d, r->owner, strs, 2,
			    &err), CP_OK);
			cp_free(a);
		} else {
			cp_dns_fake_add(d, r->owner, r->type, r->data, &err);
		}
	}
	CP_CHECK_INT(cp_prov_plan_compare(p, d, &nch, &err), CP_OK);
	for (size_t i = 0; i < p->n; i++)
		CP_CHECK(p->rec[i].state == CP_PROV_SAME, "%s %s: %s",
		    p->rec[i].owner, cp_dns_type_name(p->rec[i].type),
		    cp_prov_state_name(p->rec[i].state));
	CP_CHECK_INT(nch, 0);
	/* an extra MX at the bounce domain: the RRset is not ours yet */
	cp_dns_fake_add(d, "bounce.acme.test", CP_DNS_MX, "20 other.test", &err);
	CP_CHECK_INT(cp_prov_plan_compare(p, d, &nch, &err), CP_OK);
	CP_CHECK_INT(find(p, CP_PROV_MX, "bounce.acme.test")->state,
	    CP_PROV_CHANGE);
	CP_CHECK_INT(nch, 1);
	cp_prov_plan_free(p);
	cp_prov_existing_clear(&ex);
	/* a lookup that times out is an error, not "absent" */
	cp_dns_fake_timeout(d, "slow.test", 0, &err);
	CP_CHECK_INT(cp_prov_read_spf(d, "slow.test", &ex, &err), CP_ETEMP);
	cp_prov_existing_clear(&ex);
	cp_dns_free(d);
}

CP_TEST(prov_tsig_and_server_parse)
{
	cp_prov_tsig t;
	cp_prov_server s;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_prov_tsig_parse("k1:hmac-sha256:c2VjcmV0", &t, &err),
	    CP_OK);
	CP_CHECK_STR(t.name, "k1");
	CP_CHECK_STR(t.alg, "hmac-sha256");
	CP_CHECK_STR(t.secret, "c2VjcmV0");
	CP_CHECK_INT(cp_prov_tsig_parse("HMAC-SHA512:k2:c2VjcmV0", &t, &err),
	    CP_OK);
	CP_CHECK_STR(t.name, "k2");
	CP_CHECK_STR(t.alg, "hmac-sha512");
	CP_CHECK_INT(cp_prov_tsig_parse("k1:hmac-foo:c2Vj", &t, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_prov_tsig_parse("k1:hmac-sha256:", &t, &err), CP_EINVAL);
	CP_CHECK_INT(cp_prov_tsig_parse("k1:hmac-sha256:not base64!", &t, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_prov_tsig_parse("k1", &t, &err), CP_EINVAL);
	CP_CHECK_INT(cp_prov_server_parse("127.0.0.1:5353", &s, &err), CP_OK);
	CP_CHECK_STR(s.host, "127.0.0.1");
	CP_CHECK_STR(s.port, "5353");
	CP_CHECK_INT(cp_prov_server_parse("[::1]:29531", &s, &err), CP_OK);
	CP_CHECK_STR(s.host, "::1");
	CP_CHECK_INT(cp_prov_server_parse("ns1.test", &s, &err), CP_OK);
	CP_CHECK_STR(s.port, "53");
	CP_CHECK_INT(cp_prov_server_parse("::1", &s, &err), CP_OK);
	CP_CHECK_STR(s.host, "::1");
	CP_CHECK_INT(cp_prov_server_parse("h:70000", &s, &err), CP_EINVAL);
	CP_CHECK_INT(cp_prov_server_parse(":53", &s, &err), CP_EINVAL);
}

/* A seed of fuzz_prov_reply: [N][MAC][reply], read whole. */
static unsigned char *
seed(const char *name, size_t *len)
{
	char path[512];
	unsigned char *buf = cp_malloc(65536 + 300);
	FILE *f;

	snprintf(path, sizeof(path), "%s/../fuzz/corpus/fuzz_prov_reply/%s",
	    cptest_data_dir(), name);
	f = fopen(path, "rb");
	CP_CHECK(f != NULL, "%s", path);
	*len = f ? fread(buf, 1, 65536 + 300, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

CP_TEST(prov_reply_parse_real_replies)
{
	static const cp_prov_tsig key = { "cp-fuzz-key", "hmac-sha256",
		"Y29sZHBvc3QtZnV6ei1zZWNyZXQ=" };
	static const cp_prov_tsig other = { "cp-fuzz-key", "hmac-sha256",
		"b3RoZXItc2VjcmV0" };
	cp_prov_reply r;
	cp_err err = { 0 };
	size_t len;
	unsigned char *b = seed("signed_add", &len);
	size_t off = 1 + b[0];
	uint16_t id = (uint16_t)(b[off] << 8 | b[off + 1]);

	CP_CHECK_INT(cp_prov_reply_parse(b + off, len - off, id, &key, b + 1,
	    b[0], &r, &err), CP_OK);
	CP_CHECK_INT(r.rcode, 0);
	CP_CHECK_INT(r.opcode, 5);
	CP_CHECK_INT(r.tsig, 1);
	CP_CHECK(r.signed_at > 1700000000 && r.signed_at < 4000000000LL,
	    "signed at %lld", (long long)r.signed_at);
	/* another secret, another request MAC: the signature does not hold */
	cp_prov_reply_parse(b + off, len - off, id, &other, b + 1, b[0], &r,
	    &err);
	CP_CHECK_INT(r.tsig, -1);
	b[1] ^= 1;
	cp_prov_reply_parse(b + off, len - off, id, &key, b + 1, b[0], &r, &err);
	CP_CHECK_INT(r.tsig, -1);
	/* another id: not our reply */
	CP_CHECK_INT(cp_prov_reply_parse(b + off, len - off, (uint16_t)(id + 1),
	    &key, b + 1, b[0], &r, &err), CP_ESYNTAX);
	/* cut short */
	CP_CHECK_INT(cp_prov_reply_parse(b + off, 20, id, &key, NULL, 0, &r,
	    &err), CP_ESYNTAX);
	cp_free(b);

	b = seed("bad_secret", &len);
	off = 1 + b[0];
	id = (uint16_t)(b[off] << 8 | b[off + 1]);
	CP_CHECK_INT(cp_prov_reply_parse(b + off, len - off, id, &key, b + 1,
	    b[0], &r, &err), CP_OK);
	CP_CHECK_INT(r.rcode, 9);
	CP_CHECK(strstr(r.why, "BADSIG") != NULL, "why: %s", r.why);
	CP_CHECK(r.tsig != 1, "an error reply is not verified");
	cp_free(b);

	b = seed("bad_key", &len);
	off = 1 + b[0];
	id = (uint16_t)(b[off] << 8 | b[off + 1]);
	cp_prov_reply_parse(b + off, len - off, id, &key, b + 1, b[0], &r, &err);
	CP_CHECK(strstr(r.why, "BADKEY") != NULL, "why: %s", r.why);
	cp_free(b);

	b = seed("unsigned", &len);
	off = 1 + b[0];
	id = (uint16_t)(b[off] << 8 | b[off + 1]);
	cp_prov_reply_parse(b + off, len - off, id, &key, NULL, 0, &r, &err);
	CP_CHECK_INT(r.tsig, 0);
	CP_CHECK(r.rcode != 0, "an unsigned update is refused");
	cp_free(b);
}

CP_TEST(prov_store_set_domain_key)
{
	char dir[] = "/tmp/cp-prov-XXXXXX", dsn[64];
	cp_store *st;
	cp_tenant t = { 0 };
	cp_domain d = { 0 }, nd;
	cp_domain *got = NULL;
	cp_err err = { 0 };
	static const char pem[] = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vw"
	    "BCIEIDX3Xx0lTGyJxL3d3CZxpbyYDqB0ouAVkXlSc1fMGAu4\n-----END "
	    "PRIVATE KEY-----\n";

	CP_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(dsn, sizeof(dsn), "sqlite:%s/s.db", dir);
	st = cp_store_open(dsn, &err);
	CP_CHECK(st != NULL, "open: %s", err.msg);
	if (st == NULL)
		return;
	t.name = "acme";
	CP_CHECK_INT(cp_store_add_tenant(st, &t, &err), CP_OK);
	d.tenant = t.id;
	d.name = "Acme.Test";
	d.selector = "s1";
	d.key_path = "/etc/old.pem";
	d.alg = "rsa-sha256";
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_OK);
	nd = d;
	nd.name = "ACME.test";
	nd.selector = "s2";
	nd.key_path = NULL;
	nd.key_pem = pem;
	nd.alg = "ed25519-sha256";
	CP_CHECK_INT(cp_store_set_domain_key(st, &nd, &err), CP_OK);
	CP_CHECK_INT(cp_store_get_domain(st, "acme.test", &got, &err), CP_OK);
	if (got) {
		CP_CHECK_STR(got->selector, "s2");
		CP_CHECK_STR(got->alg, "ed25519-sha256");
		CP_CHECK(got->key_path == NULL && got->key_pem != NULL &&
		    strcmp(got->key_pem, pem) == 0, "key switched");
		CP_CHECK_INT(got->id, d.id);
		cp_domain_free(got);
	}
	nd.name = "other.test";
	CP_CHECK_INT(cp_store_set_domain_key(st, &nd, &err), CP_ENOTFOUND);
	nd.name = "acme.test";
	nd.key_path = "/x.pem";
	CP_CHECK_INT(cp_store_set_domain_key(st, &nd, &err), CP_EINVAL);
	cp_store_close(st);
	snprintf(dsn, sizeof(dsn), "rm -rf %s", dir);
	CP_CHECK_INT(system(dsn), 0);
}
