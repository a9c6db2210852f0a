/*
 * Fuzz target: the store's checks of strings taken from the wire
 * (cp_store_check_address, cp_store_check_domain). The first byte picks
 * the check; an accepted input must keep the promises of store.h (within
 * the limit, no NUL or control byte, an '@' in an address).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	int addr, ok;

	if (size == 0)
		return 0;
	addr = data[0] & 1;
	ok = (addr ? cp_store_check_address(p, len, "fuzz", NULL) :
	    cp_store_check_domain(p, len, "fuzz", NULL)) == CP_OK;
	if (!ok)
		return 0;
	if (len == 0 || len > (addr ? CP_STORE_ADDR_MAX : CP_STORE_DOMAIN_MAX))
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			abort();
	if (addr && memchr(p, '@', len) == NULL)
		abort();
	if (!addr && (p[0] == '.' || p[len - 1] == '.'))
		abort();
	return 0;
}
