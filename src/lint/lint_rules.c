/*
 * lint_rules.c - the rules of `coldpost lint`, one function per group.
 * Each looks at the parsed message (lint_msg) and adds findings with the
 * points they weigh; lint.c adds up the score.
 *
 * Weights: a finding a receiver's filter or the law treats as deceptive or
 * as a hard spam sign is a fail worth 10 points (the default fail line),
 * so one such finding fails the message; style and best-practice findings
 * are warns of 2 to 4 points; facts worth knowing are info of 0 or 1.
 *
 * Law and standards behind the rules: CAN-SPAM, 15 U.S.C. 7704(a)(1)
 * (header information not misleading), (a)(2) (deceptive subject
 * headings), (a)(3) and (a)(5)(A)(ii)-(iii) (a functioning opt-out
 * mechanism, clear notice of it, and a valid physical postal address);
 * RFC 2369 (List-Unsubscribe), RFC 8058 (one-click unsubscription: an
 * https URI and List-Unsubscribe-Post: List-Unsubscribe=One-Click);
 * RFC 5322 3.6.2 (several From mailboxes need a Sender), 3.6.4
 * (In-Reply-To and References mark a reply); RFC 7489 3.1 (the From
 * domain must align with the authenticated sending domain).
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "lint/lint_int.h"

#define PHRASE_FINDINGS_MAX 10
#define LINK_FINDINGS_MAX 20  /* links looked at one by one */
#define IMAGE_ONLY_WORDS 15   /* fewer words than this beside images */
#define LOW_TEXT_WORDS 25     /* fewer words than this: a low-text body */
#define WORDS_PER_IMAGE 50    /* less text than this per image */
#define WORDSET_CAP 8192      /* distinct words compared per part */

/* ---- subject ------------------------------------------------------------ */

/* Next code point of UTF-8 s at *i (advances *i; invalid bytes: U+FFFD). */
static uint32_t
utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp;
	size_t n, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
	cp = n == 3 ? c & 0x07 : n == 2 ? c & 0x0f : c & 0x1f;
	if (n == 0 || *i + n >= len) {
		(*i)++;
		return 0xfffd;
	}
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	*i += n + 1;
	return cp;
}

static int
is_emoji(uint32_t cp)
{
	return (cp >= 0x1f000 && cp <= 0x1faff) ||  /* pictographs, flags */
	    (cp >= 0x2600 && cp <= 0x27bf) ||       /* symbols, dingbats */
	    (cp >= 0x2300 && cp <= 0x23ff) ||       /* technical: watch, hourglass */
	    (cp >= 0x2b00 && cp <= 0x2bff) ||       /* stars, arrows */
	    cp == 0x3030 || cp == 0x303d || cp == 0x3297 || cp == 0x3299 ||
	    cp == 0x203c || cp == 0x2049 || cp == 0x2122 || cp == 0x2139;
}

static void
rule_subject_emoji(lint_ctx *c, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n = 0;
	uint32_t first = 0, cp;

	while (i < len) {
		cp = utf8_next(u, len, &i);
		if (is_emoji(cp)) {
			if (n++ == 0)
				first = cp;
		}
	}
	if (n > 0)
		lint_add(c, "subject.emoji", CP_LINT_WARN, 2,
		    "Write the subject in words: emoji in a cold subject line "
		    "read as marketing and lower reply rates; filters score "
		    "them too.",
		    "subject has %zu emoji (first U+%04X)", n, (unsigned)first);
}

