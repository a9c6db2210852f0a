/*
 * Unit tests: the DSN builder (src/queue/dsn.c). A built DSN is parsed
 * back with GMime (an independent MIME parser) and its delivery-status
 * fields read back; every line is checked for CRLF and the 998 limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>

#include "coldpost/alloc.h"
#include "coldpost/dsn.h"
#include "cptest.h"

#define T_ARRIVAL 1795831200 /* Sat, 28 Nov 2026 02:00:00 +0000 */
#define T_NOW (T_ARRIVAL + 3600)

/* a References line of ~1,500 bytes with spaces, one of 1,200 without */
static char orig[8192];

static void
make_orig(void)
{
	size_t n = 0;

	n += (size_t)snprintf(orig + n, sizeof(orig) - n,
	    "Received: from client (client [127.0.0.1])\r\n"
	    "\tby relay.example (coldpost) with ESMTPSA\r\n"
	    "From: Ann <ann@sender.example>\r\n"
	    "To: bob@gmail.test, carol@outlook.test\r\n"
	    "Subject: Quarterly numbers\r\n"
	    "Message-ID: <orig-1@sender.example>\r\n"
	    "References:");
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(orig + n, sizeof(orig) - n,
		    " <ref-%04d-abcdefgh@sender.example>", i);
	n += (size_t)snprintf(orig + n, sizeof(orig) - n, "\r\nX-Blob: ");
	for (int i = 0; i < 1200; i++)
		orig[n++] = (char)('a' + i % 26);
	snprintf(orig + n, sizeof(orig) - n,
	    "\r\n\r\nHello Bob,\r\nthe body is not copied.\r\n");
}

static const char long_diag[] =
    "550-5.1.1 The email account that you tried to reach does not exist. "
    "Please try\r\n550-5.1.1 double-checking the recipient's email address "
    "for typos or\r\n550-5.1.1 unnecessary spaces. For more information, go "
    "to\r\n550 5.1.1  https://support.google.test/mail/?p=NoSuchUser "
    "a1-20020a17090a";

static const cp_dsn_rcpt rcpts[] = {
	{ "bob@gmail.test", CP_DSN_FAILED, "5.1.1", "mx.gmail.test", long_diag,
	    "The address does not exist at Gmail.", T_ARRIVAL + 60, 0 },
	{ "carol@outlook.test", CP_DSN_DELAYED, "", "mx.outlook.test",
	    "451 4.7.500 Server busy.\r\nBcc: injected@evil.test",
	    "Microsoft is limiting the rate.", T_ARRIVAL + 120, 0 },
	{ "dave@nowhere.test", CP_DSN_FAILED, "not-a-status", "", "", "", 0,
	    1 },
	{ "erin@refused.test", CP_DSN_FAILED, "55.1.1", "", "", "", 0, 0 },
};

static cp_dsn
make_dsn(void)
{
	cp_dsn d = { 0 };

	make_orig();
	d.reporting_mta = "relay.example";
	d.from = "MAILER-DAEMON@relay.example";
	d.to = "ann@sender.example";
	d.queue_id = "Q12345";
	d.arrival = T_ARRIVAL;
	d.now = T_NOW;
	d.orig = orig;
	d.orig_len = strlen(orig);
	d.rcpts = rcpts;
	d.n = CP_NELEM(rcpts);
	return d;
}

/* Every line ends in CRLF, none is longer than 998 octets. */
static void
check_lines(const char *p, size_t len)
{
	size_t start = 0, nline = 0;

	CP_CHECK(len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n',
	    "does not end with CRLF");
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r') {
			CP_CHECK(i + 1 < len && p[i + 1] == '\n',
			    "bare CR at %zu", i);
			CP_CHECK(i - start <= 998, "line %zu: %zu octets",
			    nline, i - start);
			i++;
			start = i + 1;
			nline++;
		} else
			CP_CHECK(p[i] != '\n', "bare LF at %zu", i);
		CP_CHECK(p[i] != '\0', "NUL at %zu", i);
	}
}

