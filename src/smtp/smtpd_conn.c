/*
 * smtpd_conn.c - the submission server core's session: buffers, the event
 * queue, reply formatting and the main loop (see smtpd.h).
 *
 * Input is kept in one buffer with a read offset; commands are taken a
 * line at a time (RFC 5321 2.3.8: lines end with CRLF; a bare LF is
 * accepted at the end of a command line, never inside DATA) and handed
 * to smtpd_cmd.c, SASL responses to smtpd_auth.c, message text to
 * smtpd_data.c. While an answer is due nothing more is read, so pipelined
 * commands (RFC 2920) wait in the buffer and their replies come out in
 * order. Replies are formatted here (RFC 5321 4.2, 4.5.3.1.5: at most 512
 * bytes with CRLF; RFC 2034 enhanced codes) from text made printable.
 *
 * Left to others: sockets, TLS, timers, the per-client connection limit
 * (net/), and every policy decision (the caller, through events).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "smtp/smtpd_int.h"

void
cp_smtpd_conf_init(cp_smtpd_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->hostname = "localhost";
	conf->banner = "coldpost";
	conf->max_message_size = 25 * 1024 * 1024;
	conf->max_recipients = 100;
	conf->max_command_line = CP_SMTPD_COMMAND_LINE_MAX;
	conf->max_text_line = CP_SMTPD_TEXT_LINE_MAX;
	conf->max_auth_line = CP_SMTPD_AUTH_LINE_MAX;
	conf->max_header_size = 256 * 1024;
	conf->max_input = 64 * 1024;
	conf->max_output = 64 * 1024;
	conf->data_chunk_size = 64 * 1024;
	conf->max_bad_commands = 10;
	conf->max_junk_commands = 100;
	conf->max_preauth_commands = 20;
	conf->max_auth_failures = 3;
	conf->auth_delay_ms = 1000;
	conf->cmd_timeout_ms = 300 * 1000; /* RFC 5321 4.5.3.2.7 */
	conf->data_timeout_ms = 300 * 1000;
	conf->tls_available = 0;
	conf->auth_cleartext = CP_SMTPD_CLEAR_NEVER;
	conf->require_auth = 1;
	conf->rewrite = 1;
	conf->received_auth_user = 0;
}

static char *
dup_or_null(const char *s)
{
	return s ? cp_strdup(s) : NULL;
}

cp_smtpd_conn *
cp_smtpd_conn_new(const cp_smtpd_conf *conf, const cp_smtpd_peer *peer)
{
	cp_smtpd_conn *c;

	CP_ASSERT(conf->hostname != NULL && conf->hostname[0] != '\0');
	CP_ASSERT(peer->addr != NULL);
	CP_ASSERT(conf->max_command_line >= 16 && conf->max_auth_line >= 16);
	CP_ASSERT(conf->max_input > conf->max_command_line &&
	    conf->max_input > conf->max_auth_line);
	CP_ASSERT(conf->max_text_line == 0 || conf->max_text_line >= 3);
	CP_ASSERT(conf->data_chunk_size > 0 && conf->max_output > 0);
	c = cp_calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->conf = *conf;
	c->peer = *peer;
	c->conf.hostname = cp_strdup(conf->hostname);
	c->conf.banner = cp_strdup(conf->banner ? conf->banner : "");
	c->peer.addr = cp_strdup(peer->addr);
	c->peer.name = dup_or_null(peer->name);
	c->peer.tls_version = c->peer.tls_cipher = NULL;
	cp_buf_init(&c->in, conf->max_input);
	cp_buf_init(&c->out, conf->max_output + 16 * 1024);
	cp_buf_init(&c->evstr, conf->max_auth_line + conf->max_command_line);
	cp_buf_init(&c->d.field, conf->max_header_size + 64);
	cp_buf_init(&c->d.out, conf->data_chunk_size + conf->max_header_size +
	    4096);
	if (peer->tls) {
		c->tls = 1;
		c->tls_version = dup_or_null(peer->tls_version);
		c->tls_cipher = dup_or_null(peer->tls_cipher);
		c->st.tls = 1;
		if ((peer->tls_version && !c->tls_version) ||
		    (peer->tls_cipher && !c->tls_cipher))
			c->broken = 1;
	}
	if (c->conf.hostname == NULL || c->conf.banner == NULL ||
	    c->peer.addr == NULL || (peer->name && c->peer.name == NULL)) {
		cp_smtpd_conn_free(c);
		return NULL;
	}
	c->state = SMTPD_S_GREETING;
	smtpd_ask(c, CP_SMTPD_EV_GREETING);
	return c;
}