static void
rule_subject_shouting(lint_ctx *c, const char *s, size_t len)
{
	size_t letters = 0, upper = 0, capswords = 0, run = 0, i;
	int wordcaps = 1;
	const char *bang = NULL;

	for (i = 0; i <= len; i++) {
		unsigned char ch = i < len ? (unsigned char)s[i] : ' ';

		if (isalpha(ch)) {
			letters++;
			run++;
			if (isupper(ch))
				upper++;
			else
				wordcaps = 0;
			continue;
		}
		if (run >= 4 && wordcaps)
			capswords++;
		run = 0;
		wordcaps = 1;
		if (bang == NULL && i + 1 < len && strchr("!?$", ch) != NULL &&
		    strchr("!?$", s[i + 1]) != NULL)
			bang = s + i;
	}
	if ((letters >= 8 && upper * 10 >= letters * 6) || capswords >= 2)
		lint_add(c, "subject.shouting", CP_LINT_WARN, 3,
		    "Write the subject in sentence case: capitals read as "
		    "shouting and are a classic spam-filter sign.",
		    "%zu of %zu letters are capitals, %zu all-capital words",
		    upper, letters, capswords);
	if (bang != NULL)
		lint_add(c, "subject.punctuation", CP_LINT_WARN, 2,
		    "Use at most one '!' or '?' and no '$$': repeated "
		    "punctuation is a spam-filter sign.",
		    "repeated punctuation \"%.2s\" in the subject", bang);
}

static void
rules_subject(lint_ctx *c)
{
	const lint_msg *m = c->m;
	size_t len, mo, ml;
	int rc;

	if (m->subject == NULL || m->subject[strspn(m->subject, " \t")] ==
	    '\0') {
		lint_add(c, "subject.missing", CP_LINT_WARN, 3,
		    "Write a short, specific subject line: mail without one "
		    "looks careless or automated.",
		    m->subject == NULL ? "no Subject header field" :
					 "the Subject is empty");
		return;
	}
	len = strlen(m->subject);
	rc = lint_pat_match(PAT_FAKE_REPLY, m->subject, len, 0, &mo, &ml);
	if (rc < 0) {
		c->rc = rc;
		return;
	}
	if (rc == 1 && !m->has_in_reply_to && !m->has_references)
		lint_add(c, "subject.fake-reply", CP_LINT_FAIL, 10,
		    "Drop the prefix: a Re:/Fwd: on a first message claims a "
		    "conversation that never happened, a deceptive subject "
		    "under CAN-SPAM (15 U.S.C. 7704(a)(2)). A real reply "
		    "carries In-Reply-To and References.",
		    "subject starts with \"%.*s\" but the message has no "
		    "In-Reply-To or References", (int)CP_MIN(ml, 40),
		    m->subject + mo);
	rule_subject_emoji(c, m->subject, len);
	rule_subject_shouting(c, m->subject, len);
}

/* ---- spam phrases -------------------------------------------------------- */

/* Has this phrase (compared lowercased, white space collapsed) been
 * reported already? Adds it to seen ("\nphrase\n..." entries) when not. */
static int
phrase_seen(cp_buf *seen, const char *s, size_t len)
{
	char norm[128];
	size_t k = 0, i;

	norm[k++] = '\n';
	for (i = 0; i < len && k < sizeof(norm) - 2; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isspace(ch)) {
			if (norm[k - 1] != ' ')
				norm[k++] = ' ';
			continue;
		}
		norm[k++] = (char)tolower(ch);
	}
	norm[k++] = '\n';
	if (seen->len > 0 && memmem(seen->data, seen->len, norm, k) != NULL)
		return 1;
	/* entries share their '\n': store without the leading one */
	if (seen->len == 0)
		(void)cp_buf_addc(seen, '\n');
	(void)cp_buf_add(seen, norm + 1, k - 1);
	return 0;
}

static void
phrases_in(lint_ctx *c, cp_buf *seen, size_t *nfound, const char *s,
    size_t len, const char *where, int points)
{
	size_t pos = 0, mo, ml;
	int rc;

	while (*nfound < PHRASE_FINDINGS_MAX &&
	    (rc = lint_pat_match(PAT_PHRASES, s, len, pos, &mo, &ml)) == 1) {
		pos = mo + ml;
		if (phrase_seen(seen, s + mo, ml))
			continue;
		(*nfound)++;
		lint_add(c, "content.spam-phrase", CP_LINT_WARN, points,
		    "Say it plainly: phrases from bulk promotions raise spam "
		    "scores and put readers off. Reword or remove it.",
		    "\"%.*s\" in the %s", (int)CP_MIN(ml, 80), s + mo, where);
	}
}

