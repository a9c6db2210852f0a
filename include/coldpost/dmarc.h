/*
 * dmarc.h - DMARC (RFC 7489, with the np= tag of RFC 9091): the policy
 * record, the organizational domain, identifier alignment, the result and
 * the disposition a receiver applies.
 *
 * Three layers, usable alone:
 *   cp_dmarc_parse_record   one TXT record -> cp_dmarc_record (no I/O)
 *   cp_psl_* / org domain   the Public Suffix List through libpsl
 *   cp_dmarc_evaluate       policy discovery through a cp_dns, alignment
 *                           of the SPF and DKIM outcomes given, the result
 *
 * DMARC does not check SPF or DKIM itself: the caller passes what its SPF
 * and DKIM checks found (the domain each authenticated and the result).
 * Verdicts (fail, permerror, temperror) are results in cp_dmarc_verdict;
 * the return code is for errors (bad arguments, memory).
 */
#ifndef COLDPOST_DMARC_H
#define COLDPOST_DMARC_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/authres.h"
#include "coldpost/dns.h"
#include "coldpost/err.h"

/* ---- the record (RFC 7489 6.3, 6.4) ----------------------------------- */

typedef enum cp_dmarc_policy {
	CP_DMARC_POLICY_UNSET = 0, /* the tag was absent */
	CP_DMARC_POLICY_NONE,
	CP_DMARC_POLICY_QUARANTINE,
	CP_DMARC_POLICY_REJECT
} cp_dmarc_policy;

typedef enum cp_dmarc_align {
	CP_DMARC_ALIGN_RELAXED = 0, /* same organizational domain (default) */
	CP_DMARC_ALIGN_STRICT       /* exactly the same domain */
} cp_dmarc_align;

/* fo= failure-reporting options, a bit each. */
enum {
	CP_DMARC_FO_0 = 1, /* all mechanisms failed to align (default) */
	CP_DMARC_FO_1 = 2, /* any mechanism failed */
	CP_DMARC_FO_D = 4, /* DKIM failed */
	CP_DMARC_FO_S = 8  /* SPF failed */
};

#define CP_DMARC_URI_MAX 8    /* report URIs kept per tag; more are counted */
#define CP_DMARC_URI_LEN 512  /* bytes of one URI, with its NUL */

typedef struct cp_dmarc_uri {
	char uri[CP_DMARC_URI_LEN]; /* "mailto:d@example.com", without "!size" */
	uint64_t max_size;          /* bytes from "!10m"; 0: no limit given */
} cp_dmarc_uri;

/*
 * A parsed record. Self-contained (no pointers): it can live on the stack
 * and needs no free. Absent tags keep the defaults of RFC 7489 6.3.
 */
typedef struct cp_dmarc_record {
	cp_dmarc_policy p;       /* UNSET: absent (or invalid, see bad_policy) */
	cp_dmarc_policy sp;      /* UNSET: absent, p applies to subdomains */
	cp_dmarc_policy np;      /* RFC 9091; UNSET: absent, sp or p applies */
	cp_dmarc_align adkim;    /* default relaxed */
	cp_dmarc_align aspf;     /* default relaxed */
	unsigned pct;            /* 0..100, default 100 */
	unsigned fo;             /* CP_DMARC_FO_*, default CP_DMARC_FO_0 */
	int rf_afrf;             /* rf= names afrf (the default) */
	uint32_t ri;             /* seconds, default 86400 */
	cp_dmarc_uri rua[CP_DMARC_URI_MAX];
	size_t nrua;             /* kept in rua[] */
	size_t nrua_all;         /* given in the record (>= nrua) */
	cp_dmarc_uri ruf[CP_DMARC_URI_MAX];
	size_t nruf, nruf_all;
	size_t ntags;            /* tags read, v= included, unknown ones too */
	unsigned seen;           /* bit per known tag, for duplicates */
	/*
	 * Set when parsing failed only because p= is missing or invalid, or
	 * sp=/np= is invalid, and the rest parsed: RFC 7489 6.6.3 step 6
	 * then treats the record as p=none if rua= has a usable URI.
	 */
	int bad_policy;
} cp_dmarc_record;

/* Defaults of RFC 7489 6.3: relaxed alignment, pct=100, fo=0, ri=86400. */
void cp_dmarc_record_init(cp_dmarc_record *rec);

/*
 * Does this TXT record start with "v=DMARC1" (RFC 7489 6.6.3 steps 2 and
 * 4: others are discarded during discovery, without error)?
 */
