/*
 * dns.c - the resolver interface: dispatch, answers, names.
 *
 * Implementations (dns_fake.c, dns_cares.c) fill a cp_dns_answer; this
 * file owns its memory rules: every string in an answer is a private copy,
 * freed by cp_dns_answer_free.
 *
 * It also holds the generic half of the asynchronous API: name checks,
 * the queue of answers waiting for delivery (so callbacks run only from
 * cp_dns_process, never from inside cp_dns_query_async), and, for
 * resolvers without an asynchronous side (the fake), lookups run at once
 * and delivered on the next cp_dns_process.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "dns/dns_int.h"

const char *
cp_dns_status_name(cp_dns_status s)
{
	switch (s) {
	case CP_DNS_OK: return "ok";
	case CP_DNS_NODATA: return "nodata";
	case CP_DNS_NXDOMAIN: return "nxdomain";
	case CP_DNS_TEMPFAIL: return "tempfail";
	default: return "error";
	}
}

const char *
cp_dns_type_name(int type)
{
	switch (type) {
	case CP_DNS_A: return "A";
	case CP_DNS_NS: return "NS";
	case CP_DNS_CNAME: return "CNAME";
	case CP_DNS_SOA: return "SOA";
	case CP_DNS_PTR: return "PTR";
	case CP_DNS_MX: return "MX";
	case CP_DNS_TXT: return "TXT";
	case CP_DNS_AAAA: return "AAAA";
	case CP_DNS_SPF: return "SPF";
	default: return "?";
	}
}

int
cp_dns_type_from_name(const char *s)
{
	static const int types[] = { CP_DNS_A, CP_DNS_NS, CP_DNS_CNAME,
		CP_DNS_SOA, CP_DNS_PTR, CP_DNS_MX, CP_DNS_TXT, CP_DNS_AAAA,
		CP_DNS_SPF };
	unsigned long v = 0;

	for (size_t i = 0; i < CP_NELEM(types); i++)
		if (strcasecmp(s, cp_dns_type_name(types[i])) == 0)
			return types[i];
	/* RFC 3597 5: TYPEnnn */
	if (strncasecmp(s, "TYPE", 4) != 0 || s[4] == '\0' || strlen(s) > 9)
		return 0;
	for (const char *p = s + 4; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : 0;
}

int
dns_name_norm(const char *name, char **out, cp_err *err)
{
	size_t n = strlen(name);
	char *d;

	*out = NULL;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return cp_err_set(err, CP_EINVAL, "dns: malformed name '%.260s'",
		    name);
	d = cp_strndup(name, n);
	if (d == NULL)
		return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c >= 'A' && c <= 'Z')
			d[i] = (char)(c + 32);
		/* an empty label ("a..b") is malformed */
		if (c == '.' && (i == 0 || d[i - 1] == '.')) {
			cp_free(d);
			return cp_err_set(err, CP_EINVAL,
			    "dns: malformed name '%.260s'", name);
		}
	}
	*out = d;
	return CP_OK;
}

cp_dns_answer *
dns_answer_new(const char *name, int type)
{
	cp_dns_answer *a = cp_calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->name = cp_strdup(name);
	a->type = (uint16_t)type;
	a->status = CP_DNS_NXDOMAIN;
	if (a->name == NULL) {
		cp_free(a);
		return NULL;
	}
	return a;
}

void
dns_rr_clear(cp_dns_rr *rr)
{
	switch (rr->type) {
	case CP_DNS_MX: cp_free(rr->u.mx.host); break;
	case CP_DNS_PTR:
	case CP_DNS_CNAME:
	case CP_DNS_NS: cp_free(rr->u.name); break;
	case CP_DNS_TXT:
	case CP_DNS_SPF: cp_free(rr->u.txt.data); break;
	default: break;
	}
	memset(rr, 0, sizeof(*rr));
}

