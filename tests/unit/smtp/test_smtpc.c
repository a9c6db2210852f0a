/*
 * test_smtpc.c - the delivery client core (src/smtp/smtpc_*.c) against
 * scripted server transcripts: with and without PIPELINING, STARTTLS
 * offered/required/absent/refused/failed, 4xx and 5xx at each phase,
 * multi-line replies, a server that drops the line, several messages per
 * connection, dot-stuffing, SIZE refusal, timeouts.
 *
 * A script is a list of steps: "S:" bytes the server sends, "C:" what the
 * client must have sent since the last "C:" step, "E" end of file, "T"
 * the timer fires, "X" TLS handshake fails. Events are handled by a
 * stand-in delivery layer (messages given on READY, QUIT when none are
 * left, the body fed in small pieces, the handshake done on STARTTLS) and
 * logged one a line, and the log is compared at the end.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/buf.h"
#include "coldpost/smtpc.h"
#include "cptest.h"

typedef struct tmsg {
	const char *from;
	const char *rcpts[4];
	size_t nrcpt;
	uint64_t size;
	const char *body;
	int smtputf8;
} tmsg;

typedef struct drv {
	cp_smtpc_conn *c;
	const tmsg *msgs;
	size_t nmsgs, next;
	size_t chunk;
	cp_buf out, log;
} drv;

static int hold_open; /* on READY with no message left: stay */

static const char *const status_names[] = { "ok", "temp", "perm" };

static void
logf_ev(drv *d, const cp_smtpc_event *ev)
{
	const cp_smtpc_result *r = ev->result;

	switch (ev->type) {
	case CP_SMTPC_EV_RCPT:
		cp_buf_addf(&d->log, "rcpt %s %s %s %d %s%s|%s\n", ev->rcpt,
		    status_names[r->status], cp_smtpc_phase_name(r->phase),
		    r->code, r->enhanced, r->local ? " local" : "", r->text);
		break;
	case CP_SMTPC_EV_MESSAGE:
		cp_buf_addf(&d->log, "message %zu/%zu/%zu %s %d\n",
		    ev->accepted, ev->temp, ev->perm,
		    cp_smtpc_phase_name(r->phase), r->code);
		break;
	case CP_SMTPC_EV_CLOSED:
		cp_buf_addf(&d->log, "closed %s %s %s %d %s\n",
		    cp_smtpc_reason_name(ev->reason),
		    status_names[r->status], cp_smtpc_phase_name(r->phase),
		    r->code, r->enhanced);
		break;
	case CP_SMTPC_EV_GREETING:
		cp_buf_addf(&d->log, "greeting %d\n", r->code);
		break;
	default:
		cp_buf_addf(&d->log, "%s\n", cp_smtpc_event_name(ev->type));
	}
}

static void
pump(drv *d)
{
	cp_smtpc_event ev;
	const char *p;
	size_t n;

	while (cp_smtpc_conn_next_event(d->c, &ev) != CP_SMTPC_EV_NONE) {
		logf_ev(d, &ev);
		if (ev.type == CP_SMTPC_EV_READY) {
			if (d->next < d->nmsgs) {
				const tmsg *m = &d->msgs[d->next++];
				cp_smtpc_message cm = { m->from, m->rcpts,
					m->nrcpt, m->size, 0, m->smtputf8 };

				CP_CHECK_INT(cp_smtpc_conn_message(d->c, &cm),
				    CP_OK);
			} else if (!hold_open)
				cp_smtpc_conn_quit(d->c);
		} else if (ev.type == CP_SMTPC_EV_BODY) {
			const tmsg *m = &d->msgs[d->next - 1];
			size_t len = strlen(m->body), off = 0;

			while (off < len) {
				size_t k = CP_MIN(d->chunk, len - off);

				CP_CHECK_INT(cp_smtpc_conn_body(d->c,
				    m->body + off, k), CP_OK);
				off += k;
			}
			CP_CHECK_INT(cp_smtpc_conn_body_end(d->c), CP_OK);
		} else if (ev.type == CP_SMTPC_EV_STARTTLS)
			cp_smtpc_conn_tls_started(d->c);
	}
	while ((n = cp_smtpc_conn_output(d->c, &p)) > 0) {
		cp_buf_add(&d->out, p, n);
		cp_smtpc_conn_consumed(d->c, n);
	}
}

