/*
 * server.c - the submission server (coldpost/server.h): its settings (the
 * smtpd limits and the TLS context built from the configuration, shared by
 * reference so a reload leaves open sessions theirs), the listeners
 * (submission with STARTTLS, RFC 6409 and RFC 3207; submissions with
 * implicit TLS, RFC 8314 3.3), the threads (one libevent loop, the signer
 * pool, the store writer) and the drain on stop.
 *
 * The sessions are net_session.c's, the workers net_work.c's. Jobs come
 * back to the loop through a locked list and an event made active from
 * the worker (libevent set up for threads with evthread_use_pthreads).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "coldpost/alloc.h"
#include "coldpost/bounce.h"
#include "coldpost/log.h"
#include "net/net_int.h"

void
net_stat_add(uint64_t *field, uint64_t n)
{
	__atomic_add_fetch(field, n, __ATOMIC_RELAXED);
}

/* ---- settings ----------------------------------------------------------------- */

static int
tls_error(cp_err *err, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[160];

	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return cp_err_set(err, CP_EINVAL, "server: %s %s: %s", what, path,
	    e ? buf : "unusable");
}

/* The TLS context of the listeners: certificate chain, key, min version. */
static int
tls_context(const cp_conf *conf, SSL_CTX **out, cp_err *err)
{
	SSL_CTX *ctx;
	int rc = CP_OK;

	*out = NULL;
	if (conf->tls.cert[0] == '\0' || conf->tls.key[0] == '\0')
		return CP_OK;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return cp_err_set(err, CP_ENOMEM, "server: no TLS context");
	SSL_CTX_set_min_proto_version(ctx, conf->tls.min_version ==
	    CP_CONF_TLS_V1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->tls.cert) != 1)
		rc = tls_error(err, "tls.cert", conf->tls.cert);
	else if (SSL_CTX_use_PrivateKey_file(ctx, conf->tls.key,
	    SSL_FILETYPE_PEM) != 1)
		rc = tls_error(err, "tls.key", conf->tls.key);
	else if (SSL_CTX_check_private_key(ctx) != 1)
		rc = tls_error(err, "tls.key does not match tls.cert",
		    conf->tls.key);
	if (rc != CP_OK) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return CP_OK;
}

static unsigned
ms_of(int64_t ms)
{
	return ms <= 0 ? 0 : ms > 3600 * 1000 ? 3600 * 1000 : (unsigned)ms;
}

/* The smtpd core's settings from the configuration (limits.*). */
static void
smtpd_settings(net_settings *st)
{
	const cp_conf *c = &st->conf;
	cp_smtpd_conf *sc = &st->sconf;
	size_t line = (size_t)c->limits.max_line_length;

	cp_smtpd_conf_init(sc);
	sc->hostname = st->hostname;
	/* what the store can keep, with room for Received and the signature */
	sc->max_message_size = CP_MIN((uint64_t)c->limits.max_size,
	    (uint64_t)CP_STORE_BODY_MAX - 1024 * 1024);
	sc->max_recipients = (size_t)c->limits.max_recipients;
	sc->max_text_line = line;
	sc->max_command_line = CP_MAX(line, (size_t)CP_SMTPD_COMMAND_LINE_MAX);
	sc->max_input = CP_MAX((size_t)64 * 1024, 2 * line + 1) +
	    CP_SMTPD_AUTH_LINE_MAX;
	sc->max_bad_commands = (unsigned)c->limits.bad_commands;
	sc->max_preauth_commands = (unsigned)c->limits.commands_before_auth;
	sc->max_auth_failures = (unsigned)c->limits.auth_failures;
	sc->auth_delay_ms = ms_of(c->limits.auth_failure_delay);
	sc->cmd_timeout_ms = ms_of(c->limits.idle_timeout);
	sc->data_timeout_ms = ms_of(c->limits.data_timeout);
	sc->tls_available = st->tls != NULL;
	sc->auth_cleartext = c->submission.auth_without_tls ?
	    CP_SMTPD_CLEAR_ALWAYS : CP_SMTPD_CLEAR_NEVER;
	sc->require_auth = 1;
	sc->rewrite = 1;
}

