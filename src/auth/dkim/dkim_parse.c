/*
 * dkim_parse.c - the DKIM-Signature header field and DKIM key records.
 *
 * RFC 6376 3.2 (tag=value lists: FWS around tags and '=', no tag twice,
 * tag names case-sensitive), 3.5 (the signature's tags), 3.6.1 (key
 * record tags) and 2.4 (base64 with folding whitespace). Parsing checks
 * syntax and what can be known from the field alone (required tags, v=,
 * From in h=, i= within d=, x= after t=); time, keys and hashes are the
 * verifier's (dkim_verify.c). Nothing here does I/O; the key record
 * parser does not allocate, so a fuzzer can hammer both.
 */
#include <openssl/evp.h>
#include <string.h>

#include "auth/dkim/dkim_int.h"
#include "coldpost/alloc.h"

const char *
cp_dkim_alg_name(cp_dkim_alg a)
{
	switch (a) {
	case CP_DKIM_RSA_SHA256: return "rsa-sha256";
	case CP_DKIM_ED25519_SHA256: return "ed25519-sha256";
	case CP_DKIM_RSA_SHA1: return "rsa-sha1";
	default: return "unknown";
	}
}

const char *
cp_dkim_canon_name(cp_dkim_canon c)
{
	return c == CP_DKIM_RELAXED ? "relaxed" : "simple";
}

const char *
cp_dkim_status_name(cp_dkim_status s)
{
	switch (s) {
	case CP_DKIM_PASS: return "pass";
	case CP_DKIM_FAIL: return "fail";
	case CP_DKIM_PERMERROR: return "permerror";
	case CP_DKIM_TEMPERROR: return "temperror";
	default: return "none";
	}
}

const char *
cp_dkim_reason_name(cp_dkim_reason r)
{
	switch (r) {
	case CP_DKIM_OK: return "ok";
	case CP_DKIM_ESYNTAX: return "syntax error";
	case CP_DKIM_EVERSION: return "unsupported version";
	case CP_DKIM_EMISSING: return "missing required tag";
	case CP_DKIM_EALG: return "unsupported algorithm";
	case CP_DKIM_EFROM: return "From not signed";
	case CP_DKIM_EIDENTITY: return "identity not within domain";
	case CP_DKIM_EEXPIRED: return "signature expired";
	case CP_DKIM_EFUTURE: return "timestamp in the future";
	case CP_DKIM_EKEY_NOTFOUND: return "key not found";
	case CP_DKIM_EKEY_TEMP: return "key lookup failed";
	case CP_DKIM_EKEY_SYNTAX: return "key record syntax error";
	case CP_DKIM_EKEY_REVOKED: return "key revoked";
	case CP_DKIM_EKEY_SHORT: return "key too short";
	case CP_DKIM_EKEY_LONG: return "key too long";
	case CP_DKIM_EKEY_ALG: return "algorithm mismatch";
	case CP_DKIM_EKEY_SERVICE: return "key not for email";
	case CP_DKIM_EKEY_STRICT: return "identity not allowed by key (t=s)";
	case CP_DKIM_EBODYHASH: return "body hash mismatch";
	case CP_DKIM_EBODYLEN: return "l= larger than body";
	case CP_DKIM_ESIGNATURE: return "bad signature";
	case CP_DKIM_ETOOMANY: return "too many signatures";
	default: return "unknown";
	}
}

cp_dkim_alg
cp_dkim_alg_parse(const char *name, size_t len)
{
	if (dkim_eq_nocase(name, len, "rsa-sha256", 10))
		return CP_DKIM_RSA_SHA256;
	if (dkim_eq_nocase(name, len, "ed25519-sha256", 14))
		return CP_DKIM_ED25519_SHA256;
	if (dkim_eq_nocase(name, len, "rsa-sha1", 8))
		return CP_DKIM_RSA_SHA1;
	return CP_DKIM_ALG_UNKNOWN;
}

static int
canon_one(const char *s, size_t n, cp_dkim_canon *c)
{
	if (dkim_eq_nocase(s, n, "simple", 6))
		*c = CP_DKIM_SIMPLE;
	else if (dkim_eq_nocase(s, n, "relaxed", 7))
		*c = CP_DKIM_RELAXED;
	else
		return CP_ESYNTAX;
	return CP_OK;
}

