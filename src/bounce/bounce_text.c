/*
 * bounce_text.c - plain-text bounces, the way most MTAs other than the
 * RFC 3464 ones write them: a paragraph of boilerplate, each failed
 * address followed (or preceded) by what the receiver said, then a copy
 * of the original message.
 *
 * The reader is the same for every family (bounce_lhost.c only says who
 * wrote it and where the original starts): the part before the original
 * is searched for addresses; X-Failed-Recipients (Exim, Gmail) names them
 * outright when present. The sender's own addresses (From: and To: of the
 * bounce, the original's From: and Return-Path:, "MAIL FROM:<...>") and
 * daemon addresses are not recipients. Each recipient's diagnostic is
 * the text from its address to the next recipient's, from which the
 * reply code, RFC 3463 status, remote host and SMTP command are taken.
 * An email from no daemon, with no bounce subject and no family's words,
 * is not a bounce and yields nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "bounce/bounce_int.h"
#include "coldpost/mime.h"

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define CAND_MAX 64
#define DIAG_MAX 2000

static const char *const bounce_subjects[] = { "undeliver",
	"delivery fail", "delivery status", "failure notice", "returned mail",
	"mail delivery", "delivery failure", "failed delivery",
	"failure delivery", "could not be delivered", "returning message",
	"non remis", "unzustellbar", "not delivered", "mail system error",
	"delivery problem", "warning: message", "error sending",
	"not member", "loop alert", "delayed", NULL };

static int
any(cp_slice s, const char *const *lits)
{
	for (size_t i = 0; lits[i] != NULL; i++)
		if (bnc_isearch(s, lits[i]) != NULL)
			return 1;
	return 0;
}

/*
 * Typographic single quotes (U+2018, U+2019) to ASCII "'" in place, so
 * "doesn\u2019t exist" reads as "doesn't exist"; the new length.
 */
static size_t
plain_quotes(char *s)
{
	size_t i = 0, o = 0;

	while (s[i] != '\0') {
		if ((unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] ==
		    0x80 && ((unsigned char)s[i + 2] == 0x98 ||
		    (unsigned char)s[i + 2] == 0x99)) {
			s[o++] = '\'';
			i += 3;
		} else
			s[o++] = s[i++];
	}
	s[o] = '\0';
	return o;
}

/*
 * A text part in another charset than ASCII or UTF-8 (ISO-2022-JP from
 * Japanese MTAs, ISO-8859-x, Windows-125x): converted to UTF-8 with
 * GMime's iconv (RFC 2045 section 5.1 charset parameter; the part's own
 * Content-Type, else the email's), so the receivers' words match the
 * phrases. Left as it is when the charset is unknown or the bytes do
 * not convert.
 */
static void
to_utf8(cp_bounce_parser *p, bnc_part *pt)
{
	cp_slice ct, cs;
	char name[64];
	iconv_t cd;
	char *u, *in;
	int plain = 1;

	if (!(bnc_head_get(pt->head, "Content-Type", &ct) &&
	    bnc_param(ct, "charset", &cs)) &&
	    !(bnc_fields_get(&p->top, "Content-Type", &ct) &&
	    bnc_param(ct, "charset", &cs)))
		return;
	if (cs.len == 0 || cs.len >= sizeof(name) ||
	    bnc_ieq(cs, "us-ascii") || bnc_ieq(cs, "utf-8") ||
	    bnc_ieq(cs, "utf8"))
		return;
	for (size_t i = 0; i < pt->body.len && plain; i++)
		if ((unsigned char)pt->body.p[i] >= 0x80 ||
		    pt->body.p[i] == 0x1b) /* ISO-2022 escape */
			plain = 0;
	if (plain)
		return;
	memcpy(name, cs.p, cs.len);
	name[cs.len] = '\0';
	/* a decoded quoted-printable "=00" is a NUL, which would end the
	 * converted string early */
	if ((in = bnc_strdup(p, pt->body.p, pt->body.len)) == NULL)
		return;
	for (size_t i = 0; i < pt->body.len; i++)
		if (in[i] == '\0')
			in[i] = ' ';
	cp_mime_init();
	cd = bnc_iconv_utf8(p, name); /* kept open by the parser */
	if (cd == (iconv_t)-1)
		return;
	u = g_mime_iconv_strndup(cd, in, pt->body.len);
	if (u == NULL)
		return;
	{
		char *copy = bnc_strdup(p, u, strlen(u));

		if (copy != NULL)
			pt->body = bnc_slice(copy, plain_quotes(copy));
	}
	g_free(u);
}

