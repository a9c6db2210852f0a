/*
 * webhook.h - per-tenant webhooks: events of the relay POSTed, signed, to
 * the tenant's endpoints, at least once (issue 8; docs/webhooks.md).
 *
 * Events: delivered, deferred, bounced (an expiry is a bounce with
 * "expired": true), complained, provider.cut, provider.recovered, and
 * test (`coldpost webhook test`). A tenant's endpoint (store.h,
 * cp_webhook_endpoint) has a URL, a secret and a filter of these names.
 *
 * Path of an event: cp_webhook_observe (the delivery engine's observer,
 * on its loop thread) and cp_webhook_emit (any thread) copy the event
 * into a memory queue and return at once. The sender's own thread turns
 * queued events into JSON and writes them, in one store batch, to the
 * outbox (one row per matching endpoint); it claims due rows, POSTs them
 * with libcurl (at most webhook.concurrency at once, each within
 * webhook.timeout), deletes a row only after a 2xx, and otherwise
 * reschedules it with exponential back-off and jitter
 * (cp_webhook_backoff_ms) until webhook.max_attempts, when it is kept as
 * given up. The outbox lives in the store, so what reached it survives a
 * crash or restart; what was still in the memory queue (milliseconds'
 * worth) does not.
 *
 * Signature: headers X-Coldpost-Timestamp (unix seconds of the send) and
 * X-Coldpost-Signature "v1=" + hex HMAC-SHA256(secret, timestamp + "." +
 * body), made anew for each attempt.
 */
#ifndef COLDPOST_WEBHOOK_H
#define COLDPOST_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/err.h"
#include "coldpost/server.h"
#include "coldpost/store.h"

typedef struct cp_webhook cp_webhook;

enum {
	CP_WEBHOOK_DELIVERED = 0,
	CP_WEBHOOK_DEFERRED,
	CP_WEBHOOK_BOUNCED,
	CP_WEBHOOK_COMPLAINED,
	CP_WEBHOOK_PROVIDER_CUT,
	CP_WEBHOOK_PROVIDER_RECOVERED,
	CP_WEBHOOK_TEST,
	CP_WEBHOOK_NTYPES
};

/* "delivered", ..., "provider.cut", "provider.recovered", "test"; "?" */
const char *cp_webhook_type_name(int type);
int cp_webhook_type_from_name(const char *name, size_t len); /* -1: none */
/*
 * An endpoint's event filter: "" (every event) or names separated by
 * commas ("delivered,bounced"); spaces around names are allowed. Writes
 * the canonical form (no spaces, no repeats, table order) to out.
 */
int cp_webhook_parse_events(const char *list, cp_buf *out, cp_err *err);

/*
 * One event. Strings belong to the caller (copied, each cut at
 * CP_STORE_REPLY_MAX). Fields that do not apply are 0 / NULL and left out
 * of the JSON.
 */
typedef struct cp_webhook_event {
	int type;            /* CP_WEBHOOK_* */
	int64_t tenant;      /* whose endpoints get it; for provider.* 0:
	                        the tenant whose pool has source_ip, or every
	                        tenant when no pool has it */
	int64_t time;        /* unix seconds; 0: now */
	/* delivered, deferred, bounced, complained */
	int64_t message;     /* store id of the message */
	int64_t mailbox;
	const char *rcpt;
	int code;            /* reply code */
	const char *enhanced, *reply, *cause, *reason, *receiver;
	const char *mx, *source_ip;
	int64_t next_attempt; /* deferred: the next try */
	int expired;          /* bounced: by expiry, not by a 5xx */
	const char *feedback; /* complained: the ARF Feedback-Type ("abuse") */
	int late;             /* bounced: reported by a bounce email after
	                         the receiver had accepted the message */
	/* provider.cut, provider.recovered (source_ip above) */
	const char *provider;
	const char *kind;     /* the policy's decision: "cut", "pause", ... */
	int64_t rate_before, rate_after; /* messages per hour */
	int64_t until;        /* end of the cool-down or pause, or 0 */
	const char *evidence; /* the answers that caused it */
} cp_webhook_event;

/*
 * The JSON body of an event (appended to out):
 *   {"id":"<32 hex>","type":"bounced","time":1764300000,"tenant":"acme",
 *    "data":{"message":42,"recipient":"bob@example.net","code":550,...}}
 * tenant_name may be NULL (then "tenant" is the id). id: 32 hex digits.
 */
int cp_webhook_event_json(const cp_webhook_event *ev, int64_t tenant_id,
    const char *tenant_name, const char *id, cp_buf *out, cp_err *err);

