/*
 * Unit tests: the inbound listener's pure parts (src/net/net_unsub.c):
 * which RCPT addresses it takes (our VERP return paths with a good tag, our
 * unsubscribe addresses; another domain, a made-up tag, a stranger's local
 * part refused), the unsubscribe tokens (made, parsed, checked against the
 * sender, any case), the List-Unsubscribe fields and where they go in a
 * message; attribution: what a report's record means (failure, complaint,
 * nothing) and which record is about our recipient, also on a DSN read
 * by the real parser.
 */
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "coldpost/bounce.h"
#include "coldpost/verp.h"
#include "cptest.h"
#include "net/net_int.h"

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char other[32] = "ffffffffffffffffffffffffffffffff";

CP_TEST(net_inbound_classify_verp)
{
	char addr[256];
	net_in_rcpt r;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_verp_encode("b-", "bounce.test", 42, key, sizeof(key),
	    addr, sizeof(addr), &err), CP_OK);
	CP_CHECK_INT(net_inbound_classify(addr, "bounce.test", "b-", key,
	    sizeof(key), &r), NET_IN_VERP);
	CP_CHECK(r.rcpt == 42, "rcpt %lld", (long long)r.rcpt);
	/* the domain without regard to case */
	addr[strlen(addr) - 4] = 'T';
	CP_CHECK_INT(net_inbound_classify(addr, "bounce.test", "b-", key,
	    sizeof(key), &r), NET_IN_VERP);
	/* another key: the tag does not check */
	CP_CHECK_INT(net_inbound_classify(addr, "bounce.test", "b-", other,
	    sizeof(other), &r), NET_IN_UNKNOWN);
	CP_CHECK(r.rcpt == 0, "no rcpt on a bad tag");
	/* a made-up tag, another id with our tag, no tag */
	CP_CHECK_INT(net_inbound_classify("b-+42-00000000@bounce.test",
	    "bounce.test", "b-", key, sizeof(key), &r), NET_IN_UNKNOWN);
	{
		char forged[256];
		char *dash;

		snprintf(forged, sizeof(forged), "%s", addr);
		dash = strchr(forged, '+');
		dash[1] = '7'; /* b-+72-<tag of 42> */
		CP_CHECK_INT(net_inbound_classify(forged, "bounce.test", "b-",
		    key, sizeof(key), &r), NET_IN_UNKNOWN);
	}
	CP_CHECK_INT(net_inbound_classify("b-+42@bounce.test", "bounce.test",
	    "b-", key, sizeof(key), &r), NET_IN_UNKNOWN);
	/* RFC 5321 4.5.1: postmaster, bare or at our domain, any case */
	CP_CHECK_INT(net_inbound_classify("postmaster@bounce.test",
	    "bounce.test", "b-", key, sizeof(key), &r), NET_IN_POSTMASTER);
	CP_CHECK_INT(net_inbound_classify("PostMaster@BOUNCE.test",
	    "bounce.test", "b-", key, sizeof(key), &r), NET_IN_POSTMASTER);
	CP_CHECK_INT(net_inbound_classify("postmaster", "bounce.test", "b-",
	    key, sizeof(key), &r), NET_IN_POSTMASTER);
	/* ... but not another domain's, nor a longer local part */
	CP_CHECK_INT(net_inbound_classify("postmaster@gmail.test",
	    "bounce.test", "b-", key, sizeof(key), &r), NET_IN_OTHER_DOMAIN);
	CP_CHECK_INT(net_inbound_classify("postmasters@bounce.test",
	    "bounce.test", "b-", key, sizeof(key), &r), NET_IN_UNKNOWN);
	CP_CHECK_INT(net_inbound_classify("postmaster@bounce.test", "", "b-",
	    key, sizeof(key), &r), NET_IN_OTHER_DOMAIN);
	/* no key: nothing is ours */
	CP_CHECK_INT(net_inbound_classify(addr, "bounce.test", "b-", key, 0,
	    &r), NET_IN_UNKNOWN);
}

