/* Fuzz target: the DKIM key record parser (dkim_parse.c). */
#include <stdint.h>

#include "coldpost/dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_dkim_keyrec rec;
	cp_err err;

	if (cp_dkim_parse_keyrec((const char *)data, size, &rec, &err) ==
	    CP_OK && rec.plen > sizeof(rec.p))
		__builtin_trap();
	return 0;
}
