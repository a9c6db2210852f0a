/*
 * dkim.h - DomainKeys Identified Mail: signing and verifying (RFC 6376),
 * rsa-sha256 and ed25519-sha256 (RFC 8463), with OpenSSL 3.
 *
 * Both directions stream, as OpenDKIM does: header fields one at a time,
 * then the end of the header, then the body in chunks of any size, then
 * finish. Only the header fields are kept (a DKIM signature picks them
 * after all are seen); the body passes through canonicalizers into
 * SHA-256 and is never held. cp_dkim_signer_write / cp_dkim_verifier_write
 * take the raw message instead and split it themselves (msg.h).
 *
 * Policy, deliberately narrow:
 * - signing: rsa-sha256 with 1024-4096 bit keys, ed25519-sha256; never l=;
 *   by default a list of header fields with From, To, Subject and Date
 *   over-signed (listed once more than present, so one added later breaks
 *   the signature).
 * - verifying: rsa-sha1 is refused (RFC 8301), RSA keys under 1024 bits
 *   are refused, l= is honoured but reported; x= and a t= in the future
 *   (beyond a clock skew) fail; key records are parsed strictly.
 *
 * Lines end in CRLF; a bare LF is taken for CRLF (a message stored on
 * Unix), in header fields and body alike.
 */
#ifndef COLDPOST_DKIM_H
#define COLDPOST_DKIM_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/dns.h"
#include "coldpost/err.h"

typedef enum cp_dkim_alg {
	CP_DKIM_ALG_UNKNOWN = 0,
	CP_DKIM_RSA_SHA256,
	CP_DKIM_ED25519_SHA256,
	CP_DKIM_RSA_SHA1 /* parsed so that it can be refused by name */
} cp_dkim_alg;

typedef enum cp_dkim_canon {
	CP_DKIM_SIMPLE = 0,
	CP_DKIM_RELAXED = 1
} cp_dkim_canon;

typedef enum cp_dkim_keytype {
	CP_DKIM_KEY_UNKNOWN = 0,
	CP_DKIM_KEY_RSA,
	CP_DKIM_KEY_ED25519
} cp_dkim_keytype;

/* Why a signature did not pass (CP_DKIM_OK when it did). */
typedef enum cp_dkim_reason {
	CP_DKIM_OK = 0,
	CP_DKIM_ESYNTAX,        /* syntax error in a tag (why names it) */
	CP_DKIM_EVERSION,       /* v= is not 1 */
	CP_DKIM_EMISSING,       /* a required tag is missing */
	CP_DKIM_EALG,           /* unknown or refused a= */
	CP_DKIM_EFROM,          /* h= does not list From */
	CP_DKIM_EIDENTITY,      /* i= is not d= or below it */
	CP_DKIM_EEXPIRED,       /* x= is past */
	CP_DKIM_EFUTURE,        /* t= is in the future */
	CP_DKIM_EKEY_NOTFOUND,  /* no key record at s._domainkey.d */
	CP_DKIM_EKEY_TEMP,      /* the key lookup failed for now */
	CP_DKIM_EKEY_SYNTAX,    /* the key record is malformed */
	CP_DKIM_EKEY_REVOKED,   /* p= is empty */
	CP_DKIM_EKEY_SHORT,     /* RSA key under 1024 bits */
	CP_DKIM_EKEY_LONG,      /* RSA key over the verify limit */
	CP_DKIM_EKEY_ALG,       /* key type or h= does not fit a= */
	CP_DKIM_EKEY_SERVICE,   /* s= does not include email */
	CP_DKIM_EKEY_STRICT,    /* t=s and i= is a subdomain of d= */
	CP_DKIM_EBODYHASH,      /* bh= differs from the body's hash */
	CP_DKIM_EBODYLEN,       /* l= is larger than the body */
	CP_DKIM_ESIGNATURE,     /* b= does not verify */
	CP_DKIM_ETOOMANY        /* not checked: too many signatures */
} cp_dkim_reason;

/* The RFC 8601 result of one signature (and of a message). */
typedef enum cp_dkim_status {
	CP_DKIM_NONE = 0, /* message: no signature */
	CP_DKIM_PASS,
	CP_DKIM_FAIL,      /* body hash or signature did not match */
	CP_DKIM_PERMERROR, /* unusable signature or key */
	CP_DKIM_TEMPERROR  /* key lookup failed for now */
} cp_dkim_status;

