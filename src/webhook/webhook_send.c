/*
 * webhook_send.c - the webhook sender: a memory queue fed from any thread
 * (cp_webhook_emit, cp_webhook_observe), and one thread of its own that
 * moves events into the store's outbox and POSTs due deliveries with
 * libcurl's multi interface.
 *
 * Why two stages: the delivery engine calls the observer on its loop
 * thread, which must not wait for a disk sync or a slow endpoint, so the
 * observer only copies the event. The sender writes what it took from
 * memory in one store batch (one sync for many events), then claims due
 * rows with a lease (webhook.timeout + a minute, so a crashed sender's
 * rows come back by themselves) and runs at most webhook.concurrency
 * POSTs at once. A row is deleted only after a 2xx; any other answer, a
 * timeout or a refused connection reschedules it with exponential
 * back-off and jitter (cp_webhook_backoff_ms) until webhook.max_attempts.
 * Redirects are not followed (a webhook URL is exact) and only http and
 * https are spoken.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "coldpost/webhook.h"

#define WH_QUEUE_MAX 100000   /* events in memory before we drop */
#define WH_IDLE_MS 500        /* look at the outbox this often when idle */
#define WH_BUSY_MS 100
#define WH_CONNECT_MAX_MS 10000
#define WH_ERR_MAX 200

typedef struct wh_slot {
	CURL *easy;
	struct curl_slist *hdrs;
	int busy;
	int64_t id;       /* outbox row */
	int64_t webhook;
	int attempts;     /* failed sends before this one */
	char *body;       /* the payload, alive while curl sends it */
	char event[CP_STORE_TOKEN_MAX + 1];
	char errbuf[CURL_ERROR_SIZE];
} wh_slot;

struct cp_webhook {
	cp_store *store;
	char node[CP_STORE_NAME_MAX + 1];
	CURLM *multi;
	wh_slot *slots;
	size_t nslots;
	pthread_t thr;
	int started;

	pthread_mutex_t mu; /* everything below */
	int64_t timeout_ms, base_ms, max_ms, max_attempts;
	cp_webhook_event **q; /* the memory queue, oldest first */
	size_t qn, qcap;
	int stop;
	int drop_warned;
	size_t flushing; /* taken from the queue, not in the store yet */
	cp_webhook_stats st;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
wh_curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t
wh_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- event copies ------------------------------------------------------- */

static const size_t ev_strs[] = {
	offsetof(cp_webhook_event, rcpt),
	offsetof(cp_webhook_event, enhanced),
	offsetof(cp_webhook_event, reply),
	offsetof(cp_webhook_event, cause),
	offsetof(cp_webhook_event, reason),
	offsetof(cp_webhook_event, receiver),
	offsetof(cp_webhook_event, mx),
	offsetof(cp_webhook_event, source_ip),
	offsetof(cp_webhook_event, feedback),
	offsetof(cp_webhook_event, provider),
	offsetof(cp_webhook_event, kind),
	offsetof(cp_webhook_event, evidence),
};
#define EV_NSTRS (sizeof(ev_strs) / sizeof(ev_strs[0]))

/* Length of the valid UTF-8 sequence at p (1..4), or 0 (RFC 3629 4). */
static size_t
utf8_seq(const unsigned char *p, size_t left)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Copy len bytes, each byte of broken UTF-8 as '?' (a reply may be in
 * Latin-1; JSON text must be UTF-8). */
static void
utf8_copy(char *dst, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(s + i, len - i);

		if (n == 0) {
			dst[i++] = '?';
			continue;
		}
		memcpy(dst + i, s + i, n);
		i += n;
	}
	dst[len] = '\0';
}

