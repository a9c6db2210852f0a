/*
 * auth.h - SPF, DKIM and DMARC together for one received message, as a
 * receiving mail server runs them, and the Authentication-Results field
 * (RFC 8601) that says what they found.
 *
 * One call does it all (cp_auth_check_message): it reads the message
 * through a callback, runs SPF on the envelope (the MAIL FROM identity;
 * the HELO identity when the reverse path is null, RFC 7208 2.4), checks
 * every DKIM-Signature while the message streams past (only the header is
 * kept), takes the author domain from the From header field, and runs
 * DMARC with those SPF and DKIM outcomes. The relay's inbound side, which
 * gets the message in chunks from its SMTP session, uses the same steps
 * one at a time: cp_auth_new, cp_auth_write as data arrives, cp_auth_finish.
 *
 * The author domain (RFC 7489 6.6.1): the From field must occur exactly
 * once (RFC 5322 3.6) and hold at least one mailbox with a domain name;
 * otherwise DMARC is permerror. When the field lists several mailboxes
 * with different domains, DMARC runs for each domain and the strictest
 * outcome wins: a fail anywhere is a fail, with the strictest disposition
 * of the domains that failed (RFC 7489 6.6.1, last paragraph).
 */
#ifndef COLDPOST_AUTH_H
#define COLDPOST_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "coldpost/authres.h"
#include "coldpost/buf.h"
#include "coldpost/dkim.h"
#include "coldpost/dmarc.h"
#include "coldpost/dns.h"
#include "coldpost/err.h"
#include "coldpost/spf.h"

/* ---- the From header field (auth_from.c) -------------------------------- */

#define CP_AUTH_FROM_MAX 16 /* mailboxes kept from one From field */

typedef struct cp_auth_mailbox {
	char local[256];  /* local part, unquoted ("john.doe", "a b") */
	char domain[256]; /* lowercase; A-labels (IDN converted, RFC 7489
			     6.6.1); "" for a domain literal ("[192.0.2.1]") */
	int literal;      /* 1: the domain was a domain literal */
} cp_auth_mailbox;

typedef struct cp_auth_from {
	cp_auth_mailbox mbox[CP_AUTH_FROM_MAX];
	size_t n;        /* mailboxes kept */
	size_t n_all;    /* mailboxes in the field (> n past the limit) */
	size_t ngroups;  /* groups (RFC 6854 allows them in From) */
} cp_auth_from;

/*
 * Parse the value of a From header field (the text after "From:", folding
 * included) as RFC 5322 3.4 mailbox-list or address-list (RFC 6854):
 * display names (atoms, quoted strings, encoded words, UTF-8 per RFC
 * 6532), comments anywhere CFWS is allowed (nested, with quoted pairs),
 * angle addresses with an obsolete route, groups, and the obsolete forms
 * of 4.4 (empty list elements, CFWS around dots). txt need not be
 * NUL-terminated. Returns CP_OK with out filled (n may be 0 for an empty
 * group), CP_ESYNTAX with err saying where and what, CP_EINVAL for a
 * domain that is not a valid host name (over 253 bytes, an empty or
 * 64-byte label, bad IDN). Nothing is allocated; safe on any input.
 */
int cp_auth_parse_from(const char *txt, size_t len, cp_auth_from *out,
    cp_err *err);

/* ---- the checks (auth.c) ------------------------------------------------ */

/* What the SMTP session knew before the message (the envelope). */
typedef struct cp_auth_envelope {
	const char *ip;        /* the SMTP client's address (required) */
	const char *helo;      /* HELO/EHLO name (required for a null sender) */
	const char *mail_from; /* the reverse path without <>; "" or NULL: the
				  null reverse path (a bounce) */
	/*
	 * SPF already evaluated (the relay checks it at MAIL FROM): borrowed,
	 * used instead of running check_host again. NULL: evaluate it here.
	 */
	const cp_spf_result *spf;
} cp_auth_envelope;

typedef struct cp_auth_opts {
	cp_dns *dns;           /* every lookup (borrowed, required) */
	const cp_psl *psl;     /* organizational domains (borrowed, required) */
	int64_t now;           /* DKIM x=/t= and SPF %{t}; 0: the clock */
	const char *receiver;  /* SPF %{r}, the host checking; NULL: "unknown" */
	cp_dmarc_roll_fn roll; /* DMARC pct= draw; NULL: random */
	void *roll_arg;
	size_t header_max;     /* header bytes kept (0: 1 MiB), as DKIM's */
	int max_sigs;          /* DKIM signatures checked (0: CP_DKIM_VERIFY_MAX) */
} cp_auth_opts;

