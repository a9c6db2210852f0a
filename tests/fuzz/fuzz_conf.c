/*
 * Fuzz target: the configuration file reader (src/core/conf_file.c) from
 * memory. Every input that loads must dump to a file that loads back to the
 * same configuration and dumps to the same text (the round trip `coldpost
 * config show` relies on); anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const cp_buf *d1, const cp_buf *d2, const char *msg)
{
	fprintf(stderr, "fuzz_conf: %s: %s\n--- dump\n%s\n--- again\n%s\n", what,
	    msg ? msg : "", d1->data ? d1->data : "",
	    d2 && d2->data ? d2->data : "");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_conf a, b;
	cp_buf diags, d1, d2;
	cp_err err;
	const cp_conf_key *diff[4];
	unsigned flags = size > 0 ? data[0] % 4 : 0;

	cp_buf_init(&diags, 1 << 20);
	if (cp_conf_load_mem(&a, (const char *)data, size, "fuzz", NULL,
	    &diags, &err) != CP_OK) {
		cp_buf_free(&diags);
		return 0;
	}
	(void)cp_conf_find_route(&a, "a.b.example.com");
	cp_buf_init(&d1, 64 << 20);
	cp_buf_init(&d2, 64 << 20);
	if (cp_conf_dump(&a, flags, &d1) != CP_OK)
		fail("dump", &d1, NULL, NULL);
	if (cp_conf_load_mem(&b, d1.data, d1.len, "dump", NULL, &diags,
	    &err) != CP_OK)
		fail("the dump does not load", &d1, NULL, diags.data);
	if (cp_conf_diff(&a, &b, diff, 4) != 0)
		fail("the dump loads to another config", &d1, NULL,
		    diff[0]->name);
	if (cp_conf_dump(&b, flags, &d2) != CP_OK ||
	    strcmp(d1.data, d2.data) != 0)
		fail("the dump of the dump differs", &d1, &d2, NULL);
	cp_conf_clear(&a);
	cp_conf_clear(&b);
	cp_buf_free(&d1);
	cp_buf_free(&d2);
	cp_buf_free(&diags);
	return 0;
}
