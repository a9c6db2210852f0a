/*
 * bounce.c - cp_bounce_parse: one email in, one record per recipient out.
 *
 * The steps: line endings to LF (RFC 5322 wants CRLF; files carry LF or a
 * bare CR), the header indexed, the MIME structure scanned
 * (bounce_mime.c), then the readers tried in order of how much the email
 * says about itself: an RFC 5965 feedback report (bounce_arf.c), an
 * RFC 3464 delivery-status part (bounce_dsn.c), an Amazon SES JSON
 * notification (bounce_json.c), an RFC 3834 auto-reply (bounce_auto.c),
 * and last the plain-text bounce of some MTA family (bounce_text.c with
 * the signatures of bounce_lhost.c). When the fast MIME scan could not
 * follow the structure, GMime parses the email and the readers read its
 * parts instead. Then the returned original (its Message-ID and Return-Path, for
 * VERP) is found and every record gets its reason (bounce_reason.c).
 *
 * Strings live in a per-parser arena of chunks, emptied by the next parse.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "bounce/bounce_int.h"
#include "coldpost/alloc.h"
#include "coldpost/mime.h"

#define CHUNK_SIZE (64 * 1024)
#define NOTES_MAX 1024

cp_bounce_parser *
cp_bounce_parser_new(cp_err *err)
{
	const cp_classifier *c = cp_classifier_default(err);
	cp_bounce_parser *p;
	char msg[256];

	if (c == NULL)
		return NULL;
	p = cp_calloc(1, sizeof(*p));
	if (p == NULL) {
		cp_err_set(err, CP_ENOMEM, "bounce: out of memory");
		return NULL;
	}
	p->cs = cp_classify_session_new(c, err);
	if (p->cs == NULL) {
		cp_free(p);
		return NULL;
	}
	if (!bnc_phrase_init(msg, sizeof(msg))) {
		cp_err_set(err, CP_ENOMEM, "%s", msg);
		cp_bounce_parser_free(p);
		return NULL;
	}
	for (int k = 0; k < BNC_SCAN_COUNT; k++)
		if ((p->ps[k] = bnc_phrase_scratch_new(k)) == NULL) {
			cp_err_set(err, CP_ENOMEM, "bounce: out of memory");
			cp_bounce_parser_free(p);
			return NULL;
		}
	cp_buf_init(&p->norm, CP_BOUNCE_MAX + 1);
	cp_buf_init(&p->notes, NOTES_MAX);
	for (size_t i = 0; i < BNC_ICONV_SLOTS; i++)
		p->iconv[i].cd = (iconv_t)-1;
	return p;
}

static void
arena_free(bnc_chunk *c)
{
	while (c != NULL) {
		bnc_chunk *next = c->next;

		cp_free(c);
		c = next;
	}
}

void
cp_bounce_parser_free(cp_bounce_parser *p)
{
	if (p == NULL)
		return;
	cp_classify_session_free(p->cs);
	for (size_t i = 0; i < BNC_ICONV_SLOTS; i++)
		if (p->iconv[i].cd != (iconv_t)-1)
			g_mime_iconv_close(p->iconv[i].cd);
	for (int k = 0; k < BNC_SCAN_COUNT; k++)
		bnc_phrase_scratch_free(p->ps[k]);
	cp_buf_free(&p->norm);
	cp_buf_free(&p->notes);
	arena_free(p->arena);
	cp_free(p);
}

/* Keep the first (largest-so-far) chunk for the next email. */
static void
arena_reset(cp_bounce_parser *p)
{
	if (p->arena == NULL)
		return;
	arena_free(p->arena->next);
	p->arena->next = NULL;
	p->arena->len = 0;
}

