/*
 * sqlite_model.c - the SQLite backend's model: tenants, pools (source
 * addresses with their EHLO names), sending domains with their DKIM keys,
 * and mailboxes with their password hashes.
 *
 * Names are unique without regard to case (COLLATE NOCASE in the schema);
 * a UNIQUE violation becomes "already exists", a missing tenant
 * "does not exist". A mailbox is added only under a domain of its own
 * tenant, checked in the same transaction as the insert, so no tenant can
 * ever get a login that sends as another tenant's domain. Removals that
 * would orphan mailboxes are refused unless forced; a forced tenant
 * removal also cancels the tenant's waiting mail.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"

/* Did the last failed step break a UNIQUE or a FOREIGN KEY constraint? */
static int
sq_violated(sq_store *s, int which)
{
	return sqlite3_extended_errcode(s->db) == which;
}

/* Insert with q bound; *id gets the new row id. */
static int
sq_insert(sq_store *s, sqlite3_stmt *q, int64_t *id, const char *what,
    const char *name, cp_err *err)
{
	int rc = CP_OK;

	if (sqlite3_step(q) != SQLITE_DONE) {
		if (sq_violated(s, SQLITE_CONSTRAINT_UNIQUE))
			rc = cp_err_set(err, CP_EINVAL, "store: %s %s already "
			    "exists", what, name);
		else if (sq_violated(s, SQLITE_CONSTRAINT_FOREIGNKEY))
			rc = cp_err_set(err, CP_ENOTFOUND, "store: %s %s: its "
			    "tenant does not exist", what, name);
		else
			rc = sq_fail(s, what, err);
	} else {
		*id = sqlite3_last_insert_rowid(s->db);
	}
	sqlite3_reset(q);
	return rc;
}

/* Run a DELETE/UPDATE keyed by name; CP_ENOTFOUND if it changed nothing. */
static int
sq_change_one(sq_store *s, sq_stmt_id id, const char *key, const char *what,
    cp_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, id, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, key);
	if ((rc = sq_exec_stmt(s, q, what, err)) != CP_OK)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return cp_err_set(err, CP_ENOTFOUND, "store: %s %s: not found",
		    what, key);
	return CP_OK;
}

static void
row_tenant(sqlite3_stmt *q, void *rec)
{
	cp_tenant *t = rec;

	t->id = sqlite3_column_int64(q, 0);
	t->name = sq_text(q, 1);
	t->created = sqlite3_column_int64(q, 2);
	t->mailbox_cap = sqlite3_column_int(q, 3);
}

static const size_t tenant_strs[] = { offsetof(cp_tenant, name) };

/* A typed callback and its argument; called back through its own type. */
typedef void (*any_fn)(void);
struct visit {
	any_fn cb;
	void *arg;
};

static int
visit_tenant(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_tenant_cb)v->cb)(v->arg, rec);
}

int
sq_add_tenant(cp_store *st, cp_tenant *t, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_TENANT_ADD, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, t->name);
	sqlite3_bind_int64(q, 2, t->created);
	sqlite3_bind_int(q, 3, t->mailbox_cap);
	return sq_insert(s, q, &t->id, "tenant", t->name, err);
}

int
sq_list_tenants(cp_store *st, cp_tenant_cb cb, void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_tenant tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_TENANT_LIST, &q, err)) != CP_OK)
		return rc;
	return sq_list(s, q, row_tenant, &tmp, visit_tenant, &v, err);
}

int
sq_get_tenant(cp_store *st, const char *name, int64_t id, cp_tenant **out,
    cp_err *err)
{
	sq_store *s = SQ(st);
	cp_tenant tmp;
	sqlite3_stmt *q;
	char what[96];
	int rc;

	if ((rc = sq_prep(s, name ? SQ_TENANT_GET : SQ_TENANT_GET_ID, &q,
	    err)) != CP_OK)
		return rc;
	if (name != NULL) {
		sq_bind_text(q, 1, name);
		snprintf(what, sizeof(what), "tenant %s", name);
	} else {
		sqlite3_bind_int64(q, 1, id);
		snprintf(what, sizeof(what), "tenant #%lld", (long long)id);
	}
	return sq_get_one(s, q, row_tenant, &tmp, sizeof(tmp), tenant_strs,
	    CP_NELEM(tenant_strs), (void **)out, what, err);
}

