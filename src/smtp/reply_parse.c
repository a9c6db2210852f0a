/*
 * reply_parse.c - SMTP replies as receivers send them and MTAs log them.
 *
 * RFC 5321 4.2: a reply is a 3-digit code then text; a multi-line reply
 * repeats the code on every line, "NNN-" on all but the last ("NNN ").
 * RFC 3463 / RFC 2034: the enhanced status code follows the basic code when
 * the server announced ENHANCEDSTATUSCODES, but receivers also put it in
 * brackets, after a tag or at the end, so we look for it in the whole text
 * and keep only one whose class agrees with the basic code.
 *
 * What we strip: the sending MTA's wrapper (Postfix "host X[ip] said: ...
 * (in reply to RCPT TO command)", Exim "SMTP error from remote mail server
 * after RCPT TO:<a>: host X [ip]: ...", qmail "Remote host said:", Exchange
 * "Remote Server returned '...'", a "Diagnostic-Code: smtp;" prefix), and
 * continuation prefixes whether on their own lines or inlined.
 *
 * What we leave to others: classification (bounce/classify.c) and the
 * reading of DSNs (bounce/). The parser never allocates more than the
 * text it returns and never reads past len.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coldpost/reply.h"

void
cp_reply_init(cp_reply *r)
{
	memset(r, 0, sizeof(*r));
	cp_buf_init(&r->buf, CP_REPLY_MAX + 64);
	r->text = "";
}

void
cp_reply_clear(cp_reply *r)
{
	cp_buf_free(&r->buf);
	cp_reply_init(r);
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A basic code at s[0..2]: three digits, then end, space or '-'. */
static int
code_at(const char *s, size_t n)
{
	if (n < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]))
		return 0;
	if (n > 3 && s[3] != ' ' && s[3] != '-' && s[3] != '\t')
		return 0;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/*
 * An enhanced code "c.s.d" at s[i] within n bytes: class 2/4/5, subject
 * 0-7, 1-3 digit detail, not part of a longer dotted number (an IP
 * address or a version). Returns its length, or 0.
 */
static size_t
enh_at(const char *s, size_t n, size_t i, int *cls, int *sub, int *det)
{
	size_t j = i, k;
	int d = 0;

	if (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-'))
		return 0;
	if (j + 5 > n || (s[j] != '2' && s[j] != '4' && s[j] != '5') ||
	    s[j + 1] != '.')
		return 0;
	j += 2;
	if (!is_digit(s[j]) || s[j] > '7' || s[j + 1] != '.')
		return 0;
	*sub = s[j] - '0';
	j += 2;
	for (k = 0; j < n && is_digit(s[j]) && k < 4; j++, k++)
		d = d * 10 + (s[j] - '0');
	if (k == 0 || k > 3)
		return 0;
	if (j < n && (is_alnum(s[j]) ||
	    (s[j] == '.' && j + 1 < n && is_digit(s[j + 1]))))
		return 0;
	*cls = s[i] - '0';
	*det = d;
	return j - i;
}

/* needle is lowercase ASCII and starts with a non-letter or a letter. */
static const char *
find_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	int first = needle[0];
	int upper = first >= 'a' && first <= 'z' ? first - 32 : first;

	for (size_t i = 0; m <= n && i <= n - m; i++) {
		const char *a = memchr(s + i, first, n - m + 1 - i);
		const char *b = upper != first
		    ? memchr(s + i, upper, n - m + 1 - i) : NULL;
		const char *p = a == NULL ? b : b == NULL || a < b ? a : b;

		if (p == NULL)
			return NULL;
		i = (size_t)(p - s);
		if (strncasecmp(p + 1, needle + 1, m - 1) == 0)
			return p;
	}
	return NULL;
}

/* Host name after "host " in the wrapper part [s, s+n): "mx.example.com". */
static void
wrapper_host(cp_reply *r, const char *s, size_t n)
{
	const char *h = find_ci(s, n, "host ");
	size_t i, len = 0;
	int dot = 0;

	if (h == NULL)
		return;
	h += 5;
	i = (size_t)(h - s);
	while (i + len < n && (is_alnum(h[len]) || h[len] == '.' ||
	    h[len] == '-' || h[len] == '_')) {
		dot |= h[len] == '.';
		len++;
	}
	if (!dot || len < 3 || len >= sizeof(r->host))
		return;
	memcpy(r->host, h, len);
	r->host[len] = '\0';
}

