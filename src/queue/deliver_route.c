/*
 * deliver_route.c - next hops: where mail for a domain goes.
 *
 * A static route names a host (an IP literal, used as is, or a name whose
 * AAAA and A records are looked up). Otherwise the domain's MX records
 * decide, as RFC 5321 5.1 says: hosts in preference order, hosts of equal
 * preference in random order; no MX record at all means the domain itself
 * is the one host (implicit MX); a single MX "0 ." is a null MX (RFC 7505)
 * and the domain takes no mail: 556 5.1.10 at once. Each host gives its
 * IPv6 addresses first, then IPv4 ones; the connection code tries them in
 * order and goes on to the next on a connect failure or a 4xx greeting.
 *
 * Lookups are asynchronous (cp_dns_query_async): the resolver's answers
 * come from the engine's loop, and the TTL cache lives in the resolver.
 * Choosing the route ([routes] longest match) is cp_conf_find_route's.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "queue/deliver_int.h"

typedef struct rs_host {
	char name[CP_STORE_DOMAIN_MAX + 1];
	int pref;
	uint32_t rnd;        /* tie-break among equal preferences */
	cp_dns_answer *a, *aaaa;
} rs_host;

typedef struct rs_ctx {
	cp_dns *dns;
	char name[CP_STORE_DOMAIN_MAX + 1];
	int route, implicit;
	uint16_t port;
	dl_resolve_cb cb;
	void *arg;
	size_t nhosts;
	rs_host hosts[DL_MX_MAX];
	int pending;
} rs_ctx;

/* The callback of one A or AAAA lookup. */
typedef struct rs_q {
	rs_ctx *ctx;
	size_t host;
	int type;
} rs_q;

void
dl_hops_fail(dl_hops *h, int status, int code, const char *enhanced,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	h->status = status;
	h->code = code;
	snprintf(h->enhanced, sizeof(h->enhanced), "%s", enhanced);
	n = snprintf(h->reply, sizeof(h->reply), "%d %s ", code, enhanced);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(h->reply))
		vsnprintf(h->reply + n, sizeof(h->reply) - (size_t)n, fmt, ap);
	va_end(ap);
	h->n = 0;
}

void
dl_rcpt_domain(const char *addr, char *out, size_t outlen)
{
	const char *at = strrchr(addr, '@');
	size_t i = 0;

	if (at != NULL)
		for (at++; *at != '\0' && i + 1 < outlen; at++)
			out[i++] = (*at >= 'A' && *at <= 'Z') ? (char)(*at + 32)
							      : *at;
	if (i > 0 && out[i - 1] == '.')
		i--;	/* "example.com." is "example.com" */
	out[outlen > 0 ? i : 0] = '\0';
}

/* Add one address to h; 0 when full. */
static int
hops_add(dl_hops *h, int family, const void *ip, uint16_t port,
    const char *host, int pref)
{
	dl_addr *a;

	if (h->n >= DL_ADDRS_MAX)
		return 0;
	a = &h->v[h->n++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->pref = pref;
	snprintf(a->host, sizeof(a->host), "%s", host);
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, ip, 16);
		a->salen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, ip, 4);
		a->salen = sizeof(*s4);
	}
	inet_ntop(family, ip, a->ip, sizeof(a->ip));
	return 1;
}

