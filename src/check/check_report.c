/*
 * check_report.c - the report of the domain check: findings with their
 * evidence and fixes, and the small helpers every part of the check uses
 * (lookups, evidence in zone-file form, name comparisons).
 *
 * Evidence is written as a zone file would hold it (RFC 1035 5.1: a
 * TXT string in quotes, '"' and '\' escaped, other bytes outside
 * printable ASCII as \DDD), so a record can be copied from the report and
 * compared with the one published.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check/check_int.h"
#include "coldpost/alloc.h"
#include "coldpost/buf.h"

#define CHECK_LINE_MAX (64 * 1024)

const char *
cp_check_status_name(cp_check_status s)
{
	switch (s) {
	case CP_CHECK_PASS: return "pass";
	case CP_CHECK_WARN: return "warn";
	default: return "fail";
	}
}

void
check_set_nomem(check_ctx *c)
{
	if (c->rc == CP_OK)
		c->rc = cp_err_set(c->err, CP_ENOMEM, "check: out of memory");
}

static const char *
check_group_of(const char *id)
{
	static const char *const groups[] = { "spf", "dkim", "dmarc", "mx",
		"ptr", "mta_sts", "tls_rpt" };

	for (size_t i = 0; i < CP_NELEM(groups); i++) {
		size_t n = strlen(groups[i]);

		if (strncmp(id, groups[i], n) == 0 && id[n] == '.')
			return groups[i];
	}
	return "other";
}

static char *check_vfmt(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *
check_vfmt(const char *fmt, va_list ap)
{
	cp_buf b;

	cp_buf_init(&b, CHECK_LINE_MAX);
	if (cp_buf_vaddf(&b, fmt, ap) != CP_OK) {
		cp_buf_free(&b);
		return NULL;
	}
	if (b.data == NULL)
		return cp_strdup("");
	return cp_buf_steal(&b);
}

cp_check_finding *
check_add(check_ctx *c, const char *id, const char *subject,
    cp_check_status st, const char *fmt, ...)
{
	cp_check_report *r = c->r;
	cp_check_finding *f;
	va_list ap;

	if (c->rc != CP_OK)
		return NULL;
	if (r->n == r->ncap) {
		size_t cap = r->ncap ? r->ncap * 2 : 32;
		cp_check_finding *nf = cp_realloc(r->findings,
		    cap * sizeof(*nf));

		if (nf == NULL) {
			check_set_nomem(c);
			return NULL;
		}
		r->findings = nf;
		r->ncap = cap;
	}
	f = &r->findings[r->n];
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->group = check_group_of(id);
	f->status = st;
	va_start(ap, fmt);
	f->summary = check_vfmt(fmt, ap);
	va_end(ap);
	if (subject != NULL)
		f->subject = cp_strdup(subject);
	if (f->summary == NULL || (subject != NULL && f->subject == NULL)) {
		cp_free(f->summary);
		cp_free(f->subject);
		check_set_nomem(c);
		return NULL;
	}
	r->n++;
	switch (st) {
	case CP_CHECK_PASS: r->npass++; break;
	case CP_CHECK_WARN: r->nwarn++; break;
	default: r->nfail++; break;
	}
	return f;
}

void
check_set_status(check_ctx *c, cp_check_finding *f, cp_check_status st)
{
	size_t *cnt[3] = { &c->r->npass, &c->r->nwarn, &c->r->nfail };

	if (f == NULL || f->status == st)
		return;
	(*cnt[f->status])--;
	(*cnt[st])++;
	f->status = st;
}

void
check_summary(check_ctx *c, cp_check_finding *f, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (f == NULL || c->rc != CP_OK)
		return;
	va_start(ap, fmt);
	s = check_vfmt(fmt, ap);
	va_end(ap);
	if (s == NULL) {
		check_set_nomem(c);
		return;
	}
	cp_free(f->summary);
	f->summary = s;
}

void
check_detail(check_ctx *c, cp_check_finding *f, const char *fmt, ...)
{
	va_list ap;
	char *s, *j;

	if (f == NULL || c->rc != CP_OK)
		return;
	va_start(ap, fmt);
	s = check_vfmt(fmt, ap);
	va_end(ap);
	if (s == NULL) {
		check_set_nomem(c);
		return;
	}
	if (f->detail == NULL) {
		f->detail = s;
		return;
	}
	/* a second detail is a further sentence */
	j = cp_malloc(strlen(f->detail) + strlen(s) + 2);
	if (j == NULL) {
		cp_free(s);
		check_set_nomem(c);
		return;
	}
	snprintf(j, strlen(f->detail) + strlen(s) + 2, "%s %s", f->detail, s);
	cp_free(f->detail);
	cp_free(s);
	f->detail = j;
}

