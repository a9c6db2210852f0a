/*
 * conf.c - the server configuration as values: defaults, setting a key,
 * formatting, comparing and copying it, the routes, the rules between keys
 * and the lookups the server makes.
 *
 * Everything is driven by the key table (conf_keys.c): a value is set by
 * its row's type (parse, then bounds, then the row's check), formatted,
 * compared, copied and freed the same way for every key, so a new key needs
 * no code here unless it has a new type. A value is set completely or not
 * at all. The file (reading it, writing it back) is conf_file.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "coldpost/alloc.h"
#include "core/conf_int.h"

#define DURATIONS_MAX 64 /* steps in a durations value (queue.retry) */

/* ---- one key, by type ---------------------------------------------- */

static void
addrs_free(cp_conf_addrs *l)
{
	cp_free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
routes_free(cp_conf_routes *l)
{
	for (size_t i = 0; i < l->n; i++) {
		cp_free(l->v[i].domain);
		cp_free(l->v[i].host);
	}
	cp_free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
key_clear(cp_conf *c, const cp_conf_key *k)
{
	void *f = CONF_FIELD(c, k);

	switch (k->type) {
	case CP_CONF_STRING:
		cp_free(*(char **)f);
		*(char **)f = NULL;
		break;
	case CP_CONF_ADDRS:
		addrs_free(f);
		break;
	case CP_CONF_CIDRS: {
		cp_conf_cidrs *l = f;

		cp_free(l->v);
		l->v = NULL;
		l->n = 0;
		break;
	}
	case CP_CONF_DURATIONS: {
		cp_conf_durations *l = f;

		cp_free(l->v);
		l->v = NULL;
		l->n = 0;
		break;
	}
	case CP_CONF_ROUTES:
		routes_free(f);
		break;
	default:
		break;
	}
}

/* A bound of k in its text form ("1G", "60s", "100"). */
const char *
conf_bound_text(const cp_conf_key *k, int64_t v, char *buf, size_t cap)
{
	cp_buf b;

	cp_buf_init(&b, cap - 1);
	if (k->type == CP_CONF_DURATION || k->type == CP_CONF_DURATIONS)
		cp_conf_format_duration(v, &b);
	else if (k->type == CP_CONF_SIZE)
		cp_conf_format_size(v, &b);
	else
		cp_buf_addf(&b, "%lld", (long long)v);
	snprintf(buf, cap, "%s", b.data ? b.data : "?");
	cp_buf_free(&b);
	return buf;
}

static int
check_bounds(const cp_conf_key *k, int64_t v, const char *text, cp_err *err)
{
	char b[64];

	if (v < k->min)
		return cp_err_set(err, CP_ESYNTAX,
		    "'%.60s' is below the minimum %s", text,
		    conf_bound_text(k, k->min, b, sizeof(b)));
	if (v > k->max)
		return cp_err_set(err, CP_ESYNTAX,
		    "'%.60s' is above the maximum %s", text,
		    conf_bound_text(k, k->max, b, sizeof(b)));
	return CP_OK;
}

static int
check_count(const cp_conf_key *k, size_t n, cp_err *err)
{
	if ((int64_t)n < k->min)
		return cp_err_set(err, CP_ESYNTAX,
		    "needs at least %lld entries", (long long)k->min);
	if ((int64_t)n > k->max)
		return cp_err_set(err, CP_ESYNTAX,
		    "has %zu entries, at most %lld", n, (long long)k->max);
	return CP_OK;
}

static int
set_string(cp_conf *c, const cp_conf_key *k, const char *v, cp_err *err)
{
	char **f = CONF_FIELD(c, k);
	size_t len = strlen(v);
	const char *why;
	char *dup;

	if (conf_has_control(v))
		return cp_err_set(err, CP_ESYNTAX,
		    "'%.60s' holds a control character", v);
	if (strchr(v, '"') != NULL)
		return cp_err_set(err, CP_ESYNTAX,
		    "'%.60s' holds a '\"' (not allowed in values)", v);
	if ((int64_t)len < k->min)
		return cp_err_set(err, CP_ESYNTAX, "must not be empty");
	if ((int64_t)len > k->max)
		return cp_err_set(err, CP_ESYNTAX,
		    "'%.60s...' is longer than %lld bytes", v,
		    (long long)k->max);
	if (k->check != NULL && (why = k->check(v)) != NULL)
		return cp_err_set(err, CP_ESYNTAX, "'%.60s' %s", v, why);
	dup = cp_strdup(v);
	if (dup == NULL)
		return cp_err_set(err, CP_ENOMEM, "out of memory");
	cp_free(*f);
	*f = dup;
	return CP_OK;
}

static int
set_enum(cp_conf *c, const cp_conf_key *k, const char *v, cp_err *err)
{
	const char *p = v;
	size_t len;
	int i, rc;
	cp_buf names;

	while (*p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	i = conf_enum_index(k->values, p, len);
	if (i >= 0) {
		*(int *)CONF_FIELD(c, k) = i;
		return CP_OK;
	}
	cp_buf_init(&names, 512);
	conf_enum_list(k->values, &names);
	rc = cp_err_set(err, CP_ESYNTAX, "'%.*s' is not one of %s",
	    (int)CP_MIN(len, 60), p, names.data ? names.data : "?");
	cp_buf_free(&names);
	return rc;
}

static int
set_enumset(cp_conf *c, const cp_conf_key *k, const char *v, cp_err *err)
{
	uint32_t bits = 0;
	const char *p = v;

	while (*p) {
		size_t len;
		int i;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t");
		if (len == 3 && strncmp(p, "all", 3) == 0) {
			for (i = 0; k->values[i] != NULL; i++)
				bits |= 1u << i;
		} else if ((i = conf_enum_index(k->values, p, len)) >= 0) {
			bits |= 1u << i;
		} else {
			cp_buf names;
			int rc;

			cp_buf_init(&names, 512);
			conf_enum_list(k->values, &names);
			rc = cp_err_set(err, CP_ESYNTAX,
			    "'%.*s' is not one of %s (or all)",
			    (int)CP_MIN(len, 60), p,
			    names.data ? names.data : "?");
			cp_buf_free(&names);
			return rc;
		}
		p += len;
	}
	*(uint32_t *)CONF_FIELD(c, k) = bits;
	return CP_OK;
}

/* Parse v as k's type, check its bounds, then store it; c is unchanged on
   error and err says what is wrong with the value (no key name). */
int
conf_key_set(cp_conf *c, const cp_conf_key *k, const char *v, cp_err *err)
{
	void *f = CONF_FIELD(c, k);
	int64_t n;
	int b, rc;

	switch (k->type) {
	case CP_CONF_INT:
		if ((rc = cp_conf_parse_int(v, &n, err)) != CP_OK ||
		    (rc = check_bounds(k, n, v, err)) != CP_OK)
			return rc;
		*(int64_t *)f = n;
		return CP_OK;
	case CP_CONF_DURATION:
		if ((rc = cp_conf_parse_duration(v, &n, err)) != CP_OK ||
		    (rc = check_bounds(k, n, v, err)) != CP_OK)
			return rc;
		*(int64_t *)f = n;
		return CP_OK;
	case CP_CONF_SIZE:
		if ((rc = cp_conf_parse_size(v, &n, err)) != CP_OK ||
		    (rc = check_bounds(k, n, v, err)) != CP_OK)
			return rc;
		*(int64_t *)f = n;
		return CP_OK;
	case CP_CONF_BOOL:
		if ((rc = cp_conf_parse_bool(v, &b, err)) != CP_OK)
			return rc;
		*(int *)f = b;
		return CP_OK;
	case CP_CONF_STRING:
		return set_string(c, k, v, err);
	case CP_CONF_ENUM:
		return set_enum(c, k, v, err);
	case CP_CONF_ENUMSET:
		return set_enumset(c, k, v, err);
	case CP_CONF_ADDRS: {
		cp_conf_addrs l = { 0, NULL };

		rc = cp_conf_parse_addrs(v, &l, err);
		if (rc == CP_OK)
			rc = check_count(k, l.n, err);
		if (rc != CP_OK) {
			cp_free(l.v);
			return rc;
		}
		addrs_free(f);
		*(cp_conf_addrs *)f = l;
		return CP_OK;
	}
	case CP_CONF_CIDRS: {
		cp_conf_cidrs l = { 0, NULL };

		rc = cp_conf_parse_cidrs(v, &l, err);
		if (rc == CP_OK)
			rc = check_count(k, l.n, err);
		if (rc != CP_OK) {
			cp_free(l.v);
			return rc;
		}
		cp_free(((cp_conf_cidrs *)f)->v);
		*(cp_conf_cidrs *)f = l;
		return CP_OK;
	}
	case CP_CONF_DURATIONS: {
		cp_conf_durations l = { 0, NULL };
		char shown[64];

		rc = cp_conf_parse_durations(v, &l, err);
		if (rc == CP_OK && l.n == 0)
			rc = cp_err_set(err, CP_ESYNTAX,
			    "needs at least one duration");
		if (rc == CP_OK && l.n > DURATIONS_MAX)
			rc = cp_err_set(err, CP_ESYNTAX,
			    "has %zu entries, at most %d", l.n, DURATIONS_MAX);
		for (size_t i = 0; rc == CP_OK && i < l.n; i++) {
			cp_buf t;

			cp_buf_init(&t, sizeof(shown) - 1);
			cp_conf_format_duration(l.v[i], &t);
			snprintf(shown, sizeof(shown), "%s",
			    t.data ? t.data : "?");
			cp_buf_free(&t);
			rc = check_bounds(k, l.v[i], shown, err);
		}
		if (rc != CP_OK) {
			cp_free(l.v);
			return rc;
		}
		cp_free(((cp_conf_durations *)f)->v);
		*(cp_conf_durations *)f = l;
		return CP_OK;
	}
	case CP_CONF_ROUTES:
		/* only "" (no routes); routes are set one per key */
		if (v[strspn(v, " \t")] != '\0')
			return cp_err_set(err, CP_ESYNTAX,
			    "routes are set one per key in [routes]");
		routes_free(f);
		return CP_OK;
	default:
		return cp_err_set(err, CP_EINVAL, "unknown type %d", k->type);
	}
}

/* Join list entries with sep. */
static int
format_list(const void *v, size_t n, size_t size,
    int (*fmt)(const void *item, cp_buf *out), const char *sep, cp_buf *out)
{
	int rc = CP_OK;

	for (size_t i = 0; i < n && rc == CP_OK; i++) {
		if (i > 0)
			rc = cp_buf_adds(out, sep);
		if (rc == CP_OK)
			rc = fmt((const char *)v + i * size, out);
	}
	return rc;
}

static int
fmt_addr(const void *p, cp_buf *out)
{
	return cp_conf_format_addr(p, out);
}

static int
fmt_cidr(const void *p, cp_buf *out)
{
	return cp_conf_format_cidr(p, out);
}

static int
fmt_duration(const void *p, cp_buf *out)
{
	return cp_conf_format_duration(*(const int64_t *)p, out);
}

int
cp_conf_format(const cp_conf *c, const cp_conf_key *k, cp_buf *out)
{
	const void *f = CONF_CFIELD(c, k);
	int rc = CP_OK;

	switch (k->type) {
	case CP_CONF_INT:
		return cp_buf_addf(out, "%lld", (long long)*(const int64_t *)f);
	case CP_CONF_DURATION:
		return cp_conf_format_duration(*(const int64_t *)f, out);
	case CP_CONF_SIZE:
		return cp_conf_format_size(*(const int64_t *)f, out);
	case CP_CONF_BOOL:
		return cp_buf_adds(out, *(const int *)f ? "on" : "off");
	case CP_CONF_STRING:
		return cp_buf_adds(out, *(char *const *)f ? *(char *const *)f
							   : "");
	case CP_CONF_ENUM: {
		int i = *(const int *)f, n = 0;

		while (k->values[n] != NULL)
			n++;
		if (i < 0 || i >= n) /* set by hand, not by cp_conf_set */
			return CP_EINVAL;
		return cp_buf_adds(out, k->values[i]);
	}
	case CP_CONF_ENUMSET: {
		uint32_t bits = *(const uint32_t *)f, all = 0;
		int first = 1;

		for (int i = 0; k->values[i] != NULL; i++)
			all |= 1u << i;
		if (bits != 0 && bits == all)
			return cp_buf_adds(out, "all");
		for (int i = 0; k->values[i] != NULL && rc == CP_OK; i++) {
			if (!(bits & (1u << i)))
				continue;
			rc = cp_buf_addf(out, "%s%s", first ? "" : ",",
			    k->values[i]);
			first = 0;
		}
		return rc;
	}
	case CP_CONF_ADDRS: {
		const cp_conf_addrs *l = f;

		return format_list(l->v, l->n, sizeof(*l->v), fmt_addr, ", ",
		    out);
	}
	case CP_CONF_CIDRS: {
		const cp_conf_cidrs *l = f;

		return format_list(l->v, l->n, sizeof(*l->v), fmt_cidr, ", ",
		    out);
	}
	case CP_CONF_DURATIONS: {
		const cp_conf_durations *l = f;

		return format_list(l->v, l->n, sizeof(*l->v), fmt_duration, ",",
		    out);
	}
	case CP_CONF_ROUTES: {
		const cp_conf_routes *l = f;

		for (size_t i = 0; i < l->n && rc == CP_OK; i++) {
			rc = cp_buf_addf(out, "%s = ", l->v[i].domain);
			if (rc == CP_OK)
				rc = cp_conf_format_route(&l->v[i], out);
			if (rc == CP_OK)
				rc = cp_buf_addc(out, '\n');
		}
		return rc;
	}
	default:
		return CP_EINVAL;
	}
}

int
cp_conf_key_equal(const cp_conf *a, const cp_conf *b, const cp_conf_key *k)
{
	const void *fa = CONF_CFIELD(a, k), *fb = CONF_CFIELD(b, k);

	switch (k->type) {
	case CP_CONF_INT:
	case CP_CONF_DURATION:
	case CP_CONF_SIZE:
		return *(const int64_t *)fa == *(const int64_t *)fb;
	case CP_CONF_BOOL:
	case CP_CONF_ENUM:
		return *(const int *)fa == *(const int *)fb;
	case CP_CONF_ENUMSET:
		return *(const uint32_t *)fa == *(const uint32_t *)fb;
	case CP_CONF_STRING: {
		const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;

		return strcmp(sa ? sa : "", sb ? sb : "") == 0;
	}
	case CP_CONF_ADDRS: {
		const cp_conf_addrs *la = fa, *lb = fb;

		if (la->n != lb->n)
			return 0;
		for (size_t i = 0; i < la->n; i++)
			if (la->v[i].family != lb->v[i].family ||
			    la->v[i].port != lb->v[i].port ||
			    memcmp(la->v[i].ip, lb->v[i].ip, 16) != 0)
				return 0;
		return 1;
	}
	case CP_CONF_CIDRS: {
		const cp_conf_cidrs *la = fa, *lb = fb;

		if (la->n != lb->n)
			return 0;
		for (size_t i = 0; i < la->n; i++)
			if (la->v[i].family != lb->v[i].family ||
			    la->v[i].prefix != lb->v[i].prefix ||
			    memcmp(la->v[i].ip, lb->v[i].ip, 16) != 0)
				return 0;
		return 1;
	}
	case CP_CONF_DURATIONS: {
		const cp_conf_durations *la = fa, *lb = fb;

		return la->n == lb->n && (la->n == 0 ||
		    memcmp(la->v, lb->v, la->n * sizeof(*la->v)) == 0);
	}
	case CP_CONF_ROUTES: {
		const cp_conf_routes *la = fa, *lb = fb;

		if (la->n != lb->n)
			return 0;
		for (size_t i = 0; i < la->n; i++)
			if (strcmp(la->v[i].domain, lb->v[i].domain) != 0 ||
			    strcmp(la->v[i].host, lb->v[i].host) != 0 ||
			    la->v[i].port != lb->v[i].port ||
			    la->v[i].tls != lb->v[i].tls)
				return 0;
		return 1;
	}
	default:
		return 0;
	}
}

static void *
dup_array(const void *v, size_t n, size_t size)
{
	void *d = cp_malloc(n ? n * size : 1);

	if (d != NULL && n)
		memcpy(d, v, n * size);
	return d;
}

/* dst's field is zero before. */
static int
key_copy(cp_conf *dst, const cp_conf *src, const cp_conf_key *k)
{
	void *fd = CONF_FIELD(dst, k);
	const void *fs = CONF_CFIELD(src, k);

	switch (k->type) {
	case CP_CONF_STRING: {
		const char *s = *(char *const *)fs;

		*(char **)fd = cp_strdup(s ? s : "");
		return *(char **)fd ? CP_OK : CP_ENOMEM;
	}
	case CP_CONF_ADDRS: {
		const cp_conf_addrs *l = fs;
		cp_conf_addrs *d = fd;

		if ((d->v = dup_array(l->v, l->n, sizeof(*l->v))) == NULL)
			return CP_ENOMEM;
		d->n = l->n;
		return CP_OK;
	}
	case CP_CONF_CIDRS: {
		const cp_conf_cidrs *l = fs;
		cp_conf_cidrs *d = fd;

		if ((d->v = dup_array(l->v, l->n, sizeof(*l->v))) == NULL)
			return CP_ENOMEM;
		d->n = l->n;
		return CP_OK;
	}
	case CP_CONF_DURATIONS: {
		const cp_conf_durations *l = fs;
		cp_conf_durations *d = fd;

		if ((d->v = dup_array(l->v, l->n, sizeof(*l->v))) == NULL)
			return CP_ENOMEM;
		d->n = l->n;
		return CP_OK;
	}
	case CP_CONF_ROUTES: {
		const cp_conf_routes *l = fs;
		cp_conf_routes *d = fd;

		if ((d->v = cp_calloc(l->n ? l->n : 1, sizeof(*d->v))) == NULL)
			return CP_ENOMEM;
		for (size_t i = 0; i < l->n; i++) {
			d->v[i] = l->v[i];
			d->v[i].domain = cp_strdup(l->v[i].domain);
			d->v[i].host = cp_strdup(l->v[i].host);
			d->n = i + 1;
			if (d->v[i].domain == NULL || d->v[i].host == NULL)
				return CP_ENOMEM;
		}
		return CP_OK;
	}
	default:
		return CP_OK; /* scalars were copied with the struct */
	}
}

/* ---- the whole config ------------------------------------------------ */

int
cp_conf_init(cp_conf *conf, cp_err *err)
{
	size_t n;
	const cp_conf_key *keys = cp_conf_keys(&n);
	cp_err e;

	memset(conf, 0, sizeof(*conf));
	for (size_t i = 0; i < n; i++) {
		int rc = conf_key_set(conf, &keys[i], keys[i].def, &e);

		if (rc != CP_OK) {
			cp_conf_clear(conf);
			return cp_err_set(err, rc, "conf: default of %s: %s",
			    keys[i].name, e.msg);
		}
	}
	return CP_OK;
}

void
cp_conf_clear(cp_conf *conf)
{
	size_t n;
	const cp_conf_key *keys = cp_conf_keys(&n);

	if (conf == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		key_clear(conf, &keys[i]);
	memset(conf, 0, sizeof(*conf));
}

int
cp_conf_copy(cp_conf *dst, const cp_conf *src, cp_err *err)
{
	size_t n;
	const cp_conf_key *keys = cp_conf_keys(&n);

	*dst = *src;
	for (size_t i = 0; i < n; i++) /* owned parts: not shared */
		memset(CONF_FIELD(dst, &keys[i]), 0,
		    keys[i].type == CP_CONF_STRING      ? sizeof(char *)
		    : keys[i].type == CP_CONF_ADDRS     ? sizeof(cp_conf_addrs)
		    : keys[i].type == CP_CONF_CIDRS     ? sizeof(cp_conf_cidrs)
		    : keys[i].type == CP_CONF_DURATIONS ? sizeof(cp_conf_durations)
		    : keys[i].type == CP_CONF_ROUTES    ? sizeof(cp_conf_routes)
							: 0);
	for (size_t i = 0; i < n; i++) {
		if (key_copy(dst, src, &keys[i]) != CP_OK) {
			cp_conf_clear(dst);
			return cp_err_set(err, CP_ENOMEM, "conf: out of memory");
		}
	}
	return CP_OK;
}

size_t
cp_conf_diff(const cp_conf *a, const cp_conf *b, const cp_conf_key **out,
    size_t max)
{
	size_t n, found = 0;
	const cp_conf_key *keys = cp_conf_keys(&n);

	for (size_t i = 0; i < n; i++) {
		if (cp_conf_key_equal(a, b, &keys[i]))
			continue;
		if (found < max)
			out[found] = &keys[i];
		found++;
	}
	return found;
}

/* ---- routes ----------------------------------------------------------- */

/* "Example.COM." -> "example.com"; "*" and ".example.com" stay patterns.
   Writes a NUL-terminated copy into buf (CONF_DOMAIN_MAX + 2 bytes). */
int
conf_route_domain(const char *d, char *buf, cp_err *err)
{
	size_t len = strlen(d);

	if (len == 1 && d[0] == '*') {
		memcpy(buf, "*", 2);
		return CP_OK;
	}
	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len < 2 || len > CONF_DOMAIN_MAX ||
	    !conf_is_domain(d + (d[0] == '.'), len - (d[0] == '.')))
		return cp_err_set(err, CP_ESYNTAX,
		    "'%.60s' is not a domain (use example.com, .example.com for "
		    "its subdomains, or * for all)", d);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)d[i]);
	buf[len] = '\0';
	return CP_OK;
}

ssize_t
conf_route_index(const cp_conf_routes *l, const char *domain)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].domain, domain) == 0)
			return (ssize_t)i;
	return -1;
}

