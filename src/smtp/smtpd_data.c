/*
 * smtpd_data.c - the DATA phase of the submission core: from the bytes
 * after "354" to the message handed out in DATA_CHUNK events, then
 * DATA_END (or the limit's reply).
 *
 * Two layers. The first is SMTP's (RFC 5321 4.1.1.4, 4.5.2): lines, the
 * dot-stuffing removed from lines that start with '.', and the end of the
 * message, which is only CRLF "." CRLF: the CRLF ending the line before
 * (or the DATA command itself) and the CRLF after the dot must be real.
 * A bare LF or a bare CR ends a line too, written out as CRLF, but never
 * helps end the message, so "<LF>.<LF>" and "<LF>.<CR><LF>" stay text
 * (the SMTP smuggling attacks of 2023). It counts the size (the bytes
 * received, unstuffed: RFC 1870's measure) and the length of each line
 * (RFC 5321 4.5.3.1.6: 1000 with CRLF); past a limit the rest of the
 * message is read and dropped, the caller gets RSET at once and the
 * client 552 5.3.4 or 500 5.5.2 after the final dot.
 *
 * The second is submission's (RFC 6409 8), over the header section only,
 * one field at a time: a Received field first (RFC 5321 4.4, with the
 * protocol names of RFC 3848 / RFC 6531 3.7.3), Bcc fields dropped with
 * their continuation lines (8.2 leaves Bcc to the MSA), Date (8.3) and
 * Message-ID (8.3) added at the end of the header when missing. The
 * header section ends at the first empty line, or at the first line that
 * is neither a field (RFC 5322 2.2: printable name, ':') nor a
 * continuation: then an empty line is put before it. The body goes
 * through untouched but for line ends. Memory: one header field, and
 * about one chunk of output.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "coldpost/alloc.h"
#include "smtp/smtpd_int.h"

static void
data_reset(struct smtpd_data *d)
{
	d->lstate = SMTPD_D_BOL;
	d->prev_crlf = 1; /* the DATA command's CRLF */
	d->linelen = 0;
	d->size = 0;
	d->failed = 0;
	d->ended = 0;
	d->header = 0;
	d->line_off = 0;
	d->hsize = 0;
	d->seen_date = d->seen_msgid = 0;
	d->out_off = 0;
}

void
smtpd_data_clear(cp_smtpd_conn *c)
{
	cp_buf_free(&c->d.field);
	cp_buf_free(&c->d.out);
	data_reset(&c->d);
}

/* ---- output ------------------------------------------------------- */

static void
out_add(cp_smtpd_conn *c, const char *p, size_t n)
{
	if (cp_buf_add(&c->d.out, p, n) != CP_OK)
		c->broken = 1; /* bounds make ETOOBIG impossible: memory */
}

static size_t
out_pending(const cp_smtpd_conn *c)
{
	return c->d.out.len - c->d.out_off;
}

size_t
smtpd_data_chunk(cp_smtpd_conn *c, const char **p)
{
	size_t n = CP_MIN(out_pending(c), c->conf.data_chunk_size);

	*p = c->d.out.data + c->d.out_off;
	c->d.out_off += n;
	return n;
}

/* The chunk handed out last time is done with: drop it. */
void
smtpd_data_release(cp_smtpd_conn *c)
{
	struct smtpd_data *d = &c->d;

	if (d->out_off == 0)
		return;
	if (d->out_off < d->out.len)
		memmove(d->out.data, d->out.data + d->out_off,
		    d->out.len - d->out_off);
	d->out.len -= d->out_off;
	d->out.data[d->out.len] = '\0';
	d->out_off = 0;
}

/* ---- fields we add ------------------------------------------------ */

