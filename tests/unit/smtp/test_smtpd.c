/*
 * Unit tests: src/smtp/smtpd_{conn,cmd,auth}.c - the submission core's
 * commands, sequence errors, pipelining, STARTTLS, AUTH and limits.
 * DATA and header rewriting: test_smtpd_data.c.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "cptest.h"
#include "smtpd_harness.h"

#define EHLO_PLAIN                                                           \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n"             \
	"250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n"
#define EHLO_PRE_TLS EHLO_PLAIN "250 STARTTLS\r\n"
#define EHLO_TLS EHLO_PLAIN "250 AUTH PLAIN LOGIN\r\n"
#define PLAIN_OK "AGFsaWNlAHNlY3JldA==" /* "\0alice\0secret" */
#define PLAIN_BAD "AGFsaWNlAHdyb25n"    /* "\0alice\0wrong" */

/* Greeting, EHLO, STARTTLS, EHLO, AUTH: ready for MAIL. */
static void
login(h_session *h)
{
	h_start(h);
	h_feed(h, "EHLO client.example\r\nSTARTTLS\r\n");
	h_feed(h, "EHLO client.example\r\nAUTH PLAIN " PLAIN_OK "\r\n");
	CP_CHECK(cp_smtpd_conn_stats(h->c)->authenticated, "not logged in");
	h_replies(h);
	h_events(h);
}

/* A session after login that sends one command: its reply. */
static const char *
one(h_session *h, const char *cmd)
{
	h_feed(h, cmd);
	return h_replies(h);
}

CP_TEST(smtpd_greeting)
{
	h_session h;

	h_init(&h);
	h_start(&h);
	H_CHECK_STR(h_replies(&h), "220 mx.test ESMTP coldpost\r\n");
	H_CHECK_STR(h_events(&h), "GREETING");
	CP_CHECK_INT(cp_smtpd_conn_timeout_ms(h.c), 300000);
	h_free(&h);
}

CP_TEST(smtpd_greeting_refused)
{
	h_session h;

	h_init(&h);
	h_rule_add(&h, CP_SMTPD_EV_GREETING, NULL, CP_SMTPD_REJECT, 0, NULL,
	    NULL);
	h_start(&h);
	H_CHECK_STR(h_replies(&h), "554 5.7.1 mx.test Service refused\r\n");
	/* RFC 5321 3.1: 503 to everything but QUIT */
	h_feed(&h, "EHLO x\r\nMAIL FROM:<a@b.example>\r\nQUIT\r\n");
	H_CHECK_STR(h_replies(&h),
	    "503 5.5.1 Error: service refused, send QUIT\r\n"
	    "503 5.5.1 Error: service refused, send QUIT\r\n"
	    "221 2.0.0 Bye\r\n");
	H_CHECK_STR(h_events(&h), "GREETING; QUIT; CLOSE quit");
	CP_CHECK(cp_smtpd_conn_closed(h.c), "not closed");
	h_free(&h);

	h_init(&h);
	h_rule_add(&h, CP_SMTPD_EV_GREETING, NULL, CP_SMTPD_TEMPFAIL, 0, NULL,
	    NULL);
	h_start(&h);
	H_CHECK_STR(h_replies(&h),
	    "421 4.3.2 mx.test Service not available\r\n");
	H_CHECK_STR(h_events(&h), "GREETING; CLOSE refused");
	h_free(&h);

	h_init(&h);
	h_rule_add(&h, CP_SMTPD_EV_GREETING, NULL, CP_SMTPD_REJECT, 554,
	    "5.7.1", "Blocked: 192.0.2.10 is listed");
	h.rules[0].answer.close = 1;
	h_start(&h);
	H_CHECK_STR(h_replies(&h), "554 5.7.1 Blocked: 192.0.2.10 is listed\r\n");
	H_CHECK_STR(h_events(&h), "GREETING; CLOSE refused");
	h_free(&h);
}

CP_TEST(smtpd_early_talker)
{
	h_session h;
	cp_smtpd_answer ok = { 0 };

	h_init(&h);
	h.manual = 1;
	h_start(&h);
	h_feed(&h, "EHLO fast.example\r\n");
	H_CHECK_STR(h_replies(&h), "");
	H_CHECK_STR(h_events(&h), "GREETING");
	CP_CHECK(cp_smtpd_conn_stats(h.c)->early_talker, "early talker");
	CP_CHECK_INT(cp_smtpd_conn_timeout_ms(h.c), 0); /* we are waiting */
	h_answer(&h, &ok);
	H_CHECK_STR(h_events(&h), "EHLO fast.example");
	h_answer(&h, &ok);
	H_CHECK_STR(h_replies(&h), "220 mx.test ESMTP coldpost\r\n" EHLO_PRE_TLS);
	h_free(&h);
}

CP_TEST(smtpd_ehlo_helo)
{
	h_session h;

	h_init(&h);
	h_start(&h);
	h_replies(&h);
	H_CHECK_STR(one(&h, "EHLO client.example\r\n"), EHLO_PRE_TLS);
	H_CHECK_STR(one(&h, "helo client.example\r\n"), "250 mx.test\r\n");
	H_CHECK_STR(one(&h, "EHLO\r\n"), "501 5.5.4 Syntax: EHLO hostname\r\n");
	H_CHECK_STR(one(&h, "HELO \r\n"), "501 5.5.4 Syntax: HELO hostname\r\n");
	H_CHECK_STR(h_events(&h), "GREETING; EHLO client.example; "
	    "HELO client.example");
	h_free(&h);

	/* implicit TLS: AUTH offered, STARTTLS not */
	h_init(&h);
	h.peer.tls = 1;
	h_start(&h);
	h_replies(&h);
	H_CHECK_STR(one(&h, "EHLO a\r\n"), EHLO_TLS);
	h_free(&h);

	/* no certificate, cleartext AUTH allowed for loopback */
	h_init(&h);
	h.conf.tls_available = 0;
	h.conf.auth_cleartext = CP_SMTPD_CLEAR_LOOPBACK;
	h.peer.loopback = 1;
	h_start(&h);
	h_replies(&h);
	H_CHECK_STR(one(&h, "EHLO a\r\n"), EHLO_PLAIN "250 AUTH PLAIN LOGIN\r\n");
	h_free(&h);

	/* the same conf for a peer that is not loopback: no AUTH */
	h_init(&h);
	h.conf.tls_available = 0;
	h.conf.auth_cleartext = CP_SMTPD_CLEAR_LOOPBACK;
	h_start(&h);
	h_replies(&h);
	H_CHECK_STR(one(&h, "EHLO a\r\n"),
	    "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n"
	    "250-8BITMIME\r\n250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n");
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_OK "\r\n"),
	    "538 5.7.11 Encryption required for requested authentication "
	    "mechanism\r\n");
	h_free(&h);
}

