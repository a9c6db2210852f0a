/*
 * Fuzz target: parse + classify, with the first line as an optional host
 * hint (input "host\nreply").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cp_classify_session *s;
	const char *nl = memchr(data, '\n', size);
	char host[128] = "";
	cp_verdict v;
	cp_err err;

	if (s == NULL) {
		const cp_classifier *c = cp_classifier_default(&err);

		if (c == NULL || (s = cp_classify_session_new(c, &err)) == NULL)
			abort();
	}
	if (nl != NULL && (size_t)(nl - (const char *)data) < sizeof(host)) {
		size_t hl = (size_t)(nl - (const char *)data);

		memcpy(host, data, hl);
		host[hl] = '\0';
		if (memchr(host, '\0', hl) == NULL) {
			size -= hl + 1;
			data += hl + 1;
		} else {
			host[0] = '\0';
		}
	}
	if (cp_classify_reply(s, (const char *)data, size, host, &v, &err) ==
	    CP_OK) {
		if (v.cause < 0 || v.cause >= CP_CAUSE_COUNT || v.reason == NULL ||
		    v.receiver == NULL || v.rule == NULL)
			__builtin_trap();
		if (v.cls != CP_CLASS_SUCCESS && v.nsteps == 0 && v.cause_page)
			__builtin_trap();
	}
	return 0;
}
