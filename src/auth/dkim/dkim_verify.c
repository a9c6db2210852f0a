/*
 * dkim_verify.c - checking the DKIM-Signature fields of a message,
 * streaming.
 *
 * RFC 6376 6 (verifier actions): at the end of the header every
 * DKIM-Signature field is parsed (dkim_parse.c), checked for what needs
 * no body (algorithm, x= expiry, t= not in the future) and its key is
 * fetched from SELECTOR._domainkey.DOMAIN (3.6.2) through cp_dns and
 * checked against the signature (k= and h= fit a=, s= allows email, t=s,
 * RSA size; 3.6.1, RFC 8301 for rsa-sha1 and short keys). Surviving
 * signatures get a body hasher, shared by signatures with the same body
 * canonicalization and l=. finish compares bh= (6.1.3), then hashes the
 * signed header fields and checks b= (3.7, 6.1.3).
 *
 * Each signature gets one verdict with a reason and a sentence; the
 * message passes when any signature passes (6.1). l= is honoured, and
 * reported in the result, since content past it is unsigned.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/dkim/dkim_int.h"
#include "coldpost/alloc.h"
#include "coldpost/msg.h"

#define VERIFY_HEADER_MAX (1024 * 1024)

typedef struct body_hash {
	cp_dkim_canon c;
	int has_l;
	uint64_t l;
	uint64_t total;  /* canonical bytes seen */
	EVP_MD_CTX *md;
	cp_dkim_body_canon bc;
	unsigned char dg[32];
} body_hash;

typedef struct vsig {
	cp_dkim_result res;
	cp_dkim_sig sig;
	size_t field;    /* index of its field in the header store */
	size_t val_off;  /* where the field's value starts */
	cp_dkim_key *key;
	int live;        /* still to be decided at finish */
	int bh;          /* its body hash */
} vsig;

struct cp_dkim_verifier {
	cp_dkim_verify_opts o;
	dkim_hdrs hdrs;
	vsig *sigs;
	size_t nsigs;
	body_hash *bh;
	size_t nbh;
	cp_msg_split split;
	int eoh, finished, raw;
};

int
cp_dkim_verifier_new(const cp_dkim_verify_opts *opts, cp_dkim_verifier **out,
    cp_err *err)
{
	cp_dkim_verifier *v = cp_calloc(1, sizeof(*v));

	*out = NULL;
	if (v == NULL)
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	v->o = *opts;
	if (v->o.now == 0)
		v->o.now = (int64_t)time(NULL);
	if (v->o.skew == 0)
		v->o.skew = 300;
	if (v->o.max_sigs <= 0)
		v->o.max_sigs = CP_DKIM_VERIFY_MAX;
	if (v->o.min_rsa_bits < 1024)
		v->o.min_rsa_bits = 1024; /* RFC 8301 3.2 */
	if (v->o.max_rsa_bits <= 0)
		v->o.max_rsa_bits = 8192;
	dkim_hdrs_init(&v->hdrs,
	    v->o.header_max ? v->o.header_max : VERIFY_HEADER_MAX);
	cp_msg_split_init(&v->split, 0);
	*out = v;
	return CP_OK;
}

void
cp_dkim_verifier_free(cp_dkim_verifier *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nsigs; i++) {
		cp_dkim_sig_clear(&v->sigs[i].sig);
		cp_dkim_key_free(v->sigs[i].key);
	}
	cp_free(v->sigs);
	for (size_t i = 0; i < v->nbh; i++)
		EVP_MD_CTX_free(v->bh[i].md);
	cp_free(v->bh);
	dkim_hdrs_clear(&v->hdrs);
	cp_msg_split_clear(&v->split);
	cp_free(v);
}

int
cp_dkim_verifier_header(cp_dkim_verifier *v, const char *field, size_t len,
    cp_err *err)
{
	CP_ASSERT(!v->eoh);
	return dkim_hdrs_add(&v->hdrs, field, len, err);
}

