/*
 * smtpc.h - the delivery client's protocol core: replies in, events out,
 * commands and message bytes out. No sockets, no TLS, no clock, no DNS.
 * The twin of smtpd.h.
 *
 * The delivery layer connects (binding the tenant's source address), then
 * feeds what the server sent (cp_smtpc_conn_feed), pulls events
 * (cp_smtpc_conn_next_event) until there are none, acts on them, and sends
 * what cp_smtpc_conn_output gives:
 *
 *	cp_smtpc_conn_feed(c, buf, n);
 *	while ((t = cp_smtpc_conn_next_event(c, &ev)) != CP_SMTPC_EV_NONE)
 *		handle(c, &ev);   READY: cp_smtpc_conn_message or _quit
 *		                  BODY: cp_smtpc_conn_body..., _body_end
 *		                  STARTTLS: handshake, cp_smtpc_conn_tls_started
 *		                  RCPT, MESSAGE: record the outcome
 *		                  CLOSED: send the output, close
 *	while ((n = cp_smtpc_conn_output(c, &p)) > 0)
 *		n = send(fd, p, n), cp_smtpc_conn_consumed(c, n);
 *	arm a timer of cp_smtpc_conn_timeout_ms(c); on expiry
 *	cp_smtpc_conn_timeout(c); on EOF cp_smtpc_conn_eof(c).
 *
 * Protocol: RFC 5321 (SMTP; 4.5.3.2 timeouts), RFC 2920 (PIPELINING),
 * RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8), RFC 3207
 * (STARTTLS), RFC 2034 / RFC 3463 (enhanced status codes), RFC 3461 (DSN:
 * the keyword is recorded, parameters are not sent).
 *
 * Every recipient of every message given to the core gets exactly one RCPT
 * event with its outcome, then the message gets one MESSAGE event, even
 * when the server drops the line, times out or answers nonsense (then the
 * outcome is a temporary failure decided locally, so nothing is lost).
 */
#ifndef COLDPOST_SMTPC_H
#define COLDPOST_SMTPC_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/err.h"

/* conf.tls: STARTTLS policy (RFC 3207). */
enum {
	CP_SMTPC_TLS_NONE = 0, /* never use STARTTLS */
	CP_SMTPC_TLS_MAY,      /* opportunistic (the default) */
	CP_SMTPC_TLS_REQUIRE   /* no STARTTLS offered or it fails: give up */
};

/*
 * Settings of one connection. Copied by cp_smtpc_conn_new (strings too).
 * Start from cp_smtpc_conf_init. Timeouts are hints the caller enforces
 * (cp_smtpc_conn_timeout_ms); defaults are RFC 5321 4.5.3.2's minimums.
 */
typedef struct cp_smtpc_conf {
	const char *helo;   /* our EHLO/HELO name (the source IP's) */
	int tls;            /* CP_SMTPC_TLS_* */
	size_t max_output;  /* cp_smtpc_conn_body refuses past this */

	unsigned greeting_timeout_ms; /* 4.5.3.2.1: 5 min */
	unsigned helo_timeout_ms;     /* EHLO, HELO, STARTTLS, RSET, QUIT */
	unsigned mail_timeout_ms;     /* 4.5.3.2.2: 5 min */
	unsigned rcpt_timeout_ms;     /* 4.5.3.2.3: 5 min */
	unsigned data_timeout_ms;     /* 4.5.3.2.4: 2 min, the 354 */
	unsigned block_timeout_ms;    /* 4.5.3.2.5: 3 min, each send of data */
	unsigned dot_timeout_ms;      /* 4.5.3.2.6: 10 min, the final reply */
} cp_smtpc_conf;

/* What the server's EHLO reply offered (RFC 5321 4.1.1.1). */
typedef struct cp_smtpc_caps {
	int esmtp;      /* EHLO was accepted (0: HELO fallback) */
	int pipelining; /* RFC 2920 */
	int size;       /* RFC 1870 SIZE keyword */
	uint64_t size_max; /* its limit, 0 when none given */
	int eightbitmime, smtputf8, starttls, enhancedstatuscodes, dsn;
	int tls;        /* the session runs over TLS now */
} cp_smtpc_caps;

