/*
 * check_int.h - what the files of the domain check share: the context of
 * one run and the helpers that add findings to the report.
 */
#ifndef COLDPOST_CHECK_INT_H
#define COLDPOST_CHECK_INT_H

#include <stdarg.h>

#include "coldpost/check.h"
#include "coldpost/dns.h"

typedef struct check_ctx {
	const cp_check_opts *o;
	cp_check_report *r;
	int rc;          /* CP_OK, or the first CP_ENOMEM met */
	cp_err *err;
} check_ctx;

/*
 * Append a finding with its one-line summary; NULL when memory ran out
 * (c->rc says so, and the helpers below accept NULL and do nothing).
 */
cp_check_finding *check_add(check_ctx *c, const char *id,
    const char *subject, cp_check_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Change a finding's status (the report's counts follow) / summary. */
void check_set_status(check_ctx *c, cp_check_finding *f, cp_check_status st);
void check_summary(check_ctx *c, cp_check_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void check_detail(check_ctx *c, cp_check_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void check_evidence(check_ctx *c, cp_check_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void check_fix(check_ctx *c, cp_check_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fix for a lookup that failed (timeout, SERVFAIL, REFUSED). */
void check_fix_temp(check_ctx *c, cp_check_finding *f, const char *name);
/* Evidence 'NAME. TYPE "text"' for a TXT record, quotes and bytes
 * outside printable ASCII escaped as in a zone file. */
void check_evidence_txt(check_ctx *c, cp_check_finding *f, const char *name,
    const char *txt, size_t len);
/* Evidence for every record of an answer, or its status ("NXDOMAIN"). */
void check_evidence_answer(check_ctx *c, cp_check_finding *f,
    const cp_dns_answer *a);
/* A TXT string quoted for a zone file, into a new string (NULL: memory). */
char *check_quote_txt(const char *txt, size_t len);

/*
 * A lookup: CP_OK and *a (whatever its status), or CP_ENOMEM (c->rc
 * set) / CP_EINVAL (a malformed name: *a is a made-up ERROR answer so
 * callers need no second path).
 */
int check_query(check_ctx *c, const char *name, int type, cp_dns_answer **a);
/* Does the answer say the name or the record is not there? */
int check_absent(const cp_dns_answer *a);
void check_set_nomem(check_ctx *c);

/* Remember a line of the SPF walk / a DKIM selector found. */
void check_spf_tree_add(check_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void check_dkim_found_add(check_ctx *c, const char *selector);

/* The parts, in report order. */
void check_spf(check_ctx *c);
void check_dkim(check_ctx *c);
void check_dmarc(check_ctx *c);
void check_mx(check_ctx *c);
void check_ptr(check_ctx *c);
void check_mta_sts(check_ctx *c);
void check_tls_rpt(check_ctx *c);

/* Lowercase ASCII in place. */
void check_lower(char *s);
/* Same name, ignoring case and one trailing dot. */
int check_name_eq(const char *a, const char *b);
/* Is name equal to or under domain? */
int check_name_under(const char *name, const char *domain);

#endif