/* The content of a leaf part, decoded, NUL-terminated (g_free it). */
static char *
part_text(GMimeObject *obj)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *ba;
	char *s;

	if (GMIME_IS_PART(obj))
		g_mime_data_wrapper_write_to_stream(
		    g_mime_part_get_content(GMIME_PART(obj)), mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = g_strndup((const char *)ba->data, ba->len);
	g_object_unref(mem);
	return s;
}

/*
 * Field `name` of group `group` (blank-line separated, 0 = per-message)
 * of a delivery-status body, unfolded (CRLF removed). NULL if absent.
 */
static char *
status_field(const char *body, int group, const char *name)
{
	char **lines = g_strsplit(body, "\r\n", -1);
	GString *val = NULL;
	int g = 0, in = 0;
	size_t nl = strlen(name);

	for (int i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];

		if (l[0] == '\0') {
			if (i > 0 && lines[i - 1][0] != '\0')
				g++;
			in = 0;
			continue;
		}
		if (in && (l[0] == ' ' || l[0] == '\t')) {
			g_string_append(val, l);
			continue;
		}
		in = 0;
		if (g == group && val == NULL && g_ascii_strncasecmp(l, name,
		    nl) == 0 && l[nl] == ':') {
			val = g_string_new(l + nl + 1);
			in = 1;
		}
	}
	g_strfreev(lines);
	if (val == NULL)
		return NULL;
	g_strstrip(val->str);
	return g_string_free(val, FALSE);
}

static void
check_field(const char *body, int group, const char *name, const char *want)
{
	char *got = status_field(body, group, name);

	CP_CHECK(got != NULL && want != NULL ? strcmp(got, want) == 0 :
	    got == want, "group %d %s: got '%s', want '%s'", group, name,
	    got ? got : "(none)", want ? want : "(none)");
	g_free(got);
}

static GMimeMessage *
parse(const char *p, size_t len)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(p, len);
	GMimeParser *ps = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(ps, NULL);

	g_object_unref(ps);
	g_object_unref(s);
	return m;
}