/* "v1=" + 64 hex digits + NUL */
#define CP_WEBHOOK_SIG_LEN 67
/* out = "v1=" hex(HMAC-SHA256(secret, "<timestamp>.<body>")). */
int cp_webhook_sign(const char *secret, int64_t timestamp, const void *body,
    size_t len, char out[CP_WEBHOOK_SIG_LEN + 1], cp_err *err);
/* 1 when sig is a valid signature made within tolerance_s of now (in
 * constant time over the digest), else 0. */
int cp_webhook_verify(const char *secret, int64_t timestamp, const void *body,
    size_t len, const char *sig, int64_t now, int64_t tolerance_s);

/*
 * Delay before the next try after `failures` failed sends (1 = the
 * first failure), in ms: d = min(max_ms, base_ms * 2^(failures - 1)),
 * then "equal jitter": a value in [d/2, d] from rnd. Below the cap a try
 * never waits less than the previous one could have, and senders that
 * failed together spread out.
 */
int64_t cp_webhook_backoff_ms(int failures, int64_t base_ms, int64_t max_ms,
    uint32_t rnd);

typedef struct cp_webhook_opts {
	const cp_conf *conf; /* copied: webhook.* keys */
	cp_store *store;     /* borrowed; outlives the sender */
	const char *node;    /* lease owner ([A-Za-z0-9._-]); NULL: "local" */
} cp_webhook_opts;

typedef struct cp_webhook_stats {
	uint64_t queued;    /* events in memory now */
	uint64_t enqueued;  /* outbox rows written */
	uint64_t sent;      /* 2xx answers */
	uint64_t failed;    /* failed sends (each retried or given up) */
	uint64_t given_up;  /* deliveries past webhook.max_attempts */
	uint64_t dropped;   /* events lost: memory queue full */
	uint64_t inflight;  /* POSTs running now */
} cp_webhook_stats;

/* A stopped sender; NULL with err on failure (curl init, bad node). */
cp_webhook *cp_webhook_new(const cp_webhook_opts *opts, cp_err *err);
/* Its thread starts: gives back the node's old leases, then works. */
int cp_webhook_start(cp_webhook *wh, cp_err *err);
/*
 * Stop: abort POSTs in flight (their rows are given back, due at once:
 * the receiver may see them twice, never zero times), write what is
 * still in memory to the outbox, join the thread. Idempotent.
 */
void cp_webhook_stop(cp_webhook *wh);
void cp_webhook_free(cp_webhook *wh); /* NULL is fine; stops first */
/* New webhook.* settings (SIGHUP); applies to the next sends. */
int cp_webhook_reload(cp_webhook *wh, const cp_conf *conf, cp_err *err);
void cp_webhook_get_stats(cp_webhook *wh, cp_webhook_stats *out);

/*
 * cp_deliver_observer for cp_deliver_opts.observe (arg: the cp_webhook).
 * Delivered -> delivered, deferred -> deferred, bounced and expired ->
 * bounced. Quick: copies into memory and wakes the sender.
 */
void cp_webhook_observe(void *wh, const cp_deliver_event *ev);
/*
 * cp_server_report_fn for cp_server_opts.report (arg: the cp_webhook):
 * a complaint the inbound listener recorded -> complained (with its
 * feedback type), a late bounce -> bounced ("late": true in the JSON).
 */
void cp_webhook_observe_report(void *wh, const cp_server_report *r);
/* Any event, from any thread: CP_OK, or CP_ETOOBIG when the memory queue
 * is full (the event is dropped and counted), CP_ENOMEM, CP_EINVAL. */
int cp_webhook_emit(cp_webhook *wh, const cp_webhook_event *ev);
/*
 * A decision of the sending policy (coldpost/policy.h, stored with
 * cp_store_put_provider_state) as an event: kinds "cut", "pause",
 * "slowdown" and "manual-pause" are provider.cut, "resume" and
 * "recover" provider.recovered; other kinds ("start") are no event and
 * give CP_OK. tenant as in cp_webhook_event.
 */
int cp_webhook_emit_provider(cp_webhook *wh, int64_t tenant,
    const cp_provider_event *pe);

/*
 * Send one signed "test" event to endpoint w now, without the outbox
 * (`coldpost webhook test`): *status gets the HTTP status (0 when there
 * was no answer; then err says why). CP_OK means a 2xx.
 */
int cp_webhook_send_test(const cp_conf *conf, const cp_webhook_endpoint *w,
    const char *tenant_name, long *status, cp_err *err);

#endif