CP_TEST(smtpd_helo_refused)
{
	h_session h;

	h_init(&h);
	h.peer.trusted = 1;
	h_rule_add(&h, CP_SMTPD_EV_HELO, "localhost", CP_SMTPD_REJECT, 0, NULL,
	    NULL);
	h_start(&h);
	h_replies(&h);
	H_CHECK_STR(one(&h, "EHLO localhost\r\n"),
	    "550 5.7.1 Helo command rejected\r\n");
	H_CHECK_STR(one(&h, "MAIL FROM:<a@b.example>\r\n"),
	    "503 5.5.1 Error: send HELO/EHLO first\r\n");
	h_free(&h);
}

CP_TEST(smtpd_sequence)
{
	h_session h;

	h_init(&h);
	h.peer.trusted = 1; /* no AUTH needed */
	h_start(&h);
	h_replies(&h);
	H_CHECK_STR(one(&h, "MAIL FROM:<a@b.example>\r\n"),
	    "503 5.5.1 Error: send HELO/EHLO first\r\n");
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	H_CHECK_STR(one(&h, "RCPT TO:<r@d.example>\r\n"),
	    "503 5.5.1 Error: need MAIL command\r\n");
	H_CHECK_STR(one(&h, "DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
	H_CHECK_STR(one(&h, "MAIL FROM:<a@b.example>\r\n"), "250 2.1.0 Ok\r\n");
	H_CHECK_STR(one(&h, "MAIL FROM:<a@b.example>\r\n"),
	    "503 5.5.1 Error: nested MAIL command\r\n");
	H_CHECK_STR(one(&h, "DATA\r\n"), "554 5.5.1 Error: no valid recipients\r\n");
	H_CHECK_STR(one(&h, "DATA x\r\n"), "501 5.5.4 Syntax: DATA\r\n");
	H_CHECK_STR(one(&h, "STARTTLS\r\n"),
	    "503 5.5.1 Error: MAIL transaction in progress\r\n");
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->bad_commands, 6);
	/* EHLO inside a transaction resets it (RFC 5321 4.1.4) */
	h_events(&h);
	h_feed(&h, "EHLO c\r\nRCPT TO:<r@d.example>\r\n");
	H_CHECK_STR(h_events(&h), "RSET helo; EHLO c");
	h_free(&h);
}

CP_TEST(smtpd_auth_required)
{
	h_session h;

	h_init(&h);
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	H_CHECK_STR(one(&h, "MAIL FROM:<a@b.example>\r\n"),
	    "530 5.7.0 Authentication required\r\n");
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->bad_commands, 0);
	h_free(&h);

	h_init(&h);
	h.conf.require_auth = 0;
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	H_CHECK_STR(one(&h, "MAIL FROM:<a@b.example>\r\n"), "250 2.1.0 Ok\r\n");
	h_free(&h);
}

