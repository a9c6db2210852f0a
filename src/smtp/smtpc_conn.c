/*
 * smtpc_conn.c - the delivery client core's session: buffers, reply
 * framing, the event queue, outcomes and closing (see smtpc.h).
 *
 * Server bytes are cut into lines (RFC 5321 2.3.8: CRLF; a bare LF is
 * taken too) and lines into replies (4.2: "NNN-" continues, "NNN " or
 * "NNN" ends; one code throughout, 4.2.1), which coldpost/reply.h parses
 * for the code, the enhanced code (RFC 3463) and a normalised text. Each
 * complete reply goes to the command at the head of the queue of those
 * sent (RFC 2920 3: replies come in the order of the commands), in
 * smtpc_cmd.c. A reply with nothing waiting for it is a protocol error,
 * except 421 (4.2.2: the server may say it at any time before closing).
 *
 * Closing, for whatever cause, gives every recipient still without a
 * final outcome a temporary failure, then the MESSAGE event, then CLOSED:
 * nothing handed to the core goes unanswered.
 *
 * Left to others: sockets, TLS, timers, DNS and the queue (delivery/).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "smtp/smtpc_int.h"

void
cp_smtpc_conf_init(cp_smtpc_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->helo = "localhost";
	conf->tls = CP_SMTPC_TLS_MAY;
	conf->max_output = 256 * 1024;
	conf->greeting_timeout_ms = 300 * 1000;
	conf->helo_timeout_ms = 300 * 1000;
	conf->mail_timeout_ms = 300 * 1000;
	conf->rcpt_timeout_ms = 300 * 1000;
	conf->data_timeout_ms = 120 * 1000;
	conf->block_timeout_ms = 180 * 1000;
	conf->dot_timeout_ms = 600 * 1000;
}

cp_smtpc_conn *
cp_smtpc_conn_new(const cp_smtpc_conf *conf)
{
	cp_smtpc_conn *c;

	CP_ASSERT(conf->helo != NULL && conf->helo[0] != '\0');
	CP_ASSERT(strpbrk(conf->helo, "\r\n") == NULL);
	c = cp_calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->conf = *conf;
	c->conf.helo = cp_strdup(conf->helo);
	if (c->conf.helo == NULL) {
		cp_free(c);
		return NULL;
	}
	if (c->conf.max_output < 1024)
		c->conf.max_output = 1024;
	cp_buf_init(&c->in, SMTPC_INPUT_MAX);
	cp_buf_init(&c->out, SIZE_MAX);
	cp_buf_init(&c->evq, SIZE_MAX);
	cp_buf_init(&c->expq, SIZE_MAX);
	cp_buf_init(&c->reply, SMTPC_REPLY_MAX);
	cp_reply_init(&c->rp);
	c->state = SMTPC_S_WAIT;
	smtpc_expect(c, SMTPC_X_GREETING);
	return c;
}

static void
trans_free(cp_smtpc_conn *c)
{
	size_t i;

	for (i = 0; i < c->nrcpt; i++) {
		cp_free(c->rcpts[i].addr);
		smtpc_result_free(&c->rcpts[i].res);
	}
	cp_free(c->rcpts);
	c->rcpts = NULL;
	c->nrcpt = 0;
	cp_free(c->from);
	c->from = NULL;
	smtpc_result_free(&c->mail_res);
	smtpc_result_free(&c->msgres);
}

void
cp_smtpc_conn_free(cp_smtpc_conn *c)
{
	if (c == NULL)
		return;
	trans_free(c);
	smtpc_result_free(&c->greet);
	smtpc_result_free(&c->closeres);
	cp_free((char *)c->conf.helo);
	cp_buf_free(&c->in);
	cp_buf_free(&c->out);
	cp_buf_free(&c->evq);
	cp_buf_free(&c->expq);
	cp_buf_free(&c->reply);
	cp_reply_clear(&c->rp);
	cp_free(c);
}

/* ---- outcomes ---- */

int
smtpc_status_of(int code)
{
	if (code >= 500)
		return CP_SMTPC_PERM;
	if (code >= 400)
		return CP_SMTPC_TEMP;
	return CP_SMTPC_OK;
}

