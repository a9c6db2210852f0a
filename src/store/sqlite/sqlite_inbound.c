/*
 * sqlite_inbound.c - the SQLite backend's inbound mail
 * (migrations/sqlite/0005_inbound.sql): the raw messages of the bounce
 * listener, late reports recorded on recipients, the per-tenant
 * unsubscribe setting.
 *
 * Inbound mail is rare next to the queue (a few bounces per hundred
 * messages), so these statements are prepared per call instead of joining
 * the backend's cached table. Inputs were checked by store_inbound.c.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "store/sqlite/sqlite_int.h"

#define INBOUND_COLS "id, received, client, helo, mail_from, rcpt_to, size, " \
	"kind, result, processed"

static int
ib_prep(sq_store *s, const char *sql, sqlite3_stmt **out, cp_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK) {
		*out = NULL;
		return sq_fail(s, "prepare", err);
	}
	return CP_OK;
}

/* Step a statement that returns no row, then finalize it. */
static int
ib_exec(sq_store *s, sqlite3_stmt *q, const char *what, cp_err *err)
{
	int rc = CP_OK;

	if (sqlite3_step(q) != SQLITE_DONE)
		rc = sq_fail(s, what, err);
	sqlite3_finalize(q);
	return rc;
}

/* Text cut at max bytes on a UTF-8 boundary (diagnostics, results). */
static void
ib_bind_cut(sqlite3_stmt *q, int col, const char *t, size_t max)
{
	size_t len = strnlen(t, max + 1);

	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)t[len] & 0xc0) == 0x80)
			len--;
	}
	sqlite3_bind_text(q, col, t, (int)len, SQLITE_STATIC);
}

int
sq_insert_inbound(cp_store *st, cp_inbound *in, const void *data, size_t len,
    cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = ib_prep(s, "INSERT INTO inbound(received, client, helo, "
	    "mail_from, rcpt_to, size, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7)", &q, err);
	if (rc == CP_OK) {
		sqlite3_bind_int64(q, 1, in->received);
		sq_bind_text(q, 2, in->client);
		sq_bind_text(q, 3, in->helo);
		sq_bind_text(q, 4, in->mail_from);
		sq_bind_text(q, 5, in->rcpt_to);
		sqlite3_bind_int64(q, 6, in->size);
		sqlite3_bind_blob64(q, 7, data, (sqlite3_uint64)len,
		    SQLITE_STATIC);
		rc = ib_exec(s, q, "insert inbound", err);
	}
	if (rc == CP_OK)
		in->id = sqlite3_last_insert_rowid(s->db);
	return sq_tx_end(s, rc, err);
}

int
sq_finish_inbound(cp_store *st, int64_t id, const char *kind,
    const char *result, int64_t now, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = ib_prep(s, "UPDATE inbound SET kind = ?2, result = ?3, "
	    "processed = ?4 WHERE id = ?1", &q, err);
	if (rc == CP_OK) {
		sqlite3_bind_int64(q, 1, id);
		sq_bind_text(q, 2, kind);
		sq_bind_text(q, 3, result);
		sqlite3_bind_int64(q, 4, now);
		rc = ib_exec(s, q, "finish inbound", err);
	}
	if (rc == CP_OK && sqlite3_changes(s->db) == 0)
		rc = cp_err_set(err, CP_ENOTFOUND, "store: inbound message "
		    "%lld: not found", (long long)id);
	return sq_tx_end(s, rc, err);
}

static void
row_inbound(sqlite3_stmt *q, cp_inbound *in)
{
	in->id = sqlite3_column_int64(q, 0);
	in->received = sqlite3_column_int64(q, 1);
	in->client = sq_text(q, 2);
	in->helo = sq_text(q, 3);
	in->mail_from = sq_text(q, 4);
	in->rcpt_to = sq_text(q, 5);
	in->size = sqlite3_column_int64(q, 6);
	in->kind = sq_text(q, 7);
	in->result = sq_text(q, 8);
	in->processed = sqlite3_column_int64(q, 9);
}

int
sq_list_inbound(cp_store *st, int64_t after, size_t limit, int pending_only,
    cp_inbound_cb cb, void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	cp_inbound in;
	int r, rc;

	rc = ib_prep(s, pending_only ? "SELECT " INBOUND_COLS " FROM inbound "
	    "WHERE id > ?1 AND processed = 0 ORDER BY id LIMIT ?2" :
	    "SELECT " INBOUND_COLS " FROM inbound WHERE id > ?1 ORDER BY id "
	    "LIMIT ?2", &q, err);
	if (rc != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, after);
	sqlite3_bind_int64(q, 2, limit == 0 ? -1 : (sqlite3_int64)limit);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		row_inbound(q, &in);
		if (cb(arg, &in) != 0)
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = sq_fail(s, "list inbound", err);
	sqlite3_finalize(q);
	return rc;
}

