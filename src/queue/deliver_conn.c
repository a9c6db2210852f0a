/*
 * deliver_conn.c - one outbound SMTP connection of the delivery engine:
 * the socket (bound to the source address before connect), the libevent
 * bufferevent (and the OpenSSL filter after STARTTLS), the timers, and the
 * protocol core (coldpost/smtpc.h) that it feeds.
 *
 * RFC 5321 5.1: the addresses of a next hop are tried in order; a refused
 * or timed-out connect, a greeting that is not 220, a refused EHLO or a
 * failed TLS handshake moves on to the next address, as long as no
 * message went out on this connection. When every address failed, the
 * jobs waiting for this destination get the last failure. Opportunistic
 * TLS (RFC 3207, RFC 7435) whose handshake fails is retried in the clear
 * at once and for DL_NOTLS_MS after; "required" and "verify" never fall
 * back, and "verify" checks the chain and the host name (RFC 6125).
 *
 * The message text is streamed from the message held in memory to the
 * core (which dot-stuffs it), without a copy of its own, pausing while
 * more than DL_OUT_HIGH bytes wait for the socket.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "queue/deliver_int.h"

#define DL_OUT_HIGH (1u << 20)  /* pause the body above this */
#define DL_BODY_CHUNK 65536

static void conn_pump(dl_conn *c);
static void conn_try(dl_conn *c);

static const dl_addr *
conn_addr(const dl_conn *c)
{
	const dl_hops *h = c->dq->dest->hops;

	return h != NULL && c->ai < h->n ? &h->v[c->ai] : NULL;
}

static void
conn_arm(dl_conn *c)
{
	cp_deliver *d = c->d;
	int64_t ms;
	struct timeval tv;

	switch (c->state) {
	case DL_C_CONNECTING: ms = d->conf.delivery.connect_timeout; break;
	case DL_C_TLS: ms = d->conf.delivery.command_timeout; break;
	case DL_C_IDLE: ms = DL_IDLE_MS; break;
	default: ms = c->sc ? cp_smtpc_conn_timeout_ms(c->sc) : 0; break;
	}
	if (ms <= 0) {
		evtimer_del(c->timer);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

static void
conn_flush(dl_conn *c)
{
	const char *p;
	size_t n;

	while ((n = cp_smtpc_conn_output(c->sc, &p)) > 0) {
		if (c->bev == NULL || bufferevent_write(c->bev, p, n) != 0) {
			cp_smtpc_conn_consumed(c->sc, n);	/* lost anyway */
			continue;
		}
		cp_smtpc_conn_consumed(c->sc, n);
	}
}

/* Drop the socket (and TLS) and the core of the current try. */
static void
conn_teardown(dl_conn *c)
{
	if (c->bev != NULL) {
		bufferevent_free(c->bev);	/* frees the SSL and the fd */
		c->bev = NULL;
		c->ssl = NULL;
	}
	cp_smtpc_conn_free(c->sc);
	c->sc = NULL;
	c->in_body = 0;
	evtimer_del(c->timer);
}

/* Stream the body to the core until done or the socket is behind. */
static void
conn_send_body(dl_conn *c)
{
	cp_relay_msg *m = c->job->dm->m;

	while (c->in_body && c->body_off < m->len) {
		size_t n = CP_MIN((size_t)DL_BODY_CHUNK, m->len - c->body_off);
		int rc = cp_smtpc_conn_body(c->sc, m->body + c->body_off, n);

		if (rc == CP_ETOOBIG) {
			conn_flush(c);
			if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
			    DL_OUT_HIGH)
				return;	/* on_write goes on */
			continue;
		}
		if (rc != CP_OK) {
			c->in_body = 0;	/* the session closed: CLOSED follows */
			return;
		}
		c->body_off += n;
	}
	if (c->in_body) {
		c->in_body = 0;
		cp_smtpc_conn_body_end(c->sc);
	}
}

static void
conn_source_ip(dl_conn *c, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	dl_src *s = &c->d->srcs[c->dq->src];
	evutil_socket_t fd;

	if (s->salen > 0) {
		snprintf(out, outlen, "%s", s->ip);
		return;
	}
	out[0] = '\0';
	fd = c->bev ? bufferevent_getfd(c->bev) : -1;
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out,
		    (socklen_t)outlen);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    out, (socklen_t)outlen);
}

