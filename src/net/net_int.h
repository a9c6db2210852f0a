/*
 * net_int.h - the submission server's insides (src/net), shared by its
 * files: the pure policy helpers (net_policy.c, unit-tested), the store
 * caches (net_cache.c), the worker threads and their jobs (net_work.c),
 * the sessions (net_session.c) and the server itself (server.c).
 *
 * Threads: the loop thread owns the listeners, the sessions and every
 * libevent object; signer threads take jobs (AUTH checks, domain lookups,
 * DKIM signing); one writer thread commits messages in batches. Jobs come
 * back to the loop through a locked list and an event made active.
 */
#ifndef COLDPOST_NET_INT_H
#define COLDPOST_NET_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "coldpost/buf.h"
#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/dkim.h"
#include "coldpost/server.h"
#include "coldpost/smtpd.h"
#include "coldpost/store.h"

struct event_base;
struct event;
struct bufferevent;
struct evconnlistener;

/* ---- pure helpers (net_policy.c) -------------------------------------- */

/* Who the client is, for the MAIL FROM rules. */
typedef struct net_identity {
	int authenticated;
	int trusted;             /* in submission.trusted_networks */
	const char *mailbox;     /* authenticated: its address */
	int send_as_domain;      /* authenticated: any address of its domain */
} net_identity;

/* Verdicts of net_sender_check. */
enum {
	NET_SENDER_OK = 0,       /* the authenticated mailbox's own address */
	NET_SENDER_LOOKUP,       /* trusted: the domain must be known (store) */
	NET_SENDER_NEED_AUTH,    /* 530 5.7.0 */
	NET_SENDER_NOT_MAILBOX,  /* 553 5.7.1: not the mailbox (or domain) */
	NET_SENDER_NULL          /* 550 5.7.1: <> from a trusted client */
};

/* The MAIL FROM rule for id and the reverse path addr ("" for <>). */
int net_sender_check(const net_identity *id, const char *addr);
/* The domain of an address (after its last '@'), lowercased into out;
 * 0 when there is none or it does not fit. */
int net_addr_domain(const char *addr, char *out, size_t outlen);
/* Address equality as the sender rule sees it: the domain without case;
 * the local part without case too (one mailbox, one login). */
int net_addr_equal(const char *a, const char *b);

/*
 * The d= of a message: the From header's domain when the message's tenant
 * owns it (from_tenant is the owner of from_domain, 0 unknown), else the
 * fallback (the mailbox's domain, or the MAIL FROM domain of a trusted
 * client).
 */
const char *net_sign_domain(const char *from_domain, int64_t from_tenant,
    int64_t tenant, const char *fallback);

/* The header fields signed, lowercase; From is over-signed. */
extern const char *const net_sign_names[];
/*
 * h= for a message whose header has count[i] fields named
 * net_sign_names[i]: each present name as often as it appears, From once
 * more than present (so an added From breaks the signature). Appends to
 * out, ':' between names.
 */
int net_sign_headers(const unsigned *count, cp_buf *out);
/* The index of a field name in net_sign_names, or -1. */
int net_sign_index(const char *name, size_t len);

/* Client connection accounting: in total and per address. */
typedef struct net_limit_ent net_limit_ent;
typedef struct net_limits {
	net_limit_ent **bucket;
	size_t nbucket;
	uint64_t total;
} net_limits;

enum { NET_LIMIT_OK = 0, NET_LIMIT_TOTAL, NET_LIMIT_PER_IP, NET_LIMIT_NOMEM };

int net_limits_init(net_limits *l, size_t nbucket);
void net_limits_clear(net_limits *l);
/* Count one more connection from ip, unless that passes max_total or
 * max_per_ip: then nothing is counted and the reason is returned. */
int net_limits_take(net_limits *l, const char *ip, uint64_t max_total,
    uint64_t max_per_ip);
void net_limits_give(net_limits *l, const char *ip);
uint64_t net_limits_count(const net_limits *l, const char *ip);

/* ---- settings: one configuration, shared by reference ----------------- */

typedef struct net_settings {
	int refs;              /* atomic */
	cp_conf conf;
	cp_smtpd_conf sconf;   /* strings point into hostname */
	char hostname[256];
	SSL_CTX *tls;          /* NULL: no certificate */
} net_settings;

int net_settings_new(const cp_conf *conf, net_settings **out, cp_err *err);
net_settings *net_settings_ref(net_settings *s);
void net_settings_unref(net_settings *s);

/* ---- caches of the store (net_cache.c) --------------------------------- */

/* What the relay needs of a domain row. */
typedef struct net_domain {
	int found;              /* 0: no such domain */
	int64_t id, tenant;
	char name[CP_STORE_DOMAIN_MAX + 1];
	char selector[CP_STORE_DOMAIN_MAX + 1];
	cp_dkim_key *key;       /* a reference, or NULL: no usable key */
	char why[128];          /* no key: why */
} net_domain;

/* What a successful login gives the session. */
typedef struct net_login {
	int64_t mailbox, tenant;
	char address[CP_STORE_ADDR_MAX + 1];
	char domain[CP_STORE_DOMAIN_MAX + 1];
	int send_as_domain;
} net_login;

typedef struct net_cache net_cache;

