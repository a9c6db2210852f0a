/*
 * Fuzz target: the From field parser (src/auth/auth_from.c). On success
 * every domain kept must be a lowercase host name DNS can carry, and the
 * counts must agree; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_auth_from f;
	cp_err err;

	if (cp_auth_parse_from((const char *)data, size, &f, &err) != CP_OK)
		return 0;
	if (f.n > CP_AUTH_FROM_MAX || f.n > f.n_all ||
	    (f.n_all <= CP_AUTH_FROM_MAX && f.n != f.n_all))
		abort();
	for (size_t i = 0; i < f.n; i++) {
		const char *d = f.mbox[i].domain;
		size_t len = strlen(d), lab = 0;

		if (f.mbox[i].literal) {
			if (len != 0)
				abort();
			continue;
		}
		if (len == 0 || len > 253)
			abort();
		for (size_t k = 0; k <= len; k++) {
			if (d[k] == '.' || d[k] == '\0') {
				if (lab == 0 || lab > 63)
					abort();
				lab = 0;
				continue;
			}
			if (!((d[k] >= 'a' && d[k] <= 'z') ||
			    (d[k] >= '0' && d[k] <= '9') || d[k] == '-' ||
			    d[k] == '_'))
				abort();
			lab++;
		}
		if (strlen(f.mbox[i].local) >= sizeof(f.mbox[i].local))
			abort();
	}
	return 0;
}