int cp_dmarc_is_record(const char *txt, size_t len);

/*
 * Parse one DMARC record, strictly (RFC 7489 6.3, 6.4): v=DMARC1 first
 * ("DMARC1" case-sensitive, tag names and keywords not), p= required,
 * pct 0-100, adkim/aspf r|s, p/sp/np none|quarantine|reject, rua/ruf
 * URIs with an optional "!" size and k/m/g/t unit, fo 0|1|d|s colon
 * lists, rf keywords, ri a 32-bit number; unknown tags are ignored; a
 * known tag given twice is an error; empty components (";;", a final
 * ";") are allowed. txt need not be NUL-terminated.
 * CP_OK, or CP_ESYNTAX with err naming the tag and what is wrong
 * ("dmarc: pct=200: out of range 0-100"), CP_ETOOBIG for a URI over
 * CP_DMARC_URI_LEN. rec is filled as far as parsing got. err may be NULL.
 */
int cp_dmarc_parse_record(const char *txt, size_t len, cp_dmarc_record *rec,
    cp_err *err);

/* "none", "quarantine", "reject", or "" for UNSET. */
const char *cp_dmarc_policy_name(cp_dmarc_policy p);
/* "r" or "s". */
const char *cp_dmarc_align_name(cp_dmarc_align a);

/*
 * The record in its canonical text form ("v=DMARC1; p=reject; ...",
 * defaults left out), into out (NUL-terminated, cut at outlen). For
 * display and for tests (parse(render(r)) == r).
 */
void cp_dmarc_render_record(const cp_dmarc_record *rec, char *out,
    size_t outlen);

/* ---- organizational domain (RFC 7489 3.2) -------------------------------- */

typedef struct cp_psl cp_psl;

/* The list Debian's publicsuffix package installs (.dafsa, then .dat). */
#define CP_PSL_DAFSA "/usr/share/publicsuffix/public_suffix_list.dafsa"
#define CP_PSL_DAT "/usr/share/publicsuffix/public_suffix_list.dat"

/*
 * Load a Public Suffix List file (text .dat or libpsl's .dafsa). path NULL:
 * CP_PSL_DAFSA, else CP_PSL_DAT; no fallback to the copy compiled into
 * libpsl, so the list in use is always the one on disk. NULL and err when
 * it cannot be read. The caller frees with cp_psl_free; a loaded list is
 * read-only and may be shared between threads.
 */
cp_psl *cp_psl_load(const char *path, cp_err *err);
void cp_psl_free(cp_psl *psl);

/*
 * The registrable domain of name under the list: the public suffix plus
 * one label ("a.b.example.co.uk" -> "example.co.uk"), lowercased.
 * CP_OK and out set; CP_ENOTFOUND when name is itself a public suffix (or
 * under none); CP_EINVAL for a malformed name (empty label, leading dot,
 * over 253 bytes); CP_ETOOBIG when out is too small. name may be UTF-8
 * (IDN labels) or A-labels; a trailing dot is ignored.
 */
int cp_psl_get_registrable(const cp_psl *psl, const char *name, char *out,
    size_t outlen);

/*
 * The DMARC organizational domain (RFC 7489 3.2): the registrable domain,
 * or the name itself when it is a public suffix (a From domain of
 * "co.uk" is its own organization). CP_OK, CP_EINVAL, CP_ETOOBIG.
 */
int cp_dmarc_get_org_domain(const cp_psl *psl, const char *name, char *out,
    size_t outlen);

/* ---- evaluation (RFC 7489 3.1, 6.6) ------------------------------------- */

typedef enum cp_dmarc_result {
	CP_DMARC_NONE = 0,  /* no policy record: DMARC does not apply */
	CP_DMARC_PASS,      /* an aligned identifier passed */
	CP_DMARC_FAIL,      /* none did */
	CP_DMARC_TEMPERROR, /* DNS failed while looking for the record */
	CP_DMARC_PERMERROR  /* the record is malformed */
} cp_dmarc_result;

typedef enum cp_dmarc_disposition {
	CP_DMARC_DISP_NONE = 0,
	CP_DMARC_DISP_QUARANTINE,
	CP_DMARC_DISP_REJECT
} cp_dmarc_disposition;

/* One DKIM signature's outcome as the DKIM verifier found it. */
typedef struct cp_dmarc_dkim {
	cp_auth_result result; /* only CP_AUTH_PASS counts */
	const char *domain;    /* d= */
	const char *selector;  /* s=, for reports; may be NULL */
} cp_dmarc_dkim;

