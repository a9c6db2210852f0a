/*
 * dns_cares.c - the real resolver: c-ares underneath, a TTL cache on top.
 *
 * Every lookup, blocking or not, is one cares_q: it looks in the cache
 * (dns_cache.c), and on a miss builds a query (ares_create_query: QTYPE,
 * QCLASS IN, RD set, RFC 1035 4.1.1-4.1.2) and sends it with ares_send,
 * which picks the server, retries after the per-try timeout (doubled each
 * round over the servers, c-ares' rule), and asks again over TCP when an
 * answer comes back truncated (RFC 1035 4.2.2, RFC 7766 5). No EDNS0
 * option is sent, so any answer over 512 bytes takes the TCP path. The
 * response bytes go through cp_dns_answer_parse's rules (dns_msg.c); when
 * a CNAME chain leads to a name the server said nothing about, the target
 * is asked next (RFC 1034 5.3.3), 8 hops at most. The final answer is
 * named after the name first asked, cached (positive and negative, see
 * dns_cache.c) and handed over: to the blocking caller, or queued for the
 * async callback (dns.c delivers it on the next cp_dns_process).
 *
 * c-ares statuses that mean no usable response (timeout, connection
 * refused, SERVFAIL/REFUSED from every server, the channel destroyed)
 * become TEMPFAIL answers whose why says which. Servers come from the
 * configuration ("HOST:PORT,...", c-ares' own CSV syntax) or, without
 * one, from /etc/resolv.conf as c-ares reads it. c-ares allocates through
 * cp_malloc (ares_library_init_mem), so allocation-failure tests reach it.
 * The blocking path runs its own poll() loop over ares_getsock and
 * ares_timeout; the async path exposes the same to the caller's loop.
 */
#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "dns/dns_int.h"

#define DEF_TIMEOUT_MS 2000
#define DEF_TRIES 3
#define DEF_CACHE_MAX 10000
#define MAX_CNAME_QUERIES 8 /* further queries for CNAME targets */

typedef struct cares {
	ares_channel ch;
	dns_cache *cache; /* NULL with no_cache */
	int timeout_ms, tries;
	int nservers;
	uint64_t (*now_ms)(void *);
	void *clock_arg;
	cp_dns_sock_cb sock_cb;
	void *sock_arg;
	size_t inflight; /* lookups started, not finished */
	unsigned long queries, hits, misses;
} cares;

/* One lookup under way. */
typedef struct cares_q {
	cp_dns *d;
	char *name; /* as first asked (normalised) */
	char *cur;  /* the name asked now, after CNAME hops */
	int type;
	int hops;
	uint32_t chain_ttl; /* smallest CNAME TTL on the way */
	dns_ready *ready;   /* async: where the answer goes */
	cp_dns_answer **sync_out; /* blocking: where the answer goes */
	int *sync_done;
	int64_t sent_ns;    /* when the message in flight went out */
} cares_q;

/* Round trips of every c-ares resolver in the process (cp_dns_latency):
 * /metrics shows one figure for the machine's view of its DNS. */
static cp_hist rtt_hist;

