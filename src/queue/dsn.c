/*
 * dsn.c - the delivery status notification coldpost sends back to a
 * mailbox when recipients bounced, expired or are delayed (see dsn.h).
 *
 * The message is a multipart/report; report-type=delivery-status (RFC
 * 6522 3) of three parts: a text/plain part saying in plain words what
 * happened to each recipient, a message/delivery-status part (RFC 3464
 * 2.2 per-message fields: Reporting-MTA, X-Original-Envelope-Id carrying
 * our queue id since no ENVID was given, Arrival-Date; 2.3 per-recipient
 * fields: Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code,
 * Last-Attempt-Date), and the original header section as
 * text/rfc822-headers (RFC 6522 4). It is From MAILER-DAEMON, carries
 * Auto-Submitted: auto-replied (RFC 3834 5) so that no one answers it
 * automatically, a fresh Message-ID and a Date (RFC 5322 3.6).
 *
 * Every line ends in CRLF. Fields we write are unfolded and stripped of
 * control characters first (a receiver's multi-line reply, or a hostile
 * one trying to inject a header, becomes one line), then folded at
 * whitespace to 78 columns where possible and always within the 998
 * octets of RFC 5322 2.1.1 (2.2.3 folding); lines of the original header
 * longer than 998 octets are folded the same way. The boundary is 128
 * random bits (OpenSSL RAND_bytes) and is checked against the content.
 * Sending the DSN (null reverse path, RFC 3464 3) is the caller's job.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "coldpost/dsn.h"
#include "coldpost/msg.h"

#define DSN_FOLD_AT 78    /* preferred line length (RFC 5322 2.1.1) */
#define DSN_LINE_MAX 998  /* hard line limit, without CRLF */
#define DSN_HARD_AT 900   /* where a line without whitespace is broken */
#define DSN_SCRATCH_MAX (4u << 20)
#define DSN_ORIG_MAX (256u << 10) /* original header bytes copied */

/* A writer whose errors stick: once rc is set every call does nothing. */
typedef struct dsn_w {
	cp_buf *out;
	int rc;
} dsn_w;

/* What the original message tells about itself. */
typedef struct dsn_orig {
	cp_buf hdrs;    /* header section, CRLF lines, long lines folded */
	cp_buf subject; /* unfolded, cleaned; empty if none */
	cp_buf msgid;
	int full;       /* 1: hdrs reached DSN_ORIG_MAX, rest left out */
} dsn_orig;

static void
w_add(dsn_w *w, const char *p, size_t n)
{
	if (w->rc == CP_OK)
		w->rc = cp_buf_add(w->out, p, n);
}