static void
check_evidence_take(check_ctx *c, cp_check_finding *f, char *s)
{
	char **ne;

	if (s == NULL) {
		check_set_nomem(c);
		return;
	}
	if (f->nevidence >= 64) { /* enough to make the point */
		cp_free(s);
		return;
	}
	ne = cp_realloc(f->evidence, (f->nevidence + 1) * sizeof(*ne));
	if (ne == NULL) {
		cp_free(s);
		check_set_nomem(c);
		return;
	}
	f->evidence = ne;
	f->evidence[f->nevidence++] = s;
}

void
check_evidence(check_ctx *c, cp_check_finding *f, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (f == NULL || c->rc != CP_OK)
		return;
	va_start(ap, fmt);
	s = check_vfmt(fmt, ap);
	va_end(ap);
	check_evidence_take(c, f, s);
}

void
check_fix(check_ctx *c, cp_check_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (f == NULL || c->rc != CP_OK)
		return;
	cp_free(f->fix);
	va_start(ap, fmt);
	f->fix = check_vfmt(fmt, ap);
	va_end(ap);
	if (f->fix == NULL)
		check_set_nomem(c);
}

void
check_fix_temp(check_ctx *c, cp_check_finding *f, const char *name)
{
	check_fix(c, f, "Make the authoritative name servers answer for %s "
	    "(receivers meet the same failure), then check again.", name);
}

