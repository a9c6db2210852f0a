/*
 * dsn.h - delivery status notifications (RFC 3464, RFC 3462/6522
 * multipart/report): the message coldpost sends back to a mailbox when a
 * recipient bounced or expired.
 */
#ifndef COLDPOST_DSN_H
#define COLDPOST_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/err.h"

enum { CP_DSN_FAILED = 0, CP_DSN_DELAYED };

typedef struct cp_dsn_rcpt {
	const char *address;    /* Final-Recipient: rfc822;ADDRESS */
	int action;             /* CP_DSN_FAILED, CP_DSN_DELAYED */
	const char *status;     /* "5.1.1"; "" : 5.0.0 / 4.0.0 from action */
	const char *remote_mta; /* "mx.example.net" or "" */
	const char *diagnostic; /* the receiver's reply, or "" */
	const char *explain;    /* one human line: what it means, or "" */
	int64_t last_attempt;   /* unix seconds, 0: none */
	int expired;            /* 1: FAILED because the queue's expiry came
	                         * (still deferred), not refused; the text
	                         * says so, status "" becomes 4.4.7 */
} cp_dsn_rcpt;

typedef struct cp_dsn {
	const char *reporting_mta; /* our host name */
	const char *from;          /* "MAILER-DAEMON@host" */
	const char *to;            /* the mailbox told */
	const char *queue_id;      /* X-Coldpost-Queue-Id / Original-Envelope */
	int64_t arrival;           /* when the original was received */
	int64_t now;               /* Date: of the DSN */
	const char *orig;          /* the original message (headers used) */
	size_t orig_len;
	const cp_dsn_rcpt *rcpts;
	size_t n;
} cp_dsn;

/* The whole DSN message (headers and body, CRLF lines) appended to out. */
int cp_dsn_build(const cp_dsn *d, cp_buf *out, cp_err *err);

#endif
