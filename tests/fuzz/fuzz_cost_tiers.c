/* Fuzz target: the price tier parser (cost.tiers, `coldpost cost --tiers`).
   A list that parses must satisfy the rules, format back to a list that
   parses to the same tiers, and give a quote for any mailbox count. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/cost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_cost_tiers t, back;
	cp_cost_quote q;
	cp_buf b;
	cp_err err;
	char *s;

	if (size > 4096)
		return 0;
	s = cp_malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cp_cost_parse_tiers(s, &t, &err) == CP_OK) {
		if (t.n == 0 || t.v[0].from != 1)
			abort();
		for (size_t i = 1; i < t.n; i++)
			if (t.v[i].from <= t.v[i - 1].from ||
			    t.v[i].cents > t.v[i - 1].cents || t.v[i].cents < 0)
				abort();
		cp_buf_init(&b, 1 << 16);
		if (cp_cost_format_tiers(&t, &b) == CP_OK &&
		    cp_buf_addc(&b, '\0') == CP_OK) {
			if (cp_cost_parse_tiers(b.data, &back, &err) != CP_OK ||
			    back.n != t.n ||
			    memcmp(back.v, t.v, t.n * sizeof(t.v[0])) != 0)
				abort();
		}
		cp_buf_free(&b);
		for (size_t i = 0; i < t.n; i++) {
			int64_t n = t.v[i].from;

			if (cp_cost_compute(&t, CP_COST_MINIMUM_MAX, n, 1000000,
			    (int)(i & 1), &q, &err) != CP_OK ||
			    q.tier != i || q.total_cents < q.minimum_cents)
				abort();
		}
		if (cp_cost_compute(&t, 0, CP_COST_MAILBOXES_MAX, 1000000, 1, &q,
		    &err) != CP_OK || q.total_cents < 0)
			abort();
	}
	cp_free(s);
	return 0;
}
