/*
 * smtpc_int.h - the body of cp_smtpc_conn and what the smtpc_*.c files
 * share: smtpc_conn.c (buffers, reply framing, events, outcomes, closing),
 * smtpc_cmd.c (commands: smtpc_send_<cmd> / smtpc_on_<cmd>_reply, the
 * transaction), smtpc_data.c (message text: dot-stuffing, CRLF).
 */
#ifndef COLDPOST_SMTPC_INT_H
#define COLDPOST_SMTPC_INT_H

#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/reply.h"
#include "coldpost/smtpc.h"

#define SMTPC_LINE_MAX 4096    /* a reply line; RFC 5321 says 512 */
#define SMTPC_REPLY_MAX 16384  /* a whole multi-line reply */
#define SMTPC_INPUT_MAX (256 * 1024)

/* Where the session is. */
enum {
	SMTPC_S_WAIT,   /* waiting for replies to what we sent */
	SMTPC_S_TLS,    /* a handshake is due (after 220 to STARTTLS) */
	SMTPC_S_READY,  /* idle, between messages */
	SMTPC_S_BODY,   /* after 354: the caller feeds the text */
	SMTPC_S_CLOSED
};

/* Replies we wait for, in order (RFC 2920: one per command). */
enum {
	SMTPC_X_GREETING = 1, SMTPC_X_EHLO, SMTPC_X_HELO, SMTPC_X_STARTTLS,
	SMTPC_X_RSET, SMTPC_X_MAIL, SMTPC_X_RCPT, SMTPC_X_DATA, SMTPC_X_DOT,
	SMTPC_X_QUIT
};

struct smtpc_rcpt {
	char *addr;
	cp_smtpc_result res;
	int done;     /* res is final */
	int accepted; /* 2xx to RCPT: waits for DATA and the dot */
};

struct cp_smtpc_conn {
	cp_smtpc_conf conf; /* helo points to our copy */
	int state;          /* SMTPC_S_* */
	int broken;         /* out of memory */
	int got_bytes;      /* the server sent something */
	cp_smtpc_caps caps;

	cp_buf in;      /* server bytes; in_off is the next to read */
	size_t in_off;
	cp_buf out;     /* commands and text; out_off is the next to send */
	size_t out_off;
	cp_buf evq;     /* cp_smtpc_event records */
	size_t evq_off;
	cp_buf expq;    /* SMTPC_X_* bytes; expq_off is the next reply's */
	size_t expq_off;
	cp_buf reply;   /* lines of the reply being read, CRLF-ended */
	int reply_code;
	cp_reply rp;    /* the last complete reply, parsed */

	int need_rset;  /* a message went before: RSET first */
	/* the transaction */
	int in_trans;
	struct smtpc_rcpt *rcpts;
	size_t nrcpt, rcpt_sent, rcpt_replied, accepted;
	char *from;
	uint64_t size;
	int body8bit, smtputf8;
	int mail_failed;
	int discard_dot;   /* a 354 with nobody accepted: "." to end it */
	cp_smtpc_result mail_res;
	int bol, cr;       /* smtpc_data.c: at a line start; a CR pending */

	cp_smtpc_result greet, msgres, closeres;
};

/* smtpc_conn.c */
void smtpc_out(cp_smtpc_conn *c, const char *s, size_t n);
void smtpc_outs(cp_smtpc_conn *c, const char *s);
void smtpc_expect(cp_smtpc_conn *c, int x);
void smtpc_push(cp_smtpc_conn *c, const cp_smtpc_event *ev);
void smtpc_ready(cp_smtpc_conn *c);
void smtpc_result_set(cp_smtpc_result *r, int status, int phase, int code,
    int local, const char *enh, const char *text);
void smtpc_result_reply(cp_smtpc_result *r, const cp_reply *rp, int phase);
void smtpc_result_copy(cp_smtpc_result *dst, const cp_smtpc_result *src);
void smtpc_result_free(cp_smtpc_result *r);
void smtpc_finish(cp_smtpc_conn *c, const cp_smtpc_result *decisive);
void smtpc_close(cp_smtpc_conn *c, int reason, const cp_smtpc_result *r,
    int quit);
void smtpc_close_local(cp_smtpc_conn *c, int reason, int phase,
    const char *enh, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int smtpc_status_of(int code);

/* smtpc_cmd.c */
void smtpc_on_reply(cp_smtpc_conn *c, int x);
void smtpc_send_ehlo(cp_smtpc_conn *c);
void smtpc_send_quit(cp_smtpc_conn *c);
int smtpc_start(cp_smtpc_conn *c);
int smtpc_phase_of(int x);

/* smtpc_data.c */
void smtpc_stuff(cp_smtpc_conn *c, const char *p, size_t n);
void smtpc_stuff_end(cp_smtpc_conn *c);

#endif
