/*
 * Unit tests: src/bounce/bounce*.c - the DSN field parser (RFC 3464),
 * line endings, broken MIME, feedback reports, auto-replies, text
 * bounces, the original message's identity (VERP) and the reasons.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/bounce.h"
#include "coldpost/buf.h"
#include "cptest.h"

static cp_bounce_parser *
parser(void)
{
	cp_err err = { 0 };
	cp_bounce_parser *p = cp_bounce_parser_new(&err);

	CP_CHECK(p != NULL, "parser: %s", err.msg);
	return p;
}

static const cp_bounce *
parse(cp_bounce_parser *p, const char *mail)
{
	const cp_bounce *b = NULL;
	cp_err err = { 0 };
	int rc = cp_bounce_parse(p, mail, strlen(mail), &b, &err);

	CP_CHECK(rc == CP_OK, "parse: %s", err.msg);
	return b;
}

/* mail with every "\n" turned into eol, in a buffer the caller frees. */
static char *
with_eol(const char *mail, const char *eol)
{
	cp_buf b;

	cp_buf_init(&b, 1 << 20);
	for (const char *q = mail; *q; q++)
		if (*q == '\n')
			(void)cp_buf_adds(&b, eol);
		else
			(void)cp_buf_addc(&b, *q);
	return cp_buf_steal(&b);
}

#define DSN_HEAD                                                             \
	"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"        \
	"To: bounces+r42-0a1b2c3d@send.example.com\n"                        \
	"Subject: Undelivered Mail Returned to Sender\n"                     \
	"MIME-Version: 1.0\n"                                                \
	"Content-Type: multipart/report; report-type=delivery-status;\n"    \
	"\tboundary=\"B0UND\"\n\n"

static const char dsn_mail[] =
    DSN_HEAD
    "--B0UND\n"
    "Content-Type: text/plain\n\n"
    "I'm sorry to have to inform you that your message could not be\n"
    "delivered.\n\n"
    "--B0UND\n"
    "Content-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "Original-Envelope-Id: env-77\n"
    "Arrival-Date: Mon, 2 Nov 2026 10:00:00 +0000\n\n"
    "Final-Recipient: rfc822; alice@example.org\n"
    "Original-Recipient: rfc822;Alice@example.org\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Remote-MTA: dns; mx1.example.org\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <alice@example.org>: Recipient\n"
    "    address rejected: User unknown in local recipient table\n\n"
    "Action: failed\n"
    "Status: 5.2.2\n"
    "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n"
    "Final-Recipient: rfc822; bob@example.org\n\n"
    "Final-Recipient: rfc822; carol@example.org\n"
    "Action: delayed\n"
    "Status: 4.4.7\n"
    "Diagnostic-Code: X-Postfix; delivery temporarily suspended\n\n"
    "--B0UND\n"
    "Content-Type: text/rfc822-headers\n\n"
    "Return-Path: <bounces+r42-0a1b2c3d@send.example.com>\n"
    "Message-ID: <m42@send.example.com>\n"
    "From: sender@example.com\n"
    "To: alice@example.org\n\n"
    "--B0UND--\n";

static void
check_dsn(const cp_bounce *b, const char *eol)
{
	if (b == NULL)
		return;
	CP_CHECK_STR(b->family, "rfc3464");
	CP_CHECK(b->n == 3, "%s: %zu recipients, want 3", eol, b->n);
	if (b->n != 3)
		return;
	CP_CHECK_STR(b->rcpts[0].recipient, "alice@example.org");
	CP_CHECK_STR(b->rcpts[0].orig_recipient, "Alice@example.org");
	CP_CHECK_STR(b->rcpts[0].action, "failed");
	CP_CHECK_STR(b->rcpts[0].status, "5.1.1");
	CP_CHECK_INT(b->rcpts[0].replycode, 550);
	CP_CHECK_STR(b->rcpts[0].remote_mta, "mx1.example.org");
	CP_CHECK_STR(b->rcpts[0].reporting_mta, "mx.example.net");
	/* the folded Diagnostic-Code is one line */
	CP_CHECK_STR(b->rcpts[0].diagnostic, "550 5.1.1 <alice@example.org>: "
	    "Recipient address rejected: User unknown in local recipient "
	    "table");
	CP_CHECK_STR(b->rcpts[0].reason, "userunknown");
	CP_CHECK_INT(b->rcpts[0].hard, 1);
	/* Final-Recipient after the other fields still names the block */
	CP_CHECK_STR(b->rcpts[1].recipient, "bob@example.org");
	CP_CHECK_STR(b->rcpts[1].reason, "mailboxfull");
	CP_CHECK_INT(b->rcpts[1].hard, 0);
	CP_CHECK_STR(b->rcpts[2].action, "delayed");
	CP_CHECK_STR(b->rcpts[2].reason, "expired");
	CP_CHECK_STR(b->envelope_id, "env-77");
	CP_CHECK_STR(b->message_id, "<m42@send.example.com>");
	CP_CHECK_STR(b->return_path, "bounces+r42-0a1b2c3d@send.example.com");
	CP_CHECK_STR(b->verp, "r42-0a1b2c3d");
	CP_CHECK_STR(b->rcpt_to, "bounces+r42-0a1b2c3d@send.example.com");
}