CP_TEST(dsn_parses_back)
{
	cp_dsn d = make_dsn();
	cp_buf out;
	cp_err err = { 0 };
	GMimeMessage *m;
	GMimeObject *top;
	GMimeMultipart *mp;
	GMimeContentType *ct;
	const char *h;
	char *status, *text, *hdrs;

	g_mime_init();
	cp_buf_init(&out, 1 << 20);
	CP_CHECK_INT(cp_dsn_build(&d, &out, &err), CP_OK);
	check_lines(out.data, out.len);
	m = parse(out.data, out.len);
	CP_CHECK(m != NULL, "GMime could not parse the DSN");
	if (m == NULL)
		return;
	h = g_mime_object_get_header(GMIME_OBJECT(m), "From");
	CP_CHECK(h && strstr(h, "<MAILER-DAEMON@relay.example>"), "From %s", h);
	CP_CHECK_STR(g_mime_object_get_header(GMIME_OBJECT(m), "To"),
	    "<ann@sender.example>");
	CP_CHECK_STR(g_mime_object_get_header(GMIME_OBJECT(m),
	    "Auto-Submitted"), "auto-replied");
	CP_CHECK_STR(g_mime_object_get_header(GMIME_OBJECT(m), "Date"),
	    "Sat, 28 Nov 2026 03:00:00 +0000");
	CP_CHECK_STR(g_mime_message_get_subject(m),
	    "Undelivered Mail Returned to Sender");
	h = g_mime_message_get_message_id(m);
	CP_CHECK(h && g_str_has_suffix(h, "@relay.example") &&
	    g_str_has_prefix(h, "20261128030000."), "Message-ID %s", h);
	CP_CHECK_STR(g_mime_object_get_header(GMIME_OBJECT(m),
	    "X-Coldpost-Queue-Id"), "Q12345");

	top = g_mime_message_get_mime_part(m);
	ct = g_mime_object_get_content_type(top);
	CP_CHECK(g_mime_content_type_is_type(ct, "multipart", "report"),
	    "top type %s", g_mime_content_type_get_mime_type(ct));
	CP_CHECK_STR(g_mime_content_type_get_parameter(ct, "report-type"),
	    "delivery-status");
	h = g_mime_content_type_get_parameter(ct, "boundary");
	CP_CHECK(h != NULL && strstr(out.data, h) != NULL, "boundary");
	CP_CHECK(GMIME_IS_MULTIPART(top), "not a multipart");
	if (!GMIME_IS_MULTIPART(top))
		return;
	mp = GMIME_MULTIPART(top);
	CP_CHECK_INT(g_mime_multipart_get_count(mp), 3);
	if (g_mime_multipart_get_count(mp) != 3)
		return;
	CP_CHECK(g_mime_content_type_is_type(g_mime_object_get_content_type(
	    g_mime_multipart_get_part(mp, 0)), "text", "plain"), "part 1");
	CP_CHECK(g_mime_content_type_is_type(g_mime_object_get_content_type(
	    g_mime_multipart_get_part(mp, 1)), "message", "delivery-status"),
	    "part 2");
	CP_CHECK(g_mime_content_type_is_type(g_mime_object_get_content_type(
	    g_mime_multipart_get_part(mp, 2)), "text", "rfc822-headers"),
	    "part 3");

	/* RFC 3464 fields, per message then per recipient */
	status = part_text(g_mime_multipart_get_part(mp, 1));
	check_field(status, 0, "Reporting-MTA", "dns; relay.example");
	check_field(status, 0, "X-Original-Envelope-Id", "Q12345");
	check_field(status, 0, "Arrival-Date", "Sat, 28 Nov 2026 02:00:00 +0000");
	check_field(status, 1, "Final-Recipient", "rfc822; bob@gmail.test");
	check_field(status, 1, "Action", "failed");
	check_field(status, 1, "Status", "5.1.1");
	check_field(status, 1, "Remote-MTA", "dns; mx.gmail.test");
	check_field(status, 1, "Diagnostic-Code", "smtp; 550-5.1.1 The email "
	    "account that you tried to reach does not exist. Please try "
	    "550-5.1.1 double-checking the recipient's email address for "
	    "typos or 550-5.1.1 unnecessary spaces. For more information, go "
	    "to 550 5.1.1 https://support.google.test/mail/?p=NoSuchUser "
	    "a1-20020a17090a");
	check_field(status, 1, "Last-Attempt-Date",
	    "Sat, 28 Nov 2026 02:01:00 +0000");
	check_field(status, 2, "Final-Recipient", "rfc822; carol@outlook.test");
	check_field(status, 2, "Action", "delayed");
	check_field(status, 2, "Status", "4.0.0");
	check_field(status, 2, "Diagnostic-Code",
	    "smtp; 451 4.7.500 Server busy. Bcc: injected@evil.test");
	check_field(status, 3, "Final-Recipient", "rfc822; dave@nowhere.test");
	check_field(status, 3, "Status", "4.4.7"); /* expired, RFC 3463 */
	check_field(status, 3, "Remote-MTA", NULL);
	check_field(status, 3, "Diagnostic-Code", NULL);
	check_field(status, 3, "Last-Attempt-Date", NULL);
	check_field(status, 4, "Final-Recipient", "rfc822; erin@refused.test");
	check_field(status, 4, "Status", "5.0.0");
	check_field(status, 5, "Final-Recipient", NULL);
	/* the injected line stayed inside Diagnostic-Code */
	CP_CHECK(strstr(status, "\r\nBcc:") == NULL, "header injection");
	CP_CHECK(strstr(out.data, "\r\nBcc:") == NULL, "header injection");
	/* the long diagnostic was folded, not left on one line */
	CP_CHECK(strstr(status, "smtp; 550-5.1.1 The email account that you "
	    "tried to reach does not exist. Please try") == NULL, "not folded");

	text = part_text(g_mime_multipart_get_part(mp, 0));
	CP_CHECK(strstr(text, "<bob@gmail.test>: not delivered; no further")
	    != NULL, "human text for bob:\n%s", text);
	CP_CHECK(strstr(text, "The address does not exist at Gmail.") != NULL,
	    "explain line missing:\n%s", text);
	CP_CHECK(strstr(text, "<carol@outlook.test>: not delivered yet") !=
	    NULL, "human text for carol");
	CP_CHECK(strstr(text, "Microsoft is limiting the rate.") != NULL,
	    "explain line missing");
	CP_CHECK(strstr(text, "<dave@nowhere.test>: not delivered: no server "
	    "accepted it before the message\r\nexpired") != NULL,
	    "expired headline for dave:\n%s", text);
	CP_CHECK(strstr(text, "No mail server accepted the message before it "
	    "expired.") != NULL, "fallback explanation for dave:\n%s", text);
	CP_CHECK(strstr(text, "It was tried for 1 hour after it was received.")
	    != NULL, "expiry duration:\n%s", text);
	CP_CHECK(strstr(text, "<erin@refused.test>: not delivered; no further")
	    != NULL && strstr(text, "The message could not be delivered.") !=
	    NULL, "plain failure for erin:\n%s", text);
	CP_CHECK(strstr(text, "\"Quarterly numbers\"") != NULL, "subject");

	hdrs = part_text(g_mime_multipart_get_part(mp, 2));
	CP_CHECK(strstr(hdrs, "Subject: Quarterly numbers\r\n") != NULL,
	    "original header");
	CP_CHECK(strstr(hdrs, "Received: from client (client [127.0.0.1])"
	    "\r\n\tby relay.example") != NULL, "folding kept");
	CP_CHECK(strstr(hdrs, "the body is not copied") == NULL, "body copied");
	CP_CHECK(strstr(out.data, "the body is not copied") == NULL, "body");
	{
		/* References folded at its spaces: unfolds to the original */
		char *ref = status_field(hdrs, 0, "References");
		const char *o = strstr(orig, "References:") + 11;
		size_t olen = (size_t)(strstr(o, "\r\n") - o);

		CP_CHECK(ref != NULL && strlen(ref) + 1 == olen &&
		    strncmp(ref, o + 1, olen - 1) == 0, "References changed");
		g_free(ref);
	}
	g_free(status);
	g_free(text);
	g_free(hdrs);
	g_object_unref(m);
	cp_buf_free(&out);
}

