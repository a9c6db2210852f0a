/*
 * net_session.c - one client connection of the submission server, on the
 * loop thread: the socket (a libevent bufferevent, an OpenSSL one for
 * implicit TLS, RFC 8314 3.3, switched to a filtering OpenSSL one after
 * STARTTLS, RFC 3207 4), the smtpd protocol core it feeds and drains,
 * its timers (idle, DATA, the DELAY after a failed AUTH, the close after
 * the last reply), accept-time connection limits (421 4.7.0) and the
 * session's life. The answers to the core's events are net_answer.c's.
 *
 * A session with a job in flight whose client leaves stays allocated
 * (dead, without its socket) until the job comes back.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "net/net_int.h"

#define OUT_HIGH (256 * 1024) /* output queued before the core waits */
#define IN_HIGH (256 * 1024)  /* input read ahead before reading stops */

static void sess_close(net_session *ss);

/* ---- I/O --------------------------------------------------------------------- */

void
net_session_delay(net_session *ss, unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
		1000 };

	ss->delayed = 1;
	bufferevent_disable(ss->bev, EV_READ);
	evtimer_add(ss->delay, &tv);
}

void
net_session_flush(net_session *ss)
{
	struct evbuffer *out = bufferevent_get_output(ss->bev);
	const char *p;
	size_t n;

	while (evbuffer_get_length(out) < OUT_HIGH &&
	    (n = cp_smtpd_conn_output(ss->c, &p)) > 0) {
		if (bufferevent_write(ss->bev, p, n) != 0)
			break;
		cp_smtpd_conn_consumed(ss->c, n);
	}
}

/* Feed what the client sent, as far as the core takes it. */
static int
feed_input(net_session *ss)
{
	struct evbuffer *in = bufferevent_get_input(ss->bev);
	size_t avail = evbuffer_get_length(in), n;
	unsigned char *p;

	if (avail == 0 || cp_smtpd_conn_closed(ss->c))
		return 0;
	n = CP_MIN(avail, cp_smtpd_conn_input_room(ss->c));
	if (n == 0)
		return 0;
	if ((p = evbuffer_pullup(in, (ssize_t)n)) == NULL)
		return 0;
	if (cp_smtpd_conn_feed(ss->c, (const char *)p, n) != CP_OK)
		return 0;
	evbuffer_drain(in, n);
	return 1;
}

static void
arm_timer(net_session *ss)
{
	unsigned ms = cp_smtpd_conn_timeout_ms(ss->c);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
		1000 };

	if (ms == 0)
		evtimer_del(ss->timer);
	else
		evtimer_add(ss->timer, &tv);
}

/* Bytes not yet on the wire: a TLS filter keeps some in the bufferevent
 * beneath it. */
