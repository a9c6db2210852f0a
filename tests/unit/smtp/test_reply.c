/*
 * Unit tests: src/smtp/reply_parse.c - the forms of replies found in
 * logs and bounces, and malformed ones.
 */
#include <string.h>

#include "coldpost/reply.h"
#include "cptest.h"

static const struct {
	const char *in;
	int code;
	const char *enh;
	const char *text; /* normalised; NULL: not checked */
	const char *host;
} good[] = {
	{ "550 5.7.1 Message rejected as spam", 550, "5.7.1",
	    "550 5.7.1 Message rejected as spam", "" },
	{ "550", 550, "", "550", "" },
	{ "421 Service Temporarily Unavailable", 421, "",
	    "421 Service Temporarily Unavailable", "" },
	/* multi-line on separate lines, CRLF */
	{ "550-5.1.1 The email account that you tried to reach does not\r\n"
	  "550-5.1.1 exist. Please try double-checking\r\n"
	  "550 5.1.1 https://support.google.com/mail/?p=NoSuchUser - gsmtp",
	    550, "5.1.1",
	    "550 5.1.1 The email account that you tried to reach does not "
	    "exist. Please try double-checking "
	    "https://support.google.com/mail/?p=NoSuchUser - gsmtp", "" },
	/* multi-line inlined, as Postfix logs it */
	{ "550-5.7.1 [192.0.2.1] Our system has detected 550-5.7.1 an unusual "
	  "rate 550 5.7.1 of unsolicited mail - gsmtp", 550, "5.7.1",
	    "550 5.7.1 [192.0.2.1] Our system has detected an unusual rate of "
	    "unsolicited mail - gsmtp", "" },
	/* inlined without enhanced codes */
	{ "550-Requested action not taken: mailbox unavailable 550-Reject due "
	  "to policy restrictions. 550 For explanation visit x", 550, "",
	    "550 Requested action not taken: mailbox unavailable Reject due to "
	    "policy restrictions. For explanation visit x", "" },
	/* Postfix wrapper */
	{ "host mx.example.com[192.0.2.25] said: 550 5.1.1 <a@example.com>: "
	  "Recipient address rejected: User unknown (in reply to RCPT TO "
	  "command)", 550, "5.1.1",
	    "550 5.1.1 <a@example.com>: Recipient address rejected: User "
	    "unknown", "mx.example.com" },
	/* Exim wrapper over two lines */
	{ "SMTP error from remote mail server after RCPT TO:<a@example.org>:\n"
	  "    host mx.example.org [192.0.2.7]: 550 5.2.1 Mailbox disabled",
	    550, "5.2.1", "550 5.2.1 Mailbox disabled", "mx.example.org" },
	/* Exchange wrapper */
	{ "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
	  "Recipient not found by SMTP address lookup'", 550, "5.1.10",
	    "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by "
	    "SMTP address lookup", "" },
	/* Diagnostic-Code field */
	{ "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full", 552, "5.2.2",
	    "552 5.2.2 Mailbox full", "" },
	/* enhanced code elsewhere in the text: qmail's (#5.1.1) */
	{ "550 sorry, no mailbox here by that name (#5.1.1)", 550, "5.1.1",
	    NULL, "" },
	/* enhanced code without a basic code (Microsoft's NDR tables) */
	{ "5.7.705 Access denied, tenant has exceeded threshold", 0, "5.7.705",
	    "5.7.705 Access denied, tenant has exceeded threshold", "" },
	/* an IP address is not an enhanced code */
	{ "554 Client host 5.1.1.2 blocked", 554, "", NULL, "" },
	/* a class that disagrees with the basic code is not taken */
	{ "550 see RFC section 4.2.1 for details", 550, "", NULL, "" },
	/* Gmail outbound (state N) trailer */
	{ "550 5.7.26 unauthenticated mail (state 14).", 550, "5.7.26",
	    "550 5.7.26 unauthenticated mail", "" },
	/* control bytes and runs of blanks */
	{ "451  4.3.0 \t temporary\x01 failure  ", 451, "4.3.0",
	    "451 4.3.0 temporary failure", "" },
	/* non-standard second digit, seen in the wild */
	{ "571 Delivery not authorized", 571, "", NULL, "" },
};

static const struct {
	const char *in;
	const char *msg; /* substring of the error */
} bad[] = {
	{ "", "empty" },
	{ "   \r\n ", "empty" },
	{ "hello world", "no reply code" },
	{ "650 nope", "out of range" },
	{ "5500 too many digits", "not a 3-digit" },
	{ "550-first line\r\n451 second line", "differs" },
	{ "host a.example said: nothing here", "no reply code" },
};

CP_TEST(reply_parse_forms)
{
	cp_reply r;

	cp_reply_init(&r);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cp_err err = { 0 };
		int rc = cp_reply_parse(&r, good[i].in, strlen(good[i].in), &err);

		CP_CHECK(rc == CP_OK, "case %zu: rc %d (%s)", i, rc, err.msg);
		if (rc != CP_OK)
			continue;
		CP_CHECK(r.code == good[i].code, "case %zu: code %d want %d", i,
		    r.code, good[i].code);
		CP_CHECK(strcmp(r.enhanced, good[i].enh) == 0,
		    "case %zu: enhanced '%s' want '%s'", i, r.enhanced,
		    good[i].enh);
		if (good[i].text)
			CP_CHECK(strcmp(r.text, good[i].text) == 0,
			    "case %zu: text\n      got  '%s'\n      want '%s'", i,
			    r.text, good[i].text);
		CP_CHECK(strcmp(r.host, good[i].host) == 0,
		    "case %zu: host '%s' want '%s'", i, r.host, good[i].host);
		CP_CHECK(r.text_len == strlen(r.text), "case %zu: text_len", i);
	}
	cp_reply_clear(&r);
}

CP_TEST(reply_parse_malformed)
{
	cp_reply r;

	cp_reply_init(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cp_err err = { 0 };
		int rc = cp_reply_parse(&r, bad[i].in, strlen(bad[i].in), &err);

		CP_CHECK(rc == CP_ESYNTAX, "case %zu ('%s'): rc %d", i,
		    bad[i].in, rc);
		CP_CHECK(strstr(err.msg, bad[i].msg) != NULL,
		    "case %zu: error '%s' lacks '%s'", i, err.msg, bad[i].msg);
	}
	cp_reply_clear(&r);
}

CP_TEST(reply_parse_limits)
{
	static char big[CP_REPLY_MAX + 10];
	cp_reply r;
	cp_err err = { 0 };

	memset(big, 'a', sizeof(big));
	memcpy(big, "550 ", 4);
	cp_reply_init(&r);
	CP_CHECK_INT(cp_reply_parse(&r, big, sizeof(big), &err), CP_ETOOBIG);
	CP_CHECK(strstr(err.msg, "limit") != NULL, "names the limit: %s",
	    err.msg);
	/* exactly at the limit is fine */
	CP_CHECK_INT(cp_reply_parse(&r, big, CP_REPLY_MAX, &err), CP_OK);
	/* a reply without NUL: parse must not read past len */
	CP_CHECK_INT(cp_reply_parse(&r, "550 5.1.1 x", 9, &err), CP_OK);
	CP_CHECK_STR(r.enhanced, "5.1.1");
	CP_CHECK_INT(cp_reply_class(&r), 5);
	cp_reply_clear(&r);
}
