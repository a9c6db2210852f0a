/*
 * bounce_mime.c - header fields and the MIME structure of a bounce, read
 * fast, with GMime as the fallback.
 *
 * A bounce is read many thousand times a second, and a full MIME parse
 * costs tens of microseconds, so the fast scan only does what bounces
 * need: it indexes header fields (RFC 5322 2.2, folding 2.2.3), follows
 * multipart boundaries (RFC 2046 5.1.1) up to BNC_DEPTH_MAX deep, keeps
 * each leaf with its media type, undoes base64 and quoted-printable
 * (RFC 2045 6.7, 6.8; GMime's decoders) and keeps an attached message
 * (message/rfc822, text/rfc822-headers, RFC 6522 / RFC 3462) whole
 * without looking inside. When the structure cannot be followed (a
 * multipart whose boundary never occurs, a missing boundary parameter)
 * it says so in p->broken and bounce.c asks GMime's full parser, which
 * tolerates more (bnc_mime_gmime). Charsets are not converted: the fields
 * bounces are read for are ASCII.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "bounce/bounce_int.h"
#include "coldpost/mime.h"

cp_slice
bnc_slice(const char *p, size_t len)
{
	cp_slice s = { p, len };

	return s;
}

/* (the first byte is compared before lit is measured: most compares
 * fail there) */
int
bnc_ieq(cp_slice s, const char *lit)
{
	size_t n;

	if (s.len == 0)
		return lit[0] == '\0';
	if (cp_ascii_lower((unsigned char)s.p[0]) !=
	    cp_ascii_lower((unsigned char)lit[0]))
		return 0;
	n = strlen(lit);
	return s.len == n && cp_bytes_ieq(s.p, lit, n);
}

int
bnc_istarts(cp_slice s, const char *lit)
{
	size_t n;

	if (s.len > 0 && lit[0] != '\0' &&
	    cp_ascii_lower((unsigned char)s.p[0]) !=
	    cp_ascii_lower((unsigned char)lit[0]))
		return 0;
	n = strlen(lit);
	return s.len >= n && cp_bytes_ieq(s.p, lit, n);
}

const char *
bnc_isearch(cp_slice s, const char *lit)
{
	return cp_bytes_find_ci(s.p, s.len, lit, strlen(lit));
}

/* bnc_next_line, inlined where the header scans call it per line. */
static inline int
next_line(cp_cursor *c, cp_slice *line)
{
	const char *nl;

	if (c->pos >= c->len)
		return 0;
	line->p = c->p + c->pos;
	nl = memchr(line->p, '\n', c->len - c->pos);
	if (nl == NULL) {
		line->len = c->len - c->pos;
		c->pos = c->len;
	} else {
		line->len = (size_t)(nl - line->p);
		c->pos += line->len + 1;
	}
	return 1;
}

int
bnc_next_line(cp_cursor *c, cp_slice *line)
{
	return next_line(c, line);
}

/* An mbox "From " separator line before the header proper. */
static int
is_mbox_from(cp_slice line)
{
	return line.len >= 5 && memcmp(line.p, "From ", 5) == 0;
}

/* Does this line look like the start of a header field (name ':')?
 * The length of the name, 0 if not; from byte i on (those before are
 * name bytes). */
static size_t
field_name_len(cp_slice line, size_t i)
{
	for (; i < line.len; i++) {
		unsigned char ch = (unsigned char)line.p[i];

		if (ch == ':')
			return i;
		if (ch <= ' ' || ch >= 127)
			return 0;
	}
	return 0;
}

/* The bytes of a parameter name (param_line), as a table: this test
 * runs on every byte of every field name. */