/* One allocation: the event and its strings (cut, UTF-8 made valid). */
static cp_webhook_event *
event_dup(const cp_webhook_event *ev)
{
	size_t lens[EV_NSTRS], total = sizeof(*ev);
	char *mem, *p;

	for (size_t i = 0; i < EV_NSTRS; i++) {
		const char *s = *(const char *const *)(const void *)
		    ((const char *)ev + ev_strs[i]);

		lens[i] = s ? strnlen(s, CP_STORE_REPLY_MAX) : 0;
		total += s ? lens[i] + 1 : 0;
	}
	if ((mem = cp_malloc(total)) == NULL)
		return NULL;
	memcpy(mem, ev, sizeof(*ev));
	p = mem + sizeof(*ev);
	for (size_t i = 0; i < EV_NSTRS; i++) {
		const char **f = (const char **)(void *)(mem + ev_strs[i]);

		if (*f == NULL)
			continue;
		utf8_copy(p, *f, lens[i]);
		*f = p;
		p += lens[i] + 1;
	}
	if (((cp_webhook_event *)(void *)mem)->time <= 0)
		((cp_webhook_event *)(void *)mem)->time = wh_now();
	return (cp_webhook_event *)(void *)mem;
}

/* ---- into memory (any thread) ------------------------------------------ */

int
cp_webhook_emit(cp_webhook *wh, const cp_webhook_event *ev)
{
	cp_webhook_event *e, **nq;
	int wake = 0, rc = CP_OK;

	if (ev->type < 0 || ev->type >= CP_WEBHOOK_NTYPES || ev->tenant < 0)
		return CP_EINVAL;
	if ((e = event_dup(ev)) == NULL)
		return CP_ENOMEM;
	pthread_mutex_lock(&wh->mu);
	if (wh->qn >= WH_QUEUE_MAX) {
		wh->st.dropped++;
		rc = CP_ETOOBIG;
	} else if (wh->qn == wh->qcap) {
		size_t cap = wh->qcap ? wh->qcap * 2 : 64;

		if ((nq = cp_realloc(wh->q, cap * sizeof(*nq))) == NULL) {
			wh->st.dropped++;
			rc = CP_ENOMEM;
		} else {
			wh->q = nq;
			wh->qcap = cap;
		}
	}
	if (rc == CP_OK) {
		wh->q[wh->qn++] = e;
		wake = wh->qn == 1;
	}
	if (rc != CP_OK && !wh->drop_warned) {
		wh->drop_warned = 1; /* once per full spell, not per event */
		cp_log(CP_LOG_WARN, "webhook", "memory queue full (%d events): "
		    "dropping events until the store catches up", WH_QUEUE_MAX);
	}
	pthread_mutex_unlock(&wh->mu);
	if (rc != CP_OK)
		cp_free(e);
	else if (wake)
		curl_multi_wakeup(wh->multi);
	return rc;
}

/* What an attempt (a delivery's, or a report's) says of the recipient. */
static void
from_attempt(cp_webhook_event *ev, const cp_attempt *a)
{
	ev->time = a->time;
	ev->code = a->code;
	ev->enhanced = a->enhanced;
	ev->reply = a->reply;
	ev->cause = a->cause;
	ev->reason = a->reason;
	ev->receiver = a->receiver;
	ev->mx = a->mx;
}

void
cp_webhook_observe(void *arg, const cp_deliver_event *dev)
{
	const cp_attempt *a = dev->attempt;
	cp_webhook_event ev = { 0 };

	if (arg == NULL || a == NULL)
		return;
	switch (a->outcome) {
	case CP_RCPT_DELIVERED: ev.type = CP_WEBHOOK_DELIVERED; break;
	case CP_RCPT_DEFERRED: ev.type = CP_WEBHOOK_DEFERRED; break;
	case CP_RCPT_BOUNCED: ev.type = CP_WEBHOOK_BOUNCED; break;
	case CP_RCPT_EXPIRED:
		ev.type = CP_WEBHOOK_BOUNCED;
		ev.expired = 1;
		break;
	default: return;
	}
	ev.tenant = dev->tenant;
	ev.message = dev->message;
	ev.mailbox = dev->mailbox;
	ev.rcpt = dev->rcpt;
	from_attempt(&ev, a);
	ev.source_ip = a->source_ip;
	if (ev.type == CP_WEBHOOK_DEFERRED)
		ev.next_attempt = a->next_attempt;
	(void)cp_webhook_emit(arg, &ev);
}

