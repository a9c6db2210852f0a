/*
 * sqlite_store.c - the SQLite backend: connection, migrations,
 * transactions, statement cache, and its table of operations (the model
 * is in sqlite_model.c, the queue in sqlite_queue.c).
 *
 * The database is one file in WAL mode with synchronous=FULL, so a commit
 * returns after the WAL is fsync'd: what a call reported as done survives
 * a crash of the process or of the machine. Writers use BEGIN IMMEDIATE
 * (the write lock up front, so two processes never deadlock on a lock
 * upgrade) and a busy timeout for the CLI running next to the daemon.
 * Inside a batch (group commit) each call is a SAVEPOINT of the batch's
 * transaction. Statements are prepared once and cached (sqlite_sql.c);
 * a commit hook counts commits (cp_store_get_stats).
 *
 * The file is created with mode 0600: it holds password hashes and DKIM
 * keys. Migrations (migrations/sqlite/NNNN_*.sql, compiled in) run each in
 * its own transaction and record themselves in schema_version; a database
 * newer than the code is refused rather than guessed at.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "store/sqlite/sqlite_int.h"

#define SQ_STR_(x) #x
#define SQ_STR(x) SQ_STR_(x)

/* ---- statements, errors, transactions ---------------------------------- */

int
sq_fail(sq_store *s, const char *what, cp_err *err)
{
	int x = sqlite3_extended_errcode(s->db), code;

	switch (x & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = CP_ETEMP;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		code = CP_EIO;
		break;
	case SQLITE_NOMEM:
		code = CP_ENOMEM;
		break;
	case SQLITE_CONSTRAINT:
		code = CP_EINVAL;
		break;
	default:
		code = CP_ESTORE;
	}
	/* an error that ended the transaction ends the batch with it */
	if (s->base.in_batch && sqlite3_get_autocommit(s->db))
		s->base.batch_broken = 1;
	return cp_err_set(err, code, "store: sqlite: %s: %s", what,
	    sqlite3_errmsg(s->db));
}

int
sq_prep(sq_store *s, sq_stmt_id id, sqlite3_stmt **out, cp_err *err)
{
	sqlite3_stmt *q = s->stmt[id];

	if (q == NULL) {
		if (sqlite3_prepare_v3(s->db, sq_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK)
			return sq_fail(s, "prepare", err);
		s->stmt[id] = q;
	} else {
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
	}
	*out = q;
	return CP_OK;
}

int
sq_exec_stmt(sq_store *s, sqlite3_stmt *q, const char *what, cp_err *err)
{
	int r;

	while ((r = sqlite3_step(q)) == SQLITE_ROW)
		;
	if (r != SQLITE_DONE) {
		int rc = sq_fail(s, what, err);

		sqlite3_reset(q);
		return rc;
	}
	sqlite3_reset(q);
	return CP_OK;
}

static int
sq_exec_id(sq_store *s, sq_stmt_id id, const char *what, cp_err *err)
{
	sqlite3_stmt *q;
	int rc = sq_prep(s, id, &q, err);

	return rc != CP_OK ? rc : sq_exec_stmt(s, q, what, err);
}

int
sq_tx_begin(sq_store *s, cp_err *err)
{
	if (s->base.in_batch)
		return sq_exec_id(s, SQ_SAVEPOINT, "savepoint", err);
	return sq_exec_id(s, SQ_BEGIN, "begin", err);
}

/* COMMIT, timed: with WAL and synchronous=FULL this is where the disk
 * sync happens, which is what the commit latency metric shows. */
static int
sq_exec_commit(sq_store *s, cp_err *err)
{
	int64_t t0 = cp_hist_now_ns();
	int rc = sq_exec_id(s, SQ_COMMIT, "commit", err);

	if (rc == CP_OK)
		cp_hist_add(&s->base.commit_latency, cp_hist_now_ns() - t0);
	return rc;
}

int
sq_tx_end(sq_store *s, int rc, cp_err *err)
{
	if (rc == CP_OK) {
		rc = s->base.in_batch ? sq_exec_id(s, SQ_RELEASE, "commit", err) :
		    sq_exec_commit(s, err);
		if (rc == CP_OK)
			return CP_OK;
	}
	if (sqlite3_get_autocommit(s->db)) { /* SQLite rolled back already */
		if (s->base.in_batch)
			s->base.batch_broken = 1;
		return rc;
	}
	if (s->base.in_batch) {
		(void)sq_exec_id(s, SQ_ROLLBACK_TO, "rollback", NULL);
		(void)sq_exec_id(s, SQ_RELEASE, "release", NULL);
	} else {
		(void)sq_exec_id(s, SQ_ROLLBACK, "rollback", NULL);
	}
	return rc;
}

const char *
sq_text(sqlite3_stmt *q, int col)
{
	return (const char *)sqlite3_column_text(q, col);
}

void
sq_bind_text(sqlite3_stmt *q, int col, const char *str)
{
	if (str == NULL)
		sqlite3_bind_null(q, col);
	else
		sqlite3_bind_text(q, col, str, -1, SQLITE_STATIC);
}

int
sq_list(sq_store *s, sqlite3_stmt *q, sq_row_fn fn, void *tmp,
    sq_visit_fn visit, void *ctx, cp_err *err)
{
	int r;

	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		fn(q, tmp);
		if (visit(ctx, tmp) != 0) {
			sqlite3_reset(q);
			return CP_OK;
		}
	}
	if (r != SQLITE_DONE) {
		int rc = sq_fail(s, "list", err);

		sqlite3_reset(q);
		return rc;
	}
	sqlite3_reset(q);
	return CP_OK;
}

