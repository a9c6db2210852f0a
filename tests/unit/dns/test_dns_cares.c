/*
 * Unit tests: the c-ares resolver (src/dns/dns_cares.c) against a small
 * DNS responder running in a thread of the test on 127.0.0.1 (an
 * ephemeral UDP port), which counts the queries it gets and answers from
 * messages built with wire.h. Time for the cache comes from a hand-moved
 * clock (cp_dns_set_clock). Covers: the blocking path, cache hits and
 * TTLs counting down, expiry, negative caching with and without an SOA,
 * SERVFAIL and timeouts as TEMPFAIL, a CNAME followed with a second query,
 * LRU eviction, and the asynchronous API driven by poll() and by the
 * socket-state callback, plus cancellation by cp_dns_free. The real
 * server, TCP fallback included, is in tests/integration/dns_resolver.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/dns.h"
#include "cptest.h"
#include "wire.h"

typedef struct responder {
	int fd;
	int port;
	pthread_t th;
	atomic_int stop;
	atomic_ulong queries;
} responder;

/* What the responder's zone holds. 0: drop the query (no answer). */
static int
zone_answer(const char *q, int type, wire *w)
{
	if (strcmp(q, "a.test") == 0 && type == CP_DNS_A) {
		wire_response(w, 0, q, type, 2, 0);
		wire_a(w, q, 300, "192.0.2.1");
		wire_a(w, q, 300, "192.0.2.2");
	} else if (strncmp(q, "n", 1) == 0 && strstr(q, ".test") &&
	    q[1] >= '0' && q[1] <= '9' && type == CP_DNS_A) {
		wire_response(w, 0, q, type, 1, 0);
		wire_a(w, q, 300, "192.0.2.50");
	} else if (strcmp(q, "nxnosoa.test") == 0) {
		wire_response(w, 3, q, type, 0, 0);
	} else if (strcmp(q, "drop.test") == 0) {
		return 0;
	} else if (strcmp(q, "servfail.test") == 0) {
		wire_response(w, 2, q, type, 0, 0);
	} else if (strcmp(q, "ext.test") == 0 && type == CP_DNS_A) {
		/* an authoritative server's CNAME out of its zone */
		wire_response(w, 0, q, type, 1, 0);
		wire_cname(w, q, 120, "target.other");
	} else if (strcmp(q, "target.other") == 0 && type == CP_DNS_A) {
		wire_response(w, 0, q, type, 1, 0);
		wire_a(w, q, 600, "192.0.2.9");
	} else { /* nx.test and the rest: NXDOMAIN, negative TTL 60 */
		wire_response(w, 3, q, type, 0, 1);
		wire_soa(w, "test", 300, 60);
	}
	return 1;
}

/* Read the question of a query: labels (no compression), type. */
static int
read_question(const unsigned char *b, size_t n, char *name, size_t cap,
    int *type)
{
	size_t off = 12, o = 0;

	while (off < n && b[off] != 0) {
		size_t l = b[off++];

		if (off + l > n || o + l + 2 > cap)
			return -1;
		if (o)
			name[o++] = '.';
		memcpy(name + o, b + off, l);
		o += l;
		off += l;
	}
	if (off + 5 > n)
		return -1;
	name[o] = '\0';
	*type = b[off + 1] << 8 | b[off + 2];
	return 0;
}