int
sq_get_inbound_body(cp_store *st, int64_t id, cp_buf *out, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int r, rc;

	if ((rc = ib_prep(s, "SELECT data FROM inbound WHERE id = ?1", &q,
	    err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, id);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(q, 0);
		int n = sqlite3_column_bytes(q, 0);

		if (n > 0 && cp_buf_add(out, p, (size_t)n) != CP_OK)
			rc = cp_err_set(err, CP_ENOMEM, "store: inbound message "
			    "%lld: out of memory", (long long)id);
	} else if (r == SQLITE_DONE)
		rc = cp_err_set(err, CP_ENOTFOUND, "store: inbound message "
		    "%lld: not found", (long long)id);
	else
		rc = sq_fail(s, "inbound body", err);
	sqlite3_finalize(q);
	return rc;
}

int
sq_get_recipient(cp_store *st, int64_t rcpt, cp_due_list **out, cp_err *err)
{
	sq_store *s = SQ(st);
	store_due_builder b;
	sqlite3_stmt *q;
	cp_due d;
	int r, rc;

	rc = ib_prep(s, "SELECT r.id, r.message, r.address, r.state, "
	    "r.attempts, r.next_attempt, r.expires, r.updated, r.owner, "
	    "r.lease_until, r.last_reply, r.last_code, r.last_enhanced, "
	    "r.last_cause, r.last_reason, r.last_receiver, m.tenant, "
	    "m.mailbox, m.mail_from, m.return_path, m.message_id, m.size, "
	    "m.received FROM recipients r JOIN messages m ON m.id = r.message "
	    "WHERE r.id = ?1", &q, err);
	if (rc != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, rcpt);
	store_due_builder_init(&b);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		d.rcpt.id = sqlite3_column_int64(q, 0);
		d.rcpt.message = sqlite3_column_int64(q, 1);
		d.rcpt.address = sq_text(q, 2);
		d.rcpt.state = sqlite3_column_int(q, 3);
		d.rcpt.attempts = sqlite3_column_int(q, 4);
		d.rcpt.next_attempt = sqlite3_column_int64(q, 5);
		d.rcpt.expires = sqlite3_column_int64(q, 6);
		d.rcpt.updated = sqlite3_column_int64(q, 7);
		d.rcpt.owner = sq_text(q, 8);
		d.rcpt.lease_until = sqlite3_column_int64(q, 9);
		d.rcpt.last_reply = sq_text(q, 10);
		d.rcpt.last_code = sqlite3_column_int(q, 11);
		d.rcpt.last_enhanced = sq_text(q, 12);
		d.rcpt.last_cause = sq_text(q, 13);
		d.rcpt.last_reason = sq_text(q, 14);
		d.rcpt.last_receiver = sq_text(q, 15);
		d.tenant = sqlite3_column_int64(q, 16);
		d.mailbox = sqlite3_column_int64(q, 17);
		d.mail_from = sq_text(q, 18);
		d.return_path = sq_text(q, 19);
		d.message_id = sq_text(q, 20);
		d.size = sqlite3_column_int64(q, 21);
		d.received = sqlite3_column_int64(q, 22);
		if (store_due_builder_add(&b, &d) != CP_OK)
			rc = cp_err_set(err, CP_ENOMEM, "store: recipient: out "
			    "of memory");
	} else if (r == SQLITE_DONE)
		rc = cp_err_set(err, CP_ENOTFOUND, "store: recipient %lld: not "
		    "found", (long long)rcpt);
	else
		rc = sq_fail(s, "recipient", err);
	sqlite3_finalize(q);
	if (rc == CP_OK && (*out = store_due_builder_finish(&b)) == NULL)
		rc = cp_err_set(err, CP_ENOMEM, "store: recipient: out of "
		    "memory");
	store_due_builder_clear(&b);
	return rc;
}

