/*
 * http_model.c - the API's resources kept in the store: tenants, pools,
 * domains (with the DNS records to publish), mailboxes (with today's cap
 * usage and ramp stage from the sending policy), the suppression list,
 * provider pacing states, webhooks, statistics and who the caller is.
 *
 * Tenant scope: an admin key sees everything; a tenant key sees and
 * changes only what belongs to its tenant, and whatever belongs to
 * another tenant answers 404 exactly as if it did not exist, so a key
 * cannot even learn that a name is taken by somebody else... except when
 * it tries to create it: then the store's uniqueness answers 409, which
 * says nothing about whose it is.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/policy.h"
#include "coldpost/store.h"
#include "coldpost/webhook.h"
#include "http/http_int.h"

/* ---- records as JSON ---------------------------------------------------- */

static json_t *
tenant_json(const cp_tenant *t)
{
	return json_pack("{s:I,s:s,s:I,s:i}", "id", (json_int_t)t->id,
	    "name", t->name, "created", (json_int_t)t->created,
	    "mailbox_cap", (int)t->mailbox_cap);
}

static json_t *
pool_json(const cp_pool *p)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:I}", "id", (json_int_t)p->id,
	    "tenant", (json_int_t)p->tenant, "addr", p->addr, "ehlo", p->ehlo,
	    "created", (json_int_t)p->created);
}

static json_t *
domain_json(const cp_domain *d)
{
	/* never the key: the private key stays in the store */
	return json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:I}", "id",
	    (json_int_t)d->id, "tenant", (json_int_t)d->tenant, "name",
	    d->name, "selector", d->selector, "alg", d->alg, "key",
	    d->key_path != NULL ? "file" : "stored", "created",
	    (json_int_t)d->created);
}

static json_t *
mailbox_json(const cp_mailbox *m)
{
	return json_pack("{s:I,s:I,s:I,s:s,s:s,s:I,s:i,s:b,s:b}", "id",
	    (json_int_t)m->id, "tenant", (json_int_t)m->tenant, "domain",
	    (json_int_t)m->domain, "address", m->address, "tz", m->tz,
	    "created", (json_int_t)m->created, "daily_cap", (int)m->daily_cap,
	    "send_as_domain", m->send_as_domain, "has_password",
	    m->pwhash != NULL && m->pwhash[0] != '\0');
}

static json_t *
supp_json(const cp_suppression *s)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:I}", "tenant",
	    (json_int_t)s->tenant, "address", s->address, "reason", s->reason,
	    "note", s->note != NULL ? s->note : "", "created",
	    (json_int_t)s->created);
}

/* A list callback's context: the array and the scope. */
struct list_ctx {
	json_t *a;
	int64_t tenant;  /* 0: all */
	json_t *(*fn)(const void *rec);
};

static int
list_add(struct list_ctx *c, json_t *v)
{
	if (v == NULL)
		return 1;
	json_array_append_new(c->a, v);
	return json_array_size(c->a) >= HTTP_LIST_MAX;
}

static int
tenant_cb(void *arg, const cp_tenant *t)
{
	struct list_ctx *c = arg;

	if (c->tenant != 0 && t->id != c->tenant)
		return 0;
	return list_add(c, tenant_json(t));
}

static int
pool_cb(void *arg, const cp_pool *p)
{
	return list_add(arg, pool_json(p));
}

static int
domain_cb(void *arg, const cp_domain *d)
{
	return list_add(arg, domain_json(d));
}

static int
mailbox_cb(void *arg, const cp_mailbox *m)
{
	return list_add(arg, mailbox_json(m));
}

static int
supp_cb(void *arg, const cp_suppression *s)
{
	return list_add(arg, supp_json(s));
}


/* Answer for a store error; a uniqueness clash is a 409. */
static int
store_fail(http_req *r, const cp_err *err, const char *field)
{
	if (err->code == CP_ESTORE && strstr(err->msg, "UNIQUE") != NULL)
		return http_fail(r, 409, "exists", field,
		    "%s: already exists", field != NULL ? field : "record");
	if (err->code == CP_EINVAL && strstr(err->msg, "exists") != NULL)
		return http_fail(r, 409, "exists", field, "%s", err->msg);
	return http_fail_err(r, err, field);
}

/* The tenant a request acts for: a tenant key's own; the admin key must
 * name one ("tenant": "name") when need is set. *id 0: none named. */
