/*
 * bounce_lhost.c - the MTA and provider families whose bounces are plain
 * text (no RFC 3464 part), told apart by their own signatures: the From:
 * of the bounce, its Subject, or a sentence of their template, and the
 * line each writes before the returned original message.
 *
 * A family only names the writer and marks where the original starts;
 * bounce_text.c reads recipients and diagnostics the same way for all of
 * them, so a new family is one row here. Rows are tried in order, the
 * more specific templates first. Matching ignores ASCII case.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "bounce/bounce_int.h"

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const bnc_family families[] = {
	{ "qmail", NULL, NULL,
	    L("This is the qmail-send program", "I'm afraid I wasn't able to "
	      "deliver your message"),
	    L("--- Below this line is a copy of the message",
	      "--- Enclosed is a copy of the message") },
	{ "exim", L("Mail Delivery System <mailer-daemon"), NULL,
	    L("This message was created automatically by mail delivery "
	      "software"),
	    L("------ This is a copy of the message",
	      "------ This is a copy of your message",
	      "--- The header of the original message is following") },
	{ "dragonfly", NULL, NULL, L("This is the DragonFly Mail Agent"),
	    L("Message headers follow.", "Original message follows.") },
	{ "gmail", L("@googlemail.com", "@google.com"), NULL,
	    L("Google tried to deliver your message",
	      "Delivery to the following recipient"),
	    L("----- Original message -----",
	      "----- Message header follows -----") },
	{ "sendmail", L("Mail Delivery Subsystem"), L("Returned mail:"),
	    L("----- Transcript of session follows -----",
	      "----- The following addresses had permanent fatal errors"),
	    L("----- Unsent message follows -----",
	      "----- Original message follows -----",
	      "------ Returned message ------") },
	{ "opensmtpd", NULL, L("Delivery status notification:"),
	    L("This is the MAILER-DAEMON, please DO NOT REPLY"),
	    L("Below is a copy of the original message:") },
	{ "yahoo", L("@yahoo."), L("Failure Notice"),
	    L("Sorry, we were unable to deliver your message"),
	    L("--- Below this line is a copy of the message") },
	{ "notes", NULL, L("Undeliverable message"),
	    L("------- Failure Reasons"), L("------- Returned Message") },
	{ "domino", NULL, L("DELIVERY FAILURE:"),
	    L("Your message", "was not delivered to:"), NULL },
	{ "imailserver", NULL, L("Undeliverable Mail"),
	    L("Original message follows."), L("Original message follows.") },
	{ "mxlogic", L("mxlogic"), NULL, NULL,
	    L("Included is a copy of the message header:") },
	{ "mfilter", NULL, NULL, L("-------server message"),
	    L("-------original message", "-------original mail info") },
	{ "exchange", NULL, L("Undeliverable:"),
	    L("did not reach the following recipient",
	      "Your message did not reach some or all"),
	    L("Original message headers:") },
	{ "trendmicro", L("InterScan"), NULL,
	    L("Message from InterScan Messaging Security Suite"), NULL },
	{ "mailru", L("@corp.mail.ru", "@mail.ru"), NULL, NULL,
	    L("--- Below this line is a copy of the message") },
	{ "mailfoundry", NULL, L("Message delivery has failed"), NULL,
	    NULL },
	{ "x1", NULL, NULL, L("---The following addresses had delivery "
			      "errors---"), NULL },
	{ "x2", NULL, NULL, NULL, L("--- Original message follows.") },
	{ "fml", L("-admin@"), NULL, NULL, NULL },
	{ "verizon", L("post_master@vtext"), NULL, NULL, NULL },
	{ "kddi", L("dion.ne.jp", "ezweb.ne.jp"), NULL, NULL, NULL },
	{ "zoho", L("@mail.zoho.com"), NULL, NULL, NULL },
	{ "mimecast", NULL, L("[Postmaster] Email Delivery Failure"), NULL,
	    NULL },
	{ "amazonworkmail", L("amazonses.com"), NULL, NULL, NULL },
	{ "generic", NULL, NULL, NULL, NULL },
};

#define NFAM (sizeof(families) / sizeof(families[0]))

static bnc_phrase_set body_sets[NFAM], mark_sets[NFAM];
static pthread_once_t sets_once = PTHREAD_ONCE_INIT;

static void
sets_fill(void)
{
	for (size_t i = 0; i < NFAM; i++) {
		body_sets[i].name = families[i].name;
		body_sets[i].phrases = families[i].body;
		mark_sets[i].name = families[i].name;
		mark_sets[i].phrases = families[i].orig_marks;
	}
}

const bnc_phrase_set *
bnc_family_sets(size_t *n)
{
	(void)pthread_once(&sets_once, sets_fill);
	*n = NFAM;
	return body_sets;
}

const bnc_phrase_set *
bnc_mark_sets(size_t *n)
{
	(void)pthread_once(&sets_once, sets_fill);
	*n = NFAM;
	return mark_sets;
}

size_t
bnc_orig_start(cp_bounce_parser *p, cp_slice text)
{
	const bnc_hits *h;
	size_t best = text.len, at;

	if (p->orig_at != SIZE_MAX && p->orig_of.p == text.p &&
	    p->orig_of.len == text.len)
		return p->orig_at; /* asked before, of the same text */
	h = bnc_text_hits(p, BNC_SCAN_NOTICE, text);
	for (size_t i = 0; i < NFAM; i++) {
		const bnc_family *f = &families[i];

		for (size_t m = 0; f->orig_marks && f->orig_marks[m]; m++) {
			uint32_t end = h->end[bnc_phrase_id(BNC_REG_MARK, i,
			    m)];

			if (end != BNC_NO_HIT && bnc_opens_line(text, end,
			    strlen(f->orig_marks[m]), &at) && at < best)
				best = at;
		}
	}
	p->orig_of = text;
	p->orig_at = best;
	return best;
}

static int
any(cp_slice s, const char *const *lits)
{
	for (size_t i = 0; lits != NULL && lits[i] != NULL; i++)
		if (bnc_isearch(s, lits[i]) != NULL)
			return 1;
	return 0;
}

const bnc_family *
bnc_family_detect(cp_bounce_parser *p, cp_slice text)
{
	cp_slice from = { "", 0 }, subj = { "", 0 };
	size_t n = NFAM;
	const bnc_hits *h = bnc_text_hits(p, BNC_SCAN_WRITER, text);

	(void)bnc_fields_get(&p->top, "From", &from);
	(void)bnc_fields_get(&p->top, "Subject", &subj);
	/* the template's own words are the surest sign */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; families[i].body && families[i].body[j];
		    j++)
			if (h->end[bnc_phrase_id(BNC_REG_FAMILY, i, j)] !=
			    BNC_NO_HIT)
				return &families[i];
	for (size_t i = 0; i < n; i++)
		if (any(from, families[i].from) ||
		    any(subj, families[i].subject))
			return &families[i];
	return &families[n - 1];
}
