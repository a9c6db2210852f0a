/*
 * auth_from.c - the author addresses of a From header field, for DMARC's
 * author domain (RFC 7489 6.6.1).
 *
 * The field value is read as an RFC 5322 3.4 address-list (From is a
 * mailbox-list, RFC 6854 admits groups): a tokenizer skips CFWS (white
 * space, folding, comments nested to any depth with quoted pairs) and
 * yields atoms, quoted strings, domain literals and the specials; the
 * parser above it accepts mailbox = name-addr / addr-spec with phrases of
 * words and dots (obs-phrase), an obsolete route in the angle address,
 * groups, and empty list elements (4.4). Only what DMARC needs comes out:
 * each mailbox's local part and domain, the domain lowercased and, when
 * it has non-ASCII labels (RFC 6532), converted to A-labels with libidn2
 * (RFC 7489 6.6.1: a U-label domain is looked up as its A-label form).
 *
 * Lenient where mail is commonly sloppy and the domain is still
 * unambiguous (a phrase before '@' as the local part, consecutive dots in
 * a local part); strict where a sloppy reading could pick the wrong
 * domain (text after an address, a second '@', an unclosed '<' or group),
 * because a From field read two ways is how DMARC gets spoofed.
 */
#include <idn2.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/auth.h"

enum {
	TOK_END,
	TOK_ATOM,    /* 1*atext (UTF-8 bytes count as atext, RFC 6532) */
	TOK_QSTR,    /* "..." */
	TOK_DLIT,    /* [...] */
	TOK_SPECIAL  /* one of < > @ , ; : . */
};

#define FROM_COMMENT_DEPTH 64

typedef struct from_tok {
	int kind;
	char ch;       /* TOK_SPECIAL */
	size_t off;    /* raw bytes of the token in the input */
	size_t len;
} from_tok;

typedef struct from_parser {
	const char *p;
	size_t len, pos;
	from_tok la;   /* the lookahead, when have_la */
	int have_la;
	cp_auth_from *out;
	cp_err *err;
} from_parser;