/* Run script against conf with msgs; compare the event log to want. */
static void
run(int line, const cp_smtpc_conf *conf, const char *const *script,
    const tmsg *msgs, size_t nmsgs, size_t chunk, const char *want)
{
	drv d = { 0 };
	size_t i;

	d.c = cp_smtpc_conn_new(conf);
	d.msgs = msgs;
	d.nmsgs = nmsgs;
	d.chunk = chunk ? chunk : 5;
	cp_buf_init(&d.out, 1 << 20);
	cp_buf_init(&d.log, 1 << 20);
	cp_buf_adds(&d.out, "");
	cp_buf_adds(&d.log, "");
	for (i = 0; script[i] != NULL; i++) {
		const char *s = script[i];

		if (s[0] == 'S') {
			/* fed in two pieces to test reassembly ("S!": one) */
			size_t n = strlen(s + 2), h = s[1] == '!' ? n : n / 2;

			cp_smtpc_conn_feed(d.c, s + 2, h);
			pump(&d);
			cp_smtpc_conn_feed(d.c, s + 2 + h, n - h);
		} else if (s[0] == 'C') {
			pump(&d);
			if (strcmp(d.out.data, s + 2) != 0)
				cptest_fail(__FILE__, line, "step %zu: client "
				    "sent\n%s\nwant\n%s", i, d.out.data, s + 2);
			cp_buf_reset(&d.out);
			cp_buf_adds(&d.out, "");
		} else if (s[0] == 'E')
			cp_smtpc_conn_eof(d.c);
		else if (s[0] == 'T')
			cp_smtpc_conn_timeout(d.c);
		else if (s[0] == 'X')
			cp_smtpc_conn_tls_failed(d.c, "bad certificate");
		pump(&d);
	}
	if (strcmp(d.log.data, want) != 0)
		cptest_fail(__FILE__, line, "events\n%s\nwant\n%s",
		    d.log.data, want);
	CP_CHECK(d.next == nmsgs, "messages given: %zu of %zu", d.next, nmsgs);
	cp_smtpc_conn_free(d.c);
	cp_buf_free(&d.out);
	cp_buf_free(&d.log);
}

static cp_smtpc_conf
conf_of(int tls)
{
	cp_smtpc_conf conf;

	cp_smtpc_conf_init(&conf);
	conf.helo = "out1.example.net";
	conf.tls = tls;
	return conf;
}

#define GREET "S:220 mx.example.com ESMTP\r\n"
#define EHLO "C:EHLO out1.example.net\r\n"
#define CAPS_PIPE "S:250-mx.example.com\r\n250-PIPELINING\r\n" \
	"250-SIZE 10000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n" \
	"250 DSN\r\n"
#define CAPS_PLAIN "S:250-mx.example.com\r\n250-SIZE\r\n" \
	"250 ENHANCEDSTATUSCODES\r\n"

static const tmsg one = { "bounce+1@out.example", { "a@mx.example",
	"b@mx.example" }, 2, 120, "Subject: hi\r\n\r\nhello\r\n", 0 };

CP_TEST(smtpc_pipelining)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *script[] = { GREET, EHLO, CAPS_PIPE,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n"
		"RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n",
		"S:250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
		"550-5.1.1 no such user\r\n550-5.1.1 really\r\n"
		"550 5.1.1 gone\r\n354 go ahead\r\n",
		"C:Subject: hi\r\n\r\nhello\r\n.\r\n",
		"S:250 2.0.0 queued as X1\r\n", "C:QUIT\r\n", "S:221 bye\r\n",
		NULL };

	run(__LINE__, &conf, script, &one, 1, 3,
	    "greeting 220\nREADY\nBODY\n"
	    "rcpt a@mx.example ok dot 250 2.0.0|250 2.0.0 queued as X1\n"
	    "rcpt b@mx.example perm rcpt 550 5.1.1|"
	    "550 5.1.1 no such user really gone\n"
	    "message 1/0/1 dot 250\nREADY\nclosed quit ok none 221 \n");
}

CP_TEST(smtpc_pipelining_caps)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	cp_smtpc_conn *c = cp_smtpc_conn_new(&conf);
	const char *s = "220 x\r\n250-x\r\n250-pipelining\r\n250-SIZE 52428800"
	    "\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-STARTTLS\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-AUTH PLAIN\r\n250 DSN\r\n";
	const cp_smtpc_caps *k;

	cp_smtpc_conn_feed(c, s, strlen(s));
	k = cp_smtpc_conn_caps(c);
	CP_CHECK(k->esmtp && k->pipelining && k->size && k->eightbitmime &&
	    k->smtputf8 && k->starttls && k->enhancedstatuscodes && k->dsn,
	    "all keywords");
	CP_CHECK(k->size_max == 52428800ULL, "size %llu",
	    (unsigned long long)k->size_max);
	CP_CHECK(!k->tls, "not tls yet");
	cp_smtpc_conn_free(c);
}

CP_TEST(smtpc_no_pipelining)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *script[] = { GREET, EHLO, CAPS_PLAIN,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n",
		"S:250 2.1.0 ok\r\n", "C:RCPT TO:<a@mx.example>\r\n",
		"S:451 4.3.0 try later\r\n", "C:RCPT TO:<b@mx.example>\r\n",
		"S:250 2.1.5 ok\r\n", "C:DATA\r\n", "S:354 go\r\n",
		"C:Subject: hi\r\n\r\nhello\r\n.\r\n", "S:250 2.0.0 ok\r\n",
		"C:QUIT\r\n", "S:221 bye\r\n", NULL };

	run(__LINE__, &conf, script, &one, 1, 0,
	    "greeting 220\nREADY\nBODY\n"
	    "rcpt a@mx.example temp rcpt 451 4.3.0|451 4.3.0 try later\n"
	    "rcpt b@mx.example ok dot 250 2.0.0|250 2.0.0 ok\n"
	    "message 1/1/0 dot 250\nREADY\nclosed quit ok none 221 \n");
}

