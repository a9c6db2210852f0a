/*
 * provision_plan.c - the records a sending domain needs, as pure
 * functions of what it has (no DNS, no clock: unit-tested).
 *
 * SPF (RFC 7208): the tenant's IPs as exact ip4:/ip6: terms, merged into
 * the domain's one SPF record rather than published as a second one (two
 * records are a PermError, 4.5). ip4/ip6 cost no DNS lookup, so the merge
 * never adds to the 10-lookup limit of 4.6.4; a record already over it is
 * trimmed of what is safe to drop (repeated terms, then ptr, which 5.5
 * says not to use) and otherwise not written, with the count explained.
 * DKIM (RFC 6376 3.6.1) key records, written as 255-byte character-strings
 * (RFC 1035 3.3.14, RFC 6376 3.6.2.2). DMARC (RFC 7489 6.3) starts at
 * p=none with aggregate reports (rua) and is never overwritten: a policy
 * someone chose stays. MX (RFC 5321 5.1) of the bounce domain, so bounces
 * come back to the relay. The A/AAAA of EHLO names inside the domain and
 * the PTR of each IP, since receivers want the IP's reverse name to be
 * its EHLO name and to resolve back to the IP (forward-confirmed rDNS).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "coldpost/provision.h"
#include "coldpost/spf.h"

const char *
cp_prov_kind_name(cp_prov_kind k)
{
	static const char *const n[] = { "spf", "dkim", "dmarc", "mx", "addr",
		"ptr" };

	return (size_t)k < CP_NELEM(n) ? n[k] : "?";
}

const char *
cp_prov_state_name(cp_prov_state s)
{
	static const char *const n[] = { "?", "same", "new", "change", "kept",
		"blocked", "elsewhere" };

	return (size_t)s < CP_NELEM(n) ? n[s] : "?";
}

/* ---- SPF ---------------------------------------------------------------- */

static int
prov_is_dns_term(cp_spf_term_kind k)
{
	return k == CP_SPF_INCLUDE || k == CP_SPF_A || k == CP_SPF_MX ||
	    k == CP_SPF_PTR || k == CP_SPF_EXISTS;
}

static int
prov_cost_of(const cp_spf_term *t, const cp_prov_spf_cost *costs,
    size_t ncosts)
{
	for (size_t i = 0; i < ncosts; i++)
		if (t->arg != NULL && strcasecmp(costs[i].name, t->arg) == 0)
			return costs[i].lookups > 0 ? costs[i].lookups : 0;
	return 0;
}

/* Lookups of the record with the terms where keep[i] is set (4.6.4). */
static int
prov_spf_count(const cp_spf_record *rec, const unsigned char *keep,
    const cp_prov_spf_cost *costs, size_t ncosts)
{
	int n = 0;

	for (size_t i = 0; i < rec->nterms; i++) {
		const cp_spf_term *t = &rec->terms[i];

		if (!keep[i])
			continue;
		if (prov_is_dns_term(t->kind))
			n++;
		if (t->kind == CP_SPF_INCLUDE)
			n += prov_cost_of(t, costs, ncosts);
		if (t->kind == CP_SPF_REDIRECT && !rec->has_all)
			n += 1 + prov_cost_of(t, costs, ncosts);
	}
	return n;
}

/* Is ip already an exact, passing term of rec? */
static int
prov_spf_lists(const cp_spf_record *rec, const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;
	int v6 = strchr(ip, ':') != NULL;

	if (v6 ? inet_pton(AF_INET6, ip, &a6) != 1 :
	    inet_pton(AF_INET, ip, &a4) != 1)
		return 0;
	for (size_t i = 0; rec != NULL && i < rec->nterms; i++) {
		const cp_spf_term *t = &rec->terms[i];

		if (t->qualifier != '+')
			continue;
		if (!v6 && t->kind == CP_SPF_IP4 &&
		    (t->cidr4 == -1 || t->cidr4 == 32) &&
		    memcmp(&t->net.v4, &a4, sizeof(a4)) == 0)
			return 1;
		if (v6 && t->kind == CP_SPF_IP6 &&
		    (t->cidr6 == -1 || t->cidr6 == 128) &&
		    memcmp(&t->net.v6, &a6, sizeof(a6)) == 0)
			return 1;
	}
	return 0;
}

