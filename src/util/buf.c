/*
 * buf.c - growable byte buffers with a ceiling (see buf.h).
 *
 * Growth doubles the capacity; appends past max fail with CP_ETOOBIG and
 * leave the buffer unchanged, so a caller can report the limit and go on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/err.h"

void
cp_buf_init(cp_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int
cp_buf_reserve(cp_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return CP_ETOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return CP_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = cp_realloc(b->data, cap);
	if (p == NULL)
		return CP_ENOMEM;
	b->data = p;
	b->cap = cap;
	return CP_OK;
}

int
cp_buf_add(cp_buf *b, const void *p, size_t n)
{
	int rc = cp_buf_reserve(b, n);

	if (rc != CP_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return CP_OK;
}

int
cp_buf_addc(cp_buf *b, char c)
{
	return cp_buf_add(b, &c, 1);
}

int
cp_buf_adds(cp_buf *b, const char *s)
{
	return cp_buf_add(b, s, strlen(s));
}

int
cp_buf_vaddf(cp_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return CP_EINVAL;
	rc = cp_buf_reserve(b, (size_t)n);
	if (rc != CP_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return CP_OK;
}

int
cp_buf_addf(cp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cp_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
cp_buf_reset(cp_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
cp_buf_free(cp_buf *b)
{
	cp_free(b->data);
	cp_buf_init(b, b->max);
}

void
cp_buf_wipe(cp_buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap); /* not optimised away */
	cp_buf_free(b);
}

char *
cp_buf_steal(cp_buf *b)
{
	char *p = b->data;

	cp_buf_init(b, b->max);
	return p;
}