int
sq_get_one(sq_store *s, sqlite3_stmt *q, sq_row_fn fn, void *tmp,
    size_t size, const size_t *offs, size_t noffs, void **out,
    const char *what, cp_err *err)
{
	int r = sqlite3_step(q), rc = CP_OK;

	if (r == SQLITE_ROW) {
		fn(q, tmp);
		*out = store_rec_dup(tmp, size, offs, noffs);
		if (*out == NULL)
			rc = cp_err_set(err, CP_ENOMEM, "store: %s: out of "
			    "memory", what);
	} else if (r == SQLITE_DONE) {
		rc = cp_err_set(err, CP_ENOTFOUND, "store: %s: not found",
		    what);
	} else {
		rc = sq_fail(s, what, err);
	}
	sqlite3_reset(q);
	return rc;
}

int
sq_get_int(sq_store *s, sqlite3_stmt *q, int64_t *out, cp_err *err)
{
	int r = sqlite3_step(q), rc = CP_OK;

	if (r == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	else if (r == SQLITE_DONE)
		rc = CP_ENOTFOUND;
	else
		rc = sq_fail(s, "query", err);
	sqlite3_reset(q);
	return rc;
}

/* Run statement id with ?1 = key and ?2 = now (when now >= 0). */
int
sq_run_key(sq_store *s, sq_stmt_id id, int64_t key, int64_t now,
    cp_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sq_prep(s, id, &q, err)) != CP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, key);
	if (now >= 0)
		sqlite3_bind_int64(q, 2, now);
	return sq_exec_stmt(s, q, "remove", err);
}

static int
sq_on_commit(void *arg)
{
	((sq_store *)arg)->base.commits++;
	return 0;
}

static void
sq_on_rollback(void *arg)
{
	((sq_store *)arg)->base.rollbacks++;
}

/* ---- migrations ------------------------------------------------------- */

static int
db_fail(sqlite3 *db, const char *what, cp_err *err)
{
	return cp_err_set(err, CP_ESTORE, "store: sqlite: %s: %s", what,
	    sqlite3_errmsg(db));
}

static int
db_version(sqlite3 *db, int *have, cp_err *err)
{
	sqlite3_stmt *q;
	int r;

	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM "
	    "schema_version", -1, &q, NULL) != SQLITE_OK)
		return db_fail(db, "schema_version", err);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW)
		*have = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return r == SQLITE_ROW ? CP_OK : db_fail(db, "schema_version", err);
}

