/*
 * test_deliver.c - the delivery engine's pure parts: next hops (static
 * routes, MX order, implicit and null MX, failures) resolved through the
 * fake resolver, retry and expiry decisions, connection limits.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/dns.h"
#include "cptest.h"
#include "queue/deliver_int.h"

typedef struct got {
	int done;
	dl_hops *h;
} got;

static void
on_hops(void *arg, dl_hops *h)
{
	got *g = arg;

	g->done++;
	g->h = h;
}

/* Resolve name through d, driving the fake until the callback came. */
static dl_hops *
resolve(cp_dns *d, const char *name, int route)
{
	got g = { 0, NULL };
	cp_err err;

	if (dl_resolve_start(d, name, route, 2525, on_hops, &g, &err) != CP_OK)
		return NULL;
	for (int i = 0; i < 20 && !g.done; i++)
		cp_dns_process(d, NULL, 0);
	return g.done == 1 ? g.h : NULL;
}

static cp_dns *
zone(void)
{
	static const char z[] =
	    "pref.test MX 20 b.pref.test\n"
	    "pref.test MX 10 a.pref.test\n"
	    "pref.test MX 30 c.pref.test\n"
	    "a.pref.test A 192.0.2.1\n"
	    "a.pref.test AAAA 2001:db8::1\n"
	    "b.pref.test A 192.0.2.2\n"
	    "c.pref.test A 192.0.2.3\n"
	    "eq.test MX 10 x.eq.test\n"
	    "eq.test MX 10 y.eq.test\n"
	    "x.eq.test A 192.0.2.10\n"
	    "y.eq.test A 192.0.2.11\n"
	    "null.test MX 0 .\n"
	    "implicit.test A 192.0.2.20\n"
	    "implicit.test TXT \"v=spf1 -all\"\n"
	    "noaddr.test TXT \"nothing\"\n"
	    "slow.test TIMEOUT\n"
	    "lame.test MX 10 nowhere.lame.test\n"
	    "smart.example A 192.0.2.30\n";
	cp_dns *d = cp_dns_new_fake();
	cp_err err;

	if (d != NULL &&
	    cp_dns_fake_load_mem(d, z, sizeof(z) - 1, "zone", &err) != CP_OK) {
		cp_dns_free(d);
		return NULL;
	}
	return d;
}

CP_TEST(deliver_mx_preference_order)
{
	cp_dns *d = zone();
	dl_hops *h;

	CP_CHECK(d != NULL, "zone");
	h = resolve(d, "pref.test", 0);
	CP_CHECK(h != NULL && h->status == DL_HOP_OK, "resolved");
	if (h == NULL)
		goto out;
	CP_CHECK(h->n == 4, "4 addresses, got %zu", h->n);
	/* a (10): IPv6 first, then IPv4; b (20); c (30) */
	CP_CHECK_STR(h->v[0].ip, "2001:db8::1");
	CP_CHECK_STR(h->v[0].host, "a.pref.test");
	CP_CHECK_STR(h->v[1].ip, "192.0.2.1");
	CP_CHECK_STR(h->v[2].host, "b.pref.test");
	CP_CHECK_STR(h->v[3].host, "c.pref.test");
	CP_CHECK(h->v[0].pref == 10 && h->v[3].pref == 30, "prefs");
	CP_CHECK(ntohs(((struct sockaddr_in *)&h->v[1].sa)->sin_port) == 2525,
	    "port");
out:
	cp_free(h);
	cp_dns_free(d);
}

CP_TEST(deliver_mx_equal_preference_random)
{
	cp_dns *d = zone();
	int xfirst = 0, yfirst = 0;

	CP_CHECK(d != NULL, "zone");
	for (int i = 0; d != NULL && i < 64; i++) {
		dl_hops *h = resolve(d, "eq.test", 0);

		CP_CHECK(h != NULL && h->n == 2, "two hosts");
		if (h != NULL && h->n == 2) {
			if (strcmp(h->v[0].host, "x.eq.test") == 0)
				xfirst++;
			else
				yfirst++;
		}
		cp_free(h);
	}
	/* 64 draws: both orders come (chance of not: 2^-63) */
	CP_CHECK(xfirst > 0 && yfirst > 0, "x first %d, y first %d", xfirst,
	    yfirst);
	cp_dns_free(d);
}