void
dl_conn_give(dl_conn *c, dl_job *j)
{
	cp_relay_msg *m = j->dm->m;
	cp_smtpc_message sm = { 0 };

	evtimer_del(c->timer);
	c->state = DL_C_SMTP;
	c->job = j;
	c->nrep = 0;
	c->t_job = dl_now_ms();
	c->t_attempt = time(NULL);
	sm.from = j->from;
	sm.rcpts = j->rcpts;
	sm.nrcpt = j->n;
	sm.size = m->len;
	sm.body8bit = j->dm->body8bit;
	sm.smtputf8 = j->dm->utf8;
	if (cp_smtpc_conn_message(c->sc, &sm) == CP_EINVAL &&
	    cp_smtpc_conn_closed(c->sc)) {
		/* closed under us: the job waits for another connection */
		c->job = NULL;
		j->next = c->dq->head;
		c->dq->head = j;
		if (c->dq->tail == NULL)
			c->dq->tail = j;
		c->dq->njobs++;
	}
	conn_pump(c);
}

void
dl_conn_quit(dl_conn *c)
{
	evtimer_del(c->timer);
	c->state = DL_C_SMTP;
	cp_smtpc_conn_quit(c->sc);
	conn_pump(c);
}

/* READY: the next job of the queue, or wait idle, or QUIT. */
void
dl_conn_next(dl_conn *c)
{
	cp_deliver *d = c->d;
	dl_dq *q = c->dq;
	dl_job *j;

	if (!c->was_ready) {
		c->was_ready = 1;
		q->nopening--;
		conn_source_ip(c, c->src_ip, sizeof(c->src_ip));
	}
	if (d->loop_stopping ||
	    (int64_t)c->nmsgs >= d->conf.delivery.messages_per_connection) {
		cp_smtpc_conn_quit(c->sc);
		return;
	}
	{
		const dl_addr *a = conn_addr(c);

		j = dl_dq_take(d, q, c->src_ip, a ? a->host : "");
	}
	if (j != NULL) {
		dl_conn_give(c, j);
		return;
	}
	c->state = DL_C_IDLE;
	c->inext = q->idle;
	q->idle = c;
}

/* The outcome of recipient k of the current job. */
static void
conn_rcpt(dl_conn *c, size_t k, const cp_smtpc_result *r)
{
	const dl_addr *a = conn_addr(c);

	if (c->job == NULL || k >= c->job->n)
		return;
	dl_rcpt_outcome(c->d, c->job, k, r->status, r->code, r->enhanced,
	    r->text, a ? a->host : "", c->src_ip, c->t_attempt,
	    dl_now_ms() - c->t_job);
	c->nrep = k + 1;
}

static void
conn_unlink(dl_conn *c)
{
	cp_deliver *d = c->d;
	dl_dq *q = c->dq;

	for (dl_conn **pp = &q->idle; *pp != NULL; pp = &(*pp)->inext)
		if (*pp == c) {
			*pp = c->inext;
			break;
		}
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		d->conns = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	d->nconns--;
	q->nconn--;
	if (!c->was_ready)
		q->nopening--;
	q->dest->nconn--;
	d->srcs[q->src].nconn--;
	pthread_mutex_lock(&d->mu);
	d->stats.active--;
	pthread_mutex_unlock(&d->mu);
}

/* Is a failure before READY one to try the next address for? */
static int
conn_falls_back(int reason)
{
	return reason != CP_SMTPC_R_INTERNAL && reason != CP_SMTPC_R_QUIT;
}