CP_TEST(bounce_dsn_fields)
{
	cp_bounce_parser *p = parser();

	if (p == NULL)
		return;
	check_dsn(parse(p, dsn_mail), "LF");
	cp_bounce_parser_free(p);
}

/* The same DSN with CRLF and with bare CR line ends reads the same. */
CP_TEST(bounce_line_endings)
{
	static const char *const eols[] = { "\r\n", "\r" };
	cp_bounce_parser *p = parser();

	if (p == NULL)
		return;
	for (size_t i = 0; i < 2; i++) {
		char *m = with_eol(dsn_mail, eols[i]);

		check_dsn(parse(p, m), i == 0 ? "CRLF" : "CR");
		cp_free(m);
	}
	cp_bounce_parser_free(p);
}

/* A boundary that never occurs: best effort, a note, no crash. */
CP_TEST(bounce_broken_mime)
{
	static const char mail[] =
	    "From: Mail Delivery System <mailer-daemon@mx.example.net>\n"
	    "Subject: Mail delivery failed: returning message to sender\n"
	    "Content-Type: multipart/report; boundary=\"NOWHERE\"\n\n"
	    "This message was created automatically by mail delivery "
	    "software.\n\n"
	    "  dave@example.org\n"
	    "    host mx.example.org [192.0.2.1]: 550 5.1.1 <dave@example.org>"
	    ": No such user here\n";
	static const char no_boundary[] =
	    "From: MAILER-DAEMON@mx.example.net\n"
	    "Subject: failure notice\n"
	    "Content-Type: multipart/mixed\n\n"
	    "<erin@example.org>:\n"
	    "192.0.2.7 does not like recipient.\n"
	    "Remote host said: 552 5.2.2 Mailbox full\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, mail);
	if (b != NULL) {
		CP_CHECK(b->n == 1, "%zu recipients", b->n);
		CP_CHECK(strstr(b->notes, "boundary") != NULL, "notes: %s",
		    b->notes);
		if (b->n == 1) {
			CP_CHECK_STR(b->rcpts[0].recipient, "dave@example.org");
			CP_CHECK_STR(b->rcpts[0].reason, "userunknown");
			CP_CHECK_STR(b->rcpts[0].status, "5.1.1");
		}
	}
	b = parse(p, no_boundary);
	if (b != NULL) {
		CP_CHECK(strstr(b->notes, "without boundary") != NULL,
		    "notes: %s", b->notes);
		CP_CHECK(b->n == 1 && strcmp(b->rcpts[0].reason,
		    "mailboxfull") == 0, "n %zu", b->n);
	}
	/* truncated in the middle of a header, of a part, of nothing */
	CP_CHECK(parse(p, "From: x") != NULL, "truncated header");
	CP_CHECK(parse(p, "") != NULL && parse(p, "")->n == 0, "empty");
	b = parse(p, DSN_HEAD "--B0UND\nContent-Type: message/delivery-sta");
	CP_CHECK(b != NULL && b->n == 0, "cut part");
	cp_bounce_parser_free(p);
}

