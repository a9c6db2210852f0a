/*
 * Unit tests: src/smtp/smtpd_data.c - DATA: the final dot, dot-unstuffing
 * across feeds, line ends, size and line limits, chunking, and the
 * submission rewriting of the header (Received, Date, Message-ID, Bcc).
 */
#include <string.h>

#include "cptest.h"
#include "smtpd_harness.h"

#define RECEIVED                                                             \
	"Received: from client.example (client.example [192.0.2.10])\r\n"    \
	"\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"            \
	"\tby mx.test (coldpost) with ESMTPSA id Q1;\r\n"                     \
	"\tThu, 01 Jan 2026 00:00:00 +0000\r\n"
#define DATE "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
#define MSGID "Message-ID: <20260101000000.Q1@mx.test>\r\n"

static void
login(h_session *h)
{
	h_start(h);
	h_feed(h, "EHLO client.example\r\nSTARTTLS\r\n");
	h_feed(h, "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
	h_feed(h, "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\n"
	    "DATA\r\n");
	h_replies(h);
	h_events(h);
}

/* A logged-in session that sends text (the dot included) in one feed:
 * the message the caller got. */
static const char *
submit(h_session *h, const char *text)
{
	login(h);
	h_feed(h, text);
	return h->last.data ? h->last.data : "";
}

CP_TEST(smtpd_data_basic)
{
	h_session h;

	h_init(&h);
	H_CHECK_STR(submit(&h, "From: alice@a.example\r\nTo: bob@b.example\r\n"
	    "Subject: hi\r\n\r\nHello Bob.\r\n.\r\n"),
	    RECEIVED "From: alice@a.example\r\nTo: bob@b.example\r\n"
	    "Subject: hi\r\n" DATE MSGID "\r\nHello Bob.\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok: queued as Q1\r\n");
	/* size: bytes received, unstuffed, without the final dot */
	H_CHECK_STR(h_events(&h), "DATA_END 69");
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->messages, 1);
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->recipients, 1);
	/* the next transaction */
	h_feed(&h, "MAIL FROM:<alice@a.example>\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.1.0 Ok\r\n");
	h_free(&h);
}

CP_TEST(smtpd_data_existing_fields)
{
	h_session h;

	h_init(&h);
	H_CHECK_STR(submit(&h, "Message-Id: <x@y>\r\nDATE: Wed, 31 Dec 2025 "
	    "10:00:00 +0100\r\n\r\nbody\r\n.\r\n"),
	    RECEIVED "Message-Id: <x@y>\r\nDATE: Wed, 31 Dec 2025 "
	    "10:00:00 +0100\r\n\r\nbody\r\n");
	h_free(&h);

	h_init(&h);
	H_CHECK_STR(submit(&h, "Subject: a\r\nMessage-ID:\r\n <folded@y>\r\n"
	    "\r\nbody\r\n.\r\n"),
	    RECEIVED "Subject: a\r\nMessage-ID:\r\n <folded@y>\r\n" DATE
	    "\r\nbody\r\n");
	h_free(&h);
}

CP_TEST(smtpd_data_bcc)
{
	h_session h;

	h_init(&h);
	H_CHECK_STR(submit(&h, "From: a@a.example\r\nBcc: hidden@c.example\r\n"
	    "To: b@b.example\r\nbcc: one@c.example,\r\n two@c.example,\r\n"
	    "\tthree@c.example\r\nBCC : obsolete@c.example\r\nBcc:\r\n"
	    "X-Bcc: kept\r\nSubject: s\r\n\r\nBcc: in the body stays\r\n.\r\n"),
	    RECEIVED "From: a@a.example\r\nTo: b@b.example\r\nX-Bcc: kept\r\n"
	    "Subject: s\r\n" DATE MSGID "\r\nBcc: in the body stays\r\n");
	h_free(&h);

	/* a folded Bcc that is the last field */
	h_init(&h);
	H_CHECK_STR(submit(&h, "Subject: s\r\nBcc: x@c.example,\r\n"
	    "  y@c.example\r\n\r\nb\r\n.\r\n"),
	    RECEIVED "Subject: s\r\n" DATE MSGID "\r\nb\r\n");
	h_free(&h);
}