void
cp_dns_get_latency(cp_hist *out)
{
	cp_hist_read(&rtt_hist, out);
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status = ARES_ENOTINITIALIZED;

static void
lib_init(void)
{
	lib_status = ares_library_init_mem(ARES_LIB_INIT_ALL, cp_malloc,
	    cp_free, cp_realloc);
}

static uint64_t
clock_mono_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Hand the answer (NULL: out of memory) to whoever waits, free q. */
static void
q_finish(cares_q *q, cp_dns_answer *a)
{
	cares *c = q->d->impl;

	c->inflight--;
	if (q->sync_done != NULL) {
		*q->sync_out = a;
		*q->sync_done = 1;
	} else {
		dns_ready_push(q->d, q->ready, a);
	}
	cp_free(q->name);
	cp_free(q->cur);
	cp_free(q);
}

/* Finish with a TEMPFAIL or ERROR answer saying why. */
static void
q_fail(cares_q *q, cp_dns_status st, const char *why)
{
	cp_dns_answer *a = dns_answer_new(q->name, q->type);

	if (a != NULL) {
		a->status = st;
		if (dns_answer_set_why(a, "%s", why) != CP_OK) {
			cp_dns_answer_free(a);
			a = NULL;
		}
	}
	q_finish(q, a);
}

static void on_answer(void *arg, int status, int timeouts,
    unsigned char *abuf, int alen);

/* Send the query for q->cur; on failure finish q at once. */
static void
q_send(cares_q *q)
{
	cares *c = q->d->impl;
	unsigned char *buf = NULL;
	int len = 0, rc;

	rc = ares_create_query(q->cur, 1 /* C_IN */, q->type, 0, 1, &buf, &len,
	    0);
	if (rc != ARES_SUCCESS) {
		q_fail(q, rc == ARES_ENOMEM ? CP_DNS_TEMPFAIL : CP_DNS_ERROR,
		    rc == ARES_ENOMEM ? "out of memory" : "name not encodable");
		return;
	}
	c->queries++;
	q->sent_ns = cp_hist_now_ns();
	ares_send(c->ch, buf, len, on_answer, q);
	ares_free_string(buf);
}

static void
why_status(cares *c, int status, char *buf, size_t len)
{
	switch (status) {
	case ARES_ETIMEOUT:
		snprintf(buf, len, "timeout: no answer after %d tries "
		    "(%d ms first)", c->tries, c->timeout_ms);
		break;
	case ARES_ECONNREFUSED:
		/* c-ares 1.18 also ends here when every server answered
		 * SERVFAIL or REFUSED (with one server it hands such an
		 * answer over instead: see cp_dns_new_cares) */
		snprintf(buf, len, c->nservers > 1
		    ? "no usable answer from any server (connection refused, "
		      "SERVFAIL or REFUSED)"
		    : "connection refused by the DNS server");
		break;
	case ARES_ESERVFAIL:
		snprintf(buf, len, "server answered SERVFAIL");
		break;
	case ARES_EREFUSED:
		snprintf(buf, len, "server answered REFUSED");
		break;
	case ARES_ENOTIMP:
		snprintf(buf, len, "server answered NOTIMP");
		break;
	case ARES_EFORMERR:
		snprintf(buf, len, "server answered FORMERR");
		break;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		snprintf(buf, len, "resolver closed");
		break;
	default:
		snprintf(buf, len, "%s", ares_strerror(status));
		break;
	}
}

/* c-ares is done with one message: a response (status ARES_SUCCESS, abuf
 * the bytes) or none (the status says why). */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	cares_q *q = arg;
	cares *c = q->d->impl;
	cp_dns_answer *a;
	char *next = NULL;
	uint32_t cttl = 0;
	cp_err err;

	(void)timeouts;
	if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED)
		cp_hist_add(&rtt_hist, cp_hist_now_ns() - q->sent_ns);
	if (status != ARES_SUCCESS || abuf == NULL || alen < 0) {
		char why[160];

		why_status(c, status, why, sizeof(why));
		q_fail(q, status == ARES_EBADRESP ? CP_DNS_ERROR
						  : CP_DNS_TEMPFAIL, why);
		return;
	}
	a = dns_answer_new(q->cur, q->type);
	if (a == NULL ||
	    dns_msg_parse(abuf, (size_t)alen, a, &next, &cttl, &err) != CP_OK) {
		cp_dns_answer_free(a);
		q_finish(q, NULL);
		return;
	}
	if (next != NULL) {
		/* a CNAME to a name this server said nothing more about */
		if (q->hops < MAX_CNAME_QUERIES) {
			q->hops++;
			q->chain_ttl = q->hops == 1 ? cttl
						    : CP_MIN(q->chain_ttl, cttl);
			cp_free(q->cur);
			q->cur = next;
			cp_dns_answer_free(a);
			q_send(q);
			return;
		}
		cp_free(next);
		a->status = CP_DNS_TEMPFAIL;
		a->ttl = 0;
		dns_answer_set_why(a, "CNAME chain longer than %d queries",
		    MAX_CNAME_QUERIES);
	}
	if (q->hops > 0) {
		/* the answer is for the name first asked */
		char *n = cp_strdup(q->name);

		if (n == NULL) {
			cp_dns_answer_free(a);
			q_finish(q, NULL);
			return;
		}
		cp_free(a->name);
		a->name = n;
		a->ttl = CP_MIN(a->ttl, q->chain_ttl);
	}
	if (c->cache != NULL)
		(void)dns_cache_put(c->cache, a, c->now_ms(c->clock_arg));
	q_finish(q, a);
}

/* Start a lookup: from the cache, or on the wire. q is filled but for
 * the cache check. */
static int
q_start(cp_dns *d, const char *name, int type, cares_q *q, cp_err *err)
{
	cares *c = d->impl;
	cp_dns_answer *hit = NULL;

	q->d = d;
	q->type = type;
	q->name = cp_strdup(name);
	q->cur = cp_strdup(name);
	if (q->name == NULL || q->cur == NULL) {
		cp_free(q->name);
		cp_free(q->cur);
		return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	}
	c->inflight++;
	if (c->cache != NULL) {
		int rc = dns_cache_get(c->cache, name, type,
		    c->now_ms(c->clock_arg), &hit);

		if (rc == CP_OK) {
			c->hits++;
			q_finish(q, hit);
			return CP_OK;
		}
		c->misses++;
	}
	q_send(q);
	return CP_OK;
}