static void
verdict(vsig *s, cp_dkim_status st, cp_dkim_reason r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
verdict(vsig *s, cp_dkim_status st, cp_dkim_reason r, const char *fmt, ...)
{
	va_list ap;

	s->res.status = st;
	s->res.reason = r;
	s->live = 0;
	va_start(ap, fmt);
	vsnprintf(s->res.why, sizeof(s->res.why), fmt, ap);
	va_end(ap);
}

static void
copy_str(char *dst, size_t max, const char *src)
{
	snprintf(dst, max, "%s", src ? src : "");
}

/* Fill the result with what the field said. */
static void
describe(vsig *s)
{
	const cp_dkim_sig *g = &s->sig;

	copy_str(s->res.domain, sizeof(s->res.domain), g->domain);
	copy_str(s->res.selector, sizeof(s->res.selector), g->selector);
	copy_str(s->res.identity, sizeof(s->res.identity), g->identity);
	copy_str(s->res.alg, sizeof(s->res.alg), g->a_name);
	snprintf(s->res.canon, sizeof(s->res.canon), "%s/%s",
	    cp_dkim_canon_name(g->hcanon), cp_dkim_canon_name(g->bcanon));
	s->res.has_l = g->has_l;
	s->res.l = g->l;
}

/* Look the key up and check it against the signature (3.6.1, 3.6.2). */
static int
fetch_key(cp_dkim_verifier *v, vsig *s, cp_err *err)
{
	const cp_dkim_sig *g = &s->sig;
	char name[300];
	cp_dns_answer *a = NULL;
	cp_dkim_keyrec *rec;
	cp_dkim_reason why;
	cp_err kerr = { 0 };
	cp_dkim_keytype want;
	const char *id_domain = strrchr(g->identity, '@') + 1;
	int rc, n, found = 0;

	n = snprintf(name, sizeof(name), "%s._domainkey.%s", g->selector,
	    g->domain);
	if (n < 0 || (size_t)n > 253) {
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_NOTFOUND,
		    "key not found: %s._domainkey.%s is too long a name",
		    g->selector, g->domain);
		return CP_OK;
	}
	if (v->o.dns == NULL) {
		verdict(s, CP_DKIM_TEMPERROR, CP_DKIM_EKEY_TEMP,
		    "key lookup failed: no resolver");
		return CP_OK;
	}
	rc = cp_dns_query(v->o.dns, name, CP_DNS_TXT, &a, &kerr);
	if (rc == CP_ENOMEM)
		return cp_err_set(err, rc, "dkim: out of memory");
	if (rc != CP_OK) {
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_NOTFOUND,
		    "key not found: %s", kerr.msg);
		return CP_OK;
	}
	switch (a->status) {
	case CP_DNS_OK:
		break;
	case CP_DNS_TEMPFAIL:
		verdict(s, CP_DKIM_TEMPERROR, CP_DKIM_EKEY_TEMP,
		    "key lookup failed: %s TXT: %s", name,
		    a->why ? a->why : "temporary DNS failure");
		cp_dns_answer_free(a);
		return CP_OK;
	default:
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_NOTFOUND,
		    "key not found: no TXT record at %s (%s)", name,
		    cp_dns_status_name(a->status));
		cp_dns_answer_free(a);
		return CP_OK;
	}
	rec = cp_malloc(sizeof(*rec));
	if (rec == NULL) {
		cp_dns_answer_free(a);
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	}
	/* the first record that parses is the key (3.6.2.2) */
	for (size_t i = 0; i < a->n && !found; i++)
		if (cp_dkim_parse_keyrec(a->rr[i].u.txt.data, a->rr[i].u.txt.len,
			rec, i == 0 ? &kerr : NULL) == CP_OK)
			found = 1;
	cp_dns_answer_free(a);
	if (!found) {
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_SYNTAX,
		    "key record syntax error at %s: %s", name,
		    kerr.msg + (strncmp(kerr.msg, "dkim: ", 6) == 0 ? 6 : 0));
		goto out;
	}
	s->res.testing = (rec->flags & CP_DKIM_FLAG_TESTING) != 0;
	want = g->alg == CP_DKIM_ED25519_SHA256 ? CP_DKIM_KEY_ED25519
						: CP_DKIM_KEY_RSA;
	if (rec->revoked) {
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_REVOKED,
		    "key revoked: %s has an empty p=", name);
	} else if (rec->k != want) {
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_ALG,
		    "algorithm mismatch: a=%s, key at %s has k=%s", g->a_name,
		    name, rec->k_name);
	} else if (!(rec->hashes & CP_DKIM_HASH_SHA256)) {
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_ALG,
		    "algorithm mismatch: the key's h= does not allow sha256");
	} else if (!(rec->services &
		       (CP_DKIM_SERVICE_EMAIL | CP_DKIM_SERVICE_ANY))) {
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_SERVICE,
		    "key not for email: its s= lists neither email nor *");
	} else if ((rec->flags & CP_DKIM_FLAG_STRICT) &&
		   !dkim_eq_nocase(id_domain, strlen(id_domain), g->domain,
		       strlen(g->domain))) {
		verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_STRICT,
		    "identity not allowed by key: t=s and i=%s is not d=%s",
		    g->identity, g->domain);
	} else if (dkim_key_from_record(rec, &s->key, &why, &kerr) != CP_OK) {
		if (kerr.code == CP_ENOMEM) {
			cp_free(rec);
			return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
		}
		verdict(s, CP_DKIM_PERMERROR, why, "%s at %s: %s",
		    cp_dkim_reason_name(why), name,
		    kerr.msg + (strncmp(kerr.msg, "dkim: ", 6) == 0 ? 6 : 0));
	} else {
		int bits = cp_dkim_key_bits(s->key);

		s->res.key_bits = bits;
		if (want == CP_DKIM_KEY_RSA && bits < v->o.min_rsa_bits)
			verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_SHORT,
			    "key too short: %d-bit RSA key at %s, minimum %d",
			    bits, name, v->o.min_rsa_bits);
		else if (want == CP_DKIM_KEY_RSA && bits > v->o.max_rsa_bits)
			verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EKEY_LONG,
			    "key too long: %d-bit RSA key at %s, maximum %d",
			    bits, name, v->o.max_rsa_bits);
	}