static const struct {
	const char *cmd, *reply, *event;
} mail_cases[] = {
	{ "MAIL FROM:<a@b.example>", "250 2.1.0 Ok", "MAIL <a@b.example>" },
	{ "mail from:<a@b.example>", "250 2.1.0 Ok", "MAIL <a@b.example>" },
	{ "MAIL FROM: <a@b.example>", "250 2.1.0 Ok", "MAIL <a@b.example>" },
	{ "MAIL FROM:<>", "250 2.1.0 Ok", "MAIL <>" },
	{ "MAIL FROM:<a@b.example> SIZE=1000", "250 2.1.0 Ok",
	    "MAIL <a@b.example> size=1000" },
	{ "MAIL FROM:<a@b.example> BODY=8BITMIME", "250 2.1.0 Ok",
	    "MAIL <a@b.example> 8bitmime" },
	{ "MAIL FROM:<a@b.example> body=7bit size=5", "250 2.1.0 Ok",
	    "MAIL <a@b.example> size=5 7bit" },
	{ "MAIL FROM:<a@b.example> SMTPUTF8", "250 2.1.0 Ok",
	    "MAIL <a@b.example> smtputf8" },
	{ "MAIL FROM:<j\xc3\xb6rg@b\xc3\xa4r.example> SMTPUTF8 BODY=8BITMIME",
	    "250 2.1.0 Ok",
	    "MAIL <j\xc3\xb6rg@b\xc3\xa4r.example> 8bitmime smtputf8" },
	{ "MAIL FROM:<a@b.example> AUTH=<>", "250 2.1.0 Ok",
	    "MAIL <a@b.example>" },
	{ "MAIL FROM:<@r1.example,@r2.example:a@b.example>", "250 2.1.0 Ok",
	    "MAIL <a@b.example>" },
	{ "MAIL FROM:<\"a b\\\"c\"@b.example>", "250 2.1.0 Ok",
	    "MAIL <\"a b\\\"c\"@b.example>" },
	{ "MAIL FROM:<a@[192.0.2.1]>", "250 2.1.0 Ok", "MAIL <a@[192.0.2.1]>" },
	{ "MAIL FROM:<a.b+tag@sub_1.b-c.example>", "250 2.1.0 Ok",
	    "MAIL <a.b+tag@sub_1.b-c.example>" },
	{ "MAIL FROM:<a@b.example>   ", "250 2.1.0 Ok", "MAIL <a@b.example>" },
	/* refusals */
	{ "MAIL FROM:<a@b.example> SIZE=26214401",
	    "552 5.3.4 Message size exceeds fixed maximum message size",
	    "ERROR message_size" },
	{ "MAIL FROM:<a@b.example> SIZE=99999999999999999999",
	    "552 5.3.4 Message size exceeds fixed maximum message size",
	    "ERROR message_size" },
	{ "MAIL FROM:<j\xc3\xb6rg@b.example>",
	    "553 5.6.7 Non-ASCII address needs SMTPUTF8", "" },
	/* syntax */
	{ "MAIL FROM:a@b.example", "501 5.1.7 Bad sender address syntax", "" },
	{ "MAIL FROM:<a@b.example", "501 5.1.7 Bad sender address syntax", "" },
	{ "MAIL FROM:<a@b.example>x", "501 5.1.7 Bad sender address syntax",
	    "" },
	{ "MAIL FROM:<@b.example>", "501 5.1.7 Bad sender address syntax", "" },
	{ "MAIL FROM:<a..b@c.example>", "501 5.1.7 Bad sender address syntax",
	    "" },
	{ "MAIL FROM:<.a@c.example>", "501 5.1.7 Bad sender address syntax",
	    "" },
	{ "MAIL FROM:<a@-b.example>", "501 5.1.7 Bad sender address syntax",
	    "" },
	{ "MAIL FROM:<a@b-.example>", "501 5.1.7 Bad sender address syntax",
	    "" },
	{ "MAIL FROM:<a@b.example.>", "501 5.1.7 Bad sender address syntax",
	    "" },
	{ "MAIL FROM:<a@b..example>", "501 5.1.7 Bad sender address syntax",
	    "" },
	{ "MAIL FROM:<a@>", "501 5.1.7 Bad sender address syntax", "" },
	{ "MAIL FROM:<a@[]>", "501 5.1.7 Bad sender address syntax", "" },
	{ "MAIL FROM:<a b@c.example>", "501 5.1.7 Bad sender address syntax",
	    "" },
	{ "MAIL FROM:<postmaster>", "501 5.1.7 Bad sender address syntax", "" },
	{ "MAIL FROM:<\"unterminated@c.example>",
	    "501 5.1.7 Bad sender address syntax", "" },
	{ "MAIL FROM:<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaa@c.example>", "501 5.1.7 Bad sender address syntax", "" },
	{ "MAIL TO:<a@b.example>", "501 5.5.4 Syntax: MAIL FROM:<address>", "" },
	{ "MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>", "" },
	{ "MAIL FROM:<a@b.example> SIZE=12x", "501 5.5.4 Bad SIZE parameter",
	    "" },
	{ "MAIL FROM:<a@b.example> SIZE=", "501 5.5.4 Bad parameter syntax",
	    "" },
	{ "MAIL FROM:<a@b.example> =1", "501 5.5.4 Bad parameter syntax", "" },
	{ "MAIL FROM:<a@b.example> BODY=BINARYMIME",
	    "555 5.5.4 Unsupported BODY value", "" },
	{ "MAIL FROM:<a@b.example> RET=HDRS",
	    "555 5.5.4 Unsupported or repeated parameter", "" },
	{ "MAIL FROM:<a@b.example> SIZE=1 SIZE=2",
	    "555 5.5.4 Unsupported or repeated parameter", "" },
	{ "MAIL FROM:<a@b.example> SMTPUTF8=yes",
	    "555 5.5.4 Unsupported or repeated parameter", "" },
};

CP_TEST(smtpd_mail)
{
	for (size_t i = 0; i < CP_NELEM(mail_cases); i++) {
		h_session h;
		char cmd[600], want[300];

		h_init(&h);
		login(&h);
		snprintf(cmd, sizeof(cmd), "%s\r\n", mail_cases[i].cmd);
		snprintf(want, sizeof(want), "%s\r\n", mail_cases[i].reply);
		h_feed(&h, cmd);
		if (strcmp(h_replies(&h), want) != 0 ||
		    strcmp(h_events(&h), mail_cases[i].event) != 0)
			cptest_fail(__FILE__, __LINE__, "case %zu (%s): reply "
			    "or event differ", i, h_esc(mail_cases[i].cmd));
		h_free(&h);
	}
}

