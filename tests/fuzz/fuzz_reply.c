/* Fuzz target: the SMTP reply parser (src/smtp/reply_parse.c). */
#include <stdint.h>
#include <string.h>

#include "coldpost/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cp_reply r;
	static int ready;
	cp_err err;

	if (!ready) {
		cp_reply_init(&r);
		ready = 1;
	}
	if (cp_reply_parse(&r, (const char *)data, size, &err) == CP_OK) {
		/* invariants the classifier relies on */
		if (r.text_len != strlen(r.text) || r.msg_off > r.text_len)
			__builtin_trap();
		if (r.code && (r.code < 200 || r.code > 599))
			__builtin_trap();
		if (r.enhanced[0] && r.cls != r.enhanced[0] - '0')
			__builtin_trap();
	}
	return 0;
}