/* The ip4:/ip6: terms of the IPs rec does not list yet, canonical. */
static int
prov_spf_add_ips(const cp_spf_record *rec, const cp_prov_ip *ips,
    size_t nips, cp_buf *out, cp_err *err)
{
	for (size_t i = 0; i < nips; i++) {
		char txt[INET6_ADDRSTRLEN];
		unsigned char bin[16];
		int v6 = strchr(ips[i].addr, ':') != NULL, dup = 0;

		if (inet_pton(v6 ? AF_INET6 : AF_INET, ips[i].addr, bin) != 1)
			return cp_err_set(err, CP_EINVAL, "provision: '%s' is not "
			    "an IP address", ips[i].addr);
		for (size_t j = 0; j < i; j++)
			if (strcmp(ips[j].addr, ips[i].addr) == 0)
				dup = 1;
		if (dup || prov_spf_lists(rec, ips[i].addr))
			continue;
		inet_ntop(v6 ? AF_INET6 : AF_INET, bin, txt, sizeof(txt));
		if (cp_buf_addf(out, " %s:%s", v6 ? "ip6" : "ip4", txt) != CP_OK)
			return cp_err_set(err, CP_ENOMEM, "provision: out of "
			    "memory");
	}
	return CP_OK;
}

/* Drop what is safe to drop while over the limit: repeats, then ptr. */
static void
prov_spf_trim(const cp_spf_record *rec, unsigned char *keep,
    const cp_prov_spf_cost *costs, size_t ncosts, cp_buf *notes)
{
	for (size_t i = 0; i < rec->nterms; i++)
		for (size_t j = 0; j < i && keep[i]; j++)
			if (keep[j] && strcasecmp(rec->terms[i].text,
			    rec->terms[j].text) == 0) {
				keep[i] = 0;
				if (notes)
					cp_buf_addf(notes, "dropped the repeated "
					    "term '%s'. ", rec->terms[i].text);
			}
	for (size_t i = 0; i < rec->nterms; i++) {
		if (prov_spf_count(rec, keep, costs, ncosts) <=
		    CP_PROV_SPF_LIMIT)
			return;
		if (keep[i] && rec->terms[i].kind == CP_SPF_PTR) {
			keep[i] = 0;
			if (notes)
				cp_buf_addf(notes, "dropped '%s' (RFC 7208 5.5: "
				    "ptr should not be used, and it costs a "
				    "lookup). ", rec->terms[i].text);
		}
	}
}

int
cp_prov_spf_merge(const char *existing, const cp_prov_ip *ips, size_t nips,
    const cp_prov_spf_cost *costs, size_t ncosts, cp_buf *out, int *lookups,
    cp_buf *notes, cp_err *err)
{
	cp_spf_record *rec = NULL;
	unsigned char *keep = NULL;
	int rc, n = 0;

	if (existing != NULL) {
		rc = cp_spf_parse_record(existing, strlen(existing), &rec, NULL,
		    err);
		if (rc != CP_OK)
			return rc;
		keep = cp_malloc(rec->nterms + 1);
		if (keep == NULL) {
			cp_spf_record_free(rec);
			return cp_err_set(err, CP_ENOMEM, "provision: out of "
			    "memory");
		}
		memset(keep, 1, rec->nterms + 1);
		n = prov_spf_count(rec, keep, costs, ncosts);
		if (n > CP_PROV_SPF_LIMIT) {
			prov_spf_trim(rec, keep, costs, ncosts, notes);
			n = prov_spf_count(rec, keep, costs, ncosts);
		}
	}
	rc = cp_buf_adds(out, "v=spf1");
	if (rc == CP_OK)
		rc = prov_spf_add_ips(rec, ips, nips, out, err);
	for (size_t i = 0; rc == CP_OK && rec != NULL && i < rec->nterms; i++) {
		const cp_spf_term *t = &rec->terms[i];

		if (!keep[i])
			continue;
		if (t->kind == CP_SPF_ALL && t->qualifier == '+') {
			rc = cp_buf_adds(out, " ~all");
			if (notes)
				cp_buf_addf(notes, "'%s' authorized every host "
				    "on the Internet: it became ~all. ", t->text);
		} else {
			rc = cp_buf_addf(out, " %s", t->text);
		}
	}
	if (rc == CP_OK && rec == NULL)
		rc = cp_buf_adds(out, " -all");
	if (rc == CP_ENOMEM)
		cp_err_set(err, rc, "provision: out of memory");
	if (rc == CP_OK && n > CP_PROV_SPF_LIMIT) {
		rc = cp_err_set(err, CP_ETOOBIG, "provision: the SPF record "
		    "needs %d DNS lookups, over the limit of %d (RFC 7208 "
		    "4.6.4)", n, CP_PROV_SPF_LIMIT);
		if (notes)
			cp_buf_addf(notes, "still %d lookups after trimming, "
			    "over the limit of %d: not written. Replace an "
			    "include: by the ip4:/ip6: ranges it stands for, "
			    "or drop a service that no longer sends. ", n,
			    CP_PROV_SPF_LIMIT);
	}
	if (lookups)
		*lookups = n;
	cp_free(keep);
	cp_spf_record_free(rec);
	return rc;
}

