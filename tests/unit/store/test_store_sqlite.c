/*
 * The SQLite backend beyond the contract: its pragmas (WAL,
 * synchronous=FULL), the file's mode, cached statements, migrations
 * (fresh, re-open, a newer database refused, a failing step rolled back),
 * and DSN errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldpost/store.h"
#include "cptest.h"
#include "store/sqlite/sqlite_int.h"

struct tmp {
	char dir[256];
	char path[300];
	char dsn[320];
};

static void
tmp_make(struct tmp *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->dir, sizeof(t->dir), "%s/cp-sqlite-XXXXXX",
	    base && *base ? base : "/tmp");
	CP_CHECK(mkdtemp(t->dir) != NULL, "mkdtemp");
	snprintf(t->path, sizeof(t->path), "%s/q.db", t->dir);
	snprintf(t->dsn, sizeof(t->dsn), "sqlite:%s", t->path);
}

static void
tmp_remove(struct tmp *t)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[340];

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
}

static int64_t
pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static int
count_stmts(sqlite3 *db)
{
	int n = 0;

	for (sqlite3_stmt *q = sqlite3_next_stmt(db, NULL); q;
	    q = sqlite3_next_stmt(db, q))
		n++;
	return n;
}

CP_TEST(store_sqlite_pragmas_and_mode)
{
	struct tmp t;
	cp_err err = { 0 };
	cp_store *st;
	struct stat sb;

	tmp_make(&t);
	st = cp_store_open(t.dsn, &err);
	CP_CHECK(st != NULL, "open: %s", err.msg);
	if (st == NULL)
		return;
	CP_CHECK_STR(cp_store_scheme(st), "sqlite");
	{
		sqlite3 *db = SQ(st)->db;
		sqlite3_stmt *q;

		CP_CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
		    NULL) == SQLITE_OK, "prepare");
		CP_CHECK(sqlite3_step(q) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0,
		    "journal mode is not WAL");
		sqlite3_finalize(q);
		CP_CHECK_INT(pragma_int(db, "PRAGMA synchronous"), 2); /* FULL */
		CP_CHECK_INT(pragma_int(db, "PRAGMA foreign_keys"), 1);
		CP_CHECK_INT(pragma_int(db, "PRAGMA busy_timeout"),
		    SQ_BUSY_TIMEOUT_MS);
	}
	CP_CHECK(stat(t.path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "mode %o, want 600", (unsigned)(sb.st_mode & 0777));
	{ /* statements are prepared once and reused */
		static const char *const rcpts[] = { "x@dest.test" };
		cp_tenant tn = { .name = "acme" };
		cp_envelope env = { .mail_from = "", .return_path = "",
			.rcpts = rcpts, .nrcpts = 1, .received = 10,
			.message_id = "" };
		int n1;

		cp_store_add_tenant(st, &tn, &err);
		env.tenant = tn.id;
		cp_store_insert_message(st, &env, "x", 1, &err);
		n1 = count_stmts(SQ(st)->db);
		for (int i = 0; i < 50; i++) {
			env.id = 0;
			CP_CHECK_INT(cp_store_insert_message(st, &env, "x", 1,
			    &err), CP_OK);
		}
		CP_CHECK_INT(count_stmts(SQ(st)->db), n1);
	}
	cp_store_close(st);
	tmp_remove(&t);
}