char *
check_quote_txt(const char *txt, size_t len)
{
	cp_buf b;
	int rc = CP_OK;

	cp_buf_init(&b, CHECK_LINE_MAX);
	rc = cp_buf_addc(&b, '"');
	for (size_t i = 0; i < len && rc == CP_OK; i++) {
		unsigned char ch = (unsigned char)txt[i];

		if (ch == '"' || ch == '\\')
			rc = cp_buf_addf(&b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			rc = cp_buf_addf(&b, "\\%03u", ch);
		else
			rc = cp_buf_addc(&b, (char)ch);
	}
	if (rc == CP_OK)
		rc = cp_buf_addc(&b, '"');
	if (rc != CP_OK) {
		cp_buf_free(&b);
		return NULL;
	}
	return cp_buf_steal(&b);
}

void
check_evidence_txt(check_ctx *c, cp_check_finding *f, const char *name,
    const char *txt, size_t len)
{
	char *q;

	if (f == NULL || c->rc != CP_OK)
		return;
	q = check_quote_txt(txt, len);
	if (q == NULL) {
		check_set_nomem(c);
		return;
	}
	check_evidence(c, f, "%s. TXT %s", name, q);
	cp_free(q);
}

void
check_evidence_answer(check_ctx *c, cp_check_finding *f,
    const cp_dns_answer *a)
{
	const char *type;

	if (f == NULL || a == NULL)
		return;
	type = cp_dns_type_name(a->type);
	if (a->status != CP_DNS_OK) {
		check_evidence(c, f, "%s. %s: %s%s%s", a->name, type,
		    cp_dns_status_name(a->status), a->why ? " - " : "",
		    a->why ? a->why : "");
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		const cp_dns_rr *rr = &a->rr[i];
		char ip[INET6_ADDRSTRLEN];

		switch (rr->type) {
		case CP_DNS_TXT:
		case CP_DNS_SPF:
			check_evidence_txt(c, f, a->name, rr->u.txt.data,
			    rr->u.txt.len);
			break;
		case CP_DNS_A:
			inet_ntop(AF_INET, &rr->u.a, ip, sizeof(ip));
			check_evidence(c, f, "%s. A %s", a->name, ip);
			break;
		case CP_DNS_AAAA:
			inet_ntop(AF_INET6, &rr->u.aaaa, ip, sizeof(ip));
			check_evidence(c, f, "%s. AAAA %s", a->name, ip);
			break;
		case CP_DNS_MX:
			check_evidence(c, f, "%s. MX %u %s.", a->name,
			    rr->u.mx.pref, rr->u.mx.host);
			break;
		case CP_DNS_PTR:
		case CP_DNS_CNAME:
		case CP_DNS_NS:
			check_evidence(c, f, "%s. %s %s.", a->name,
			    cp_dns_type_name(rr->type), rr->u.name);
			break;
		default:
			check_evidence(c, f, "%s. %s (data not shown)", a->name,
			    cp_dns_type_name(rr->type));
			break;
		}
	}
}

int
check_query(check_ctx *c, const char *name, int type, cp_dns_answer **a)
{
	cp_err qerr = { 0 };
	int rc;

	*a = NULL;
	rc = cp_dns_query(c->o->dns, name, type, a, &qerr);
	if (rc == CP_OK)
		return CP_OK;
	if (rc == CP_ENOMEM) {
		check_set_nomem(c);
		return rc;
	}
	/* a name DNS cannot carry, or the resolver failed: an answer that
	   says so, so that callers report it like any other failure */
	*a = cp_calloc(1, sizeof(**a));
	if (*a == NULL) {
		check_set_nomem(c);
		return CP_ENOMEM;
	}
	(*a)->status = rc == CP_EINVAL ? CP_DNS_ERROR : CP_DNS_TEMPFAIL;
	(*a)->type = (uint16_t)type;
	(*a)->name = cp_strdup(name);
	(*a)->why = cp_strdup(qerr.msg[0] ? qerr.msg : cp_err_name(rc));
	if ((*a)->name == NULL || (*a)->why == NULL) {
		cp_dns_answer_free(*a);
		*a = NULL;
		check_set_nomem(c);
		return CP_ENOMEM;
	}
	return rc == CP_EINVAL ? CP_EINVAL : CP_OK;
}

int
check_absent(const cp_dns_answer *a)
{
	return a->status == CP_DNS_NXDOMAIN || a->status == CP_DNS_NODATA ||
	    (a->status == CP_DNS_OK && a->n == 0);
}

static int
check_add_line(check_ctx *c, char ***arr, size_t *n, char *s)
{
	char **na;

	if (s == NULL) {
		check_set_nomem(c);
		return CP_ENOMEM;
	}
	na = cp_realloc(*arr, (*n + 1) * sizeof(*na));
	if (na == NULL) {
		cp_free(s);
		check_set_nomem(c);
		return CP_ENOMEM;
	}
	*arr = na;
	(*arr)[(*n)++] = s;
	return CP_OK;
}

void
check_spf_tree_add(check_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (c->rc != CP_OK || c->r->nspf_tree >= 256)
		return;
	va_start(ap, fmt);
	s = check_vfmt(fmt, ap);
	va_end(ap);
	(void)check_add_line(c, &c->r->spf_tree, &c->r->nspf_tree, s);
}

void
check_dkim_found_add(check_ctx *c, const char *selector)
{
	if (c->rc != CP_OK)
		return;
	(void)check_add_line(c, &c->r->dkim_found, &c->r->ndkim_found,
	    cp_strdup(selector));
}

void
check_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

/* Length without one trailing dot. */
static size_t
check_name_len(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

int
check_name_eq(const char *a, const char *b)
{
	size_t na = check_name_len(a), nb = check_name_len(b);

	return na == nb && strncasecmp(a, b, na) == 0;
}

int
check_name_under(const char *name, const char *domain)
{
	size_t nn = check_name_len(name), nd = check_name_len(domain);

	if (nn == nd)
		return strncasecmp(name, domain, nn) == 0;
	return nn > nd && name[nn - nd - 1] == '.' &&
	    strncasecmp(name + nn - nd, domain, nd) == 0;
}

void
cp_check_report_free(cp_check_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		cp_check_finding *f = &r->findings[i];

		cp_free(f->subject);
		cp_free(f->summary);
		cp_free(f->detail);
		cp_free(f->fix);
		for (size_t k = 0; k < f->nevidence; k++)
			cp_free(f->evidence[k]);
		cp_free(f->evidence);
	}
	cp_free(r->findings);
	for (size_t i = 0; i < r->nspf_tree; i++)
		cp_free(r->spf_tree[i]);
	cp_free(r->spf_tree);
	cp_free(r->spf_path);
	for (size_t i = 0; i < r->ndkim_found; i++)
		cp_free(r->dkim_found[i]);
	cp_free(r->dkim_found);
	cp_free(r);
}

const cp_check_finding *
cp_check_report_find(const cp_check_report *r, const char *id,
    const char *subject)
{
	for (size_t i = 0; i < r->n; i++) {
		const cp_check_finding *f = &r->findings[i];

		if (strcmp(f->id, id) != 0)
			continue;
		if (subject == NULL || (f->subject != NULL &&
		    strcmp(f->subject, subject) == 0))
			return f;
	}
	return NULL;
}