/* ---- TXT strings and zone lines --------------------------------------- */

int
cp_prov_txt_strings(const char *value, size_t len, cp_buf *out)
{
	int rc = CP_OK;

	if (len == 0)
		return cp_buf_adds(out, "\"\"");
	for (size_t i = 0; rc == CP_OK && i < len; i += CP_PROV_TXT_CHUNK) {
		size_t end = CP_MIN(len, i + CP_PROV_TXT_CHUNK);

		rc = cp_buf_adds(out, i ? " \"" : "\"");
		for (size_t j = i; rc == CP_OK && j < end; j++) {
			unsigned char c = (unsigned char)value[j];

			if (c == '"' || c == '\\')
				rc = cp_buf_addf(out, "\\%c", c);
			else if (c < 0x20 || c > 0x7e)
				rc = cp_buf_addf(out, "\\%03u", c);
			else
				rc = cp_buf_addc(out, (char)c);
		}
		if (rc == CP_OK)
			rc = cp_buf_addc(out, '"');
	}
	return rc;
}

int
cp_prov_zone_line(const cp_prov_record *r, cp_buf *out)
{
	int rc;

	rc = cp_buf_addf(out, "%s. %u IN %s ", r->owner, (unsigned)r->ttl,
	    cp_dns_type_name(r->type));
	if (rc != CP_OK)
		return rc;
	if (r->type == CP_DNS_TXT)
		return cp_prov_txt_strings(r->data, strlen(r->data), out);
	if (r->type == CP_DNS_MX || r->type == CP_DNS_PTR)
		return cp_buf_addf(out, "%s.", r->data);
	return cp_buf_adds(out, r->data);
}

/* ---- the plan ----------------------------------------------------------- */

void
cp_prov_plan_free(cp_prov_plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		cp_free(p->rec[i].owner);
		cp_free(p->rec[i].data);
		cp_free(p->rec[i].old);
		cp_free(p->rec[i].note);
	}
	cp_free(p->rec);
	cp_free(p->domain);
	cp_free(p);
}

cp_prov_plan *
cp_prov_plan_new(const char *domain)
{
	cp_prov_plan *p = cp_calloc(1, sizeof(*p));

	if (p != NULL && (p->domain = cp_strdup(domain)) == NULL) {
		cp_free(p);
		p = NULL;
	}
	return p;
}

/* Append a record; strings are copied (data, old, note may be NULL). */
cp_prov_record *
cp_prov_plan_add(cp_prov_plan *p, cp_prov_kind kind, cp_prov_how how,
    const char *owner, int type, uint32_t ttl, const char *data,
    const char *old, const char *note)
{
	cp_prov_record *r;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		cp_prov_record *v = cp_realloc(p->rec, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		p->rec = v;
		p->cap = cap;
	}
	r = &p->rec[p->n];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->how = how;
	r->type = type;
	r->ttl = ttl;
	r->owner = cp_strdup(owner);
	r->data = cp_strdup(data ? data : "");
	r->old = old ? cp_strdup(old) : NULL;
	r->note = note && note[0] ? cp_strdup(note) : NULL;
	if (r->owner == NULL || r->data == NULL || (old && r->old == NULL) ||
	    (note && note[0] && r->note == NULL)) {
		cp_free(r->owner);
		cp_free(r->data);
		cp_free(r->old);
		cp_free(r->note);
		return NULL;
	}
	p->n++;
	return r;
}

/* Is name domain or below it? */
static int
prov_in_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d)
		return strcasecmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' &&
	    strcasecmp(name + n - d, domain) == 0;
}

