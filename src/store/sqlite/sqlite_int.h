/*
 * sqlite_int.h - the SQLite backend's private state, shared by
 * sqlite_store.c (connection, migrations, transactions, the model) and
 * sqlite_queue.c (messages, recipients, attempts).
 */
#ifndef COLDPOST_STORE_SQLITE_INT_H
#define COLDPOST_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store_int.h"

#define SQ_BUSY_TIMEOUT_MS 5000
#define SQ_CACHE_KIB 16384         /* page cache per connection (KiB) */
#define SQ_JOURNAL_LIMIT 67108864  /* WAL file cut back to 64 MiB */

/* Every statement the backend runs, prepared once and cached. */
typedef enum sq_stmt_id {
	SQ_BEGIN, SQ_COMMIT, SQ_ROLLBACK, SQ_SAVEPOINT, SQ_RELEASE,
	SQ_ROLLBACK_TO,
	SQ_TENANT_ADD, SQ_TENANT_LIST, SQ_TENANT_GET, SQ_TENANT_GET_ID,
	SQ_TENANT_NMAILBOXES, SQ_TENANT_CANCEL_RCPTS, SQ_TENANT_CLOSE_MSGS,
	SQ_TENANT_DEL_MAILBOXES, SQ_TENANT_DEL_DOMAINS, SQ_TENANT_DEL_POOLS,
	SQ_TENANT_DEL,
	SQ_POOL_ADD, SQ_POOL_LIST, SQ_POOL_GET, SQ_POOL_DEL,
	SQ_DOMAIN_ADD, SQ_DOMAIN_LIST, SQ_DOMAIN_GET, SQ_DOMAIN_NMAILBOXES,
	SQ_DOMAIN_DEL_MAILBOXES, SQ_DOMAIN_DEL, SQ_DOMAIN_SET_KEY,
	SQ_MAILBOX_ADD, SQ_MAILBOX_LIST, SQ_MAILBOX_GET, SQ_MAILBOX_DEL,
	SQ_MAILBOX_SET_PWHASH,
	SQ_MSG_INSERT, SQ_BODY_INSERT, SQ_RCPT_INSERT,
	SQ_CLAIM_SELECT, SQ_CLAIM_UPDATE, SQ_RELEASE_NODE,
	SQ_RCPT_STATE, SQ_ATTEMPT_INSERT, SQ_RCPT_RECORD, SQ_MSG_RECOUNT,
	SQ_MSG_EXISTS,
	SQ_HOLD_MSG, SQ_HOLD_RCPT, SQ_RELEASE_MSG, SQ_RELEASE_RCPT,
	SQ_CANCEL_MSG, SQ_CANCEL_RCPT, SQ_RETRY_MSG, SQ_RETRY_RCPT,
	SQ_MSG_GET, SQ_QUEUE_BY_MSG, SQ_QUEUE_ALL,
	SQ_COUNT_STATES, SQ_COUNT_DUE, SQ_COUNT_INFLIGHT,
	SQ_ATTEMPTS_RCPT, SQ_ATTEMPTS_MSG, SQ_ATTEMPTS_SINCE, SQ_ATTEMPTS_COUNT,
	SQ_PURGE_SELECT, SQ_PURGE_BODY, SQ_PURGE_MARK,
	SQ_EXPIRE_SELECT, SQ_EXPIRE_UPDATE,
	SQ_CAP_COUNTED, SQ_CAP_USED, SQ_CAP_MARK, SQ_CAP_ADD, SQ_CAP_PURGE_KEYS,
	SQ_CAP_PURGE_DAYS, SQ_PSTATE_PUT, SQ_PSTATE_LIST, SQ_PEVENT_ADD,
	SQ_PEVENT_LIST, SQ_SUPP_ADD, SQ_SUPP_DEL, SQ_SUPP_GET, SQ_SUPP_LIST,
	SQ_WH_ADD, SQ_WH_TENANT, SQ_WH_LIST, SQ_WH_GET, SQ_WH_DEL,
	SQ_WH_DEL_OUTBOX, SQ_WH_ENQUEUE, SQ_WH_CLAIM_SELECT, SQ_WH_CLAIM_UPDATE,
	SQ_WH_RELEASE, SQ_WH_FINISH, SQ_WH_RETRY, SQ_WH_OUTBOX_LIST,
	SQ_WH_OUTBOX_COUNT, SQ_WH_DEL_TENANT_OUTBOX, SQ_WH_DEL_TENANT,
	SQ_NSTMTS
} sq_stmt_id;

