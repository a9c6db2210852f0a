/*
 * smtpc_cmd.c - the delivery client's commands: each smtpc_send_<cmd>()
 * writes a command and queues the reply it waits for; the matching
 * smtpc_on_<cmd>_reply() acts on that reply (STYLE.md 7).
 *
 * Session: greeting (RFC 5321 3.1, 4.3.2: a 554 or 421 greeting ends it,
 * we say QUIT), EHLO (4.1.1.1) with its keywords, HELO when EHLO gets a
 * 5xx (3.2), STARTTLS (RFC 3207: the caller does the handshake; EHLO
 * again after it, and nothing learnt before counts, 4.2), QUIT (4.1.1.10).
 *
 * Transaction (3.3): RSET before every message but the first on a
 * connection (4.1.1.5), MAIL FROM with SIZE= (RFC 1870 5), BODY=8BITMIME
 * (RFC 6152) and SMTPUTF8 (RFC 6531 3.4) when offered, one RCPT per
 * recipient, DATA, the text, the final reply. With PIPELINING (RFC 2920
 * 3.1) MAIL, the RCPTs and DATA go in one write and the replies are taken
 * in order; a 354 when no recipient was accepted is ended with a lone "."
 * (RFC 2920 3.1 says the client must then send nothing and RSET; a server
 * that still says 354 gets an empty message ended at once). Without it,
 * one command at a time, and no DATA when nobody was accepted (RSET).
 * A message bigger than the server's SIZE fails before MAIL (RFC 1870 6).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "smtp/smtpc_int.h"

int
smtpc_phase_of(int x)
{
	switch (x) {
	case SMTPC_X_GREETING:
		return CP_SMTPC_PH_GREETING;
	case SMTPC_X_EHLO:
	case SMTPC_X_HELO:
		return CP_SMTPC_PH_EHLO;
	case SMTPC_X_STARTTLS:
		return CP_SMTPC_PH_STARTTLS;
	case SMTPC_X_RSET:
	case SMTPC_X_MAIL:
		return CP_SMTPC_PH_MAIL;
	case SMTPC_X_RCPT:
		return CP_SMTPC_PH_RCPT;
	case SMTPC_X_DATA:
		return CP_SMTPC_PH_DATA;
	case SMTPC_X_DOT:
		return CP_SMTPC_PH_DOT;
	default:
		return CP_SMTPC_PH_NONE;
	}
}

/* Close with the reply just received (c->rp). */
static void
close_reply(cp_smtpc_conn *c, int reason, int phase, int quit)
{
	cp_smtpc_result r = { 0 };

	smtpc_result_reply(&r, &c->rp, phase);
	smtpc_close(c, reason, &r, quit);
	smtpc_result_free(&r);
}

/* ---- session ---- */

void
smtpc_send_ehlo(cp_smtpc_conn *c)
{
	smtpc_outs(c, "EHLO ");
	smtpc_outs(c, c->conf.helo);
	smtpc_outs(c, "\r\n");
	smtpc_expect(c, SMTPC_X_EHLO);
}

static void
smtpc_send_helo(cp_smtpc_conn *c)
{
	smtpc_outs(c, "HELO ");
	smtpc_outs(c, c->conf.helo);
	smtpc_outs(c, "\r\n");
	smtpc_expect(c, SMTPC_X_HELO);
}

static void
smtpc_send_starttls(cp_smtpc_conn *c)
{
	smtpc_outs(c, "STARTTLS\r\n");
	smtpc_expect(c, SMTPC_X_STARTTLS);
}

void
smtpc_send_quit(cp_smtpc_conn *c)
{
	smtpc_outs(c, "QUIT\r\n");
	smtpc_expect(c, SMTPC_X_QUIT);
	c->state = SMTPC_S_WAIT;
}

static void
smtpc_send_rset(cp_smtpc_conn *c)
{
	smtpc_outs(c, "RSET\r\n");
	smtpc_expect(c, SMTPC_X_RSET);
}

static void
smtpc_on_greeting_reply(cp_smtpc_conn *c)
{
	cp_smtpc_event ev = { .type = CP_SMTPC_EV_GREETING };

	smtpc_result_reply(&c->greet, &c->rp, CP_SMTPC_PH_GREETING);
	if (c->rp.code != 220) {
		/* 554 or 421 (3.1): no mail here; QUIT is polite. */
		if (c->greet.status == CP_SMTPC_OK)
			c->greet.status = CP_SMTPC_TEMP;
		smtpc_close(c, CP_SMTPC_R_GREETING, &c->greet, 1);
		return;
	}
	ev.result = &c->greet;
	smtpc_push(c, &ev);
	smtpc_send_ehlo(c);
}