static int
act_tenant(http_req *r, json_t *body, int need, int64_t *id)
{
	const char *name = NULL;
	char q[CP_STORE_NAME_MAX + 1];
	cp_tenant *t = NULL;
	cp_err err = { 0 };
	int rc;

	*id = r->key.tenant;
	if (r->key.tenant != 0)
		return 0;
	if (body != NULL) {
		if ((rc = http_get_str(r, body, "tenant", need,
		    CP_STORE_NAME_MAX, &name)) != 0)
			return rc;
	} else if (http_query_get(r->query, "tenant", q, sizeof(q)) > 0)
		name = q;
	if (name == NULL) {
		if (need)
			return http_fail(r, 400, "missing_field", "tenant",
			    "tenant is required with the admin key");
		return 0;
	}
	if (cp_store_get_tenant(r->h->store, name, &t, &err) != CP_OK)
		return http_fail(r, err.code == CP_ENOTFOUND ? 400 : 500,
		    err.code == CP_ENOTFOUND ? "bad_field" : "internal",
		    "tenant", "tenant %s: %s", name, err.code ==
		    CP_ENOTFOUND ? "no such tenant" : err.msg);
	*id = t->id;
	cp_tenant_free(t);
	return 0;
}

/* {"items": a} as the answer. */
static int
answer_list(http_req *r, json_t *a)
{
	r->out = json_pack("{s:o}", "items", a);
	return 200;
}

/* GET of a collection a tenant owns: the caller's tenant's records (the
 * admin key: every tenant's, or ?tenant=NAME's), listed by `list`. */
static int
list_scoped(http_req *r, int (*list)(cp_store *st, int64_t tenant,
    struct list_ctx *c, cp_err *err))
{
	struct list_ctx c = { json_array(), 0, NULL };
	cp_err err = { 0 };
	int64_t t;
	int rc;

	if ((rc = act_tenant(r, NULL, 0, &t)) != 0) {
		json_decref(c.a);
		return rc;
	}
	if (list(r->h->store, t, &c, &err) != CP_OK) {
		json_decref(c.a);
		return http_fail_err(r, &err, NULL);
	}
	return answer_list(r, c.a);
}

/* ---- /v1/me -------------------------------------------------------------- */

int
http_h_me(http_req *r)
{
	cp_tenant *t = NULL;

	if (r->key.tenant == 0) {
		r->out = json_pack("{s:s,s:I}", "role", "admin", "key",
		    (json_int_t)r->key.id);
		return 200;
	}
	if (cp_store_get_tenant_by_id(r->h->store, r->key.tenant, &t, NULL) !=
	    CP_OK)
		return http_fail(r, 403, "forbidden", NULL,
		    "the tenant of this key is gone");
	r->out = json_pack("{s:s,s:I,s:o}", "role", "tenant", "key",
	    (json_int_t)r->key.id, "tenant", tenant_json(t));
	cp_tenant_free(t);
	return 200;
}

/* ---- tenants ------------------------------------------------------------- */

int
http_h_tenants_list(http_req *r)
{
	struct list_ctx c = { json_array(), r->key.tenant, NULL };
	cp_err err = { 0 };

	if (cp_store_list_tenants(r->h->store, tenant_cb, &c, &err) != CP_OK) {
		json_decref(c.a);
		return http_fail_err(r, &err, NULL);
	}
	return answer_list(r, c.a);
}

int
http_h_tenants_add(http_req *r)
{
	json_t *b;
	const char *name;
	int64_t cap = 0;
	cp_tenant t = { 0 };
	cp_err err = { 0 };
	int rc;

	if ((rc = http_body_object(r, &b)) != 0)
		return rc;
	if ((rc = http_get_str(r, b, "name", 1, CP_STORE_NAME_MAX, &name)) ||
	    (rc = http_get_int(r, b, "mailbox_cap", 0, 0, INT32_MAX, &cap)))
		goto out;
	t.name = name;
	t.mailbox_cap = (int32_t)cap;
	if (cp_store_add_tenant(r->h->store, &t, &err) != CP_OK) {
		rc = store_fail(r, &err, "name");
		goto out;
	}
	t.created = t.created ? t.created : r->now;
	r->out = tenant_json(&t);
	rc = 201;
out:
	json_decref(b);
	return rc;
}