extern const char *const sq_sql[SQ_NSTMTS]; /* sqlite_sql.c */

typedef struct sq_store {
	cp_store base; /* first: a cp_store * is a sq_store * */
	sqlite3 *db;
	sqlite3_stmt *stmt[SQ_NSTMTS];
	char *path;
} sq_store;

#define SQ(st) ((sq_store *)(void *)(st))

/* The statement id, prepared once, reset, bindings cleared. Whoever
 * steps it resets it when done (a SELECT left open holds its snapshot). */
int sq_prep(sq_store *s, sq_stmt_id id, sqlite3_stmt **out, cp_err *err);
/* Map the connection's last error to a cp_err code and message. */
int sq_fail(sq_store *s, const char *what, cp_err *err);
/* Step a statement that returns no rows (or whose rows are ignored). */
int sq_exec_stmt(sq_store *s, sqlite3_stmt *st, const char *what,
    cp_err *err);

/*
 * A write: BEGIN IMMEDIATE (or a SAVEPOINT inside a batch) ... COMMIT (or
 * RELEASE). sq_tx_end with rc != CP_OK rolls back (to the savepoint) and
 * returns rc; with CP_OK it commits and returns the commit's result.
 */
int sq_tx_begin(sq_store *s, cp_err *err);
int sq_tx_end(sq_store *s, int rc, cp_err *err);

/* A text column, or NULL for SQL NULL. */
const char *sq_text(sqlite3_stmt *st, int col);

/* The columns of a message row, in the order sq_row_message reads them. */
#define SQ_MSG_COLS                                                          \
	"id, tenant, mailbox, mail_from, return_path, message_id, size, "    \
	"received, expires, nrcpts, nopen, finished, body_purged"
/* A row of SQ_MSG_COLS into the cp_envelope rec (strings borrowed from
 * the statement). */
void sq_row_message(sqlite3_stmt *q, void *rec);
/* Bind text (NULL binds SQL NULL); the string must outlive the step. */
void sq_bind_text(sqlite3_stmt *st, int col, const char *s);

/* Reading rows into records: fn fills rec from the current row. */
typedef void (*sq_row_fn)(sqlite3_stmt *q, void *rec);
typedef int (*sq_visit_fn)(void *ctx, const void *rec);
/* Step q (bound) to its end, handing each row to visit; resets q. */
int sq_list(sq_store *s, sqlite3_stmt *q, sq_row_fn fn, void *tmp,
    sq_visit_fn visit, void *ctx, cp_err *err);
/* The first row of q as a record of size bytes with strings at offs,
 * copied into one allocation (*out); CP_ENOTFOUND "store: <what>" if
 * none. Resets q. */
int sq_get_one(sq_store *s, sqlite3_stmt *q, sq_row_fn fn, void *tmp,
    size_t size, const size_t *offs, size_t noffs, void **out,
    const char *what, cp_err *err);
/* Run statement id with ?1 = key and ?2 = now (when now >= 0). */
int sq_run_key(sq_store *s, sq_stmt_id id, int64_t key, int64_t now,
    cp_err *err);
/* A single integer result of q (bound), or CP_ENOTFOUND; resets q. */
int sq_get_int(sq_store *s, sqlite3_stmt *q, int64_t *out, cp_err *err);

/* migrations, compiled from src/store/migrations/sqlite/ */
extern const cp_store_migration cp_store_sqlite_migrations[];
extern const size_t cp_store_sqlite_migrations_n;
/* Apply migrations m[0..n) that db has not got yet; exposed for tests. */
int sq_migrate_with(sqlite3 *db, const cp_store_migration *m, size_t n,
    cp_err *err);