CP_TEST(smtpd_data_no_separator)
{
	h_session h;

	/* no header at all: the body after an empty line */
	h_init(&h);
	H_CHECK_STR(submit(&h, "Just text, no header.\r\nSecond line\r\n.\r\n"),
	    RECEIVED DATE MSGID "\r\nJust text, no header.\r\nSecond line\r\n");
	h_free(&h);

	/* a header that ends at a line that is no field */
	h_init(&h);
	H_CHECK_STR(submit(&h, "Subject: s\r\nnot a field\r\nmore\r\n.\r\n"),
	    RECEIVED "Subject: s\r\n" DATE MSGID "\r\nnot a field\r\nmore\r\n");
	h_free(&h);

	/* all header, no body */
	h_init(&h);
	H_CHECK_STR(submit(&h, "Subject: s\r\nTo: b@b.example\r\n.\r\n"),
	    RECEIVED "Subject: s\r\nTo: b@b.example\r\n" DATE MSGID);
	h_free(&h);

	/* empty message */
	h_init(&h);
	H_CHECK_STR(submit(&h, ".\r\n"), RECEIVED DATE MSGID);
	H_CHECK_STR(h_events(&h), "DATA_END 0");
	h_free(&h);
}

static const struct {
	const char *in, *body;
} dots[] = {
	{ "..\r\n", ".\r\n" },
	{ "..x\r\n", ".x\r\n" },
	{ "...\r\n", "..\r\n" },
	{ ".x\r\n", "x\r\n" },
	{ "a.\r\n.a\r\n", "a.\r\na\r\n" },
	{ ". \r\n", " \r\n" },
	/* line ends: bare LF and bare CR become CRLF */
	{ "a\nb\r\n", "a\r\nb\r\n" },
	{ "a\rb\r\n", "a\r\nb\r\n" },
	{ "a\r\rb\r\n", "a\r\n\r\nb\r\n" },
	{ "\n\nz\r\n", "\r\n\r\nz\r\n" },
	/* SMTP smuggling: only CRLF "." CRLF ends the message */
	{ "a\n.\nb\r\n", "a\r\n.\r\nb\r\n" },
	{ "a\n.\r\nb\r\n", "a\r\n.\r\nb\r\n" },
	{ "a\r\n.\nb\r\n", "a\r\n.\r\nb\r\n" },
	{ "a\r.\r\nb\r\n", "a\r\n.\r\nb\r\n" },
	{ "a\r\n.\rb\r\n", "a\r\n.\r\nb\r\n" },
	/* 8-bit bytes and NULs pass through */
	{ "caf\xc3\xa9 \x00!\r\n", "caf\xc3\xa9 \x00!\r\n" },
};

/* The body of each case, fed whole and byte by byte, with chunks of
 * 64 KiB and of 1 to 3 bytes, must come out the same. */
CP_TEST(smtpd_data_dots_and_line_ends)
{
	for (size_t i = 0; i < CP_NELEM(dots); i++) {
		for (int split = 0; split < 8; split++) {
			h_session h;
			char in[200], want[200];
			size_t n, w;

			h_init(&h);
			h.conf.rewrite = 0;
			if (split >= 2)
				h.conf.data_chunk_size = (size_t)split / 2;
			login(&h);
			/* the NUL case needs lengths: the arrays hold it */
			n = strlen(dots[i].in);
			if (i == CP_NELEM(dots) - 1)
				n = 10;
			memcpy(in, dots[i].in, n);
			memcpy(in + n, ".\r\n", 3);
			n += 3;
			if (split % 2)
				for (size_t k = 0; k < n; k++)
					h_feedn(&h, in + k, 1);
			else
				h_feedn(&h, in, n);
			w = i == CP_NELEM(dots) - 1 ? 10 : strlen(dots[i].body);
			memcpy(want, dots[i].body, w);
			if (h.last.len != w || memcmp(h.last.data, want, w) != 0)
				cptest_fail(__FILE__, __LINE__, "case %zu split "
				    "%d: got '%s', want '%s'", i, split,
				    h_esc(h.last.data ? h.last.data : ""),
				    h_esc(dots[i].body));
			H_CHECK_STR(h_replies(&h),
			    "250 2.0.0 Ok: queued as Q1\r\n");
			h_free(&h);
		}
	}
}

