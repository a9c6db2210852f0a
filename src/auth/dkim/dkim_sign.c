/*
 * dkim_sign.c - making DKIM-Signature header fields, streaming.
 *
 * RFC 6376 5 (signer actions): header fields are kept as they arrive
 * (5.4: the fields to sign are picked from the bottom up once all are
 * known), the body runs through one canonicalizer and SHA-256 per body
 * canonicalization in use, and finish builds each signature: the tags,
 * folded at 78 columns, hashed canonicalized with an empty b= (3.7),
 * then signed (dkim_key.c) and b= appended. Several signatures of one
 * message share the body hashes. Never l= (it lets anyone append to the
 * body). Over-signing (5.4.2 and 8.15): the names in
 * cp_dkim_oversign_headers are listed once more than they occur, so a
 * second From or Subject added on the way breaks the signature.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <time.h>

#include "auth/dkim/dkim_int.h"
#include "coldpost/alloc.h"
#include "coldpost/msg.h"

#define SIGN_HEADER_MAX (1024 * 1024)
#define FOLD_AT 78

const char *const cp_dkim_default_headers[] = {
	"from", "sender", "reply-to", "subject", "date", "message-id", "to",
	"cc", "mime-version", "content-type", "content-transfer-encoding",
	"content-id", "content-description", "resent-date", "resent-from",
	"resent-sender", "resent-to", "resent-cc", "resent-message-id",
	"in-reply-to", "references", "list-id", "list-help",
	"list-unsubscribe", "list-unsubscribe-post", "list-subscribe",
	"list-post", "list-owner", "list-archive", "feedback-id", NULL
};

const char *const cp_dkim_oversign_headers[] = { "from", "subject", "to",
	"date", NULL };

typedef struct sign_one {
	cp_dkim_key *key;
	cp_dkim_alg alg;
	char *domain, *selector, *identity;
	char *hlist; /* h= as the caller wrote it, or NULL for the default */
	cp_dkim_canon hcanon, bcanon;
	int64_t timestamp, expire;
	int query_tag;
} sign_one;

typedef struct body_hash {
	EVP_MD_CTX *md;
	cp_dkim_body_canon bc;
	unsigned char dg[32];
	int used;
} body_hash;

struct cp_dkim_signer {
	sign_one *v;
	size_t n;
	dkim_hdrs hdrs;
	body_hash bh[2]; /* by body canonicalization */
	cp_msg_split split;
	int eoh, finished, raw;
};

static void
bh_sink(void *arg, const char *p, size_t len)
{
	EVP_DigestUpdate(((body_hash *)arg)->md, p, len);
}

void
cp_dkim_signer_free(cp_dkim_signer *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		cp_dkim_key_free(s->v[i].key);
		cp_free(s->v[i].domain);
		cp_free(s->v[i].selector);
		cp_free(s->v[i].identity);
		cp_free(s->v[i].hlist);
	}
	cp_free(s->v);
	for (size_t i = 0; i < 2; i++)
		EVP_MD_CTX_free(s->bh[i].md);
	dkim_hdrs_clear(&s->hdrs);
	cp_msg_split_clear(&s->split);
	cp_free(s);
}

/* Check an h= list: names (ftext) separated by ':', From among them. */
static int
check_hlist(const char *h, cp_err *err)
{
	const char *p = h;
	int from = 0, n = 0;

	for (;;) {
		const char *s, *e;

		while (*p == ' ' || *p == '\t')
			p++;
		s = p;
		while (*p > 32 && *p < 127 && *p != ':' && *p != ';')
			p++;
		e = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (e == s || (*p != ':' && *p != '\0'))
			return cp_err_set(err, CP_EINVAL,
			    "dkim: bad header list '%s' (names separated by ':')",
			    h);
		if (dkim_eq_nocase(s, (size_t)(e - s), "from", 4))
			from = 1;
		if (++n > CP_DKIM_MAX_H)
			return cp_err_set(err, CP_EINVAL,
			    "dkim: more than %d header names", CP_DKIM_MAX_H);
		if (*p == '\0')
			break;
		p++;
	}
	if (!from)
		return cp_err_set(err, CP_EINVAL,
		    "dkim: the header list must include From (RFC 6376 5.4)");
	return CP_OK;
}

