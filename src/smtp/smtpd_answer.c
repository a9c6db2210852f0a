/*
 * smtpd_answer.c - the submission core's replies to the caller's answers
 * (see smtpd.h): the default reply of each event for each verdict, the
 * caller's code, enhanced code and text when given (RFC 3463 2: the class
 * of the enhanced code agrees with the reply code), and what each answer
 * changes in the session: the greeting's state (RFC 5321 3.1: after a
 * 554, 503 to all but QUIT), HELO/EHLO (RFC 5321 4.1.1.1), the
 * transaction (MAIL, RCPT, DATA: 354 or a refusal that ends it), and the
 * end of a message (250 with the queue id once the caller has committed).
 * AUTH answers are smtpd_auth.c's.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "smtp/smtpd_int.h"

static int
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

typedef struct smtpd_dflt {
	int code;
	const char *enh; /* NULL: none in this reply */
	const char *text;
} smtpd_dflt;

/* The reply of an answer: the caller's code, enhanced code and text, or
 * the event's defaults for the verdict (d[0] accept, d[1] tempfail,
 * d[2] reject). */
static void
answer_reply(cp_smtpd_conn *c, const cp_smtpd_answer *a,
    const smtpd_dflt d[3])
{
	const smtpd_dflt *df = &d[a->verdict];
	int code = df->code;
	const char *enh = df->enh, *text = a->text ? a->text : df->text;
	char derived[16];

	if (a->verdict != CP_SMTPD_ACCEPT && a->code) {
		code = a->code;
		snprintf(derived, sizeof(derived), "%d.0.0", code / 100);
		enh = derived;
	}
	if (a->enhanced && enh) {
		CP_ASSERT(smtpd_enh_ok(a->enhanced, code));
		enh = a->enhanced;
	}
	smtpd_reply(c, code, enh, "%s", text);
}

static void
set_qid(cp_smtpd_conn *c, const char *id)
{
	size_t k = 0;

	if (id == NULL)
		return;
	for (; *id && k < SMTPD_QID_MAX; id++)
		if (is_alpha(*id) || is_digit(*id) || strchr("._-", *id))
			c->qid[k++] = *id;
	c->qid[k] = '\0';
}

/* After a refusal with close set: 421-like end of the session. */
static void
maybe_close(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	if (a->verdict != CP_SMTPD_ACCEPT && a->close)
		smtpd_close(c, CP_SMTPD_R_REFUSED);
}

static void
answered_greeting(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	char ok[300], tmp[300], rej[300];
	smtpd_dflt d[3];

	snprintf(ok, sizeof(ok), "%s ESMTP %s", c->conf.hostname,
	    c->conf.banner);
	snprintf(tmp, sizeof(tmp), "%s Service not available",
	    c->conf.hostname);
	snprintf(rej, sizeof(rej), "%s Service refused", c->conf.hostname);
	d[0] = (smtpd_dflt){ 220, NULL, ok };
	d[1] = (smtpd_dflt){ 421, "4.3.2", tmp };
	d[2] = (smtpd_dflt){ 554, "5.7.1", rej };
	if (a->verdict == CP_SMTPD_ACCEPT) {
		smtpd_reply(c, 220, NULL, "%s", ok); /* text is ours */
		c->state = SMTPD_S_COMMAND;
		return;
	}
	answer_reply(c, a, d);
	if (a->verdict == CP_SMTPD_TEMPFAIL || a->close) {
		smtpd_close(c, CP_SMTPD_R_REFUSED);
		return;
	}
	c->state = SMTPD_S_REFUSED; /* RFC 5321 3.1: wait for QUIT */
}