int
sq_remove_tenant(cp_store *st, const char *name, int force, int64_t now,
    cp_err *err)
{
	static const sq_stmt_id steps[] = { SQ_TENANT_CANCEL_RCPTS,
		SQ_TENANT_CLOSE_MSGS, SQ_TENANT_DEL_MAILBOXES,
		SQ_TENANT_DEL_DOMAINS, SQ_TENANT_DEL_POOLS,
		SQ_WH_DEL_TENANT_OUTBOX, SQ_WH_DEL_TENANT, SQ_TENANT_DEL };
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int64_t id = 0, nmb = 0;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = sq_prep(s, SQ_TENANT_GET, &q, err);
	if (rc == CP_OK) {
		sq_bind_text(q, 1, name);
		rc = sq_get_int(s, q, &id, err);
		if (rc == CP_ENOTFOUND)
			cp_err_set(err, rc, "store: tenant %s: not found", name);
	}
	if (rc == CP_OK && (rc = sq_prep(s, SQ_TENANT_NMAILBOXES, &q, err)) ==
	    CP_OK) {
		sqlite3_bind_int64(q, 1, id);
		rc = sq_get_int(s, q, &nmb, err);
	}
	if (rc == CP_OK && nmb > 0 && !force)
		rc = cp_err_set(err, CP_EINVAL, "store: tenant %s has %lld "
		    "mailbox%s: remove them first, or force", name,
		    (long long)nmb, nmb == 1 ? "" : "es");
	for (size_t i = 0; rc == CP_OK && i < CP_NELEM(steps); i++)
		rc = sq_run_key(s, steps[i], id, i < 2 ? now : -1, err);
	return sq_tx_end(s, rc, err);
}

static void
row_pool(sqlite3_stmt *q, void *rec)
{
	cp_pool *p = rec;

	p->id = sqlite3_column_int64(q, 0);
	p->tenant = sqlite3_column_int64(q, 1);
	p->addr = sq_text(q, 2);
	p->ehlo = sq_text(q, 3);
	p->created = sqlite3_column_int64(q, 4);
}

static const size_t pool_strs[] = { offsetof(cp_pool, addr),
	offsetof(cp_pool, ehlo) };

static int
visit_pool(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_pool_cb)v->cb)(v->arg, rec);
}

int
sq_add_pool(cp_store *st, cp_pool *p, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_POOL_ADD, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, p->tenant);
	sq_bind_text(q, 2, p->addr);
	sq_bind_text(q, 3, p->ehlo);
	sqlite3_bind_int64(q, 4, p->created);
	return sq_insert(s, q, &p->id, "pool address", p->addr, err);
}

int
sq_list_pools(cp_store *st, int64_t tenant, cp_pool_cb cb, void *arg,
    cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_pool tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_POOL_LIST, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	return sq_list(s, q, row_pool, &tmp, visit_pool, &v, err);
}

int
sq_get_pool(cp_store *st, const char *addr, cp_pool **out, cp_err *err)
{
	sq_store *s = SQ(st);
	cp_pool tmp;
	sqlite3_stmt *q;
	char what[96];
	int rc;

	if ((rc = sq_prep(s, SQ_POOL_GET, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, addr);
	snprintf(what, sizeof(what), "pool address %s", addr);
	return sq_get_one(s, q, row_pool, &tmp, sizeof(tmp), pool_strs,
	    CP_NELEM(pool_strs), (void **)out, what, err);
}

int
sq_remove_pool(cp_store *st, const char *addr, cp_err *err)
{
	return sq_change_one(SQ(st), SQ_POOL_DEL, addr, "pool address", err);
}

static void
row_domain(sqlite3_stmt *q, void *rec)
{
	cp_domain *d = rec;

	d->id = sqlite3_column_int64(q, 0);
	d->tenant = sqlite3_column_int64(q, 1);
	d->name = sq_text(q, 2);
	d->selector = sq_text(q, 3);
	d->alg = sq_text(q, 4);
	d->key_pem = sq_text(q, 5);
	d->key_path = sq_text(q, 6);
	d->created = sqlite3_column_int64(q, 7);
}

static const size_t domain_strs[] = { offsetof(cp_domain, name),
	offsetof(cp_domain, selector), offsetof(cp_domain, alg),
	offsetof(cp_domain, key_pem), offsetof(cp_domain, key_path) };

static int
visit_domain(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_domain_cb)v->cb)(v->arg, rec);
}