/* The inbound listener's (listen.bounce): an MX for the bounce domain,
 * no AUTH (RFC 5321 as any MX), no rewriting (a report is kept as sent),
 * at most what a bounce reader takes. */
static void
inbound_settings(net_settings *st)
{
	cp_smtpd_conf *ic = &st->iconf;

	*ic = st->sconf;
	ic->require_auth = 0;
	ic->auth_cleartext = CP_SMTPD_CLEAR_NEVER;
	ic->rewrite = 0;
	ic->max_message_size = CP_MIN(ic->max_message_size,
	    (uint64_t)CP_BOUNCE_MAX);
}

int
net_settings_new(const cp_conf *conf, net_settings **out, cp_err *err)
{
	net_settings *st;
	int rc;

	*out = NULL;
	if ((st = cp_calloc(1, sizeof(*st))) == NULL)
		return cp_err_set(err, CP_ENOMEM, "server: out of memory");
	st->refs = 1;
	if ((rc = cp_conf_copy(&st->conf, conf, err)) != CP_OK) {
		cp_free(st);
		return rc;
	}
	if (conf->server.hostname[0] != '\0')
		snprintf(st->hostname, sizeof(st->hostname), "%s",
		    conf->server.hostname);
	else if (gethostname(st->hostname, sizeof(st->hostname) - 1) != 0 ||
	    st->hostname[0] == '\0')
		snprintf(st->hostname, sizeof(st->hostname), "localhost");
	if ((rc = tls_context(conf, &st->tls, err)) != CP_OK) {
		net_settings_unref(st);
		return rc;
	}
	if (conf->listen.submissions.n > 0 && st->tls == NULL) {
		net_settings_unref(st);
		return cp_err_set(err, CP_EINVAL, "server: listen.submissions "
		    "(implicit TLS) needs tls.cert and tls.key");
	}
	smtpd_settings(st);
	inbound_settings(st);
	*out = st;
	return CP_OK;
}

net_settings *
net_settings_ref(net_settings *st)
{
	__atomic_add_fetch(&st->refs, 1, __ATOMIC_RELAXED);
	return st;
}

void
net_settings_unref(net_settings *st)
{
	if (st == NULL || __atomic_sub_fetch(&st->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	SSL_CTX_free(st->tls);
	cp_conf_clear(&st->conf);
	cp_free(st);
}

net_settings *
net_server_settings(net_server *s)
{
	net_settings *st;

	pthread_mutex_lock(&s->mu);
	st = net_settings_ref(s->set);
	pthread_mutex_unlock(&s->mu);
	return st;
}

/* ---- loop callbacks ---------------------------------------------------------- */

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	net_server *s = arg;
	net_job *list, *next;

	pthread_mutex_lock(&s->done_mu);
	list = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_mutex_unlock(&s->done_mu);
	for (net_job *j = list; j != NULL; j = next) {
		next = j->next;
		net_session_job_done(s, j);
	}
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
close_listeners(net_server *s)
{
	for (size_t i = 0; i < s->nlisteners; i++) {
		if (s->listeners[i].lev != NULL)
			evconnlistener_free(s->listeners[i].lev);
		s->listeners[i].lev = NULL;
	}
}

/* Drain: done when every session is gone, or at the deadline. */
static void
on_drain(evutil_socket_t fd, short what, void *arg)
{
	net_server *s = arg;
	struct timeval tv = { 0, 20 * 1000 };

	if (s->sessions != NULL && mono_ms() >= s->drain_deadline_ms) {
		cp_log(CP_LOG_WARN, "smtpd", "drain: deadline reached, "
		    "closing the sessions left");
		net_session_close_all(s);
	}
	if (s->sessions == NULL) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	evtimer_add(s->drain_ev, &tv);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	net_server *s = arg;

	close_listeners(s);
	s->draining = 1;
	s->drain_deadline_ms = mono_ms() + s->wait_ms;
	net_session_shutdown_all(s);
	on_drain(-1, 0, s);
}

static void
on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	net_listener *l = arg;

	evutil_make_socket_nonblocking(fd);
	net_session_accept(l->srv, fd, sa, l->implicit_tls, l->inbound);
}

static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	net_listener *l = arg;
	int e = EVUTIL_SOCKET_ERROR();

	/* EMFILE and friends: log, keep listening (libevent retries) */
	cp_log(CP_LOG_ERR, "net", "listener %s: accept: %s", l->name,
	    evutil_socket_error_to_string(e));
}

