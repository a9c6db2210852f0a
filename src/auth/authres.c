/*
 * authres.c - the Authentication-Results header field (RFC 8601):
 * building, rendering and parsing it.
 *
 * Rendering follows the ABNF of RFC 8601 2.2: the authserv-id and reason=
 * texts are RFC 2045 values (a token, else a quoted-string with '"' and
 * '\' escaped); a property value is written bare when it is a token or an
 * address/domain of the [local-part] "@" domain-name form, quoted
 * otherwise (a DKIM header.b= holds base64, whose '/' and '=' force the
 * quotes); comments escape '(', ')' and '\'. Control characters (CR and LF
 * above all) are refused everywhere, so a value cannot end the header.
 * Results are folded one per line when the caller asks (fold = "\r\n\t").
 *
 * The parser reads what other receivers wrote: CFWS (folding and nested
 * comments) anywhere the ABNF allows it, "none" for no result, method
 * versions ("dkim/1"), reason=, and ptype.property=pvalue. It keeps the
 * first comment after each result (Gmail's "(p=REJECT dis=NONE)"), and
 * tolerates a bare "key=value" after a result (Microsoft's "action=none")
 * as a property with an empty ptype.
 * Method, result, ptype and property names are lowercased.
 *
 * What it leaves to others: which results to report (dmarc_eval.c adds
 * its own with cp_dmarc_add_authres; `coldpost auth` adds SPF and DKIM),
 * and removing forged Authentication-Results fields (RFC 8601 5).
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/authres.h"
#include "coldpost/cursor.h"

#define AUTHRES_INPUT_MAX (64 * 1024)

struct cp_authres {
	char *authserv_id;
	char *version; /* authres-version after the id, or NULL */
	cp_authres_method m[CP_AUTHRES_METHODS_MAX];
	size_t n;
};

static const char *const result_names[] = {
	[CP_AUTH_NONE] = "none",
	[CP_AUTH_PASS] = "pass",
	[CP_AUTH_FAIL] = "fail",
	[CP_AUTH_SOFTFAIL] = "softfail",
	[CP_AUTH_NEUTRAL] = "neutral",
	[CP_AUTH_TEMPERROR] = "temperror",
	[CP_AUTH_PERMERROR] = "permerror",
	[CP_AUTH_POLICY] = "policy",
};

const char *
cp_auth_result_name(cp_auth_result r)
{
	return (size_t)r < CP_NELEM(result_names) ? result_names[r] : "none";
}

static int
eqi(const char *a, const char *b)
{
	return cp_slice_eqi(cp_slice_from(a), b);
}

int
cp_auth_result_from_name(const char *s, cp_auth_result *out)
{
	if (s == NULL)
		return CP_EINVAL;
	for (size_t i = 0; i < CP_NELEM(result_names); i++)
		if (eqi(s, result_names[i])) {
			*out = (cp_auth_result)i;
			return CP_OK;
		}
	if (eqi(s, "hardfail"))
		*out = CP_AUTH_FAIL;
	else if (eqi(s, "error"))
		*out = CP_AUTH_TEMPERROR;
	else if (eqi(s, "unknown"))
		*out = CP_AUTH_PERMERROR;
	else
		return CP_EINVAL;
	return CP_OK;
}

/* ---- character classes ------------------------------------------------- */

static int
is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* Keyword (RFC 8601 2.2, from RFC 5321's Ldh-str), '_' tolerated. */
static int
is_kwchar(int ch)
{
	return is_alnum(ch) || ch == '-' || ch == '_';
}

/* RFC 2045 token: CHAR except SPACE, CTLs and tspecials. */
static int
is_tokenchar(int ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("()<>@,;:\\\"/[]?=", ch) == NULL;
}

/* RFC 5322 atext. */
static int
is_atext(int ch)
{
	return is_alnum(ch) || (ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch));
}

static int
is_ctl(int ch)
{
	return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if (is_ctl((unsigned char)*s) || *s == '\t')
			return 1;
	return 0;
}

static int
is_keyword(const char *s)
{
	if (!is_alnum((unsigned char)s[0]))
		return 0;
	for (; *s; s++)
		if (!is_kwchar((unsigned char)*s))
			return 0;
	return 1;
}