CP_TEST(smtpc_starttls_offered)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *script[] = { GREET, EHLO,
		"S:250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n",
		"C:STARTTLS\r\n",
		/* bytes after the 220 are an injection: dropped */
		"S!220 2.0.0 go\r\n250 2.1.0 injected\r\n", EHLO,
		"S:250-mx\r\n250 8BITMIME\r\n", "C:QUIT\r\n",
		"S:221 bye\r\n", NULL };

	run(__LINE__, &conf, script, NULL, 0, 0,
	    "greeting 220\nSTARTTLS\nREADY\nclosed quit ok none 221 \n");
}

CP_TEST(smtpc_starttls_caps_forgotten)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	cp_smtpc_conn *c = cp_smtpc_conn_new(&conf);
	cp_smtpc_event ev;
	const char *s1 = "220 x\r\n250-x\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
	    "220 go\r\n", *s2 = "250 x\r\n";

	cp_smtpc_conn_feed(c, s1, strlen(s1));
	while (cp_smtpc_conn_next_event(c, &ev) != CP_SMTPC_EV_NONE)
		;
	CP_CHECK_INT(ev.type, CP_SMTPC_EV_NONE);
	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 0); /* handshake: ours */
	cp_smtpc_conn_tls_started(c);
	CP_CHECK(cp_smtpc_conn_caps(c)->tls, "tls");
	CP_CHECK(!cp_smtpc_conn_caps(c)->pipelining, "caps reset");
	cp_smtpc_conn_feed(c, s2, strlen(s2));
	CP_CHECK(!cp_smtpc_conn_caps(c)->pipelining, "no pipelining now");
	CP_CHECK(cp_smtpc_conn_caps(c)->tls, "still tls");
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_READY);
	cp_smtpc_conn_free(c);
}

CP_TEST(smtpc_starttls_required_absent)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_REQUIRE);
	const char *script[] = { GREET, EHLO, CAPS_PLAIN, "C:QUIT\r\n", NULL };

	run(__LINE__, &conf, script, NULL, 0, 0,
	    "greeting 220\nclosed tls_required temp starttls 421 4.7.4\n");
}

CP_TEST(smtpc_starttls_absent_may)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *script[] = { GREET, EHLO, CAPS_PLAIN, "C:QUIT\r\n",
		"E", NULL };

	run(__LINE__, &conf, script, NULL, 0, 0,
	    "greeting 220\nREADY\nclosed quit ok none 221 \n");
}

CP_TEST(smtpc_starttls_policy_none)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_NONE);
	const char *script[] = { GREET, EHLO, "S:250-mx\r\n250 STARTTLS\r\n",
		"C:QUIT\r\n", NULL };

	run(__LINE__, &conf, script, NULL, 0, 0, "greeting 220\nREADY\n");
}

CP_TEST(smtpc_starttls_refused)
{
	cp_smtpc_conf may = conf_of(CP_SMTPC_TLS_MAY);
	cp_smtpc_conf req = conf_of(CP_SMTPC_TLS_REQUIRE);
	const char *script[] = { GREET, EHLO, "S:250-mx\r\n250 STARTTLS\r\n",
		"C:STARTTLS\r\n", "S:454 4.7.0 TLS not available\r\n",
		"C:QUIT\r\n", NULL };

	run(__LINE__, &may, script, NULL, 0, 0, "greeting 220\nREADY\n");
	run(__LINE__, &req, script, NULL, 0, 0,
	    "greeting 220\nclosed starttls temp starttls 454 4.7.0\n");
}

CP_TEST(smtpc_starttls_handshake_fails)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	cp_smtpc_conn *c = cp_smtpc_conn_new(&conf);
	cp_smtpc_event ev;
	const char *s = "220 x\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n";

	cp_smtpc_conn_feed(c, s, strlen(s));
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_GREETING);
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_STARTTLS);
	cp_smtpc_conn_tls_failed(c, "certificate expired");
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_CLOSED);
	CP_CHECK_INT(ev.reason, CP_SMTPC_R_TLS_FAILED);
	CP_CHECK_INT(ev.result->phase, CP_SMTPC_PH_STARTTLS);
	CP_CHECK(strstr(ev.result->text, "certificate expired") != NULL,
	    "%s", ev.result->text);
	CP_CHECK(cp_smtpc_conn_closed(c), "closed");
	cp_smtpc_conn_free(c);
}

