/*
 * conf_types.c - the value types of the configuration: parsing one value
 * from its text and writing it back (see conf.h for the syntax of each).
 *
 * Parsers take a NUL-terminated value as the file reader hands it (already
 * without comments and outer quotes), accept outer blanks, and say exactly
 * what is wrong and what would be right ("'25X' is not a size (use 25M, 1G,
 * ...)"). Formatters write the canonical form, which the parsers read back
 * to the same value: the dump round-trip (conf.c) relies on it. Nothing
 * here knows keys, bounds or files; that is conf.c.
 *
 * Addresses are numeric (inet_pton, RFC 4291 2.2 text forms for IPv6, in
 * brackets when a port follows as in RFC 3986 3.2.2); networks are CIDR
 * prefixes (RFC 4632 3.1, RFC 4291 2.3) with the host bits clear.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "coldpost/alloc.h"
#include "core/conf_int.h"

#define ITEM_MAX 256 /* one list entry, as text */

const char *const conf_tls_levels[] = { "none", "opportunistic", "required",
	"verify", NULL };

/* The value as it may appear in a message: at most 60 bytes, controls as
   '?', so that a message never carries a line break. */
static const char *
show(const char *s, size_t len, char *buf, size_t cap)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 4 < cap && i < 60; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < len && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

#define SHOW(s, len) show((s), (len), shown, sizeof(shown))

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

int
conf_has_control(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

int
conf_enum_index(const char *const *values, const char *name, size_t len)
{
	for (int i = 0; values[i] != NULL; i++)
		if (strlen(values[i]) == len && strncmp(values[i], name, len) == 0)
			return i;
	return -1;
}

int
conf_enum_list(const char *const *values, cp_buf *out)
{
	int rc = CP_OK;

	for (int i = 0; values[i] != NULL && rc == CP_OK; i++) {
		if (i > 0)
			rc = cp_buf_adds(out, values[i + 1] ? ", " : " or ");
		if (rc == CP_OK)
			rc = cp_buf_adds(out, values[i]);
	}
	return rc;
}

int
conf_is_domain(const char *s, size_t len)
{
	size_t label = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > CONF_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : '.';

		if (c == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		if (label == 0 && c == '-')
			return 0;
		label++;
	}
	return 1;
}

/* Digits into *out; 0 when there are none or they overflow limit. */
static int
take_digits(const char **p, const char *end, uint64_t limit, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = *p;

	while (*p < end && **p >= '0' && **p <= '9') {
		unsigned d = (unsigned)(**p - '0');

		if (v > (limit - d) / 10)
			return 0;
		v = v * 10 + d;
		(*p)++;
	}
	*out = v;
	return *p > start;
}

int
cp_conf_parse_int(const char *s, int64_t *out, cp_err *err)
{
	char shown[80];
	size_t len = strlen(s);
	const char *p, *end;
	int neg = 0;
	uint64_t v;

	trim(&s, &len);
	p = s;
	end = s + len;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (!take_digits(&p, end, (uint64_t)INT64_MAX, &v)) {
		if (p < end && *p >= '0' && *p <= '9')
			return cp_err_set(err, CP_ESYNTAX, "'%s' is too large",
			    SHOW(s, len));
		return cp_err_set(err, CP_ESYNTAX, "'%s' is not a number",
		    SHOW(s, len));
	}
	if (p != end)
		return cp_err_set(err, CP_ESYNTAX,
		    "'%s' is not a number (digits only)", SHOW(s, len));
	*out = neg ? -(int64_t)v : (int64_t)v;
	return CP_OK;
}

int
cp_conf_parse_bool(const char *s, int *out, cp_err *err)
{
	static const char *const yes[] = { "on", "yes", "true", "1", NULL };
	static const char *const no[] = { "off", "no", "false", "0", NULL };
	char shown[80];
	size_t len = strlen(s);

	trim(&s, &len);
	for (int i = 0; yes[i] != NULL; i++) {
		if (strlen(yes[i]) == len && strncasecmp(s, yes[i], len) == 0) {
			*out = 1;
			return CP_OK;
		}
		if (strlen(no[i]) == len && strncasecmp(s, no[i], len) == 0) {
			*out = 0;
			return CP_OK;
		}
	}
	return cp_err_set(err, CP_ESYNTAX,
	    "'%s' is not a boolean (use on or off)", SHOW(s, len));
}

/* Milliseconds in each unit, longest name first where they share a prefix. */
static const struct {
	const char *name;
	int64_t ms;
} dur_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 86400 * 1000 },
	{ "w", 7 * 86400 * 1000 },
};

