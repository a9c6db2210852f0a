/*
 * dkim_int.h - what the DKIM files share: tag-list scanning, base64,
 * name checks, and the key objects behind cp_dkim_key.
 */
#ifndef COLDPOST_DKIM_INT_H
#define COLDPOST_DKIM_INT_H

#include <openssl/evp.h>

#include "coldpost/dkim.h"

struct cp_dkim_key {
	EVP_PKEY *pkey;
	EVP_PKEY_CTX *sign_ctx; /* RSA: a ready signing context, or NULL */
	int refs;
	cp_dkim_keytype type;
	int bits;
};

/* One tag of a tag list (RFC 6376 3.2), pointing into the text. */
typedef struct dkim_tag {
	const char *name;
	size_t nlen;
	const char *val; /* without surrounding whitespace */
	size_t vlen;
	size_t eq_off;   /* offset just after the '=' */
	size_t end_off;  /* offset of the ';' ending the tag, or the text's end */
} dkim_tag;

typedef struct dkim_taglist {
	const char *txt;
	size_t len, pos;
	const char *seen[64]; /* names seen, for duplicates */
	size_t seen_len[64];
	size_t nseen;
	const char *what;     /* "dkim-signature", "key record" */
} dkim_taglist;

void dkim_taglist_init(dkim_taglist *tl, const char *txt, size_t len,
    const char *what);
/* 1: a tag in *tag; 0: end of list; < 0: syntax error (err set). */
int dkim_taglist_next(dkim_taglist *tl, dkim_tag *tag, cp_err *err);

/* Is this tag named n (exact, case-sensitive as RFC 6376 3.2 says)? */
int dkim_tag_is(const dkim_tag *t, const char *n);

/*
 * Decode base64 with folding whitespace allowed between characters
 * (RFC 6376 2.4), strictly: the alphabet, '=' only at the end, whole
 * quanta. CP_OK, CP_ESYNTAX (bad text) or CP_ETOOBIG (over max bytes).
 */
int dkim_b64_decode(const char *s, size_t n, unsigned char *out, size_t max,
    size_t *outlen);
/* Append base64 of p to out. */
int dkim_b64_encode(const unsigned char *p, size_t n, cp_buf *out);

/* A domain name (RFC 6376 3.5 d=): LDH labels of 1-63, at most 253. */
int dkim_valid_domain(const char *s, size_t n);
/* Case-insensitive equality of two byte ranges. */
int dkim_eq_nocase(const char *a, size_t an, const char *b, size_t bn);

/* Whitespace in DKIM text: SP, HTAB, and the CR LF of folding. */
static inline int
dkim_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* SHA-256, fetched once (an implicit fetch per digest costs a lock). */
const EVP_MD *dkim_sha256(void);

/* Key from the decoded p= of a key record; *reason on failure. */
int dkim_key_from_record(const cp_dkim_keyrec *rec, cp_dkim_key **out,
    cp_dkim_reason *reason, cp_err *err);
/* RSA PKCS#1 v1.5 or Ed25519 (RFC 8463 3) over a SHA-256 digest. */
int dkim_key_sign_digest(const cp_dkim_key *k, const unsigned char *dg,
    size_t dglen, unsigned char *sig, size_t *siglen, cp_err *err);
/* 1 verified, 0 did not. */
int dkim_key_verify_digest(const cp_dkim_key *k, const unsigned char *dg,
    size_t dglen, const unsigned char *sig, size_t siglen);

/* The header fields of a message, kept in one buffer. */
typedef struct dkim_hdr {
	size_t off, len;  /* the whole field in the buffer */
	size_t nlen;      /* length of its name */
	int used;         /* taken by the h= being processed */
} dkim_hdr;

typedef struct dkim_hdrs {
	cp_buf text;
	dkim_hdr *v;
	size_t n, cap;
} dkim_hdrs;

void dkim_hdrs_init(dkim_hdrs *h, size_t max);
void dkim_hdrs_clear(dkim_hdrs *h);
int dkim_hdrs_add(dkim_hdrs *h, const char *field, size_t len, cp_err *err);
/* The last instance of name not yet used, marked used; NULL if none. */
const dkim_hdr *dkim_hdrs_take(dkim_hdrs *h, const char *name, size_t nlen);
void dkim_hdrs_unuse(dkim_hdrs *h);
size_t dkim_hdrs_count(const dkim_hdrs *h, const char *name, size_t nlen);

#endif