static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!is_tokenchar((unsigned char)*s))
			return 0;
	return 1;
}

/* domain-name: labels of letters, digits, '-', '_', separated by dots. */
static int
is_domain(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (is_kwchar((unsigned char)s[i])) {
			label++;
		} else {
			return 0;
		}
	}
	return label > 0;
}

/* [ [ dot-atom ] "@" ] domain-name: safe to write without quotes. */
static int
is_bare_pvalue(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t atom = 0;

	if (is_token(s))
		return 1;
	if (at == NULL)
		return 0;
	for (const char *p = s; p < at; p++) {
		if (*p == '.') {
			if (atom == 0)
				return 0;
			atom = 0;
		} else if (is_atext((unsigned char)*p)) {
			atom++;
		} else {
			return 0;
		}
	}
	if (at > s && atom == 0)
		return 0;
	return is_domain(at + 1, strlen(at + 1));
}

/* ---- building ---------------------------------------------------------- */

cp_authres *
cp_authres_new(const char *authserv_id, cp_err *err)
{
	cp_authres *ar;

	if (authserv_id == NULL || *authserv_id == '\0' ||
	    has_ctl(authserv_id)) {
		cp_err_set(err, CP_EINVAL,
		    "authres: authserv-id must be non-empty text without "
		    "control characters");
		return NULL;
	}
	ar = cp_calloc(1, sizeof(*ar));
	if (ar != NULL)
		ar->authserv_id = cp_strdup(authserv_id);
	if (ar == NULL || ar->authserv_id == NULL) {
		cp_free(ar);
		cp_err_set(err, CP_ENOMEM, "authres: out of memory");
		return NULL;
	}
	return ar;
}

static void
method_clear(cp_authres_method *m)
{
	cp_free(m->method);
	cp_free(m->version);
	cp_free(m->result);
	cp_free(m->reason);
	cp_free(m->comment);
	for (size_t i = 0; i < m->nprops; i++) {
		cp_free(m->props[i].ptype);
		cp_free(m->props[i].property);
		cp_free(m->props[i].value);
	}
	memset(m, 0, sizeof(*m));
}

void
cp_authres_free(cp_authres *ar)
{
	if (ar == NULL)
		return;
	for (size_t i = 0; i < ar->n; i++)
		method_clear(&ar->m[i]);
	cp_free(ar->authserv_id);
	cp_free(ar->version);
	cp_free(ar);
}

static char *
dup_lower(const char *s)
{
	char *d = cp_strdup(s);

	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return d;
}

int
cp_authres_add_method(cp_authres *ar, const char *method, const char *result,
    const char *reason, const char *comment, cp_err *err)
{
	cp_authres_method *m;

	CP_ASSERT(ar != NULL);
	if (method == NULL || !is_keyword(method))
		return cp_err_set(err, CP_EINVAL,
		    "authres: method '%.40s' is not a keyword",
		    method ? method : "(null)");
	if (result == NULL || !is_keyword(result))
		return cp_err_set(err, CP_EINVAL,
		    "authres: %s result '%.40s' is not a keyword", method,
		    result ? result : "(null)");
	if ((reason && has_ctl(reason)) || (comment && has_ctl(comment)))
		return cp_err_set(err, CP_EINVAL,
		    "authres: %s: control character in reason or comment",
		    method);
	if (ar->n == CP_AUTHRES_METHODS_MAX)
		return cp_err_set(err, CP_ETOOBIG,
		    "authres: more than %d results in one field",
		    CP_AUTHRES_METHODS_MAX);
	m = &ar->m[ar->n];
	m->method = dup_lower(method);
	m->result = dup_lower(result);
	m->reason = reason ? cp_strdup(reason) : NULL;
	m->comment = comment ? cp_strdup(comment) : NULL;
	if (m->method == NULL || m->result == NULL || (reason && !m->reason) ||
	    (comment && !m->comment)) {
		method_clear(m);
		return cp_err_set(err, CP_ENOMEM, "authres: out of memory");
	}
	ar->n++;
	return CP_OK;
}

