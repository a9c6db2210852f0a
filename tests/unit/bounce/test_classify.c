/*
 * Unit tests: src/bounce/classify.c - codes, signatures, fallbacks.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coldpost/classify.h"
#include "coldpost/kb.h"
#include "cptest.h"

static cp_classify_session *
session(void)
{
	cp_err err = { 0 };
	const cp_classifier *c = cp_classifier_default(&err);
	cp_classify_session *s;

	CP_CHECK(c != NULL, "classifier compiles: %s", err.msg);
	if (c == NULL)
		return NULL;
	s = cp_classify_session_new(c, &err);
	CP_CHECK(s != NULL, "session: %s", err.msg);
	return s;
}

static void
check(cp_classify_session *s, const char *reply, const char *host,
    const char *cause, const char *receiver, int code_only)
{
	cp_verdict v;
	cp_err err = { 0 };
	int rc = cp_classify_reply(s, reply, strlen(reply), host, &v, &err);

	CP_CHECK(rc == CP_OK, "'%s': %s", reply, err.msg);
	if (rc != CP_OK)
		return;
	CP_CHECK(strcmp(cp_cause_name(v.cause), cause) == 0,
	    "'%s': cause %s (rule %s), want %s", reply, cp_cause_name(v.cause),
	    v.rule, cause);
	if (receiver)
		CP_CHECK(strcmp(v.receiver, receiver) == 0,
		    "'%s': receiver %s, want %s", reply, v.receiver, receiver);
	if (code_only >= 0)
		CP_CHECK(v.code_only == code_only, "'%s': code_only %d (rule %s)",
		    reply, v.code_only, v.rule);
	CP_CHECK(v.nsteps >= 1 || v.cls == CP_CLASS_SUCCESS,
	    "'%s': no remediation steps", reply);
}

CP_TEST(classify_codes_alone)
{
	cp_classify_session *s = session();

	if (s == NULL)
		return;
	check(s, "550 5.1.1", NULL, "recipient_unknown", "unknown", 1);
	check(s, "552 5.2.2", NULL, "mailbox_full", NULL, 1);
	check(s, "5.7.26", NULL, "authentication", NULL, 1);
	check(s, "550 5.7.23", NULL, "authentication", NULL, 1);
	check(s, "421", NULL, "temporary", NULL, 1);
	check(s, "554 5.3.4", NULL, "message_too_big", NULL, 1);
	check(s, "530 5.7.0", NULL, "tls", NULL, -1);
	cp_classify_session_free(s);
}

CP_TEST(classify_signatures)
{
	cp_classify_session *s = session();

	if (s == NULL)
		return;
	check(s, "550-5.1.1 The email account that you tried to reach does not "
		 "exist. 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser"
		 " - gsmtp", NULL, "recipient_unknown", "gmail", 0);
	check(s, "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked"
		 " using zen.spamhaus.org", NULL, "blocklist", NULL, 0);
	check(s, "554 5.7.1 <a@example.com>: Relay access denied", NULL,
	    "relay_denied", NULL, 0);
	check(s, "550 5.7.1 Message rejected as spam", NULL, "content", NULL, 0);
	cp_classify_session_free(s);
}

CP_TEST(classify_receiver_by_host)
{
	cp_classify_session *s = session();

	if (s == NULL)
		return;
	check(s, "550 5.1.1 no such user", "gmail-smtp-in.l.google.com",
	    "recipient_unknown", "gmail", -1);
	check(s, "550 5.1.1 no such user", "example-com.mail.protection."
		 "outlook.com", "recipient_unknown", "microsoft", -1);
	check(s, "host alt1.aspmx.l.google.com[192.0.2.1] said: 550 5.1.1 no such"
		 " user (in reply to RCPT TO command)", NULL,
	    "recipient_unknown", "gmail", -1);
	cp_classify_session_free(s);
}

/* The receiver lookup as it was before its index: every page in order,
 * every host suffix of it (the index must answer the same). */
