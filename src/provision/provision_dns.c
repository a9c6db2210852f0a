/*
 * provision_dns.c - what a domain publishes now, read through a cp_dns:
 * its SPF record and what its include:/redirect= targets cost in lookups
 * (RFC 7208 4.6.4, walked as a receiver would, 10 levels at most), and
 * the comparison of a plan with the live records, which is what makes a
 * second run change nothing and tells when an update has taken effect.
 *
 * TXT values compare joined (RFC 7208 3.3, RFC 6376 3.6.2.2): how a value
 * was cut into character-strings does not matter. Names compare without
 * case and without a final dot; addresses compare as binary.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "coldpost/provision.h"
#include "coldpost/spf.h"

#define PROV_SPF_DEPTH 10

static int
prov_query(cp_dns *dns, const char *name, int type, cp_dns_answer **a,
    cp_err *err)
{
	int rc = cp_dns_query(dns, name, type, a, err);

	if (rc != CP_OK)
		return rc;
	if ((*a)->status == CP_DNS_TEMPFAIL || (*a)->status == CP_DNS_ERROR) {
		rc = cp_err_set(err, CP_ETEMP, "provision: %s %s: %s", name,
		    cp_dns_type_name(type), (*a)->why ? (*a)->why :
		    cp_dns_status_name((*a)->status));
		cp_dns_answer_free(*a);
		*a = NULL;
	}
	return rc;
}

/* The SPF record of name (a copy, or NULL) and how many there are. */
static int
prov_spf_of(cp_dns *dns, const char *name, char **spf, size_t *n,
    cp_err *err)
{
	cp_dns_answer *a;
	int rc;

	*spf = NULL;
	*n = 0;
	if ((rc = prov_query(dns, name, CP_DNS_TXT, &a, err)) != CP_OK)
		return rc;
	for (size_t i = 0; a->status == CP_DNS_OK && i < a->n; i++) {
		const char *t = a->rr[i].u.txt.data;
		size_t len = a->rr[i].u.txt.len;

		if (!cp_spf_is_record(t, len))
			continue;
		if ((*n)++ == 0 && (*spf = cp_strndup(t, len)) == NULL)
			rc = cp_err_set(err, CP_ENOMEM, "provision: out of memory");
	}
	cp_dns_answer_free(a);
	return rc;
}

/* Lookups inside the record at name, recursively; -1 when unknown. */
static int
prov_spf_cost(cp_dns *dns, const char *name, int depth, cp_err *err)
{
	cp_spf_record *rec = NULL;
	char *spf;
	size_t n;
	int total = 0;

	if (depth >= PROV_SPF_DEPTH || strchr(name, '%') != NULL)
		return -1;
	if (prov_spf_of(dns, name, &spf, &n, err) != CP_OK)
		return -1;
	if (spf == NULL || cp_spf_parse_record(spf, strlen(spf), &rec, NULL,
	    NULL) != CP_OK) {
		cp_free(spf);
		return spf == NULL ? 0 : -1;
	}
	total = (int)rec->ndns;
	for (size_t i = 0; i < rec->nterms; i++) {
		const cp_spf_term *t = &rec->terms[i];
		int c;

		if (t->arg == NULL || (t->kind != CP_SPF_INCLUDE &&
		    (t->kind != CP_SPF_REDIRECT || rec->has_all)))
			continue;
		c = prov_spf_cost(dns, t->arg, depth + 1, err);
		if (c > 0)
			total += c;
	}
	cp_spf_record_free(rec);
	cp_free(spf);
	return total;
}

void
cp_prov_existing_clear(cp_prov_existing *ex)
{
	for (size_t i = 0; i < ex->ncosts; i++)
		cp_free((char *)ex->costs[i].name);
	cp_free((cp_prov_spf_cost *)ex->costs);
	cp_free((char *)ex->spf);
	memset(ex, 0, sizeof(*ex));
}

int
cp_prov_read_spf(cp_dns *dns, const char *domain, cp_prov_existing *ex,
    cp_err *err)
{
	cp_spf_record *rec = NULL;
	cp_prov_spf_cost *costs;
	char *spf;
	size_t n, k = 0;
	int rc;

	memset(ex, 0, sizeof(*ex));
	if ((rc = prov_spf_of(dns, domain, &spf, &n, err)) != CP_OK)
		return rc;
	ex->spf = spf;
	ex->nspf = n;
	if (spf == NULL || cp_spf_parse_record(spf, strlen(spf), &rec, NULL,
	    NULL) != CP_OK)
		return CP_OK; /* the plan says it is broken */
	costs = cp_calloc(rec->nterms + 1, sizeof(*costs));
	if (costs == NULL) {
		cp_spf_record_free(rec);
		return cp_err_set(err, CP_ENOMEM, "provision: out of memory");
	}
	for (size_t i = 0; i < rec->nterms; i++) {
		const cp_spf_term *t = &rec->terms[i];

		if (t->arg == NULL || (t->kind != CP_SPF_INCLUDE &&
		    t->kind != CP_SPF_REDIRECT))
			continue;
		costs[k].lookups = prov_spf_cost(dns, t->arg, 1, err);
		if ((costs[k].name = cp_strdup(t->arg)) == NULL) {
			rc = cp_err_set(err, CP_ENOMEM, "provision: out of memory");
			break;
		}
		k++;
	}
	ex->costs = costs;
	ex->ncosts = k;
	cp_spf_record_free(rec);
	return rc;
}

