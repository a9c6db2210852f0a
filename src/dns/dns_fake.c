/*
 * dns_fake.c - a resolver that answers from records it was given.
 *
 * For hermetic unit tests: records come from cp_dns_fake_add or from a
 * zone file (tests/data/dns/NAME.zone). Answers follow the real thing where
 * tests depend on it: a name with no record of the asked type but other
 * records, or with records below it (an empty non-terminal), is NODATA;
 * an unknown name is NXDOMAIN; CNAMEs are followed (8 at most, a loop is
 * TEMPFAIL as a resolver would SERVFAIL); TIMEOUT marks answer TEMPFAIL.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "dns/dns_int.h"

#define FAKE_TTL 300
#define ZONE_MAX (16 * 1024 * 1024)

typedef struct fake_rec {
	char *name;   /* normalised */
	cp_dns_rr rr; /* type 0: a timeout mark */
	int timeout_type; /* for marks: the type, or 0 for all */
} fake_rec;

typedef struct fake {
	fake_rec *recs;
	size_t n;
	unsigned long queries;
} fake;

static void
fake_free(cp_dns *d)
{
	fake *f = d->impl;

	for (size_t i = 0; i < f->n; i++) {
		dns_rr_clear(&f->recs[i].rr);
		cp_free(f->recs[i].name);
	}
	cp_free(f->recs);
	cp_free(f);
}

static int
name_exists(const fake *f, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < f->n; i++) {
		const char *r = f->recs[i].name;
		size_t rl = strlen(r);

		if (strcmp(r, name) == 0)
			return 1;
		if (rl > nl && r[rl - nl - 1] == '.' &&
		    strcmp(r + rl - nl, name) == 0)
			return 1;
	}
	return 0;
}

static int
fake_query(cp_dns *d, const char *name, int type, cp_dns_answer *out,
    cp_err *err)
{
	fake *f = d->impl;
	const char *cur = name;

	f->queries++;
	for (int hops = 0; hops <= 8; hops++) {
		const char *cname = NULL;
		int timeout = 0;

		for (size_t i = 0; i < f->n; i++) {
			const fake_rec *r = &f->recs[i];

			if (strcmp(r->name, cur) != 0)
				continue;
			if (r->rr.type == 0) {
				timeout |= r->timeout_type == 0 ||
				    r->timeout_type == type;
				continue;
			}
			if (r->rr.type == type) {
				if (dns_answer_add(out, &r->rr) != CP_OK)
					return cp_err_set(err, CP_ENOMEM,
					    "dns: out of memory");
			} else if (r->rr.type == CP_DNS_CNAME) {
				cname = r->rr.u.name;
			}
		}
		if (out->n > 0)
			return CP_OK;
		if (timeout) {
			out->status = CP_DNS_TEMPFAIL;
			return dns_answer_set_why(out, "timeout (fake) for %s %s",
			    cur, cp_dns_type_name(type));
		}
		if (cname == NULL || type == CP_DNS_CNAME) {
			out->status = name_exists(f, cur) ? CP_DNS_NODATA
							  : CP_DNS_NXDOMAIN;
			out->ttl = FAKE_TTL;
			return CP_OK;
		}
		cur = cname;
	}
	out->status = CP_DNS_TEMPFAIL;
	return dns_answer_set_why(out, "CNAME chain too long or a loop at %s",
	    name);
}

static const cp_dns_ops fake_ops = {
	.name = "fake",
	.query = fake_query,
	.free = fake_free,
};

cp_dns *
cp_dns_new_fake(void)
{
	cp_dns *d = cp_calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->ops = &fake_ops;
	d->impl = cp_calloc(1, sizeof(fake));
	if (d->impl == NULL) {
		cp_free(d);
		return NULL;
	}
	return d;
}

unsigned long
cp_dns_fake_queries(const cp_dns *d)
{
	return d->ops == &fake_ops ? ((const fake *)d->impl)->queries : 0;
}

static int
fake_push(cp_dns *d, const char *name, const cp_dns_rr *rr, int timeout_type,
    cp_err *err)
{
	fake *f = d->impl;
	fake_rec *v;
	char *norm;
	int rc;

	CP_ASSERT(d->ops == &fake_ops);
	rc = dns_name_norm(name, &norm, err);
	if (rc != CP_OK)
		return rc;
	v = cp_realloc(f->recs, (f->n + 1) * sizeof(*v));
	if (v == NULL) {
		cp_free(norm);
		return cp_err_set(err, CP_ENOMEM, "dns fake: out of memory");
	}
	f->recs = v;
	memset(&v[f->n], 0, sizeof(v[f->n]));
	v[f->n].name = norm;
	v[f->n].timeout_type = timeout_type;
	if (rr != NULL) {
		/* dns_answer_add's copying, reused through a one-record answer */
		cp_dns_answer tmp = { 0 };

		if (dns_answer_add(&tmp, rr) != CP_OK) {
			cp_free(norm);
			cp_free(tmp.rr);
			return cp_err_set(err, CP_ENOMEM, "dns fake: out of memory");
		}
		v[f->n].rr = tmp.rr[0];
		cp_free(tmp.rr);
	}
	f->n++;
	return CP_OK;
}