/* Add or replace the route for domain. */
int
conf_route_set(cp_conf *c, const char *domain, const char *target, cp_err *err)
{
	const cp_conf_key *k = cp_conf_find_key("routes");
	cp_conf_routes *l = &c->routes;
	char d[CONF_DOMAIN_MAX + 2];
	cp_conf_route r = { NULL, NULL, 0, -1 };
	ssize_t at;
	int rc;

	if ((rc = conf_route_domain(domain, d, err)) != CP_OK)
		return rc;
	if ((rc = cp_conf_parse_route(target, &r, err)) != CP_OK)
		return rc;
	if ((at = conf_route_index(l, d)) >= 0) {
		cp_free(l->v[at].host);
		l->v[at].host = r.host;
		l->v[at].port = r.port;
		l->v[at].tls = r.tls;
		return CP_OK;
	}
	if ((int64_t)l->n >= k->max) {
		cp_free(r.host);
		return cp_err_set(err, CP_ESYNTAX, "more than %lld routes",
		    (long long)k->max);
	}
	{
		cp_conf_route *v = cp_realloc(l->v, (l->n + 1) * sizeof(*v));

		if (v == NULL || (r.domain = cp_strdup(d)) == NULL) {
			if (v != NULL)
				l->v = v;
			cp_free(r.host);
			return cp_err_set(err, CP_ENOMEM, "out of memory");
		}
		l->v = v;
		l->v[l->n++] = r;
	}
	return CP_OK;
}