static const unsigned char param_chars[256] = {
	['-'] = 1, ['*'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static int
param_char(char ch)
{
	return param_chars[(unsigned char)ch];
}

/* The bytes of line that are parameter-name bytes (param_line). */
static size_t
param_name_len(cp_slice line)
{
	size_t i = 0;

	while (i < line.len && param_char(line.p[i]))
		i++;
	return i;
}

/*
 * A line "boundary=..." or "charset=..." at the left margin: a parameter
 * whose folding lost its white space (seen in the wild); it continues the
 * field above instead of ending the header.
 */
static int
param_line(cp_slice line)
{
	size_t i = param_name_len(line);

	return i > 0 && i < line.len && line.p[i] == '=';
}

void
bnc_fields_parse(cp_slice s, bnc_fields *out, cp_slice *rest)
{
	cp_cursor c;
	cp_slice line;
	bnc_field *last = NULL;
	int first = 1;

	out->n = 0;
	cp_cursor_init(&c, s.p, s.len);
	for (;;) {
		size_t at = c.pos, nl, pn;

		if (!next_line(&c, &line)) {
			*rest = bnc_slice(s.p + s.len, 0);
			return;
		}
		if (line.len == 0) {
			*rest = bnc_slice(s.p + c.pos, s.len - c.pos);
			return;
		}
		/* one pass over the name serves param_line and the field */
		pn = line.p[0] == ' ' || line.p[0] == '\t' ? 0 :
		    param_name_len(line);
		if (line.p[0] == ' ' || line.p[0] == '\t' ||
		    (last != NULL && pn > 0 && pn < line.len &&
		    line.p[pn] == '=')) {
			if (last != NULL)
				last->value.len = (size_t)(line.p + line.len -
				    last->value.p);
			continue;
		}
		if (first && is_mbox_from(line)) {
			first = 0;
			continue;
		}
		first = 0;
		nl = field_name_len(line, pn);
		if (nl == 0) {
			/* not a header line: the header ended unannounced */
			*rest = bnc_slice(s.p + at, s.len - at);
			return;
		}
		if (out->n == BNC_FIELDS_MAX) {
			last = NULL;
			continue;
		}
		last = &out->f[out->n++];
		last->name = bnc_slice(line.p, nl);
		while (last->name.len > 0 &&
		    (last->name.p[last->name.len - 1] == ' '))
			last->name.len--;
		last->value = bnc_slice(line.p + nl + 1, line.len - nl - 1);
	}
}

int
bnc_fields_get(const bnc_fields *h, const char *name, cp_slice *val)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < h->n; i++)
		if (h->f[i].name.len == n && cp_bytes_ieq(h->f[i].name.p, name, n)) {
			*val = h->f[i].value;
			return 1;
		}
	return 0;
}

int
bnc_head_get(cp_slice head, const char *name, cp_slice *val)
{
	size_t n = strlen(name);
	cp_cursor c;
	cp_slice line;

	cp_cursor_init(&c, head.p, head.len);
	while (next_line(&c, &line)) {
		if (line.len == 0)
			return 0;
		if (line.len > n && line.p[n] == ':' &&
		    cp_bytes_ieq(line.p, name, n)) {
			const char *end = line.p + line.len;
			cp_slice more;

			/* take the continuation lines too */
			for (;;) {
				size_t at = c.pos;

				if (c.pos >= c.len || !next_line(&c, &more))
					break;
				if (more.len == 0 || (more.p[0] != ' ' &&
				    more.p[0] != '\t' && !param_line(more))) {
					c.pos = at;
					break;
				}
				end = more.p + more.len;
			}
			*val = bnc_slice(line.p + n + 1,
			    (size_t)(end - line.p - n - 1));
			return 1;
		}
	}
	return 0;
}

/*
 * bnc_head_get over a header block already indexed into f: the same
 * first field, without reading the block line by line again. A name
 * written with white space before its colon is no match there, so it is
 * none here; past BNC_FIELDS_MAX fields the block itself is read.
 */
int
bnc_head_field(const bnc_fields *f, cp_slice head, const char *name,
    cp_slice *val)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < f->n; i++)
		if (f->f[i].name.len == n && f->f[i].name.p[n] == ':' &&
		    cp_bytes_ieq(f->f[i].name.p, name, n)) {
			*val = f->f[i].value;
			return 1;
		}
	return f->n == BNC_FIELDS_MAX && bnc_head_get(head, name, val);
}

cp_slice
bnc_media_type(cp_slice v)
{
	size_t i = 0, end;

	while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' ||
	    v.p[i] == '\n'))
		i++;
	end = i;
	while (end < v.len && v.p[end] != ';' && v.p[end] != ' ' &&
	    v.p[end] != '\t' && v.p[end] != '\n' && v.p[end] != '(')
		end++;
	return bnc_slice(v.p + i, end - i);
}

