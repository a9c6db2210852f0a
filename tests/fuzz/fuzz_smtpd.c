/*
 * Fuzz target: the submission server core (src/smtp/smtpd_*.c).
 *
 * Input: byte 0 picks the settings (TLS offered or already up, cleartext
 * AUTH, AUTH required, trusted peer, tiny limits, rewriting, ...), byte 1
 * seeds the choices of the stand-in caller, the rest is what the client
 * sends. It is fed in pieces of random sizes; every event is answered
 * with accept, tempfail or reject (random codes, texts with control and
 * 8-bit bytes, sometimes close), sometimes late, after more input; now and
 * then the session times out, drains or sees EOF.
 *
 * Checked after every step: replies are "NNN[ -]" + printable text +
 * CRLF, at most 512 bytes, one code per multi-line reply, an enhanced
 * code of the right class wherever RFC 2034 wants one; pending output
 * stays under max_output plus one reply; events come in a legal order
 * (chunks only inside an accepted DATA, one answer due at a time, nothing
 * after CLOSE); chunks are within data_chunk_size; the message handed to
 * the caller has only CRLF line ends and, when rewriting, a Received
 * first, a Date and a Message-ID and no Bcc in its header.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coldpost/smtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                             \
	do {                                                                 \
		if (!(x)) {                                                  \
			fprintf(stderr, "fuzz_smtpd: %s:%d: %s (%s)\n",      \
			    __FILE__, __LINE__, #x, last_line);              \
			abort();                                             \
		}                                                            \
	} while (0)

static char last_line[600]; /* the reply line being checked, for reports */

typedef struct fz {
	uint64_t rng;
	cp_smtpd_conf conf;
	cp_smtpd_conn *c;
	/* reply checking */
	char line[600];
	size_t linelen;
	int multi_code; /* code of a multi-line reply in progress, or 0 */
	/* event order */
	int in_mail, in_data, closed, pending;
	cp_smtpd_event held; /* an answer given late */
	/* the message */
	char *msg;
	size_t msglen, msgcap;
	unsigned accepted_msgs;
} fz;