static int
looks_bounce(const cp_bounce_parser *p)
{
	cp_slice v;

	if (bnc_fields_get(&p->top, "X-Failed-Recipients", &v))
		return 1;
	if (bnc_fields_get(&p->top, "From", &v) &&
	    (bnc_isearch(v, "mailer-daemon") != NULL ||
	    bnc_isearch(v, "postmaster") != NULL ||
	    bnc_isearch(v, "post_master") != NULL ||
	    bnc_isearch(v, "mail delivery") != NULL))
		return 1;
	if (bnc_fields_get(&p->top, "Subject", &v) && any(v, bounce_subjects))
		return 1;
	return 0;
}

typedef struct cand {
	cp_slice addr;
	size_t at; /* first occurrence in the text */
} cand;

typedef struct exclude {
	cp_slice a[16];
	size_t n;
} exclude;

static void
exclude_add(exclude *x, cp_slice v)
{
	cp_slice a;

	while (x->n < 16 && bnc_find_addr(v, &a)) {
		x->a[x->n++] = a;
		v = bnc_slice(a.p + a.len, v.len - (size_t)(a.p + a.len - v.p));
	}
}

static int
excluded(const exclude *x, cp_slice a)
{
	for (size_t i = 0; x != NULL && i < x->n; i++)
		if (x->a[i].len == a.len &&
		    strncasecmp(x->a[i].p, a.p, a.len) == 0)
			return 1;
	if (bnc_istarts(a, "mailer-daemon@") || bnc_istarts(a, "postmaster@")
	    || bnc_istarts(a, "post_master@"))
		return 1;
	return 0;
}

/* Is the address at a the sender in an SMTP transcript or a notice? */
static int
sender_context(cp_slice text, cp_slice a)
{
	size_t at = (size_t)(a.p - text.p);
	size_t from = at > 16 ? at - 16 : 0;
	cp_slice before = bnc_slice(text.p + from, at - from);

	return bnc_isearch(before, "mail from") != NULL ||
	    bnc_isearch(before, "envelope-from") != NULL ||
	    bnc_isearch(before, "sender:") != NULL ||
	    bnc_isearch(before, "message-id") != NULL ||
	    bnc_isearch(before, "expanded from") != NULL ||
	    (at > 0 && text.p[at - 1] == '=');
}

