/*
 * deliver_int.h - the delivery engine's insides, shared by its files
 * (deliver.c: engine, queues, scheduling; deliver_conn.c: outbound
 * connections; deliver_store.c: the store thread; deliver_route.c: next
 * hops; deliver_outcome.c: outcome decisions, attempt records, DSNs) and
 * by the unit tests of the pure parts.
 *
 * Everything below is owned by the engine's loop thread unless it says
 * otherwise; the store thread touches only what sits behind cp_deliver.mu.
 */
#ifndef COLDPOST_DELIVER_INT_H
#define COLDPOST_DELIVER_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coldpost/buf.h"
#include "coldpost/classify.h"
#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/dns.h"
#include "coldpost/relay.h"
#include "coldpost/smtpc.h"
#include "coldpost/store.h"

struct event_base;
struct event;
struct bufferevent;
struct ssl_ctx_st;
struct ssl_st;

#define DL_MX_MAX 10          /* MX hosts tried per domain */
#define DL_ADDRS_MAX 32       /* addresses tried per next hop */
#define DL_IDLE_MS 5000       /* an idle connection waits this long */
#define DL_HOPS_OK_MS 300000  /* next hops kept (the resolver caches TTLs) */
#define DL_HOPS_FAIL_MS 30000 /* a failed resolution kept this long */
#define DL_NOTLS_MS 3600000   /* opportunistic TLS broken: plain this long */
#define DL_CLAIM_MAX 500      /* recipients per claim */
#define DL_BACKLOG_LOW 256    /* messages waiting: claim more below this */
#define DL_EXPIRE_EVERY_S 10  /* expiry and retention sweep period */
#define DL_PURGE_MAX 500      /* bodies purged per sweep */

/* ---- next hops (deliver_route.c) ---------------------------------------- */

enum { DL_HOP_OK = 0, DL_HOP_TEMP, DL_HOP_PERM };

/* One address to connect to, and the host name it came from. */
typedef struct dl_addr {
	struct sockaddr_storage sa;
	socklen_t salen;
	int family;
	int pref;           /* MX preference (0 for routes, implicit MX) */
	char host[CP_STORE_DOMAIN_MAX + 1];
	char ip[INET6_ADDRSTRLEN];
} dl_addr;

/* Where mail for a next hop goes, or why it cannot go. */
typedef struct dl_hops {
	int status;          /* DL_HOP_* */
	int code;            /* when not OK: the reply given to recipients */
	char enhanced[16];
	char reply[512];
	size_t n;
	dl_addr v[DL_ADDRS_MAX];
} dl_hops;

/* Resolution result: hops is the callback's (cp_free). */
typedef void (*dl_resolve_cb)(void *arg, dl_hops *hops);

/*
 * Resolve a next hop through dns (async: the callback runs from
 * cp_dns_process): route 1: host (a name; literals go through
 * dl_hops_literal) and its A/AAAA; route 0: the MX records of domain
 * (RFC 5321 5.1: preference order, random among equals, implicit MX, null
 * MX per RFC 7505), then each host's AAAA and A. CP_OK, or an error with
 * no callback to come.
 */
int dl_resolve_start(cp_dns *dns, const char *name, int route, uint16_t port,
    dl_resolve_cb cb, void *arg, cp_err *err);