void
cp_webhook_observe_report(void *arg, const cp_server_report *r)
{
	const cp_attempt *a = r->attempt;
	cp_webhook_event ev = { 0 };

	if (arg == NULL || a == NULL)
		return;
	ev.type = r->complaint ? CP_WEBHOOK_COMPLAINED : CP_WEBHOOK_BOUNCED;
	ev.tenant = r->tenant;
	ev.message = r->message;
	ev.mailbox = r->mailbox;
	ev.rcpt = r->rcpt;
	from_attempt(&ev, a);
	ev.feedback = r->complaint ? r->feedback : NULL;
	ev.late = !r->complaint;
	(void)cp_webhook_emit(arg, &ev);
}

int
cp_webhook_emit_provider(cp_webhook *wh, int64_t tenant,
    const cp_provider_event *pe)
{
	static const char *const cuts[] = { "cut", "pause", "slowdown",
		"manual-pause" };
	static const char *const ups[] = { "resume", "recover" };
	cp_webhook_event ev = { 0 };

	ev.type = -1;
	for (size_t i = 0; i < CP_NELEM(cuts) && pe->kind; i++)
		if (strcmp(pe->kind, cuts[i]) == 0)
			ev.type = CP_WEBHOOK_PROVIDER_CUT;
	for (size_t i = 0; i < CP_NELEM(ups) && pe->kind; i++)
		if (strcmp(pe->kind, ups[i]) == 0)
			ev.type = CP_WEBHOOK_PROVIDER_RECOVERED;
	if (ev.type < 0)
		return CP_OK;
	ev.tenant = tenant;
	ev.time = pe->time;
	ev.source_ip = pe->source_ip;
	ev.provider = pe->provider;
	ev.kind = pe->kind;
	ev.rate_before = pe->rate_before;
	ev.rate_after = pe->rate_after;
	ev.until = pe->until;
	ev.evidence = pe->evidence;
	return cp_webhook_emit(wh, &ev);
}

/* ---- memory -> outbox (sender thread) ---------------------------------- */

/* Put items back in front of the queue (the store could not take them). */
static void
wh_requeue(cp_webhook *wh, cp_webhook_event **v, size_t n)
{
	cp_webhook_event **nq;
	size_t cap;

	pthread_mutex_lock(&wh->mu);
	cap = wh->qn + n;
	nq = cap > wh->qcap ? cp_realloc(wh->q, cap * sizeof(*nq)) : wh->q;
	if (nq == NULL) {
		wh->flushing = 0;
		wh->st.dropped += n;
		pthread_mutex_unlock(&wh->mu);
		for (size_t i = 0; i < n; i++)
			cp_free(v[i]);
		return;
	}
	wh->flushing = 0;
	memmove(nq + n, nq, wh->qn * sizeof(*nq));
	memcpy(nq, v, n * sizeof(*nq));
	wh->q = nq;
	wh->qcap = CP_MAX(cap, wh->qcap);
	wh->qn = cap;
	pthread_mutex_unlock(&wh->mu);
}

/* The tenant of a provider event without one: whose pool has the IP. */
static int64_t
wh_provider_tenant(cp_webhook *wh, const cp_webhook_event *ev)
{
	cp_pool *p = NULL;
	int64_t t = 0;

	if (ev->source_ip != NULL &&
	    cp_store_get_pool(wh->store, ev->source_ip, &p, NULL) == CP_OK)
		t = p->tenant;
	cp_pool_free(p);
	return t;
}

