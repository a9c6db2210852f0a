/* Fuzz target: the zone-file reader of the fake resolver. */
#include <stdint.h>

#include "coldpost/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_dns *d = cp_dns_new_fake();
	cp_dns_answer *a = NULL;
	cp_err err;

	if (d == NULL)
		return 0;
	if (cp_dns_fake_load_mem(d, (const char *)data, size, "fuzz", &err) ==
	    CP_OK && cp_dns_query(d, "example.com", CP_DNS_TXT, &a, &err) == CP_OK)
		cp_dns_answer_free(a);
	cp_dns_free(d);
	return 0;
}