static uint32_t
rnd(fz *z)
{
	z->rng ^= z->rng << 13;
	z->rng ^= z->rng >> 7;
	z->rng ^= z->rng << 17;
	return (uint32_t)(z->rng >> 11);
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* "c.s.d " at p: class c, 1-3 digit subject and detail. */
static int
enh_at(const char *p, size_t n, int cls)
{
	size_t i = 0, k;

	if (n < 6 || p[0] != '0' + cls || p[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		for (k = 0; i < n && is_digit(p[i]); i++, k++)
			;
		if (k < 1 || k > 3)
			return 0;
		if (i >= n || p[i] != (part == 0 ? '.' : ' '))
			return 0;
		i++;
	}
	return 1;
}

static void
check_line(fz *z, const char *l, size_t n)
{
	int code;

	snprintf(last_line, sizeof(last_line), "%.*s", (int)n, l);
	CHECK(n >= 6 && n <= 512);
	CHECK(l[n - 2] == '\r' && l[n - 1] == '\n');
	CHECK(l[0] >= '2' && l[0] <= '5' && is_digit(l[1]) && is_digit(l[2]));
	CHECK(l[3] == ' ' || l[3] == '-');
	for (size_t i = 4; i < n - 2; i++)
		CHECK(l[i] >= 0x20 && l[i] < 0x7f);
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (z->multi_code)
		CHECK(code == z->multi_code);
	z->multi_code = l[3] == '-' ? code : 0;
	/* RFC 2034: all but the greeting, EHLO/HELO, 334 and 354 */
	if (code == 334 || code == 354)
		return;
	if (code == 220 || code == 250) {
		if (n > 6 && is_digit(l[4]) && l[5] == '.')
			CHECK(enh_at(l + 4, n - 6, 2));
		return;
	}
	CHECK(enh_at(l + 4, n - 4, code / 100));
}

/* Take all pending output, checking each complete line; 1 if any. */
static int
drain(fz *z)
{
	const char *p;
	size_t n = cp_smtpd_conn_output(z->c, &p);

	/* the core stops at max_output; one more reply may be on top */
	CHECK(n <= z->conf.max_output + 4096);
	for (size_t i = 0; i < n; i++) {
		CHECK(z->linelen < sizeof(z->line));
		z->line[z->linelen++] = p[i];
		if (p[i] == '\n') {
			check_line(z, z->line, z->linelen);
			z->linelen = 0;
		}
	}
	cp_smtpd_conn_consumed(z->c, n);
	return n > 0;
}

static void
msg_add(fz *z, const char *p, size_t n)
{
	if (z->msglen + n > z->msgcap) {
		z->msgcap = (z->msglen + n) * 2;
		z->msg = realloc(z->msg, z->msgcap);
		CHECK(z->msg != NULL);
	}
	memcpy(z->msg + z->msglen, p, n);
	z->msglen += n;
}

/* The message as the caller stores it. */
static void
check_message(fz *z)
{
	const char *m = z->msg;
	size_t n = z->msglen, i, end;
	int date = 0, msgid = 0;

	for (i = 0; i < n; i++) {
		if (m[i] == '\r')
			CHECK(i + 1 < n && m[i + 1] == '\n');
		if (m[i] == '\n')
			CHECK(i > 0 && m[i - 1] == '\r');
	}
	CHECK(n == 0 || (n >= 2 && m[n - 2] == '\r' && m[n - 1] == '\n'));
	if (!z->conf.rewrite)
		return;
	CHECK(n >= 10 && memcmp(m, "Received: ", 10) == 0);
	for (i = 0; i < n; i = end + 2) { /* header lines */
		const char *nl = memmem(m + i, n - i, "\r\n", 2);
		size_t k = i;

		end = nl ? (size_t)(nl - m) : n;
		if (end == i)
			break; /* the empty line */
		while (k < end && m[k] > 32 && m[k] < 127 && m[k] != ':')
			k++;
		while (k < end && (m[k] == ' ' || m[k] == '\t'))
			k++;
		if (k >= end || m[k] != ':')
			continue; /* a continuation line */
		if (strncasecmp(m + i, "bcc", 3) == 0 &&
		    (m[i + 3] == ':' || m[i + 3] == ' ' || m[i + 3] == '\t'))
			CHECK(!"Bcc left in the header");
		if (strncasecmp(m + i, "date", 4) == 0 &&
		    (m[i + 4] == ':' || m[i + 4] == ' ' || m[i + 4] == '\t'))
			date = 1;
		if (strncasecmp(m + i, "message-id", 10) == 0 &&
		    (m[i + 10] == ':' || m[i + 10] == ' ' || m[i + 10] == '\t'))
			msgid = 1;
	}
	CHECK(date && msgid);
}

static const char *const texts[] = { NULL, "denied", "bad\r\nline\x01\xff",
	"", "%s %n %x",
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" };
static const char *const qids[] = { NULL, "Q1", "0123456789abcdef",
	"bad id\r\n(x)" };

static void
answer(fz *z, const cp_smtpd_event *ev)
{
	cp_smtpd_answer a;
	uint32_t r = rnd(z);

	memset(&a, 0, sizeof(a));
	if (r % 10 < 7) {
		a.verdict = CP_SMTPD_ACCEPT;
	} else {
		a.verdict = r % 10 < 8 ? CP_SMTPD_TEMPFAIL : CP_SMTPD_REJECT;
		if (r & 0x100)
			a.code = (a.verdict == CP_SMTPD_TEMPFAIL ? 400 : 500) +
			    (int)((r >> 12) % 100);
		if (r & 0x200)
			a.enhanced = a.verdict == CP_SMTPD_TEMPFAIL ?
			    (a.code ? "4.7.1" : "4.3.0") : "5.7.1";
		a.close = (r & 0x1c00) == 0;
	}
	a.text = texts[(r >> 20) % 6];
	a.queue_id = qids[(r >> 24) % 4];
	if (ev->type == CP_SMTPD_EV_AUTH)
		a.user = (r & 0x4000) ? "alice@a.example" : NULL;
	if (a.verdict == CP_SMTPD_ACCEPT) {
		if (ev->type == CP_SMTPD_EV_MAIL)
			z->in_mail = 1;
		if (ev->type == CP_SMTPD_EV_DATA)
			z->in_data = 1;
	}
	if (ev->type == CP_SMTPD_EV_DATA && a.verdict != CP_SMTPD_ACCEPT)
		z->in_mail = 0;
	if (ev->type == CP_SMTPD_EV_DATA_END) {
		if (!z->closed) /* a timeout may have come first */
			check_message(z);
		z->in_mail = z->in_data = 0;
		z->msglen = 0;
		z->accepted_msgs += a.verdict == CP_SMTPD_ACCEPT && !z->closed;
	}
	z->pending = 0;
	cp_smtpd_conn_answer(z->c, &a);
}

static void
pump(fz *z)
{
	cp_smtpd_event ev;
	int t;

	for (int round = 0; round < 1000000; round++) {
		int any = 0;

		while ((t = cp_smtpd_conn_next_event(z->c, &ev)) !=
		    CP_SMTPD_EV_NONE) {
			any = 1;
			CHECK(!z->closed);
			/* while an answer is due, only the end (timeout) */
			CHECK(!z->pending || t == CP_SMTPD_EV_RSET ||
			    t == CP_SMTPD_EV_CLOSE);
			CHECK(t == ev.type);
			switch (t) {
			case CP_SMTPD_EV_DATA_CHUNK:
				CHECK(z->in_data);
				CHECK(ev.len > 0 &&
				    ev.len <= z->conf.data_chunk_size);
				msg_add(z, ev.data, ev.len);
				break;
			case CP_SMTPD_EV_RCPT:
			case CP_SMTPD_EV_DATA:
				CHECK(z->in_mail && !z->in_data);
				break;
			case CP_SMTPD_EV_DATA_END:
				CHECK(z->in_data);
				break;
			case CP_SMTPD_EV_MAIL:
				CHECK(!z->in_mail);
				CHECK(strlen(ev.addr) <= 256);
				/* a quoted local part may hold < > ( ) */
				CHECK(!strpbrk(ev.addr, "\r\n"));
				break;
			case CP_SMTPD_EV_RSET:
				CHECK(z->in_mail);
				z->in_mail = z->in_data = 0;
				z->msglen = 0;
				break;
			case CP_SMTPD_EV_CLOSE:
				z->closed = 1;
				break;
			case CP_SMTPD_EV_STARTTLS:
				drain(z);
				cp_smtpd_conn_tls_started(z->c, "TLSv1.3",
				    (rnd(z) & 1) ? "TLS_AES_128_GCM_SHA256" :
				    NULL);
				break;
			default:
				break;
			}
			if (ev.need_answer) {
				z->pending = 1;
				if (rnd(z) % 5 == 0) { /* answer later */
					z->held = ev;
					break;
				}
				answer(z, &ev);
			}
		}
		/* the core pauses at max_output: drained, it goes on */
		if (!drain(z) && !any)
			return;
		if (z->pending)
			return;
	}
	CHECK(!"no end to the events");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_smtpd_peer peer;
	fz z;
	size_t i;
	uint8_t f;

	if (size < 2)
		return 0;
	memset(&z, 0, sizeof(z));
	f = data[0];
	z.rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)data[1] << 32) ^ size;
	cp_smtpd_conf_init(&z.conf);
	z.conf.hostname = "fuzz.test";
	z.conf.tls_available = f & 1;
	z.conf.auth_cleartext = (f & 4) ? CP_SMTPD_CLEAR_ALWAYS :
	    CP_SMTPD_CLEAR_NEVER;
	z.conf.require_auth = !(f & 8);
	z.conf.rewrite = !(f & 64);
	z.conf.received_auth_user = (f & 128) != 0;
	if (f & 32) { /* tiny limits, to reach them */
		z.conf.max_message_size = 2000;
		z.conf.max_recipients = 3;
		z.conf.max_command_line = 64;
		z.conf.max_text_line = 80;
		z.conf.max_auth_line = 200;
		z.conf.max_header_size = 300;
		z.conf.max_input = 1024;
		z.conf.max_output = 64;
		z.conf.data_chunk_size = 7;
		z.conf.max_bad_commands = 5;
		z.conf.max_junk_commands = 5;
		z.conf.max_preauth_commands = 8;
		z.conf.max_auth_failures = 2;
	}
	memset(&peer, 0, sizeof(peer));
	peer.addr = (f & 16) ? "2001:db8::1" : "192.0.2.1";
	peer.trusted = (f & 16) != 0;
	peer.tls = (f & 2) != 0;
	peer.loopback = 1;
	z.c = cp_smtpd_conn_new(&z.conf, &peer);
	if (z.c == NULL)
		return 0;
	pump(&z);
	data += 2;
	size -= 2;
	for (i = 0; i < size && !z.closed;) {
		uint32_t r = rnd(&z);
		size_t n = r % 4 == 0 ? 1 + (r >> 8) % 4096 : 1 + (r >> 8) % 48;
		size_t room = cp_smtpd_conn_input_room(z.c);

		/* a full input buffer is fine only while an answer is due */
		CHECK(room > 0 || z.pending);
		n = n > size - i ? size - i : n;
		if (n > room) {
			CHECK(cp_smtpd_conn_feed(z.c, (const char *)data + i,
			    n) == CP_ETOOBIG);
			n = room;
		}
		if (n > 0) {
			CHECK(cp_smtpd_conn_feed(z.c, (const char *)data + i,
			    n) == CP_OK);
			i += n;
		}
		if (z.pending && (n == 0 || rnd(&z) % 3 == 0))
			answer(&z, &z.held);
		pump(&z);
		switch (rnd(&z) % 512) {
		case 0:
			cp_smtpd_conn_timeout(z.c);
			pump(&z);
			break;
		case 1:
			cp_smtpd_conn_shutdown(z.c);
			pump(&z);
			break;
		default:
			break;
		}
	}
	while (z.pending && !z.closed) {
		answer(&z, &z.held);
		pump(&z);
	}
	cp_smtpd_conn_eof(z.c);
	if (z.pending)
		answer(&z, &z.held);
	pump(&z);
	CHECK(z.closed);
	CHECK(z.linelen == 0);
	CHECK(cp_smtpd_conn_stats(z.c)->messages == z.accepted_msgs);
	cp_smtpd_conn_free(z.c);
	free(z.msg);
	return 0;
}