int
http_h_tenant_get(http_req *r)
{
	cp_tenant *t = NULL;
	cp_err err = { 0 };

	if (cp_store_get_tenant(r->h->store, r->param[0], &t, &err) != CP_OK)
		return http_fail_err(r, &err, "name");
	if (!http_tenant_ok(r, t->id)) {
		cp_tenant_free(t);
		return http_fail(r, 404, "not_found", "name",
		    "store: tenant %s: not found", r->param[0]);
	}
	r->out = tenant_json(t);
	cp_tenant_free(t);
	return 200;
}

int
http_h_tenant_del(http_req *r)
{
	char force[8] = "";
	cp_err err = { 0 };

	http_query_get(r->query, "force", force, sizeof(force));
	if (cp_store_remove_tenant(r->h->store, r->param[0],
	    strcmp(force, "1") == 0 || strcmp(force, "true") == 0, r->now,
	    &err) != CP_OK)
		return store_fail(r, &err, "name");
	return 204;
}

/* ---- pools --------------------------------------------------------------- */

static int
list_pools(cp_store *st, int64_t t, struct list_ctx *c, cp_err *err)
{
	return cp_store_list_pools(st, t, pool_cb, c, err);
}

int
http_h_pools_list(http_req *r)
{
	return list_scoped(r, list_pools);
}

int
http_h_pools_add(http_req *r)
{
	json_t *b;
	cp_pool p = { 0 };
	cp_err err = { 0 };
	int rc;

	if ((rc = http_body_object(r, &b)) != 0)
		return rc;
	if ((rc = act_tenant(r, b, 1, &p.tenant)) ||
	    (rc = http_get_str(r, b, "addr", 1, 64, &p.addr)) ||
	    (rc = http_get_str(r, b, "ehlo", 1, CP_STORE_DOMAIN_MAX, &p.ehlo)))
		goto out;
	if (cp_store_add_pool(r->h->store, &p, &err) != CP_OK) {
		rc = store_fail(r, &err, "addr");
		goto out;
	}
	p.created = p.created ? p.created : r->now;
	r->out = pool_json(&p);
	rc = 201;
out:
	json_decref(b);
	return rc;
}

int
http_h_pool_del(http_req *r)
{
	cp_err err = { 0 };

	if (cp_store_remove_pool(r->h->store, r->param[0], &err) != CP_OK)
		return store_fail(r, &err, "addr");
	return 204;
}

/* ---- domains ------------------------------------------------------------- */

static int
list_domains(cp_store *st, int64_t t, struct list_ctx *c, cp_err *err)
{
	return cp_store_list_domains(st, t, domain_cb, c, err);
}

int
http_h_domains_list(http_req *r)
{
	return list_scoped(r, list_domains);
}

/* The domain named by the path if the caller may see it; else the 404
 * answer is prepared and NULL returned (*status). */
cp_domain *
http_domain_scoped(http_req *r, const char *name, int *status)
{
	cp_domain *d = NULL;
	cp_err err = { 0 };

	if (cp_store_get_domain(r->h->store, name, &d, &err) != CP_OK) {
		*status = http_fail_err(r, &err, "name");
		return NULL;
	}
	if (!http_tenant_ok(r, d->tenant)) {
		cp_domain_free(d);
		*status = http_fail(r, 404, "not_found", "name",
		    "store: domain %s: not found", name);
		return NULL;
	}
	return d;
}

int
http_h_domains_add(http_req *r)
{
	json_t *b;
	cp_domain d = { 0 };
	cp_err err = { 0 };
	int rc;

	if ((rc = http_body_object(r, &b)) != 0)
		return rc;
	if ((rc = act_tenant(r, b, 1, &d.tenant)) ||
	    (rc = http_get_str(r, b, "name", 1, CP_STORE_DOMAIN_MAX,
	    &d.name)) ||
	    (rc = http_get_str(r, b, "selector", 1, CP_STORE_DOMAIN_MAX,
	    &d.selector)) ||
	    (rc = http_get_str(r, b, "alg", 0, 32, &d.alg)) ||
	    (rc = http_get_str(r, b, "key_pem", 1, CP_STORE_PEM_MAX,
	    &d.key_pem)))
		goto out;
	if (d.alg == NULL)
		d.alg = "rsa-sha256";
	/* key_path is not offered: a tenant must not name server files */
	if (cp_store_add_domain(r->h->store, &d, &err) != CP_OK) {
		cp_domain *have = NULL;

		/* taken by another tenant: say no more than "not yours" */
		if (r->key.tenant != 0 && cp_store_get_domain(r->h->store,
		    d.name, &have, NULL) == CP_OK && have->tenant !=
		    r->key.tenant)
			rc = http_fail(r, 403, "forbidden", "name",
			    "name: not available");
		else
			rc = store_fail(r, &err, "name");
		cp_domain_free(have);
		goto out;
	}
	d.created = d.created ? d.created : r->now;
	r->out = domain_json(&d);
	rc = 201;
out:
	json_decref(b);
	return rc;
}

