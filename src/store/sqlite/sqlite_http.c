/*
 * sqlite_http.c - the SQLite backend of the HTTP API's store calls: API
 * keys (table api_keys, migration 0004_http), message listings and the
 * statistics over a time range. Its statements are prepared per call
 * (sqlite3_prepare_v3) rather than in the backend's cached table: they
 * run once per request, not once per message.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "store/sqlite/sqlite_int.h"

static int
prep(sq_store *s, const char *sql, sqlite3_stmt **out, cp_err *err)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, 0, out, NULL) != SQLITE_OK)
		return sq_fail(s, "prepare", err);
	return CP_OK;
}

static void
row_key(sqlite3_stmt *q, void *rec)
{
	cp_apikey *k = rec;

	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(q, 0);
	k->tenant = sqlite3_column_int64(q, 1);
	k->hash = sq_text(q, 2);
	k->prefix = sq_text(q, 3);
	k->note = sq_text(q, 4);
	k->created = sqlite3_column_int64(q, 5);
	k->rate = sqlite3_column_int64(q, 6);
}

static const size_t key_strs[] = { offsetof(cp_apikey, hash),
	offsetof(cp_apikey, prefix), offsetof(cp_apikey, note) };

#define KEY_COLS "SELECT id, tenant, hash, prefix, note, created, rate FROM api_keys "

int
sq_add_apikey(cp_store *st, cp_apikey *k, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(s, "INSERT INTO api_keys (tenant, hash, prefix, note, "
	    "created, rate) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &q, err)) != CP_OK)
		return rc;
	if ((rc = sq_tx_begin(s, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, k->tenant);
		sq_bind_text(q, 2, k->hash);
		sq_bind_text(q, 3, k->prefix);
		sq_bind_text(q, 4, k->note != NULL ? k->note : "");
		sqlite3_bind_int64(q, 5, k->created);
		sqlite3_bind_int64(q, 6, k->rate);
		rc = sq_exec_stmt(s, q, "add api key", err);
		if (rc == CP_OK)
			k->id = sqlite3_last_insert_rowid(s->db);
		rc = sq_tx_end(s, rc, err);
	}
	sqlite3_finalize(q);
	return rc;
}

int
sq_find_apikey(cp_store *st, const char *hash, cp_apikey **out, cp_err *err)
{
	sq_store *s = SQ(st);
	cp_apikey tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(s, KEY_COLS "WHERE hash = ?1", &q, err)) != CP_OK)
		return rc;
	sq_bind_text(q, 1, hash);
	rc = sq_get_one(s, q, row_key, &tmp, sizeof(tmp), key_strs,
	    CP_NELEM(key_strs), (void **)out, "api key", err);
	sqlite3_finalize(q);
	return rc;
}

typedef void (*any_fn)(void);
struct visit {
	any_fn cb;
	void *arg;
};

static int
visit_key(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_apikey_cb)v->cb)(v->arg, rec);
}

int
sq_list_apikeys(cp_store *st, int64_t tenant, cp_apikey_cb cb, void *arg,
    cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_apikey tmp;
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(s, KEY_COLS "WHERE ?1 < 0 OR tenant = ?1 ORDER BY id",
	    &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	rc = sq_list(s, q, row_key, &tmp, visit_key, &v, err);
	sqlite3_finalize(q);
	return rc;
}

int
sq_remove_apikey(cp_store *st, int64_t id, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(s, "DELETE FROM api_keys WHERE id = ?1", &q, err)) !=
	    CP_OK)
		return rc;
	if ((rc = sq_tx_begin(s, err)) == CP_OK) {
		sqlite3_bind_int64(q, 1, id);
		rc = sq_exec_stmt(s, q, "remove api key", err);
		if (rc == CP_OK && sqlite3_changes(s->db) == 0)
			rc = cp_err_set(err, CP_ENOTFOUND, "store: api key %lld: "
			    "no such key", (long long)id);
		rc = sq_tx_end(s, rc, err);
	}
	sqlite3_finalize(q);
	return rc;
}

static int
visit_env(void *ctx, const void *rec)
{
	struct visit *v = ctx;

	return ((cp_envelope_cb)v->cb)(v->arg, rec);
}

/* q is matched with instr() on lower-cased text, not LIKE: a '%' or '_'
 * the user types is then a character, with no escaping. Newest first by
 * id, so a search stops after `limit` matches. */
