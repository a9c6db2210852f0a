/*
 * sqlite_queue.c - the SQLite backend's queue: messages with their bodies
 * and recipients, claims with leases, attempts and their outcomes,
 * operator commands, listings, retention and expiry.
 *
 * A message goes in as one transaction (envelope, body, every recipient).
 * Claims pick due rows through the partial index recipients_due in
 * next_attempt order and lease them (sqlite_sql.c says how a lease runs
 * out by itself). Every call reads only what it returns: a bounded batch
 * or one row at a time to a callback, so the queue's size never becomes
 * the process's memory. messages.nopen counts the recipients not final
 * yet; when it reaches 0 the message is finished, and its body may be
 * purged after the retention time.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "store/sqlite/sqlite_int.h"

/* Columns RCPT_COLS of sqlite_sql.c, from col on. */
static void
row_rcpt_at(sqlite3_stmt *q, int c, cp_rcpt *r)
{
	r->id = sqlite3_column_int64(q, c + 0);
	r->message = sqlite3_column_int64(q, c + 1);
	r->address = sq_text(q, c + 2);
	r->state = sqlite3_column_int(q, c + 3);
	r->attempts = sqlite3_column_int(q, c + 4);
	r->next_attempt = sqlite3_column_int64(q, c + 5);
	r->expires = sqlite3_column_int64(q, c + 6);
	r->updated = sqlite3_column_int64(q, c + 7);
	r->owner = sq_text(q, c + 8);
	r->lease_until = sqlite3_column_int64(q, c + 9);
	r->last_reply = sq_text(q, c + 10);
	r->last_code = sqlite3_column_int(q, c + 11);
	r->last_enhanced = sq_text(q, c + 12);
	r->last_cause = sq_text(q, c + 13);
	r->last_reason = sq_text(q, c + 14);
	r->last_receiver = sq_text(q, c + 15);
}

static void
row_rcpt(sqlite3_stmt *q, void *rec)
{
	row_rcpt_at(q, 0, rec);
}

/* DUE_COLS */
static void
row_due(sqlite3_stmt *q, cp_due *d)
{
	row_rcpt_at(q, 0, &d->rcpt);
	d->tenant = sqlite3_column_int64(q, 16);
	d->mailbox = sqlite3_column_int64(q, 17);
	d->mail_from = sq_text(q, 18);
	d->return_path = sq_text(q, 19);
	d->message_id = sq_text(q, 20);
	d->size = sqlite3_column_int64(q, 21);
	d->received = sqlite3_column_int64(q, 22);
}

static sqlite3_int64
sq_limit(size_t limit)
{
	return limit == 0 ? -1 : (sqlite3_int64)limit;
}

/* Bind a receiver's reply, cut at CP_STORE_REPLY_MAX on a UTF-8 boundary. */
static void
bind_reply(sqlite3_stmt *q, int col, const char *reply)
{
	size_t len = strnlen(reply, CP_STORE_REPLY_MAX + 1);

	if (len > CP_STORE_REPLY_MAX) {
		len = CP_STORE_REPLY_MAX;
		while (len > 0 && ((unsigned char)reply[len] & 0xc0) == 0x80)
			len--;
	}
	sqlite3_bind_text(q, col, reply, (int)len, SQLITE_STATIC);
}

