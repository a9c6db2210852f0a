/* Unit tests: the content and CAN-SPAM linter (src/lint/). Messages are
 * built from a clean cold email with one thing changed, so each case
 * shows the one rule it is about firing, or not. */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/lint.h"
#include "cptest.h"
#include "lint/lint_int.h"

#define FROM "From: Dana <dana@northwind.example>\r\n"
#define STD_HDR                                                              \
	"To: sam@contoso.example\r\n"                                        \
	"Date: Tue, 24 Nov 2026 09:12:00 -0500\r\n"                          \
	"Message-ID: <1@northwind.example>\r\n"                              \
	"List-Unsubscribe: <https://northwind.example/u/1>\r\n"              \
	"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
#define BODY                                                                 \
	"Hi Sam,\r\n\r\nI saw that Contoso is opening four new stores this "  \
	"spring. Retailers at that stage usually find that their stock "     \
	"forecasts lag behind, because new locations have no sales "         \
	"history. We help regional chains forecast demand for new stores.\r\n" \
	"Would a short call next week be worth it?\r\n\r\nDana\r\n"          \
	"Northwind, 1200 Harbor Boulevard, Oakland, CA 94607\r\n"            \
	"Reply stop if you would rather not hear from me.\r\n"

/* Lint headers + "\r\n" + body; returns the rc, report in *r. */
static int
lint(const char *hdr, const char *body, const cp_lint_opts *o,
    cp_lint_report *r)
{
	char msg[16384];
	int n = snprintf(msg, sizeof(msg), "%s\r\n%s", hdr, body);
	cp_err err = { 0 };

	CP_CHECK(n > 0 && (size_t)n < sizeof(msg), "message too long");
	return cp_lint_check_message(msg, (size_t)n, o, r, &err);
}

/* Does linting this message report rule? -1 when linting failed. */
static int
fires(const char *hdr, const char *body, const char *rule)
{
	cp_lint_report r;
	int has;

	if (lint(hdr, body, NULL, &r) != CP_OK)
		return -1;
	has = cp_lint_report_find(&r, rule) != NULL;
	cp_lint_report_clear(&r);
	return has;
}

CP_TEST(lint_clean_passes)
{
	cp_lint_report r;
	int rc = lint(FROM "Subject: Forecasts for new stores\r\n" STD_HDR,
	    BODY, NULL, &r);

	CP_CHECK_INT(rc, CP_OK);
	for (size_t i = 0; i < r.n; i++)
		CP_CHECK(0, "unexpected %s: %s", r.v[i].rule, r.v[i].evidence);
	CP_CHECK_INT(r.score, 0);
	CP_CHECK_INT(r.verdict, CP_LINT_PASS);
	CP_CHECK_STR(r.from_domain, "northwind.example");
	CP_CHECK_STR(r.sending_domain, "northwind.example");
	CP_CHECK(r.stats.words > 40, "words %zu", r.stats.words);
	cp_lint_report_clear(&r);
	cp_lint_report_clear(NULL);
}

static const struct {
	const char *subject;
	const char *extra; /* more header fields */
	int fake;
} reply_cases[] = {
	{ "Re: forecasts", "", 1 },
	{ "RE:forecasts", "", 1 },
	{ "Fwd: forecasts", "", 1 },
	{ "FW: forecasts", "", 1 },
	{ "Re[2]: forecasts", "", 1 },
	{ "AW: Re: forecasts", "", 1 },
	{ "=?UTF-8?Q?Re=3A_forecasts?=", "", 1 },
	{ "Re: forecasts", "In-Reply-To: <a@b.example>\r\n", 0 },
	{ "Fwd: forecasts", "References: <a@b.example>\r\n", 0 },
	{ "Regarding forecasts", "", 0 },
	{ "Forecasts: re-run", "", 0 },
};