CP_TEST(net_inbound_classify_relay)
{
	net_in_rcpt r;

	/* no relaying: another domain, a subdomain, a suffix, none at all */
	CP_CHECK_INT(net_inbound_classify("ann@gmail.test", "bounce.test",
	    "b-", key, sizeof(key), &r), NET_IN_OTHER_DOMAIN);
	CP_CHECK_INT(net_inbound_classify("b-+1-abcdabcd@x.bounce.test",
	    "bounce.test", "b-", key, sizeof(key), &r), NET_IN_OTHER_DOMAIN);
	CP_CHECK_INT(net_inbound_classify("a@evilbounce.test", "bounce.test",
	    "b-", key, sizeof(key), &r), NET_IN_OTHER_DOMAIN);
	CP_CHECK_INT(net_inbound_classify("a@bounce.test.evil", "bounce.test",
	    "b-", key, sizeof(key), &r), NET_IN_OTHER_DOMAIN);
	CP_CHECK_INT(net_inbound_classify("nobody", "bounce.test", "b-", key,
	    sizeof(key), &r), NET_IN_OTHER_DOMAIN);
	/* the bounce domain not set: nothing is ours */
	CP_CHECK_INT(net_inbound_classify("b-+1-abcdabcd@bounce.test", "",
	    "b-", key, sizeof(key), &r), NET_IN_OTHER_DOMAIN);
	/* a source route trick: the last '@' decides */
	CP_CHECK_INT(net_inbound_classify("a@bounce.test@gmail.test",
	    "bounce.test", "b-", key, sizeof(key), &r), NET_IN_OTHER_DOMAIN);
}

