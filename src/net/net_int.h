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
#include <netinet/in.h>
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

/* ---- inbound: the bounce domain's addresses (net_unsub.c, pure) -------- */

#define NET_UNSUB_PREFIX "unsub"  /* local part: unsub+TENANT-TAG */
#define NET_UNSUB_TAG_LEN 16      /* hex digits of the HMAC kept */
#define NET_SECRET_MAX 64         /* VERP key bytes kept by the server */

/* What an RCPT address on the inbound listener is. */
enum {
	NET_IN_VERP = 1,       /* a return path of ours: rcpt set */
	NET_IN_UNSUB,          /* an unsubscribe address: tenant, tag set */
	NET_IN_POSTMASTER,     /* "postmaster" bare or at the bounce domain:
	                          accepted and kept (RFC 5321 4.5.1) */
	NET_IN_OTHER_DOMAIN,   /* not the bounce domain: 550 5.7.1 relaying */
	NET_IN_UNKNOWN         /* the bounce domain, but not ours: 550 5.1.1 */
};

typedef struct net_in_rcpt {
	int kind;
	int64_t rcpt;          /* NET_IN_VERP */
	int64_t tenant;        /* NET_IN_UNSUB */
	char tag[NET_UNSUB_TAG_LEN + 1];
} net_in_rcpt;

/*
 * Classify addr (an RCPT TO path, without <>) for the bounce domain
 * `domain` (empty: nothing is ours) with VERP prefix and secret: a VERP
 * return path whose tag checks, an unsubscribe address (its tag is
 * checked later, against the sender), another domain, or an unknown
 * local part. Returns out->kind.
 */
int net_inbound_classify(const char *addr, const char *domain,
    const char *prefix, const unsigned char *secret, size_t secret_len,
    net_in_rcpt *out);

/* The local part "unsub+TENANT-TAG" of an unsubscribe address, TAG the
 * HMAC-SHA256 of the tenant and the recipient address (any case), into
 * out. CP_ETOOBIG when it does not fit. */
int net_unsub_make(const unsigned char *secret, size_t secret_len,
    int64_t tenant, const char *address, char *out, size_t outlen);
/* Parse a local part (len bytes) "unsub+TENANT-TAG" (prefix without
 * regard to case): 0 and tenant, tag (lower case) set; -1 otherwise. */
int net_unsub_parse(const char *local, size_t len, int64_t *tenant,
    char tag[NET_UNSUB_TAG_LEN + 1]);
/* Does tag belong to (tenant, address)? Constant time. */
int net_unsub_check(const unsigned char *secret, size_t secret_len,
    int64_t tenant, const char *address, const char *tag);
/*
 * The RFC 2369 / RFC 8058 fields for a message: List-Unsubscribe with the
 * mailto address (and the https URL when https is not NULL), and
 * List-Unsubscribe-Post: List-Unsubscribe=One-Click only with an https
 * URL (RFC 8058 3.1 asks for one). CRLF line ends, folded under 78
 * columns. Appends to out.
 */
int net_unsub_fields(const char *mailto, const char *https, cp_buf *out);
/* Insert fields at the end of the header section of msg (before the empty
 * line; at the end when there is no body). */
int net_insert_fields(cp_buf *msg, const char *fields, size_t len);

/* What one recipient record of a report (coldpost/bounce.h) means. */
enum {
	NET_REPORT_NONE = 0,   /* delayed, delivered, relayed, vacation */
	NET_REPORT_FAILURE,    /* failed (Action: failed, or no action said) */
	NET_REPORT_COMPLAINT   /* an ARF feedback report */
};
struct cp_bounce;
struct cp_bounce_rcpt;
int net_report_class(const struct cp_bounce_rcpt *r);
/* The record of report b about our recipient addr: the one naming it
 * (Final- or Original-Recipient, any case), else the only one, else the
 * first failure or complaint; NULL: none. */
const struct cp_bounce_rcpt *net_report_pick(const struct cp_bounce *b,
    const char *addr);

/* ---- settings: one configuration, shared by reference ----------------- */

typedef struct net_settings {
	int refs;              /* atomic */
	cp_conf conf;
	cp_smtpd_conf sconf;   /* strings point into hostname */
	cp_smtpd_conf iconf;   /* the inbound listener's: no AUTH needed */
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

enum { NET_JOB_AUTH = 1, NET_JOB_DOMAIN, NET_JOB_MESSAGE, NET_JOB_INBOUND,
	NET_JOB_RCPT };

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

	/* RCPT (the policy's check): the address; tenant, mailbox below */
	char rcpt[CP_STORE_ADDR_MAX + 1];

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
	cp_server_inject_cb inject_done; /* an injection's (sess NULL) */
	void *inject_arg;

	/* INBOUND (the bounce listener's messages; body, mail_from, rcpts,
	   received and size as above) */
	char client[INET6_ADDRSTRLEN];
	char helo[CP_STORE_DOMAIN_MAX + 3];
	int unsub_added;       /* MESSAGE: List-Unsubscribe was added */
};

void net_job_free(net_job *j);
/* net_inject.c: an injected message's answer (loop, or stop); frees j.
 * Header completion of an injected message (exposed for tests). */
