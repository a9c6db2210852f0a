/*
 * policy_provider.c - which provider runs an MX host.
 *
 * A table of lines "PROVIDER PATTERN..." (src/policy/providers.txt, and
 * throttle.providers where ';' also ends a line). A pattern is a host name
 * matched whole, or ".domain" / "*.domain" matched by any host under the
 * domain (not the domain itself: MX hosts are always below it). Matching
 * is ASCII case-insensitive and ignores a trailing dot; the longest
 * pattern wins, so "mx.google.com" under ".google.com" can be given to
 * another provider by a longer pattern. Host names only (RFC 1035 2.3.1
 * letters, digits, '-', '.'); anything else in the table is an error that
 * names the line.
 */
#include <ctype.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/policy.h"

#define PROV_NAME_MAX 32
#define PROV_PATTERNS_MAX 4096

typedef struct prov_pattern {
	char *host;    /* lower case, without "*." / "." */
	size_t len;
	int suffix;    /* 1: hosts under it */
	const char *provider;
} prov_pattern;

struct cp_policy_providers {
	prov_pattern *v;
	size_t n, cap;
	char **names;
	size_t nnames;
};

void
cp_policy_providers_free(cp_policy_providers *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		cp_free(t->v[i].host);
	for (size_t i = 0; i < t->nnames; i++)
		cp_free(t->names[i]);
	cp_free(t->v);
	cp_free(t->names);
	cp_free(t);
}

static int
prov_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > PROV_NAME_MAX || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* A host pattern: labels of [A-Za-z0-9-], 1..63 each, 1..253 in all. */
static int
prov_host_ok(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

static int
prov_add_pattern(cp_policy_providers *t, const char *w, size_t len,
    const char *name, size_t lineno, cp_err *err)
{
	prov_pattern *p;
	int suffix = 0;

	if (len >= 2 && w[0] == '*' && w[1] == '.') {
		w += 2;
		len -= 2;
		suffix = 1;
	} else if (len >= 1 && w[0] == '.') {
		w++;
		len--;
		suffix = 1;
	}
	if (!prov_host_ok(w, len))
		return cp_err_set(err, CP_ESYNTAX, "providers: line %zu: "
		    "'%.*s' is not a host pattern (mx.example.net, "
		    ".example.net)", lineno, (int)(len > 80 ? 80 : len), w);
	if (t->n == PROV_PATTERNS_MAX)
		return cp_err_set(err, CP_ETOOBIG, "providers: more than %d "
		    "patterns", PROV_PATTERNS_MAX);
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 32;
		prov_pattern *nv = cp_realloc(t->v, nc * sizeof(*nv));

		if (nv == NULL)
			return cp_err_set(err, CP_ENOMEM, "providers: out of "
			    "memory");
		t->v = nv;
		t->cap = nc;
	}
	p = &t->v[t->n];
	if ((p->host = cp_strndup(w, len)) == NULL)
		return cp_err_set(err, CP_ENOMEM, "providers: out of memory");
	for (size_t i = 0; i < len; i++)
		p->host[i] = (char)tolower((unsigned char)p->host[i]);
	p->len = len;
	p->suffix = suffix;
	p->provider = name;
	t->n++;
	return CP_OK;
}

static int
prov_add_name(cp_policy_providers *t, const char *w, size_t len,
    size_t lineno, const char **out, cp_err *err)
{
	char **nv;

	if (!prov_name_ok(w, len))
		return cp_err_set(err, CP_ESYNTAX, "providers: line %zu: "
		    "'%.*s' is not a provider name (a-z, 0-9, '-', up to %d)",
		    lineno, (int)(len > 40 ? 40 : len), w, PROV_NAME_MAX);
	nv = cp_realloc(t->names, (t->nnames + 1) * sizeof(*nv));
	if (nv == NULL)
		return cp_err_set(err, CP_ENOMEM, "providers: out of memory");
	t->names = nv;
	if ((nv[t->nnames] = cp_strndup(w, len)) == NULL)
		return cp_err_set(err, CP_ENOMEM, "providers: out of memory");
	*out = nv[t->nnames++];
	return CP_OK;
}

/* One line (comment cut off): a name and one or more patterns. */
static int
prov_parse_line(cp_policy_providers *t, const char *s, size_t len,
    size_t lineno, cp_err *err)
{
	const char *name = NULL;
	size_t i = 0, npat = 0;
	int rc;

	while (i < len) {
		size_t start;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		if (name == NULL)
			rc = prov_add_name(t, s + start, i - start, lineno,
			    &name, err);
		else
			rc = prov_add_pattern(t, s + start, i - start, name,
			    lineno, err);
		if (rc != CP_OK)
			return rc;
		npat += name != NULL;
	}
	if (name != NULL && npat < 2)
		return cp_err_set(err, CP_ESYNTAX, "providers: line %zu: %s "
		    "has no pattern", lineno, name);
	return CP_OK;
}

int
cp_policy_providers_parse(const char *text, size_t len,
    cp_policy_providers **out, cp_err *err)
{
	cp_policy_providers *t = cp_calloc(1, sizeof(*t));
	size_t i = 0, lineno = 0;
	int rc = CP_OK;

	if (t == NULL)
		return cp_err_set(err, CP_ENOMEM, "providers: out of memory");
	while (i < len && rc == CP_OK) {
		size_t start = i, end;

		lineno++;
		while (i < len && text[i] != '\n' && text[i] != ';' &&
		    text[i] != '#')
			i++;
		end = i;
		if (i < len && text[i] == '#') /* a comment runs to '\n' */
			while (i < len && text[i] != '\n')
				i++;
		for (size_t k = start; k < end; k++) {
			if (text[k] == '\0' || ((unsigned char)text[k] < 0x20 &&
			    text[k] != '\t' && text[k] != '\r'))
				rc = cp_err_set(err, CP_ESYNTAX, "providers: "
				    "line %zu: control byte", lineno);
		}
		while (end > start && text[end - 1] == '\r')
			end--;
		if (rc == CP_OK)
			rc = prov_parse_line(t, text + start, end - start,
			    lineno, err);
		i++; /* the separator */
	}
	if (rc != CP_OK) {
		cp_policy_providers_free(t);
		return rc;
	}
	*out = t;
	return CP_OK;
}

/* Does host (lower case, len bytes) match p? */
static int
prov_match_one(const prov_pattern *p, const char *host, size_t len)
{
	if (!p->suffix)
		return len == p->len && memcmp(host, p->host, len) == 0;
	return len > p->len + 1 && host[len - p->len - 1] == '.' &&
	    memcmp(host + len - p->len, p->host, p->len) == 0;
}

const char *
cp_policy_providers_match(const cp_policy_providers *t, const char *host)
{
	char low[254];
	size_t len = 0, best = 0;
	const char *who = NULL;

	if (t == NULL || host == NULL)
		return NULL;
	for (; host[len] != '\0' && len < sizeof(low) - 1; len++)
		low[len] = (char)tolower((unsigned char)host[len]);
	if (host[len] != '\0')
		return NULL; /* longer than a host name */
	if (len > 0 && low[len - 1] == '.')
		len--;
	low[len] = '\0';
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].len + !t->v[i].suffix > best &&
		    prov_match_one(&t->v[i], low, len)) {
			best = t->v[i].len + !t->v[i].suffix;
			who = t->v[i].provider;
		}
	return who;
}