/* Base64 and quoted-printable parts are decoded before reading. */
CP_TEST(bounce_transfer_encodings)
{
	static const char mail[] =
	    DSN_HEAD
	    "--B0UND\n"
	    "Content-Type: message/delivery-status\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    /* "Final-Recipient: rfc822; frank@example.org\r\nAction: failed"
	       "\r\nStatus: 5.2.2\r\n" */
	    "RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IGZyYW5rQGV4YW1wbGUub3JnDQpBY3Rp"
	    "b246IGZhaWxlZA0KU3RhdHVzOiA1LjIuMg0K\n"
	    "--B0UND--\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, mail);
	CP_CHECK(b != NULL && b->n == 1, "one recipient");
	if (b != NULL && b->n == 1) {
		CP_CHECK_STR(b->rcpts[0].recipient, "frank@example.org");
		CP_CHECK_STR(b->rcpts[0].status, "5.2.2");
		CP_CHECK_STR(b->rcpts[0].reason, "mailboxfull");
	}
	cp_bounce_parser_free(p);
}

CP_TEST(bounce_arf_and_vacation)
{
	static const char arf[] =
	    "From: feedback@isp.example\n"
	    "Subject: FW: complaint\n"
	    "Content-Type: multipart/report; report-type=feedback-report; "
	    "boundary=\"A\"\n\n"
	    "--A\nContent-Type: text/plain\n\nA complaint.\n"
	    "--A\nContent-Type: message/feedback-report\n\n"
	    "Feedback-Type: Abuse\n"
	    "User-Agent: ISP-FBL/1.0\n"
	    "Version: 1\n"
	    "Source-IP: 192.0.2.9\n"
	    "Original-Rcpt-To: <gina@isp.example>\n"
	    "Original-Rcpt-To: <hank@isp.example>\n"
	    "--A\nContent-Type: message/rfc822\n\n"
	    "Message-ID: <m7@send.example.com>\nTo: gina@isp.example\n\nhi\n"
	    "--A--\n";
	static const char vacation[] =
	    "From: Ivy <ivy@example.org>\n"
	    "To: sender@example.com\n"
	    "Subject: Out of Office: hello\n"
	    "Auto-Submitted: auto-replied\n\n"
	    "I am away until Monday.\n";
	static const char not_bounce[] =
	    "From: Jo <jo@example.org>\n"
	    "To: sender@example.com\n"
	    "Subject: lunch?\n\n"
	    "Write to kim@example.org, she knows.\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, arf);
	if (b != NULL) {
		CP_CHECK(b->n == 2, "arf: %zu", b->n);
		CP_CHECK_STR(b->family, "arf");
		CP_CHECK_STR(b->source_ip, "192.0.2.9");
		CP_CHECK_STR(b->message_id, "<m7@send.example.com>");
		if (b->n == 2) {
			CP_CHECK_STR(b->rcpts[1].recipient, "hank@isp.example");
			CP_CHECK_STR(b->rcpts[1].reason, "feedback");
			CP_CHECK_STR(b->rcpts[1].feedback_type, "abuse");
		}
	}
	b = parse(p, vacation);
	CP_CHECK(b != NULL && b->n == 1 &&
	    strcmp(b->rcpts[0].reason, "vacation") == 0 &&
	    strcmp(b->rcpts[0].recipient, "ivy@example.org") == 0, "vacation");
	b = parse(p, not_bounce);
	CP_CHECK(b != NULL && b->n == 0, "not a bounce: %zu recipients",
	    b ? b->n : 0);
	cp_bounce_parser_free(p);
}

/* Exim-style text bounce: X-Failed-Recipients, sender addresses left out,
 * the SMTP command and a temporary failure that ran out of retries. */