void
smtpc_result_free(cp_smtpc_result *r)
{
	cp_free((char *)r->text);
	memset(r, 0, sizeof(*r));
}

/* Sets *r; text is copied. Out of memory leaves a "" text (static). */
void
smtpc_result_set(cp_smtpc_result *r, int status, int phase, int code,
    int local, const char *enh, const char *text)
{
	smtpc_result_free(r);
	r->status = status;
	r->phase = phase;
	r->code = code;
	r->local = local;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", enh ? enh : "");
	r->text = cp_strdup(text ? text : "");
}

void
smtpc_result_reply(cp_smtpc_result *r, const cp_reply *rp, int phase)
{
	char *t;

	smtpc_result_free(r);
	r->status = smtpc_status_of(rp->code);
	r->phase = phase;
	r->code = rp->code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", rp->enhanced);
	t = cp_malloc(rp->text_len + 1);
	if (t != NULL) {
		memcpy(t, rp->text, rp->text_len);
		t[rp->text_len] = '\0';
	}
	r->text = t;
}

void
smtpc_result_copy(cp_smtpc_result *dst, const cp_smtpc_result *src)
{
	if (dst == src)
		return;
	smtpc_result_set(dst, src->status, src->phase, src->code, src->local,
	    src->enhanced, src->text);
}

/* ---- output, expectations, events ---- */

void
smtpc_out(cp_smtpc_conn *c, const char *s, size_t n)
{
	if (cp_buf_add(&c->out, s, n) != CP_OK)
		c->broken = 1;
}

void
smtpc_outs(cp_smtpc_conn *c, const char *s)
{
	smtpc_out(c, s, strlen(s));
}

void
smtpc_expect(cp_smtpc_conn *c, int x)
{
	if (cp_buf_addc(&c->expq, (char)x) != CP_OK)
		c->broken = 1;
}

static int
expect_head(const cp_smtpc_conn *c)
{
	if (c->expq_off >= c->expq.len)
		return 0;
	return (unsigned char)c->expq.data[c->expq_off];
}

void
smtpc_push(cp_smtpc_conn *c, const cp_smtpc_event *ev)
{
	if (cp_buf_add(&c->evq, ev, sizeof(*ev)) != CP_OK)
		c->broken = 1;
}

void
smtpc_ready(cp_smtpc_conn *c)
{
	cp_smtpc_event ev = { .type = CP_SMTPC_EV_READY };

	c->state = SMTPC_S_READY;
	smtpc_push(c, &ev);
}

/*
 * The transaction is over: RCPT events in order, then MESSAGE with the
 * reply that decided it (the final reply when anyone was accepted).
 */
void
smtpc_finish(cp_smtpc_conn *c, const cp_smtpc_result *decisive)
{
	cp_smtpc_event ev;
	size_t i, ok = 0, temp = 0, perm = 0;

	for (i = 0; i < c->nrcpt; i++) {
		struct smtpc_rcpt *r = &c->rcpts[i];

		CP_ASSERT(r->done);
		memset(&ev, 0, sizeof(ev));
		ev.type = CP_SMTPC_EV_RCPT;
		ev.n = i;
		ev.rcpt = r->addr;
		ev.result = &r->res;
		smtpc_push(c, &ev);
		if (r->res.status == CP_SMTPC_OK)
			ok++;
		else if (r->res.status == CP_SMTPC_TEMP)
			temp++;
		else
			perm++;
	}
	smtpc_result_copy(&c->msgres, decisive);
	memset(&ev, 0, sizeof(ev));
	ev.type = CP_SMTPC_EV_MESSAGE;
	ev.accepted = ok;
	ev.temp = temp;
	ev.perm = perm;
	ev.result = &c->msgres;
	smtpc_push(c, &ev);
	c->in_trans = 0;
}

/* The phase a failure now belongs to. */
static int
current_phase(const cp_smtpc_conn *c)
{
	int x = expect_head(c);

	if (c->state == SMTPC_S_BODY)
		return CP_SMTPC_PH_DATA;
	if (c->state == SMTPC_S_TLS)
		return CP_SMTPC_PH_STARTTLS;
	if (x == SMTPC_X_GREETING && !c->got_bytes)
		return CP_SMTPC_PH_CONNECT;
	if (x != 0)
		return smtpc_phase_of(x);
	return c->in_trans ? CP_SMTPC_PH_MAIL : CP_SMTPC_PH_NONE;
}

