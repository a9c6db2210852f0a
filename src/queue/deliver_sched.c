/*
 * deliver_sched.c - the delivery engine's scheduling, on its loop thread:
 * messages planned into jobs (one transaction each), destinations and
 * their next hops, the queue of each destination and source address, the
 * connection limits, and what becomes of each recipient.
 *
 * A message is planned into jobs: its recipients of one domain together
 * (RFC 5321 3.3 allows many RCPT per transaction), or one per recipient
 * when VERP is on (each gets its own return path). A job goes to the
 * queue of its destination (a [routes] target or the domain's MX) and of
 * the source address picked from the tenant's pool. Connections are
 * opened per queue within delivery.connections_per_destination and
 * delivery.connections_per_source_ip, take jobs while they last, then wait
 * a little for more (deliver_conn.c).
 *
 * The outcome of each recipient (deliver_outcome.c decides) is classified
 * (cp_classify: cause, reason, receiver), logged, handed to the store
 * thread in batches, and a bounce or an expiry queues a DSN (RFC 3464).
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "coldpost/kb.h"
#include "coldpost/log.h"
#include "coldpost/verp.h"
#include "queue/deliver_int.h"



/* ---- outcomes ------------------------------------------------------------ */

void
dl_add_rec(cp_deliver *d, dl_rec *r)
{
	pthread_mutex_lock(&d->mu);
	*d->recs_tail = r;
	d->recs_tail = &r->next;
	d->nrecs++;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void
dl_add_dsn(cp_deliver *d, dl_dsn *x)
{
	pthread_mutex_lock(&d->mu);
	x->next = d->dsns;
	d->dsns = x;
	d->stats.dsns++;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

static const char *
status_word(int outcome)
{
	switch (outcome) {
	case CP_RCPT_DELIVERED: return "sent";
	case CP_RCPT_DEFERRED: return "deferred";
	case CP_RCPT_BOUNCED: return "bounced";
	default: return "expired";
	}
}

/*
 * One recipient's outcome: decided (or given by force), classified,
 * logged, queued for the store, and a DSN for a final failure.
 */
static void
rcpt_outcome(cp_deliver *d, dl_msg *dm, size_t i, int status, int code,
    const char *enh, const char *text, const char *mx, const char *ip,
    int64_t t_attempt, int64_t dur_ms, const dl_decision *force)
{
	cp_relay_msg *m = dm->m;
	int64_t now = time(NULL);
	int attempts = dm->attempts ? dm->attempts[i] : 0;
	int64_t expires = dm->expires ? dm->expires[i] : m->expires;
	cp_attempt a = { 0 };
	cp_verdict v;
	dl_decision dec;
	dl_rec *r;
	cp_err err;
	int classified = 0;

	if (force != NULL)
		dec = *force;
	else
		dl_decide(status, attempts, now, expires, &d->conf.queue.retry,
		    &dec);
	if (status != CP_SMTPC_OK && text != NULL && text[0] != '\0' &&
	    d->cls != NULL &&
	    cp_classify_reply(d->cls, text, strlen(text), mx, &v, &err) ==
		CP_OK)
		classified = 1;
	a.rcpt = m->rcpts[i].id;
	a.time = t_attempt;
	a.mx = mx;
	a.source_ip = ip;
	a.reply = text;
	a.code = code;
	a.enhanced = enh;
	a.cause = classified ? cp_cause_name(v.cause) : "";
	a.reason = classified && v.reason ? v.reason : "";
	a.receiver = classified && v.receiver ? v.receiver : "";
	a.duration_ms = dur_ms;
	a.outcome = dec.outcome;
	a.next_attempt = dec.next_attempt;
	if (d->observe != NULL) {
		cp_deliver_event ev = { .tenant = m->tenant,
			.mailbox = m->mailbox, .message = m->id,
			.rcpt = m->rcpts[i].address,
			.cause = classified ? (int)v.cause : -1, .attempt = &a };

		d->observe(d->observe_arg, &ev);
	}
	if ((r = dl_rec_new(&a)) != NULL)
		dl_add_rec(d, r);
	else
		cp_log(CP_LOG_ERR, "queue", "id=%lld: out of memory recording "
		    "an attempt", (long long)m->id);
	cp_log(CP_LOG_INFO, "queue", "id=%lld rcpt=<%s> mx=%s ip=%s status=%s "
	    "code=%d dsn=%s cause=%s reply=\"%s\"", (long long)m->id,
	    m->rcpts[i].address, mx && mx[0] ? mx : "-", ip && ip[0] ? ip : "-",
	    status_word(dec.outcome), code, enh && enh[0] ? enh : "-",
	    a.cause[0] ? a.cause : "-", text ? text : "");
	pthread_mutex_lock(&d->mu);
	switch (dec.outcome) {
	case CP_RCPT_DELIVERED: d->stats.delivered++; break;
	case CP_RCPT_DEFERRED: d->stats.deferred++; break;
	case CP_RCPT_BOUNCED: d->stats.bounced++; break;
	default: d->stats.expired++; break;
	}
	pthread_mutex_unlock(&d->mu);
	if (dec.outcome == CP_RCPT_BOUNCED || dec.outcome == CP_RCPT_EXPIRED) {
		dl_dsn *x = dl_dsn_make(d->hostname, m->tenant, m->id,
		    m->mail_from, m->received, m->body, m->len,
		    m->rcpts[i].address, dec.outcome, enh, mx, text,
		    classified ? v.says : NULL, now);

		if (x != NULL)
			dl_add_dsn(d, x);
	}
}

void
dl_rcpt_outcome(cp_deliver *d, dl_job *j, size_t k, int status, int code,
    const char *enhanced, const char *text, const char *mx, const char *ip,
    int64_t t_attempt, int64_t dur_ms)
{
	rcpt_outcome(d, j->dm, j->idx[k], status, code, enhanced, text, mx, ip,
	    t_attempt, dur_ms, NULL);
}

/* ---- messages and jobs ------------------------------------------------- */

static void
msg_free(cp_deliver *d, dl_msg *dm)
{
	pthread_mutex_lock(&d->mu);
	d->stats.held_bytes -= dm->held;
	d->backlog--;
	if (d->backlog < DL_BACKLOG_LOW && !d->want_claim) {
		d->want_claim = 1;
		pthread_cond_signal(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	cp_relay_msg_free(dm->m);
	cp_free(dm->pv);
	cp_free(dm->attempts);
	cp_free(dm->expires);
	cp_free(dm);
}

void
dl_msg_unref(cp_deliver *d, dl_msg *dm)
{
	if (--dm->refs == 0)
		msg_free(d, dm);
}

void
dl_job_done(cp_deliver *d, dl_job *j)
{
	dl_msg_unref(d, j->dm);
	cp_free(j);
}

static dl_job *
job_new(dl_msg *dm, size_t n)
{
	dl_job *j = cp_calloc(1, sizeof(*j) + n * (sizeof(size_t) +
	    sizeof(char *)));

	if (j == NULL)
		return NULL;
	j->dm = dm;
	j->idx = (size_t *)(j + 1);
	j->rcpts = (const char **)(j->idx + n);
	return j;
}

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The destination of a domain: its route's target, or its MX. */
static dl_dest *
dest_get(cp_deliver *d, const char *domain)
{
	const cp_conf_route *r = cp_conf_find_route(&d->conf, domain);
	char key[CP_STORE_DOMAIN_MAX + 64];
	dl_dest *x;
	uint32_t b;

	if (r != NULL)
		snprintf(key, sizeof(key), "route:%s:%u:%d", r->host,
		    (unsigned)r->port, r->tls);
	else
		snprintf(key, sizeof(key), "mx:%s", domain);
	b = hash_str(key) % DL_BUCKETS;
	for (x = d->dests[b]; x != NULL; x = x->hnext)
		if (strcmp(x->key, key) == 0)
			break;
	if (x == NULL) {
		if ((x = cp_calloc(1, sizeof(*x))) == NULL)
			return NULL;
		x->key = cp_strdup(key);
		x->name = cp_strdup(r ? r->host : domain);
		if (x->key == NULL || x->name == NULL) {
			cp_free(x->key);
			cp_free(x->name);
			cp_free(x);
			return NULL;
		}
		x->route = r != NULL;
		x->hnext = d->dests[b];
		d->dests[b] = x;
	}
	if (x->gen != d->gen || x->port == 0) {
		/* settings that a reload may change */
		x->gen = d->gen;
		x->port = r ? r->port : (uint16_t)d->conf.delivery.mx_port;
		x->tls = r && r->tls >= 0 ? r->tls : d->conf.delivery.tls;
	}
	return x;
}

static dl_dq *
dq_get(dl_dest *x, size_t src)
{
	dl_dq *q;

	for (q = x->dqs; q != NULL; q = q->next)
		if (q->src == src)
			return q;
	if ((q = cp_calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->dest = x;
	q->src = src;
	q->next = x->dqs;
	x->dqs = q;
	return q;
}

/* A source address of the tenant's pool, in turn; 0: the default. */
static size_t
src_pick(cp_deliver *d, int64_t tenant)
{
	for (size_t i = 0; i < d->npools; i++)
		if (d->pools[i].tenant == tenant && d->pools[i].n > 0) {
			dl_pool *p = &d->pools[i];

			return p->srcs[p->next++ % p->n];
		}
	return 0;
}

static void
dq_push(dl_dq *q, dl_job *j)
{
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->njobs++;
}

dl_job *
dl_dq_pop(dl_dq *q)
{
	dl_job *j = q->head;

	if (j != NULL) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->njobs--;
		j->next = NULL;
	}
	return j;
}

/* Defer a job's recipients to at (pacing): no receiver was asked. */
static void
job_defer(cp_deliver *d, dl_job *j, int64_t at, const char *src_ip,
    const char *mx)
{
	int64_t now = time(NULL);
	dl_decision dec = { CP_RCPT_DEFERRED, at > now ? at : now + 60 };
	char text[400];

	/* the hook says when, not why: its hourly rate, or a pause (a
	 * listed IP, a "slow down"); `coldpost policy` shows which */
	snprintf(text, sizeof(text), "451 4.7.0 paced: %s towards %s is held "
	    "by the sending policy (hourly rate or pause); next slot in "
	    "%lld s", src_ip[0] ? src_ip :
	    "the default source", mx, (long long)(dec.next_attempt - now));
	for (size_t k = 0; k < j->n; k++)
		rcpt_outcome(d, j->dm, j->idx[k], CP_SMTPC_TEMP, 451, "4.7.0",
		    text, "", src_ip, now, 0, &dec);
	dl_job_done(d, j);
}

dl_job *
dl_dq_take(cp_deliver *d, dl_dq *q, const char *src_ip, const char *mx)
{
	dl_job *j;
	int64_t at = 0;

	/* A static route is a smart host of ours, not a receiver whose
	 * reputation is earned: pacing is for MX delivery. */
	while ((j = dl_dq_pop(q)) != NULL) {
		if (d->pace == NULL || q->dest->route || mx == NULL ||
		    mx[0] == '\0' ||
		    d->pace(d->pace_arg, src_ip, mx, 0, &at) ==
		    CP_POLICY_SEND)
			return j;
		job_defer(d, j, at, src_ip, mx);
	}
	return NULL;
}

/* Fail a job's recipients at once (no connection made for them). */
static void
job_fail(cp_deliver *d, dl_job *j, int status, int code, const char *enh,
    const char *text, const char *mx, const char *ip)
{
	int64_t now = time(NULL);

	for (size_t k = 0; k < j->n; k++)
		dl_rcpt_outcome(d, j, k, status, code, enh, text, mx, ip, now,
		    0);
	dl_job_done(d, j);
}

void
dl_dq_fail(cp_deliver *d, dl_dq *q, int status, int code,
    const char *enhanced, const char *text, const char *mx, const char *ip)
{
	dl_job *j;

	while ((j = dl_dq_pop(q)) != NULL)
		job_fail(d, j, status, code, enhanced, text, mx, ip);
}

static void dest_resolve(cp_deliver *d, dl_dest *x);

void
dl_dq_dispatch(cp_deliver *d, dl_dq *q)
{
	dl_dest *x = q->dest;
	dl_src *s = &d->srcs[q->src];

	if (q->njobs == 0 || d->loop_stopping)
		return;
	if (x->state == DL_DEST_READY && dl_now_ms() >= x->hops_until)
		x->state = DL_DEST_NEW;	/* look again */
	if (x->state != DL_DEST_READY) {
		if (x->state == DL_DEST_NEW)
			dest_resolve(d, x);
		return;
	}
	if (x->hops == NULL || x->hops->status != DL_HOP_OK) {
		dl_dq_fail(d, q, x->hops && x->hops->status == DL_HOP_PERM
		    ? CP_SMTPC_PERM : CP_SMTPC_TEMP,
		    x->hops ? x->hops->code : 451,
		    x->hops ? x->hops->enhanced : "4.3.0",
		    x->hops ? x->hops->reply : "451 4.3.0 out of memory", "",
		    "");
		return;
	}
	while (q->head != NULL && q->idle != NULL) {
		dl_conn *c = q->idle;

		q->idle = c->inext;
		c->inext = NULL;
		dl_conn_next(c);	/* takes a job, or idles again */
	}
	while (q->njobs > q->nopening) {
		if (!dl_may_open(x->nconn, s->nconn,
		    d->conf.delivery.connections_per_destination,
		    d->conf.delivery.connections_per_source_ip)) {
			if (!q->waiting) {
				q->waiting = 1;
				q->wnext = d->waiting;
				d->waiting = q;
			}
			break;
		}
		if (dl_conn_open(d, q) != CP_OK)
			break;
	}
}

/* A connection closed: its queue and the queues held back by a limit
 * may go on. */
void
dl_conn_gone(cp_deliver *d, dl_dq *q)
{
	dl_dq *w = d->waiting;

	d->waiting = NULL;
	dl_dq_dispatch(d, q);
	while (w != NULL) {
		dl_dq *next = w->wnext;

		w->waiting = 0;
		w->wnext = NULL;
		dl_dq_dispatch(d, w);
		w = next;
	}
	if (d->loop_stopping && d->nconns == 0)
		event_base_loopexit(d->base, NULL);
}

static void
dest_on_hops(dl_dest *x, dl_hops *h)
{
	cp_free(x->hops);
	x->hops = h;
	x->state = DL_DEST_READY;
	x->hops_until = dl_now_ms() + (h && h->status == DL_HOP_OK
	    ? DL_HOPS_OK_MS : DL_HOPS_FAIL_MS);
}

/* dest_on_hops needs the engine: the resolution carries both. */
typedef struct dest_res {
	cp_deliver *d;
	dl_dest *x;
} dest_res;

static void
dest_on_resolved(void *arg, dl_hops *h)
{
	dest_res *r = arg;
	cp_deliver *d = r->d;
	dl_dest *x = r->x;

	cp_free(r);
	dest_on_hops(x, h);
	if (h != NULL && h->status != DL_HOP_OK)
		cp_log(CP_LOG_INFO, "queue", "next hop %s: %s", x->name,
		    h->reply);
	if (d->loop_stopping)
		return;
	for (dl_dq *q = x->dqs; q != NULL; q = q->next)
		dl_dq_dispatch(d, q);
}

static void
dest_resolve(cp_deliver *d, dl_dest *x)
{
	dl_hops *h = x->route ? dl_hops_literal(x->name, x->port) : NULL;
	dest_res *r;
	cp_err err;

	if (h != NULL) {
		dest_on_hops(x, h);
		x->hops_until = INT64_MAX;
		for (dl_dq *q = x->dqs; q != NULL; q = q->next)
			if (q->njobs > 0 && x->state == DL_DEST_READY)
				dl_dq_dispatch(d, q);
		return;
	}
	x->state = DL_DEST_RESOLVING;
	if ((r = cp_malloc(sizeof(*r))) == NULL ||
	    (r->d = d, r->x = x,
	    dl_resolve_start(d->dns, x->name, x->route, x->port,
		dest_on_resolved, r, &err)) != CP_OK) {
		h = cp_calloc(1, sizeof(*h));
		if (h != NULL)
			dl_hops_fail(h, DL_HOP_TEMP, 451, "4.4.3",
			    "cannot resolve %s", x->name);
		cp_free(r);
		dest_on_hops(x, h);
		for (dl_dq *q = x->dqs; q != NULL; q = q->next)
			dl_dq_dispatch(d, q);	/* fails their jobs */
		return;
	}
	dl_dns_rearm(d);
}

/* Does the text have bytes over 127? */
static int
has_8bit(const char *p, size_t len)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	/* eight bytes at a time: this runs over every body */
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < len; i++)
		acc |= (unsigned char)p[i];
	return (acc & 0x8080808080808080ull) != 0;
}

/* A policy verdict other than SEND ends the recipient's turn here. */
static int
policy_stops(cp_deliver *d, dl_msg *dm, size_t i, int64_t now)
{
	cp_policy_verdict v = { CP_POLICY_SEND, 0, NULL };
	dl_decision dec;
	char text[300];

	/* asked when the message came in (dl_in_add), off this thread */
	if (dm->pv == NULL)
		return 0;
	v.verdict = dm->pv[i].verdict;
	v.retry_at = dm->pv[i].retry_at;
	v.reason = dm->pv[i].reason[0] ? dm->pv[i].reason : NULL;
	if (v.verdict == CP_POLICY_DEFER) {
		dec.outcome = CP_RCPT_DEFERRED;
		dec.next_attempt = v.retry_at > now ? v.retry_at : now + 60;
		snprintf(text, sizeof(text), "451 4.7.0 %s",
		    v.reason ? v.reason : "deferred by policy");
		rcpt_outcome(d, dm, i, CP_SMTPC_TEMP, 451, "4.7.0", text, "",
		    "", now, 0, &dec);
		return 1;
	}
	if (v.verdict == CP_POLICY_REFUSE) {
		dec.outcome = CP_RCPT_BOUNCED;
		dec.next_attempt = 0;
		snprintf(text, sizeof(text), "550 5.7.1 %s",
		    v.reason ? v.reason : "refused by policy");
		rcpt_outcome(d, dm, i, CP_SMTPC_PERM, 550, "5.7.1", text, "",
		    "", now, 0, &dec);
		return 1;
	}
	return 0;
}

/* Put a job on its destination's queue from the chosen source. */
static void
job_queue(cp_deliver *d, dl_job *j, const char *domain, size_t src)
{
	dl_dest *x = dest_get(d, domain);
	dl_dq *q = x ? dq_get(x, src) : NULL;

	if (q == NULL) {
		job_fail(d, j, CP_SMTPC_TEMP, 451, "4.3.0",
		    "451 4.3.0 out of memory", "", "");
		return;
	}
	dq_push(q, j);
	dl_dq_dispatch(d, q);
}

/*
 * Plan a message: recipients grouped by domain into jobs (one per
 * recipient with VERP), each queued to its destination.
 */
void
dl_msg_plan(cp_deliver *d, dl_msg *dm)
{
	cp_relay_msg *m = dm->m;
	int verp = d->conf.bounce.verp && d->conf.bounce.domain[0] != '\0' &&
	    m->mail_from[0] != '\0';
	const char *from = m->return_path[0] ? m->return_path : m->mail_from;
	size_t src = src_pick(d, m->tenant);
	int64_t now = time(NULL);
	unsigned char *done;
	char dom[CP_STORE_DOMAIN_MAX + 1], dom2[CP_STORE_DOMAIN_MAX + 1];

	dm->refs = 1;	/* held while planning */
	dm->body8bit = has_8bit(m->body, m->len);
	dm->utf8 = has_8bit(m->mail_from, strlen(m->mail_from));
	if ((done = cp_calloc(m->nrcpts + 1, 1)) == NULL) {
		dl_msg_unref(d, dm);
		return;
	}
	for (size_t i = 0; i < m->nrcpts; i++) {
		dl_job *j;
		size_t n = 0;

		if (done[i])
			continue;
		done[i] = 1;
		if (policy_stops(d, dm, i, now))
			continue;
		dl_rcpt_domain(m->rcpts[i].address, dom, sizeof(dom));
		if ((j = job_new(dm, verp ? 1 : m->nrcpts - i)) == NULL) {
			rcpt_outcome(d, dm, i, CP_SMTPC_TEMP, 451, "4.3.0",
			    "451 4.3.0 out of memory", "", "", now, 0, NULL);
			continue;
		}
		j->idx[n++] = i;
		for (size_t k = i + 1; !verp && k < m->nrcpts; k++) {
			if (done[k])
				continue;
			dl_rcpt_domain(m->rcpts[k].address, dom2, sizeof(dom2));
			if (strcmp(dom, dom2) != 0)
				continue;
			done[k] = 1;
			if (!policy_stops(d, dm, k, now))
				j->idx[n++] = k;
		}
		j->n = n;
		for (size_t k = 0; k < n; k++) {
			j->rcpts[k] = m->rcpts[j->idx[k]].address;
			if (has_8bit(j->rcpts[k], strlen(j->rcpts[k])))
				dm->utf8 = 1;
		}
		j->from = from;
		if (verp) {
			cp_err err;

			if (cp_verp_encode(d->conf.bounce.verp_prefix,
			    d->conf.bounce.domain, m->rcpts[i].id,
			    d->verp_secret, d->verp_secret_len, j->verp,
			    sizeof(j->verp), &err) == CP_OK)
				j->from = j->verp;
		}
		dm->refs++;
		job_queue(d, j, dom, src);
	}
	cp_free(done);
	dl_msg_unref(d, dm);
}