int
cp_dns_fake_timeout(cp_dns *d, const char *name, int type, cp_err *err)
{
	return fake_push(d, name, NULL, type, err);
}

int
cp_dns_fake_add_txt(cp_dns *d, const char *name, const char *const *strs,
    size_t nstrs, cp_err *err)
{
	cp_buf b;
	cp_dns_rr rr = { 0 };
	int rc;

	cp_buf_init(&b, 65535);
	for (size_t i = 0; i < nstrs; i++)
		if (cp_buf_adds(&b, strs[i]) != CP_OK) {
			cp_buf_free(&b);
			return cp_err_set(err, CP_ETOOBIG,
			    "dns fake: TXT for %s over 65535 bytes", name);
		}
	rr.type = CP_DNS_TXT;
	rr.ttl = FAKE_TTL;
	rr.u.txt.data = b.data ? b.data : (char *)"";
	rr.u.txt.len = b.len;
	rc = fake_push(d, name, &rr, 0, err);
	cp_buf_free(&b);
	return rc;
}

static int
parse_rdata(const char *name, int type, const char *data, cp_dns_rr *rr,
    char **owned, cp_err *err)
{
	size_t n;

	rr->type = (uint16_t)type;
	rr->ttl = FAKE_TTL;
	switch (type) {
	case CP_DNS_A:
		if (inet_pton(AF_INET, data, &rr->u.a) != 1)
			return cp_err_set(err, CP_EINVAL,
			    "dns fake: %s A '%s' is not an IPv4 address", name, data);
		return CP_OK;
	case CP_DNS_AAAA:
		if (inet_pton(AF_INET6, data, &rr->u.aaaa) != 1)
			return cp_err_set(err, CP_EINVAL,
			    "dns fake: %s AAAA '%s' is not an IPv6 address", name,
			    data);
		return CP_OK;
	case CP_DNS_MX: {
		char *end;
		unsigned long pref = strtoul(data, &end, 10);

		if (end == data || pref > 65535 || (*end != ' ' && *end != '\t'))
			return cp_err_set(err, CP_EINVAL,
			    "dns fake: %s MX '%s': expected 'PREF HOST'", name, data);
		while (*end == ' ' || *end == '\t')
			end++;
		rr->u.mx.pref = (uint16_t)pref;
		n = strlen(end);
		if (n > 0 && end[n - 1] == '.')
			n--;
		*owned = cp_strndup(end, n);
		rr->u.mx.host = *owned;
		break;
	}
	case CP_DNS_PTR:
	case CP_DNS_CNAME:
	case CP_DNS_NS:
		n = strlen(data);
		if (n > 0 && data[n - 1] == '.')
			n--;
		*owned = cp_strndup(data, n);
		rr->u.name = *owned;
		break;
	case CP_DNS_TXT:
	case CP_DNS_SPF:
		rr->u.txt.data = (char *)data;
		rr->u.txt.len = strlen(data);
		return CP_OK;
	default:
		return cp_err_set(err, CP_EINVAL, "dns fake: type %d unsupported",
		    type);
	}
	return *owned ? CP_OK : cp_err_set(err, CP_ENOMEM, "dns fake: no memory");
}

int
cp_dns_fake_add(cp_dns *d, const char *name, int type, const char *data,
    cp_err *err)
{
	cp_dns_rr rr = { 0 };
	char *owned = NULL;
	int rc = parse_rdata(name, type, data, &rr, &owned, err);

	if (rc == CP_OK)
		rc = fake_push(d, name, &rr, 0, err);
	cp_free(owned);
	return rc;
}

/* ---- zone files --------------------------------------------------------- */

