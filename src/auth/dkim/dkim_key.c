/*
 * dkim_key.c - DKIM keys: private keys from PEM files, new keys, public
 * keys from key records, and the two signature operations.
 *
 * RFC 6376 3.3.1 (rsa-sha256: RSASSA-PKCS1-v1_5 with SHA-256) and 3.6.1
 * (p= is the DER SubjectPublicKeyInfo of an RSA key; a bare PKCS#1
 * RSAPublicKey, which some publish, is accepted too); RFC 8463 3-4
 * (ed25519-sha256: PureEd25519 over the SHA-256 hash of the header data;
 * p= is the 32 raw bytes of the public key). All cryptography is
 * OpenSSL 3's EVP interface; this file only chooses and checks.
 * Two costs of OpenSSL 3 are avoided on the per-message path: d2i_PUBKEY
 * runs the provider decoder machinery (about 200 us a key), so an RSA p=
 * is taken apart with the generic ASN.1 decoder and imported as (n, e)
 * through EVP_PKEY_fromdata (about 10 us); and a signing key keeps one
 * initialised RSA signing context for reuse (taken and put back
 * atomically, so concurrent signers never share it).
 * Private key files: PKCS#8 or PKCS#1 PEM (never a passphrase prompt), or
 * dkimpy's ed25519 format (the base64 of the 32-byte seed).
 */
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth/dkim/dkim_int.h"
#include "coldpost/alloc.h"

#define KEY_FILE_MAX (64 * 1024)
#define SIGN_RSA_MIN 1024
#define SIGN_RSA_MAX 4096

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); /* kept for life */
}

const EVP_MD *
dkim_sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md ? sha256_md : EVP_sha256();
}

static int
key_wrap(EVP_PKEY *pkey, int check_sign_size, cp_dkim_key **out,
    cp_err *err)
{
	cp_dkim_key *k;
	int id = EVP_PKEY_get_base_id(pkey);

	if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return cp_err_set(err, CP_EINVAL,
		    "dkim: key is neither RSA nor Ed25519");
	}
	if (check_sign_size && id == EVP_PKEY_RSA &&
	    (EVP_PKEY_get_bits(pkey) < SIGN_RSA_MIN ||
		EVP_PKEY_get_bits(pkey) > SIGN_RSA_MAX)) {
		int bits = EVP_PKEY_get_bits(pkey);

		EVP_PKEY_free(pkey);
		return cp_err_set(err, CP_EINVAL,
		    "dkim: RSA key of %d bits; signing keys have %d to %d bits",
		    bits, SIGN_RSA_MIN, SIGN_RSA_MAX);
	}
	k = cp_calloc(1, sizeof(*k));
	if (k == NULL) {
		EVP_PKEY_free(pkey);
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	}
	k->pkey = pkey;
	k->refs = 1;
	k->type = id == EVP_PKEY_RSA ? CP_DKIM_KEY_RSA : CP_DKIM_KEY_ED25519;
	k->bits = EVP_PKEY_get_bits(pkey);
	*out = k;
	return CP_OK;
}

cp_dkim_key *
cp_dkim_key_ref(cp_dkim_key *k)
{
	__atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
	return k;
}

void
cp_dkim_key_free(cp_dkim_key *k)
{
	if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	EVP_PKEY_CTX_free(k->sign_ctx);
	EVP_PKEY_free(k->pkey); /* OpenSSL clears key material it frees */
	cp_free(k);
}

cp_dkim_keytype
cp_dkim_key_type(const cp_dkim_key *k)
{
	return k->type;
}

int
cp_dkim_key_bits(const cp_dkim_key *k)
{
	return k->bits;
}

cp_dkim_alg
cp_dkim_key_alg(const cp_dkim_key *k)
{
	return k->type == CP_DKIM_KEY_RSA ? CP_DKIM_RSA_SHA256
					  : CP_DKIM_ED25519_SHA256;
}

