/*
 * dkim_canon.c - DKIM canonicalization of header fields and bodies.
 *
 * RFC 6376 3.4: "simple" (3.4.1 header: as received; 3.4.3 body: trailing
 * empty lines reduced to one CRLF) and "relaxed" (3.4.2 header: name in
 * lowercase, unfolded, whitespace runs to one SP, none around the colon or
 * at the end; 3.4.4 body: whitespace runs to one SP, none at line ends,
 * trailing empty lines dropped). A bare LF counts as CRLF, so a message
 * stored with Unix line ends canonicalizes as it would on the wire.
 *
 * The body canonicalizer is a small state machine fed in chunks of any
 * size: line ends are held back until something follows them (they may be
 * trailing), so no more than a counter is kept whatever the body's size.
 * Hashing, and l=, are the sink's business.
 */
#include <stdint.h>
#include <string.h>

#include "auth/dkim/dkim_int.h"
#include "coldpost/alloc.h"
#include "coldpost/msg.h"

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
canon_simple(const char *f, size_t len, cp_buf *out)
{
	size_t s = 0;
	int rc;

	for (size_t i = 0; i < len; i++) {
		if (f[i] != '\n' || (i > 0 && f[i - 1] == '\r'))
			continue;
		/* a bare LF: the line so far, then CRLF */
		if ((rc = cp_buf_add(out, f + s, i - s)) != CP_OK ||
		    (rc = cp_buf_add(out, "\r\n", 2)) != CP_OK)
			return rc;
		s = i + 1;
	}
	if ((rc = cp_buf_add(out, f + s, len - s)) != CP_OK)
		return rc;
	if (len < 1 || f[len - 1] != '\n')
		return cp_buf_add(out, "\r\n", 2);
	return CP_OK;
}

