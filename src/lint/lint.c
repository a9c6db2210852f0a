/*
 * lint.c - the linter's entry point and its report (coldpost/lint.h):
 * parse the message (lint_mime.c), run the rules (lint_rules.c), add up
 * the points and pick the verdict.
 *
 * Domains are compared by organization, as DMARC relaxed alignment does
 * (RFC 7489 3.1, 3.2): mail.example.com and example.com are the same
 * sender. Without a Public Suffix List a name matches itself and its
 * subdomains only.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "lint/lint_int.h"

const char *
cp_lint_severity_name(cp_lint_severity s)
{
	switch (s) {
	case CP_LINT_INFO: return "info";
	case CP_LINT_WARN: return "warn";
	case CP_LINT_FAIL: return "fail";
	}
	return "?";
}

const char *
cp_lint_verdict_name(cp_lint_verdict v)
{
	switch (v) {
	case CP_LINT_PASS: return "pass";
	case CP_LINT_VERDICT_WARN: return "warn";
	case CP_LINT_VERDICT_FAIL: return "fail";
	}
	return "?";
}

void
cp_lint_report_clear(cp_lint_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		cp_free(r->v[i].evidence);
	cp_free(r->v);
	cp_free(r->from_domain);
	cp_free(r->sending_domain);
	memset(r, 0, sizeof(*r));
}

const cp_lint_finding *
cp_lint_report_find(const cp_lint_report *r, const char *rule)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].rule, rule) == 0)
			return &r->v[i];
	return NULL;
}

void
lint_add(lint_ctx *c, const char *rule, cp_lint_severity sev, int points,
    const char *fix, const char *fmt, ...)
{
	cp_lint_report *r = c->r;
	cp_lint_finding *f;
	cp_buf ev;
	va_list ap;
	int rc;

	if (c->rc != CP_OK)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		cp_lint_finding *nv = cp_realloc(r->v, cap * sizeof(*nv));

		if (nv == NULL) {
			c->rc = CP_ENOMEM;
			return;
		}
		r->v = nv;
		r->cap = cap;
	}
	cp_buf_init(&ev, LINT_FIELD_MAX);
	va_start(ap, fmt);
	rc = cp_buf_vaddf(&ev, fmt, ap);
	va_end(ap);
	if (rc == CP_ETOOBIG) /* long evidence is cut, not lost */
		rc = CP_OK;
	if (rc == CP_OK && ev.data == NULL)
		rc = cp_buf_adds(&ev, "");
	if (rc != CP_OK) {
		cp_buf_free(&ev);
		c->rc = CP_ENOMEM;
		return;
	}
	/* evidence quotes the message: no control bytes reach a terminal */
	for (size_t i = 0; i < ev.len; i++)
		if ((unsigned char)ev.data[i] < 0x20 || ev.data[i] == 0x7f)
			ev.data[i] = ' ';
	f = &r->v[r->n++];
	f->rule = rule;
	f->severity = sev;
	f->points = points;
	f->fix = fix;
	f->evidence = cp_buf_steal(&ev);
	r->score += points;
}

/* Is sub equal to dom or a subdomain of it (at a label boundary)? */
static int
lint_is_under(const char *sub, const char *dom)
{
	size_t ls = strlen(sub), ld = strlen(dom);

	if (ls < ld || strcasecmp(sub + ls - ld, dom) != 0)
		return 0;
	return ls == ld || sub[ls - ld - 1] == '.';
}

int
lint_same_org(const lint_ctx *c, const char *a, const char *b)
{
	char oa[256], ob[256];

	if (a == NULL || b == NULL || *a == '\0' || *b == '\0')
		return 0;
	if (lint_is_under(a, b) || lint_is_under(b, a)) {
		if (c->o.psl == NULL)
			return 1;
	} else if (c->o.psl == NULL)
		return 0;
	if (cp_dmarc_get_org_domain(c->o.psl, a, oa, sizeof(oa)) != CP_OK ||
	    cp_dmarc_get_org_domain(c->o.psl, b, ob, sizeof(ob)) != CP_OK)
		return strcasecmp(a, b) == 0;
	return strcasecmp(oa, ob) == 0;
}

size_t
lint_count_words(const char *s, size_t len)
{
	size_t n = 0, i;
	int in = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		int w = isalnum(ch) || ch >= 0x80;

		if (w && !in)
			n++;
		in = w;
	}
	return n;
}

static void
lint_fill_opts(const cp_lint_opts *o, cp_lint_opts *out)
{
	if (o != NULL)
		*out = *o;
	else
		memset(out, 0, sizeof(*out));
	if (out->warn_at <= 0)
		out->warn_at = CP_LINT_WARN_AT;
	if (out->fail_at <= 0)
		out->fail_at = CP_LINT_FAIL_AT;
	if (out->max_links == 0)
		out->max_links = CP_LINT_MAX_LINKS;
	if (out->max_images == 0)
		out->max_images = CP_LINT_MAX_IMAGES;
}

static int
lint_set_domains(lint_ctx *c, const lint_msg *m, cp_lint_report *r)
{
	const char *sd = c->o.sending_domain;

	if (m->from_domain != NULL) {
		r->from_domain = cp_strdup(m->from_domain);
		if (r->from_domain == NULL)
			return CP_ENOMEM;
	}
	if (sd == NULL || *sd == '\0')
		sd = m->from_domain;
	if (sd != NULL) {
		size_t len = strlen(sd);

		while (len > 0 && sd[len - 1] == '.')
			len--;
		r->sending_domain = cp_strndup(sd, len);
		if (r->sending_domain == NULL)
			return CP_ENOMEM;
		for (char *p = r->sending_domain; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	c->sending = r->sending_domain;
	return CP_OK;
}

int
cp_lint_check_message(const char *msg, size_t len, const cp_lint_opts *o,
    cp_lint_report *out, cp_err *err)
{
	lint_ctx c;
	lint_msg m;
	int rc;

	memset(out, 0, sizeof(*out));
	if (msg == NULL || len == 0)
		return cp_err_set(err, CP_ESYNTAX, "lint: empty input");
	if (len > CP_LINT_MSG_MAX)
		return cp_err_set(err, CP_ESYNTAX, "lint: message of %zu bytes "
		    "over the %u-byte limit", len, CP_LINT_MSG_MAX);
	memset(&c, 0, sizeof(c));
	lint_fill_opts(o, &c.o);
	lint_msg_init(&m);
	rc = lint_mime_parse(msg, len, &m, err);
	if (rc == CP_OK && m.has_text)
		rc = lint_text_links(m.text.data, m.text.len, &m, err);
	if (rc == CP_OK)
		rc = lint_set_domains(&c, &m, out);
	if (rc == CP_OK) {
		c.m = &m;
		c.r = out;
		lint_run_rules(&c);
		rc = c.rc;
		if (rc != CP_OK)
			rc = cp_err_set(err, rc, "lint: %s", rc == CP_ENOMEM ?
			    "out of memory" : "patterns do not compile");
	}
	lint_msg_clear(&m);
	if (rc != CP_OK) {
		cp_lint_report_clear(out);
		return rc;
	}
	out->verdict = out->score >= c.o.fail_at ? CP_LINT_VERDICT_FAIL :
	    out->score >= c.o.warn_at ? CP_LINT_VERDICT_WARN : CP_LINT_PASS;
	return CP_OK;
}