dl_hops *
dl_hops_literal(const char *host, uint16_t port)
{
	unsigned char ip[16];
	int family;
	dl_hops *h;

	if (inet_pton(AF_INET, host, ip) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		family = AF_INET6;
	else
		return NULL;
	if ((h = cp_calloc(1, sizeof(*h))) == NULL)
		return NULL;
	hops_add(h, family, ip, port, host, 0);
	return h;
}

static int
host_cmp(const void *a, const void *b)
{
	const rs_host *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->rnd < y->rnd ? -1 : x->rnd > y->rnd;
}

/* Every lookup is in: the addresses, host by host, IPv6 first. */
static void
rs_finish(rs_ctx *x)
{
	dl_hops *h = cp_calloc(1, sizeof(*h));
	int temp = 0;

	for (size_t i = 0; h != NULL && i < x->nhosts; i++) {
		rs_host *o = &x->hosts[i];
		cp_dns_answer *as[2] = { o->aaaa, o->a };

		for (int k = 0; k < 2; k++) {
			cp_dns_answer *an = as[k];

			if (an == NULL || an->status == CP_DNS_TEMPFAIL) {
				temp = 1;
				continue;
			}
			for (size_t r = 0; an->status == CP_DNS_OK && r < an->n;
			    r++) {
				if (an->rr[r].type == CP_DNS_AAAA)
					hops_add(h, AF_INET6, &an->rr[r].u.aaaa,
					    x->port, o->name, o->pref);
				else if (an->rr[r].type == CP_DNS_A)
					hops_add(h, AF_INET, &an->rr[r].u.a,
					    x->port, o->name, o->pref);
			}
		}
	}
	if (h != NULL && h->n == 0) {
		if (temp)
			dl_hops_fail(h, DL_HOP_TEMP, 451, "4.4.3",
			    "address lookup failed for %s", x->name);
		else if (x->implicit || x->route)
			dl_hops_fail(h, DL_HOP_PERM, 550, "5.1.2",
			    "%s has no MX and no address", x->name);
		else
			dl_hops_fail(h, DL_HOP_TEMP, 451, "4.4.4",
			    "no address for the MX hosts of %s", x->name);
	}
	for (size_t i = 0; i < x->nhosts; i++) {
		cp_dns_answer_free(x->hosts[i].a);
		cp_dns_answer_free(x->hosts[i].aaaa);
	}
	x->cb(x->arg, h);
	cp_free(x);
}

static void
rs_on_addr(cp_dns_answer *an, void *arg)
{
	rs_q *q = arg;
	rs_ctx *x = q->ctx;

	if (q->type == CP_DNS_A)
		x->hosts[q->host].a = an;
	else
		x->hosts[q->host].aaaa = an;
	cp_free(q);
	if (--x->pending == 0)
		rs_finish(x);
}

/* Look up AAAA and A of every host. */
static void
rs_query_hosts(rs_ctx *x)
{
	static const int types[2] = { CP_DNS_AAAA, CP_DNS_A };
	cp_err err;

	x->pending = 1;	/* held until every query is started */
	for (size_t i = 0; i < x->nhosts; i++)
		for (int k = 0; k < 2; k++) {
			rs_q *q = cp_malloc(sizeof(*q));

			if (q == NULL)
				continue;	/* counts as a failed lookup */
			q->ctx = x;
			q->host = i;
			q->type = types[k];
			x->pending++;
			if (cp_dns_query_async(x->dns, x->hosts[i].name,
			    types[k], rs_on_addr, q, &err) != CP_OK) {
				x->pending--;
				cp_free(q);
			}
		}
	if (--x->pending == 0)
		rs_finish(x);
}

/* Fail the resolution with one reply. */
static void
rs_fail(rs_ctx *x, int status, int code, const char *enh, const char *why)
{
	dl_hops *h = cp_calloc(1, sizeof(*h));

	if (h != NULL)
		dl_hops_fail(h, status, code, enh, "%s", why);
	x->cb(x->arg, h);
	cp_free(x);
}

static void
rs_on_mx(cp_dns_answer *an, void *arg)
{
	rs_ctx *x = arg;
	char why[400];

	if (an == NULL) {
		rs_fail(x, DL_HOP_TEMP, 451, "4.3.0", "out of memory");
		return;
	}
	switch (an->status) {
	case CP_DNS_OK:
		/* RFC 7505 3: one MX of preference 0 and exchange "." */
		for (size_t i = 0; i < an->n; i++)
			if (an->rr[i].type == CP_DNS_MX &&
			    an->rr[i].u.mx.host[0] == '\0') {
				snprintf(why, sizeof(why), "%s has a null MX: "
				    "it accepts no mail (RFC 7505)", x->name);
				cp_dns_answer_free(an);
				rs_fail(x, DL_HOP_PERM, 556, "5.1.10", why);
				return;
			}
		for (size_t i = 0; i < an->n && x->nhosts < DL_MX_MAX; i++) {
			rs_host *o;

			if (an->rr[i].type != CP_DNS_MX)
				continue;
			o = &x->hosts[x->nhosts++];
			snprintf(o->name, sizeof(o->name), "%s",
			    an->rr[i].u.mx.host);
			o->pref = an->rr[i].u.mx.pref;
			o->rnd = arc4random();
		}
		qsort(x->hosts, x->nhosts, sizeof(x->hosts[0]), host_cmp);
		break;
	case CP_DNS_NODATA:
		/* RFC 5321 5.1: no MX, the domain is its own implicit MX */
		x->implicit = 1;
		x->nhosts = 1;
		snprintf(x->hosts[0].name, sizeof(x->hosts[0].name), "%s",
		    x->name);
		break;
	case CP_DNS_NXDOMAIN:
		snprintf(why, sizeof(why), "domain %s does not exist",
		    x->name);
		cp_dns_answer_free(an);
		rs_fail(x, DL_HOP_PERM, 550, "5.1.2", why);
		return;
	default:
		snprintf(why, sizeof(why), "MX lookup for %s failed: %s",
		    x->name, an->why ? an->why : cp_dns_status_name(an->status));
		cp_dns_answer_free(an);
		rs_fail(x, DL_HOP_TEMP, 451, "4.4.3", why);
		return;
	}
	cp_dns_answer_free(an);
	if (x->nhosts == 0) {
		rs_fail(x, DL_HOP_TEMP, 451, "4.4.3", "MX answer without hosts");
		return;
	}
	rs_query_hosts(x);
}

int
dl_resolve_start(cp_dns *dns, const char *name, int route, uint16_t port,
    dl_resolve_cb cb, void *arg, cp_err *err)
{
	rs_ctx *x = cp_calloc(1, sizeof(*x));
	int rc;

	if (x == NULL)
		return cp_err_set(err, CP_ENOMEM, "deliver: out of memory");
	x->dns = dns;
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->route = route;
	x->port = port;
	x->cb = cb;
	x->arg = arg;
	if (route) {
		x->nhosts = 1;
		snprintf(x->hosts[0].name, sizeof(x->hosts[0].name), "%s",
		    name);
		/* the callbacks come from cp_dns_process, never from here */
		rs_query_hosts(x);
		return CP_OK;
	}
	rc = cp_dns_query_async(dns, name, CP_DNS_MX, rs_on_mx, x, err);
	if (rc != CP_OK)
		cp_free(x);
	return rc;
}