/* Does the address open its line ("  <a@b>:" or "a@b")? */
static int
opens_line(cp_slice text, cp_slice a)
{
	const char *q = a.p;

	if (q > text.p && q[-1] == '<')
		q--;
	while (q > text.p && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	return q == text.p || q[-1] == '\n';
}

/* Addresses of the text that may be recipients. Pass 1 leaves out the
 * sender's; pass 2 (when 1 found none) takes an address that opens its
 * line even so (anonymised bounces where sender and recipient are the
 * same string). */
static size_t
collect(cp_slice text, const exclude *x, cand *c, size_t max, int pass)
{
	cp_slice rest = text, a;
	size_t n = 0;

	while (n < max && bnc_find_addr(rest, &a)) {
		int dup = 0;

		rest = bnc_slice(a.p + a.len, text.len - (size_t)(a.p + a.len -
		    text.p));
		if (sender_context(text, a))
			continue;
		if (pass == 1 ? excluded(x, a) : (!opens_line(text, a) ||
		    excluded(NULL, a)))
			continue;
		for (size_t i = 0; i < n && !dup; i++)
			dup = c[i].addr.len == a.len &&
			    strncasecmp(c[i].addr.p, a.p, a.len) == 0;
		if (dup)
			continue;
		c[n].addr = a;
		c[n].at = (size_t)(a.p - text.p);
		n++;
	}
	return n;
}

/* The first "d.d.d" status (class 2, 4 or 5) in s; "" if none. */
const char *
bnc_find_status(cp_bounce_parser *p, cp_slice s)
{
	for (size_t i = 0; i + 5 <= s.len; i++) {
		size_t j = i + 1, d1 = 0, d2 = 0;
		char c0 = s.p[i];

		if ((c0 != '2' && c0 != '4' && c0 != '5') || s.p[j] != '.')
			continue;
		if (i > 0 && ((s.p[i - 1] >= '0' && s.p[i - 1] <= '9') ||
		    s.p[i - 1] == '.'))
			continue;
		j++;
		while (j < s.len && s.p[j] >= '0' && s.p[j] <= '9' && d1 < 4)
			j++, d1++;
		if (d1 == 0 || j >= s.len || s.p[j] != '.')
			continue;
		j++;
		while (j < s.len && s.p[j] >= '0' && s.p[j] <= '9' && d2 < 4)
			j++, d2++;
		if (d2 == 0 || (j < s.len && ((s.p[j] >= '0' && s.p[j] <=
		    '9') || (s.p[j] == '.' && j + 1 < s.len &&
		    s.p[j + 1] >= '0' && s.p[j + 1] <= '9'))))
			continue;
		return bnc_strdup(p, s.p + i, j - i);
	}
	return "";
}

/* The first SMTP reply code "4xx"/"5xx" standing alone in s; 0 if none. */
int
bnc_find_code(cp_slice s, size_t *at)
{
	for (size_t i = 0; i + 3 <= s.len; i++) {
		char c0 = s.p[i];

		if (c0 != '4' && c0 != '5')
			continue;
		if (s.p[i + 1] < '0' || s.p[i + 1] > '5' || s.p[i + 2] < '0' ||
		    s.p[i + 2] > '9')
			continue;
		if (i > 0 && strchr(" \t\n:(<[\"'", s.p[i - 1]) == NULL)
			continue;
		if (i + 3 < s.len && strchr(" -\n\t,", s.p[i + 3]) == NULL)
			continue;
		/* not a number in a size or count: "552 5" is fine,
		 * "500 bytes" is rare enough to accept */
		*at = i;
		return (c0 - '0') * 100 + (s.p[i + 1] - '0') * 10 +
		    (s.p[i + 2] - '0');
	}
	return 0;
}

static const char *
find_host(cp_bounce_parser *p, cp_slice s)
{
	static const char *const keys[] = { "remote host ", "host ",
		"remote server ", "mx " };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *q = bnc_isearch(s, keys[k]);
		size_t i, e;

		if (q == NULL)
			continue;
		i = (size_t)(q - s.p) + strlen(keys[k]);
		e = i;
		while (e < s.len && s.p[e] != ' ' && s.p[e] != '[' &&
		    s.p[e] != '\n' && s.p[e] != ':' && s.p[e] != ',' &&
		    s.p[e] != '(' && s.p[e] != ')')
			e++;
		if (e > i && memchr(s.p + i, '.', e - i) != NULL &&
		    memchr(s.p + i, '@', e - i) == NULL)
			return bnc_strdup(p, s.p + i, e - i);
	}
	return "";
}

/*
 * The SMTP command the receiver answered, as the MTAs word it: Postfix
 * "(in reply to RCPT TO command)", Exim "after RCPT TO:<..>" / "after end
 * of data", qmail "RCPT TO response" / "does not like recipient" /
 * "failed after I sent the message", Sendmail's transcript ">>> DATA".
 */