int
cp_dkim_canon_parse(const char *s, size_t len, cp_dkim_canon *hdr,
    cp_dkim_canon *body)
{
	const char *slash = memchr(s, '/', len);

	if (slash == NULL) {
		*body = CP_DKIM_SIMPLE; /* RFC 6376 3.5 c=: body defaults */
		return canon_one(s, len, hdr);
	}
	if (canon_one(s, (size_t)(slash - s), hdr) != CP_OK)
		return CP_ESYNTAX;
	return canon_one(slash + 1, len - (size_t)(slash - s) - 1, body);
}

int
dkim_eq_nocase(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return 0;
	}
	return 1;
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
dkim_valid_domain(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-')
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[n - 1] != '-';
}

int
dkim_tag_is(const dkim_tag *t, const char *n)
{
	size_t l = strlen(n);

	return t->nlen == l && memcmp(t->name, n, l) == 0;
}

/* ---- tag lists -------------------------------------------------------- */

void
dkim_taglist_init(dkim_taglist *tl, const char *txt, size_t len,
    const char *what)
{
	tl->txt = txt;
	tl->len = len;
	tl->pos = 0;
	tl->nseen = 0;
	tl->what = what;
}

/* VALCHAR (RFC 6376 3.2): %x21-3A / %x3C-7E. */
static int
is_valchar(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 0x21 && u <= 0x7e && u != ';';
}

int
dkim_taglist_next(dkim_taglist *tl, dkim_tag *tag, cp_err *err)
{
	const char *t = tl->txt;
	size_t n = tl->len, p = tl->pos, vs, ve;

	while (p < n && dkim_is_ws(t[p]))
		p++;
	if (p == n) {
		tl->pos = p;
		return 0;
	}
	/* tag-name = ALPHA *ALNUMPUNC */
	if (!is_alpha(t[p]))
		return cp_err_set(err, CP_ESYNTAX,
		    "dkim: %s: expected a tag name at offset %zu", tl->what, p);
	tag->name = t + p;
	while (p < n && (is_alpha(t[p]) || is_digit(t[p]) || t[p] == '_'))
		p++;
	tag->nlen = (size_t)(t + p - tag->name);
	while (p < n && dkim_is_ws(t[p]))
		p++;
	if (p == n || t[p] != '=')
		return cp_err_set(err, CP_ESYNTAX,
		    "dkim: %s: syntax error in tag %.*s: no '='", tl->what,
		    (int)CP_MIN(tag->nlen, 32), tag->name);
	p++;
	tag->eq_off = p;
	while (p < n && dkim_is_ws(t[p]))
		p++;
	vs = p;
	while (p < n && t[p] != ';') {
		if (!is_valchar(t[p]) && !dkim_is_ws(t[p]))
			return cp_err_set(err, CP_ESYNTAX,
			    "dkim: %s: syntax error in tag %.*s=: byte 0x%02x",
			    tl->what, (int)CP_MIN(tag->nlen, 32), tag->name,
			    (unsigned char)t[p]);
		p++;
	}
	tag->end_off = p;
	ve = p;
	while (ve > vs && dkim_is_ws(t[ve - 1]))
		ve--;
	tag->val = t + vs;
	tag->vlen = ve - vs;
	if (p < n)
		p++; /* the ';' */
	tl->pos = p;
	for (size_t i = 0; i < tl->nseen; i++)
		if (tl->seen_len[i] == tag->nlen &&
		    memcmp(tl->seen[i], tag->name, tag->nlen) == 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "dkim: %s: tag %.*s= appears twice", tl->what,
			    (int)CP_MIN(tag->nlen, 32), tag->name);
	if (tl->nseen == CP_NELEM(tl->seen))
		return cp_err_set(err, CP_ESYNTAX, "dkim: %s: more than %zu tags",
		    tl->what, CP_NELEM(tl->seen));
	tl->seen[tl->nseen] = tag->name;
	tl->seen_len[tl->nseen++] = tag->nlen;
	return 1;
}

/* ---- base64 ----------------------------------------------------------- */

static int
is_b64(char c)
{
	return is_alpha(c) || is_digit(c) || c == '+' || c == '/';
}