static void
conn_closed(dl_conn *c, int reason, const cp_smtpc_result *r)
{
	cp_deliver *d = c->d;
	dl_dq *q = c->dq;
	dl_dest *x = q->dest;
	const dl_addr *a = conn_addr(c);

	if (c->job != NULL) {
		/* recipients the core could not report (out of memory) */
		for (size_t k = c->nrep; k < c->job->n; k++)
			dl_rcpt_outcome(d, c->job, k, CP_SMTPC_TEMP, 451,
			    "4.3.0", "451 4.3.0 connection lost locally",
			    a ? a->host : "", c->src_ip, c->t_attempt, 0);
		dl_job_done(d, c->job);
		c->job = NULL;
	}
	if (r != NULL) {
		c->fail_status = r->status;
		c->fail_code = r->code;
		snprintf(c->fail_enh, sizeof(c->fail_enh), "%s", r->enhanced);
		snprintf(c->fail_text, sizeof(c->fail_text), "%s",
		    r->text ? r->text : "");
	}
	if (!c->was_ready && !c->forced && !d->loop_stopping &&
	    conn_falls_back(reason)) {
		cp_log(CP_LOG_INFO, "queue", "connect %s [%s] from %s: %s",
		    a ? a->host : "?", a ? a->ip : "?",
		    d->srcs[q->src].ip[0] ? d->srcs[q->src].ip : "default",
		    c->fail_text);
		conn_teardown(c);
		if (reason == CP_SMTPC_R_TLS_FAILED && !c->plain &&
		    x->tls == CP_CONF_TLS_OPPORTUNISTIC) {
			/* RFC 7435: opportunistic TLS that fails goes on in
			 * the clear rather than not at all */
			x->notls_until = dl_now_ms() + DL_NOTLS_MS;
			c->plain = 1;
		} else {
			c->ai++;
			c->plain = 0;
		}
		conn_try(c);
		return;
	}
	conn_teardown(c);
	conn_unlink(c);
	evtimer_del(c->timer);
	event_free(c->timer);
	cp_free(c);
	dl_conn_gone(d, q);
}

/* Every address failed: the waiting jobs get the last failure. */
static void
conn_exhausted(dl_conn *c)
{
	cp_deliver *d = c->d;
	dl_dq *q = c->dq;
	const dl_hops *h = q->dest->hops;
	const char *mx = h && h->n > 0 ? h->v[h->n - 1].host : "";

	if (c->fail_text[0] == '\0') {
		c->fail_status = CP_SMTPC_TEMP;
		c->fail_code = 451;
		snprintf(c->fail_enh, sizeof(c->fail_enh), "4.4.1");
		snprintf(c->fail_text, sizeof(c->fail_text),
		    "451 4.4.1 no usable address for %s from %s",
		    q->dest->name, d->srcs[q->src].ip[0] ? d->srcs[q->src].ip
							  : "the default source");
	}
	/* a 5xx greeting from the last host ends them; anything else waits */
	dl_dq_fail(d, q, c->fail_status == CP_SMTPC_PERM ? CP_SMTPC_PERM
							 : CP_SMTPC_TEMP,
	    c->fail_code, c->fail_enh, c->fail_text, mx, d->srcs[q->src].ip);
	conn_unlink(c);
	evtimer_del(c->timer);
	event_free(c->timer);
	cp_free(c);
	dl_conn_gone(d, q);
}

static void
conn_pump(dl_conn *c)
{
	cp_smtpc_event ev;
	int closed = 0, reason = 0;
	const cp_smtpc_result *cres = NULL;
	int t;

	while (!closed &&
	    (t = cp_smtpc_conn_next_event(c->sc, &ev)) != CP_SMTPC_EV_NONE) {
		switch (t) {
		case CP_SMTPC_EV_STARTTLS:
			conn_flush(c);
			dl_conn_start_tls(c);
			break;
		case CP_SMTPC_EV_READY:
			dl_conn_next(c);
			break;
		case CP_SMTPC_EV_BODY:
			c->in_body = 1;
			c->body_off = 0;
			conn_send_body(c);
			break;
		case CP_SMTPC_EV_RCPT:
			conn_rcpt(c, ev.n, ev.result);
			break;
		case CP_SMTPC_EV_MESSAGE:
			if (c->job != NULL) {
				dl_job_done(c->d, c->job);
				c->job = NULL;
			}
			c->nmsgs++;
			break;
		case CP_SMTPC_EV_CLOSED:
			closed = 1;
			reason = ev.reason;
			cres = ev.result;
			break;
		default:
			break;
		}
	}
	conn_flush(c);
	if (closed) {
		conn_closed(c, reason, cres);
		return;
	}
	conn_arm(c);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	dl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char buf[16384];
	int n;

	while ((n = evbuffer_remove(in, buf, sizeof(buf))) > 0)
		cp_smtpc_conn_feed(c->sc, buf, (size_t)n);
	conn_pump(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	dl_conn *c = arg;

	if (c->in_body && c->job != NULL) {
		conn_send_body(c);
		conn_pump(c);
	}
}

static void
tls_error(dl_conn *c, char *out, size_t outlen)
{
	unsigned long e = c->bev ? bufferevent_get_openssl_error(c->bev) : 0;
	long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;

	if (v != X509_V_OK)
		snprintf(out, outlen, "certificate: %s",
		    X509_verify_cert_error_string(v));
	else if (e != 0)
		ERR_error_string_n(e, out, outlen);
	else
		snprintf(out, outlen, "TLS handshake failed");
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	dl_conn *c = arg;
	char why[256];

	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == DL_C_TLS) {
			c->state = DL_C_SMTP;
			cp_smtpc_conn_tls_started(c->sc);
			conn_pump(c);
		} else {
			c->state = DL_C_SMTP;
			conn_arm(c);
		}
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (c->state == DL_C_CONNECTING) {
		int e = EVUTIL_SOCKET_ERROR();

		snprintf(why, sizeof(why), "connect: %s",
		    e ? strerror(e) : "failed");
		cp_smtpc_conn_connect_failed(c->sc, why);
	} else if (c->state == DL_C_TLS) {
		tls_error(c, why, sizeof(why));
		cp_smtpc_conn_tls_failed(c->sc, why);
	} else {
		if (c->bev != NULL)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		cp_smtpc_conn_eof(c->sc);
	}
	conn_pump(c);
}

