/*
 * deliver.c - the delivery engine (coldpost/deliver.h): its threads, its
 * queues and the scheduling of recipients onto connections.
 *
 * Two threads. The loop thread owns a libevent loop with every outbound
 * socket, timer and DNS lookup; the store thread (deliver_store.c) makes
 * every store call, because those block on SQLite's fsync. They meet
 * under one mutex: messages come in (handed over by the server with
 * cp_deliver_push, or claimed from the store by the store thread) and
 * attempt records and DSNs go out, in batches.
 *
 * Scheduling (messages into jobs, destinations, queues, limits, outcomes)
 * is deliver_sched.c's; this file holds the API, the loop's own events
 * (wake-ups, the tick, DNS sockets, stop) and the settings it swaps in.
 */
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "queue/deliver_int.h"



int64_t
dl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
deliver_wake(cp_deliver *d)
{
	if (d->ev_wake != NULL)
		event_active(d->ev_wake, EV_READ, 0);
}

/* ---- the loop's events --------------------------------------------------- */

/* Merge pools loaded by the store thread: sources keep their index (live
 * connections name them by index), new addresses are appended. */
static void
pools_take(cp_deliver *d)
{
	dl_src *ns;
	dl_pool *np;
	size_t nn, npn;

	pthread_mutex_lock(&d->mu);
	ns = d->new_srcs;
	nn = d->new_nsrcs;
	np = d->new_pools;
	npn = d->new_npools;
	d->new_srcs = NULL;
	d->new_pools = NULL;
	d->new_nsrcs = d->new_npools = 0;
	pthread_mutex_unlock(&d->mu);
	if (ns == NULL)
		return;
	for (size_t p = 0; p < npn; p++)
		for (size_t k = 0; k < np[p].n; k++) {
			dl_src *s = &ns[np[p].srcs[k]];
			size_t i;

			for (i = 1; i < d->nsrcs; i++)
				if (strcmp(d->srcs[i].ip, s->ip) == 0)
					break;
			if (i == d->nsrcs) {
				dl_src *v = cp_realloc(d->srcs,
				    (d->nsrcs + 1) * sizeof(*v));

				if (v == NULL) {
					np[p].srcs[k] = 0;
					continue;
				}
				d->srcs = v;
				d->srcs[i] = *s;
				d->srcs[i].nconn = 0;
				s->ehlo = NULL;	/* moved */
				d->nsrcs++;
			} else if (s->ehlo != NULL) {
				cp_free(d->srcs[i].ehlo);
				d->srcs[i].ehlo = s->ehlo;
				s->ehlo = NULL;
			}
			np[p].srcs[k] = i;
		}
	for (size_t i = 0; i < nn; i++)
		cp_free(ns[i].ehlo);
	cp_free(ns);
	for (size_t p = 0; p < d->npools; p++)
		cp_free(d->pools[p].srcs);
	cp_free(d->pools);
	d->pools = np;
	d->npools = npn;
}

static void
conf_take(cp_deliver *d)
{
	cp_conf *c;

	pthread_mutex_lock(&d->mu);
	c = d->next_conf;
	d->next_conf = NULL;
	pthread_mutex_unlock(&d->mu);
	if (c == NULL)
		return;
	cp_conf_clear(&d->conf);
	d->conf = *c;	/* the strings move */
	cp_free(c);
	d->gen++;
	for (size_t b = 0; b < DL_BUCKETS; b++)
		for (dl_dest *x = d->dests[b]; x != NULL; x = x->hnext)
			if (x->state == DL_DEST_READY)
				x->hops_until = 0;	/* resolve again */
}

static void loop_begin_stop(cp_deliver *d);

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	cp_deliver *d = arg;
	dl_msg *in;
	int stopping;

	conf_take(d);
	pools_take(d);
	pthread_mutex_lock(&d->mu);
	in = d->in_head;
	d->in_head = d->in_tail = NULL;
	d->in_n = 0;
	stopping = d->stopping;
	pthread_mutex_unlock(&d->mu);
	while (in != NULL) {
		dl_msg *next = in->next;

		in->next = NULL;
		if (stopping) {
			in->refs = 1;
			dl_msg_unref(d, in);	/* its lease is given back */
		} else {
			dl_msg_plan(d, in);
		}
		in = next;
	}
	if (stopping && !d->loop_stopping)
		loop_begin_stop(d);
}