static void
w_adds(dsn_w *w, const char *s)
{
	w_add(w, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
w_addf(dsn_w *w, const char *fmt, ...)
{
	va_list ap;

	if (w->rc != CP_OK)
		return;
	va_start(ap, fmt);
	w->rc = cp_buf_vaddf(w->out, fmt, ap);
	va_end(ap);
}

static const char *
str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/* RFC 5322 3.3 date-time in UTC, independent of the locale. */
static void
dsn_date(int64_t t, char *out, size_t outlen)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL) {
		tt = 0;
		gmtime_r(&tt, &tm);
	}
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * Append s[0..n) to b as one line of text: CR, LF, TAB and other control
 * characters become spaces, runs of spaces one space, no space at either
 * end. Bytes >= 0x80 (UTF-8) are kept.
 */
static int
dsn_clean(cp_buf *b, const char *s, size_t n)
{
	int space = 0, any = 0, rc = CP_OK;

	for (size_t i = 0; i < n && rc == CP_OK; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			space = any;
			continue;
		}
		if (space)
			rc = cp_buf_addc(b, ' ');
		if (rc == CP_OK)
			rc = cp_buf_addc(b, (char)c);
		space = 0;
		any = 1;
	}
	return rc;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Where to end the line that starts at s[start] (RFC 5322 2.2.3): before
 * a WSP that follows a non-WSP and is followed by some non-WSP later,
 * the last such within `at` columns, else the first one within the hard
 * limit; *hard is set when there is none and the line must be cut.
 */
static size_t
dsn_break(const char *s, size_t n, size_t start, size_t at, int *hard)
{
	size_t i, lim = start + DSN_HARD_AT, best = 0;

	*hard = 0;
	for (i = start + 1; i < n && i <= lim; i++) {
		size_t j;

		if (!is_wsp(s[i]) || is_wsp(s[i - 1]))
			continue;
		for (j = i; j < n && is_wsp(s[j]); j++)
			;
		if (j == n)
			break; /* only trailing whitespace follows */
		if (i - start <= at || best == 0)
			best = i;
		if (i - start > at)
			break;
	}
	if (best != 0)
		return best;
	*hard = 1;
	return lim;
}

/* Write s[0..n) (no line end in it) as a folded header line plus CRLF. */
static void
dsn_fold(dsn_w *w, const char *s, size_t n)
{
	size_t start = 0;
	int hard;

	while (n - start > DSN_FOLD_AT && w->rc == CP_OK) {
		size_t end = dsn_break(s, n, start, DSN_FOLD_AT, &hard);

		if (end >= n)
			break;
		w_add(w, s + start, end - start);
		w_add(w, hard ? "\r\n " : "\r\n", hard ? 3 : 2);
		start = end;
	}
	w_add(w, s + start, n - start);
	w_add(w, "\r\n", 2);
}

/* A header field "NAME: VALUE" with value cleaned, then folded. */
static void __attribute__((format(printf, 3, 4)))
dsn_field(dsn_w *w, cp_buf *tmp, const char *fmt, ...)
{
	cp_buf raw;
	va_list ap;

	if (w->rc != CP_OK)
		return;
	cp_buf_init(&raw, DSN_SCRATCH_MAX);
	cp_buf_reset(tmp);
	va_start(ap, fmt);
	w->rc = cp_buf_vaddf(&raw, fmt, ap);
	va_end(ap);
	if (w->rc == CP_OK)
		w->rc = dsn_clean(tmp, raw.data, raw.len);
	if (w->rc == CP_OK)
		dsn_fold(w, tmp->data, tmp->len);
	cp_buf_free(&raw);
}

/* Human text: s cleaned and word-wrapped at 76 columns, each line
 * starting with indent. */
static void
dsn_para(dsn_w *w, cp_buf *tmp, const char *indent, const char *s)
{
	size_t start = 0, width = 76 - strlen(indent), n;
	int hard;

	if (w->rc != CP_OK)
		return;
	cp_buf_reset(tmp);
	w->rc = dsn_clean(tmp, s, strlen(s));
	n = tmp->len;
	while (start < n && w->rc == CP_OK) {
		size_t end = n;

		if (n - start > width) {
			end = dsn_break(tmp->data, n, start, width, &hard);
			if (end > n)
				end = n;
		}
		w_adds(w, indent);
		w_add(w, tmp->data + start, end - start);
		w_add(w, "\r\n", 2);
		start = end;
		while (start < n && tmp->data[start] == ' ')
			start++;
	}
}

/* Status from the recipient, or the class default; "X.Y.Z" checked. */
static const char *
dsn_status(const cp_dsn_rcpt *r)
{
	const char *s = str_or_empty(r->status);
	int parts = 0, digits = 0;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		goto fallback; /* RFC 3463 2: class is one digit */
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (++digits > 3)
				goto fallback;
		} else if (*p == '.' && digits > 0 && parts < 2) {
			parts++;
			digits = 0;
		} else
			goto fallback;
	}
	if (parts == 2 && digits > 0)
		return s;
fallback:
	if (r->action == CP_DSN_DELAYED)
		return "4.0.0";
	return r->expired ? "4.4.7" : "5.0.0"; /* RFC 3463 3.5: expired */
}