static const bnc_phrase_set command_sets[] = {
	{ "DATA", L("in reply to end of data", "in reply to data",
	    "after end of data", "after data", "after pipelined",
	    "data response", "did not like our data", "smtp command data",
	    "failed after i sent the message") },
	{ "RCPT", L("in reply to rcpt to", "after rcpt", "smtp:rcpt",
	    "smtp command rcpt",
	    "rcpt to response", "did not like our rcpt",
	    "does not like recipient") },
	{ "MAIL", L("in reply to mail from", "after mail from",
	    "did not like our mail", "but sender was rejected") },
	{ "CONN", L("after initial connection") },
	{ "EHLO", L("in reply to ehlo", "after ehlo") },
	{ "HELO", L("in reply to helo", "after helo") },
};

const bnc_phrase_set *
bnc_command_sets(size_t *n)
{
	*n = sizeof(command_sets) / sizeof(command_sets[0]);
	return command_sets;
}

const char *
bnc_command_of(const bnc_hits *h, cp_slice s)
{
	const char *best = "", *last = "", *q;
	size_t bat = SIZE_MAX;
	cp_slice rest = s;

	for (size_t i = 0; i < sizeof(command_sets) / sizeof(command_sets[0]);
	    i++)
		for (size_t j = 0; command_sets[i].phrases[j] != NULL; j++) {
			uint32_t end = h->end[bnc_phrase_id(BNC_REG_COMMAND, i,
			    j)];
			size_t len = strlen(command_sets[i].phrases[j]);

			if (end != BNC_NO_HIT && end >= len && end <= s.len &&
			    end - len < bat) {
				bat = end - len;
				best = command_sets[i].name;
			}
		}
	if (bat != SIZE_MAX)
		return best;
	/* a Sendmail transcript: the last command sent before the reply */
	while ((q = cp_bytes_find(rest.p, rest.len, ">>> ", 4)) != NULL) {
		cp_slice c = bnc_slice(q + 4, s.len - (size_t)(q + 4 - s.p));

		if (bnc_istarts(c, "DATA"))
			last = "DATA";
		else if (bnc_istarts(c, "RCPT"))
			last = "RCPT";
		else if (bnc_istarts(c, "MAIL"))
			last = "MAIL";
		rest = c;
	}
	return last;
}

/*
 * Where a recipient's block ends: at the next recipient's first mention,
 * or earlier where another recipient is named again (a notice repeated
 * in a second language lists them all once more).
 */
static size_t
next_named(cp_slice t, const cand *c, size_t n, size_t self, size_t from,
    size_t to)
{
	for (size_t j = 0; j < n; j++) {
		const char *q;

		if (j == self || c[j].addr.len == 0 || to - from <
		    c[j].addr.len)
			continue;
		q = cp_bytes_find(t.p + from, to - from, c[j].addr.p,
		    c[j].addr.len);
		if (q != NULL)
			to = (size_t)(q - t.p);
	}
	return to;
}

/*
 * Sendmail's transcript ("----- Transcript of session follows -----")
 * gives each failed address one line of its own, "554 <a@b>... Host
 * unknown", after the dialogue with the host that refused it:
 *
 *   While talking to mx.example.org:
 *   >>> MAIL From:<sender@example.jp>
 *   <<< 501 ... no access from mail server ...
 *   554 <a@example.org>... Remote protocol error
 *   550 example.net (smtp)... 550 Host unknown
 *   554 <b@example.net>... 550 Host unknown
 *
 * The address's block is its line; the command (">>>") and reply
 * ("<<<") sent since the address before it are what the host said to
 * it, so they go first. Several hosts (v5 sendmail) each get their own
 * dialogue. 0 when the address's line is not such a line; else the
 * block is in *out (in the arena).
 */
