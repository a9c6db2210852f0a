/*
 * store.h - the durable store: tenants, pools, domains, mailboxes and the
 * queue (messages, recipients, attempts).
 *
 * One interface, backends behind it chosen by the scheme of the DSN:
 * cp_store_open("sqlite:/var/lib/coldpost/queue.db"); a "postgres:" backend
 * slots in later and must pass the same contract test
 * (tests/unit/store/test_store_contract.c). SQL lives only in the backends.
 *
 * Durability: every call that changes state returns only after the change
 * is on disk (SQLite: WAL, synchronous=FULL), except inside a batch
 * (cp_store_begin ... cp_store_commit), where the whole batch becomes
 * durable at once in cp_store_commit: that is group commit, one sync for
 * many messages. Inside a batch each call is still atomic on its own: a
 * call that fails leaves nothing of itself and the batch goes on.
 *
 * Threads: a cp_store may be shared by threads; calls are serialized by a
 * lock. A batch holds the lock from cp_store_begin to cp_store_commit, so
 * other threads wait for it and only the thread that began it adds to it.
 * Password hashing runs outside the lock.
 *
 * Time: the store never reads the clock for queue decisions; calls take
 * `now` (unix seconds), so tests and the scheduler inject time.
 *
 * Records: plain structs of ids, numbers and const char * strings. In
 * input records the strings belong to the caller and are copied. Records
 * the store returns are one allocation each (strings included), freed with
 * the matching _free; records handed to a list callback are valid only
 * during the callback, and the callback must not call into the same store.
 *
 * Errors: CP_EINVAL / CP_ETOOBIG for bad input (err names the field and the
 * limit), CP_ENOTFOUND, CP_EIO (disk full, I/O), CP_ETEMP (database busy
 * past the busy timeout), CP_ESTORE (anything else from the backend, and a
 * database newer than this code), CP_ENOMEM.
 */
#ifndef COLDPOST_STORE_H
#define COLDPOST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/err.h"
#include "coldpost/hist.h"

/* Input limits, in bytes (checked before anything reaches a backend). */
#define CP_STORE_NAME_MAX 64       /* tenant name, node id */
#define CP_STORE_DOMAIN_MAX 253    /* domain, EHLO name, selector, MX host */
#define CP_STORE_ADDR_MAX 254      /* mailbox (RFC 5321 4.5.3.1.3 path - 2) */
#define CP_STORE_LOCAL_MAX 64      /* local part (RFC 5321 4.5.3.1.1) */
#define CP_STORE_TZ_MAX 64         /* "America/Argentina/Buenos_Aires" */
#define CP_STORE_MSGID_MAX 998     /* Message-ID (RFC 5322 2.1.1 line) */
#define CP_STORE_PEM_MAX 16384     /* DKIM private key in PEM */
#define CP_STORE_PATH_MAX 4096     /* DKIM key file path */
#define CP_STORE_TOKEN_MAX 64      /* cause, reason, receiver */
#define CP_STORE_REPLY_MAX 4096    /* receiver reply text: longer is cut */
#define CP_STORE_PASSWORD_MAX 1024
#define CP_STORE_RCPTS_MAX 100000  /* recipients per message */
#define CP_STORE_BODY_MAX (256u * 1024 * 1024)
#define CP_STORE_BATCH_MAX 100000  /* claim / sweep / purge batch size */
#define CP_STORE_EXPIRE_DEFAULT (5 * 86400) /* recipient expiry: 5 days */

typedef struct cp_store cp_store;

/* ---- lifecycle -------------------------------------------------------- */

/*
 * Open the store at dsn ("sqlite:PATH"; the file is created with mode
 * 0600 if missing) and bring its schema up to date (cp_store_migrate).
 * A database whose schema is newer than this code is refused (CP_ESTORE,
 * "store: schema version 9 is newer than this coldpost knows (3)").
 * Returns NULL and fills err on failure; free with cp_store_close.
 */
cp_store *cp_store_open(const char *dsn, cp_err *err);
void cp_store_close(cp_store *st); /* NULL is fine; rolls back an open batch */

/* Apply pending migrations, each in its own transaction, in order. */
int cp_store_migrate(cp_store *st, cp_err *err);
/* The schema version of the database and the newest this code knows. */
int cp_store_schema_version(cp_store *st, int *have, int *known, cp_err *err);
/* Consistency check of the database (SQLite: PRAGMA integrity_check);
 * CP_ESTORE with the first problem in err when it fails. */
int cp_store_check(cp_store *st, cp_err *err);
/* "sqlite", ... */
const char *cp_store_scheme(const cp_store *st);

typedef struct cp_store_stats {
	uint64_t commits;   /* write transactions committed (each one sync) */
	uint64_t rollbacks; /* write transactions rolled back */
	cp_hist commit_latency; /* time of each COMMIT (the sync) */
} cp_store_stats;
void cp_store_get_stats(cp_store *st, cp_store_stats *out);

/* ---- model: tenants, pools, domains, mailboxes ------------------------ */