/* One EHLO line: "KEYWORD params" (RFC 5321 4.1.1.1). */
static void
ehlo_keyword(cp_smtpc_caps *k, const char *p, size_t n)
{
	size_t kl = 0, i;

	while (kl < n && p[kl] != ' ')
		kl++;
#define KW(s) (kl == sizeof(s) - 1 && strncasecmp(p, s, kl) == 0)
	if (KW("PIPELINING"))
		k->pipelining = 1;
	else if (KW("8BITMIME"))
		k->eightbitmime = 1;
	else if (KW("SMTPUTF8"))
		k->smtputf8 = 1;
	else if (KW("STARTTLS"))
		k->starttls = 1;
	else if (KW("ENHANCEDSTATUSCODES"))
		k->enhancedstatuscodes = 1;
	else if (KW("DSN"))
		k->dsn = 1;
	else if (KW("SIZE")) {
		uint64_t v = 0;

		k->size = 1;
		for (i = kl + 1; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
			if (v > (UINT64_MAX - 9) / 10) {
				v = 0; /* absurd: take it as no limit */
				break;
			}
			v = v * 10 + (uint64_t)(p[i] - '0');
		}
		k->size_max = v; /* RFC 1870 4: 0 or none is no limit */
	}
#undef KW
}

static void
after_hello(cp_smtpc_conn *c)
{
	if (!c->caps.tls && c->conf.tls != CP_SMTPC_TLS_NONE &&
	    c->caps.starttls) {
		smtpc_send_starttls(c);
		return;
	}
	if (!c->caps.tls && c->conf.tls == CP_SMTPC_TLS_REQUIRE) {
		smtpc_close_local(c, CP_SMTPC_R_TLS_REQUIRED,
		    CP_SMTPC_PH_STARTTLS, "4.7.4",
		    "TLS is required, but the server does not offer STARTTLS");
		smtpc_outs(c, "QUIT\r\n");
		return;
	}
	smtpc_ready(c);
}

static void
smtpc_on_ehlo_reply(cp_smtpc_conn *c)
{
	const char *p = c->reply.data, *end = p + c->reply.len, *eol;
	int tls = c->caps.tls;

	if (c->rp.code >= 500) {
		smtpc_send_helo(c); /* 3.2: an old server */
		return;
	}
	if (c->rp.code != 250) {
		close_reply(c, CP_SMTPC_R_EHLO, CP_SMTPC_PH_EHLO, 1);
		return;
	}
	memset(&c->caps, 0, sizeof(c->caps));
	c->caps.tls = tls;
	c->caps.esmtp = 1;
	/* The first line names the server; keywords follow, one a line. */
	eol = memchr(p, '\n', (size_t)(end - p));
	p = eol ? eol + 1 : end;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		if (eol - p > 4)
			ehlo_keyword(&c->caps, p + 4, (size_t)(eol - p - 5));
		p = eol + 1;
	}
	after_hello(c);
}

static void
smtpc_on_helo_reply(cp_smtpc_conn *c)
{
	int tls = c->caps.tls;

	if (c->rp.code != 250) {
		close_reply(c, CP_SMTPC_R_EHLO, CP_SMTPC_PH_EHLO, 1);
		return;
	}
	memset(&c->caps, 0, sizeof(c->caps));
	c->caps.tls = tls;
	after_hello(c);
}

static void
smtpc_on_starttls_reply(cp_smtpc_conn *c)
{
	cp_smtpc_event ev = { .type = CP_SMTPC_EV_STARTTLS };

	if (c->rp.code == 220) {
		/* RFC 3207 4.2: whatever follows in the clear is dropped. */
		c->state = SMTPC_S_TLS;
		c->in_off = c->in.len;
		smtpc_push(c, &ev);
		return;
	}
	if (c->conf.tls == CP_SMTPC_TLS_REQUIRE) {
		cp_smtpc_result r = { 0 };

		smtpc_result_reply(&r, &c->rp, CP_SMTPC_PH_STARTTLS);
		r.status = CP_SMTPC_TEMP;
		smtpc_close(c, CP_SMTPC_R_STARTTLS, &r, 1);
		smtpc_result_free(&r);
		return;
	}
	smtpc_ready(c); /* opportunistic: go on in the clear */
}

