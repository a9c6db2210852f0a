/*
 * smtpd.h - the submission server's protocol core: bytes in, events out,
 * answers in, bytes out. No sockets, no clock reads unless asked, no store.
 *
 * The net layer owns the socket and feeds what the client sent
 * (cp_smtpd_conn_feed), then pulls events (cp_smtpd_conn_next_event) until
 * there are none, answering those that ask for a decision
 * (cp_smtpd_conn_answer, now or later), and sends what
 * cp_smtpd_conn_output gives. Syntax, sequence and limits are decided
 * here; policy (passwords, relaying, sender identity, suppression, caps)
 * and durability are the caller's, asked through events.
 *
 *	cp_smtpd_conn_feed(c, buf, n);
 *	while ((t = cp_smtpd_conn_next_event(c, &ev)) != CP_SMTPD_EV_NONE)
 *		handle(c, &ev);         (answers now, or later from a worker)
 *	while ((n = cp_smtpd_conn_output(c, &p)) > 0)
 *		n = send(fd, p, n), cp_smtpd_conn_consumed(c, n);
 *	then, after an answer, consumed output or new input: pull again.
 *
 * Protocol: RFC 5321 (SMTP), RFC 6409 (submission: section 8 rewriting),
 * RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8), RFC 2920
 * (PIPELINING), RFC 2034 / RFC 3463 (enhanced status codes), RFC 3207
 * (STARTTLS), RFC 4954 (AUTH; PLAIN is RFC 4616, LOGIN the de facto one).
 *
 * Every reply carries an enhanced status code except those RFC 2034 and
 * RFC 4954 exempt or that have no class for one: the 220 greeting, the
 * replies to HELO and EHLO, 334 challenges and the 354 go-ahead.
 */
#ifndef COLDPOST_SMTPD_H
#define COLDPOST_SMTPD_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/err.h"

/* RFC 5321 4.5.3.1.4-6 and RFC 4954 4: line lengths with their CRLF. */
#define CP_SMTPD_COMMAND_LINE_MAX 512
#define CP_SMTPD_TEXT_LINE_MAX 1000
#define CP_SMTPD_AUTH_LINE_MAX 12288

/* conf.auth_cleartext: when AUTH may be used without TLS. */
enum {
	CP_SMTPD_CLEAR_NEVER = 0, /* only after TLS (the default) */
	CP_SMTPD_CLEAR_LOOPBACK,  /* also from a loopback peer (tests) */
	CP_SMTPD_CLEAR_ALWAYS     /* anywhere (tests only) */
};

/*
 * Settings of a listener. Copied by cp_smtpd_conn_new (strings too), so
 * a reload that builds a new conf does not disturb open sessions. Start
 * from cp_smtpd_conf_init and change what you need.
 */
typedef struct cp_smtpd_conf {
	const char *hostname; /* ours: greeting, EHLO, Received, Message-ID */
	const char *banner;   /* greeting after "220 <host> ESMTP " */

	uint64_t max_message_size; /* SIZE advertised; 552 5.3.4 past it */
	size_t max_recipients;     /* accepted per message; 452 4.5.3 past it */
	size_t max_command_line;   /* with CRLF; 500 5.5.2 past it */
	size_t max_text_line;      /* DATA lines with CRLF; 0: no limit */
	size_t max_auth_line;      /* AUTH commands and SASL responses */
	size_t max_header_size;    /* header section; 552 5.3.4 past it */
	size_t max_input;          /* input buffered while an answer is due */
	size_t max_output;         /* replies pending before the core pauses */
	size_t data_chunk_size;    /* largest DATA_CHUNK */

	unsigned max_bad_commands;     /* unknown/syntax/sequence: 421 at N */
	unsigned max_junk_commands;    /* NOOP/RSET/VRFY/HELP/EHLO; then bad */
	unsigned max_preauth_commands; /* when AUTH is required: 421 past N */
	unsigned max_auth_failures;    /* 421 at N */
	unsigned auth_delay_ms;        /* DELAY hint: this times the failures */
	unsigned cmd_timeout_ms;       /* idle between commands (RFC: 5 min) */
	unsigned data_timeout_ms;      /* idle inside DATA */

	int tls_available;      /* a certificate is loaded: offer STARTTLS */
	int auth_cleartext;     /* CP_SMTPD_CLEAR_* */
	int require_auth;       /* MAIL needs AUTH unless the peer is trusted */
	int rewrite;            /* Received, Date, Message-ID, Bcc (RFC 6409 8) */
	int received_auth_user; /* name the authenticated user in Received */

	/* Seconds since the epoch for Received, Date, Message-ID; NULL: time(). */
	int64_t (*clock)(void *arg);
	void *clock_arg;
} cp_smtpd_conf;

