/*
 * store_int.h - the backend table behind store.h, and what store.c shares
 * with backends.
 *
 * store.c checks every input, takes the lock and calls the backend through
 * struct cp_store_ops; a backend (sqlite/, later postgres/) embeds a
 * struct cp_store as its first member. Backends may trust their inputs:
 * strings are within limits, ids > 0, exactly one target set.
 */
#ifndef COLDPOST_STORE_INT_H
#define COLDPOST_STORE_INT_H

#include <pthread.h>

#include "coldpost/store.h"

/* One numbered schema step, compiled in from migrations/<backend>/. */
typedef struct cp_store_migration {
	int version;
	const char *name; /* "0001_init" */
	const char *sql;
} cp_store_migration;

/* Operator commands (cp_store_hold ...). */
enum { STORE_HOLD, STORE_RELEASE, STORE_CANCEL, STORE_RETRY };

struct cp_store_ops {
	const char *scheme;
	/* open the rest of the DSN (after "scheme:"); NULL + err on failure */
	cp_store *(*open)(const char *where, cp_err *err);
	void (*close)(cp_store *st);
	int (*migrate)(cp_store *st, cp_err *err);
	int (*schema_version)(cp_store *st, int *have, int *known, cp_err *err);
	int (*check)(cp_store *st, cp_err *err);

	/* batches: store.c keeps st->in_batch */
	int (*begin)(cp_store *st, cp_err *err);
	int (*commit)(cp_store *st, cp_err *err);
	void (*rollback)(cp_store *st);

	int (*add_tenant)(cp_store *st, cp_tenant *t, cp_err *err);
	int (*list_tenants)(cp_store *st, cp_tenant_cb cb, void *arg,
	    cp_err *err);
	/* by name, or by id when name is NULL */
	int (*get_tenant)(cp_store *st, const char *name, int64_t id,
	    cp_tenant **out, cp_err *err);
	int (*remove_tenant)(cp_store *st, const char *name, int force,
	    int64_t now, cp_err *err);

	int (*add_pool)(cp_store *st, cp_pool *p, cp_err *err);
	int (*list_pools)(cp_store *st, int64_t tenant, cp_pool_cb cb,
	    void *arg, cp_err *err);
	int (*get_pool)(cp_store *st, const char *addr, cp_pool **out,
	    cp_err *err);
	int (*remove_pool)(cp_store *st, const char *addr, cp_err *err);

	int (*add_domain)(cp_store *st, cp_domain *d, cp_err *err);
	int (*list_domains)(cp_store *st, int64_t tenant, cp_domain_cb cb,
	    void *arg, cp_err *err);
	int (*get_domain)(cp_store *st, const char *name, cp_domain **out,
	    cp_err *err);
	int (*remove_domain)(cp_store *st, const char *name, int force,
	    cp_err *err);
	/* d->name lower case; selector, alg and one of key_pem/key_path */
	int (*set_domain_key)(cp_store *st, const cp_domain *d, cp_err *err);

	/* m->address has its domain in lower case already */
	int (*add_mailbox)(cp_store *st, cp_mailbox *m, cp_err *err);
	int (*list_mailboxes)(cp_store *st, int64_t tenant, cp_mailbox_cb cb,
	    void *arg, cp_err *err);
	int (*get_mailbox)(cp_store *st, const char *address,
	    cp_mailbox **out, cp_err *err);
	int (*remove_mailbox)(cp_store *st, const char *address, cp_err *err);
	int (*set_pwhash)(cp_store *st, const char *address,
	    const char *hash, cp_err *err);