/*
 * A random draw for pct= sampling: a number in 0..99; the policy applies
 * when it is below pct. NULL in the query: arc4random_uniform(100).
 */
typedef unsigned (*cp_dmarc_roll_fn)(void *arg);

typedef struct cp_dmarc_query {
	const char *from_domain; /* RFC5322.From domain (required) */
	/*
	 * The SPF outcome: the domain SPF checked (the MAIL FROM domain, or
	 * the HELO name for a null reverse path) and the result. spf_domain
	 * NULL: SPF was not checked.
	 */
	const char *spf_domain;
	cp_auth_result spf_result;
	const cp_dmarc_dkim *dkim; /* one per signature; may be NULL */
	size_t ndkim;
	cp_dmarc_roll_fn roll;     /* NULL: arc4random */
	void *roll_arg;
} cp_dmarc_query;

/* The alignment of one identifier with the From domain. */
typedef struct cp_dmarc_ident {
	cp_auth_result result; /* as given */
	char domain[256];      /* as given, lowercased */
	char org_domain[256];  /* its organizational domain */
	int aligned;           /* 1: aligned under the record's mode */
	int aligned_relaxed;   /* 1: same organizational domain */
	int aligned_strict;    /* 1: the same domain */
	int counts;            /* 1: passed and aligned: DMARC passes */
} cp_dmarc_ident;

typedef struct cp_dmarc_verdict {
	cp_dmarc_result result;
	cp_dmarc_disposition disposition; /* what to do with the message */
	cp_dmarc_policy policy;    /* the policy that applied (p, sp or np) */
	const char *policy_tag;    /* "p", "sp", "np", or NULL without record */
	unsigned roll;             /* the pct draw (0..99), when one was made */
	int sampled;               /* 1: a draw was made (fail, pct < 100) */
	int sampled_out;           /* 1: the draw let the policy step down */
	int from_exists;           /* RFC 9091: 0 NXDOMAIN/NODATA for A, AAAA,
	                              MX; 1 exists; -1 not checked */
	char from_domain[256];
	char org_domain[256];      /* of the From domain */
	char record_name[264];     /* "_dmarc.example.com" where found, or "" */
	char *record_txt;          /* the record as published, or NULL */
	int have_record;           /* rec below is valid */
	int record_at_org;         /* found at the organizational domain */
	cp_dmarc_record rec;
	cp_dmarc_ident spf;        /* result CP_AUTH_NONE, domain "" if not given */
	cp_dmarc_ident *dkim;      /* ndkim entries, in the query's order */
	size_t ndkim;
	char reason[512];          /* why this result, for people */
} cp_dmarc_verdict;

/*
 * Evaluate DMARC for one message (RFC 7489 6.6): find the policy record
 * (_dmarc.<From domain>, else _dmarc.<organizational domain>; several
 * records: none; a DNS failure: temperror), parse it (malformed:
 * permerror; missing or bad p=/sp= with a usable rua=: treated as
 * p=none, 6.6.3 step 6), check the alignment of SPF and each DKIM
 * signature with the From domain (relaxed or strict, from adkim=/aspf=),
 * then the result and the disposition: p for the From domain itself, sp
 * (else p) for a subdomain whose record is the organizational domain's,
 * np (RFC 9091) for a subdomain that does not exist; pct below 100 steps
 * the disposition down one level (reject -> quarantine -> none) for the
 * messages the draw leaves out.
 *
 * Returns CP_OK with *v filled (whatever the result), or CP_EINVAL (a
 * malformed From domain) / CP_ENOMEM with err set. Free v's memory with
 * cp_dmarc_verdict_clear, also after an error.
 */
int cp_dmarc_evaluate(cp_dns *dns, const cp_psl *psl, const cp_dmarc_query *q,
    cp_dmarc_verdict *v, cp_err *err);
void cp_dmarc_verdict_clear(cp_dmarc_verdict *v);

const char *cp_dmarc_result_name(cp_dmarc_result r);
const char *cp_dmarc_disposition_name(cp_dmarc_disposition d);

/*
 * Add the dmarc= method of an Authentication-Results field for this
 * verdict: "dmarc=fail (p=reject sp=none dis=quarantine)
 * header.from=example.com".
 */
int cp_dmarc_add_authres(cp_authres *ar, const cp_dmarc_verdict *v,
    cp_err *err);

#endif
