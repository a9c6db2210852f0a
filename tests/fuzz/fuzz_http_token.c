/*
 * Fuzz target: RFC 8058 one-click unsubscribe tokens (src/http/unsub.c).
 *
 * Input: a token (any bytes). Checked: a token that verifies names a
 * positive tenant and a recipient without control bytes or spaces, and
 * making a token for that (tenant, recipient) gives back exactly the
 * input (one spelling per token: base64url without padding, zero pad
 * bits); a token made for the recipient part of the input verifies back
 * to it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/unsub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[] = "fuzz-key-0123456789abcdef";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char rcpt[300], again[CP_UNSUB_TOKEN_MAX], addr[255];
	int64_t tenant = 0, t2 = 0;

	if (cp_unsub_verify_token(key, sizeof(key) - 1, (const char *)data,
	    size, &tenant, rcpt, sizeof(rcpt), NULL) == CP_OK) {
		if (tenant <= 0 || rcpt[0] == '\0')
			abort();
		for (const char *p = rcpt; *p; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f)
				abort();
		if (cp_unsub_make_token(key, sizeof(key) - 1, tenant, rcpt,
		    again, sizeof(again), NULL) != CP_OK ||
		    strlen(again) != size || memcmp(again, data, size) != 0)
			abort();
	}
	/* round trip of whatever address the input holds */
	size_t n = size < 254 ? size : 254;

	memcpy(addr, data, n);
	addr[n] = '\0';
	if (cp_unsub_make_token(key, sizeof(key) - 1, 7, addr, again,
	    sizeof(again), NULL) == CP_OK) {
		if (cp_unsub_verify_token(key, sizeof(key) - 1, again,
		    strlen(again), &t2, rcpt, sizeof(rcpt), NULL) != CP_OK ||
		    t2 != 7 || strcmp(rcpt, addr) != 0)
			abort();
		if (cp_unsub_verify_token((const unsigned char *)"x", 1, again,
		    strlen(again), &t2, rcpt, sizeof(rcpt), NULL) == CP_OK)
			abort();
	}
	return 0;
}