/* What the net layer knows of the client. Copied by cp_smtpd_conn_new. */
typedef struct cp_smtpd_peer {
	const char *addr;        /* "192.0.2.1", "2001:db8::1" (required) */
	const char *name;        /* forward-confirmed reverse name, or NULL */
	int loopback;            /* 127.0.0.0/8 or ::1 */
	int trusted;             /* in trusted_networks: no AUTH needed */
	int tls;                 /* implicit TLS (port 465): already secure */
	const char *tls_version; /* "TLSv1.3", for Received; NULL if unknown */
	const char *tls_cipher;  /* "TLS_AES_256_GCM_SHA384" */
} cp_smtpd_peer;

/* Events: what the caller must decide or do. */
enum {
	CP_SMTPD_EV_NONE = 0, /* nothing now: feed, answer or drain output */
	CP_SMTPD_EV_GREETING, /* answer: accept (220) or refuse (554/421) */
	CP_SMTPD_EV_HELO,     /* answer: helo, esmtp */
	CP_SMTPD_EV_STARTTLS, /* send the output (220), handshake, then
	                       * cp_smtpd_conn_tls_started; input until then
	                       * is discarded */
	CP_SMTPD_EV_AUTH,     /* answer: mech, authzid, user, pass */
	CP_SMTPD_EV_MAIL,     /* answer: addr, size, body, smtputf8 */
	CP_SMTPD_EV_RCPT,     /* answer: addr, n (its index) */
	CP_SMTPD_EV_DATA,     /* answer: open the spool (354 on accept) */
	CP_SMTPD_EV_DATA_CHUNK, /* data, len: message bytes to spool */
	CP_SMTPD_EV_DATA_END, /* answer after the durable commit: size */
	CP_SMTPD_EV_RSET,     /* the transaction is gone: drop its spool */
	CP_SMTPD_EV_DELAY,    /* delay_ms: hold output and input that long */
	CP_SMTPD_EV_ERROR,    /* reason: a limit or an attack, for the log;
	                       * its reply is already queued */
	CP_SMTPD_EV_QUIT,     /* the client said QUIT; 221 queued; CLOSE next */
	CP_SMTPD_EV_CLOSE     /* reason: send the output, then close */
};

/* Reasons carried by RSET, ERROR and CLOSE events. */
enum {
	CP_SMTPD_R_NONE = 0,
	CP_SMTPD_R_COMMAND,       /* RSET: the client's RSET */
	CP_SMTPD_R_HELO,          /* RSET: HELO/EHLO in a transaction */
	CP_SMTPD_R_DATA_FAILED,   /* RSET: a limit hit inside DATA */
	CP_SMTPD_R_QUIT,          /* CLOSE after QUIT */
	CP_SMTPD_R_EOF,           /* CLOSE: the client went away */
	CP_SMTPD_R_TIMEOUT,       /* CLOSE: cp_smtpd_conn_timeout */
	CP_SMTPD_R_SHUTDOWN,      /* CLOSE: cp_smtpd_conn_shutdown */
	CP_SMTPD_R_REFUSED,       /* CLOSE: the caller's answer closed */
	CP_SMTPD_R_LINE_TOO_LONG, /* ERROR */
	CP_SMTPD_R_MESSAGE_SIZE,  /* ERROR */
	CP_SMTPD_R_HEADER_SIZE,   /* ERROR */
	CP_SMTPD_R_RECIPIENTS,    /* ERROR */
	CP_SMTPD_R_BAD_COMMANDS,  /* ERROR (fatal), CLOSE */
	CP_SMTPD_R_PREAUTH,       /* ERROR (fatal), CLOSE */
	CP_SMTPD_R_AUTH_FAILURES, /* ERROR (fatal), CLOSE */
	CP_SMTPD_R_INJECTION,     /* ERROR: input pipelined after STARTTLS */
	CP_SMTPD_R_HTTP,          /* ERROR (fatal), CLOSE: a web proxy probe */
	CP_SMTPD_R_INTERNAL       /* CLOSE: out of memory */
};

