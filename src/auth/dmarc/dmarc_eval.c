/*
 * dmarc_eval.c - DMARC evaluation of one message (RFC 7489 3.1, 6.6):
 * policy discovery, identifier alignment, the result, the disposition.
 *
 * Discovery (6.6.3): TXT at _dmarc.<From domain>; records not starting
 * with v=DMARC1 are dropped; none left: the same at _dmarc.<organizational
 * domain>; several left: DMARC does not apply (result none, step 5). A DNS
 * failure (timeout, SERVFAIL) is temperror: whether that delays the
 * message is the caller's choice (6.6.3 leaves it to the receiver).
 *
 * Alignment (3.1): an SPF pass aligns when the domain SPF checked equals
 * the From domain (aspf=s) or shares its organizational domain (aspf=r,
 * the default); each DKIM pass likewise with its d= and adkim=. One
 * aligned pass is a DMARC pass.
 *
 * Policy (6.3, RFC 9091 4): p for the From domain's own record; for a
 * record found at the organizational domain, np when np= is given and the
 * From domain does not exist (NXDOMAIN or NODATA for A, AAAA and MX), else
 * sp, else p. pct below 100 draws a number 0..99 and, when it is not below
 * pct, applies the next milder policy (reject -> quarantine -> none).
 * A malformed record is permerror (RFC 7489 11.2), except that a missing
 * or bad p= or sp= with a usable rua= reads as p=none (6.6.3 step 6).
 *
 * Every lookup goes through cp_dns (coldpost/dns.h), so tests run on the
 * fake resolver.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dmarc/dmarc_int.h"
#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/dmarc.h"

/* What one discovery lookup found. */
enum { FETCH_NONE, FETCH_ONE, FETCH_MULTI, FETCH_TEMP };

const char *
cp_dmarc_result_name(cp_dmarc_result r)
{
	switch (r) {
	case CP_DMARC_PASS: return "pass";
	case CP_DMARC_FAIL: return "fail";
	case CP_DMARC_TEMPERROR: return "temperror";
	case CP_DMARC_PERMERROR: return "permerror";
	default: return "none";
	}
}

const char *
cp_dmarc_disposition_name(cp_dmarc_disposition d)
{
	switch (d) {
	case CP_DMARC_DISP_QUARANTINE: return "quarantine";
	case CP_DMARC_DISP_REJECT: return "reject";
	default: return "none";
	}
}

void
cp_dmarc_verdict_clear(cp_dmarc_verdict *v)
{
	if (v == NULL)
		return;
	cp_free(v->record_txt);
	cp_free(v->dkim);
	memset(v, 0, sizeof(*v));
	v->from_exists = -1;
}