int
cp_authres_add_prop(cp_authres *ar, const char *ptype, const char *property,
    const char *value, cp_err *err)
{
	cp_authres_method *m;
	cp_authres_prop *p;

	CP_ASSERT(ar != NULL && ar->n > 0);
	m = &ar->m[ar->n - 1];
	if (ptype == NULL || property == NULL || !is_keyword(ptype) ||
	    !is_keyword(property))
		return cp_err_set(err, CP_EINVAL,
		    "authres: %s: property '%.30s.%.30s' is not keyword.keyword",
		    m->method, ptype ? ptype : "", property ? property : "");
	if (value == NULL || has_ctl(value))
		return cp_err_set(err, CP_EINVAL,
		    "authres: %s.%s: missing value or control character",
		    ptype, property);
	if (m->nprops == CP_AUTHRES_PROPS_MAX)
		return cp_err_set(err, CP_ETOOBIG,
		    "authres: %s: more than %d properties", m->method,
		    CP_AUTHRES_PROPS_MAX);
	p = &m->props[m->nprops];
	p->ptype = dup_lower(ptype);
	p->property = dup_lower(property);
	p->value = cp_strdup(value);
	if (p->ptype == NULL || p->property == NULL || p->value == NULL) {
		cp_free(p->ptype);
		cp_free(p->property);
		cp_free(p->value);
		memset(p, 0, sizeof(*p));
		return cp_err_set(err, CP_ENOMEM, "authres: out of memory");
	}
	m->nprops++;
	return CP_OK;
}

int
cp_authres_add_spf(cp_authres *ar, cp_auth_result r, const char *mailfrom,
    const char *helo, const char *reason, cp_err *err)
{
	int rc = cp_authres_add_method(ar, "spf", cp_auth_result_name(r),
	    reason, NULL, err);

	if (rc != CP_OK)
		return rc;
	if (mailfrom != NULL && *mailfrom != '\0')
		return cp_authres_add_prop(ar, "smtp", "mailfrom", mailfrom, err);
	if (helo != NULL && *helo != '\0')
		return cp_authres_add_prop(ar, "smtp", "helo", helo, err);
	return CP_OK;
}

int
cp_authres_add_dkim(cp_authres *ar, cp_auth_result r, const char *d,
    const char *s, const char *b, const char *reason, cp_err *err)
{
	char b8[9];
	int rc = cp_authres_add_method(ar, "dkim", cp_auth_result_name(r),
	    reason, NULL, err);

	if (rc == CP_OK && d != NULL && *d != '\0')
		rc = cp_authres_add_prop(ar, "header", "d", d, err);
	if (rc == CP_OK && s != NULL && *s != '\0')
		rc = cp_authres_add_prop(ar, "header", "s", s, err);
	if (rc == CP_OK && b != NULL && *b != '\0') {
		/* RFC 6008 2: the first 8 characters are enough to tell */
		size_t n = 0;

		for (const char *p = b; *p && n < 8; p++)
			if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
				b8[n++] = *p;
		b8[n] = '\0';
		rc = cp_authres_add_prop(ar, "header", "b", b8, err);
	}
	return rc;
}

const char *
cp_authres_authserv_id(const cp_authres *ar)
{
	return ar->authserv_id;
}

size_t
cp_authres_count(const cp_authres *ar)
{
	return ar->n;
}

const cp_authres_method *
cp_authres_method_at(const cp_authres *ar, size_t i)
{
	return i < ar->n ? &ar->m[i] : NULL;
}

const cp_authres_method *
cp_authres_find(const cp_authres *ar, const char *method)
{
	for (size_t i = 0; i < ar->n; i++)
		if (eqi(ar->m[i].method, method))
			return &ar->m[i];
	return NULL;
}

const char *
cp_authres_prop_value(const cp_authres_method *m, const char *ptype,
    const char *property)
{
	for (size_t i = 0; i < m->nprops; i++)
		if (eqi(m->props[i].ptype, ptype) &&
		    eqi(m->props[i].property, property))
			return m->props[i].value;
	return NULL;
}

/* ---- rendering --------------------------------------------------------- */

static int
put_quoted(cp_buf *b, const char *s)
{
	int rc = cp_buf_addc(b, '"');

	for (; rc == CP_OK && *s; s++) {
		if (*s == '"' || *s == '\\')
			rc = cp_buf_addc(b, '\\');
		if (rc == CP_OK)
			rc = cp_buf_addc(b, *s);
	}
	return rc == CP_OK ? cp_buf_addc(b, '"') : rc;
}