/* MAIL BODY= (RFC 6152). */
enum { CP_SMTPD_BODY_NONE = 0, CP_SMTPD_BODY_7BIT, CP_SMTPD_BODY_8BITMIME };

/*
 * One event. Only the fields named for its type are set. Strings are
 * NUL-terminated and owned by the core: those of an event that needs an
 * answer stay valid until the answer (pass is wiped then); data of a
 * DATA_CHUNK until the next call on c other than output/consumed.
 */
typedef struct cp_smtpd_event {
	int type;        /* CP_SMTPD_EV_* */
	int need_answer; /* 1: nothing more happens until cp_smtpd_conn_answer */
	int reason;      /* RSET, ERROR, CLOSE: CP_SMTPD_R_* */
	int fatal;       /* ERROR: a CLOSE follows */

	const char *helo;    /* HELO: the client's name, as given */
	int esmtp;           /* HELO: 1 for EHLO */
	const char *mech;    /* AUTH: "PLAIN" or "LOGIN" */
	const char *authzid; /* AUTH: "" when none */
	const char *user;    /* AUTH */
	const char *pass;    /* AUTH: secret */
	const char *addr;    /* MAIL: reverse path ("" for <>); RCPT: as
	                      * sent, without <> and source route (a quoted
	                      * local part keeps its quotes) */
	uint64_t size;       /* MAIL: SIZE= (0 none); DATA_END: bytes received */
	int body;            /* MAIL: CP_SMTPD_BODY_* */
	int smtputf8;        /* MAIL */
	size_t n;            /* RCPT: index; DATA, DATA_END: recipients */
	const char *data;    /* DATA_CHUNK */
	size_t len;          /* DATA_CHUNK: 1..data_chunk_size */
	unsigned delay_ms;   /* DELAY */
} cp_smtpd_event;

/* Verdicts of an answer. */
enum {
	CP_SMTPD_ACCEPT = 0, /* go on (2xx; 354 for DATA; 220 greeting) */
	CP_SMTPD_TEMPFAIL,   /* 4xx: try later */
	CP_SMTPD_REJECT      /* 5xx */
};

/*
 * The caller's decision on the pending event. A zeroed answer accepts
 * with the default reply. code (400-499 for TEMPFAIL, 500-599 for
 * REJECT; ignored on ACCEPT), enhanced ("5.7.1", class agreeing with the
 * code) and text override the defaults; anything else is caller misuse
 * (CP_ASSERT). Text is made printable ASCII and cut to fit a 512-byte
 * reply line. Strings are copied.
 */
typedef struct cp_smtpd_answer {
	int verdict;          /* CP_SMTPD_ACCEPT, _TEMPFAIL, _REJECT */
	int code;             /* 0: the verdict's default for the event */
	const char *enhanced; /* NULL: default ("5.7.1" / from the code) */
	const char *text;     /* NULL: default */
	const char *queue_id; /* MAIL, DATA, DATA_END: for Received, Message-ID
	                       * and "queued as"; [A-Za-z0-9._-], <= 64 */
	const char *user;     /* AUTH accept: identity for Received; NULL: user */
	int close;            /* TEMPFAIL/REJECT: close after the reply */
} cp_smtpd_answer;