/*
 * Names are unique (case-insensitive). Each add sets rec->id; created 0
 * means now. A list callback returns 0 to go on, anything else to stop.
 * Removing what does not exist is CP_ENOTFOUND.
 */
typedef struct cp_tenant {
	int64_t id;          /* set by the store */
	const char *name;    /* 1..64: letters, digits, '.', '_', '-' */
	int64_t created;     /* unix seconds */
	int32_t mailbox_cap; /* default daily cap of its mailboxes; 0: none */
} cp_tenant;

/* One source address of a tenant's IP pool, with the EHLO name used from
 * it. An address belongs to one tenant only. */
typedef struct cp_pool {
	int64_t id;
	int64_t tenant;   /* tenant id */
	const char *addr; /* IPv4 or IPv6 literal: "192.0.2.7", "2001:db8::7" */
	const char *ehlo; /* host name said in EHLO from this address */
	int64_t created;
} cp_pool;

/* A sending domain and its DKIM key; a domain belongs to one tenant. */
typedef struct cp_domain {
	int64_t id;
	int64_t tenant;
	const char *name;     /* "acme.example", stored in lower case */
	const char *selector; /* DKIM selector: "s2025" */
	const char *key_pem;  /* private key PEM, or NULL ... */
	const char *key_path; /* ... absolute path of a PEM file: one of both */
	const char *alg;      /* "rsa-sha256" or "ed25519-sha256" */
	int64_t created;
} cp_domain;

/* A submission login. Its address's domain must be one of its tenant's
 * domains (so a tenant never sends as another's domain). */
typedef struct cp_mailbox {
	int64_t id;
	int64_t tenant;
	int64_t domain;       /* set by the store from the address */
	const char *address;  /* "ann@acme.example" */
	const char *pwhash;   /* Argon2id string; "" until a password is set.
	                         Ignored on add: use cp_store_set_password */
	const char *tz;       /* IANA time zone ("Europe/Paris", "UTC") */
	int64_t created;
	int32_t daily_cap;    /* -1: the tenant's default, 0: none, N */
	int send_as_domain;   /* 1: may send as any address of its domain */
} cp_mailbox;

typedef int (*cp_tenant_cb)(void *arg, const cp_tenant *t);
typedef int (*cp_pool_cb)(void *arg, const cp_pool *p);
typedef int (*cp_domain_cb)(void *arg, const cp_domain *d);
typedef int (*cp_mailbox_cb)(void *arg, const cp_mailbox *m);

int cp_store_add_tenant(cp_store *st, cp_tenant *t, cp_err *err);
int cp_store_list_tenants(cp_store *st, cp_tenant_cb cb, void *arg,
    cp_err *err);
/* *out is the caller's: cp_tenant_free. */
int cp_store_get_tenant(cp_store *st, const char *name, cp_tenant **out,
    cp_err *err);
int cp_store_get_tenant_by_id(cp_store *st, int64_t id, cp_tenant **out,
    cp_err *err);
/*
 * A tenant that still has mailboxes is refused (CP_EINVAL, with the
 * count) unless force: then its mailboxes, domains and pool go with it,
 * and its messages still waiting (queued, deferred, held) are cancelled.
 * Its pools and domains alone do not block the removal.
 */
int cp_store_remove_tenant(cp_store *st, const char *name, int force,
    int64_t now, cp_err *err);
void cp_tenant_free(cp_tenant *t);

int cp_store_add_pool(cp_store *st, cp_pool *p, cp_err *err);
/* tenant 0: every tenant's */
int cp_store_list_pools(cp_store *st, int64_t tenant, cp_pool_cb cb,
    void *arg, cp_err *err);
int cp_store_get_pool(cp_store *st, const char *addr, cp_pool **out,
    cp_err *err);
int cp_store_remove_pool(cp_store *st, const char *addr, cp_err *err);
void cp_pool_free(cp_pool *p);

int cp_store_add_domain(cp_store *st, cp_domain *d, cp_err *err);
int cp_store_list_domains(cp_store *st, int64_t tenant, cp_domain_cb cb,
    void *arg, cp_err *err);
int cp_store_get_domain(cp_store *st, const char *name, cp_domain **out,
    cp_err *err);
/* Refused while mailboxes use the domain, unless force (they go too). */
int cp_store_remove_domain(cp_store *st, const char *name, int force,
    cp_err *err);
void cp_domain_free(cp_domain *d);
/*
 * Key rotation: give domain d->name (which must exist: CP_ENOTFOUND) the
 * selector, alg and key (key_pem or key_path, one of both) of d; its id,
 * tenant and mailboxes stay. Other fields of d are ignored.
 */
int cp_store_set_domain_key(cp_store *st, const cp_domain *d, cp_err *err);

int cp_store_add_mailbox(cp_store *st, cp_mailbox *m, cp_err *err);
int cp_store_list_mailboxes(cp_store *st, int64_t tenant, cp_mailbox_cb cb,
    void *arg, cp_err *err);
int cp_store_get_mailbox(cp_store *st, const char *address,
    cp_mailbox **out, cp_err *err);