out:
	cp_free(rec);
	return CP_OK;
}

static void
bh_sink(void *arg, const char *p, size_t len)
{
	body_hash *b = arg;
	size_t n = len;

	if (b->has_l) {
		uint64_t left = b->total >= b->l ? 0 : b->l - b->total;

		n = left < len ? (size_t)left : len;
	}
	if (n)
		EVP_DigestUpdate(b->md, p, n);
	b->total += len;
}

/* A body hasher for this signature, shared when one fits. */
static int
attach_body_hash(cp_dkim_verifier *v, vsig *s, cp_err *err)
{
	const cp_dkim_sig *g = &s->sig;
	body_hash *b;

	for (size_t i = 0; i < v->nbh; i++) {
		b = &v->bh[i];
		if (b->c == g->bcanon && b->has_l == g->has_l &&
		    (!b->has_l || b->l == g->l)) {
			s->bh = (int)i;
			return CP_OK;
		}
	}
	b = &v->bh[v->nbh];
	memset(b, 0, sizeof(*b));
	b->c = g->bcanon;
	b->has_l = g->has_l;
	b->l = g->l;
	b->md = EVP_MD_CTX_new();
	if (b->md == NULL || !EVP_DigestInit_ex(b->md, dkim_sha256(), NULL)) {
		EVP_MD_CTX_free(b->md);
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	}
	/* the sink's arg is the slot: v->bh never moves after eoh */
	cp_dkim_body_canon_init(&b->bc, b->c, bh_sink, b);
	s->bh = (int)v->nbh++;
	return CP_OK;
}