/* One event into the outbox: CP_OK, or an error that drops it. */
static int
wh_store_event(cp_webhook *wh, const cp_webhook_event *ev, cp_buf *body,
    size_t *rows, cp_err *err)
{
	unsigned char raw[16];
	char id[33];
	cp_tenant *t = NULL;
	int64_t tenant = ev->tenant;
	int rc;

	if (tenant == 0 && (ev->type == CP_WEBHOOK_PROVIDER_CUT ||
	    ev->type == CP_WEBHOOK_PROVIDER_RECOVERED))
		tenant = wh_provider_tenant(wh, ev);
	if (tenant > 0)
		(void)cp_store_get_tenant_by_id(wh->store, tenant, &t, NULL);
	arc4random_buf(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	cp_buf_reset(body);
	rc = cp_webhook_event_json(ev, tenant, t ? t->name : NULL, id, body,
	    err);
	cp_tenant_free(t);
	if (rc == CP_OK)
		rc = cp_store_enqueue_webhook_event(wh->store, tenant,
		    cp_webhook_type_name(ev->type), body->data, wh_now(), rows,
		    err);
	return rc;
}

static void
wh_flush(cp_webhook *wh)
{
	cp_webhook_event **v;
	size_t n, rows, total = 0;
	cp_buf body;
	cp_err err = { 0 };
	int rc;

	pthread_mutex_lock(&wh->mu);
	v = wh->q;
	n = wh->qn;
	wh->q = NULL;
	wh->qn = wh->qcap = 0;
	wh->drop_warned = 0;
	wh->flushing = n;
	pthread_mutex_unlock(&wh->mu);
	if (n == 0) {
		cp_free(v);
		return;
	}
	if ((rc = cp_store_begin(wh->store, &err)) != CP_OK) {
		cp_log(CP_LOG_ERR, "webhook", "outbox: %s (will retry)",
		    err.msg);
		wh_requeue(wh, v, n);
		cp_free(v);
		return;
	}
	cp_buf_init(&body, CP_STORE_PAYLOAD_MAX);
	for (size_t i = 0; i < n; i++) {
		rows = 0;
		if (wh_store_event(wh, v[i], &body, &rows, &err) != CP_OK)
			cp_log(CP_LOG_ERR, "webhook", "event %s dropped: %s",
			    cp_webhook_type_name(v[i]->type), err.msg);
		total += rows;
	}
	cp_buf_free(&body);
	if ((rc = cp_store_commit(wh->store, &err)) != CP_OK) {
		cp_log(CP_LOG_ERR, "webhook", "outbox commit: %s (will retry)",
		    err.msg);
		wh_requeue(wh, v, n);
		cp_free(v);
		return;
	}
	for (size_t i = 0; i < n; i++)
		cp_free(v[i]);
	cp_free(v);
	pthread_mutex_lock(&wh->mu);
	wh->st.enqueued += total;
	wh->flushing = 0;
	pthread_mutex_unlock(&wh->mu);
}

/* ---- HTTP ---------------------------------------------------------------- */

static size_t
wh_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * Set up easy for one signed POST of body to url; *hdrs gets the header
 * list (the caller frees it after the transfer). body must live as long.
 */
static int
wh_easy_setup(CURL *easy, struct curl_slist **hdrs, const char *url,
    const char *secret, const char *event, int64_t delivery, int attempt,
    const char *body, int64_t timeout_ms, char *errbuf, cp_err *err)
{
	char sig[CP_WEBHOOK_SIG_LEN + 1], h[6][128];
	int64_t ts = wh_now();
	struct curl_slist *l = NULL, *nl;
	size_t len = strlen(body);
	int rc;

	if ((rc = cp_webhook_sign(secret, ts, body, len, sig, err)) != CP_OK)
		return rc;
	snprintf(h[0], sizeof(h[0]), "X-Coldpost-Event: %s", event);
	snprintf(h[1], sizeof(h[1]), "X-Coldpost-Delivery: %lld",
	    (long long)delivery);
	snprintf(h[2], sizeof(h[2]), "X-Coldpost-Attempt: %d", attempt);
	snprintf(h[3], sizeof(h[3]), "X-Coldpost-Timestamp: %lld",
	    (long long)ts);
	snprintf(h[4], sizeof(h[4]), "X-Coldpost-Signature: %s", sig);
	snprintf(h[5], sizeof(h[5]), "Content-Type: application/json");
	for (size_t i = 0; i < 6; i++) {
		if ((nl = curl_slist_append(l, h[i])) == NULL)
			break;
		l = nl;
	}
	nl = l ? curl_slist_append(l, "Expect:") : NULL; /* no 100-continue */
	if (nl == NULL) {
		curl_slist_free_all(l);
		return cp_err_set(err, CP_ENOMEM, "webhook: out of memory");
	}
	*hdrs = nl;
	curl_easy_reset(easy);
	errbuf[0] = '\0';
	if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK) {
		curl_slist_free_all(*hdrs);
		*hdrs = NULL;
		return cp_err_set(err, CP_EINVAL, "webhook: URL '%.100s' "
		    "refused by curl", url);
	}
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "coldpost-webhook/1");
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)CP_MIN(timeout_ms, WH_CONNECT_MAX_MS));
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, wh_discard);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	return CP_OK;
}

