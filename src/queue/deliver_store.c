/*
 * deliver_store.c - the delivery engine's store thread: every store call
 * of delivery happens here, because they block (SQLite syncs to disk) and
 * the loop thread must not.
 *
 * It records attempts in batches (one transaction, one sync, for every
 * outcome that came in since the last turn), inserts DSNs as new messages
 * with the null sender, claims due recipients with leases (when the loop
 * runs low, once a second, and when kicked) and reads their bodies, sweeps
 * expired recipients (sending their DSNs), and loads the tenants' IP
 * pools. At start it gives back the leases a previous run of this node
 * left; at the end, after the last records, the leases of what was not
 * tried.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "queue/deliver_int.h"

/* Record a batch; when the batch fails as a whole (a recipient gone, say),
 * record them one by one so that the others are kept. */
static void
store_record(cp_deliver *d, dl_rec *list, size_t n)
{
	cp_attempt *v = cp_malloc((n ? n : 1) * sizeof(*v));
	size_t i = 0;
	cp_err err;
	dl_rec *r;

	if (v != NULL) {
		for (r = list; r != NULL; r = r->next)
			v[i++] = r->a;
		if (cp_store_record_attempts(d->store, d->node, v, n, &err) ==
		    CP_OK)
			goto out;
		cp_log(CP_LOG_WARN, "queue", "recording %zu attempts: %s; "
		    "one by one", n, err.msg);
	}
	for (r = list; r != NULL; r = r->next) {
		cp_attempt a = r->a;

		if (cp_store_record_attempts(d->store, d->node, &a, 1, &err) !=
		    CP_OK)
			cp_log(CP_LOG_ERR, "queue", "rcpt=%lld: cannot record "
			    "an attempt: %s", (long long)a.rcpt, err.msg);
	}
out:
	cp_free(v);
	while (list != NULL) {
		r = list->next;
		cp_free(list);
		list = r;
	}
}

/* Insert DSNs in one transaction: new messages from the null sender. */
static void
store_dsns(cp_deliver *d, dl_dsn *list)
{
	size_t n = 0, i = 0;
	cp_insert *v;
	cp_err err;
	dl_dsn *x;
	int64_t now = time(NULL);

	for (x = list; x != NULL; x = x->next)
		n++;
	if (n > 0 && (v = cp_calloc(n, sizeof(*v))) != NULL) {
		for (x = list; x != NULL; x = x->next, i++) {
			v[i].env.tenant = x->tenant;
			v[i].env.mail_from = "";
			v[i].env.return_path = "";
			v[i].env.rcpts = (const char *const *)&x->to;
			v[i].env.nrcpts = 1;
			v[i].env.received = now;
			v[i].env.message_id = "";
			v[i].body = x->body.data ? x->body.data : "";
			v[i].len = x->body.len;
		}
		if (cp_store_insert_many(d->store, v, n, &err) != CP_OK)
			cp_log(CP_LOG_ERR, "queue", "cannot queue %zu DSNs: %s",
			    n, err.msg);
		for (i = 0; i < n; i++)
			if (v[i].rc == CP_OK)
				cp_log(CP_LOG_INFO, "queue", "id=%lld dsn to=<%s> "
				    "queued", (long long)v[i].env.id,
				    *v[i].env.rcpts);
			else
				cp_log(CP_LOG_ERR, "queue", "dsn to=<%s>: %s",
				    *v[i].env.rcpts, v[i].err.msg);
		cp_free(v);
	}
	while (list != NULL) {
		x = list->next;
		dl_dsn_free(list);
		list = x;
	}
	pthread_mutex_lock(&d->mu);
	d->want_claim = 1;	/* they are due now */
	pthread_mutex_unlock(&d->mu);
}

static int
due_by_message(const void *a, const void *b)
{
	const cp_due *x = *(const cp_due *const *)a;
	const cp_due *y = *(const cp_due *const *)b;

	if (x->rcpt.message != y->rcpt.message)
		return x->rcpt.message < y->rcpt.message ? -1 : 1;
	return x->rcpt.id < y->rcpt.id ? -1 : x->rcpt.id > y->rcpt.id;
}