int
sq_migrate_with(sqlite3 *db, const cp_store_migration *m, size_t n,
    cp_err *err)
{
	int known = n ? m[n - 1].version : 0, have = 0, rc;

	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
	    "applied INTEGER NOT NULL) STRICT", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "schema_version", err);
	if ((rc = db_version(db, &have, err)) != CP_OK)
		return rc;
	if (have > known)
		return cp_err_set(err, CP_ESTORE, "store: schema version %d is "
		    "newer than this coldpost knows (%d): use a newer coldpost "
		    "with this database", have, known);
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *q;
		char *msg = NULL;

		if (m[i].version <= have)
			continue;
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			return db_fail(db, "migration: begin", err);
		/* another process may have migrated while we waited */
		if ((rc = db_version(db, &have, err)) != CP_OK)
			goto undo;
		if (m[i].version <= have) {
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
			continue;
		}
		if (sqlite3_exec(db, m[i].sql, NULL, NULL, &msg) != SQLITE_OK) {
			rc = cp_err_set(err, CP_ESTORE, "store: migration %s: "
			    "%s", m[i].name, msg ? msg : "failed");
			sqlite3_free(msg);
			goto undo;
		}
		if (sqlite3_prepare_v2(db, "INSERT INTO schema_version(version, "
		    "name, applied) VALUES (?1, ?2, ?3)", -1, &q, NULL) !=
		    SQLITE_OK) {
			rc = db_fail(db, "migration", err);
			goto undo;
		}
		sqlite3_bind_int(q, 1, m[i].version);
		sqlite3_bind_text(q, 2, m[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, (sqlite3_int64)time(NULL));
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = db_fail(db, "migration", err);
			sqlite3_finalize(q);
			goto undo;
		}
		sqlite3_finalize(q);
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			rc = db_fail(db, "migration: commit", err);
			goto undo;
		}
		have = m[i].version;
		continue;
undo:
		if (!sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return CP_OK;
}

static int
sq_migrate(cp_store *st, cp_err *err)
{
	return sq_migrate_with(SQ(st)->db, cp_store_sqlite_migrations,
	    cp_store_sqlite_migrations_n, err);
}

static int
sq_schema_version(cp_store *st, int *have, int *known, cp_err *err)
{
	*known = cp_store_sqlite_migrations[cp_store_sqlite_migrations_n - 1]
	    .version;
	return db_version(SQ(st)->db, have, err);
}

static int
sq_check(cp_store *st, cp_err *err)
{
	sq_store *s = SQ(st);
	sqlite3_stmt *q;
	int r, rc = CP_OK;

	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q,
	    NULL) != SQLITE_OK)
		return sq_fail(s, "integrity_check", err);
	r = sqlite3_step(q);
	if (r != SQLITE_ROW)
		rc = sq_fail(s, "integrity_check", err);
	else if (strcmp(sq_text(q, 0), "ok") != 0)
		rc = cp_err_set(err, CP_ESTORE, "store: %s: integrity check: "
		    "%.200s", s->path, sq_text(q, 0));
	sqlite3_finalize(q);
	if (rc != CP_OK)
		return rc;
	if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &q,
	    NULL) != SQLITE_OK)
		return sq_fail(s, "foreign_key_check", err);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW)
		rc = cp_err_set(err, CP_ESTORE, "store: %s: table %s row %lld "
		    "refers to a missing %s row", s->path, sq_text(q, 0),
		    (long long)sqlite3_column_int64(q, 1), sq_text(q, 2));
	else if (r != SQLITE_DONE)
		rc = sq_fail(s, "foreign_key_check", err);
	sqlite3_finalize(q);
	return rc;
}

/* ---- open, close, batches ----------------------------------------------- */