CP_TEST(smtpc_greeting_refused)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *s554[] = { "S:554-5.7.1 go away\r\n554 5.7.1 really\r\n",
		"C:QUIT\r\n", NULL };
	const char *s421[] = { "S:421 4.3.2 busy\r\n", "C:QUIT\r\n", NULL };
	const char *eof[] = { "E", "C:", NULL };
	const char *half[] = { "S:220 mx", "E", "C:", NULL };

	run(__LINE__, &conf, s554, NULL, 0, 0,
	    "closed greeting perm greeting 554 5.7.1\n");
	run(__LINE__, &conf, s421, NULL, 0, 0,
	    "closed greeting temp greeting 421 4.3.2\n");
	run(__LINE__, &conf, eof, NULL, 0, 0,
	    "closed server temp connect 421 4.4.2\n");
	run(__LINE__, &conf, half, NULL, 0, 0,
	    "closed server temp greeting 421 4.4.2\n");
}

CP_TEST(smtpc_helo_fallback)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *script[] = { GREET, EHLO, "S:502 what\r\n",
		"C:HELO out1.example.net\r\n", "S:250 mx\r\n",
		"C:MAIL FROM:<bounce+1@out.example>\r\n", "S:250 ok\r\n",
		"C:RCPT TO:<a@mx.example>\r\n", "S:250 ok\r\n",
		"C:RCPT TO:<b@mx.example>\r\n", "S:250 ok\r\n", "C:DATA\r\n",
		"S:354 go\r\n", "C:Subject: hi\r\n\r\nhello\r\n.\r\n",
		"S:250 ok\r\n", "C:QUIT\r\n", "S:221 bye\r\n", NULL };
	const char *bad[] = { GREET, EHLO, "S:500 what\r\n",
		"C:HELO out1.example.net\r\n", "S:550 no\r\n", "C:QUIT\r\n",
		NULL };
	const char *tmp[] = { GREET, EHLO, "S:421 4.3.2 closing\r\n", "C:",
		NULL };

	run(__LINE__, &conf, script, &one, 1, 0,
	    "greeting 220\nREADY\nBODY\n"
	    "rcpt a@mx.example ok dot 250 |250 ok\n"
	    "rcpt b@mx.example ok dot 250 |250 ok\n"
	    "message 2/0/0 dot 250\nREADY\nclosed quit ok none 221 \n");
	run(__LINE__, &conf, bad, NULL, 0, 0,
	    "greeting 220\nclosed ehlo perm ehlo 550 \n");
	run(__LINE__, &conf, tmp, NULL, 0, 0,
	    "greeting 220\nclosed server temp ehlo 421 4.3.2\n");
}

CP_TEST(smtpc_mail_refused)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const tmsg two[2] = { one, one };
	/* without PIPELINING: 451 to MAIL, then RSET before the next one */
	const char *plain[] = { GREET, EHLO, CAPS_PLAIN,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n",
		"S:451 4.7.1 greylisted\r\n", "C:RSET\r\n", "S:250 ok\r\n",
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n",
		"S:550 5.7.1 no\r\n", "C:QUIT\r\n", NULL };
	/* with it: the RCPT and DATA replies are eaten */
	const char *pipe[] = { GREET, EHLO, CAPS_PIPE,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n"
		"RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n",
		"S:550 5.7.1 sender refused\r\n503 5.5.1 no MAIL\r\n"
		"503 5.5.1 no MAIL\r\n503 5.5.1 no valid recipients\r\n",
		"C:QUIT\r\n", NULL };

	run(__LINE__, &conf, plain, two, 2, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example temp mail 451 4.7.1|451 4.7.1 greylisted\n"
	    "rcpt b@mx.example temp mail 451 4.7.1|451 4.7.1 greylisted\n"
	    "message 0/2/0 mail 451\nREADY\n"
	    "rcpt a@mx.example perm mail 550 5.7.1|550 5.7.1 no\n"
	    "rcpt b@mx.example perm mail 550 5.7.1|550 5.7.1 no\n"
	    "message 0/0/2 mail 550\nREADY\n");
	run(__LINE__, &conf, pipe, &one, 1, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example perm mail 550 5.7.1|550 5.7.1 sender refused\n"
	    "rcpt b@mx.example perm mail 550 5.7.1|550 5.7.1 sender refused\n"
	    "message 0/0/2 mail 550\nREADY\n");
}