int cp_store_remove_mailbox(cp_store *st, const char *address, cp_err *err);
void cp_mailbox_free(cp_mailbox *m);

/*
 * Passwords: Argon2id (libsodium crypto_pwhash_str, interactive limits:
 * ~64 MiB and tens of milliseconds per call); only the hash is kept.
 * pw is 1..CP_STORE_PASSWORD_MAX bytes without NUL.
 * cp_store_verify_password sets *ok to 1 or 0 and returns CP_OK; an
 * unknown mailbox costs the same time as a wrong password and gives 0.
 * A hash made with weaker limits is upgraded on a successful verify.
 */
int cp_store_set_password(cp_store *st, const char *address, const char *pw,
    size_t pwlen, cp_err *err);
int cp_store_verify_password(cp_store *st, const char *address,
    const char *pw, size_t pwlen, int *ok, cp_err *err);

/* ---- the queue ---------------------------------------------------------- */

typedef enum cp_rcpt_state {
	CP_RCPT_QUEUED = 0,    /* waiting for a first attempt */
	CP_RCPT_DEFERRED = 1,  /* tried, 4xx: waiting for next_attempt */
	CP_RCPT_HELD = 2,      /* kept out of delivery by an operator */
	CP_RCPT_DELIVERED = 3, /* final: 2xx */
	CP_RCPT_BOUNCED = 4,   /* final: 5xx */
	CP_RCPT_EXPIRED = 5,   /* final: still not delivered at expiry */
	CP_RCPT_CANCELLED = 6, /* final: deleted by an operator */
	CP_RCPT_NSTATES
} cp_rcpt_state;

const char *cp_rcpt_state_name(int state); /* "queued", "?" if unknown */
int cp_rcpt_state_from_name(const char *name); /* -1 if unknown */
int cp_rcpt_state_final(int state);        /* delivered .. cancelled */

/*
 * A message as submitted. On insert the caller fills the inputs; size,
 * id and the output fields are set by the store.
 */
typedef struct cp_envelope {
	int64_t id;              /* set by the store */
	int64_t tenant;          /* > 0 */
	int64_t mailbox;         /* submitting mailbox, 0: trusted network */
	const char *mail_from;   /* MAIL FROM address, "" for the null sender */
	const char *return_path; /* return path used on delivery (VERP) */
	const char *const *rcpts; /* recipient addresses (input only) */
	size_t nrcpts;           /* 1..CP_STORE_RCPTS_MAX */
	int64_t size;            /* body bytes (set by the store) */
	int64_t received;        /* unix seconds, > 0 */
	int64_t expires;         /* recipients expire then; 0: received + 5 d */
	const char *message_id;  /* Message-ID header value, may be "" */
	int hold;                /* input: 1 = recipients start held */
	const char *lease_node;  /* input: non-NULL: recipients start leased
	                            to this node until lease_until (the
	                            relay hands them to delivery in memory;
	                            after a crash the lease runs out and they
	                            are due again) */
	int64_t lease_until;     /* input, with lease_node */
	int64_t *rcpt_ids;       /* output, may be NULL: nrcpts entries, the
	                            recipients' ids in rcpts order */
	/* output only (cp_store_get_message) */
	int64_t nopen;           /* recipients not final yet */
	int64_t finished;        /* when the last one became final, or 0 */
	int body_purged;         /* the body is gone (retention) */
} cp_envelope;

/* One recipient row. */
typedef struct cp_rcpt {
	int64_t id;
	int64_t message;
	const char *address;
	int state;               /* cp_rcpt_state */
	int attempts;
	int64_t next_attempt;
	int64_t expires;
	int64_t updated;         /* last state change */
	const char *owner;       /* node holding the lease, or NULL */
	int64_t lease_until;     /* in flight while owner && now < lease_until */
	/* the last answer and its classification (NULL / 0 before any) */
	const char *last_reply;
	int last_code;
	const char *last_enhanced;
	const char *last_cause;
	const char *last_reason;
	const char *last_receiver;
} cp_rcpt;

/* A recipient with what delivery needs of its message. */
typedef struct cp_due {
	cp_rcpt rcpt;
	int64_t tenant;
	int64_t mailbox;
	const char *mail_from;
	const char *return_path;
	const char *message_id;
	int64_t size;
	int64_t received;
} cp_due;

typedef struct cp_due_list {
	size_t n;
	cp_due *v;  /* n entries */
	void *mem_; /* their strings */
} cp_due_list;
void cp_due_list_free(cp_due_list *l); /* NULL is fine */

/*
 * Insert one message: envelope, body and every recipient in one
 * transaction; env->id and env->size are set. Durable on return (outside
 * a batch). The body is bytes (any, up to CP_STORE_BODY_MAX).
 */
int cp_store_insert_message(cp_store *st, cp_envelope *env,
    const void *body, size_t len, cp_err *err);

/*
 * Group commit. cp_store_begin opens a batch; every write call from this
 * thread joins it (each call atomic on its own) until cp_store_commit
 * makes all of it durable with one sync. cp_store_rollback drops it.
 * After a failure that the backend cannot recover inside the batch (I/O
 * error, disk full), cp_store_commit fails and nothing of the batch stays.
 */