/* Once a second: ask for due recipients; destinations whose next hops
 * failed earlier get another look as their jobs come. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	cp_deliver *d = arg;

	pthread_mutex_lock(&d->mu);
	if (d->backlog < DL_BACKLOG_LOW)
		d->want_claim = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* ---- DNS from the loop -------------------------------------------------- */

void
dl_dns_rearm(cp_deliver *d)
{
	int ms = cp_dns_timeout_ms(d->dns);

	if (ms < 0) {
		evtimer_del(d->ev_dns);
	} else {
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

		evtimer_add(d->ev_dns, &tv);
	}
}

static void
on_dns_fd(evutil_socket_t fd, short what, void *arg)
{
	cp_deliver *d = arg;

	cp_dns_process_fd(d->dns, (what & EV_READ) ? fd : -1,
	    (what & EV_WRITE) ? fd : -1);
	dl_dns_rearm(d);
}

static void
on_dns_timer(evutil_socket_t fd, short what, void *arg)
{
	cp_deliver *d = arg;

	cp_dns_process_fd(d->dns, -1, -1);
	dl_dns_rearm(d);
}

static void
dns_sock(void *arg, int fd, int readable, int writable)
{
	cp_deliver *d = arg;
	int slot = -1;

	for (int i = 0; i < CP_DNS_MAX_FDS; i++)
		if (d->dns_ev[i] != NULL && d->dns_fd[i] == fd)
			slot = i;
	if (slot >= 0) {
		event_free(d->dns_ev[slot]);
		d->dns_ev[slot] = NULL;
	}
	if (!readable && !writable)
		return;
	for (int i = 0; slot < 0 && i < CP_DNS_MAX_FDS; i++)
		if (d->dns_ev[i] == NULL)
			slot = i;
	if (slot < 0)
		return;
	d->dns_fd[slot] = fd;
	d->dns_ev[slot] = event_new(d->base, fd, EV_PERSIST |
	    (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0), on_dns_fd, d);
	if (d->dns_ev[slot] != NULL)
		event_add(d->dns_ev[slot], NULL);
}

/* ---- stop --------------------------------------------------------------- */

static void
on_stop_force(evutil_socket_t fd, short what, void *arg)
{
	cp_deliver *d = arg;

	dl_conn_force_all(d);
	if (d->nconns == 0)
		event_base_loopexit(d->base, NULL);
}

/* Take no new work: jobs not begun go back (their leases are released
 * when the store thread ends), idle connections quit, busy ones finish
 * their message within the stop's wait. */
static void
loop_begin_stop(cp_deliver *d)
{
	dl_job *j;

	d->loop_stopping = 1;
	for (size_t b = 0; b < DL_BUCKETS; b++)
		for (dl_dest *x = d->dests[b]; x != NULL; x = x->hnext)
			for (dl_dq *q = x->dqs; q != NULL; q = q->next) {
				while ((j = dl_dq_pop(q)) != NULL)
					dl_job_done(d, j);
				while (q->idle != NULL) {
					dl_conn *c = q->idle;

					q->idle = c->inext;
					c->inext = NULL;
					dl_conn_quit(c);
				}
			}
	if (d->nconns == 0)
		event_base_loopexit(d->base, NULL);
}