static int
plan_spf(cp_prov_plan *p, const cp_prov_input *in, const char *owner,
    const cp_prov_existing *ex, uint32_t ttl, int *lookups, cp_err *err)
{
	cp_buf rec, notes;
	cp_prov_record *r;
	cp_err e = { 0 };
	int rc;

	cp_buf_init(&rec, 1 << 16);
	cp_buf_init(&notes, 1 << 16);
	if (ex->nspf > 1) {
		rc = CP_ESYNTAX;
		cp_buf_addf(&notes, "%zu SPF records: receivers see a PermError "
		    "(RFC 7208 4.5). Merge them into one by hand, then run "
		    "again.", ex->nspf);
		cp_buf_adds(&rec, ex->spf ? ex->spf : "");
	} else {
		rc = cp_prov_spf_merge(ex->spf, in->ips, in->nips, ex->costs,
		    ex->ncosts, &rec, lookups, &notes, &e);
		if (rc == CP_ESYNTAX) {
			cp_buf_reset(&rec);
			cp_buf_adds(&rec, ex->spf);
			cp_buf_addf(&notes, "the existing SPF record is broken "
			    "(%s): fix it by hand, then run again.", e.msg);
		} else if (rc == CP_OK && rec.len > 450) {
			cp_buf_addf(&notes, "the record is %zu bytes: keep SPF "
			    "answers under 512 bytes (RFC 7208 3.4).", rec.len);
		}
	}
	if (rc == CP_ENOMEM || rc == CP_EINVAL) {
		if (err)
			*err = e;
		cp_buf_free(&rec);
		cp_buf_free(&notes);
		return rc;
	}
	r = cp_prov_plan_add(p, CP_PROV_SPF, CP_PROV_REPLACE, owner, CP_DNS_TXT, ttl,
	    rec.data ? rec.data : "", ex->spf, notes.data);
	if (r != NULL && rc != CP_OK) {
		r->state = CP_PROV_BLOCKED;
		p->blocked++;
	}
	cp_buf_free(&rec);
	cp_buf_free(&notes);
	return r ? CP_OK : cp_err_set(err, CP_ENOMEM, "provision: out of "
	    "memory");
}

static int
plan_dkim(cp_prov_plan *p, const cp_prov_input *in, uint32_t ttl)
{
	const char *sel[2] = { in->selector, in->selector2 };
	const char *rec[2] = { in->dkim_record, in->dkim_record2 };
	char owner[CP_PROV_TXT_CHUNK * 2];

	for (int i = 0; i < 2; i++) {
		if (sel[i] == NULL || rec[i] == NULL)
			continue;
		snprintf(owner, sizeof(owner), "%s._domainkey.%s", sel[i],
		    in->domain);
		if (cp_prov_plan_add(p, CP_PROV_DKIM, CP_PROV_RRSET, owner, CP_DNS_TXT,
		    ttl, rec[i], NULL, i == 1 ? "a second key: receivers "
		    "that know Ed25519 (RFC 8463) check it, the others skip "
		    "it" : NULL) == NULL)
			return CP_ENOMEM;
	}
	return CP_OK;
}

static int
plan_dmarc(cp_prov_plan *p, const cp_prov_input *in, uint32_t ttl)
{
	char owner[300], rec[600];
	static const char advice[] = "p=none only collects reports: read the "
	    "aggregate reports for 2-4 weeks, and once every legitimate "
	    "stream passes SPF or DKIM aligned, move to p=quarantine, then "
	    "p=reject (RFC 7489 6.3).";

	snprintf(owner, sizeof(owner), "_dmarc.%s", in->domain);
	if (in->rua != NULL)
		snprintf(rec, sizeof(rec), "v=DMARC1; p=none; rua=%s%s",
		    strncmp(in->rua, "mailto:", 7) == 0 ? "" : "mailto:",
		    in->rua);
	else
		snprintf(rec, sizeof(rec), "v=DMARC1; p=none; "
		    "rua=mailto:dmarc-reports@%s", in->domain);
	if (in->has_dmarc)
		return cp_prov_plan_add(p, CP_PROV_DMARC, CP_PROV_KEEP, owner,
		    CP_DNS_TXT, ttl, NULL, NULL, "a DMARC record exists: kept "
		    "as it is (a policy someone chose is not lowered). If it "
		    "is still p=none, move to quarantine, then reject, once "
		    "the reports are clean.") ? CP_OK : CP_ENOMEM;
	return cp_prov_plan_add(p, CP_PROV_DMARC, CP_PROV_IFNONE, owner, CP_DNS_TXT,
	    ttl, rec, NULL, advice) ? CP_OK : CP_ENOMEM;
}