/* Where an outcome was decided. */
enum {
	CP_SMTPC_PH_NONE = 0,
	CP_SMTPC_PH_CONNECT,  /* no greeting: connection failed or lost */
	CP_SMTPC_PH_GREETING,
	CP_SMTPC_PH_EHLO,     /* EHLO, and HELO after it */
	CP_SMTPC_PH_STARTTLS, /* the command, the handshake, the TLS policy */
	CP_SMTPC_PH_MAIL,     /* RSET before it, SIZE/SMTPUTF8 checks, MAIL */
	CP_SMTPC_PH_RCPT,
	CP_SMTPC_PH_DATA,     /* the DATA command and sending the text */
	CP_SMTPC_PH_DOT       /* the final reply */
};

/* Outcome status. */
enum { CP_SMTPC_OK = 0, CP_SMTPC_TEMP, CP_SMTPC_PERM };

/*
 * One outcome: the server's reply, or one the core stands in with (local:
 * 421 4.4.2 when the line drops or times out, 552 5.3.4 for SIZE, ...).
 * text is the normalised reply ("550 5.1.1 user unknown", multi-line
 * replies joined), owned by the core.
 */
typedef struct cp_smtpc_result {
	int status;        /* CP_SMTPC_OK, _TEMP, _PERM */
	int phase;         /* CP_SMTPC_PH_* */
	int code;          /* 200-599 */
	int local;         /* 1: decided here, not said by the server */
	char enhanced[16]; /* "5.1.1", "" when none */
	const char *text;  /* never NULL once set */
} cp_smtpc_result;

/* Events. */
enum {
	CP_SMTPC_EV_NONE = 0, /* nothing now: feed, act, or drain output */
	CP_SMTPC_EV_GREETING, /* result: the 220 (informational) */
	CP_SMTPC_EV_STARTTLS, /* the server said 220 to STARTTLS: handshake
	                       * now, then cp_smtpc_conn_tls_started (or
	                       * _tls_failed); bytes fed until then are
	                       * dropped (RFC 3207 4.2) */
	CP_SMTPC_EV_READY,    /* idle: cp_smtpc_conn_message, or _quit */
	CP_SMTPC_EV_BODY,     /* the 354 came: cp_smtpc_conn_body..., _end */
	CP_SMTPC_EV_RCPT,     /* n, rcpt, result: one recipient's outcome */
	CP_SMTPC_EV_MESSAGE,  /* result, counts: the message's outcome */
	CP_SMTPC_EV_CLOSED    /* reason, result: send the output, close */
};

/* CLOSED reasons. */
enum {
	CP_SMTPC_R_NONE = 0,
	CP_SMTPC_R_QUIT,         /* we said QUIT */
	CP_SMTPC_R_GREETING,     /* the greeting was 4xx/5xx */
	CP_SMTPC_R_EHLO,         /* EHLO and HELO refused */
	CP_SMTPC_R_TLS_REQUIRED, /* policy REQUIRE, no STARTTLS offered */
	CP_SMTPC_R_STARTTLS,     /* STARTTLS refused under REQUIRE */
	CP_SMTPC_R_TLS_FAILED,   /* cp_smtpc_conn_tls_failed */
	CP_SMTPC_R_SERVER,       /* the server closed: 421, EOF */
	CP_SMTPC_R_RSET,         /* RSET refused: the session is unusable */
	CP_SMTPC_R_TIMEOUT,      /* cp_smtpc_conn_timeout */
	CP_SMTPC_R_PROTOCOL,     /* a malformed or unexpected reply */
	CP_SMTPC_R_CONNECT,      /* cp_smtpc_conn_connect_failed */
	CP_SMTPC_R_INTERNAL      /* out of memory */
};

/* One event. Pointers stay valid until the next cp_smtpc_conn_message
 * or cp_smtpc_conn_free. Out of memory gives CLOSED (reason INTERNAL)
 * at once: recipients in flight without an RCPT event then count as
 * temporary failures. */
typedef struct cp_smtpc_event {
	int type;                      /* CP_SMTPC_EV_* */
	int reason;                    /* CLOSED: CP_SMTPC_R_* */
	size_t n;                      /* RCPT: index in the message */
	const char *rcpt;              /* RCPT: the address */
	size_t accepted, temp, perm;   /* MESSAGE: recipients by outcome */
	const cp_smtpc_result *result; /* GREETING, RCPT, MESSAGE, CLOSED */
} cp_smtpc_event;