static void
smtpc_on_quit_reply(cp_smtpc_conn *c)
{
	close_reply(c, CP_SMTPC_R_QUIT, CP_SMTPC_PH_NONE, 0);
}

void
cp_smtpc_conn_quit(cp_smtpc_conn *c)
{
	if (c->state == SMTPC_S_CLOSED)
		return;
	CP_ASSERT(c->state == SMTPC_S_READY);
	smtpc_send_quit(c);
}

/* ---- transaction ---- */

static void
smtpc_send_mail(cp_smtpc_conn *c)
{
	char num[32];

	smtpc_outs(c, "MAIL FROM:<");
	smtpc_outs(c, c->from);
	smtpc_outs(c, ">");
	if (c->caps.size && c->size > 0) {
		snprintf(num, sizeof(num), " SIZE=%llu",
		    (unsigned long long)c->size);
		smtpc_outs(c, num);
	}
	if (c->body8bit && c->caps.eightbitmime)
		smtpc_outs(c, " BODY=8BITMIME");
	if (c->smtputf8)
		smtpc_outs(c, " SMTPUTF8");
	smtpc_outs(c, "\r\n");
	smtpc_expect(c, SMTPC_X_MAIL);
}

static void
smtpc_send_rcpt(cp_smtpc_conn *c)
{
	smtpc_outs(c, "RCPT TO:<");
	smtpc_outs(c, c->rcpts[c->rcpt_sent].addr);
	smtpc_outs(c, ">\r\n");
	smtpc_expect(c, SMTPC_X_RCPT);
	c->rcpt_sent++;
}

static void
smtpc_send_data(cp_smtpc_conn *c)
{
	smtpc_outs(c, "DATA\r\n");
	smtpc_expect(c, SMTPC_X_DATA);
}

/* MAIL onwards: all in one go with PIPELINING, else MAIL alone. */
static void
send_envelope(cp_smtpc_conn *c)
{
	smtpc_send_mail(c);
	if (!c->caps.pipelining)
		return;
	while (c->rcpt_sent < c->nrcpt)
		smtpc_send_rcpt(c);
	smtpc_send_data(c);
}

/* Every recipient fails locally before MAIL; the session goes on. */
static void
fail_before_mail(cp_smtpc_conn *c, int code, const char *enh,
    const char *text)
{
	cp_smtpc_result r = { 0 };
	size_t i;

	smtpc_result_set(&r, smtpc_status_of(code), CP_SMTPC_PH_MAIL, code, 1,
	    enh, text);
	for (i = 0; i < c->nrcpt; i++) {
		smtpc_result_copy(&c->rcpts[i].res, &r);
		c->rcpts[i].done = 1;
	}
	smtpc_finish(c, &r);
	smtpc_result_free(&r);
	smtpc_ready(c);
}

static int
path_ok(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n<>") == NULL && strlen(s) < 1000;
}

int
cp_smtpc_conn_message(cp_smtpc_conn *c, const cp_smtpc_message *m)
{
	char text[200];
	size_t i;

	if (c->state != SMTPC_S_READY || m->nrcpt == 0 || !path_ok(m->from))
		return CP_EINVAL;
	for (i = 0; i < m->nrcpt; i++)
		if (!path_ok(m->rcpts[i]) || m->rcpts[i][0] == '\0')
			return CP_EINVAL;
	for (i = 0; i < c->nrcpt; i++) {
		cp_free(c->rcpts[i].addr);
		smtpc_result_free(&c->rcpts[i].res);
	}
	cp_free(c->rcpts);
	cp_free(c->from);
	smtpc_result_free(&c->mail_res);
	c->nrcpt = 0;
	c->from = cp_strdup(m->from);
	c->rcpts = cp_calloc(m->nrcpt, sizeof(*c->rcpts));
	if (c->from == NULL || c->rcpts == NULL)
		goto nomem;
	for (i = 0; i < m->nrcpt; i++) {
		c->rcpts[i].addr = cp_strdup(m->rcpts[i]);
		c->nrcpt = i + 1;
		if (c->rcpts[i].addr == NULL)
			goto nomem;
	}
	c->size = m->size;
	c->body8bit = m->body8bit;
	c->smtputf8 = m->smtputf8;
	c->rcpt_sent = c->rcpt_replied = c->accepted = 0;
	c->mail_failed = c->discard_dot = 0;
	c->in_trans = 1;
	c->state = SMTPC_S_WAIT;

	if (m->smtputf8 && !c->caps.smtputf8) {
		fail_before_mail(c, 553, "5.6.7", "553 5.6.7 the message needs "
		    "SMTPUTF8, which the server does not offer");
		return CP_OK;
	}
	if (c->caps.size && c->caps.size_max > 0 && m->size >
	    c->caps.size_max) {
		snprintf(text, sizeof(text), "552 5.3.4 message size %llu "
		    "exceeds the server's limit of %llu",
		    (unsigned long long)m->size,
		    (unsigned long long)c->caps.size_max);
		fail_before_mail(c, 552, "5.3.4", text);
		return CP_OK;
	}
	if (c->need_rset) {
		smtpc_send_rset(c);
		if (c->caps.pipelining)
			send_envelope(c);
	} else
		send_envelope(c);
	c->need_rset = 1;
	return CP_OK;
nomem:
	c->broken = 1;
	return CP_ENOMEM;
}

