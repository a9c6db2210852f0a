/*
 * verp.h - variable envelope return paths and the retry schedule, small
 * pure functions shared by delivery and the inbound bounce listener.
 *
 * VERP: PREFIX "+" <recipient id> "-" <tag> "@" DOMAIN, where tag is the
 * first 8 hex digits of HMAC-SHA256(secret, recipient id), so a bounce to
 * a made-up address is told from a real one.
 */
#ifndef COLDPOST_VERP_H
#define COLDPOST_VERP_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/err.h"

/* The return path for recipient rcpt into out (NUL-terminated). */
int cp_verp_encode(const char *prefix, const char *domain, int64_t rcpt,
    const unsigned char *secret, size_t secret_len, char *out, size_t outlen,
    cp_err *err);
/* The recipient id of a VERP address; CP_ENOTFOUND when addr is not one
 * of ours (other prefix or domain, bad tag). */
int cp_verp_decode(const char *prefix, const char *domain, const char *addr,
    const unsigned char *secret, size_t secret_len, int64_t *rcpt,
    cp_err *err);

/* When attempt number `attempts` (1 = the first failed) is retried: the
 * schedule's entry (ms) attempts-1, the last one repeating. */
int64_t cp_retry_delay_ms(const int64_t *schedule, size_t n, int attempts);

#endif