CP_TEST(store_sqlite_migrations)
{
	struct tmp t;
	cp_err err = { 0 };
	cp_store *st;
	int have = 0, known = 0;
	sqlite3 *db;

	tmp_make(&t);
	/* fresh database: every migration applied */
	st = cp_store_open(t.dsn, &err);
	CP_CHECK(st != NULL, "open: %s", err.msg);
	if (st == NULL)
		return;
	CP_CHECK_INT(cp_store_schema_version(st, &have, &known, &err), CP_OK);
	CP_CHECK(known >= 1 && have == known, "have %d known %d", have, known);
	CP_CHECK_INT((int)cp_store_sqlite_migrations_n, known);
	cp_store_close(st);
	/* re-open: nothing applied twice */
	st = cp_store_open(t.dsn, &err);
	CP_CHECK(st != NULL, "reopen: %s", err.msg);
	if (st) {
		CP_CHECK_INT(pragma_int(SQ(st)->db,
		    "SELECT count(*) FROM schema_version"), known);
		cp_store_close(st);
	}
	/* a database from a newer coldpost is refused, and left alone */
	CP_CHECK(sqlite3_open(t.path, &db) == SQLITE_OK, "sqlite3_open");
	CP_CHECK(sqlite3_exec(db, "INSERT INTO schema_version VALUES "
	    "(999, '0999_future', 0)", NULL, NULL, NULL) == SQLITE_OK,
	    "insert: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	st = cp_store_open(t.dsn, &err);
	CP_CHECK(st == NULL, "newer database opened");
	cp_store_close(st);
	CP_CHECK_INT(err.code, CP_ESTORE);
	CP_CHECK(strstr(err.msg, "schema version 999 is newer than this "
	    "coldpost knows") != NULL, "%s", err.msg);
	tmp_remove(&t);
}

CP_TEST(store_sqlite_migration_rolls_back)
{
	static const cp_store_migration bad[] = {
		{ 1, "0001_a", "CREATE TABLE a(x);" },
		{ 2, "0002_b", "CREATE TABLE b(x); INSERT INTO nosuch VALUES (1);" },
	};
	static const cp_store_migration good[] = {
		{ 1, "0001_a", "CREATE TABLE a(x);" },
		{ 2, "0002_b", "CREATE TABLE b(x);" },
	};
	struct tmp t;
	cp_err err = { 0 };
	sqlite3 *db;

	tmp_make(&t);
	CP_CHECK(sqlite3_open(t.path, &db) == SQLITE_OK, "open");
	CP_CHECK_INT(sq_migrate_with(db, bad, 2, &err), CP_ESTORE);
	CP_CHECK(strstr(err.msg, "0002_b") != NULL &&
	    strstr(err.msg, "nosuch") != NULL, "%s", err.msg);
	/* step 1 stays, step 2 left nothing behind */
	CP_CHECK_INT(pragma_int(db, "SELECT max(version) FROM schema_version"),
	    1);
	CP_CHECK_INT(pragma_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'a'"), 1);
	CP_CHECK_INT(pragma_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'b'"), 0);
	CP_CHECK_INT(sq_migrate_with(db, good, 2, &err), CP_OK);
	CP_CHECK_INT(pragma_int(db, "SELECT max(version) FROM schema_version"),
	    2);
	CP_CHECK_INT(pragma_int(db, "SELECT count(*) FROM schema_version"), 2);
	sqlite3_close(db);
	tmp_remove(&t);
}

CP_TEST(store_sqlite_dsn_errors)
{
	struct tmp t;
	cp_err err = { 0 };
	cp_store *st;
	FILE *f;

	CP_CHECK(cp_store_open("postgresql:x", &err) == NULL, "unknown scheme");
	CP_CHECK_INT(err.code, CP_EINVAL);
	CP_CHECK(strstr(err.msg, "unknown store") != NULL, "%s", err.msg);
	CP_CHECK(cp_store_open("sqlite:", &err) == NULL, "empty path");
	CP_CHECK_INT(err.code, CP_EINVAL);
	CP_CHECK(cp_store_open("queue.db", &err) == NULL, "no scheme");
	CP_CHECK_INT(err.code, CP_EINVAL);
	CP_CHECK(cp_store_open("sqlite:/nonexistent-dir/q.db", &err) == NULL,
	    "missing directory");
	CP_CHECK_INT(err.code, CP_EIO);
	tmp_make(&t);
	f = fopen(t.path, "w"); /* not a database */
	CP_CHECK(f != NULL, "fopen");
	if (f) {
		for (int i = 0; i < 200; i++)
			fputs("this is not a database file\n", f);
		fclose(f);
	}
	st = cp_store_open(t.dsn, &err);
	CP_CHECK(st == NULL, "garbage file opened");
	cp_store_close(st);
	CP_CHECK(strstr(err.msg, t.path) != NULL, "%s", err.msg);
	tmp_remove(&t);
}