CP_TEST(dsn_delayed_only)
{
	cp_dsn d = make_dsn();
	cp_buf out;

	d.rcpts = &rcpts[1];
	d.n = 1;
	d.orig = NULL;
	d.orig_len = 0;
	cp_buf_init(&out, 1 << 20);
	CP_CHECK_INT(cp_dsn_build(&d, &out, NULL), CP_OK);
	check_lines(out.data, out.len);
	CP_CHECK(strstr(out.data, "Subject: Delayed Mail") != NULL, "subject");
	CP_CHECK(strstr(out.data, "text/rfc822-headers") == NULL,
	    "headers part without an original");
	CP_CHECK(strstr(out.data, "you do not need to send it again") != NULL,
	    "delayed wording");
	cp_buf_free(&out);
}

CP_TEST(dsn_fresh_ids)
{
	cp_dsn d = make_dsn();
	cp_buf a, b;
	const char *ma, *mb;

	cp_buf_init(&a, 1 << 20);
	cp_buf_init(&b, 1 << 20);
	CP_CHECK_INT(cp_dsn_build(&d, &a, NULL), CP_OK);
	CP_CHECK_INT(cp_dsn_build(&d, &b, NULL), CP_OK);
	ma = strstr(a.data, "Message-ID: <");
	mb = strstr(b.data, "Message-ID: <");
	CP_CHECK(ma && mb && strncmp(ma, mb, 50) != 0, "same Message-ID");
	CP_CHECK(strstr(a.data, "boundary=\"") && strncmp(strstr(a.data,
	    "boundary=\""), strstr(b.data, "boundary=\""), 40) != 0,
	    "same boundary");
	cp_buf_free(&a);
	cp_buf_free(&b);
}