/* Durations stop at 100 years: enough for any timeout, safe to add. */
#define DUR_MAX ((int64_t)100 * 365 * 86400 * 1000)

int
cp_conf_parse_duration(const char *s, int64_t *ms, cp_err *err)
{
	char shown[80];
	size_t len = strlen(s);
	const char *p, *end;
	int64_t total = 0;

	trim(&s, &len);
	p = s;
	end = s + len;
	if (len == 1 && *s == '0') {
		*ms = 0;
		return CP_OK;
	}
	if (len == 0)
		goto bad;
	while (p < end) {
		uint64_t n;
		size_t u;

		if (!take_digits(&p, end, (uint64_t)DUR_MAX, &n))
			goto bad;
		if (p == end)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' has no unit (write %ss for seconds, or use "
			    "m, h, d)", SHOW(s, len), SHOW(s, len));
		for (u = 0; u < CP_NELEM(dur_units); u++) {
			size_t ul = strlen(dur_units[u].name);

			if ((size_t)(end - p) >= ul &&
			    strncmp(p, dur_units[u].name, ul) == 0 &&
			    (ul > 1 || (size_t)(end - p) == 1 ||
				!isalpha((unsigned char)p[1]))) {
				p += ul;
				break;
			}
		}
		if (u == CP_NELEM(dur_units))
			goto bad;
		if (n > (uint64_t)(DUR_MAX / dur_units[u].ms) ||
		    total > DUR_MAX - (int64_t)n * dur_units[u].ms)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' is too long (100 years at most)",
			    SHOW(s, len));
		total += (int64_t)n * dur_units[u].ms;
	}
	*ms = total;
	return CP_OK;
bad:
	return cp_err_set(err, CP_ESYNTAX,
	    "'%s' is not a duration (use 30s, 5m, 1h30m, 5d, ...)",
	    SHOW(s, len));
}

/* Sizes stop at 1 PiB. */
#define SIZE_MAX_BYTES ((int64_t)1 << 50)

int
cp_conf_parse_size(const char *s, int64_t *bytes, cp_err *err)
{
	char shown[80];
	size_t len = strlen(s);
	const char *p, *end;
	uint64_t n;
	int64_t mult = 1;

	trim(&s, &len);
	p = s;
	end = s + len;
	if (!take_digits(&p, end, (uint64_t)SIZE_MAX_BYTES, &n))
		goto bad;
	if (p < end) {
		switch (*p) {
		case 'k': case 'K': mult = (int64_t)1 << 10; p++; break;
		case 'm': case 'M': mult = (int64_t)1 << 20; p++; break;
		case 'g': case 'G': mult = (int64_t)1 << 30; p++; break;
		case 't': case 'T': mult = (int64_t)1 << 40; p++; break;
		default: break;
		}
		/* "25M", "25MB", "25MiB", "1000B" */
		if (end - p == 2 && p[0] == 'i' && (p[1] == 'B' || p[1] == 'b') &&
		    mult > 1)
			p += 2;
		else if (end - p == 1 && (*p == 'B' || *p == 'b'))
			p++;
	}
	if (p != end)
		goto bad;
	if (n > (uint64_t)(SIZE_MAX_BYTES / mult))
		return cp_err_set(err, CP_ESYNTAX,
		    "'%s' is too large (1P at most)", SHOW(s, len));
	*bytes = (int64_t)n * mult;
	return CP_OK;
bad:
	return cp_err_set(err, CP_ESYNTAX,
	    "'%s' is not a size (use 25M, 1G, ...)", SHOW(s, len));
}