void
dl_conn_start_tls(dl_conn *c)
{
	cp_deliver *d = c->d;
	const dl_addr *a = conn_addr(c);
	const char *host = a ? a->host : c->dq->dest->name;
	struct bufferevent *f;
	unsigned char ip[16];
	SSL *ssl = SSL_new(d->ssl_ctx);

	if (ssl == NULL) {
		cp_smtpc_conn_tls_failed(c->sc, "out of memory");
		return;
	}
	if (inet_pton(AF_INET, host, ip) != 1 &&
	    inet_pton(AF_INET6, host, ip) != 1)
		SSL_set_tlsext_host_name(ssl, host);	/* SNI, RFC 6066 3 */
	if (c->dq->dest->tls == CP_CONF_TLS_VERIFY) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		SSL_set1_host(ssl, host);
	} else {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	}
	f = bufferevent_openssl_filter_new(d->base, c->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (f == NULL) {
		SSL_free(ssl);
		cp_smtpc_conn_tls_failed(c->sc, "cannot start TLS");
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(f, 1);
	c->bev = f;
	c->ssl = ssl;
	c->state = DL_C_TLS;
	bufferevent_setcb(f, on_read, on_write, on_event, c);
	bufferevent_enable(f, EV_READ | EV_WRITE);
	conn_arm(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	dl_conn *c = arg;

	if (c->fail_pending) {
		c->fail_pending = 0;
		cp_smtpc_conn_connect_failed(c->sc, c->fail_text);
	} else if (c->state == DL_C_CONNECTING) {
		cp_smtpc_conn_connect_failed(c->sc, "connect: timed out");
	} else if (c->state == DL_C_TLS) {
		cp_smtpc_conn_tls_failed(c->sc, "TLS handshake timed out");
	} else if (c->state == DL_C_IDLE) {
		for (dl_conn **pp = &c->dq->idle; *pp != NULL;
		    pp = &(*pp)->inext)
			if (*pp == c) {
				*pp = c->inext;
				break;
			}
		c->inext = NULL;
		dl_conn_quit(c);
		return;
	} else {
		cp_smtpc_conn_timeout(c->sc);
	}
	conn_pump(c);
}

/* The smtpc settings of this try. */
static void
conn_smtpc_conf(dl_conn *c, cp_smtpc_conf *sc)
{
	cp_deliver *d = c->d;
	dl_dest *x = c->dq->dest;
	unsigned cmd = (unsigned)d->conf.delivery.command_timeout;
	unsigned data = (unsigned)d->conf.delivery.data_timeout;

	cp_smtpc_conf_init(sc);
	sc->helo = d->srcs[c->dq->src].ehlo;
	switch (x->tls) {
	case CP_CONF_TLS_NONE: sc->tls = CP_SMTPC_TLS_NONE; break;
	case CP_CONF_TLS_OPPORTUNISTIC:
		sc->tls = c->plain || dl_now_ms() < x->notls_until
		    ? CP_SMTPC_TLS_NONE : CP_SMTPC_TLS_MAY;
		break;
	default: sc->tls = CP_SMTPC_TLS_REQUIRE; break;
	}
	sc->max_output = 256 * 1024;
	sc->greeting_timeout_ms = sc->helo_timeout_ms = cmd;
	sc->mail_timeout_ms = sc->rcpt_timeout_ms = cmd;
	sc->data_timeout_ms = sc->block_timeout_ms = sc->dot_timeout_ms = data;
}

/* Fail this try from the loop, not from inside the caller. */
static void
conn_fail_soon(dl_conn *c, const char *what, int e)
{
	struct timeval zero = { 0, 0 };

	snprintf(c->fail_text, sizeof(c->fail_text), "%s: %s", what,
	    strerror(e));
	c->fail_pending = 1;
	evtimer_add(c->timer, &zero);
}

/* Connect to address c->ai (or the next one the source can reach). */
static void
conn_try(dl_conn *c)
{
	cp_deliver *d = c->d;
	dl_src *s = &d->srcs[c->dq->src];
	const dl_hops *h = c->dq->dest->hops;
	cp_smtpc_conf scf;
	const dl_addr *a;
	evutil_socket_t fd;
	int one = 1;

	while (h != NULL && c->ai < h->n && s->salen > 0 &&
	    h->v[c->ai].family != s->family)
		c->ai++;	/* an IPv4 source cannot reach IPv6 */
	if ((a = conn_addr(c)) == NULL) {
		conn_exhausted(c);
		return;
	}
	conn_smtpc_conf(c, &scf);
	c->state = DL_C_CONNECTING;
	c->fail_pending = 0;
	if ((c->sc = cp_smtpc_conn_new(&scf)) == NULL) {
		conn_exhausted(c);
		return;
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_fail_soon(c, "socket", errno);
		return;
	}
	if (s->salen > 0) {
		/* the port is picked at connect: many connections per IP */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (const struct sockaddr *)&s->sa, s->salen) != 0) {
			int e = errno;

			close(fd);
			conn_fail_soon(c, "bind", e);
			return;
		}
	}
	c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		conn_fail_soon(c, "bufferevent", ENOMEM);
		return;
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(c->bev,
	    (const struct sockaddr *)&a->sa, (int)a->salen) != 0) {
		conn_fail_soon(c, "connect", errno ? errno : ECONNREFUSED);
		return;
	}
	conn_arm(c);
}