int
dns_answer_add(cp_dns_answer *a, const cp_dns_rr *rr)
{
	cp_dns_rr *v = cp_realloc(a->rr, (a->n + 1) * sizeof(*v)), *d;

	if (v == NULL)
		return CP_ENOMEM;
	a->rr = v;
	d = &v[a->n];
	*d = *rr;
	switch (rr->type) {
	case CP_DNS_MX:
		d->u.mx.host = cp_strdup(rr->u.mx.host ? rr->u.mx.host : "");
		if (d->u.mx.host == NULL)
			return CP_ENOMEM;
		break;
	case CP_DNS_PTR:
	case CP_DNS_CNAME:
	case CP_DNS_NS:
		d->u.name = cp_strdup(rr->u.name);
		if (d->u.name == NULL)
			return CP_ENOMEM;
		break;
	case CP_DNS_TXT:
	case CP_DNS_SPF:
		d->u.txt.data = cp_malloc(rr->u.txt.len + 1);
		if (d->u.txt.data == NULL)
			return CP_ENOMEM;
		memcpy(d->u.txt.data, rr->u.txt.data, rr->u.txt.len);
		d->u.txt.data[rr->u.txt.len] = '\0';
		break;
	default:
		break;
	}
	if (a->n == 0 || rr->ttl < a->ttl)
		a->ttl = rr->ttl;
	a->n++;
	a->status = CP_DNS_OK;
	return CP_OK;
}

int
dns_answer_set_why(cp_dns_answer *a, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cp_free(a->why);
	a->why = cp_strdup(buf);
	return a->why ? CP_OK : CP_ENOMEM;
}

cp_dns_answer *
cp_dns_answer_dup(const cp_dns_answer *a)
{
	cp_dns_answer *d = dns_answer_new(a->name, a->type);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < a->n; i++)
		if (dns_answer_add(d, &a->rr[i]) != CP_OK) {
			cp_dns_answer_free(d);
			return NULL;
		}
	d->status = a->status;
	d->ttl = a->ttl;
	if (a->why != NULL && (d->why = cp_strdup(a->why)) == NULL) {
		cp_dns_answer_free(d);
		return NULL;
	}
	return d;
}

void
cp_dns_answer_free(cp_dns_answer *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		dns_rr_clear(&a->rr[i]);
	cp_free(a->rr);
	cp_free(a->name);
	cp_free(a->why);
	cp_free(a);
}

int
cp_dns_query(cp_dns *d, const char *name, int type, cp_dns_answer **out,
    cp_err *err)
{
	char *norm;
	cp_dns_answer *a;
	int rc;

	*out = NULL;
	rc = dns_name_norm(name, &norm, err);
	if (rc != CP_OK)
		return rc;
	a = dns_answer_new(norm, type);
	if (a == NULL) {
		cp_free(norm);
		return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	}
	rc = d->ops->query(d, norm, type, a, err);
	cp_free(norm);
	if (rc != CP_OK) {
		cp_dns_answer_free(a);
		return rc;
	}
	*out = a;
	return CP_OK;
}

int
cp_dns_answer_parse(const unsigned char *msg, size_t len, const char *name,
    int type, cp_dns_answer **out, cp_err *err)
{
	char *norm = NULL, *next = NULL;
	cp_dns_answer *a;
	uint32_t chain_ttl;
	int rc;

	*out = NULL;
	if (name != NULL && (rc = dns_name_norm(name, &norm, err)) != CP_OK)
		return rc;
	/* name NULL: dns_msg_parse replaces name and type by the question */
	a = dns_answer_new(norm ? norm : "", type);
	cp_free(norm);
	if (a == NULL)
		return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	if (name == NULL) {
		cp_free(a->name);
		a->name = NULL;
	}
	rc = dns_msg_parse(msg, len, a, &next, &chain_ttl, err);
	cp_free(next);
	if (rc != CP_OK) {
		cp_dns_answer_free(a);
		return rc;
	}
	*out = a;
	return CP_OK;
}

