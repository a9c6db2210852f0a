/*
 * Unit tests: the TTL cache (src/dns/dns_cache.c) on its own, with time
 * moved by hand: TTLs counting down, expiry, negative caching, what is
 * never kept, the caps, and least-recently-used eviction.
 */
#include <arpa/inet.h>
#include <string.h>

#include "coldpost/dns.h"
#include "cptest.h"
#include "dns/dns_int.h"

static cp_dns_answer *
answer_a(const char *name, uint32_t ttl)
{
	cp_dns_answer *a = dns_answer_new(name, CP_DNS_A);
	cp_dns_rr rr;

	memset(&rr, 0, sizeof(rr));
	rr.type = CP_DNS_A;
	rr.ttl = ttl;
	inet_pton(AF_INET, "192.0.2.1", &rr.u.a);
	CP_CHECK(a && dns_answer_add(a, &rr) == CP_OK, "answer");
	return a;
}

static cp_dns_answer *
answer_neg(const char *name, cp_dns_status st, uint32_t ttl)
{
	cp_dns_answer *a = dns_answer_new(name, CP_DNS_TXT);

	a->status = st;
	a->ttl = ttl;
	return a;
}

static int
cached(dns_cache *c, const char *name, int type, uint64_t now,
    uint32_t *ttl)
{
	cp_dns_answer *a = NULL;
	int rc = dns_cache_get(c, name, type, now, &a);

	if (rc == CP_OK && ttl)
		*ttl = a->ttl;
	cp_dns_answer_free(a);
	return rc == CP_OK;
}

CP_TEST(dns_cache_ttl_counts_down_and_expires)
{
	dns_cache *c = dns_cache_new(10);
	cp_dns_answer *a = answer_a("a.test", 300), *got = NULL;
	uint64_t t0 = 1000000;
	uint32_t ttl = 0;

	CP_CHECK_INT(dns_cache_put(c, a, t0), CP_OK);
	CP_CHECK_INT(dns_cache_count(c), 1);
	CP_CHECK(cached(c, "a.test", CP_DNS_A, t0, &ttl) && ttl == 300,
	    "fresh: ttl %u", ttl);
	/* 100.9 s later: 100 whole seconds gone */
	CP_CHECK_INT(dns_cache_get(c, "a.test", CP_DNS_A, t0 + 100900, &got),
	    CP_OK);
	CP_CHECK(got && got->ttl == 200 && got->n == 1 &&
	    got->rr[0].ttl == 200, "aged: ttl %u", got ? got->ttl : 0);
	CP_CHECK_INT(got ? (int)got->status : -1, CP_DNS_OK);
	cp_dns_answer_free(got);
	/* other type, same name: a miss */
	CP_CHECK(!cached(c, "a.test", CP_DNS_AAAA, t0, NULL), "type is key");
	/* 299.999 s: still there with TTL 1; 300 s: gone, and removed */
	CP_CHECK(cached(c, "a.test", CP_DNS_A, t0 + 299999, &ttl) && ttl == 1,
	    "last ms: ttl %u", ttl);
	CP_CHECK(!cached(c, "a.test", CP_DNS_A, t0 + 300000, NULL), "expired");
	CP_CHECK_INT(dns_cache_count(c), 0);
	/* the copy given out is the caller's: freeing it leaves the cache */
	CP_CHECK_INT(dns_cache_put(c, a, t0), CP_OK);
	CP_CHECK(cached(c, "a.test", CP_DNS_A, t0 + 1, NULL), "again");
	cp_dns_answer_free(a);
	CP_CHECK(cached(c, "a.test", CP_DNS_A, t0 + 2, NULL), "own copy");
	dns_cache_free(c);
}

CP_TEST(dns_cache_negative_and_never_kept)
{
	dns_cache *c = dns_cache_new(10);
	cp_dns_answer *nx = answer_neg("nx.test", CP_DNS_NXDOMAIN, 60);
	cp_dns_answer *nd = answer_neg("nd.test", CP_DNS_NODATA, 120);
	cp_dns_answer *nosoa = answer_neg("z.test", CP_DNS_NXDOMAIN, 0);
	cp_dns_answer *tf = answer_neg("tf.test", CP_DNS_TEMPFAIL, 300);
	cp_dns_answer *er = answer_neg("er.test", CP_DNS_ERROR, 300);
	cp_dns_answer *zero = answer_a("zero.test", 0), *got = NULL;
	uint32_t ttl = 0;

	dns_cache_put(c, nx, 0);
	dns_cache_put(c, nd, 0);
	dns_cache_put(c, nosoa, 0);
	dns_cache_put(c, tf, 0);
	dns_cache_put(c, er, 0);
	dns_cache_put(c, zero, 0);
	CP_CHECK_INT(dns_cache_count(c), 2);
	CP_CHECK_INT(dns_cache_get(c, "nx.test", CP_DNS_TXT, 30000, &got),
	    CP_OK);
	CP_CHECK(got && got->status == CP_DNS_NXDOMAIN && got->ttl == 30,
	    "negative hit");
	cp_dns_answer_free(got);
	CP_CHECK(!cached(c, "nx.test", CP_DNS_TXT, 60000, NULL), "nx expired");
	CP_CHECK(cached(c, "nd.test", CP_DNS_TXT, 60000, &ttl) && ttl == 60,
	    "nodata still there");
	CP_CHECK(!cached(c, "tf.test", CP_DNS_TXT, 0, NULL), "tempfail kept");
	CP_CHECK(!cached(c, "er.test", CP_DNS_TXT, 0, NULL), "error kept");
	CP_CHECK(!cached(c, "z.test", CP_DNS_TXT, 0, NULL), "no-SOA kept");
	CP_CHECK(!cached(c, "zero.test", CP_DNS_A, 0, NULL), "ttl 0 kept");
	cp_dns_answer_free(nx);
	cp_dns_answer_free(nd);
	cp_dns_answer_free(nosoa);
	cp_dns_answer_free(tf);
	cp_dns_answer_free(er);
	cp_dns_answer_free(zero);
	dns_cache_free(c);
}