/*
 * Where the receiver's own reply starts inside a wrapper: the first code
 * (basic or enhanced) preceded by ':', a quote, '(' or ']' and spaces. A
 * bare number in running text ("after 300 seconds") is not taken.
 */
static size_t
wrapper_reply_start(const char *s, size_t n)
{
	int cls, sub, det;

	for (size_t i = 1; i < n; i++) {
		size_t b = i;

		if (!is_digit(s[i]))
			continue;
		while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			b--;
		if (b == 0 || (s[b - 1] != ':' && s[b - 1] != '\'' &&
		    s[b - 1] != '"' && s[b - 1] != '(' && s[b - 1] != ']' &&
		    s[b - 1] != ';' && s[b - 1] != '\n' && s[b - 1] != '\r'))
			continue;
		if (code_at(s + i, n - i) >= 200 ||
		    enh_at(s, n, i, &cls, &sub, &det))
			return i;
	}
	return n;
}

/* Remove known trailers: "(in reply to ... command)", "(state 14).". */
static size_t
strip_trailers(const char *s, size_t n)
{
	const char *t;

	while (n > 0 && (is_space(s[n - 1]) || s[n - 1] == '.'))
		n--;
	t = NULL;
	for (const char *p = s; (p = find_ci(p, n - (size_t)(p - s),
	    "(in reply to ")) != NULL; p++)
		t = p;
	if (t != NULL)
		n = (size_t)(t - s);
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n > 8 && s[n - 1] == ')') {
		size_t i = n - 1;

		while (i > 0 && is_digit(s[i - 1]))
			i--;
		if (i >= 7 && strncasecmp(s + i - 7, "(state ", 7) == 0)
			n = i - 7;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	return n;
}

/* Drop a "Diagnostic-Code:" field name and an "smtp;" type prefix. */
static size_t
strip_diag_prefix(const char *s, size_t n)
{
	size_t i = 0, j;

	if (n >= 16 && strncasecmp(s, "Diagnostic-Code:", 16) == 0)
		i = 16;
	while (i < n && is_space(s[i]))
		i++;
	for (j = i; j < n && j - i < 20 && (is_alnum(s[j]) || s[j] == '-');
	     j++)
		;
	if (j > i && j < n && s[j] == ';' && !is_digit(s[i])) {
		i = j + 1;
		while (i < n && is_space(s[i]))
			i++;
	}
	return i;
}

/*
 * Append text, collapsing white space and turning control bytes to spaces.
 * The text never grows, so one reservation covers it.
 */
static int
add_text(cp_buf *b, const char *s, size_t n)
{
	char *d;
	size_t w;

	if (cp_buf_reserve(b, n) != CP_OK)
		return CP_ETOOBIG;
	d = b->data;
	w = b->len;
	for (size_t i = 0; i < n;) {
		size_t run = i;

		/* a run of ordinary bytes is copied whole */
		while (run < n && (unsigned char)s[run] > 0x20 &&
		    (unsigned char)s[run] != 0x7f)
			run++;
		memcpy(d + w, s + i, run - i);
		w += run - i;
		if (run < n && w > 0 && d[w - 1] != ' ')
			d[w++] = ' ';
		i = run + 1;
	}
	b->len = w;
	d[w] = '\0';
	return CP_OK;
}

/* Does the 3-digit code occur in s? (memmem is slow on 3-byte needles.) */
static int
has_code_again(const char *s, size_t n, const char *code)
{
	const char *p = s, *end = s + n;

	while (end - p >= 3 && (p = memchr(p, code[0], (size_t)(end - p - 2))))
		if (p[1] == code[1] && p[2] == code[2])
			return 1;
		else
			p++;
	return 0;
}

/*
 * Remove continuation prefixes that were inlined into one line, such as
 * " 550-5.7.1 " or " 550 5.7.1 " (when the enhanced code repeats) from the
 * message at b[from..]. code is the reply's basic code as 3 characters.
 */
