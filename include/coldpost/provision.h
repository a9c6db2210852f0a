/*
 * provision.h - the DNS records a sending domain needs, computed and
 * written: `coldpost provision` and `coldpost domain add --provision`.
 *
 * Three layers, kept apart so the first can be tested without a network:
 *  - the plan (provision_plan.c, pure): from the domain, the tenant's
 *    sending IPs with their EHLO names, the DKIM key records and what the
 *    domain already publishes (its SPF record, whether it has DMARC and
 *    MX), the records to publish: SPF (RFC 7208) listing the IPs as
 *    ip4:/ip6: terms merged into the existing record, under the 10-lookup
 *    limit of 4.6.4; DKIM key records (RFC 6376 3.6.1) split into 255-byte
 *    strings (RFC 1035 3.3.14); DMARC p=none with rua (RFC 7489 6.3); MX of
 *    the bounce domain (RFC 5321 5.1); A/AAAA of EHLO names inside the
 *    domain and the PTR of each IP (forward-confirmed reverse DNS).
 *  - what is there (provision_dns.c): the existing records read through a
 *    cp_dns, the lookup cost of the SPF includes, and the comparison of
 *    each planned record with what the DNS answers (same, new, changed).
 *  - the update (provision_update.c, ldns): RFC 2136 UPDATE messages
 *    signed with TSIG (RFC 8945), sent over TCP to the authoritative
 *    server, the reply parsed and its TSIG checked (fuzzed).
 */
#ifndef COLDPOST_PROVISION_H
#define COLDPOST_PROVISION_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/dns.h"
#include "coldpost/err.h"

#define CP_PROV_SPF_LIMIT 10    /* DNS-querying terms, RFC 7208 4.6.4 */
#define CP_PROV_TTL 3600        /* TTL of the records written */
#define CP_PROV_TXT_CHUNK 255   /* bytes per character-string */

/* One sending IP and the name it says in EHLO. */
typedef struct cp_prov_ip {
	const char *addr; /* "192.0.2.7", "2001:db8::7" */
	const char *ehlo; /* "mta1.acme.example"; NULL: no PTR/A planned */
} cp_prov_ip;

/* One SPF include/redirect target and the lookups below it. */
typedef struct cp_prov_spf_cost {
	const char *name; /* the domain-spec as written in the record */
	int lookups;      /* DNS terms inside its record, recursively;
			     -1: unknown (counted as 0) */
} cp_prov_spf_cost;

/* What a domain (or the bounce domain) publishes already. */
typedef struct cp_prov_existing {
	const char *spf;      /* its SPF record, NULL: none */
	size_t nspf;          /* SPF records found (more than 1: PermError) */
	const cp_prov_spf_cost *costs; /* of the includes/redirect of spf */
	size_t ncosts;
} cp_prov_existing;

typedef struct cp_prov_input {
	const char *domain;
	const cp_prov_ip *ips;
	size_t nips;
	const char *bounce_domain;  /* MAIL FROM domain; NULL: domain */
	const char *mx_host;        /* takes bounces; NULL: first EHLO name */
	const char *selector;       /* DKIM selector and its key record */
	const char *dkim_record;    /* "v=DKIM1; k=rsa; p=..."; NULL: none */
	const char *selector2;      /* optional second key (Ed25519) */
	const char *dkim_record2;
	const char *rua;            /* NULL: mailto:dmarc-reports@domain */
	uint32_t ttl;               /* 0: CP_PROV_TTL */
	cp_prov_existing spf_domain; /* what domain has */
	cp_prov_existing spf_bounce; /* what the bounce domain has */
	int has_dmarc;              /* _dmarc.domain has a record: keep it */
	int domain_has_mx;          /* domain has MX: keep it */
} cp_prov_input;

typedef enum cp_prov_kind {
	CP_PROV_SPF, CP_PROV_DKIM, CP_PROV_DMARC, CP_PROV_MX, CP_PROV_ADDR,
	CP_PROV_PTR
} cp_prov_kind;

/* How a record goes into the DNS. */
typedef enum cp_prov_how {
	CP_PROV_RRSET,   /* the RRset at owner/type becomes exactly the
			    records of the plan with that owner and type */
	CP_PROV_REPLACE, /* the TXT record old (if any) is replaced by this
			    one; other TXT records at owner stay (SPF) */
	CP_PROV_IFNONE,  /* only published when none of the kind exists */
	CP_PROV_KEEP     /* nothing to publish: what exists is kept */
} cp_prov_how;