int
bnc_param(cp_slice v, const char *name, cp_slice *val)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < v.len; i++) {
		size_t j, k;

		if (v.p[i] != ';')
			continue;
		j = i + 1;
		while (j < v.len && (v.p[j] == ' ' || v.p[j] == '\t' ||
		    v.p[j] == '\n'))
			j++;
		if (j + n >= v.len || !cp_bytes_ieq(v.p + j, name, n))
			continue;
		k = j + n;
		while (k < v.len && (v.p[k] == ' ' || v.p[k] == '\t'))
			k++;
		if (k >= v.len || v.p[k] != '=')
			continue;
		k++;
		while (k < v.len && (v.p[k] == ' ' || v.p[k] == '\t'))
			k++;
		if (k < v.len && v.p[k] == '"') {
			const char *q = memchr(v.p + k + 1, '"', v.len - k - 1);
			size_t e = q ? (size_t)(q - v.p) : v.len;

			*val = bnc_slice(v.p + k + 1, e - k - 1);
		} else {
			size_t e = k;

			while (e < v.len && v.p[e] != ';' && v.p[e] != ' ' &&
			    v.p[e] != '\t' && v.p[e] != '\n')
				e++;
			*val = bnc_slice(v.p + k, e - k);
		}
		return val->len > 0;
	}
	return 0;
}

/* CRLF and bare CR to LF, in place; the new length. */
static size_t
unixify(char *s, size_t len)
{
	size_t o = 0;

	if (memchr(s, '\r', len) == NULL)
		return len;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r') {
			s[o++] = '\n';
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		} else
			s[o++] = s[i];
	}
	return o;
}

/* The body with its transfer encoding undone (arena copy) or as is. */
static cp_slice
decode_body(cp_bounce_parser *p, const bnc_fields *f, cp_slice head,
    cp_slice body)
{
	cp_slice cte;
	GMimeContentEncoding enc;
	GMimeEncoding st;
	char *out;
	size_t n;

	if (!bnc_head_field(f, head, "Content-Transfer-Encoding", &cte))
		return body;
	cte = cp_slice_trim(bnc_media_type(cte));
	if (bnc_ieq(cte, "base64"))
		enc = GMIME_CONTENT_ENCODING_BASE64;
	else if (bnc_ieq(cte, "quoted-printable"))
		enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	else
		return body;
	/* decoded output is never longer than the input (+ slack) */
	out = bnc_strdup(p, NULL, body.len + 8);
	if (out == NULL)
		return body;
	g_mime_encoding_init_decode(&st, enc);
	n = g_mime_encoding_step(&st, body.p, body.len, out);
	n = unixify(out, n);
	out[n] = '\0';
	return bnc_slice(out, n);
}

static void
add_part(cp_bounce_parser *p, cp_slice ctype, cp_slice head, cp_slice body,
    int in_message, int attached)
{
	bnc_part *pt;

	if (p->nparts == BNC_PARTS_MAX) {
		bnc_note(p, "too many MIME parts; the rest ignored");
		return;
	}
	pt = &p->parts[p->nparts++];
	pt->ctype = ctype;
	pt->head = head;
	pt->body = body;
	pt->in_message = in_message;
	pt->attached = attached;
}

/* The next boundary line "--b" at or after from; its offset or len. */
static size_t
find_boundary(cp_slice body, size_t from, cp_slice b)
{
	char needle[80];
	const char *q;

	if (b.len > sizeof(needle) - 3)
		b.len = sizeof(needle) - 3; /* RFC 2046: at most 70 */
	if (from == 0 && body.len >= 2 + b.len && memcmp(body.p, "--", 2) == 0
	    && memcmp(body.p + 2, b.p, b.len) == 0)
		return 0;
	needle[0] = '\n';
	needle[1] = needle[2] = '-';
	memcpy(needle + 3, b.p, b.len);
	if (from > 0)
		from--; /* the LF before a line that starts at from */
	if (from >= body.len)
		return body.len;
	q = cp_bytes_find(body.p + from, body.len - from, needle, b.len + 3);
	return q == NULL ? body.len : (size_t)(q - body.p) + 1;
}

static void scan_entity(cp_bounce_parser *p, const bnc_fields *f,
    cp_slice head, cp_slice body, int depth, int in_message);

static void scan_parts(cp_bounce_parser *p, cp_slice b, cp_slice body,
    int depth, int in_message);

