/*
 * sqlite_policy.c - the SQLite backend's sending-policy tables
 * (migrations/sqlite/0002_policy.sql): cap usage, provider pacing state
 * and events, suppressions.
 *
 * Taking a unit of a daily cap is one write transaction (BEGIN IMMEDIATE):
 * the read of the day's usage and its increment cannot interleave with
 * another process's, so two senders never both take the last unit.
 * Inputs were checked by store_policy.c.
 */
#include <stddef.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"

/* Already counted (1), not (0), or an error (< 0). */
static int
cap_counted(sq_store *s, const char *key, cp_err *err)
{
	sqlite3_stmt *q;
	int64_t one;
	int rc;

	if (key == NULL)
		return 0;
	if ((rc = sq_prep(s, SQ_CAP_COUNTED, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, key);
	rc = sq_get_int(s, q, &one, err);
	return rc == CP_OK ? 1 : rc == CP_ENOTFOUND ? 0 : rc;
}

static int
cap_used(sq_store *s, int64_t mailbox, int64_t day, int64_t *used,
    cp_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_CAP_USED, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, mailbox);
	sqlite3_bind_int64(q, 2, day);
	rc = sq_get_int(s, q, used, err);
	if (rc == CP_ENOTFOUND) {
		*used = 0;
		rc = CP_OK;
	}
	return rc;
}

static int
cap_count(sq_store *s, int64_t mailbox, int64_t day, const char *key,
    cp_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if (key != NULL) {
		if ((rc = sq_prep(s, SQ_CAP_MARK, &q, err)) != CP_OK)
			return rc;
		sq_bind_text(q, 1, key);
		sqlite3_bind_int64(q, 2, mailbox);
		sqlite3_bind_int64(q, 3, day);
		if ((rc = sq_exec_stmt(s, q, "cap key", err)) != CP_OK)
			return rc;
	}
	if ((rc = sq_prep(s, SQ_CAP_ADD, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, mailbox);
	sqlite3_bind_int64(q, 2, day);
	return sq_exec_stmt(s, q, "cap usage", err);
}

int
sq_take_cap(cp_store *st, int64_t mailbox, int64_t day, int64_t cap,
    const char *key, int *taken, int64_t *used, cp_err *err)
{
	sq_store *s = SQ(st);
	int rc, seen;

	*taken = 0;
	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	seen = cap_counted(s, key, err);
	rc = seen < 0 ? seen : cap_used(s, mailbox, day, used, err);
	if (rc == CP_OK && seen == 1) {
		*taken = 1;
	} else if (rc == CP_OK && (cap == 0 || *used < cap)) {
		rc = cap_count(s, mailbox, day, key, err);
		if (rc == CP_OK) {
			*taken = 1;
			(*used)++;
		}
	}
	rc = sq_tx_end(s, rc, err);
	if (rc != CP_OK)
		*taken = 0;
	return rc;
}

int
sq_get_cap_usage(cp_store *st, int64_t mailbox, int64_t day, int64_t *used,
    cp_err *err)
{
	return cap_used(SQ(st), mailbox, day, used, err);
}

int
sq_purge_cap_usage(cp_store *st, int64_t day, size_t *n, cp_err *err)
{
	sq_store *s = SQ(st);
	size_t total = 0;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = sq_run_key(s, SQ_CAP_PURGE_KEYS, day, -1, err);
	if (rc == CP_OK) {
		total += (size_t)sqlite3_changes(s->db);
		rc = sq_run_key(s, SQ_CAP_PURGE_DAYS, day, -1, err);
		total += rc == CP_OK ? (size_t)sqlite3_changes(s->db) : 0;
	}
	*n = total;
	return sq_tx_end(s, rc, err);
}

/* ---- provider pacing ---------------------------------------------------- */

static int
pevent_add(sq_store *s, cp_provider_event *e, cp_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_PEVENT_ADD, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, e->time);
	sq_bind_text(q, 2, e->source_ip);
	sq_bind_text(q, 3, e->provider);
	sq_bind_text(q, 4, e->kind);
	sqlite3_bind_int64(q, 5, e->rate_before);
	sqlite3_bind_int64(q, 6, e->rate_after);
	sqlite3_bind_int64(q, 7, e->until);
	sq_bind_text(q, 8, e->evidence);
	if ((rc = sq_exec_stmt(s, q, "provider event", err)) == CP_OK)
		e->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

int
sq_put_provider_state(cp_store *st, const cp_provider_state *ps,
    cp_provider_event *ev, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = sq_prep(s, SQ_PSTATE_PUT, &q, err);
	if (rc == CP_OK) {
		sq_bind_text(q, 1, ps->source_ip);
		sq_bind_text(q, 2, ps->provider);
		sqlite3_bind_int64(q, 3, ps->rate);
		sqlite3_bind_int64(q, 4, ps->ramp_from);
		sqlite3_bind_int64(q, 5, ps->paused_until);
		sqlite3_bind_int64(q, 6, ps->cuts);
		sqlite3_bind_int64(q, 7, ps->updated);
		rc = sq_exec_stmt(s, q, "provider state", err);
	}
	if (rc == CP_OK && ev != NULL)
		rc = pevent_add(s, ev, err);
	return sq_tx_end(s, rc, err);
}

typedef void (*any_fn)(void);
struct visit {
	any_fn cb;
	void *arg;
};

static void
row_pstate(sqlite3_stmt *q, void *rec)
{
	cp_provider_state *p = rec;

	p->source_ip = sq_text(q, 0);
	p->provider = sq_text(q, 1);
	p->rate = sqlite3_column_int64(q, 2);
	p->ramp_from = sqlite3_column_int64(q, 3);
	p->paused_until = sqlite3_column_int64(q, 4);
	p->cuts = sqlite3_column_int64(q, 5);
	p->updated = sqlite3_column_int64(q, 6);
}

static int
visit_pstate(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_provider_state_cb)v->cb)(v->arg, rec);
}

int
sq_list_provider_states(cp_store *st, cp_provider_state_cb cb, void *arg,
    cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_provider_state tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_PSTATE_LIST, &q, err)) != CP_OK)
		return rc;
	return sq_list(s, q, row_pstate, &tmp, visit_pstate, &v, err);
}