/* Collects the original's header fields; long lines folded. */
static int
dsn_orig_field(void *arg, const char *field, size_t len)
{
	dsn_orig *o = arg;
	size_t name = cp_msg_field_name(field, len);
	cp_buf *keep = NULL;
	cp_buf lines, clean = { 0 };
	dsn_w w = { &lines, CP_OK };
	size_t i = 0;

	if (o->full)
		return 0;
	if (name == 7 && strncasecmp(field, "Subject", 7) == 0)
		keep = &o->subject;
	else if (name == 10 && strncasecmp(field, "Message-ID", 10) == 0)
		keep = &o->msgid;
	if (keep != NULL && keep->len == 0) {
		const char *colon = memchr(field, ':', len);
		size_t off = colon != NULL ? (size_t)(colon - field) + 1 : len;

		if (dsn_clean(keep, field + off, len - off) != CP_OK)
			return CP_ENOMEM;
	}
	cp_buf_init(&lines, DSN_SCRATCH_MAX);
	if (memchr(field, '\0', len) != NULL) {
		/* a NUL has no place in a message (RFC 5322 2.1): a space */
		cp_buf_init(&clean, DSN_SCRATCH_MAX);
		for (size_t k = 0; k < len && w.rc == CP_OK; k++)
			w.rc = cp_buf_addc(&clean, field[k] ? field[k] : ' ');
		field = clean.data;
	}
	while (i < len && w.rc == CP_OK) {
		size_t e = i;

		while (e < len && field[e] != '\r' && field[e] != '\n')
			e++;
		if (e - i > DSN_LINE_MAX)
			dsn_fold(&w, field + i, e - i);
		else {
			w_add(&w, field + i, e - i);
			w_add(&w, "\r\n", 2);
		}
		if (e < len && field[e] == '\r')
			e++;
		if (e < len && field[e] == '\n')
			e++;
		i = e;
	}
	if (w.rc == CP_OK && o->hdrs.len + lines.len > DSN_ORIG_MAX)
		o->full = 1;
	else if (w.rc == CP_OK)
		w.rc = cp_buf_add(&o->hdrs, lines.data, lines.len);
	cp_buf_free(&lines);
	cp_buf_free(&clean);
	return w.rc;
}

static int
dsn_read_orig(const cp_dsn *d, dsn_orig *o, cp_err *err)
{
	cp_msg_split sp;
	size_t body_off;
	int rc;

	cp_buf_init(&o->hdrs, DSN_ORIG_MAX + 1024);
	cp_buf_init(&o->subject, DSN_SCRATCH_MAX);
	cp_buf_init(&o->msgid, DSN_SCRATCH_MAX);
	o->full = 0;
	if (d->orig == NULL || d->orig_len == 0)
		return CP_OK;
	cp_msg_split_init(&sp, 0);
	rc = cp_msg_split_feed(&sp, d->orig, d->orig_len, &body_off,
	    dsn_orig_field, o, err);
	if (rc == CP_OK && !sp.done)
		rc = cp_msg_split_end(&sp, dsn_orig_field, o, err);
	if (rc == CP_ETOOBIG) {
		o->full = 1; /* a monstrous field: keep what came before */
		rc = CP_OK;
	}
	cp_msg_split_clear(&sp);
	if (rc != CP_OK)
		return cp_err_set(err, rc, "dsn: reading the original: %s",
		    cp_err_name(rc));
	return CP_OK;
}

static void
dsn_orig_clear(dsn_orig *o)
{
	cp_buf_free(&o->hdrs);
	cp_buf_free(&o->subject);
	cp_buf_free(&o->msgid);
}

static int
dsn_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];

	CP_ASSERT(nbytes <= sizeof(r));
	if (RAND_bytes(r, (int)nbytes) != 1)
		return CP_EIO;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 0xf];
	}
	out[2 * nbytes] = '\0';
	return CP_OK;
}

static int
dsn_any(const cp_dsn *d, int action)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->rcpts[i].action == action)
			return 1;
	return 0;
}