/* sqlite_model.c */
int sq_add_tenant(cp_store *st, cp_tenant *t, cp_err *err);
int sq_list_tenants(cp_store *st, cp_tenant_cb cb, void *arg, cp_err *err);
int sq_get_tenant(cp_store *st, const char *name, int64_t id, cp_tenant **out,
    cp_err *err);
int sq_remove_tenant(cp_store *st, const char *name, int force, int64_t now,
    cp_err *err);
int sq_add_pool(cp_store *st, cp_pool *p, cp_err *err);
int sq_list_pools(cp_store *st, int64_t tenant, cp_pool_cb cb, void *arg,
    cp_err *err);
int sq_get_pool(cp_store *st, const char *addr, cp_pool **out, cp_err *err);
int sq_remove_pool(cp_store *st, const char *addr, cp_err *err);
int sq_add_domain(cp_store *st, cp_domain *d, cp_err *err);
int sq_list_domains(cp_store *st, int64_t tenant, cp_domain_cb cb, void *arg,
    cp_err *err);
int sq_get_domain(cp_store *st, const char *name, cp_domain **out,
    cp_err *err);
int sq_remove_domain(cp_store *st, const char *name, int force, cp_err *err);
int sq_set_domain_key(cp_store *st, const cp_domain *d, cp_err *err);
int sq_add_mailbox(cp_store *st, cp_mailbox *m, cp_err *err);
int sq_list_mailboxes(cp_store *st, int64_t tenant, cp_mailbox_cb cb,
    void *arg, cp_err *err);
int sq_get_mailbox(cp_store *st, const char *address, cp_mailbox **out,
    cp_err *err);
int sq_remove_mailbox(cp_store *st, const char *address, cp_err *err);
int sq_set_pwhash(cp_store *st, const char *address, const char *hash,
    cp_err *err);

/* sqlite_queue.c */
int sq_insert_message(cp_store *st, cp_envelope *env, const void *body,
    size_t len, cp_err *err);
int sq_claim_due(cp_store *st, int64_t now, const char *node, int lease_s,
    size_t max, cp_due_list **out, cp_err *err);
int sq_release_node(cp_store *st, const char *node, int64_t now, size_t *n,
    cp_err *err);
int sq_record_attempts(cp_store *st, const char *node, cp_attempt *v,
    size_t n, cp_err *err);
int sq_change(cp_store *st, int what, const cp_target *t, int64_t now,
    size_t *n, cp_err *err);
int sq_get_message(cp_store *st, int64_t id, cp_envelope **out, cp_err *err);
int sq_list_queue(cp_store *st, const cp_queue_filter *f, cp_rcpt_cb cb,
    void *arg, cp_err *err);
int sq_count_queue(cp_store *st, int64_t tenant, int64_t now,
    cp_queue_counts *out, cp_err *err);
int sq_list_attempts(cp_store *st, int64_t rcpt, int64_t message,
    int64_t since, size_t limit, cp_attempt_cb cb, void *arg, cp_err *err);
int sq_count_attempts(cp_store *st, int64_t since, cp_cause_count_cb cb,
    void *arg, cp_err *err);
int sq_read_body(cp_store *st, int64_t message, uint64_t offset, void *buf,
    size_t len, size_t *got, uint64_t *total, cp_err *err);
int sq_purge_bodies(cp_store *st, int64_t now, int64_t older_than,
    size_t max, size_t *n, cp_err *err);
int sq_expire_due(cp_store *st, int64_t now, size_t max, cp_due_list **out,
    cp_err *err);

/* sqlite_policy.c */
int sq_take_cap(cp_store *st, int64_t mailbox, int64_t day, int64_t cap,
    const char *key, int *taken, int64_t *used, cp_err *err);
int sq_get_cap_usage(cp_store *st, int64_t mailbox, int64_t day,
    int64_t *used, cp_err *err);
int sq_purge_cap_usage(cp_store *st, int64_t day, size_t *n, cp_err *err);
int sq_put_provider_state(cp_store *st, const cp_provider_state *ps,
    cp_provider_event *ev, cp_err *err);