/* RFC 2045 value: a token, else a quoted-string. */
static int
put_value(cp_buf *b, const char *s)
{
	return is_token(s) ? cp_buf_adds(b, s) : put_quoted(b, s);
}

static int
put_comment(cp_buf *b, const char *s)
{
	int rc = cp_buf_adds(b, " (");

	for (; rc == CP_OK && *s; s++) {
		if (*s == '(' || *s == ')' || *s == '\\')
			rc = cp_buf_addc(b, '\\');
		if (rc == CP_OK)
			rc = cp_buf_addc(b, *s);
	}
	return rc == CP_OK ? cp_buf_addc(b, ')') : rc;
}

int
cp_authres_render(const cp_authres *ar, const char *fold, cp_buf *out,
    cp_err *err)
{
	size_t start = out->len;
	int rc;

	rc = cp_buf_adds(out, "Authentication-Results: ");
	if (rc == CP_OK)
		rc = put_value(out, ar->authserv_id);
	if (rc == CP_OK && ar->version)
		rc = cp_buf_addf(out, " %s", ar->version);
	if (rc == CP_OK && ar->n == 0)
		rc = cp_buf_adds(out, "; none");
	for (size_t i = 0; rc == CP_OK && i < ar->n; i++) {
		const cp_authres_method *m = &ar->m[i];

		rc = cp_buf_addc(out, ';');
		if (rc == CP_OK)
			rc = cp_buf_adds(out, fold ? fold : " ");
		if (rc == CP_OK)
			rc = cp_buf_addf(out, "%s%s%s=%s", m->method,
			    m->version ? "/" : "", m->version ? m->version : "",
			    m->result);
		if (rc == CP_OK && m->comment)
			rc = put_comment(out, m->comment);
		if (rc == CP_OK && m->reason) {
			rc = cp_buf_adds(out, " reason=");
			if (rc == CP_OK)
				rc = put_value(out, m->reason);
		}
		for (size_t j = 0; rc == CP_OK && j < m->nprops; j++) {
			const cp_authres_prop *p = &m->props[j];

			rc = cp_buf_addf(out, " %s%s%s=", p->ptype,
			    p->ptype[0] ? "." : "", p->property);
			if (rc == CP_OK)
				rc = is_bare_pvalue(p->value)
				    ? cp_buf_adds(out, p->value)
				    : put_quoted(out, p->value);
		}
	}
	if (rc != CP_OK) {
		out->len = start; /* leave out as it was */
		if (out->data)
			out->data[start] = '\0';
		return cp_err_set(err, rc, "authres: field over the buffer's "
		    "limit of %zu bytes", out->max);
	}
	return CP_OK;
}

/* ---- parsing ----------------------------------------------------------- */

typedef struct ar_parser {
	cp_cursor c;
	cp_buf tmp;       /* unescaped text of the last value read */
	char *comment;    /* first comment since the last ar_take_comment */
	cp_err *err;
} ar_parser;

static int
ar_fail(ar_parser *ps, const char *what)
{
	return cp_err_set(ps->err, CP_ESYNTAX,
	    "authres: offset %zu: expected %s", cp_cursor_pos(&ps->c), what);
}

/* comment = "(" *([FWS] ccontent) [FWS] ")", nested, with quoted-pairs. */
static int
ar_comment(ar_parser *ps)
{
	cp_buf text;
	int depth = 0, ch, rc = CP_OK;

	cp_buf_init(&text, AUTHRES_INPUT_MAX);
	do {
		ch = cp_cursor_peek(&ps->c);
		if (ch < 0) {
			cp_buf_free(&text);
			return ar_fail(ps, "')' to close the comment");
		}
		ps->c.pos++;
		if (ch == '\\' && !cp_cursor_eof(&ps->c)) {
			ch = cp_cursor_peek(&ps->c);
			ps->c.pos++;
		} else if (ch == '(') {
			if (depth++ == 0)
				continue;
		} else if (ch == ')') {
			if (--depth == 0)
				break;
		} else if (ch == '\r' || ch == '\n') {
			continue; /* unfold */
		}
		rc = cp_buf_addc(&text, (char)ch);
	} while (rc == CP_OK);
	if (rc == CP_OK && ps->comment == NULL)
		ps->comment = cp_strdup(text.data ? text.data : "");
	cp_buf_free(&text);
	if (rc != CP_OK)
		return cp_err_set(ps->err, rc, "authres: comment too long");
	return CP_OK;
}

