/*
 * Fuzz target: the inbound listener's reading of RCPT addresses
 * (src/net/net_unsub.c): the unsubscribe token "unsub+TENANT-TAG" and the
 * classification of an address for the bounce domain (VERP return path,
 * unsubscribe address, unknown, other domain).
 *
 * Input: an address (any bytes; cut at the first NUL). Checked: a token
 * that parses has a positive tenant and 16 lower-case hex digits, and a
 * token made for (tenant, address) parses back to the same and checks for
 * that address only; classification agrees with the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char secret[] = "s3cret-key-for-the-fuzzer";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *addr = malloc(size + 1), tag[NET_UNSUB_TAG_LEN + 1];
	char local[96], tag2[NET_UNSUB_TAG_LEN + 1];
	const char *at;
	int64_t tenant = 0, t2 = 0;
	net_in_rcpt r;

	if (addr == NULL)
		return 0;
	memcpy(addr, data, size);
	addr[size] = '\0';
	at = strrchr(addr, '@');
	if (net_unsub_parse(addr, at ? (size_t)(at - addr) : strlen(addr),
	    &tenant, tag) == 0) {
		if (tenant <= 0 || strlen(tag) != NET_UNSUB_TAG_LEN ||
		    strspn(tag, "0123456789abcdef") != NET_UNSUB_TAG_LEN)
			__builtin_trap();
	}
	(void)net_inbound_classify(addr, "b.example", "b-", secret,
	    sizeof(secret) - 1, &r);
	if (r.kind == NET_IN_UNSUB && (r.tenant <= 0 || at == NULL))
		__builtin_trap();
	if (r.kind == NET_IN_VERP && r.rcpt <= 0)
		__builtin_trap();
	/* the input as an address: a token made for it checks for it only */
	if (size > 0 && size <= CP_STORE_ADDR_MAX && net_unsub_make(secret,
	    sizeof(secret) - 1, 7, addr, local, sizeof(local)) == CP_OK) {
		if (net_unsub_parse(local, strlen(local), &t2, tag2) != 0 ||
		    t2 != 7 || !net_unsub_check(secret, sizeof(secret) - 1, 7,
		    addr, tag2) || net_unsub_check(secret, sizeof(secret) - 1,
		    8, addr, tag2))
			__builtin_trap();
	}
	free(addr);
	return 0;
}