CP_TEST(smtpd_rcpt)
{
	h_session h;

	h_init(&h);
	h.conf.max_recipients = 3;
	h_rule_add(&h, CP_SMTPD_EV_RCPT, "blocked", CP_SMTPD_REJECT, 550,
	    "5.7.1", "Recipient suppressed");
	h_rule_add(&h, CP_SMTPD_EV_RCPT, "later", CP_SMTPD_TEMPFAIL, 0, NULL,
	    NULL);
	login(&h);
	h_feed(&h, "MAIL FROM:<alice@a.example>\r\n");
	h_replies(&h);
	H_CHECK_STR(one(&h, "RCPT TO:<r1@d.example>\r\n"), "250 2.1.5 Ok\r\n");
	H_CHECK_STR(one(&h, "RCPT TO:<Postmaster>\r\n"), "250 2.1.5 Ok\r\n");
	H_CHECK_STR(one(&h, "rcpt to:<blocked@d.example>\r\n"),
	    "550 5.7.1 Recipient suppressed\r\n");
	H_CHECK_STR(one(&h, "RCPT TO:<later@d.example>\r\n"),
	    "451 4.3.0 Error: try again later\r\n");
	H_CHECK_STR(one(&h, "RCPT TO:<>\r\n"),
	    "501 5.1.3 Bad recipient address syntax\r\n");
	H_CHECK_STR(one(&h, "RCPT TO:<r@d.example> NOTIFY=SUCCESS\r\n"),
	    "555 5.5.4 Unsupported parameter\r\n");
	H_CHECK_STR(one(&h, "RCPT FROM:<r@d.example>\r\n"),
	    "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
	H_CHECK_STR(one(&h, "RCPT TO:<j\xc3\xb6rg@d.example>\r\n"),
	    "553 5.6.7 Non-ASCII address needs SMTPUTF8\r\n");
	H_CHECK_STR(one(&h, "RCPT TO:<r3@d.example>\r\n"), "250 2.1.5 Ok\r\n");
	/* RFC 5321 4.5.3.1.10: 452, and the client sends the rest later */
	H_CHECK_STR(one(&h, "RCPT TO:<r4@d.example>\r\n"),
	    "452 4.5.3 Error: too many recipients\r\n");
	H_CHECK_STR(h_events(&h), "MAIL <alice@a.example>; RCPT <r1@d.example> #0; "
	    "RCPT <Postmaster> #1; RCPT <blocked@d.example> #2; "
	    "RCPT <later@d.example> #2; RCPT <r3@d.example> #2; "
	    "ERROR recipients");
	h_feed(&h, "DATA\r\n");
	H_CHECK_STR(h_events(&h), "DATA 3");
	h_free(&h);
}

CP_TEST(smtpd_small_commands)
{
	h_session h;

	h_init(&h);
	h.peer.trusted = 1;
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	H_CHECK_STR(one(&h, "NOOP\r\n"), "250 2.0.0 Ok\r\n");
	H_CHECK_STR(one(&h, "NOOP anything\r\n"), "250 2.0.0 Ok\r\n");
	H_CHECK_STR(one(&h, "VRFY alice\r\n"), "252 2.5.2 Cannot VRFY user, but "
	    "will accept message and attempt delivery\r\n");
	H_CHECK_STR(one(&h, "VRFY\r\n"), "501 5.5.4 Syntax: VRFY address\r\n");
	H_CHECK_STR(one(&h, "HELP\r\n"), "214 2.0.0 Commands: EHLO HELO MAIL "
	    "RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH\r\n");
	H_CHECK_STR(one(&h, "EXPN list\r\n"),
	    "502 5.5.1 Error: command not implemented\r\n");
	H_CHECK_STR(one(&h, "BDAT 100 LAST\r\n"),
	    "500 5.5.1 Error: command not recognized\r\n");
	H_CHECK_STR(one(&h, "\r\n"), "500 5.5.1 Error: command not recognized\r\n");
	H_CHECK_STR(one(&h, "RSET x\r\n"),
	    "501 5.5.4 Syntax error: no parameters allowed\r\n");
	h_events(&h);
	H_CHECK_STR(one(&h, "RSET\r\n"), "250 2.0.0 Ok\r\n");
	H_CHECK_STR(h_events(&h), ""); /* no transaction: no RSET event */
	h_feed(&h, "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
	h_replies(&h);
	h_events(&h);
	H_CHECK_STR(one(&h, "rset\r\n"), "250 2.0.0 Ok\r\n");
	H_CHECK_STR(h_events(&h), "RSET command");
	H_CHECK_STR(one(&h, "RCPT TO:<c@d.example>\r\n"),
	    "503 5.5.1 Error: need MAIL command\r\n");
	/* a bare LF ends a command line too */
	H_CHECK_STR(one(&h, "NOOP\n"), "250 2.0.0 Ok\r\n");
	H_CHECK_STR(one(&h, "QUIT\r\nNOOP\r\n"), "221 2.0.0 Bye\r\n");
	H_CHECK_STR(h_events(&h), "QUIT; CLOSE quit");
	CP_CHECK(cp_smtpd_conn_closed(h.c), "closed after QUIT");
	CP_CHECK_INT(cp_smtpd_conn_timeout_ms(h.c), 0);
	h_feed(&h, "NOOP\r\n");
	H_CHECK_STR(h_replies(&h), "");
	h_free(&h);
}

CP_TEST(smtpd_bad_characters)
{
	h_session h;

	h_init(&h);
	h_start(&h);
	h_replies(&h);
	h_feedn(&h, "NO\0OP\r\n", 7);
	H_CHECK_STR(h_replies(&h), "500 5.5.2 Error: bad character in command\r\n");
	H_CHECK_STR(one(&h, "NO\rOP\r\n"),
	    "500 5.5.2 Error: bad character in command\r\n");
	h_free(&h);
}

CP_TEST(smtpd_bad_command_limit)
{
	h_session h;

	h_init(&h);
	h.conf.max_bad_commands = 3;
	h_start(&h);
	h_replies(&h);
	h_events(&h);
	h_feed(&h, "FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n");
	H_CHECK_STR(h_replies(&h),
	    "500 5.5.1 Error: command not recognized\r\n"
	    "500 5.5.1 Error: command not recognized\r\n"
	    "421 4.7.0 mx.test Error: too many errors\r\n");
	H_CHECK_STR(h_events(&h), "ERROR bad_commands fatal; CLOSE bad_commands");
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->discarded, 6); /* "NOOP\r\n" */
	h_free(&h);
}

CP_TEST(smtpd_junk_limit)
{
	h_session h;

	h_init(&h);
	h.peer.trusted = 1;
	h.conf.max_junk_commands = 3;
	h.conf.max_bad_commands = 2;
	h_start(&h);
	h_replies(&h);
	h_feed(&h, "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
	    "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
	    "421 4.7.0 mx.test Error: too many errors\r\n");
	h_free(&h);
}

CP_TEST(smtpd_preauth_limit)
{
	h_session h;

	h_init(&h);
	h.conf.max_preauth_commands = 3;
	h_start(&h);
	h_replies(&h);
	h_events(&h);
	h_feed(&h, "EHLO a\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
	H_CHECK_STR(h_replies(&h), EHLO_PRE_TLS "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
	    "421 4.7.0 mx.test Error: too many commands before "
	    "authentication\r\n");
	H_CHECK_STR(h_events(&h), "EHLO a; ERROR preauth fatal; CLOSE preauth");
	h_free(&h);

	/* a trusted peer is not counted; nor is anyone after AUTH */
	h_init(&h);
	h.conf.max_preauth_commands = 3;
	h.peer.trusted = 1;
	h_start(&h);
	h_feed(&h, "EHLO a\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
	CP_CHECK(!cp_smtpd_conn_closed(h.c), "trusted peer closed");
	h_free(&h);

	h_init(&h);
	h.conf.max_preauth_commands = 4;
	login(&h); /* EHLO STARTTLS EHLO AUTH */
	h_feed(&h, "NOOP\r\nNOOP\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
	h_free(&h);
}

CP_TEST(smtpd_http_probe)
{
	h_session h;

	h_init(&h);
	h_start(&h);
	h_replies(&h);
	h_events(&h);
	h_feed(&h, "GET / HTTP/1.1\r\nHost: mx.test\r\n\r\n");
	H_CHECK_STR(h_replies(&h), "421 4.7.0 mx.test Error: not an SMTP client\r\n");
	H_CHECK_STR(h_events(&h), "ERROR http fatal; CLOSE http");
	h_free(&h);
}

CP_TEST(smtpd_line_too_long)
{
	h_session h;
	char line[700];

	h_init(&h);
	h.peer.trusted = 1;
	h_start(&h);
	h_replies(&h);
	h_events(&h);
	/* 511 bytes + CRLF: one too many (RFC 5321 4.5.3.1.4: 512 with CRLF) */
	memset(line, 'x', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + 511, "\r\n", 3);
	H_CHECK_STR(one(&h, line), "500 5.5.2 Error: line too long\r\n");
	memcpy(line + 510, "\r\n", 3); /* exactly 512 */
	H_CHECK_STR(one(&h, line), "250 2.0.0 Ok\r\n");
	/* no LF yet, fed in pieces: refused once, the rest skipped */
	memset(line, 'y', 100);
	for (int i = 0; i < 8; i++)
		h_feedn(&h, line, 100);
	h_feed(&h, "yyy\r\nNOOP\r\n");
	H_CHECK_STR(h_replies(&h), "500 5.5.2 Error: line too long\r\n"
	    "250 2.0.0 Ok\r\n");
	H_CHECK_STR(h_events(&h), "ERROR line_too_long; ERROR line_too_long");
	h_free(&h);
}

CP_TEST(smtpd_pipelining)
{
	h_session h;
	cp_smtpd_answer ok = { 0 }, no = { .verdict = CP_SMTPD_REJECT };

	h_init(&h);
	h.peer.trusted = 1;
	h_start(&h);
	h_replies(&h);
	h_events(&h);
	h.manual = 1;
	/* RFC 2920: one packet, replies in order, each after its answer */
	h_feed(&h, "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<r1@d.example>\r\n"
	    "RCPT TO:<r2@d.example>\r\nRCPT TO:<r3@d.example>\r\nDATA\r\n");
	H_CHECK_STR(h_events(&h), "EHLO c");
	H_CHECK_STR(h_replies(&h), "");
	h_answer(&h, &ok);
	H_CHECK_STR(h_events(&h), "MAIL <a@b.example>");
	h_answer(&h, &ok);
	h_answer(&h, &ok);
	h_answer(&h, &no);
	H_CHECK_STR(h_events(&h), "RCPT <r1@d.example> #0; RCPT <r2@d.example> #1; "
	    "RCPT <r3@d.example> #1");
	/* input fed while an answer is due waits its turn */
	h_feed(&h, "Subject: pipelined\r\n");
	H_CHECK_STR(h_events(&h), "");
	h_answer(&h, &ok);
	H_CHECK_STR(h_events(&h), "DATA 2");
	h_answer(&h, &ok);
	H_CHECK_STR(h_replies(&h), EHLO_PRE_TLS "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "550 5.7.1 Recipient address rejected\r\n"
	    "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	h_free(&h);
}

CP_TEST(smtpd_input_room)
{
	h_session h;
	static char big[70000];

	h_init(&h);
	h.manual = 1;
	h_start(&h); /* the greeting answer is due: nothing is read */
	memset(big, 'N', sizeof(big));
	CP_CHECK_INT(cp_smtpd_conn_input_room(h.c), 65536);
	CP_CHECK_INT(cp_smtpd_conn_feed(h.c, big, sizeof(big)), CP_ETOOBIG);
	CP_CHECK_INT(cp_smtpd_conn_feed(h.c, big, 65000), CP_OK);
	CP_CHECK_INT(cp_smtpd_conn_input_room(h.c), 536);
	h_free(&h);
}

CP_TEST(smtpd_output_backpressure)
{
	h_session h;
	const char *p;
	size_t n;
	char buf[400];

	h_init(&h);
	h.peer.trusted = 1;
	h.conf.max_output = 40;
	h.conf.max_junk_commands = 0;
	h_start(&h);
	h_replies(&h);
	h.no_drain = 1;
	buf[0] = '\0';
	for (int i = 0; i < 20; i++)
		strcat(buf, "NOOP\r\n");
	h_feed(&h, buf);
	n = cp_smtpd_conn_output(h.c, &p);
	CP_CHECK(n >= 40 && n < 40 + 16, "output %zu", n);
	/* drained, the core goes on */
	h.no_drain = 0;
	cp_smtpd_conn_consumed(h.c, n);
	h_pump(&h);
	CP_CHECK_INT(strlen(h_replies(&h)) + n, 20 * 14);
	h_free(&h);
}

CP_TEST(smtpd_starttls)
{
	h_session h;

	h_init(&h);
	h_start(&h);
	h_replies(&h);
	h_events(&h);
	H_CHECK_STR(one(&h, "STARTTLS now\r\n"), "501 5.5.4 Syntax: STARTTLS\r\n");
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	h_events(&h);
	H_CHECK_STR(one(&h, "STARTTLS\r\n"), "220 2.0.0 Ready to start TLS\r\n");
	H_CHECK_STR(h_events(&h), "STARTTLS");
	CP_CHECK(cp_smtpd_conn_stats(h.c)->tls, "tls");
	/* RFC 3207 4.2: the EHLO before does not count any more */
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_OK "\r\n"),
	    "503 5.5.1 Error: send EHLO first\r\n");
	H_CHECK_STR(one(&h, "EHLO c\r\n"), EHLO_TLS);
	H_CHECK_STR(one(&h, "STARTTLS\r\n"), "503 5.5.1 Error: TLS already active\r\n");
	h_free(&h);

	h_init(&h);
	h.conf.tls_available = 0;
	h_start(&h);
	h_replies(&h);
	H_CHECK_STR(one(&h, "STARTTLS\r\n"),
	    "502 5.5.1 Error: command not implemented\r\n");
	h_free(&h);
}

CP_TEST(smtpd_starttls_injection)
{
	h_session h;

	h_init(&h);
	h.auto_tls = 0;
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	h_events(&h);
	/* CVE-2011-0411: commands pipelined behind STARTTLS in cleartext */
	h_feed(&h, "STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x.example>\r\n");
	H_CHECK_STR(h_replies(&h), "220 2.0.0 Ready to start TLS\r\n");
	H_CHECK_STR(h_events(&h), "ERROR injection; STARTTLS");
	/* and whatever comes before the handshake is done */
	h_feed(&h, "NOOP\r\n");
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->discarded, 34 + 6);
	CP_CHECK_INT(cp_smtpd_conn_timeout_ms(h.c), 300000);
	cp_smtpd_conn_tls_started(h.c, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
	h_pump(&h);
	H_CHECK_STR(h_replies(&h), "");
	H_CHECK_STR(h_events(&h), "");
	H_CHECK_STR(one(&h, "NOOP\r\n"), "250 2.0.0 Ok\r\n");
	h_free(&h);

	/* a handshake that times out: no cleartext 421 inside TLS */
	h_init(&h);
	h.auto_tls = 0;
	h_start(&h);
	h_feed(&h, "EHLO c\r\nSTARTTLS\r\n");
	h_replies(&h);
	h_events(&h);
	cp_smtpd_conn_timeout(h.c);
	h_pump(&h);
	H_CHECK_STR(h_replies(&h), "");
	H_CHECK_STR(h_events(&h), "CLOSE timeout");
	cp_smtpd_conn_tls_started(h.c, "TLSv1.3", "X"); /* too late: ignored */
	CP_CHECK(cp_smtpd_conn_closed(h.c), "reopened");
	h_free(&h);
}

CP_TEST(smtpd_auth_plain)
{
	h_session h;

	h_init(&h);
	h.peer.tls = 1;
	h_start(&h);
	h_replies(&h);
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_OK "\r\n"),
	    "503 5.5.1 Error: send EHLO first\r\n");
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	h_events(&h);
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_OK "\r\n"),
	    "235 2.7.0 Authentication successful\r\n");
	H_CHECK_STR(h_events(&h), "AUTH PLAIN [] alice secret");
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_OK "\r\n"),
	    "503 5.5.1 Error: already authenticated\r\n");
	h_free(&h);

	/* no initial response: an empty challenge; an authzid */
	h_init(&h);
	h.peer.tls = 1;
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	h_events(&h);
	H_CHECK_STR(one(&h, "auth plain\r\n"), "334 \r\n");
	H_CHECK_STR(one(&h, "YWRtaW4AYWxpY2UAc2VjcmV0\r\n"),
	    "235 2.7.0 Authentication successful\r\n");
	H_CHECK_STR(h_events(&h), "AUTH PLAIN [admin] alice secret");
	h_free(&h);
}