static void
rules_phrases(lint_ctx *c)
{
	const lint_msg *m = c->m;
	size_t nfound = 0;
	cp_buf seen;

	cp_buf_init(&seen, 64 * 1024);
	if (m->subject != NULL)
		phrases_in(c, &seen, &nfound, m->subject, strlen(m->subject),
		    "subject", 3);
	if (m->text.len > 0)
		phrases_in(c, &seen, &nfound, m->text.data, m->text.len,
		    "body", 2);
	if (m->html_text.len > 0)
		phrases_in(c, &seen, &nfound, m->html_text.data,
		    m->html_text.len, "HTML body", 2);
	cp_buf_free(&seen);
}

/* ---- links --------------------------------------------------------------- */

static int
host_is_shortener(const char *host)
{
	size_t lh = strlen(host);

	for (size_t i = 0; i < lint_shorteners_n; i++) {
		const char *s = lint_shorteners[i];
		size_t ls = strlen(s);

		if (lh >= ls && strcmp(host + lh - ls, s) == 0 &&
		    (lh == ls || host[lh - ls - 1] == '.'))
			return 1;
	}
	return 0;
}

static int
host_is_ip(const char *host)
{
	if (host[0] == '[')
		return 1;
	for (const char *p = host; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return 0;
	return 1;
}

/* The domain an anchor text claims to show ("www.bank.com", "https://
 * bank.com/login", "bank.com"), into out; 0 when it claims none. A bare
 * word.word counts only with a common top-level domain, so "Node.js" or
 * "v1.2" are not domains. */
static size_t
anchor_claimed_host(const char *text, char *out, size_t outlen)
{
	static const char *const tlds[] = { "com", "net", "org", "io", "co",
		"ai", "app", "dev", "biz", "info", "us", "uk", "de", "fr",
		"nl", "eu", "ca", "au", "in", "es", "it", "ch", "se", "me",
		"gov", "edu", NULL };
	size_t len = strlen(text), n, i;
	int ui;
	const char *dot;

	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*text))
		text++, len--;
	n = lint_url_host(text, len, out, outlen, &ui);
	if (n > 0)
		return strchr(out, '.') != NULL ? n : 0;
	if (len == 0 || len >= outlen ||
	    lint_pat_match(PAT_DOMAINISH, text, len, 0, NULL, NULL) != 1)
		return 0;
	for (i = 0; i < len && text[i] != '/'; i++)
		out[i] = (char)tolower((unsigned char)text[i]);
	out[i] = '\0';
	dot = strrchr(out, '.');
	for (size_t k = 0; dot != NULL && tlds[k] != NULL; k++)
		if (strcmp(dot + 1, tlds[k]) == 0)
			return i;
	return 0;
}

/* Has href (compared without scheme and trailing '/') been counted? */
static int
link_dup(const lint_msg *m, size_t upto, const lint_link *l)
{
	for (size_t i = 0; i < upto; i++) {
		const lint_link *o = &m->links[i];
		const char *a = o->href, *b = l->href;
		size_t la, lb;

		if (o->host == NULL)
			continue;
		a += strncasecmp(a, "https://", 8) == 0 ? 8 :
		    strncasecmp(a, "http://", 7) == 0 ? 7 : 0;
		b += strncasecmp(b, "https://", 8) == 0 ? 8 :
		    strncasecmp(b, "http://", 7) == 0 ? 7 : 0;
		la = strlen(a);
		lb = strlen(b);
		la -= la > 0 && a[la - 1] == '/';
		lb -= lb > 0 && b[lb - 1] == '/';
		if (la == lb && strncasecmp(a, b, la) == 0)
			return 1;
	}
	return 0;
}

static void
rule_link_mismatch(lint_ctx *c, const lint_link *l)
{
	char claimed[256];

	if (l->text == NULL || l->host == NULL ||
	    anchor_claimed_host(l->text, claimed, sizeof(claimed)) == 0)
		return;
	if (lint_same_org(c, claimed, l->host))
		return;
	lint_add(c, "link.text-mismatch", CP_LINT_FAIL, 10,
	    "Make the visible text show where the link goes: text naming one "
	    "domain over a link to another is how phishing looks, and "
	    "filters treat it so.",
	    "link text \"%.80s\" shows %s but the link goes to %s", l->text,
	    claimed, l->host);
}