int
http_h_domain_get(http_req *r)
{
	int status = 0;
	cp_domain *d = http_domain_scoped(r, r->param[0], &status);
	json_t *recs;

	if (d == NULL)
		return status;
	r->out = domain_json(d);
	if ((recs = http_domain_records(r->h, d)) != NULL)
		json_object_set_new(r->out, "records", recs);
	cp_domain_free(d);
	return 200;
}

int
http_h_domain_del(http_req *r)
{
	int status = 0;
	cp_domain *d = http_domain_scoped(r, r->param[0], &status);
	char force[8] = "";
	cp_err err = { 0 };

	if (d == NULL)
		return status;
	cp_domain_free(d);
	http_query_get(r->query, "force", force, sizeof(force));
	if (cp_store_remove_domain(r->h->store, r->param[0],
	    strcmp(force, "1") == 0 || strcmp(force, "true") == 0, &err) !=
	    CP_OK)
		return store_fail(r, &err, "name");
	return 204;
}

/* ---- mailboxes ----------------------------------------------------------- */

static int
list_mailboxes(cp_store *st, int64_t t, struct list_ctx *c, cp_err *err)
{
	return cp_store_list_mailboxes(st, t, mailbox_cb, c, err);
}

int
http_h_mailboxes_list(http_req *r)
{
	return list_scoped(r, list_mailboxes);
}

cp_mailbox *
http_mailbox_scoped(http_req *r, const char *address, int *status)
{
	cp_mailbox *m = NULL;
	cp_err err = { 0 };

	if (cp_store_get_mailbox(r->h->store, address, &m, &err) != CP_OK) {
		*status = http_fail_err(r, &err, "address");
		return NULL;
	}
	if (!http_tenant_ok(r, m->tenant)) {
		cp_mailbox_free(m);
		*status = http_fail(r, 404, "not_found", "address",
		    "store: mailbox %s: not found", address);
		return NULL;
	}
	return m;
}

int
http_h_mailboxes_add(http_req *r)
{
	json_t *b;
	cp_mailbox m = { 0 };
	const char *pw = NULL;
	int64_t cap = -1;
	int sad = 0;
	cp_err err = { 0 };
	cp_domain *d = NULL;
	int rc;

	if ((rc = http_body_object(r, &b)) != 0)
		return rc;
	if ((rc = act_tenant(r, b, 1, &m.tenant)) ||
	    (rc = http_get_str(r, b, "address", 1, CP_STORE_ADDR_MAX,
	    &m.address)) ||
	    (rc = http_get_str(r, b, "tz", 0, CP_STORE_TZ_MAX, &m.tz)) ||
	    (rc = http_get_str(r, b, "password", 0, CP_STORE_PASSWORD_MAX,
	    &pw)) ||
	    (rc = http_get_int(r, b, "daily_cap", 0, -1, INT32_MAX, &cap)))
		goto out;
	if (json_is_true(json_object_get(b, "send_as_domain")))
		sad = 1;
	m.tz = m.tz != NULL ? m.tz : "UTC";
	m.daily_cap = (int32_t)cap;
	m.send_as_domain = sad;
	/* the domain must be the caller's: another tenant's reads as absent */
	{
		const char *at = strrchr(m.address, '@');

		if (at == NULL || cp_store_get_domain(r->h->store, at + 1, &d,
		    NULL) != CP_OK || d->tenant != m.tenant) {
			rc = http_fail(r, 403, "forbidden", "address",
			    "address: its domain is not one of the tenant's "
			    "domains");
			goto out;
		}
	}
	if (cp_store_add_mailbox(r->h->store, &m, &err) != CP_OK) {
		rc = store_fail(r, &err, "address");
		goto out;
	}
	if (pw != NULL && cp_store_set_password(r->h->store, m.address, pw,
	    strlen(pw), &err) != CP_OK) {
		rc = http_fail_err(r, &err, "password");
		goto out;
	}
	m.created = m.created ? m.created : r->now;
	m.pwhash = pw != NULL ? "x" : "";
	r->out = mailbox_json(&m);
	rc = 201;
out:
	cp_domain_free(d);
	json_decref(b);
	return rc;
}

