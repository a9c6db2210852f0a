/* dkim_test.h - helpers shared by the DKIM unit tests. */
#ifndef DKIM_TEST_H
#define DKIM_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/dkim.h"
#include "coldpost/dns.h"

/* A file under tests/data (NUL-terminated, caller frees); NULL fails. */
char *dt_read(const char *rel, size_t *len);
/* LF line ends to CRLF (caller frees). */
char *dt_crlf(const char *s, size_t len, size_t *outlen);
/* The fake resolver with dkim/test.zone and dkim/rfc8463/records.zone. */
cp_dns *dt_dns(void);
/* A private key from tests/data (fails the test on error). */
cp_dkim_key *dt_key(const char *rel);
/* Verify msg fed in chunks of chunk bytes (0: all at once). */
cp_dkim_verifier *dt_verify(cp_dns *dns, int64_t now, const char *msg,
    size_t len, size_t chunk);
/* Sign msg; out gets the signature fields followed by msg. */
int dt_sign(const cp_dkim_sign_opts *o, size_t n, const char *msg, size_t len,
    cp_buf *out);
/* Default options: example.com, relaxed/relaxed, fixed time. */
cp_dkim_sign_opts dt_opts(cp_dkim_key *key, const char *selector);

#define DT_NOW 1700000000
extern const char dt_msg[]; /* a small message, CRLF */

#endif