/* ---- the public interface ----------------------------------------------------- */

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int evthread_rc;

static void
evthread_setup(void)
{
	evthread_rc = evthread_use_pthreads();
}

/*
 * The VERP key, for the inbound listener's attribution and the
 * unsubscribe tokens: the one delivery got (opts), else the key `coldpost
 * serve` keeps beside an SQLite store (PATH.verp-key), else none (then
 * the inbound listener takes nothing and no List-Unsubscribe is added).
 */
static void
server_secret(net_server *s, const cp_server_opts *opts)
{
	const char *dsn = opts->conf->server.store;
	char path[4200];
	ssize_t got;
	int fd;

	static const char label[] = "coldpost http";
	unsigned int n = sizeof(s->unsub_key);

	if (opts->verp_secret != NULL && opts->verp_secret_len > 0) {
		s->secret_len = CP_MIN(opts->verp_secret_len, sizeof(s->secret));
		memcpy(s->secret, opts->verp_secret, s->secret_len);
	} else if (dsn != NULL && strncmp(dsn, "sqlite:", 7) == 0 &&
	    (size_t)snprintf(path, sizeof(path), "%s.verp-key", dsn + 7) <
	    sizeof(path) && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		got = read(fd, s->secret, sizeof(s->secret));
		close(fd);
		s->secret_len = got > 0 ? (size_t)got : 0;
	}
	if (opts->unsub_secret != NULL && opts->unsub_secret_len > 0) {
		s->unsub_key_len = CP_MIN(opts->unsub_secret_len,
		    sizeof(s->unsub_key));
		memcpy(s->unsub_key, opts->unsub_secret, s->unsub_key_len);
	} else if (s->secret_len > 0 && HMAC(EVP_sha256(), s->secret,
	    (int)s->secret_len, (const unsigned char *)label,
	    sizeof(label) - 1, s->unsub_key, &n) != NULL)
		s->unsub_key_len = n;
}

cp_server *
cp_server_new(const cp_server_opts *opts, cp_err *err)
{
	net_server *s;
	int rc;

	CP_ASSERT(opts != NULL && opts->conf != NULL && opts->store != NULL);
	pthread_once(&evthread_once, evthread_setup);
	if (evthread_rc != 0) {
		cp_err_set(err, CP_EINVAL, "server: libevent has no threads");
		return NULL;
	}
	if ((s = cp_calloc(1, sizeof(*s))) == NULL) {
		cp_err_set(err, CP_ENOMEM, "server: out of memory");
		return NULL;
	}
	s->store = opts->store;
	s->deliver = opts->deliver;
	s->rcpt_check = opts->rcpt_check;
	s->rcpt_check_arg = opts->rcpt_check_arg;
	s->report = opts->report;
	s->report_arg = opts->report_arg;
	snprintf(s->node, sizeof(s->node), "%s", opts->node ? opts->node :
	    "local");
	server_secret(s, opts);
	s->nsigners = opts->sign_threads;
	if (s->nsigners == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		s->nsigners = n > 0 ? (unsigned)CP_MIN(n, 64) : 2;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->done_mu, NULL);
	net_queue_init(&s->work);
	net_queue_init(&s->commit);
	rc = net_settings_new(opts->conf, &s->set, err);
	if (rc == CP_OK && net_limits_init(&s->limits, 1024) != CP_OK)
		rc = cp_err_set(err, CP_ENOMEM, "server: out of memory");
	if (rc == CP_OK && (s->cache = net_cache_new(s->store)) == NULL)
		rc = cp_err_set(err, CP_ENOMEM, "server: out of memory");
	if (rc == CP_OK && ((s->base = event_base_new()) == NULL ||
	    (s->done_ev = event_new(s->base, -1, 0, on_done, s)) == NULL ||
	    (s->stop_ev = event_new(s->base, -1, 0, on_stop, s)) == NULL ||
	    (s->drain_ev = evtimer_new(s->base, on_drain, s)) == NULL))
		rc = cp_err_set(err, CP_ENOMEM, "server: no event loop");
	if (rc != CP_OK) {
		cp_server_free((cp_server *)s);
		return NULL;
	}
	return (cp_server *)s;
}