static int
cares_submit(cp_dns *d, const char *name, int type, dns_ready *r,
    cp_err *err)
{
	cares_q *q = cp_calloc(1, sizeof(*q));
	int rc;

	if (q == NULL)
		return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	q->ready = r;
	rc = q_start(d, name, type, q, err);
	if (rc != CP_OK)
		cp_free(q);
	return rc;
}

static size_t
cares_pollfds(cp_dns *d, struct pollfd *fds, size_t max)
{
	cares *c = d->impl;
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	/* the bit mask as unsigned: c-ares' ARES_GETSOCK_WRITABLE macro
	 * shifts a signed 1 into the sign bit for the 16th socket */
	unsigned bits = (unsigned)ares_getsock(c->ch, socks,
	    ARES_GETSOCK_MAXNUM);
	size_t n = 0;

	for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
		short ev = 0;

		if (bits & 1u << i)
			ev |= POLLIN;
		if (bits & 1u << (i + ARES_GETSOCK_MAXNUM))
			ev |= POLLOUT;
		if (ev == 0)
			continue;
		fds[n].fd = socks[i];
		fds[n].events = ev;
		fds[n].revents = 0;
		n++;
	}
	return n;
}

static int
cares_timeout_ms(cp_dns *d)
{
	cares *c = d->impl;
	struct timeval tv, *tvp = ares_timeout(c->ch, NULL, &tv);
	long ms;

	if (tvp == NULL)
		return -1;
	/* round up: waking early would only spin */
	ms = (long)tvp->tv_sec * 1000 + ((long)tvp->tv_usec + 999) / 1000;
	return ms > 3600000 ? 3600000 : (int)ms;
}

static void
cares_process_fd(cp_dns *d, int read_fd, int write_fd)
{
	cares *c = d->impl;

	ares_process_fd(c->ch, read_fd < 0 ? ARES_SOCKET_BAD : read_fd,
	    write_fd < 0 ? ARES_SOCKET_BAD : write_fd);
}

/* Blocking lookup: the async machinery with a poll() loop of its own. */
static int
cares_query(cp_dns *d, const char *name, int type, cp_dns_answer *out,
    cp_err *err)
{
	cares_q *q = cp_calloc(1, sizeof(*q));
	cp_dns_answer *a = NULL, tmp;
	int done = 0, rc;

	if (q == NULL)
		return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	q->sync_out = &a;
	q->sync_done = &done;
	rc = q_start(d, name, type, q, err);
	if (rc != CP_OK) {
		cp_free(q);
		return rc;
	}
	while (!done) {
		struct pollfd pfd[CP_DNS_MAX_FDS];
		size_t n = cares_pollfds(d, pfd, CP_DNS_MAX_FDS);
		int ms = cares_timeout_ms(d);

		if (n == 0 && ms < 0) /* c-ares holds nothing: cannot be */
			ms = 10;
		if (poll(pfd, n, ms) < 0 && errno != EINTR)
			return cp_err_set(err, CP_EIO, "dns: poll: %s",
			    strerror(errno));
		for (size_t i = 0; i < n; i++) {
			short ev = pfd[i].revents;

			if (ev == 0)
				continue;
			cares_process_fd(d,
			    ev & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd : -1,
			    ev & POLLOUT ? pfd[i].fd : -1);
		}
		cares_process_fd(d, -1, -1);
	}
	if (a == NULL)
		return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	/* move the answer into the one dns.c made */
	tmp = *out;
	*out = *a;
	*a = tmp;
	cp_dns_answer_free(a);
	return CP_OK;
}

static void
sock_state(void *data, ares_socket_t s, int readable, int writable)
{
	cares *c = data;

	if (c->sock_cb != NULL)
		c->sock_cb(c->sock_arg, s, readable, writable);
}

static void
cares_set_sock_cb(cp_dns *d, cp_dns_sock_cb cb, void *arg)
{
	cares *c = d->impl;

	c->sock_cb = cb;
	c->sock_arg = arg;
}

static void
cares_set_clock(cp_dns *d, uint64_t (*now_ms)(void *), void *arg)
{
	cares *c = d->impl;

	c->now_ms = now_ms ? now_ms : clock_mono_ms;
	c->clock_arg = now_ms ? arg : NULL;
}

static void
cares_stats(const cp_dns *d, cp_dns_stats *st)
{
	const cares *c = d->impl;

	st->queries = c->queries;
	st->hits = c->hits;
	st->misses = c->misses;
	if (c->cache != NULL) {
		st->evictions = dns_cache_evictions(c->cache);
		st->cached = dns_cache_count(c->cache);
	}
}

static size_t
cares_pending(const cp_dns *d)
{
	return ((const cares *)d->impl)->inflight;
}