int
http_h_mailbox_get(http_req *r)
{
	int status = 0;
	cp_mailbox *m = http_mailbox_scoped(r, r->param[0], &status);
	cp_policy_usage u;
	cp_err err = { 0 };

	if (m == NULL)
		return status;
	r->out = mailbox_json(m);
	if (r->h->policy != NULL && cp_policy_get_usage(r->h->policy,
	    m->tenant, m->id, r->now, &u, &err) == CP_OK)
		json_object_set_new(r->out, "usage", json_pack(
		    "{s:I,s:I,s:I,s:I,s:b,s:I,s:I}", "cap", (json_int_t)u.cap,
		    "full_cap", (json_int_t)u.full_cap, "used",
		    (json_int_t)u.used, "age_days", (json_int_t)u.age_days,
		    "ramping", u.ramping, "day", (json_int_t)u.day,
		    "resets_at", (json_int_t)u.resets_at));
	cp_mailbox_free(m);
	return 200;
}

int
http_h_mailbox_del(http_req *r)
{
	int status = 0;
	cp_mailbox *m = http_mailbox_scoped(r, r->param[0], &status);
	cp_err err = { 0 };

	if (m == NULL)
		return status;
	cp_mailbox_free(m);
	if (cp_store_remove_mailbox(r->h->store, r->param[0], &err) != CP_OK)
		return store_fail(r, &err, "address");
	return 204;
}

/* ---- suppressions -------------------------------------------------------- */

static int
list_supp(cp_store *st, int64_t t, struct list_ctx *c, cp_err *err)
{
	return cp_store_list_suppressions(st, t, supp_cb, c, err);
}

int
http_h_supp_list(http_req *r)
{
	return list_scoped(r, list_supp);
}

int
http_h_supp_add(http_req *r)
{
	json_t *b;
	cp_suppression s = { 0 };
	int added = 0, rc;
	cp_err err = { 0 };

	if ((rc = http_body_object(r, &b)) != 0)
		return rc;
	if ((rc = act_tenant(r, b, 1, &s.tenant)) ||
	    (rc = http_get_str(r, b, "address", 1, CP_STORE_ADDR_MAX,
	    &s.address)) ||
	    (rc = http_get_str(r, b, "reason", 0, 32, &s.reason)) ||
	    (rc = http_get_str(r, b, "note", 0, 1024, &s.note)))
		goto out;
	s.reason = s.reason != NULL ? s.reason : "manual";
	s.note = s.note != NULL ? s.note : "";
	if (!cp_store_suppression_reason(s.reason)) {
		rc = http_fail(r, 400, "bad_field", "reason", "reason: want "
		    "bounce, complaint, unsubscribe or manual");
		goto out;
	}
	if (cp_store_add_suppression(r->h->store, &s, &added, &err) != CP_OK) {
		rc = http_fail_err(r, &err, "address");
		goto out;
	}
	s.created = r->now;
	r->out = supp_json(&s);
	json_object_set_new(r->out, "added", json_boolean(added));
	rc = added ? 201 : 200;
out:
	json_decref(b);
	return rc;
}

int
http_h_supp_del(http_req *r)
{
	cp_err err = { 0 };
	int64_t t;
	int rc;

	if ((rc = act_tenant(r, NULL, 1, &t)) != 0)
		return rc;
	if (cp_store_remove_suppression(r->h->store, t, r->param[0], &err) !=
	    CP_OK)
		return http_fail_err(r, &err, "address");
	return 204;
}

/* ---- provider states ----------------------------------------------------- */

/*
 * Pacing state is per (source IP, provider); a tenant sees the rows of
 * its own pool's addresses only.
 */
struct prov_ctx {
	json_t *a;
	json_t *ips; /* the tenant's pool addresses, or NULL: all */
	int64_t now;
};

static int
pool_ip_cb(void *arg, const cp_pool *p)
{
	json_object_set_new(arg, p->addr, json_true());
	return 0;
}