static int
transcript_line(cp_bounce_parser *p, cp_slice t, size_t at, size_t since,
    cp_slice *out)
{
	const char *ls = t.p + at, *le, *q, *said = NULL, *said_end = NULL;
	cp_slice region;
	size_t n, len;
	char *buf;

	while (ls > t.p && ls[-1] != '\n')
		ls--;
	/* "NNN <addr>... text" */
	if (t.p + at - ls < 5 || ls[0] < '2' || ls[0] > '5' || ls[3] != ' ' ||
	    ls[4] != '<' || (le = memchr(t.p + at, '\n', t.len - at)) == NULL)
		return 0;
	if ((q = cp_bytes_find(t.p + at, (size_t)(le - (t.p + at)), ">...",
	    4)) == NULL)
		return 0;
	/* the last ">>>" ... "<<<" exchange since the address before
	 * (none when that address is on this very line) */
	if (since > (size_t)(ls - t.p))
		since = (size_t)(ls - t.p);
	region = bnc_slice(t.p + since, (size_t)(ls - (t.p + since)));
	for (const char *r = region.p; r < region.p + region.len;) {
		const char *e = memchr(r, '\n', (size_t)(region.p +
		    region.len - r));

		if (e == NULL)
			e = region.p + region.len;
		if (e - r > 4 && strncmp(r, ">>> ", 4) == 0)
			said = r, said_end = NULL;
		else if (e - r > 4 && strncmp(r, "<<< ", 4) == 0) {
			if (said == NULL)
				said = r;
			said_end = e;
		}
		r = e + 1;
	}
	n = said != NULL && said_end != NULL ? (size_t)(said_end - said) : 0;
	len = (size_t)(le - q);
	if ((buf = bnc_strdup(p, NULL, n + 1 + len)) == NULL)
		return 0;
	if (n > 0)
		memcpy(buf, said, n);
	buf[n] = '\n';
	memcpy(buf + n + 1, q, len);
	buf[n + 1 + len] = '\0';
	*out = bnc_slice(buf, n + 1 + len);
	return 1;
}

/* Fill diagnostic, code, status, host, command from one block. */
static void
read_block(cp_bounce_parser *p, bnc_rcpt *r, cp_slice block)
{
	size_t at = 0;
	int code;

	if (block.len > DIAG_MAX)
		block.len = DIAG_MAX;
	code = bnc_find_code(block, &at);
	if (code != 0)
		r->replycode = code;
	r->status = bnc_find_status(p, block);
	r->remote_mta = find_host(p, block);
	/* the command comes with the reason (bnc_reason_decide), from the
	 * same scan of the words */
	r->diagnostic = bnc_clean(p, block);
}