/* One DKIM signature's outcome. */
typedef struct cp_auth_dkim {
	cp_auth_result result; /* RFC 8601 form of r.status */
	cp_dkim_result r;      /* the verifier's full result */
	char b[16];            /* the first 8 characters of b= (RFC 6008) */
} cp_auth_dkim;

/* DMARC for one author domain. */
typedef struct cp_auth_dmarc {
	char domain[256];
	cp_dmarc_verdict v;
} cp_auth_dmarc;

typedef struct cp_auth_verdict {
	/* SPF: the identity checked and what check_host() found */
	cp_auth_result spf;
	int spf_helo;          /* 1: the HELO identity (null reverse path) */
	char spf_domain[256];  /* the domain SPF authenticated (or not) */
	cp_spf_result spf_res; /* reason, mechanism, lookups (explanation
				  owned, freed by cp_auth_verdict_clear) */

	/* DKIM: the message's result, then one entry per DKIM-Signature */
	cp_auth_result dkim;
	cp_auth_dkim *sigs;
	size_t nsigs;

	/* the From field */
	size_t nfrom_fields;   /* From header fields seen (must be 1) */
	cp_auth_from from;     /* the parsed one (n == 0 when unusable) */
	char from_error[256];  /* why no author domain could be used, or "" */

	/* DMARC: the combined result over the author domains, and each one */
	cp_dmarc_result dmarc;
	cp_dmarc_disposition disposition;
	char dmarc_domain[256]; /* the author domain that decided ("" none) */
	char dmarc_reason[512];
	cp_auth_dmarc *dmarcs; /* one per distinct author domain */
	size_t ndmarcs;
	size_t decided;        /* index in dmarcs of the deciding domain */
} cp_auth_verdict;

typedef struct cp_auth cp_auth;

/*
 * Start checking one message. env and its strings must stay valid until
 * cp_auth_finish. CP_EINVAL when env->ip is not an IP address or a null
 * reverse path comes without a HELO name; CP_ENOMEM.
 */
int cp_auth_new(const cp_auth_opts *o, const cp_auth_envelope *env,
    cp_auth **out, cp_err *err);
void cp_auth_free(cp_auth *a); /* NULL is fine */
/*
 * The raw message, in chunks of any size (CRLF or bare LF line ends). The
 * DKIM keys are looked up (blocking DNS) when the header ends. CP_OK, or
 * CP_ETOOBIG (header over header_max), CP_ENOMEM.
 */
int cp_auth_write(cp_auth *a, const char *p, size_t len, cp_err *err);
/*
 * End of the message: the DKIM verdicts, SPF (unless given), the From
 * field, DMARC. CP_OK with *v filled whatever the results; errors are
 * system ones (memory). Clear *v with cp_auth_verdict_clear in any case.
 */
int cp_auth_finish(cp_auth *a, cp_auth_verdict *v, cp_err *err);

/* Reads up to len bytes into buf: the count, 0 at the end, -1 on error. */
typedef ssize_t (*cp_auth_read_fn)(void *arg, char *buf, size_t len);

/*
 * All of it in one call: new, write everything rd returns, finish.
 * CP_EIO when rd fails (err says so), else as the calls above.
 */
int cp_auth_check_message(const cp_auth_opts *o, const cp_auth_envelope *env,
    cp_auth_read_fn rd, void *rd_arg, cp_auth_verdict *v, cp_err *err);

void cp_auth_verdict_clear(cp_auth_verdict *v);

/* The RFC 8601 result name of an SPF verdict / a DKIM status. */
cp_auth_result cp_auth_from_spf(cp_spf_verdict r);
cp_auth_result cp_auth_from_dkim(cp_dkim_status s);

/*
 * Add spf=, one dkim= per signature (dkim=none without any) and dmarc=
 * (one per author domain) to ar, with their properties (smtp.mailfrom or
 * smtp.helo, header.d/s/b, header.from) and reasons.
 */
int cp_auth_add_authres(cp_authres *ar, const cp_auth_verdict *v,
    const cp_auth_envelope *env, cp_err *err);

/*
 * The whole "Authentication-Results: ID; spf=...; dkim=...; dmarc=..."
 * field appended to out (fold as cp_authres_render: "\r\n\t" in a
 * message, NULL for one line).
 */
int cp_auth_render(const cp_auth_verdict *v, const cp_auth_envelope *env,
    const char *authserv_id, const char *fold, cp_buf *out, cp_err *err);

#endif