CP_TEST(smtpd_data_split_feeds)
{
	static const char *const parts[][4] = {
		{ "Subject: s\r\n\r\nline\r\n", ".", "\r\n", NULL },
		{ "Subject: s\r\n\r\nline\r", "\n.\r", "\n", NULL },
		{ "Subject: s\r\n\r\nline\r\n.", "\r", "\n", NULL },
		{ "Subject: s\r\n\r\nline\r\n", ".", "\r\nNOT\r\n.\r\n", NULL },
	};

	for (size_t i = 0; i < CP_NELEM(parts); i++) {
		h_session h;

		h_init(&h);
		login(&h);
		for (int k = 0; parts[i][k]; k++)
			h_feed(&h, parts[i][k]);
		H_CHECK_STR(h.last.data ? h.last.data : "",
		    RECEIVED "Subject: s\r\n" DATE MSGID "\r\nline\r\n");
		H_CHECK_STR(h_replies(&h), i == 3 ?
		    "250 2.0.0 Ok: queued as Q1\r\n"
		    "500 5.5.1 Error: command not recognized\r\n"
		    "500 5.5.1 Error: command not recognized\r\n" :
		    "250 2.0.0 Ok: queued as Q1\r\n");
		h_free(&h);
	}
}

CP_TEST(smtpd_data_pipelined_after_dot)
{
	h_session h;

	h_init(&h);
	login(&h);
	h_feed(&h, "Subject: s\r\n\r\nx\r\n.\r\nMAIL FROM:<alice@a.example>\r\n"
	    "RCPT TO:<c@c.example>\r\nDATA\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok: queued as Q1\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	H_CHECK_STR(h_events(&h), "DATA_END 17; MAIL <alice@a.example>; "
	    "RCPT <c@c.example> #0; DATA 1");
	h_free(&h);
}

CP_TEST(smtpd_data_size_limit)
{
	h_session h;
	char body[300];

	h_init(&h);
	h.conf.max_message_size = 100;
	login(&h);
	memset(body, 'x', 60);
	memcpy(body + 60, "\r\n", 3);
	h_feed(&h, "Subject: big\r\n\r\n");
	h_feed(&h, body);
	H_CHECK_STR(h_events(&h), "");
	h_feed(&h, body); /* 16 + 62 + 62 > 100: the caller hears at once */
	H_CHECK_STR(h_events(&h), "ERROR message_size; RSET data_failed");
	H_CHECK_STR(h_replies(&h), "");
	h_feed(&h, body);
	h_feed(&h, ".\r\n");
	H_CHECK_STR(h_replies(&h), "552 5.3.4 Message size exceeds fixed maximum "
	    "message size\r\n");
	H_CHECK_STR(h_events(&h), "");
	CP_CHECK_INT(h.last.len, 0);
	/* the session goes on */
	h_feed(&h, "MAIL FROM:<alice@a.example> SIZE=100\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.1.0 Ok\r\n");
	h_free(&h);

	/* exactly at the limit is fine */
	h_init(&h);
	h.conf.max_message_size = 16 + 62;
	login(&h);
	h_feed(&h, "Subject: big\r\n\r\n");
	h_feed(&h, body);
	h_feed(&h, ".\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok: queued as Q1\r\n");
	h_free(&h);
}

CP_TEST(smtpd_data_line_limit)
{
	h_session h;
	static char line[1100];

	/* RFC 5321 4.5.3.1.6: 1000 with CRLF; 998 of text is fine */
	h_init(&h);
	login(&h);
	memset(line, 'y', 998);
	memcpy(line + 998, "\r\n.\r\n", 6);
	h_feed(&h, line);
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok: queued as Q1\r\n");
	h_free(&h);

	h_init(&h);
	login(&h);
	memset(line, 'y', 999);
	memcpy(line + 999, "\r\n.\r\n", 6);
	h_feed(&h, line);
	H_CHECK_STR(h_replies(&h), "500 5.5.2 Error: message line too long\r\n");
	H_CHECK_STR(h_events(&h), "ERROR line_too_long; RSET data_failed");
	h_free(&h);

	/* the stuffing dot counts: it was sent */
	h_init(&h);
	login(&h);
	memset(line, '.', 999);
	memcpy(line + 999, "\r\n.\r\n", 6);
	h_feed(&h, line);
	H_CHECK_STR(h_replies(&h), "500 5.5.2 Error: message line too long\r\n");
	h_free(&h);

	/* no limit */
	h_init(&h);
	h.conf.max_text_line = 0;
	login(&h);
	memset(line, 'y', 1090);
	memcpy(line + 1090, "\r\n.\r\n", 6);
	h_feed(&h, line);
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok: queued as Q1\r\n");
	h_free(&h);
}

