/*
 * dns.h - DNS lookups for coldpost.
 *
 * One interface, several resolvers behind it: c-ares against real servers
 * (cp_dns_new_cares, with a TTL cache and negative caching) and a fake fed
 * from zone data (cp_dns_new_fake) for hermetic unit tests. Everything that
 * resolves (SPF, DKIM, DMARC, the domain check, MX routing) takes a cp_dns
 * and never knows which one it got.
 *
 * The blocking call (cp_dns_query) is what the CLI and the authentication
 * checks use. Lookups in the relay's event loop use the asynchronous API
 * below (cp_dns_query_async and the cp_dns_pollfds / cp_dns_timeout_ms /
 * cp_dns_process trio, or cp_dns_set_sock_cb for epoll-style loops); the
 * comment above cp_dns_query_async says how to drive it.
 *
 * Names are presentation form without the trailing dot ("example.com");
 * matching is case-insensitive. TXT records: the character-strings of one
 * RR are joined without separator (RFC 7208 3.3); each RR is one record.
 */
#ifndef COLDPOST_DNS_H
#define COLDPOST_DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "coldpost/err.h"
#include "coldpost/hist.h"

enum {
	CP_DNS_A = 1,
	CP_DNS_NS = 2,
	CP_DNS_CNAME = 5,
	CP_DNS_SOA = 6,
	CP_DNS_PTR = 12,
	CP_DNS_MX = 15,
	CP_DNS_TXT = 16,
	CP_DNS_AAAA = 28,
	CP_DNS_SPF = 99
};

/* The outcome of one query (not an error: NXDOMAIN is an answer). */
typedef enum cp_dns_status {
	CP_DNS_OK,       /* records in the answer (n >= 1) */
	CP_DNS_NODATA,   /* the name exists, no record of this type */
	CP_DNS_NXDOMAIN, /* the name does not exist */
	CP_DNS_TEMPFAIL, /* timeout, SERVFAIL, refused, no server reachable */
	CP_DNS_ERROR     /* malformed answer or name: not worth a retry */
} cp_dns_status;

typedef struct cp_dns_rr {
	uint16_t type; /* CP_DNS_* */
	uint32_t ttl;
	union {
		struct in_addr a;     /* A */
		struct in6_addr aaaa; /* AAAA */
		struct {
			uint16_t pref;
			char *host; /* MX exchange; "" for a null MX (RFC 7505) */
		} mx;
		char *name; /* PTR, CNAME, NS target */
		struct {
			char *data; /* strings joined; NUL-terminated for convenience */
			size_t len; /* may contain NUL bytes: use len */
		} txt;          /* TXT, SPF */
	} u;
} cp_dns_rr;

typedef struct cp_dns_answer {
	cp_dns_status status;
	char *name;     /* the name asked */
	uint16_t type;  /* the type asked */
	uint32_t ttl;   /* minimum TTL of the records, or the negative TTL */
	size_t n;       /* records of the asked type (CNAMEs followed) */
	cp_dns_rr *rr;
	char *why;      /* human reason for TEMPFAIL/ERROR ("timeout after 3 tries") */
} cp_dns_answer;

typedef struct cp_dns cp_dns;

typedef struct cp_dns_config {
	const char *servers; /* "127.0.0.1:5353,[::1]:53"; NULL: /etc/resolv.conf */
	int timeout_ms;      /* per try; 0: 2000 (c-ares doubles it each round
				of tries over all the servers) */
	int tries;           /* 0: 3 */
	size_t cache_max;    /* answers kept; 0: 10000 */
	int no_cache;        /* 1: ask every time */
} cp_dns_config;

/*
 * A resolver on c-ares (dns_cares.c). Queries go to cfg->servers (checked
 * with cp_dns_check_servers) or to the nameservers of /etc/resolv.conf,
 * with recursion desired, over UDP; a truncated answer is asked again over
 * TCP (RFC 1035 4.2.2, RFC 7766). Answers are kept in a TTL cache bounded
 * by cfg->cache_max (least recently used out first); NXDOMAIN and NODATA
 * are cached for the negative TTL of the SOA in the answer (RFC 2308 5),
 * and not at all without one; TEMPFAIL and ERROR are never cached.
 * cfg NULL: all defaults. NULL and err on failure (bad server string...).
 */
cp_dns *cp_dns_new_cares(const cp_dns_config *cfg, cp_err *err);

/* A fake resolver that answers only from records added to it. */
cp_dns *cp_dns_new_fake(void);

/*
 * Add one record to a fake resolver, in zone-file form for the data:
 * cp_dns_fake_add(d, "example.com", CP_DNS_TXT, "v=spf1 -all") ,
 * MX "10 mx.example.com", A "192.0.2.1", AAAA "2001:db8::1", PTR/CNAME/NS
 * "target.example.com". TXT data is taken as one string; use
 * cp_dns_fake_add_txt for several character-strings or binary data.
 */