CP_TEST(deliver_null_mx_and_implicit_mx)
{
	cp_dns *d = zone();
	dl_hops *h;

	CP_CHECK(d != NULL, "zone");
	h = resolve(d, "null.test", 0);
	CP_CHECK(h != NULL && h->status == DL_HOP_PERM && h->code == 556,
	    "null MX: 556");
	if (h != NULL) {
		CP_CHECK_STR(h->enhanced, "5.1.10");
		CP_CHECK(strstr(h->reply, "null MX") != NULL, "%s", h->reply);
	}
	cp_free(h);
	h = resolve(d, "implicit.test", 0);
	CP_CHECK(h != NULL && h->status == DL_HOP_OK && h->n == 1,
	    "implicit MX");
	if (h != NULL && h->n == 1) {
		CP_CHECK_STR(h->v[0].host, "implicit.test");
		CP_CHECK_STR(h->v[0].ip, "192.0.2.20");
	}
	cp_free(h);
	h = resolve(d, "noaddr.test", 0);
	CP_CHECK(h != NULL && h->status == DL_HOP_PERM && h->code == 550,
	    "no MX, no address: 550");
	cp_free(h);
	h = resolve(d, "missing.test", 0);
	CP_CHECK(h != NULL && h->status == DL_HOP_PERM, "NXDOMAIN: perm");
	if (h != NULL)
		CP_CHECK_STR(h->enhanced, "5.1.2");
	cp_free(h);
	h = resolve(d, "slow.test", 0);
	CP_CHECK(h != NULL && h->status == DL_HOP_TEMP && h->code == 451,
	    "timeout: temporary");
	cp_free(h);
	h = resolve(d, "lame.test", 0);
	CP_CHECK(h != NULL && h->status == DL_HOP_TEMP,
	    "MX host without address: temporary");
	cp_free(h);
	cp_dns_free(d);
}

CP_TEST(deliver_static_routes)
{
	cp_conf conf;
	cp_err err;
	const cp_conf_route *r;
	cp_dns *d = zone();
	dl_hops *h;
	char dom[64];

	CP_CHECK(cp_conf_init(&conf, &err) == CP_OK, "init");
	CP_CHECK(cp_conf_set(&conf, "routes.example.com", "192.0.2.7:2525",
	    &err) == CP_OK, "%s", err.msg);
	CP_CHECK(cp_conf_set(&conf, "routes..example.com",
	    "smart.example:587 tls=verify", &err) == CP_OK, "%s", err.msg);
	CP_CHECK(cp_conf_set(&conf, "routes.*", "[2001:db8::9]:25", &err) ==
	    CP_OK, "%s", err.msg);
	dl_rcpt_domain("Ann@Example.COM", dom, sizeof(dom));
	CP_CHECK_STR(dom, "example.com");
	r = cp_conf_find_route(&conf, dom);
	CP_CHECK(r != NULL && strcmp(r->host, "192.0.2.7") == 0, "exact");
	r = cp_conf_find_route(&conf, "mx.eu.example.com");
	CP_CHECK(r != NULL && strcmp(r->host, "smart.example") == 0 &&
	    r->tls == CP_CONF_TLS_VERIFY && r->port == 587, "parent");
	r = cp_conf_find_route(&conf, "other.org");
	CP_CHECK(r != NULL && strcmp(r->host, "2001:db8::9") == 0, "star");
	/* literals need no lookup; names are looked up (route 1) */
	h = dl_hops_literal("2001:db8::9", 25);
	CP_CHECK(h != NULL && h->n == 1 && h->v[0].family == AF_INET6,
	    "v6 literal");
	cp_free(h);
	CP_CHECK(dl_hops_literal("smart.example", 25) == NULL, "not literal");
	h = resolve(d, "smart.example", 1);
	CP_CHECK(h != NULL && h->status == DL_HOP_OK && h->n == 1,
	    "route host resolved");
	if (h != NULL && h->n == 1)
		CP_CHECK_STR(h->v[0].ip, "192.0.2.30");
	cp_free(h);
	cp_dns_free(d);
	cp_conf_clear(&conf);
}