const char *cp_dkim_alg_name(cp_dkim_alg a);       /* "rsa-sha256" */
const char *cp_dkim_canon_name(cp_dkim_canon c);   /* "relaxed" */
const char *cp_dkim_reason_name(cp_dkim_reason r); /* "body hash mismatch" */
const char *cp_dkim_status_name(cp_dkim_status s); /* "pass", "permerror" */
/* "rsa-sha256" -> CP_DKIM_RSA_SHA256; CP_DKIM_ALG_UNKNOWN if unknown. */
cp_dkim_alg cp_dkim_alg_parse(const char *name, size_t len);
/* "relaxed/simple", "simple", "relaxed" (body simple, RFC 6376 3.5 c=). */
int cp_dkim_canon_parse(const char *s, size_t len, cp_dkim_canon *hdr,
    cp_dkim_canon *body);

/* ---- DKIM-Signature header field (dkim_parse.c) ---------------------- */

#define CP_DKIM_MAX_H 256   /* header names in h= */
#define CP_DKIM_SIG_MAX 1024 /* bytes of b= (an 8192-bit RSA signature) */

typedef struct cp_dkim_sig {
	cp_dkim_alg alg;
	char a_name[32];       /* a= as written (for unknown algorithms) */
	cp_dkim_canon hcanon, bcanon;
	char *domain;          /* d=, lowercase */
	char *selector;        /* s= */
	char *identity;        /* i=, or "@" d= when absent */
	char **h;              /* h= names as written, nh of them */
	size_t nh;
	unsigned char bh[64];  /* bh= decoded */
	size_t bhlen;
	unsigned char b[CP_DKIM_SIG_MAX]; /* b= decoded */
	size_t blen;
	int has_l;
	uint64_t l;            /* l=, when has_l */
	int64_t t, x;          /* t=, x=; -1 when absent */
	size_t b_off, b_end;   /* the b= value in the parsed text: [off, end) */
} cp_dkim_sig;

/*
 * Parse the value of a DKIM-Signature field (the text after the colon,
 * folding included), RFC 6376 3.2 (tag lists) and 3.5 (tags). Checks the
 * syntax of every known tag, that the required ones (v a b bh d h s) are
 * present, v=1, From in h=, i= within d=, x= after t=. An unknown a= is
 * not a syntax error: sig->alg is CP_DKIM_ALG_UNKNOWN (the verifier
 * reports it). Returns CP_OK or CP_ESYNTAX with *reason (may be NULL) and
 * err saying which tag ("dkim: syntax error in tag bh=: bad base64").
 * sig is filled even on error as far as it got; cp_dkim_sig_clear frees it.
 */
int cp_dkim_parse_sig(const char *txt, size_t len, cp_dkim_sig *sig,
    cp_dkim_reason *reason, cp_err *err);
void cp_dkim_sig_clear(cp_dkim_sig *sig);

/* ---- key records (dkim_parse.c) --------------------------------------- */

#define CP_DKIM_KEYREC_P_MAX 2048 /* bytes of p= decoded */

enum {
	CP_DKIM_HASH_SHA1 = 1,
	CP_DKIM_HASH_SHA256 = 2,
	CP_DKIM_SERVICE_EMAIL = 1,
	CP_DKIM_SERVICE_ANY = 2,
	CP_DKIM_FLAG_TESTING = 1, /* t=y */
	CP_DKIM_FLAG_STRICT = 2   /* t=s */
};

typedef struct cp_dkim_keyrec {
	cp_dkim_keytype k;   /* k= (default rsa); UNKNOWN for another type */
	char k_name[32];     /* k= as written */
	unsigned hashes;     /* h=: CP_DKIM_HASH_*; both when h= is absent */
	unsigned services;   /* s=: CP_DKIM_SERVICE_*; ANY when absent */
	unsigned flags;      /* t=: CP_DKIM_FLAG_* */
	int revoked;         /* p= is empty */
	unsigned char p[CP_DKIM_KEYREC_P_MAX]; /* p= decoded */
	size_t plen;
} cp_dkim_keyrec;

/*
 * Parse a key record (the TXT data at SELECTOR._domainkey.DOMAIN),
 * RFC 6376 3.6.1, strictly: a v= must come first and be DKIM1, p= is
 * required and is valid base64 (empty: revoked), no tag twice, tag-list
 * syntax as 3.2. Unknown tags, hash names, services and flags are
 * ignored as the RFC says. No allocation.
 */
int cp_dkim_parse_keyrec(const char *txt, size_t len, cp_dkim_keyrec *rec,
    cp_err *err);