static int
sign_setup(sign_one *one, const cp_dkim_sign_opts *o, cp_err *err)
{
	cp_dkim_alg kalg;

	if (o->key == NULL || o->domain == NULL || o->selector == NULL)
		return cp_err_set(err, CP_EINVAL,
		    "dkim: signing needs a key, a domain and a selector");
	kalg = cp_dkim_key_alg(o->key);
	if (o->alg != CP_DKIM_ALG_UNKNOWN && o->alg != kalg)
		return cp_err_set(err, CP_EINVAL,
		    "dkim: algorithm %s does not fit a %s key",
		    cp_dkim_alg_name(o->alg),
		    kalg == CP_DKIM_RSA_SHA256 ? "RSA" : "Ed25519");
	if (!dkim_valid_domain(o->domain, strlen(o->domain)))
		return cp_err_set(err, CP_EINVAL, "dkim: bad domain '%s'",
		    o->domain);
	if (!dkim_valid_domain(o->selector, strlen(o->selector)) ||
	    strlen(o->selector) + strlen(o->domain) + 12 > 253)
		return cp_err_set(err, CP_EINVAL, "dkim: bad selector '%s'",
		    o->selector);
	if (o->identity != NULL) {
		const char *at = strrchr(o->identity, '@');
		size_t il, dl = strlen(o->domain);

		if (at == NULL)
			return cp_err_set(err, CP_EINVAL,
			    "dkim: identity '%s' has no '@'", o->identity);
		at++;
		il = strlen(at);
		if (!dkim_valid_domain(at, il) ||
		    !(dkim_eq_nocase(at, il, o->domain, dl) ||
			(il > dl && at[il - dl - 1] == '.' &&
			    dkim_eq_nocase(at + il - dl, dl, o->domain, dl))))
			return cp_err_set(err, CP_EINVAL,
			    "dkim: identity '%s' is not within %s", o->identity,
			    o->domain);
		for (const char *p = o->identity; *p; p++)
			if (*p <= 32 || *p >= 127 || *p == ';')
				return cp_err_set(err, CP_EINVAL,
				    "dkim: identity '%s' has a byte that needs "
				    "quoting", o->identity);
	}
	if (o->headers != NULL && check_hlist(o->headers, err) != CP_OK)
		return CP_EINVAL;
	if (o->expire < 0)
		return cp_err_set(err, CP_EINVAL, "dkim: negative expiry");
	one->key = cp_dkim_key_ref(o->key);
	one->alg = kalg;
	one->domain = cp_strdup(o->domain);
	one->selector = cp_strdup(o->selector);
	one->identity = o->identity ? cp_strdup(o->identity) : NULL;
	one->hlist = o->headers ? cp_strdup(o->headers) : NULL;
	one->hcanon = o->hcanon;
	one->bcanon = o->bcanon;
	one->timestamp = o->timestamp;
	one->expire = o->expire;
	one->query_tag = o->query_tag;
	if (one->domain == NULL || one->selector == NULL ||
	    (o->identity && one->identity == NULL) ||
	    (o->headers && one->hlist == NULL))
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	for (char *p = one->domain; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return CP_OK;
}

int
cp_dkim_signer_new(const cp_dkim_sign_opts *opts, size_t n,
    cp_dkim_signer **out, cp_err *err)
{
	cp_dkim_signer *s;
	int rc = CP_OK;

	*out = NULL;
	CP_ASSERT(n >= 1);
	s = cp_calloc(1, sizeof(*s));
	if (s == NULL)
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	dkim_hdrs_init(&s->hdrs, SIGN_HEADER_MAX);
	cp_msg_split_init(&s->split, 0);
	s->v = cp_calloc(n, sizeof(*s->v));
	if (s->v == NULL) {
		cp_dkim_signer_free(s);
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	}
	for (size_t i = 0; i < n && rc == CP_OK; i++) {
		s->n = i + 1;
		rc = sign_setup(&s->v[i], &opts[i], err);
		if (rc == CP_OK && !s->bh[opts[i].bcanon].used) {
			body_hash *b = &s->bh[opts[i].bcanon];

			b->used = 1;
			b->md = EVP_MD_CTX_new();
			if (b->md == NULL ||
			    !EVP_DigestInit_ex(b->md, dkim_sha256(), NULL))
				rc = cp_err_set(err, CP_ENOMEM,
				    "dkim: out of memory");
			cp_dkim_body_canon_init(&b->bc, opts[i].bcanon, bh_sink,
			    b);
		}
	}
	if (rc != CP_OK) {
		cp_dkim_signer_free(s);
		return rc;
	}
	*out = s;
	return CP_OK;
}

int
cp_dkim_signer_header(cp_dkim_signer *s, const char *field, size_t len,
    cp_err *err)
{
	CP_ASSERT(!s->eoh);
	return dkim_hdrs_add(&s->hdrs, field, len, err);
}

int
cp_dkim_signer_eoh(cp_dkim_signer *s, cp_err *err)
{
	(void)err;
	CP_ASSERT(!s->eoh);
	s->eoh = 1;
	if (dkim_hdrs_count(&s->hdrs, "from", 4) == 0)
		return cp_err_set(err, CP_EINVAL,
		    "dkim: the message has no From header field");
	return CP_OK;
}

int
cp_dkim_signer_body(cp_dkim_signer *s, const char *p, size_t len,
    cp_err *err)
{
	(void)err;
	CP_ASSERT(s->eoh && !s->finished);
	for (size_t i = 0; i < 2; i++)
		if (s->bh[i].used)
			cp_dkim_body_canon_add(&s->bh[i].bc, p, len);
	return CP_OK;
}

typedef struct split_ctx {
	cp_dkim_signer *s;
	cp_err *err;
} split_ctx;

static int
sign_field_cb(void *arg, const char *field, size_t len)
{
	split_ctx *c = arg;

	return cp_dkim_signer_header(c->s, field, len, c->err);
}

int
cp_dkim_signer_write(cp_dkim_signer *s, const char *p, size_t len,
    cp_err *err)
{
	split_ctx c = { s, err };
	size_t off;
	int rc;

	s->raw = 1;
	if (s->eoh)
		return cp_dkim_signer_body(s, p, len, err);
	rc = cp_msg_split_feed(&s->split, p, len, &off, sign_field_cb, &c, err);
	if (rc != CP_OK)
		return rc;
	if (!s->split.done)
		return CP_OK;
	if ((rc = cp_dkim_signer_eoh(s, err)) != CP_OK)
		return rc;
	return cp_dkim_signer_body(s, p + off, len - off, err);
}

/* ---- building the field ---------------------------------------------- */

typedef struct folder {
	cp_buf *b;
	const char *eol;
	size_t col;
	int rc;
} folder;

static void
fold_add(folder *f, const char *s, size_t n)
{
	if (f->rc == CP_OK)
		f->rc = cp_buf_add(f->b, s, n);
	f->col += n;
}

static void
fold_adds(folder *f, const char *s)
{
	fold_add(f, s, strlen(s));
}

/* A space, or a line break when next would pass the fold column. */
static void
fold_space(folder *f, size_t next)
{
	if (f->col + 1 + next > FOLD_AT) {
		fold_adds(f, f->eol);
		fold_add(f, " ", 1);
		f->col = 1;
	} else {
		fold_add(f, " ", 1);
	}
}

/* "tag=value;" as one unbreakable piece after a space or a fold. */
static void
fold_tag(folder *f, const char *tag, const char *val)
{
	size_t n = strlen(tag) + 1 + strlen(val) + 1;

	fold_space(f, n);
	fold_adds(f, tag);
	fold_add(f, "=", 1);
	fold_adds(f, val);
	fold_add(f, ";", 1);
}

/*
 * h=: the caller's text, breakable at its spaces, or the default list;
 * names gets the default list's names separated by ':'.
 */
static void
fold_h(folder *f, cp_dkim_signer *s, const sign_one *one, cp_buf *names)
{
	if (one->hlist != NULL) {
		const char *p = one->hlist;
		int first = 1;

		while (*p) {
			size_t n;

			while (*p == ' ' || *p == '\t')
				p++;
			n = strcspn(p, " \t");
			if (n == 0)
				break;
			if (first) {
				fold_space(f, 2 + n);
				fold_add(f, "h=", 2);
				first = 0;
			} else {
				fold_space(f, n);
			}
			fold_add(f, p, n);
			p += n;
		}
		fold_add(f, ";", 1);
		return;
	}
	fold_space(f, 6);
	fold_add(f, "h=from", 6);
	if (f->rc == CP_OK)
		f->rc = cp_buf_adds(names, "from");
	for (size_t i = 0; cp_dkim_default_headers[i]; i++) {
		const char *name = cp_dkim_default_headers[i];
		size_t nl = strlen(name), k;
		size_t times = dkim_hdrs_count(&s->hdrs, name, nl);

		for (k = 0; cp_dkim_oversign_headers[k]; k++)
			if (strcmp(cp_dkim_oversign_headers[k], name) == 0)
				times++;
		if (i == 0)
			times--; /* the first from is written above */
		while (times-- > 0) {
			fold_add(f, ":", 1);
			if (f->col + nl + 1 > FOLD_AT) {
				fold_adds(f, f->eol);
				fold_add(f, " ", 1);
				f->col = 1;
			}
			fold_add(f, name, nl);
			if (f->rc == CP_OK)
				f->rc = cp_buf_addc(names, ':');
			if (f->rc == CP_OK)
				f->rc = cp_buf_add(names, name, nl);
		}
	}
	fold_add(f, ";", 1);
}

/* Feed the canonicalized header fields named in h= to md. */
static int
hash_headers(cp_dkim_signer *s, cp_dkim_canon c, const char *hlist,
    EVP_MD_CTX *md, cp_buf *tmp)
{
	const char *p = hlist;

	dkim_hdrs_unuse(&s->hdrs);
	while (*p) {
		const char *n0;
		size_t n;
		const dkim_hdr *h;
		int rc;

		while (*p == ' ' || *p == '\t' || *p == ':' || *p == '\r' ||
		    *p == '\n')
			p++;
		n0 = p;
		while (*p && *p != ':' && *p != ' ' && *p != '\t' &&
		    *p != '\r' && *p != '\n')
			p++;
		n = (size_t)(p - n0);
		if (n == 0)
			break;
		h = dkim_hdrs_take(&s->hdrs, n0, n);
		if (h == NULL)
			continue; /* over-signed: nothing to hash */
		cp_buf_reset(tmp);
		rc = cp_dkim_canon_header(c, s->hdrs.text.data + h->off, h->len,
		    tmp);
		if (rc != CP_OK)
			return rc;
		EVP_DigestUpdate(md, tmp->data, tmp->len);
	}
	return CP_OK;
}

static int
sign_one_field(cp_dkim_signer *s, const sign_one *one, int64_t now,
    const char *eol, cp_buf *out, cp_err *err)
{
	folder f = { out, eol, 0, CP_OK };
	char num[32], canon[32];
	cp_buf bh, tmp, names;
	unsigned char dg[32], sig[CP_DKIM_SIG_MAX];
	size_t start = out->len, siglen = sizeof(sig);
	int64_t t = one->timestamp == 0 ? now : one->timestamp;
	EVP_MD_CTX *md = NULL;
	int rc;

	cp_buf_init(&bh, 64);
	cp_buf_init(&tmp, SIGN_HEADER_MAX);
	cp_buf_init(&names, 64 * 1024);
	dkim_b64_encode(s->bh[one->bcanon].dg, 32, &bh);
	fold_adds(&f, "DKIM-Signature: v=1;");
	fold_tag(&f, "a", cp_dkim_alg_name(one->alg));
	snprintf(canon, sizeof(canon), "%s/%s", cp_dkim_canon_name(one->hcanon),
	    cp_dkim_canon_name(one->bcanon));
	fold_tag(&f, "c", canon);
	fold_tag(&f, "d", one->domain);
	if (one->identity)
		fold_tag(&f, "i", one->identity);
	if (one->query_tag)
		fold_tag(&f, "q", "dns/txt");
	fold_tag(&f, "s", one->selector);
	if (t >= 0) {
		snprintf(num, sizeof(num), "%lld", (long long)t);
		fold_tag(&f, "t", num);
	}
	if (one->expire > 0) {
		snprintf(num, sizeof(num), "%lld",
		    (long long)((t >= 0 ? t : now) + one->expire));
		fold_tag(&f, "x", num);
	}
	fold_h(&f, s, one, &names);
	fold_tag(&f, "bh", bh.data ? bh.data : "");
	fold_space(&f, 2 + 40);
	fold_add(&f, "b=", 2);
	rc = f.rc;
	if (rc == CP_OK && (md = EVP_MD_CTX_new()) == NULL)
		rc = CP_ENOMEM;
	if (rc == CP_OK && !EVP_DigestInit_ex(md, dkim_sha256(), NULL))
		rc = CP_ENOMEM;
	if (rc == CP_OK)
		rc = hash_headers(s, one->hcanon,
		    one->hlist ? one->hlist : names.data, md, &tmp);
	if (rc == CP_OK) { /* this field, b= empty, no final CRLF (3.7) */
		cp_buf_reset(&tmp);
		rc = cp_dkim_canon_header(one->hcanon, out->data + start,
		    out->len - start, &tmp);
		if (rc == CP_OK) {
			EVP_DigestUpdate(md, tmp.data, tmp.len - 2);
			EVP_DigestFinal_ex(md, dg, NULL);
		}
	}
	EVP_MD_CTX_free(md);
	cp_buf_free(&tmp);
	cp_buf_free(&names);
	cp_buf_free(&bh);
	if (rc != CP_OK)
		return cp_err_set(err, rc, "dkim: out of memory");
	rc = dkim_key_sign_digest(one->key, dg, sizeof(dg), sig, &siglen, err);
	if (rc != CP_OK)
		return rc;
	cp_buf_init(&bh, 4096);
	rc = dkim_b64_encode(sig, siglen, &bh);
	/* b= folded into lines of at most FOLD_AT columns */
	for (size_t i = 0; rc == CP_OK && i < bh.len;) {
		size_t room = f.col < FOLD_AT ? FOLD_AT - f.col : 0, n;

		if (room == 0) {
			fold_adds(&f, eol);
			fold_add(&f, " ", 1);
			f.col = 1;
			continue;
		}
		n = CP_MIN(room, bh.len - i);
		fold_add(&f, bh.data + i, n);
		i += n;
		rc = f.rc;
	}
	cp_buf_free(&bh);
	if (rc == CP_OK)
		rc = cp_buf_adds(out, eol);
	if (rc != CP_OK)
		return cp_err_set(err, rc, "dkim: out of memory");
	return CP_OK;
}

int
cp_dkim_signer_finish(cp_dkim_signer *s, const char *eol, cp_buf *out,
    cp_err *err)
{
	int64_t now = (int64_t)time(NULL);
	int rc;

	CP_ASSERT(!s->finished);
	if (!s->eoh) {
		if (s->raw) {
			split_ctx c = { s, err };

			rc = cp_msg_split_end(&s->split, sign_field_cb, &c, err);
			if (rc != CP_OK)
				return rc;
		}
		if ((rc = cp_dkim_signer_eoh(s, err)) != CP_OK)
			return rc;
	}
	s->finished = 1;
	for (size_t i = 0; i < 2; i++) {
		if (!s->bh[i].used)
			continue;
		cp_dkim_body_canon_end(&s->bh[i].bc);
		EVP_DigestFinal_ex(s->bh[i].md, s->bh[i].dg, NULL);
	}
	for (size_t i = 0; i < s->n; i++) {
		rc = sign_one_field(s, &s->v[i], now, eol ? eol : "\r\n", out,
		    err);
		if (rc != CP_OK)
			return rc;
	}
	return CP_OK;
}