/* A port after ':' (p..end): 1..65535. */
static int
parse_port(const char *p, const char *end, uint16_t *port)
{
	uint64_t v;

	if (!take_digits(&p, end, 65535, &v) || p != end || v == 0)
		return 0;
	*port = (uint16_t)v;
	return 1;
}

/* A numeric IP (no brackets) of len bytes. */
static int
parse_ip(const char *s, size_t len, int *family, unsigned char *ip)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(ip, 0, 16);
	if (memchr(tmp, ':', len) == NULL) {
		*family = AF_INET;
		return inet_pton(AF_INET, tmp, ip) == 1;
	}
	*family = AF_INET6;
	return inet_pton(AF_INET6, tmp, ip) == 1;
}

static int
addr_from(const char *s, size_t len, cp_conf_addr *out, cp_err *err)
{
	char shown[80];
	const char *end = s + len, *colon;
	cp_conf_addr a;

	memset(&a, 0, sizeof(a));
	if (len > 0 && *s == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' has no closing ']'", SHOW(s, len));
		if (!parse_ip(s + 1, (size_t)(close - s - 1), &a.family, a.ip) ||
		    a.family != AF_INET6)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' is not an IPv6 address in brackets",
			    SHOW(s, len));
		if (close + 1 == end)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' has no port (use %s:587)", SHOW(s, len),
			    SHOW(s, len));
		if (close[1] != ':' || !parse_port(close + 2, end, &a.port))
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s': the port must be 1-65535", SHOW(s, len));
		*out = a;
		return CP_OK;
	}
	colon = memchr(s, ':', len);
	if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
		return cp_err_set(err, CP_ESYNTAX,
		    "'%s': put an IPv6 address in brackets ([::1]:587)",
		    SHOW(s, len));
	if (colon == NULL)
		return cp_err_set(err, CP_ESYNTAX,
		    "'%s' has no port (use %s:587)", SHOW(s, len),
		    SHOW(s, len));
	if (!parse_ip(s, (size_t)(colon - s), &a.family, a.ip))
		return cp_err_set(err, CP_ESYNTAX,
		    "'%s' is not a numeric IP address and port "
		    "(use 127.0.0.1:587 or [::1]:587)", SHOW(s, len));
	if (!parse_port(colon + 1, end, &a.port))
		return cp_err_set(err, CP_ESYNTAX,
		    "'%s': the port must be 1-65535", SHOW(s, len));
	*out = a;
	return CP_OK;
}

int
cp_conf_parse_addr(const char *s, cp_conf_addr *out, cp_err *err)
{
	size_t len = strlen(s);

	trim(&s, &len);
	return addr_from(s, len, out, err);
}

static int
cidr_from(const char *s, size_t len, cp_conf_cidr *out, cp_err *err)
{
	char shown[80];
	const char *slash = memchr(s, '/', len), *end = s + len;
	size_t iplen = slash ? (size_t)(slash - s) : len;
	unsigned bits;
	uint64_t pfx;
	cp_conf_cidr c;

	memset(&c, 0, sizeof(c));
	if (!parse_ip(s, iplen, &c.family, c.ip))
		return cp_err_set(err, CP_ESYNTAX,
		    "'%s' is not a network (use 10.0.0.0/8, 2001:db8::/32 or "
		    "an address)", SHOW(s, len));
	bits = c.family == AF_INET ? 32 : 128;
	c.prefix = bits;
	if (slash != NULL) {
		const char *p = slash + 1;

		if (!take_digits(&p, end, 1000, &pfx) || p != end ||
		    pfx > bits)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s': the prefix length must be 0-%u",
			    SHOW(s, len), bits);
		c.prefix = (unsigned)pfx;
	}
	for (unsigned i = c.prefix; i < bits; i++) {
		if (c.ip[i / 8] & (0x80 >> (i % 8))) {
			cp_conf_cidr fix = c;
			char net[INET6_ADDRSTRLEN];

			for (unsigned j = c.prefix; j < bits; j++)
				fix.ip[j / 8] &= (unsigned char)~(0x80 >> (j % 8));
			inet_ntop(c.family, fix.ip, net, sizeof(net));
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' has host bits set (did you mean %s/%u?)",
			    SHOW(s, len), net, c.prefix);
		}
	}
	*out = c;
	return CP_OK;
}