CP_TEST(net_inbound_unsub_token)
{
	char local[96], addr[160], tag[NET_UNSUB_TAG_LEN + 1];
	int64_t tenant = 0;
	net_in_rcpt r;

	CP_CHECK_INT(net_unsub_make(key, sizeof(key), 12, "Ann@Gmail.test",
	    local, sizeof(local)), CP_OK);
	CP_CHECK(strncmp(local, "unsub+12-", 9) == 0, "local '%s'", local);
	CP_CHECK_INT((int)strlen(local), 9 + NET_UNSUB_TAG_LEN);
	CP_CHECK(strlen(local) <= 64, "fits a local part");
	CP_CHECK_INT(net_unsub_parse(local, strlen(local), &tenant, tag), 0);
	CP_CHECK(tenant == 12, "tenant %lld", (long long)tenant);
	/* the address in any case */
	CP_CHECK(net_unsub_check(key, sizeof(key), 12, "ann@gmail.test", tag),
	    "lower case");
	CP_CHECK(net_unsub_check(key, sizeof(key), 12, "ANN@GMAIL.TEST", tag),
	    "upper case");
	/* anyone else, another tenant, another key */
	CP_CHECK(!net_unsub_check(key, sizeof(key), 12, "bob@gmail.test", tag),
	    "another address");
	CP_CHECK(!net_unsub_check(key, sizeof(key), 13, "ann@gmail.test", tag),
	    "another tenant");
	CP_CHECK(!net_unsub_check(other, sizeof(other), 12, "ann@gmail.test",
	    tag), "another key");
	CP_CHECK(!net_unsub_check(key, sizeof(key), 12, "", tag), "empty");
	CP_CHECK(!net_unsub_check(key, sizeof(key), 12, "ann@gmail.test",
	    "abc"), "short tag");

	/* the whole address is classified as ours */
	snprintf(addr, sizeof(addr), "%s@bounce.test", local);
	CP_CHECK_INT(net_inbound_classify(addr, "bounce.test", "b-", key,
	    sizeof(key), &r), NET_IN_UNSUB);
	CP_CHECK(r.tenant == 12 && strcmp(r.tag, tag) == 0, "tenant, tag");
	/* upper-case hex and prefix are the same token */
	for (char *p = addr; *p && *p != '@'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	CP_CHECK_INT(net_inbound_classify(addr, "bounce.test", "b-", key,
	    sizeof(key), &r), NET_IN_UNSUB);
	CP_CHECK_STR(r.tag, tag);

	/* malformed */
	static const char *const bad[] = { "unsub", "unsub+", "unsub+12",
		"unsub+12-", "unsub+-0011223344556677",
		"unsub+012-0011223344556677", "unsub+12-001122334455667",
		"unsub+12-00112233445566778", "unsub+12-00112233445566zz",
		"unsub+1a-0011223344556677", "unsubs+12-0011223344556677",
		"unsub+99999999999999999999-0011223344556677",
		"unsub-12-0011223344556677" };
	for (size_t i = 0; i < CP_NELEM(bad); i++)
		CP_CHECK(net_unsub_parse(bad[i], strlen(bad[i]), &tenant,
		    tag) != 0, "'%s' parsed", bad[i]);
	/* no room, no tenant */
	CP_CHECK_INT(net_unsub_make(key, sizeof(key), 12, "a@b.test", local,
	    10), CP_ETOOBIG);
	CP_CHECK_INT(net_unsub_make(key, sizeof(key), 0, "a@b.test", local,
	    sizeof(local)), CP_EINVAL);
}

CP_TEST(net_inbound_unsub_fields)
{
	cp_buf f;

	cp_buf_init(&f, 4096);
	CP_CHECK_INT(net_unsub_fields("unsub+1-0011223344556677@bounce.test",
	    NULL, &f), CP_OK);
	CP_CHECK_STR(f.data, "List-Unsubscribe: "
	    "<mailto:unsub+1-0011223344556677@bounce.test>\r\n");
	cp_buf_free(&f);
	cp_buf_init(&f, 4096);
	CP_CHECK_INT(net_unsub_fields("unsub+1-0011223344556677@bounce.test",
	    "https://relay.test/unsubscribe/AAAA", &f), CP_OK);
	CP_CHECK_STR(f.data, "List-Unsubscribe: "
	    "<mailto:unsub+1-0011223344556677@bounce.test>,\r\n"
	    " <https://relay.test/unsubscribe/AAAA>\r\n"
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
	cp_buf_free(&f);
}

static void
check_insert(const char *msg, const char *want)
{
	cp_buf b;

	cp_buf_init(&b, 1 << 20);
	cp_buf_adds(&b, msg);
	CP_CHECK_INT(net_insert_fields(&b, "X: 1\r\n", 6), CP_OK);
	CP_CHECK(b.data != NULL && strcmp(b.data, want) == 0,
	    "'%s' became '%s'", msg, b.data ? b.data : "(null)");
	cp_buf_free(&b);
}

CP_TEST(net_inbound_insert_fields)
{
	check_insert("A: a\r\nB: b\r\n\r\nbody\r\n",
	    "A: a\r\nB: b\r\nX: 1\r\n\r\nbody\r\n");
	check_insert("A: a\nB: b\n\nbody\n", "A: a\nB: b\nX: 1\r\n\nbody\n");
	check_insert("A: a\r\n", "A: a\r\nX: 1\r\n");
	check_insert("A: a", "A: a\r\nX: 1\r\n");
	check_insert("\r\nbody", "X: 1\r\n\r\nbody");
	check_insert("", "X: 1\r\n");
	/* a blank line inside the body is not the header's end */
	check_insert("A: a\r\n\r\nx\r\n\r\ny\r\n",
	    "A: a\r\nX: 1\r\n\r\nx\r\n\r\ny\r\n");
}

/* A record as the parser gives it: every string present. */
static cp_bounce_rcpt
rec(const char *rcpt, const char *action, const char *reason,
    const char *feedback)
{
	cp_bounce_rcpt r;

	memset(&r, 0, sizeof(r));
	r.recipient = rcpt;
	r.orig_recipient = "";
	r.action = action;
	r.status = "";
	r.diagnostic = "";
	r.remote_mta = "";
	r.reporting_mta = "";
	r.command = "";
	r.date = "";
	r.reason = reason;
	r.cause = -1;
	r.receiver = "unknown";
	r.rule = "";
	r.feedback_type = feedback;
	return r;
}

CP_TEST(net_inbound_report_class)
{
	cp_bounce_rcpt r;

	r = rec("a@x.test", "failed", "userunknown", "");
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_FAILURE);
	r = rec("a@x.test", "", "mailboxfull", ""); /* a plain-text bounce */
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_FAILURE);
	r = rec("a@x.test", "FAILED", "filtered", "");
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_FAILURE);
	r = rec("a@x.test", "delayed", "expired", "");
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_NONE);
	r = rec("a@x.test", "delivered", "delivered", "");
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_NONE);
	r = rec("a@x.test", "", "vacation", "");
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_NONE);
	r = rec("a@x.test", "relayed", "undefined", "");
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_NONE);
	r = rec("a@x.test", "", "feedback", "abuse");
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_COMPLAINT);
	r = rec("a@x.test", "", "", "fraud");
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_COMPLAINT);
	r = rec("a@x.test", "failed", "", ""); /* no reason: nothing known */
	CP_CHECK_INT(net_report_class(&r), NET_REPORT_NONE);
}