static int
type_from_name(const char *s)
{
	static const struct {
		const char *name;
		int type;
	} t[] = { { "A", CP_DNS_A }, { "AAAA", CP_DNS_AAAA },
		{ "MX", CP_DNS_MX }, { "TXT", CP_DNS_TXT }, { "SPF", CP_DNS_SPF },
		{ "PTR", CP_DNS_PTR }, { "CNAME", CP_DNS_CNAME },
		{ "NS", CP_DNS_NS }, { "TIMEOUT", -1 } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return t[i].type;
	return 0;
}

/* Next blank-separated token of line at *p into tok; 0 at end of line. */
static int
next_token(const char **p, char *tok, size_t toklen)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == ';')
		return 0;
	while (*s && *s != ' ' && *s != '\t' && n + 1 < toklen)
		tok[n++] = *s++;
	tok[n] = '\0';
	while (*s && *s != ' ' && *s != '\t')
		s++; /* an over-long token is cut, and the caller sees it */
	*p = s;
	return 1;
}

/* TXT data: quoted strings ("a" "b" with \" and \DDD) or one bare word. */
static int
parse_txt(const char *s, cp_buf *out, const char *where, cp_err *err)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '"') {
		size_t n = strcspn(s, " \t;");

		return cp_buf_add(out, s, n) == CP_OK ? CP_OK
		    : cp_err_set(err, CP_ETOOBIG, "%s: TXT too long", where);
	}
	while (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			char c = *s;

			if (c == '\\' && s[1] >= '0' && s[1] <= '9' &&
			    s[2] >= '0' && s[2] <= '9' && s[3] >= '0' &&
			    s[3] <= '9') {
				int v = (s[1] - '0') * 100 + (s[2] - '0') * 10 +
				    (s[3] - '0');

				if (v > 255)
					return cp_err_set(err, CP_ESYNTAX,
					    "%s: \\%.3s is not a byte", where, s + 1);
				c = (char)v;
				s += 3;
			} else if (c == '\\' && s[1]) {
				c = *++s;
			}
			if (cp_buf_addc(out, c) != CP_OK)
				return cp_err_set(err, CP_ETOOBIG,
				    "%s: TXT too long", where);
		}
		if (*s != '"')
			return cp_err_set(err, CP_ESYNTAX,
			    "%s: unterminated string", where);
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	if (*s != '\0' && *s != ';')
		return cp_err_set(err, CP_ESYNTAX,
		    "%s: unexpected '%.10s' after TXT strings", where, s);
	return CP_OK;
}

/* Owner name: '@' is the origin, relative names get the origin appended. */
static int
owner_name(const char *tok, const char *origin, char *out, size_t outlen)
{
	size_t n = strlen(tok);
	int w;

	if (strcmp(tok, "@") == 0)
		w = snprintf(out, outlen, "%s", origin);
	else if (n > 0 && tok[n - 1] == '.')
		w = snprintf(out, outlen, "%.*s", (int)(n - 1), tok);
	else if (*origin)
		w = snprintf(out, outlen, "%s.%s", tok, origin);
	else
		w = snprintf(out, outlen, "%s", tok);
	return w > 0 && (size_t)w < outlen ? CP_OK : CP_ETOOBIG;
}

