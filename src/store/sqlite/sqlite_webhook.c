/*
 * sqlite_webhook.c - the SQLite backend's webhook tables
 * (migrations/sqlite/0003_webhooks.sql): endpoints and the outbox.
 *
 * Fan-out is one INSERT ... SELECT over the tenant's endpoints whose
 * filter names the event, so an event reaches all of them or none. A
 * claim selects due rows and leases them in one write transaction, as
 * sq_claim_due does for recipients: the lease sets next_attempt to its
 * end, so a crashed sender's rows are due again without anyone's help.
 * Inputs were checked by store_webhook.c.
 */
#include <stddef.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "store/sqlite/sqlite_int.h"

typedef void (*any_fn)(void);
struct visit {
	any_fn cb;
	void *arg;
};

/* ---- endpoints ---------------------------------------------------------- */

static void
row_webhook(sqlite3_stmt *q, void *rec)
{
	cp_webhook_endpoint *w = rec;

	w->id = sqlite3_column_int64(q, 0);
	w->tenant = sqlite3_column_int64(q, 1);
	w->url = sq_text(q, 2);
	w->secret = sq_text(q, 3);
	w->events = sq_text(q, 4);
	w->created = sqlite3_column_int64(q, 5);
}

static const size_t webhook_strs[] = {
	offsetof(cp_webhook_endpoint, url),
	offsetof(cp_webhook_endpoint, secret),
	offsetof(cp_webhook_endpoint, events),
};

static int
visit_webhook(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_webhook_endpoint_cb)v->cb)(v->arg, rec);
}

int
sq_add_webhook(cp_store *st, cp_webhook_endpoint *w, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int64_t one;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = sq_prep(s, SQ_WH_TENANT, &q, err);
	if (rc == CP_OK) {
		sqlite3_bind_int64(q, 1, w->tenant);
		rc = sq_get_int(s, q, &one, err);
		if (rc == CP_ENOTFOUND)
			rc = cp_err_set(err, CP_ENOTFOUND, "store: webhook: "
			    "tenant %lld does not exist", (long long)w->tenant);
	}
	if (rc == CP_OK)
		rc = sq_prep(s, SQ_WH_ADD, &q, err);
	if (rc == CP_OK) {
		sqlite3_bind_int64(q, 1, w->tenant);
		sq_bind_text(q, 2, w->url);
		sq_bind_text(q, 3, w->secret);
		sq_bind_text(q, 4, w->events);
		sqlite3_bind_int64(q, 5, w->created);
		rc = sq_exec_stmt(s, q, "webhook", err);
		if (rc == CP_OK)
			w->id = sqlite3_last_insert_rowid(s->db);
	}
	return sq_tx_end(s, rc, err);
}

int
sq_list_webhooks(cp_store *st, int64_t tenant, cp_webhook_endpoint_cb cb,
    void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_webhook_endpoint tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_WH_LIST, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	return sq_list(s, q, row_webhook, &tmp, visit_webhook, &v, err);
}

int
sq_get_webhook(cp_store *st, int64_t id, cp_webhook_endpoint **out,
    cp_err *err)
{
	sq_store *s = SQ(st);
	cp_webhook_endpoint tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_WH_GET, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, id);
	return sq_get_one(s, q, row_webhook, &tmp, sizeof(tmp), webhook_strs,
	    sizeof(webhook_strs) / sizeof(webhook_strs[0]), (void **)out,
	    "webhook", err);
}

int
sq_remove_webhook(cp_store *st, int64_t tenant, int64_t id, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = sq_prep(s, SQ_WH_DEL, &q, err);
	if (rc == CP_OK) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, tenant);
		rc = sq_exec_stmt(s, q, "webhook", err);
	}
	if (rc == CP_OK && sqlite3_changes(s->db) == 0)
		rc = cp_err_set(err, CP_ENOTFOUND, "store: webhook %lld: not "
		    "found", (long long)id);
	if (rc == CP_OK)
		rc = sq_run_key(s, SQ_WH_DEL_OUTBOX, id, -1, err);
	return sq_tx_end(s, rc, err);
}

/* ---- the outbox ----------------------------------------------------------- */