int
sq_add_domain(cp_store *st, cp_domain *d, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_DOMAIN_ADD, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, d->tenant);
	sq_bind_text(q, 2, d->name);
	sq_bind_text(q, 3, d->selector);
	sq_bind_text(q, 4, d->alg);
	sq_bind_text(q, 5, d->key_pem);
	sq_bind_text(q, 6, d->key_path);
	sqlite3_bind_int64(q, 7, d->created);
	return sq_insert(s, q, &d->id, "domain", d->name, err);
}

int
sq_list_domains(cp_store *st, int64_t tenant, cp_domain_cb cb, void *arg,
    cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_domain tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_DOMAIN_LIST, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	return sq_list(s, q, row_domain, &tmp, visit_domain, &v, err);
}

int
sq_get_domain(cp_store *st, const char *name, cp_domain **out, cp_err *err)
{
	sq_store *s = SQ(st);
	cp_domain tmp;
	sqlite3_stmt *q;
	char what[300];
	int rc;

	if ((rc = sq_prep(s, SQ_DOMAIN_GET, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, name);
	snprintf(what, sizeof(what), "domain %s", name);
	return sq_get_one(s, q, row_domain, &tmp, sizeof(tmp), domain_strs,
	    CP_NELEM(domain_strs), (void **)out, what, err);
}

/* Key rotation: the row keeps its id, tenant and mailboxes. */
int
sq_set_domain_key(cp_store *st, const cp_domain *d, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_DOMAIN_SET_KEY, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, d->name);
	sq_bind_text(q, 2, d->selector);
	sq_bind_text(q, 3, d->alg);
	sq_bind_text(q, 4, d->key_pem);
	sq_bind_text(q, 5, d->key_path);
	if ((rc = sq_exec_stmt(s, q, "domain key", err)) != CP_OK)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return cp_err_set(err, CP_ENOTFOUND, "store: domain %s: not "
		    "found", d->name);
	return CP_OK;
}

int
sq_remove_domain(cp_store *st, const char *name, int force, cp_err *err)
{
	sq_store *s = SQ(st);
	cp_domain tmp;
	sqlite3_stmt *q;
	int64_t nmb = 0;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = sq_prep(s, SQ_DOMAIN_GET, &q, err);
	if (rc == CP_OK) {
		int r;

		sq_bind_text(q, 1, name);
		r = sqlite3_step(q);
		if (r == SQLITE_ROW)
			row_domain(q, &tmp);
		else if (r == SQLITE_DONE)
			rc = cp_err_set(err, CP_ENOTFOUND, "store: domain %s: "
			    "not found", name);
		else
			rc = sq_fail(s, "domain", err);
		sqlite3_reset(q);
	}
	if (rc == CP_OK &&
	    (rc = sq_prep(s, SQ_DOMAIN_NMAILBOXES, &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, tmp.id);
		rc = sq_get_int(s, q, &nmb, err);
	}
	if (rc == CP_OK && nmb > 0 && !force)
		rc = cp_err_set(err, CP_EINVAL, "store: domain %s has %lld "
		    "mailbox%s: remove them first, or force", name,
		    (long long)nmb, nmb == 1 ? "" : "es");
	if (rc == CP_OK)
		rc = sq_run_key(s, SQ_DOMAIN_DEL_MAILBOXES, tmp.id, -1, err);
	if (rc == CP_OK)
		rc = sq_run_key(s, SQ_DOMAIN_DEL, tmp.id, -1, err);
	return sq_tx_end(s, rc, err);
}

static void
row_mailbox(sqlite3_stmt *q, void *rec)
{
	cp_mailbox *m = rec;

	m->id = sqlite3_column_int64(q, 0);
	m->tenant = sqlite3_column_int64(q, 1);
	m->domain = sqlite3_column_int64(q, 2);
	m->address = sq_text(q, 3);
	m->pwhash = sq_text(q, 4);
	m->tz = sq_text(q, 5);
	m->created = sqlite3_column_int64(q, 6);
	m->daily_cap = sqlite3_column_int(q, 7);
	m->send_as_domain = sqlite3_column_int(q, 8);
}

static const size_t mailbox_strs[] = { offsetof(cp_mailbox, address),
	offsetof(cp_mailbox, pwhash), offsetof(cp_mailbox, tz) };

static int
visit_mailbox(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_mailbox_cb)v->cb)(v->arg, rec);
}