CP_TEST(deliver_retry_and_expiry)
{
	cp_conf conf;
	cp_err err;
	dl_decision dec;
	int64_t now = 1800000000, exp = now + 86400;

	CP_CHECK(cp_conf_init(&conf, &err) == CP_OK, "init");
	CP_CHECK(cp_conf_set(&conf, "queue.retry", "5m,10m,1h", &err) == CP_OK,
	    "%s", err.msg);
	dl_decide(CP_SMTPC_OK, 3, now, exp, &conf.queue.retry, &dec);
	CP_CHECK(dec.outcome == CP_RCPT_DELIVERED, "2xx delivered");
	dl_decide(CP_SMTPC_PERM, 0, now, exp, &conf.queue.retry, &dec);
	CP_CHECK(dec.outcome == CP_RCPT_BOUNCED, "5xx bounced");
	dl_decide(CP_SMTPC_TEMP, 0, now, exp, &conf.queue.retry, &dec);
	CP_CHECK(dec.outcome == CP_RCPT_DEFERRED &&
	    dec.next_attempt == now + 300, "first 4xx: 5m, got %lld",
	    (long long)(dec.next_attempt - now));
	dl_decide(CP_SMTPC_TEMP, 1, now, exp, &conf.queue.retry, &dec);
	CP_CHECK(dec.next_attempt == now + 600, "second: 10m");
	dl_decide(CP_SMTPC_TEMP, 7, now, exp, &conf.queue.retry, &dec);
	CP_CHECK(dec.next_attempt == now + 3600, "the last repeats");
	dl_decide(CP_SMTPC_TEMP, 7, now, now + 60, &conf.queue.retry, &dec);
	CP_CHECK(dec.outcome == CP_RCPT_DEFERRED && dec.next_attempt == now + 60,
	    "not past expiry: one last try at expiry");
	dl_decide(CP_SMTPC_TEMP, 2, now, now, &conf.queue.retry, &dec);
	CP_CHECK(dec.outcome == CP_RCPT_EXPIRED, "at expiry: expired");
	dl_decide(CP_SMTPC_PERM, 2, now, now - 5, &conf.queue.retry, &dec);
	CP_CHECK(dec.outcome == CP_RCPT_BOUNCED, "5xx after expiry: bounced");
	cp_conf_clear(&conf);
}

CP_TEST(deliver_connection_limits)
{
	CP_CHECK(dl_may_open(0, 0, 1, 1), "first");
	CP_CHECK(!dl_may_open(1, 0, 1, 10), "per destination");
	CP_CHECK(!dl_may_open(0, 10, 5, 10), "per source address");
	CP_CHECK(dl_may_open(9, 99, 10, 100), "under both");
}

CP_TEST(deliver_dsn_never_for_null_sender)
{
	static const char orig[] = "From: a@x\r\nSubject: s\r\n\r\nbody\r\n";
	dl_dsn *x = dl_dsn_make("relay.test", 1, 42, "", 1, orig,
	    sizeof(orig) - 1, "r@y", CP_RCPT_BOUNCED, "5.1.1", "mx.y",
	    "550 5.1.1 no", NULL, 2);

	CP_CHECK(x == NULL, "no DSN for a DSN");
	x = dl_dsn_make("relay.test", 1, 42, "ann@x", 1, orig,
	    sizeof(orig) - 1, "r@y", CP_RCPT_BOUNCED, "5.1.1", "mx.y",
	    "550 5.1.1 no", NULL, 2);
	CP_CHECK(x != NULL && x->tenant == 1, "DSN made");
	if (x != NULL) {
		CP_CHECK_STR(x->to, "ann@x");
		CP_CHECK(x->body.len > 0 && memmem(x->body.data, x->body.len,
		    "5.1.1", 5) != NULL, "status in the report");
		CP_CHECK(memmem(x->body.data, x->body.len, "body\r\n", 6) ==
		    NULL, "headers only, not the body");
	}
	dl_dsn_free(x);
}