CP_TEST(dns_cache_ttl_caps)
{
	dns_cache *c = dns_cache_new(10);
	cp_dns_answer *a = answer_a("long.test", 7 * 86400);
	cp_dns_answer *n = answer_neg("neg.test", CP_DNS_NXDOMAIN, 86400);
	uint32_t ttl = 0;

	dns_cache_put(c, a, 0);
	dns_cache_put(c, n, 0);
	CP_CHECK(cached(c, "long.test", CP_DNS_A, 0, &ttl) &&
	    ttl == DNS_CACHE_MAX_TTL, "positive cap: %u", ttl);
	CP_CHECK(!cached(c, "long.test", CP_DNS_A,
	    (uint64_t)DNS_CACHE_MAX_TTL * 1000, NULL), "gone after a day");
	CP_CHECK(cached(c, "neg.test", CP_DNS_TXT, 0, &ttl) &&
	    ttl == DNS_CACHE_MAX_NEG_TTL, "negative cap: %u", ttl);
	cp_dns_answer_free(a);
	cp_dns_answer_free(n);
	dns_cache_free(c);
}

CP_TEST(dns_cache_lru_eviction)
{
	dns_cache *c = dns_cache_new(3);
	const char *names[] = { "n1.test", "n2.test", "n3.test", "n4.test",
		"n5.test" };
	cp_dns_answer *a[5];

	for (size_t i = 0; i < 5; i++)
		a[i] = answer_a(names[i], 300);
	for (size_t i = 0; i < 3; i++)
		dns_cache_put(c, a[i], 0);
	CP_CHECK_INT(dns_cache_count(c), 3);
	/* n1 used: n2 is now the least recently used */
	CP_CHECK(cached(c, "n1.test", CP_DNS_A, 1, NULL), "n1");
	dns_cache_put(c, a[3], 2);
	CP_CHECK_INT(dns_cache_count(c), 3);
	CP_CHECK_INT(dns_cache_evictions(c), 1);
	CP_CHECK(!cached(c, "n2.test", CP_DNS_A, 3, NULL), "n2 evicted");
	CP_CHECK(cached(c, "n1.test", CP_DNS_A, 3, NULL), "n1 kept");
	CP_CHECK(cached(c, "n3.test", CP_DNS_A, 3, NULL), "n3 kept");
	CP_CHECK(cached(c, "n4.test", CP_DNS_A, 3, NULL), "n4 kept");
	/* replacing a key does not evict */
	dns_cache_put(c, a[3], 4);
	CP_CHECK_INT(dns_cache_count(c), 3);
	CP_CHECK_INT(dns_cache_evictions(c), 1);
	/* an expired tail goes without counting as an eviction: n1, n3 and
	 * n4 expire at 300 s; n5 comes in at 400 s */
	dns_cache_put(c, a[4], 400000);
	CP_CHECK_INT(dns_cache_evictions(c), 1);
	CP_CHECK(cached(c, "n5.test", CP_DNS_A, 400001, NULL), "n5");
	for (size_t i = 0; i < 5; i++)
		cp_dns_answer_free(a[i]);
	dns_cache_free(c);
}

CP_TEST(dns_cache_many_names)
{
	/* more names than buckets: chains work, the bound holds */
	dns_cache *c = dns_cache_new(100);
	char name[32];
	size_t hits = 0;

	for (int i = 0; i < 1000; i++) {
		cp_dns_answer *a;

		snprintf(name, sizeof(name), "h%d.test", i);
		a = answer_a(name, 300);
		CP_CHECK_INT(dns_cache_put(c, a, (uint64_t)i), CP_OK);
		cp_dns_answer_free(a);
	}
	CP_CHECK_INT(dns_cache_count(c), 100);
	CP_CHECK_INT(dns_cache_evictions(c), 900);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "h%d.test", i);
		hits += (size_t)cached(c, name, CP_DNS_A, 1000, NULL);
	}
	CP_CHECK_INT(hits, 100);
	CP_CHECK(cached(c, "h999.test", CP_DNS_A, 1000, NULL), "newest kept");
	dns_cache_free(c);
}