static int
prov_cb(void *arg, const cp_provider_state *s)
{
	struct prov_ctx *c = arg;

	if (c->ips != NULL && json_object_get(c->ips, s->source_ip) == NULL)
		return 0;
	json_array_append_new(c->a, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,"
	    "s:I,s:b}", "source_ip", s->source_ip, "provider", s->provider,
	    "rate", (json_int_t)s->rate, "ramp_from", (json_int_t)s->ramp_from,
	    "paused_until", (json_int_t)s->paused_until, "cuts",
	    (json_int_t)s->cuts, "updated", (json_int_t)s->updated, "paused",
	    s->paused_until > c->now));
	return json_array_size(c->a) >= HTTP_LIST_MAX;
}

static int
event_cb(void *arg, const cp_provider_event *e)
{
	struct prov_ctx *c = arg;

	if (c->ips != NULL && json_object_get(c->ips, e->source_ip) == NULL)
		return 0;
	json_array_append_new(c->a, json_pack("{s:I,s:I,s:s,s:s,s:s,s:I,s:I,"
	    "s:I,s:s}", "id", (json_int_t)e->id, "time", (json_int_t)e->time,
	    "source_ip", e->source_ip, "provider", e->provider, "kind",
	    e->kind, "rate_before", (json_int_t)e->rate_before, "rate_after",
	    (json_int_t)e->rate_after, "until", (json_int_t)e->until,
	    "evidence", e->evidence != NULL ? e->evidence : ""));
	return json_array_size(c->a) >= HTTP_LIST_MAX;
}

int
http_h_providers(http_req *r)
{
	struct prov_ctx c = { json_array(), NULL, r->now };
	json_t *events = json_array();
	cp_err err = { 0 };
	int64_t since;
	int rc;

	if ((rc = http_query_int(r, "since", r->now - 7 * 86400, 0,
	    INT64_MAX / 2, &since)) != 0)
		goto fail;
	if (r->key.tenant != 0) {
		c.ips = json_object();
		cp_store_list_pools(r->h->store, r->key.tenant, pool_ip_cb,
		    c.ips, NULL);
	}
	if (cp_store_list_provider_states(r->h->store, prov_cb, &c, &err) !=
	    CP_OK) {
		rc = http_fail_err(r, &err, NULL);
		goto fail;
	}
	{
		json_t *states = c.a;

		c.a = events;
		if (cp_store_list_provider_events(r->h->store, since,
		    HTTP_LIST_MAX, event_cb, &c, &err) != CP_OK) {
			c.a = states;
			rc = http_fail_err(r, &err, NULL);
			goto fail;
		}
		r->out = json_pack("{s:o,s:o}", "items", states, "events",
		    events);
	}
	json_decref(c.ips);
	return 200;
fail:
	json_decref(c.a);
	if (c.a != events)
		json_decref(events);
	json_decref(c.ips);
	return rc;
}

/* ---- statistics ---------------------------------------------------------- */

struct stat_ctx {
	json_t *by_cause, *by_provider, *totals;
};

static void
bump(json_t *o, const char *key, int64_t n)
{
	json_t *v = json_object_get(o, key);

	if (v != NULL)
		json_integer_set(v, json_integer_value(v) + n);
	else
		json_object_set_new(o, key, json_integer(n));
}

static int
stat_cb(void *arg, const cp_attempt_stat *s)
{
	struct stat_ctx *c = arg;
	const char *out = cp_rcpt_state_name(s->outcome);
	json_t *o;

	bump(c->totals, out, s->n);
	if (s->outcome != CP_RCPT_DELIVERED) {
		const char *cause = s->cause[0] ? s->cause : "unclassified";

		if ((o = json_object_get(c->by_cause, cause)) == NULL) {
			o = json_object();
			json_object_set_new(c->by_cause, cause, o);
		}
		bump(o, out, s->n);
	}
	{
		const char *p = s->receiver[0] ? s->receiver : "unknown";

		if ((o = json_object_get(c->by_provider, p)) == NULL) {
			o = json_object();
			json_object_set_new(c->by_provider, p, o);
		}
		bump(o, out, s->n);
	}
	return 0;
}