CP_TEST(lint_subject_fake_reply)
{
	char hdr[1024];

	for (size_t i = 0; i < CP_NELEM(reply_cases); i++) {
		snprintf(hdr, sizeof(hdr), FROM "Subject: %s\r\n%s" STD_HDR,
		    reply_cases[i].subject, reply_cases[i].extra);
		CP_CHECK(fires(hdr, BODY, "subject.fake-reply") ==
		    reply_cases[i].fake, "case %zu (%s)", i,
		    reply_cases[i].subject);
	}
}

static const struct {
	const char *subject;
	const char *rule;
	int fires;
} subject_cases[] = {
	{ "=?UTF-8?B?8J+UpSBGb3JlY2FzdHM=?=", "subject.emoji", 1 },
	{ "Forecasts \xe2\x9c\x85 done", "subject.emoji", 1 },
	{ "Caf\xc3\xa9 forecasts", "subject.emoji", 0 },
	{ "FORECASTS FOR CONTOSO", "subject.shouting", 1 },
	{ "Huge NEWS for YOUR team", "subject.shouting", 1 },
	{ "SEO and CRM forecasts", "subject.shouting", 0 },
	{ "HIPAA forecasts", "subject.shouting", 0 },
	{ "Forecasts!!", "subject.punctuation", 1 },
	{ "Save $$ on forecasts", "subject.punctuation", 1 },
	{ "Forecasts?", "subject.punctuation", 0 },
	{ "", "subject.missing", 1 },
	{ "Free trial of forecasts", "content.spam-phrase", 1 },
	{ "Freedom of forecasts", "content.spam-phrase", 0 },
};

CP_TEST(lint_subject_rules)
{
	char hdr[1024];

	for (size_t i = 0; i < CP_NELEM(subject_cases); i++) {
		snprintf(hdr, sizeof(hdr), FROM "Subject: %s\r\n" STD_HDR,
		    subject_cases[i].subject);
		CP_CHECK(fires(hdr, BODY, subject_cases[i].rule) ==
		    subject_cases[i].fires, "case %zu (%s): %s", i,
		    subject_cases[i].subject, subject_cases[i].rule);
	}
	CP_CHECK(fires(FROM STD_HDR, BODY, "subject.missing") == 1,
	    "no Subject field");
}

static const struct {
	const char *text;
	int found;
} phrase_cases[] = {
	{ "This is a LIMITED TIME offer.", 1 },
	{ "Please act\r\n now on this.", 1 },        /* across a line break */
	{ "There is no catch here.", 1 },
	{ "We don\xe2\x80\x99t deliver on weekends.", 0 },
	{ "Don\xe2\x80\x99t delete this.", 1 },      /* typographic apostrophe */
	{ "Our winners list is out.", 0 },           /* not inside a word */
	{ "A prize-winning team.", 1 },
	{ "We ship our orders now, not later.", 0 },
};

CP_TEST(lint_spam_phrases)
{
	char body[4096];

	for (size_t i = 0; i < CP_NELEM(phrase_cases); i++) {
		snprintf(body, sizeof(body), "%s\r\n%s", phrase_cases[i].text,
		    BODY);
		CP_CHECK(fires(FROM "Subject: Forecasts\r\n" STD_HDR, body,
		    "content.spam-phrase") == phrase_cases[i].found,
		    "case %zu (%s)", i, phrase_cases[i].text);
	}
}

CP_TEST(lint_spam_phrase_once_each)
{
	cp_lint_report r;
	size_t n = 0;

	CP_CHECK_INT(lint(FROM "Subject: Act now\r\n" STD_HDR,
	    "act now, ACT NOW, act  now. Click here, click here.\r\n" BODY,
	    NULL, &r), CP_OK);
	for (size_t i = 0; i < r.n; i++)
		n += strcmp(r.v[i].rule, "content.spam-phrase") == 0;
	CP_CHECK(n == 2, "%zu phrase findings, want 2 (act now, click here)",
	    n);
	cp_lint_report_clear(&r);
}