static const struct {
	const char *lines, *reply;
	unsigned bad;
} auth_bad_cases[] = {
	{ "AUTH PLAIN AGFsaWNlAHNlY3JldA=\r\n", "501 5.5.2 Cannot decode response", 1 },
	{ "AUTH PLAIN AGFsa*WNlAHNlY3JldA==\r\n", "501 5.5.2 Cannot decode response", 1 },
	{ "AUTH PLAIN AGFsaWNlAHNlY3Jld=A=\r\n", "501 5.5.2 Cannot decode response", 1 },
	{ "AUTH PLAIN\r\nAGFsaWNl AHNlY3JldA==\r\n", "334 \r\n501 5.5.2 Cannot decode response", 1 },
	{ "AUTH PLAIN YWxpY2UAc2VjcmV0\r\n", "501 5.5.2 Invalid PLAIN response", 1 },
	{ "AUTH PLAIN AABzZWNyZXQ=\r\n", "501 5.5.2 Invalid PLAIN response", 1 },
	{ "AUTH PLAIN AGFsaWNlAA==\r\n", "501 5.5.2 Invalid PLAIN response", 1 },
	{ "AUTH PLAIN =\r\n", "501 5.5.2 Invalid PLAIN response", 1 },
	{ "AUTH PLAIN\r\n*\r\n", "334 \r\n501 5.7.0 Authentication aborted", 0 },
	{ "AUTH CRAM-MD5\r\n", "504 5.5.4 Unrecognized authentication type", 1 },
	{ "AUTH\r\n", "501 5.5.4 Syntax: AUTH mechanism [initial-response]", 1 },
	{ "AUTH PLAIN a b\r\n", "501 5.5.4 Syntax: AUTH mechanism [initial-response]", 1 },
	{ "AUTH LOGIN\r\n*\r\n", "334 VXNlcm5hbWU6\r\n501 5.7.0 Authentication aborted", 0 },
	{ "AUTH LOGIN YWxpY2U=\r\n*\r\n", "334 UGFzc3dvcmQ6\r\n501 5.7.0 Authentication aborted", 0 },
	{ "AUTH LOGIN =\r\n", "501 5.5.2 Invalid LOGIN response", 1 },
	{ "AUTH LOGIN AGFs\r\n", "501 5.5.2 Invalid LOGIN response", 1 },
};