CP_TEST(smtpc_nobody_accepted)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	/* without PIPELINING: no DATA, RSET instead */
	const char *plain[] = { GREET, EHLO, CAPS_PLAIN,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n",
		"S:250 ok\r\n", "C:RCPT TO:<a@mx.example>\r\n",
		"S:550 5.1.1 unknown\r\n", "C:RCPT TO:<b@mx.example>\r\n",
		"S:452 4.2.2 full\r\n", "C:RSET\r\n", "S:250 ok\r\n",
		"C:QUIT\r\n", NULL };
	/* with it, a server that says 354 anyway gets an empty message */
	const char *pipe[] = { GREET, EHLO, CAPS_PIPE,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n"
		"RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n",
		"S:250 ok\r\n550 5.1.1 unknown\r\n550 5.1.1 unknown\r\n"
		"354 go\r\n", "C:.\r\n", "S:554 5.5.1 no recipients\r\n",
		"C:QUIT\r\n", NULL };

	run(__LINE__, &conf, plain, &one, 1, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example perm rcpt 550 5.1.1|550 5.1.1 unknown\n"
	    "rcpt b@mx.example temp rcpt 452 4.2.2|452 4.2.2 full\n"
	    "message 0/1/1 rcpt 452\nREADY\n");
	run(__LINE__, &conf, pipe, &one, 1, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example perm rcpt 550 5.1.1|550 5.1.1 unknown\n"
	    "rcpt b@mx.example perm rcpt 550 5.1.1|550 5.1.1 unknown\n"
	    "message 0/0/2 rcpt 550\nREADY\n");
}

CP_TEST(smtpc_data_and_dot_refused)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *data[] = { GREET, EHLO, CAPS_PIPE, "C:"
		"MAIL FROM:<bounce+1@out.example> SIZE=120\r\n"
		"RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n",
		"S:250 ok\r\n250 ok\r\n250 ok\r\n554 5.7.0 not now\r\n",
		"C:QUIT\r\n", NULL };
	const char *dot[] = { GREET, EHLO, CAPS_PIPE, "C:"
		"MAIL FROM:<bounce+1@out.example> SIZE=120\r\n"
		"RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n",
		"S:250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		"C:Subject: hi\r\n\r\nhello\r\n.\r\n",
		"S:451-4.7.500 Server busy. Please try again later from\r\n"
		"451 4.7.500 [192.0.2.9]. (S77719)\r\n", "C:QUIT\r\n", NULL };

	run(__LINE__, &conf, data, &one, 1, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example perm data 554 5.7.0|554 5.7.0 not now\n"
	    "rcpt b@mx.example perm data 554 5.7.0|554 5.7.0 not now\n"
	    "message 0/0/2 data 554\nREADY\n");
	run(__LINE__, &conf, dot, &one, 1, 0,
	    "greeting 220\nREADY\nBODY\n"
	    "rcpt a@mx.example temp dot 451 4.7.500|451 4.7.500 Server busy. "
	    "Please try again later from [192.0.2.9]. (S77719)\n"
	    "rcpt b@mx.example temp dot 451 4.7.500|451 4.7.500 Server busy. "
	    "Please try again later from [192.0.2.9]. (S77719)\n"
	    "message 0/2/0 dot 451\nREADY\n");
}

CP_TEST(smtpc_drop_mid_data)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	cp_smtpc_conn *c = cp_smtpc_conn_new(&conf);
	cp_smtpc_event ev;
	const char *s = "220 x\r\n250-x\r\n250 PIPELINING\r\n";
	const char *rcpts[] = { "a@x", "b@x", "c@x" };
	cp_smtpc_message m = { "s@y", rcpts, 3, 0, 0, 0 };
	const char *r2 = "250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go"
	    "\r\n";
	int n = 0;

	cp_smtpc_conn_feed(c, s, strlen(s));
	while (cp_smtpc_conn_next_event(c, &ev) != CP_SMTPC_EV_READY)
		;
	CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_OK);
	cp_smtpc_conn_feed(c, r2, strlen(r2));
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_BODY);
	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 180 * 1000);
	CP_CHECK_INT(cp_smtpc_conn_body(c, "Subject: x\n\nhal", 15), CP_OK);
	cp_smtpc_conn_eof(c);
	while (cp_smtpc_conn_next_event(c, &ev) == CP_SMTPC_EV_RCPT) {
		if (ev.n == 1) {
			CP_CHECK_INT(ev.result->status, CP_SMTPC_PERM);
			CP_CHECK_INT(ev.result->phase, CP_SMTPC_PH_RCPT);
		} else {
			CP_CHECK_INT(ev.result->status, CP_SMTPC_TEMP);
			CP_CHECK_INT(ev.result->phase, CP_SMTPC_PH_DATA);
			CP_CHECK_INT(ev.result->code, 421);
			CP_CHECK_STR(ev.result->enhanced, "4.4.2");
			CP_CHECK(ev.result->local, "local");
		}
		n++;
	}
	CP_CHECK_INT(n, 3);
	CP_CHECK_INT(ev.type, CP_SMTPC_EV_MESSAGE);
	CP_CHECK_INT((int)ev.temp, 2);
	CP_CHECK_INT((int)ev.perm, 1);
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_CLOSED);
	CP_CHECK_INT(ev.reason, CP_SMTPC_R_SERVER);
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_NONE);
	CP_CHECK_INT(cp_smtpc_conn_body(c, "x", 1), CP_EINVAL);
	cp_smtpc_conn_free(c);
}