/* A dl_msg for n claimed recipients of one message, the body read. */
static dl_msg *
claimed_msg(cp_deliver *d, cp_due *const *v, size_t n)
{
	const cp_due *u = v[0];
	const char **rcpts = cp_calloc(n, sizeof(*rcpts));
	int64_t *ids = cp_calloc(n, sizeof(*ids));
	dl_msg *dm = cp_calloc(1, sizeof(*dm));
	cp_buf body;
	cp_err err;

	cp_buf_init(&body, CP_STORE_BODY_MAX);
	if (rcpts == NULL || ids == NULL || dm == NULL)
		goto fail;
	dm->attempts = cp_calloc(n, sizeof(*dm->attempts));
	dm->expires = cp_calloc(n, sizeof(*dm->expires));
	if (dm->attempts == NULL || dm->expires == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		rcpts[i] = v[i]->rcpt.address;
		ids[i] = v[i]->rcpt.id;
		dm->attempts[i] = v[i]->rcpt.attempts;
		dm->expires[i] = v[i]->rcpt.expires;
	}
	if (cp_store_get_body(d->store, u->rcpt.message, &body, &err) !=
	    CP_OK) {
		cp_log(CP_LOG_ERR, "queue", "id=%lld: cannot read the body: %s",
		    (long long)u->rcpt.message, err.msg);
		goto fail;
	}
	dm->m = cp_relay_msg_new(u->rcpt.message, u->tenant, u->mailbox,
	    u->mail_from, u->return_path, u->message_id, rcpts, ids, n, NULL,
	    0);
	if (dm->m == NULL)
		goto fail;
	if (body.data != NULL) {
		/* the body moves into the message: no copy */
		cp_free(dm->m->body);
		dm->m->body = body.data;
		dm->m->len = body.len;
		body.data = NULL;
	}
	dm->m->received = u->received;
	dm->m->expires = dm->expires[0];
	dm->held = dm->m->len;
	cp_free(rcpts);
	cp_free(ids);
	return dm;
fail:
	cp_buf_wipe(&body);
	if (dm != NULL) {
		cp_relay_msg_free(dm->m);
		cp_free(dm->attempts);
		cp_free(dm->expires);
		cp_free(dm);
	}
	cp_free(rcpts);
	cp_free(ids);
	return NULL;
}

/* Claim due recipients; 1 when the claim was full (more may be due). */
static int
store_claim(cp_deliver *d)
{
	cp_due_list *l = NULL;
	cp_due **v;
	cp_err err;
	int full;

	if (cp_store_claim_due(d->store, time(NULL), d->node,
	    CP_DELIVER_LEASE_S, DL_CLAIM_MAX, &l, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "queue", "claim: %s", err.msg);
		return 0;
	}
	full = l->n == DL_CLAIM_MAX;
	if (l->n > 0 && (v = cp_malloc(l->n * sizeof(*v))) != NULL) {
		size_t i = 0;

		for (size_t k = 0; k < l->n; k++)
			v[k] = &l->v[k];
		qsort(v, l->n, sizeof(*v), due_by_message);
		while (i < l->n) {
			size_t e = i + 1;
			dl_msg *dm;

			while (e < l->n && v[e]->rcpt.message ==
			    v[i]->rcpt.message)
				e++;
			if ((dm = claimed_msg(d, v + i, e - i)) != NULL)
				dl_in_add(d, dm, 0);
			/* else the lease runs out and they come again */
			i = e;
		}
		pthread_mutex_lock(&d->mu);
		d->stats.claimed += l->n;
		pthread_mutex_unlock(&d->mu);
		cp_free(v);
	}
	cp_due_list_free(l);
	return full;
}

/* Expire what waited too long and tell the senders; 1 when the sweep
 * was full (more may wait). */
