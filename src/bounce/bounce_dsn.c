/*
 * bounce_dsn.c - the fields of a message/delivery-status part (RFC 3464
 * section 2): per-message fields (Reporting-MTA, Original-Envelope-Id,
 * Arrival-Date, 2.2) then one block per recipient (Original-Recipient,
 * Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code,
 * Last-Attempt-Date, 2.3), blocks apart by blank lines. RFC 6533's
 * message/global-delivery-status has the same fields.
 *
 * Real DSNs bend the grammar, so the reader is forgiving: folded values
 * are unfolded, a missing blank line between blocks is tolerated (a second
 * Final-Recipient starts a new recipient), the address type ("rfc822;")
 * may be missing, an X-Actual-Recipient stands in for a missing
 * Final-Recipient, and a Diagnostic-Code without its type is taken whole.
 */
#include <string.h>
#include <strings.h>

#include "bounce/bounce_int.h"

/* "type; value" -> value (trimmed); a value without type as is. */
static cp_slice
typed_value(cp_slice v)
{
	const char *semi = memchr(v.p, ';', v.len);

	if (semi != NULL) {
		cp_slice t = cp_slice_trim(bnc_slice(v.p, (size_t)(semi -
		    v.p)));
		int plain = t.len > 0 && t.len < 20;

		for (size_t i = 0; plain && i < t.len; i++)
			if (!((t.p[i] >= 'a' && t.p[i] <= 'z') ||
			    (t.p[i] >= 'A' && t.p[i] <= 'Z') || t.p[i] == '-'))
				plain = 0;
		if (plain)
			v = bnc_slice(semi + 1, v.len - (size_t)(semi + 1 -
			    v.p));
	}
	return v;
}

/* The address of a recipient field, without <> and trailing junk. */
static const char *
rcpt_addr(cp_bounce_parser *p, cp_slice v)
{
	cp_slice a;

	v = typed_value(v);
	if (bnc_find_addr(v, &a)) {
		char *s = bnc_strdup(p, a.p, a.len);

		return s != NULL ? s : "";
	}
	return bnc_clean(p, v);
}

/* A status "d.d.d" at the start of v, copied; "" when there is none. */
static const char *
status_of(cp_bounce_parser *p, cp_slice v)
{
	size_t i = 0, start;
	int dots = 0;

	v = cp_slice_trim(v);
	while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\n' ||
	    v.p[i] == '\t'))
		i++;
	start = i;
	if (i >= v.len || (v.p[i] != '2' && v.p[i] != '4' && v.p[i] != '5'))
		return "";
	for (; i < v.len; i++) {
		if (v.p[i] == '.')
			dots++;
		else if (v.p[i] < '0' || v.p[i] > '9')
			break;
	}
	if (dots != 2 || v.p[i - 1] == '.' || i - start > 11)
		return "";
	return bnc_strdup(p, v.p + start, i - start);
}

static const char *
action_of(cp_slice v)
{
	static const char *const actions[] = { "failed", "delayed",
		"delivered", "relayed", "expanded" };
	cp_slice t = bnc_media_type(v);

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (bnc_istarts(t, actions[i]))
			return actions[i];
	/* seen in the wild: "failure", "deferred" */
	if (bnc_istarts(t, "fail"))
		return "failed";
	if (bnc_istarts(t, "defer") || bnc_istarts(t, "delay"))
		return "delayed";
	if (bnc_istarts(t, "deliverable")) /* Postfix's verify reports */
		return "delivered";
	return "";
}

typedef struct dsn_state {
	const char *reporting_mta;
	const char *arrival;
	bnc_rcpt *cur;
	int has_final, has_orig;
} dsn_state;

static bnc_rcpt *
dsn_new(cp_bounce_parser *p, dsn_state *st)
{
	st->cur = bnc_add_rcpt(p);
	st->has_final = st->has_orig = 0;
	if (st->cur != NULL)
		st->cur->reporting_mta = st->reporting_mta;
	return st->cur;
}