static size_t
pending_output(net_session *ss)
{
	struct bufferevent *under = bufferevent_get_underlying(ss->bev);
	size_t n = evbuffer_get_length(bufferevent_get_output(ss->bev));

	if (under != NULL)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

/* Closing: close once the last reply (221, 421) is sent; look again
 * shortly, as the filter's own write callback comes before its
 * underlying socket's. */
static void
close_when_sent(net_session *ss)
{
	struct timeval tv = { 0, 5 * 1000 };

	if (pending_output(ss) == 0)
		sess_close(ss);
	else
		evtimer_add(ss->delay, &tv);
}

void
net_session_pump(net_session *ss)
{
	cp_smtpd_event ev;
	int progress = 1;

	if (ss->c == NULL || ss->dead)
		return;
	while (progress && !ss->delayed && !ss->closing) {
		progress = feed_input(ss);
		while (!ss->delayed && cp_smtpd_conn_next_event(ss->c, &ev) !=
		    CP_SMTPD_EV_NONE) {
			net_session_handle(ss, &ev);
			progress = 1;
		}
		if (!ss->delayed && !ss->handshaking)
			net_session_flush(ss);
	}
	if (ss->closing) {
		struct timeval tv = { 10, 0 }; /* a client that never reads */

		net_session_flush(ss);
		bufferevent_disable(ss->bev, EV_READ);
		evtimer_add(ss->timer, &tv);
		close_when_sent(ss);
		return;
	}
	arm_timer(ss);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	net_session_pump(arg);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	net_session *ss = arg;

	if (ss->closing)
		close_when_sent(ss);
	else
		net_session_pump(ss);
}

static int
tls_ready(net_session *ss)
{
	SSL *ssl = bufferevent_openssl_get_ssl(ss->bev);
	const char *ver = ssl ? SSL_get_version(ssl) : NULL;
	const char *cipher = ssl ? SSL_get_cipher_name(ssl) : NULL;
	cp_smtpd_peer peer;

	ss->handshaking = 0;
	cp_log_debug(CP_CONF_DEBUG_TLS, "tls", "session=%llu client=%s %s %s",
	    (unsigned long long)ss->id, ss->addr, ver ? ver : "?",
	    cipher ? cipher : "?");
	if (ss->c != NULL) { /* STARTTLS */
		cp_smtpd_conn_tls_started(ss->c, ver, cipher);
		return 0;
	}
	memset(&peer, 0, sizeof(peer)); /* implicit TLS: the session starts */
	peer.addr = ss->addr;
	peer.loopback = ss->loopback;
	peer.trusted = ss->trusted;
	peer.tls = 1;
	peer.tls_version = ver;
	peer.tls_cipher = cipher;
	if ((ss->c = cp_smtpd_conn_new(&ss->set->sconf, &peer)) == NULL)
		return -1;
	return 0;
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	net_session *ss = arg;

	if (what & BEV_EVENT_CONNECTED) {
		if (tls_ready(ss) != 0)
			sess_close(ss);
		else
			net_session_pump(ss);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (ss->handshaking) {
			unsigned long e = bufferevent_get_openssl_error(bev);

			cp_log(CP_LOG_INFO, "tls", "session=%llu client=%s "
			    "handshake failed: %s", (unsigned long long)ss->id,
			    ss->addr, e ? ERR_reason_error_string(e) :
			    "connection closed");
		}
		if (ss->c != NULL && !cp_smtpd_conn_closed(ss->c)) {
			cp_smtpd_event ev;

			cp_smtpd_conn_eof(ss->c);
			while (cp_smtpd_conn_next_event(ss->c, &ev) !=
			    CP_SMTPD_EV_NONE)
				net_session_handle(ss, &ev);
		}
		if (ss->close_reason == 0)
			ss->close_reason = CP_SMTPD_R_EOF;
		sess_close(ss);
	}
}

static void
set_callbacks(net_session *ss)
{
	bufferevent_setcb(ss->bev, on_read, on_write, on_event, ss);
	bufferevent_setwatermark(ss->bev, EV_READ, 0, IN_HIGH);
	bufferevent_enable(ss->bev, EV_READ | EV_WRITE);
}

/* RFC 3207 4: after the 220, the TLS handshake on the same connection. */
void
net_session_start_tls(net_session *ss)
{
	SSL *ssl = ss->set->tls ? SSL_new(ss->set->tls) : NULL;
	struct bufferevent *fb;

	if (ssl == NULL) {
		cp_smtpd_conn_timeout(ss->c); /* cannot: end it */
		return;
	}
	fb = bufferevent_openssl_filter_new(ss->srv->base, ss->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (fb == NULL) {
		SSL_free(ssl);
		cp_smtpd_conn_timeout(ss->c);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(fb, 1);
	ss->bev = fb;
	ss->handshaking = 1;
	set_callbacks(ss);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	net_session *ss = arg;

	if (ss->closing) { /* the client does not read its last reply */
		sess_close(ss);
		return;
	}
	if (ss->c == NULL) { /* the TLS handshake took too long */
		cp_log(CP_LOG_INFO, "tls", "session=%llu client=%s handshake "
		    "timeout", (unsigned long long)ss->id, ss->addr);
		ss->close_reason = CP_SMTPD_R_TIMEOUT;
		sess_close(ss);
		return;
	}
	cp_log(CP_LOG_INFO, "smtpd", "session=%llu client=%s timeout",
	    (unsigned long long)ss->id, ss->addr);
	cp_smtpd_conn_timeout(ss->c);
	net_session_pump(ss);
}

static void
on_delay_end(evutil_socket_t fd, short what, void *arg)
{
	net_session *ss = arg;

	if (ss->closing) {
		close_when_sent(ss);
		return;
	}
	ss->delayed = 0;
	bufferevent_enable(ss->bev, EV_READ);
	net_session_pump(ss);
}

/* ---- lifecycle --------------------------------------------------------------- */

static void
sess_log_close(net_session *ss)
{
	const cp_smtpd_stats *st = ss->c ? cp_smtpd_conn_stats(ss->c) : NULL;

	cp_log(CP_LOG_INFO, "smtpd", "session=%llu client=%s:%u closed "
	    "reason=%s tls=%s auth=%s messages=%u rcpts=%u in=%llu out=%llu",
	    (unsigned long long)ss->id, ss->addr, ss->port,
	    cp_smtpd_reason_name(ss->close_reason),
	    st && st->tls ? "yes" : "no",
	    ss->authenticated ? ss->login.address : "-",
	    st ? st->messages : 0, st ? st->recipients : 0,
	    (unsigned long long)(st ? st->bytes_in : 0),
	    (unsigned long long)(st ? st->bytes_out : 0));
}

static void
sess_unlist(net_session *ss)
{
	net_server *s = ss->srv;

	if (!ss->listed)
		return;
	if (ss->prev)
		ss->prev->next = ss->next;
	else
		s->sessions = ss->next;
	if (ss->next)
		ss->next->prev = ss->prev;
	ss->listed = 0;
	if (ss->counted) {
		net_limits_give(&s->limits, ss->addr);
		ss->counted = 0;
	}
	__atomic_sub_fetch(&s->stats.active, 1, __ATOMIC_RELAXED);
}

static void
sess_destroy(net_session *ss)
{
	net_txn_reset(ss);
	cp_smtpd_conn_free(ss->c);
	net_settings_unref(ss->set);
	ss->srv->nsessions--;
	cp_free(ss);
}

/* Close the socket; free now, or when the jobs in flight come back. */
static void
sess_close(net_session *ss)
{
	if (ss->dead)
		return;
	if (ss->listed && ss->c != NULL)
		sess_log_close(ss);
	sess_unlist(ss);
	if (ss->bev != NULL)
		bufferevent_free(ss->bev);
	ss->bev = NULL;
	if (ss->timer)
		event_free(ss->timer);
	if (ss->delay)
		event_free(ss->delay);
	ss->timer = ss->delay = NULL;
	ss->dead = 1;
	if (ss->jobs == 0)
		sess_destroy(ss);
}

void
net_session_free_dead(net_session *ss)
{
	if (ss->dead && ss->jobs == 0)
		sess_destroy(ss);
}

/* Over a connection limit: say so (plain listener) and close. */
static void
refuse_connection(net_server *s, int fd, int implicit_tls, const char *ip,
    const char *why, const char *host)
{
	char line[512];
	int n;

	cp_log(CP_LOG_WARN, "smtpd", "client=%s refused: %s", ip, why);
	if (!implicit_tls) {
		n = snprintf(line, sizeof(line), "421 4.7.0 %s Error: %s\r\n",
		    host, why);
		/* one small write on a new socket: it fits the send buffer */
		if (n > 0 && write(fd, line, (size_t)n) < 0)
			cp_log_debug(CP_CONF_DEBUG_NET, "net", "client=%s: "
			    "refusal not sent", ip);
	}
	close(fd);
}

static void
peer_addr(const struct sockaddr *sa, char *ip, size_t iplen, unsigned *port,
    int *family, unsigned char bin[16], int *loopback)
{
	memset(bin, 0, 16);
	*loopback = 0;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(s6->sin6_port);
		*family = AF_INET6;
		memcpy(bin, &s6->sin6_addr, 16);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && bin[12] == 127);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, bin + 12, ip, (socklen_t)iplen);
			*family = AF_INET;
			memmove(bin, bin + 12, 4);
		}
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(s4->sin_port);
		*family = AF_INET;
		memcpy(bin, &s4->sin_addr, 4);
		*loopback = bin[0] == 127;
	}
}