int
sq_add_mailbox(cp_store *st, cp_mailbox *m, cp_err *err)
{
	sq_store *s = SQ(st);
	const char *dom = strrchr(m->address, '@') + 1;
	sqlite3_stmt *q;
	int64_t dtenant = 0, did = 0;
	int rc, r;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = sq_prep(s, SQ_DOMAIN_GET, &q, err);
	if (rc == CP_OK) {
		sq_bind_text(q, 1, dom);
		r = sqlite3_step(q);
		if (r == SQLITE_ROW) {
			did = sqlite3_column_int64(q, 0);
			dtenant = sqlite3_column_int64(q, 1);
		} else if (r == SQLITE_DONE) {
			rc = cp_err_set(err, CP_EINVAL, "store: mailbox %s: %s "
			    "is not a sending domain: add the domain first",
			    m->address, dom);
		} else {
			rc = sq_fail(s, "mailbox", err);
		}
		sqlite3_reset(q);
	}
	if (rc == CP_OK && dtenant != m->tenant)
		rc = cp_err_set(err, CP_EINVAL, "store: mailbox %s: domain %s "
		    "belongs to another tenant", m->address, dom);
	if (rc == CP_OK && (rc = sq_prep(s, SQ_MAILBOX_ADD, &q, err)) ==
	    CP_OK) {
		sqlite3_bind_int64(q, 1, m->tenant);
		sqlite3_bind_int64(q, 2, did);
		sq_bind_text(q, 3, m->address);
		sq_bind_text(q, 4, m->pwhash);
		sq_bind_text(q, 5, m->tz);
		sqlite3_bind_int64(q, 6, m->created);
		sqlite3_bind_int(q, 7, m->daily_cap);
		sqlite3_bind_int(q, 8, m->send_as_domain);
		rc = sq_insert(s, q, &m->id, "mailbox", m->address, err);
		m->domain = did;
	}
	return sq_tx_end(s, rc, err);
}

int
sq_list_mailboxes(cp_store *st, int64_t tenant, cp_mailbox_cb cb, void *arg,
    cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_mailbox tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_MAILBOX_LIST, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	return sq_list(s, q, row_mailbox, &tmp, visit_mailbox, &v, err);
}

int
sq_get_mailbox(cp_store *st, const char *address, cp_mailbox **out,
    cp_err *err)
{
	sq_store *s = SQ(st);
	cp_mailbox tmp;
	sqlite3_stmt *q;
	char what[300];
	int rc;

	if ((rc = sq_prep(s, SQ_MAILBOX_GET, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, address);
	snprintf(what, sizeof(what), "mailbox %s", address);
	return sq_get_one(s, q, row_mailbox, &tmp, sizeof(tmp), mailbox_strs,
	    CP_NELEM(mailbox_strs), (void **)out, what, err);
}

int
sq_remove_mailbox(cp_store *st, const char *address, cp_err *err)
{
	return sq_change_one(SQ(st), SQ_MAILBOX_DEL, address, "mailbox", err);
}

int
sq_set_pwhash(cp_store *st, const char *address, const char *hash,
    cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_MAILBOX_SET_PWHASH, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, address);
	sq_bind_text(q, 2, hash);
	if ((rc = sq_exec_stmt(s, q, "password", err)) != CP_OK)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return cp_err_set(err, CP_ENOTFOUND, "store: mailbox %s: not "
		    "found", address);
	return CP_OK;
}