/* ---- keys (dkim_key.c) ------------------------------------------------- */

typedef struct cp_dkim_key cp_dkim_key; /* refcounted, immutable */

/*
 * A private key from a file: PEM, PKCS#8 ("PRIVATE KEY") or PKCS#1
 * ("RSA PRIVATE KEY"), RSA or Ed25519; or a dkimpy ed25519 key file (the
 * base64 of the 32-byte seed on one line). The caller owns the result.
 * RSA keys outside 1024-4096 bits are refused (CP_EINVAL).
 */
int cp_dkim_key_load(const char *path, cp_dkim_key **out, cp_err *err);
int cp_dkim_key_from_pem(const char *pem, size_t len, cp_dkim_key **out,
    cp_err *err);
/* An Ed25519 key from its 32-byte seed (RFC 8032 secret key). */
int cp_dkim_key_from_ed25519_seed(const unsigned char seed[32],
    cp_dkim_key **out, cp_err *err);
/* A new key: CP_DKIM_KEY_RSA with bits (1024-4096), or CP_DKIM_KEY_ED25519. */
int cp_dkim_key_generate(cp_dkim_keytype type, int bits, cp_dkim_key **out,
    cp_err *err);
cp_dkim_key *cp_dkim_key_ref(cp_dkim_key *k);
void cp_dkim_key_free(cp_dkim_key *k); /* drops a reference; NULL is fine */

cp_dkim_keytype cp_dkim_key_type(const cp_dkim_key *k);
int cp_dkim_key_bits(const cp_dkim_key *k);
/* The algorithm this key signs with: rsa-sha256 or ed25519-sha256. */
cp_dkim_alg cp_dkim_key_alg(const cp_dkim_key *k);
/* Append the private key as PKCS#8 PEM to out (wipe out afterwards). */
int cp_dkim_key_pem(const cp_dkim_key *k, cp_buf *out, cp_err *err);
/* Append the key record "v=DKIM1; k=rsa; p=..." (RFC 6376 3.6.1). */
int cp_dkim_key_record(const cp_dkim_key *k, cp_buf *out, cp_err *err);

/* ---- canonicalization (dkim_canon.c) ---------------------------------- */

/*
 * Append one header field canonicalized (RFC 6376 3.4.1, 3.4.2), ending in
 * CRLF. field is the whole field as received ("Name: value\r\n", folding
 * included); a missing final line end is supplied.
 */
int cp_dkim_canon_header(cp_dkim_canon c, const char *field, size_t len,
    cp_buf *out);

/* Streaming body canonicalization (RFC 6376 3.4.3, 3.4.4) into a sink. */
typedef void (*cp_dkim_sink_fn)(void *arg, const char *p, size_t len);
typedef struct cp_dkim_body_canon {
	cp_dkim_canon c;
	cp_dkim_sink_fn sink;
	void *arg;
	uint64_t pending_crlf; /* line ends held back (maybe trailing) */
	int wsp;               /* relaxed: whitespace held back */
	int cr;                /* a CR held back (maybe the start of CRLF) */
	int any;               /* something was emitted */
	char out[1024];        /* emitted bytes waiting for the sink */
	size_t nout;
} cp_dkim_body_canon;

void cp_dkim_body_canon_init(cp_dkim_body_canon *bc, cp_dkim_canon c,
    cp_dkim_sink_fn sink, void *arg);
void cp_dkim_body_canon_add(cp_dkim_body_canon *bc, const char *p,
    size_t len);
void cp_dkim_body_canon_end(cp_dkim_body_canon *bc);

/* ---- signing (dkim_sign.c) -------------------------------------------- */

/* The header fields signed by default (RFC 6376 5.4.1), lowercase. */
extern const char *const cp_dkim_default_headers[];
/* The subset signed once more than present (over-signing). */
extern const char *const cp_dkim_oversign_headers[];

typedef struct cp_dkim_sign_opts {
	cp_dkim_key *key;       /* borrowed; the signer takes a reference */
	cp_dkim_alg alg;        /* 0: the key's; otherwise must fit the key */
	const char *domain;     /* d= */
	const char *selector;   /* s= */
	const char *identity;   /* i=, NULL: none */
	cp_dkim_canon hcanon, bcanon;
	/*
	 * h=, names separated by ':' (whitespace around them allowed and kept
	 * as written); each listed name signs one more instance from the
	 * bottom, a name listed more often than present signs "nothing" so an
	 * added field breaks the signature. NULL: the default list with
	 * over-signing. Must list From.
	 */
	const char *headers;
	int64_t timestamp;      /* t=: 0 now, < 0 none */
	int64_t expire;         /* x= seconds after t= (0: none) */
	int query_tag;          /* 1: write q=dns/txt */
} cp_dkim_sign_opts;