/* Header lines far over 998 octets, with and without whitespace. */
CP_TEST(dsn_folds_long_fields)
{
	static char diag[5000], addr[3000];
	cp_dsn_rcpt r = { 0 };
	cp_dsn d = make_dsn();
	cp_buf out;

	for (size_t i = 0; i < sizeof(diag) - 1; i++)
		diag[i] = i % 97 == 96 ? ' ' : 'x';
	memset(addr, 'y', sizeof(addr) - 1);
	memcpy(addr + sizeof(addr) - 12, "@long.test", 11);
	r.address = addr;
	r.action = CP_DSN_FAILED;
	r.diagnostic = diag;
	d.rcpts = &r;
	d.n = 1;
	cp_buf_init(&out, 1 << 20);
	CP_CHECK_INT(cp_dsn_build(&d, &out, NULL), CP_OK);
	check_lines(out.data, out.len);
	cp_buf_free(&out);
}

CP_TEST(dsn_errors_leave_buffer)
{
	cp_dsn d = make_dsn();
	cp_buf out;
	cp_err err = { 0 };

	cp_buf_init(&out, 1 << 20);
	cp_buf_adds(&out, "keep");
	d.n = 0;
	CP_CHECK_INT(cp_dsn_build(&d, &out, &err), CP_EINVAL);
	CP_CHECK_STR(out.data, "keep");
	cp_buf_free(&out);

	d = make_dsn();
	cp_buf_init(&out, 600); /* too small for the whole report */
	cp_buf_adds(&out, "keep");
	CP_CHECK_INT(cp_dsn_build(&d, &out, &err), CP_ETOOBIG);
	CP_CHECK_STR(out.data, "keep");
	CP_CHECK(strstr(err.msg, "ann@sender.example") != NULL, "%s", err.msg);
	cp_buf_free(&out);
}

/* Each allocation failing in turn gives CP_ENOMEM and no partial DSN. */
CP_TEST(dsn_alloc_failures)
{
	cp_dsn d = make_dsn();
	int rc = CP_ENOMEM;

	for (unsigned long k = 1; k < 10000 && rc == CP_ENOMEM; k++) {
		cp_buf out;

		cp_buf_init(&out, 1 << 20);
		cp_alloc_fail_at(k);
		rc = cp_dsn_build(&d, &out, NULL);
		cp_alloc_fail_at(0);
		CP_CHECK(rc == CP_OK || rc == CP_ENOMEM, "k %lu: rc %d", k, rc);
		if (rc == CP_ENOMEM)
			CP_CHECK(out.len == 0, "k %lu: %zu bytes left", k,
			    out.len);
		cp_buf_free(&out);
	}
	CP_CHECK_INT(rc, CP_OK);
}

CP_TEST(dsn_expiry_duration)
{
	static const struct { int64_t age; const char *want; } cases[] = {
		{ 45, "tried for 45 seconds after" },
		{ 60, "tried for 1 minute after" },
		{ 2 * 86400 + 3 * 3600 + 5 * 60, "tried for 2 days 3 hours after" },
		{ 5 * 86400, "tried for 5 days after" },
		{ 3600 + 61, "tried for 1 hour 1 minute after" },
	};
	cp_dsn_rcpt r = { "x@y.test", CP_DSN_FAILED, "", "", "", "", 0, 1 };

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_dsn d = make_dsn();
		cp_buf out;

		d.rcpts = &r;
		d.n = 1;
		d.arrival = d.now - cases[i].age;
		cp_buf_init(&out, 1 << 20);
		CP_CHECK_INT(cp_dsn_build(&d, &out, NULL), CP_OK);
		CP_CHECK(out.data && strstr(out.data, cases[i].want) != NULL,
		    "case %zu: no '%s'", i, cases[i].want);
		cp_buf_free(&out);
	}
}