CP_TEST(bounce_text_exim)
{
	static const char mail[] =
	    "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\n"
	    "To: sender@example.com\n"
	    "Subject: Mail delivery failed: returning message to sender\n"
	    "X-Failed-Recipients: lena@example.org\n\n"
	    "This message was created automatically by mail delivery "
	    "software.\n\n"
	    "A message that you sent could not be delivered to one or more "
	    "of its\nrecipients. This is a permanent error. The following "
	    "address(es) failed:\n\n"
	    "  lena@example.org\n"
	    "    SMTP error from remote mail server after end of data:\n"
	    "    host mx.example.org [192.0.2.3]: 554 5.7.1 Message rejected "
	    "as spam\n\n"
	    "------ This is a copy of the message, including all the headers."
	    " ------\n\n"
	    "Return-path: <sender@example.com>\n"
	    "Message-Id: <E1abc@example.com>\n"
	    "From: sender@example.com\n"
	    "To: lena@example.org\n\nhello\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, mail);
	CP_CHECK(b != NULL && b->n == 1, "one recipient");
	if (b != NULL && b->n == 1) {
		CP_CHECK_STR(b->family, "exim");
		CP_CHECK_STR(b->rcpts[0].recipient, "lena@example.org");
		CP_CHECK_STR(b->rcpts[0].command, "DATA");
		CP_CHECK_STR(b->rcpts[0].remote_mta, "mx.example.org");
		CP_CHECK_STR(b->rcpts[0].status, "5.7.1");
		CP_CHECK_INT(b->rcpts[0].replycode, 554);
		CP_CHECK_STR(b->rcpts[0].reason, "spamdetected");
		CP_CHECK_STR(b->message_id, "<E1abc@example.com>");
		CP_CHECK_STR(b->return_path, "sender@example.com");
	}
	cp_bounce_parser_free(p);
}

/* NUL bytes, the size ceiling, the reason vocabulary. */
CP_TEST(bounce_limits)
{
	cp_bounce_parser *p = parser();
	const cp_bounce *b;
	cp_err err = { 0 };
	char nul[] = "From: MAILER-DAEMON@x.example\nSubject: failure notice\n"
		     "\n<a@example.org>:\n550\0 5.1.1 no such user\n";

	if (p == NULL)
		return;
	/* NUL bytes inside are data, not the end */
	CP_CHECK(cp_bounce_parse(p, nul, sizeof(nul) - 1, &b, &err) == CP_OK,
	    "%s", err.msg);
	CP_CHECK(b->n == 1 && strcmp(b->rcpts[0].recipient,
	    "a@example.org") == 0, "nul: %zu", b->n);
	CP_CHECK(cp_bounce_parse(p, nul, (size_t)CP_BOUNCE_MAX + 1, &b,
	    &err) == CP_ETOOBIG, "too big");
	CP_CHECK(cp_bounce_reason_known("userunknown") &&
	    cp_bounce_reason_known("feedback") &&
	    !cp_bounce_reason_known("nonsense"), "reason names");
	cp_bounce_parser_free(p);
}

/* A boundary split by RFC 2231 continuations: the fast scan cannot follow
 * it, GMime's parser can, and the DSN is read through it. */
CP_TEST(bounce_gmime_fallback)
{
	static const char mail[] =
	    "From: MAILER-DAEMON@mx.example.net\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    " boundary*0=\"SPLIT\"; boundary*1=\"-BOUNDARY\"\n\n"
	    "--SPLIT-BOUNDARY\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example.net\n\n"
	    "Final-Recipient: rfc822; mia@example.org\n"
	    "Action: failed\n"
	    "Status: 5.2.2\n"
	    "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n\n"
	    "--SPLIT-BOUNDARY--\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, mail);
	CP_CHECK(b != NULL && b->used_gmime == 1, "GMime used");
	CP_CHECK(b != NULL && b->n == 1, "one recipient");
	if (b != NULL && b->n == 1) {
		CP_CHECK_STR(b->rcpts[0].recipient, "mia@example.org");
		CP_CHECK_STR(b->rcpts[0].reason, "mailboxfull");
	}
	cp_bounce_parser_free(p);
}

/* A delivery-status block behind a broken boundary (" --B") is read from
 * the text; the Status comment speaks when there is no Diagnostic-Code;
 * Amazon SES's quoted reply is the receiver's words. */