static void
dsn_put_headers(dsn_w *w, cp_buf *tmp, const cp_dsn *d, const char *bnd)
{
	char date[64], rnd[33], stamp[32];
	struct tm tm;
	time_t now = (time_t)d->now;

	dsn_date(d->now, date, sizeof(date));
	if (gmtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	if (w->rc == CP_OK && dsn_random_hex(rnd, 8) != CP_OK)
		w->rc = CP_EIO;
	dsn_field(w, tmp, "From: Mail Delivery System <%s>", d->from);
	dsn_field(w, tmp, "To: <%s>", d->to);
	dsn_field(w, tmp, "Subject: %s", dsn_any(d, CP_DSN_FAILED) ?
	    "Undelivered Mail Returned to Sender" :
	    "Delayed Mail (still being retried)");
	dsn_field(w, tmp, "Date: %s", date);
	dsn_field(w, tmp, "Message-ID: <%s.%s@%s>", stamp, rnd,
	    d->reporting_mta);
	dsn_field(w, tmp, "Auto-Submitted: auto-replied");
	if (str_or_empty(d->queue_id)[0] != '\0')
		dsn_field(w, tmp, "X-Coldpost-Queue-Id: %s", d->queue_id);
	w_adds(w, "MIME-Version: 1.0\r\n");
	w_addf(w, "Content-Type: multipart/report; "
		  "report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n", bnd);
	w_adds(w, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");
}

/* "2 days 3 hours", "1 hour 5 minutes", "45 seconds": how long s is. */
static void
dsn_duration(int64_t s, char *out, size_t outlen)
{
	static const struct { int64_t len; const char *name; } u[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
		{ 1, "second" },
	};
	size_t n = 0, shown = 0;

	out[0] = '\0';
	if (s < 0)
		s = 0;
	for (size_t i = 0; i < CP_NELEM(u) && shown < 2; i++) {
		int64_t k = s / u[i].len;

		if (k == 0 && !(i == CP_NELEM(u) - 1 && shown == 0))
			continue;
		s -= k * u[i].len;
		n += (size_t)snprintf(out + n, outlen - n, "%s%lld %s%s",
		    shown ? " " : "", (long long)k, u[i].name, k == 1 ? "" : "s");
		if (n >= outlen)
			break;
		shown++;
	}
}

/* What happened to one recipient, in words. */
static const char *
dsn_headline(const cp_dsn_rcpt *r)
{
	if (r->action == CP_DSN_DELAYED)
		return "not delivered yet; delivery will be retried.";
	if (r->expired)
		return "not delivered: no server accepted it before the "
		       "message expired; no further attempts will be made.";
	return "not delivered; no further attempts will be made.";
}

/* The human line when the caller gave none. */
static const char *
dsn_fallback_explain(const cp_dsn_rcpt *r)
{
	int diag = str_or_empty(r->diagnostic)[0] != '\0';

	if (r->action == CP_DSN_DELAYED)
		return "The receiving mail server has not accepted the message "
		       "so far.";
	if (r->expired)
		return diag ? "The receiving mail server kept answering with "
			      "a temporary error." :
			      "No mail server accepted the message before it "
			      "expired.";
	return diag ? "The receiving mail server refused the message." :
		      "The message could not be delivered.";
}

static void
dsn_put_rcpt_text(dsn_w *w, cp_buf *tmp, const cp_dsn *d,
    const cp_dsn_rcpt *r)
{
	cp_buf line;
	const char *explain = str_or_empty(r->explain);
	const char *diag = str_or_empty(r->diagnostic);
	const char *remote = str_or_empty(r->remote_mta);
	char date[64];
	int failed = r->action != CP_DSN_DELAYED;

	if (explain[0] == '\0')
		explain = dsn_fallback_explain(r);
	cp_buf_init(&line, DSN_SCRATCH_MAX);
	if (w->rc == CP_OK)
		w->rc = cp_buf_addf(&line, "<%s>: %s", r->address,
		    dsn_headline(r));
	dsn_para(w, tmp, "", line.data ? line.data : "");
	dsn_para(w, tmp, "    ", explain);
	cp_buf_reset(&line);
	if (r->expired && failed && d->arrival > 0 && w->rc == CP_OK) {
		char how[64];

		dsn_duration(d->now - d->arrival, how, sizeof(how));
		w->rc = cp_buf_addf(&line, "It was tried for %s after it "
		    "was received.", how);
		dsn_para(w, tmp, "    ", line.data ? line.data : "");
		cp_buf_reset(&line);
	}
	if (diag[0] != '\0' && w->rc == CP_OK) {
		w->rc = cp_buf_addf(&line, "The server %s%s%sanswered: %s",
		    remote[0] ? "(" : "", remote, remote[0] ? ") " : "", diag);
		dsn_para(w, tmp, "    ", line.data ? line.data : "");
		cp_buf_reset(&line);
	}
	if (w->rc == CP_OK) {
		dsn_date(r->last_attempt, date, sizeof(date));
		w->rc = cp_buf_addf(&line, "Status %s.%s%s", dsn_status(r),
		    r->last_attempt > 0 ? " Last attempt: " : "",
		    r->last_attempt > 0 ? date : "");
		dsn_para(w, tmp, "    ", line.data ? line.data : "");
	}
	w_add(w, "\r\n", 2);
	cp_buf_free(&line);
}

/* The human part, into body (so its transfer encoding can be told). */
static void
dsn_put_text(dsn_w *w, cp_buf *tmp, const cp_dsn *d, const dsn_orig *o)
{
	char date[64];
	cp_buf line;

	cp_buf_init(&line, DSN_SCRATCH_MAX);
	w_addf(w, "This is the mail system at host %s.\r\n\r\n",
	    d->reporting_mta);
	dsn_para(w, tmp, "", dsn_any(d, CP_DSN_FAILED) ?
	    "Your message could not be delivered to one or more of its "
	    "recipients. For the recipients marked as not delivered this "
	    "is final: the message will not be tried again." :
	    "Your message has not yet been delivered to one or more of its "
	    "recipients. The mail system keeps trying; you do not need to "
	    "send it again.");
	w_add(w, "\r\n", 2);
	dsn_date(d->arrival, date, sizeof(date));
	if (w->rc == CP_OK)
		w->rc = cp_buf_addf(&line,
		    "The message%s%s%s%s%s was received on %s%s%s.",
		    o->subject.len ? " \"" : "",
		    o->subject.len ? o->subject.data : "",
		    o->subject.len ? "\"" : "", o->msgid.len ? " " : "",
		    o->msgid.len ? o->msgid.data : "", date,
		    str_or_empty(d->queue_id)[0] ? " as queue id " : "",
		    str_or_empty(d->queue_id));
	dsn_para(w, tmp, "", line.data ? line.data : "");
	w_add(w, "\r\n", 2);
	for (size_t i = 0; i < d->n; i++)
		dsn_put_rcpt_text(w, tmp, d, &d->rcpts[i]);
	cp_buf_free(&line);
}

/* The message/delivery-status body (RFC 3464 2.1-2.3). */
static void
dsn_put_status(dsn_w *w, cp_buf *tmp, const cp_dsn *d)
{
	char date[64];

	dsn_field(w, tmp, "Reporting-MTA: dns; %s", d->reporting_mta);
	if (str_or_empty(d->queue_id)[0] != '\0')
		dsn_field(w, tmp, "X-Original-Envelope-Id: %s", d->queue_id);
	if (d->arrival > 0) {
		dsn_date(d->arrival, date, sizeof(date));
		dsn_field(w, tmp, "Arrival-Date: %s", date);
	}
	for (size_t i = 0; i < d->n; i++) {
		const cp_dsn_rcpt *r = &d->rcpts[i];

		w_add(w, "\r\n", 2);
		dsn_field(w, tmp, "Final-Recipient: rfc822; %s", r->address);
		dsn_field(w, tmp, "Action: %s",
		    r->action == CP_DSN_DELAYED ? "delayed" : "failed");
		dsn_field(w, tmp, "Status: %s", dsn_status(r));
		if (str_or_empty(r->remote_mta)[0] != '\0')
			dsn_field(w, tmp, "Remote-MTA: dns; %s", r->remote_mta);
		if (str_or_empty(r->diagnostic)[0] != '\0')
			dsn_field(w, tmp, "Diagnostic-Code: smtp; %s",
			    r->diagnostic);
		if (r->last_attempt > 0) {
			dsn_date(r->last_attempt, date, sizeof(date));
			dsn_field(w, tmp, "Last-Attempt-Date: %s", date);
		}
	}
}

static int
has_8bit(const cp_buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] >= 0x80)
			return 1;
	return 0;
}