static int
bind_one(net_server *s, const char *key, const cp_conf_addr *a, int tls,
    int inbound, cp_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	net_listener *l;
	cp_buf name;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = htons(a->port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->ip, 4);
		s4->sin_port = htons(a->port);
		sl = sizeof(*s4);
	}
	cp_buf_init(&name, 128);
	cp_conf_format_addr(a, &name);
	l = &s->listeners[s->nlisteners]; /* sized by cp_server_listen */
	memset(l, 0, sizeof(*l));
	l->srv = s;
	l->implicit_tls = tls;
	l->inbound = inbound;
	snprintf(l->name, sizeof(l->name), "%s", name.data ? name.data : "?");
	cp_buf_free(&name);
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cp_err_set(err, CP_EIO, "server: %s %s: socket: %s",
		    key, l->name, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) !=
	    0) {
		int e = errno;

		close(fd);
		err->sys = e;
		return cp_err_set(err, CP_EIO, "server: %s %s: %s", key,
		    l->name, strerror(e));
	}
	l->lev = evconnlistener_new(s->base, on_accept, l, LEV_OPT_CLOSE_ON_FREE,
	    -1, fd);
	if (l->lev == NULL) {
		close(fd);
		return cp_err_set(err, CP_ENOMEM, "server: %s %s: no listener",
		    key, l->name);
	}
	evconnlistener_set_error_cb(l->lev, on_accept_error);
	s->nlisteners++;
	return CP_OK;
}

int
cp_server_listen(cp_server *cs, cp_err *err)
{
	net_server *s = (net_server *)cs;
	const cp_conf *c = &s->set->conf;
	int rc = CP_OK;

	CP_ASSERT(!s->listening);
	/* one array, never moved: each listener's callback points into it */
	s->listeners = cp_calloc(c->listen.submission.n +
	    c->listen.submissions.n + c->listen.bounce.n + 1,
	    sizeof(*s->listeners));
	if (s->listeners == NULL)
		return cp_err_set(err, CP_ENOMEM, "server: out of memory");
	for (size_t i = 0; rc == CP_OK && i < c->listen.submission.n; i++)
		rc = bind_one(s, "listen.submission", &c->listen.submission.v[i],
		    0, 0, err);
	for (size_t i = 0; rc == CP_OK && i < c->listen.submissions.n; i++)
		rc = bind_one(s, "listen.submissions",
		    &c->listen.submissions.v[i], 1, 0, err);
	for (size_t i = 0; rc == CP_OK && i < c->listen.bounce.n; i++)
		rc = bind_one(s, "listen.bounce", &c->listen.bounce.v[i], 0, 1,
		    err);
	if (rc != CP_OK) {
		close_listeners(s);
		s->nlisteners = 0;
		return rc;
	}
	s->listening = 1;
	/* the listeners: the address above, each its own line */
	for (size_t i = 0; i < s->nlisteners; i++)
		cp_log(CP_LOG_INFO, "smtpd", "listening on %s (%s%s)",
		    s->listeners[i].name, s->listeners[i].implicit_tls ?
		    "implicit TLS" : s->set->tls ? "STARTTLS" : "no TLS",
		    s->listeners[i].inbound ? ", inbound for the bounce "
		    "domain" : "");
	if (c->listen.bounce.n > 0 && (c->bounce.domain[0] == '\0' ||
	    s->secret_len == 0))
		cp_log(CP_LOG_WARN, "inbound", "listen.bounce is set but %s: "
		    "every recipient will be refused", c->bounce.domain[0] ==
		    '\0' ? "bounce.domain is empty" : "there is no VERP key");
	return CP_OK;
}