int cp_store_begin(cp_store *st, cp_err *err);
int cp_store_commit(cp_store *st, cp_err *err);
void cp_store_rollback(cp_store *st);

/* One pending insert for cp_store_insert_many. */
typedef struct cp_insert {
	cp_envelope env;    /* env.id set on success */
	const void *body;
	size_t len;
	int rc;             /* out: CP_OK or why this one failed */
	cp_err err;         /* out: the message for rc */
} cp_insert;

/*
 * Insert n messages in one transaction (one sync). Each item succeeds or
 * fails alone (v[i].rc); the call returns CP_OK when the commit succeeded
 * (the items with rc CP_OK are durable), else the commit's error (then
 * every item has that rc).
 */
int cp_store_insert_many(cp_store *st, cp_insert *v, size_t n, cp_err *err);

/*
 * Claim up to max due recipients (queued or deferred, next_attempt <= now;
 * never held), the earliest next_attempt first, for node, leased for
 * lease_s seconds: until then nobody else gets them; if the node does not
 * record an outcome by then (it crashed), they come back by themselves.
 * *out (the caller's) may hold 0 entries.
 */
int cp_store_claim_due(cp_store *st, int64_t now, const char *node,
    int lease_s, size_t max, cp_due_list **out, cp_err *err);
/* Give back every lease node holds (its restart): due again at now. */
int cp_store_release_node(cp_store *st, const char *node, int64_t now,
    size_t *n, cp_err *err);

/* One delivery attempt of one recipient and its outcome. */
typedef struct cp_attempt {
	int64_t id;             /* set by the store */
	int64_t rcpt;           /* recipient id */
	int64_t message;        /* output only (listing) */
	int64_t time;           /* when the attempt started */
	const char *mx;         /* host tried, "" when none was reached */
	const char *source_ip;  /* source address used, "" if none */
	const char *reply;      /* the receiver's reply, lines joined by CRLF,
	                           "" if none; cut at CP_STORE_REPLY_MAX */
	int code;               /* basic reply code, 0 if none */
	const char *enhanced;   /* "5.7.1" or "" */
	const char *cause;      /* cp_cause_name(), or "" */
	const char *reason;     /* or "" */
	const char *receiver;   /* "gmail", "unknown", or "" */
	int64_t duration_ms;
	int outcome;            /* DELIVERED, DEFERRED, BOUNCED or EXPIRED */
	int64_t next_attempt;   /* when DEFERRED: the next try */
} cp_attempt;

/*
 * Record n attempts with their outcomes in one transaction (all or
 * nothing) and clear the leases node holds on them. A recipient that
 * changed meanwhile keeps what an operator decided: DELIVERED and BOUNCED
 * always apply (they are facts) unless it is already delivered or bounced;
 * DEFERRED applies to queued/deferred recipients (a held one stays held);
 * EXPIRED to queued/deferred/held. The attempt itself is always recorded.
 * Sets v[i].id. CP_ENOTFOUND if a recipient does not exist.
 */
int cp_store_record_attempts(cp_store *st, const char *node, cp_attempt *v,
    size_t n, cp_err *err);

/* What an operator command applies to: a message or one recipient. */
typedef struct cp_target {
	int64_t message; /* all of its recipients, or */
	int64_t rcpt;    /* this one (exactly one of both is non-zero) */
} cp_target;

/*
 * Operator commands; *n (may be NULL) counts the recipients changed.
 * hold:    queued/deferred -> held
 * release: held -> queued (never tried) or deferred, due now
 * cancel:  queued/deferred/held -> cancelled ("queue delete")
 * retry:   queued/deferred not in flight -> due now
 * CP_ENOTFOUND if the message or recipient does not exist.
 */
int cp_store_hold(cp_store *st, const cp_target *t, int64_t now, size_t *n,
    cp_err *err);
int cp_store_release(cp_store *st, const cp_target *t, int64_t now,
    size_t *n, cp_err *err);
int cp_store_cancel(cp_store *st, const cp_target *t, int64_t now, size_t *n,
    cp_err *err);
int cp_store_retry_now(cp_store *st, const cp_target *t, int64_t now,
    size_t *n, cp_err *err);

/* Envelope of a message (rcpts NULL: list them with cp_store_list_queue);
 * *out is the caller's: cp_envelope_free. */
int cp_store_get_message(cp_store *st, int64_t id, cp_envelope **out,
    cp_err *err);
void cp_envelope_free(cp_envelope *e);

typedef struct cp_queue_filter {
	int64_t tenant;  /* 0: all */
	int64_t message; /* 0: all */
	int state;       /* cp_rcpt_state, or -1 for any */
	int64_t after;   /* resume after this recipient id (paging), 0: start */
	size_t limit;    /* 0: no limit */
} cp_queue_filter;

