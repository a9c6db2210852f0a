/*
 * deliver.h - the delivery engine: due recipients out to their MX hosts.
 *
 * One engine per process, on its own thread with its own libevent loop.
 * It takes work from two places: messages handed over in memory by the
 * server right after their commit (cp_deliver_push), and recipients due in
 * the store (claimed with leases: deferred ones whose retry time came,
 * released or retried ones, and what a crashed run left). For each
 * recipient it finds the next hop (a static route from [routes], else the
 * domain's MX records: implicit MX, null MX, IPv6 and IPv4, preference
 * order with fallback, port delivery.mx_port), picks a source address of
 * the tenant's pool (binding it and saying its EHLO name; a tenant without
 * a pool uses the system's default source and server.hostname), reuses
 * connections (delivery.messages_per_connection, RSET between), bounds
 * parallel connections per destination and per source address, uses
 * PIPELINING and opportunistic STARTTLS (or what the route says), and
 * records every attempt with the receiver's reply classified
 * (cp_classify: cause, reason, receiver) in the store.
 *
 * Outcomes: 2xx delivered; 5xx bounced at once; 4xx, no answer, a dropped
 * line or a TLS failure deferred on the queue.retry schedule until the
 * recipient's expiry, then expired. A bounce or an expiry sends a DSN
 * (RFC 3464) to the submitting mailbox (never for a null-sender message).
 * With bounce.domain set and bounce.verp on, each recipient gets its own
 * return path (coldpost/verp.h) and its own transaction.
 *
 * Policy (issue 5: daily caps, per-receiver throttling, suppression) plugs
 * in at one place: cp_deliver_policy, asked before each recipient goes out.
 */
#ifndef COLDPOST_DELIVER_H
#define COLDPOST_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/conf.h"
#include "coldpost/err.h"
#include "coldpost/relay.h"
#include "coldpost/store.h"

typedef struct cp_deliver cp_deliver;

/* Policy hook: may this recipient go out now? (issue 5). */
enum { CP_POLICY_SEND = 0, CP_POLICY_DEFER, CP_POLICY_REFUSE };
typedef struct cp_policy_verdict {
	int verdict;        /* CP_POLICY_* */
	int64_t retry_at;   /* DEFER: when to ask again (unix seconds) */
	const char *reason; /* DEFER/REFUSE: recorded as the attempt's reply */
} cp_policy_verdict;
/* rcpt_id: the queue row (0 unknown), so that a retry is recognised;
 * null_sender: a DSN, which no cap counts; now: 0 (the policy's own
 * clock). */
typedef void (*cp_deliver_policy)(void *arg, int64_t tenant, int64_t mailbox,
    int64_t rcpt_id, const char *rcpt, int null_sender, int64_t now,
    cp_policy_verdict *out);

/*
 * Pacing hook: may one more message go from source address src_ip (""
 * for the system's default source) to MX host mx now? CP_POLICY_SEND
 * takes a slot; CP_POLICY_DEFER leaves the message deferred until
 * *retry_at. Asked on the loop thread when a connection is about to take
 * a message: it must be quick.
 */
typedef int (*cp_deliver_pace)(void *arg, const char *src_ip, const char *mx,
    int64_t now, int64_t *retry_at); /* now 0: the policy's clock */

/*
 * Observer: told of every recipient's outcome on the engine's loop thread,
 * right after it is decided and classified (before the store has it). For
 * the sending policy's throttling, webhooks and metrics: it must be quick
 * and thread-safe, and copy what it keeps (the pointers die on return).
 */
typedef struct cp_deliver_event {
	int64_t tenant;
	int64_t mailbox;      /* 0: from a trusted network */
	int64_t message;
	const char *rcpt;     /* the recipient's address */
	int cause;            /* cp_cause of the reply; -1: none/unclassified */
	const cp_attempt *attempt; /* outcome, reply, code, enhanced, cause
	                              name, reason, receiver, mx, source_ip */
} cp_deliver_event;
typedef void (*cp_deliver_observer)(void *arg, const cp_deliver_event *ev);

typedef struct cp_deliver_opts {
	const cp_conf *conf;     /* copied */
	cp_store *store;         /* borrowed; outlives the engine */
	const char *node;        /* lease owner name ([A-Za-z0-9._-]) */
	const char *dns_servers; /* "HOST:PORT,..."; NULL: /etc/resolv.conf */
	cp_deliver_policy policy; /* NULL: every recipient may go */
	void *policy_arg;
	cp_deliver_pace pace;     /* NULL: no pacing */
	void *pace_arg;
	cp_deliver_observer observe; /* NULL: none */
	void *observe_arg;
	size_t max_memory;       /* bytes of bodies held; 0: 64 MiB */
	const unsigned char *verp_secret; /* key of VERP tags (copied) */
	size_t verp_secret_len;
} cp_deliver_opts;

typedef struct cp_deliver_stats {
	uint64_t delivered, deferred, bounced, expired; /* recipients */
	uint64_t dsns;             /* DSNs queued */
	uint64_t connections;      /* opened */
	uint64_t pushed, claimed;  /* messages handed over / rcpts claimed */
	uint64_t held_bytes;       /* bodies in memory now */
	uint64_t active;           /* connections open now */
} cp_deliver_stats;

/* A stopped engine; NULL with err on failure. */
cp_deliver *cp_deliver_new(const cp_deliver_opts *opts, cp_err *err);
/* Its thread starts: releases the node's old leases, then works. */
int cp_deliver_start(cp_deliver *d, cp_err *err);

/*
 * Room for a hand-over of len body bytes now? The server asks before it
 * commits a message leased to this node; when there is none it commits
 * the message unleased, and delivery claims it from the store later.
 */
int cp_deliver_has_room(cp_deliver *d, size_t len);
/* Hand over a committed, leased message (any thread). Takes m. */
void cp_deliver_push(cp_deliver *d, cp_relay_msg *m);
/* Something became due in the store (operator retry/release): look now. */
void cp_deliver_kick(cp_deliver *d);
/* New settings (SIGHUP): routes, timeouts, limits, retry schedule. */
int cp_deliver_reload(cp_deliver *d, const cp_conf *conf, cp_err *err);
/*
 * Stop: take no new work, let connections finish the message they are on
 * (at most wait_ms), record every outcome, give back the leases of what
 * was not tried, join the thread.
 */
void cp_deliver_stop(cp_deliver *d, unsigned wait_ms);
void cp_deliver_free(cp_deliver *d); /* stops first if running */
void cp_deliver_get_stats(cp_deliver *d, cp_deliver_stats *out);

/* The lease the server gives handed-over recipients, in seconds. */
#define CP_DELIVER_LEASE_S 3600

#endif