int
cp_conf_parse_cidr(const char *s, cp_conf_cidr *out, cp_err *err)
{
	size_t len = strlen(s);

	trim(&s, &len);
	return cidr_from(s, len, out, err);
}

/*
 * Walk a list: entries separated by commas and/or blanks. Calls fn for each
 * non-empty entry with its index; stops at the first error.
 */
typedef int (*item_fn)(void *ctx, size_t i, const char *p, size_t len,
    cp_err *err);

static int
split_list(const char *s, void *ctx, item_fn fn, size_t *n, cp_err *err)
{
	size_t i = 0;
	int rc;

	while (*s) {
		size_t len;

		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		len = strcspn(s, ", \t");
		if (i >= CONF_LIST_MAX)
			return cp_err_set(err, CP_ETOOBIG,
			    "more than %d entries", CONF_LIST_MAX);
		rc = fn(ctx, i, s, len, err);
		if (rc != CP_OK)
			return rc;
		i++;
		s += len;
	}
	*n = i;
	return CP_OK;
}

/* Count the entries first, so each list is one allocation. */
static int
count_item(void *ctx, size_t i, const char *p, size_t len, cp_err *err)
{
	(void)ctx;
	(void)i;
	(void)p;
	(void)len;
	(void)err;
	return CP_OK;
}

/*
 * The shape every list type shares: count the items, allocate, fill with
 * fn. On success *out is a new array of n elements of elem bytes (the
 * caller frees the old one); on failure nothing is allocated.
 */
static int
parse_list(const char *s, size_t elem, item_fn fn, void **out, size_t *n,
    cp_err *err)
{
	void *v;
	int rc;

	*n = 0;
	rc = split_list(s, NULL, count_item, n, err);
	if (rc != CP_OK)
		return rc;
	v = cp_calloc(*n ? *n : 1, elem);
	if (v == NULL)
		return cp_err_set(err, CP_ENOMEM, "out of memory");
	rc = split_list(s, v, fn, n, err);
	if (rc != CP_OK) {
		cp_free(v);
		return rc;
	}
	*out = v;
	return CP_OK;
}