/* The recipient's state and message, or CP_ENOTFOUND. */
static int
late_state(sq_store *s, int64_t rcpt, int *state, int64_t *message,
    cp_err *err)
{
	sqlite3_stmt *q;
	int r, rc;

	if ((rc = ib_prep(s, "SELECT state, message FROM recipients WHERE "
	    "id = ?1", &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, rcpt);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		*state = sqlite3_column_int(q, 0);
		*message = sqlite3_column_int64(q, 1);
	} else if (r == SQLITE_DONE)
		rc = cp_err_set(err, CP_ENOTFOUND, "store: recipient %lld: not "
		    "found", (long long)rcpt);
	else
		rc = sq_fail(s, "recipient", err);
	sqlite3_finalize(q);
	return rc;
}

static int
late_attempt(sq_store *s, cp_attempt *a, cp_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = ib_prep(s, "INSERT INTO attempts(recipient, time, mx, "
	    "source_ip, reply, code, enhanced, cause, reason, receiver, "
	    "duration_ms, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	    "?9, ?10, 0, ?11)", &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, a->rcpt);
	sqlite3_bind_int64(q, 2, a->time);
	sq_bind_text(q, 3, a->mx);
	sq_bind_text(q, 4, a->source_ip);
	ib_bind_cut(q, 5, a->reply, CP_STORE_REPLY_MAX);
	sqlite3_bind_int(q, 6, a->code);
	sq_bind_text(q, 7, a->enhanced);
	sq_bind_text(q, 8, a->cause);
	sq_bind_text(q, 9, a->reason);
	sq_bind_text(q, 10, a->receiver);
	sqlite3_bind_int(q, 11, a->outcome);
	if ((rc = ib_exec(s, q, "insert report", err)) == CP_OK)
		a->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

/* Delivered, then bounced after all: both final, so nopen stays. */
static int
late_bounce(sq_store *s, const cp_attempt *a, cp_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = ib_prep(s, "UPDATE recipients SET state = 4, updated = ?2, "
	    "last_reply = ?3, last_code = ?4, last_enhanced = ?5, "
	    "last_cause = ?6, last_reason = ?7, last_receiver = ?8 "
	    "WHERE id = ?1 AND state = 3", &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, a->rcpt);
	sqlite3_bind_int64(q, 2, a->time);
	ib_bind_cut(q, 3, a->reply, CP_STORE_REPLY_MAX);
	sqlite3_bind_int(q, 4, a->code);
	sq_bind_text(q, 5, a->enhanced);
	sq_bind_text(q, 6, a->cause);
	sq_bind_text(q, 7, a->reason);
	sq_bind_text(q, 8, a->receiver);
	return ib_exec(s, q, "late bounce", err);
}

int
sq_record_late(cp_store *st, cp_attempt *a, int *changed, cp_err *err)
{
	sq_store *s = SQ(st);
	int state = 0, rc;

	*changed = 0;
	if ((rc = sq_tx_begin(s, err)) != CP_OK)
		return rc;
	rc = late_state(s, a->rcpt, &state, &a->message, err);
	if (rc == CP_OK)
		rc = late_attempt(s, a, err);
	if (rc == CP_OK && a->outcome == CP_RCPT_BOUNCED &&
	    state == CP_RCPT_DELIVERED) {
		rc = late_bounce(s, a, err);
		*changed = rc == CP_OK && sqlite3_changes(s->db) > 0;
	}
	rc = sq_tx_end(s, rc, err);
	if (rc != CP_OK)
		*changed = 0;
	return rc;
}

/* set < 0: read into *on; else write set. */
int
sq_tenant_unsubscribe(cp_store *st, int64_t tenant, int set, int *on,
    cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int r, rc;

	if (set >= 0) {
		if ((rc = sq_tx_begin(s, err)) != CP_OK)
			return rc;
		rc = ib_prep(s, "UPDATE tenants SET unsubscribe = ?2 WHERE "
		    "id = ?1", &q, err);
		if (rc == CP_OK) {
			sqlite3_bind_int64(q, 1, tenant);
			sqlite3_bind_int(q, 2, set);
			rc = ib_exec(s, q, "tenant unsubscribe", err);
		}
		if (rc == CP_OK && sqlite3_changes(s->db) == 0)
			rc = cp_err_set(err, CP_ENOTFOUND, "store: tenant %lld: "
			    "not found", (long long)tenant);
		return sq_tx_end(s, rc, err);
	}
	if ((rc = ib_prep(s, "SELECT unsubscribe FROM tenants WHERE id = ?1",
	    &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW)
		*on = sqlite3_column_int(q, 0) != 0;
	else if (r == SQLITE_DONE)
		rc = cp_err_set(err, CP_ENOTFOUND, "store: tenant %lld: not "
		    "found", (long long)tenant);
	else
		rc = sq_fail(s, "tenant unsubscribe", err);
	sqlite3_finalize(q);
	return rc;
}