int
cp_dkim_verifier_eoh(cp_dkim_verifier *v, cp_err *err)
{
	size_t n = 0, k = 0;
	int rc;

	CP_ASSERT(!v->eoh);
	v->eoh = 1;
	for (size_t i = 0; i < v->hdrs.n; i++)
		if (dkim_eq_nocase(v->hdrs.text.data + v->hdrs.v[i].off,
			v->hdrs.v[i].nlen, "dkim-signature", 14))
			n++;
	if (n == 0)
		return CP_OK;
	v->sigs = cp_calloc(n, sizeof(*v->sigs));
	v->bh = cp_calloc(n, sizeof(*v->bh));
	if (v->sigs == NULL || v->bh == NULL)
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	for (size_t i = 0; i < v->hdrs.n; i++) {
		const dkim_hdr *h = &v->hdrs.v[i];
		const char *f = v->hdrs.text.data + h->off;
		const char *colon;
		vsig *s;
		cp_err perr = { 0 };
		cp_dkim_reason why;

		if (!dkim_eq_nocase(f, h->nlen, "dkim-signature", 14))
			continue;
		s = &v->sigs[k++];
		v->nsigs = k;
		s->field = i;
		s->live = 1;
		colon = memchr(f, ':', h->len);
		s->val_off = (size_t)(colon - f) + 1;
		if (k > (size_t)v->o.max_sigs) {
			rc = cp_dkim_parse_sig(f + s->val_off, h->len - s->val_off,
			    &s->sig, &why, &perr);
			describe(s);
			verdict(s, CP_DKIM_PERMERROR, CP_DKIM_ETOOMANY,
			    "too many signatures: not checked (limit %d)",
			    v->o.max_sigs);
			continue;
		}
		rc = cp_dkim_parse_sig(f + s->val_off, h->len - s->val_off,
		    &s->sig, &why, &perr);
		describe(s);
		if (rc != CP_OK) {
			if (perr.code == CP_ENOMEM)
				return cp_err_set(err, CP_ENOMEM,
				    "dkim: out of memory");
			verdict(s, CP_DKIM_PERMERROR, why, "%s",
			    perr.msg + (strncmp(perr.msg, "dkim: ", 6) == 0 ? 6
									 : 0));
			continue;
		}
		if (s->sig.alg == CP_DKIM_RSA_SHA1) {
			verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EALG,
			    "unsupported algorithm: rsa-sha1 is not accepted "
			    "(RFC 8301)");
			continue;
		}
		if (s->sig.alg == CP_DKIM_ALG_UNKNOWN) {
			verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EALG,
			    "unsupported algorithm: a=%s", s->sig.a_name);
			continue;
		}
		if (s->sig.x >= 0 && s->sig.x < v->o.now) {
			verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EEXPIRED,
			    "signature expired: x=%lld is %lld s ago",
			    (long long)s->sig.x,
			    (long long)(v->o.now - s->sig.x));
			continue;
		}
		if (s->sig.t >= 0 && s->sig.t > v->o.now + v->o.skew) {
			verdict(s, CP_DKIM_PERMERROR, CP_DKIM_EFUTURE,
			    "timestamp in the future: t=%lld is %lld s ahead",
			    (long long)s->sig.t,
			    (long long)(s->sig.t - v->o.now));
			continue;
		}
		if ((rc = fetch_key(v, s, err)) != CP_OK)
			return rc;
		if (s->live && (rc = attach_body_hash(v, s, err)) != CP_OK)
			return rc;
	}
	return CP_OK;
}

int
cp_dkim_verifier_body(cp_dkim_verifier *v, const char *p, size_t len,
    cp_err *err)
{
	(void)err;
	CP_ASSERT(v->eoh && !v->finished);
	for (size_t i = 0; i < v->nbh; i++)
		cp_dkim_body_canon_add(&v->bh[i].bc, p, len);
	return CP_OK;
}

typedef struct split_ctx {
	cp_dkim_verifier *v;
	cp_err *err;
} split_ctx;

static int
verify_field_cb(void *arg, const char *field, size_t len)
{
	split_ctx *c = arg;

	return cp_dkim_verifier_header(c->v, field, len, c->err);
}

int
cp_dkim_verifier_write(cp_dkim_verifier *v, const char *p, size_t len,
    cp_err *err)
{
	split_ctx c = { v, err };
	size_t off;
	int rc;

	v->raw = 1;
	if (v->eoh)
		return cp_dkim_verifier_body(v, p, len, err);
	rc = cp_msg_split_feed(&v->split, p, len, &off, verify_field_cb, &c,
	    err);
	if (rc != CP_OK)
		return rc;
	if (!v->split.done)
		return CP_OK;
	if ((rc = cp_dkim_verifier_eoh(v, err)) != CP_OK)
		return rc;
	return cp_dkim_verifier_body(v, p + off, len - off, err);
}