static const struct {
	const char *href;
	const char *host;
	int userinfo;
} url_cases[] = {
	{ "https://Example.COM/path", "example.com", 0 },
	{ "http://example.com:8080/x?y", "example.com", 0 },
	{ "www.example.org.", "www.example.org", 0 },
	{ "https://paypal.com@evil.example/login", "evil.example", 1 },
	{ "  https://a.example#frag", "a.example", 0 },
	{ "mailto:x@example.com", NULL, 0 },
	{ "ftp://example.com/", NULL, 0 },
	{ "https://", NULL, 0 },
	{ "https://exa mple.com", "exa", 0 },
	{ "https://ex<ample.com", NULL, 0 },
};

CP_TEST(lint_url_host)
{
	char out[256];
	int ui;

	for (size_t i = 0; i < CP_NELEM(url_cases); i++) {
		size_t n = lint_url_host(url_cases[i].href,
		    strlen(url_cases[i].href), out, sizeof(out), &ui);

		if (url_cases[i].host == NULL) {
			CP_CHECK(n == 0, "case %zu: got host %s", i, out);
			continue;
		}
		CP_CHECK(n > 0 && strcmp(out, url_cases[i].host) == 0,
		    "case %zu: got '%s', want '%s'", i, n ? out : "",
		    url_cases[i].host);
		CP_CHECK(ui == url_cases[i].userinfo, "case %zu: userinfo", i);
	}
	CP_CHECK(lint_url_host("https://example.com", 19, out, 5, &ui) == 0,
	    "host longer than out must fail");
}

#define HTML_HDR                                                             \
	FROM "Subject: Forecasts\r\n" STD_HDR "Content-Type: text/html\r\n"

static const struct {
	const char *html;
	const char *rule;
	int fires;
} html_cases[] = {
	{ "<a href=\"https://evil.example/x\">www.northwind.example</a>",
	    "link.text-mismatch", 1 },
	{ "<a href=\"https://evil.example/x\">https://bank.example/login</a>",
	    "link.text-mismatch", 1 },
	{ "<a href=\"https://go.northwind.example/x\">northwind.example</a>",
	    "link.text-mismatch", 0 },
	{ "<a href=\"https://nodejs.example/\">Node.js</a>",
	    "link.text-mismatch", 0 },
	{ "<a href=\"https://northwind.example/x\">our <b>summary</b></a>",
	    "link.text-mismatch", 0 },
	{ "<img src=\"https://t.example/o.gif\" width=\"1\" height=\"1\">",
	    "image.tracking-pixel", 1 },
	{ "<img src=\"https://t.example/o.gif\" style=\"width:1px;"
	  "height:1px\">", "image.tracking-pixel", 1 },
	{ "<img src=\"https://t.example/o.gif\" style=\"display: none\">",
	    "image.tracking-pixel", 1 },
	{ "<img src=\"https://northwind.example/logo.png\" width=\"120\" "
	  "height=\"40\">", "image.tracking-pixel", 0 },
	{ "<img src=\"https://northwind.example/logo.png\" style=\"max-width:"
	  "1px;width:120px;height:40px\">", "image.tracking-pixel", 0 },
	{ "<a href=\"https://bit.ly/abc\">summary</a>", "link.shortener", 1 },
	{ "<a href=\"https://sub.t.co/abc\">summary</a>", "link.shortener", 1 },
	{ "<a href=\"https://notbit.ly/abc\">summary</a>", "link.shortener",
	    0 },
	{ "<a href=\"http://192.0.2.1/x\">summary</a>", "link.ip-address", 1 },
	{ "<a href=\"https://northwind.example/u\">unsubscribe</a>",
	    "mime.no-text-part", 1 },
};

CP_TEST(lint_html_rules)
{
	char body[8192];

	for (size_t i = 0; i < CP_NELEM(html_cases); i++) {
		snprintf(body, sizeof(body), "<html><body><p>%s</p><p>%s</p>"
		    "</body></html>\r\n", BODY, html_cases[i].html);
		CP_CHECK(fires(HTML_HDR, body, html_cases[i].rule) ==
		    html_cases[i].fires, "case %zu (%s): %s", i,
		    html_cases[i].html, html_cases[i].rule);
	}
}