/* Never prompt for a passphrase: encrypted keys are refused. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
cp_dkim_key_from_ed25519_seed(const unsigned char seed[32],
    cp_dkim_key **out, cp_err *err)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    seed, 32);

	if (pkey == NULL)
		return cp_err_set(err, CP_EINVAL, "dkim: bad Ed25519 seed");
	return key_wrap(pkey, 1, out, err);
}

int
cp_dkim_key_from_pem(const char *pem, size_t len, cp_dkim_key **out,
    cp_err *err)
{
	BIO *bio;
	EVP_PKEY *pkey;
	unsigned char seed[48];
	size_t n;

	*out = NULL;
	if (len > KEY_FILE_MAX)
		return cp_err_set(err, CP_ETOOBIG, "dkim: key file over %d bytes",
		    KEY_FILE_MAX);
	/* dkimpy's ed25519 key file: the base64 seed alone */
	if (memmem(pem, len, "-----BEGIN", 10) == NULL) {
		if (dkim_b64_decode(pem, len, seed, sizeof(seed), &n) == CP_OK &&
		    n == 32) {
			int rc = cp_dkim_key_from_ed25519_seed(seed, out, err);

			OPENSSL_cleanse(seed, sizeof(seed));
			return rc;
		}
		OPENSSL_cleanse(seed, sizeof(seed));
		return cp_err_set(err, CP_EINVAL,
		    "dkim: not a PEM key nor a base64 Ed25519 seed");
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		return cp_err_set(err, CP_EINVAL,
		    "dkim: no usable private key in the PEM text (PKCS#8 or "
		    "PKCS#1, unencrypted)");
	return key_wrap(pkey, 1, out, err);
}

int
cp_dkim_key_load(const char *path, cp_dkim_key **out, cp_err *err)
{
	cp_buf pem;
	FILE *f;
	char chunk[4096];
	size_t n;
	int rc = CP_OK;

	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL)
		return cp_err_set(err, CP_EIO, "dkim: %s: %s", path,
		    strerror(errno));
	cp_buf_init(&pem, KEY_FILE_MAX);
	while (rc == CP_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = cp_buf_add(&pem, chunk, n);
	if (rc == CP_OK && ferror(f))
		rc = cp_err_set(err, CP_EIO, "dkim: %s: read error", path);
	else if (rc != CP_OK)
		rc = cp_err_set(err, rc, "dkim: %s: over %d bytes", path,
		    KEY_FILE_MAX);
	fclose(f);
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (rc == CP_OK) {
		rc = cp_dkim_key_from_pem(pem.data ? pem.data : "", pem.len, out,
		    err);
		if (rc != CP_OK) {
			char msg[sizeof(err->msg)];

			if (err) {
				snprintf(msg, sizeof(msg), "%s", err->msg);
				cp_err_set(err, rc, "%s: %s", path, msg);
			}
		}
	}
	cp_buf_wipe(&pem); /* key material: zero, then free */
	return rc;
}

int
cp_dkim_key_generate(cp_dkim_keytype type, int bits, cp_dkim_key **out,
    cp_err *err)
{
	EVP_PKEY *pkey;

	*out = NULL;
	if (type == CP_DKIM_KEY_RSA) {
		if (bits < SIGN_RSA_MIN || bits > SIGN_RSA_MAX)
			return cp_err_set(err, CP_EINVAL,
			    "dkim: RSA keys have %d to %d bits, not %d",
			    SIGN_RSA_MIN, SIGN_RSA_MAX, bits);
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else if (type == CP_DKIM_KEY_ED25519) {
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	} else {
		return cp_err_set(err, CP_EINVAL, "dkim: unknown key type");
	}
	if (pkey == NULL)
		return cp_err_set(err, CP_ENOMEM, "dkim: key generation failed");
	return key_wrap(pkey, 1, out, err);
}

int
cp_dkim_key_pem(const cp_dkim_key *k, cp_buf *out, cp_err *err)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *p;
	long n;
	int rc;

	if (bio == NULL)
		return cp_err_set(err, CP_ENOMEM, "dkim: out of memory");
	if (!PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL,
		NULL)) {
		BIO_free(bio);
		return cp_err_set(err, CP_EINVAL, "dkim: cannot write the key");
	}
	n = BIO_get_mem_data(bio, &p);
	rc = n > 0 ? cp_buf_add(out, p, (size_t)n) : CP_EINVAL;
	BIO_free(bio); /* a secure-memory BIO: cleared */
	if (rc != CP_OK)
		return cp_err_set(err, rc, "dkim: cannot write the key");
	return CP_OK;
}