/* What the DNS says compared with the plan (cp_prov_plan_compare). */
typedef enum cp_prov_state {
	CP_PROV_UNKNOWN = 0, /* not compared */
	CP_PROV_SAME,        /* published as planned */
	CP_PROV_NEW,         /* absent: to add */
	CP_PROV_CHANGE,      /* something else there: to replace */
	CP_PROV_KEPT,        /* CP_PROV_KEEP: existing kept */
	CP_PROV_BLOCKED,     /* will not be written (note says why) */
	CP_PROV_ELSEWHERE    /* not in the updated zone: publish by hand */
} cp_prov_state;

typedef struct cp_prov_record {
	cp_prov_kind kind;
	cp_prov_how how;
	cp_prov_state state;
	char *owner;   /* "s2025._domainkey.acme.example" (no final dot) */
	int type;      /* CP_DNS_TXT, CP_DNS_MX, CP_DNS_A, ... */
	uint32_t ttl;
	char *data;    /* TXT: the value joined; MX "10 host"; A the
			  address; PTR the name */
	char *old;     /* CP_PROV_REPLACE: the value replaced, or NULL */
	char *note;    /* why, advice, or NULL */
} cp_prov_record;

typedef struct cp_prov_plan {
	char *domain;
	cp_prov_record *rec;
	size_t n, cap;
	int spf_lookups;     /* of the domain's SPF record as planned */
	int blocked;         /* records that will not be written */
} cp_prov_plan;

const char *cp_prov_kind_name(cp_prov_kind k);   /* "spf", "dkim", ... */
const char *cp_prov_state_name(cp_prov_state s); /* "same", "new", ... */

/* ---- the plan (provision_plan.c, pure) -------------------------------- */

/*
 * Merge the tenant's IPs into an SPF record (RFC 7208). existing NULL:
 * a new record "v=spf1 ip4:... ip6:... -all". Else every IP not already
 * listed as an exact ip4:/ip6: term (without a prefix, or /32, /128) is
 * added in front of the existing terms, which all stay, in order; so the
 * second run changes nothing. "+all" becomes "~all" (it authorizes the
 * whole Internet). The lookup count (4.6.4) is the record's own DNS
 * terms plus, for include: and redirect=, the costs given. When over 10:
 * repeated terms are dropped, then ptr terms (5.5: SHOULD NOT be used);
 * if it is still over, CP_ETOOBIG, with *out holding the merged record
 * and notes saying what was tried. CP_ESYNTAX when existing is not a
 * valid SPF record (it is not rewritten: fix it by hand). notes (may be
 * NULL) gets a sentence per change made to the existing terms.
 */
int cp_prov_spf_merge(const char *existing, const cp_prov_ip *ips,
    size_t nips, const cp_prov_spf_cost *costs, size_t ncosts, cp_buf *out,
    int *lookups, cp_buf *notes, cp_err *err);

/*
 * Append value as zone-file character-strings: "..." "..." of at most
 * 255 bytes each, '"' and '\' escaped, other bytes outside printable
 * ASCII as \DDD (RFC 1035 5.1).
 */
int cp_prov_txt_strings(const char *value, size_t len, cp_buf *out);

/* An empty plan for domain (NULL: out of memory), and one record more
 * (strings copied; data, old, note may be NULL): for callers that write
 * one record, as key rotation does. */
cp_prov_plan *cp_prov_plan_new(const char *domain);
cp_prov_record *cp_prov_plan_add(cp_prov_plan *p, cp_prov_kind kind,
    cp_prov_how how, const char *owner, int type, uint32_t ttl,
    const char *data, const char *old, const char *note);

/* Compute the plan for in. *out is the caller's: cp_prov_plan_free. */
int cp_prov_plan_compute(const cp_prov_input *in, cp_prov_plan **out,
    cp_err *err);
void cp_prov_plan_free(cp_prov_plan *p);

/* Append one record as a zone-file line ("owner. 3600 IN TXT ..."). */
int cp_prov_zone_line(const cp_prov_record *r, cp_buf *out);

/* ---- what is there (provision_dns.c) ------------------------------------ */