CP_TEST(lint_html_invisible_text)
{
	cp_lint_report r;

	/* the words are in a script and a style: a reader sees only images */
	CP_CHECK_INT(lint(HTML_HDR, "<html><head><title>act now</title>"
	    "<style>p{}</style></head><body><script>var a='" BODY "';"
	    "</script><img src=\"https://northwind.example/a.png\" width=600 "
	    "height=400><noscript>" BODY "</noscript></body></html>", NULL,
	    &r), CP_OK);
	CP_CHECK(cp_lint_report_find(&r, "body.image-only") != NULL,
	    "image-only not found");
	CP_CHECK(cp_lint_report_find(&r, "content.spam-phrase") == NULL,
	    "title text counted as visible");
	CP_CHECK(r.stats.words == 0, "words %zu", r.stats.words);
	CP_CHECK_INT(r.verdict, CP_LINT_VERDICT_FAIL);
	cp_lint_report_clear(&r);
}

static const struct {
	const char *addr;
	int found;
} addr_cases[] = {
	{ "1200 Harbor Boulevard", 1 },
	{ "500 Fifth Ave.", 1 },
	{ "Suite 4, 77 Mass Ave", 1 },
	{ "PO Box 1234", 1 },
	{ "P.O. Box 77, Springfield", 1 },
	{ "Austin, TX 78701", 1 },
	{ "London EC1A 1BB", 1 },
	{ "Toronto ON M5V 3L9", 1 },
	{ "Hauptstra\xc3\x9f" "e 5, 10115 Berlin", 1 },
	{ "12 rue de la Paix, Paris", 1 },
	{ "we helped 3 teams find a better way", 0 },
	{ "Northwind Analytics, Oakland", 0 },
	{ "call me at 555 1234", 0 },
	{ "version 2 street team", 0 },
};

CP_TEST(lint_postal_address)
{
	char body[4096];

	for (size_t i = 0; i < CP_NELEM(addr_cases); i++) {
		snprintf(body, sizeof(body), "Hi Sam,\r\n\r\nI saw that Contoso "
		    "is opening four new stores this spring and wondered if "
		    "forecasts for new stores would help your team.\r\n\r\n"
		    "Dana\r\n%s\r\nReply stop to opt out.\r\n",
		    addr_cases[i].addr);
		CP_CHECK(fires(FROM "Subject: Forecasts\r\n" STD_HDR, body,
		    "canspam.postal-address") == !addr_cases[i].found,
		    "case %zu (%s)", i, addr_cases[i].addr);
	}
}

static const struct {
	const char *hdr;   /* List-Unsubscribe fields, or "" */
	const char *body_optout;
	const char *rule;
	int fires;
} optout_cases[] = {
	{ "", "", "canspam.opt-out", 1 },
	{ "", "To unsubscribe, reply to this email.", "canspam.opt-out", 0 },
	{ "", "To unsubscribe, reply to this email.",
	    "optout.list-unsubscribe", 1 },
	{ "", "Not for you? Opt-out here.", "canspam.opt-out", 0 },
	{ "", "https://northwind.example/preferences", "canspam.opt-out", 0 },
	{ "List-Unsubscribe: <https://northwind.example/u/1>\r\n", "",
	    "optout.body", 1 },
	{ "List-Unsubscribe: <https://northwind.example/u/1>\r\n", "",
	    "canspam.opt-out", 0 },
	{ "List-Unsubscribe: <https://northwind.example/u/1>\r\n", "",
	    "optout.one-click", 1 },
	{ "List-Unsubscribe: <mailto:u@northwind.example>\r\n"
	  "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", "",
	    "optout.one-click", 1 },
	{ "List-Unsubscribe: <https://northwind.example/u/1>\r\n"
	  "List-Unsubscribe-Post: list-unsubscribe=one-click\r\n", "",
	    "optout.one-click", 0 },
	{ "List-Unsubscribe: <https://northwind.example/u/1>\r\n"
	  "List-Unsubscribe-Post: List-Unsubscribe=Yes\r\n", "",
	    "optout.one-click", 1 },
	{ "List-Unsubscribe: https://northwind.example/u/1\r\n", "",
	    "optout.list-unsubscribe-malformed", 1 },
	{ "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
	  "Reply stop to opt out.", "optout.list-unsubscribe-malformed", 1 },
};