static int
canon_relaxed(const char *f, size_t len, cp_buf *out)
{
	size_t nlen = cp_msg_field_name(f, len), i;
	int rc, wsp = 0, started = 0;
	const char *colon = memchr(f, ':', len);

	if (colon == NULL) /* not a field; keep it recognisable anyway */
		nlen = 0;
	if ((rc = cp_buf_reserve(out, len + 2)) != CP_OK)
		return rc;
	for (i = 0; i < nlen; i++) {
		char c = f[i];

		out->data[out->len++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	if (colon != NULL)
		out->data[out->len++] = ':';
	for (i = colon ? (size_t)(colon - f) + 1 : 0; i < len; i++) {
		char c = f[i];

		if (c == '\n' || (c == '\r' && i + 1 < len && f[i + 1] == '\n'))
			continue; /* unfold */
		if (is_wsp(c)) {
			wsp = 1;
			continue;
		}
		if (wsp && started)
			out->data[out->len++] = ' ';
		wsp = 0;
		started = 1;
		out->data[out->len++] = c;
	}
	out->data[out->len++] = '\r';
	out->data[out->len++] = '\n';
	out->data[out->len] = '\0';
	return CP_OK;
}

int
cp_dkim_canon_header(cp_dkim_canon c, const char *field, size_t len,
    cp_buf *out)
{
	return c == CP_DKIM_RELAXED ? canon_relaxed(field, len, out)
				    : canon_simple(field, len, out);
}

/* ---- body --------------------------------------------------------------- */

void
cp_dkim_body_canon_init(cp_dkim_body_canon *bc, cp_dkim_canon c,
    cp_dkim_sink_fn sink, void *arg)
{
	memset(bc, 0, sizeof(*bc));
	bc->c = c;
	bc->sink = sink;
	bc->arg = arg;
}

static void
body_flush(cp_dkim_body_canon *bc)
{
	if (bc->nout) {
		bc->sink(bc->arg, bc->out, bc->nout);
		bc->nout = 0;
	}
}

static void
body_emit(cp_dkim_body_canon *bc, const char *p, size_t n)
{
	if (bc->nout + n > sizeof(bc->out)) {
		body_flush(bc);
		if (n > sizeof(bc->out)) {
			bc->sink(bc->arg, p, n);
			return;
		}
	}
	memcpy(bc->out + bc->nout, p, n);
	bc->nout += n;
}

/* Content is coming: release what was held back before it. */
static void
body_release(cp_dkim_body_canon *bc)
{
	for (; bc->pending_crlf > 0; bc->pending_crlf--)
		body_emit(bc, "\r\n", 2);
	if (bc->wsp) {
		body_emit(bc, " ", 1);
		bc->wsp = 0;
	}
	bc->any = 1;
}

/* Bytes that end a run of ordinary body bytes. */
static const unsigned char body_special[256] = {
	['\r'] = 1, ['\n'] = 1, [' '] = 1, ['\t'] = 1,
};

/* The general path: byte by byte through the state machine. */
static void
body_slow(cp_dkim_body_canon *bc, const char *p, size_t len)
{
	int relaxed = bc->c == CP_DKIM_RELAXED;
	size_t i = 0;

	while (i < len) {
		char c = p[i];
		size_t j;

		if (bc->cr) {
			bc->cr = 0;
			if (c == '\n') {
				bc->wsp = 0;
				bc->pending_crlf++;
				i++;
				continue;
			}
			body_release(bc); /* a bare CR is content */
			body_emit(bc, "\r", 1);
		}
		if (c == '\r') {
			bc->cr = 1;
			i++;
			continue;
		}
		if (c == '\n') { /* bare LF: a line end all the same */
			bc->wsp = 0;
			bc->pending_crlf++;
			i++;
			continue;
		}
		if (relaxed && is_wsp(c)) {
			bc->wsp = 1;
			i++;
			continue;
		}
		/*
		 * a run of ordinary bytes goes out in one piece; in relaxed
		 * mode a single SP between two of them is ordinary too
		 */
		body_release(bc);
		for (j = i + 1;;) {
			while (j < len && !body_special[(unsigned char)p[j]])
				j++;
			if (j == len || p[j] == '\r' || p[j] == '\n')
				break;
			if (!relaxed) { /* whitespace is ordinary in simple */
				j++;
				continue;
			}
			if (p[j] == ' ' && j + 1 < len &&
			    !body_special[(unsigned char)p[j + 1]]) {
				j += 2;
				continue;
			}
			break;
		}
		body_emit(bc, p + i, j - i);
		i = j;
	}
}

/* Whitespace inside a relaxed line: SP and HTAB. */
static const unsigned char line_wsp[256] = { [' '] = 1, ['\t'] = 1 };

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* The high bit of each byte of x that equals c (exact, no carries). */
static inline uint64_t
bytes_eq(uint64_t x, unsigned char c)
{
	uint64_t v = x ^ (ONES * c);

	return ~(((v & ~HIGHS) + ~HIGHS) | v) & HIGHS;
}

/*
 * The first k in [i, n) where relaxed canonicalization changes the line:
 * a TAB, or a SP followed by SP or TAB; n if none. s[n - 1] is not
 * whitespace. Eight bytes at a time (SWAR) on little-endian machines,
 * since single spaces between words are the common case and cost a
 * branch each in a byte loop.
 */
static size_t
relaxed_scan(const char *s, size_t i, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (i + 8 < n) { /* s[i + 8] exists: byte 7 can look ahead */
		uint64_t x, sp, tb, hit;

		memcpy(&x, s + i, 8);
		sp = bytes_eq(x, ' ');
		tb = bytes_eq(x, '\t');
		hit = tb | (sp & ((sp | tb) >> 8));
		if ((sp >> 56) && line_wsp[(unsigned char)s[i + 8]])
			hit |= 1ULL << 63;
		if (hit)
			return i + (size_t)__builtin_ctzll(hit) / 8;
		i += 8;
	}
#endif
	for (; i < n; i++)
		if (s[i] == '\t' ||
		    (s[i] == ' ' && i + 1 < n && line_wsp[(unsigned char)s[i + 1]]))
			return i;
	return n;
}

/*
 * A relaxed line [s, s+n) without its line end and without any CR:
 * whitespace runs become one SP, none at the end (RFC 6376 3.4.4).
 */
static void
body_relaxed_line(cp_dkim_body_canon *bc, const char *s, size_t n)
{
	size_t i = 0, j;

	while (n > 0 && line_wsp[(unsigned char)s[n - 1]])
		n--;
	if (bc->wsp) /* a run held from the chunk before goes on */
		while (i < n && line_wsp[(unsigned char)s[i]])
			i++;
	while (i < n) {
		j = relaxed_scan(s, i, n);
		if (j > i) {
			body_release(bc); /* held line ends, then a held SP */
			body_emit(bc, s + i, j - i);
		}
		if (j == n)
			break;
		while (line_wsp[(unsigned char)s[j]]) /* ends before n */
			j++;
		bc->wsp = 1;
		i = j;
	}
	bc->wsp = 0;
	bc->pending_crlf++;
}

/*
 * The common case in one go: a whole line in the chunk, no CR held back
 * and none inside it. Its end is found with memchr; simple mode emits it
 * as it is, relaxed mode through body_relaxed_line. Anything else (a line
 * cut by the chunk's end, a bare CR) goes through body_slow.
 */
void
cp_dkim_body_canon_add(cp_dkim_body_canon *bc, const char *p, size_t len)
{
	int relaxed = bc->c == CP_DKIM_RELAXED;
	size_t i = 0;

	while (i < len) {
		const char *nl, *s = p + i;
		size_t n, line;

		if (bc->cr || (nl = memchr(s, '\n', len - i)) == NULL) {
			body_slow(bc, s, len - i);
			return;
		}
		line = (size_t)(nl - s) + 1; /* with its LF */
		n = line - 1;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (memchr(s, '\r', n) != NULL) {
			body_slow(bc, s, line);
		} else if (relaxed) {
			body_relaxed_line(bc, s, n);
		} else {
			if (n > 0) {
				body_release(bc);
				body_emit(bc, s, n);
			}
			bc->pending_crlf++;
		}
		i += line;
	}
}

void
cp_dkim_body_canon_end(cp_dkim_body_canon *bc)
{
	if (bc->cr) {
		bc->cr = 0;
		body_release(bc);
		body_emit(bc, "\r", 1);
	}
	/*
	 * simple: trailing empty lines become one CRLF, a missing final CRLF
	 * is added, an empty body is CRLF. relaxed: the same, except that an
	 * empty body stays empty.
	 */
	if (bc->any || bc->c == CP_DKIM_SIMPLE)
		body_emit(bc, "\r\n", 2);
	bc->pending_crlf = 0;
	bc->wsp = 0;
	body_flush(bc);
}

/* ---- the header fields of a message --------------------------------- */

void
dkim_hdrs_init(dkim_hdrs *h, size_t max)
{
	cp_buf_init(&h->text, max);
	h->v = NULL;
	h->n = h->cap = 0;
}

void
dkim_hdrs_clear(dkim_hdrs *h)
{
	cp_buf_free(&h->text);
	cp_free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

int
dkim_hdrs_add(dkim_hdrs *h, const char *field, size_t len, cp_err *err)
{
	int rc;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 32;
		dkim_hdr *v = cp_realloc(h->v, cap * sizeof(*v));

		if (v == NULL)
			return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
		h->v = v;
		h->cap = cap;
	}
	rc = cp_buf_add(&h->text, field, len);
	if (rc == CP_ETOOBIG)
		return cp_err_set(err, rc, "dkim: header over %zu bytes",
		    h->text.max);
	if (rc != CP_OK)
		return cp_err_set(err, rc, "dkim: out of memory");
	h->v[h->n].off = h->text.len - len;
	h->v[h->n].len = len;
	h->v[h->n].nlen = cp_msg_field_name(field, len);
	h->v[h->n].used = 0;
	h->n++;
	return CP_OK;
}

const dkim_hdr *
dkim_hdrs_take(dkim_hdrs *h, const char *name, size_t nlen)
{
	for (size_t i = h->n; i-- > 0;) {
		dkim_hdr *f = &h->v[i];

		if (!f->used && f->nlen > 0 &&
		    dkim_eq_nocase(h->text.data + f->off, f->nlen, name, nlen)) {
			f->used = 1;
			return f;
		}
	}
	return NULL;
}

void
dkim_hdrs_unuse(dkim_hdrs *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i].used = 0;
}

size_t
dkim_hdrs_count(const dkim_hdrs *h, const char *name, size_t nlen)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].nlen > 0 && dkim_eq_nocase(h->text.data + h->v[i].off,
					    h->v[i].nlen, name, nlen))
			n++;
	return n;
}