/* Deliver every answer queued before this call; ones queued by the
 * callbacks themselves wait for the next call (no endless loop when a
 * callback asks again for a cached name). */
static void
dns_ready_drain(cp_dns *d)
{
	dns_ready *r = d->ready_head;

	d->ready_head = d->ready_tail = NULL;
	d->nready = 0;
	while (r != NULL) {
		dns_ready *next = r->next;
		cp_dns_cb cb = r->cb;
		void *arg = r->arg;
		cp_dns_answer *a = r->answer;

		cp_free(r);
		cb(a, arg);
		r = next;
	}
}

void
dns_ready_push(cp_dns *d, dns_ready *r, cp_dns_answer *a)
{
	r->answer = a;
	r->next = NULL;
	if (d->ready_tail != NULL)
		d->ready_tail->next = r;
	else
		d->ready_head = r;
	d->ready_tail = r;
	d->nready++;
}

int
cp_dns_query_async(cp_dns *d, const char *name, int type, cp_dns_cb cb,
    void *arg, cp_err *err)
{
	char *norm;
	dns_ready *r;
	int rc;

	CP_ASSERT(cb != NULL);
	if (d->closing)
		return cp_err_set(err, CP_EINVAL,
		    "dns: resolver is being freed");
	rc = dns_name_norm(name, &norm, err);
	if (rc != CP_OK)
		return rc;
	r = cp_calloc(1, sizeof(*r));
	if (r == NULL) {
		cp_free(norm);
		return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	}
	r->cb = cb;
	r->arg = arg;
	if (d->ops->submit != NULL) {
		rc = d->ops->submit(d, norm, type, r, err);
	} else {
		cp_dns_answer *a = dns_answer_new(norm, type);

		rc = a ? d->ops->query(d, norm, type, a, err)
		       : cp_err_set(err, CP_ENOMEM, "dns: out of memory");
		if (rc == CP_OK)
			dns_ready_push(d, r, a);
		else
			cp_dns_answer_free(a);
	}
	if (rc != CP_OK)
		cp_free(r);
	cp_free(norm);
	return rc;
}

size_t
cp_dns_pollfds(cp_dns *d, struct pollfd *fds, size_t max)
{
	return d->ops->pollfds ? d->ops->pollfds(d, fds, max) : 0;
}

int
cp_dns_timeout_ms(cp_dns *d)
{
	if (d->nready > 0)
		return 0;
	return d->ops->timeout_ms ? d->ops->timeout_ms(d) : -1;
}

void
cp_dns_process_fd(cp_dns *d, int read_fd, int write_fd)
{
	if (d->ops->process_fd)
		d->ops->process_fd(d, read_fd, write_fd);
	dns_ready_drain(d);
}

void
cp_dns_process(cp_dns *d, const struct pollfd *fds, size_t n)
{
	if (d->ops->process_fd) {
		for (size_t i = 0; i < n; i++) {
			short ev = fds[i].revents;

			if (ev == 0)
				continue;
			d->ops->process_fd(d,
			    ev & (POLLIN | POLLERR | POLLHUP) ? fds[i].fd : -1,
			    ev & POLLOUT ? fds[i].fd : -1);
		}
		d->ops->process_fd(d, -1, -1); /* timeouts */
	}
	dns_ready_drain(d);
}

void
cp_dns_set_sock_cb(cp_dns *d, cp_dns_sock_cb cb, void *arg)
{
	if (d->ops->set_sock_cb)
		d->ops->set_sock_cb(d, cb, arg);
}

size_t
cp_dns_pending(const cp_dns *d)
{
	return d->nready + (d->ops->pending ? d->ops->pending(d) : 0);
}

void
cp_dns_set_clock(cp_dns *d, uint64_t (*now_ms)(void *arg), void *arg)
{
	if (d->ops->set_clock)
		d->ops->set_clock(d, now_ms, arg);
}

