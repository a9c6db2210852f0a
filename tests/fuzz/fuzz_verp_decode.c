/*
 * Fuzz target: VERP return path decoding (src/queue/verp.c), the part of
 * the bounce listener that reads addresses from the network.
 *
 * Input: an address (any bytes; cut at the first NUL). Checked: a decode
 * that succeeds gives an id that encodes back to the same address, up to
 * case and the angle brackets of a reverse path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coldpost/verp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char secret[] = "s3cret";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *addr = malloc(size + 1), back[256];
	const char *a;
	size_t alen;
	int64_t id = -1;

	if (addr == NULL)
		return 0;
	memcpy(addr, data, size);
	addr[size] = '\0';
	if (cp_verp_decode("bounce", "b.example", addr, secret,
		sizeof(secret) - 1, &id, NULL) == CP_OK) {
		if (id < 0)
			__builtin_trap();
		if (cp_verp_encode("bounce", "b.example", id, secret,
			sizeof(secret) - 1, back, sizeof(back), NULL) != CP_OK)
			__builtin_trap();
		a = addr;
		alen = strlen(addr);
		if (alen >= 2 && a[0] == '<' && a[alen - 1] == '>') {
			a++;
			alen -= 2;
		}
		if (alen != strlen(back) || strncasecmp(a, back, alen) != 0)
			__builtin_trap();
	}
	free(addr);
	return 0;
}