static int
addr_item(void *ctx, size_t i, const char *p, size_t len, cp_err *err)
{
	cp_conf_addr *v = ctx;
	char shown[80];
	int rc = addr_from(p, len, &v[i], err);

	if (rc != CP_OK)
		return rc;
	for (size_t j = 0; j < i; j++)
		if (v[j].family == v[i].family && v[j].port == v[i].port &&
		    memcmp(v[j].ip, v[i].ip, 16) == 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' is listed twice", SHOW(p, len));
	return CP_OK;
}

int
cp_conf_parse_addrs(const char *s, cp_conf_addrs *out, cp_err *err)
{
	void *v = NULL;
	size_t n = 0;
	int rc = parse_list(s, sizeof(cp_conf_addr), addr_item, &v, &n, err);

	if (rc != CP_OK)
		return rc;
	cp_free(out->v);
	out->v = v;
	out->n = n;
	return CP_OK;
}

static int
cidr_item(void *ctx, size_t i, const char *p, size_t len, cp_err *err)
{
	cp_conf_cidr *v = ctx;
	char shown[80];
	int rc = cidr_from(p, len, &v[i], err);

	if (rc != CP_OK)
		return rc;
	for (size_t j = 0; j < i; j++)
		if (v[j].family == v[i].family && v[j].prefix == v[i].prefix &&
		    memcmp(v[j].ip, v[i].ip, 16) == 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' is listed twice", SHOW(p, len));
	return CP_OK;
}

int
cp_conf_parse_cidrs(const char *s, cp_conf_cidrs *out, cp_err *err)
{
	void *v = NULL;
	size_t n = 0;
	int rc = parse_list(s, sizeof(cp_conf_cidr), cidr_item, &v, &n, err);

	if (rc != CP_OK)
		return rc;
	cp_free(out->v);
	out->v = v;
	out->n = n;
	return CP_OK;
}

static int
duration_item(void *ctx, size_t i, const char *p, size_t len, cp_err *err)
{
	int64_t *v = ctx;
	char tmp[ITEM_MAX], shown[80];
	int rc;

	if (len >= sizeof(tmp))
		return cp_err_set(err, CP_ESYNTAX, "'%s' is not a duration",
		    SHOW(p, len));
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	rc = cp_conf_parse_duration(tmp, &v[i], err);
	if (rc != CP_OK)
		return rc;
	if (i > 0 && v[i] < v[i - 1]) {
		cp_buf a, b;

		cp_buf_init(&a, 64);
		cp_buf_init(&b, 64);
		cp_conf_format_duration(v[i - 1], &a);
		cp_conf_format_duration(v[i], &b);
		rc = cp_err_set(err, CP_ESYNTAX,
		    "steps must not get shorter: %s after %s",
		    b.data ? b.data : "?", a.data ? a.data : "?");
		cp_buf_free(&a);
		cp_buf_free(&b);
		return rc;
	}
	return CP_OK;
}

int
cp_conf_parse_durations(const char *s, cp_conf_durations *out, cp_err *err)
{
	void *v = NULL;
	size_t n = 0;
	int rc = parse_list(s, sizeof(int64_t), duration_item, &v, &n, err);

	if (rc != CP_OK)
		return rc;
	cp_free(out->v);
	out->v = v;
	out->n = n;
	return CP_OK;
}

/*
 * "HOST[:PORT] [tls=LEVEL]": HOST is a domain name, an IPv4 address or an
 * IPv6 address in brackets; PORT defaults to 25.
 */
int
cp_conf_parse_route(const char *s, cp_conf_route *r, cp_err *err)
{
	char shown[80], host[CONF_DOMAIN_MAX + 2];
	size_t len;
	const char *p = s, *end, *hend, *opt;
	uint16_t port = 25;
	int tls = -1, fam;
	unsigned char ip[16];

	while (*p == ' ' || *p == '\t')
		p++;
	len = strcspn(p, " \t");
	end = p + len;
	if (len == 0)
		return cp_err_set(err, CP_ESYNTAX,
		    "no destination (use HOST[:PORT] [tls=verify])");
	if (*p == '[') {
		const char *close = memchr(p, ']', len);

		if (close == NULL || !parse_ip(p + 1, (size_t)(close - p - 1),
		    &fam, ip) || fam != AF_INET6)
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' is not an IPv6 address in brackets",
			    SHOW(p, len));
		memcpy(host, p + 1, (size_t)(close - p - 1));
		host[close - p - 1] = '\0';
		hend = close + 1;
	} else {
		hend = memchr(p, ':', len);
		if (hend == NULL)
			hend = end;
		if (memchr(hend + (hend < end), ':',
		    (size_t)(end - hend - (hend < end))))
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s': put an IPv6 address in brackets "
			    "([2001:db8::1]:25)", SHOW(p, len));
		if (!conf_is_domain(p, (size_t)(hend - p)) &&
		    !parse_ip(p, (size_t)(hend - p), &fam, ip))
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s' is not a host name or address",
			    SHOW(p, (size_t)(hend - p)));
		memcpy(host, p, (size_t)(hend - p));
		host[hend - p] = '\0';
		if (hend - p > 0 && host[hend - p - 1] == '.')
			host[hend - p - 1] = '\0';
	}
	if (hend < end) {
		if (*hend != ':' || !parse_port(hend + 1, end, &port))
			return cp_err_set(err, CP_ESYNTAX,
			    "'%s': the port must be 1-65535", SHOW(p, len));
	}
	for (opt = end; *opt;) {
		size_t ol;

		while (*opt == ' ' || *opt == '\t')
			opt++;
		if (*opt == '\0')
			break;
		ol = strcspn(opt, " \t");
		if (ol > 4 && strncmp(opt, "tls=", 4) == 0 &&
		    (tls = conf_enum_index(conf_tls_levels, opt + 4, ol - 4)) >= 0) {
			opt += ol;
			continue;
		}
		return cp_err_set(err, CP_ESYNTAX,
		    "'%s' is not a route option (tls=none, tls=opportunistic, "
		    "tls=required or tls=verify)", SHOW(opt, ol));
	}
	for (char *h = host; *h; h++)
		*h = (char)tolower((unsigned char)*h);
	{
		char *dup = cp_strdup(host);

		if (dup == NULL)
			return cp_err_set(err, CP_ENOMEM, "out of memory");
		cp_free(r->host);
		r->host = dup;
	}
	r->port = port;
	r->tls = tls;
	return CP_OK;
}

