/*
 * msg.h - splitting an RFC 5322 message into header fields and body.
 *
 * A streaming splitter: feed the message in chunks of any size; each
 * complete header field (its first line and every continuation line, with
 * their line ends, exactly as received) is handed to a callback, and the
 * splitter says where the body starts. Nothing of the body is copied, so a
 * caller that streams a message from its queue holds only the header
 * field being assembled.
 *
 * Lines end with CRLF; a bare LF is accepted as a line end too (files
 * written on Unix), a bare CR is ordinary data. The header section ends
 * at the first empty line (RFC 5322 2.1); a message without one is all
 * header.
 */
#ifndef COLDPOST_MSG_H
#define COLDPOST_MSG_H

#include <stddef.h>

#include "coldpost/buf.h"
#include "coldpost/err.h"

/* The longest header field accepted by default (folded lines included). */
#define CP_MSG_FIELD_MAX (64 * 1024)

/* Called with one complete header field; a non-zero return stops the feed
 * and is returned by cp_msg_split_feed. */
typedef int (*cp_msg_field_fn)(void *arg, const char *field, size_t len);

typedef struct cp_msg_split {
	cp_buf field; /* the field being assembled */
	int state;    /* internal */
	int done;     /* 1 once the empty line ending the header was seen */
	int crlf;     /* 1: the first line ended with CRLF, 0: bare LF, -1: not yet */
} cp_msg_split;

/* field_max: the longest header field accepted (0: CP_MSG_FIELD_MAX). */
void cp_msg_split_init(cp_msg_split *s, size_t field_max);
void cp_msg_split_clear(cp_msg_split *s);

/*
 * Feed len bytes. Complete header fields go to fn. Once the header ends,
 * *body_off is the offset in p where the body starts and s->done is 1;
 * until then it is len. Feeding after done is a caller error.
 * Returns CP_OK, CP_ETOOBIG (a field longer than field_max, err names it),
 * CP_ENOMEM, or fn's non-zero return.
 */
int cp_msg_split_feed(cp_msg_split *s, const char *p, size_t len,
    size_t *body_off, cp_msg_field_fn fn, void *arg, cp_err *err);

/* End of input: hands a pending last field to fn (a message with no body). */
int cp_msg_split_end(cp_msg_split *s, cp_msg_field_fn fn, void *arg,
    cp_err *err);

/*
 * The name of a header field: the bytes before the ':' without trailing
 * whitespace. Returns the name's length, 0 when the field has no ':' or
 * an empty name.
 */
size_t cp_msg_field_name(const char *field, size_t len);

#endif