CP_TEST(smtpc_421_mid_transaction)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *script[] = { GREET, EHLO, CAPS_PLAIN,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n",
		"S:250 ok\r\n", "C:RCPT TO:<a@mx.example>\r\n",
		"S:250 ok\r\n", "C:RCPT TO:<b@mx.example>\r\n",
		"S:421 4.4.2 idle too long\r\n", "C:", NULL };

	run(__LINE__, &conf, script, &one, 1, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example temp rcpt 421 4.4.2|421 4.4.2 idle too long\n"
	    "rcpt b@mx.example temp rcpt 421 4.4.2|421 4.4.2 idle too long\n"
	    "message 0/2/0 rcpt 421\nclosed server temp rcpt 421 4.4.2\n");
}

CP_TEST(smtpc_several_messages)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	tmsg m[3] = { one, one, one };
	const char *env = "MAIL FROM:<bounce+1@out.example> SIZE=120\r\n"
	    "RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n";
	char env2[300];
	const char *script[] = { GREET, EHLO, CAPS_PIPE, NULL,
		"S:250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		"C:Subject: hi\r\n\r\nhello\r\n.\r\n", "S:250 ok 1\r\n",
		env2, "S:250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		"C:Subject: hi\r\n\r\nhello\r\n.\r\n", "S:250 ok 2\r\n",
		env2, "S:250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		"C:Subject: hi\r\n\r\nhello\r\n.\r\n", "S:250 ok 3\r\n",
		"C:QUIT\r\n", "S:221 bye\r\n", NULL };
	char env1[300];

	snprintf(env1, sizeof(env1), "C:%s", env);
	snprintf(env2, sizeof(env2), "C:RSET\r\n%s", env);
	script[3] = env1;
	m[1].rcpts[0] = "c@mx.example";
	m[1].rcpts[1] = "a@mx.example";
	m[2].nrcpt = 1;
	m[2].rcpts[0] = "b@mx.example";
	/* the envelopes differ: adjust the expected commands */
	{
		static char e2[300], e3[300];

		snprintf(e2, sizeof(e2), "C:RSET\r\nMAIL FROM:<bounce+1@"
		    "out.example> SIZE=120\r\nRCPT TO:<c@mx.example>\r\n"
		    "RCPT TO:<a@mx.example>\r\nDATA\r\n");
		snprintf(e3, sizeof(e3), "C:RSET\r\nMAIL FROM:<bounce+1@"
		    "out.example> SIZE=120\r\nRCPT TO:<b@mx.example>\r\n"
		    "DATA\r\n");
		script[7] = e2;
		script[11] = e3;
		script[12] = "S:250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n";
	}
	run(__LINE__, &conf, script, m, 3, 0,
	    "greeting 220\nREADY\nBODY\n"
	    "rcpt a@mx.example ok dot 250 |250 ok 1\n"
	    "rcpt b@mx.example ok dot 250 |250 ok 1\n"
	    "message 2/0/0 dot 250\nREADY\nBODY\n"
	    "rcpt c@mx.example ok dot 250 |250 ok 2\n"
	    "rcpt a@mx.example ok dot 250 |250 ok 2\n"
	    "message 2/0/0 dot 250\nREADY\nBODY\n"
	    "rcpt b@mx.example ok dot 250 |250 ok 3\n"
	    "message 1/0/0 dot 250\nREADY\nclosed quit ok none 221 \n");
}

CP_TEST(smtpc_rset_refused)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	tmsg m[2] = { one, one };
	const char *script[] = { GREET, EHLO, CAPS_PLAIN,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n",
		"S:550 no\r\n", "C:RSET\r\n", "S:500 what\r\n", "C:QUIT\r\n",
		NULL };

	/* the first fails at MAIL; the second dies with RSET, not lost */
	run(__LINE__, &conf, script, m, 2, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example perm mail 550 |550 no\n"
	    "rcpt b@mx.example perm mail 550 |550 no\n"
	    "message 0/0/2 mail 550\nREADY\n"
	    "rcpt a@mx.example temp mail 500 |500 what\n"
	    "rcpt b@mx.example temp mail 500 |500 what\n"
	    "message 0/2/0 mail 500\nclosed rset perm mail 500 \n");
}

CP_TEST(smtpc_size_refusal)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	tmsg m[2] = { one, one };
	const char *script[] = { GREET, EHLO, CAPS_PIPE, "C:"
		"MAIL FROM:<bounce+1@out.example> SIZE=9000\r\n"
		"RCPT TO:<a@mx.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n",
		"S:250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		"C:Subject: hi\r\n\r\nhello\r\n.\r\n", "S:250 ok\r\n",
		"C:QUIT\r\n", NULL };

	m[0].size = 10001; /* over SIZE 10000: no MAIL at all */
	m[1].size = 9000;
	run(__LINE__, &conf, script, m, 2, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example perm mail 552 5.3.4 local|552 5.3.4 message "
	    "size 10001 exceeds the server's limit of 10000\n"
	    "rcpt b@mx.example perm mail 552 5.3.4 local|552 5.3.4 message "
	    "size 10001 exceeds the server's limit of 10000\n"
	    "message 0/0/2 mail 552\nREADY\nBODY\n"
	    "rcpt a@mx.example ok dot 250 |250 ok\n"
	    "rcpt b@mx.example ok dot 250 |250 ok\n"
	    "message 2/0/0 dot 250\nREADY\n");
}