CP_TEST(lint_optout)
{
	char hdr[2048], body[4096];

	for (size_t i = 0; i < CP_NELEM(optout_cases); i++) {
		snprintf(hdr, sizeof(hdr), FROM "Subject: Forecasts\r\n"
		    "Date: Tue, 24 Nov 2026 09:12:00 -0500\r\n"
		    "Message-ID: <1@northwind.example>\r\n%s",
		    optout_cases[i].hdr);
		snprintf(body, sizeof(body), "Hi Sam,\r\n\r\nI saw that "
		    "Contoso is opening four new stores this spring and wondered "
		    "if forecasts for new stores would help your team.\r\n\r\n"
		    "Dana, 1200 Harbor Boulevard, Oakland, CA 94607\r\n%s\r\n",
		    optout_cases[i].body_optout);
		CP_CHECK(fires(hdr, body, optout_cases[i].rule) ==
		    optout_cases[i].fires, "case %zu: %s", i,
		    optout_cases[i].rule);
	}
}

CP_TEST(lint_domains)
{
	cp_lint_opts o = { 0 };
	cp_lint_report r;
	const char *hdr = FROM "Subject: Forecasts\r\n" STD_HDR;

	o.sending_domain = "other.example";
	CP_CHECK_INT(lint(hdr, BODY, &o, &r), CP_OK);
	CP_CHECK(cp_lint_report_find(&r, "header.from-domain") != NULL,
	    "from-domain not found");
	CP_CHECK_INT(r.verdict, CP_LINT_VERDICT_FAIL);
	cp_lint_report_clear(&r);
	o.sending_domain = "MAIL.Northwind.Example.";
	CP_CHECK_INT(lint(hdr, BODY, &o, &r), CP_OK);
	CP_CHECK(r.n == 0, "a subdomain of From is the same sender (%s)",
	    r.n ? r.v[0].rule : "");
	CP_CHECK_STR(r.sending_domain, "mail.northwind.example");
	cp_lint_report_clear(&r);
	CP_CHECK(fires(FROM "Reply-To: dana@freemail.example\r\nSubject: F\r\n"
	    STD_HDR, BODY, "header.reply-to-domain") == 1, "reply-to");
	CP_CHECK(fires(FROM "Reply-To: d@sales.northwind.example\r\n"
	    "Subject: F\r\n" STD_HDR, BODY, "header.reply-to-domain") == 0,
	    "reply-to in a subdomain");
	CP_CHECK(fires("From: a@northwind.example, b@northwind.example\r\n"
	    "Subject: F\r\n" STD_HDR, BODY, "header.from-multiple") == 1,
	    "two From mailboxes");
	CP_CHECK(fires("From: nobody\r\nSubject: F\r\n" STD_HDR, BODY,
	    "header.from-missing") == 1, "From without an address");
}

