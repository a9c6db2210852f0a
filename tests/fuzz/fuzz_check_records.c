/*
 * Fuzz target: the record parsers of the domain check
 * (src/check/check_records.c). The first byte picks the parser: MTA-STS
 * record, TLS-RPT record, or the generic reverse-DNS test (the rest up to
 * a NUL is the name, after it the IP). Results must be consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		char id[64];

		if (cp_check_parse_mta_sts(p, n, id, sizeof(id), NULL) == CP_OK &&
		    (strlen(id) < 1 || strlen(id) > 32))
			abort();
		break;
	}
	case 1: {
		cp_check_tlsrpt t;

		if (cp_check_parse_tlsrpt(p, n, &t, NULL) == CP_OK &&
		    (t.nrua_all == 0 || t.nrua > CP_CHECK_TLSRPT_URIS ||
		    t.nrua > t.nrua_all))
			abort();
		break;
	}
	default: {
		char name[512], why[160];
		const char *ip = NULL;
		size_t k = n < sizeof(name) - 1 ? n : sizeof(name) - 1;
		int g;

		memcpy(name, p, k);
		name[k] = '\0';
		if (strlen(name) < k)
			ip = name + strlen(name) + 1;
		g = cp_check_ptr_generic(name, ip, why, sizeof(why));
		if (g != 0 && g != 1)
			abort();
		if (g == 1 && why[0] == '\0')
			abort();
		break;
	}
	}
	return 0;
}