const cp_conf_route *
cp_conf_find_route(const cp_conf *conf, const char *domain)
{
	const cp_conf_routes *l = &conf->routes;
	char d[CONF_DOMAIN_MAX + 2];
	size_t len = strlen(domain);
	ssize_t at;

	if (l->n == 0)
		return NULL;
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > CONF_DOMAIN_MAX)
		goto star;
	for (size_t i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)domain[i]);
	d[len] = '\0';
	if ((at = conf_route_index(l, d)) >= 0)
		return &l->v[at];
	for (const char *p = strchr(d + 1, '.'); p != NULL;
	     p = strchr(p + 1, '.'))
		if ((at = conf_route_index(l, p)) >= 0)
			return &l->v[at];
star:
	at = conf_route_index(l, "*");
	return at >= 0 ? &l->v[at] : NULL;
}

int
cp_conf_cidrs_match(const cp_conf_cidrs *l, int family, const void *ip)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0xff, 0xff };
	const unsigned char *a = ip;

	if (family == AF_INET6 && memcmp(a, mapped, 12) == 0) {
		family = AF_INET;
		a += 12;
	}
	for (size_t i = 0; i < l->n; i++) {
		const cp_conf_cidr *c = &l->v[i];
		unsigned full = c->prefix / 8, rest = c->prefix % 8;

		if (c->family != family)
			continue;
		if (memcmp(c->ip, a, full) != 0)
			continue;
		if (rest && ((c->ip[full] ^ a[full]) & (0xff << (8 - rest))))
			continue;
		return 1;
	}
	return 0;
}

