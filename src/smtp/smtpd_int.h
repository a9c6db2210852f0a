/*
 * smtpd_int.h - the body of cp_smtpd_conn and what the smtpd_*.c files
 * share: smtpd_conn.c (buffers, events, replies, the main loop),
 * smtpd_cmd.c (commands: smtpd_check_<verb> / smtpd_do_<verb>),
 * smtpd_answer.c (the replies to the caller's answers),
 * smtpd_auth.c (AUTH PLAIN/LOGIN exchanges), smtpd_data.c (DATA:
 * unstuffing, size, header rewriting).
 */
#ifndef COLDPOST_SMTPD_INT_H
#define COLDPOST_SMTPD_INT_H

#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/cursor.h"
#include "coldpost/smtpd.h"

/* RFC 5321 4.5.3.1.5: a reply line with its CRLF. */
#define SMTPD_REPLY_LINE_MAX 512
#define SMTPD_QID_MAX 64
#define SMTPD_EVQ 8

/* Where the session is. */
enum {
	SMTPD_S_GREETING, /* the greeting answer is due */
	SMTPD_S_REFUSED,  /* greeting was 554: 503 to all but QUIT */
	SMTPD_S_COMMAND,  /* reading commands */
	SMTPD_S_AUTH,     /* reading a SASL response line (after 334) */
	SMTPD_S_DATA,     /* reading message text (after 354) */
	SMTPD_S_TLS,      /* after STARTTLS, until the handshake is done */
	SMTPD_S_CLOSED
};

/* SASL mechanisms. */
enum { SMTPD_MECH_PLAIN = 1, SMTPD_MECH_LOGIN };

/* What a smtpd_check_<verb> says. */
enum {
	SMTPD_CHECK_OK = 0, /* go on to smtpd_do_<verb> */
	SMTPD_CHECK_BAD,    /* syntax or sequence error: reply set, counted */
	SMTPD_CHECK_REFUSE  /* a refusal by rule (530, 552, 452): reply set */
};

/* The layer-1 states of DATA (smtpd_data.c). */
enum { SMTPD_D_BOL, SMTPD_D_DOT, SMTPD_D_DOT_CR, SMTPD_D_MID, SMTPD_D_CR };

struct smtpd_data {
	int lstate;      /* SMTPD_D_* */
	int prev_crlf;   /* the last line ended with a real CRLF */
	size_t linelen;  /* bytes of the current line as sent */
	uint64_t size;   /* bytes received, unstuffed, line ends as sent */
	int failed;      /* 0, or the CP_SMTPD_R_* limit that was hit */
	int ended;       /* the terminating "." was seen */
	int header;      /* still in the header section */
	cp_buf field;    /* pending header field, then the current line */
	size_t line_off; /* where the current line starts in field */
	size_t hsize;    /* header bytes so far */
	int seen_date, seen_msgid;
	cp_buf out;      /* message bytes not yet handed out */
	size_t out_off;  /* handed out up to here */
};

struct cp_smtpd_conn {
	cp_smtpd_conf conf; /* hostname and banner point to our copies */
	cp_smtpd_peer peer; /* addr, name: our copies */
	int state;          /* SMTPD_S_* */
	int pending;        /* event type whose answer is due, or 0 */
	int draining;       /* cp_smtpd_conn_shutdown was called */
	int broken;         /* out of memory: close at the next step */

	cp_buf in;       /* client bytes; in_off is the next to read */
	size_t in_off;
	int skip_line;   /* discarding the rest of a too long line */
	cp_buf out;      /* replies; out_off is the next to send */
	size_t out_off;

	cp_smtpd_event evq[SMTPD_EVQ];
	unsigned evq_head, evq_n;
	cp_buf evstr; /* strings of the pending event (may hold a secret) */

	/* session */
	int helo; /* 0 none, 1 HELO, 2 EHLO */
	char *helo_name;
	int tls;
	char *tls_version, *tls_cipher;
	int authenticated;
	char *auth_user;
	int auth_mech; /* exchange in progress: SMTPD_MECH_* */
	int auth_step; /* LOGIN: 0 user due, 1 password due */
	const char *auth_ev_user; /* in evstr while the AUTH answer is due */
	int cmd_flag;  /* HELO: esmtp; MAIL: SMTPUTF8, until answered */

	/* transaction */
	int in_mail;
	int mail_smtputf8;
	size_t nrcpt;
	char qid[SMTPD_QID_MAX + 1];

	/* the command being checked, parsed for its smtpd_do_<verb> */
	struct {
		cp_slice addr; /* into the input line */
		uint64_t size;
		int body;
		int smtputf8;
	} cmd;

	/* the reply a check chose */
	int rcode;
	const char *renh;
	char rtext[200];

	struct smtpd_data d;
	cp_smtpd_stats st;
};

/* smtpd_conn.c */
void smtpd_reply(cp_smtpd_conn *c, int code, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void smtpd_reply_line(cp_smtpd_conn *c, int code, int last,
    const char *enh, const char *text, size_t len);
cp_smtpd_event *smtpd_event(cp_smtpd_conn *c, int type);
cp_smtpd_event *smtpd_ask(cp_smtpd_conn *c, int type);
void smtpd_error(cp_smtpd_conn *c, int reason, int fatal);
void smtpd_close(cp_smtpd_conn *c, int reason);
void smtpd_txn_reset(cp_smtpd_conn *c, int reason);
const char *smtpd_evstr(cp_smtpd_conn *c, const char *s, size_t n);
int smtpd_evstr_reserve(cp_smtpd_conn *c, size_t n);
void smtpd_set_reply(cp_smtpd_conn *c, int code, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int smtpd_bad(cp_smtpd_conn *c);
int smtpd_enh_ok(const char *e, int code);
int64_t smtpd_now(const cp_smtpd_conn *c);
/* smtpd_sanitize modes: reply text, a header token, a header comment. */
enum { SMTPD_SAN_TEXT, SMTPD_SAN_TOKEN, SMTPD_SAN_COMMENT };
size_t smtpd_sanitize(char *dst, size_t room, const char *src, size_t n,
    int mode);

/* smtpd_cmd.c */
void smtpd_command(cp_smtpd_conn *c, const char *line, size_t len);
int smtpd_peer_may_auth(const cp_smtpd_conn *c);
void smtpd_ehlo_reply(cp_smtpd_conn *c);

/* smtpd_answer.c */
void smtpd_answered(cp_smtpd_conn *c, int type, const cp_smtpd_answer *a);

/* smtpd_auth.c */
int smtpd_check_auth(cp_smtpd_conn *c, const char *arg, size_t len);
void smtpd_do_auth(cp_smtpd_conn *c, const char *arg, size_t len);
void smtpd_auth_response(cp_smtpd_conn *c, char *line, size_t len);
void smtpd_auth_answered(cp_smtpd_conn *c, const cp_smtpd_answer *a);

/* smtpd_data.c */
int smtpd_data_begin(cp_smtpd_conn *c);
int smtpd_data_step(cp_smtpd_conn *c);
void smtpd_data_release(cp_smtpd_conn *c);
size_t smtpd_data_chunk(cp_smtpd_conn *c, const char **p);
void smtpd_data_clear(cp_smtpd_conn *c);

#endif