void
cp_dns_get_stats(const cp_dns *d, cp_dns_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (d->ops->stats)
		d->ops->stats(d, st);
}

void
cp_dns_free(cp_dns *d)
{
	if (d == NULL)
		return;
	/* the implementation cancels what is under way into the queue */
	d->closing = 1;
	d->ops->free(d);
	dns_ready_drain(d);
	cp_free(d);
}

int
cp_dns_reverse_name(const char *ip, char *out, size_t outlen)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t o = 0;

	if (inet_pton(AF_INET, ip, &a4) == 1) {
		const unsigned char *b = (const unsigned char *)&a4;
		int n = snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", b[3],
		    b[2], b[1], b[0]);

		return n > 0 && (size_t)n < outlen ? CP_OK : CP_ETOOBIG;
	}
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return CP_EINVAL;
	if (outlen < 73)
		return CP_ETOOBIG;
	for (int i = 15; i >= 0; i--) {
		static const char hex[] = "0123456789abcdef";

		out[o++] = hex[a6.s6_addr[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a6.s6_addr[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, "ip6.arpa", 9);
	return CP_OK;
}

/* One "HOST", "HOST:PORT" or "[V6]:PORT" entry of a server list. */
static int
check_server(const char *s, size_t n, cp_err *err)
{
	char host[64];
	const char *port = NULL;
	size_t hl = n;
	struct in6_addr a6;
	struct in_addr a4;

	if (n > 0 && s[0] == '[') {
		const char *e = memchr(s, ']', n);

		if (e == NULL)
			return cp_err_set(err, CP_EINVAL,
			    "dns server '%.*s': missing ']'", (int)n, s);
		hl = (size_t)(e - s - 1);
		if (hl >= sizeof(host))
			return cp_err_set(err, CP_EINVAL,
			    "dns server '%.*s': address too long", (int)n, s);
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if ((size_t)(e - s) + 1 < n) {
			if (e[1] != ':')
				return cp_err_set(err, CP_EINVAL,
				    "dns server '%.*s': expected ':' after ']'",
				    (int)n, s);
			port = e + 2;
		}
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return cp_err_set(err, CP_EINVAL,
			    "dns server '%.*s': '%s' is not an IPv6 address",
			    (int)n, s, host);
	} else {
		const char *c = memchr(s, ':', n);

		if (c != NULL) {
			hl = (size_t)(c - s);
			port = c + 1;
		}
		if (hl >= sizeof(host) || hl == 0)
			return cp_err_set(err, CP_EINVAL,
			    "dns server '%.*s': no address", (int)n, s);
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, &a4) != 1)
			return cp_err_set(err, CP_EINVAL,
			    "dns server '%.*s': '%s' is not an IPv4 address "
			    "(write IPv6 as [addr]:port)", (int)n, s, host);
	}
	if (port != NULL) {
		size_t pl = n - (size_t)(port - s);
		unsigned long v = 0;

		if (pl == 0 || pl > 5)
			return cp_err_set(err, CP_EINVAL,
			    "dns server '%.*s': bad port", (int)n, s);
		for (size_t i = 0; i < pl; i++) {
			if (port[i] < '0' || port[i] > '9')
				return cp_err_set(err, CP_EINVAL,
				    "dns server '%.*s': port is not a number",
				    (int)n, s);
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (v == 0 || v > 65535)
			return cp_err_set(err, CP_EINVAL,
			    "dns server '%.*s': port %lu out of range 1-65535",
			    (int)n, s, v);
	}
	return CP_OK;
}

int
cp_dns_check_servers(const char *servers, cp_err *err)
{
	const char *p = servers;

	if (servers == NULL || *servers == '\0')
		return cp_err_set(err, CP_EINVAL, "dns server: empty");
	while (*p) {
		size_t n = strcspn(p, ",");
		int rc = check_server(p, n, err);

		if (rc != CP_OK)
			return rc;
		p += n;
		if (*p == ',')
			p++;
	}
	return CP_OK;
}