static void
row_pevent(sqlite3_stmt *q, void *rec)
{
	cp_provider_event *e = rec;

	e->id = sqlite3_column_int64(q, 0);
	e->time = sqlite3_column_int64(q, 1);
	e->source_ip = sq_text(q, 2);
	e->provider = sq_text(q, 3);
	e->kind = sq_text(q, 4);
	e->rate_before = sqlite3_column_int64(q, 5);
	e->rate_after = sqlite3_column_int64(q, 6);
	e->until = sqlite3_column_int64(q, 7);
	e->evidence = sq_text(q, 8);
}

static int
visit_pevent(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_provider_event_cb)v->cb)(v->arg, rec);
}

int
sq_list_provider_events(cp_store *st, int64_t since, size_t limit,
    cp_provider_event_cb cb, void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_provider_event tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_PEVENT_LIST, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, since);
	sqlite3_bind_int64(q, 2, limit ? (int64_t)limit : -1);
	return sq_list(s, q, row_pevent, &tmp, visit_pevent, &v, err);
}

/* ---- suppressions ------------------------------------------------------- */

static void
row_supp(sqlite3_stmt *q, void *rec)
{
	cp_suppression *p = rec;

	p->tenant = sqlite3_column_int64(q, 0);
	p->address = sq_text(q, 1);
	p->reason = sq_text(q, 2);
	p->note = sq_text(q, 3);
	p->created = sqlite3_column_int64(q, 4);
}

static const size_t supp_strs[] = { offsetof(cp_suppression, address),
	offsetof(cp_suppression, reason), offsetof(cp_suppression, note) };

static int
visit_supp(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_suppression_cb)v->cb)(v->arg, rec);
}

int
sq_add_suppression(cp_store *st, const cp_suppression *sp, int *added,
    cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_SUPP_ADD, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, sp->tenant);
	sq_bind_text(q, 2, sp->address);
	sq_bind_text(q, 3, sp->reason);
	sq_bind_text(q, 4, sp->note);
	sqlite3_bind_int64(q, 5, sp->created);
	rc = sq_exec_stmt(s, q, "suppression", err);
	*added = rc == CP_OK && sqlite3_changes(s->db) > 0;
	return rc;
}

int
sq_remove_suppression(cp_store *st, int64_t tenant, const char *address,
    cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_SUPP_DEL, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	sq_bind_text(q, 2, address);
	if ((rc = sq_exec_stmt(s, q, "suppression", err)) != CP_OK)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return cp_err_set(err, CP_ENOTFOUND, "store: %s is not "
		    "suppressed", address);
	return CP_OK;
}

int
sq_get_suppression(cp_store *st, int64_t tenant, const char *address,
    cp_suppression **out, cp_err *err)
{
	sq_store *s = SQ(st);
	cp_suppression tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_SUPP_GET, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	sq_bind_text(q, 2, address);
	return sq_get_one(s, q, row_supp, &tmp, sizeof(tmp), supp_strs,
	    sizeof(supp_strs) / sizeof(supp_strs[0]), (void **)out,
	    "suppression", err);
}

int
sq_list_suppressions(cp_store *st, int64_t tenant, cp_suppression_cb cb,
    void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_suppression tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_SUPP_LIST, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	return sq_list(s, q, row_supp, &tmp, visit_supp, &v, err);
}