static void *
responder_main(void *arg)
{
	responder *r = arg;

	while (!atomic_load(&r->stop)) {
		struct pollfd p = { r->fd, POLLIN, 0 };
		unsigned char q[512];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		char name[256];
		int type;
		ssize_t n;
		wire w;

		if (poll(&p, 1, 20) <= 0)
			continue;
		n = recvfrom(r->fd, q, sizeof(q), 0, (struct sockaddr *)&from,
		    &fl);
		if (n < 12)
			continue;
		atomic_fetch_add(&r->queries, 1);
		if (read_question(q, (size_t)n, name, sizeof(name), &type) < 0)
			continue;
		if (!zone_answer(name, type, &w))
			continue;
		w.b[0] = q[0]; /* the query's ID */
		w.b[1] = q[1];
		sendto(r->fd, w.b, w.len, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static int
responder_start(responder *r)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(r->fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	r->port = ntohs(a.sin_port);
	return pthread_create(&r->th, NULL, responder_main, r) == 0 ? 0 : -1;
}

static void
responder_stop(responder *r)
{
	atomic_store(&r->stop, 1);
	pthread_join(r->th, NULL);
	close(r->fd);
}

typedef struct test_clock {
	uint64_t now;
} test_clock;

static uint64_t
clock_now(void *arg)
{
	return ((test_clock *)arg)->now;
}

static cp_dns *
resolver(const responder *r, int timeout_ms, int tries, size_t cache_max,
    test_clock *clk)
{
	char servers[64];
	cp_dns_config cfg = { 0 };
	cp_err err = { 0 };
	cp_dns *d;

	snprintf(servers, sizeof(servers), "127.0.0.1:%d", r->port);
	cfg.servers = servers;
	cfg.timeout_ms = timeout_ms;
	cfg.tries = tries;
	cfg.cache_max = cache_max;
	d = cp_dns_new_cares(&cfg, &err);
	CP_CHECK(d != NULL, "cp_dns_new_cares: %s", err.msg);
	if (d && clk)
		cp_dns_set_clock(d, clock_now, clk);
	return d;
}

static cp_dns_answer *
ask(cp_dns *d, const char *name, int type)
{
	cp_dns_answer *a = NULL;
	cp_err err = { 0 };
	int rc = cp_dns_query(d, name, type, &a, &err);

	CP_CHECK(rc == CP_OK && a, "query %s: %d %s", name, rc, err.msg);
	return a;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

CP_TEST(dns_cares_bad_config)
{
	cp_dns_config cfg = { 0 };
	cp_err err = { 0 };

	cfg.servers = "127.0.0.1:99999";
	CP_CHECK(cp_dns_new_cares(&cfg, &err) == NULL, "bad port accepted");
	CP_CHECK_INT(err.code, CP_EINVAL);
	cfg.servers = "::1:53"; /* IPv6 without brackets */
	CP_CHECK(cp_dns_new_cares(&cfg, &err) == NULL, "bad v6 accepted");
}

CP_TEST(dns_cares_cache_and_ttl)
{
	responder r;
	test_clock clk = { 5000000 };
	cp_dns *d;
	cp_dns_answer *a;
	cp_dns_stats st;

	CP_CHECK(responder_start(&r) == 0, "responder");
	d = resolver(&r, 1000, 2, 0, &clk);
	if (d == NULL)
		return;
	a = ask(d, "A.test.", CP_DNS_A);
	CP_CHECK(a && a->status == CP_DNS_OK && a->n == 2 && a->ttl == 300,
	    "first answer");
	CP_CHECK_STR(a ? a->name : NULL, "a.test");
	cp_dns_answer_free(a);
	CP_CHECK_INT(atomic_load(&r.queries), 1);
	/* from the cache: no query, TTL counted down by the clock */
	clk.now += 120000;
	a = ask(d, "a.test", CP_DNS_A);
	CP_CHECK(a && a->status == CP_DNS_OK && a->n == 2 && a->ttl == 180,
	    "cached ttl %u", a ? a->ttl : 0);
	cp_dns_answer_free(a);
	CP_CHECK_INT(atomic_load(&r.queries), 1);
	cp_dns_get_stats(d, &st);
	CP_CHECK(st.hits == 1 && st.misses == 1 && st.queries == 1 &&
	    st.cached == 1, "stats %lu %lu %lu %zu", st.hits, st.misses,
	    st.queries, st.cached);
	/* expired: asked again */
	clk.now += 180000;
	a = ask(d, "a.test", CP_DNS_A);
	CP_CHECK(a && a->ttl == 300, "refreshed");
	cp_dns_answer_free(a);
	CP_CHECK_INT(atomic_load(&r.queries), 2);

	/* negative caching: NXDOMAIN with SOA, 60 s */
	a = ask(d, "nx.test", CP_DNS_TXT);
	CP_CHECK(a && a->status == CP_DNS_NXDOMAIN && a->ttl == 60, "nx");
	cp_dns_answer_free(a);
	clk.now += 59000;
	a = ask(d, "nx.test", CP_DNS_TXT);
	CP_CHECK(a && a->status == CP_DNS_NXDOMAIN && a->ttl == 1,
	    "nx cached: ttl %u", a ? a->ttl : 0);
	cp_dns_answer_free(a);
	CP_CHECK_INT(atomic_load(&r.queries), 3);
	clk.now += 1000;
	cp_dns_answer_free(ask(d, "nx.test", CP_DNS_TXT));
	CP_CHECK_INT(atomic_load(&r.queries), 4);
	/* NXDOMAIN without SOA: never cached */
	cp_dns_answer_free(ask(d, "nxnosoa.test", CP_DNS_A));
	a = ask(d, "nxnosoa.test", CP_DNS_A);
	CP_CHECK(a && a->status == CP_DNS_NXDOMAIN && a->ttl == 0, "no soa");
	cp_dns_answer_free(a);
	CP_CHECK_INT(atomic_load(&r.queries), 6);
	/* SERVFAIL: TEMPFAIL saying so, not cached */
	a = ask(d, "servfail.test", CP_DNS_A);
	CP_CHECK(a && a->status == CP_DNS_TEMPFAIL && a->why &&
	    strstr(a->why, "SERVFAIL"), "servfail: %s",
	    a && a->why ? a->why : "(null)");
	cp_dns_answer_free(a);
	cp_dns_answer_free(ask(d, "servfail.test", CP_DNS_A));
	CP_CHECK_INT(atomic_load(&r.queries), 8);
	cp_dns_free(d);
	responder_stop(&r);
}

CP_TEST(dns_cares_cname_second_query)
{
	responder r;
	test_clock clk = { 1000 };
	cp_dns *d;
	cp_dns_answer *a;
	char ip[INET_ADDRSTRLEN] = "";

	CP_CHECK(responder_start(&r) == 0, "responder");
	d = resolver(&r, 1000, 2, 0, &clk);
	if (d == NULL)
		return;
	a = ask(d, "ext.test", CP_DNS_A);
	CP_CHECK(a && a->status == CP_DNS_OK && a->n == 1, "followed");
	if (a && a->n == 1)
		inet_ntop(AF_INET, &a->rr[0].u.a, ip, sizeof(ip));
	CP_CHECK_STR(ip, "192.0.2.9");
	CP_CHECK_STR(a ? a->name : NULL, "ext.test");
	CP_CHECK_INT(a ? a->ttl : 0, 120); /* the CNAME's TTL is the least */
	cp_dns_answer_free(a);
	CP_CHECK_INT(atomic_load(&r.queries), 2);
	cp_dns_answer_free(ask(d, "ext.test", CP_DNS_A)); /* cached */
	CP_CHECK_INT(atomic_load(&r.queries), 2);
	cp_dns_free(d);
	responder_stop(&r);
}

CP_TEST(dns_cares_timeout_is_tempfail)
{
	responder r;
	cp_dns *d;
	cp_dns_answer *a;
	uint64_t t0;

	CP_CHECK(responder_start(&r) == 0, "responder");
	d = resolver(&r, 100, 2, 0, NULL);
	if (d == NULL)
		return;
	t0 = mono_ms();
	a = ask(d, "drop.test", CP_DNS_A);
	CP_CHECK(a && a->status == CP_DNS_TEMPFAIL && a->why &&
	    strstr(a->why, "timeout"), "timeout: %s",
	    a && a->why ? a->why : "(null)");
	/* 100 ms, then 200 ms (doubled): well under a second */
	CP_CHECK(mono_ms() - t0 < 1500, "took %lu ms",
	    (unsigned long)(mono_ms() - t0));
	CP_CHECK_INT(atomic_load(&r.queries), 2);
	cp_dns_answer_free(a);
	cp_dns_free(d);
	responder_stop(&r);
}

CP_TEST(dns_cares_eviction)
{
	responder r;
	test_clock clk = { 1000 };
	cp_dns *d;
	cp_dns_stats st;

	CP_CHECK(responder_start(&r) == 0, "responder");
	d = resolver(&r, 1000, 2, 2, &clk);
	if (d == NULL)
		return;
	cp_dns_answer_free(ask(d, "n1.test", CP_DNS_A));
	cp_dns_answer_free(ask(d, "n2.test", CP_DNS_A));
	cp_dns_answer_free(ask(d, "n3.test", CP_DNS_A)); /* n1 goes */
	cp_dns_get_stats(d, &st);
	CP_CHECK(st.cached == 2 && st.evictions == 1, "cached %zu ev %lu",
	    st.cached, st.evictions);
	cp_dns_answer_free(ask(d, "n3.test", CP_DNS_A));
	CP_CHECK_INT(atomic_load(&r.queries), 3);
	cp_dns_answer_free(ask(d, "n1.test", CP_DNS_A));
	CP_CHECK_INT(atomic_load(&r.queries), 4);
	cp_dns_free(d);
	responder_stop(&r);
}

typedef struct got {
	int n;
	int in_submit; /* set while cp_dns_query_async runs */
	int during_submit;
	cp_dns_status status[8];
	char name[8][64];
	char why[8][128];
	cp_dns *resubmit; /* try a new lookup from inside the callback */
	int resubmit_rc;
} got;

static void
on_answer(cp_dns_answer *a, void *arg)
{
	got *g = arg;

	if (g->in_submit)
		g->during_submit++;
	if (g->n < 8 && a != NULL) {
		g->status[g->n] = a->status;
		snprintf(g->name[g->n], sizeof(g->name[0]), "%s", a->name);
		snprintf(g->why[g->n], sizeof(g->why[0]), "%s",
		    a->why ? a->why : "");
	}
	g->n++;
	cp_dns_answer_free(a);
	if (g->resubmit != NULL) {
		cp_err err = { 0 };

		g->resubmit_rc = cp_dns_query_async(g->resubmit, "a.test",
		    CP_DNS_A, on_answer, NULL, &err);
		g->resubmit = NULL;
	}
}

static void
submit(cp_dns *d, got *g, const char *name, int type)
{
	cp_err err = { 0 };

	g->in_submit = 1;
	CP_CHECK(cp_dns_query_async(d, name, type, on_answer, g, &err) ==
	    CP_OK, "submit %s: %s", name, err.msg);
	g->in_submit = 0;
}

static int
find(const got *g, const char *name)
{
	for (int i = 0; i < g->n && i < 8; i++)
		if (strcmp(g->name[i], name) == 0)
			return i;
	return -1;
}

CP_TEST(dns_cares_async_poll_loop)
{
	responder r;
	test_clock clk = { 1000 };
	cp_dns *d;
	got g;
	uint64_t t0;
	int i, turns = 0;
	cp_err err = { 0 };

	memset(&g, 0, sizeof(g));
	CP_CHECK(responder_start(&r) == 0, "responder");
	d = resolver(&r, 100, 1, 0, &clk);
	if (d == NULL)
		return;
	cp_dns_answer_free(ask(d, "a.test", CP_DNS_A)); /* warm the cache */
	CP_CHECK_INT(cp_dns_pending(d), 0);
	CP_CHECK_INT(cp_dns_timeout_ms(d), -1);
	submit(d, &g, "a.test", CP_DNS_A); /* a cache hit */
	submit(d, &g, "nx.test", CP_DNS_A);
	submit(d, &g, "ext.test", CP_DNS_A);
	submit(d, &g, "drop.test", CP_DNS_A);
	CP_CHECK(cp_dns_query_async(d, "bad..name", CP_DNS_A, on_answer, &g,
	    &err) == CP_EINVAL, "malformed name accepted");
	CP_CHECK_INT(g.n, 0); /* nothing delivered inside submit */
	CP_CHECK_INT(cp_dns_pending(d), 4);
	CP_CHECK_INT(cp_dns_timeout_ms(d), 0); /* the hit is waiting */
	t0 = mono_ms();
	while (cp_dns_pending(d) > 0 && mono_ms() - t0 < 5000) {
		struct pollfd pfd[CP_DNS_MAX_FDS];
		size_t n = cp_dns_pollfds(d, pfd, CP_DNS_MAX_FDS);
		int ms = cp_dns_timeout_ms(d);

		CP_CHECK(ms >= 0, "pending but no timeout");
		poll(pfd, n, ms < 0 ? 100 : ms);
		cp_dns_process(d, pfd, n);
		turns++;
	}
	CP_CHECK_INT(g.n, 4);
	CP_CHECK_INT(g.during_submit, 0);
	CP_CHECK_INT(cp_dns_pending(d), 0);
	i = find(&g, "a.test");
	CP_CHECK(i >= 0 && g.status[i] == CP_DNS_OK, "a.test");
	i = find(&g, "nx.test");
	CP_CHECK(i >= 0 && g.status[i] == CP_DNS_NXDOMAIN, "nx.test");
	i = find(&g, "ext.test");
	CP_CHECK(i >= 0 && g.status[i] == CP_DNS_OK, "ext.test");
	i = find(&g, "drop.test");
	CP_CHECK(i >= 0 && g.status[i] == CP_DNS_TEMPFAIL, "drop.test");
	CP_CHECK(mono_ms() - t0 < 2000, "async took %lu ms",
	    (unsigned long)(mono_ms() - t0));
	CP_CHECK(turns >= 2, "turns %d", turns);
	cp_dns_free(d);
	responder_stop(&r);
}

typedef struct watch {
	int fd[8];
	int rd[8];
	int n;
	int opened, closed;
} watch;

static void
on_sock(void *arg, int fd, int readable, int writable)
{
	watch *w = arg;
	int i;

	for (i = 0; i < w->n; i++)
		if (w->fd[i] == fd)
			break;
	if (!readable && !writable) {
		if (i < w->n) {
			w->fd[i] = w->fd[w->n - 1];
			w->rd[i] = w->rd[w->n - 1];
			w->n--;
			w->closed++;
		}
		return;
	}
	if (i == w->n && w->n < 8) {
		w->n++;
		w->opened++;
	}
	w->fd[i] = fd;
	w->rd[i] = readable;
}

CP_TEST(dns_cares_async_sock_cb)
{
	responder r;
	cp_dns *d;
	got g;
	watch w;
	uint64_t t0;

	memset(&g, 0, sizeof(g));
	memset(&w, 0, sizeof(w));
	CP_CHECK(responder_start(&r) == 0, "responder");
	d = resolver(&r, 500, 2, 0, NULL);
	if (d == NULL)
		return;
	cp_dns_set_sock_cb(d, on_sock, &w);
	submit(d, &g, "a.test", CP_DNS_A);
	submit(d, &g, "n7.test", CP_DNS_A);
	CP_CHECK(w.n == 1 && w.rd[0], "watching %d sockets", w.n);
	t0 = mono_ms();
	/* an epoll-style loop: only what the callback said to watch */
	while (g.n < 2 && mono_ms() - t0 < 3000) {
		struct pollfd p[8];
		int n = w.n, ms = cp_dns_timeout_ms(d);

		for (int i = 0; i < n; i++) {
			p[i].fd = w.fd[i];
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, (nfds_t)n, ms) == 0) {
			cp_dns_process_fd(d, -1, -1);
			continue;
		}
		for (int i = 0; i < n; i++)
			if (p[i].revents)
				cp_dns_process_fd(d, p[i].fd, -1);
	}
	CP_CHECK_INT(g.n, 2);
	CP_CHECK(g.status[0] == CP_DNS_OK && g.status[1] == CP_DNS_OK,
	    "statuses %d %d", g.status[0], g.status[1]);
	CP_CHECK(w.opened >= 1, "socket never announced");
	cp_dns_free(d);
	/* every socket announced was also retired */
	CP_CHECK(w.n == 0 && w.closed == w.opened, "open %d closed %d left %d",
	    w.opened, w.closed, w.n);
	responder_stop(&r);
}

CP_TEST(dns_cares_free_cancels_pending)
{
	responder r;
	cp_dns *d;
	got g;

	memset(&g, 0, sizeof(g));
	CP_CHECK(responder_start(&r) == 0, "responder");
	d = resolver(&r, 5000, 3, 0, NULL);
	if (d == NULL)
		return;
	submit(d, &g, "drop.test", CP_DNS_A);
	submit(d, &g, "drop.test", CP_DNS_TXT);
	CP_CHECK_INT(cp_dns_pending(d), 2);
	g.resubmit = d;
	cp_dns_free(d);
	CP_CHECK_INT(g.n, 2);
	CP_CHECK_INT(g.resubmit_rc, CP_EINVAL); /* no lookups while freeing */
	CP_CHECK(g.status[0] == CP_DNS_TEMPFAIL &&
	    strstr(g.why[0], "closed") != NULL, "cancelled: %d %s",
	    g.status[0], g.why[0]);
	responder_stop(&r);
}

CP_TEST(dns_fake_async)
{
	cp_dns *d = cp_dns_new_fake();
	cp_err err = { 0 };
	got g;

	memset(&g, 0, sizeof(g));
	CP_CHECK(cp_dns_fake_add(d, "f.test", CP_DNS_TXT, "hello", &err) ==
	    CP_OK, "%s", err.msg);
	submit(d, &g, "f.test", CP_DNS_TXT);
	submit(d, &g, "none.test", CP_DNS_TXT);
	CP_CHECK_INT(g.n, 0);
	CP_CHECK_INT(cp_dns_pending(d), 2);
	CP_CHECK_INT(cp_dns_timeout_ms(d), 0);
	CP_CHECK_INT(cp_dns_pollfds(d, NULL, 0), 0);
	cp_dns_process(d, NULL, 0);
	CP_CHECK_INT(g.n, 2);
	CP_CHECK(g.status[0] == CP_DNS_OK && g.status[1] == CP_DNS_NXDOMAIN,
	    "fake async statuses");
	CP_CHECK_INT(cp_dns_pending(d), 0);
	CP_CHECK_INT(cp_dns_timeout_ms(d), -1);
	cp_dns_free(d);
}
