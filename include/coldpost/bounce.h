/*
 * bounce.h - reading bounce emails: who failed, why, and which message of
 * ours it was.
 *
 * One call takes the raw bytes of one email (any line ending: CRLF, LF or
 * CR alone) and returns one record per recipient it reports on: RFC 3464
 * delivery status notifications, RFC 5965 feedback reports (reason
 * "feedback"), RFC 3834 auto-replies (reason "vacation"), success notices
 * (reason "delivered") and the plain-text bounces of the common MTAs and
 * providers. An email that is none of these yields no record (n == 0).
 *
 * Each record carries the reason in Sisimai's vocabulary, the cause family
 * and receiver of the classifier (classify.h), and the bounce as a whole
 * carries what identifies the message we sent: its Message-ID, its return
 * path and the VERP token in it, the DSN envelope id. The relay passes
 * return_path (or the bounce's own envelope recipient, rcpt_to) to
 * cp_verp_decode to find the recipient row.
 *
 * Ownership: a cp_bounce_parser is one per thread (it holds a classifier
 * session and its buffers). Every pointer in the returned cp_bounce lives
 * in the parser and stays valid until its next parse or its free.
 * Strings are never NULL: absent fields are "".
 */
#ifndef COLDPOST_BOUNCE_H
#define COLDPOST_BOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/err.h"

#define CP_BOUNCE_MAX (32 * 1024 * 1024) /* longer input: CP_ETOOBIG */
#define CP_BOUNCE_RCPT_MAX 256           /* records kept per email */

typedef struct cp_bounce_rcpt {
	const char *recipient;      /* "user@example.org", or "" */
	const char *orig_recipient; /* Original-Recipient address, or "" */
	const char *action;  /* "failed" "delayed" "delivered" "relayed"
				"expanded", "" when the bounce does not say */
	const char *status;  /* "5.1.1", "" */
	const char *status_text; /* the Status field's comment after the
				    code ("(host name lookup failure)"), "" */
	int replycode;       /* 550, 0 when unknown */
	const char *diagnostic; /* the receiver's words, one line, or "" */
	const char *remote_mta; /* "mx.example.org", "" */
	const char *reporting_mta; /* the MTA that wrote the bounce, "" */
	const char *command; /* SMTP command answered: "RCPT" "DATA", "" */
	const char *date;    /* Last-Attempt-Date or the bounce's Date, as
				written, "" */
	const char *reason;  /* Sisimai reason: "userunknown", ... */
	int cause;           /* cp_cause (kb.h), -1 for none (delivered,
				vacation, feedback) */
	const char *receiver; /* "gmail", "microsoft", ... or "unknown" */
	const char *rule;     /* what decided the reason: a classifier rule
				 id, "code:5.1.1", "bounce:..." */
	int hard;             /* 1: the address is dead (suppress) */
	const char *feedback_type; /* ARF: "abuse", "fraud", ... else "" */
} cp_bounce_rcpt;

typedef struct cp_bounce {
	const char *family;   /* the format that matched: "rfc3464",
				 "arf", "rfc3834", "postfix", "exim", ... */
	const char *message_id;  /* the original's Message-ID, "" */
	const char *return_path; /* the original's return path, else "" */
	const char *rcpt_to;     /* the bounce's own recipient (To: or
				    Delivered-To: / X-Original-To:), "" */
	const char *verp;        /* VERP token: local part of return_path
				    (else rcpt_to) after its first '+', "" */
	const char *envelope_id; /* Original-Envelope-Id, "" */
	const char *source_ip;   /* ARF Source-IP, "" */
	const char *subject;     /* the bounce's Subject, "" */
	const char *notes;  /* best-effort remarks ("no delivery-status
			       part; read the text"), "" */
	int used_gmime;     /* 1: the fast scan gave up, GMime parsed it */
	const cp_bounce_rcpt *rcpts;
	size_t n;
} cp_bounce;

typedef struct cp_bounce_parser cp_bounce_parser;

/* A parser with its own classifier session; NULL + err on error. */
cp_bounce_parser *cp_bounce_parser_new(cp_err *err);
void cp_bounce_parser_free(cp_bounce_parser *p); /* NULL is fine */

/*
 * Parse one email of len bytes at data (no NUL needed). *out points into
 * the parser (see above). CP_OK also for an email that is no bounce (n
 * 0); CP_ETOOBIG past CP_BOUNCE_MAX, CP_ENOMEM. Malformed input is never
 * an error: what could not be read is said in notes.
 */
int cp_bounce_parse(cp_bounce_parser *p, const char *data, size_t len,
    const cp_bounce **out, cp_err *err);

/* Is this reason one of Sisimai's names that coldpost reports? */
int cp_bounce_reason_known(const char *reason);

#endif