static void
rules_links(lint_ctx *c)
{
	const lint_msg *m = c->m;
	cp_buf shorts, offdom;
	size_t distinct = 0, noff = 0, nshort = 0, i;

	cp_buf_init(&shorts, LINT_FIELD_MAX);
	cp_buf_init(&offdom, LINT_FIELD_MAX);
	for (i = 0; i < m->nlinks; i++) {
		const lint_link *l = &m->links[i];

		if (l->host == NULL || link_dup(m, i, l))
			continue;
		if (++distinct > LINK_FINDINGS_MAX)
			continue; /* counted; enough findings of each kind */
		rule_link_mismatch(c, l);
		if (l->userinfo)
			lint_add(c, "link.userinfo", CP_LINT_FAIL, 10,
			    "Remove the \"name@\" part: a URL with userinfo "
			    "hides its real host after the '@', a phishing "
			    "trick.",
			    "link %.200s has userinfo; its host is %s",
			    l->href, l->host);
		if (host_is_ip(l->host))
			lint_add(c, "link.ip-address", CP_LINT_WARN, 4,
			    "Link to a domain name, not an IP address.",
			    "link %.200s points at an IP address", l->href);
		if (host_is_shortener(l->host)) {
			nshort++;
			(void)cp_buf_addf(&shorts, "%s%s", shorts.len ? ", " :
			    "", l->href);
		} else if (c->sending != NULL &&
		    !lint_same_org(c, l->host, c->sending) &&
		    !lint_same_org(c, l->host, m->from_domain) &&
		    (offdom.data == NULL || strstr(offdom.data, l->host) ==
		    NULL)) {
			noff++;
			(void)cp_buf_addf(&offdom, "%s%s", offdom.len ? ", " :
			    "", l->host);
		}
	}
	c->r->stats.links = distinct;
	if (nshort > 0)
		lint_add(c, "link.shortener", CP_LINT_WARN, 4,
		    "Link to the full URL on your own domain: shorteners hide "
		    "the destination and are shared with spammers, so filters "
		    "distrust them.",
		    "%zu link(s) through a URL shortener: %s", nshort,
		    shorts.data ? shorts.data : "");
	if (noff > 0)
		lint_add(c, "link.off-domain", CP_LINT_INFO, (int)CP_MIN(noff, 3),
		    "Prefer links on the sending domain (a tracking domain "
		    "should be a subdomain of it): links to other domains "
		    "weaken the message's alignment with its sender.",
		    "links to %zu domain(s) other than %s: %s", noff,
		    c->sending ? c->sending : "", offdom.data ? offdom.data :
		    "");
	if (distinct > c->o.max_links)
		lint_add(c, "link.too-many", CP_LINT_WARN, 3,
		    "Keep a cold email to one or two links: many links make it "
		    "look like a newsletter and raise spam scores.",
		    "%zu distinct links (limit %zu)", distinct,
		    c->o.max_links);
	cp_buf_free(&shorts);
	cp_buf_free(&offdom);
}

/* ---- images and the amount of text --------------------------------------- */

static int
image_is_pixel(const lint_image *im)
{
	return im->hidden || (im->width >= 0 && im->width <= 1 &&
	    im->height >= 0 && im->height <= 1);
}

