/*
 * unsub.c - signed one-click unsubscribe tokens (coldpost/unsub.h, RFC
 * 8058): base64url (RFC 4648 section 5, no padding) of version, tenant,
 * address and an HMAC-SHA256 (RFC 2104) over them. The MAC is compared
 * in constant time.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "coldpost/unsub.h"

#define TOK_VERSION 1
#define MAC_LEN 32
#define ADDR_MAX 254
#define RAW_MAX (1 + 8 + 1 + ADDR_MAX + MAC_LEN)

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t
b64url_encode(const unsigned char *p, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (n > 1)
			out[o++] = b64[(v >> 6) & 63];
		if (n > 2)
			out[o++] = b64[v & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decode; -1 on a bad character, a bad length or non-zero pad bits. */
static long
b64url_decode(const char *s, size_t len, unsigned char *out, size_t outlen)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_val(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* the leftover bits must be zero: one spelling only */
		return -1;
	return (long)o;
}

static int
mac(const unsigned char *key, size_t keylen, const unsigned char *p,
    size_t len, unsigned char out[MAC_LEN])
{
	unsigned int n = MAC_LEN;

	return HMAC(EVP_sha256(), key, (int)keylen, p, len, out, &n) != NULL &&
	    n == MAC_LEN;
}

int
cp_unsub_make_token(const unsigned char *key, size_t keylen, int64_t tenant,
    const char *rcpt, char *out, size_t outlen, cp_err *err)
{
	unsigned char raw[RAW_MAX];
	size_t alen, n = 0;

	if (key == NULL || keylen == 0)
		return cp_err_set(err, CP_EINVAL, "unsub: no key");
	if (tenant <= 0)
		return cp_err_set(err, CP_EINVAL, "unsub: tenant %lld",
		    (long long)tenant);
	alen = rcpt != NULL ? strnlen(rcpt, ADDR_MAX + 1) : 0;
	if (alen == 0 || alen > ADDR_MAX)
		return cp_err_set(err, CP_EINVAL, "unsub: recipient: want 1..%d "
		    "bytes", ADDR_MAX);
	for (size_t i = 0; i < alen; i++)
		if ((unsigned char)rcpt[i] <= 0x20 || rcpt[i] == 0x7f)
			return cp_err_set(err, CP_EINVAL, "unsub: recipient: "
			    "control byte or space at offset %zu", i);
	raw[n++] = TOK_VERSION;
	for (int i = 7; i >= 0; i--)
		raw[n++] = (unsigned char)((uint64_t)tenant >> (8 * i));
	raw[n++] = (unsigned char)alen;
	memcpy(raw + n, rcpt, alen);
	n += alen;
	if (!mac(key, keylen, raw, n, raw + n))
		return cp_err_set(err, CP_EIO, "unsub: HMAC failed");
	n += MAC_LEN;
	if (outlen < (n + 2) / 3 * 4 + 1)
		return cp_err_set(err, CP_ETOOBIG, "unsub: token buffer too "
		    "small");
	b64url_encode(raw, n, out);
	return CP_OK;
}

int
cp_unsub_verify_token(const unsigned char *key, size_t keylen,
    const char *token, size_t len, int64_t *tenant, char *rcpt,
    size_t rcptlen, cp_err *err)
{
	unsigned char raw[RAW_MAX], want[MAC_LEN];
	long n;
	size_t alen;
	uint64_t t = 0;

	if (key == NULL || keylen == 0)
		return cp_err_set(err, CP_EINVAL, "unsub: no key");
	if (len > CP_UNSUB_TOKEN_MAX ||
	    (n = b64url_decode(token, len, raw, sizeof(raw))) < 0 ||
	    n < 1 + 8 + 1 + 1 + MAC_LEN || raw[0] != TOK_VERSION)
		return cp_err_set(err, CP_ESYNTAX, "unsub: not a token");
	alen = raw[9];
	if ((size_t)n != 1 + 8 + 1 + alen + MAC_LEN || alen == 0 ||
	    alen > ADDR_MAX)
		return cp_err_set(err, CP_ESYNTAX, "unsub: not a token");
	if (!mac(key, keylen, raw, (size_t)n - MAC_LEN, want))
		return cp_err_set(err, CP_EIO, "unsub: HMAC failed");
	if (CRYPTO_memcmp(want, raw + n - MAC_LEN, MAC_LEN) != 0)
		return cp_err_set(err, CP_EINVAL, "unsub: bad signature");
	for (int i = 1; i <= 8; i++)
		t = (t << 8) | raw[i];
	if (t == 0 || t > INT64_MAX || rcptlen <= alen)
		return cp_err_set(err, CP_EINVAL, "unsub: bad token contents");
	for (size_t i = 0; i < alen; i++)
		if (raw[10 + i] <= 0x20 || raw[10 + i] == 0x7f)
			return cp_err_set(err, CP_EINVAL, "unsub: bad token "
			    "contents");
	memcpy(rcpt, raw + 10, alen);
	rcpt[alen] = '\0';
	*tenant = (int64_t)t;
	return CP_OK;
}
