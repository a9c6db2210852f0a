/*
 * Fuzz target: the API's request-target parsing (src/http/): query
 * strings (http_query_get: pairs, percent-decoding, '+'), the route
 * matcher (every route against the input as a path), and the static file
 * path check (cp_http_static_path).
 *
 * Input: any bytes (cut at the first NUL). Checked: a decoded value has
 * no NUL and fits its buffer; a route capture is one non-empty segment
 * without '/'; a static path that is accepted has no segment starting
 * with '.' (so no "..") and only [A-Za-z0-9._/-].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = cp_malloc(size + 1), v[64], out[256];
	char caps[HTTP_MAX_PARAMS][HTTP_CAP_MAX];
	size_t ncaps;
	int allowed;
	const http_route *r;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	static const char *const names[] = { "limit", "tenant", "from", "to",
		"List-Unsubscribe", "" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (http_query_get(s, names[i], v, sizeof(v)) == 1 &&
		    strlen(v) >= sizeof(v))
			abort();
	r = http_route_find(HTTP_GET, s, caps, &ncaps, &allowed);
	if (r != NULL)
		for (size_t i = 0; i < ncaps; i++)
			if (caps[i][0] == '\0' || strchr(caps[i], '/') != NULL)
				abort();
	if (cp_http_static_path(s, out, sizeof(out))) {
		/* no segment starts with '.' (so none is ".." or hidden);
		 * a name like "a..b" is only a name */
		if (out[0] == '.' || strstr(out, "/.") != NULL ||
		    out[0] == '/' || strstr(out, "//") != NULL)
			abort();
		for (const char *p = out; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
			    *p == '_' || *p == '-' || *p == '/'))
				abort();
	}
	cp_free(s);
	return 0;
}