typedef int (*cp_rcpt_cb)(void *arg, const cp_rcpt *r);
/* Recipients in id order; streams, never loads the queue into memory. */
int cp_store_list_queue(cp_store *st, const cp_queue_filter *f,
    cp_rcpt_cb cb, void *arg, cp_err *err);

typedef struct cp_queue_counts {
	int64_t state[CP_RCPT_NSTATES]; /* recipients per state */
	int64_t inflight;               /* queued/deferred leased at now */
	int64_t due;                    /* queued/deferred due at now */
} cp_queue_counts;
int cp_store_count_queue(cp_store *st, int64_t tenant, int64_t now,
    cp_queue_counts *out, cp_err *err);

typedef int (*cp_attempt_cb)(void *arg, const cp_attempt *a);
/* Attempts of a recipient (rcpt != 0) or of a message (message != 0), or
 * the latest since `since` (both 0), newest first, at most limit (0: all). */
int cp_store_list_attempts(cp_store *st, int64_t rcpt, int64_t message,
    int64_t since, size_t limit, cp_attempt_cb cb, void *arg, cp_err *err);

/* Attempts since `since`, counted by cause and outcome (cause "" for
 * deliveries and unclassified answers), for `coldpost status`. */
typedef int (*cp_cause_count_cb)(void *arg, const char *cause, int outcome,
    int64_t n);
int cp_store_count_attempts(cp_store *st, int64_t since,
    cp_cause_count_cb cb, void *arg, cp_err *err);

/*
 * Body, streamed: read up to len bytes at offset into buf; *got is what
 * was read (0 at the end), *total (may be NULL) the body's size.
 * CP_ENOTFOUND if the message has no body (unknown, or purged).
 */
int cp_store_read_body(cp_store *st, int64_t message, uint64_t offset,
    void *buf, size_t len, size_t *got, uint64_t *total, cp_err *err);
/* The whole body appended to out (its max applies). */
int cp_store_get_body(cp_store *st, int64_t message, cp_buf *out,
    cp_err *err);

/*
 * Retention: drop the bodies of up to max messages whose recipients all
 * became final at least older_than seconds before now. *n: bodies dropped.
 * Call again while *n == max.
 */
int cp_store_purge_bodies(cp_store *st, int64_t now, int64_t older_than,
    size_t max, size_t *n, cp_err *err);

/*
 * Expiry: up to max queued/deferred recipients whose expiry is <= now and
 * that are not in flight become expired, and are returned in *out (the
 * caller's) so that a DSN can be sent. Held recipients never expire.
 * Call again while (*out)->n == max.
 */
int cp_store_expire_due(cp_store *st, int64_t now, size_t max,
    cp_due_list **out, cp_err *err);

/* ---- sending policy (issue 5: caps, provider pacing, suppression) ------- */

/*
 * Daily cap usage of a mailbox on one local day (day: days since
 * 1970-01-01 of the mailbox's local date, coldpost/policy.h). One call
 * checks and counts atomically, so the server and delivery threads never
 * both take the last unit:
 *   key already counted (a retry of a recipient counted before): *taken 1,
 *   nothing changes;
 *   cap > 0 and used >= cap: *taken 0;
 *   else used + 1, key (may be NULL) remembered, *taken 1.
 * *used (may be NULL) is the day's usage after the call. key is
 * 1..CP_STORE_ADDR_MAX + 64 bytes of text ("r:42").
 */
int cp_store_take_cap(cp_store *st, int64_t mailbox, int64_t day,
    int64_t cap, const char *key, int *taken, int64_t *used, cp_err *err);
/* Usage of a mailbox on a day (0 when nothing was counted). */
int cp_store_get_cap_usage(cp_store *st, int64_t mailbox, int64_t day,
    int64_t *used, cp_err *err);
/* Forget counted keys and usage rows of days before `day` (housekeeping);
 * *n (may be NULL): rows dropped. */
int cp_store_purge_cap_usage(cp_store *st, int64_t day, size_t *n,
    cp_err *err);

/* Pacing state of one (source IP, provider): see coldpost/policy.h. */
typedef struct cp_provider_state {
	const char *source_ip; /* "192.0.2.7" */
	const char *provider;  /* "google", "mx:mx1.example.net" (token) */
	int64_t rate;          /* messages per hour at ramp_from */
	int64_t ramp_from;     /* the rate climbs back from then on */
	int64_t paused_until;  /* nothing goes before then; 0: not paused */
	int64_t cuts;          /* times the rate was cut */
	int64_t updated;       /* unix seconds */
} cp_provider_state;

/* One decision of the pacing machine and its evidence. */
typedef struct cp_provider_event {
	int64_t id;            /* set by the store */
	int64_t time;
	const char *source_ip;
	const char *provider;
	const char *kind;      /* "cut", "pause", "slowdown", "start" */
	int64_t rate_before, rate_after; /* messages per hour */
	int64_t until;         /* end of the cool-down or pause, or 0 */
	const char *evidence;  /* the answers that caused it, one per line;
	                          cut at CP_STORE_REPLY_MAX */
} cp_provider_event;