static void
rules_images_text(lint_ctx *c)
{
	const lint_msg *m = c->m;
	size_t pixels = 0, shown, words, wt, wh, i;
	const char *first = NULL;

	for (i = 0; i < m->nimages; i++)
		if (image_is_pixel(&m->images[i]) && pixels++ == 0)
			first = m->images[i].src;
	shown = m->nimages - pixels;
	wt = lint_count_words(m->text.data, m->text.len);
	wh = lint_count_words(m->html_text.data, m->html_text.len);
	words = CP_MAX(wt, wh);
	c->r->stats.images = shown;
	c->r->stats.words = words;
	if (pixels > 0)
		lint_add(c, "image.tracking-pixel", CP_LINT_WARN, 4,
		    "Turn off open tracking for cold email: hidden 1x1 images "
		    "are a known tracking and spam sign, and Apple Mail "
		    "Privacy makes the opens meaningless anyway.",
		    "%zu tracking pixel(s), first src \"%.200s\"", pixels,
		    first ? first : "");
	if (shown > c->o.max_images)
		lint_add(c, "image.too-many", CP_LINT_WARN, 3,
		    "Use few or no images in a cold email: image-heavy mail "
		    "looks like marketing and often loads blocked.",
		    "%zu images (limit %zu)", shown, c->o.max_images);
	if (words == 0 && shown == 0)
		lint_add(c, "body.empty", CP_LINT_FAIL, 10,
		    "Write the message: an empty body is a bulk-sending "
		    "mistake or a spam probe to a filter.",
		    "the message has no visible text and no images");
	else if (shown > 0 && words < IMAGE_ONLY_WORDS)
		lint_add(c, "body.image-only", CP_LINT_FAIL, 10,
		    "Put the message in text: image-only mail is how spam "
		    "hides its words from filters, and readers with images "
		    "off see nothing.",
		    "%zu image(s) and only %zu words of text", shown, words);
	else if (words < LOW_TEXT_WORDS)
		lint_add(c, "body.low-text", CP_LINT_WARN, 3,
		    "Write a few sentences: very short bodies give filters "
		    "nothing to judge but the links.",
		    "only %zu words of text", words);
	else if (shown > 0 && words < shown * WORDS_PER_IMAGE)
		lint_add(c, "body.low-text", CP_LINT_WARN, 3,
		    "Add text or drop images: keep at least ~50 words per "
		    "image.",
		    "%zu words for %zu image(s)", words, shown);
}

/* ---- MIME structure ------------------------------------------------------ */

typedef struct wordset {
	uint64_t *v; /* WORDSET_CAP slots, 0 = empty */
	size_t n;
} wordset;

static uint64_t
word_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint64_t)tolower((unsigned char)s[i])) *
		    1099511628211ULL;
	return h | 1;
}

/* Adds h; returns 1 when it was new. A full set ignores new words. */
static int
wordset_add(wordset *w, uint64_t h)
{
	size_t i = (size_t)(h % WORDSET_CAP);

	while (w->v[i] != 0) {
		if (w->v[i] == h)
			return 0;
		i = (i + 1) % WORDSET_CAP;
	}
	if (w->n >= WORDSET_CAP / 2)
		return 0;
	w->v[i] = h;
	w->n++;
	return 1;
}

static int
wordset_has(const wordset *w, uint64_t h)
{
	size_t i = (size_t)(h % WORDSET_CAP);

	while (w->v[i] != 0) {
		if (w->v[i] == h)
			return 1;
		i = (i + 1) % WORDSET_CAP;
	}
	return 0;
}

/* Words of 3+ letters of s into w (with other, counts those in it). */
static void
wordset_fill(wordset *w, const char *s, size_t len, const wordset *other,
    size_t *common)
{
	size_t i = 0, st;

	while (i < len) {
		while (i < len && !(isalnum((unsigned char)s[i]) ||
		    (unsigned char)s[i] >= 0x80))
			i++;
		st = i;
		while (i < len && (isalnum((unsigned char)s[i]) ||
		    (unsigned char)s[i] >= 0x80))
			i++;
		if (i - st >= 3) {
			uint64_t h = word_hash(s + st, i - st);

			if (wordset_add(w, h) && other != NULL &&
			    wordset_has(other, h))
				(*common)++;
		}
	}
}