int
cp_prov_has_record(cp_dns *dns, const char *name, int type, int *has,
    cp_err *err)
{
	cp_dns_answer *a;
	int rc;

	*has = 0;
	if ((rc = prov_query(dns, name, type, &a, err)) != CP_OK)
		return rc;
	*has = a->status == CP_DNS_OK && a->n > 0;
	cp_dns_answer_free(a);
	return CP_OK;
}

/* ---- comparing a plan with the DNS ---------------------------------------- */

static int
prov_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Does the record rr hold the planned value data? */
static int
prov_rr_eq(const cp_dns_rr *rr, int type, const char *data)
{
	unsigned char bin[16];

	switch (type) {
	case CP_DNS_TXT:
		return rr->u.txt.len == strlen(data) &&
		    memcmp(rr->u.txt.data, data, rr->u.txt.len) == 0;
	case CP_DNS_A:
		return inet_pton(AF_INET, data, bin) == 1 &&
		    memcmp(&rr->u.a, bin, 4) == 0;
	case CP_DNS_AAAA:
		return inet_pton(AF_INET6, data, bin) == 1 &&
		    memcmp(&rr->u.aaaa, bin, 16) == 0;
	case CP_DNS_MX: {
		const char *sp = strchr(data, ' ');
		unsigned pref = 0;

		for (const char *c = data; c < sp && *c >= '0' && *c <= '9'; c++)
			pref = pref * 10 + (unsigned)(*c - '0');
		return sp != NULL && rr->u.mx.pref == pref &&
		    prov_name_eq(rr->u.mx.host, sp + 1);
	}
	case CP_DNS_PTR:
		return prov_name_eq(rr->u.name, data);
	default:
		return 0;
	}
}

static int
prov_answer_has(const cp_dns_answer *a, int type, const char *data)
{
	for (size_t i = 0; a->status == CP_DNS_OK && i < a->n; i++)
		if (a->rr[i].type == type && prov_rr_eq(&a->rr[i], type, data))
			return 1;
	return 0;
}

/* RRSET: the planned records of owner/type are exactly the answer. */
static cp_prov_state
prov_state_rrset(const cp_prov_plan *p, const cp_prov_record *r,
    const cp_dns_answer *a)
{
	size_t want = 0, have = 0;

	if (a->status != CP_DNS_OK || a->n == 0)
		return CP_PROV_NEW;
	for (size_t i = 0; i < p->n; i++) {
		const cp_prov_record *o = &p->rec[i];

		if (o->type != r->type || !prov_name_eq(o->owner, r->owner) ||
		    o->how != CP_PROV_RRSET)
			continue;
		want++;
		if (!prov_answer_has(a, r->type, o->data))
			return CP_PROV_CHANGE;
	}
	for (size_t i = 0; i < a->n; i++)
		have += a->rr[i].type == r->type;
	return have == want ? CP_PROV_SAME : CP_PROV_CHANGE;
}

static cp_prov_state
prov_state_of(const cp_prov_plan *p, const cp_prov_record *r,
    const cp_dns_answer *a)
{
	int any = 0;

	switch (r->how) {
	case CP_PROV_RRSET:
		return prov_state_rrset(p, r, a);
	case CP_PROV_REPLACE:
		if (prov_answer_has(a, r->type, r->data))
			return CP_PROV_SAME;
		for (size_t i = 0; a->status == CP_DNS_OK && i < a->n; i++)
			any |= cp_spf_is_record(a->rr[i].u.txt.data,
			    a->rr[i].u.txt.len);
		return any ? CP_PROV_CHANGE : CP_PROV_NEW;
	case CP_PROV_IFNONE:
		if (prov_answer_has(a, r->type, r->data))
			return CP_PROV_SAME;
		for (size_t i = 0; a->status == CP_DNS_OK && i < a->n; i++)
			any |= a->rr[i].u.txt.len >= 8 &&
			    strncasecmp(a->rr[i].u.txt.data, "v=DMARC1", 8) == 0;
		return any ? CP_PROV_KEPT : CP_PROV_NEW;
	default:
		return CP_PROV_KEPT;
	}
}

int
cp_prov_plan_compare(cp_prov_plan *p, cp_dns *dns, size_t *nchanges,
    cp_err *err)
{
	size_t n = 0;
	int rc = CP_OK;

	for (size_t i = 0; i < p->n; i++) {
		cp_prov_record *r = &p->rec[i];
		cp_dns_answer *a;

		if (r->state == CP_PROV_BLOCKED || r->state == CP_PROV_ELSEWHERE)
			continue;
		if (r->how == CP_PROV_KEEP) {
			r->state = CP_PROV_KEPT;
			continue;
		}
		if ((rc = prov_query(dns, r->owner, r->type, &a, err)) != CP_OK)
			break;
		r->state = prov_state_of(p, r, a);
		cp_dns_answer_free(a);
		n += r->state == CP_PROV_NEW || r->state == CP_PROV_CHANGE;
	}
	if (nchanges)
		*nchanges = n;
	return rc;
}