CP_TEST(lint_attachments)
{
	static const char hdr[] = FROM "Subject: Forecasts\r\n" STD_HDR
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n";
	char body[8192];

	snprintf(body, sizeof(body), "--b\r\nContent-Type: text/plain\r\n\r\n"
	    "%s\r\n--b\r\nContent-Type: application/pdf\r\n"
	    "Content-Disposition: attachment; filename=\"a.pdf\"\r\n\r\n"
	    "%%PDF\r\n--b--\r\n", BODY);
	CP_CHECK(fires(hdr, body, "mime.attachment") == 1, "pdf");
	CP_CHECK(fires(hdr, body, "mime.risky-attachment") == 0, "pdf risky");
	snprintf(body, sizeof(body), "--b\r\nContent-Type: text/plain\r\n\r\n"
	    "%s\r\n--b\r\nContent-Type: application/octet-stream; "
	    "name=\"Invoice.PDF.js\"\r\n\r\nx\r\n--b--\r\n", BODY);
	CP_CHECK(fires(hdr, body, "mime.risky-attachment") == 1, "js");
	/* an inline image shown by the HTML is an image, not an attachment */
	snprintf(body, sizeof(body), "--b\r\nContent-Type: text/html\r\n\r\n"
	    "<p>%s</p><img src=\"cid:logo@n\" width=100 height=40>\r\n--b\r\n"
	    "Content-Type: image/png\r\nContent-ID: <logo@n>\r\n"
	    "Content-Disposition: inline\r\n\r\nPNG\r\n--b--\r\n", BODY);
	{
		cp_lint_report r;

		CP_CHECK_INT(lint(hdr, body, NULL, &r), CP_OK);
		CP_CHECK(r.stats.attachments == 0, "attachments %zu",
		    r.stats.attachments);
		CP_CHECK(r.stats.images == 1, "images %zu", r.stats.images);
		cp_lint_report_clear(&r);
	}
}

CP_TEST(lint_parts_disagree)
{
	static const char hdr[] = FROM "Subject: Forecasts\r\n" STD_HDR
	    "Content-Type: multipart/alternative; boundary=\"b\"\r\n";
	char body[8192];

	snprintf(body, sizeof(body), "--b\r\nContent-Type: text/plain\r\n\r\n"
	    "%s\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>%s</p>\r\n--b--\r\n",
	    BODY, BODY);
	CP_CHECK(fires(hdr, body, "mime.parts-disagree") == 0, "same text");
	snprintf(body, sizeof(body), "--b\r\nContent-Type: text/plain\r\n\r\n"
	    "Your mail reader cannot show this message.\r\n--b\r\n"
	    "Content-Type: text/html\r\n\r\n<p>%s</p>\r\n--b--\r\n", BODY);
	CP_CHECK(fires(hdr, body, "mime.parts-disagree") == 1, "stub text");
}

CP_TEST(lint_links_counted)
{
	cp_lint_opts o = { 0 };
	cp_lint_report r;

	CP_CHECK_INT(lint(FROM "Subject: Forecasts\r\n" STD_HDR, BODY
	    "https://northwind.example/a https://northwind.example/a/ "
	    "http://northwind.example/a, www.northwind.example/b. "
	    "https://partner.example/c\r\n", NULL, &r), CP_OK);
	CP_CHECK(r.stats.links == 3, "links %zu (duplicates count once)",
	    r.stats.links);
	CP_CHECK(cp_lint_report_find(&r, "link.too-many") == NULL, "too-many");
	CP_CHECK(cp_lint_report_find(&r, "link.off-domain") != NULL,
	    "off-domain");
	cp_lint_report_clear(&r);
	o.max_links = 2;
	CP_CHECK_INT(lint(FROM "Subject: Forecasts\r\n" STD_HDR, BODY
	    "https://northwind.example/a https://northwind.example/b "
	    "https://northwind.example/c\r\n", &o, &r), CP_OK);
	CP_CHECK(cp_lint_report_find(&r, "link.too-many") != NULL,
	    "too-many at max 2");
	cp_lint_report_clear(&r);
}

CP_TEST(lint_thresholds)
{
	cp_lint_opts o = { 0 };
	cp_lint_report r;
	const char *hdr = FROM "Subject: Re: forecasts\r\n" STD_HDR;

	CP_CHECK_INT(lint(hdr, BODY, NULL, &r), CP_OK);
	CP_CHECK_INT(r.score, 10);
	CP_CHECK_INT(r.verdict, CP_LINT_VERDICT_FAIL);
	cp_lint_report_clear(&r);
	o.fail_at = 11;
	CP_CHECK_INT(lint(hdr, BODY, &o, &r), CP_OK);
	CP_CHECK_INT(r.verdict, CP_LINT_VERDICT_WARN);
	cp_lint_report_clear(&r);
	o.warn_at = 11;
	o.fail_at = 12;
	CP_CHECK_INT(lint(hdr, BODY, &o, &r), CP_OK);
	CP_CHECK_INT(r.verdict, CP_LINT_PASS);
	cp_lint_report_clear(&r);
	CP_CHECK_STR(cp_lint_verdict_name(CP_LINT_VERDICT_WARN), "warn");
	CP_CHECK_STR(cp_lint_severity_name(CP_LINT_FAIL), "fail");
}