static void
rule_parts_disagree(lint_ctx *c)
{
	const lint_msg *m = c->m;
	wordset a = { NULL, 0 }, b = { NULL, 0 };
	size_t common = 0, small, big;

	a.v = cp_calloc(WORDSET_CAP, sizeof(uint64_t));
	b.v = cp_calloc(WORDSET_CAP, sizeof(uint64_t));
	if (a.v == NULL || b.v == NULL) {
		c->rc = CP_ENOMEM;
		goto out;
	}
	wordset_fill(&a, m->text.data, m->text.len, NULL, NULL);
	wordset_fill(&b, m->html_text.data, m->html_text.len, &a, &common);
	small = CP_MIN(a.n, b.n);
	big = CP_MAX(a.n, b.n);
	if (big < 5)
		goto out;
	if (small * 10 < big * 3 || common * 2 < small)
		lint_add(c, "mime.parts-disagree", CP_LINT_WARN, 3,
		    "Generate the text/plain part from the same content as the "
		    "HTML: parts that say different things are a spam sign "
		    "(filters compare them).",
		    "text part has %zu distinct words, HTML part %zu, "
		    "%zu in common", a.n, b.n, common);
out:
	cp_free(a.v);
	cp_free(b.v);
}

static int
attachment_is_risky(const lint_attach *a)
{
	static const char *const exts[] = { ".exe", ".scr", ".js", ".jse",
		".vbs", ".vbe", ".bat", ".cmd", ".com", ".pif", ".jar",
		".msi", ".hta", ".lnk", ".ps1", ".iso", ".img", ".docm",
		".xlsm", ".pptm", ".wsf", ".cpl", ".reg", ".dll", NULL };
	static const char *const types[] = { "application/x-msdownload",
		"application/x-dosexec", "application/javascript",
		"application/x-sh", "application/java-archive",
		"application/hta", "application/x-ms-shortcut", NULL };
	size_t ln = a->name ? strlen(a->name) : 0;

	for (size_t i = 0; a->name != NULL && exts[i] != NULL; i++) {
		size_t le = strlen(exts[i]);

		if (ln > le && strcasecmp(a->name + ln - le, exts[i]) == 0)
			return 1;
	}
	for (size_t i = 0; a->type != NULL && types[i] != NULL; i++)
		if (strcasecmp(a->type, types[i]) == 0)
			return 1;
	return 0;
}

static void
rules_mime(lint_ctx *c)
{
	const lint_msg *m = c->m;
	cp_buf names;
	size_t risky = 0;

	c->r->stats.has_text = m->has_text;
	c->r->stats.has_html = m->has_html;
	c->r->stats.attachments = m->natts;
	if (m->has_html && !m->has_text)
		lint_add(c, "mime.no-text-part", CP_LINT_WARN, 3,
		    "Send multipart/alternative with a text/plain part: "
		    "HTML-only mail scores worse, and a plain cold email is "
		    "better still.",
		    "an HTML part and no text/plain part");
	else if (m->has_html && m->has_text)
		rule_parts_disagree(c);
	if (m->natts == 0)
		return;
	cp_buf_init(&names, LINT_FIELD_MAX);
	for (size_t i = 0; i < m->natts; i++) {
		const lint_attach *a = &m->atts[i];

		(void)cp_buf_addf(&names, "%s%s (%s)", i ? ", " : "",
		    a->name ? a->name : "unnamed", a->type);
		if (attachment_is_risky(a) && risky++ == 0)
			lint_add(c, "mime.risky-attachment", CP_LINT_FAIL, 10,
			    "Never attach executables, scripts, macro "
			    "documents or disk images: receivers reject or "
			    "quarantine them.",
			    "attachment %s (%s)", a->name ? a->name :
			    "unnamed", a->type);
	}
	lint_add(c, "mime.attachment", CP_LINT_WARN, 4,
	    "Send a link on your domain instead of an attachment: "
	    "attachments in a first message from a stranger are distrusted "
	    "by filters and readers.",
	    "%zu attachment(s): %s", m->natts, names.data ? names.data : "");
	cp_buf_free(&names);
}

/* ---- header fields ------------------------------------------------------- */