typedef int (*cp_provider_state_cb)(void *arg, const cp_provider_state *s);
typedef int (*cp_provider_event_cb)(void *arg, const cp_provider_event *e);

/* Insert or replace the state of (s->source_ip, s->provider) and, when ev
 * is not NULL, add the event (ev->id set), in one transaction. */
int cp_store_put_provider_state(cp_store *st, const cp_provider_state *s,
    cp_provider_event *ev, cp_err *err);
/* Every state, by provider then source IP. */
int cp_store_list_provider_states(cp_store *st, cp_provider_state_cb cb,
    void *arg, cp_err *err);
/* Events at or after since, newest first, at most limit (0: all). */
int cp_store_list_provider_events(cp_store *st, int64_t since, size_t limit,
    cp_provider_event_cb cb, void *arg, cp_err *err);

/* A suppressed recipient of a tenant: never mailed again. */
typedef struct cp_suppression {
	int64_t tenant;
	const char *address;  /* compared without regard to ASCII case */
	const char *reason;   /* "bounce", "complaint", "unsubscribe",
	                         "manual" (cp_store_suppression_reason) */
	const char *note;     /* evidence or operator's note, may be "" */
	int64_t created;      /* 0 on add: now */
} cp_suppression;
typedef int (*cp_suppression_cb)(void *arg, const cp_suppression *s);

/* Is reason one of the four? */
int cp_store_suppression_reason(const char *reason);
/* Add; an address already there keeps its first reason and date. *added
 * (may be NULL): 1 when it was new. */
int cp_store_add_suppression(cp_store *st, const cp_suppression *s,
    int *added, cp_err *err);
int cp_store_remove_suppression(cp_store *st, int64_t tenant,
    const char *address, cp_err *err); /* CP_ENOTFOUND if absent */
/* *out the caller's (cp_suppression_free); CP_ENOTFOUND: not suppressed. */
int cp_store_get_suppression(cp_store *st, int64_t tenant,
    const char *address, cp_suppression **out, cp_err *err);
/* tenant 0: every tenant's; by tenant, then address. */
int cp_store_list_suppressions(cp_store *st, int64_t tenant,
    cp_suppression_cb cb, void *arg, cp_err *err);
void cp_suppression_free(cp_suppression *s);

/* ---- webhooks (issue 8: per-tenant endpoints and their outbox) ---------- */

#define CP_STORE_URL_MAX 2048      /* webhook URL */
#define CP_STORE_SECRET_MAX 256    /* webhook signing secret */
#define CP_STORE_EVENTS_MAX 256    /* webhook event filter */
#define CP_STORE_PAYLOAD_MAX 65536 /* one webhook body */

/* A tenant's webhook endpoint. The store knows no event names: events is
 * a filter of comma-separated tokens (coldpost/webhook.h names them). */
typedef struct cp_webhook_endpoint {
	int64_t id;          /* set by the store */
	int64_t tenant;      /* must exist (CP_ENOTFOUND) */
	const char *url;     /* "http://..." or "https://...", 1..2048 bytes
	                        of printable ASCII without spaces */
	const char *secret;  /* HMAC key: 1..256 printable ASCII bytes */
	const char *events;  /* "delivered,bounced"; "" (or NULL on add):
	                        every event */
	int64_t created;     /* 0 on add: now */
} cp_webhook_endpoint;
typedef int (*cp_webhook_endpoint_cb)(void *arg,
    const cp_webhook_endpoint *w);

int cp_store_add_webhook(cp_store *st, cp_webhook_endpoint *w, cp_err *err);
/* tenant 0: every tenant's; in id order. */
int cp_store_list_webhooks(cp_store *st, int64_t tenant,
    cp_webhook_endpoint_cb cb, void *arg, cp_err *err);
/* *out is the caller's: cp_webhook_endpoint_free. */
int cp_store_get_webhook(cp_store *st, int64_t id, cp_webhook_endpoint **out,
    cp_err *err);
/* Remove endpoint id and its pending deliveries. tenant != 0: only if the
 * endpoint is that tenant's (else CP_ENOTFOUND, as for an unknown id). */
int cp_store_remove_webhook(cp_store *st, int64_t tenant, int64_t id,
    cp_err *err);
void cp_webhook_endpoint_free(cp_webhook_endpoint *w); /* NULL is fine */

/* One event for one endpoint, waiting in the outbox. */
typedef struct cp_webhook_delivery {
	int64_t id;
	int64_t webhook;       /* endpoint id */
	int64_t tenant;        /* the endpoint's */
	const char *url;       /* the endpoint's */
	const char *secret;    /* the endpoint's */
	const char *event;     /* "delivered" */
	const char *payload;   /* the body to POST (JSON) */
	int64_t created;
	int attempts;          /* failed sends so far */
	int64_t next_attempt;
	const char *last_error; /* "HTTP 500", "timeout", ... or "" */
	int dead;              /* 1: the sender gave up on it */
} cp_webhook_delivery;