static void
answered_helo(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	static const smtpd_dflt d[3] = {
		{ 250, NULL, "" },
		{ 450, "4.7.1", "Helo command rejected, try again later" },
		{ 550, "5.7.1", "Helo command rejected" },
	};

	cp_free(c->helo_name);
	c->helo_name = NULL;
	c->helo = 0;
	if (a->verdict != CP_SMTPD_ACCEPT) {
		answer_reply(c, a, d);
		maybe_close(c, a);
		return;
	}
	c->helo_name = cp_strdup(c->evstr.data);
	if (c->helo_name == NULL) {
		c->broken = 1;
		return;
	}
	c->helo = c->cmd_flag ? 2 : 1;
	if (c->cmd_flag)
		smtpd_ehlo_reply(c);
	else
		smtpd_reply(c, 250, NULL, "%s", c->conf.hostname);
}

static void
answered_mail(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	static const smtpd_dflt d[3] = {
		{ 250, "2.1.0", "Ok" },
		{ 451, "4.3.0", "Error: try again later" },
		{ 550, "5.7.1", "Sender address rejected" },
	};

	answer_reply(c, a, d);
	if (a->verdict == CP_SMTPD_ACCEPT) {
		c->in_mail = 1;
		c->nrcpt = 0;
		c->mail_smtputf8 = c->cmd_flag;
		c->qid[0] = '\0';
		set_qid(c, a->queue_id);
	}
	maybe_close(c, a);
}

static void
answered_rcpt(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	static const smtpd_dflt d[3] = {
		{ 250, "2.1.5", "Ok" },
		{ 451, "4.3.0", "Error: try again later" },
		{ 550, "5.7.1", "Recipient address rejected" },
	};

	answer_reply(c, a, d);
	if (a->verdict == CP_SMTPD_ACCEPT)
		c->nrcpt++;
	maybe_close(c, a);
}

/* The caller ends the transaction itself (it refused DATA or answered
 * DATA_END): no RSET event. */
static void
txn_done(cp_smtpd_conn *c)
{
	c->in_mail = 0;
	smtpd_txn_reset(c, CP_SMTPD_R_NONE);
}

static void
answered_data(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	static const smtpd_dflt d[3] = {
		{ 354, NULL, "End data with <CR><LF>.<CR><LF>" },
		{ 451, "4.3.0", "Error: try again later" },
		{ 554, "5.7.1", "Error: transaction refused" },
	};

	answer_reply(c, a, d);
	if (a->verdict != CP_SMTPD_ACCEPT) {
		txn_done(c);
		maybe_close(c, a);
		return;
	}
	set_qid(c, a->queue_id);
	if (smtpd_data_begin(c) != 0)
		c->broken = 1;
}

static void
answered_data_end(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	static const smtpd_dflt d[3] = {
		{ 250, "2.0.0", "Ok" },
		{ 451, "4.3.0", "Error: message not stored, try again later" },
		{ 554, "5.7.1", "Error: message rejected" },
	};
	char text[120];

	if (a->verdict == CP_SMTPD_ACCEPT) {
		set_qid(c, a->queue_id);
		c->st.messages++;
		c->st.recipients += (unsigned)c->nrcpt;
		if (a->text == NULL && c->qid[0]) {
			cp_smtpd_answer b = *a;

			snprintf(text, sizeof(text), "Ok: queued as %s",
			    c->qid);
			b.text = text;
			answer_reply(c, &b, d);
		} else {
			answer_reply(c, a, d);
		}
	} else {
		answer_reply(c, a, d);
	}
	txn_done(c);
	maybe_close(c, a);
}

void
smtpd_answered(cp_smtpd_conn *c, int type, const cp_smtpd_answer *a)
{
	switch (type) {
	case CP_SMTPD_EV_GREETING:
		answered_greeting(c, a);
		break;
	case CP_SMTPD_EV_HELO:
		answered_helo(c, a);
		break;
	case CP_SMTPD_EV_MAIL:
		answered_mail(c, a);
		break;
	case CP_SMTPD_EV_RCPT:
		answered_rcpt(c, a);
		break;
	case CP_SMTPD_EV_DATA:
		answered_data(c, a);
		break;
	case CP_SMTPD_EV_DATA_END:
		answered_data_end(c, a);
		break;
	default:
		CP_ASSERT(!"an event that takes no answer");
	}
}