static void
smtpc_on_rset_reply(cp_smtpc_conn *c)
{
	if (c->rp.code != 250) {
		close_reply(c, CP_SMTPC_R_RSET, CP_SMTPC_PH_MAIL, 1);
		return;
	}
	if (!c->in_trans) {
		c->need_rset = 0;
		smtpc_ready(c); /* the RSET after a refused envelope */
		return;
	}
	if (!c->caps.pipelining)
		send_envelope(c);
}

/* The last recipient's refusal speaks for the message. */
static void
finish_nobody(cp_smtpc_conn *c)
{
	cp_smtpc_result r = { 0 };

	smtpc_result_copy(&r, c->mail_failed ? &c->mail_res :
	    &c->rcpts[c->nrcpt - 1].res);
	smtpc_finish(c, &r);
	smtpc_result_free(&r);
}

static void
smtpc_on_mail_reply(cp_smtpc_conn *c)
{
	size_t i;

	if (c->rp.code / 100 == 2) {
		if (!c->caps.pipelining)
			smtpc_send_rcpt(c);
		return;
	}
	c->mail_failed = 1;
	smtpc_result_reply(&c->mail_res, &c->rp, CP_SMTPC_PH_MAIL);
	for (i = 0; i < c->nrcpt; i++) {
		smtpc_result_copy(&c->rcpts[i].res, &c->mail_res);
		c->rcpts[i].done = 1;
	}
	if (c->caps.pipelining)
		return; /* RCPT and DATA replies are still to come */
	finish_nobody(c);
	smtpc_ready(c);
}

static void
smtpc_on_rcpt_reply(cp_smtpc_conn *c)
{
	struct smtpc_rcpt *r;

	if (c->rcpt_replied >= c->nrcpt) {
		CP_ASSERT(0);
		return;
	}
	r = &c->rcpts[c->rcpt_replied++];
	if (!c->mail_failed) {
		smtpc_result_reply(&r->res, &c->rp, CP_SMTPC_PH_RCPT);
		if (r->res.status == CP_SMTPC_OK) {
			r->accepted = 1;
			c->accepted++;
		} else
			r->done = 1;
	}
	if (c->caps.pipelining)
		return;
	if (c->rcpt_sent < c->nrcpt) {
		smtpc_send_rcpt(c);
		return;
	}
	if (c->accepted > 0) {
		smtpc_send_data(c);
		return;
	}
	/* Nobody: no DATA; RSET, and READY after it. */
	finish_nobody(c);
	smtpc_send_rset(c);
}

/* Accepted recipients take this reply as their outcome. */
static void
settle_accepted(cp_smtpc_conn *c, int phase)
{
	size_t i;

	for (i = 0; i < c->nrcpt; i++) {
		if (!c->rcpts[i].accepted || c->rcpts[i].done)
			continue;
		smtpc_result_reply(&c->rcpts[i].res, &c->rp, phase);
		c->rcpts[i].done = 1;
	}
}

