/*
 * verp.c - variable envelope return paths and the retry schedule.
 *
 * A VERP return path names the recipient a bounce is about, so a bounce
 * that comes back (often without a usable DSN) is attributed to one queue
 * recipient: PREFIX "+" ID "-" TAG "@" DOMAIN, ID the recipient's store id
 * in decimal (no sign, no leading zero) and TAG the first 8 hex digits of
 * HMAC-SHA256(secret, ID), so that mail to a made-up address of the bounce
 * domain is told from a real bounce. The local part is a dot-atom (RFC 5322
 * 3.4.1) when the prefix is one. Decoding compares the prefix, the tag's
 * hex digits and the domain without regard to case (RFC 5321 2.4: domains
 * are case-insensitive; some MTAs also fold the local part), and the tag
 * in constant time. The HMAC is OpenSSL's.
 *
 * The retry schedule is a list of delays; attempt n waits entry n-1, the
 * last entry repeating (like Postfix's growing backoff, but explicit).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "coldpost/verp.h"

#define VERP_TAG_LEN 8
#define VERP_ID_MAX 20 /* digits of INT64_MAX, 19, and room */

/* The tag of id (its decimal form) into tag (VERP_TAG_LEN hex + NUL). */
static int
verp_make_tag(const unsigned char *secret, size_t secret_len, const char *id,
    char tag[VERP_TAG_LEN + 1], cp_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (HMAC(EVP_sha256(), secret, (int)secret_len,
		(const unsigned char *)id, strlen(id), mac, &mac_len) == NULL ||
	    mac_len < VERP_TAG_LEN / 2)
		return cp_err_set(err, CP_EIO, "verp: HMAC-SHA256 failed");
	for (size_t i = 0; i < VERP_TAG_LEN / 2; i++) {
		tag[2 * i] = hex[mac[i] >> 4];
		tag[2 * i + 1] = hex[mac[i] & 0xf];
	}
	tag[VERP_TAG_LEN] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return CP_OK;
}

int
cp_verp_encode(const char *prefix, const char *domain, int64_t rcpt,
    const unsigned char *secret, size_t secret_len, char *out, size_t outlen,
    cp_err *err)
{
	char id[VERP_ID_MAX + 1], tag[VERP_TAG_LEN + 1];
	int n, rc;

	CP_ASSERT(prefix != NULL && domain != NULL && out != NULL);
	CP_ASSERT(secret != NULL || secret_len == 0);
	if (outlen > 0)
		out[0] = '\0';
	if (rcpt < 0)
		return cp_err_set(err, CP_EINVAL, "verp: recipient id %" PRId64
		    " is negative", rcpt);
	if (prefix[0] == '\0' || domain[0] == '\0')
		return cp_err_set(err, CP_EINVAL, "verp: empty %s",
		    prefix[0] == '\0' ? "prefix" : "domain");
	snprintf(id, sizeof(id), "%" PRId64, rcpt);
	rc = verp_make_tag(secret, secret_len, id, tag, err);
	if (rc != CP_OK)
		return rc;
	n = snprintf(out, outlen, "%s+%s-%s@%s", prefix, id, tag, domain);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return cp_err_set(err, CP_ETOOBIG,
		    "verp: address of %d bytes does not fit in %zu", n, outlen);
	}
	return CP_OK;
}

/* The decimal id in s[0..len): digits only, no leading zero, fits int64. */
static int
verp_parse_id(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > VERP_ID_MAX || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
cp_verp_decode(const char *prefix, const char *domain, const char *addr,
    const unsigned char *secret, size_t secret_len, int64_t *rcpt,
    cp_err *err)
{
	char id[VERP_ID_MAX + 1], tag[VERP_TAG_LEN + 1], got[VERP_TAG_LEN];
	const char *at, *p, *dash, *end;
	size_t plen, alen;
	int64_t v;
	int rc;

	CP_ASSERT(prefix != NULL && domain != NULL && addr != NULL);
	CP_ASSERT(rcpt != NULL && (secret != NULL || secret_len == 0));
	alen = strlen(addr);
	if (alen >= 2 && addr[0] == '<' && addr[alen - 1] == '>') {
		addr++; /* a reverse path as written in MAIL FROM */
		alen -= 2;
	}
	end = addr + alen;
	at = memrchr(addr, '@', alen);
	if (at == NULL)
		return cp_err_set(err, CP_ENOTFOUND, "verp: no '@' in address");
	if ((size_t)(end - at - 1) != strlen(domain) ||
	    strncasecmp(at + 1, domain, strlen(domain)) != 0)
		return cp_err_set(err, CP_ENOTFOUND, "verp: other domain");
	plen = strlen(prefix);
	p = addr + plen;
	if (plen == 0 || p >= at || strncasecmp(addr, prefix, plen) != 0 ||
	    *p != '+')
		return cp_err_set(err, CP_ENOTFOUND, "verp: other prefix");
	p++;
	dash = memchr(p, '-', (size_t)(at - p));
	if (dash == NULL || at - dash - 1 != VERP_TAG_LEN ||
	    verp_parse_id(p, (size_t)(dash - p), &v) != 0)
		return cp_err_set(err, CP_ENOTFOUND,
		    "verp: local part is not PREFIX+ID-TAG");
	memcpy(id, p, (size_t)(dash - p));
	id[dash - p] = '\0';
	for (size_t i = 0; i < VERP_TAG_LEN; i++) {
		char c = dash[1 + i];

		got[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	rc = verp_make_tag(secret, secret_len, id, tag, err);
	if (rc != CP_OK)
		return rc;
	if (CRYPTO_memcmp(got, tag, VERP_TAG_LEN) != 0)
		return cp_err_set(err, CP_ENOTFOUND, "verp: bad tag for id %s",
		    id);
	*rcpt = v;
	return CP_OK;
}

int64_t
cp_retry_delay_ms(const int64_t *schedule, size_t n, int attempts)
{
	size_t i;

	CP_ASSERT(schedule != NULL && n > 0);
	i = attempts <= 1 ? 0 : (size_t)(attempts - 1);
	return schedule[i < n ? i : n - 1];
}
