/*
 * dns_int.h - what a resolver implementation provides (dns.c dispatches),
 * and the pieces shared inside src/dns: answer helpers, the message parser
 * (dns_msg.c), the TTL cache (dns_cache.c) and the queue of answers
 * waiting for delivery to async callbacks.
 */
#ifndef COLDPOST_DNS_INT_H
#define COLDPOST_DNS_INT_H

#include "coldpost/dns.h"

struct pollfd;
struct dns_ready;

typedef struct cp_dns_ops {
	const char *name; /* "fake", "c-ares" */
	/* Blocking lookup of a normalised name into out (status preset
	 * NXDOMAIN). */
	int (*query)(cp_dns *d, const char *name, int type, cp_dns_answer *out,
	    cp_err *err);
	void (*free)(cp_dns *d);
	/*
	 * Optional: the asynchronous side. Without submit, dns.c runs query
	 * at once and queues the answer for the next cp_dns_process. When submit
	 * returns CP_OK it owns the dns_ready and must hand it back through
	 * dns_ready_push exactly once (after returning, or from free); on an
	 * error it leaves it to the caller.
	 */
	int (*submit)(cp_dns *d, const char *name, int type,
	    struct dns_ready *r, cp_err *err);
	size_t (*pollfds)(cp_dns *d, struct pollfd *fds, size_t max);
	int (*timeout_ms)(cp_dns *d);
	void (*process_fd)(cp_dns *d, int read_fd, int write_fd);
	void (*set_sock_cb)(cp_dns *d, cp_dns_sock_cb cb, void *arg);
	void (*set_clock)(cp_dns *d, uint64_t (*now_ms)(void *), void *arg);
	void (*stats)(const cp_dns *d, cp_dns_stats *st);
	size_t (*pending)(const cp_dns *d); /* lookups under way */
} cp_dns_ops;

/* One async lookup's delivery: allocated when it is submitted, so that
 * handing its answer over later cannot fail. */
typedef struct dns_ready {
	cp_dns_cb cb;
	void *arg;
	cp_dns_answer *answer; /* set by dns_ready_push */
	struct dns_ready *next;
} dns_ready;

struct cp_dns {
	const cp_dns_ops *ops;
	void *impl;
	dns_ready *ready_head, *ready_tail; /* answers waiting for delivery */
	size_t nready;
	int closing; /* in cp_dns_free: no new lookups */
};

/* Queue an answer (ownership moves; NULL means out of memory) for the
 * next cp_dns_process. */
void dns_ready_push(cp_dns *d, dns_ready *r, cp_dns_answer *a);

/* Answer helpers shared by the implementations. */
cp_dns_answer *dns_answer_new(const char *name, int type);
/* Append a record (copied; strings duplicated). */
int dns_answer_add(cp_dns_answer *a, const cp_dns_rr *rr);
int dns_answer_set_why(cp_dns_answer *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dns_rr_clear(cp_dns_rr *rr);
/*
 * Lowercase copy of name without a trailing dot in *out (caller frees):
 * CP_EINVAL for a malformed name, CP_ENOMEM when the copy fails.
 */
int dns_name_norm(const char *name, char **out, cp_err *err);

/*
 * dns_msg.c: fill out (made by dns_answer_new for the name asked) from a
 * response message; see cp_dns_answer_parse. When a CNAME chain ends at a
 * name the message holds nothing more about (NOERROR, no records, no SOA:
 * an authoritative server that does not chase out-of-zone targets), the
 * status is NODATA and *next gets that name (caller frees) so the
 * resolver can ask for it; *chain_ttl is then the smallest CNAME TTL.
 * qname NULL: the question of the message (its type replaces out->type).
 * Returns CP_OK (out->status says what the message meant) or CP_ENOMEM.
 */
int dns_msg_parse(const unsigned char *msg, size_t len, cp_dns_answer *out,
    char **next, uint32_t *chain_ttl, cp_err *err);

/*
 * dns_cache.c: answers by (name, type), each with the time it expires, at
 * most max of them, least recently used out first. Times in ms.
 */
typedef struct dns_cache dns_cache;
dns_cache *dns_cache_new(size_t max);
void dns_cache_free(dns_cache *c);
/* CP_OK and *out a copy with TTLs lowered by the entry's age, or
 * CP_ENOTFOUND (absent or expired: then removed), or CP_ENOMEM. */
int dns_cache_get(dns_cache *c, const char *name, int type, uint64_t now_ms,
    cp_dns_answer **out);
/* Keep a copy of a (OK with ttl > 0, or NXDOMAIN/NODATA with ttl > 0;
 * others ignored). TTLs are capped (1 day, negative 3 hours). */
int dns_cache_put(dns_cache *c, const cp_dns_answer *a, uint64_t now_ms);
size_t dns_cache_count(const dns_cache *c);
unsigned long dns_cache_evictions(const dns_cache *c);

#define DNS_CACHE_MAX_TTL 86400u
#define DNS_CACHE_MAX_NEG_TTL 10800u

#endif