void
cp_smtpd_conn_free(cp_smtpd_conn *c)
{
	if (c == NULL)
		return;
	cp_free((char *)c->conf.hostname);
	cp_free((char *)c->conf.banner);
	cp_free((char *)c->peer.addr);
	cp_free((char *)c->peer.name);
	cp_buf_wipe(&c->in); /* may hold AUTH lines */
	cp_buf_free(&c->out);
	cp_buf_wipe(&c->evstr);
	smtpd_data_clear(c);
	cp_buf_free(&c->d.field);
	cp_buf_free(&c->d.out);
	cp_free(c->helo_name);
	cp_free(c->tls_version);
	cp_free(c->tls_cipher);
	cp_free(c->auth_user);
	cp_free(c);
}

/* ---- helpers shared with the other smtpd files -------------------- */

int64_t
smtpd_now(const cp_smtpd_conn *c)
{
	if (c->conf.clock)
		return c->conf.clock(c->conf.clock_arg);
	return (int64_t)time(NULL);
}

/*
 * Copy n bytes of src into dst (room bytes, no NUL written) so they are
 * safe where they go: reply text keeps printable ASCII (controls become
 * spaces, 8-bit bytes '?'); a header token keeps visible ASCII but for
 * ( ) \ " ; and comment text keeps printable ASCII but for ( ) \ (others
 * become '_'). Returns the bytes written.
 */
size_t
smtpd_sanitize(char *dst, size_t room, const char *src, size_t n, int mode)
{
	size_t i, k = 0;

	for (i = 0; i < n && k < room; i++) {
		unsigned char ch = (unsigned char)src[i];

		switch (mode) {
		case SMTPD_SAN_TEXT:
			if (ch < 0x20 || ch == 0x7f)
				ch = ' ';
			else if (ch >= 0x80)
				ch = '?';
			break;
		case SMTPD_SAN_TOKEN:
			if (ch <= 0x20 || ch >= 0x7f || strchr("()\\\";", ch))
				ch = '_';
			break;
		default:
			if (ch < 0x20 || ch >= 0x7f || strchr("()\\", ch))
				ch = '_';
			break;
		}
		dst[k++] = (char)ch;
	}
	return k;
}

/* "c.s.d" (RFC 3463 2): class 2, 4 or 5 matching the code's class,
 * subject and detail 1-3 digits. */