static int
from_is_atext(int ch)
{
	if (ch >= 0x80)
		return 1;
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

static int
from_fail(from_parser *ps, size_t at, const char *what)
{
	char near[24];
	size_t n = 0;

	for (size_t i = at; i < ps->len && n < 16; i++) {
		unsigned char c = (unsigned char)ps->p[i];

		near[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	near[n] = '\0';
	return cp_err_set(ps->err, CP_ESYNTAX, "from: %s at offset %zu%s%s%s",
	    what, at, n ? " ('" : "", near, n ? "')" : "");
}

/* Skip CFWS: white space, line breaks (folding) and comments. */
static int
from_skip_cfws(from_parser *ps)
{
	while (ps->pos < ps->len) {
		char c = ps->p[ps->pos];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			ps->pos++;
		} else if (c == '(') {
			size_t start = ps->pos;
			int depth = 0;

			while (ps->pos < ps->len) {
				c = ps->p[ps->pos++];
				if (c == '\\') {
					if (ps->pos < ps->len)
						ps->pos++;
				} else if (c == '(') {
					if (++depth > FROM_COMMENT_DEPTH)
						return from_fail(ps, start,
						    "comments nested too deep");
				} else if (c == ')') {
					if (--depth == 0)
						break;
				}
			}
			if (depth != 0)
				return from_fail(ps, start, "unclosed comment");
		} else {
			break;
		}
	}
	return CP_OK;
}

/* The bracketed token starting at pos (quoted string or domain literal). */
static int
from_take_bracketed(from_parser *ps, char close, const char *what)
{
	size_t start = ps->pos;

	ps->pos++;
	while (ps->pos < ps->len) {
		char c = ps->p[ps->pos++];

		if (c == '\\') {
			if (ps->pos < ps->len)
				ps->pos++;
		} else if (c == close) {
			return CP_OK;
		} else if (close == ']' && (c == '[')) {
			return from_fail(ps, ps->pos - 1, "'[' inside a domain "
			    "literal");
		}
	}
	return from_fail(ps, start, what);
}

static int
from_next(from_parser *ps, from_tok *t)
{
	int rc;
	char c;

	if (ps->have_la) {
		*t = ps->la;
		ps->have_la = 0;
		return CP_OK;
	}
	if ((rc = from_skip_cfws(ps)) != CP_OK)
		return rc;
	memset(t, 0, sizeof(*t));
	t->off = ps->pos;
	if (ps->pos >= ps->len) {
		t->kind = TOK_END;
		return CP_OK;
	}
	c = ps->p[ps->pos];
	if (c == '"') {
		if ((rc = from_take_bracketed(ps, '"', "unclosed quoted string"))
		    != CP_OK)
			return rc;
		t->kind = TOK_QSTR;
	} else if (c == '[') {
		if ((rc = from_take_bracketed(ps, ']', "unclosed domain literal"))
		    != CP_OK)
			return rc;
		t->kind = TOK_DLIT;
	} else if (c != '\0' && strchr("<>@,;:.", c) != NULL) {
		ps->pos++;
		t->kind = TOK_SPECIAL;
		t->ch = c;
	} else if (from_is_atext((unsigned char)c)) {
		while (ps->pos < ps->len &&
		    from_is_atext((unsigned char)ps->p[ps->pos]))
			ps->pos++;
		t->kind = TOK_ATOM;
	} else {
		return from_fail(ps, ps->pos, "unexpected character");
	}
	t->len = ps->pos - t->off;
	return CP_OK;
}

static int
from_peek(from_parser *ps, from_tok *t)
{
	int rc;

	if (!ps->have_la) {
		if ((rc = from_next(ps, &ps->la)) != CP_OK)
			return rc;
		ps->have_la = 1;
	}
	*t = ps->la;
	return CP_OK;
}

static int
from_is_special(const from_tok *t, char ch)
{
	return t->kind == TOK_SPECIAL && t->ch == ch;
}

/* Append a token's text to a local part (quoted strings unquoted). */
static void
from_local_add(char *dst, size_t *n, size_t max, const from_parser *ps,
    const from_tok *t)
{
	const char *s = ps->p + t->off;
	size_t len = t->len;

	if (t->kind == TOK_QSTR) {
		s++;
		len -= 2;
	}
	for (size_t i = 0; i < len && *n + 1 < max; i++) {
		if (t->kind == TOK_QSTR && s[i] == '\\' && i + 1 < len)
			i++;
		dst[(*n)++] = s[i];
	}
	dst[*n] = '\0';
}

/*
 * The domain's text, lowercased, into out; non-ASCII labels become
 * A-labels. CP_EINVAL when it is not a host name DNS can ask for.
 */
static int
from_set_domain(from_parser *ps, const char *d, size_t len, size_t at,
    char *out, size_t outlen)
{
	char tmp[1024];
	size_t lab = 0;
	int ascii = 1;

	if (len >= sizeof(tmp))
		return cp_err_set(ps->err, CP_EINVAL, "from: domain at offset "
		    "%zu is too long", at);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)d[i] >= 0x80)
			ascii = 0;
	if (ascii) {
		memcpy(tmp, d, len);
		tmp[len] = '\0';
	} else {
		char in[1024], *a = NULL;
		int rc;

		memcpy(in, d, len);
		in[len] = '\0';
		rc = idn2_to_ascii_8z(in, &a, IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK) {
			rc = idn2_to_ascii_8z(in, &a, IDN2_TRANSITIONAL);
		}
		if (rc != IDN2_OK || a == NULL || strlen(a) >= sizeof(tmp)) {
			idn2_free(a);
			return cp_err_set(ps->err, CP_EINVAL, "from: domain at "
			    "offset %zu is not a valid internationalized name "
			    "(%s)", at, idn2_strerror(rc));
		}
		snprintf(tmp, sizeof(tmp), "%s", a);
		idn2_free(a);
		len = strlen(tmp);
	}
	if (len == 0 || len > 253)
		return cp_err_set(ps->err, CP_EINVAL, "from: domain at offset %zu "
		    "is %s", at, len ? "over 253 bytes" : "empty");
	for (size_t i = 0; i <= len; i++) {
		char c = tmp[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63)
				return cp_err_set(ps->err, CP_EINVAL, "from: "
				    "domain '%.*s' has a label of %zu bytes",
				    (int)CP_MIN(len, 64), tmp, lab);
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return cp_err_set(ps->err, CP_EINVAL, "from: domain "
			    "'%.*s' has a character not allowed in a host name",
			    (int)CP_MIN(len, 64), tmp);
		lab++;
	}
	if (len >= outlen)
		return cp_err_set(ps->err, CP_EINVAL, "from: domain too long");
	for (size_t i = 0; i < len; i++)
		out[i] = (char)((tmp[i] >= 'A' && tmp[i] <= 'Z') ? tmp[i] + 32
								: tmp[i]);
	out[len] = '\0';
	return CP_OK;
}