	/* env->size set by store.c; env->expires resolved (never 0) */
	int (*insert_message)(cp_store *st, cp_envelope *env,
	    const void *body, size_t len, cp_err *err);
	int (*claim_due)(cp_store *st, int64_t now, const char *node,
	    int lease_s, size_t max, cp_due_list **out, cp_err *err);
	int (*release_node)(cp_store *st, const char *node, int64_t now,
	    size_t *n, cp_err *err);
	int (*record_attempts)(cp_store *st, const char *node, cp_attempt *v,
	    size_t n, cp_err *err);
	int (*change)(cp_store *st, int what, const cp_target *t, int64_t now,
	    size_t *n, cp_err *err);
	int (*get_message)(cp_store *st, int64_t id, cp_envelope **out,
	    cp_err *err);
	int (*list_queue)(cp_store *st, const cp_queue_filter *f,
	    cp_rcpt_cb cb, void *arg, cp_err *err);
	int (*count_queue)(cp_store *st, int64_t tenant, int64_t now,
	    cp_queue_counts *out, cp_err *err);
	int (*list_attempts)(cp_store *st, int64_t rcpt, int64_t message,
	    int64_t since, size_t limit, cp_attempt_cb cb, void *arg,
	    cp_err *err);
	int (*count_attempts)(cp_store *st, int64_t since,
	    cp_cause_count_cb cb, void *arg, cp_err *err);
	int (*read_body)(cp_store *st, int64_t message, uint64_t offset,
	    void *buf, size_t len, size_t *got, uint64_t *total, cp_err *err);
	int (*purge_bodies)(cp_store *st, int64_t now, int64_t older_than,
	    size_t max, size_t *n, cp_err *err);
	int (*expire_due)(cp_store *st, int64_t now, size_t max,
	    cp_due_list **out, cp_err *err);

	/* sending policy (store_policy.c checks the inputs) */
	int (*take_cap)(cp_store *st, int64_t mailbox, int64_t day,
	    int64_t cap, const char *key, int *taken, int64_t *used,
	    cp_err *err);
	int (*get_cap_usage)(cp_store *st, int64_t mailbox, int64_t day,
	    int64_t *used, cp_err *err);
	int (*purge_cap_usage)(cp_store *st, int64_t day, size_t *n,
	    cp_err *err);
	int (*put_provider_state)(cp_store *st, const cp_provider_state *s,
	    cp_provider_event *ev, cp_err *err);
	int (*list_provider_states)(cp_store *st, cp_provider_state_cb cb,
	    void *arg, cp_err *err);
	int (*list_provider_events)(cp_store *st, int64_t since, size_t limit,
	    cp_provider_event_cb cb, void *arg, cp_err *err);
	int (*add_suppression)(cp_store *st, const cp_suppression *s,
	    int *added, cp_err *err);
	int (*remove_suppression)(cp_store *st, int64_t tenant,
	    const char *address, cp_err *err);
	int (*get_suppression)(cp_store *st, int64_t tenant,
	    const char *address, cp_suppression **out, cp_err *err);
	int (*list_suppressions)(cp_store *st, int64_t tenant,
	    cp_suppression_cb cb, void *arg, cp_err *err);

	/* inbound mail (store_inbound.c checks the inputs) */
	int (*insert_inbound)(cp_store *st, cp_inbound *in, const void *data,
	    size_t len, cp_err *err);
	int (*finish_inbound)(cp_store *st, int64_t id, const char *kind,
	    const char *result, int64_t now, cp_err *err);
	int (*list_inbound)(cp_store *st, int64_t after, size_t limit,
	    int pending_only, cp_inbound_cb cb, void *arg, cp_err *err);
	int (*get_inbound_body)(cp_store *st, int64_t id, cp_buf *out,
	    cp_err *err);
	int (*get_recipient)(cp_store *st, int64_t rcpt, cp_due_list **out,
	    cp_err *err);
	int (*record_late)(cp_store *st, cp_attempt *a, int *changed,
	    cp_err *err);
	int (*tenant_unsubscribe)(cp_store *st, int64_t tenant, int set,
	    int *on, cp_err *err);

	/* webhooks (store_webhook.c checks the inputs) */
	int (*add_webhook)(cp_store *st, cp_webhook_endpoint *w, cp_err *err);
	int (*list_webhooks)(cp_store *st, int64_t tenant,
	    cp_webhook_endpoint_cb cb, void *arg, cp_err *err);
	int (*get_webhook)(cp_store *st, int64_t id,
	    cp_webhook_endpoint **out, cp_err *err);
	int (*remove_webhook)(cp_store *st, int64_t tenant, int64_t id,
	    cp_err *err);
	int (*enqueue_webhook_event)(cp_store *st, int64_t tenant,
	    const char *event, const char *payload, int64_t now, size_t *n,
	    cp_err *err);
	int (*claim_webhooks)(cp_store *st, int64_t now, const char *node,
	    int lease_s, size_t max, cp_webhook_delivery_list **out,
	    cp_err *err);
	int (*release_webhooks)(cp_store *st, const char *node, int64_t now,
	    size_t *n, cp_err *err);
	int (*finish_webhook)(cp_store *st, int64_t id, cp_err *err);
	int (*retry_webhook)(cp_store *st, int64_t id, int64_t next_attempt,
	    const char *error, int dead, cp_err *err);
	int (*list_webhook_deliveries)(cp_store *st, int64_t webhook, int dead,
	    size_t limit, cp_webhook_delivery_cb cb, void *arg, cp_err *err);
	int (*count_webhook_deliveries)(cp_store *st, int64_t webhook,
	    int64_t *live, int64_t *dead, cp_err *err);