int
dkim_b64_decode(const char *s, size_t n, unsigned char *out, size_t max,
    size_t *outlen)
{
	char clean[4096];
	size_t m = 0, pad = 0;
	int len;

	*outlen = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (dkim_is_ws(c))
			continue;
		if (c == '=') {
			pad++;
		} else if (!is_b64(c) || pad > 0) {
			return CP_ESYNTAX; /* bad char, or data after '=' */
		}
		if (m == sizeof(clean))
			return CP_ETOOBIG;
		clean[m++] = c;
	}
	if (m == 0)
		return CP_OK;
	if (m % 4 != 0 || pad > 2)
		return CP_ESYNTAX;
	if (m / 4 * 3 > max)
		return CP_ETOOBIG;
	len = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)m);
	if (len < 0 || (size_t)len < pad)
		return CP_ESYNTAX;
	*outlen = (size_t)len - pad;
	return CP_OK;
}

int
dkim_b64_encode(const unsigned char *p, size_t n, cp_buf *out)
{
	size_t need = (n + 2) / 3 * 4;
	int rc = cp_buf_reserve(out, need);

	if (rc != CP_OK)
		return rc;
	EVP_EncodeBlock((unsigned char *)out->data + out->len, p, (int)n);
	out->len += need;
	out->data[out->len] = '\0';
	return CP_OK;
}

/* ---- DKIM-Signature ----------------------------------------------------- */

void
cp_dkim_sig_clear(cp_dkim_sig *sig)
{
	if (sig == NULL)
		return;
	cp_free(sig->domain);
	cp_free(sig->selector);
	cp_free(sig->identity);
	for (size_t i = 0; i < sig->nh; i++)
		cp_free(sig->h[i]);
	cp_free(sig->h);
	memset(sig, 0, sizeof(*sig));
	sig->t = sig->x = -1;
}

static int
sig_syntax(cp_dkim_reason *reason, cp_err *err, const dkim_tag *t,
    const char *what)
{
	if (reason)
		*reason = CP_DKIM_ESYNTAX;
	return cp_err_set(err, CP_ESYNTAX, "dkim: syntax error in tag %.*s=: %s",
	    (int)CP_MIN(t->nlen, 32), t->name, what);
}

#define SYNTAX(t, what) sig_syntax(reason, err, (t), what)

static int
dup_val(const dkim_tag *t, char **out)
{
	*out = cp_strndup(t->val, t->vlen);
	return *out ? CP_OK : CP_ENOMEM;
}

/* 1*max DIGIT into *v. */
static int
parse_num(const dkim_tag *t, size_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (t->vlen == 0 || t->vlen > max)
		return CP_ESYNTAX;
	for (size_t i = 0; i < t->vlen; i++) {
		if (!is_digit(t->val[i]))
			return CP_ESYNTAX;
		if (x > (UINT64_MAX - 9) / 10)
			return CP_ESYNTAX;
		x = x * 10 + (uint64_t)(t->val[i] - '0');
	}
	*v = x;
	return CP_OK;
}

/* ftext (RFC 5322 3.6.8): printable except ':'. */
static int
is_ftext(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 33 && u <= 126 && u != ':';
}

static int
parse_h(const dkim_tag *t, cp_dkim_sig *sig)
{
	size_t i = 0;

	while (i <= t->vlen) {
		size_t s, e;

		while (i < t->vlen && dkim_is_ws(t->val[i]))
			i++;
		s = i;
		while (i < t->vlen && is_ftext(t->val[i]))
			i++;
		e = i;
		while (i < t->vlen && dkim_is_ws(t->val[i]))
			i++;
		if (e == s || (i < t->vlen && t->val[i] != ':'))
			return CP_ESYNTAX;
		if (sig->nh == CP_DKIM_MAX_H)
			return CP_ETOOBIG;
		if (sig->h == NULL) {
			sig->h = cp_calloc(CP_DKIM_MAX_H, sizeof(*sig->h));
			if (sig->h == NULL)
				return CP_ENOMEM;
		}
		sig->h[sig->nh] = cp_strndup(t->val + s, e - s);
		if (sig->h[sig->nh] == NULL)
			return CP_ENOMEM;
		sig->nh++;
		i++; /* the ':' (or past the end) */
	}
	return CP_OK;
}

/* A colon-separated list of tokens; 1 if one equals want. */
static int
list_has(const char *v, size_t n, const char *want, int *found)
{
	size_t i = 0, wl = strlen(want);

	*found = 0;
	while (i <= n) {
		size_t s, e;

		while (i < n && dkim_is_ws(v[i]))
			i++;
		s = i;
		while (i < n && v[i] != ':' && !dkim_is_ws(v[i]))
			i++;
		e = i;
		while (i < n && dkim_is_ws(v[i]))
			i++;
		if (e == s || (i < n && v[i] != ':'))
			return CP_ESYNTAX;
		if (dkim_eq_nocase(v + s, e - s, want, wl))
			*found = 1;
		i++;
	}
	return CP_OK;
}