static void
row_delivery(sqlite3_stmt *q, void *rec)
{
	cp_webhook_delivery *d = rec;

	d->id = sqlite3_column_int64(q, 0);
	d->webhook = sqlite3_column_int64(q, 1);
	d->tenant = sqlite3_column_int64(q, 2);
	d->url = sq_text(q, 3);
	d->secret = sq_text(q, 4);
	d->event = sq_text(q, 5);
	d->payload = sq_text(q, 6);
	d->created = sqlite3_column_int64(q, 7);
	d->attempts = sqlite3_column_int(q, 8);
	d->next_attempt = sqlite3_column_int64(q, 9);
	d->last_error = sq_text(q, 10);
	d->dead = sqlite3_column_int(q, 11);
}

static const size_t delivery_strs[] = {
	offsetof(cp_webhook_delivery, url),
	offsetof(cp_webhook_delivery, secret),
	offsetof(cp_webhook_delivery, event),
	offsetof(cp_webhook_delivery, payload),
	offsetof(cp_webhook_delivery, last_error),
};

static int
visit_delivery(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_webhook_delivery_cb)v->cb)(v->arg, rec);
}

int
sq_enqueue_webhook_event(cp_store *st, int64_t tenant, const char *event,
    const char *payload, int64_t now, size_t *n, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_WH_ENQUEUE, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	sq_bind_text(q, 2, event);
	sq_bind_text(q, 3, payload);
	sqlite3_bind_int64(q, 4, now);
	rc = sq_exec_stmt(s, q, "webhook outbox", err);
	*n = rc == CP_OK ? (size_t)sqlite3_changes(s->db) : 0;
	return rc;
}

/* Rows collected by a claim: one allocation each (store_rec_dup). */
typedef struct claim_acc {
	cp_webhook_delivery_list *l;
	size_t cap;
	int rc;
} claim_acc;

static int
claim_keep(void *ctx, const void *rec)
{
	claim_acc *a = ctx;
	cp_webhook_delivery_list *l = a->l;
	void **recs = l->mem_, *copy;

	if (l->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		cp_webhook_delivery *v = cp_realloc(l->v, cap * sizeof(*v));

		if (v != NULL)
			l->v = v;
		recs = v ? cp_realloc(recs, cap * sizeof(*recs)) : NULL;
		if (recs == NULL) {
			a->rc = CP_ENOMEM;
			return 1;
		}
		l->mem_ = recs;
		a->cap = cap;
	}
	copy = store_rec_dup(rec, sizeof(cp_webhook_delivery), delivery_strs,
	    sizeof(delivery_strs) / sizeof(delivery_strs[0]));
	if (copy == NULL) {
		a->rc = CP_ENOMEM;
		return 1;
	}
	recs[l->n] = copy;
	l->v[l->n++] = *(cp_webhook_delivery *)copy;
	return 0;
}

static int
claim_lease(sq_store *s, cp_webhook_delivery_list *l, const char *node,
    int64_t until, cp_err *err)
{
	sqlite3_stmt *q;
	int rc = CP_OK;

	for (size_t i = 0; i < l->n && rc == CP_OK; i++) {
		if ((rc = sq_prep(s, SQ_WH_CLAIM_UPDATE, &q, err)) != CP_OK)
			break;
		sqlite3_bind_int64(q, 1, l->v[i].id);
		sq_bind_text(q, 2, node);
		sqlite3_bind_int64(q, 3, until);
		rc = sq_exec_stmt(s, q, "webhook claim", err);
		l->v[i].next_attempt = until;
	}
	return rc;
}

