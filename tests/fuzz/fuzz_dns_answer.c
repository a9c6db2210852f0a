/*
 * Fuzz target: DNS response messages into answers (src/dns/dns_msg.c).
 * The input is one message as a server would send it. It is read three
 * ways: for its own question, for a fixed question (so answers to other
 * questions take the error path), and through the internal parser with
 * CNAME continuation; a parsed answer is then copied, cached and read back
 * (dns_cache.c), so the memory rules of answers are exercised too.
 * Seeds: real answers from Knot DNS (tests/fuzz/dns_capture.py) and
 * hand-made edge cases.
 */
#include <stdint.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/dns.h"
#include "dns/dns_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_dns_answer *a = NULL, *b = NULL;
	cp_err err;
	char *next = NULL;
	uint32_t cttl;

	if (cp_dns_answer_parse(data, size, NULL, 0, &a, &err) == CP_OK) {
		dns_cache *c = dns_cache_new(4);

		if (c != NULL && a->name[0] != '\0') {
			(void)dns_cache_put(c, a, 1000);
			if (dns_cache_get(c, a->name, a->type, 2000, &b) ==
			    CP_OK)
				cp_dns_answer_free(b);
		}
		dns_cache_free(c);
		cp_dns_answer_free(a);
	}
	if (cp_dns_answer_parse(data, size, "example.com", CP_DNS_TXT, &a,
	    &err) == CP_OK)
		cp_dns_answer_free(a);
	a = dns_answer_new("www.example.com", CP_DNS_A);
	if (a != NULL && dns_msg_parse(data, size, a, &next, &cttl, &err) ==
	    CP_OK)
		cp_free(next);
	cp_dns_answer_free(a);
	return 0;
}