void
net_session_accept(net_server *s, int fd, const struct sockaddr *sa,
    int implicit_tls, int inbound)
{
	net_settings *set = net_server_settings(s);
	net_session *ss = NULL;
	unsigned char bin[16];
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	int family, loopback, lim;

	peer_addr(sa, ip, sizeof(ip), &port, &family, bin, &loopback);
	lim = s->draining ? NET_LIMIT_TOTAL : net_limits_take(&s->limits, ip,
	    (uint64_t)set->conf.limits.connections,
	    (uint64_t)set->conf.limits.connections_per_ip);
	if (lim != NET_LIMIT_OK) {
		refuse_connection(s, fd, implicit_tls, ip, s->draining ?
		    "service shutting down" : lim == NET_LIMIT_PER_IP ?
		    "too many connections from your address" :
		    "too many connections", set->hostname);
		net_settings_unref(set);
		return;
	}
	if ((ss = cp_calloc(1, sizeof(*ss))) == NULL)
		goto fail;
	s->nsessions++;
	ss->srv = s;
	ss->set = set;
	set = NULL;
	ss->id = ++s->next_id;
	snprintf(ss->addr, sizeof(ss->addr), "%s", ip);
	ss->port = port;
	ss->loopback = loopback;
	ss->trusted = cp_conf_cidrs_match(
	    &ss->set->conf.submission.trusted_networks, family, bin);
	ss->implicit_tls = implicit_tls;
	ss->inbound = inbound;
	if (inbound) /* an MX: nobody is trusted to relay through it */
		ss->trusted = 0;
	ss->counted = 1;
	ss->listed = 1;
	ss->next = s->sessions;
	if (s->sessions)
		s->sessions->prev = ss;
	s->sessions = ss;
	net_stat_add(&s->stats.connections, 1);
	net_stat_add(&s->stats.active, 1);
	cp_buf_init(&ss->spool, 0);
	ss->timer = evtimer_new(s->base, on_timer, ss);
	ss->delay = evtimer_new(s->base, on_delay_end, ss);
	if (ss->timer == NULL || ss->delay == NULL)
		goto fail_ss;
	if (implicit_tls) {
		SSL *ssl = ss->set->tls ? SSL_new(ss->set->tls) : NULL;

		if (ssl == NULL)
			goto fail_ss;
		ss->bev = bufferevent_openssl_socket_new(s->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (ss->bev == NULL) {
			SSL_free(ssl);
			goto fail_ss;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(ss->bev, 1);
		ss->handshaking = 1;
		set_callbacks(ss);
		{
			struct timeval tv = { (time_t)(ss->set->sconf.
			    cmd_timeout_ms / 1000), 0 };

			evtimer_add(ss->timer, &tv);
		}
	} else {
		cp_smtpd_peer peer;

		memset(&peer, 0, sizeof(peer));
		peer.addr = ss->addr;
		peer.loopback = loopback;
		peer.trusted = ss->trusted;
		ss->bev = bufferevent_socket_new(s->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (ss->bev == NULL)
			goto fail_ss;
		ss->c = cp_smtpd_conn_new(inbound ? &ss->set->iconf :
		    &ss->set->sconf, &peer);
		set_callbacks(ss);
		if (ss->c == NULL) {
			sess_close(ss);
			return;
		}
	}
	cp_log_debug(CP_CONF_DEBUG_NET, "net", "session=%llu client=%s:%u "
	    "connected%s%s%s", (unsigned long long)ss->id, ss->addr, port,
	    implicit_tls ? " tls" : "", ss->trusted ? " trusted" : "",
	    inbound ? " inbound" : "");
	net_session_pump(ss);
	return;
fail_ss:
	if (ss->bev == NULL)
		close(fd);
	sess_close(ss);
	return;
fail:
	net_limits_give(&s->limits, ip);
	net_settings_unref(set);
	close(fd);
}

void
net_session_shutdown_all(net_server *s)
{
	net_session *ss, *next;

	for (ss = s->sessions; ss != NULL; ss = next) {
		next = ss->next;
		if (ss->c == NULL) { /* in the TLS handshake: just close */
			sess_close(ss);
			continue;
		}
		cp_smtpd_conn_shutdown(ss->c);
		net_session_pump(ss); /* may close ss */
	}
}

void
net_session_close_all(net_server *s)
{
	static const char bye[] = "421 4.3.2 Service shutting down\r\n";
	net_session *ss;

	while ((ss = s->sessions) != NULL) {
		if (ss->c != NULL && !ss->handshaking && ss->bev != NULL)
			bufferevent_write(ss->bev, bye, sizeof(bye) - 1);
		ss->close_reason = CP_SMTPD_R_SHUTDOWN;
		sess_close(ss); /* best effort: the socket closes now */
	}
}