/* Why a finished transfer failed, or "" when it was a 2xx. */
static void
wh_outcome(CURL *easy, CURLcode res, const char *errbuf, long *status,
    char *why, size_t cap)
{
	*status = 0;
	why[0] = '\0';
	if (res == CURLE_OK) {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
		if (*status < 200 || *status > 299)
			snprintf(why, cap, "HTTP %ld", *status);
	} else if (res == CURLE_OPERATION_TIMEDOUT) {
		snprintf(why, cap, "timeout");
	} else if (res == CURLE_COULDNT_CONNECT) {
		snprintf(why, cap, "connection refused");
	} else {
		snprintf(why, cap, "%s", errbuf[0] ? errbuf :
		    curl_easy_strerror(res));
	}
}

/* ---- outbox -> endpoints (sender thread) -------------------------------- */

static void
slot_clear(wh_slot *s)
{
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	cp_free(s->body);
	s->body = NULL;
	s->busy = 0;
}

static int
wh_start_one(cp_webhook *wh, wh_slot *s, const cp_webhook_delivery *d,
    int64_t timeout_ms, cp_err *err)
{
	int rc;

	if ((s->body = cp_strdup(d->payload)) == NULL)
		return cp_err_set(err, CP_ENOMEM, "webhook: out of memory");
	s->id = d->id;
	s->webhook = d->webhook;
	s->attempts = d->attempts;
	snprintf(s->event, sizeof(s->event), "%s", d->event);
	rc = wh_easy_setup(s->easy, &s->hdrs, d->url, d->secret, d->event,
	    d->id, d->attempts + 1, s->body, timeout_ms, s->errbuf, err);
	if (rc == CP_OK && curl_multi_add_handle(wh->multi, s->easy) !=
	    CURLM_OK)
		rc = cp_err_set(err, CP_ENOMEM, "webhook: curl refused the "
		    "transfer");
	if (rc != CP_OK) {
		slot_clear(s);
		return rc;
	}
	s->busy = 1;
	return CP_OK;
}

static void wh_failed(cp_webhook *wh, wh_slot *s, const char *why);

