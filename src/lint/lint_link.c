/*
 * lint_link.c - links as the linter sees them: where an href points (the
 * host of an http/https URL, RFC 3986 3.2: userinfo "@" host ":" port)
 * and the URLs a text/plain part spells out, which mail readers turn into
 * links too ("https://..." and bare "www." forms; trailing punctuation of
 * the sentence is not part of the URL).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "lint/lint_int.h"

static int
link_host_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80;
}

size_t
lint_url_host(const char *href, size_t len, char *out, size_t outlen,
    int *userinfo)
{
	const char *p = href, *end = href + len, *auth, *host, *hend;
	size_t n, i;

	*userinfo = 0;
	while (p < end && isspace((unsigned char)*p))
		p++;
	n = (size_t)(end - p);
	if (n >= 8 && strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (n >= 7 && strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if (n >= 2 && p[0] == '/' && p[1] == '/')
		p += 2;
	else if (!(n >= 4 && strncasecmp(p, "www.", 4) == 0))
		return 0;
	auth = p;
	while (p < end && strchr("/?#\\", *p) == NULL &&
	    !isspace((unsigned char)*p))
		p++;
	host = auth;
	for (const char *q = auth; q < p; q++)
		if (*q == '@') {
			host = q + 1;
			*userinfo = 1;
		}
	hend = host;
	while (hend < p && *hend != ':')
		hend++;
	while (hend > host && hend[-1] == '.')
		hend--;
	n = (size_t)(hend - host);
	if (n == 0 || n >= outlen)
		return 0;
	for (i = 0; i < n; i++) {
		if (!link_host_char((unsigned char)host[i]))
			return 0;
		out[i] = (char)tolower((unsigned char)host[i]);
	}
	out[n] = '\0';
	return n;
}

int
lint_msg_add_link(lint_msg *m, const char *href, size_t len,
    const char *text, int html)
{
	char host[256];
	lint_link *nv, *l;
	int ui;

	while (len > 0 && isspace((unsigned char)*href))
		href++, len--;
	while (len > 0 && isspace((unsigned char)href[len - 1]))
		len--;
	if (m->nlinks >= LINT_ITEMS_MAX)
		return CP_ETOOBIG;
	nv = cp_realloc(m->links, (m->nlinks + 1) * sizeof(*nv));
	if (nv == NULL)
		return CP_ENOMEM;
	m->links = nv;
	l = &nv[m->nlinks];
	memset(l, 0, sizeof(*l));
	l->html = html;
	l->href = cp_strndup(href, CP_MIN(len, LINT_FIELD_MAX));
	if (l->href == NULL)
		return CP_ENOMEM;
	if (lint_url_host(href, len, host, sizeof(host), &ui) > 0) {
		l->userinfo = ui;
		l->host = cp_strdup(host);
		if (l->host == NULL) {
			cp_free(l->href);
			return CP_ENOMEM;
		}
	}
	if (text != NULL) {
		l->text = cp_strndup(text, strnlen(text, LINT_FIELD_MAX));
		if (l->text == NULL) {
			cp_free(l->href);
			cp_free(l->host);
			return CP_ENOMEM;
		}
	}
	m->nlinks++;
	return CP_OK;
}

int
lint_text_links(const char *text, size_t len, lint_msg *m, cp_err *err)
{
	size_t pos = 0, mo, ml;
	int rc;

	while ((rc = lint_pat_match(PAT_URL, text, len, pos, &mo, &ml)) == 1) {
		pos = mo + ml;
		while (ml > 0 && strchr(".,;:!?)'\">*", text[mo + ml - 1]))
			ml--;
		if (ml == 0)
			continue;
		rc = lint_msg_add_link(m, text + mo, ml, NULL, 0);
		if (rc == CP_ETOOBIG)
			break;
		if (rc != CP_OK)
			return cp_err_set(err, rc, "lint: out of memory");
	}
	if (rc < 0 && rc != CP_ETOOBIG)
		return cp_err_set(err, rc, "lint: patterns do not compile");
	return CP_OK;
}