static void *
loop_main(void *arg)
{
	net_server *s = arg;

	event_base_loop(s->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
cp_server_start(cp_server *cs, cp_err *err)
{
	net_server *s = (net_server *)cs;
	int rc;

	CP_ASSERT(!s->started);
	s->signer_thr = cp_calloc(s->nsigners, sizeof(pthread_t));
	if (s->signer_thr == NULL)
		return cp_err_set(err, CP_ENOMEM, "server: out of memory");
	if ((rc = pthread_create(&s->writer_thr, NULL, net_writer_main, s)) !=
	    0)
		return cp_err_set(err, CP_EIO, "server: writer thread: %s",
		    strerror(rc));
	s->started = 1; /* the writer runs: stop must join it */
	for (; s->nstarted < s->nsigners; s->nstarted++)
		if ((rc = pthread_create(&s->signer_thr[s->nstarted], NULL,
		    net_signer_main, s)) != 0) {
			cp_err_set(err, CP_EIO, "server: signer thread: %s",
			    strerror(rc));
			cp_server_stop(cs, 0);
			return CP_EIO;
		}
	if ((rc = pthread_create(&s->loop_thr, NULL, loop_main, s)) != 0) {
		cp_err_set(err, CP_EIO, "server: loop thread: %s",
		    strerror(rc));
		cp_server_stop(cs, 0);
		return CP_EIO;
	}
	s->started = 2;
	cp_log(CP_LOG_INFO, "smtpd", "started: %u signer threads", s->nsigners);
	return CP_OK;
}

int
cp_server_reload(cp_server *cs, const cp_conf *conf, cp_err *err)
{
	net_server *s = (net_server *)cs;
	net_settings *st, *old;
	int rc;

	if ((rc = net_settings_new(conf, &st, err)) != CP_OK)
		return rc;
	pthread_mutex_lock(&s->mu);
	old = s->set;
	s->set = st;
	pthread_mutex_unlock(&s->mu);
	net_settings_unref(old);
	cp_log(CP_LOG_INFO, "smtpd", "settings reloaded");
	return CP_OK;
}

/* After the threads: jobs that came back too late, sessions they kept. */
static void
finish_jobs(net_server *s)
{
	on_done(-1, 0, s);
}

void
cp_server_stop(cp_server *cs, unsigned wait_ms)
{
	net_server *s = (net_server *)cs;

	if (s == NULL || !s->started || s->stopped)
		return;
	s->wait_ms = wait_ms;
	if (s->started == 2) {
		event_active(s->stop_ev, EV_READ, 0);
		pthread_join(s->loop_thr, NULL);
	} else
		close_listeners(s);
	/* the signers finish the queue, then the writer commits it all */
	net_queue_stop(&s->work);
	for (unsigned i = 0; i < s->nstarted; i++)
		pthread_join(s->signer_thr[i], NULL);
	net_queue_stop(&s->commit);
	pthread_join(s->writer_thr, NULL);
	finish_jobs(s);
	s->stopped = 1;
	cp_log(CP_LOG_INFO, "smtpd", "stopped: %llu messages accepted, %llu "
	    "commits", (unsigned long long)s->stats.messages,
	    (unsigned long long)s->stats.commits);
}

void
cp_server_free(cp_server *cs)
{
	net_server *s = (net_server *)cs;

	if (s == NULL)
		return;
	cp_server_stop(cs, 0);
	close_listeners(s);
	if (s->base != NULL && !s->started) /* sessions never ran */
		net_session_close_all(s);
	cp_free(s->listeners);
	if (s->done_ev)
		event_free(s->done_ev);
	if (s->stop_ev)
		event_free(s->stop_ev);
	if (s->drain_ev)
		event_free(s->drain_ev);
	if (s->base)
		event_base_free(s->base);
	net_queue_destroy(&s->work);
	net_queue_destroy(&s->commit);
	net_cache_free(s->cache);
	if (s->limits.bucket)
		net_limits_clear(&s->limits);
	net_settings_unref(s->set);
	cp_free(s->signer_thr);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->done_mu);
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	OPENSSL_cleanse(s->unsub_key, sizeof(s->unsub_key));
	cp_free(s);
}

void
cp_server_get_stats(cp_server *cs, cp_server_stats *out)
{
	net_server *s = (net_server *)cs;
	uint64_t *from = (uint64_t *)&s->stats, *to = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}