/* The header hash (3.7) of one signature into dg. */
static int
header_hash(cp_dkim_verifier *v, vsig *s, unsigned char dg[32])
{
	const cp_dkim_sig *g = &s->sig;
	const dkim_hdr *self = &v->hdrs.v[s->field];
	const char *f = v->hdrs.text.data + self->off;
	size_t cut = s->val_off + g->b_off, end = s->val_off + g->b_end;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	cp_buf tmp, field;
	int rc = md && EVP_DigestInit_ex(md, dkim_sha256(), NULL) ? CP_OK
								 : CP_ENOMEM;

	cp_buf_init(&tmp, v->hdrs.text.max + 1024);
	cp_buf_init(&field, v->hdrs.text.max + 1024);
	dkim_hdrs_unuse(&v->hdrs);
	for (size_t i = 0; rc == CP_OK && i < g->nh; i++) {
		const dkim_hdr *h = dkim_hdrs_take(&v->hdrs, g->h[i],
		    strlen(g->h[i]));

		if (h == NULL)
			continue; /* a name listed beyond those present */
		cp_buf_reset(&tmp);
		rc = cp_dkim_canon_header(g->hcanon, v->hdrs.text.data + h->off,
		    h->len, &tmp);
		if (rc == CP_OK)
			EVP_DigestUpdate(md, tmp.data, tmp.len);
	}
	/* the signature's own field with the b= value taken out */
	if (rc == CP_OK)
		rc = cp_buf_add(&field, f, cut);
	if (rc == CP_OK)
		rc = cp_buf_add(&field, f + end, self->len - end);
	if (rc == CP_OK) {
		cp_buf_reset(&tmp);
		rc = cp_dkim_canon_header(g->hcanon, field.data, field.len,
		    &tmp);
	}
	if (rc == CP_OK) {
		EVP_DigestUpdate(md, tmp.data, tmp.len - 2); /* no CRLF */
		EVP_DigestFinal_ex(md, dg, NULL);
	}
	EVP_MD_CTX_free(md);
	cp_buf_free(&tmp);
	cp_buf_free(&field);
	return rc;
}

int
cp_dkim_verifier_finish(cp_dkim_verifier *v, cp_err *err)
{
	int rc;

	CP_ASSERT(!v->finished);
	if (!v->eoh) {
		if (v->raw) {
			split_ctx c = { v, err };

			rc = cp_msg_split_end(&v->split, verify_field_cb, &c,
			    err);
			if (rc != CP_OK)
				return rc;
		}
		if ((rc = cp_dkim_verifier_eoh(v, err)) != CP_OK)
			return rc;
	}
	v->finished = 1;
	for (size_t i = 0; i < v->nbh; i++) {
		cp_dkim_body_canon_end(&v->bh[i].bc);
		EVP_DigestFinal_ex(v->bh[i].md, v->bh[i].dg, NULL);
	}
	for (size_t i = 0; i < v->nsigs; i++) {
		vsig *s = &v->sigs[i];
		body_hash *b;
		unsigned char dg[32];

		if (!s->live)
			continue;
		b = &v->bh[s->bh];
		s->res.body_len = b->total;
		if (b->has_l && b->total < b->l) {
			verdict(s, CP_DKIM_FAIL, CP_DKIM_EBODYLEN,
			    "l= larger than body: l=%llu, the body has %llu "
			    "bytes", (unsigned long long)b->l,
			    (unsigned long long)b->total);
			continue;
		}
		if (s->sig.bhlen != 32 ||
		    CRYPTO_memcmp(s->sig.bh, b->dg, 32) != 0) {
			verdict(s, CP_DKIM_FAIL, CP_DKIM_EBODYHASH,
			    "body hash mismatch: the body is not the one "
			    "signed (bh=)");
			continue;
		}
		if ((rc = header_hash(v, s, dg)) != CP_OK)
			return cp_err_set(err, rc, "dkim: out of memory");
		if (!dkim_key_verify_digest(s->key, dg, sizeof(dg), s->sig.b,
			s->sig.blen)) {
			verdict(s, CP_DKIM_FAIL, CP_DKIM_ESIGNATURE,
			    "bad signature: b= does not verify (a signed header "
			    "field changed, or the key does not match)");
			continue;
		}
		s->res.status = CP_DKIM_PASS;
		s->res.reason = CP_DKIM_OK;
		s->res.why[0] = '\0';
		s->live = 0;
	}
	return CP_OK;
}

size_t
cp_dkim_verifier_count(const cp_dkim_verifier *v)
{
	return v->nsigs;
}

const cp_dkim_result *
cp_dkim_verifier_result(const cp_dkim_verifier *v, size_t i)
{
	CP_ASSERT(i < v->nsigs);
	return &v->sigs[i].res;
}

cp_dkim_status
cp_dkim_verifier_status(const cp_dkim_verifier *v)
{
	cp_dkim_status st = CP_DKIM_NONE;

	for (size_t i = 0; i < v->nsigs; i++) {
		cp_dkim_status s = v->sigs[i].res.status;

		if (s == CP_DKIM_PASS)
			return CP_DKIM_PASS;
		if (s == CP_DKIM_TEMPERROR)
			st = CP_DKIM_TEMPERROR;
		else if (st == CP_DKIM_NONE)
			st = CP_DKIM_FAIL;
	}
	return st;
}
