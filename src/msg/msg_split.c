/*
 * msg_split.c - a streaming splitter of RFC 5322 messages into header
 * fields and body (see msg.h).
 *
 * RFC 5322 2.2 (header fields, unfolding: a line that starts with WSP
 * continues the field above it) and 2.1 (the first empty line ends the
 * header section). Fields are handed over byte for byte as received,
 * folding and line ends included, because DKIM's "simple" header
 * canonicalization (RFC 6376 3.4.1) needs them untouched; interpreting a
 * field (unfolding, decoding) is left to its users.
 */
#include <string.h>

#include "coldpost/msg.h"

enum {
	SPLIT_FIRST,    /* start of a line, no field pending */
	SPLIT_LINE,     /* inside a line of the pending field */
	SPLIT_CR,       /* a CR was the last byte of the pending field */
	SPLIT_BOL,      /* start of a line, a field pending */
	SPLIT_BLANK_CR, /* a CR at the start of a line: maybe the empty line */
	SPLIT_DONE
};

void
cp_msg_split_init(cp_msg_split *s, size_t field_max)
{
	cp_buf_init(&s->field, field_max ? field_max : CP_MSG_FIELD_MAX);
	s->state = SPLIT_FIRST;
	s->done = 0;
	s->crlf = -1;
}

void
cp_msg_split_clear(cp_msg_split *s)
{
	cp_buf_free(&s->field);
	s->state = SPLIT_FIRST;
	s->done = 0;
	s->crlf = -1;
}

static int
split_add(cp_msg_split *s, const char *p, size_t n, cp_err *err)
{
	int rc = cp_buf_add(&s->field, p, n);

	if (rc == CP_ETOOBIG)
		return cp_err_set(err, rc,
		    "msg: header field longer than %zu bytes ('%.40s...')",
		    s->field.max, s->field.data ? s->field.data : "");
	if (rc != CP_OK)
		return cp_err_set(err, rc, "msg: out of memory");
	return CP_OK;
}

/* Hand the pending field (if any) to fn and start afresh. */
static int
split_emit(cp_msg_split *s, cp_msg_field_fn fn, void *arg)
{
	int rc = 0;

	if (s->field.len > 0)
		rc = fn(arg, s->field.data, s->field.len);
	cp_buf_reset(&s->field);
	return rc;
}

int
cp_msg_split_feed(cp_msg_split *s, const char *p, size_t len,
    size_t *body_off, cp_msg_field_fn fn, void *arg, cp_err *err)
{
	size_t i = 0;
	int rc;

	CP_ASSERT(!s->done);
	*body_off = len;
	while (i < len) {
		char c = p[i];

		switch (s->state) {
		case SPLIT_LINE: {
			size_t j = i;

			while (j < len && p[j] != '\r' && p[j] != '\n')
				j++;
			if (j > i && (rc = split_add(s, p + i, j - i, err)) != CP_OK)
				return rc;
			i = j;
			if (i == len)
				break;
			c = p[i];
			if ((rc = split_add(s, &c, 1, err)) != CP_OK)
				return rc;
			if (c == '\n') {
				if (s->crlf < 0)
					s->crlf = 0;
				s->state = SPLIT_BOL;
			} else {
				s->state = SPLIT_CR;
			}
			i++;
			break;
		}
		case SPLIT_CR:
			if ((rc = split_add(s, &c, 1, err)) != CP_OK)
				return rc;
			if (c == '\n') {
				if (s->crlf < 0)
					s->crlf = 1;
				s->state = SPLIT_BOL;
			} else if (c != '\r') {
				s->state = SPLIT_LINE;
			}
			i++;
			break;
		case SPLIT_FIRST:
		case SPLIT_BOL:
			if (c == '\n') { /* an empty line ended by a bare LF */
				if ((rc = split_emit(s, fn, arg)) != 0)
					return rc;
				if (s->crlf < 0)
					s->crlf = 0;
				s->state = SPLIT_DONE;
				s->done = 1;
				*body_off = i + 1;
				return CP_OK;
			}
			if (c == '\r') {
				s->state = SPLIT_BLANK_CR;
				i++;
				break;
			}
			if (s->state == SPLIT_BOL && c != ' ' && c != '\t' &&
			    (rc = split_emit(s, fn, arg)) != 0)
				return rc;
			s->state = SPLIT_LINE; /* c is taken by SPLIT_LINE */
			break;
		case SPLIT_BLANK_CR:
			if (c == '\n') {
				if ((rc = split_emit(s, fn, arg)) != 0)
					return rc;
				if (s->crlf < 0)
					s->crlf = 1;
				s->state = SPLIT_DONE;
				s->done = 1;
				*body_off = i + 1;
				return CP_OK;
			}
			/* a line starting with a bare CR: a new (odd) field */
			if ((rc = split_emit(s, fn, arg)) != 0)
				return rc;
			if ((rc = split_add(s, "\r", 1, err)) != CP_OK)
				return rc;
			s->state = SPLIT_CR; /* c is looked at again */
			break;
		default:
			CP_ASSERT(0);
		}
	}
	return CP_OK;
}

int
cp_msg_split_end(cp_msg_split *s, cp_msg_field_fn fn, void *arg, cp_err *err)
{
	int rc;

	(void)err;
	if (s->done)
		return CP_OK;
	rc = split_emit(s, fn, arg);
	s->state = SPLIT_DONE;
	s->done = 1;
	return rc;
}

size_t
cp_msg_field_name(const char *field, size_t len)
{
	const char *colon = memchr(field, ':', len);
	size_t n;

	if (colon == NULL)
		return 0;
	n = (size_t)(colon - field);
	while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\t'))
		n--;
	return n;
}
