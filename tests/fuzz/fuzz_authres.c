/*
 * Fuzz target: the Authentication-Results parser (src/auth/authres.c).
 * A field that parses is rendered and parsed again: the second parse
 * must succeed with the same number of results.
 */
#include <stdint.h>
#include <stdlib.h>

#include "coldpost/authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_authres *ar = NULL, *back = NULL;
	cp_buf b;
	cp_err err;

	if (cp_authres_parse((const char *)data, size, &ar, &err) != CP_OK)
		return 0;
	cp_buf_init(&b, 1 << 20);
	if (cp_authres_render(ar, "\r\n\t", &b, &err) == CP_OK) {
		if (cp_authres_parse(b.data, b.len, &back, &err) != CP_OK ||
		    cp_authres_count(back) != cp_authres_count(ar))
			abort();
	}
	cp_authres_free(back);
	cp_authres_free(ar);
	cp_buf_free(&b);
	return 0;
}