static int
plan_mx(cp_prov_plan *p, const cp_prov_input *in, const char *bounce,
    uint32_t ttl)
{
	const char *host = in->mx_host;
	char data[300];

	for (size_t i = 0; host == NULL && i < in->nips; i++)
		host = in->ips[i].ehlo;
	if (strcasecmp(bounce, in->domain) == 0 && in->domain_has_mx)
		return cp_prov_plan_add(p, CP_PROV_MX, CP_PROV_KEEP, bounce, CP_DNS_MX,
		    ttl, NULL, NULL, "the domain takes mail already (its MX "
		    "kept): replies go there. Give the relay a bounce domain "
		    "of its own (--bounce-domain bounce.DOMAIN) to get "
		    "bounces back.") ? CP_OK : CP_ENOMEM;
	if (host == NULL) {
		cp_prov_record *r = cp_prov_plan_add(p, CP_PROV_MX, CP_PROV_RRSET,
		    bounce, CP_DNS_MX, ttl, NULL, NULL, "no host to take "
		    "bounces: give --mx HOST or the IPs' EHLO names");

		if (r == NULL)
			return CP_ENOMEM;
		r->state = CP_PROV_BLOCKED;
		p->blocked++;
		return CP_OK;
	}
	snprintf(data, sizeof(data), "10 %s", host);
	return cp_prov_plan_add(p, CP_PROV_MX, CP_PROV_RRSET, bounce, CP_DNS_MX, ttl,
	    data, NULL, "bounces to the MAIL FROM domain come back to the "
	    "relay") ? CP_OK : CP_ENOMEM;
}

static int
plan_hosts(cp_prov_plan *p, const cp_prov_input *in, const char *bounce,
    uint32_t ttl)
{
	for (size_t i = 0; i < in->nips; i++) {
		const cp_prov_ip *ip = &in->ips[i];
		char rev[128];
		int v6 = strchr(ip->addr, ':') != NULL, dup = 0;

		if (ip->ehlo == NULL)
			continue;
		for (size_t j = 0; j < i; j++)
			if (strcmp(in->ips[j].addr, ip->addr) == 0)
				dup = 1;
		if (dup)
			continue;
		if ((prov_in_domain(ip->ehlo, in->domain) ||
		    prov_in_domain(ip->ehlo, bounce)) &&
		    cp_prov_plan_add(p, CP_PROV_ADDR, CP_PROV_RRSET, ip->ehlo, v6 ?
		    CP_DNS_AAAA : CP_DNS_A, ttl, ip->addr, NULL, "the EHLO name "
		    "resolves to the IP (forward-confirmed reverse DNS)") == NULL)
			return CP_ENOMEM;
		if (cp_dns_reverse_name(ip->addr, rev, sizeof(rev)) != 0)
			continue;
		if (cp_prov_plan_add(p, CP_PROV_PTR, CP_PROV_RRSET, rev, CP_DNS_PTR, ttl,
		    ip->ehlo, NULL, "reverse DNS must name the EHLO name; the "
		    "reverse zone belongs to whoever owns the IP (ask the "
		    "hosting provider if it is not yours)") == NULL)
			return CP_ENOMEM;
	}
	return CP_OK;
}

int
cp_prov_plan_compute(const cp_prov_input *in, cp_prov_plan **out,
    cp_err *err)
{
	cp_prov_plan *p;
	const char *bounce = in->bounce_domain ? in->bounce_domain : in->domain;
	uint32_t ttl = in->ttl ? in->ttl : CP_PROV_TTL;
	int rc, dummy;

	*out = NULL;
	if ((p = cp_prov_plan_new(in->domain)) == NULL)
		return cp_err_set(err, CP_ENOMEM, "provision: out of memory");
	p->spf_lookups = 0;
	rc = plan_spf(p, in, in->domain, &in->spf_domain, ttl, &p->spf_lookups,
	    err);
	if (rc == CP_OK && strcasecmp(bounce, in->domain) != 0)
		rc = plan_spf(p, in, bounce, &in->spf_bounce, ttl, &dummy, err);
	if (rc == CP_OK && (rc = plan_dkim(p, in, ttl)) == CP_OK &&
	    (rc = plan_dmarc(p, in, ttl)) == CP_OK &&
	    (rc = plan_mx(p, in, bounce, ttl)) == CP_OK)
		rc = plan_hosts(p, in, bounce, ttl);
	if (rc == CP_ENOMEM)
		cp_err_set(err, rc, "provision: out of memory");
	if (rc != CP_OK) {
		cp_prov_plan_free(p);
		return rc;
	}
	*out = p;
	return CP_OK;
}
