/*
 * cursor.c - bounded reading of byte strings (see cursor.h).
 *
 * No mail knowledge: the grammar lives in the parsers (dmarc_parse.c and
 * friends); this file only moves a position through bytes it never
 * writes, and never reads past len.
 */
#include <string.h>

#include "coldpost/cursor.h"
#include "coldpost/err.h"

void
cp_cursor_init(cp_cursor *c, const char *p, size_t len)
{
	c->p = p;
	c->len = p != NULL ? len : 0;
	c->pos = 0;
}

int
cp_cursor_eof(const cp_cursor *c)
{
	return c->pos >= c->len;
}

size_t
cp_cursor_pos(const cp_cursor *c)
{
	return c->pos;
}

size_t
cp_cursor_left(const cp_cursor *c)
{
	return c->len - c->pos;
}

int
cp_cursor_peek(const cp_cursor *c)
{
	return c->pos < c->len ? (unsigned char)c->p[c->pos] : -1;
}

int
cp_cursor_take_char(cp_cursor *c, char ch)
{
	if (c->pos < c->len && c->p[c->pos] == ch) {
		c->pos++;
		return 1;
	}
	return 0;
}

void
cp_cursor_skip_ws(cp_cursor *c)
{
	while (c->pos < c->len && (c->p[c->pos] == ' ' || c->p[c->pos] == '\t'))
		c->pos++;
}

int
cp_cursor_take_until(cp_cursor *c, char delim, cp_slice *out)
{
	const char *start = c->p + c->pos;
	const char *hit = c->pos < c->len
	    ? memchr(start, (unsigned char)delim, c->len - c->pos)
	    : NULL;

	if (hit == NULL) {
		out->p = start;
		out->len = c->len - c->pos;
		c->pos = c->len;
		return CP_ENOTFOUND;
	}
	out->p = start;
	out->len = (size_t)(hit - start);
	c->pos += out->len + 1;
	return CP_OK;
}

void
cp_cursor_take_while(cp_cursor *c, int (*pred)(int ch), cp_slice *out)
{
	out->p = c->p + c->pos;
	out->len = 0;
	while (c->pos < c->len && pred((unsigned char)c->p[c->pos])) {
		c->pos++;
		out->len++;
	}
}

cp_slice
cp_slice_trim(cp_slice s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

int
cp_slice_eq(cp_slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

int
cp_slice_eqi(cp_slice s, const char *lit)
{
	size_t n = strlen(lit);

	if (s.len != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)s.p[i], b = (unsigned char)lit[i];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + 32);
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b + 32);
		if (a != b)
			return 0;
	}
	return 1;
}

cp_slice
cp_slice_from(const char *s)
{
	cp_slice r = { s, s != NULL ? strlen(s) : 0 };

	return r;
}