static void
scan_multipart(cp_bounce_parser *p, cp_slice ctv, cp_slice body, int depth,
    int in_message)
{
	cp_slice b;

	if (!bnc_param(ctv, "boundary", &b)) {
		p->broken = 1;
		bnc_note(p, "multipart without boundary");
		add_part(p, bnc_slice("text/plain", 10), bnc_slice("", 0), body,
		    in_message, 0);
		return;
	}
	scan_parts(p, b, body, depth, in_message);
}

static void
scan_parts(cp_bounce_parser *p, cp_slice b, cp_slice body, int depth,
    int in_message)
{
	size_t at;

	at = find_boundary(body, 0, b);
	if (at == body.len) {
		p->broken = 1;
		bnc_note(p, "multipart boundary never occurs");
		add_part(p, bnc_slice("text/plain", 10), bnc_slice("", 0), body,
		    in_message, 0);
		return;
	}
	while (at < body.len) {
		size_t start, next, end;
		const char *nl;
		cp_slice part, rest, phead;

		if (at + 2 + b.len + 2 <= body.len &&
		    memcmp(body.p + at + 2 + b.len, "--", 2) == 0)
			return; /* the closing delimiter */
		nl = memchr(body.p + at, '\n', body.len - at);
		if (nl == NULL)
			return;
		start = (size_t)(nl - body.p) + 1;
		next = find_boundary(body, start, b);
		end = next;
		if (end > start && body.p[end - 1] == '\n')
			end--;
		part = bnc_slice(body.p + start, end - start);
		bnc_fields_parse(part, &p->scratch, &rest);
		phead = bnc_slice(part.p, (size_t)(rest.p - part.p));
		scan_entity(p, &p->scratch, phead, rest, depth + 1,
		    in_message);
		at = next;
	}
}

/* One entity whose header block head is indexed in f (p->scratch is
 * reused by the parts of a multipart: f is read before them). */
static void
scan_entity(cp_bounce_parser *p, const bnc_fields *f, cp_slice head,
    cp_slice body, int depth, int in_message)
{
	cp_slice ctv = { "", 0 }, media;

	if (bnc_head_field(f, head, "Content-Type", &ctv))
		media = bnc_media_type(ctv);
	else
		media = bnc_slice("", 0);
	if (bnc_istarts(media, "multipart/")) {
		if (depth >= BNC_DEPTH_MAX) {
			bnc_note(p, "multipart nested too deep");
			return;
		}
		scan_multipart(p, ctv, body, depth, in_message);
		return;
	}
	if (bnc_ieq(media, "message/rfc822") ||
	    bnc_ieq(media, "message/global") ||
	    bnc_ieq(media, "text/rfc822-headers") ||
	    bnc_ieq(media, "message/global-headers") ||
	    bnc_ieq(media, "message/partial")) {
		add_part(p, media, head, decode_body(p, f, head, body),
		    in_message, 1);
		return;
	}
	/* only what the readers look at is decoded: text (not HTML) and
	 * report parts; images, HTML and attachments stay as they are */
	if (media.len == 0 || (bnc_istarts(media, "text/") &&
	    !bnc_ieq(media, "text/html")) || bnc_istarts(media, "message/"))
		body = decode_body(p, f, head, body);
	add_part(p, media, head, body, in_message, 0);
}

/*
 * A body in MIME parts whose header forgot its Content-Type: the first
 * line "--X" is taken as the boundary when a part header follows it.
 */
static int
guess_boundary(cp_slice body, cp_slice *b)
{
	cp_cursor c;
	cp_slice line;
	int lines = 0;

	cp_cursor_init(&c, body.p, body.len);
	while (lines++ < 20 && bnc_next_line(&c, &line)) {
		if (line.len > 3 && line.p[0] == '-' && line.p[1] == '-' &&
		    line.p[2] != '-' && line.p[2] != ' ' && line.len < 75) {
			cp_slice rest = bnc_slice(c.p + c.pos, c.len - c.pos);

			*b = bnc_slice(line.p + 2, line.len - 2);
			return find_boundary(rest, 0, *b) < rest.len &&
			    bnc_isearch(rest, "content-type:") != NULL;
		}
	}
	return 0;
}