static void
sq_close(cp_store *st)
{
	sq_store *s = SQ(st);

	if (s == NULL)
		return;
	for (int i = 0; i < SQ_NSTMTS; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	cp_free(s->path);
	cp_free(s);
}

static cp_store *
sq_open(const char *path, cp_err *err)
{
	static const char setup[] =
	    "PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA cache_size = -" SQ_STR(SQ_CACHE_KIB) ";"
	    "PRAGMA journal_size_limit = " SQ_STR(SQ_JOURNAL_LIMIT) ";";
	sq_store *s;
	sqlite3_stmt *q;
	int fd, wal;

	/* create it private: password hashes and DKIM keys live here */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		cp_err_set(err, CP_EIO, "store: %s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	s = cp_calloc(1, sizeof(*s));
	if (s == NULL || (s->path = cp_strdup(path)) == NULL) {
		cp_free(s);
		cp_err_set(err, CP_ENOMEM, "store: out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		cp_err_set(err, CP_EIO, "store: %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, SQ_BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q,
	    NULL) != SQLITE_OK) {
		cp_err_set(err, CP_ESTORE, "store: %s: %s", path,
		    sqlite3_errmsg(s->db));
		goto fail;
	}
	wal = sqlite3_step(q) == SQLITE_ROW &&
	    strcmp(sq_text(q, 0), "wal") == 0;
	sqlite3_finalize(q);
	if (!wal) {
		cp_err_set(err, CP_ESTORE, "store: %s: cannot switch to WAL "
		    "mode: %s (not a database, or a file system without "
		    "shared memory?)", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (sqlite3_exec(s->db, setup, NULL, NULL, NULL) != SQLITE_OK) {
		cp_err_set(err, CP_ESTORE, "store: %s: %s", path,
		    sqlite3_errmsg(s->db));
		goto fail;
	}
	sqlite3_commit_hook(s->db, sq_on_commit, s);
	sqlite3_rollback_hook(s->db, sq_on_rollback, s);
	return &s->base;
fail:
	sq_close(&s->base);
	return NULL;
}

static int
sq_begin(cp_store *st, cp_err *err)
{
	return sq_exec_id(SQ(st), SQ_BEGIN, "begin", err);
}

static int
sq_commit(cp_store *st, cp_err *err)
{
	sq_store *s = SQ(st);
	int rc = sq_exec_commit(s, err);

	if (rc != CP_OK && !sqlite3_get_autocommit(s->db))
		(void)sq_exec_id(s, SQ_ROLLBACK, "rollback", NULL);
	return rc;
}

static void
sq_rollback(cp_store *st)
{
	sq_store *s = SQ(st);

	if (!sqlite3_get_autocommit(s->db))
		(void)sq_exec_id(s, SQ_ROLLBACK, "rollback", NULL);
}

const struct cp_store_ops cp_store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.migrate = sq_migrate,
	.schema_version = sq_schema_version,
	.check = sq_check,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.add_tenant = sq_add_tenant,
	.list_tenants = sq_list_tenants,
	.get_tenant = sq_get_tenant,
	.remove_tenant = sq_remove_tenant,
	.add_pool = sq_add_pool,
	.list_pools = sq_list_pools,
	.get_pool = sq_get_pool,
	.remove_pool = sq_remove_pool,
	.add_domain = sq_add_domain,
	.list_domains = sq_list_domains,
	.get_domain = sq_get_domain,
	.remove_domain = sq_remove_domain,
	.set_domain_key = sq_set_domain_key,
	.add_mailbox = sq_add_mailbox,
	.list_mailboxes = sq_list_mailboxes,
	.get_mailbox = sq_get_mailbox,
	.remove_mailbox = sq_remove_mailbox,
	.set_pwhash = sq_set_pwhash,
	.insert_message = sq_insert_message,
	.claim_due = sq_claim_due,
	.release_node = sq_release_node,
	.record_attempts = sq_record_attempts,
	.change = sq_change,
	.get_message = sq_get_message,
	.list_queue = sq_list_queue,
	.count_queue = sq_count_queue,
	.list_attempts = sq_list_attempts,
	.count_attempts = sq_count_attempts,
	.read_body = sq_read_body,
	.purge_bodies = sq_purge_bodies,
	.expire_due = sq_expire_due,
	.take_cap = sq_take_cap,
	.get_cap_usage = sq_get_cap_usage,
	.purge_cap_usage = sq_purge_cap_usage,
	.put_provider_state = sq_put_provider_state,
	.list_provider_states = sq_list_provider_states,
	.list_provider_events = sq_list_provider_events,
	.add_suppression = sq_add_suppression,
	.remove_suppression = sq_remove_suppression,
	.get_suppression = sq_get_suppression,
	.list_suppressions = sq_list_suppressions,
	.insert_inbound = sq_insert_inbound,
	.finish_inbound = sq_finish_inbound,
	.list_inbound = sq_list_inbound,
	.get_inbound_body = sq_get_inbound_body,
	.get_recipient = sq_get_recipient,
	.record_late = sq_record_late,
	.tenant_unsubscribe = sq_tenant_unsubscribe,
	.add_apikey = sq_add_apikey,
	.find_apikey = sq_find_apikey,
	.list_apikeys = sq_list_apikeys,
	.remove_apikey = sq_remove_apikey,
	.list_messages = sq_list_messages,
	.stat_attempts = sq_stat_attempts,
	.count_accepted = sq_count_accepted,
	.add_webhook = sq_add_webhook,
	.list_webhooks = sq_list_webhooks,
	.get_webhook = sq_get_webhook,
	.remove_webhook = sq_remove_webhook,
	.enqueue_webhook_event = sq_enqueue_webhook_event,
	.claim_webhooks = sq_claim_webhooks,
	.release_webhooks = sq_release_webhooks,
	.finish_webhook = sq_finish_webhook,
	.retry_webhook = sq_retry_webhook,
	.list_webhook_deliveries = sq_list_webhook_deliveries,
	.count_webhook_deliveries = sq_count_webhook_deliveries,
};
