/*
 * spf.h - Sender Policy Framework (RFC 7208): record parsing and check_host().
 *
 * Two halves kept apart:
 *  - the parser (spf_parse.c) turns the text of one TXT record into a
 *    cp_spf_record, or reports the first syntax error with the offending
 *    term. It does no DNS: `coldpost check` uses it to validate a record and
 *    count its lookups statically, and the fuzzer feeds it raw bytes.
 *  - the evaluator (spf_eval.c) runs check_host() (RFC 7208 section 4)
 *    through a cp_dns resolver: record selection, every mechanism and
 *    modifier, macros (section 7, spf_macro.c), the processing limits of
 *    section 4.6.4, and the explanation of a fail (section 6.2).
 *
 * PermError and TempError are verdicts in cp_spf_result, not errors: the
 * evaluator returns a cp_err code only for misuse (a bad IP) or memory.
 */
#ifndef COLDPOST_SPF_H
#define COLDPOST_SPF_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "coldpost/dns.h"
#include "coldpost/err.h"

/* The seven results of RFC 7208 section 2.6. */
typedef enum cp_spf_verdict {
	CP_SPF_NONE,
	CP_SPF_NEUTRAL,
	CP_SPF_PASS,
	CP_SPF_FAIL,
	CP_SPF_SOFTFAIL,
	CP_SPF_TEMPERROR,
	CP_SPF_PERMERROR
} cp_spf_verdict;

/* "none", "neutral", "pass", ... as RFC 7208 spells them. */
const char *cp_spf_verdict_name(cp_spf_verdict v);
/* The reverse; also the RFC 4408 names "unknown" and "error". -1 if none. */
int cp_spf_verdict_from_name(const char *name);

/* ---- parsing ------------------------------------------------------------ */

typedef enum cp_spf_term_kind {
	CP_SPF_ALL,
	CP_SPF_INCLUDE,
	CP_SPF_A,
	CP_SPF_MX,
	CP_SPF_PTR,
	CP_SPF_IP4,
	CP_SPF_IP6,
	CP_SPF_EXISTS,
	CP_SPF_REDIRECT,   /* modifier redirect= */
	CP_SPF_EXP,        /* modifier exp= */
	CP_SPF_UNKNOWN_MOD /* any other name=value: kept, ignored (6/3) */
} cp_spf_term_kind;

typedef struct cp_spf_term {
	cp_spf_term_kind kind;
	char qualifier;   /* '+' '-' '~' '?' ('+' when omitted); 0: modifier */
	const char *text; /* the term as written ("-include:_spf.example.com") */
	const char *name; /* unknown modifier: its name; else NULL */
	const char *arg;  /* domain-spec (macro-string, unexpanded) of include,
			     a, mx, ptr, exists, redirect, exp; the value of
			     an unknown modifier; NULL when absent */
	int cidr4, cidr6; /* prefix lengths for a, mx, ip4, ip6; -1: none */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} net;            /* ip4 / ip6 network */
	size_t pos;       /* offset of the term in the record text */
} cp_spf_term;

/* A parsed record. All strings live inside it; free with cp_spf_record_free. */
typedef struct cp_spf_record {
	size_t nterms;
	cp_spf_term *terms;
	int redirect;     /* index of the redirect= term, -1 when absent */
	int exp;          /* index of the exp= term, -1 when absent */
	int has_all;      /* an "all" mechanism: redirect= is ignored (6.1) */
	unsigned ndns;    /* terms that cost a DNS lookup in this record alone
			     (include a mx ptr exists, and redirect= unless
			     an "all" makes it dead): 4.6.4 */
} cp_spf_record;

/* Where a record is wrong (filled by the parser on CP_ESYNTAX). */
typedef struct cp_spf_syntax {
	size_t pos, len; /* the offending term: offset and length in the text */
	int term;        /* its index among the terms (0 = first after v=spf1),
			    -1 when the version itself is wrong */
	char text[128];  /* a printable copy of the term (cut, escaped) */
	char why[128];   /* "unknown mechanism", "ip4: prefix /33 over 32" */
} cp_spf_syntax;