/*
 * The end: pending recipients fail temporarily with r (whatever its
 * class: the message was not refused, the session was lost), MESSAGE,
 * then CLOSED with r. quit: say QUIT first (the session is still sane).
 */
void
smtpc_close(cp_smtpc_conn *c, int reason, const cp_smtpc_result *r, int quit)
{
	cp_smtpc_event ev;
	size_t i;

	if (c->state == SMTPC_S_CLOSED)
		return;
	if (c->in_trans) {
		cp_smtpc_result t = { 0 };

		smtpc_result_copy(&t, r);
		if (t.status == CP_SMTPC_OK)
			t.code = 421;
		t.status = CP_SMTPC_TEMP;
		for (i = 0; i < c->nrcpt; i++) {
			struct smtpc_rcpt *p = &c->rcpts[i];

			if (p->done)
				continue;
			smtpc_result_copy(&p->res, &t);
			p->res.status = CP_SMTPC_TEMP;
			p->res.code = t.code;
			p->done = 1;
		}
		smtpc_finish(c, &t);
		smtpc_result_free(&t);
	}
	smtpc_result_copy(&c->closeres, r);
	if (quit)
		smtpc_outs(c, "QUIT\r\n");
	memset(&ev, 0, sizeof(ev));
	ev.type = CP_SMTPC_EV_CLOSED;
	ev.reason = reason;
	ev.result = &c->closeres;
	smtpc_push(c, &ev);
	c->state = SMTPC_S_CLOSED;
	c->expq_off = c->expq.len;
	cp_buf_reset(&c->in);
	c->in_off = 0;
}

/* A failure with no reply to show: 421 and a text of ours. */
void
smtpc_close_local(cp_smtpc_conn *c, int reason, int phase, const char *enh,
    const char *fmt, ...)
{
	cp_smtpc_result r = { 0 };
	char text[512], msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "421 %s %s", enh, msg);
	smtpc_result_set(&r, CP_SMTPC_TEMP, phase, 421, 1, enh, text);
	smtpc_close(c, reason, &r, 0);
	smtpc_result_free(&r);
}

/* ---- input ---- */

static void
protocol_error(cp_smtpc_conn *c, const char *what)
{
	smtpc_close_local(c, CP_SMTPC_R_PROTOCOL, current_phase(c), "4.5.0",
	    "protocol error in the %s reply: %s",
	    cp_smtpc_phase_name(current_phase(c)), what);
}

/* A complete reply is in c->reply. */
static void
on_reply(cp_smtpc_conn *c)
{
	cp_err err;
	int x;

	cp_err_clear(&err);
	if (cp_reply_parse(&c->rp, c->reply.data, c->reply.len, &err) !=
	    CP_OK || c->rp.code != c->reply_code) {
		protocol_error(c, "malformed reply");
		return;
	}
	x = expect_head(c);
	if (x == 0) {
		cp_smtpc_result r = { 0 };

		if (c->rp.code != 421) {
			protocol_error(c, "a reply nothing asked for");
			return;
		}
		smtpc_result_reply(&r, &c->rp, current_phase(c));
		smtpc_close(c, CP_SMTPC_R_SERVER, &r, 0);
		smtpc_result_free(&r);
		return;
	}
	c->expq_off++;
	if (c->expq_off == c->expq.len) {
		cp_buf_reset(&c->expq);
		c->expq_off = 0;
	}
	smtpc_on_reply(c, x);
}

