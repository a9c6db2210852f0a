/* Fuzz target: the webhook event filter parser (`coldpost webhook add
   --events`, the API's "events"). A filter that parses gives a canonical
   form that parses again to itself and that the store's token check
   accepts (names of [a-z0-9._-] joined by single commas); the first line
   is also tried as a type name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_buf a, b;
	char *s;
	cp_err err;

	if (size > 4096)
		return 0;
	if ((s = cp_malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)cp_webhook_type_from_name(s, strcspn(s, "\n"));
	cp_buf_init(&a, CP_STORE_EVENTS_MAX);
	cp_buf_init(&b, CP_STORE_EVENTS_MAX);
	if (cp_webhook_parse_events(s, &a, &err) == CP_OK) {
		if (cp_webhook_parse_events(a.data, &b, &err) != CP_OK ||
		    strcmp(a.data, b.data) != 0)
			abort();
		for (const char *p = a.data; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || *p == '.' ||
			    *p == ','))
				abort();
		if (a.data[0] == ',' || strstr(a.data, ",,") != NULL)
			abort();
	}
	cp_buf_free(&a);
	cp_buf_free(&b);
	cp_free(s);
	return 0;
}