/* Claim as many due deliveries as there are free slots and start them. */
static void
wh_fill(cp_webhook *wh)
{
	cp_webhook_delivery_list *l = NULL;
	size_t nfree = 0, j = 0;
	int64_t timeout_ms;
	cp_err err = { 0 };

	for (size_t i = 0; i < wh->nslots; i++)
		nfree += !wh->slots[i].busy;
	if (nfree == 0)
		return;
	pthread_mutex_lock(&wh->mu);
	timeout_ms = wh->timeout_ms;
	pthread_mutex_unlock(&wh->mu);
	if (cp_store_claim_webhooks(wh->store, wh_now(), wh->node,
	    (int)(timeout_ms / 1000) + 60, nfree, &l, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "webhook", "claim: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		while (wh->slots[j].busy)
			j++;
		if (wh_start_one(wh, &wh->slots[j], &l->v[i], timeout_ms,
		    &err) != CP_OK) {
			/* a URL curl refuses is a failed send like others */
			wh->slots[j].id = l->v[i].id;
			wh->slots[j].webhook = l->v[i].webhook;
			wh->slots[j].attempts = l->v[i].attempts;
			snprintf(wh->slots[j].event, sizeof(wh->slots[j].event),
			    "%s", l->v[i].event);
			wh_failed(wh, &wh->slots[j], err.msg);
		}
	}
	pthread_mutex_lock(&wh->mu);
	wh->st.inflight = 0;
	for (size_t i = 0; i < wh->nslots; i++)
		wh->st.inflight += wh->slots[i].busy;
	pthread_mutex_unlock(&wh->mu);
	cp_webhook_delivery_list_free(l);
}

/* Reschedule a failed send, or give it up. */
static void
wh_failed(cp_webhook *wh, wh_slot *s, const char *why)
{
	int failures = s->attempts + 1, dead;
	int64_t delay_ms, next;
	cp_err err = { 0 };

	pthread_mutex_lock(&wh->mu);
	dead = failures >= wh->max_attempts;
	delay_ms = cp_webhook_backoff_ms(failures, wh->base_ms, wh->max_ms,
	    arc4random());
	wh->st.failed++;
	wh->st.given_up += (uint64_t)dead;
	pthread_mutex_unlock(&wh->mu);
	next = wh_now() + (delay_ms + 999) / 1000; /* whole seconds, rounded up */
	if (cp_store_retry_webhook(wh->store, s->id, next, why, dead, &err) !=
	    CP_OK && err.code != CP_ENOTFOUND)
		cp_log(CP_LOG_ERR, "webhook", "delivery=%lld: %s",
		    (long long)s->id, err.msg);
	cp_log(dead ? CP_LOG_WARN : CP_LOG_INFO, "webhook", "delivery=%lld "
	    "endpoint=%lld event=%s attempt=%d failed: %s; %s%lld ms",
	    (long long)s->id, (long long)s->webhook, s->event, failures, why,
	    dead ? "given up, would have retried in " : "retry in ",
	    (long long)delay_ms);
}

static void
wh_done(cp_webhook *wh, wh_slot *s, long status)
{
	cp_err err = { 0 };

	if (cp_store_finish_webhook(wh->store, s->id, &err) != CP_OK &&
	    err.code != CP_ENOTFOUND)
		cp_log(CP_LOG_ERR, "webhook", "delivery=%lld: %s",
		    (long long)s->id, err.msg);
	pthread_mutex_lock(&wh->mu);
	wh->st.sent++;
	pthread_mutex_unlock(&wh->mu);
	cp_log(CP_LOG_INFO, "webhook", "delivery=%lld endpoint=%lld event=%s "
	    "attempt=%d status=%ld", (long long)s->id, (long long)s->webhook,
	    s->event, s->attempts + 1, status);
}

static void
wh_reap(cp_webhook *wh)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(wh->multi, &left)) != NULL) {
		wh_slot *s = NULL;
		char why[WH_ERR_MAX];
		long status;

		if (m->msg != CURLMSG_DONE)
			continue;
		for (size_t i = 0; i < wh->nslots; i++)
			if (wh->slots[i].busy && wh->slots[i].easy ==
			    m->easy_handle)
				s = &wh->slots[i];
		if (s == NULL)
			continue;
		wh_outcome(s->easy, m->data.result, s->errbuf, &status, why,
		    sizeof(why));
		curl_multi_remove_handle(wh->multi, s->easy);
		if (why[0] == '\0')
			wh_done(wh, s, status);
		else
			wh_failed(wh, s, why);
		slot_clear(s);
		pthread_mutex_lock(&wh->mu);
		wh->st.inflight--;
		pthread_mutex_unlock(&wh->mu);
	}
}

