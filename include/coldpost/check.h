/*
 * check.h - the deliverability test of a sending domain: `coldpost check`.
 *
 * cp_check_domain looks at what a receiving mail server will look at for
 * mail from DOMAIN, through a cp_dns (so tests run on the fake resolver),
 * and returns a report of findings, each pass / warn / fail with the
 * evidence (the records seen, verbatim) and a fix (a record to publish
 * where one can be written down):
 *
 *   spf.*      RFC 7208: one record, its syntax, the DNS-lookup count
 *              through include/redirect (the worst case a receiver
 *              meets), void lookups, included records, the all term,
 *              ptr, and check_host() for each sending IP
 *   dkim.*     RFC 6376 3.6.1, RFC 8301, RFC 8463: the key record of each
 *              selector (or of the common selectors found when none is
 *              given), parsed strictly, key type and size, t=y, revoked
 *   dmarc.*    RFC 7489: the record, policy, pct, rua (and the external
 *              destination authorization of 7.1), sp for subdomains,
 *              the organizational domain's record for a subdomain
 *   mx.*       RFC 5321 5.1, RFC 7505: replies and bounces can come back
 *   ptr.*      reverse DNS of each sending IP, forward-confirmed, and
 *              whether the name is a plausible EHLO name
 *   mta_sts.*  RFC 8461 3.1: the _mta-sts TXT record only (the policy
 *              file is fetched over HTTPS: not done here)
 *   tls_rpt.*  RFC 8460 3: the _smtp._tls TXT record
 *
 * Findings are verdicts, not errors: the return code is for bad
 * arguments and memory. A DNS failure (timeout, SERVFAIL) while looking
 * at the domain's own records is a fail finding, since receivers meet it
 * too.
 */
#ifndef COLDPOST_CHECK_H
#define COLDPOST_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/dmarc.h"
#include "coldpost/dns.h"
#include "coldpost/err.h"

typedef enum cp_check_status {
	CP_CHECK_PASS = 0,
	CP_CHECK_WARN,
	CP_CHECK_FAIL
} cp_check_status;

/* "pass", "warn", "fail". */
const char *cp_check_status_name(cp_check_status s);

typedef struct cp_check_finding {
	const char *id;        /* "spf.lookups" (static) */
	const char *group;     /* "spf", "dkim", "dmarc", "mx", "ptr",
				  "mta_sts", "tls_rpt" (static) */
	cp_check_status status;
	char *subject;         /* the selector or IP it is about, or NULL */
	char *summary;         /* one line: what was found */
	char *detail;          /* why it matters, more facts; or NULL */
	char **evidence;       /* what was seen, verbatim, one per line:
				  "example.com. TXT \"v=spf1 -all\"" */
	size_t nevidence;
	char *fix;             /* what to do; a record to publish where
				  possible ("_dmarc.example.com. TXT
				  \"v=DMARC1; p=quarantine\""); or NULL */
} cp_check_finding;

typedef struct cp_check_report {
	char domain[256];      /* as checked, lowercased */
	char org_domain[256];  /* its organizational domain (RFC 7489 3.2) */
	cp_check_finding *findings;
	size_t n;
	size_t npass, nwarn, nfail;
	/* SPF lookup count (RFC 7208 4.6.4) through include/redirect, the
	   worst case: -1 when there was no record to count */
	int spf_lookups;
	unsigned spf_void;     /* void lookups met on the way */
	char **spf_tree;       /* the walk, a line per record, indented by
				  depth: "  _spf.example.net (include): 2" */
	size_t nspf_tree;
	char *spf_path;        /* the chain to lookup 11, or NULL */
	char **dkim_found;     /* selectors with a key record */
	size_t ndkim_found;
	int dkim_probed;       /* 1: no selector given, common ones tried */
	size_t ncap;           /* internal */
} cp_check_report;

typedef struct cp_check_opts {
	cp_dns *dns;                  /* every lookup (borrowed, required) */
	const cp_psl *psl;            /* organizational domains (borrowed) */
	const char *const *selectors; /* DKIM selectors; none: the common */
	size_t nselectors;            /* ones (cp_check_common_selectors) */
	const char *const *ips;       /* sending IPs (v4 or v6 text) */
	size_t nips;
	int64_t now;                  /* SPF %{t}; 0: the clock */
} cp_check_opts;

/* The selectors tried when none is given (NULL-terminated). */
extern const char *const cp_check_common_selectors[];

/*
 * Check domain. CP_OK with *out (the caller frees it with
 * cp_check_report_free), whatever was found. CP_EINVAL when domain is not
 * a host name or an IP in o->ips is not an address (err says which);
 * CP_ENOMEM.
 */
int cp_check_domain(const cp_check_opts *o, const char *domain,
    cp_check_report **out, cp_err *err);
void cp_check_report_free(cp_check_report *r);

/* The first finding with this id (and subject, unless NULL), or NULL. */
const cp_check_finding *cp_check_report_find(const cp_check_report *r,
    const char *id, const char *subject);

/* ---- record parsers (check_records.c), fuzzed ---------------------------- */

/*
 * An MTA-STS TXT record (RFC 8461 3.1): "v=STSv1" first, fields
 * separated by ';' with optional WSP, id= of 1-32 letters and digits
 * required, extension fields name=value of the RFC's characters. CP_OK
 * with the id in id (NUL-terminated; idlen >= 33), or CP_ESYNTAX with err
 * naming the field.
 */
int cp_check_parse_mta_sts(const char *txt, size_t len, char *id,
    size_t idlen, cp_err *err);

#define CP_CHECK_TLSRPT_URIS 8

typedef struct cp_check_tlsrpt {
	char rua[CP_CHECK_TLSRPT_URIS][256]; /* "mailto:..." / "https://..." */
	size_t nrua;           /* kept */
	size_t nrua_all;       /* given */
} cp_check_tlsrpt;

/*
 * A TLS-RPT TXT record (RFC 8460 3): "v=TLSRPTv1" first, then fields
 * separated by ';', rua= required with one or more comma-separated
 * mailto: or https: URIs; extension fields allowed. CP_OK or CP_ESYNTAX
 * (err says what is wrong).
 */
int cp_check_parse_tlsrpt(const char *txt, size_t len, cp_check_tlsrpt *out,
    cp_err *err);

/*
 * Does a reverse-DNS name look like an ISP's generic name for a customer
 * address rather than a mail server's own name: the address embedded in
 * it (1-2-3-4, 4.3.2.1, 001002003004, hex c0000201) or a word ISPs give
 * pools (dynamic, dhcp, dsl, pool, cable, ppp, client, broadband ...)?
 * 1 and why (a short phrase) when it does, 0 when not. ip may be NULL.
 */
int cp_check_ptr_generic(const char *name, const char *ip, char *why,
    size_t whylen);

#endif