static void
cares_free(cp_dns *d)
{
	cares *c = d->impl;

	/* pending lookups end in on_answer with ARES_EDESTRUCTION, their
	 * answers queued for dns.c to deliver */
	if (c->ch != NULL)
		ares_destroy(c->ch);
	dns_cache_free(c->cache);
	cp_free(c);
}

/* How many servers the channel has (from resolv.conf). */
static int
count_servers(ares_channel ch)
{
	struct ares_addr_port_node *list = NULL;
	int n = 0;

	if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS)
		return 2; /* unknown: keep c-ares' failover */
	for (struct ares_addr_port_node *p = list; p; p = p->next)
		n++;
	ares_free_data(list);
	return n;
}

static const cp_dns_ops cares_ops = {
	.name = "c-ares",
	.query = cares_query,
	.free = cares_free,
	.submit = cares_submit,
	.pollfds = cares_pollfds,
	.timeout_ms = cares_timeout_ms,
	.process_fd = cares_process_fd,
	.set_sock_cb = cares_set_sock_cb,
	.set_clock = cares_set_clock,
	.stats = cares_stats,
	.pending = cares_pending,
};

cp_dns *
cp_dns_new_cares(const cp_dns_config *cfg, cp_err *err)
{
	static const cp_dns_config defaults = { 0 };
	struct ares_options o;
	cp_dns *d = NULL;
	cares *c = NULL;
	int rc;

	if (cfg == NULL)
		cfg = &defaults;
	if (cfg->servers != NULL && cp_dns_check_servers(cfg->servers, err) !=
	    CP_OK)
		return NULL;
	if (cfg->timeout_ms < 0 || cfg->tries < 0) {
		cp_err_set(err, CP_EINVAL, "dns: negative timeout or tries");
		return NULL;
	}
	pthread_once(&lib_once, lib_init);
	if (lib_status != ARES_SUCCESS) {
		cp_err_set(err, CP_EIO, "dns: c-ares init: %s",
		    ares_strerror(lib_status));
		return NULL;
	}
	d = cp_calloc(1, sizeof(*d));
	c = cp_calloc(1, sizeof(*c));
	if (d == NULL || c == NULL)
		goto nomem;
	d->ops = &cares_ops;
	d->impl = c;
	c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEF_TIMEOUT_MS;
	c->tries = cfg->tries ? cfg->tries : DEF_TRIES;
	c->now_ms = clock_mono_ms;
	if (!cfg->no_cache) {
		c->cache = dns_cache_new(cfg->cache_max ? cfg->cache_max
							: DEF_CACHE_MAX);
		if (c->cache == NULL)
			goto nomem;
	}
	if (cfg->servers != NULL) {
		c->nservers = 1;
		for (const char *p = cfg->servers; *p; p++)
			c->nservers += *p == ',';
	}
	/*
	 * With several servers, c-ares moves on to the next one when a
	 * server answers SERVFAIL, REFUSED or NOTIMP. With one there is no
	 * next: then ARES_FLAG_NOCHECKRESP hands that answer over, so the
	 * reason shown is the server's RCODE rather than c-ares 1.18's
	 * "connection refused". The resolv.conf case learns the count
	 * after a first init, and starts again if it is one.
	 */
	for (int round = 0; round < 2; round++) {
		memset(&o, 0, sizeof(o));
		/* ares_send asks exactly the name given: no search list,
		 * no HOSTALIASES */
		o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
		if (c->nservers == 1)
			o.flags |= ARES_FLAG_NOCHECKRESP;
		o.timeout = c->timeout_ms;
		o.tries = c->tries;
		o.sock_state_cb = sock_state;
		o.sock_state_cb_data = c;
		rc = ares_init_options(&c->ch, &o, ARES_OPT_FLAGS |
		    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB);
		if (rc != ARES_SUCCESS) {
			c->ch = NULL;
			cp_err_set(err, rc == ARES_ENOMEM ? CP_ENOMEM : CP_EIO,
			    "dns: c-ares: %s", ares_strerror(rc));
			cp_dns_free(d);
			return NULL;
		}
		if (cfg->servers != NULL) {
			rc = ares_set_servers_ports_csv(c->ch, cfg->servers);
			if (rc != ARES_SUCCESS) {
				cp_err_set(err, rc == ARES_ENOMEM ? CP_ENOMEM
								  : CP_EINVAL,
				    "dns: servers '%s': %s", cfg->servers,
				    ares_strerror(rc));
				cp_dns_free(d);
				return NULL;
			}
			break;
		}
		if (c->nservers != 0)
			break; /* second round: the count is known */
		c->nservers = count_servers(c->ch);
		if (c->nservers != 1)
			break;
		ares_destroy(c->ch);
		c->ch = NULL;
	}
	return d;
nomem:
	cp_free(c);
	cp_free(d);
	cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	return NULL;
}