static void
smtpc_on_data_reply(cp_smtpc_conn *c)
{
	cp_smtpc_event ev = { .type = CP_SMTPC_EV_BODY };
	cp_smtpc_result r = { 0 };

	if (c->rp.code / 100 == 3) { /* 354 (4.3.2) */
		if (c->accepted == 0 || c->mail_failed) {
			c->discard_dot = 1;
			smtpc_outs(c, ".\r\n");
			smtpc_expect(c, SMTPC_X_DOT);
			return;
		}
		c->state = SMTPC_S_BODY;
		c->bol = 1;
		c->cr = 0;
		smtpc_push(c, &ev);
		return;
	}
	if (c->rp.code / 100 < 4) {
		smtpc_close_local(c, CP_SMTPC_R_PROTOCOL, CP_SMTPC_PH_DATA,
		    "4.5.0", "protocol error: %d to DATA", c->rp.code);
		return;
	}
	if (c->accepted == 0 || c->mail_failed) {
		finish_nobody(c);
		smtpc_ready(c);
		return;
	}
	settle_accepted(c, CP_SMTPC_PH_DATA);
	smtpc_result_reply(&r, &c->rp, CP_SMTPC_PH_DATA);
	smtpc_finish(c, &r);
	smtpc_result_free(&r);
	smtpc_ready(c);
}

static void
smtpc_on_dot_reply(cp_smtpc_conn *c)
{
	cp_smtpc_result r = { 0 };

	if (c->discard_dot) {
		finish_nobody(c);
		smtpc_ready(c);
		return;
	}
	settle_accepted(c, CP_SMTPC_PH_DOT);
	smtpc_result_reply(&r, &c->rp, CP_SMTPC_PH_DOT);
	smtpc_finish(c, &r);
	smtpc_result_free(&r);
	smtpc_ready(c);
}

int
cp_smtpc_conn_body(cp_smtpc_conn *c, const char *data, size_t len)
{
	if (c->state != SMTPC_S_BODY)
		return CP_EINVAL;
	if (c->out.len - c->out_off > c->conf.max_output)
		return CP_ETOOBIG;
	smtpc_stuff(c, data, len);
	return c->broken ? CP_ENOMEM : CP_OK;
}

int
cp_smtpc_conn_body_end(cp_smtpc_conn *c)
{
	if (c->state != SMTPC_S_BODY)
		return CP_EINVAL;
	smtpc_stuff_end(c);
	smtpc_expect(c, SMTPC_X_DOT);
	c->state = SMTPC_S_WAIT;
	return c->broken ? CP_ENOMEM : CP_OK;
}

/* A reply to x is in c->rp (and its lines in c->reply). */
void
smtpc_on_reply(cp_smtpc_conn *c, int x)
{
	/* 421 (4.2.2): the server is closing; whatever was asked fails. */
	if (c->rp.code == 421 && x != SMTPC_X_GREETING && x != SMTPC_X_QUIT) {
		close_reply(c, CP_SMTPC_R_SERVER, smtpc_phase_of(x), 0);
		return;
	}
	/* 3xx (4.2.1) only goes ahead with DATA; elsewhere it is nonsense
	 * that must not pass for an acceptance. */
	if (c->rp.code / 100 == 3 && x != SMTPC_X_DATA &&
	    x != SMTPC_X_GREETING) {
		smtpc_close_local(c, CP_SMTPC_R_PROTOCOL, smtpc_phase_of(x),
		    "4.5.0", "protocol error: %d to %s", c->rp.code,
		    cp_smtpc_phase_name(smtpc_phase_of(x)));
		return;
	}
	switch (x) {
	case SMTPC_X_GREETING:
		smtpc_on_greeting_reply(c);
		break;
	case SMTPC_X_EHLO:
		smtpc_on_ehlo_reply(c);
		break;
	case SMTPC_X_HELO:
		smtpc_on_helo_reply(c);
		break;
	case SMTPC_X_STARTTLS:
		smtpc_on_starttls_reply(c);
		break;
	case SMTPC_X_RSET:
		smtpc_on_rset_reply(c);
		break;
	case SMTPC_X_MAIL:
		smtpc_on_mail_reply(c);
		break;
	case SMTPC_X_RCPT:
		smtpc_on_rcpt_reply(c);
		break;
	case SMTPC_X_DATA:
		smtpc_on_data_reply(c);
		break;
	case SMTPC_X_DOT:
		smtpc_on_dot_reply(c);
		break;
	case SMTPC_X_QUIT:
		smtpc_on_quit_reply(c);
		break;
	}
}
