/*
 * bounce_arf.c - complaint reports: RFC 5965 feedback reports (a
 * message/feedback-report part: Feedback-Type, Original-Rcpt-To,
 * Source-IP, Arrival-Date, 3.1-3.3) and two widespread non-ARF forms:
 * Microsoft's JMRP (the reported message attached, the complainant in
 * X-HmXmrOriginalRecipient) and Apple Mail's one-click unsubscribe
 * (X-Apple-Unsubscribe, RFC 8058's cousin), reported as "opt-out".
 *
 * Each complained-about recipient becomes a record with reason
 * "feedback" and its feedback type. Original-Rcpt-To is the recipient;
 * without it, Removal-Recipient, then the To: of the reported message.
 */
#include <string.h>

#include "bounce/bounce_int.h"

static const bnc_part *
attached(const cp_bounce_parser *p)
{
	for (size_t i = 0; i < p->nparts; i++)
		if (p->parts[i].attached && !p->parts[i].in_message)
			return &p->parts[i];
	return NULL;
}

static bnc_rcpt *
feedback(cp_bounce_parser *p, const char *addr, const char *type)
{
	bnc_rcpt *r = bnc_add_rcpt(p);

	if (r == NULL)
		return NULL;
	r->recipient = addr;
	r->reason = "feedback";
	r->feedback_type = type;
	r->rule = "bounce:arf";
	return r;
}

static const char *
first_addr(cp_bounce_parser *p, cp_slice v)
{
	cp_slice a;

	if (!bnc_find_addr(v, &a))
		return NULL;
	return bnc_strdup(p, a.p, a.len);
}

/* The To: of the reported message, when it names an address. */
static const char *
reported_to(cp_bounce_parser *p)
{
	const bnc_part *m = attached(p);
	cp_slice v;
	const char *a;

	if (m == NULL || !bnc_head_get(m->body, "To", &v))
		return "";
	a = first_addr(p, v);
	return a != NULL ? a : "";
}

static size_t
arf_nonstandard(cp_bounce_parser *p)
{
	cp_slice v;
	const bnc_part *m;
	const char *a;

	/* Apple Mail unsubscribe: the complainant is the sender */
	if (bnc_fields_get(&p->top, "X-Apple-Unsubscribe", &v) &&
	    bnc_istarts(cp_slice_trim(v), "true") &&
	    bnc_fields_get(&p->top, "From", &v) &&
	    (a = first_addr(p, v)) != NULL) {
		feedback(p, a, "opt-out");
		return 1;
	}
	/* Microsoft JMRP: the reported message carries the complainant */
	m = attached(p);
	if (m != NULL && bnc_head_get(m->body, "X-HmXmrOriginalRecipient",
	    &v) && (a = first_addr(p, v)) != NULL) {
		feedback(p, a, "abuse");
		return 1;
	}
	return 0;
}

size_t
bnc_arf_read(cp_bounce_parser *p, const bnc_part *fb)
{
	bnc_fields h;
	cp_slice rest, v;
	const char *type = "", *removal = NULL, *date = "";
	size_t before = p->n;

	if (fb == NULL)
		return arf_nonstandard(p);
	bnc_fields_parse(fb->body, &h, &rest);
	if (bnc_fields_get(&h, "Feedback-Type", &v)) {
		char *t = bnc_clean(p, v);

		for (char *q = t; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q + 32);
		type = t;
	}
	if (bnc_fields_get(&h, "Source-IP", &v))
		p->out.source_ip = bnc_clean(p, v);
	if (bnc_fields_get(&h, "Arrival-Date", &v) ||
	    bnc_fields_get(&h, "Received-Date", &v))
		date = bnc_clean(p, v);
	if (bnc_fields_get(&h, "Removal-Recipient", &v))
		removal = first_addr(p, v);
	for (size_t i = 0; i < h.n; i++) {
		const char *a;
		bnc_rcpt *r;

		if (!bnc_ieq(h.f[i].name, "Original-Rcpt-To"))
			continue;
		a = first_addr(p, h.f[i].value);
		if (a != NULL && (r = feedback(p, a, type)) != NULL)
			r->date = date;
	}
	if (p->n == before) {
		bnc_rcpt *r = feedback(p, removal != NULL ? removal :
		    reported_to(p), type);

		if (r != NULL)
			r->date = date;
	}
	return p->n - before;
}
