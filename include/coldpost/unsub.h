/*
 * unsub.h - signed one-click unsubscribe tokens (RFC 8058).
 *
 * The relay puts https://HOST/unsubscribe/TOKEN in List-Unsubscribe (with
 * List-Unsubscribe-Post: List-Unsubscribe=One-Click); the HTTP server
 * takes the POST and suppresses the recipient for the tenant, without a
 * login: the token is its own proof. TOKEN is base64url without padding
 * (RFC 4648 section 5) of
 *   version (1 byte, 1) | tenant (8 bytes, big-endian) |
 *   address length (1 byte) | address | HMAC-SHA256(key, all before) (32)
 * so a token names its tenant and recipient and cannot be forged or
 * altered without the key. Tokens do not expire: an unsubscribe link must
 * keep working for as long as the mail that carries it is read.
 */
#ifndef COLDPOST_UNSUB_H
#define COLDPOST_UNSUB_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/err.h"

/* The longest token (an address of CP_STORE_ADDR_MAX bytes), with NUL. */
#define CP_UNSUB_TOKEN_MAX 400

/*
 * Write the token of (tenant, rcpt) into out (outlen >= CP_UNSUB_TOKEN_MAX
 * is always enough). CP_EINVAL: tenant <= 0, rcpt empty, longer than 254
 * bytes or with control bytes, or no key.
 */
int cp_unsub_make_token(const unsigned char *key, size_t keylen,
    int64_t tenant, const char *rcpt, char *out, size_t outlen, cp_err *err);

/*
 * Check a token (len bytes, no NUL needed) and give its tenant and
 * recipient (rcpt: rcptlen >= 255). CP_ESYNTAX: not a token; CP_EINVAL:
 * the signature does not match (forged, altered, or another key).
 */
int cp_unsub_verify_token(const unsigned char *key, size_t keylen,
    const char *token, size_t len, int64_t *tenant, char *rcpt,
    size_t rcptlen, cp_err *err);

#endif