int
http_h_stats(http_req *r)
{
	struct stat_ctx c;
	int64_t from, to, t, msgs = 0, rcpts = 0;
	cp_err err = { 0 };
	int rc;

	if ((rc = http_query_int(r, "from", r->now - 86400, 0, INT64_MAX / 2,
	    &from)) != 0 || (rc = http_query_int(r, "to", r->now + 1, 0,
	    INT64_MAX / 2, &to)) != 0 || (rc = act_tenant(r, NULL, 0, &t)) !=
	    0)
		return rc;
	if (from > to)
		return http_fail(r, 400, "bad_field", "from",
		    "from (%lld) is after to (%lld)", (long long)from,
		    (long long)to);
	c.by_cause = json_object();
	c.by_provider = json_object();
	c.totals = json_pack("{s:i,s:i,s:i,s:i}", "delivered", 0, "deferred",
	    0, "bounced", 0, "expired", 0);
	if (cp_store_stat_attempts(r->h->store, t, from, to, stat_cb, &c,
	    &err) != CP_OK || cp_store_count_accepted(r->h->store, t, from,
	    to, &msgs, &rcpts, &err) != CP_OK) {
		json_decref(c.by_cause);
		json_decref(c.by_provider);
		json_decref(c.totals);
		return http_fail_err(r, &err, NULL);
	}
	json_object_set_new(c.totals, "messages", json_integer(msgs));
	json_object_set_new(c.totals, "sent", json_integer(rcpts));
	r->out = json_pack("{s:I,s:I,s:o,s:o,s:o}", "from", (json_int_t)from,
	    "to", (json_int_t)to, "totals", c.totals, "by_cause", c.by_cause,
	    "by_provider", c.by_provider);
	return 200;
}

/* ---- webhooks (endpoints in the store; the sender is src/webhook/) ------- */

static int
webhook_cb(void *arg, const cp_webhook_endpoint *w)
{
	/* the secret is shown once, on creation */
	return list_add(arg, json_pack("{s:I,s:I,s:s,s:s,s:I}", "id",
	    (json_int_t)w->id, "tenant", (json_int_t)w->tenant, "url", w->url,
	    "events", w->events != NULL ? w->events : "", "created",
	    (json_int_t)w->created));
}

static int
list_webhooks(cp_store *st, int64_t t, struct list_ctx *c, cp_err *err)
{
	return cp_store_list_webhooks(st, t, webhook_cb, c, err);
}

int
http_h_webhooks_list(http_req *r)
{
	return list_scoped(r, list_webhooks);
}

int
http_h_webhooks_add(http_req *r)
{
	json_t *b;
	cp_webhook_endpoint w = { 0 };
	char secret[64];
	cp_buf ev;
	cp_err err = { 0 };
	int rc;

	cp_buf_init(&ev, CP_STORE_EVENTS_MAX);
	if ((rc = http_body_object(r, &b)) != 0)
		return rc;
	if ((rc = act_tenant(r, b, 1, &w.tenant)) ||
	    (rc = http_get_str(r, b, "url", 1, CP_STORE_URL_MAX, &w.url)) ||
	    (rc = http_get_str(r, b, "events", 0, CP_STORE_EVENTS_MAX,
	    &w.events)) ||
	    (rc = http_get_str(r, b, "secret", 0, CP_STORE_SECRET_MAX,
	    &w.secret)))
		goto out;
	if (cp_webhook_parse_events(w.events != NULL ? w.events : "", &ev,
	    &err) != CP_OK) {
		rc = http_fail(r, 400, "bad_field", "events", "%s", err.msg);
		goto out;
	}
	w.events = ev.data != NULL ? ev.data : "";
	if (w.secret == NULL) {
		char key[48];

		if (http_key_make(key, &err) != CP_OK) {
			rc = http_fail_err(r, &err, NULL);
			goto out;
		}
		snprintf(secret, sizeof(secret), "whsec_%s", key + 4);
		w.secret = secret;
	}
	if (cp_store_add_webhook(r->h->store, &w, &err) != CP_OK) {
		rc = http_fail_err(r, &err, "url");
		goto out;
	}
	r->out = json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)w.id,
	    "tenant", (json_int_t)w.tenant, "url", w.url, "events",
	    w.events != NULL ? w.events : "", "secret", w.secret);
	rc = 201;
out:
	cp_buf_free(&ev);
	json_decref(b);
	return rc;
}

int
http_h_webhook_del(http_req *r)
{
	char *end;
	long long id = strtoll(r->param[0], &end, 10);
	cp_err err = { 0 };

	if (*end != '\0' || id <= 0)
		return http_fail(r, 404, "not_found", "id",
		    "no such webhook: %s", r->param[0]);
	if (cp_store_remove_webhook(r->h->store, r->key.tenant, id, &err) !=
	    CP_OK)
		return http_fail_err(r, &err, "id");
	return 204;
}