int
sq_list_messages(cp_store *st, const cp_message_filter *f,
    cp_envelope_cb cb, void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	struct visit v = { (any_fn)cb, arg };
	cp_envelope tmp;
	sqlite3_stmt *q;
	char *needle = NULL;
	int rc;

	if ((rc = prep(s, "SELECT " SQ_MSG_COLS " FROM messages m WHERE "
	    "(?1 = 0 OR tenant = ?1) AND (?2 = 0 OR id < ?2) AND (?4 IS NULL OR "
	    "CAST(id AS TEXT) = ?4 OR instr(lower(mail_from), ?4) > 0 OR "
	    "instr(lower(message_id), ?4) > 0 OR EXISTS (SELECT 1 FROM "
	    "recipients r WHERE r.message = m.id AND (instr(lower(r.address), "
	    "?4) > 0 OR instr(lower(coalesce(r.last_reply, '')), ?4) > 0))) "
	    "AND (?5 < 0 OR EXISTS (SELECT 1 FROM recipients r WHERE "
	    "r.message = m.id AND r.state = ?5)) ORDER BY id DESC LIMIT ?3",
	    &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, f->tenant);
	sqlite3_bind_int64(q, 2, f->before);
	sqlite3_bind_int64(q, 3, f->limit == 0 ? -1 : (int64_t)f->limit);
	if (f->q != NULL && f->q[0] != '\0') {
		if ((needle = cp_strdup(f->q)) == NULL) {
			sqlite3_finalize(q);
			return cp_err_set(err, CP_ENOMEM, "store: out of memory");
		}
		for (char *c = needle; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		sqlite3_bind_text(q, 4, needle, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int(q, 5, f->state);
	rc = sq_list(s, q, sq_row_message, &tmp, visit_env, &v, err);
	sqlite3_finalize(q);
	cp_free(needle);
	return rc;
}

int
sq_stat_attempts(cp_store *st, int64_t tenant, int64_t from, int64_t to,
    cp_attempt_stat_cb cb, void *arg, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc, r;

	if ((rc = prep(s, "SELECT a.outcome, a.cause, a.receiver, count(*) "
	    "FROM attempts a JOIN recipients r ON r.id = a.recipient "
	    "JOIN messages m ON m.id = r.message "
	    "WHERE a.time >= ?2 AND a.time < ?3 AND (?1 = 0 OR m.tenant = ?1) "
	    "GROUP BY a.outcome, a.cause, a.receiver "
	    "ORDER BY a.outcome, a.cause, a.receiver", &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		cp_attempt_stat a = { .outcome = sqlite3_column_int(q, 0),
			.cause = sq_text(q, 1), .receiver = sq_text(q, 2),
			.n = sqlite3_column_int64(q, 3) };

		if (a.cause == NULL)
			a.cause = "";
		if (a.receiver == NULL)
			a.receiver = "";
		if (cb(arg, &a) != 0)
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = sq_fail(s, "attempt statistics", err);
	sqlite3_finalize(q);
	return rc;
}

int
sq_count_accepted(cp_store *st, int64_t tenant, int64_t from, int64_t to,
    int64_t *messages, int64_t *rcpts, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int rc, r;

	if ((rc = prep(s, "SELECT count(*), coalesce(sum(nrcpts), 0) "
	    "FROM messages WHERE received >= ?2 AND received < ?3 "
	    "AND (?1 = 0 OR tenant = ?1)", &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, tenant);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
	if ((r = sqlite3_step(q)) == SQLITE_ROW) {
		*messages = sqlite3_column_int64(q, 0);
		*rcpts = sqlite3_column_int64(q, 1);
	} else
		rc = sq_fail(s, "count accepted", err);
	sqlite3_finalize(q);
	return rc;
}