CP_TEST(lint_bad_input)
{
	cp_lint_report r;
	cp_err err = { 0 };
	cp_buf b;

	CP_CHECK_INT(cp_lint_check_message("", 0, NULL, &r, &err), CP_ESYNTAX);
	CP_CHECK(r.n == 0 && r.v == NULL, "report not empty on error");
	CP_CHECK_INT(cp_lint_check_message("x", CP_LINT_MSG_MAX + 1u, NULL, &r,
	    &err), CP_ESYNTAX);
	/* multipart containers beyond the ceiling are refused, not parsed */
	cp_buf_init(&b, 1 << 20);
	CP_CHECK_INT(cp_buf_adds(&b, FROM), CP_OK);
	for (int i = 0; i < 300; i++)
		CP_CHECK_INT(cp_buf_addf(&b, "Content-Type: multipart/mixed; "
		    "boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i), CP_OK);
	CP_CHECK_INT(cp_lint_check_message(b.data, b.len, NULL, &r, &err),
	    CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "multipart") != NULL, "err: %s", err.msg);
	cp_buf_free(&b);
	/* bytes that are not UTF-8 do not stop the rules */
	CP_CHECK_INT(lint(FROM "Subject: \xff\xfe act now\r\n" STD_HDR,
	    "\xc3\x28 \xff act now " BODY, NULL, &r), CP_OK);
	CP_CHECK(cp_lint_report_find(&r, "content.spam-phrase") != NULL,
	    "phrase after invalid UTF-8");
	cp_lint_report_clear(&r);
}

/* Every allocation of ours that can fail, failing in turn: CP_ENOMEM and
 * an empty report, never a crash or a half-built report (ASan checks the
 * frees). GMime's, libxml2's and PCRE2's own allocations are theirs. */
CP_TEST(lint_out_of_memory)
{
	static const char hdr[] = FROM "Subject: Re: act now!!\r\n" STD_HDR
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n";
	char body[8192];
	cp_lint_report r;
	unsigned long n;
	int rc = CP_ENOMEM;

	snprintf(body, sizeof(body), "--b\r\nContent-Type: text/html\r\n\r\n"
	    "<p>%s</p><a href=\"https://bit.ly/x\">www.bank.example</a>"
	    "<img src=\"cid:l\" width=1 height=1>\r\n--b\r\n"
	    "Content-Type: image/png\r\nContent-ID: <l>\r\n\r\nPNG\r\n--b\r\n"
	    "Content-Type: application/pdf\r\nContent-Disposition: attachment;"
	    " filename=a.pdf\r\n\r\n%%PDF\r\n--b--\r\n", BODY);
	CP_CHECK_INT(lint(hdr, body, NULL, &r), CP_OK); /* compile patterns */
	cp_lint_report_clear(&r);
	for (n = 1; n < 5000 && rc == CP_ENOMEM; n++) {
		cp_alloc_fail_at(n);
		rc = lint(hdr, body, NULL, &r);
		cp_alloc_fail_at(0);
		CP_CHECK(rc == CP_OK || rc == CP_ENOMEM, "n=%lu: rc %d", n, rc);
		if (rc != CP_OK)
			CP_CHECK(r.n == 0 && r.v == NULL, "n=%lu: report", n);
		cp_lint_report_clear(&r);
	}
	CP_CHECK(rc == CP_OK && n > 20, "ok after %lu failures", n);
}
