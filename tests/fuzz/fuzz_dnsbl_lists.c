/* Fuzz target: the lists-file reader of the block-list checker
 * (cp_dnsbl_set_parse), then each list's query name for an IP and a
 * domain. */
#include <stdint.h>
#include <string.h>

#include "coldpost/dnsbl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_dnsbl_set s = { 0 };
	cp_err err;
	char q[1100];

	(void)cp_dnsbl_set_parse(&s, (const char *)data, size, "fuzz", &err);
	for (size_t i = 0; i < s.n; i++) {
		cp_dnsbl_hit h;

		if (strlen(s.lists[i].zone) == 0)
			__builtin_trap();
		(void)cp_dnsbl_query_name("2001:db8::1", &s.lists[i], q,
		    sizeof(q), &err);
		(void)cp_dnsbl_query_name("example.com", &s.lists[i], q,
		    sizeof(q), &err);
		(void)cp_dnsbl_decode(&s.lists[i], 0x7f000002u + (uint32_t)i,
		    &h);
	}
	cp_dnsbl_set_free(&s);
	return 0;
}