	/* HTTP API (store_http.c checks the inputs) */
	int (*add_apikey)(cp_store *st, cp_apikey *k, cp_err *err);
	int (*find_apikey)(cp_store *st, const char *hash, cp_apikey **out,
	    cp_err *err);
	int (*list_apikeys)(cp_store *st, int64_t tenant, cp_apikey_cb cb,
	    void *arg, cp_err *err);
	int (*remove_apikey)(cp_store *st, int64_t id, cp_err *err);
	int (*list_messages)(cp_store *st, const cp_message_filter *f,
	    cp_envelope_cb cb, void *arg, cp_err *err);
	int (*stat_attempts)(cp_store *st, int64_t tenant, int64_t from,
	    int64_t to, cp_attempt_stat_cb cb, void *arg, cp_err *err);
	int (*count_accepted)(cp_store *st, int64_t tenant, int64_t from,
	    int64_t to, int64_t *messages, int64_t *rcpts, cp_err *err);
};

/* The generic part of every store; backends embed it first. */
struct cp_store {
	const struct cp_store_ops *ops;
	pthread_mutex_t lock;  /* recursive; held for a whole batch */
	int in_batch;          /* between begin and commit/rollback */
	int batch_broken;      /* the backend lost the batch's transaction */
	uint64_t commits;      /* counted by the backend's commit hook */
	uint64_t rollbacks;
	cp_hist commit_latency; /* the backend times its COMMITs */
};

extern const struct cp_store_ops cp_store_sqlite_ops;

/* store.c: the lock (recursive), the clock for "0 = now", common checks */
void store_lock(cp_store *st);
void store_unlock(cp_store *st);
int64_t store_now(int64_t t);
int store_check_id(int64_t id, const char *what, cp_err *err);
int store_check_out(const void *out, cp_err *err);

/*
 * One allocation holding a copy of the record rec (size bytes) and of the
 * strings its const char * fields at offs[0..n) point to (NULL stays
 * NULL), the copy's fields pointing at the copies. NULL: out of memory.
 */
void *store_rec_dup(const void *rec, size_t size, const size_t *offs,
    size_t n);

/* Building a cp_due_list row by row (strings copied at once). */
typedef struct store_due_builder {
	cp_due *v;
	size_t n, cap;
	size_t *soff; /* per row, per string field: offset + 1, 0 = NULL */
	cp_buf pool;
} store_due_builder;
void store_due_builder_init(store_due_builder *b);
int store_due_builder_add(store_due_builder *b, const cp_due *d);
/* The list (the builder is emptied), or NULL: out of memory. */
cp_due_list *store_due_builder_finish(store_due_builder *b);
void store_due_builder_clear(store_due_builder *b);

/* Input checks (store_check.c); "what" names the field in messages. */
int store_check_name(const char *s, const char *what, cp_err *err);
#define STORE_IP_MAX 45 /* INET6_ADDRSTRLEN - 1 */
int store_check_ip(const char *s, const char *what, cp_err *err);
/* The address in canonical form ("2001:db8::7", lower case, shortest). */
int store_norm_ip(const char *s, char out[STORE_IP_MAX + 1], const char *what,
    cp_err *err);
int store_check_tz(const char *s, cp_err *err);
int store_check_pem(const char *s, cp_err *err);
int store_check_path(const char *s, const char *what, cp_err *err);
int store_check_alg(const char *s, cp_err *err);
int store_check_msgid(const char *s, cp_err *err);
int store_check_token(const char *s, const char *what, cp_err *err);
int store_check_enhanced(const char *s, cp_err *err);
int store_check_host(const char *s, const char *what, cp_err *err);
int store_check_password(const char *pw, size_t len, cp_err *err);
int store_check_address_str(const char *s, const char *what, int allow_empty,
    cp_err *err);
int store_check_domain_str(const char *s, const char *what, cp_err *err);
/* a string that is present (non-NULL) at all */
int store_check_present(const void *p, const char *what, cp_err *err);

#endif
