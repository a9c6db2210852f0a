/*
 * Fuzz target: the delivery client core (src/smtp/smtpc_*.c).
 *
 * Input: byte 0 picks the STARTTLS policy and how the stand-in delivery
 * layer behaves, byte 1 seeds its choices, the rest is what the server
 * sends, fed in pieces of random sizes. The stand-in gives up to four
 * messages of one to four recipients (random SIZE, now and then
 * SMTPUTF8), feeds bodies with dots, bare CRs and LFs in random pieces,
 * finishes or fails TLS handshakes, and now and then sees EOF or a
 * timeout.
 *
 * Checked: every message given gets one RCPT event per recipient, in
 * order, then one MESSAGE whose counts match, even when the session dies
 * (nothing is lost); outcomes have a code 200-599, a text, a status that
 * agrees with the code unless forced temporary; nothing comes after
 * CLOSED, and CLOSED comes once; events arrive only when they may (BODY
 * inside a message, READY when idle); the bytes sent have only CRLF line
 * ends and no command holds a bare CR or LF.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/smtpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                             \
	do {                                                                 \
		if (!(x)) {                                                  \
			fprintf(stderr, "fuzz_smtpc: %s:%d: %s\n", __FILE__, \
			    __LINE__, #x);                                   \
			abort();                                             \
		}                                                            \
	} while (0)

typedef struct fz {
	uint64_t rng;
	int mode;
	cp_smtpc_conn *c;
	int in_msg;        /* a message was given, MESSAGE not yet seen */
	size_t nrcpt, next_rcpt, ok, temp, perm;
	int messages, closed, body_due;
	int prev_cr;       /* output: the last byte was a CR */
} fz;

static uint32_t
rnd(fz *z)
{
	z->rng ^= z->rng << 13;
	z->rng ^= z->rng >> 7;
	z->rng ^= z->rng << 17;
	return (uint32_t)(z->rng >> 11);
}

static const char *const addrs[] = { "a@x.example", "b@x.example",
	"c@y.example", "d@z.example" };

static void
give_message(fz *z)
{
	cp_smtpc_message m;

	memset(&m, 0, sizeof(m));
	m.from = rnd(z) % 4 ? "bounce@out.example" : "";
	m.rcpts = addrs;
	m.nrcpt = 1 + rnd(z) % 4;
	m.size = rnd(z) % 3 ? rnd(z) % 20000 : 0;
	m.body8bit = (int)(rnd(z) & 1);
	m.smtputf8 = rnd(z) % 8 == 0;
	if (cp_smtpc_conn_message(z->c, &m) != CP_OK) {
		/* a READY overtaken by a close: CLOSED follows */
		CHECK(cp_smtpc_conn_closed(z->c));
		return;
	}
	z->in_msg = 1;
	z->nrcpt = m.nrcpt;
	z->next_rcpt = z->ok = z->temp = z->perm = 0;
	z->messages++;
}

static void drain(fz *z);

static void
feed_body(fz *z)
{
	static const char body[] = "Subject: t\r\n\r\n.line\n..two\r.\r\n"
	    "x\r\r\n.\n.";
	size_t len = sizeof(body) - 1, off = 0, k;
	int r;

	if (rnd(z) % 8 == 0)
		len = rnd(z) % len;
	while (off < len) {
		k = 1 + rnd(z) % 9;
		if (k > len - off)
			k = len - off;
		r = cp_smtpc_conn_body(z->c, body + off, k);
		if (r == CP_ETOOBIG) {
			drain(z);
			continue;
		}
		CHECK(r == CP_OK || (r == CP_EINVAL &&
		    cp_smtpc_conn_closed(z->c)));
		off += k;
	}
	r = cp_smtpc_conn_body_end(z->c);
	CHECK(r == CP_OK || cp_smtpc_conn_closed(z->c));
	CHECK(cp_smtpc_conn_body_end(z->c) == CP_EINVAL);
}

static void
check_result(const cp_smtpc_result *r)
{
	CHECK(r != NULL && r->text != NULL);
	CHECK(r->code >= 200 && r->code <= 599);
	CHECK(r->status >= CP_SMTPC_OK && r->status <= CP_SMTPC_PERM);
	if (r->status == CP_SMTPC_OK)
		CHECK(r->code < 400);
	if (r->status == CP_SMTPC_PERM)
		CHECK(r->code >= 500);
	CHECK(strlen(r->enhanced) < sizeof(r->enhanced));
}

