/*
 * reply.h - parsing SMTP replies as receivers send them and MTAs log them.
 *
 * Takes one reply in any of the forms found in logs and bounces: a single
 * line, a multi-line reply (RFC 5321 4.2) with its continuation lines on
 * separate lines or inlined ("550-5.7.1 a 550-5.7.1 b 550 5.7.1 c"), or
 * wrapped by the sending MTA ("host mx.example.com[192.0.2.1] said: ...
 * (in reply to RCPT TO command)"). Produces the basic code, the enhanced
 * status code (RFC 3463) wherever the receiver put it, the remote host the
 * wrapper named, and one normalised text.
 */
#ifndef COLDPOST_REPLY_H
#define COLDPOST_REPLY_H

#include <stddef.h>

#include "coldpost/buf.h"
#include "coldpost/err.h"

#define CP_REPLY_MAX (64 * 1024) /* longer input is CP_ETOOBIG */

typedef struct cp_reply {
	int code;        /* basic reply code 200-599, 0 when absent */
	int cls;         /* enhanced code class 2, 4 or 5; 0 when absent */
	int subject;     /* enhanced code subject 0-7 */
	int detail;      /* enhanced code detail 0-999 */
	char enhanced[16]; /* "5.7.1", "" when absent */
	int nlines;      /* reply lines seen */
	int wrapped;     /* a sending-MTA wrapper was removed */
	char host[256];  /* remote host the wrapper named, or "" */
	/*
	 * Normalised text: "550 5.7.1 " then the message, continuation
	 * prefixes removed, white space collapsed, control bytes as spaces.
	 * Valid until the next parse or clear; owned by buf.
	 */
	const char *text;
	size_t text_len;
	size_t msg_off; /* where the message starts in text */
	cp_buf buf;
} cp_reply;

void cp_reply_init(cp_reply *r);
void cp_reply_clear(cp_reply *r); /* frees; r may be parsed again */

/*
 * Parse len bytes at s (no NUL needed). CP_ESYNTAX for a malformed reply
 * (no code, a code out of range, continuation lines with other codes),
 * CP_ETOOBIG past CP_REPLY_MAX; err says what and where.
 */
int cp_reply_parse(cp_reply *r, const char *s, size_t len, cp_err *err);

/* 1 for a 2xx/3xx, 4 transient, 5 permanent, from code or enhanced class. */
int cp_reply_class(const cp_reply *r);

#endif