CP_TEST(smtpc_smtputf8_needed)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	tmsg m = one;
	const char *script[] = { GREET, EHLO, CAPS_PIPE, "C:QUIT\r\n", NULL };
	const char *ok[] = { GREET, EHLO,
		"S:250-mx\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n",
		"C:MAIL FROM:<bounce+1@out.example> SMTPUTF8\r\n", NULL };

	m.smtputf8 = 1;
	run(__LINE__, &conf, script, &m, 1, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example perm mail 553 5.6.7 local|553 5.6.7 the "
	    "message needs SMTPUTF8, which the server does not offer\n"
	    "rcpt b@mx.example perm mail 553 5.6.7 local|553 5.6.7 the "
	    "message needs SMTPUTF8, which the server does not offer\n"
	    "message 0/0/2 mail 553\nREADY\n");
	run(__LINE__, &conf, ok, &m, 1, 0, "greeting 220\nREADY\n");
}

/* The text as sent, for a body fed in pieces of every size 1..7. */
CP_TEST(smtpc_dot_stuffing)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", ".\r\n" },
		{ "a", "a\r\n.\r\n" },
		{ ".", "..\r\n.\r\n" },
		{ "a\n.\n", "a\r\n..\r\n.\r\n" },
		{ "a\r\n.b\r\n..c\r\n", "a\r\n..b\r\n...c\r\n.\r\n" },
		{ "x\ry\r", "x\r\ny\r\n.\r\n" },
		{ "x\r\r\ny", "x\r\n\r\ny\r\n.\r\n" },
		{ "\n\n.", "\r\n\r\n..\r\n.\r\n" },
		{ "a.b\n .c\n", "a.b\r\n .c\r\n.\r\n" },
		{ "end\r\n.\r\n", "end\r\n..\r\n.\r\n" },
	};
	size_t i, chunk;

	for (i = 0; i < CP_NELEM(cases); i++) {
		for (chunk = 1; chunk <= 7; chunk++) {
			cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_NONE);
			cp_smtpc_conn *c = cp_smtpc_conn_new(&conf);
			const char *rc[] = { "r@x" };
			cp_smtpc_message m = { "", rc, 1, 0, 0, 0 };
			const char *s = "220 x\r\n250 x\r\n";
			const char *r = "250 ok\r\n250 ok\r\n354 go\r\n";
			const char *p, *in = cases[i].in;
			cp_smtpc_event ev;
			size_t n, off = 0, len = strlen(in);

			cp_smtpc_conn_feed(c, s, strlen(s));
			while (cp_smtpc_conn_next_event(c, &ev) !=
			    CP_SMTPC_EV_NONE)
				;
			CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_OK);
			n = cp_smtpc_conn_output(c, &p);
			cp_smtpc_conn_consumed(c, n);
			cp_smtpc_conn_feed(c, r, 8);
			n = cp_smtpc_conn_output(c, &p);
			CP_CHECK(n == 15 && memcmp(p, "RCPT TO:<r@x>\r\n", 15)
			    == 0, "rcpt");
			cp_smtpc_conn_consumed(c, n);
			cp_smtpc_conn_feed(c, r + 8, strlen(r) - 8);
			n = cp_smtpc_conn_output(c, &p);
			cp_smtpc_conn_consumed(c, n);
			while (cp_smtpc_conn_next_event(c, &ev) !=
			    CP_SMTPC_EV_NONE)
				CP_CHECK_INT(ev.type, CP_SMTPC_EV_BODY);
			while (off < len) {
				size_t k = CP_MIN(chunk, len - off);

				CP_CHECK_INT(cp_smtpc_conn_body(c, in + off,
				    k), CP_OK);
				off += k;
			}
			CP_CHECK_INT(cp_smtpc_conn_body_end(c), CP_OK);
			n = cp_smtpc_conn_output(c, &p);
			if (n != strlen(cases[i].out) ||
			    memcmp(p, cases[i].out, n) != 0)
				CP_CHECK(0, "case %zu chunk %zu: got '%.*s'",
				    i, chunk, (int)n, p);
			cp_smtpc_conn_free(c);
		}
	}
}

