/*
 * bounce_auto.c - automatic replies (RFC 3834): vacation and out-of-office
 * messages, reported as reason "vacation" for the person who answered
 * (the From: address), or "suspend" when the reply says the mailbox is no
 * longer read.
 *
 * RFC 3834 5.1 marks them "Auto-Submitted: auto-replied"; the common
 * mailers add their own marks (X-Autoreply, X-Autorespond, Precedence:
 * auto_reply, X-Apple-Action: VACATION, Exchange's "Automatic reply:"
 * subject). Bounces carry "auto-replied" too (Exim), so a reply from a
 * mailer daemon or with a bounce subject is left to the other readers.
 */
#include <string.h>

#include "bounce/bounce_int.h"

static const char *const auto_subjects[] = { "automatic reply",
	"auto reply", "auto-reply", "autoreply", "auto:", "autoresponse",
	"autorespons", "out of office", "out of the office", "vacation",
	"away from", "abwesenheit", "absence", "respuesta autom",
	"réponse automatique", "risposta automatica", NULL };

static const char *const bounce_subjects[] = { "deliver", "undeliver",
	"returned", "failure", "failed", "undelivered", "non remis",
	"notification", NULL };

static const char *const gone_phrases[] = { "no longer in use",
	"no longer active", "no longer valid", "no longer monitored",
	"no longer exists", "is not monitored", "has been deactivated",
	"has been disabled", "has been closed", "no longer with",
	"has left the company", "left the company", "no longer employed",
	"no longer works", NULL };

static int
any(cp_slice s, const char *const *lits)
{
	for (size_t i = 0; lits[i] != NULL; i++)
		if (bnc_isearch(s, lits[i]) != NULL)
			return 1;
	return 0;
}

static int
from_daemon(cp_slice from)
{
	return bnc_isearch(from, "mailer-daemon") != NULL ||
	    bnc_isearch(from, "postmaster") != NULL ||
	    bnc_isearch(from, "mail delivery") != NULL;
}

static int
marked_auto(const cp_bounce_parser *p)
{
	cp_slice v;

	if (bnc_fields_get(&p->top, "Auto-Submitted", &v) &&
	    bnc_isearch(v, "auto-replied") != NULL)
		return 1;
	if (bnc_fields_get(&p->top, "X-Autoreply", &v) ||
	    bnc_fields_get(&p->top, "X-Autorespond", &v) ||
	    bnc_fields_get(&p->top, "X-Autoresponder", &v))
		return 1;
	if (bnc_fields_get(&p->top, "Precedence", &v) &&
	    bnc_isearch(v, "auto_reply") != NULL)
		return 1;
	if (bnc_fields_get(&p->top, "X-Apple-Action", &v) &&
	    bnc_isearch(v, "vacation") != NULL)
		return 1;
	return 0;
}

size_t
bnc_auto_read(cp_bounce_parser *p)
{
	cp_slice from = { "", 0 }, subj = { "", 0 }, a;
	const bnc_part *txt;
	bnc_rcpt *r;

	(void)bnc_fields_get(&p->top, "Subject", &subj);
	if (!bnc_fields_get(&p->top, "From", &from) || from_daemon(from))
		return 0;
	if (!marked_auto(p) && !any(subj, auto_subjects))
		return 0;
	if (any(subj, bounce_subjects) && !any(subj, auto_subjects))
		return 0;
	if (!bnc_find_addr(from, &a) || (r = bnc_add_rcpt(p)) == NULL)
		return 0;
	r->recipient = bnc_strdup(p, a.p, a.len);
	r->reason = "vacation";
	r->rule = "bounce:rfc3834";
	txt = bnc_part_text(p);
	if (txt != NULL && any(txt->body, gone_phrases)) {
		r->reason = "suspend";
		r->rule = "bounce:rfc3834.gone";
		r->cause = CP_CAUSE_MAILBOX_DISABLED;
	}
	return 1;
}