static const cp_kb_page *
receiver_scan(const char *host)
{
	size_t hl = strlen(host);

	while (hl > 0 && host[hl - 1] == '.')
		hl--;
	for (size_t i = 0; i < cp_kb_count(); i++) {
		const cp_kb_page *pg = cp_kb_page_at(i);

		if (pg->kind != CP_KB_RECEIVER)
			continue;
		for (size_t j = 0; j < pg->nhosts; j++) {
			size_t sl = strlen(pg->hosts[j]);

			if (sl <= hl &&
			    strncasecmp(host + hl - sl, pg->hosts[j], sl) == 0 &&
			    (sl == hl || host[hl - sl - 1] == '.' ||
			    pg->hosts[j][0] == '.'))
				return pg;
		}
	}
	return NULL;
}

CP_TEST(classify_receiver_index_matches_scan)
{
	/* prefix and suffix around each host of the knowledge base */
	static const char *const forms[][2] = { { "", "" }, { "mx1.", "" },
	    { "MX.", "." }, { "x", "" }, { "a.b.", "" }, { "", ".example" },
	    { "", ".." }, { ".", "" } };
	static const char *const odd[] = { "...", ".", "a", "com", "co.jp",
	    "localhost", "[192.0.2.1]", "mail.example.com" };
	size_t tried = 0;
	char host[300];

	for (size_t i = 0; i < cp_kb_count(); i++) {
		const cp_kb_page *pg = cp_kb_page_at(i);

		if (pg->kind != CP_KB_RECEIVER)
			continue;
		for (size_t j = 0; j < pg->nhosts; j++)
			for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]);
			    f++) {
				(void)snprintf(host, sizeof(host), "%s%s%s",
				    forms[f][0], pg->hosts[j], forms[f][1]);
				if (f == 2)
					for (char *c = host; *c; c++)
						if (*c >= 'a' && *c <= 'z')
							*c = (char)(*c - 32);
				CP_CHECK(cp_kb_receiver_by_host(host) ==
				    receiver_scan(host), "host %s", host);
				/* every shorter suffix too */
				CP_CHECK(cp_kb_receiver_by_host(host + 1) ==
				    receiver_scan(host + 1), "host %s",
				    host + 1);
				tried++;
			}
	}
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		CP_CHECK(cp_kb_receiver_by_host(odd[i]) == receiver_scan(odd[i]),
		    "host %s", odd[i]);
	CP_CHECK(tried > 50, "only %zu receiver hosts tried", tried);
	CP_CHECK(cp_kb_receiver_by_host("") == NULL, "empty host");
	CP_CHECK(cp_kb_receiver_by_host(NULL) == NULL, "NULL host");
}

CP_TEST(classify_retry_advice)
{
	cp_classify_session *s = session();
	cp_verdict v;
	cp_err err = { 0 };

	if (s == NULL)
		return;
	/* a 4xx is never "the address is dead" */
	CP_CHECK_INT(cp_classify_reply(s, "450 4.1.1 unknown user, try later",
	    34, NULL, &v, &err), CP_OK);
	CP_CHECK(v.retry != CP_RETRY_NEVER, "4xx retry %s",
	    cp_retry_name(v.retry));
	CP_CHECK_INT(v.cls, CP_CLASS_TRANSIENT);
	CP_CHECK_INT(cp_classify_reply(s, "550 5.1.1 User unknown", 22, NULL,
	    &v, &err), CP_OK);
	CP_CHECK_INT(v.retry, CP_RETRY_NEVER);
	CP_CHECK_INT(v.cls, CP_CLASS_PERMANENT);
	CP_CHECK_INT(cp_classify_reply(s, "250 2.0.0 OK queued", 19, NULL, &v,
	    &err), CP_OK);
	CP_CHECK_INT(v.cls, CP_CLASS_SUCCESS);
	CP_CHECK_STR(v.reason, "delivered");
	/* malformed: an error, not a verdict */
	CP_CHECK_INT(cp_classify_reply(s, "nonsense", 8, NULL, &v, &err),
	    CP_ESYNTAX);
	cp_classify_session_free(s);
}