/* domain = dot-atom / domain-literal / obs-domain, after the '@'. */
static int
from_domain(from_parser *ps, cp_auth_mailbox *m)
{
	char d[1024];
	size_t n = 0, at;
	from_tok t;
	int rc;

	if ((rc = from_next(ps, &t)) != CP_OK)
		return rc;
	at = t.off;
	if (t.kind == TOK_DLIT) {
		if (m != NULL) {
			m->literal = 1;
			m->domain[0] = '\0';
		}
		return CP_OK;
	}
	for (;;) {
		if (t.kind != TOK_ATOM)
			return from_fail(ps, t.off, n ? "expected a label after "
			    "'.'" : "expected a domain after '@'");
		if (n + t.len >= sizeof(d))
			return cp_err_set(ps->err, CP_EINVAL, "from: domain at "
			    "offset %zu is too long", at);
		memcpy(d + n, ps->p + t.off, t.len);
		n += t.len;
		if ((rc = from_peek(ps, &t)) != CP_OK)
			return rc;
		if (!from_is_special(&t, '.'))
			break;
		(void)from_next(ps, &t);
		d[n++] = '.';
		if ((rc = from_next(ps, &t)) != CP_OK)
			return rc;
	}
	if (m == NULL) /* a route's domain: checked for syntax only */
		return CP_OK;
	m->literal = 0;
	return from_set_domain(ps, d, n, at, m->domain, sizeof(m->domain));
}

static cp_auth_mailbox *
from_slot(from_parser *ps)
{
	cp_auth_mailbox *m = NULL;

	if (ps->out->n < CP_AUTH_FROM_MAX)
		m = &ps->out->mbox[ps->out->n];
	if (m != NULL)
		memset(m, 0, sizeof(*m));
	return m;
}

static void
from_keep(from_parser *ps)
{
	if (ps->out->n < CP_AUTH_FROM_MAX)
		ps->out->n++;
	ps->out->n_all++;
}

/* The local part (words and dots, already read) then '@' domain. */
static int
from_addr_spec_rest(from_parser *ps, cp_auth_mailbox *m)
{
	from_tok t;
	int rc;

	if ((rc = from_next(ps, &t)) != CP_OK)
		return rc;
	if (!from_is_special(&t, '@'))
		return from_fail(ps, t.off, "expected '@'");
	return from_domain(ps, m);
}

/*
 * A run of words and dots (a phrase, or a local part: the same tokens),
 * appended to local; *t is left on the token after it, *words counts the
 * words (dots are not).
 */
static int
from_words(from_parser *ps, char *local, size_t *ln, size_t lmax,
    from_tok *t, int *words)
{
	int rc;

	for (;;) {
		if ((rc = from_peek(ps, t)) != CP_OK)
			return rc;
		if (t->kind != TOK_ATOM && t->kind != TOK_QSTR &&
		    !from_is_special(t, '.'))
			return CP_OK;
		(void)from_next(ps, t);
		if (t->kind != TOK_SPECIAL)
			(*words)++;
		from_local_add(local, ln, lmax, ps, t);
	}
}

/* angle-addr after '<': [obs-route] addr-spec '>'. */
static int
from_angle(from_parser *ps, cp_auth_mailbox *m, size_t lt_off)
{
	from_tok t;
	size_t ln = 0;
	char scratch[256];
	char *local = m ? m->local : scratch;
	size_t lmax = m ? sizeof(m->local) : sizeof(scratch);
	int rc, words = 0;

	local[0] = '\0';
	if ((rc = from_peek(ps, &t)) != CP_OK)
		return rc;
	if (from_is_special(&t, '@') || from_is_special(&t, ',')) {
		/* obs-route: *(CFWS / ",") "@" domain *("," ["@" domain]) ":" */
		for (;;) {
			if ((rc = from_next(ps, &t)) != CP_OK)
				return rc;
			if (from_is_special(&t, ':'))
				break;
			if (from_is_special(&t, ','))
				continue;
			if (!from_is_special(&t, '@'))
				return from_fail(ps, t.off, "bad route in "
				    "angle address");
			if ((rc = from_domain(ps, NULL)) != CP_OK)
				return rc;
		}
	}
	if ((rc = from_words(ps, local, &ln, lmax, &t, &words)) != CP_OK)
		return rc;
	if (from_is_special(&t, '>'))
		return from_fail(ps, lt_off, words ? "no '@' in angle address"
		    : "empty angle address");
	if (words == 0)
		return from_fail(ps, t.off, "no local part before '@'");
	if ((rc = from_addr_spec_rest(ps, m)) != CP_OK)
		return rc;
	if ((rc = from_next(ps, &t)) != CP_OK)
		return rc;
	if (!from_is_special(&t, '>'))
		return from_fail(ps, t.off, "expected '>' to close the angle "
		    "address");
	return CP_OK;
}