int sq_list_provider_states(cp_store *st, cp_provider_state_cb cb, void *arg,
    cp_err *err);
int sq_list_provider_events(cp_store *st, int64_t since, size_t limit,
    cp_provider_event_cb cb, void *arg, cp_err *err);
int sq_add_suppression(cp_store *st, const cp_suppression *sp, int *added,
    cp_err *err);
int sq_remove_suppression(cp_store *st, int64_t tenant, const char *address,
    cp_err *err);
int sq_get_suppression(cp_store *st, int64_t tenant, const char *address,
    cp_suppression **out, cp_err *err);
int sq_list_suppressions(cp_store *st, int64_t tenant, cp_suppression_cb cb,
    void *arg, cp_err *err);

/* sqlite_inbound.c */
int sq_insert_inbound(cp_store *st, cp_inbound *in, const void *data,
    size_t len, cp_err *err);
int sq_finish_inbound(cp_store *st, int64_t id, const char *kind,
    const char *result, int64_t now, cp_err *err);
int sq_list_inbound(cp_store *st, int64_t after, size_t limit,
    int pending_only, cp_inbound_cb cb, void *arg, cp_err *err);
int sq_get_inbound_body(cp_store *st, int64_t id, cp_buf *out, cp_err *err);
int sq_get_recipient(cp_store *st, int64_t rcpt, cp_due_list **out,
    cp_err *err);
int sq_record_late(cp_store *st, cp_attempt *a, int *changed, cp_err *err);
int sq_tenant_unsubscribe(cp_store *st, int64_t tenant, int set, int *on,
    cp_err *err);

/* sqlite_webhook.c */
int sq_add_webhook(cp_store *st, cp_webhook_endpoint *w, cp_err *err);
int sq_list_webhooks(cp_store *st, int64_t tenant, cp_webhook_endpoint_cb cb,
    void *arg, cp_err *err);
int sq_get_webhook(cp_store *st, int64_t id, cp_webhook_endpoint **out,
    cp_err *err);
int sq_remove_webhook(cp_store *st, int64_t tenant, int64_t id, cp_err *err);
int sq_enqueue_webhook_event(cp_store *st, int64_t tenant, const char *event,
    const char *payload, int64_t now, size_t *n, cp_err *err);
int sq_claim_webhooks(cp_store *st, int64_t now, const char *node,
    int lease_s, size_t max, cp_webhook_delivery_list **out, cp_err *err);
int sq_release_webhooks(cp_store *st, const char *node, int64_t now,
    size_t *n, cp_err *err);
int sq_finish_webhook(cp_store *st, int64_t id, cp_err *err);
int sq_retry_webhook(cp_store *st, int64_t id, int64_t next_attempt,
    const char *error, int dead, cp_err *err);
int sq_list_webhook_deliveries(cp_store *st, int64_t webhook, int dead,
    size_t limit, cp_webhook_delivery_cb cb, void *arg, cp_err *err);
int sq_count_webhook_deliveries(cp_store *st, int64_t webhook, int64_t *live,
    int64_t *dead, cp_err *err);

/* sqlite_http.c: the HTTP API's keys, listings and statistics */
int sq_add_apikey(cp_store *st, cp_apikey *k, cp_err *err);
int sq_find_apikey(cp_store *st, const char *hash, cp_apikey **out,
    cp_err *err);
int sq_list_apikeys(cp_store *st, int64_t tenant, cp_apikey_cb cb, void *arg,
    cp_err *err);
int sq_remove_apikey(cp_store *st, int64_t id, cp_err *err);
int sq_list_messages(cp_store *st, const cp_message_filter *f,
    cp_envelope_cb cb, void *arg, cp_err *err);
int sq_stat_attempts(cp_store *st, int64_t tenant, int64_t from, int64_t to,
    cp_attempt_stat_cb cb, void *arg, cp_err *err);
int sq_count_accepted(cp_store *st, int64_t tenant, int64_t from, int64_t to,
    int64_t *messages, int64_t *rcpts, cp_err *err);

#endif