static void
strip_inline_prefixes(cp_buf *b, size_t from, const char *code,
    const char *enh)
{
	size_t elen = strlen(enh), w = from, i = from;
	char *d = b->data;
	int seen_dash = 0; /* an inlined "550-" makes a later "550 " a prefix */

	if (d == NULL || !has_code_again(d + from, b->len - from, code))
		return; /* the common case: the code does not repeat */
	while (i < b->len) {
		int at_word = i == from || d[i - 1] == ' ';
		size_t skip = 0;

		if (at_word && i + 3 <= b->len && memcmp(d + i, code, 3) == 0 &&
		    (i + 3 == b->len || d[i + 3] == '-' || d[i + 3] == ' ')) {
			int dash = i + 3 < b->len && d[i + 3] == '-';
			size_t k = i + 4;

			if (elen && k + elen <= b->len &&
			    memcmp(d + k, enh, elen) == 0 &&
			    (k + elen == b->len || d[k + elen] == ' ')) {
				skip = k + elen - i;
			} else if (dash || seen_dash || i + 3 == b->len) {
				skip = CP_MIN(k, b->len) - i;
			}
			seen_dash |= dash;
		}
		if (skip) {
			i += skip;
			while (i < b->len && d[i] == ' ')
				i++;
			if (w > from && d[w - 1] != ' ' && i < b->len)
				d[w++] = ' ';
			continue;
		}
		d[w++] = d[i++];
	}
	while (w > from && d[w - 1] == ' ')
		w--;
	b->len = w;
	d[w] = '\0';
}

/* Take the enhanced code at the start of line text, if any. */
static size_t
take_enh(cp_reply *r, const char *s, size_t n, int want_cls)
{
	int cls, sub, det;
	size_t len = enh_at(s, n, 0, &cls, &sub, &det);

	if (len == 0 || (want_cls && cls != want_cls))
		return 0;
	if (r->cls == 0) {
		r->cls = cls;
		r->subject = sub;
		r->detail = det;
		memcpy(r->enhanced, s, len);
		r->enhanced[len] = '\0';
	}
	return len;
}

/*
 * Search the message for an enhanced code whose class fits the reply: find
 * each '.', and see whether a code starts just before it.
 */
static void
find_enh_anywhere(cp_reply *r, const char *s, size_t n)
{
	const char *p = s + 1, *end = s + n;
	int cls, sub, det;

	while (p < end && (p = memchr(p, '.', (size_t)(end - p))) != NULL) {
		size_t i = (size_t)(p - s) - 1, len;

		p++;
		if (s[i] != '2' && s[i] != '4' && s[i] != '5')
			continue;
		len = enh_at(s, n, i, &cls, &sub, &det);
		if (len == 0 || (r->code && cls != r->code / 100))
			continue;
		r->cls = cls;
		r->subject = sub;
		r->detail = det;
		memcpy(r->enhanced, s + i, len);
		r->enhanced[len] = '\0';
		return;
	}
}

static int
bad_code(const char *s, size_t n, cp_err *err)
{
	size_t k = 0;

	while (k < n && is_digit(s[k]))
		k++;
	if (k == 3)
		return cp_err_set(err, CP_ESYNTAX,
		    "reply: code %.3s out of range: the first digit must be "
		    "2 to 5 (RFC 5321 4.2.1)", s);
	return cp_err_set(err, CP_ESYNTAX,
	    "reply: '%.*s' is not a 3-digit reply code (RFC 5321 4.2)",
	    (int)CP_MIN(k, 12), s);
}

/* One line of the reply: its code prefix, its enhanced code, its text. */
static int
parse_line(cp_reply *r, const char *s, size_t n, size_t msg_from,
    int lineno, cp_err *err)
{
	int code = code_at(s, n);
	size_t i = 0;

	if (code == 0 && n >= 3 && is_digit(s[0]) && is_digit(s[1]) &&
	    is_digit(s[2]) && lineno == 1)
		return bad_code(s, n, err);
	if (code) {
		if (code < 200 || code > 599)
			return bad_code(s, n, err);
		if (r->code == 0 && lineno == 1)
			r->code = code;
		else if (r->code && code != r->code)
			return cp_err_set(err, CP_ESYNTAX,
			    "reply: line %d: code %d differs from %d on line 1 "
			    "(RFC 5321 4.2)", lineno, code, r->code);
		i = 4;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i > n)
			i = n;
	}
	if (i < n) {
		size_t e = take_enh(r, s + i, n - i,
		    r->code ? r->code / 100 : 0);

		if (e && (lineno == 1 || code))
			for (i += e; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
				;
	}
	if (r->buf.len > msg_from && i < n)
		if (cp_buf_addc(&r->buf, ' ') != CP_OK)
			return cp_err_set(err, CP_ETOOBIG, "reply: too long");
	if (add_text(&r->buf, s + i, n - i) != CP_OK)
		return cp_err_set(err, CP_ETOOBIG, "reply: too long");
	return CP_OK;
}

/* Index of the next CR or LF at or after i, or n. */
static size_t
eol(const char *s, size_t n, size_t i)
{
	const char *lf = memchr(s + i, '\n', n - i);
	const char *cr = memchr(s + i, '\r', (lf ? (size_t)(lf - s) : n) - i);

	if (cr != NULL)
		return (size_t)(cr - s);
	return lf != NULL ? (size_t)(lf - s) : n;
}