void
bnc_mime_scan(cp_bounce_parser *p)
{
	size_t hlen = (size_t)(p->body.p - p->norm.data);
	cp_slice head = bnc_slice(p->norm.data, hlen), v, b;

	p->nparts = 0;
	if (!bnc_head_field(&p->top, head, "Content-Type", &v) &&
	    guess_boundary(p->body, &b)) {
		bnc_note(p, "no Content-Type: MIME boundary guessed");
		scan_parts(p, b, p->body, 0, 0);
		return;
	}
	scan_entity(p, &p->top, head, p->body, 0, 0);
}

const bnc_part *
bnc_part_find(const cp_bounce_parser *p, const char *const *types)
{
	for (size_t i = 0; i < p->nparts; i++) {
		if (p->parts[i].in_message)
			continue;
		for (size_t t = 0; types[t] != NULL; t++)
			if (bnc_ieq(p->parts[i].ctype, types[t]))
				return &p->parts[i];
	}
	return NULL;
}

const bnc_part *
bnc_part_text(const cp_bounce_parser *p)
{
	for (size_t i = 0; i < p->nparts; i++) {
		const bnc_part *pt = &p->parts[i];

		if (pt->in_message || pt->attached)
			continue;
		if (pt->ctype.len == 0 || bnc_ieq(pt->ctype, "text/plain"))
			return pt;
	}
	for (size_t i = 0; i < p->nparts; i++) {
		const bnc_part *pt = &p->parts[i];

		if (!pt->in_message && !pt->attached &&
		    bnc_istarts(pt->ctype, "text/"))
			return pt;
	}
	return NULL;
}

/* ---- GMime fallback ---------------------------------------------------- */

/* A copy of a GMime byte array in the arena, LF-only. */
static cp_slice
arena_copy(cp_bounce_parser *p, const char *s, size_t len)
{
	char *d = bnc_strdup(p, s, len);

	if (d == NULL)
		return bnc_slice("", 0);
	len = unixify(d, len);
	d[len] = '\0';
	return bnc_slice(d, len);
}

static cp_slice
gm_object_head(cp_bounce_parser *p, GMimeObject *obj)
{
	char *h = g_mime_object_get_headers(obj, NULL);
	cp_slice s = bnc_slice("", 0);

	if (h != NULL) {
		s = arena_copy(p, h, strlen(h));
		g_free(h);
	}
	return s;
}

static void
gm_walk(cp_bounce_parser *p, GMimeObject *obj, int depth)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	cp_slice media = mt ? arena_copy(p, mt, strlen(mt))
			    : bnc_slice("text/plain", 10);

	g_free(mt);
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		if (depth >= BNC_DEPTH_MAX)
			return;
		for (int i = 0; i < n; i++)
			gm_walk(p, g_mime_multipart_get_part(mp, i), depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		char *s = m ? g_mime_object_to_string(GMIME_OBJECT(m), NULL)
			    : NULL;

		add_part(p, media, gm_object_head(p, obj),
		    s ? arena_copy(p, s, strlen(s)) : bnc_slice("", 0), 0, 1);
		g_free(s);
	} else if (GMIME_IS_PART(obj)) {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
		GMimeStream *mem = g_mime_stream_mem_new();
		GByteArray *ba;
		int attached = bnc_ieq(media, "text/rfc822-headers") ||
		    bnc_ieq(media, "message/global-headers");

		if (w != NULL)
			(void)g_mime_data_wrapper_write_to_stream(w, mem);
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		add_part(p, media, gm_object_head(p, obj),
		    arena_copy(p, (const char *)ba->data, ba->len), 0,
		    attached);
		g_object_unref(mem);
	}
}

int
bnc_mime_gmime(cp_bounce_parser *p)
{
	GMimeStream *st;
	GMimeParser *gp;
	GMimeMessage *m;
	GMimeObject *body;

	cp_mime_init();
	st = g_mime_stream_mem_new_with_buffer(p->norm.data, p->norm.len);
	gp = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(gp, NULL);
	g_object_unref(gp);
	g_object_unref(st);
	if (m == NULL)
		return 0;
	body = g_mime_message_get_mime_part(m);
	p->nparts = 0;
	if (body != NULL)
		gm_walk(p, body, 0);
	g_object_unref(m);
	return p->nparts > 0;
}