CP_TEST(bounce_embedded_dsn)
{
	static const char mail[] =
	    "From: MAILER-DAEMON@mx.example.net\n"
	    "Subject: Returned mail\n"
	    "Content-Type: multipart/report; boundary=\"B\"\n\n"
	    "--B\n"
	    "content-type: text/plain\n\n"
	    "<a@example.org> (unrecoverable error)\n\n"
	    " --B\n"
	    "content-type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example.net\n\n"
	    "Final-Recipient: rfc822;a@example.org\n"
	    "Action: delayed\n"
	    "Status: 4.0.0 (example.org: host name lookup failure)\n\n"
	    "Final-Recipient: rfc822;b@example.org\n"
	    "Action: failed\n"
	    "Status: 5.0.0\n"
	    "Diagnostic-Code: smtp; 5.1.0 - Unknown address error "
	    "550-'5.7.1 <x@example.net>... Access denied' "
	    "(delivery attempts: 0)\n\n"
	    "--B--\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, mail);
	CP_CHECK(b != NULL && b->n == 2, "two recipients");
	if (b != NULL && b->n == 2) {
		CP_CHECK_STR(b->rcpts[0].recipient, "a@example.org");
		CP_CHECK_STR(b->rcpts[0].status_text,
		    "(example.org: host name lookup failure)");
		CP_CHECK_STR(b->rcpts[0].reason, "networkerror");
		CP_CHECK_STR(b->rcpts[1].status, "5.7.1");
		CP_CHECK_STR(b->rcpts[1].reason, "securityerror");
	}
	cp_bounce_parser_free(p);
}

/* A provider's documented code (Cox's AUP#CDRBL) decides over the generic
 * "sender rejected" next to it when Cox is the receiver; X-Unix
 * diagnostics are mailer errors whatever the program printed. */
CP_TEST(bounce_provider_and_xunix)
{
	static const char cox[] =
	    "From: MAILER-DAEMON@mx.example.net\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "Content-Type: multipart/report; report-type=delivery-status; "
	    "boundary=\"B\"\n\n"
	    "--B\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example.net\n\n"
	    "Final-Recipient: rfc822; r@cox.net\n"
	    "Action: failed\n"
	    "Status: 5.1.0\n"
	    "Diagnostic-Code: smtp; 550 5.1.0 <s@example.com> sender rejected."
	    " AUP#CDRBL\n\n"
	    "Final-Recipient: rfc822; u@example.org\n"
	    "Action: failed\n"
	    "Status: 5.1.1\n"
	    "Diagnostic-Code: x-unix; procmail: id: u: No such user\n\n"
	    "--B--\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, cox);
	CP_CHECK(b != NULL && b->n == 2, "two recipients");
	if (b != NULL && b->n == 2) {
		CP_CHECK_STR(b->rcpts[0].reason, "blocked");
		CP_CHECK_STR(b->rcpts[1].reason, "mailererror");
	}
	cp_bounce_parser_free(p);
}

/* DSN fields pasted into a text part without their Content-Type line
 * are read as a report; X.2.1 without a refused RCPT TO is the mailbox
 * refusing this message (filtered), or disabled (suspend) when the
 * reporting MTA's comment on the status says so. */
CP_TEST(bounce_bare_fields_and_x21)
{
	static const char bare[] =
	    "From: MAILER-DAEMON@mx.example.net\n"
	    "Subject: Delivery Status Notification (Failure)\n"
	    "Content-Type: multipart/mixed; boundary=\"B\"\n\n"
	    "--B\n"
	    "Content-Type: text/plain\n\n"
	    "An error occurred while trying to deliver the mail to the\n"
	    "following recipients:\na@example.org\n\nTechnical report:\n\n"
	    "Reporting-MTA: dns; mx.example.net\n\n"
	    "Action: failed\n"
	    "Final-Recipient: rfc822; a@example.org\n"
	    "Diagnostic-Code: smtp; 550 5.2.1 <a@example.org>... User Unknown\n"
	    "Status: 5.2.1\n\n"
	    "--B--\n";
	static const char disabled[] =
	    DSN_HEAD
	    "--B0UND\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example.net\n\n"
	    "Final-Recipient: rfc822; b@example.org\n"
	    "Action: failed\n"
	    "Status: 5.2.1 (mailbox disabled, not accepting messages)\n"
	    "Diagnostic-Code: smtp; 550 5.2.1 <b@example.org>... User Unknown\n"
	    "\n--B0UND--\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, bare);
	CP_CHECK(b != NULL && b->n == 1, "one recipient");
	if (b != NULL && b->n == 1) {
		CP_CHECK_STR(b->rcpts[0].recipient, "a@example.org");
		CP_CHECK_STR(b->rcpts[0].status, "5.2.1");
		CP_CHECK_STR(b->rcpts[0].reason, "filtered");
	}
	b = parse(p, disabled);
	CP_CHECK(b != NULL && b->n == 1, "one recipient");
	if (b != NULL && b->n == 1)
		CP_CHECK_STR(b->rcpts[0].reason, "suspend");
	cp_bounce_parser_free(p);
}