static int
store_expire(cp_deliver *d)
{
	int64_t now = time(NULL);
	cp_due_list *l = NULL;
	dl_dsn *list = NULL;
	char buf[65536];
	cp_err err;
	int full;

	if (cp_store_expire_due(d->store, now, DL_CLAIM_MAX, &l, &err) !=
	    CP_OK) {
		cp_log(CP_LOG_ERR, "queue", "expiry sweep: %s", err.msg);
		return 0;
	}
	full = l->n == DL_CLAIM_MAX;
	for (size_t i = 0; i < l->n; i++) {
		const cp_due *u = &l->v[i];
		size_t got = 0;
		dl_dsn *x;

		cp_log(CP_LOG_INFO, "queue", "id=%lld rcpt=<%s> mx=- ip=- "
		    "status=expired code=%d dsn=%s cause=%s reply=\"%s\"",
		    (long long)u->rcpt.message, u->rcpt.address,
		    u->rcpt.last_code, u->rcpt.last_enhanced ?
		    u->rcpt.last_enhanced : "-", u->rcpt.last_cause ?
		    u->rcpt.last_cause : "-", u->rcpt.last_reply ?
		    u->rcpt.last_reply : "");
		if (u->mail_from[0] == '\0')
			continue;
		if (cp_store_read_body(d->store, u->rcpt.message, 0, buf,
		    sizeof(buf), &got, NULL, &err) != CP_OK)
			got = 0;
		x = dl_dsn_make(d->hostname, u->tenant, u->rcpt.message,
		    u->mail_from, u->received, buf, got, u->rcpt.address,
		    CP_RCPT_EXPIRED, "4.4.7", "", u->rcpt.last_reply, NULL,
		    now);
		if (x != NULL) {
			x->next = list;
			list = x;
		}
	}
	pthread_mutex_lock(&d->mu);
	d->stats.expired += l->n;
	for (dl_dsn *x = list; x != NULL; x = x->next)
		d->stats.dsns++;
	pthread_mutex_unlock(&d->mu);
	cp_due_list_free(l);
	if (list != NULL)
		store_dsns(d, list);
	return full;
}

/* ---- pools -------------------------------------------------------------- */

typedef struct pool_load {
	dl_src *srcs;
	size_t nsrcs;
	dl_pool *pools;
	size_t npools;
	int oom;
} pool_load;

static int
pool_add(void *arg, const cp_pool *p)
{
	pool_load *L = arg;
	dl_src *s, *v = cp_realloc(L->srcs, (L->nsrcs + 1) * sizeof(*v));
	dl_pool *pl = NULL;
	size_t *ix;

	if (v == NULL)
		return L->oom = 1;
	L->srcs = v;
	s = &v[L->nsrcs];
	memset(s, 0, sizeof(*s));
	if (inet_pton(AF_INET, p->addr,
	    &((struct sockaddr_in *)&s->sa)->sin_addr) == 1) {
		s->family = AF_INET;
		((struct sockaddr_in *)&s->sa)->sin_family = AF_INET;
		s->salen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, p->addr,
	    &((struct sockaddr_in6 *)&s->sa)->sin6_addr) == 1) {
		s->family = AF_INET6;
		((struct sockaddr_in6 *)&s->sa)->sin6_family = AF_INET6;
		s->salen = sizeof(struct sockaddr_in6);
	} else {
		return 0;	/* the store checked it; skip what is odd */
	}
	snprintf(s->ip, sizeof(s->ip), "%s", p->addr);
	s->tenant = p->tenant;
	if ((s->ehlo = cp_strdup(p->ehlo)) == NULL)
		return L->oom = 1;
	L->nsrcs++;
	for (size_t i = 0; i < L->npools; i++)
		if (L->pools[i].tenant == p->tenant)
			pl = &L->pools[i];
	if (pl == NULL) {
		dl_pool *pv = cp_realloc(L->pools,
		    (L->npools + 1) * sizeof(*pv));

		if (pv == NULL)
			return L->oom = 1;
		L->pools = pv;
		pl = &pv[L->npools++];
		memset(pl, 0, sizeof(*pl));
		pl->tenant = p->tenant;
	}
	if ((ix = cp_realloc(pl->srcs, (pl->n + 1) * sizeof(*ix))) == NULL)
		return L->oom = 1;
	pl->srcs = ix;
	pl->srcs[pl->n++] = L->nsrcs - 1;	/* index into L->srcs */
	return 0;
}

static void
pool_load_free(pool_load *L)
{
	for (size_t i = 0; i < L->nsrcs; i++)
		cp_free(L->srcs[i].ehlo);
	cp_free(L->srcs);
	for (size_t i = 0; i < L->npools; i++)
		cp_free(L->pools[i].srcs);
	cp_free(L->pools);
}