static int
sig_apply(cp_dkim_sig *sig, const dkim_tag *t, cp_dkim_reason *reason,
    cp_err *err)
{
	uint64_t num;
	size_t len;
	int rc, found;

	if (dkim_tag_is(t, "bh")) {
		rc = dkim_b64_decode(t->val, t->vlen, sig->bh, sizeof(sig->bh),
		    &len);
		if (rc != CP_OK || len == 0)
			return SYNTAX(t, "bad base64");
		sig->bhlen = len;
		return CP_OK;
	}
	if (t->nlen != 1)
		return CP_OK; /* unknown tags are ignored (3.2) */
	switch (t->name[0]) {
	case 'v':
		if (t->vlen != 1 || t->val[0] != '1') {
			if (reason)
				*reason = CP_DKIM_EVERSION;
			return cp_err_set(err, CP_ESYNTAX,
			    "dkim: unsupported version v=%.*s (not 1)",
			    (int)CP_MIN(t->vlen, 16), t->val);
		}
		return CP_OK;
	case 'a':
		if (t->vlen == 0 || t->vlen >= sizeof(sig->a_name))
			return SYNTAX(t, "bad algorithm");
		for (size_t i = 0; i < t->vlen; i++)
			if (!is_alpha(t->val[i]) && !is_digit(t->val[i]) &&
			    t->val[i] != '-')
				return SYNTAX(t, "bad algorithm");
		memcpy(sig->a_name, t->val, t->vlen);
		sig->a_name[t->vlen] = '\0';
		sig->alg = cp_dkim_alg_parse(t->val, t->vlen);
		return CP_OK;
	case 'b':
		rc = dkim_b64_decode(t->val, t->vlen, sig->b, sizeof(sig->b),
		    &sig->blen);
		if (rc == CP_ETOOBIG)
			return SYNTAX(t, "signature too long");
		if (rc != CP_OK || sig->blen == 0)
			return SYNTAX(t, "bad base64");
		sig->b_off = t->eq_off;
		sig->b_end = t->end_off;
		return CP_OK;
	case 'c':
		if (cp_dkim_canon_parse(t->val, t->vlen, &sig->hcanon,
			&sig->bcanon) != CP_OK)
			return SYNTAX(t, "not simple or relaxed");
		return CP_OK;
	case 'd':
		if (!dkim_valid_domain(t->val, t->vlen))
			return SYNTAX(t, "not a domain name");
		if (dup_val(t, &sig->domain) != CP_OK)
			return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
		for (char *p = sig->domain; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		return CP_OK;
	case 'h':
		rc = parse_h(t, sig);
		if (rc == CP_ENOMEM)
			return cp_err_set(err, rc, "dkim: out of memory");
		if (rc == CP_ETOOBIG)
			return SYNTAX(t, "too many header names");
		if (rc != CP_OK)
			return SYNTAX(t, "bad header name list");
		return CP_OK;
	case 'i': {
		const char *at = NULL;

		for (size_t i = 0; i < t->vlen; i++) {
			if (t->val[i] == '@')
				at = t->val + i;
			if (dkim_is_ws(t->val[i]))
				return SYNTAX(t, "whitespace in identity");
		}
		if (at == NULL)
			return SYNTAX(t, "no '@'");
		if (!dkim_valid_domain(at + 1,
			t->vlen - (size_t)(at + 1 - t->val)))
			return SYNTAX(t, "bad domain after '@'");
		if (dup_val(t, &sig->identity) != CP_OK)
			return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
		return CP_OK;
	}
	case 'l':
		if (parse_num(t, 76, &num) != CP_OK)
			return SYNTAX(t, "not a number");
		sig->has_l = 1;
		sig->l = num;
		return CP_OK;
	case 'q':
		if (list_has(t->val, t->vlen, "dns/txt", &found) != CP_OK)
			return SYNTAX(t, "bad query method list");
		if (!found)
			return SYNTAX(t, "no dns/txt method");
		return CP_OK;
	case 's':
		if (!dkim_valid_domain(t->val, t->vlen))
			return SYNTAX(t, "not a selector");
		if (dup_val(t, &sig->selector) != CP_OK)
			return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
		return CP_OK;
	case 't':
		if (parse_num(t, 12, &num) != CP_OK)
			return SYNTAX(t, "not a timestamp");
		sig->t = (int64_t)num;
		return CP_OK;
	case 'x':
		if (parse_num(t, 12, &num) != CP_OK)
			return SYNTAX(t, "not a timestamp");
		sig->x = (int64_t)num;
		return CP_OK;
	default:
		return CP_OK; /* z= and unknown tags: ignored (3.2) */
	}
}

int
cp_dkim_parse_sig(const char *txt, size_t len, cp_dkim_sig *sig,
    cp_dkim_reason *reason, cp_err *err)
{
	static const char *const required[] = { "v", "a", "b", "bh", "d", "h",
		"s" };
	dkim_taglist tl;
	dkim_tag tag;
	int rc, from = 0;

	memset(sig, 0, sizeof(*sig));
	sig->t = sig->x = -1;
	if (reason)
		*reason = CP_DKIM_ESYNTAX;
	dkim_taglist_init(&tl, txt, len, "dkim-signature");
	while ((rc = dkim_taglist_next(&tl, &tag, err)) == 1) {
		rc = sig_apply(sig, &tag, reason, err);
		if (rc != CP_OK)
			return rc;
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < CP_NELEM(required); i++) {
		size_t rl = strlen(required[i]), j;

		for (j = 0; j < tl.nseen; j++)
			if (tl.seen_len[j] == rl &&
			    memcmp(tl.seen[j], required[i], rl) == 0)
				break;
		if (j == tl.nseen) {
			if (reason)
				*reason = CP_DKIM_EMISSING;
			return cp_err_set(err, CP_ESYNTAX,
			    "dkim: missing required tag %s=", required[i]);
		}
	}
	if (sig->alg != CP_DKIM_ALG_UNKNOWN && sig->bhlen != 32 &&
	    sig->alg != CP_DKIM_RSA_SHA1)
		return cp_err_set(err, CP_ESYNTAX,
		    "dkim: syntax error in tag bh=: %zu bytes, a SHA-256 hash "
		    "has 32", sig->bhlen);
	for (size_t i = 0; i < sig->nh; i++)
		if (dkim_eq_nocase(sig->h[i], strlen(sig->h[i]), "from", 4))
			from = 1;
	if (!from) {
		if (reason)
			*reason = CP_DKIM_EFROM;
		return cp_err_set(err, CP_ESYNTAX,
		    "dkim: h= does not list From (RFC 6376 5.4)");
	}
	if (sig->identity == NULL) {
		size_t dl = strlen(sig->domain);

		sig->identity = cp_malloc(dl + 2);
		if (sig->identity == NULL)
			return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
		sig->identity[0] = '@';
		memcpy(sig->identity + 1, sig->domain, dl + 1);
	} else {
		const char *id = strrchr(sig->identity, '@') + 1;
		size_t il = strlen(id), dl = strlen(sig->domain);

		/* i= must be d= or a subdomain of it (3.5 i=) */
		if (!(dkim_eq_nocase(id, il, sig->domain, dl) ||
			(il > dl && id[il - dl - 1] == '.' &&
			    dkim_eq_nocase(id + il - dl, dl, sig->domain, dl)))) {
			if (reason)
				*reason = CP_DKIM_EIDENTITY;
			return cp_err_set(err, CP_ESYNTAX,
			    "dkim: i=%s is not within d=%s", sig->identity,
			    sig->domain);
		}
	}
	if (sig->t >= 0 && sig->x >= 0 && sig->x <= sig->t)
		return cp_err_set(err, CP_ESYNTAX,
		    "dkim: syntax error in tag x=: %lld is not after t=%lld",
		    (long long)sig->x, (long long)sig->t);
	if (reason)
		*reason = CP_DKIM_OK;
	return CP_OK;
}

/* ---- key records -------------------------------------------------------- */

#define KSYNTAX(t, what)                                                     \
	cp_err_set(err, CP_ESYNTAX,                                          \
	    "dkim: key record: syntax error in tag %.*s=: " what,            \
	    (int)(t)->nlen, (t)->name)

/* Apply each token of a colon list (RFC 6376 3.6.1 h= s= t=). */
static int
key_list(const dkim_tag *t, const char *const *names, const unsigned *bits,
    size_t nnames, unsigned *out)
{
	size_t i = 0;

	*out = 0;
	while (i <= t->vlen) {
		size_t s, e;

		while (i < t->vlen && dkim_is_ws(t->val[i]))
			i++;
		s = i;
		while (i < t->vlen && (is_alpha(t->val[i]) ||
			is_digit(t->val[i]) || t->val[i] == '-' ||
			t->val[i] == '*'))
			i++;
		e = i;
		while (i < t->vlen && dkim_is_ws(t->val[i]))
			i++;
		if (e == s || (i < t->vlen && t->val[i] != ':'))
			return CP_ESYNTAX;
		for (size_t k = 0; k < nnames; k++)
			if (dkim_eq_nocase(t->val + s, e - s, names[k],
				strlen(names[k])))
				*out |= bits[k];
		i++;
	}
	return CP_OK;
}

int
cp_dkim_parse_keyrec(const char *txt, size_t len, cp_dkim_keyrec *rec,
    cp_err *err)
{
	static const char *const hashes[] = { "sha1", "sha256" };
	static const unsigned hash_bits[] = { CP_DKIM_HASH_SHA1,
		CP_DKIM_HASH_SHA256 };
	static const char *const services[] = { "email", "*" };
	static const unsigned service_bits[] = { CP_DKIM_SERVICE_EMAIL,
		CP_DKIM_SERVICE_ANY };
	static const char *const flags[] = { "y", "s" };
	static const unsigned flag_bits[] = { CP_DKIM_FLAG_TESTING,
		CP_DKIM_FLAG_STRICT };
	dkim_taglist tl;
	dkim_tag t;
	int rc, has_p = 0;

	memset(rec, 0, sizeof(*rec));
	rec->k = CP_DKIM_KEY_RSA;
	memcpy(rec->k_name, "rsa", 4);
	rec->hashes = CP_DKIM_HASH_SHA1 | CP_DKIM_HASH_SHA256;
	rec->services = CP_DKIM_SERVICE_ANY;
	dkim_taglist_init(&tl, txt, len, "key record");
	while ((rc = dkim_taglist_next(&tl, &t, err)) == 1) {
		if (dkim_tag_is(&t, "v")) {
			if (tl.nseen != 1)
				return cp_err_set(err, CP_ESYNTAX,
				    "dkim: key record: v= is not the first tag");
			if (t.vlen != 5 || memcmp(t.val, "DKIM1", 5) != 0)
				return KSYNTAX(&t, "not DKIM1");
		} else if (dkim_tag_is(&t, "k")) {
			if (t.vlen == 0 || t.vlen >= sizeof(rec->k_name))
				return KSYNTAX(&t, "bad key type");
			for (size_t i = 0; i < t.vlen; i++)
				if (!is_alpha(t.val[i]) && !is_digit(t.val[i]) &&
				    t.val[i] != '-')
					return KSYNTAX(&t, "bad key type");
			memcpy(rec->k_name, t.val, t.vlen);
			rec->k_name[t.vlen] = '\0';
			if (dkim_eq_nocase(t.val, t.vlen, "rsa", 3))
				rec->k = CP_DKIM_KEY_RSA;
			else if (dkim_eq_nocase(t.val, t.vlen, "ed25519", 7))
				rec->k = CP_DKIM_KEY_ED25519;
			else
				rec->k = CP_DKIM_KEY_UNKNOWN;
		} else if (dkim_tag_is(&t, "h")) {
			if (key_list(&t, hashes, hash_bits, 2, &rec->hashes) !=
			    CP_OK)
				return KSYNTAX(&t, "bad hash list");
		} else if (dkim_tag_is(&t, "s")) {
			if (key_list(&t, services, service_bits, 2,
				&rec->services) != CP_OK)
				return KSYNTAX(&t, "bad service list");
		} else if (dkim_tag_is(&t, "t")) {
			if (key_list(&t, flags, flag_bits, 2, &rec->flags) !=
			    CP_OK)
				return KSYNTAX(&t, "bad flag list");
		} else if (dkim_tag_is(&t, "p")) {
			has_p = 1;
			rc = dkim_b64_decode(t.val, t.vlen, rec->p,
			    sizeof(rec->p), &rec->plen);
			if (rc == CP_ETOOBIG)
				return KSYNTAX(&t, "key too long");
			if (rc != CP_OK)
				return KSYNTAX(&t, "bad base64");
			rec->revoked = rec->plen == 0;
		}
		/* n= (notes) and unknown tags are ignored */
	}
	if (rc < 0)
		return rc;
	if (!has_p)
		return cp_err_set(err, CP_ESYNTAX,
		    "dkim: key record: missing required tag p=");
	return CP_OK;
}
