/*
 * dnsbl.h - DNS block list (DNSBL / RHSBL) checks: is this IP or domain
 * listed, on which list, why, and where to ask for delisting.
 *
 * A list is a DNS zone: "is 192.0.2.1 on zen.spamhaus.org" is an A query
 * for 1.2.0.192.zen.spamhaus.org (IPv6: the 32 nibbles reversed, as in
 * ip6.arpa; a domain: the domain prepended to the zone). NXDOMAIN means
 * not listed; an A record in 127.0.0.0/8 means listed, its value saying
 * why (decoded from the list's code table), with a TXT record at the same
 * name giving the list's own reason. Some answers are not listings but
 * refusals (Spamhaus 127.255.255.252/254/255, URIBL 127.0.0.1): they are
 * reported as CP_DNSBL_BLOCKED.
 *
 * The lookups of one check run in parallel through the asynchronous API
 * of coldpost/dns.h.
 */
#ifndef COLDPOST_DNSBL_H
#define COLDPOST_DNSBL_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/dns.h"
#include "coldpost/err.h"

typedef enum cp_dnsbl_kind {
	CP_DNSBL_IP,    /* queried with reversed IPv4 octets / IPv6 nibbles */
	CP_DNSBL_DOMAIN /* queried with the domain name */
} cp_dnsbl_kind;

/* One return code of a list. */
typedef struct cp_dnsbl_code {
	uint32_t value;      /* the answer, host order (127.0.0.2 = 0x7f000002);
				for a bitmask list: the bit of the last octet */
	const char *list;    /* sub-list ("SBL", "XBL") or NULL */
	const char *meaning; /* "hijacked or exploited host" */
	int refused;         /* 1: not a listing, the query was refused */
} cp_dnsbl_code;

typedef struct cp_dnsbl_list {
	const char *name;  /* "Spamhaus ZEN" */
	const char *zone;  /* "zen.spamhaus.org" */
	cp_dnsbl_kind kind;
	int bitmask;       /* 1: the last octet is a set of bits (SURBL, URIBL) */
	const cp_dnsbl_code *codes; /* exact values (or bits), refusals too */
	size_t ncodes;
	const char *delist; /* URL, or NULL */
	const char *note;   /* caveat shown with results ("closed in 2024"), or NULL */
} cp_dnsbl_list;

/* The built-in set (static, never freed): n gets its size. */
const cp_dnsbl_list *cp_dnsbl_builtin(size_t *n);

/*
 * The list for a --list value "ZONE[:ip|domain]": the built-in entry of
 * that zone when there is one (kind overridden when given), else a list
 * with no code table (any 127.0.0.0/8 answer is a listing) and kind ip
 * unless ":domain" is given. The result is written to *out; its strings
 * point into spec (zone) or static data, so spec must outlive *out.
 * CP_EINVAL with err for an empty zone or an unknown kind. Writes the
 * zone (without ":kind") into zone_buf (zonelen bytes) first.
 */
int cp_dnsbl_list_from_spec(const char *spec, char *zone_buf, size_t zonelen,
    cp_dnsbl_list *out, cp_err *err);

/*
 * A list set built from --list specs and lists files, owning its zone
 * names. Zero-initialise it; free with cp_dnsbl_set_free.
 */
#define CP_DNSBL_SET_MAX 256
typedef struct cp_dnsbl_set {
	cp_dnsbl_list *lists;
	size_t n;
	char **zones; /* zones[i] is lists[i].zone */
} cp_dnsbl_set;

/* Add one "ZONE[:ip|domain]" (see cp_dnsbl_list_from_spec). CP_EINVAL,
 * CP_ETOOBIG (more than CP_DNSBL_SET_MAX lists), CP_ENOMEM. */
int cp_dnsbl_set_add(cp_dnsbl_set *s, const char *spec, cp_err *err);
/*
 * Add the lists of a lists file: one "ZONE[:ip|domain]" a line, blank
 * lines and '#' comments ignored, spaces and tabs around trimmed. label
 * names the source in errors ("lists.txt: line 3: ..."). CP_EINVAL for a
 * bad line (NUL bytes, a space inside, a bad kind), CP_ETOOBIG, CP_ENOMEM.
 * On error the lines before the bad one stay added. Safe on any input
 * (fuzzed: tests/fuzz/fuzz_dnsbl_lists.c).
 */
int cp_dnsbl_set_parse(cp_dnsbl_set *s, const char *data, size_t len,
    const char *label, cp_err *err);
void cp_dnsbl_set_free(cp_dnsbl_set *s);

/* The outcome for one list. */
typedef enum cp_dnsbl_state {
	CP_DNSBL_NOT_LISTED, /* NXDOMAIN / NODATA */
	CP_DNSBL_LISTED,     /* at least one listing code */
	CP_DNSBL_BLOCKED,    /* only refusal codes: the resolver is not served */
	CP_DNSBL_ERROR       /* timeout, SERVFAIL, an answer outside 127/8 */
} cp_dnsbl_state;

typedef struct cp_dnsbl_hit {
	char addr[16];       /* "127.0.0.2" */
	const char *list;    /* sub-list or NULL */
	const char *meaning; /* static text */
	int refused;
} cp_dnsbl_hit;

typedef struct cp_dnsbl_result {
	const cp_dnsbl_list *list; /* the caller's, not copied */
	char *query;               /* the name asked (owned) */
	cp_dnsbl_state state;
	cp_dnsbl_hit *hits;        /* every A record answered (owned) */
	size_t nhits;
	char *txt;                 /* TXT reason(s) joined by "; ", or NULL */
	char *error;               /* for ERROR/BLOCKED, or NULL (owned) */
	char *bits_meaning;        /* owned text a bitmask list's hit points to */
} cp_dnsbl_result;

/*
 * The name to ask for target on list: reversed octets / nibbles + zone
 * for IP lists, target + zone for domain lists. CP_EINVAL when target
 * is not of the list's kind (an IP on a domain list and the other way
 * round), CP_ETOOBIG when out is too small.
 */
int cp_dnsbl_query_name(const char *target, const cp_dnsbl_list *l, char *out,
    size_t outlen, cp_err *err);

/* Is target an IP address (v4 or v6)? */
int cp_dnsbl_is_ip(const char *target);

/*
 * Decode one A answer (host order) for list l into hit; returns 1 for a
 * listing, 0 for a refusal, -1 for a value outside 127.0.0.0/8.
 */
int cp_dnsbl_decode(const cp_dnsbl_list *l, uint32_t value, cp_dnsbl_hit *hit);

/*
 * Check target against those of lists[0..nlists) whose kind matches it
 * (IP lists for an address, domain lists for a name), all in parallel:
 * the A lookup, then the TXT lookup for a listing. *out gets an array of
 * *nout results (in the order of lists), freed with cp_dnsbl_results_free.
 * CP_EINVAL with err when target is neither an IP nor a domain name or
 * when no list is of its kind; CP_ENOMEM.
 */
int cp_dnsbl_check(cp_dns *d, const char *target, const cp_dnsbl_list *lists,
    size_t nlists, cp_dnsbl_result **out, size_t *nout, cp_err *err);
void cp_dnsbl_results_free(cp_dnsbl_result *r, size_t n);

/* "not listed", "listed", "blocked", "error" */
const char *cp_dnsbl_state_name(cp_dnsbl_state s);

#endif