void net_inject_finish(net_server *s, net_job *j);
int net_inject_complete(const char *msg, size_t len, const char *host,
    cp_buf *out, cp_err *err);

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

/*
 * DKIM-sign a MESSAGE job in place (j->body gets the DKIM-Signature field
 * in front): d= from the From header when j->tenant owns that domain,
 * else j->fallback. Sets j->message_id, j->sign_d and j->sign_s, or
 * j->unsigned_why when the message stays unsigned.
 */
void net_work_sign(net_cache *cache, net_job *j);
void *net_signer_main(void *arg);
/* An INBOUND job (a signer thread; parser is the thread's): store the
 * message, read it, record what it reports, suppress; verdict set. */
typedef struct cp_bounce_parser cp_bounce_parser;
void net_inbound_work(net_server *s, net_job *j, cp_bounce_parser **parser);
/* MESSAGE jobs: List-Unsubscribe for a tenant that wants it (before
 * signing; j->unsub_added set). */
void net_unsub_add(net_server *s, net_job *j);
void *net_writer_main(void *arg);
/* A job is done: back to the loop. */
void net_job_done(net_server *s, net_job *j);

/* ---- the server ----------------------------------------------------------- */

typedef struct net_listener {
	net_server *srv;
	struct evconnlistener *lev;
	int implicit_tls;
	int inbound;            /* listen.bounce: mail for the bounce domain */
	char name[64];          /* "127.0.0.1:587" */
} net_listener;

struct net_server {
	cp_store *store;
	cp_deliver *deliver;
	cp_server_rcpt_fn rcpt_check;
	void *rcpt_check_arg;
	cp_server_report_fn report;
	void *report_arg;
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

	/* the VERP key (opts, else the store's PATH.verp-key): inbound
	   attribution and unsubscribe tokens; len 0: none */
	unsigned char secret[NET_SECRET_MAX];
	size_t secret_len;
	unsigned char unsub_key[NET_SECRET_MAX]; /* https tokens (unsub.h) */
	size_t unsub_key_len;
};

net_settings *net_server_settings(net_server *s); /* a reference */
void net_stat_add(uint64_t *field, uint64_t n);

/* ---- sessions (net_session.c: I/O; net_answer.c: policy) ------------------ */

/* One client connection; the loop thread's only. */
struct net_session {
	net_session *next, *prev;
	net_server *srv;
	net_settings *set;
	uint64_t id;
	cp_smtpd_conn *c;          /* NULL until the TLS handshake (465) */
	struct bufferevent *bev;
	struct event *timer, *delay;
	char addr[INET6_ADDRSTRLEN];
	unsigned port;
	int loopback, trusted, implicit_tls, counted;
	int inbound;               /* on a listen.bounce listener */
	char helo[CP_STORE_DOMAIN_MAX + 3];
	int handshaking, delayed, closing, dead, listed;
	unsigned jobs;             /* in flight */
	int close_reason;

	int authenticated;
	net_login login;
	char user[CP_STORE_ADDR_MAX + 1]; /* last AUTH attempt, for logs */

	/* the transaction */
	char *mail_from;
	char pend_from[CP_STORE_ADDR_MAX + 1]; /* MAIL waiting for a lookup */
	int64_t tenant, mailbox;
	char fallback[CP_STORE_DOMAIN_MAX + 1];
	char **rcpts;
	size_t nrcpts, caprcpts;
	cp_buf spool;
	int spool_failed;
};

/* The socket side (net_session.c). */
void net_session_pump(net_session *ss);  /* feed, events, output */
void net_session_flush(net_session *ss); /* the core's replies out */
void net_session_start_tls(net_session *ss);
void net_session_delay(net_session *ss, unsigned ms);
/* The answers (net_answer.c). */
void net_session_handle(net_session *ss, const cp_smtpd_event *ev);
/* The session's answer to the pending event (empty enh/text: defaults). */
/* Take addr into the transaction's recipients and answer 250, or 452
 * 4.3.1 when memory runs out. */
void net_accept_rcpt(net_session *ss, const char *addr);
void net_answer(net_session *ss, int verdict, int code, const char *enh,
    const char *text);
/* A refusal of MAIL, RCPT or DATA: counted, logged under module with its
 * reply, answered. */
void net_refuse(net_session *ss, const char *module, const char *what,
    int verdict, int code, const char *enh, const char *text);
void net_txn_reset(net_session *ss);

/* A new session on fd (accepted; loop thread). */
void net_session_accept(net_server *s, int fd, const struct sockaddr *sa,
    int implicit_tls, int inbound);
/* The inbound listener's answers (net_inbound.c). */
void net_inbound_handle(net_session *ss, const cp_smtpd_event *ev);
void net_inbound_done(net_session *ss, net_job *j);
/* A job of the session came back. */
void net_session_job_done(net_server *s, net_job *j);
/* Draining: tell every session. */
void net_session_shutdown_all(net_server *s);
/* The deadline passed: 421 and close what is left. */
void net_session_close_all(net_server *s);
/* Sessions with a job in flight when their client left, freed at the end. */
void net_session_free_dead(net_session *sess);

#endif