/* CFWS: WSP, folding line breaks, comments. */
static int
ar_cfws(ar_parser *ps)
{
	for (;;) {
		int ch = cp_cursor_peek(&ps->c);

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			ps->c.pos++;
		} else if (ch == '(') {
			int rc = ar_comment(ps);

			if (rc != CP_OK)
				return rc;
		} else {
			return CP_OK;
		}
	}
}

static char *
ar_take_comment(ar_parser *ps)
{
	char *c = ps->comment;

	ps->comment = NULL;
	return c;
}

static void
ar_drop_comment(ar_parser *ps)
{
	cp_free(ar_take_comment(ps));
}

/* Keyword (ldh, '_' tolerated) into a new string, or NULL if none. */
static char *
ar_keyword(ar_parser *ps)
{
	cp_slice s;

	cp_cursor_take_while(&ps->c, is_kwchar, &s);
	if (s.len == 0)
		return NULL;
	return cp_strndup(s.p, s.len);
}

/* quoted-string into ps->tmp (appended), the opening '"' next. */
static int
ar_quoted(ar_parser *ps)
{
	int ch, rc = CP_OK;

	ps->c.pos++; /* '"' */
	for (;;) {
		ch = cp_cursor_peek(&ps->c);
		if (ch < 0)
			return ar_fail(ps, "'\"' to close the quoted string");
		ps->c.pos++;
		if (ch == '"')
			return CP_OK;
		if (ch == '\\') {
			ch = cp_cursor_peek(&ps->c);
			if (ch < 0)
				return ar_fail(ps, "a character after '\\'");
			ps->c.pos++;
		} else if (ch == '\r' || ch == '\n') {
			continue; /* unfold */
		}
		rc = cp_buf_addc(&ps->tmp, (char)ch);
		if (rc != CP_OK)
			return cp_err_set(ps->err, rc, "authres: value too long");
	}
}

/* value = token / quoted-string, into ps->tmp. */
static int
ar_value(ar_parser *ps, const char *what)
{
	cp_slice s;

	cp_buf_reset(&ps->tmp);
	if (cp_cursor_peek(&ps->c) == '"')
		return ar_quoted(ps);
	cp_cursor_take_while(&ps->c, is_tokenchar, &s);
	if (s.len == 0)
		return ar_fail(ps, what);
	if (cp_buf_add(&ps->tmp, s.p, s.len) != CP_OK)
		return cp_err_set(ps->err, CP_ETOOBIG, "authres: value too long");
	return CP_OK;
}

static int
is_pvalue_char(int ch)
{
	/* token, local-part@domain, and UTF-8 (RFC 6532) */
	return ch > 0x20 && ch != 0x7f && ch != ';' && ch != '(' &&
	    ch != ')' && ch != '"';
}

/*
 * pvalue = [CFWS] ( value / [ [ local-part ] "@" ] domain-name ) [CFWS]:
 * a quoted value, a quoted local-part followed by "@domain" (kept as
 * written, quotes included), or a bare run.
 */
static int
ar_pvalue(ar_parser *ps)
{
	cp_slice s;
	int rc;

	cp_buf_reset(&ps->tmp);
	if (cp_cursor_peek(&ps->c) == '"') {
		size_t at = cp_cursor_pos(&ps->c);

		rc = ar_quoted(ps);
		if (rc != CP_OK || cp_cursor_peek(&ps->c) != '@')
			return rc;
		/* "local part"@domain: keep the address as written */
		cp_buf_reset(&ps->tmp);
		rc = cp_buf_add(&ps->tmp, ps->c.p + at, cp_cursor_pos(&ps->c) - at);
		if (rc != CP_OK)
			return cp_err_set(ps->err, rc, "authres: value too long");
	}
	cp_cursor_take_while(&ps->c, is_pvalue_char, &s);
	if (s.len == 0 && ps->tmp.len == 0)
		return ar_fail(ps, "a property value");
	if (cp_buf_add(&ps->tmp, s.p, s.len) != CP_OK)
		return cp_err_set(ps->err, CP_ETOOBIG, "authres: value too long");
	return CP_OK;
}