int
dl_load_pools(cp_deliver *d, cp_err *err)
{
	pool_load L = { 0 };
	int rc = cp_store_list_pools(d->store, 0, pool_add, &L, err);

	if (rc == CP_OK && L.oom)
		rc = cp_err_set(err, CP_ENOMEM, "deliver: out of memory");
	if (rc != CP_OK) {
		pool_load_free(&L);
		return rc;
	}
	pthread_mutex_lock(&d->mu);
	/* a load the loop has not taken yet is replaced */
	{
		pool_load old = { d->new_srcs, d->new_nsrcs, d->new_pools,
			d->new_npools, 0 };

		pool_load_free(&old);
	}
	d->new_srcs = L.srcs ? L.srcs : cp_calloc(1, sizeof(dl_src));
	d->new_nsrcs = L.nsrcs;
	d->new_pools = L.pools;
	d->new_npools = L.npools;
	pthread_mutex_unlock(&d->mu);
	return CP_OK;
}

/* Retention: the bodies of messages finished queue.retention ago go (a
 * bounded batch a turn, so records never wait long behind it); 1 when the
 * batch was full (more may wait). */
static int
store_purge(cp_deliver *d)
{
	int64_t keep_s;
	size_t n = 0;
	cp_err err;

	pthread_mutex_lock(&d->mu);
	keep_s = d->conf_retention_ms / 1000;
	pthread_mutex_unlock(&d->mu);
	if (cp_store_purge_bodies(d->store, time(NULL), keep_s,
	    DL_PURGE_MAX, &n, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "queue", "retention: %s", err.msg);
		return 0;
	}
	if (n > 0)
		cp_log(CP_LOG_INFO, "queue", "retention: %zu bodies of messages "
		    "finished over %lld s ago purged", n, (long long)keep_s);
	return n == DL_PURGE_MAX;
}

/* ---- the thread --------------------------------------------------------- */

void *
dl_store_main(void *arg)
{
	cp_deliver *d = arg;
	time_t last_claim = 0, last_expire = 0;
	size_t n = 0;
	cp_err err;

	for (;;) {
		dl_rec *recs;
		dl_dsn *dsns;
		size_t nrecs;
		int claim, pools, stop, room;
		time_t now = time(NULL);

		pthread_mutex_lock(&d->mu);
		while (!d->store_stop && d->recs == NULL && d->dsns == NULL &&
		    !d->want_pools && !(d->want_claim && !d->stopping) &&
		    now - last_claim < 1 && now - last_expire <
		    DL_EXPIRE_EVERY_S) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
			now = time(NULL);
		}
		recs = d->recs;
		nrecs = d->nrecs;
		d->recs = NULL;
		d->recs_tail = &d->recs;
		d->nrecs = 0;
		dsns = d->dsns;
		d->dsns = NULL;
		pools = d->want_pools;
		d->want_pools = 0;
		stop = d->store_stop;
		room = !d->stopping && d->backlog < DL_BACKLOG_LOW * 4 &&
		    d->stats.held_bytes < d->max_memory / 4 * 3;
		claim = room && (d->want_claim || now - last_claim >= 1);
		if (claim)
			d->want_claim = 0;
		else if (now - last_claim >= 1)
			last_claim = now;	/* no room: look again later */
		room = d->stopping;	/* reused: stopping, read under mu */
		pthread_mutex_unlock(&d->mu);

		if (recs != NULL)
			store_record(d, recs, nrecs);
		if (dsns != NULL)
			store_dsns(d, dsns);
		if (stop)
			break;
		if (pools) {
			if (dl_load_pools(d, &err) != CP_OK)
				cp_log(CP_LOG_ERR, "queue", "loading pools: %s",
				    err.msg);
			else if (d->ev_wake != NULL)
				event_active(d->ev_wake, 0, 0);
		}
		if (claim) {
			last_claim = now;
			if (store_claim(d)) {
				pthread_mutex_lock(&d->mu);
				d->want_claim = 1;
				pthread_mutex_unlock(&d->mu);
			}
		}
		if (now - last_expire >= DL_EXPIRE_EVERY_S && !room) {
			int more = store_expire(d);

			more |= store_purge(d);
			last_expire = more ? 0 : now;
		}
	}
	if (cp_store_release_node(d->store, d->node, time(NULL), &n, &err) !=
	    CP_OK)
		cp_log(CP_LOG_ERR, "queue", "giving back leases: %s", err.msg);
	return NULL;
}