/* A sendmail transcript with several hosts: each address's own line and
 * the dialogue just before it; a vague refusal of MAIL FROM found in the
 * text part is about the sender (rejected). */
CP_TEST(bounce_sendmail_transcript)
{
	static const char v5[] =
	    "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>\n"
	    "Subject: Returned mail: Host unknown\n\n"
	    "   ----- Transcript of session follows -----\n"
	    "While talking to mx.example.org:\n"
	    ">>> MAIL From:<s@example.com>\n"
	    "<<< 501 <s@example.com>... no access from mail server "
	    "[192.0.2.55]\n"
	    "554 <a@example.org>... Remote protocol error\n"
	    "550 example.net (smtp)... 550 Host unknown\n"
	    "554 <b@example.net>... 550 Host unknown (Authoritative answer)\n"
	    "\n   ----- Unsent message follows -----\n"
	    "From: s@example.com\nTo: a@example.org\nSubject: hi\n\nhi\n";
	static const char mail_from[] =
	    DSN_HEAD
	    "--B0UND\n"
	    "Content-Type: text/plain\n\n"
	    "<c@example.org>: host mx.example.org[192.0.2.1] said: 550\n"
	    "    5.7.1 Access denied (in reply to MAIL FROM command)\n\n"
	    "--B0UND\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; mx.example.net\n\n"
	    "Final-Recipient: rfc822; c@example.org\n"
	    "Action: failed\n"
	    "Status: 5.7.1\n"
	    "Diagnostic-Code: smtp; 550 5.7.1 Access denied\n"
	    "\n--B0UND--\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, v5);
	CP_CHECK(b != NULL && b->n == 2, "two recipients");
	if (b != NULL && b->n == 2) {
		CP_CHECK_STR(b->rcpts[0].recipient, "a@example.org");
		CP_CHECK_STR(b->rcpts[0].command, "MAIL");
		CP_CHECK_STR(b->rcpts[0].reason, "blocked");
		CP_CHECK_STR(b->rcpts[1].reason, "hostunknown");
	}
	b = parse(p, mail_from);
	CP_CHECK(b != NULL && b->n == 1, "one recipient");
	if (b != NULL && b->n == 1) {
		CP_CHECK_STR(b->rcpts[0].command, "MAIL");
		CP_CHECK_STR(b->rcpts[0].reason, "rejected");
	}
	cp_bounce_parser_free(p);
}

/* A text bounce in ISO-2022-JP is read in UTF-8 (Lotus Notes, Japanese:
 * "not in the directory's list" is an unknown user). */
CP_TEST(bounce_charset_iso2022jp)
{
	static const char notes[] =
	    "From: postmaster@mx.example.jp\n"
	    "Subject: Undeliverable message\n"
	    "Content-Type: text/plain; charset=ISO-2022-JP\n\n"
	    "------- Failure Reasons  --------\n\n"
	    "\x1b$B%G%#%l%/%H%j$N%j%9%H$K$\"$j$^$;$s\x1b(B\n"
	    "a@example.jp\n\n"
	    "------- Returned Message --------\n"
	    "From: s@example.com\nTo: a@example.jp\nSubject: hi\n\nhi\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, notes);
	CP_CHECK(b != NULL && b->n == 1, "one recipient");
	if (b != NULL && b->n == 1) {
		CP_CHECK_STR(b->rcpts[0].recipient, "a@example.jp");
		CP_CHECK_STR(b->rcpts[0].reason, "userunknown");
		CP_CHECK(strstr(b->rcpts[0].diagnostic,
		    "\xe3\x83\x87\xe3\x82\xa3") != NULL, "UTF-8 diagnostic: %s",
		    b->rcpts[0].diagnostic);
	}
	cp_bounce_parser_free(p);
}

/* More charsets in a row than the parser keeps converters open for: each
 * text is still converted with its own (bnc_iconv_utf8 closes the one
 * used longest ago, and finds a name again in another case). */