static char *
tmp_dup(ar_parser *ps)
{
	return cp_strdup(ps->tmp.data ? ps->tmp.data : "");
}

static int
ar_enomem(ar_parser *ps)
{
	return cp_err_set(ps->err, CP_ENOMEM, "authres: out of memory");
}

/* The properties (and reason=) after "method=result". */
static int
ar_props(ar_parser *ps, cp_authres_method *m)
{
	int rc;

	for (;;) {
		char *ptype, *prop;
		cp_authres_prop *p;
		int ch = cp_cursor_peek(&ps->c);

		if (ch < 0 || ch == ';')
			return CP_OK;
		ptype = ar_keyword(ps);
		if (ptype == NULL)
			return ar_fail(ps, "a property (ptype.property=value) "
			    "or ';'");
		if ((rc = ar_cfws(ps)) != CP_OK) {
			cp_free(ptype);
			return rc;
		}
		if (eqi(ptype, "reason") && cp_cursor_take_char(&ps->c, '=')) {
			cp_free(ptype);
			if ((rc = ar_cfws(ps)) != CP_OK ||
			    (rc = ar_value(ps, "the reason text")) != CP_OK)
				return rc;
			if (m->reason != NULL)
				return ar_fail(ps, "one reason= per result");
			if ((m->reason = tmp_dup(ps)) == NULL)
				return ar_enomem(ps);
			if ((rc = ar_cfws(ps)) != CP_OK)
				return rc;
			continue;
		}
		if (cp_cursor_peek(&ps->c) == '=') {
			/* "action=none" (Microsoft): no ptype; kept as ".action" */
			prop = ptype;
			ptype = cp_strdup("");
			if (ptype == NULL) {
				cp_free(prop);
				return ar_enomem(ps);
			}
		} else if (!cp_cursor_take_char(&ps->c, '.') ||
		    ar_cfws(ps) != CP_OK || (prop = ar_keyword(ps)) == NULL) {
			cp_free(ptype);
			return ar_fail(ps, "'.' and a property name");
		}
		rc = ar_cfws(ps);
		if (rc == CP_OK && !cp_cursor_take_char(&ps->c, '='))
			rc = ar_fail(ps, "'=' after the property name");
		if (rc == CP_OK)
			rc = ar_cfws(ps);
		if (rc == CP_OK)
			rc = ar_pvalue(ps);
		if (rc != CP_OK) {
			cp_free(ptype);
			cp_free(prop);
			return rc;
		}
		if (m->nprops == CP_AUTHRES_PROPS_MAX) {
			cp_free(ptype);
			cp_free(prop);
			return cp_err_set(ps->err, CP_ETOOBIG,
			    "authres: %s: more than %d properties", m->method,
			    CP_AUTHRES_PROPS_MAX);
		}
		p = &m->props[m->nprops++];
		p->ptype = ptype;
		p->property = prop;
		for (char *q = ptype; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q + 32);
		for (char *q = prop; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q + 32);
		if ((p->value = tmp_dup(ps)) == NULL)
			return ar_enomem(ps);
		if ((rc = ar_cfws(ps)) != CP_OK)
			return rc;
	}
}

/* resinfo after its ';': methodspec [reasonspec] *propspec */
static int
ar_resinfo(ar_parser *ps, cp_authres *ar)
{
	cp_authres_method *m;
	int rc;

	if (ar->n == CP_AUTHRES_METHODS_MAX)
		return cp_err_set(ps->err, CP_ETOOBIG,
		    "authres: more than %d results", CP_AUTHRES_METHODS_MAX);
	m = &ar->m[ar->n++];
	if ((m->method = ar_keyword(ps)) == NULL)
		return ar_fail(ps, "a method name");
	if ((rc = ar_cfws(ps)) != CP_OK)
		return rc;
	if (cp_cursor_take_char(&ps->c, '/')) {
		cp_slice v;

		if ((rc = ar_cfws(ps)) != CP_OK)
			return rc;
		cp_cursor_take_while(&ps->c, is_alnum, &v);
		if (v.len == 0)
			return ar_fail(ps, "a method version after '/'");
		if ((m->version = cp_strndup(v.p, v.len)) == NULL)
			return ar_enomem(ps);
		if ((rc = ar_cfws(ps)) != CP_OK)
			return rc;
	}
	if (!cp_cursor_take_char(&ps->c, '='))
		return ar_fail(ps, "'=' after the method name");
	if ((rc = ar_cfws(ps)) != CP_OK)
		return rc;
	if ((m->result = ar_keyword(ps)) == NULL)
		return ar_fail(ps, "a result keyword");
	for (char *q = m->method; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q + 32);
	for (char *q = m->result; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q + 32);
	ar_drop_comment(ps);
	if ((rc = ar_cfws(ps)) != CP_OK)
		return rc;
	m->comment = ar_take_comment(ps);
	return ar_props(ps, m);
}

