/*
 * Fuzz target: cp_bounce_parse on raw bytes (one email), and the
 * invariants of what it returns: every string set, reasons known, at
 * most CP_BOUNCE_RCPT_MAX records.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/bounce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cp_bounce_parser *p;
	const cp_bounce *b;
	cp_err err = { 0 };

	if (p == NULL && (p = cp_bounce_parser_new(&err)) == NULL)
		abort();
	if (cp_bounce_parse(p, (const char *)data, size, &b, &err) != CP_OK)
		return 0;
	if (b->n > CP_BOUNCE_RCPT_MAX || b->family == NULL ||
	    b->message_id == NULL || b->return_path == NULL ||
	    b->verp == NULL || b->notes == NULL)
		__builtin_trap();
	for (size_t i = 0; i < b->n; i++) {
		const cp_bounce_rcpt *r = &b->rcpts[i];

		if (r->recipient == NULL || r->status == NULL ||
		    r->diagnostic == NULL || r->action == NULL ||
		    r->receiver == NULL || r->rule == NULL ||
		    !cp_bounce_reason_known(r->reason))
			__builtin_trap();
		/* touch every byte, so ASan sees a string past its end */
		if (strlen(r->diagnostic) + strlen(r->recipient) +
		    strlen(r->remote_mta) + strlen(r->date) == (size_t)-1)
			__builtin_trap();
	}
	return 0;
}