CP_TEST(bounce_charsets_in_turn)
{
	static const struct {
		const char *charset, *utf8; /* of byte 0xe9 */
	} cs[] = {
		{ "ISO-8859-1", "\xc3\xa9" }, { "windows-1252", "\xc3\xa9" },
		{ "ISO-8859-2", "\xc3\xa9" }, { "KOI8-R", "\xd0\x98" },
		{ "ISO-8859-7", "\xce\xb9" }, { "iso-8859-1", "\xc3\xa9" },
		{ "koi8-r", "\xd0\x98" }, { "WINDOWS-1252", "\xc3\xa9" },
		/* unknown to iconv: the text is left as it is */
		{ "unknown-8bit", "unknown \xe9" },
		{ "ISO-2022-JP", "unknown \xe9" }, /* not valid in it */
	};
	cp_bounce_parser *p = parser();
	char mail[1024];

	if (p == NULL)
		return;
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
			const cp_bounce *b;

			(void)snprintf(mail, sizeof(mail),
			    "From: postmaster@mx.example.jp\n"
			    "Subject: Undeliverable message\n"
			    "Content-Type: text/plain; charset=%s\n\n"
			    "------- Failure Reasons  --------\n\n"
			    "User unknown \xe9\n"
			    "a@example.jp\n\n"
			    "------- Returned Message --------\n"
			    "From: s@example.com\nTo: a@example.jp\n\nhi\n",
			    cs[i].charset);
			b = parse(p, mail);
			CP_CHECK(b != NULL && b->n == 1, "%s: one recipient",
			    cs[i].charset);
			if (b != NULL && b->n == 1)
				CP_CHECK(strstr(b->rcpts[0].diagnostic,
				    cs[i].utf8) != NULL, "%s: %s",
				    cs[i].charset, b->rcpts[0].diagnostic);
		}
	cp_bounce_parser_free(p);
}

/* The text part is read up to the returned original: a template sentence
 * of another MTA quoted in the original (here qmail's, whose row is tried
 * before Exim's) does not name the writer, and the original's words are
 * not read for the command. */
CP_TEST(bounce_text_ends_at_original)
{
	static const char mail[] =
	    "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\n"
	    "To: sender@example.com\n"
	    "Subject: Mail delivery failed: returning message to sender\n\n"
	    "This message was created automatically by mail delivery "
	    "software.\n\n"
	    "A message that you sent could not be delivered to one or more "
	    "of its\nrecipients. This is a permanent error. The following "
	    "address(es) failed:\n\n"
	    "  lena@example.org\n"
	    "    User unknown\n\n"
	    "------ This is a copy of the message, including all the headers."
	    " ------\n\n"
	    "From: sender@example.com\n"
	    "To: lena@example.org\n\n"
	    "Hi, below is what our old server sent back last week:\n"
	    "This is the qmail-send program at mail.example.com.\n"
	    "It said: 550 in reply to RCPT TO command\n";
	cp_bounce_parser *p = parser();
	const cp_bounce *b;

	if (p == NULL)
		return;
	b = parse(p, mail);
	CP_CHECK(b != NULL && b->n == 1, "one recipient");
	if (b != NULL && b->n == 1) {
		CP_CHECK_STR(b->family, "exim");
		CP_CHECK_STR(b->rcpts[0].recipient, "lena@example.org");
		CP_CHECK_STR(b->rcpts[0].reason, "filtered");
		CP_CHECK_STR(b->rcpts[0].command, "");
	}
	/* the same sentence above the mark names the writer */
	b = parse(p, "From: postmaster@mail.example.com\n"
	    "Subject: failure notice\n\n"
	    "Hi. This is the qmail-send program at mail.example.com.\n"
	    "I'm afraid I wasn't able to deliver your message to the "
	    "following addresses.\n\n"
	    "<lena@example.org>:\nSorry, no mailbox here by that name.\n\n"
	    "--- Below this line is a copy of the message.\n\n"
	    "From: sender@example.com\nTo: lena@example.org\n\nhi\n");
	CP_CHECK(b != NULL && b->n == 1, "qmail: one recipient");
	if (b != NULL && b->n == 1)
		CP_CHECK_STR(b->family, "qmail");
	cp_bounce_parser_free(p);
}