CP_TEST(smtpd_data_header_limit)
{
	h_session h;

	h_init(&h);
	h.conf.max_header_size = 40;
	login(&h);
	h_feed(&h, "Subject: 0123456789\r\nX-Long: 0123456789012345\r\n\r\nb\r\n"
	    ".\r\n");
	H_CHECK_STR(h_replies(&h), "552 5.3.4 Error: message header too big\r\n");
	H_CHECK_STR(h_events(&h), "ERROR header_size; RSET data_failed");
	h_free(&h);

	/* the limit is on the header: a long body is fine */
	h_init(&h);
	h.conf.max_header_size = 40;
	login(&h);
	h_feed(&h, "Subject: 0123456789\r\n\r\n0123456789012345678901234567890123"
	    "456789\r\n.\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok: queued as Q1\r\n");
	h_free(&h);
}

CP_TEST(smtpd_data_chunks)
{
	h_session h;
	static char body[5000];
	size_t n = 0;

	h_init(&h);
	h.conf.data_chunk_size = 16;
	h.conf.rewrite = 0;
	login(&h);
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		    "line %d of the body\r\n", i);
	h_feed(&h, body);
	h_feed(&h, ".\r\n");
	CP_CHECK_INT(h.last.len, n);
	CP_CHECK(h.last.data && memcmp(h.last.data, body, n) == 0, "body");
	CP_CHECK_INT(h.max_chunk, 16);
	CP_CHECK(h.nchunks >= n / 16, "chunks %u", h.nchunks);
	h_free(&h);

	/* with rewriting, a header field longer than a chunk */
	h_init(&h);
	h.conf.data_chunk_size = 8;
	login(&h);
	h_feed(&h, "Subject: a rather long subject line\r\n\r\nb\r\n.\r\n");
	H_CHECK_STR(h.last.data, RECEIVED "Subject: a rather long subject line\r\n"
	    DATE MSGID "\r\nb\r\n");
	CP_CHECK_INT(h.max_chunk, 8);
	h_free(&h);
}

CP_TEST(smtpd_data_received_variants)
{
	h_session h;

	/* HELO, no TLS, trusted peer, IPv6, no queue id */
	h_init(&h);
	h.peer.trusted = 1;
	h.peer.addr = "2001:db8::25";
	h.peer.name = NULL;
	h_start(&h);
	h.qseq = 0;
	h_rule_add(&h, CP_SMTPD_EV_MAIL, NULL, CP_SMTPD_ACCEPT, 0, NULL, NULL);
	h_feed(&h, "HELO old.example\r\nMAIL FROM:<a@a.example>\r\n"
	    "RCPT TO:<b@b.example>\r\nDATA\r\nMessage-ID: <m@x>\r\n\r\nb\r\n"
	    ".\r\n");
	H_CHECK_STR(h.last.data,
	    "Received: from old.example (unknown [IPv6:2001:db8::25])\r\n"
	    "\tby mx.test (coldpost) with SMTP;\r\n"
	    "\tThu, 01 Jan 2026 00:00:00 +0000\r\n"
	    "Message-ID: <m@x>\r\n" DATE "\r\nb\r\n");
	h_free(&h);

	/* implicit TLS without details, the user named, SMTPUTF8 */
	h_init(&h);
	h.peer.tls = 1;
	h.conf.received_auth_user = 1;
	h_start(&h);
	h_feed(&h, "EHLO we(ird)name\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"
	    "MAIL FROM:<alice@a.example> SMTPUTF8\r\nRCPT TO:<b@b.example>\r\n"
	    "DATA\r\nDate: x\r\nMessage-ID: y\r\n\r\n.\r\n");
	H_CHECK_STR(h.last.data,
	    "Received: from we_ird_name (client.example [192.0.2.10])\r\n"
	    "\t(using TLS)\r\n"
	    "\t(authenticated sender: alice)\r\n"
	    "\tby mx.test (coldpost) with UTF8SMTPSA id Q1;\r\n"
	    "\tThu, 01 Jan 2026 00:00:00 +0000\r\n"
	    "Date: x\r\nMessage-ID: y\r\n\r\n");
	h_free(&h);
}