/* ---- cp_conf_set ------------------------------------------------------ */

int
cp_conf_set(cp_conf *conf, const char *name, const char *value, cp_err *err)
{
	const cp_conf_key *k;
	cp_err e;
	int rc;

	if (strncmp(name, "routes.", 7) == 0)
		rc = conf_route_set(conf, name + 7, value, &e);
	else if ((k = cp_conf_find_key(name)) == NULL)
		return cp_err_set(err, CP_EINVAL, "%.100s: unknown key", name);
	else
		rc = conf_key_set(conf, k, value, &e);
	if (rc != CP_OK)
		return cp_err_set(err, rc, "%.100s: %s", name, e.msg);
	return CP_OK;
}

/* ---- rules between keys ----------------------------------------------- */


static int
addr_is_any(const cp_conf_addr *a)
{
	static const unsigned char zero[16];

	return memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) == 0;
}

/* Two listeners that cannot both bind: one port, one family, and the same
   address or a wildcard on either side. */
static int
addrs_clash(const cp_conf_addr *a, const cp_conf_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return 0;
	return addr_is_any(a) || addr_is_any(b) ||
	    memcmp(a->ip, b->ip, 16) == 0;
}

void
conf_rules(const cp_conf *c, conf_rule_fn report, void *ctx)
{
	static const char *const lnames[] = { "listen.submission",
		"listen.submissions", "listen.bounce", "listen.http" };
	const cp_conf_addrs *ls[] = { &c->listen.submission,
		&c->listen.submissions, &c->listen.bounce, &c->listen.http };
	int has_cert = c->tls.cert[0] != '\0', has_key = c->tls.key[0] != '\0';

	if (has_cert && !has_key)
		report(ctx, "tls.key", "tls.cert",
		    "is empty but tls.cert is set (a certificate needs its key)");
	if (has_key && !has_cert)
		report(ctx, "tls.cert", "tls.key",
		    "is empty but tls.key is set (a key needs its certificate)");
	if (c->listen.submissions.n > 0 && !(has_cert && has_key))
		report(ctx, "listen.submissions", "tls.cert",
		    "implicit TLS needs tls.cert and tls.key");
	if (c->listen.submission.n == 0 && c->listen.submissions.n == 0)
		report(ctx, "listen.submission", "listen.submissions",
		    "no submission listener: set submission or submissions");
	for (size_t i = 0; i < CP_NELEM(ls); i++) {
		for (size_t j = i + 1; j < CP_NELEM(ls); j++) {
			for (size_t a = 0; a < ls[i]->n; a++) {
				for (size_t b = 0; b < ls[j]->n; b++) {
					cp_buf t;

					if (!addrs_clash(&ls[i]->v[a],
						&ls[j]->v[b]))
						continue;
					cp_buf_init(&t, 64);
					cp_conf_format_addr(&ls[j]->v[b], &t);
					report(ctx, lnames[j], lnames[i],
					    "%s clashes with %s in %s (one port, "
					    "two listeners)", t.data ? t.data : "?",
					    lnames[i] + 7, lnames[i]);
					cp_buf_free(&t);
					goto next_list;
				}
			}
		}
	next_list:;
	}
	if (c->limits.connections_per_ip > c->limits.connections)
		report(ctx, "limits.connections_per_ip", "limits.connections",
		    "%lld is more than limits.connections (%lld)",
		    (long long)c->limits.connections_per_ip,
		    (long long)c->limits.connections);
	if (c->limits.auth_failure_delay >= c->limits.idle_timeout)
		report(ctx, "limits.auth_failure_delay",
		    "limits.idle_timeout",
		    "must be shorter than limits.idle_timeout");
	if (c->queue.retry.n > 0 && c->queue.expiry <= c->queue.retry.v[0]) {
		cp_buf a, b;

		cp_buf_init(&a, 64);
		cp_buf_init(&b, 64);
		cp_conf_format_duration(c->queue.expiry, &a);
		cp_conf_format_duration(c->queue.retry.v[0], &b);
		report(ctx, "queue.expiry", "queue.retry",
		    "%s is not longer than the first retry step %s (nothing "
		    "would be retried)", a.data ? a.data : "?",
		    b.data ? b.data : "?");
		cp_buf_free(&a);
		cp_buf_free(&b);
	}
}

/* "listen.submission" -> "[listen] submission" */
void
conf_key_label(const char *key, char *buf, size_t cap)
{
	const char *dot = strchr(key, '.');

	if (dot == NULL)
		snprintf(buf, cap, "[%s]", key);
	else
		snprintf(buf, cap, "[%.*s] %s", (int)(dot - key), key, dot + 1);
}

static void validate_report(void *ctx, const char *key, const char *other,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
validate_report(void *ctx, const char *key, const char *other,
    const char *fmt, ...)
{
	cp_err *err = ctx;
	char label[96], msg[200];
	va_list ap;

	(void)other;
	if (err == NULL || err->code != CP_OK)
		return;
	conf_key_label(key, label, sizeof(label));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cp_err_set(err, CP_EINVAL, "%s: %s", label, msg);
}

int
cp_conf_validate(const cp_conf *conf, cp_err *err)
{
	cp_err e;

	cp_err_clear(&e);
	conf_rules(conf, validate_report, &e);
	if (e.code == CP_OK)
		return CP_OK;
	return cp_err_set(err, e.code, "%s", e.msg);
}