/*
 * One mailbox, or (in_group 0) a group. The phrase or local part comes
 * first; what follows it tells which.
 */
static int
from_address(from_parser *ps, int in_group)
{
	cp_auth_mailbox *m = from_slot(ps);
	char scratch[256];
	char *local = m ? m->local : scratch;
	size_t lmax = m ? sizeof(m->local) : sizeof(scratch), ln = 0;
	from_tok t;
	int rc, words = 0;

	local[0] = '\0';
	if ((rc = from_words(ps, local, &ln, lmax, &t, &words)) != CP_OK)
		return rc;
	if (from_is_special(&t, '<')) {
		(void)from_next(ps, &t);
		if ((rc = from_angle(ps, m, t.off)) != CP_OK)
			return rc;
		from_keep(ps);
		return CP_OK;
	}
	if (from_is_special(&t, '@')) {
		if (words == 0)
			return from_fail(ps, t.off, "no local part before '@'");
		if ((rc = from_addr_spec_rest(ps, m)) != CP_OK)
			return rc;
		from_keep(ps);
		return CP_OK;
	}
	if (from_is_special(&t, ':')) {
		if (in_group)
			return from_fail(ps, t.off, "a group inside a group");
		if (words == 0)
			return from_fail(ps, t.off, "a group without a name");
		(void)from_next(ps, &t);
		ps->out->ngroups++;
		for (;;) {
			if ((rc = from_peek(ps, &t)) != CP_OK)
				return rc;
			if (from_is_special(&t, ',')) {
				(void)from_next(ps, &t);
				continue;
			}
			if (from_is_special(&t, ';')) {
				(void)from_next(ps, &t);
				return CP_OK;
			}
			if (t.kind == TOK_END)
				return from_fail(ps, t.off, "group not closed "
				    "with ';'");
			if ((rc = from_address(ps, 1)) != CP_OK)
				return rc;
			if ((rc = from_peek(ps, &t)) != CP_OK)
				return rc;
			if (!from_is_special(&t, ',') &&
			    !from_is_special(&t, ';'))
				return from_fail(ps, t.off, "expected ',' or ';' "
				    "in a group");
		}
	}
	if (t.kind == TOK_END)
		return from_fail(ps, t.off, words ? "no '@' in the address"
		    : "expected an address");
	return from_fail(ps, t.off, words ? "expected '<', '@' or ':' after "
	    "the name" : "expected an address");
}

int
cp_auth_parse_from(const char *txt, size_t len, cp_auth_from *out,
    cp_err *err)
{
	from_parser ps;
	from_tok t;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.p = txt;
	ps.len = len;
	ps.out = out;
	ps.err = err;
	for (;;) {
		if ((rc = from_peek(&ps, &t)) != CP_OK)
			return rc;
		if (from_is_special(&t, ',')) { /* obs-mbox-list: empty elements */
			(void)from_next(&ps, &t);
			continue;
		}
		if (t.kind == TOK_END)
			break;
		if ((rc = from_address(&ps, 0)) != CP_OK)
			return rc;
		if ((rc = from_peek(&ps, &t)) != CP_OK)
			return rc;
		if (t.kind == TOK_END)
			break;
		if (!from_is_special(&t, ','))
			return from_fail(&ps, t.off, "expected ',' between "
			    "addresses");
	}
	if (out->n_all == 0 && out->ngroups == 0)
		return cp_err_set(err, CP_ESYNTAX, "from: no address");
	return CP_OK;
}