static void
wh_release(cp_webhook *wh)
{
	cp_err err = { 0 };
	size_t n = 0;

	if (cp_store_release_webhooks(wh->store, wh->node, wh_now(), &n,
	    &err) != CP_OK)
		cp_log(CP_LOG_ERR, "webhook", "release: %s", err.msg);
	else if (n > 0)
		cp_log(CP_LOG_INFO, "webhook", "gave back %zu deliveries in "
		    "flight", n);
}

static void *
wh_main(void *arg)
{
	cp_webhook *wh = arg;
	int running = 0, stop;

	wh_release(wh); /* what a previous run of this node had in flight */
	for (;;) {
		pthread_mutex_lock(&wh->mu);
		stop = wh->stop;
		pthread_mutex_unlock(&wh->mu);
		wh_flush(wh);
		if (stop)
			break;
		wh_fill(wh);
		curl_multi_perform(wh->multi, &running);
		wh_reap(wh);
		curl_multi_poll(wh->multi, NULL, 0, running ? WH_BUSY_MS :
		    WH_IDLE_MS, NULL);
		curl_multi_perform(wh->multi, &running);
		wh_reap(wh);
	}
	for (size_t i = 0; i < wh->nslots; i++) {
		if (!wh->slots[i].busy)
			continue;
		curl_multi_remove_handle(wh->multi, wh->slots[i].easy);
		slot_clear(&wh->slots[i]);
	}
	wh_release(wh);
	wh_flush(wh);
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void
wh_take_conf(cp_webhook *wh, const cp_conf *c)
{
	wh->timeout_ms = c->webhook.timeout;
	wh->base_ms = c->webhook.backoff_base;
	wh->max_ms = c->webhook.backoff_max;
	wh->max_attempts = c->webhook.max_attempts;
}

cp_webhook *
cp_webhook_new(const cp_webhook_opts *opts, cp_err *err)
{
	const char *node = opts->node ? opts->node : "local";
	cp_webhook *wh;

	CP_ASSERT(opts->conf != NULL && opts->store != NULL);
	pthread_once(&curl_once, wh_curl_init);
	if (curl_init_rc != CURLE_OK) {
		cp_err_set(err, CP_ENOMEM, "webhook: curl: %s",
		    curl_easy_strerror(curl_init_rc));
		return NULL;
	}
	if (strlen(node) > CP_STORE_NAME_MAX || *node == '\0') {
		cp_err_set(err, CP_EINVAL, "webhook: node '%.70s': want 1..%d "
		    "bytes", node, CP_STORE_NAME_MAX);
		return NULL;
	}
	if ((wh = cp_calloc(1, sizeof(*wh))) == NULL) {
		cp_err_set(err, CP_ENOMEM, "webhook: out of memory");
		return NULL;
	}
	wh->store = opts->store;
	snprintf(wh->node, sizeof(wh->node), "%s", node);
	wh_take_conf(wh, opts->conf);
	pthread_mutex_init(&wh->mu, NULL);
	wh->nslots = (size_t)opts->conf->webhook.concurrency;
	wh->slots = cp_calloc(wh->nslots, sizeof(*wh->slots));
	wh->multi = curl_multi_init();
	for (size_t i = 0; wh->slots && i < wh->nslots; i++)
		if ((wh->slots[i].easy = curl_easy_init()) == NULL)
			break;
	if (wh->slots == NULL || wh->multi == NULL ||
	    wh->slots[wh->nslots - 1].easy == NULL) {
		cp_webhook_free(wh);
		cp_err_set(err, CP_ENOMEM, "webhook: out of memory");
		return NULL;
	}
	return wh;
}

int
cp_webhook_start(cp_webhook *wh, cp_err *err)
{
	int e;

	CP_ASSERT(!wh->started);
	wh->stop = 0;
	if ((e = pthread_create(&wh->thr, NULL, wh_main, wh)) != 0) {
		cp_err_set(err, CP_ENOMEM, "webhook: thread: %s", strerror(e));
		if (err)
			err->sys = e;
		return CP_ENOMEM;
	}
	wh->started = 1;
	return CP_OK;
}

void
cp_webhook_stop(cp_webhook *wh)
{
	if (wh == NULL || !wh->started)
		return;
	pthread_mutex_lock(&wh->mu);
	wh->stop = 1;
	pthread_mutex_unlock(&wh->mu);
	curl_multi_wakeup(wh->multi);
	pthread_join(wh->thr, NULL);
	wh->started = 0;
}

void
cp_webhook_free(cp_webhook *wh)
{
	if (wh == NULL)
		return;
	cp_webhook_stop(wh);
	for (size_t i = 0; wh->slots && i < wh->nslots; i++) {
		slot_clear(&wh->slots[i]);
		if (wh->slots[i].easy)
			curl_easy_cleanup(wh->slots[i].easy);
	}
	if (wh->multi)
		curl_multi_cleanup(wh->multi);
	for (size_t i = 0; i < wh->qn; i++)
		cp_free(wh->q[i]);
	cp_free(wh->q);
	cp_free(wh->slots);
	pthread_mutex_destroy(&wh->mu);
	cp_free(wh);
}

int
cp_webhook_reload(cp_webhook *wh, const cp_conf *conf, cp_err *err)
{
	(void)err;
	pthread_mutex_lock(&wh->mu);
	wh_take_conf(wh, conf);
	pthread_mutex_unlock(&wh->mu);
	return CP_OK;
}

void
cp_webhook_get_stats(cp_webhook *wh, cp_webhook_stats *out)
{
	pthread_mutex_lock(&wh->mu);
	*out = wh->st;
	out->queued = wh->qn + wh->flushing;
	pthread_mutex_unlock(&wh->mu);
}

/* ---- `coldpost webhook test` ------------------------------------------- */

int
cp_webhook_send_test(const cp_conf *conf, const cp_webhook_endpoint *w,
    const char *tenant_name, long *status, cp_err *err)
{
	cp_webhook_event ev = { 0 };
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE], why[WH_ERR_MAX];
	CURL *easy;
	CURLcode res;
	cp_buf body;
	int rc;

	*status = 0;
	pthread_once(&curl_once, wh_curl_init);
	if (curl_init_rc != CURLE_OK || (easy = curl_easy_init()) == NULL)
		return cp_err_set(err, CP_ENOMEM, "webhook: curl init failed");
	ev.type = CP_WEBHOOK_TEST;
	ev.tenant = w->tenant;
	ev.time = wh_now();
	cp_buf_init(&body, CP_STORE_PAYLOAD_MAX);
	rc = cp_webhook_event_json(&ev, w->tenant, tenant_name,
	    "00000000000000000000000000000000", &body, err);
	if (rc == CP_OK)
		rc = wh_easy_setup(easy, &hdrs, w->url, w->secret, "test", 0, 1,
		    body.data, conf->webhook.timeout, errbuf, err);
	if (rc == CP_OK) {
		res = curl_easy_perform(easy);
		wh_outcome(easy, res, errbuf, status, why, sizeof(why));
		if (why[0] != '\0')
			rc = cp_err_set(err, CP_ETEMP, "webhook: %s: %s",
			    w->url, why);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(easy);
	cp_buf_free(&body);
	return rc;
}
