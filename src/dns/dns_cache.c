/*
 * dns_cache.c - the TTL cache of the c-ares resolver.
 *
 * Answers are kept by (name, type) until their TTL runs out: positive
 * answers for the smallest TTL of their records (RFC 1035 3.2.1, RFC 2181
 * 5.2), NXDOMAIN and NODATA for their negative TTL (RFC 2308 5; an answer
 * without an SOA arrives here with TTL 0 and is not kept). TEMPFAIL and
 * ERROR are never kept: the next lookup asks again. TTLs are capped (a day,
 * three hours for negative answers, as RFC 2308 5 advises) so a typo in a
 * zone does not pin a record for weeks. A hit returns a copy whose TTLs are
 * lowered by the time the entry spent here, as a recursive resolver would.
 *
 * At most max entries: a hash table (FNV-1a over type and name, chained)
 * for lookups and a doubly linked list in order of use; the least recently
 * used entry goes when a new one would exceed max. Expired entries are
 * dropped when met. Time comes from the caller (milliseconds), so tests
 * move it by hand. Not thread-safe; the resolver that owns it is not
 * either.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "dns/dns_int.h"

typedef struct entry {
	struct entry *hnext;      /* hash chain */
	struct entry *prev, *next; /* use order: head is most recent */
	uint64_t stored, expires; /* ms */
	uint32_t hash;
	cp_dns_answer *a;         /* a->name and a->type are the key */
} entry;

struct dns_cache {
	entry **buckets;
	size_t nbuckets; /* power of two */
	entry *head, *tail;
	size_t n, max;
	unsigned long evictions;
};

static uint32_t
key_hash(const char *name, int type)
{
	uint32_t h = 2166136261u;

	h = (h ^ (uint32_t)(type & 0xff)) * 16777619u;
	h = (h ^ (uint32_t)(type >> 8 & 0xff)) * 16777619u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

dns_cache *
dns_cache_new(size_t max)
{
	dns_cache *c = cp_calloc(1, sizeof(*c));
	size_t nb = 16;

	if (c == NULL)
		return NULL;
	if (max == 0)
		max = 1;
	while (nb < max && nb < (1u << 20))
		nb <<= 1;
	c->buckets = cp_calloc(nb, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		cp_free(c);
		return NULL;
	}
	c->nbuckets = nb;
	c->max = max;
	return c;
}

static void
list_unlink(dns_cache *c, entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
list_push_head(dns_cache *c, entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

/* Remove e from both structures and free it. */
static void
entry_drop(dns_cache *c, entry *e)
{
	entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	list_unlink(c, e);
	cp_dns_answer_free(e->a);
	cp_free(e);
	c->n--;
}

static entry *
entry_find(dns_cache *c, const char *name, int type, uint32_t h)
{
	for (entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->a->type == type &&
		    strcmp(e->a->name, name) == 0)
			return e;
	return NULL;
}

void
dns_cache_free(dns_cache *c)
{
	if (c == NULL)
		return;
	while (c->head)
		entry_drop(c, c->head);
	cp_free(c->buckets);
	cp_free(c);
}

int
dns_cache_get(dns_cache *c, const char *name, int type, uint64_t now_ms,
    cp_dns_answer **out)
{
	uint32_t h = key_hash(name, type);
	entry *e = entry_find(c, name, type, h);
	cp_dns_answer *a;
	uint32_t age;

	*out = NULL;
	if (e == NULL)
		return CP_ENOTFOUND;
	if (now_ms >= e->expires) {
		entry_drop(c, e);
		return CP_ENOTFOUND;
	}
	a = cp_dns_answer_dup(e->a);
	if (a == NULL)
		return CP_ENOMEM;
	/* whole seconds spent here, as TTLs count (a clock that went back
	 * counts as no time) */
	age = now_ms > e->stored ? (uint32_t)((now_ms - e->stored) / 1000) : 0;
	a->ttl = a->ttl > age ? a->ttl - age : 0;
	for (size_t i = 0; i < a->n; i++)
		a->rr[i].ttl = a->rr[i].ttl > age ? a->rr[i].ttl - age : 0;
	list_unlink(c, e);
	list_push_head(c, e);
	*out = a;
	return CP_OK;
}

int
dns_cache_put(dns_cache *c, const cp_dns_answer *a, uint64_t now_ms)
{
	uint32_t ttl = a->ttl, h;
	entry *e;

	switch (a->status) {
	case CP_DNS_OK:
		ttl = CP_MIN(ttl, DNS_CACHE_MAX_TTL);
		break;
	case CP_DNS_NXDOMAIN:
	case CP_DNS_NODATA:
		ttl = CP_MIN(ttl, DNS_CACHE_MAX_NEG_TTL);
		break;
	default:
		return CP_OK;
	}
	if (ttl == 0)
		return CP_OK;
	h = key_hash(a->name, a->type);
	e = entry_find(c, a->name, a->type, h);
	if (e != NULL)
		entry_drop(c, e);
	e = cp_calloc(1, sizeof(*e));
	if (e == NULL)
		return CP_ENOMEM;
	e->a = cp_dns_answer_dup(a);
	if (e->a == NULL) {
		cp_free(e);
		return CP_ENOMEM;
	}
	e->a->ttl = ttl;
	for (size_t i = 0; i < e->a->n; i++)
		e->a->rr[i].ttl = CP_MIN(e->a->rr[i].ttl, DNS_CACHE_MAX_TTL);
	e->hash = h;
	e->stored = now_ms;
	e->expires = now_ms + (uint64_t)ttl * 1000;
	while (c->n >= c->max && c->tail != NULL) {
		/* an expired entry goes without counting as an eviction */
		if (c->tail->expires > now_ms)
			c->evictions++;
		entry_drop(c, c->tail);
	}
	e->hnext = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	list_push_head(c, e);
	c->n++;
	return CP_OK;
}

size_t
dns_cache_count(const dns_cache *c)
{
	return c->n;
}

unsigned long
dns_cache_evictions(const dns_cache *c)
{
	return c->evictions;
}