/*
 * Read what domain publishes into *ex: its SPF record and the lookup
 * costs of its include:/redirect= targets (walked through the DNS, 10
 * levels at most). The strings are the caller's: cp_prov_existing_clear.
 * CP_OK whatever was found; a lookup that fails for now is CP_ETEMP
 * (err names it), since merging into a record not seen would drop it.
 */
int cp_prov_read_spf(cp_dns *dns, const char *domain, cp_prov_existing *ex,
    cp_err *err);
void cp_prov_existing_clear(cp_prov_existing *ex);
/* Does name have a record of this type? 1 yes, 0 no; CP_ETEMP. */
int cp_prov_has_record(cp_dns *dns, const char *name, int type, int *has,
    cp_err *err);

/*
 * Set the state of each record of p from what dns answers now: SAME,
 * NEW or CHANGE (CP_PROV_KEEP records become KEPT; BLOCKED and ELSEWHERE
 * stay). *nchanges: records NEW or CHANGE. CP_ETEMP when a lookup fails.
 */
int cp_prov_plan_compare(cp_prov_plan *p, cp_dns *dns, size_t *nchanges,
    cp_err *err);

/* ---- the update (provision_update.c) ------------------------------------ */

typedef struct cp_prov_tsig {
	char name[256];   /* key name */
	char alg[64];     /* "hmac-sha256" */
	char secret[512]; /* base64 */
} cp_prov_tsig;

/*
 * "NAME:ALG:SECRET" (or "ALG:NAME:SECRET", as knsupdate -y takes it: the
 * part that names an hmac- algorithm is the algorithm). Algorithms:
 * hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384,
 * hmac-sha512 (RFC 8945 6). CP_EINVAL with err saying what is wrong.
 */
int cp_prov_tsig_parse(const char *spec, cp_prov_tsig *out, cp_err *err);

/* The outcome of one UPDATE, from the server's reply. */
typedef struct cp_prov_reply {
	uint16_t id;
	int opcode;       /* 5: UPDATE */
	int rcode;        /* RFC 2136 2.2 / RFC 6895: 0 NOERROR, 5 REFUSED,
			     9 NOTAUTH ... */
	int tsig;         /* 1 signed and verified, 0 unsigned, -1 bad */
	int64_t signed_at; /* the TSIG's Time Signed (unix seconds), or 0:
			      the caller compares it with its clock (RFC
			      8945 5.4.3), since the parser reads no clock */
	char why[160];    /* rcode name and meaning, or what was wrong */
} cp_prov_reply;

/*
 * Parse the reply to an UPDATE (RFC 2136 3.8): a response, opcode
 * UPDATE, id want_id; with key non-NULL its TSIG is verified against the
 * request's MAC (mac, maclen). CP_OK with *out whatever the rcode;
 * CP_ESYNTAX for a message that is not such a reply (err says why).
 * Safe on any input (fuzzed).
 */
int cp_prov_reply_parse(const unsigned char *wire, size_t len,
    uint16_t want_id, const cp_prov_tsig *key, const unsigned char *mac,
    size_t maclen, cp_prov_reply *out, cp_err *err);

/* Where updates go: "HOST:PORT", "HOST" (53) or "[V6]:PORT". */
typedef struct cp_prov_server {
	char host[256];
	char port[8];
	int timeout_ms;   /* per exchange; 0: 5000 */
} cp_prov_server;

int cp_prov_server_parse(const char *spec, cp_prov_server *out, cp_err *err);

/*
 * The zone the server is authoritative for that holds name, from the SOA
 * in its answer (apex) or authority section (RFC 2136 4.3 leaves finding
 * the zone to the requestor). *zone "" when the server does not serve it
 * (REFUSED, NOTAUTH, no SOA). CP_ETEMP when it does not answer.
 */
int cp_prov_find_zone(const cp_prov_server *srv, const char *name,
    char *zone, size_t zonelen, cp_err *err);

/*
 * Send one UPDATE for zone holding the records of p whose state is NEW
 * or CHANGE and whose owner is in zone, plus, for each name in remove
 * (nremove, may be 0), the deletion of its TXT RRset (retiring a DKIM
 * selector). Signed with key when not NULL. CP_OK with *reply (rcode 0
 * means applied); CP_ETEMP when the server cannot be reached.
 */
int cp_prov_update_send(const cp_prov_server *srv, const cp_prov_tsig *key,
    const char *zone, const cp_prov_plan *p, const char *const *remove,
    size_t nremove, cp_prov_reply *reply, cp_err *err);

#endif