/* RFC 5322 3.3 date-time, in UTC: "Thu, 01 Jan 2026 09:05:00 +0000". */
static void
fmt_date(int64_t t, char *buf, size_t len)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, mons[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A NUL-terminated, safe copy of s for a header (see smtpd_sanitize). */
static const char *
hsafe(char *dst, size_t len, const char *s, int mode)
{
	size_t n = smtpd_sanitize(dst, len - 1, s ? s : "", s ? strlen(s) : 0,
	    mode);

	dst[n] = '\0';
	return dst;
}

/*
 * Received (RFC 5321 4.4, Postfix's layout): who the client said it was,
 * its reverse name and address, TLS, the authenticated user when asked,
 * us, the protocol (RFC 3848: ESMTP, ESMTPS, ESMTPA, ESMTPSA; RFC 6531
 * 3.7.3: UTF8SMTP...), the queue id, the time. No "for <rcpt>": it would
 * show Bcc recipients to every other.
 */
static void
add_received(cp_smtpd_conn *c)
{
	char helo[256], name[256], addr[64], ver[64], ciph[128], user[256];
	char host[256], date[64], proto[16];
	cp_buf *b = &c->d.out;
	int rc;

	fmt_date(smtpd_now(c), date, sizeof(date));
	snprintf(proto, sizeof(proto), "%s%s%s",
	    c->helo == 1 ? "SMTP" : c->mail_smtputf8 ? "UTF8SMTP" : "ESMTP",
	    c->helo != 1 && c->tls ? "S" : "",
	    c->helo != 1 && c->authenticated ? "A" : "");
	rc = cp_buf_addf(b, "Received: from %s (%s [%s%s])\r\n",
	    hsafe(helo, sizeof(helo), c->helo_name, SMTPD_SAN_TOKEN),
	    hsafe(name, sizeof(name), c->peer.name ? c->peer.name : "unknown",
		SMTPD_SAN_TOKEN),
	    strchr(c->peer.addr, ':') ? "IPv6:" : "",
	    hsafe(addr, sizeof(addr), c->peer.addr, SMTPD_SAN_TOKEN));
	if (rc == CP_OK && c->tls && c->tls_version && c->tls_cipher)
		rc = cp_buf_addf(b, "\t(using %s with cipher %s)\r\n",
		    hsafe(ver, sizeof(ver), c->tls_version, SMTPD_SAN_TOKEN),
		    hsafe(ciph, sizeof(ciph), c->tls_cipher, SMTPD_SAN_TOKEN));
	else if (rc == CP_OK && c->tls)
		rc = cp_buf_adds(b, "\t(using TLS)\r\n");
	if (rc == CP_OK && c->authenticated && c->conf.received_auth_user)
		rc = cp_buf_addf(b, "\t(authenticated sender: %s)\r\n",
		    hsafe(user, sizeof(user), c->auth_user,
			SMTPD_SAN_COMMENT));
	if (rc == CP_OK)
		rc = cp_buf_addf(b, "\tby %s (coldpost) with %s%s%s;\r\n\t%s\r\n",
		    hsafe(host, sizeof(host), c->conf.hostname,
			SMTPD_SAN_TOKEN),
		    proto, c->qid[0] ? " id " : "", c->qid, date);
	if (rc != CP_OK)
		c->broken = 1;
}

static void
add_missing(cp_smtpd_conn *c)
{
	struct smtpd_data *d = &c->d;
	int64_t now = smtpd_now(c);
	char date[64], host[256], id[40];
	time_t tt = (time_t)now;
	struct tm tm;
	int rc = CP_OK;

	if (!d->seen_date) {
		fmt_date(now, date, sizeof(date));
		rc = cp_buf_addf(&d->out, "Date: %s\r\n", date);
	}
	if (rc == CP_OK && !d->seen_msgid) {
		if (gmtime_r(&tt, &tm) == NULL)
			memset(&tm, 0, sizeof(tm));
		if (c->qid[0] == '\0') {
			unsigned char r[8];

			if (RAND_bytes(r, sizeof(r)) != 1)
				memcpy(r, &now, sizeof(r));
			for (size_t i = 0; i < sizeof(r); i++)
				snprintf(id + 2 * i, 3, "%02x", r[i]);
		}
		rc = cp_buf_addf(&d->out,
		    "Message-ID: <%04d%02d%02d%02d%02d%02d.%s@%s>\r\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, c->qid[0] ? c->qid : id,
		    hsafe(host, sizeof(host), c->conf.hostname,
			SMTPD_SAN_TOKEN));
	}
	if (rc != CP_OK)
		c->broken = 1;
}

/* ---- the header section ------------------------------------------- */

/* The length of a field name at the start of line (RFC 5322 2.2:
 * printable ASCII but ':'), if a ':' follows it (maybe after WSP, the
 * obsolete syntax of 4.5); else 0. */
static size_t
field_name(const char *line, size_t n)
{
	size_t i = 0, k;

	while (i < n && line[i] > 32 && line[i] < 127 && line[i] != ':')
		i++;
	k = i;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < n && line[i] == ':' ? k : 0;
}

/* A complete field, folding and CRLFs included: out, or dropped. */
static void
field_emit(cp_smtpd_conn *c, const char *f, size_t n)
{
	cp_slice name = { f, field_name(f, n) };

	if (cp_slice_eqi(name, "bcc"))
		return;
	if (cp_slice_eqi(name, "date"))
		c->d.seen_date = 1;
	else if (cp_slice_eqi(name, "message-id"))
		c->d.seen_msgid = 1;
	out_add(c, f, n);
}

/* The header section ends: the pending field, then what is missing. */
static void
header_end(cp_smtpd_conn *c)
{
	struct smtpd_data *d = &c->d;

	if (d->line_off > 0)
		field_emit(c, d->field.data, d->line_off);
	add_missing(c);
	d->header = 0;
}

static void data_fail(cp_smtpd_conn *c, int reason);

static void
header_text(cp_smtpd_conn *c, const char *p, size_t n)
{
	struct smtpd_data *d = &c->d;
	int rc;

	d->hsize += n;
	if (d->hsize > c->conf.max_header_size) {
		data_fail(c, CP_SMTPD_R_HEADER_SIZE);
		return;
	}
	rc = cp_buf_add(&d->field, p, n);
	if (rc == CP_ETOOBIG)
		data_fail(c, CP_SMTPD_R_HEADER_SIZE);
	else if (rc != CP_OK)
		c->broken = 1;
}

/* The end of a line in the header section: say what the line was. */
static void
header_eol(cp_smtpd_conn *c)
{
	struct smtpd_data *d = &c->d;
	const char *line = d->field.data ? d->field.data + d->line_off : "";
	size_t n = d->field.len - d->line_off;

	if (n == 0) { /* the empty line */
		header_end(c);
		out_add(c, "\r\n", 2);
		cp_buf_free(&d->field);
		return;
	}
	if ((line[0] == ' ' || line[0] == '\t') && d->line_off > 0) {
		header_text(c, "\r\n", 2); /* a continuation line */
		d->line_off = d->field.len;
		return;
	}
	if (field_name(line, n) > 0) { /* a new field: the last is done */
		if (d->line_off > 0) {
			field_emit(c, d->field.data, d->line_off);
			memmove(d->field.data, line, n);
			d->field.len = n;
		}
		header_text(c, "\r\n", 2);
		d->line_off = d->field.len;
		return;
	}
	/* not a header line: the body starts here, after an empty line */
	header_end(c);
	out_add(c, "\r\n", 2);
	out_add(c, d->field.data + d->line_off, n);
	out_add(c, "\r\n", 2);
	cp_buf_free(&d->field);
}

/* ---- the SMTP layer ----------------------------------------------- */

/* A limit was hit: drop what we have, tell the caller now, read on to
 * the final dot and reply then. */
static void
data_fail(cp_smtpd_conn *c, int reason)
{
	struct smtpd_data *d = &c->d;

	if (d->failed)
		return;
	d->failed = reason;
	smtpd_error(c, reason, 0);
	if (c->in_mail) {
		cp_smtpd_event *ev = smtpd_event(c, CP_SMTPD_EV_RSET);

		ev->reason = CP_SMTPD_R_DATA_FAILED;
		c->in_mail = 0;
	}
	cp_buf_free(&d->out);
	cp_buf_free(&d->field);
	d->out_off = 0;
	d->line_off = 0;
}

/* Text of the current line, unstuffed. */
static void
d_text(cp_smtpd_conn *c, const char *p, size_t n)
{
	struct smtpd_data *d = &c->d;

	d->size += n;
	d->linelen += n;
	if (c->conf.max_text_line && d->linelen > c->conf.max_text_line - 2)
		data_fail(c, CP_SMTPD_R_LINE_TOO_LONG);
	if (d->size > c->conf.max_message_size)
		data_fail(c, CP_SMTPD_R_MESSAGE_SIZE);
	if (d->failed)
		return;
	if (d->header)
		header_text(c, p, n);
	else
		out_add(c, p, n);
}

/* The end of the current line: k bytes as sent (CRLF 2, bare 1). */
static void
d_eol(cp_smtpd_conn *c, size_t k, int crlf)
{
	struct smtpd_data *d = &c->d;

	d->size += k;
	d->linelen = 0;
	d->prev_crlf = crlf;
	d->lstate = SMTPD_D_BOL;
	if (d->size > c->conf.max_message_size)
		data_fail(c, CP_SMTPD_R_MESSAGE_SIZE);
	if (d->failed)
		return;
	if (d->header)
		header_eol(c);
	else
		out_add(c, "\r\n", 2);
}

/* Read message text from the input until it is used up, a chunk is
 * ready or the final dot. Returns 1 on progress: input taken, output
 * made (a bare CR is only known as one at the next byte, which is then
 * read again), the end, or a failure. */
static int
data_run(cp_smtpd_conn *c)
{
	struct smtpd_data *d = &c->d;
	size_t n = c->in.len - c->in_off, i = 0, before = d->out.len;
	const char *p = n ? c->in.data + c->in_off : "";

	while (i < n && !d->ended && !c->broken) {
		unsigned char ch = (unsigned char)p[i];
		size_t k, room;

		if (!d->failed && out_pending(c) >= c->conf.data_chunk_size)
			break;
		switch (d->lstate) {
		case SMTPD_D_BOL:
			if (ch == '.') {
				d->lstate = SMTPD_D_DOT;
				d->linelen = 1;
				i++;
			} else {
				d->lstate = SMTPD_D_MID;
			}
			break;
		case SMTPD_D_DOT:
			if (ch == '\r') {
				d->lstate = SMTPD_D_DOT_CR;
				i++;
			} else if (ch == '\n') { /* "." LF: text, not the end */
				d_text(c, ".", 1);
				d_eol(c, 1, 0);
				i++;
			} else { /* a stuffed dot: dropped */
				d->lstate = SMTPD_D_MID;
			}
			break;
		case SMTPD_D_DOT_CR:
			if (ch == '\n' && d->prev_crlf) {
				d->ended = 1;
				i++;
			} else if (ch == '\n') { /* LF "." CRLF: text */
				d_text(c, ".", 1);
				d_eol(c, 2, 1);
				i++;
			} else { /* "." CR x: a line "." ended by a bare CR */
				d_text(c, ".", 1);
				d_eol(c, 1, 0);
			}
			break;
		case SMTPD_D_MID:
			for (k = i; k < n && p[k] != '\r' && p[k] != '\n'; k++)
				;
			if (k > i) {
				room = d->failed || d->header ? k - i :
				    c->conf.data_chunk_size - out_pending(c);
				k = CP_MIN(k, i + room);
				d_text(c, p + i, k - i);
				i = k;
			} else if (ch == '\r') {
				d->lstate = SMTPD_D_CR;
				i++;
			} else { /* a bare LF */
				d_eol(c, 1, 0);
				i++;
			}
			break;
		default: /* SMTPD_D_CR */
			if (ch == '\n') {
				d_eol(c, 2, 1);
				i++;
			} else { /* a bare CR */
				d_eol(c, 1, 0);
			}
			break;
		}
	}
	c->in_off += i;
	if (d->ended && d->header && !d->failed)
		header_end(c); /* all header, no body */
	return i > 0 || d->out.len != before || d->ended || c->broken;
}

int
smtpd_data_begin(cp_smtpd_conn *c)
{
	smtpd_data_clear(c);
	c->state = SMTPD_S_DATA;
	if (c->conf.rewrite) {
		c->d.header = 1;
		add_received(c);
	}
	return c->broken ? -1 : 0;
}

/* One step of DATA: 2 when a chunk is ready, 1 on progress, 0 when more
 * input is needed. */
int
smtpd_data_step(cp_smtpd_conn *c)
{
	struct smtpd_data *d = &c->d;

	if (!d->failed && (out_pending(c) >= c->conf.data_chunk_size ||
	    (d->ended && out_pending(c) > 0)))
		return 2;
	if (!d->ended)
		return data_run(c);
	c->state = SMTPD_S_COMMAND;
	switch (d->failed) {
	case 0: {
		cp_smtpd_event *ev = smtpd_ask(c, CP_SMTPD_EV_DATA_END);

		ev->size = d->size;
		ev->n = c->nrcpt;
		return 1;
	}
	case CP_SMTPD_R_LINE_TOO_LONG:
		smtpd_reply(c, 500, "5.5.2", "Error: message line too long");
		break;
	case CP_SMTPD_R_HEADER_SIZE:
		smtpd_reply(c, 552, "5.3.4", "Error: message header too big");
		break;
	default:
		smtpd_reply(c, 552, "5.3.4", "Message size exceeds fixed "
		    "maximum message size");
		break;
	}
	smtpd_txn_reset(c, CP_SMTPD_R_NONE); /* RSET was given at the hit */
	return 1;
}