CP_TEST(smtpd_auth_errors)
{
	for (size_t i = 0; i < CP_NELEM(auth_bad_cases); i++) {
		h_session h;
		char want[300];

		h_init(&h);
		h.peer.tls = 1;
		h_start(&h);
		h_feed(&h, "EHLO c\r\n");
		h_replies(&h);
		h_events(&h);
		h_feed(&h, auth_bad_cases[i].lines);
		snprintf(want, sizeof(want), "%s\r\n", auth_bad_cases[i].reply);
		if (strcmp(h_replies(&h), want) != 0 || strcmp(h_events(&h), "") ||
		    cp_smtpd_conn_stats(h.c)->bad_commands != auth_bad_cases[i].bad)
			cptest_fail(__FILE__, __LINE__, "case %zu (%s): reply, "
			    "event or count differ", i,
			    h_esc(auth_bad_cases[i].lines));
		/* the session goes on: commands again, not SASL lines */
		H_CHECK_STR(one(&h, "NOOP\r\n"), "250 2.0.0 Ok\r\n");
		h_free(&h);
	}
}

CP_TEST(smtpd_auth_login)
{
	h_session h;

	h_init(&h);
	h.peer.tls = 1;
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	h_events(&h);
	H_CHECK_STR(one(&h, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
	H_CHECK_STR(one(&h, "YWxpY2U=\r\n"), "334 UGFzc3dvcmQ6\r\n");
	H_CHECK_STR(one(&h, "c2VjcmV0\r\n"), "235 2.7.0 Authentication successful\r\n");
	H_CHECK_STR(h_events(&h), "AUTH LOGIN [] alice secret");
	h_free(&h);

	/* initial response carries the user name; pipelined password */
	h_init(&h);
	h.peer.tls = 1;
	h_start(&h);
	h_replies(&h);
	h_events(&h);
	h_feed(&h, "EHLO c\r\nAUTH LOGIN YWxpY2U=\r\nc2VjcmV0\r\n");
	H_CHECK_STR(h_replies(&h), EHLO_TLS "334 UGFzc3dvcmQ6\r\n"
	    "235 2.7.0 Authentication successful\r\n");
	H_CHECK_STR(h_events(&h), "EHLO c; AUTH LOGIN [] alice secret");
	h_free(&h);
}

CP_TEST(smtpd_auth_failures)
{
	h_session h;

	h_init(&h);
	h.peer.tls = 1;
	h.conf.max_auth_failures = 3;
	h.conf.auth_delay_ms = 500;
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	h_events(&h);
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_BAD "\r\n"),
	    "535 5.7.8 Authentication credentials invalid\r\n");
	H_CHECK_STR(h_events(&h), "AUTH PLAIN [] alice wrong; DELAY 500");
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_BAD "\r\n"),
	    "535 5.7.8 Authentication credentials invalid\r\n");
	H_CHECK_STR(h_events(&h), "AUTH PLAIN [] alice wrong; DELAY 1000");
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_BAD "\r\n"),
	    "421 4.7.0 mx.test Error: too many authentication failures\r\n");
	H_CHECK_STR(h_events(&h), "AUTH PLAIN [] alice wrong; "
	    "ERROR auth_failures fatal; CLOSE auth_failures");
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->auth_failures, 3);
	h_free(&h);

	/* a store failure is 454 and no strike */
	h_init(&h);
	h.peer.tls = 1;
	h_rule_add(&h, CP_SMTPD_EV_AUTH, NULL, CP_SMTPD_TEMPFAIL, 0, NULL, NULL);
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_OK "\r\n"),
	    "454 4.7.0 Temporary authentication failure\r\n");
	CP_CHECK_INT(cp_smtpd_conn_stats(h.c)->auth_failures, 0);
	h_free(&h);
}