CP_TEST(smtpd_data_random_msgid)
{
	h_session h;
	const char *m;

	h_init(&h);
	h.peer.trusted = 1;
	h_rule_add(&h, CP_SMTPD_EV_MAIL, NULL, CP_SMTPD_ACCEPT, 0, NULL, NULL);
	h_start(&h);
	h_feed(&h, "EHLO c\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n"
	    "DATA\r\nDate: x\r\n\r\n.\r\n");
	m = strstr(h.last.data ? h.last.data : "", "Message-ID: <20260101000000.");
	CP_CHECK(m != NULL, "no Message-ID in '%s'", h_esc(h.last.data));
	CP_CHECK(m && strlen(m) == strlen("Message-ID: <20260101000000."
	    "0123456789abcdef@mx.test>\r\n\r\n"), "id length");
	h_free(&h);
}

CP_TEST(smtpd_data_answers)
{
	h_session h;

	/* a store failure at the end: 451, and the transaction is over */
	h_init(&h);
	h_rule_add(&h, CP_SMTPD_EV_DATA_END, NULL, CP_SMTPD_TEMPFAIL, 0, NULL,
	    NULL);
	login(&h);
	h_feed(&h, "Subject: s\r\n\r\nb\r\n.\r\n");
	H_CHECK_STR(h_replies(&h), "451 4.3.0 Error: message not stored, try "
	    "again later\r\n");
	h_feed(&h, "RCPT TO:<b@b.example>\r\n");
	H_CHECK_STR(h_replies(&h), "503 5.5.1 Error: need MAIL command\r\n");
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->messages, 0);
	h_free(&h);

	/* a queue id given only at the end */
	h_init(&h);
	h.rules[h.nrules++] = (h_rule){ CP_SMTPD_EV_DATA_END, NULL,
		{ .verdict = CP_SMTPD_ACCEPT, .queue_id = "01JXYZ" } };
	login(&h);
	h_feed(&h, "\r\nb\r\n.\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok: queued as 01JXYZ\r\n");
	h_free(&h);

	/* DATA refused by the caller */
	h_init(&h);
	h_rule_add(&h, CP_SMTPD_EV_DATA, NULL, CP_SMTPD_REJECT, 0, NULL, NULL);
	h_start(&h);
	h_feed(&h, "EHLO c\r\nSTARTTLS\r\n");
	h_feed(&h, "EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"
	    "MAIL FROM:<alice@a.example>\r\nRCPT TO:<b@b.example>\r\n");
	h_replies(&h);
	h_events(&h);
	h_feed(&h, "DATA\r\nSubject: x\r\n");
	H_CHECK_STR(h_replies(&h), "554 5.7.1 Error: transaction refused\r\n"
	    "500 5.5.1 Error: command not recognized\r\n");
	H_CHECK_STR(h_events(&h), "DATA 1");
	h_free(&h);
}

/* A bare CR is known only at the next byte, which is then read again:
 * the line end it makes must reach the caller without waiting for more
 * input (found by fuzz_smtpd). */
CP_TEST(smtpd_data_bare_cr_progress)
{
	h_session h;

	h_init(&h);
	h.conf.rewrite = 0;
	h.conf.data_chunk_size = 1;
	login(&h);
	h_feed(&h, "a\r");
	h_feed(&h, "b");
	CP_CHECK_INT(h.msg.len, 4);
	CP_CHECK(h.msg.data && memcmp(h.msg.data, "a\r\nb", 4) == 0, "'%s'",
	    h_esc(h.msg.data ? h.msg.data : ""));
	h_free(&h);
}