static void
rules_headers(lint_ctx *c)
{
	const lint_msg *m = c->m;

	if (m->from_addr == NULL || m->from_domain == NULL) {
		lint_add(c, "header.from-missing", CP_LINT_FAIL, 10,
		    "Give the message one From mailbox in the sending domain.",
		    m->nfrom == 0 ? "no From mailbox" :
				    "the From address has no domain");
	} else {
		if (m->nfrom > 1)
			lint_add(c, "header.from-multiple", CP_LINT_WARN, 3,
			    "Use a single From mailbox: several need a Sender "
			    "(RFC 5322 3.6.2) and fail DMARC at most "
			    "receivers.",
			    "From has %zu mailboxes", m->nfrom);
		if (c->sending != NULL && !lint_same_org(c, m->from_domain,
		    c->sending))
			lint_add(c, "header.from-domain", CP_LINT_FAIL, 10,
			    "Send from an address in the sending domain: a "
			    "From domain that does not align with the domain "
			    "that signs and sends fails DMARC (RFC 7489 3.1).",
			    "From %s is not in the sending domain %s",
			    m->from_addr, c->sending);
	}
	if (m->reply_to_domain != NULL && c->sending != NULL &&
	    !lint_same_org(c, m->reply_to_domain, c->sending) &&
	    !lint_same_org(c, m->reply_to_domain, m->from_domain))
		lint_add(c, "header.reply-to-domain", CP_LINT_WARN, 3,
		    "Take replies in the sending domain: a Reply-To elsewhere "
		    "(often a free mailbox) is a phishing sign to filters.",
		    "Reply-To %s is not in the sending domain %s",
		    m->reply_to_addr, c->sending);
	if (!m->has_message_id)
		lint_add(c, "header.message-id", CP_LINT_INFO, 1,
		    "Add a Message-ID (the relay adds one when it is missing).",
		    "no Message-ID header field");
	if (!m->has_date)
		lint_add(c, "header.date", CP_LINT_INFO, 1,
		    "Add a Date (the relay adds one when it is missing).",
		    "no Date header field");
}

/* ---- CAN-SPAM and opt-out ------------------------------------------------ */

static int
any_match(int id, const cp_buf *a, const cp_buf *b)
{
	return (a->len > 0 && lint_pat_match(id, a->data, a->len, 0, NULL,
	    NULL) == 1) || (b->len > 0 && lint_pat_match(id, b->data, b->len,
	    0, NULL, NULL) == 1);
}

/* An opt-out in the body: the words, or a link to an unsubscribe page. */
static int
body_has_optout(const lint_msg *m)
{
	if (any_match(PAT_OPTOUT_TEXT, &m->text, &m->html_text))
		return 1;
	for (size_t i = 0; i < m->nlinks; i++) {
		const lint_link *l = &m->links[i];

		if (lint_pat_match(PAT_OPTOUT_LINK, l->href, strlen(l->href),
		    0, NULL, NULL) == 1 || (l->text != NULL &&
		    lint_pat_match(PAT_OPTOUT_LINK, l->text, strlen(l->text), 0,
		    NULL, NULL) == 1))
			return 1;
	}
	return 0;
}

static int
has_postal_address(const lint_msg *m)
{
	static const int pats[] = { PAT_ADDR_POBOX, PAT_ADDR_STREET,
		PAT_ADDR_EU_STREET, PAT_ADDR_US_ZIP, PAT_ADDR_UK_POSTCODE,
		PAT_ADDR_CA_POSTCODE };

	for (size_t i = 0; i < CP_NELEM(pats); i++)
		if (any_match(pats[i], &m->text, &m->html_text))
			return 1;
	return 0;
}

/* RFC 2369: one or more <URI>, comma-separated. Sets what kinds it has. */
static int
list_unsub_parse(const char *v, int *https, int *mailto)
{
	const char *p = v, *e;
	int n = 0;

	*https = *mailto = 0;
	while ((p = strchr(p, '<')) != NULL) {
		e = strchr(p, '>');
		if (e == NULL)
			break;
		if (e - p > 9 && strncasecmp(p + 1, "https://", 8) == 0)
			*https = 1, n++;
		else if (e - p > 8 && strncasecmp(p + 1, "http://", 7) == 0)
			n++;
		else if (e - p > 8 && strncasecmp(p + 1, "mailto:", 7) == 0)
			*mailto = 1, n++;
		p = e + 1;
	}
	return n;
}