static void
set_reason(cp_dmarc_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_reason(cp_dmarc_verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/*
 * TXT at name, keeping the records that start with v=DMARC1. FETCH_ONE
 * with *txt (the caller frees) and *len; FETCH_TEMP with why set.
 * CP_ENOMEM is the only error returned.
 */
static int
dmarc_fetch(cp_dns *dns, const char *name, int *what, char **txt, size_t *len,
    size_t *count, char *why, size_t whylen, cp_err *err)
{
	cp_dns_answer *a = NULL;
	cp_err qerr = { 0 };
	int rc;

	*what = FETCH_NONE;
	*txt = NULL;
	*len = 0;
	*count = 0;
	why[0] = '\0';
	rc = cp_dns_query(dns, name, CP_DNS_TXT, &a, &qerr);
	if (rc == CP_ENOMEM)
		return cp_err_set(err, CP_ENOMEM, "dmarc: out of memory");
	if (rc == CP_EINVAL) {
		/* a name DNS cannot carry (over 253 bytes): nothing there */
		snprintf(why, whylen, "%s", qerr.msg);
		return CP_OK;
	}
	if (rc != CP_OK) {
		/* the resolver itself failed: no answer is not "no record" */
		*what = FETCH_TEMP;
		snprintf(why, whylen, "%s", qerr.msg);
		return CP_OK;
	}
	switch (a->status) {
	case CP_DNS_OK:
		break;
	case CP_DNS_NODATA:
	case CP_DNS_NXDOMAIN:
		snprintf(why, whylen, "%s", cp_dns_status_name(a->status));
		cp_dns_answer_free(a);
		return CP_OK;
	default: /* TEMPFAIL, ERROR: a failure, not an answer */
		*what = FETCH_TEMP;
		snprintf(why, whylen, "%s%s%s", cp_dns_status_name(a->status),
		    a->why ? ": " : "", a->why ? a->why : "");
		cp_dns_answer_free(a);
		return CP_OK;
	}
	for (size_t i = 0; i < a->n; i++) {
		const cp_dns_rr *rr = &a->rr[i];

		if (rr->type != CP_DNS_TXT ||
		    !cp_dmarc_is_record(rr->u.txt.data, rr->u.txt.len))
			continue;
		if (++*count == 1) {
			*txt = cp_malloc(rr->u.txt.len + 1);
			if (*txt == NULL) {
				cp_dns_answer_free(a);
				return cp_err_set(err, CP_ENOMEM,
				    "dmarc: out of memory");
			}
			memcpy(*txt, rr->u.txt.data, rr->u.txt.len);
			(*txt)[rr->u.txt.len] = '\0';
			*len = rr->u.txt.len;
		}
	}
	if (*count > 1) {
		*what = FETCH_MULTI;
		cp_free(*txt);
		*txt = NULL;
		*len = 0;
	} else if (*count == 1) {
		*what = FETCH_ONE;
	} else if (a->n > 0 && a->rr[0].type == CP_DNS_TXT) {
		/* show what is there: "v=DMARC1 p=reject" lacks its ';' */
		const cp_dns_rr *rr = &a->rr[0];
		int n = (int)CP_MIN(rr->u.txt.len, 60);

		snprintf(why, whylen, "%zu TXT record%s, none starting with "
		    "v=DMARC1; the first is \"%.*s%s\"", a->n,
		    a->n == 1 ? "" : "s", n, rr->u.txt.data,
		    rr->u.txt.len > 60 ? "..." : "");
		for (char *p = why; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	cp_dns_answer_free(a);
	return CP_OK;
}

/*
 * RFC 9091 4.1: does the From domain exist? *exists 1 when A, AAAA or MX
 * has an answer, 0 when all three are NXDOMAIN or NODATA, -1 when DNS
 * failed. CP_OK or CP_ENOMEM.
 */
static int
dmarc_domain_exists(cp_dns *dns, const char *name, int *exists, cp_err *err)
{
	static const int types[] = { CP_DNS_A, CP_DNS_AAAA, CP_DNS_MX };
	int unknown = 0;

	for (size_t i = 0; i < CP_NELEM(types); i++) {
		cp_dns_answer *a = NULL;
		int rc = cp_dns_query(dns, name, types[i], &a, err);

		if (rc == CP_ENOMEM)
			return rc;
		if (rc != CP_OK) {
			unknown = 1;
			continue;
		}
		if (a->status == CP_DNS_OK) {
			cp_dns_answer_free(a);
			*exists = 1;
			return CP_OK;
		}
		if (a->status == CP_DNS_TEMPFAIL || a->status == CP_DNS_ERROR)
			unknown = 1;
		cp_dns_answer_free(a);
	}
	*exists = unknown ? -1 : 0;
	return CP_OK;
}

/*
 * Fill one identifier: the domain as given (an address "u@d" gives d),
 * its organizational domain, and both alignments with the From domain.
 */
static void
dmarc_align_ident(const cp_psl *psl, const cp_dmarc_verdict *v,
    const char *given, cp_auth_result result, cp_dmarc_ident *id)
{
	const char *at;

	memset(id, 0, sizeof(*id));
	id->result = result;
	if (given == NULL || *given == '\0')
		return;
	at = strrchr(given, '@');
	if (at != NULL)
		given = at + 1;
	if (dmarc_norm_domain(given, id->domain, sizeof(id->domain)) != CP_OK) {
		/* not a domain: kept for the report, never aligned */
		snprintf(id->domain, sizeof(id->domain), "%s", given);
		return;
	}
	if (cp_dmarc_get_org_domain(psl, id->domain, id->org_domain,
	    sizeof(id->org_domain)) != CP_OK)
		return;
	id->aligned_strict = strcmp(id->domain, v->from_domain) == 0;
	id->aligned_relaxed = strcmp(id->org_domain, v->org_domain) == 0;
}

static void
dmarc_set_aligned(cp_dmarc_ident *id, cp_dmarc_align mode)
{
	id->aligned = mode == CP_DMARC_ALIGN_STRICT ? id->aligned_strict
						    : id->aligned_relaxed;
	id->counts = id->aligned && id->result == CP_AUTH_PASS;
}

static cp_dmarc_disposition
disp_of(cp_dmarc_policy p)
{
	switch (p) {
	case CP_DMARC_POLICY_REJECT: return CP_DMARC_DISP_REJECT;
	case CP_DMARC_POLICY_QUARANTINE: return CP_DMARC_DISP_QUARANTINE;
	default: return CP_DMARC_DISP_NONE;
	}
}

/* Why the message failed: what each identifier did. */
static void
dmarc_fail_reason(cp_dmarc_verdict *v)
{
	cp_buf b;
	size_t npass = 0;

	cp_buf_init(&b, sizeof(v->reason) - 1);
	cp_buf_adds(&b, "no aligned pass: ");
	if (v->spf.domain[0] == '\0')
		cp_buf_adds(&b, "SPF not given");
	else if (v->spf.result != CP_AUTH_PASS)
		cp_buf_addf(&b, "SPF %s for %s",
		    cp_auth_result_name(v->spf.result), v->spf.domain);
	else
		cp_buf_addf(&b, "SPF passed for %s, not aligned with %s (%s)",
		    v->spf.domain, v->from_domain,
		    v->rec.aspf == CP_DMARC_ALIGN_STRICT ? "strict" : "relaxed");
	if (v->ndkim == 0)
		cp_buf_adds(&b, "; no DKIM signature");
	for (size_t i = 0; i < v->ndkim; i++) {
		const cp_dmarc_ident *d = &v->dkim[i];

		if (d->result != CP_AUTH_PASS) {
			cp_buf_addf(&b, "; DKIM d=%s %s", d->domain,
			    cp_auth_result_name(d->result));
			continue;
		}
		npass++;
		cp_buf_addf(&b, "; DKIM d=%s passed, not aligned with %s (%s)",
		    d->domain, v->from_domain,
		    v->rec.adkim == CP_DMARC_ALIGN_STRICT ? "strict"
							  : "relaxed");
	}
	snprintf(v->reason, sizeof(v->reason), "%s", b.data ? b.data : "");
	cp_buf_free(&b);
}

static void
dmarc_pass_reason(cp_dmarc_verdict *v)
{
	if (v->spf.counts) {
		set_reason(v, "SPF passed for %s, aligned with %s (%s)",
		    v->spf.domain, v->from_domain,
		    v->rec.aspf == CP_DMARC_ALIGN_STRICT ? "strict" : "relaxed");
		return;
	}
	for (size_t i = 0; i < v->ndkim; i++)
		if (v->dkim[i].counts) {
			set_reason(v, "DKIM d=%s passed, aligned with %s (%s)",
			    v->dkim[i].domain, v->from_domain,
			    v->rec.adkim == CP_DMARC_ALIGN_STRICT ? "strict"
								  : "relaxed");
			return;
		}
}

/* Discovery, 6.6.3: fills v->record_*; returns the FETCH_* outcome. */
static int
dmarc_discover(cp_dns *dns, cp_dmarc_verdict *v, int *what, cp_err *err)
{
	char name[264], why1[256], why2[256];
	size_t len, count;
	int rc;

	snprintf(name, sizeof(name), "_dmarc.%s", v->from_domain);
	rc = dmarc_fetch(dns, name, what, &v->record_txt, &len, &count, why1,
	    sizeof(why1), err);
	if (rc != CP_OK)
		return rc;
	if (*what == FETCH_TEMP) {
		set_reason(v, "DNS failure looking up %s TXT: %s", name, why1);
		return CP_OK;
	}
	if (*what == FETCH_MULTI) {
		set_reason(v, "%zu DMARC records at %s: DMARC does not apply "
		    "(RFC 7489 6.6.3)", count, name);
		return CP_OK;
	}
	if (*what == FETCH_ONE) {
		snprintf(v->record_name, sizeof(v->record_name), "%s", name);
		return CP_OK;
	}
	if (strcmp(v->org_domain, v->from_domain) == 0) {
		set_reason(v, "no DMARC record at %s (%s)", name, why1);
		return CP_OK;
	}
	snprintf(name, sizeof(name), "_dmarc.%s", v->org_domain);
	rc = dmarc_fetch(dns, name, what, &v->record_txt, &len, &count, why2,
	    sizeof(why2), err);
	if (rc != CP_OK)
		return rc;
	v->record_at_org = 1;
	if (*what == FETCH_TEMP)
		set_reason(v, "DNS failure looking up %s TXT: %s", name, why2);
	else if (*what == FETCH_MULTI)
		set_reason(v, "%zu DMARC records at %s: DMARC does not apply "
		    "(RFC 7489 6.6.3)", count, name);
	else if (*what == FETCH_NONE)
		set_reason(v, "no DMARC record at _dmarc.%s (%s) nor at %s (%s)",
		    v->from_domain, why1, name, why2);
	else
		snprintf(v->record_name, sizeof(v->record_name), "%s", name);
	return CP_OK;
}

int
cp_dmarc_evaluate(cp_dns *dns, const cp_psl *psl, const cp_dmarc_query *q,
    cp_dmarc_verdict *v, cp_err *err)
{
	cp_err perr = { 0 };
	char note[300] = "";
	int what, rc;

	CP_ASSERT(dns != NULL && psl != NULL && q != NULL && v != NULL);
	memset(v, 0, sizeof(*v));
	v->from_exists = -1;
	if (q->from_domain == NULL ||
	    dmarc_norm_domain(q->from_domain, v->from_domain,
	    sizeof(v->from_domain)) != CP_OK)
		return cp_err_set(err, CP_EINVAL,
		    "dmarc: From domain '%.200s' is not a domain name",
		    q->from_domain ? q->from_domain : "(null)");
	rc = cp_dmarc_get_org_domain(psl, v->from_domain, v->org_domain,
	    sizeof(v->org_domain));
	if (rc != CP_OK)
		return cp_err_set(err, rc, "dmarc: %s: no organizational domain",
		    v->from_domain);

	/* the identifiers, aligned both ways; the record picks the mode */
	dmarc_align_ident(psl, v, q->spf_domain,
	    q->spf_domain && *q->spf_domain ? q->spf_result : CP_AUTH_NONE,
	    &v->spf);
	if (q->ndkim > 0) {
		v->dkim = cp_calloc(q->ndkim, sizeof(*v->dkim));
		if (v->dkim == NULL)
			return cp_err_set(err, CP_ENOMEM, "dmarc: out of memory");
		v->ndkim = q->ndkim;
	}
	for (size_t i = 0; i < q->ndkim; i++)
		dmarc_align_ident(psl, v, q->dkim[i].domain, q->dkim[i].result,
		    &v->dkim[i]);

	rc = dmarc_discover(dns, v, &what, err);
	if (rc != CP_OK)
		return rc;
	if (what != FETCH_ONE) {
		/* alignment as if relaxed, for the report */
		dmarc_set_aligned(&v->spf, CP_DMARC_ALIGN_RELAXED);
		for (size_t i = 0; i < v->ndkim; i++)
			dmarc_set_aligned(&v->dkim[i], CP_DMARC_ALIGN_RELAXED);
		v->result = what == FETCH_TEMP ? CP_DMARC_TEMPERROR
					       : CP_DMARC_NONE;
		return CP_OK;
	}

	rc = cp_dmarc_parse_record(v->record_txt, strlen(v->record_txt),
	    &v->rec, &perr);
	if (rc != CP_OK && v->rec.bad_policy && v->rec.nrua > 0) {
		/* 6.6.3 step 6.1: act as if p=none, for the reports' sake */
		snprintf(note, sizeof(note), " (record read as p=none: %s; "
		    "RFC 7489 6.6.3)", perr.msg);
		v->rec.p = CP_DMARC_POLICY_NONE;
		v->rec.sp = CP_DMARC_POLICY_UNSET;
		v->rec.np = CP_DMARC_POLICY_UNSET;
		rc = CP_OK;
	}
	if (rc != CP_OK) {
		v->result = CP_DMARC_PERMERROR;
		set_reason(v, "%s: %s", v->record_name, perr.msg);
		dmarc_set_aligned(&v->spf, CP_DMARC_ALIGN_RELAXED);
		for (size_t i = 0; i < v->ndkim; i++)
			dmarc_set_aligned(&v->dkim[i], CP_DMARC_ALIGN_RELAXED);
		return CP_OK;
	}
	v->have_record = 1;

	/* which policy: p, or for a subdomain under the org's record sp/np */
	v->policy = v->rec.p;
	v->policy_tag = "p";
	if (v->record_at_org) {
		if (v->rec.np != CP_DMARC_POLICY_UNSET) {
			rc = dmarc_domain_exists(dns, v->from_domain,
			    &v->from_exists, err);
			if (rc != CP_OK)
				return rc;
		}
		if (v->from_exists == 0) {
			v->policy = v->rec.np;
			v->policy_tag = "np";
		} else if (v->rec.sp != CP_DMARC_POLICY_UNSET) {
			v->policy = v->rec.sp;
			v->policy_tag = "sp";
		}
	}

	dmarc_set_aligned(&v->spf, v->rec.aspf);
	v->result = v->spf.counts ? CP_DMARC_PASS : CP_DMARC_FAIL;
	for (size_t i = 0; i < v->ndkim; i++) {
		dmarc_set_aligned(&v->dkim[i], v->rec.adkim);
		if (v->dkim[i].counts)
			v->result = CP_DMARC_PASS;
	}
	if (v->result == CP_DMARC_PASS) {
		dmarc_pass_reason(v);
		v->disposition = CP_DMARC_DISP_NONE;
	} else {
		dmarc_fail_reason(v);
		v->disposition = disp_of(v->policy);
		if (v->rec.pct < 100 && v->disposition != CP_DMARC_DISP_NONE) {
			/* 6.6.4: the messages outside pct get the milder policy */
			v->roll = q->roll ? q->roll(q->roll_arg) % 100
					  : arc4random_uniform(100);
			v->sampled = 1;
			if (v->roll >= v->rec.pct) {
				v->sampled_out = 1;
				v->disposition = v->disposition ==
				    CP_DMARC_DISP_REJECT ? CP_DMARC_DISP_QUARANTINE
				    : CP_DMARC_DISP_NONE;
			}
		}
	}
	if (note[0] != '\0') {
		size_t n = strlen(v->reason);

		snprintf(v->reason + n, sizeof(v->reason) - n, "%s", note);
	}
	return CP_OK;
}

int
cp_dmarc_add_authres(cp_authres *ar, const cp_dmarc_verdict *v, cp_err *err)
{
	char comment[128] = "";
	const char *reason = NULL;
	int rc;

	if (v->have_record) {
		int n = snprintf(comment, sizeof(comment), "p=%s",
		    cp_dmarc_policy_name(v->rec.p));

		if (v->rec.sp != CP_DMARC_POLICY_UNSET && n > 0)
			n += snprintf(comment + n, sizeof(comment) - (size_t)n,
			    " sp=%s", cp_dmarc_policy_name(v->rec.sp));
		if (n > 0 && (size_t)n < sizeof(comment))
			snprintf(comment + n, sizeof(comment) - (size_t)n,
			    " dis=%s", cp_dmarc_disposition_name(v->disposition));
	}
	if (v->result == CP_DMARC_PERMERROR || v->result == CP_DMARC_TEMPERROR)
		reason = v->reason;
	rc = cp_authres_add_method(ar, "dmarc", cp_dmarc_result_name(v->result),
	    reason, comment[0] ? comment : NULL, err);
	if (rc == CP_OK)
		rc = cp_authres_add_prop(ar, "header", "from", v->from_domain,
		    err);
	return rc;
}