int
dl_conn_open(cp_deliver *d, dl_dq *q)
{
	dl_conn *c = cp_calloc(1, sizeof(*c));

	if (c == NULL)
		return CP_ENOMEM;
	if ((c->timer = evtimer_new(d->base, on_timer, c)) == NULL) {
		cp_free(c);
		return CP_ENOMEM;
	}
	c->d = d;
	c->dq = q;
	c->anext = d->conns;
	if (d->conns)
		d->conns->aprev = c;
	d->conns = c;
	d->nconns++;
	q->nconn++;
	q->nopening++;
	q->dest->nconn++;
	d->srcs[q->src].nconn++;
	pthread_mutex_lock(&d->mu);
	d->stats.connections++;
	d->stats.active++;
	pthread_mutex_unlock(&d->mu);
	conn_try(c);
	return CP_OK;
}

/* Stop's deadline: whatever is still open ends now (its recipients in
 * flight get a temporary failure from the core, recorded as deferred). */
void
dl_conn_force_all(cp_deliver *d)
{
	while (d->conns != NULL) {
		dl_conn *c = d->conns;

		if (c->sc == NULL || cp_smtpc_conn_closed(c->sc)) {
			conn_teardown(c);
			conn_unlink(c);
			event_free(c->timer);
			if (c->job)
				dl_job_done(d, c->job);
			cp_free(c);
			continue;
		}
		c->forced = 1;	/* no fallback now */
		if (c->bev != NULL)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		cp_smtpc_conn_timeout(c->sc);
		conn_pump(c);
		if (d->conns == c) {
			/* the core did not close: end it by hand */
			cp_smtpc_conn_eof(c->sc);
			conn_pump(c);
		}
		if (d->conns == c) {
			conn_teardown(c);
			conn_unlink(c);
			event_free(c->timer);
			if (c->job)
				dl_job_done(d, c->job);
			cp_free(c);
		}
	}
}