/* hops for an IP literal host; NULL when host is not one (or no memory). */
dl_hops *dl_hops_literal(const char *host, uint16_t port);
/* Set a failure into hops. */
void dl_hops_fail(dl_hops *h, int status, int code, const char *enhanced,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The lower-cased domain of an address into out ("" when none). */
void dl_rcpt_domain(const char *addr, char *out, size_t outlen);

/* ---- outcomes (deliver_outcome.c) ---------------------------------------- */

typedef struct dl_decision {
	int outcome;          /* CP_RCPT_DELIVERED / DEFERRED / BOUNCED / EXPIRED */
	int64_t next_attempt; /* DEFERRED: unix seconds */
} dl_decision;

/*
 * What becomes of a recipient after an attempt with status (CP_SMTPC_OK,
 * TEMP, PERM): attempts is how many it had before this one; a temporary
 * failure waits for the retry schedule's delay, unless the recipient's
 * expiry has come, then it expires.
 */
void dl_decide(int status, int attempts, int64_t now, int64_t expires,
    const cp_conf_durations *retry, dl_decision *out);

/* May a new connection open under the limits? */
int dl_may_open(size_t dest_conns, size_t src_conns, int64_t per_dest,
    int64_t per_src);

/* One attempt to record, strings in the same allocation. */
typedef struct dl_rec {
	struct dl_rec *next;
	cp_attempt a;
} dl_rec;

/* A new record (strings copied; NULL is ""); NULL when out of memory. */
dl_rec *dl_rec_new(const cp_attempt *a);

/* A DSN to insert: the envelope's strings and the body, one owner. */
typedef struct dl_dsn {
	struct dl_dsn *next;
	int64_t tenant;
	char *to;
	cp_buf body;
} dl_dsn;
void dl_dsn_free(dl_dsn *x);

/*
 * A DSN (RFC 3464) for one failed recipient of a message: NULL when the
 * message has the null sender (never a DSN for a DSN) or memory ran out.
 */
dl_dsn *dl_dsn_make(const char *hostname, int64_t tenant, int64_t msgid,
    const char *mail_from, int64_t received, const char *orig,
    size_t orig_len, const char *rcpt, int outcome, const char *enhanced,
    const char *mx, const char *reply, const char *explain, int64_t now);

/* ---- the engine (deliver.c, deliver_conn.c, deliver_store.c) ------------ */

/* A message being delivered: the hand-over record plus, for recipients
 * claimed from the store, their attempts so far and expiry. */
/* The policy's answer for one recipient, asked before the loop sees it. */
typedef struct dl_pv {
	int verdict;          /* CP_POLICY_* */
	int64_t retry_at;
	char reason[240];
} dl_pv;

typedef struct dl_msg {
	cp_relay_msg *m;
	dl_pv *pv;          /* per recipient; NULL: ask on the loop */
	int *attempts;      /* per recipient; NULL: all 0 (handed over) */
	int64_t *expires;   /* per recipient; NULL: m->expires */
	int refs;           /* jobs not finished */
	size_t held;        /* body bytes counted in held_bytes */
	int body8bit, utf8;
	struct dl_msg *next; /* in the incoming list */
} dl_msg;

/* Some recipients of a message in one transaction to one next hop. */
typedef struct dl_job {
	struct dl_job *next;
	dl_msg *dm;
	const char *from;    /* return path: the message's or a VERP one */
	size_t n;
	size_t *idx;         /* recipient indices in dm->m */
	const char **rcpts;  /* their addresses, for the core */
	char verp[CP_STORE_ADDR_MAX + 1];
} dl_job;

typedef struct dl_conn dl_conn;
typedef struct dl_dest dl_dest;

/* The jobs of one destination from one source, and its connections. */
typedef struct dl_dq {
	struct dl_dq *next;   /* in dest->dqs */
	struct dl_dq *wnext;  /* in cp_deliver.waiting */
	int waiting;
	dl_dest *dest;
	size_t src;
	dl_job *head, *tail;
	size_t njobs;
	dl_conn *idle;        /* READY connections with nothing to do */
	size_t nconn, nopening; /* connections, those not READY yet */
} dl_dq;

enum { DL_DEST_NEW = 0, DL_DEST_RESOLVING, DL_DEST_READY };

/* A next hop: a route target or a domain's MX. */
struct dl_dest {
	dl_dest *hnext;
	char *key;            /* "mx:example.com" or "route:host:port" */
	char *name;           /* what to resolve */
	int route;
	uint16_t port;
	int tls;              /* CP_CONF_TLS_* */
	int state;
	dl_hops *hops;
	int64_t hops_until;   /* ms, monotonic */
	int64_t notls_until;
	size_t nconn;
	dl_dq *dqs;
	uint64_t gen;         /* config generation it was made under */
};

/* A source address (or the system's default, index 0). */
typedef struct dl_src {
	struct sockaddr_storage sa;
	socklen_t salen;      /* 0: do not bind */
	int family;
	char ip[INET6_ADDRSTRLEN];
	char *ehlo;
	int64_t tenant;
	size_t nconn;
} dl_src;

/* A tenant's pool: indices into the source table. */
typedef struct dl_pool {
	int64_t tenant;
	size_t n, next;
	size_t *srcs;
} dl_pool;

enum { DL_C_CONNECTING = 0, DL_C_TLS, DL_C_SMTP, DL_C_IDLE, DL_C_DONE };

struct dl_conn {
	cp_deliver *d;
	dl_dq *dq;
	dl_conn *inext;       /* in dq->idle */
	dl_conn *anext, *aprev; /* in cp_deliver.conns */
	struct bufferevent *bev;
	struct ssl_st *ssl;
	struct event *timer;
	cp_smtpc_conn *sc;
	size_t ai;            /* address tried */
	int plain;            /* TLS off for this try (fallback) */
	int state;
	int was_ready;        /* READY came once: no fallback after */
	int forced;           /* closed by stop: no fallback */
	int fail_pending;     /* a local failure to report from the loop */
	size_t nrep;          /* recipients of the job reported */
	char src_ip[INET6_ADDRSTRLEN];
	dl_job *job;
	size_t body_off;
	int in_body;
	unsigned nmsgs;
	int64_t t_job;        /* ms, when the job went out */
	int64_t t_attempt;    /* unix seconds */
	int fail_status;      /* the last pre-READY failure */
	int fail_code;
	char fail_enh[16];
	char fail_text[512];
};

typedef struct dl_counters {
	cp_deliver_stats s;
} dl_counters;

struct cp_deliver {
	/* settings; conf is the loop's copy, swapped on reload */
	cp_conf conf;
	cp_conf *next_conf;   /* under mu: a reload waiting for the loop */
	uint64_t gen;
	cp_store *store;
	char *node;
	char *dns_servers;
	cp_deliver_policy policy;
	void *policy_arg;
	cp_deliver_observer observe;
	void *observe_arg;
	cp_deliver_pace pace;
	void *pace_arg;
	int64_t conf_retention_ms; /* under mu: the store thread's copy */
	size_t max_memory;
	unsigned char *verp_secret;
	size_t verp_secret_len;
	char hostname[256];

	/* threads */
	pthread_t loop_thr, store_thr;
	int running, stopping;
	pthread_mutex_t mu;   /* everything below up to the loop's part */
	pthread_cond_t cv;    /* wakes the store thread */
	cp_deliver_stats stats;
	dl_msg *in_head, *in_tail; /* handed over or claimed, for the loop */
	size_t in_n;
	size_t backlog;       /* messages in the engine (not finished) */
	dl_rec *recs, **recs_tail; /* attempts for the store thread */
	size_t nrecs;
	dl_dsn *dsns;         /* DSNs for the store thread */
	int want_claim, want_pools, store_stop, loop_done;
	dl_src *new_srcs;     /* pools loaded by the store thread */
	size_t new_nsrcs;
	dl_pool *new_pools;
	size_t new_npools;

	/* the loop's */
	struct event_base *base;
	struct event *ev_wake, *ev_tick, *ev_dns, *ev_stop_force;
	struct event *dns_ev[CP_DNS_MAX_FDS];
	int dns_fd[CP_DNS_MAX_FDS];
	cp_dns *dns;
	struct ssl_ctx_st *ssl_ctx;
	cp_classify_session *cls;
	dl_dest **dests;      /* hash table */
	size_t ndests_buckets;
	dl_src *srcs;
	size_t nsrcs;
	dl_pool *pools;
	size_t npools;
	dl_dq *waiting;       /* dqs held back by a limit */
	dl_conn *conns;       /* every connection */
	size_t nconns;
	int loop_stopping;
};

/* deliver.c */
int64_t dl_now_ms(void);
void dl_dns_rearm(cp_deliver *d);

/* deliver_sched.c */
#define DL_BUCKETS 1024       /* destination hash table */
void dl_msg_plan(cp_deliver *d, dl_msg *dm);
void dl_msg_unref(cp_deliver *d, dl_msg *dm);
dl_job *dl_dq_pop(dl_dq *q);
void dl_job_done(cp_deliver *d, dl_job *j);
void dl_dq_dispatch(cp_deliver *d, dl_dq *q);
void dl_dq_fail(cp_deliver *d, dl_dq *q, int status, int code,
    const char *enhanced, const char *text, const char *mx, const char *ip);
void dl_rcpt_outcome(cp_deliver *d, dl_job *j, size_t k, int status,
    int code, const char *enhanced, const char *text, const char *mx,
    const char *ip, int64_t t_attempt, int64_t dur_ms);
void dl_conn_gone(cp_deliver *d, dl_dq *q);
void dl_add_rec(cp_deliver *d, dl_rec *r);
void dl_add_dsn(cp_deliver *d, dl_dsn *x);
void dl_in_add(cp_deliver *d, dl_msg *dm, int pushed);

/* deliver_conn.c */
int dl_conn_open(cp_deliver *d, dl_dq *q);
void dl_conn_give(dl_conn *c, dl_job *j);
/* A connection is ready: the next job its queue may send (pacing asked),
 * or idle, or QUIT past messages_per_connection. */
void dl_conn_next(dl_conn *c);
/* The next job of q that pacing lets go from src_ip to mx; jobs it holds
 * back are deferred (not an attempt of the receiver: a local 451 4.7.0
 * with the pacing's retry time). NULL when none is left. */
dl_job *dl_dq_take(cp_deliver *d, dl_dq *q, const char *src_ip,
    const char *mx);
void dl_conn_quit(dl_conn *c);
void dl_conn_force_all(cp_deliver *d);
void dl_conn_start_tls(dl_conn *c);

/* deliver_store.c */
void *dl_store_main(void *arg);
int dl_load_pools(cp_deliver *d, cp_err *err);

#endif
