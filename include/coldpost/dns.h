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
 * checks use. Lookups in the relay's event loop use the asynchronous hooks
 * of the c-ares resolver (see dns_cares.c).
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
	int timeout_ms;      /* per try; 0: 2000 */
	int tries;           /* 0: 3 */
	size_t cache_max;    /* answers kept; 0: 10000 */
	int no_cache;        /* 1: ask every time */
} cp_dns_config;

/* A resolver on c-ares. NULL and err on failure (bad server string...). */
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

void cp_dns_free(cp_dns *d);

/*
 * Blocking lookup. Returns CP_OK with *out set (whatever its status), or
 * an error code (CP_ENOMEM, CP_EINVAL for a malformed name) and no answer.
 * The caller frees *out with cp_dns_answer_free.
 */
int cp_dns_query(cp_dns *d, const char *name, int type, cp_dns_answer **out,
    cp_err *err);
void cp_dns_answer_free(cp_dns_answer *a);

/* "in-addr.arpa" / "ip6.arpa" name for an address (for PTR lookups). */
int cp_dns_reverse_name(const char *ip, char *out, size_t outlen);

const char *cp_dns_status_name(cp_dns_status s);
const char *cp_dns_type_name(int type);

/*
 * Parse a --dns-server value: "HOST:PORT", "HOST" (port 53) or
 * "[V6]:PORT", several comma-separated. CP_EINVAL with err naming the
 * part that is wrong.
 */
int cp_dns_check_servers(const char *servers, cp_err *err);

#endif