char *
bnc_strdup(cp_bounce_parser *p, const char *s, size_t len)
{
	bnc_chunk *c = p->arena;
	char *d;

	if (c == NULL || c->cap - c->len < len + 1) {
		size_t cap = len + 1 > CHUNK_SIZE ? len + 1 : CHUNK_SIZE;
		bnc_chunk *n = cp_malloc(sizeof(*n) + cap);

		if (n == NULL) {
			p->oom = 1;
			return NULL;
		}
		n->cap = cap;
		n->len = 0;
		if (c != NULL && c->cap - c->len >= CHUNK_SIZE / 4 &&
		    cap > CHUNK_SIZE) {
			/* a big one-off: keep filling the current chunk */
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			p->arena = n;
		}
		c = n;
	}
	d = c->data + c->len;
	c->len += len + 1;
	if (s != NULL && len > 0)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* Control bytes, SP and DEL: the white space bnc_clean folds. */
static const unsigned char blank[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1,
	[0x05] = 1, [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1,
	[0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1, [0x0e] = 1,
	[0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1,
	[0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1,
	[0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, [0x20] = 1, [0x7f] = 1,
};

/*
 * Without a branch per byte: each byte is stored (a blank as SP) and
 * kept unless it is a blank after a blank, so runs fold to one SP and
 * leading ones go; a trailing one is dropped at the end. Texts are mostly
 * short words, where a search for the next blank would be called per
 * word (about twice slower over the corpus).
 */
char *
bnc_clean(cp_bounce_parser *p, cp_slice v)
{
	char *d = bnc_strdup(p, NULL, v.len);
	size_t o = 0;
	int prev = 1;

	if (d == NULL)
		return (char *)"";
	for (size_t i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.p[i];
		int b = blank[ch];

		d[o] = b ? ' ' : (char)ch;
		o += !(b & prev);
		prev = b;
	}
	if (o > 0 && prev)
		o--;
	d[o] = '\0';
	return d;
}

/*
 * Opening a converter costs more than parsing a bounce (iconv looks the
 * charset up in gconv's module cache), and the bounces that need one come
 * in a few charsets (ISO-2022-JP, ISO-8859-x, windows-125x), often mixed
 * in one batch: the last few stay open, the one used longest ago is
 * closed for a new one (names compared ignoring case, as charset names
 * are, RFC 2046 4.1.2). iconv(cd, NULL...) returns a converter to the
 * initial shift state, as a new one would be.
 */
iconv_t
bnc_iconv_utf8(cp_bounce_parser *p, const char *charset)
{
	size_t n = strlen(charset), old = 0;

	p->iconv_clock++;
	for (size_t i = 0; i < BNC_ICONV_SLOTS; i++) {
		if (p->iconv[i].from[0] != '\0' &&
		    strcasecmp(p->iconv[i].from, charset) == 0) {
			/* a name iconv does not know ("unknown-8bit") is
			 * kept too, so it is not looked up again */
			p->iconv[i].used = p->iconv_clock;
			if (p->iconv[i].cd != (iconv_t)-1)
				(void)iconv(p->iconv[i].cd, NULL, NULL, NULL,
				    NULL);
			return p->iconv[i].cd;
		}
		if (p->iconv[i].used < p->iconv[old].used)
			old = i;
	}
	/* a name too long to keep would match no later call: not kept */
	if (n >= sizeof(p->iconv[old].from))
		return (iconv_t)-1;
	if (p->iconv[old].cd != (iconv_t)-1)
		g_mime_iconv_close(p->iconv[old].cd);
	cp_mime_init();
	p->iconv[old].cd = g_mime_iconv_open("UTF-8", charset);
	p->iconv[old].used = p->iconv_clock;
	memcpy(p->iconv[old].from, charset, n + 1);
	return p->iconv[old].cd;
}

void
bnc_note(cp_bounce_parser *p, const char *note)
{
	if (p->notes.len > 0 && strstr(p->notes.data, note) != NULL)
		return;
	if (p->notes.len > 0)
		(void)cp_buf_adds(&p->notes, "; ");
	(void)cp_buf_adds(&p->notes, note);
}

static void
rcpt_init(bnc_rcpt *r)
{
	memset(r, 0, sizeof(*r));
	r->recipient = r->orig_recipient = r->action = r->status = "";
	r->status_text = "";
	r->diagnostic = r->remote_mta = r->reporting_mta = "";
	r->command = r->date = r->reason = r->rule = r->feedback_type = "";
	r->receiver = "unknown";
	r->cause = -1;
}

bnc_rcpt *
bnc_add_rcpt(cp_bounce_parser *p)
{
	bnc_rcpt *r;

	if (p->n == CP_BOUNCE_RCPT_MAX) {
		bnc_note(p, "too many recipients; the rest ignored");
		return NULL;
	}
	r = &p->rcpts[p->n++];
	rcpt_init(r);
	return r;
}

/* Byte classes of addresses: bit 1 the local part (RFC 5322 atext and
 * the dot), bit 2 the domain (and an address literal); UTF-8 bytes are
 * both (RFC 6531). A table: these run over every byte around an '@'. */
enum { ADDR_LOCAL = 1, ADDR_DOMAIN = 2 };
static unsigned char addr_class[256];
static pthread_once_t addr_once = PTHREAD_ONCE_INIT;

static void
addr_class_fill(void)
{
	const char *local = "!#$%&'*+-/=?^_`{|}~.", *domain = "-._[]:";

	for (int ch = 0; ch < 256; ch++) {
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
		    ch <= 'Z') || (ch >= '0' && ch <= '9');

		if (alnum || ch >= 128 || (ch != 0 && strchr(local, ch)))
			addr_class[ch] |= ADDR_LOCAL;
		if (alnum || ch >= 128 || (ch != 0 && strchr(domain, ch)))
			addr_class[ch] |= ADDR_DOMAIN;
	}
}

static int
addr_char(int ch)
{
	return addr_class[ch] & ADDR_LOCAL;
}

static int
domain_char(int ch)
{
	return addr_class[ch] & ADDR_DOMAIN;
}

/* The next '@' at or after from, or NULL. */
static const char *
next_at(cp_slice s, size_t from)
{
	return from < s.len ? memchr(s.p + from, '@', s.len - from) : NULL;
}

int
bnc_find_addr(cp_slice s, cp_slice *out)
{
	(void)pthread_once(&addr_once, addr_class_fill);
	for (const char *at = next_at(s, 0); at != NULL;
	    at = next_at(s, (size_t)(at - s.p) + 1)) {
		size_t i = (size_t)(at - s.p), a, b;

		a = i;
		while (a > 0 && addr_char((unsigned char)s.p[a - 1]))
			a--;
		b = i + 1;
		while (b < s.len && domain_char((unsigned char)s.p[b]))
			b++;
		while (b > i + 1 && (s.p[b - 1] == '.' || s.p[b - 1] == ':' ||
		    s.p[b - 1] == ']'))
			b--;
		while (a < i && s.p[a] == '.')
			a++;
		if (a == i || b == i + 1 || memchr(s.p + i + 1, '.',
		    b - i - 1) == NULL) {
			if (a < i && b > i + 1 && b - i - 1 >= 1 &&
			    s.p[i + 1] == '[') {
				*out = bnc_slice(s.p + a, b - a);
				return 1;
			}
			continue;
		}
		*out = bnc_slice(s.p + a, b - a);
		return 1;
	}
	return 0;
}

/* ---- the email as a whole --------------------------------------------- */

/* data with CRLF and bare CR turned into LF and NUL into a space, in
 * p->norm. */
static int
normalise(cp_bounce_parser *p, const char *data, size_t len, cp_err *err)
{
	cp_buf_reset(&p->norm);
	if (cp_buf_reserve(&p->norm, len + 1) != CP_OK)
		return cp_err_set(err, CP_ENOMEM, "bounce: out of memory");
	p->norm.len = cp_bytes_to_lf(p->norm.data, data, len);
	p->norm.data[p->norm.len] = '\0';
	return CP_OK;
}

static const char *
top_clean(cp_bounce_parser *p, const char *name)
{
	cp_slice v;

	return bnc_fields_get(&p->top, name, &v) ? bnc_clean(p, v) : "";
}

/* The address in a header value ("Name <a@b>" or "a@b"), arena copy. */
static const char *
addr_of(cp_bounce_parser *p, cp_slice v)
{
	cp_slice a;
	const char *lt = memchr(v.p, '<', v.len);

	if (lt != NULL) {
		cp_slice in = bnc_slice(lt + 1, v.len - (size_t)(lt + 1 - v.p));
		const char *gt = memchr(in.p, '>', in.len);

		if (gt != NULL)
			in.len = (size_t)(gt - in.p);
		if (bnc_find_addr(in, &a))
			return bnc_strdup(p, a.p, a.len);
		if (gt != NULL && in.len == 0)
			return "";
	}
	if (bnc_find_addr(v, &a))
		return bnc_strdup(p, a.p, a.len);
	return "";
}

/* The original's header: an attached message, else the text after the
 * family's "copy of the message follows" line. Its fields are left
 * indexed in p->scratch (free once the MIME scan is done) for
 * set_identity. */
static void
find_original(cp_bounce_parser *p)
{
	const bnc_part *txt;

	p->orig_head = bnc_slice("", 0);
	p->scratch.n = 0;
	for (size_t i = 0; i < p->nparts; i++) {
		const bnc_part *pt = &p->parts[i];
		cp_slice rest;

		if (!pt->attached || pt->in_message)
			continue;
		bnc_fields_parse(pt->body, &p->scratch, &rest);
		p->orig_head = bnc_slice(pt->body.p,
		    (size_t)(rest.p - pt->body.p));
		return;
	}
	txt = bnc_part_text(p);
	if (txt != NULL) {
		size_t at = bnc_orig_start(p, txt->body);
		cp_slice s = bnc_slice(txt->body.p + at, txt->body.len - at);
		cp_slice line, rest;
		cp_cursor c;

		/* skip the marker line and blank lines before the header */
		cp_cursor_init(&c, s.p, s.len);
		if (at < txt->body.len)
			(void)bnc_next_line(&c, &line);
		while (c.pos < c.len && (c.p[c.pos] == '\n' ||
		    c.p[c.pos] == ' '))
			c.pos++;
		s = bnc_slice(s.p + c.pos, s.len - c.pos);
		bnc_fields_parse(s, &p->scratch, &rest);
		if (p->scratch.n > 0)
			p->orig_head = bnc_slice(s.p, (size_t)(rest.p - s.p));
	}
}

static const char *
verp_token(const char *addr)
{
	const char *plus = strchr(addr, '+');
	const char *at = strrchr(addr, '@');

	if (plus == NULL || at == NULL || plus > at)
		return NULL;
	return plus + 1;
}

/* What ties the bounce to the message we sent: the original's
 * Message-ID and Return-Path, the bounce's envelope recipient, and the
 * VERP token in either. */
static void
set_identity(cp_bounce_parser *p)
{
	cp_slice v;
	const char *tok;

	if (p->orig_head.len > 0) {
		if (bnc_head_field(&p->scratch, p->orig_head, "Message-ID",
		    &v))
			p->out.message_id = bnc_clean(p, cp_slice_trim(v));
		if (bnc_head_field(&p->scratch, p->orig_head, "Return-Path",
		    &v))
			p->out.return_path = addr_of(p, v);
	}
	if (bnc_fields_get(&p->top, "X-Original-To", &v) ||
	    bnc_fields_get(&p->top, "Delivered-To", &v) ||
	    bnc_fields_get(&p->top, "Envelope-To", &v) ||
	    bnc_fields_get(&p->top, "To", &v))
		p->out.rcpt_to = addr_of(p, v);
	tok = verp_token(p->out.return_path);
	if (tok == NULL)
		tok = verp_token(p->out.rcpt_to);
	if (tok != NULL) {
		const char *at = strrchr(tok, '@');

		p->out.verp = bnc_strdup(p, tok, (size_t)(at - tok));
		if (p->out.verp == NULL)
			p->out.verp = "";
	}
}

static int
same(cp_slice a, cp_slice b)
{
	return a.p == b.p && a.len == b.len;
}

const bnc_hits *
bnc_text_hits(cp_bounce_parser *p, int kind, cp_slice text)
{
	if (kind == BNC_SCAN_NOTICE && p->text_hits[BNC_SCAN_WRITER] != NULL &&
	    same(p->scanned[BNC_SCAN_WRITER], text))
		return p->text_hits[BNC_SCAN_WRITER];
	if (p->text_hits[kind] == NULL || !same(p->scanned[kind], text)) {
		p->text_hits[kind] = bnc_phrase_scan(p->ps[kind], text);
		p->scanned[kind] = text;
	}
	return p->text_hits[kind];
}

static void
reset(cp_bounce_parser *p)
{
	for (int k = 0; k < BNC_SCAN_COUNT; k++) {
		p->text_hits[k] = NULL;
		p->scanned[k] = bnc_slice("", 0);
	}
	p->orig_at = SIZE_MAX;
	arena_reset(p);
	cp_buf_reset(&p->notes);
	p->nparts = 0;
	p->n = 0;
	p->broken = 0;
	p->oom = 0;
	p->weak = 0;
	p->family = "";
	p->orig_head = bnc_slice("", 0);
	memset(&p->out, 0, sizeof(p->out));
	p->out.family = p->out.message_id = p->out.return_path = "";
	p->out.rcpt_to = p->out.verp = p->out.envelope_id = "";
	p->out.source_ip = p->out.subject = p->out.notes = "";
}

static void run_readers(cp_bounce_parser *p);

/* Did a reader of a machine-readable report decide (DSN, ARF, SES)? */
static int
structured(const char *family)
{
	return strcmp(family, "rfc3464") == 0 || strcmp(family, "arf") == 0 ||
	    strcmp(family, "amazonses") == 0;
}

/*
 * The fast scan could not follow the structure and found no report in
 * it: the readers run over GMime's parts. A report found there wins;
 * otherwise what the fast scan found is put back.
 */
static void
read_with_gmime(cp_bounce_parser *p)
{
	size_t nparts = p->nparts, n = p->n;
	const char *family = p->family;
	int embedded = p->embedded;

	memcpy(p->saved, p->parts, nparts * sizeof(p->parts[0]));
	memcpy(p->saved_rcpts, p->rcpts, n * sizeof(p->rcpts[0]));
	if (bnc_mime_gmime(p)) {
		run_readers(p);
		if (p->n > 0 && (structured(p->family) || n == 0)) {
			p->out.used_gmime = 1;
			return;
		}
	}
	memcpy(p->parts, p->saved, nparts * sizeof(p->parts[0]));
	memcpy(p->rcpts, p->saved_rcpts, n * sizeof(p->rcpts[0]));
	p->nparts = nparts;
	p->n = n;
	p->family = family;
	p->embedded = embedded;
}

static void
run_readers(cp_bounce_parser *p)
{
	static const char *const fb_types[] = { "message/feedback-report",
		NULL };
	static const char *const ds_types[] = { "message/delivery-status",
		"message/global-delivery-status", "text/delivery-status",
		NULL };
	const bnc_part *pt;

	p->n = 0;
	p->family = "";
	p->embedded = 0;
	if ((pt = bnc_part_find(p, fb_types)) != NULL &&
	    bnc_arf_read(p, pt) > 0) {
		p->family = "arf";
		return;
	}
	if ((pt = bnc_part_find(p, ds_types)) != NULL &&
	    bnc_dsn_read(p, pt) > 0) {
		if (p->family[0] == '\0')
			p->family = "rfc3464";
		return;
	}
	p->n = 0;
	if ((pt = bnc_part_text(p)) != NULL &&
	    bnc_dsn_read_embedded(p, pt->body) > 0) {
		/* a report quoted as text, or behind a broken boundary */
		p->family = "rfc3464";
		p->embedded = 1;
		return;
	}
	p->n = 0;
	if (bnc_arf_read(p, NULL) > 0) {
		p->family = "arf";
		return;
	}
	if (bnc_json_read(p) > 0)
		return;
	if (bnc_auto_read(p) > 0) {
		p->family = "rfc3834";
		return;
	}
	p->n = 0;
	(void)bnc_text_read(p);
}

/* An attached message that is itself a bounce (forwarded by a person or
 * a fetchmail-like relay), when the email is none itself; 1 if found. */
static int
forwarded(cp_bounce_parser *p)
{
	for (size_t i = 0; i < p->nparts; i++) {
		const bnc_part *pt = &p->parts[i];

		if (pt->attached && !pt->in_message &&
		    bnc_ieq(pt->ctype, "message/rfc822") &&
		    (bnc_isearch(pt->body, "delivery-status") != NULL ||
		    bnc_isearch(pt->body, "mailer-daemon") != NULL)) {
			p->fwd = pt->body;
			return 1;
		}
	}
	return 0;
}

/* Parse the forwarded bounce (p->fwd) in place of the email. */
static int
parse_forwarded(cp_bounce_parser *p, const cp_bounce **out, cp_err *err)
{
	cp_buf copy;
	int rc;

	cp_buf_init(&copy, CP_BOUNCE_MAX);
	if (cp_buf_add(&copy, p->fwd.p, p->fwd.len) != CP_OK)
		return cp_err_set(err, CP_ENOMEM, "bounce: out of memory");
	p->depth++;
	rc = cp_bounce_parse(p, copy.data, copy.len, out, err);
	p->depth--;
	cp_buf_free(&copy);
	if (rc == CP_OK)
		bnc_note(p, "the bounce was forwarded as an attachment");
	p->out.notes = p->notes.len > 0 ? p->notes.data : "";
	return rc;
}

int
cp_bounce_parse(cp_bounce_parser *p, const char *data, size_t len,
    const cp_bounce **out, cp_err *err)
{
	cp_slice all;
	const bnc_part *txt;
	cp_slice ctx = { "", 0 };
	int rc;

	reset(p);
	*out = &p->out;
	p->out.rcpts = p->rcpts;
	if (len > CP_BOUNCE_MAX)
		return cp_err_set(err, CP_ETOOBIG,
		    "bounce: %zu bytes, limit %d", len, CP_BOUNCE_MAX);
	rc = normalise(p, data, len, err);
	if (rc != CP_OK)
		return rc;
	all = bnc_slice(p->norm.data, p->norm.len);
	bnc_fields_parse(all, &p->top, &p->body);
	p->out.subject = top_clean(p, "Subject");
	bnc_mime_scan(p);
	/* the fast scan could not follow the structure: GMime's parser
	 * tolerates more (RFC 2231 boundaries, odd nesting); its parts are
	 * read instead when it makes any */
	run_readers(p);
	if (p->broken && (!structured(p->family) || p->embedded))
		read_with_gmime(p);
	if ((p->n == 0 || p->weak) && p->depth < 3 && forwarded(p))
		return parse_forwarded(p, out, err);
	find_original(p);
	set_identity(p);
	txt = bnc_part_text(p);
	if (txt != NULL)
		ctx = txt->body; /* cut at the original when needed */
	for (size_t i = 0; i < p->n; i++)
		bnc_reason_decide(p, &p->rcpts[i], ctx);
	p->out.family = p->family;
	p->out.n = p->n;
	if (p->oom)
		return cp_err_set(err, CP_ENOMEM, "bounce: out of memory");
	p->out.notes = p->notes.len > 0 ? p->notes.data : "";
	return CP_OK;
}