CP_TEST(net_inbound_report_pick)
{
	cp_bounce_rcpt v[3];
	cp_bounce b;

	memset(&b, 0, sizeof(b));
	b.rcpts = v;
	/* the record naming our recipient, in any case, wins */
	v[0] = rec("other@x.test", "failed", "userunknown", "");
	v[1] = rec("Ann@X.test", "delayed", "expired", "");
	v[2] = rec("third@x.test", "failed", "mailboxfull", "");
	b.n = 3;
	CP_CHECK(net_report_pick(&b, "ann@x.test") == &v[1], "named one");
	/* Original-Recipient counts too (a forwarded address) */
	v[1].recipient = "ann.forward@y.test";
	v[1].orig_recipient = "ann@x.test";
	CP_CHECK(net_report_pick(&b, "ann@x.test") == &v[1], "original");
	/* nobody named: the first failure */
	v[1].orig_recipient = "";
	CP_CHECK(net_report_pick(&b, "ann@x.test") == &v[0], "first failure");
	v[0].action = "delayed";
	CP_CHECK(net_report_pick(&b, "ann@x.test") == &v[2], "skips delays");
	/* one record: that one, whatever it names (a redacted ARF report) */
	v[0] = rec("", "", "feedback", "abuse");
	b.n = 1;
	CP_CHECK(net_report_pick(&b, "ann@x.test") == &v[0], "only one");
	/* nothing */
	b.n = 0;
	CP_CHECK(net_report_pick(&b, "ann@x.test") == NULL, "none");
	v[0] = rec("x@x.test", "delivered", "delivered", "");
	v[1] = rec("y@x.test", "delayed", "expired", "");
	b.n = 2;
	CP_CHECK(net_report_pick(&b, "ann@x.test") == NULL, "no failure");
}

/* A real DSN through the parser: the record about our recipient is found
 * and is a hard failure. */
CP_TEST(net_inbound_report_parsed)
{
	static const char dsn[] =
	    "From: Mail Delivery Subsystem <mailer-daemon@mx.gmail.test>\r\n"
	    "To: b-+42-1a2b3c4d@bounce.test\r\n"
	    "Subject: Delivery Status Notification (Failure)\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    " boundary=\"XX\"\r\n\r\n"
	    "--XX\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
	    "--XX\r\nContent-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.gmail.test\r\n\r\n"
	    "Final-Recipient: rfc822; someone.else@gmail.test\r\n"
	    "Action: delayed\r\nStatus: 4.2.2\r\n\r\n"
	    "Final-Recipient: rfc822; Ann.User@gmail.test\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 The email account that you "
	    "tried to reach does not exist.\r\n\r\n"
	    "--XX--\r\n";
	cp_bounce_parser *p;
	const cp_bounce *b = NULL;
	const cp_bounce_rcpt *r;
	cp_err err = { 0 };

	p = cp_bounce_parser_new(&err);
	CP_CHECK(p != NULL, "parser: %s", err.msg);
	if (p == NULL)
		return;
	CP_CHECK_INT(cp_bounce_parse(p, dsn, sizeof(dsn) - 1, &b, &err), CP_OK);
	CP_CHECK(b != NULL && b->n == 2, "two records (%zu)", b ? b->n : 0);
	r = b ? net_report_pick(b, "ann.user@gmail.test") : NULL;
	CP_CHECK(r != NULL && strcasecmp(r->recipient,
	    "ann.user@gmail.test") == 0, "picked %s", r ? r->recipient : "-");
	if (r != NULL) {
		CP_CHECK_INT(net_report_class(r), NET_REPORT_FAILURE);
		CP_CHECK_STR(r->reason, "userunknown");
		CP_CHECK_INT(r->hard, 1);
	}
	cp_bounce_parser_free(p);
}