typedef struct cp_dkim_signer cp_dkim_signer;

/*
 * A signer making n signatures (n >= 1) of one message, each with its
 * own options. Checks the options (key size, names, From in h=).
 */
int cp_dkim_signer_new(const cp_dkim_sign_opts *opts, size_t n,
    cp_dkim_signer **out, cp_err *err);
void cp_dkim_signer_free(cp_dkim_signer *s);
/* One complete header field, as received (folding and line end included). */
int cp_dkim_signer_header(cp_dkim_signer *s, const char *field, size_t len,
    cp_err *err);
int cp_dkim_signer_eoh(cp_dkim_signer *s, cp_err *err);
int cp_dkim_signer_body(cp_dkim_signer *s, const char *p, size_t len,
    cp_err *err);
/* Or the raw message in chunks instead of the three above. */
int cp_dkim_signer_write(cp_dkim_signer *s, const char *p, size_t len,
    cp_err *err);
/*
 * Append the DKIM-Signature fields (one per options entry, in order, each
 * folded and ending in eol: "\r\n" or "\n") to out, ready to be put in
 * front of the message.
 */
int cp_dkim_signer_finish(cp_dkim_signer *s, const char *eol, cp_buf *out,
    cp_err *err);

/* ---- verifying (dkim_verify.c) ---------------------------------------- */

#define CP_DKIM_VERIFY_MAX 16 /* signatures checked per message by default */

typedef struct cp_dkim_verify_opts {
	cp_dns *dns;        /* where keys come from (borrowed) */
	int64_t now;        /* 0: the clock */
	int64_t skew;       /* seconds t= may be ahead (0: 300) */
	int max_sigs;       /* 0: CP_DKIM_VERIFY_MAX */
	int min_rsa_bits;   /* 0: 1024 (never less) */
	int max_rsa_bits;   /* 0: 8192 */
	size_t header_max;  /* bytes of header kept (0: 1 MiB) */
} cp_dkim_verify_opts;

/* The outcome of one DKIM-Signature field, in message order. */
typedef struct cp_dkim_result {
	cp_dkim_status status;
	cp_dkim_reason reason;
	char why[256];        /* the reason with details, "" on pass */
	char domain[256];     /* d= ("" if unparsable) */
	char selector[256];   /* s= */
	char identity[320];   /* i= */
	char alg[32];         /* a= as written */
	char canon[32];       /* "relaxed/simple" */
	int testing;          /* the key has t=y */
	int has_l;            /* l= was used: the body may have been extended */
	uint64_t l;           /* l= */
	uint64_t body_len;    /* canonical body length seen (when has_l) */
	int key_bits;         /* bits of the key (RSA), 256 for Ed25519, 0 */
} cp_dkim_result;

typedef struct cp_dkim_verifier cp_dkim_verifier;

int cp_dkim_verifier_new(const cp_dkim_verify_opts *opts,
    cp_dkim_verifier **out, cp_err *err);
void cp_dkim_verifier_free(cp_dkim_verifier *v);
int cp_dkim_verifier_header(cp_dkim_verifier *v, const char *field,
    size_t len, cp_err *err);
/* Parses the signatures and looks their keys up (blocking DNS). */
int cp_dkim_verifier_eoh(cp_dkim_verifier *v, cp_err *err);
int cp_dkim_verifier_body(cp_dkim_verifier *v, const char *p, size_t len,
    cp_err *err);
int cp_dkim_verifier_write(cp_dkim_verifier *v, const char *p, size_t len,
    cp_err *err);
/* Compares body hashes and checks signatures. Errors are system ones
 * (memory); verdicts are in the results. */
int cp_dkim_verifier_finish(cp_dkim_verifier *v, cp_err *err);
size_t cp_dkim_verifier_count(const cp_dkim_verifier *v);
/* Valid until the verifier is freed. */
const cp_dkim_result *cp_dkim_verifier_result(const cp_dkim_verifier *v,
    size_t i);
/* The message's result: pass if any signature passes, else temperror if
 * any had one, else fail; none without signatures. */
cp_dkim_status cp_dkim_verifier_status(const cp_dkim_verifier *v);

#endif
