/*
 * http_domain.c - a domain's DNS records to publish and their live check.
 *
 * The records are the provisioning plan (coldpost/provision.h) for the
 * domain with its tenant's pool addresses and its DKIM key: SPF (RFC
 * 7208), the DKIM key record (RFC 6376 section 3.6.1), DMARC (RFC 7489
 * section 6.3), MX and the pool's A/PTR names. The live check is
 * cp_check_domain (coldpost/check.h) on a worker, with the domain's
 * selector and pool addresses.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/check.h"
#include "coldpost/dkim.h"
#include "coldpost/provision.h"
#include "http/http_int.h"

#define POOL_IPS_MAX 64

struct ips_ctx {
	cp_prov_ip ips[POOL_IPS_MAX];
	char *mem[POOL_IPS_MAX * 2];
	size_t n;
};

static int
ips_cb(void *arg, const cp_pool *p)
{
	struct ips_ctx *c = arg;

	if (c->n == POOL_IPS_MAX)
		return 1;
	c->mem[2 * c->n] = cp_strdup(p->addr);
	c->mem[2 * c->n + 1] = cp_strdup(p->ehlo);
	c->ips[c->n].addr = c->mem[2 * c->n];
	c->ips[c->n].ehlo = c->mem[2 * c->n + 1];
	if (c->ips[c->n].addr == NULL || c->ips[c->n].ehlo == NULL)
		return 1;
	c->n++;
	return 0;
}

static void
ips_clear(struct ips_ctx *c)
{
	for (size_t i = 0; i < CP_NELEM(c->mem); i++)
		cp_free(c->mem[i]);
}

/* The DKIM key record of the domain's key, appended to out. */
static int
dkim_record(const cp_domain *d, cp_buf *out)
{
	cp_dkim_key *k = NULL;
	int rc;

	if (d->key_pem != NULL)
		rc = cp_dkim_key_from_pem(d->key_pem, strlen(d->key_pem), &k,
		    NULL);
	else
		rc = cp_dkim_key_load(d->key_path, &k, NULL);
	if (rc == CP_OK)
		rc = cp_dkim_key_record(k, out, NULL);
	cp_dkim_key_free(k);
	return rc;
}

json_t *
http_domain_records(cp_http *h, const cp_domain *d)
{
	struct ips_ctx ips;
	cp_prov_input in;
	cp_prov_plan *plan = NULL;
	cp_buf rec, line;
	json_t *a = NULL;

	memset(&ips, 0, sizeof(ips));
	memset(&in, 0, sizeof(in));
	cp_buf_init(&rec, 16384);
	cp_buf_init(&line, 65536);
	cp_store_list_pools(h->store, d->tenant, ips_cb, &ips, NULL);
	in.domain = d->name;
	in.ips = ips.ips;
	in.nips = ips.n;
	in.selector = d->selector;
	if (dkim_record(d, &rec) == CP_OK)
		in.dkim_record = rec.data;
	if (cp_prov_plan_compute(&in, &plan, NULL) == CP_OK &&
	    (a = json_array()) != NULL)
		for (size_t i = 0; i < plan->n; i++) {
			const cp_prov_record *x = &plan->rec[i];

			cp_buf_reset(&line);
			cp_prov_zone_line(x, &line);
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s?,"
			    "s:s,s:s?}", "kind", cp_prov_kind_name(x->kind),
			    "owner", x->owner, "type", cp_dns_type_name(x->type),
			    "data", x->data, "zone_line", line.data != NULL ?
			    line.data : "", "note", x->note));
		}
	cp_prov_plan_free(plan);
	cp_buf_free(&rec);
	cp_buf_free(&line);
	ips_clear(&ips);
	return a;
}

json_t *
http_check_json(const cp_check_report *rep)
{
	json_t *a = json_array();

	for (size_t i = 0; i < rep->n; i++) {
		const cp_check_finding *f = &rep->findings[i];
		json_t *ev = json_array();

		for (size_t k = 0; k < f->nevidence; k++)
			json_array_append_new(ev, json_string(f->evidence[k]));
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s?,"
		    "s:o,s:s?}", "id", f->id, "group", f->group, "status",
		    cp_check_status_name(f->status), "subject", f->subject,
		    "summary", f->summary, "detail", f->detail, "evidence", ev,
		    "fix", f->fix));
	}
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:i,s:o}", "domain",
	    rep->domain, "org_domain", rep->org_domain, "pass",
	    (json_int_t)rep->npass, "warn", (json_int_t)rep->nwarn, "fail",
	    (json_int_t)rep->nfail, "spf_lookups", rep->spf_lookups,
	    "findings", a);
}

static int
domain_check_work(http_req *r)
{
	int status = 0;
	cp_domain *d = http_domain_scoped(r, r->param[0], &status);
	struct ips_ctx ips;
	const char *addrs[POOL_IPS_MAX];
	const char *sels[1];
	cp_check_opts o = { 0 };
	cp_check_report *rep = NULL;
	cp_err err = { 0 };

	if (d == NULL)
		return status;
	memset(&ips, 0, sizeof(ips));
	cp_store_list_pools(r->h->store, d->tenant, ips_cb, &ips, NULL);
	for (size_t i = 0; i < ips.n; i++)
		addrs[i] = ips.ips[i].addr;
	sels[0] = d->selector;
	o.selectors = sels;
	o.nselectors = 1;
	o.ips = addrs;
	o.nips = ips.n;
	o.psl = r->h->psl;
	if ((o.dns = http_resolver(r->h, &err)) == NULL)
		status = http_fail_err(r, &err, NULL);
	else if (cp_check_domain(&o, d->name, &rep, &err) != CP_OK)
		status = http_fail_err(r, &err, "name");
	else {
		r->out = http_check_json(rep);
		status = r->out != NULL ? 200 : http_fail(r, 500, "internal",
		    NULL, "cannot build the answer");
	}
	cp_check_report_free(rep);
	cp_dns_free(o.dns);
	ips_clear(&ips);
	cp_domain_free(d);
	return status;
}

int
http_h_domain_check(http_req *r)
{
	return http_run_async(r, domain_check_work, 0);
}