int
cp_conf_format_duration(int64_t ms, cp_buf *out)
{
	int rc = CP_OK;

	if (ms == 0)
		return cp_buf_adds(out, "0s");
	/* largest units first; weeks are written as days */
	for (size_t u = CP_NELEM(dur_units) - 1; u < CP_NELEM(dur_units); u--) {
		int64_t n;

		if (dur_units[u].ms == 7 * 86400 * 1000)
			continue;
		n = ms / dur_units[u].ms;
		if (n > 0 && rc == CP_OK) {
			rc = cp_buf_addf(out, "%lld%s", (long long)n,
			    dur_units[u].name);
			ms -= n * dur_units[u].ms;
		}
	}
	return rc;
}

int
cp_conf_format_size(int64_t bytes, cp_buf *out)
{
	static const char units[] = "TGMK";

	for (int i = 0; i < 4 && bytes > 0; i++) {
		int64_t m = (int64_t)1 << (10 * (4 - i));

		if (bytes % m == 0)
			return cp_buf_addf(out, "%lld%c",
			    (long long)(bytes / m), units[i]);
	}
	return cp_buf_addf(out, "%lld", (long long)bytes);
}

int
cp_conf_format_addr(const cp_conf_addr *a, cp_buf *out)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->ip, ip, sizeof(ip)) == NULL)
		return CP_EINVAL;
	if (a->family == AF_INET6)
		return cp_buf_addf(out, "[%s]:%u", ip, (unsigned)a->port);
	return cp_buf_addf(out, "%s:%u", ip, (unsigned)a->port);
}

int
cp_conf_format_cidr(const cp_conf_cidr *c, cp_buf *out)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->ip, ip, sizeof(ip)) == NULL)
		return CP_EINVAL;
	return cp_buf_addf(out, "%s/%u", ip, c->prefix);
}

int
cp_conf_format_route(const cp_conf_route *r, cp_buf *out)
{
	int rc;

	if (strchr(r->host, ':') != NULL)
		rc = cp_buf_addf(out, "[%s]:%u", r->host, (unsigned)r->port);
	else
		rc = cp_buf_addf(out, "%s:%u", r->host, (unsigned)r->port);
	if (rc == CP_OK && r->tls >= 0)
		rc = cp_buf_addf(out, " tls=%s", conf_tls_levels[r->tls]);
	return rc;
}