static int
zone_line(cp_dns *d, char *line, char *origin, size_t originlen, char *last,
    const char *where, cp_err *err)
{
	const char *p = line;
	char tok[512], name[600];
	int type, blank_owner = line[0] == ' ' || line[0] == '\t';
	cp_buf txt;
	int rc;

	if (!next_token(&p, tok, sizeof(tok)))
		return CP_OK;
	if (strcasecmp(tok, "$ORIGIN") == 0) {
		if (!next_token(&p, tok, sizeof(tok)))
			return cp_err_set(err, CP_ESYNTAX, "%s: $ORIGIN needs a name",
			    where);
		{
			size_t n = strlen(tok);

			if (tok[n - 1] == '.')
				n--;
			snprintf(origin, originlen, "%.*s", (int)n, tok);
		}
		return CP_OK;
	}
	if (tok[0] == '$')
		return CP_OK; /* $TTL and friends: not needed by the fake */
	if (blank_owner) {
		snprintf(name, sizeof(name), "%s", last);
	} else {
		if (owner_name(tok, origin, name, sizeof(name)) != CP_OK)
			return cp_err_set(err, CP_ETOOBIG, "%s: name too long",
			    where);
		if (!next_token(&p, tok, sizeof(tok)))
			return cp_err_set(err, CP_ESYNTAX, "%s: no record type",
			    where);
	}
	if (name[0] == '\0')
		return cp_err_set(err, CP_ESYNTAX, "%s: no owner name", where);
	snprintf(last, 600, "%s", name);
	/* optional TTL and class before the type */
	while (tok[0] >= '0' && tok[0] <= '9') {
		if (!next_token(&p, tok, sizeof(tok)))
			return cp_err_set(err, CP_ESYNTAX, "%s: no record type",
			    where);
	}
	if (strcasecmp(tok, "IN") == 0 && !next_token(&p, tok, sizeof(tok)))
		return cp_err_set(err, CP_ESYNTAX, "%s: no record type", where);
	type = type_from_name(tok);
	if (type == 0)
		return cp_err_set(err, CP_ESYNTAX, "%s: unknown record type '%s'",
		    where, tok);
	if (type == -1)
		return cp_dns_fake_timeout(d, name, 0, err);
	while (*p == ' ' || *p == '\t')
		p++;
	if (type == CP_DNS_TXT || type == CP_DNS_SPF) {
		const char *s;
		cp_dns_rr rr = { 0 };

		cp_buf_init(&txt, 65535);
		rc = parse_txt(p, &txt, where, err);
		s = txt.data ? txt.data : "";
		if (rc == CP_OK) {
			rr.type = (uint16_t)type;
			rr.ttl = FAKE_TTL;
			rr.u.txt.data = (char *)s;
			rr.u.txt.len = txt.len;
			rc = fake_push(d, name, &rr, 0, err);
		}
		cp_buf_free(&txt);
		return rc;
	}
	{
		size_t n = strcspn(p, ";");

		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			return cp_err_set(err, CP_ESYNTAX, "%s: %s record has no data",
			    where, tok);
		line[(size_t)(p - line) + n] = '\0';
	}
	if ((type == CP_DNS_PTR || type == CP_DNS_CNAME || type == CP_DNS_NS ||
	    type == CP_DNS_MX) && *origin) {
		/* relative targets get the origin too */
		const char *tgt = type == CP_DNS_MX ? strpbrk(p, " \t") : p;
		char full[700];

		if (tgt != NULL) {
			while (*tgt == ' ' || *tgt == '\t')
				tgt++;
			if (*tgt && tgt[strlen(tgt) - 1] != '.' &&
			    strcmp(tgt, "@") != 0) {
				snprintf(full, sizeof(full), "%.*s%s.%s",
				    (int)(tgt - p), p, tgt, origin);
				return cp_dns_fake_add(d, name, type, full, err);
			}
		}
	}
	rc = cp_dns_fake_add(d, name, type, p, err);
	if (rc != CP_OK && err && strncmp(err->msg, where, strlen(where)) != 0) {
		char m[sizeof(err->msg)];

		memcpy(m, err->msg, sizeof(m));
		snprintf(err->msg, sizeof(err->msg), "%.100s: %.150s", where, m);
	}
	return rc;
}

int
cp_dns_fake_load_mem(cp_dns *d, const char *data, size_t len,
    const char *label, cp_err *err)
{
	char origin[256] = "", last[600] = "", where[200];
	cp_buf line;
	size_t i = 0;
	int lineno = 0, depth = 0, rc = CP_OK;

	cp_buf_init(&line, 65536);
	while (i < len && rc == CP_OK) {
		size_t j = i;

		while (j < len && data[j] != '\n')
			j++;
		lineno++;
		for (size_t k = i; k < j && rc == CP_OK; k++) {
			char c = data[k];

			if (c == '\0' || c == '\r')
				c = ' ';
			if (c == '(' || c == ')') { /* multi-line records */
				depth += c == '(' ? 1 : -1;
				c = ' ';
			}
			if (cp_buf_addc(&line, c) != CP_OK)
				rc = cp_err_set(err, CP_ETOOBIG,
				    "%s:%d: line too long", label, lineno);
		}
		i = j + 1;
		if (rc != CP_OK || (depth > 0 && i < len))
			continue;
		snprintf(where, sizeof(where), "%.150s:%d", label, lineno);
		if (depth < 0)
			rc = cp_err_set(err, CP_ESYNTAX, "%s: ')' without '('",
			    where);
		else if (line.len > 0)
			rc = zone_line(d, line.data, origin, sizeof(origin), last,
			    where, err);
		depth = 0;
		cp_buf_reset(&line);
	}
	cp_buf_free(&line);
	return rc;
}

int
cp_dns_fake_load(cp_dns *d, const char *path, cp_err *err)
{
	FILE *f = fopen(path, "rb");
	cp_buf b;
	char chunk[8192];
	size_t n;
	int rc = CP_OK;

	if (f == NULL)
		return cp_err_set(err, CP_EIO, "dns fake: %s: cannot open", path);
	cp_buf_init(&b, ZONE_MAX);
	while (rc == CP_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (cp_buf_add(&b, chunk, n) != CP_OK)
			rc = cp_err_set(err, CP_ETOOBIG,
			    "dns fake: %s: over %d bytes", path, ZONE_MAX);
	fclose(f);
	if (rc == CP_OK)
		rc = cp_dns_fake_load_mem(d, b.data ? b.data : "", b.len, path,
		    err);
	cp_buf_free(&b);
	return rc;
}