static int
cand_cmp_at(const void *a, const void *b)
{
	const cand *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

static size_t
failed_header(cp_bounce_parser *p, cp_slice text, cand *c, size_t max)
{
	cp_slice v, a;
	size_t n = 0;

	if (!bnc_fields_get(&p->top, "X-Failed-Recipients", &v))
		return 0;
	while (n < max && bnc_find_addr(v, &a)) {
		const char *hit = text.len >= a.len ?
		    cp_bytes_find(text.p, text.len, a.p, a.len) : NULL;

		c[n].addr = a;
		/* where the text mentions it, if it does */
		c[n].at = hit != NULL ? (size_t)(hit - text.p) : text.len;
		n++;
		v = bnc_slice(a.p + a.len, v.len - (size_t)(a.p + a.len - v.p));
	}
	return n;
}

/* The header of an inline original: past the marker and blank lines. */
static cp_slice
skip_marker(cp_slice orig)
{
	cp_cursor c;
	cp_slice line;

	cp_cursor_init(&c, orig.p, orig.len);
	if (orig.len > 0 && orig.p[0] != '\n' && (orig.p[0] == '-' ||
	    orig.p[0] == ' ' || memchr(orig.p, ':', 40 < orig.len ? 40 :
	    orig.len) == NULL))
		(void)bnc_next_line(&c, &line);
	while (c.pos < c.len && (c.p[c.pos] == '\n' || c.p[c.pos] == ' '))
		c.pos++;
	return bnc_slice(orig.p + c.pos, orig.len - c.pos);
}

size_t
bnc_text_read(cp_bounce_parser *p)
{
	const bnc_part *txt = bnc_part_text(p);
	const bnc_family *fam;
	cp_slice text, t, v, orig, blk;
	cand c[CAND_MAX];
	exclude x = { .n = 0 };
	size_t n, cut, before = p->n;

	if (txt == NULL)
		return 0;
	to_utf8(p, &p->parts[txt - p->parts]);
	text = txt->body;
	fam = bnc_family_detect(p, text);
	if (strcmp(fam->name, "generic") == 0 && !looks_bounce(p))
		return 0;
	cut = bnc_orig_start(p, text);
	t = bnc_slice(text.p, cut);
	orig = bnc_slice(text.p + cut, text.len - cut);
	if (bnc_fields_get(&p->top, "From", &v))
		exclude_add(&x, v);
	if (bnc_fields_get(&p->top, "To", &v))
		exclude_add(&x, v);
	if (bnc_fields_get(&p->top, "Reply-To", &v))
		exclude_add(&x, v);
	/* the sender, from the returned original (attached or inline) */
	for (size_t i = 0; i < p->nparts; i++)
		if (p->parts[i].attached) {
			orig = p->parts[i].body;
			break;
		}
	if (orig.len > 0) {
		orig = skip_marker(orig);
		if (bnc_head_get(orig, "From", &v))
			exclude_add(&x, v);
		if (bnc_head_get(orig, "Return-Path", &v))
			exclude_add(&x, v);
	}
	n = failed_header(p, t, c, CAND_MAX);
	if (n == 0)
		n = collect(t, &x, c, CAND_MAX, 1);
	if (n == 0)
		n = collect(t, &x, c, CAND_MAX, 2);
	if (n == 0 && orig.len > 0 && bnc_head_get(orig, "To", &v) &&
	    bnc_find_addr(v, &c[0].addr)) {
		/* nothing names the recipient: the original's To: it is, and
		 * the reason stays open */
		bnc_rcpt *r = bnc_add_rcpt(p);

		if (r != NULL) {
			r->recipient = bnc_strdup(p, c[0].addr.p,
			    c[0].addr.len);
			bnc_note(p, "no recipient in the bounce text; the "
			    "original's To: used");
			p->weak = 1;
		}
		p->family = fam->name;
		return p->n - before;
	}
	if (n == 0)
		return 0;
	qsort(c, n, sizeof(c[0]), cand_cmp_at);
	for (size_t i = 0; i < n; i++) {
		bnc_rcpt *r = bnc_add_rcpt(p);
		size_t from = c[i].at < t.len ? c[i].at + c[i].addr.len : 0;
		size_t to = i + 1 < n && c[i + 1].at < t.len ? c[i + 1].at :
		    t.len;

		if (r == NULL)
			break;
		r->recipient = bnc_strdup(p, c[i].addr.p, c[i].addr.len);
		if (from > to)
			from = 0;
		else
			to = next_named(t, c, n, i, from, to);
		/* a lone recipient: its block is the whole text after the
		 * boilerplate that named it, or all of it */
		if (c[i].at < t.len && transcript_line(p, t, c[i].at,
		    i > 0 && c[i - 1].at < c[i].at ? c[i - 1].at : 0, &blk)) {
			read_block(p, r, blk);
			continue;
		}
		read_block(p, r, bnc_slice(t.p + from, to - from));
		if (r->diagnostic[0] == '\0' || (r->replycode == 0 &&
		    r->status[0] == '\0' && n == 1))
			read_block(p, r, t);
	}
	p->family = fam->name;
	return p->n - before;
}