/* One MIME part: its headers, an empty line, then body. */
static void
dsn_put_part(dsn_w *w, const char *bnd, const char *type, const cp_buf *body)
{
	w_addf(w, "--%s\r\nContent-Type: %s\r\n", bnd, type);
	if (has_8bit(body))
		w_adds(w, "Content-Transfer-Encoding: 8bit\r\n");
	w_add(w, "\r\n", 2);
	if (body->len > 0)
		w_add(w, body->data, body->len);
	w_add(w, "\r\n", 2); /* the CRLF that belongs to the next boundary */
}

/* Build the three bodies first, pick a boundary none of them contains. */
static int
dsn_assemble(const cp_dsn *d, const dsn_orig *o, cp_buf *out)
{
	cp_buf text, status, tmp;
	dsn_w wt = { &text, CP_OK }, ws = { &status, CP_OK }, w = { out, 0 };
	char bnd[48];

	cp_buf_init(&text, DSN_SCRATCH_MAX);
	cp_buf_init(&status, DSN_SCRATCH_MAX);
	cp_buf_init(&tmp, DSN_SCRATCH_MAX);
	dsn_put_text(&wt, &tmp, d, o);
	dsn_put_status(&ws, &tmp, d);
	w.rc = wt.rc != CP_OK ? wt.rc : ws.rc;
	memcpy(bnd, "=_cp_", 5);
	do {
		if (w.rc == CP_OK && dsn_random_hex(bnd + 5, 16) != CP_OK)
			w.rc = CP_EIO;
	} while (w.rc == CP_OK &&
	    ((text.len && memmem(text.data, text.len, bnd, 37) != NULL) ||
		(o->hdrs.len &&
		    memmem(o->hdrs.data, o->hdrs.len, bnd, 37) != NULL)));
	dsn_put_headers(&w, &tmp, d, bnd);
	dsn_put_part(&w, bnd, "text/plain; charset=utf-8", &text);
	dsn_put_part(&w, bnd, "message/delivery-status", &status);
	if (d->orig != NULL && d->orig_len > 0)
		dsn_put_part(&w, bnd, "text/rfc822-headers", &o->hdrs);
	w_addf(&w, "--%s--\r\n", bnd);
	cp_buf_free(&text);
	cp_buf_free(&status);
	cp_buf_free(&tmp);
	return w.rc;
}

int
cp_dsn_build(const cp_dsn *d, cp_buf *out, cp_err *err)
{
	size_t start = out->len;
	dsn_orig o;
	int rc;

	CP_ASSERT(d != NULL && out != NULL && d->reporting_mta != NULL);
	CP_ASSERT(d->from != NULL && d->to != NULL);
	CP_ASSERT(d->rcpts != NULL || d->n == 0);
	if (d->n == 0)
		return cp_err_set(err, CP_EINVAL, "dsn: no recipient to report");
	for (size_t i = 0; i < d->n; i++)
		if (d->rcpts[i].address == NULL)
			return cp_err_set(err, CP_EINVAL,
			    "dsn: recipient %zu has no address", i);
	rc = dsn_read_orig(d, &o, err);
	if (rc == CP_OK) {
		rc = dsn_assemble(d, &o, out);
		if (rc != CP_OK) {
			cp_err_set(err, rc, "dsn: building the report for %s: %s",
			    d->to, cp_err_name(rc));
			out->len = start; /* leave out as it was */
			if (out->data != NULL)
				out->data[start] = '\0';
		}
	}
	dsn_orig_clear(&o);
	return rc;
}