int cp_dns_fake_add(cp_dns *d, const char *name, int type, const char *data,
    cp_err *err);
int cp_dns_fake_add_txt(cp_dns *d, const char *name, const char *const *strs,
    size_t nstrs, cp_err *err);
/* Make every query of this type for name (type 0: any type) time out. */
int cp_dns_fake_timeout(cp_dns *d, const char *name, int type, cp_err *err);
/*
 * Load a zone file: lines "NAME [TTL] [IN] TYPE DATA", '$ORIGIN', ';'
 * comments, TXT data as one or more quoted strings. Types A AAAA MX TXT
 * SPF PTR CNAME NS, and TIMEOUT (a pseudo-type: queries time out).
 */
int cp_dns_fake_load(cp_dns *d, const char *path, cp_err *err);
/* The same from memory; label names the source in error messages. */
int cp_dns_fake_load_mem(cp_dns *d, const char *data, size_t len,
    const char *label, cp_err *err);
/* Queries the fake answered since created (tests count lookups). */
unsigned long cp_dns_fake_queries(const cp_dns *d);

/* Free the resolver; callbacks of pending async lookups run first (see
 * cp_dns_query_async). NULL is fine. */
void cp_dns_free(cp_dns *d);

/*
 * Blocking lookup. Returns CP_OK with *out set (whatever its status), or
 * an error code (CP_ENOMEM, CP_EINVAL for a malformed name, CP_EIO when
 * poll() fails) and no answer. A timeout or a dead server is not an
 * error: the answer says TEMPFAIL.
 * The caller frees *out with cp_dns_answer_free.
 */
int cp_dns_query(cp_dns *d, const char *name, int type, cp_dns_answer **out,
    cp_err *err);
void cp_dns_answer_free(cp_dns_answer *a);

/* A deep copy of an answer (NULL: out of memory); free with
 * cp_dns_answer_free. */
cp_dns_answer *cp_dns_answer_dup(const cp_dns_answer *a);

/*
 * Convert a DNS response message (RFC 1035 4.1, the bytes as received,
 * without the TCP length prefix) into an answer to the question (name,
 * type); name NULL: the message's own question (its type too). This is
 * what the c-ares resolver does with every response:
 *  - RCODE NOERROR with records of the type, CNAMEs followed from the
 *    name (8 at most; not when the type asked is CNAME): CP_DNS_OK, ttl
 *    the smallest TTL of the records and of the CNAMEs on the way;
 *  - NOERROR without them: CP_DNS_NODATA; NXDOMAIN: CP_DNS_NXDOMAIN (the
 *    RCODE speaks of the last name of a CNAME chain, RFC 6604); for both
 *    ttl is the negative TTL, min(SOA TTL, SOA MINIMUM) of the SOA in the
 *    authority section (RFC 2308 5), or 0 when there is none;
 *  - SERVFAIL, REFUSED, FORMERR, NOTIMP and other RCODEs, a truncated
 *    message, a CNAME chain too long: CP_DNS_TEMPFAIL (why says which);
 *  - a message that is not a response, is cut short, answers another
 *    question or has a record whose data does not fit its type:
 *    CP_DNS_ERROR (why says where).
 * TTLs with the top bit set count as 0 (RFC 2181 8). Record data of types
 * without a field in cp_dns_rr is skipped (the record is still counted).
 * Returns CP_OK with *out (whatever its status), CP_EINVAL for a
 * malformed name, CP_ENOMEM. Safe on any input (fuzzed).
 */
int cp_dns_answer_parse(const unsigned char *msg, size_t len, const char *name,
    int type, cp_dns_answer **out, cp_err *err);

/*
 * The injectable clock of the cache: now_ms returns milliseconds on a
 * clock that never goes back (default CLOCK_MONOTONIC). For tests, which
 * move time by hand to see TTLs run down and entries expire. NULL restores
 * the default. A resolver without a cache (the fake) ignores it.
 */
void cp_dns_set_clock(cp_dns *d, uint64_t (*now_ms)(void *arg), void *arg);

/* Counters, for tests and the "stats" of `coldpost dns --json`. */
typedef struct cp_dns_stats {
	unsigned long queries;   /* messages sent (each CNAME hop counts) */
	unsigned long hits;      /* answers served from the cache */
	unsigned long misses;    /* lookups the cache could not serve */
	unsigned long evictions; /* live entries dropped for cache_max */
	size_t cached;           /* entries in the cache now */
} cp_dns_stats;
void cp_dns_get_stats(const cp_dns *d, cp_dns_stats *st);
/*
 * Time from sending a query message to its answer or its final timeout,
 * over every c-ares resolver of the process since start (cache hits are
 * not round trips and are not counted). For /metrics.
 */