static int
list_unsub_post_ok(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	return strncasecmp(v, "List-Unsubscribe=One-Click", 26) == 0 &&
	    v[26 + strspn(v + 26, " \t\r\n")] == '\0';
}

static void
rules_optout(lint_ctx *c)
{
	const lint_msg *m = c->m;
	int body = body_has_optout(m), https = 0, mailto = 0, uris = 0;

	if (m->list_unsub != NULL)
		uris = list_unsub_parse(m->list_unsub, &https, &mailto);
	if (!body && m->list_unsub == NULL)
		lint_add(c, "canspam.opt-out", CP_LINT_FAIL, 10,
		    "Tell readers how to opt out (\"reply 'stop' or "
		    "unsubscribe here\") and add List-Unsubscribe: CAN-SPAM "
		    "requires a working opt-out and clear notice of it "
		    "(15 U.S.C. 7704(a)(3), (a)(5)(A)(ii)).",
		    "no unsubscribe link or opt-out notice in the body and no "
		    "List-Unsubscribe header field");
	else if (!body)
		lint_add(c, "optout.body", CP_LINT_WARN, 3,
		    "Say in the message how to opt out: CAN-SPAM wants clear "
		    "notice in the message itself, not only a header field "
		    "some mail readers do not show.",
		    "List-Unsubscribe is present but the body has no opt-out "
		    "notice or link");
	if (m->list_unsub == NULL) {
		if (body)
			lint_add(c, "optout.list-unsubscribe", CP_LINT_WARN, 3,
			    "Add List-Unsubscribe (RFC 2369) with an https and "
			    "a mailto URI: Gmail and Yahoo require it of bulk "
			    "senders and show an unsubscribe button.",
			    "no List-Unsubscribe header field");
		if (m->list_unsub_post != NULL)
			lint_add(c, "optout.list-unsubscribe-malformed",
			    CP_LINT_WARN, 3,
			    "List-Unsubscribe-Post means nothing without "
			    "List-Unsubscribe: add it with an https URI.",
			    "List-Unsubscribe-Post without List-Unsubscribe");
		return;
	}
	if (uris == 0) {
		lint_add(c, "optout.list-unsubscribe-malformed", CP_LINT_WARN, 3,
		    "Write List-Unsubscribe as <https://...>, <mailto:...> "
		    "(RFC 2369 3.2: URIs in angle brackets).",
		    "List-Unsubscribe \"%.200s\" has no <https:>, <http:> or "
		    "<mailto:> URI", m->list_unsub);
		return;
	}
	if (!https || m->list_unsub_post == NULL ||
	    !list_unsub_post_ok(m->list_unsub_post))
		lint_add(c, "optout.one-click", CP_LINT_WARN, 2,
		    "Offer one-click unsubscription (RFC 8058): an https URI "
		    "in List-Unsubscribe that accepts POST, and "
		    "List-Unsubscribe-Post: List-Unsubscribe=One-Click, both "
		    "covered by the DKIM signature. Gmail and Yahoo require it "
		    "of bulk senders.",
		    "%s", !https ? "List-Unsubscribe has no https URI" :
		    m->list_unsub_post == NULL ? "no List-Unsubscribe-Post "
		    "header field" : "List-Unsubscribe-Post is not "
		    "\"List-Unsubscribe=One-Click\"");
}

static void
rules_postal(lint_ctx *c)
{
	if (!has_postal_address(c->m))
		lint_add(c, "canspam.postal-address", CP_LINT_WARN, 4,
		    "Put the sender's physical postal address in the footer "
		    "(street address, or a registered P.O. box or private "
		    "mailbox): CAN-SPAM requires it (15 U.S.C. "
		    "7704(a)(5)(A)(iii)).",
		    "no street address, P.O. box or postal code found in the "
		    "body");
}

void
lint_run_rules(lint_ctx *c)
{
	rules_headers(c);
	rules_subject(c);
	rules_phrases(c);
	rules_links(c);
	rules_images_text(c);
	rules_mime(c);
	rules_optout(c);
	rules_postal(c);
}
