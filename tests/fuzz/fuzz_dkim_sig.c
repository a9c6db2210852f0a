/* Fuzz target: the DKIM-Signature tag list parser (dkim_parse.c). */
#include <stdint.h>

#include "coldpost/dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_dkim_sig sig;
	cp_dkim_reason why;
	cp_err err;

	(void)cp_dkim_parse_sig((const char *)data, size, &sig, &why, &err);
	/* the b= span must lie inside the input */
	if (sig.blen > 0 && (sig.b_off > sig.b_end || sig.b_end > size))
		__builtin_trap();
	cp_dkim_sig_clear(&sig);
	return 0;
}