int
cp_dkim_key_record(const cp_dkim_key *k, cp_buf *out, cp_err *err)
{
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof(raw);
	int n, rc;

	if (k->type == CP_DKIM_KEY_ED25519) {
		if (!EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen))
			return cp_err_set(err, CP_EINVAL, "dkim: no public key");
		rc = cp_buf_adds(out, "v=DKIM1; k=ed25519; p=");
		if (rc == CP_OK)
			rc = dkim_b64_encode(raw, rawlen, out);
	} else {
		n = i2d_PUBKEY(k->pkey, &der);
		if (n <= 0)
			return cp_err_set(err, CP_EINVAL, "dkim: no public key");
		rc = cp_buf_adds(out, "v=DKIM1; k=rsa; p=");
		if (rc == CP_OK)
			rc = dkim_b64_encode(der, (size_t)n, out);
		OPENSSL_free(der);
	}
	if (rc != CP_OK)
		return cp_err_set(err, rc, "dkim: out of memory");
	return CP_OK;
}

/* Decode one DER element that must fill [*p, end) exactly: a SEQUENCE. */
static ASN1_SEQUENCE_ANY *
der_sequence(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	ASN1_SEQUENCE_ANY *seq;

	if (len == 0 || len > LONG_MAX)
		return NULL;
	seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
	if (seq != NULL && p != der + len) {
		sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
		return NULL;
	}
	return seq;
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
static EVP_PKEY *
rsa_from_pkcs1(const unsigned char *der, size_t len)
{
	ASN1_SEQUENCE_ANY *seq = der_sequence(der, len);
	ASN1_TYPE *tn, *te;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (seq == NULL || sk_ASN1_TYPE_num(seq) != 2)
		goto out;
	tn = sk_ASN1_TYPE_value(seq, 0);
	te = sk_ASN1_TYPE_value(seq, 1);
	/* positive integers only (a negative one has V_ASN1_NEG_INTEGER) */
	if (tn->type != V_ASN1_INTEGER || te->type != V_ASN1_INTEGER)
		goto out;
	n = ASN1_INTEGER_to_BN(tn->value.integer, NULL);
	e = ASN1_INTEGER_to_BN(te->value.integer, NULL);
	if (n == NULL || e == NULL || BN_is_zero(n) || !BN_is_odd(e) ||
	    BN_is_one(e))
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return pkey;
}

/*
 * An RSA public key from p=: SubjectPublicKeyInfo (RFC 5280 4.1.2.7,
 * algorithm rsaEncryption), or a bare RSAPublicKey (RFC 8017 A.1.1).
 */
static EVP_PKEY *
rsa_from_der(const unsigned char *der, size_t len)
{
	ASN1_SEQUENCE_ANY *spki = der_sequence(der, len), *alg = NULL;
	ASN1_TYPE *ta, *tb, *oid;
	ASN1_BIT_STRING *bits;
	EVP_PKEY *pkey = NULL;

	if (spki == NULL)
		return NULL;
	if (sk_ASN1_TYPE_num(spki) == 2 &&
	    sk_ASN1_TYPE_value(spki, 0)->type == V_ASN1_INTEGER) {
		sk_ASN1_TYPE_pop_free(spki, ASN1_TYPE_free);
		return rsa_from_pkcs1(der, len);
	}
	if (sk_ASN1_TYPE_num(spki) != 2)
		goto out;
	ta = sk_ASN1_TYPE_value(spki, 0);
	tb = sk_ASN1_TYPE_value(spki, 1);
	if (ta->type != V_ASN1_SEQUENCE || tb->type != V_ASN1_BIT_STRING)
		goto out;
	alg = der_sequence(ta->value.sequence->data,
	    (size_t)ta->value.sequence->length);
	if (alg == NULL || sk_ASN1_TYPE_num(alg) < 1)
		goto out;
	oid = sk_ASN1_TYPE_value(alg, 0);
	if (oid->type != V_ASN1_OBJECT ||
	    OBJ_obj2nid(oid->value.object) != NID_rsaEncryption)
		goto out;
	bits = tb->value.bit_string;
	if ((bits->flags & ASN1_STRING_FLAG_BITS_LEFT) && (bits->flags & 7))
		goto out; /* not whole bytes */
	pkey = rsa_from_pkcs1(bits->data, (size_t)bits->length);
out:
	sk_ASN1_TYPE_pop_free(alg, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(spki, ASN1_TYPE_free);
	return pkey;
}

int
dkim_key_from_record(const cp_dkim_keyrec *rec, cp_dkim_key **out,
    cp_dkim_reason *reason, cp_err *err)
{
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	*reason = CP_DKIM_EKEY_SYNTAX;
	if (rec->k == CP_DKIM_KEY_ED25519) {
		if (rec->plen != 32)
			return cp_err_set(err, CP_ESYNTAX,
			    "dkim: key record: ed25519 p= has %zu bytes, not 32",
			    rec->plen);
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    rec->p, 32);
	} else if (rec->k == CP_DKIM_KEY_RSA) {
		pkey = rsa_from_der(rec->p, rec->plen);
	} else {
		*reason = CP_DKIM_EKEY_ALG;
		return cp_err_set(err, CP_ESYNTAX,
		    "dkim: key record: unknown key type k=%s", rec->k_name);
	}
	if (pkey == NULL)
		return cp_err_set(err, CP_ESYNTAX,
		    "dkim: key record: p= is not a valid %s public key",
		    rec->k == CP_DKIM_KEY_RSA ? "RSA" : "Ed25519");
	*reason = CP_DKIM_OK;
	return key_wrap(pkey, 0, out, err);
}

int
dkim_key_sign_digest(const cp_dkim_key *k, const unsigned char *dg,
    size_t dglen, unsigned char *sig, size_t *siglen, cp_err *err)
{
	int ok = 0;

	if (k->type == CP_DKIM_KEY_RSA) {
		cp_dkim_key *mk = (cp_dkim_key *)k; /* only the cache slot */
		EVP_PKEY_CTX *ctx = __atomic_exchange_n(&mk->sign_ctx, NULL,
		    __ATOMIC_ACQ_REL), *none = NULL;

		if (ctx == NULL) {
			ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
			if (ctx != NULL && (EVP_PKEY_sign_init(ctx) <= 0 ||
			    EVP_PKEY_CTX_set_rsa_padding(ctx,
				RSA_PKCS1_PADDING) <= 0 ||
			    EVP_PKEY_CTX_set_signature_md(ctx,
				dkim_sha256()) <= 0)) {
				EVP_PKEY_CTX_free(ctx);
				ctx = NULL;
			}
		}
		ok = ctx != NULL && EVP_PKEY_sign(ctx, sig, siglen, dg, dglen) > 0;
		/* back in the slot, unless another signer filled it */
		if (ctx != NULL && (!ok || !__atomic_compare_exchange_n(
		    &mk->sign_ctx, &none, ctx, 0, __ATOMIC_ACQ_REL,
		    __ATOMIC_ACQUIRE)))
			EVP_PKEY_CTX_free(ctx);
	} else {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		ok = md != NULL &&
		    EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) > 0 &&
		    EVP_DigestSign(md, sig, siglen, dg, dglen) > 0;
		EVP_MD_CTX_free(md);
	}
	if (!ok)
		return cp_err_set(err, CP_EINVAL, "dkim: signing failed");
	return CP_OK;
}

int
dkim_key_verify_digest(const cp_dkim_key *k, const unsigned char *dg,
    size_t dglen, const unsigned char *sig, size_t siglen)
{
	int ok = 0;

	if (k->type == CP_DKIM_KEY_RSA) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);

		ok = ctx != NULL && EVP_PKEY_verify_init(ctx) > 0 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_signature_md(ctx, dkim_sha256()) > 0 &&
		    EVP_PKEY_verify(ctx, sig, siglen, dg, dglen) == 1;
		EVP_PKEY_CTX_free(ctx);
	} else {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		ok = md != NULL &&
		    EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) > 0 &&
		    EVP_DigestVerify(md, sig, siglen, dg, dglen) == 1;
		EVP_MD_CTX_free(md);
	}
	return ok;
}