net_cache *net_cache_new(cp_store *st);
void net_cache_free(net_cache *c);
/*
 * A domain by name. With block, asks the store on a miss (worker threads
 * only); without, answers only from memory: 1 found in the cache (out
 * filled), 0 a miss. With block: 1 on success, or a CP_E* code. out->key,
 * when set, is a reference the caller drops (cp_dkim_key_free); with
 * want_key the key is parsed on first use.
 */
int net_cache_domain(net_cache *c, const char *name, int block,
    int want_key, net_domain *out, cp_err *err);
/* A login (worker threads): *ok 1 with out filled when the password is
 * right. Successful logins are remembered a few minutes, keyed by the
 * user and the SHA-256 of the password. */
int net_cache_login(net_cache *c, const char *user, const char *pass,
    size_t passlen, int *ok, net_login *out, cp_err *err);

/* ---- jobs and workers (net_work.c) -------------------------------------- */

typedef struct net_session net_session;
typedef struct net_server net_server;

enum { NET_JOB_AUTH = 1, NET_JOB_DOMAIN, NET_JOB_MESSAGE };

typedef struct net_job net_job;
struct net_job {
	net_job *next;
	int type;
	net_session *sess;     /* the loop's; workers never touch it */
	net_settings *set;     /* a reference */

	/* the answer the loop gives the session */
	int verdict, code;
	char enhanced[8];
	char text[256];

	/* AUTH */
	char *user;
	char *pass;            /* secret: wiped */
	size_t passlen;
	int auth_ok;
	net_login login;

	/* DOMAIN (a trusted client's MAIL FROM) */
	char domain[CP_STORE_DOMAIN_MAX + 1];
	int64_t tenant;        /* out: the domain's tenant, 0 unknown */

	/* MESSAGE */
	cp_buf body;           /* the message; signed in place */
	char *mail_from;
	char **rcpts;
	size_t nrcpts;
	int64_t mailbox;       /* 0: trusted client */
	char fallback[CP_STORE_DOMAIN_MAX + 1]; /* d= when From is not ours */
	int64_t received;
	uint64_t size;         /* bytes received (RFC 1870) */
	char *message_id;
	char sign_d[CP_STORE_DOMAIN_MAX + 1], sign_s[CP_STORE_DOMAIN_MAX + 1];
	char unsigned_why[256];
	int64_t id;            /* out: the store's message id */
	int64_t *rcpt_ids;
	int leased;
};

void net_job_free(net_job *j);

typedef struct net_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	net_job *head, *tail;
	size_t n;
	int stop;
} net_queue;

void net_queue_init(net_queue *q);
void net_queue_destroy(net_queue *q);
void net_queue_push(net_queue *q, net_job *j);
/* Everything queued (a list), waiting while empty; NULL once stopped
 * and empty. */
net_job *net_queue_take_all(net_queue *q);
/* One job, waiting while empty; NULL once stopped and empty. */
net_job *net_queue_take(net_queue *q);
void net_queue_stop(net_queue *q);

void *net_signer_main(void *arg);
void *net_writer_main(void *arg);
/* A job is done: back to the loop. */
void net_job_done(net_server *s, net_job *j);

/* ---- the server ----------------------------------------------------------- */

typedef struct net_listener {
	net_server *srv;
	struct evconnlistener *lev;
	int implicit_tls;
	char name[64];          /* "127.0.0.1:587" */
} net_listener;

struct net_server {
	cp_store *store;
	cp_deliver *deliver;
	char node[CP_STORE_NAME_MAX + 1];
	unsigned nsigners;

	pthread_mutex_t mu;     /* settings, stats */
	net_settings *set;

	struct event_base *base;
	struct event *done_ev;  /* jobs came back */
	struct event *stop_ev;  /* cp_server_stop asks the loop to drain */
	struct event *drain_ev; /* the drain deadline / poll */
	net_listener *listeners;
	size_t nlisteners;
	net_limits limits;      /* loop thread only */
	net_session *sessions;  /* loop thread only: open ones */
	size_t nsessions;       /* loop thread only: not yet freed (open,
	                           or closed with a job in flight) */
	uint64_t next_id;       /* session numbers, for the log */
	net_cache *cache;

	net_queue work;         /* signers: AUTH, DOMAIN, MESSAGE */
	net_queue commit;       /* the writer */
	pthread_mutex_t done_mu;
	net_job *done_head, *done_tail;

	pthread_t loop_thr, writer_thr;
	pthread_t *signer_thr;
	unsigned nstarted;
	int started, listening, draining, stopped;
	int64_t drain_deadline_ms;
	unsigned wait_ms;

	cp_server_stats stats;  /* atomics */
};

net_settings *net_server_settings(net_server *s); /* a reference */
void net_stat_add(uint64_t *field, uint64_t n);

/* ---- sessions (net_session.c) ---------------------------------------------- */

/* A new session on fd (accepted; loop thread). */
void net_session_accept(net_server *s, int fd, const struct sockaddr *sa,
    int implicit_tls);
/* A job of the session came back. */
void net_session_job_done(net_server *s, net_job *j);
/* Draining: tell every session. */
void net_session_shutdown_all(net_server *s);
/* The deadline passed: 421 and close what is left. */
void net_session_close_all(net_server *s);
/* Sessions with a job in flight when their client left, freed at the end. */
void net_session_free_dead(net_session *sess);

#endif