static int
ar_parse(ar_parser *ps, cp_authres *ar)
{
	static const char name[] = "authentication-results";
	cp_slice s;
	int rc;

	/* the field name, when given */
	if (cp_cursor_left(&ps->c) > sizeof(name) - 1) {
		cp_slice head = { ps->c.p, sizeof(name) - 1 };

		if (cp_slice_eqi(head, name)) {
			ps->c.pos += sizeof(name) - 1;
			cp_cursor_skip_ws(&ps->c);
			if (!cp_cursor_take_char(&ps->c, ':'))
				return ar_fail(ps, "':' after the field name");
		}
	}
	if ((rc = ar_cfws(ps)) != CP_OK ||
	    (rc = ar_value(ps, "the authserv-id")) != CP_OK)
		return rc;
	if ((ar->authserv_id = tmp_dup(ps)) == NULL)
		return ar_enomem(ps);
	if ((rc = ar_cfws(ps)) != CP_OK)
		return rc;
	cp_cursor_take_while(&ps->c, is_alnum, &s);
	if (s.len > 0) {
		/* authres-version is 1*DIGIT */
		for (size_t i = 0; i < s.len; i++)
			if (s.p[i] < '0' || s.p[i] > '9')
				return ar_fail(ps, "';' after the authserv-id");
		if ((ar->version = cp_strndup(s.p, s.len)) == NULL)
			return ar_enomem(ps);
		if ((rc = ar_cfws(ps)) != CP_OK)
			return rc;
	}
	if (cp_cursor_eof(&ps->c))
		return ar_fail(ps, "';' and results (or '; none')");
	while (!cp_cursor_eof(&ps->c)) {
		size_t at;

		if (!cp_cursor_take_char(&ps->c, ';'))
			return ar_fail(ps, "';' between results");
		if ((rc = ar_cfws(ps)) != CP_OK)
			return rc;
		if (cp_cursor_eof(&ps->c))
			break; /* a final ';' is common; tolerated */
		at = cp_cursor_pos(&ps->c);
		cp_cursor_take_while(&ps->c, is_kwchar, &s);
		if (cp_slice_eqi(s, "none")) {
			if ((rc = ar_cfws(ps)) != CP_OK)
				return rc;
			if (cp_cursor_eof(&ps->c) && ar->n == 0)
				break; /* no-result */
		}
		ps->c.pos = at;
		if ((rc = ar_resinfo(ps, ar)) != CP_OK)
			return rc;
	}
	return CP_OK;
}

int
cp_authres_parse(const char *txt, size_t len, cp_authres **out, cp_err *err)
{
	ar_parser ps;
	cp_authres *ar;
	int rc;

	*out = NULL;
	if (len > AUTHRES_INPUT_MAX)
		return cp_err_set(err, CP_ETOOBIG,
		    "authres: field of %zu bytes, limit %d", len,
		    AUTHRES_INPUT_MAX);
	ar = cp_calloc(1, sizeof(*ar));
	if (ar == NULL)
		return cp_err_set(err, CP_ENOMEM, "authres: out of memory");
	memset(&ps, 0, sizeof(ps));
	cp_cursor_init(&ps.c, txt, len);
	cp_buf_init(&ps.tmp, AUTHRES_INPUT_MAX);
	ps.err = err;
	rc = ar_parse(&ps, ar);
	cp_buf_free(&ps.tmp);
	cp_free(ps.comment);
	if (rc != CP_OK) {
		cp_authres_free(ar);
		return rc;
	}
	*out = ar;
	return CP_OK;
}