/* Per-session counters for logs and the net layer's per-client limits. */
typedef struct cp_smtpd_stats {
	uint64_t bytes_in, bytes_out;
	uint64_t discarded; /* bytes dropped after STARTTLS or while closed */
	unsigned commands, bad_commands, junk_commands, preauth_commands;
	unsigned auth_failures;
	unsigned messages;   /* accepted at DATA_END */
	unsigned recipients; /* accepted in those messages */
	int authenticated, tls;
	int early_talker;    /* the client sent bytes before the greeting */
} cp_smtpd_stats;

typedef struct cp_smtpd_conn cp_smtpd_conn;

/* Defaults: RFC limits, 25 MiB messages, 100 recipients, AUTH required
 * and only after TLS, TLS not available, rewriting on. */
void cp_smtpd_conf_init(cp_smtpd_conf *conf);

/*
 * A new session: its first event is GREETING. Returns NULL when out of
 * memory. conf->hostname and peer->addr are required. Free with
 * cp_smtpd_conn_free (NULL is fine).
 */
cp_smtpd_conn *cp_smtpd_conn_new(const cp_smtpd_conf *conf,
    const cp_smtpd_peer *peer);
void cp_smtpd_conn_free(cp_smtpd_conn *c);

/*
 * Bytes from the client. CP_OK, or CP_ETOOBIG when len is more than
 * cp_smtpd_conn_input_room (nothing is taken: stop reading until events
 * are answered and pulled). Input after STARTTLS (until
 * cp_smtpd_conn_tls_started) or after CLOSE is discarded.
 */
int cp_smtpd_conn_feed(cp_smtpd_conn *c, const char *data, size_t len);
size_t cp_smtpd_conn_input_room(const cp_smtpd_conn *c);

/*
 * The next event into *ev, and its type; CP_SMTPD_EV_NONE when the core
 * needs input, an answer, or the output to drain below conf.max_output.
 */
int cp_smtpd_conn_next_event(cp_smtpd_conn *c, cp_smtpd_event *ev);

/* The decision on the pending event (need_answer); may come later, from
 * any thread that owns c at that time. */
void cp_smtpd_conn_answer(cp_smtpd_conn *c, const cp_smtpd_answer *a);

/* Bytes to send: a pointer valid until the next call on c, and their
 * count (0: none). Tell the core how many went out. */
size_t cp_smtpd_conn_output(cp_smtpd_conn *c, const char **data);
void cp_smtpd_conn_consumed(cp_smtpd_conn *c, size_t n);

/* After STARTTLS: the handshake succeeded. The session starts afresh
 * (RFC 3207 4.2): EHLO again, no AUTH, no transaction. */
void cp_smtpd_conn_tls_started(cp_smtpd_conn *c, const char *version,
    const char *cipher);

/* The client closed its side: RSET (if a transaction was open), CLOSE. */
void cp_smtpd_conn_eof(cp_smtpd_conn *c);
/* The timer of cp_smtpd_conn_timeout_ms fired: 421 4.4.2, CLOSE. */
void cp_smtpd_conn_timeout(cp_smtpd_conn *c);
/* Draining: at the next point between transactions, 421 4.3.2, CLOSE. */
void cp_smtpd_conn_shutdown(cp_smtpd_conn *c);

/* How long the client may stay silent now, in ms; 0: no timer (the core
 * waits for the caller, or the session is closed). */
unsigned cp_smtpd_conn_timeout_ms(const cp_smtpd_conn *c);
/* 1 once CLOSE was given: send the output, then close. */
int cp_smtpd_conn_closed(const cp_smtpd_conn *c);
const cp_smtpd_stats *cp_smtpd_conn_stats(const cp_smtpd_conn *c);

/* "MAIL", "DATA_CHUNK", "line_too_long", for logs. */
const char *cp_smtpd_event_name(int type);
const char *cp_smtpd_reason_name(int reason);

#endif