static void
drain(fz *z)
{
	const char *p;
	size_t n, i;

	while ((n = cp_smtpc_conn_output(z->c, &p)) > 0) {
		if (rnd(z) % 4 == 0 && n > 1)
			n = 1 + rnd(z) % (n - 1);
		for (i = 0; i < n; i++) {
			if (p[i] == '\n')
				CHECK(z->prev_cr);
			else
				CHECK(!z->prev_cr);
			z->prev_cr = p[i] == '\r';
		}
		cp_smtpc_conn_consumed(z->c, n);
	}
}

static void
pump(fz *z)
{
	cp_smtpc_event ev;
	int t;

	while ((t = cp_smtpc_conn_next_event(z->c, &ev)) != CP_SMTPC_EV_NONE) {
		CHECK(!z->closed);
		switch (t) {
		case CP_SMTPC_EV_GREETING:
			check_result(ev.result);
			CHECK(!z->in_msg);
			break;
		case CP_SMTPC_EV_STARTTLS:
			CHECK(!z->in_msg);
			if (rnd(z) % 5 == 0)
				cp_smtpc_conn_tls_failed(z->c, "no");
			else
				cp_smtpc_conn_tls_started(z->c);
			break;
		case CP_SMTPC_EV_READY:
			CHECK(!z->in_msg);
			CHECK(cp_smtpc_conn_timeout_ms(z->c) == 0);
			if (z->messages < 4 && rnd(z) % 8 != 0)
				give_message(z);
			else
				cp_smtpc_conn_quit(z->c);
			break;
		case CP_SMTPC_EV_BODY:
			CHECK(z->in_msg && z->next_rcpt == 0);
			feed_body(z);
			break;
		case CP_SMTPC_EV_RCPT:
			CHECK(z->in_msg);
			CHECK(ev.n == z->next_rcpt && ev.n < z->nrcpt);
			CHECK(strcmp(ev.rcpt, addrs[ev.n]) == 0);
			check_result(ev.result);
			if (ev.result->status == CP_SMTPC_OK)
				z->ok++;
			else if (ev.result->status == CP_SMTPC_TEMP)
				z->temp++;
			else
				z->perm++;
			z->next_rcpt++;
			break;
		case CP_SMTPC_EV_MESSAGE:
			CHECK(z->in_msg && z->next_rcpt == z->nrcpt);
			CHECK(ev.accepted == z->ok && ev.temp == z->temp &&
			    ev.perm == z->perm);
			check_result(ev.result);
			z->in_msg = 0;
			break;
		case CP_SMTPC_EV_CLOSED:
			CHECK(!z->in_msg);
			check_result(ev.result);
			CHECK(cp_smtpc_conn_closed(z->c));
			CHECK(cp_smtpc_conn_timeout_ms(z->c) == 0);
			z->closed = 1;
			break;
		default:
			CHECK(0);
		}
	}
	drain(z);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_smtpc_conf conf;
	fz z;
	size_t off = 2, k;

	if (size < 2)
		return 0;
	memset(&z, 0, sizeof(z));
	z.mode = data[0];
	z.rng = 0x9e3779b97f4a7c15ULL ^ data[1];
	cp_smtpc_conf_init(&conf);
	conf.helo = "out.example.net";
	conf.tls = z.mode % 3;
	conf.max_output = 1024;
	z.c = cp_smtpc_conn_new(&conf);
	if (z.c == NULL)
		return 0;
	pump(&z);
	while (off < size && !z.closed) {
		k = 1 + rnd(&z) % 64;
		if (k > size - off)
			k = size - off;
		CHECK(cp_smtpc_conn_feed(z.c, (const char *)data + off, k) ==
		    CP_OK);
		off += k;
		pump(&z);
		if ((z.mode & 0x80) && rnd(&z) % 64 == 0)
			cp_smtpc_conn_timeout(z.c);
		pump(&z);
	}
	if (!z.closed) {
		if (z.mode & 0x40)
			cp_smtpc_conn_timeout(z.c);
		else
			cp_smtpc_conn_eof(z.c);
		pump(&z);
	}
	CHECK(z.closed);
	CHECK(!z.in_msg);
	cp_smtpc_conn_free(z.c);
	return 0;
}