typedef struct cp_webhook_delivery_list {
	size_t n;
	cp_webhook_delivery *v;
	void *mem_;
} cp_webhook_delivery_list;
void cp_webhook_delivery_list_free(cp_webhook_delivery_list *l);
typedef int (*cp_webhook_delivery_cb)(void *arg,
    const cp_webhook_delivery *d);

/*
 * Put an event in the outbox of every endpoint of tenant (0: of every
 * tenant) whose filter names event or is empty: one delivery each, due at
 * now, in one statement. event is a token (1..64), payload 1..
 * CP_STORE_PAYLOAD_MAX bytes of text. *n (may be NULL): deliveries added
 * (0 when no endpoint wants it).
 */
int cp_store_enqueue_webhook_event(cp_store *st, int64_t tenant,
    const char *event, const char *payload, int64_t now, size_t *n,
    cp_err *err);
/*
 * Claim up to max due deliveries (live, next_attempt <= now), earliest
 * first, for node, leased for lease_s seconds: due again by themselves
 * when the lease runs out (a crashed sender). *out is the caller's.
 */
int cp_store_claim_webhooks(cp_store *st, int64_t now, const char *node,
    int lease_s, size_t max, cp_webhook_delivery_list **out, cp_err *err);
/* Give back node's leases (its restart, its stop): due at now. */
int cp_store_release_webhooks(cp_store *st, const char *node, int64_t now,
    size_t *n, cp_err *err);
/* The endpoint answered 2xx: the delivery is deleted. CP_ENOTFOUND if
 * it is gone (its endpoint was removed meanwhile). */
int cp_store_finish_webhook(cp_store *st, int64_t id, cp_err *err);
/* A failed send: attempts + 1, last_error (cut at CP_STORE_REPLY_MAX), no
 * lease, due at next_attempt; dead = 1 keeps it out for good (given up). */
int cp_store_retry_webhook(cp_store *st, int64_t id, int64_t next_attempt,
    const char *error, int dead, cp_err *err);
/* Deliveries of endpoint webhook (0: all) in id order; dead -1: any,
 * 0: live, 1: given up; at most limit (0: all). */
int cp_store_list_webhook_deliveries(cp_store *st, int64_t webhook, int dead,
    size_t limit, cp_webhook_delivery_cb cb, void *arg, cp_err *err);
/* Live and given-up deliveries of endpoint webhook (0: of all). */
int cp_store_count_webhook_deliveries(cp_store *st, int64_t webhook,
    int64_t *live, int64_t *dead, cp_err *err);

/* ---- HTTP API (issue 8): keys, message listing, statistics ------------ */

/*
 * An API key: only the SHA-256 of the key is kept (the key is 32 random
 * bytes, so a fast hash is enough; see src/http/http_auth.c). tenant 0 is
 * an admin key.
 */
typedef struct cp_apikey {
	int64_t id;          /* set by the store */
	int64_t tenant;      /* 0: admin */
	const char *hash;    /* 64 lower-case hex digits */
	const char *prefix;  /* the key's first characters, to tell keys apart */
	const char *note;    /* operator's note, may be "" */
	int64_t rate;        /* requests per second allowed; 0: the default */
	int64_t created;     /* 0 on add: now */
} cp_apikey;
typedef int (*cp_apikey_cb)(void *arg, const cp_apikey *k);

int cp_store_add_apikey(cp_store *st, cp_apikey *k, cp_err *err);
/* By hash; CP_ENOTFOUND when no key has it. *out: cp_apikey_free. */
int cp_store_find_apikey(cp_store *st, const char *hash, cp_apikey **out,
    cp_err *err);
/* tenant -1: every key; 0: admin keys; N: that tenant's. By id. */
int cp_store_list_apikeys(cp_store *st, int64_t tenant, cp_apikey_cb cb,
    void *arg, cp_err *err);
int cp_store_remove_apikey(cp_store *st, int64_t id, cp_err *err);
void cp_apikey_free(cp_apikey *k);

/* Which messages cp_store_list_messages gives. */
typedef struct cp_message_filter {
	int64_t tenant;  /* 0: all */
	int64_t before;  /* ids below this; 0: from the newest */
	size_t limit;    /* 0: all */
	/* NULL or "": any; else a message matches when q (without regard to
	   ASCII case) is part of its envelope sender, its Message-ID, one of
	   its recipients' addresses or last replies, or is its id */
	const char *q;
	int state;       /* -1: any; else at least one recipient in this
	                    cp_rcpt_state */
} cp_message_filter;

/* Messages (envelopes without rcpts) matching f, newest first. */
typedef int (*cp_envelope_cb)(void *arg, const cp_envelope *e);
int cp_store_list_messages(cp_store *st, const cp_message_filter *f,
    cp_envelope_cb cb, void *arg, cp_err *err);

/* Attempts in [from, to) of a tenant (0: all), counted by outcome, cause
 * and receiver ("" when none). */
typedef struct cp_attempt_stat {
	int outcome;
	const char *cause;
	const char *receiver;
	int64_t n;
} cp_attempt_stat;
typedef int (*cp_attempt_stat_cb)(void *arg, const cp_attempt_stat *s);
int cp_store_stat_attempts(cp_store *st, int64_t tenant, int64_t from,
    int64_t to, cp_attempt_stat_cb cb, void *arg, cp_err *err);