void cp_dns_get_latency(cp_hist *out);

/*
 * Asynchronous lookups, for an event loop.
 *
 * cp_dns_query_async(d, name, type, cb, arg, err) starts a lookup and
 * returns at once: CP_OK, or CP_EINVAL (malformed name) / CP_ENOMEM with
 * no callback to come. cb(answer, arg) is then called exactly once, only
 * from inside cp_dns_process / cp_dns_process_fd (never from inside
 * cp_dns_query_async, so the caller may hold locks or be half-way through
 * setting up), and from cp_dns_free for lookups still pending (status
 * TEMPFAIL, why "resolver closed"; a callback run from there cannot start
 * new lookups: they return CP_EINVAL). The callback owns the answer and frees
 * it with cp_dns_answer_free; answer is NULL only when memory ran out. A
 * callback may start new lookups. Cache hits are delivered the same way,
 * on the next cp_dns_process.
 *
 * Driving it from a poll() loop:
 *
 *	struct pollfd pfd[CP_DNS_MAX_FDS + ...];
 *	while (cp_dns_pending(d) > 0) {
 *		size_t n = cp_dns_pollfds(d, pfd, CP_DNS_MAX_FDS);
 *		int ms = cp_dns_timeout_ms(d);        // -1: none pending
 *		poll(pfd, n, ms);                     // plus the loop's own fds
 *		cp_dns_process(d, pfd, n);            // I/O, timeouts, callbacks
 *	}
 *
 * cp_dns_pollfds fills fd and events (POLLIN, POLLOUT) of the sockets the
 * resolver waits on (at most CP_DNS_MAX_FDS) and returns how many; the
 * set changes as queries come and go, so ask again each turn.
 * cp_dns_timeout_ms is the time until cp_dns_process must be called even
 * if no socket is ready (a try times out), 0 when answers are waiting for
 * delivery, -1 when nothing is pending. cp_dns_process reads revents of
 * the fds given (it may be called with n 0, on a timeout).
 *
 * For epoll/kqueue loops: cp_dns_set_sock_cb(d, cb, arg) has cb(arg, fd,
 * readable, writable) called whenever the resolver opens a socket or
 * changes what it waits for on one (readable 0 and writable 0: stop
 * watching fd, it is about to close). When fd is ready call
 * cp_dns_process_fd(d, fd_if_readable, fd_if_writable) (-1 for neither);
 * when cp_dns_timeout_ms expires call cp_dns_process_fd(d, -1, -1).
 *
 * One cp_dns is not thread-safe: use it from one thread (the loop's), or
 * give each thread its own. The blocking cp_dns_query may be used on the
 * same resolver: it runs its own poll() until its answer is in, and any
 * async answers that come meanwhile wait for the next cp_dns_process.
 * The fake resolver supports the same calls: its answers are ready at the
 * next cp_dns_process.
 */
#define CP_DNS_MAX_FDS 16
typedef void (*cp_dns_cb)(cp_dns_answer *a, void *arg);
typedef void (*cp_dns_sock_cb)(void *arg, int fd, int readable, int writable);
struct pollfd;

int cp_dns_query_async(cp_dns *d, const char *name, int type, cp_dns_cb cb,
    void *arg, cp_err *err);
size_t cp_dns_pollfds(cp_dns *d, struct pollfd *fds, size_t max);
int cp_dns_timeout_ms(cp_dns *d);
void cp_dns_process(cp_dns *d, const struct pollfd *fds, size_t n);
void cp_dns_process_fd(cp_dns *d, int read_fd, int write_fd);
void cp_dns_set_sock_cb(cp_dns *d, cp_dns_sock_cb cb, void *arg);
/* Lookups started and not yet delivered. */
size_t cp_dns_pending(const cp_dns *d);

/* "in-addr.arpa" / "ip6.arpa" name for an address (for PTR lookups). */
int cp_dns_reverse_name(const char *ip, char *out, size_t outlen);

const char *cp_dns_status_name(cp_dns_status s);
const char *cp_dns_type_name(int type);
/* CP_DNS_* for "A", "mx", "Txt", ... or "TYPE15" (RFC 3597); 0: unknown. */
int cp_dns_type_from_name(const char *s);

/*
 * Parse a --dns-server value: "HOST:PORT", "HOST" (port 53) or
 * "[V6]:PORT", several comma-separated. CP_EINVAL with err naming the
 * part that is wrong.
 */
int cp_dns_check_servers(const char *servers, cp_err *err);

#endif