/*
 * Does this TXT string select as an SPF record (RFC 7208 4.5)? It must
 * start with "v=spf1" (any case) followed by a space or its end.
 */
int cp_spf_is_record(const char *txt, size_t len);

/*
 * Parse one SPF record (RFC 7208 sections 4.6, 5, 6, 7.1, 12). txt need
 * not be NUL-terminated and may hold any bytes. CP_OK: *out is the caller's
 * to free with cp_spf_record_free. CP_ESYNTAX: the record is malformed (a
 * PermError for check_host()); syn (may be NULL) and err name the first
 * offending term. CP_ENOMEM. CP_ETOOBIG for records over 64 KiB.
 */
int cp_spf_parse_record(const char *txt, size_t len, cp_spf_record **out,
    cp_spf_syntax *syn, cp_err *err);
void cp_spf_record_free(cp_spf_record *rec);

/*
 * Check the syntax of an explanation string (the TXT fetched for exp=,
 * 6.2: macro-string and spaces, macro letters c r t allowed). CP_OK or
 * CP_ESYNTAX.
 */
int cp_spf_check_explain_string(const char *txt, size_t len, cp_err *err);

/* ---- evaluation --------------------------------------------------------- */

typedef struct cp_spf cp_spf;

/*
 * A checker that resolves through dns (borrowed: it must outlive the
 * checker). Limits are RFC 7208's: 10 DNS-querying terms, 2 void lookups,
 * 10 names per MX or PTR. NULL on memory failure.
 */
cp_spf *cp_spf_new(cp_dns *dns, cp_err *err);
void cp_spf_free(cp_spf *spf);
/* The time %{t} expands to (seconds since the epoch); 0: the clock. */
void cp_spf_set_now(cp_spf *spf, int64_t now);
/* The name %{r} expands to (the host doing the check); NULL: "unknown". */
int cp_spf_set_receiver(cp_spf *spf, const char *name, cp_err *err);
/* Override the two limits (tests, and `coldpost check` ceilings). */
void cp_spf_set_limits(cp_spf *spf, unsigned dns_terms, unsigned void_lookups);

typedef struct cp_spf_query {
	const char *ip;     /* the SMTP client, IPv4 or IPv6 text; an
			       IPv4-mapped IPv6 address counts as IPv4 */
	const char *sender; /* MAIL FROM without <>; "" or NULL: the null
			       reverse path, checked as postmaster@helo */
	const char *helo;   /* HELO/EHLO name (also %{h}) */
	const char *domain; /* NULL: the sender's domain (the MAIL FROM
			       identity); set it to the HELO name to check
			       the HELO identity (RFC 7208 2.3) */
} cp_spf_query;

typedef struct cp_spf_result {
	cp_spf_verdict result;
	char domain[256];     /* the <domain> checked first */
	char mechanism[256];  /* the term that decided ("-all",
				 "ip4:192.0.2.0/24", "redirect=x"); "" when
				 none did (default neutral, none, errors) */
	char mech_domain[256]; /* the domain whose record held that term */
	char reason[512];     /* why, in words: what matched or what broke */
	unsigned lookups;     /* DNS-querying terms evaluated (limit 10; 11
				 when the limit was hit) */
	unsigned void_lookups; /* of those, answers with no record (limit 2) */
	unsigned dns_queries; /* every query made, MX/PTR names and exp= too */
	char *explanation;    /* fail only: the exp= text, expanded; NULL when
			         the record has none or it could not be used.
			         Owned: cp_spf_result_clear frees it. */
} cp_spf_result;

/*
 * check_host() for q. CP_OK with *out filled, whatever the verdict.
 * CP_EINVAL when q->ip is not an IP address; CP_ENOMEM. Clear *out with
 * cp_spf_result_clear after use (also after an error).
 */
int cp_spf_check_host(cp_spf *spf, const cp_spf_query *q, cp_spf_result *out,
    cp_err *err);
void cp_spf_result_clear(cp_spf_result *r);

#endif