/* Cut lines into replies and hand them on, while a reply is awaited. */
static void
process(cp_smtpc_conn *c)
{
	while (c->state != SMTPC_S_CLOSED && c->state != SMTPC_S_TLS &&
	    !c->broken) {
		const char *p = c->in.data + c->in_off;
		size_t avail = c->in.len - c->in_off, n, i;
		const char *eol;
		int code;

		if (avail == 0)
			break;
		eol = memchr(p, '\n', avail);
		if (eol == NULL) {
			if (avail > SMTPC_LINE_MAX)
				protocol_error(c, "line too long");
			break;
		}
		n = (size_t)(eol - p);
		c->in_off += n + 1;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > SMTPC_LINE_MAX) {
			protocol_error(c, "line too long");
			break;
		}
		if (n < 3 || (n > 3 && p[3] != ' ' && p[3] != '-')) {
			protocol_error(c, "no reply code");
			break;
		}
		code = 0;
		for (i = 0; i < 3; i++) {
			if (p[i] < '0' || p[i] > '9')
				break;
			code = code * 10 + (p[i] - '0');
		}
		if (i < 3 || code < 200 || code > 599) {
			protocol_error(c, "no reply code");
			break;
		}
		if (c->reply.len == 0)
			c->reply_code = code;
		else if (code != c->reply_code) {
			protocol_error(c, "reply lines with different codes");
			break;
		}
		if (cp_buf_add(&c->reply, p, n) != CP_OK ||
		    cp_buf_add(&c->reply, "\r\n", 2) != CP_OK) {
			protocol_error(c, "reply too long");
			break;
		}
		if (n > 3 && p[3] == '-')
			continue;
		on_reply(c);
		cp_buf_reset(&c->reply);
	}
	if (c->in_off == c->in.len) {
		cp_buf_reset(&c->in);
		c->in_off = 0;
	} else if (c->in_off > 0 && c->in_off * 2 > c->in.len) {
		memmove(c->in.data, c->in.data + c->in_off,
		    c->in.len - c->in_off);
		c->in.len -= c->in_off;
		c->in_off = 0;
	}
}

int
cp_smtpc_conn_feed(cp_smtpc_conn *c, const char *data, size_t len)
{
	if (len == 0)
		return CP_OK;
	if (c->state == SMTPC_S_CLOSED || c->state == SMTPC_S_TLS)
		return CP_OK; /* RFC 3207 4.2: nothing from before TLS */
	c->got_bytes = 1;
	if (cp_buf_add(&c->in, data, len) != CP_OK) {
		protocol_error(c, "too much input");
		return CP_OK;
	}
	process(c);
	return CP_OK;
}

int
cp_smtpc_conn_next_event(cp_smtpc_conn *c, cp_smtpc_event *ev)
{
	static const cp_smtpc_result oom = { CP_SMTPC_TEMP, CP_SMTPC_PH_NONE,
		421, 1, "4.3.0", "421 4.3.0 out of memory" };

	memset(ev, 0, sizeof(*ev));
	if (c->broken) {
		/* Out of memory: events may be lost; tell the caller once
		 * so it requeues the message as a whole. */
		if (c->broken == 1) {
			c->broken = 2;
			c->state = SMTPC_S_CLOSED;
			ev->type = CP_SMTPC_EV_CLOSED;
			ev->reason = CP_SMTPC_R_INTERNAL;
			ev->result = &oom;
			return ev->type;
		}
		return CP_SMTPC_EV_NONE;
	}
	if (c->evq_off >= c->evq.len)
		return CP_SMTPC_EV_NONE;
	memcpy(ev, c->evq.data + c->evq_off, sizeof(*ev));
	c->evq_off += sizeof(*ev);
	if (c->evq_off == c->evq.len) {
		cp_buf_reset(&c->evq);
		c->evq_off = 0;
	}
	return ev->type;
}

size_t
cp_smtpc_conn_output(cp_smtpc_conn *c, const char **data)
{
	if (c->out.len == c->out_off) {
		*data = "";
		return 0;
	}
	*data = c->out.data + c->out_off;
	return c->out.len - c->out_off;
}

void
cp_smtpc_conn_consumed(cp_smtpc_conn *c, size_t n)
{
	CP_ASSERT(n <= c->out.len - c->out_off);
	c->out_off += n;
	if (c->out_off == c->out.len) {
		cp_buf_reset(&c->out);
		c->out_off = 0;
	}
}

/* ---- the caller's news ---- */

void
cp_smtpc_conn_tls_started(cp_smtpc_conn *c)
{
	if (c->state == SMTPC_S_CLOSED)
		return;
	CP_ASSERT(c->state == SMTPC_S_TLS);
	cp_buf_reset(&c->in);
	c->in_off = 0;
	memset(&c->caps, 0, sizeof(c->caps));
	c->caps.tls = 1;
	c->state = SMTPC_S_WAIT;
	smtpc_send_ehlo(c); /* RFC 3207 4.2: forget what was said before */
}