/* Is anything due at all? 1, 0, or an error (< 0). A read only. */
static int
claim_any_due(sq_store *s, int64_t now, cp_err *err)
{
	sqlite3_stmt *q;
	int rc, r;

	if (s->base.in_batch)
		return 1; /* a batch is a write transaction already */
	if ((rc = sq_prep(s, SQ_WH_CLAIM_SELECT, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, 1);
	r = sqlite3_step(q);
	rc = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 :
	    sq_fail(s, "webhook claim", err);
	sqlite3_reset(q);
	return rc;
}

int
sq_claim_webhooks(cp_store *st, int64_t now, const char *node, int lease_s,
    size_t max, cp_webhook_delivery_list **out, cp_err *err)
{
	sq_store *s = SQ(st);
	claim_acc acc = { NULL, 0, CP_OK };
	cp_webhook_delivery tmp;
	sqlite3_stmt *q;
	int rc;

	if ((acc.l = cp_calloc(1, sizeof(*acc.l))) == NULL)
		return cp_err_set(err, CP_ENOMEM, "store: out of memory");
	/* the sender polls: nothing due must cost no write transaction */
	if ((rc = claim_any_due(s, now, err)) != 1) {
		if (rc == 0) {
			*out = acc.l;
			return CP_OK;
		}
		cp_free(acc.l);
		return rc;
	}
	if ((rc = sq_tx_begin(s, err)) != CP_OK) {
		cp_free(acc.l);
		return rc;
	}
	rc = sq_prep(s, SQ_WH_CLAIM_SELECT, &q, err);
	if (rc == CP_OK) {
		sqlite3_bind_int64(q, 1, now);
		sqlite3_bind_int64(q, 2, (int64_t)max);
		rc = sq_list(s, q, row_delivery, &tmp, claim_keep, &acc, err);
	}
	if (rc == CP_OK && acc.rc != CP_OK)
		rc = cp_err_set(err, acc.rc, "store: webhook claim: out of "
		    "memory");
	if (rc == CP_OK)
		rc = claim_lease(s, acc.l, node, now + lease_s, err);
	rc = sq_tx_end(s, rc, err);
	if (rc != CP_OK) {
		cp_webhook_delivery_list_free(acc.l);
		return rc;
	}
	*out = acc.l;
	return CP_OK;
}

int
sq_release_webhooks(cp_store *st, const char *node, int64_t now, size_t *n,
    cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_WH_RELEASE, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, node);
	sqlite3_bind_int64(q, 2, now);
	rc = sq_exec_stmt(s, q, "webhook release", err);
	*n = rc == CP_OK ? (size_t)sqlite3_changes(s->db) : 0;
	return rc;
}

int
sq_finish_webhook(cp_store *st, int64_t id, cp_err *err)
{
	sq_store *s = SQ(st);
	int rc = sq_run_key(s, SQ_WH_FINISH, id, -1, err);

	if (rc == CP_OK && sqlite3_changes(s->db) == 0)
		rc = cp_err_set(err, CP_ENOTFOUND, "store: webhook delivery "
		    "%lld: not found", (long long)id);
	return rc;
}

int
sq_retry_webhook(cp_store *st, int64_t id, int64_t next_attempt,
    const char *error, int dead, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_WH_RETRY, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, next_attempt);
	sq_bind_text(q, 3, error);
	sqlite3_bind_int(q, 4, dead);
	rc = sq_exec_stmt(s, q, "webhook retry", err);
	if (rc == CP_OK && sqlite3_changes(s->db) == 0)
		rc = cp_err_set(err, CP_ENOTFOUND, "store: webhook delivery "
		    "%lld: not found", (long long)id);
	return rc;
}

int
sq_list_webhook_deliveries(cp_store *st, int64_t webhook, int dead,
    size_t limit, cp_webhook_delivery_cb cb, void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_webhook_delivery tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_WH_OUTBOX_LIST, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, webhook);
	sqlite3_bind_int(q, 2, dead);
	sqlite3_bind_int64(q, 3, limit ? (int64_t)limit : -1);
	return sq_list(s, q, row_delivery, &tmp, visit_delivery, &v, err);
}

int
sq_count_webhook_deliveries(cp_store *st, int64_t webhook, int64_t *live,
    int64_t *dead, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc, r;

	if ((rc = sq_prep(s, SQ_WH_OUTBOX_COUNT, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, webhook);
	*live = *dead = 0;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_int(q, 0))
			*dead = sqlite3_column_int64(q, 1);
		else
			*live = sqlite3_column_int64(q, 1);
	}
	if (r != SQLITE_DONE)
		rc = sq_fail(s, "webhook count", err);
	sqlite3_reset(q);
	return rc;
}