static void
dsn_field(cp_bounce_parser *p, dsn_state *st, cp_slice name, cp_slice v)
{
	bnc_rcpt *r;

	if (bnc_ieq(name, "Reporting-MTA")) {
		st->reporting_mta = bnc_clean(p, typed_value(v));
		return;
	}
	if (bnc_ieq(name, "Original-Envelope-Id")) {
		p->out.envelope_id = bnc_clean(p, v);
		return;
	}
	if (bnc_ieq(name, "Arrival-Date")) {
		st->arrival = bnc_clean(p, v);
		return;
	}
	if (bnc_ieq(name, "Original-Recipient")) {
		if ((st->cur == NULL || st->has_orig) &&
		    dsn_new(p, st) == NULL)
			return;
		st->cur->orig_recipient = rcpt_addr(p, v);
		st->has_orig = 1;
		return;
	}
	if (bnc_ieq(name, "Final-Recipient")) {
		if ((st->cur == NULL || st->has_final) && dsn_new(p, st) == NULL)
			return;
		st->cur->recipient = rcpt_addr(p, v);
		st->has_final = 1;
		return;
	}
	if (bnc_ieq(name, "X-Actual-Recipient")) {
		if (st->cur != NULL && !st->has_final)
			st->cur->recipient = rcpt_addr(p, v);
		return;
	}
	if (st->cur == NULL && (bnc_ieq(name, "Action") ||
	    bnc_ieq(name, "Status") || bnc_ieq(name, "Diagnostic-Code") ||
	    bnc_ieq(name, "Remote-MTA")))
		(void)dsn_new(p, st); /* Final-Recipient may come last */
	r = st->cur;
	if (r == NULL)
		return;
	if (bnc_ieq(name, "Action"))
		r->action = action_of(v);
	else if (bnc_ieq(name, "Status")) {
		cp_slice t = cp_slice_trim(v);

		r->status = status_of(p, v);
		/* "4.0.0 (cat.example.net: host name lookup failure)" */
		if (r->status[0] != '\0' && t.len > strlen(r->status))
			r->status_text = bnc_clean(p, cp_slice_trim(bnc_slice(
			    t.p + strlen(r->status), t.len -
			    strlen(r->status))));
	}
	else if (bnc_ieq(name, "Remote-MTA"))
		r->remote_mta = bnc_clean(p, typed_value(v));
	else if (bnc_ieq(name, "Diagnostic-Code")) {
		r->diagnostic = bnc_clean(p, typed_value(v));
		/* "X-Unix; ..." : a local program failed (mailer error) */
		if (bnc_istarts(cp_slice_trim(v), "x-unix"))
			r->rule = "bounce:x-unix";
	} else if (bnc_ieq(name, "Last-Attempt-Date"))
		r->date = bnc_clean(p, v);
}

size_t
bnc_dsn_read(cp_bounce_parser *p, const bnc_part *ds)
{
	dsn_state st = { "", "", NULL, 0, 0 };
	cp_cursor c;
	cp_slice line, name = { "", 0 }, val = { "", 0 };
	int have = 0;
	size_t before = p->n;

	cp_cursor_init(&c, ds->body.p, ds->body.len);
	for (;;) {
		int more = bnc_next_line(&c, &line);
		size_t nl;

		if (more && line.len > 0 && (line.p[0] == ' ' ||
		    line.p[0] == '\t')) {
			if (have)
				val.len = (size_t)(line.p + line.len - val.p);
			continue;
		}
		if (have)
			dsn_field(p, &st, name, val);
		have = 0;
		if (!more)
			break;
		if (line.len == 0 || cp_slice_trim(line).len == 0) {
			/* a blank line ends the recipient block */
			st.cur = NULL;
			continue;
		}
		nl = 0;
		while (nl < line.len && line.p[nl] != ':' && line.p[nl] != ' ')
			nl++;
		if (nl == 0 || nl >= line.len || line.p[nl] != ':')
			continue;
		name = bnc_slice(line.p, nl);
		val = bnc_slice(line.p + nl + 1, line.len - nl - 1);
		have = 1;
	}
	/* blocks with neither Final- nor Original-Recipient are dropped */
	{
		size_t o = before;

		for (size_t i = before; i < p->n; i++) {
			bnc_rcpt *r = &p->rcpts[i];

			if (r->date[0] == '\0')
				r->date = st.arrival;
			if (r->recipient[0] == '\0')
				r->recipient = r->orig_recipient;
			if (r->recipient[0] == '\0')
				continue;
			if (o != i)
				p->rcpts[o] = *r;
			o++;
		}
		p->n = o;
	}
	return p->n - before;
}

