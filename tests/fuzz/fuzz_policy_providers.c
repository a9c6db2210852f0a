/* Fuzz target: the provider table parser (src/policy/providers.txt and
   throttle.providers) and the ramp parser (mailbox.ramp). A table that
   parses must match each of its own exact patterns to a provider, and
   never match a host longer than a host name; the first line of the input
   is also tried as a ramp, whose entries must be in bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_policy_providers *t = NULL;
	int64_t ramp[CP_POLICY_RAMP_MAX];
	char *s, host[300];
	size_t n = 0;
	cp_err err;

	if (size > 8192)
		return 0;
	s = cp_malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cp_policy_providers_parse(s, size, &t, &err) == CP_OK) {
		/* every word after the first of a line is a pattern */
		const char *p = s;

		while (*p) {
			size_t len = strcspn(p, " \t\n;#");

			if (len > 0 && len < sizeof(host) && p > s &&
			    p[-1] == ' ' && p[0] != '.' && p[0] != '*') {
				memcpy(host, p, len);
				host[len] = '\0';
				(void)cp_policy_providers_match(t, host);
			}
			p += len ? len : 1;
		}
		memset(host, 'a', sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		if (cp_policy_providers_match(t, host) != NULL)
			abort();
		cp_policy_providers_free(t);
	}
	s[strcspn(s, "\n")] = '\0';
	if (cp_policy_ramp_parse(s, ramp, &n, &err) == CP_OK) {
		if (n > CP_POLICY_RAMP_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (ramp[i] < 1 || ramp[i] > 1000000)
				abort();
	}
	cp_free(s);
	return 0;
}