int
sq_insert_message(cp_store *st, cp_envelope *env, const void *body,
    size_t len, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int64_t id = 0;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	if ((rc = sq_prep(s, SQ_MSG_INSERT, &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, env->tenant);
		sqlite3_bind_int64(q, 2, env->mailbox);
		sq_bind_text(q, 3, env->mail_from);
		sq_bind_text(q, 4, env->return_path);
		sq_bind_text(q, 5, env->message_id);
		sqlite3_bind_int64(q, 6, env->size);
		sqlite3_bind_int64(q, 7, env->received);
		sqlite3_bind_int64(q, 8, env->expires);
		sqlite3_bind_int64(q, 9, (sqlite3_int64)env->nrcpts);
		rc = sq_exec_stmt(s, q, "insert message", err);
		id = sqlite3_last_insert_rowid(s->db);
	}
	if (rc == CP_OK && (rc = sq_prep(s, SQ_BODY_INSERT, &q, err)) ==
	    CP_OK) {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_blob64(q, 2, body ? body : "", len, SQLITE_STATIC);
		rc = sq_exec_stmt(s, q, "insert body", err);
	}
	if (rc == CP_OK)
		rc = sq_prep(s, SQ_RCPT_INSERT, &q, err);
	for (size_t i = 0; rc == CP_OK && i < env->nrcpts; i++) {
		sqlite3_bind_int64(q, 1, id);
		sq_bind_text(q, 2, env->rcpts[i]);
		sqlite3_bind_int(q, 3, env->hold ? CP_RCPT_HELD : CP_RCPT_QUEUED);
		sqlite3_bind_int64(q, 4, env->received);
		sqlite3_bind_int64(q, 5, env->expires);
		/* A lease in flight: next_attempt = lease_until, as a claim
		 * sets it, so the row is due again when the lease runs out. */
		if (env->lease_node != NULL && !env->hold) {
			sq_bind_text(q, 6, env->lease_node);
			sqlite3_bind_int64(q, 7, env->lease_until);
		} else {
			sqlite3_bind_null(q, 6);
			sqlite3_bind_null(q, 7);
		}
		rc = sq_exec_stmt(s, q, "insert recipient", err);
		if (rc == CP_OK && env->rcpt_ids != NULL)
			env->rcpt_ids[i] = sqlite3_last_insert_rowid(s->db);
	}
	rc = sq_tx_end(s, rc, err);
	if (rc == CP_OK)
		env->id = id;
	return rc;
}

/* Rows of q (bound, DUE_COLS) into b, resets q. state >= 0: the rows
 * get that state and no lease; else owner and lease_until. */
static int
collect_due(sq_store *s, sqlite3_stmt *q, store_due_builder *b,
    const char *owner, int64_t lease_until, int state, cp_err *err)
{
	int r = SQLITE_DONE, rc = CP_OK;

	while (rc == CP_OK && (r = sqlite3_step(q)) == SQLITE_ROW) {
		cp_due d;

		row_due(q, &d);
		if (state >= 0) {
			d.rcpt.state = state;
			d.rcpt.owner = NULL;
			d.rcpt.lease_until = 0;
		} else {
			d.rcpt.owner = owner;
			d.rcpt.lease_until = lease_until;
		}
		if (store_due_builder_add(b, &d) != CP_OK)
			rc = cp_err_set(err, CP_ENOMEM, "store: out of memory");
	}
	if (rc == CP_OK && r != SQLITE_DONE)
		rc = sq_fail(s, "select due", err);
	sqlite3_reset(q);
	return rc;
}

int
sq_claim_due(cp_store *st, int64_t now, const char *node, int lease_s,
    size_t max, cp_due_list **out, cp_err *err)
{
	sq_store *s = SQ(st);
	store_due_builder b;
	sqlite3_stmt *q;
	int64_t until = now + lease_s;
	int rc;

	store_due_builder_init(&b);
	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	if ((rc = sq_prep(s, SQ_CLAIM_SELECT, &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, now);
		sqlite3_bind_int64(q, 2, (sqlite3_int64)max);
		rc = collect_due(s, q, &b, node, until, -1, err);
	}
	if (rc == CP_OK)
		rc = sq_prep(s, SQ_CLAIM_UPDATE, &q, err);
	for (size_t i = 0; rc == CP_OK && i < b.n; i++) {
		sqlite3_bind_int64(q, 1, b.v[i].rcpt.id);
		sq_bind_text(q, 2, node);
		sqlite3_bind_int64(q, 3, until);
		rc = sq_exec_stmt(s, q, "claim", err);
	}
	rc = sq_tx_end(s, rc, err);
	if (rc == CP_OK && (*out = store_due_builder_finish(&b)) == NULL)
		rc = cp_err_set(err, CP_ENOMEM, "store: out of memory");
	store_due_builder_clear(&b);
	return rc;
}

int
sq_release_node(cp_store *st, const char *node, int64_t now, size_t *n,
    cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	*n = 0;
	if ((rc = sq_prep(s, SQ_RELEASE_NODE, &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, node);
	sqlite3_bind_int64(q, 2, now);
	if ((rc = sq_exec_stmt(s, q, "release leases", err)) == CP_OK)
		*n = (size_t)sqlite3_changes(s->db);
	return rc;
}

static int
recount(sq_store *s, int64_t message, int64_t now, cp_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, SQ_MSG_RECOUNT, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, message);
	sqlite3_bind_int64(q, 2, now);
	return sq_exec_stmt(s, q, "recount", err);
}

/* The state and message of recipient id; CP_ENOTFOUND with a message. */
static int
rcpt_state(sq_store *s, int64_t id, int *state, int64_t *message,
    cp_err *err)
{
	sqlite3_stmt *q;
	int rc, r;

	if ((rc = sq_prep(s, SQ_RCPT_STATE, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, id);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		*state = sqlite3_column_int(q, 0);
		*message = sqlite3_column_int64(q, 1);
	} else if (r == SQLITE_DONE) {
		rc = cp_err_set(err, CP_ENOTFOUND, "store: recipient %lld: not "
		    "found", (long long)id);
	} else {
		rc = sq_fail(s, "recipient", err);
	}
	sqlite3_reset(q);
	return rc;
}

/* Does an outcome replace the state a recipient has now (store.h)? */
static int
outcome_applies(int cur, int outcome)
{
	switch (outcome) {
	case CP_RCPT_DELIVERED:
	case CP_RCPT_BOUNCED:
		return cur != CP_RCPT_DELIVERED && cur != CP_RCPT_BOUNCED;
	case CP_RCPT_DEFERRED:
		return cur == CP_RCPT_QUEUED || cur == CP_RCPT_DEFERRED;
	case CP_RCPT_EXPIRED:
		return cur <= CP_RCPT_HELD;
	default:
		return 0;
	}
}

static int
record_one(sq_store *s, const char *node, cp_attempt *a, cp_err *err)
{
	sqlite3_stmt *q;
	int64_t message = 0;
	int cur = 0, applies, rc;

	if ((rc = rcpt_state(s, a->rcpt, &cur, &message, err)) != CP_OK)
		return rc;
	if ((rc = sq_prep(s, SQ_ATTEMPT_INSERT, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, a->rcpt);
	sqlite3_bind_int64(q, 2, a->time);
	sq_bind_text(q, 3, a->mx);
	sq_bind_text(q, 4, a->source_ip);
	bind_reply(q, 5, a->reply);
	sqlite3_bind_int(q, 6, a->code);
	sq_bind_text(q, 7, a->enhanced);
	sq_bind_text(q, 8, a->cause);
	sq_bind_text(q, 9, a->reason);
	sq_bind_text(q, 10, a->receiver);
	sqlite3_bind_int64(q, 11, a->duration_ms);
	sqlite3_bind_int(q, 12, a->outcome);
	if ((rc = sq_exec_stmt(s, q, "insert attempt", err)) != CP_OK)
		return rc;
	a->id = sqlite3_last_insert_rowid(s->db);
	a->message = message;
	applies = outcome_applies(cur, a->outcome);
	if ((rc = sq_prep(s, SQ_RCPT_RECORD, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, a->rcpt);
	sqlite3_bind_int(q, 2, a->outcome);
	sqlite3_bind_int64(q, 3, a->next_attempt);
	sqlite3_bind_int64(q, 4, a->time);
	sq_bind_text(q, 5, node);
	bind_reply(q, 6, a->reply);
	sqlite3_bind_int(q, 7, a->code);
	sq_bind_text(q, 8, a->enhanced);
	sq_bind_text(q, 9, a->cause);
	sq_bind_text(q, 10, a->reason);
	sq_bind_text(q, 11, a->receiver);
	sqlite3_bind_int(q, 12, applies);
	if ((rc = sq_exec_stmt(s, q, "record attempt", err)) != CP_OK)
		return rc;
	if (applies && !cp_rcpt_state_final(cur) &&
	    cp_rcpt_state_final(a->outcome))
		rc = recount(s, message, a->time, err);
	return rc;
}

int
sq_record_attempts(cp_store *st, const char *node, cp_attempt *v, size_t n,
    cp_err *err)
{
	sq_store *s = SQ(st);
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	for (size_t i = 0; rc == CP_OK && i < n; i++)
		rc = record_one(s, node, &v[i], err);
	return sq_tx_end(s, rc, err);
}

int
sq_change(cp_store *st, int what, const cp_target *t, int64_t now,
    size_t *n, cp_err *err)
{
	static const sq_stmt_id by_msg[] = { [STORE_HOLD] = SQ_HOLD_MSG,
		[STORE_RELEASE] = SQ_RELEASE_MSG, [STORE_CANCEL] = SQ_CANCEL_MSG,
		[STORE_RETRY] = SQ_RETRY_MSG };
	static const sq_stmt_id by_rcpt[] = { [STORE_HOLD] = SQ_HOLD_RCPT,
		[STORE_RELEASE] = SQ_RELEASE_RCPT,
		[STORE_CANCEL] = SQ_CANCEL_RCPT, [STORE_RETRY] = SQ_RETRY_RCPT };
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int64_t message = t->message, found = 0;
	int state, rc;

	*n = 0;
	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	if (t->rcpt) {
		rc = rcpt_state(s, t->rcpt, &state, &message, err);
	} else if ((rc = sq_prep(s, SQ_MSG_EXISTS, &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, t->message);
		rc = sq_get_int(s, q, &found, err);
		if (rc == CP_ENOTFOUND)
			cp_err_set(err, rc, "store: message %lld: not found",
			    (long long)t->message);
	}
	if (rc == CP_OK && (rc = sq_prep(s, t->rcpt ? by_rcpt[what] :
	    by_msg[what], &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, t->rcpt ? t->rcpt : t->message);
		sqlite3_bind_int64(q, 2, now);
		rc = sq_exec_stmt(s, q, "change", err);
		if (rc == CP_OK)
			*n = (size_t)sqlite3_changes(s->db);
	}
	if (rc == CP_OK && what == STORE_CANCEL && *n > 0)
		rc = recount(s, message, now, err);
	rc = sq_tx_end(s, rc, err);
	if (rc != CP_OK)
		*n = 0;
	return rc;
}

void
sq_row_message(sqlite3_stmt *q, void *rec)
{
	cp_envelope *e = rec;

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(q, 0);
	e->tenant = sqlite3_column_int64(q, 1);
	e->mailbox = sqlite3_column_int64(q, 2);
	e->mail_from = sq_text(q, 3);
	e->return_path = sq_text(q, 4);
	e->message_id = sq_text(q, 5);
	e->size = sqlite3_column_int64(q, 6);
	e->received = sqlite3_column_int64(q, 7);
	e->expires = sqlite3_column_int64(q, 8);
	e->nrcpts = (size_t)sqlite3_column_int64(q, 9);
	e->nopen = sqlite3_column_int64(q, 10);
	e->finished = sqlite3_column_int64(q, 11);
	e->body_purged = sqlite3_column_int(q, 12);
}

int
sq_get_message(cp_store *st, int64_t id, cp_envelope **out, cp_err *err)
{
	static const size_t strs[] = { offsetof(cp_envelope, mail_from),
		offsetof(cp_envelope, return_path),
		offsetof(cp_envelope, message_id) };
	sq_store *s = SQ(st);
	cp_envelope tmp;
	sqlite3_stmt *q;
	char what[64];
	int rc;

	if ((rc = sq_prep(s, SQ_MSG_GET, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, id);
	snprintf(what, sizeof(what), "message %lld", (long long)id);
	return sq_get_one(s, q, sq_row_message, &tmp, sizeof(tmp), strs,
	    CP_NELEM(strs), (void **)out, what, err);
}

/* A typed callback and its argument; called back through its own type. */
typedef void (*any_fn)(void);
struct visit {
	any_fn cb;
	void *arg;
};

static int
visit_rcpt(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_rcpt_cb)v->cb)(v->arg, rec);
}

int
sq_list_queue(cp_store *st, const cp_queue_filter *f, cp_rcpt_cb cb,
    void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_rcpt tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, f->message ? SQ_QUEUE_BY_MSG : SQ_QUEUE_ALL, &q,
	    err)) != CP_OK)
		return rc;
	if (f->message)
		sqlite3_bind_int64(q, 1, f->message);
	sqlite3_bind_int64(q, 2, f->after);
	sqlite3_bind_int(q, 3, f->state);
	sqlite3_bind_int64(q, 4, sq_limit(f->limit));
	sqlite3_bind_int64(q, 5, f->tenant);
	return sq_list(s, q, row_rcpt, &tmp, visit_rcpt, &v, err);
}

int
sq_count_queue(cp_store *st, int64_t tenant, int64_t now,
    cp_queue_counts *out, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc, r;

	if ((rc = sq_prep(s, SQ_COUNT_STATES, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		int state = sqlite3_column_int(q, 0);

		if (state >= 0 && state < CP_RCPT_NSTATES)
			out->state[state] = sqlite3_column_int64(q, 1);
	}
	if (r != SQLITE_DONE)
		rc = sq_fail(s, "count", err);
	sqlite3_reset(q);
	if (rc == CP_OK && (rc = sq_prep(s, SQ_COUNT_DUE, &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, tenant);
		sqlite3_bind_int64(q, 2, now);
		rc = sq_get_int(s, q, &out->due, err);
	}
	if (rc == CP_OK &&
	    (rc = sq_prep(s, SQ_COUNT_INFLIGHT, &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, tenant);
		sqlite3_bind_int64(q, 2, now);
		rc = sq_get_int(s, q, &out->inflight, err);
	}
	return rc;
}

static void
row_attempt(sqlite3_stmt *q, void *rec)
{
	cp_attempt *a = rec;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(q, 0);
	a->rcpt = sqlite3_column_int64(q, 1);
	a->message = sqlite3_column_int64(q, 2);
	a->time = sqlite3_column_int64(q, 3);
	a->mx = sq_text(q, 4);
	a->source_ip = sq_text(q, 5);
	a->reply = sq_text(q, 6);
	a->code = sqlite3_column_int(q, 7);
	a->enhanced = sq_text(q, 8);
	a->cause = sq_text(q, 9);
	a->reason = sq_text(q, 10);
	a->receiver = sq_text(q, 11);
	a->duration_ms = sqlite3_column_int64(q, 12);
	a->outcome = sqlite3_column_int(q, 13);
}

static int
visit_attempt(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_attempt_cb)v->cb)(v->arg, rec);
}

int
sq_list_attempts(cp_store *st, int64_t rcpt, int64_t message, int64_t since,
    size_t limit, cp_attempt_cb cb, void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_attempt tmp;
	sqlite3_stmt *q;
	sq_stmt_id id = rcpt ? SQ_ATTEMPTS_RCPT : message ? SQ_ATTEMPTS_MSG :
	    SQ_ATTEMPTS_SINCE;
	int rc;

	if ((rc = sq_prep(s, id, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, rcpt ? rcpt : message ? message : since);
	sqlite3_bind_int64(q, 2, sq_limit(limit));
	return sq_list(s, q, row_attempt, &tmp, visit_attempt, &v, err);
}

int
sq_count_attempts(cp_store *st, int64_t since, cp_cause_count_cb cb,
    void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc, r;

	if ((rc = sq_prep(s, SQ_ATTEMPTS_COUNT, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, since);
	while ((r = sqlite3_step(q)) == SQLITE_ROW)
		if (cb(arg, sq_text(q, 0), sqlite3_column_int(q, 1),
		    sqlite3_column_int64(q, 2)) != 0)
			break;
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = sq_fail(s, "count attempts", err);
	sqlite3_reset(q);
	return rc;
}

int
sq_read_body(cp_store *st, int64_t message, uint64_t offset, void *buf,
    size_t len, size_t *got, uint64_t *total, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_blob *b = NULL;
	uint64_t size;
	size_t n;
	int rc = CP_OK;

	if (sqlite3_blob_open(s->db, "main", "bodies", "data", message, 0,
	    &b) != SQLITE_OK) {
		if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_ERROR)
			rc = cp_err_set(err, CP_ENOTFOUND, "store: message "
			    "%lld: no body (unknown, or purged)",
			    (long long)message);
		else
			rc = sq_fail(s, "body", err);
		sqlite3_blob_close(b);
		return rc;
	}
	size = (uint64_t)sqlite3_blob_bytes(b);
	*total = size;
	n = offset >= size ? 0 : (size_t)CP_MIN((uint64_t)len, size - offset);
	if (n > 0 && sqlite3_blob_read(b, buf, (int)n, (int)offset) !=
	    SQLITE_OK)
		rc = sq_fail(s, "body", err);
	else
		*got = n;
	sqlite3_blob_close(b);
	return rc;
}

int
sq_purge_bodies(cp_store *st, int64_t now, int64_t older_than, size_t max,
    size_t *n, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int64_t *ids;
	size_t k = 0;
	int rc, r = SQLITE_DONE;

	*n = 0;
	ids = cp_calloc(max, sizeof(*ids));
	if (ids == NULL)
		return cp_err_set(err, CP_ENOMEM, "store: out of memory");
	if ((rc = sq_tx_begin(s, err)) != CP_OK) {
		cp_free(ids);
		return rc;
	}
	if ((rc = sq_prep(s, SQ_PURGE_SELECT, &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, now - older_than);
		sqlite3_bind_int64(q, 2, (sqlite3_int64)max);
		while (k < max && (r = sqlite3_step(q)) == SQLITE_ROW)
			ids[k++] = sqlite3_column_int64(q, 0);
		if (k < max && r != SQLITE_DONE)
			rc = sq_fail(s, "purge", err);
		sqlite3_reset(q);
	}
	for (size_t i = 0; rc == CP_OK && i < k; i++) {
		rc = sq_run_key(s, SQ_PURGE_BODY, ids[i], -1, err);
		if (rc == CP_OK)
			rc = sq_run_key(s, SQ_PURGE_MARK, ids[i], -1, err);
	}
	rc = sq_tx_end(s, rc, err);
	if (rc == CP_OK)
		*n = k;
	cp_free(ids);
	return rc;
}

int
sq_expire_due(cp_store *st, int64_t now, size_t max, cp_due_list **out,
    cp_err *err)
{
	sq_store *s = SQ(st);
	store_due_builder b;
	sqlite3_stmt *q;
	int rc;

	store_due_builder_init(&b);
	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	if ((rc = sq_prep(s, SQ_EXPIRE_SELECT, &q, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, now);
		sqlite3_bind_int64(q, 2, (sqlite3_int64)max);
		rc = collect_due(s, q, &b, NULL, 0, CP_RCPT_EXPIRED, err);
	}
	if (rc == CP_OK)
		rc = sq_prep(s, SQ_EXPIRE_UPDATE, &q, err);
	for (size_t i = 0; rc == CP_OK && i < b.n; i++) {
		sqlite3_bind_int64(q, 1, b.v[i].rcpt.id);
		sqlite3_bind_int64(q, 2, now);
		rc = sq_exec_stmt(s, q, "expire", err);
		b.v[i].rcpt.updated = now;
	}
	for (size_t i = 0; rc == CP_OK && i < b.n; i++)
		if (i == 0 || b.v[i].rcpt.message != b.v[i - 1].rcpt.message)
			rc = recount(s, b.v[i].rcpt.message, now, err);
	rc = sq_tx_end(s, rc, err);
	if (rc == CP_OK && (*out = store_due_builder_finish(&b)) == NULL)
		rc = cp_err_set(err, CP_ENOMEM, "store: out of memory");
	store_due_builder_clear(&b);
	return rc;
}