/*
 * A delivery-status block pasted into a text part: a bounce quoted whole
 * as plain text by a relay that re-bounced it, or a report whose MIME
 * boundary is broken (" --boundary") so the part never separated. The
 * fields start after the blank line under a "Content-Type:
 * message/delivery-status" line and end at the next boundary line
 * ("--..."). 0 when the text has none.
 */
/*
 * The same fields pasted without their Content-Type line ("Technical
 * report:" then "Reporting-MTA: dsn; ..." and the recipient's fields):
 * read from the Reporting-MTA line at the start of a line, when a
 * Final-Recipient field follows it, to the next boundary line.
 */
static size_t
bare_fields(cp_bounce_parser *p, cp_slice text)
{
	const char *q = bnc_isearch(text, "\nreporting-mta:"), *end;
	cp_slice rest, line;
	cp_cursor c;
	bnc_part pt;

	if (q == NULL)
		return 0;
	q++;
	rest = bnc_slice(q, text.len - (size_t)(q - text.p));
	if (bnc_isearch(rest, "\nfinal-recipient:") == NULL)
		return 0;
	end = text.p + text.len;
	cp_cursor_init(&c, rest.p, rest.len);
	while (bnc_next_line(&c, &line))
		if (line.len > 2 && line.p[0] == '-' && line.p[1] == '-') {
			end = line.p;
			break;
		}
	memset(&pt, 0, sizeof(pt));
	pt.ctype = bnc_slice("message/delivery-status", 23);
	pt.body = bnc_slice(q, (size_t)(end - q));
	return bnc_dsn_read(p, &pt);
}

size_t
bnc_dsn_read_embedded(cp_bounce_parser *p, cp_slice text)
{
	static const char mark[] = "message/delivery-status";
	const char *q, *start, *end;
	cp_cursor c;
	cp_slice line;
	bnc_part pt;

	/* "/delivery-status" first: a '/' is rarer than an 'm' */
	q = bnc_isearch(text, mark + 7);
	if (q == NULL || q - text.p < 7 ||
	    strncasecmp(q - 7, mark, 7) != 0)
		return bare_fields(p, text);
	q -= 7;
	/* the mark is the value of a Content-Type line */
	start = q;
	while (start > text.p && start[-1] != '\n')
		start--;
	if (!bnc_istarts(bnc_slice(start, (size_t)(q - start)),
	    "content-type:"))
		return 0;
	start = memchr(q, '\n', text.len - (size_t)(q - text.p));
	if (start == NULL)
		return 0;
	start++;
	/* its header block ends at the first blank line */
	line = bnc_slice(start, 0);
	cp_cursor_init(&c, start, text.len - (size_t)(start - text.p));
	while (bnc_next_line(&c, &line) && cp_slice_trim(line).len > 0)
		;
	start = line.p + line.len;
	end = text.p + text.len;
	cp_cursor_init(&c, start, (size_t)(end - start));
	while (bnc_next_line(&c, &line)) {
		cp_slice t = cp_slice_trim(line);

		if (t.len > 2 && t.p[0] == '-' && t.p[1] == '-') {
			end = line.p;
			break;
		}
	}
	memset(&pt, 0, sizeof(pt));
	pt.ctype = bnc_slice(mark, sizeof(mark) - 1);
	pt.body = bnc_slice(start, (size_t)(end - start));
	return bnc_dsn_read(p, &pt);
}