/* Messages and recipients accepted in [from, to) of a tenant (0: all). */
int cp_store_count_accepted(cp_store *st, int64_t tenant, int64_t from,
    int64_t to, int64_t *messages, int64_t *rcpts, cp_err *err);

/* ---- inbound mail: bounces, feedback reports, unsubscribes -------------- */

/*
 * A message the inbound listener (bounce domain) accepted, kept raw before
 * it is read: received durably first, processed after (kind and result
 * set by cp_store_finish_inbound), so a crash between both leaves it
 * pending, never lost.
 */
typedef struct cp_inbound {
	int64_t id;            /* set by the store */
	int64_t received;      /* unix seconds; 0 on insert: now */
	const char *client;    /* client IP, "" if unknown */
	const char *helo;      /* the client's HELO name, may be "" */
	const char *mail_from; /* "" for the null sender (a DSN's) */
	const char *rcpt_to;   /* our addresses it was sent to, ", " between */
	int64_t size;          /* bytes of the message (set by the store) */
	/* output only */
	const char *kind;      /* "" pending, else "bounce", "complaint",
	                          "unsubscribe", "postmaster", "none" */
	const char *result;    /* what was done, one line per recipient */
	int64_t processed;     /* when, 0: pending */
} cp_inbound;
typedef int (*cp_inbound_cb)(void *arg, const cp_inbound *in);

#define CP_STORE_INBOUND_RCPTS_MAX 65536 /* rcpt_to, result: bytes */

/* Keep one message (1..CP_STORE_BODY_MAX bytes); in->id and in->size set.
 * Durable on return (outside a batch). */
int cp_store_insert_inbound(cp_store *st, cp_inbound *in, const void *data,
    size_t len, cp_err *err);
/* Mark message id processed at now with kind (one of the five) and result
 * (at most CP_STORE_INBOUND_RCPTS_MAX bytes). CP_ENOTFOUND if unknown. */
int cp_store_finish_inbound(cp_store *st, int64_t id, const char *kind,
    const char *result, int64_t now, cp_err *err);
/* Messages after id `after` (0: from the first), in id order, at most
 * limit (0: all); pending_only: those not processed yet (after a crash). */
int cp_store_list_inbound(cp_store *st, int64_t after, size_t limit,
    int pending_only, cp_inbound_cb cb, void *arg, cp_err *err);
/* The raw message appended to out. CP_ENOTFOUND if unknown. */
int cp_store_get_inbound_body(cp_store *st, int64_t id, cp_buf *out,
    cp_err *err);

/* One recipient row with its message's fields (tenant, mailbox, return
 * path, Message-ID): *out (the caller's) holds one entry. CP_ENOTFOUND if
 * there is no such recipient. */
int cp_store_get_recipient(cp_store *st, int64_t rcpt, cp_due_list **out,
    cp_err *err);

/*
 * A report received after the fact about recipient a->rcpt (a late bounce
 * or a complaint), recorded as an attempt (duration 0, a->time when it was
 * received; mx: the remote MTA the report names) with its reply, reason,
 * cause and receiver. a->outcome says what the report means:
 *   CP_RCPT_BOUNCED: the message did not reach the mailbox after all (a
 *     DSN with Action: failed, hard or soft): a DELIVERED recipient
 *     becomes BOUNCED and takes the report as its last answer; a
 *     recipient in any other state keeps it (a queued or deferred one is
 *     still delivery's to decide; bounced, expired, cancelled are final);
 *   CP_RCPT_DELIVERED: it arrived and the report is about it (an ARF
 *     complaint): nothing changes but the record.
 * The recipient's attempt count is not changed (no delivery was tried).
 * *changed (may be NULL): 1 when the state moved. a->id and a->message
 * are set. CP_ENOTFOUND if the recipient does not exist.
 */
int cp_store_record_late(cp_store *st, cp_attempt *a, int *changed,
    cp_err *err);

/* Per-tenant unsubscribe setting (List-Unsubscribe added on submission).
 * CP_ENOTFOUND for an unknown tenant. */
int cp_store_set_tenant_unsubscribe(cp_store *st, int64_t tenant, int on,
    cp_err *err);
int cp_store_get_tenant_unsubscribe(cp_store *st, int64_t tenant, int *on,
    cp_err *err);

/* ---- input checks (also for callers that take these from the wire) ---- */

/* An address: text without NUL or control bytes, valid UTF-8, local part
 * 1..64 and a domain (or address literal), at most CP_STORE_ADDR_MAX. */
int cp_store_check_address(const char *p, size_t len, const char *what,
    cp_err *err);
/* A host or domain name: LDH labels (and UTF-8 U-labels, '_'), 1..63 per
 * label, at most CP_STORE_DOMAIN_MAX, no trailing dot. */
int cp_store_check_domain(const char *p, size_t len, const char *what,
    cp_err *err);

#endif