static int
parse_lines(cp_reply *r, const char *s, size_t n, cp_err *err)
{
	size_t i = 0, msg_from = r->buf.len;
	int rc;

	while (i < n) {
		size_t j = eol(s, n, i), k;

		k = j;
		while (i < k && is_space(s[i]))
			i++;
		while (k > i && is_space(s[k - 1]))
			k--;
		if (k > i) {
			r->nlines++;
			rc = parse_line(r, s + i, k - i, msg_from, r->nlines,
			    err);
			if (rc != CP_OK)
				return rc;
		}
		if (j + 1 < n && s[j] == '\r' && s[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	return CP_OK;
}

int
cp_reply_parse(cp_reply *r, const char *s, size_t n, cp_err *err)
{
	size_t start, end, msg_from;
	char code[4], head[32];
	int rc, quoted = 0;

	r->code = r->cls = r->subject = r->detail = 0;
	r->enhanced[0] = r->host[0] = '\0';
	r->nlines = r->wrapped = 0;
	r->text = "";
	r->text_len = r->msg_off = 0;
	cp_buf_reset(&r->buf);
	if (n > CP_REPLY_MAX)
		return cp_err_set(err, CP_ETOOBIG,
		    "reply: %zu bytes, limit %d", n, CP_REPLY_MAX);
	start = strip_diag_prefix(s, n);
	while (start < n && is_space(s[start]))
		start++;
	end = start + strip_trailers(s + start, n - start);
	if (start >= end)
		return cp_err_set(err, CP_ESYNTAX, "reply: empty");
	if (!is_digit(s[start])) {
		size_t at = start + wrapper_reply_start(s + start, end - start);

		if (at >= end)
			return cp_err_set(err, CP_ESYNTAX,
			    "reply: no reply code (expected 3 digits such as "
			    "550 at the start, RFC 5321 4.2)");
		wrapper_host(r, s + start, at - start);
		quoted = s[at - 1] == '\'' || s[at - 1] == '"';
		r->wrapped = 1;
		start = at;
		if (quoted && end > start && s[end - 1] == s[at - 1])
			end--;
		end = start + strip_trailers(s + start, end - start);
	}
	/* Reserve the head ("550 5.7.1 ") by parsing lines after a gap. */
	rc = parse_lines(r, s + start, end - start, err);
	if (rc != CP_OK)
		return rc;
	if (r->code == 0 && r->cls == 0)
		return cp_err_set(err, CP_ESYNTAX,
		    "reply: no reply code (expected 3 digits such as 550 at "
		    "the start, RFC 5321 4.2)");
	msg_from = 0;
	if (r->code) {
		code[0] = (char)('0' + r->code / 100);
		code[1] = (char)('0' + r->code / 10 % 10);
		code[2] = (char)('0' + r->code % 10);
		code[3] = '\0';
		if (r->cls == 0)
			find_enh_anywhere(r, r->buf.data, r->buf.len);
		strip_inline_prefixes(&r->buf, msg_from, code, r->enhanced);
	}
	/* Prepend the codes: the patterns see "550 5.7.1 text". */
	rc = 0;
	if (r->code) {
		memcpy(head, code, 3);
		head[3] = ' ';
		rc = 4;
	}
	if (r->enhanced[0]) {
		size_t el = strlen(r->enhanced);

		memcpy(head + rc, r->enhanced, el);
		rc += (int)el;
		head[rc++] = ' ';
	}
	if (cp_buf_add(&r->buf, head, (size_t)rc) != CP_OK)
		return cp_err_set(err, CP_ETOOBIG, "reply: too long");
	memmove(r->buf.data + rc, r->buf.data, r->buf.len - (size_t)rc);
	memcpy(r->buf.data, head, (size_t)rc);
	r->msg_off = (size_t)rc;
	while (r->buf.len > 0 && r->buf.data[r->buf.len - 1] == ' ')
		r->buf.len--;
	r->buf.data[r->buf.len] = '\0';
	if (r->msg_off > r->buf.len) /* codes only: the message is empty */
		r->msg_off = r->buf.len;
	r->text = r->buf.data;
	r->text_len = r->buf.len;
	return CP_OK;
}

int
cp_reply_class(const cp_reply *r)
{
	int c = r->code ? r->code / 100 : r->cls;

	return c <= 3 ? 1 : c;
}