void
cp_smtpc_conn_tls_failed(cp_smtpc_conn *c, const char *why)
{
	smtpc_close_local(c, CP_SMTPC_R_TLS_FAILED, CP_SMTPC_PH_STARTTLS,
	    "4.7.5", "TLS handshake failed: %s", why ? why : "unknown");
}

void
cp_smtpc_conn_connect_failed(cp_smtpc_conn *c, const char *why)
{
	smtpc_close_local(c, CP_SMTPC_R_CONNECT, CP_SMTPC_PH_CONNECT,
	    "4.4.1", "connection failed: %s", why ? why : "unknown");
}

void
cp_smtpc_conn_eof(cp_smtpc_conn *c)
{
	int ph = current_phase(c);

	if (c->state == SMTPC_S_CLOSED)
		return;
	if (expect_head(c) == SMTPC_X_QUIT) {
		cp_smtpc_result r = { 0 };

		smtpc_result_set(&r, CP_SMTPC_OK, CP_SMTPC_PH_NONE, 221, 1,
		    "", "221 closed after QUIT");
		smtpc_close(c, CP_SMTPC_R_QUIT, &r, 0);
		smtpc_result_free(&r);
		return;
	}
	smtpc_close_local(c, CP_SMTPC_R_SERVER, ph, "4.4.2",
	    "connection closed by the server during %s",
	    cp_smtpc_phase_name(ph));
}

void
cp_smtpc_conn_timeout(cp_smtpc_conn *c)
{
	int ph = current_phase(c);

	if (c->state == SMTPC_S_CLOSED)
		return;
	smtpc_close_local(c, CP_SMTPC_R_TIMEOUT, ph, "4.4.2",
	    c->state == SMTPC_S_BODY ? "timeout while sending %s" :
	    "timeout waiting for the %s reply", cp_smtpc_phase_name(ph));
}

unsigned
cp_smtpc_conn_timeout_ms(const cp_smtpc_conn *c)
{
	if (c->state == SMTPC_S_BODY)
		return c->conf.block_timeout_ms;
	if (c->state != SMTPC_S_WAIT)
		return 0;
	switch (expect_head(c)) {
	case SMTPC_X_GREETING:
		return c->conf.greeting_timeout_ms;
	case SMTPC_X_MAIL:
		return c->conf.mail_timeout_ms;
	case SMTPC_X_RCPT:
		return c->conf.rcpt_timeout_ms;
	case SMTPC_X_DATA:
		return c->conf.data_timeout_ms;
	case SMTPC_X_DOT:
		return c->conf.dot_timeout_ms;
	case 0:
		return 0;
	default:
		return c->conf.helo_timeout_ms;
	}
}

const cp_smtpc_caps *
cp_smtpc_conn_caps(const cp_smtpc_conn *c)
{
	return &c->caps;
}

int
cp_smtpc_conn_closed(const cp_smtpc_conn *c)
{
	return c->state == SMTPC_S_CLOSED;
}

const char *
cp_smtpc_event_name(int type)
{
	static const char *const names[] = { "NONE", "GREETING", "STARTTLS",
		"READY", "BODY", "RCPT", "MESSAGE", "CLOSED" };

	if (type < 0 || (size_t)type >= CP_NELEM(names))
		return "?";
	return names[type];
}

const char *
cp_smtpc_phase_name(int phase)
{
	static const char *const names[] = { "none", "connect", "greeting",
		"ehlo", "starttls", "mail", "rcpt", "data", "dot" };

	if (phase < 0 || (size_t)phase >= CP_NELEM(names))
		return "?";
	return names[phase];
}

const char *
cp_smtpc_reason_name(int reason)
{
	static const char *const names[] = { "none", "quit", "greeting",
		"ehlo", "tls_required", "starttls", "tls_failed", "server",
		"rset", "timeout", "protocol", "connect", "internal" };

	if (reason < 0 || (size_t)reason >= CP_NELEM(names))
		return "?";
	return names[reason];
}
