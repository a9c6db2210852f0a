/*
 * Fuzz target: a message through the content linter (src/lint/): GMime's
 * MIME parsing and RFC 2047 decoding, the HTML walk (libxml2), URL and
 * anchor handling, the PCRE2 patterns over decoded text, every rule and the
 * report. The first byte picks options (a sending domain, tight link and
 * image limits, with or without a Public Suffix List), so each branch of
 * the domain comparison is reached. Checks the report's invariants: the
 * score is the sum of the points, every finding has evidence and a fix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cp_psl *psl;
static int psl_tried;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_lint_opts o = { 0 };
	cp_lint_report r;
	cp_err err;
	int sum = 0;

	if (size < 1)
		return 0;
	if (!psl_tried) {
		psl = cp_psl_load(NULL, NULL); /* NULL: no list on this host */
		psl_tried = 1;
	}
	if (data[0] & 1)
		o.sending_domain = "mail.example.com";
	if (data[0] & 2) {
		o.max_links = 1;
		o.max_images = 1;
	}
	if (data[0] & 4)
		o.psl = psl;
	if (cp_lint_check_message((const char *)data + 1, size - 1, &o, &r,
	    &err) != CP_OK) {
		if (r.n != 0 || r.v != NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < r.n; i++) {
		if (r.v[i].rule == NULL || r.v[i].evidence == NULL ||
		    r.v[i].fix == NULL || r.v[i].points < 0)
			abort();
		sum += r.v[i].points;
	}
	if (sum != r.score)
		abort();
	cp_lint_report_clear(&r);
	return 0;
}