int
smtpd_enh_ok(const char *e, int code)
{
	size_t i = 0, k;

	if (e[0] != '0' + code / 100 || e[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		for (k = 0; (e[i] >= '0' && e[i] <= '9'); i++, k++)
			;
		if (k < 1 || k > 3)
			return 0;
		if (part == 0 && e[i++] != '.')
			return 0;
	}
	return e[i] == '\0';
}

void
smtpd_reply_line(cp_smtpd_conn *c, int code, int last, const char *enh,
    const char *text, size_t len)
{
	char line[SMTPD_REPLY_LINE_MAX];
	size_t n;

	CP_ASSERT(code >= 200 && code <= 599);
	n = (size_t)snprintf(line, sizeof(line), "%03d%c", code,
	    last ? ' ' : '-');
	if (enh != NULL) {
		CP_ASSERT(strlen(enh) <= 11);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s ", enh);
	}
	n += smtpd_sanitize(line + n, sizeof(line) - 2 - n, text, len,
	    SMTPD_SAN_TEXT);
	line[n++] = '\r';
	line[n++] = '\n';
	if (cp_buf_add(&c->out, line, n) != CP_OK)
		c->broken = 1;
}

void
smtpd_reply(cp_smtpd_conn *c, int code, const char *enh, const char *fmt,
    ...)
{
	char text[SMTPD_REPLY_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	smtpd_reply_line(c, code, 1, enh, text,
	    CP_MIN((size_t)n, sizeof(text) - 1));
}

void
smtpd_set_reply(cp_smtpd_conn *c, int code, const char *enh,
    const char *fmt, ...)
{
	va_list ap;

	c->rcode = code;
	c->renh = enh;
	va_start(ap, fmt);
	vsnprintf(c->rtext, sizeof(c->rtext), fmt, ap);
	va_end(ap);
}

cp_smtpd_event *
smtpd_event(cp_smtpd_conn *c, int type)
{
	cp_smtpd_event *ev;

	CP_ASSERT(c->evq_n < SMTPD_EVQ);
	ev = &c->evq[(c->evq_head + c->evq_n) % SMTPD_EVQ];
	c->evq_n++;
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	return ev;
}

cp_smtpd_event *
smtpd_ask(cp_smtpd_conn *c, int type)
{
	cp_smtpd_event *ev = smtpd_event(c, type);

	CP_ASSERT(c->pending == 0);
	ev->need_answer = 1;
	c->pending = type;
	return ev;
}

void
smtpd_error(cp_smtpd_conn *c, int reason, int fatal)
{
	cp_smtpd_event *ev = smtpd_event(c, CP_SMTPD_EV_ERROR);

	ev->reason = reason;
	ev->fatal = fatal;
}

/* The transaction ends without a message: tell the caller if it knew of
 * one (a MAIL it accepted), and forget it. */
void
smtpd_txn_reset(cp_smtpd_conn *c, int reason)
{
	if (c->in_mail) {
		cp_smtpd_event *ev = smtpd_event(c, CP_SMTPD_EV_RSET);

		ev->reason = reason;
	}
	c->in_mail = 0;
	c->mail_smtputf8 = 0;
	c->nrcpt = 0;
	c->qid[0] = '\0';
	smtpd_data_clear(c);
}

void
smtpd_close(cp_smtpd_conn *c, int reason)
{
	cp_smtpd_event *ev;

	if (c->state == SMTPD_S_CLOSED)
		return;
	smtpd_txn_reset(c, reason);
	ev = smtpd_event(c, CP_SMTPD_EV_CLOSE);
	ev->reason = reason;
	c->state = SMTPD_S_CLOSED;
	c->auth_mech = 0;
	c->st.discarded += c->in.len - c->in_off;
	c->in_off = c->in.len;
}

/*
 * A syntax or sequence error: send the reply a check set, unless this is
 * one error too many (RFC 5321 leaves the count to us; Postfix's
 * smtpd_hard_error_limit): then 421 and close. Returns 1 when closed.
 */
int
smtpd_bad(cp_smtpd_conn *c)
{
	c->st.bad_commands++;
	if (c->conf.max_bad_commands &&
	    c->st.bad_commands >= c->conf.max_bad_commands) {
		smtpd_reply(c, 421, "4.7.0", "%s Error: too many errors",
		    c->conf.hostname);
		smtpd_error(c, CP_SMTPD_R_BAD_COMMANDS, 1);
		smtpd_close(c, CP_SMTPD_R_BAD_COMMANDS);
		return 1;
	}
	smtpd_reply(c, c->rcode, c->renh, "%s", c->rtext);
	return 0;
}

int
smtpd_evstr_reserve(cp_smtpd_conn *c, size_t n)
{
	cp_buf_wipe(&c->evstr);
	if (cp_buf_reserve(&c->evstr, n) != CP_OK) {
		c->broken = 1;
		return -1;
	}
	return 0;
}

/* A NUL-terminated copy of s in evstr; smtpd_evstr_reserve made room for
 * it, so earlier copies do not move. */
const char *
smtpd_evstr(cp_smtpd_conn *c, const char *s, size_t n)
{
	const char *p;

	CP_ASSERT(c->evstr.cap > c->evstr.len + n + 1);
	p = c->evstr.data + c->evstr.len;
	cp_buf_add(&c->evstr, s, n);
	cp_buf_addc(&c->evstr, '\0');
	return p;
}

/* ---- input -------------------------------------------------------- */

size_t
cp_smtpd_conn_input_room(const cp_smtpd_conn *c)
{
	return c->conf.max_input - (c->in.len - c->in_off);
}

int
cp_smtpd_conn_feed(cp_smtpd_conn *c, const char *data, size_t len)
{
	size_t left;

	c->st.bytes_in += len;
	if (c->state == SMTPD_S_CLOSED || c->state == SMTPD_S_TLS) {
		/* RFC 3207 5: nothing sent before the handshake may count */
		c->st.discarded += len;
		return CP_OK;
	}
	if (len > cp_smtpd_conn_input_room(c)) {
		c->st.bytes_in -= len;
		return CP_ETOOBIG;
	}
	if (c->state == SMTPD_S_GREETING && len > 0)
		c->st.early_talker = 1;
	left = c->in.len - c->in_off;
	if (c->in_off > 0) {
		memmove(c->in.data, c->in.data + c->in_off, left);
		c->in.len = left;
		c->in_off = 0;
	}
	if (cp_buf_add(&c->in, data, len) != CP_OK) {
		c->st.bytes_in -= len;
		return CP_ENOMEM;
	}
	return CP_OK;
}

enum { LINE_NONE, LINE_OK, LINE_LONG, LINE_SKIPPED };

/* The longest line allowed now: AUTH lines and SASL responses may be
 * longer than commands (RFC 4954 4). */
static size_t
line_limit(const cp_smtpd_conn *c, const char *p, size_t n)
{
	if (c->state == SMTPD_S_AUTH)
		return c->conf.max_auth_line;
	if (n >= 5 && strncasecmp(p, "AUTH ", 5) == 0)
		return c->conf.max_auth_line;
	return c->conf.max_command_line;
}

static int
take_line(cp_smtpd_conn *c, char **line, size_t *len)
{
	size_t n = c->in.len - c->in_off, limit, total;
	char *p, *nl;

	if (n == 0)
		return LINE_NONE;
	p = c->in.data + c->in_off;
	nl = memchr(p, '\n', n);
	if (c->skip_line) {
		if (nl == NULL) {
			explicit_bzero(p, n);
			c->in_off = c->in.len;
			return LINE_NONE;
		}
		explicit_bzero(p, (size_t)(nl - p) + 1);
		c->in_off += (size_t)(nl - p) + 1;
		c->skip_line = 0;
		return LINE_SKIPPED;
	}
	limit = line_limit(c, p, n);
	if (nl == NULL) {
		if (n < limit)
			return LINE_NONE;
		explicit_bzero(p, n); /* too long already: drop the rest */
		c->in_off = c->in.len;
		c->skip_line = 1;
		return LINE_LONG;
	}
	total = (size_t)(nl - p) + 1;
	c->in_off += total;
	if (total > limit) {
		explicit_bzero(p, total); /* it may be a SASL response */
		return LINE_LONG;
	}
	*line = p;
	*len = total - 1;
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	return LINE_OK;
}

/* One unit of work; 0 when nothing can be done without more input. */
static int
step(cp_smtpd_conn *c)
{
	char *line;
	size_t len;
	int rc;

	if (c->broken) {
		smtpd_close(c, CP_SMTPD_R_INTERNAL);
		return 1;
	}
	switch (c->state) {
	case SMTPD_S_DATA:
		return smtpd_data_step(c);
	case SMTPD_S_COMMAND:
	case SMTPD_S_REFUSED:
		if (c->draining && !c->in_mail) {
			smtpd_reply(c, 421, "4.3.2", "%s Service shutting down",
			    c->conf.hostname);
			smtpd_close(c, CP_SMTPD_R_SHUTDOWN);
			return 1;
		}
		break;
	case SMTPD_S_AUTH:
		break;
	default:
		return 0;
	}
	rc = take_line(c, &line, &len);
	switch (rc) {
	case LINE_NONE:
		return 0;
	case LINE_SKIPPED:
		return 1;
	case LINE_LONG:
		c->st.commands++;
		if (c->state == SMTPD_S_AUTH) { /* the exchange is over */
			c->state = SMTPD_S_COMMAND;
			c->auth_mech = 0;
			c->auth_step = 0;
			cp_buf_wipe(&c->evstr);
		}
		smtpd_set_reply(c, 500, "5.5.2", "Error: line too long");
		smtpd_error(c, CP_SMTPD_R_LINE_TOO_LONG, 0);
		smtpd_bad(c);
		return 1;
	default:
		break;
	}
	if (c->state == SMTPD_S_AUTH)
		smtpd_auth_response(c, line, len);
	else
		smtpd_command(c, line, len);
	return 1;
}

int
cp_smtpd_conn_next_event(cp_smtpd_conn *c, cp_smtpd_event *ev)
{
	smtpd_data_release(c);
	for (;;) {
		int rc;

		if (c->evq_n > 0) {
			*ev = c->evq[c->evq_head];
			c->evq_head = (c->evq_head + 1) % SMTPD_EVQ;
			c->evq_n--;
			return ev->type;
		}
		if (c->state == SMTPD_S_CLOSED || c->pending)
			break;
		if (c->out.len - c->out_off >= c->conf.max_output)
			break; /* let the replies drain first */
		rc = step(c);
		if (rc == 2) { /* smtpd_data_step: a chunk is ready */
			memset(ev, 0, sizeof(*ev));
			ev->type = CP_SMTPD_EV_DATA_CHUNK;
			ev->len = smtpd_data_chunk(c, &ev->data);
			return ev->type;
		}
		if (rc == 0 && c->evq_n == 0)
			break;
	}
	memset(ev, 0, sizeof(*ev));
	return CP_SMTPD_EV_NONE;
}

void
cp_smtpd_conn_answer(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	int type = c->pending;

	CP_ASSERT(type != 0);
	CP_ASSERT(a->verdict == CP_SMTPD_ACCEPT ||
	    a->verdict == CP_SMTPD_TEMPFAIL || a->verdict == CP_SMTPD_REJECT);
	if (a->verdict == CP_SMTPD_TEMPFAIL)
		CP_ASSERT(a->code == 0 || (a->code >= 400 && a->code <= 499));
	if (a->verdict == CP_SMTPD_REJECT)
		CP_ASSERT(a->code == 0 || (a->code >= 500 && a->code <= 599));
	c->pending = 0;
	if (c->state == SMTPD_S_CLOSED) { /* the client left meanwhile */
		cp_buf_wipe(&c->evstr);
		return;
	}
	if (type == CP_SMTPD_EV_AUTH)
		smtpd_auth_answered(c, a);
	else
		smtpd_answered(c, type, a);
	cp_buf_wipe(&c->evstr);
}

/* ---- output and the rest of the API ------------------------------- */

size_t
cp_smtpd_conn_output(cp_smtpd_conn *c, const char **data)
{
	*data = c->out.data ? c->out.data + c->out_off : "";
	return c->out.len - c->out_off;
}

void
cp_smtpd_conn_consumed(cp_smtpd_conn *c, size_t n)
{
	CP_ASSERT(n <= c->out.len - c->out_off);
	c->out_off += n;
	c->st.bytes_out += n;
	if (c->out_off == c->out.len) {
		cp_buf_reset(&c->out);
		c->out_off = 0;
	} else if (c->out_off > c->out.len / 2) {
		memmove(c->out.data, c->out.data + c->out_off,
		    c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out.data[c->out.len] = '\0';
		c->out_off = 0;
	}
}

void
cp_smtpd_conn_tls_started(cp_smtpd_conn *c, const char *version,
    const char *cipher)
{
	if (c->state == SMTPD_S_CLOSED) /* timed out in the handshake */
		return;
	CP_ASSERT(c->state == SMTPD_S_TLS);
	c->state = SMTPD_S_COMMAND;
	c->tls = 1;
	c->st.tls = 1;
	cp_free(c->tls_version);
	cp_free(c->tls_cipher);
	c->tls_version = dup_or_null(version);
	c->tls_cipher = dup_or_null(cipher);
	if ((version && !c->tls_version) || (cipher && !c->tls_cipher))
		c->broken = 1;
	/* RFC 3207 4.2: forget all the client told us before TLS */
	c->helo = 0;
	cp_free(c->helo_name);
	c->helo_name = NULL;
	c->authenticated = 0;
	c->st.authenticated = 0;
	cp_free(c->auth_user);
	c->auth_user = NULL;
	smtpd_txn_reset(c, CP_SMTPD_R_NONE);
	cp_buf_wipe(&c->in);
	c->in_off = 0;
	c->skip_line = 0;
}

void
cp_smtpd_conn_eof(cp_smtpd_conn *c)
{
	smtpd_close(c, CP_SMTPD_R_EOF);
}

void
cp_smtpd_conn_timeout(cp_smtpd_conn *c)
{
	if (c->state == SMTPD_S_CLOSED)
		return;
	if (c->state != SMTPD_S_TLS) /* in the handshake, no plaintext */
		smtpd_reply(c, 421, "4.4.2", "%s Error: timeout exceeded",
		    c->conf.hostname);
	smtpd_close(c, CP_SMTPD_R_TIMEOUT);
}

void
cp_smtpd_conn_shutdown(cp_smtpd_conn *c)
{
	c->draining = 1;
}

unsigned
cp_smtpd_conn_timeout_ms(const cp_smtpd_conn *c)
{
	if (c->state == SMTPD_S_CLOSED || c->pending)
		return 0;
	if (c->state == SMTPD_S_DATA)
		return c->conf.data_timeout_ms;
	return c->conf.cmd_timeout_ms;
}

int
cp_smtpd_conn_closed(const cp_smtpd_conn *c)
{
	return c->state == SMTPD_S_CLOSED;
}

const cp_smtpd_stats *
cp_smtpd_conn_stats(const cp_smtpd_conn *c)
{
	return &c->st;
}

const char *
cp_smtpd_event_name(int type)
{
	static const char *const names[] = { "NONE", "GREETING", "HELO",
		"STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "DATA_CHUNK",
		"DATA_END", "RSET", "DELAY", "ERROR", "QUIT", "CLOSE" };

	if (type < 0 || (size_t)type >= CP_NELEM(names))
		return "?";
	return names[type];
}

const char *
cp_smtpd_reason_name(int reason)
{
	static const char *const names[] = { "none", "command", "helo",
		"data_failed", "quit", "eof", "timeout", "shutdown", "refused",
		"line_too_long", "message_size", "header_size", "recipients",
		"bad_commands", "preauth", "auth_failures", "injection", "http",
		"internal" };

	if (reason < 0 || (size_t)reason >= CP_NELEM(names))
		return "?";
	return names[reason];
}