/* A message to send. Strings are copied; no CR, LF, '<' or '>' in them. */
typedef struct cp_smtpc_message {
	const char *from;         /* reverse path, "" for <> */
	const char *const *rcpts; /* forward paths */
	size_t nrcpt;             /* >= 1 */
	uint64_t size;            /* for SIZE= (RFC 1870); 0: unknown */
	int body8bit;             /* send BODY=8BITMIME when offered */
	int smtputf8;             /* needs SMTPUTF8: fails when not offered */
} cp_smtpc_message;

typedef struct cp_smtpc_conn cp_smtpc_conn;

void cp_smtpc_conf_init(cp_smtpc_conf *conf);

/* A new connection, waiting for the greeting. NULL when out of memory.
 * Free with cp_smtpc_conn_free (NULL is fine). */
cp_smtpc_conn *cp_smtpc_conn_new(const cp_smtpc_conf *conf);
void cp_smtpc_conn_free(cp_smtpc_conn *c);

/* Bytes from the server. CP_OK; bytes after CLOSED or while a TLS
 * handshake is due are dropped. */
int cp_smtpc_conn_feed(cp_smtpc_conn *c, const char *data, size_t len);

/* The next event into *ev and its type; CP_SMTPC_EV_NONE when none. */
int cp_smtpc_conn_next_event(cp_smtpc_conn *c, cp_smtpc_event *ev);

/* After READY: send a message. CP_EINVAL when not READY (also when the
 * session closed after READY was queued: CLOSED follows), no recipients
 * or a path with CR, LF, '<', '>'; CP_ENOMEM (then CLOSED, INTERNAL). */
int cp_smtpc_conn_message(cp_smtpc_conn *c, const cp_smtpc_message *m);
/* After READY: QUIT; CLOSED (reason QUIT) follows the 221 or EOF. */
void cp_smtpc_conn_quit(cp_smtpc_conn *c);

/*
 * After BODY: the message as stored (LF or CRLF line ends), in pieces of
 * any size; the core dot-stuffs and sends CRLF (RFC 5321 4.5.2, 2.3.8).
 * CP_ETOOBIG when output pending is over conf.max_output (nothing taken:
 * drain, then retry); CP_EINVAL when no BODY is due (or the session
 * closed since: CLOSED follows).
 */
int cp_smtpc_conn_body(cp_smtpc_conn *c, const char *data, size_t len);
int cp_smtpc_conn_body_end(cp_smtpc_conn *c);

/* Bytes to send (pointer valid until the next call on c), and how many
 * went out. */
size_t cp_smtpc_conn_output(cp_smtpc_conn *c, const char **data);
void cp_smtpc_conn_consumed(cp_smtpc_conn *c, size_t n);

/* After STARTTLS: the handshake succeeded (EHLO is sent again, RFC 3207
 * 4.2), or failed (CLOSED, reason TLS_FAILED, why in the result). */
void cp_smtpc_conn_tls_started(cp_smtpc_conn *c);
void cp_smtpc_conn_tls_failed(cp_smtpc_conn *c, const char *why);

/* The connection could not be made (CLOSED, phase CONNECT). */
void cp_smtpc_conn_connect_failed(cp_smtpc_conn *c, const char *why);
/* The server closed its side; the timer fired. Pending recipients get a
 * temporary failure, then CLOSED. */
void cp_smtpc_conn_eof(cp_smtpc_conn *c);
void cp_smtpc_conn_timeout(cp_smtpc_conn *c);

/* How long to wait for the server now, in ms; 0: no timer (idle, waiting
 * for the caller, or closed). */
unsigned cp_smtpc_conn_timeout_ms(const cp_smtpc_conn *c);
const cp_smtpc_caps *cp_smtpc_conn_caps(const cp_smtpc_conn *c);
int cp_smtpc_conn_closed(const cp_smtpc_conn *c);

const char *cp_smtpc_event_name(int type);
const char *cp_smtpc_phase_name(int phase);
const char *cp_smtpc_reason_name(int reason);

#endif