CP_TEST(smtpc_timeouts)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	cp_smtpc_conn *c = cp_smtpc_conn_new(&conf);
	const char *rc[] = { "r@x" };
	cp_smtpc_message m = { "s@y", rc, 1, 0, 0, 0 };
	cp_smtpc_event ev;
	const char *s = "220 x\r\n";

	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 300 * 1000);
	cp_smtpc_conn_feed(c, s, strlen(s));
	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 300 * 1000); /* EHLO */
	cp_smtpc_conn_feed(c, "250 x\r\n", 7);
	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 0); /* idle: READY */
	while (cp_smtpc_conn_next_event(c, &ev) != CP_SMTPC_EV_NONE)
		;
	CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_OK);
	CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_EINVAL); /* busy */
	cp_smtpc_conn_feed(c, "250 ok\r\n", 8);
	cp_smtpc_conn_feed(c, "250 ok\r\n", 8);
	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 120 * 1000); /* DATA */
	cp_smtpc_conn_feed(c, "354 go\r\n", 8);
	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 180 * 1000); /* block */
	cp_smtpc_conn_body_end(c);
	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 600 * 1000); /* dot */
	cp_smtpc_conn_timeout(c);
	while (cp_smtpc_conn_next_event(c, &ev) != CP_SMTPC_EV_RCPT)
		;
	CP_CHECK_INT(ev.result->status, CP_SMTPC_TEMP);
	CP_CHECK_INT(ev.result->phase, CP_SMTPC_PH_DOT);
	CP_CHECK(strstr(ev.result->text, "timeout") != NULL, "%s",
	    ev.result->text);
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_MESSAGE);
	CP_CHECK_INT(cp_smtpc_conn_next_event(c, &ev), CP_SMTPC_EV_CLOSED);
	CP_CHECK_INT(ev.reason, CP_SMTPC_R_TIMEOUT);
	CP_CHECK_INT(cp_smtpc_conn_timeout_ms(c), 0);
	cp_smtpc_conn_free(c);
}

CP_TEST(smtpc_protocol_errors)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	const char *junk[] = { "S:HTTP/1.1 400 Bad\r\n", "C:", NULL };
	const char *mixed[] = { "S:220-a\r\n250 b\r\n", "C:", NULL };
	const char *unasked[] = { GREET, EHLO, CAPS_PLAIN, "S:250 what\r\n",
		"C:", NULL };
	const char *rcpt354[] = { GREET, EHLO, CAPS_PLAIN,
		"C:MAIL FROM:<bounce+1@out.example> SIZE=120\r\n",
		"S:250 ok\r\n", "C:RCPT TO:<a@mx.example>\r\n",
		"S:354 sure\r\n", "C:", NULL };
	const char *idle421[] = { GREET, EHLO, CAPS_PLAIN,
		"S:421 4.4.2 bye\r\n", "C:", NULL };

	hold_open = 1;
	run(__LINE__, &conf, junk, NULL, 0, 0,
	    "closed protocol temp greeting 421 4.5.0\n");
	run(__LINE__, &conf, mixed, NULL, 0, 0,
	    "closed protocol temp greeting 421 4.5.0\n");
	/* the READY is handed out before the reply arrives */
	run(__LINE__, &conf, unasked, NULL, 0, 0,
	    "greeting 220\nREADY\nclosed protocol temp none 421 4.5.0\n");
	run(__LINE__, &conf, idle421, NULL, 0, 0,
	    "greeting 220\nREADY\nclosed server temp none 421 4.4.2\n");
	/* a 3xx to RCPT is no acceptance: nothing goes as delivered */
	run(__LINE__, &conf, rcpt354, &one, 1, 0,
	    "greeting 220\nREADY\n"
	    "rcpt a@mx.example temp rcpt 421 4.5.0 local|421 4.5.0 protocol "
	    "error: 354 to rcpt\n"
	    "rcpt b@mx.example temp rcpt 421 4.5.0 local|421 4.5.0 protocol "
	    "error: 354 to rcpt\n"
	    "message 0/2/0 rcpt 421\nclosed protocol temp rcpt 421 4.5.0\n");
}

CP_TEST(smtpc_bad_messages)
{
	cp_smtpc_conf conf = conf_of(CP_SMTPC_TLS_MAY);
	cp_smtpc_conn *c = cp_smtpc_conn_new(&conf);
	const char *inj[] = { "a@x>\r\nRCPT TO:<evil@y" };
	const char *ok[] = { "a@x" };
	cp_smtpc_message m = { "s@y", ok, 1, 0, 0, 0 };
	cp_smtpc_event ev;

	CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_EINVAL); /* no READY */
	cp_smtpc_conn_feed(c, "220 x\r\n250 x\r\n", 14);
	while (cp_smtpc_conn_next_event(c, &ev) != CP_SMTPC_EV_NONE)
		;
	m.rcpts = inj;
	CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_EINVAL);
	m.rcpts = ok;
	m.nrcpt = 0;
	CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_EINVAL);
	m.nrcpt = 1;
	m.from = "s@y\n";
	CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_EINVAL);
	m.from = "";
	CP_CHECK_INT(cp_smtpc_conn_message(c, &m), CP_OK);
	cp_smtpc_conn_free(c);
}