static void *
loop_main(void *arg)
{
	cp_deliver *d = arg;

	event_base_dispatch(d->base);
	pthread_mutex_lock(&d->mu);
	d->loop_done = 1;
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* ---- the API ------------------------------------------------------------- */

cp_deliver *
cp_deliver_new(const cp_deliver_opts *opts, cp_err *err)
{
	cp_deliver *d = cp_calloc(1, sizeof(*d));

	if (d == NULL) {
		cp_err_set(err, CP_ENOMEM, "deliver: out of memory");
		return NULL;
	}
	d->conf_retention_ms = opts->conf->queue.retention;
	if (cp_conf_copy(&d->conf, opts->conf, err) != CP_OK) {
		cp_free(d);
		return NULL;
	}
	d->store = opts->store;
	d->node = cp_strdup(opts->node ? opts->node : "local");
	d->dns_servers = opts->dns_servers ? cp_strdup(opts->dns_servers)
					   : NULL;
	d->policy = opts->policy;
	d->policy_arg = opts->policy_arg;
	d->observe = opts->observe;
	d->pace = opts->pace;
	d->pace_arg = opts->pace_arg;
	d->observe_arg = opts->observe_arg;
	d->max_memory = opts->max_memory ? opts->max_memory : 64u << 20;
	if (opts->verp_secret_len > 0 &&
	    (d->verp_secret = cp_malloc(opts->verp_secret_len)) != NULL) {
		memcpy(d->verp_secret, opts->verp_secret, opts->verp_secret_len);
		d->verp_secret_len = opts->verp_secret_len;
	}
	if (d->conf.server.hostname[0] != '\0')
		snprintf(d->hostname, sizeof(d->hostname), "%s",
		    d->conf.server.hostname);
	else if (gethostname(d->hostname, sizeof(d->hostname) - 1) != 0 ||
	    d->hostname[0] == '\0')
		snprintf(d->hostname, sizeof(d->hostname), "localhost");
	d->recs_tail = &d->recs;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if (d->node == NULL || (opts->dns_servers && d->dns_servers == NULL) ||
	    (d->dests = cp_calloc(DL_BUCKETS, sizeof(*d->dests))) == NULL ||
	    (d->srcs = cp_calloc(1, sizeof(*d->srcs))) == NULL) {
		cp_deliver_free(d);
		cp_err_set(err, CP_ENOMEM, "deliver: out of memory");
		return NULL;
	}
	d->nsrcs = 1;	/* the default source: no bind, the host name */
	snprintf(d->srcs[0].ip, sizeof(d->srcs[0].ip), "%s", "");
	d->srcs[0].ehlo = cp_strdup(d->hostname);
	return d;
}

static pthread_once_t dl_evthread_once = PTHREAD_ONCE_INIT;

static void
dl_evthread_init(void)
{
	evthread_use_pthreads();
}

static int
loop_setup(cp_deliver *d, cp_err *err)
{
	cp_dns_config dc = { 0 };
	const cp_classifier *cl;
	struct timeval sec = { 1, 0 };

	pthread_once(&dl_evthread_once, dl_evthread_init);
	if ((d->base = event_base_new()) == NULL)
		return cp_err_set(err, CP_ENOMEM, "deliver: no event base");
	d->ev_wake = event_new(d->base, -1, EV_PERSIST, on_wake, d);
	d->ev_tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	d->ev_dns = evtimer_new(d->base, on_dns_timer, d);
	d->ev_stop_force = evtimer_new(d->base, on_stop_force, d);
	if (d->ev_wake == NULL || d->ev_tick == NULL || d->ev_dns == NULL ||
	    d->ev_stop_force == NULL)
		return cp_err_set(err, CP_ENOMEM, "deliver: out of memory");
	event_add(d->ev_tick, &sec);
	dc.servers = d->dns_servers;
	if ((d->dns = cp_dns_new_cares(&dc, err)) == NULL)
		return err ? err->code : CP_EINVAL;
	cp_dns_set_sock_cb(d->dns, dns_sock, d);
	if ((d->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return cp_err_set(err, CP_ENOMEM, "deliver: no TLS context");
	SSL_CTX_set_default_verify_paths(d->ssl_ctx);
	SSL_CTX_set_min_proto_version(d->ssl_ctx, TLS1_2_VERSION);
	if ((cl = cp_classifier_default(err)) == NULL ||
	    (d->cls = cp_classify_session_new(cl, err)) == NULL)
		return err ? err->code : CP_ENOMEM;
	return CP_OK;
}

int
cp_deliver_start(cp_deliver *d, cp_err *err)
{
	size_t n = 0;
	int rc;

	if (d->running)
		return cp_err_set(err, CP_EINVAL, "deliver: already running");
	if ((rc = loop_setup(d, err)) != CP_OK)
		return rc;
	if ((rc = dl_load_pools(d, err)) != CP_OK)
		return rc;
	/* before anything is handed over: what a previous run of this node
	 * left leased is due again (after this, leases are this run's) */
	if ((rc = cp_store_release_node(d->store, d->node, time(NULL), &n,
	    err)) != CP_OK)
		return rc;
	if (n > 0)
		cp_log(CP_LOG_INFO, "queue", "node %s: %zu leases of a previous "
		    "run given back", d->node, n);
	d->want_claim = 1;
	if (pthread_create(&d->store_thr, NULL, dl_store_main, d) != 0)
		return cp_err_set(err, CP_EIO, "deliver: cannot start a thread");
	if (pthread_create(&d->loop_thr, NULL, loop_main, d) != 0) {
		pthread_mutex_lock(&d->mu);
		d->store_stop = 1;
		pthread_cond_signal(&d->cv);
		pthread_mutex_unlock(&d->mu);
		pthread_join(d->store_thr, NULL);
		return cp_err_set(err, CP_EIO, "deliver: cannot start a thread");
	}
	pthread_mutex_lock(&d->mu);
	d->running = 1;
	pthread_mutex_unlock(&d->mu);
	deliver_wake(d);
	return CP_OK;
}

int
cp_deliver_has_room(cp_deliver *d, size_t len)
{
	int ok;

	pthread_mutex_lock(&d->mu);
	ok = d->running && !d->stopping &&
	    d->stats.held_bytes + len <= d->max_memory;
	pthread_mutex_unlock(&d->mu);
	return ok;
}

/*
 * The sending policy on each recipient, asked here, on the thread that
 * brings the message (the server's writer after its commit, or the
 * store thread after a claim): the policy reads and writes the store,
 * which may wait for a commit; the loop must not.
 */
static void
msg_ask_policy(cp_deliver *d, dl_msg *dm)
{
	cp_relay_msg *m = dm->m;

	if (d->policy == NULL ||
	    (dm->pv = cp_calloc(m->nrcpts, sizeof(*dm->pv))) == NULL)
		return;
	for (size_t i = 0; i < m->nrcpts; i++) {
		cp_policy_verdict v = { CP_POLICY_SEND, 0, NULL };

		/* now 0: the policy keeps its own clock (tests run it
		 * ahead) */
		d->policy(d->policy_arg, m->tenant, m->mailbox, m->rcpts[i].id,
		    m->rcpts[i].address, m->mail_from[0] == '\0', 0, &v);
		dm->pv[i].verdict = v.verdict;
		dm->pv[i].retry_at = v.retry_at;
		snprintf(dm->pv[i].reason, sizeof(dm->pv[i].reason), "%s",
		    v.reason ? v.reason : "");
	}
}

/* Queue a message for the loop (handed over or claimed). */
void
dl_in_add(cp_deliver *d, dl_msg *dm, int pushed)
{
	msg_ask_policy(d, dm);
	pthread_mutex_lock(&d->mu);
	dm->next = NULL;
	if (d->in_tail != NULL)
		d->in_tail->next = dm;
	else
		d->in_head = dm;
	d->in_tail = dm;
	d->in_n++;
	d->backlog++;
	d->stats.held_bytes += dm->held;
	if (pushed)
		d->stats.pushed++;
	pthread_mutex_unlock(&d->mu);
	deliver_wake(d);
}

void
cp_deliver_push(cp_deliver *d, cp_relay_msg *m)
{
	dl_msg *dm;
	int ok;

	pthread_mutex_lock(&d->mu);
	ok = d->running && !d->stopping;
	pthread_mutex_unlock(&d->mu);
	if (!ok || (dm = cp_calloc(1, sizeof(*dm))) == NULL) {
		/* the lease runs out and the store gives it to us again */
		cp_relay_msg_free(m);
		return;
	}
	dm->m = m;
	dm->held = m->len;
	dl_in_add(d, dm, 1);
}

void
cp_deliver_kick(cp_deliver *d)
{
	pthread_mutex_lock(&d->mu);
	d->want_claim = 1;
	d->want_pools = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

int
cp_deliver_reload(cp_deliver *d, const cp_conf *conf, cp_err *err)
{
	cp_conf *c = cp_malloc(sizeof(*c));

	if (c == NULL)
		return cp_err_set(err, CP_ENOMEM, "deliver: out of memory");
	if (cp_conf_copy(c, conf, err) != CP_OK) {
		cp_free(c);
		return err ? err->code : CP_ENOMEM;
	}
	pthread_mutex_lock(&d->mu);
	if (d->next_conf != NULL) {
		cp_conf_clear(d->next_conf);
		cp_free(d->next_conf);
	}
	d->next_conf = c;
	d->conf_retention_ms = c->queue.retention;
	d->want_pools = 1;
	pthread_cond_signal(&d->cv);
	if (!d->running) {
		/* not started: apply now, nobody else reads conf */
		d->next_conf = NULL;
		cp_conf_clear(&d->conf);
		d->conf = *c;
		cp_free(c);
	}
	pthread_mutex_unlock(&d->mu);
	deliver_wake(d);
	return CP_OK;
}

void
cp_deliver_stop(cp_deliver *d, unsigned wait_ms)
{
	struct timeval tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };

	if (d == NULL || !d->running)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = 1;
	pthread_mutex_unlock(&d->mu);
	/* the timer is only touched by the loop once it runs the stop;
	 * adding it from here is safe (libevent locks with evthread) */
	evtimer_add(d->ev_stop_force, &tv);
	deliver_wake(d);
	pthread_join(d->loop_thr, NULL);
	pthread_mutex_lock(&d->mu);
	d->store_stop = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->store_thr, NULL);
	d->running = 0;
}

static void
dests_free(cp_deliver *d)
{
	for (size_t b = 0; d->dests && b < DL_BUCKETS; b++) {
		dl_dest *x = d->dests[b];

		while (x != NULL) {
			dl_dest *next = x->hnext;
			dl_dq *q = x->dqs;

			while (q != NULL) {
				dl_dq *qn = q->next;
				dl_job *j;

				while ((j = dl_dq_pop(q)) != NULL)
					dl_job_done(d, j);
				cp_free(q);
				q = qn;
			}
			cp_free(x->hops);
			cp_free(x->key);
			cp_free(x->name);
			cp_free(x);
			x = next;
		}
	}
	cp_free(d->dests);
}

void
cp_deliver_free(cp_deliver *d)
{
	dl_msg *dm;

	if (d == NULL)
		return;
	cp_deliver_stop(d, 5000);
	d->loop_stopping = 1;
	/* pending lookups call back into their destinations: first */
	cp_dns_free(d->dns);
	for (int i = 0; i < CP_DNS_MAX_FDS; i++)
		if (d->dns_ev[i] != NULL)
			event_free(d->dns_ev[i]);
	while ((dm = d->in_head) != NULL) {
		d->in_head = dm->next;
		dm->refs = 1;
		dl_msg_unref(d, dm);
	}
	dests_free(d);
	while (d->recs != NULL) {
		dl_rec *r = d->recs;

		d->recs = r->next;
		cp_free(r);
	}
	while (d->dsns != NULL) {
		dl_dsn *x = d->dsns;

		d->dsns = x->next;
		dl_dsn_free(x);
	}
	for (size_t i = 0; i < d->nsrcs; i++)
		cp_free(d->srcs[i].ehlo);
	cp_free(d->srcs);
	for (size_t p = 0; p < d->npools; p++)
		cp_free(d->pools[p].srcs);
	cp_free(d->pools);
	for (size_t i = 0; i < d->new_nsrcs; i++)
		cp_free(d->new_srcs[i].ehlo);
	cp_free(d->new_srcs);
	for (size_t p = 0; p < d->new_npools; p++)
		cp_free(d->new_pools[p].srcs);
	cp_free(d->new_pools);
	if (d->next_conf != NULL) {
		cp_conf_clear(d->next_conf);
		cp_free(d->next_conf);
	}
	cp_classify_session_free(d->cls);
	if (d->ssl_ctx != NULL)
		SSL_CTX_free(d->ssl_ctx);
	if (d->ev_wake) event_free(d->ev_wake);
	if (d->ev_tick) event_free(d->ev_tick);
	if (d->ev_dns) event_free(d->ev_dns);
	if (d->ev_stop_force) event_free(d->ev_stop_force);
	if (d->base != NULL)
		event_base_free(d->base);
	cp_conf_clear(&d->conf);
	cp_free(d->node);
	cp_free(d->dns_servers);
	if (d->verp_secret != NULL) {
		memset(d->verp_secret, 0, d->verp_secret_len);
		cp_free(d->verp_secret);
	}
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	cp_free(d);
}

void
cp_deliver_get_stats(cp_deliver *d, cp_deliver_stats *out)
{
	pthread_mutex_lock(&d->mu);
	*out = d->stats;
	pthread_mutex_unlock(&d->mu);
}