CP_TEST(smtpd_auth_in_transaction)
{
	h_session h;

	h_init(&h);
	h.peer.trusted = 1;
	h.peer.tls = 1;
	h_start(&h);
	h_feed(&h, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
	h_replies(&h);
	H_CHECK_STR(one(&h, "AUTH PLAIN " PLAIN_OK "\r\n"),
	    "503 5.5.1 Error: MAIL transaction in progress\r\n");
	h_free(&h);
}

CP_TEST(smtpd_auth_long_line)
{
	h_session h;
	char line[13000];
	size_t n;

	/* RFC 4954 4: AUTH lines may be longer than 512 */
	h_init(&h);
	h.peer.tls = 1;
	h_start(&h);
	h_feed(&h, "EHLO c\r\n");
	h_replies(&h);
	n = (size_t)snprintf(line, sizeof(line), "AUTH PLAIN ");
	memset(line + n, 'A', 8000);
	memcpy(line + n + 8000, "\r\n", 3);
	H_CHECK_STR(one(&h, line), "501 5.5.2 Invalid PLAIN response\r\n");
	memset(line + n, 'A', 12300);
	memcpy(line + n + 12300, "\r\n", 3);
	H_CHECK_STR(one(&h, line), "500 5.5.2 Error: line too long\r\n");
	h_free(&h);
}

CP_TEST(smtpd_answer_overrides)
{
	h_session h;

	h_init(&h);
	h_rule_add(&h, CP_SMTPD_EV_MAIL, "other", CP_SMTPD_REJECT, 553, NULL,
	    "Sender not owned by authenticated user");
	h_rule_add(&h, CP_SMTPD_EV_MAIL, "gone", CP_SMTPD_REJECT, 0, NULL, NULL);
	h.rules[1].answer.close = 1;
	login(&h);
	H_CHECK_STR(one(&h, "MAIL FROM:<x@other.example>\r\n"),
	    "553 5.0.0 Sender not owned by authenticated user\r\n");
	h.rules[0].answer.enhanced = "5.7.1";
	H_CHECK_STR(one(&h, "MAIL FROM:<x@other.example>\r\n"),
	    "553 5.7.1 Sender not owned by authenticated user\r\n");
	h.rules[0].answer.text = "line\r\nbreak\x01 and 8bit \xc3\xa9";
	H_CHECK_STR(one(&h, "MAIL FROM:<x@other.example>\r\n"),
	    "553 5.7.1 line  break  and 8bit ??\r\n");
	h_events(&h);
	H_CHECK_STR(one(&h, "MAIL FROM:<x@gone.example>\r\n"),
	    "550 5.7.1 Sender address rejected\r\n");
	H_CHECK_STR(h_events(&h), "MAIL <x@gone.example>; CLOSE refused");
	h_free(&h);
}

CP_TEST(smtpd_timeout_eof_shutdown)
{
	h_session h;
	cp_smtpd_answer ok = { 0 };

	h_init(&h);
	login(&h);
	h_feed(&h, "MAIL FROM:<alice@a.example>\r\nRCPT TO:<r@d.example>\r\n"
	    "DATA\r\n");
	CP_CHECK_INT(cp_smtpd_conn_timeout_ms(h.c), 300000);
	h_replies(&h);
	h_events(&h);
	cp_smtpd_conn_timeout(h.c);
	h_pump(&h);
	H_CHECK_STR(h_replies(&h), "421 4.4.2 mx.test Error: timeout exceeded\r\n");
	H_CHECK_STR(h_events(&h), "RSET timeout; CLOSE timeout");
	h_free(&h);

	/* EOF while the caller commits: the late answer is taken quietly */
	h_init(&h);
	login(&h);
	h.manual = 1;
	h_feed(&h, "MAIL FROM:<alice@a.example>\r\n");
	h_answer(&h, &ok);
	h_feed(&h, "RCPT TO:<r@d.example>\r\n");
	h_answer(&h, &ok);
	h_feed(&h, "DATA\r\n");
	h_answer(&h, &ok);
	h_feed(&h, "Subject: x\r\n\r\nhi\r\n.\r\n");
	h_events(&h);
	cp_smtpd_conn_eof(h.c);
	h_pump(&h);
	H_CHECK_STR(h_events(&h), "RSET eof; CLOSE eof");
	h_answer(&h, &ok);
	H_CHECK_STR(h_replies(&h), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	h_free(&h);

	/* shutdown waits for the transaction to end */
	h_init(&h);
	login(&h);
	h_feed(&h, "MAIL FROM:<alice@a.example>\r\n");
	cp_smtpd_conn_shutdown(h.c);
	h_feed(&h, "RCPT TO:<r@d.example>\r\nDATA\r\n.\r\n");
	H_CHECK_STR(h_replies(&h), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as Q1\r\n"
	    "421 4.3.2 mx.test Service shutting down\r\n");
	CP_CHECK(cp_smtpd_conn_closed(h.c), "closed");
	h_free(&h);
}

CP_TEST(smtpd_names)
{
	H_CHECK_STR(cp_smtpd_event_name(CP_SMTPD_EV_DATA_CHUNK), "DATA_CHUNK");
	H_CHECK_STR(cp_smtpd_event_name(CP_SMTPD_EV_CLOSE), "CLOSE");
	H_CHECK_STR(cp_smtpd_event_name(99), "?");
	H_CHECK_STR(cp_smtpd_reason_name(CP_SMTPD_R_INTERNAL), "internal");
	H_CHECK_STR(cp_smtpd_reason_name(CP_SMTPD_R_INJECTION), "injection");
	H_CHECK_STR(cp_smtpd_reason_name(-1), "?");
}

/* Every allocation of a whole session fails in turn: each run ends with
 * the session done or closed ("internal"), never a crash or a hang (run
 * under ASan by tests/run.sh). The harness's own buffers are not used. */
CP_TEST(smtpd_alloc_failures)
{
	static const char part1[] = "EHLO c\r\nSTARTTLS\r\n";
	static const char part2[] = "EHLO c\r\nAUTH LOGIN YWxpY2U=\r\nc2VjcmV0\r\n"
	    "MAIL FROM:<alice@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n"
	    "Subject: s\r\nBcc: x,\r\n y\r\n\r\n..body\r\n.\r\nQUIT\r\n";
	unsigned long n;
	int done = 0, closed_internal = 0;

	for (n = 1; n < 2000 && !done; n++) {
		cp_smtpd_conf conf;
		cp_smtpd_peer peer = { .addr = "192.0.2.1", .tls = 0 };
		cp_smtpd_conn *c;
		cp_smtpd_event ev;
		cp_smtpd_answer ok = { 0 };
		const char *p;
		int quit = 0, internal = 0, guard = 0, feedfail = 0;

		cp_smtpd_conf_init(&conf);
		conf.tls_available = 1;
		cp_alloc_fail_at(n);
		c = cp_smtpd_conn_new(&conf, &peer);
		if (c == NULL)
			continue;
		for (int part = 0; part < 3 && !cp_smtpd_conn_closed(c); part++) {
			if (part > 0 &&
			    cp_smtpd_conn_feed(c, part == 1 ? part1 : part2,
			    part == 1 ? sizeof(part1) - 1 : sizeof(part2) - 1) !=
			    CP_OK) {
				feedfail = 1; /* the net layer would close */
				cp_smtpd_conn_eof(c);
			}
			while (cp_smtpd_conn_next_event(c, &ev) != CP_SMTPD_EV_NONE ||
			    cp_smtpd_conn_output(c, &p) > 0) {
				CP_CHECK(++guard < 10000, "n=%lu: no end", n);
				if (guard >= 10000)
					break;
				cp_smtpd_conn_consumed(c, cp_smtpd_conn_output(c, &p));
				if (ev.type == CP_SMTPD_EV_STARTTLS)
					cp_smtpd_conn_tls_started(c, "TLSv1.3", "X");
				if (ev.type == CP_SMTPD_EV_QUIT)
					quit = 1;
				if (ev.type == CP_SMTPD_EV_CLOSE &&
				    ev.reason == CP_SMTPD_R_INTERNAL)
					internal = 1;
				if (ev.need_answer)
					cp_smtpd_conn_answer(c, &ok);
				ev.type = CP_SMTPD_EV_NONE;
			}
		}
		CP_CHECK(quit || internal || feedfail,
		    "n=%lu: closed without QUIT or an internal error", n);
		closed_internal += internal;
		cp_smtpd_conn_free(c);
		/* the failure was never reached: all allocations tried */
		done = quit && !internal;
		cp_alloc_fail_at(0);
	}
	CP_CHECK(done, "no clean run after %lu failures", n);
	CP_CHECK(closed_internal > 5, "%d runs closed on a failure",
	    closed_internal);
}
