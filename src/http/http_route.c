/*
 * http_route.c - the API's route table and the path matcher.
 *
 * A route is a method, a pattern of literal segments and {captures}, the
 * authentication it needs and its handler. A capture matches one whole
 * non-empty segment (already percent-decoded by the caller, RFC 3986
 * section 2.1), never a '/'. The table is also what the OpenAPI test
 * compares docs/api/openapi.yaml against (cp_http_route_list).
 */
#include <string.h>

#include "http/http_int.h"

#define ANY HTTP_AUTH_ANY
#define ADMIN HTTP_AUTH_ADMIN
#define NONE HTTP_AUTH_NONE

const http_route http_routes[] = {
	{ HTTP_GET, "/v1/me", ANY, http_h_me },
	{ HTTP_GET, "/v1/tenants", ANY, http_h_tenants_list },
	{ HTTP_POST, "/v1/tenants", ADMIN, http_h_tenants_add },
	{ HTTP_GET, "/v1/tenants/{name}", ANY, http_h_tenant_get },
	{ HTTP_DELETE, "/v1/tenants/{name}", ADMIN, http_h_tenant_del },
	{ HTTP_GET, "/v1/pools", ANY, http_h_pools_list },
	{ HTTP_POST, "/v1/pools", ADMIN, http_h_pools_add },
	{ HTTP_DELETE, "/v1/pools/{addr}", ADMIN, http_h_pool_del },
	{ HTTP_GET, "/v1/domains", ANY, http_h_domains_list },
	{ HTTP_POST, "/v1/domains", ANY, http_h_domains_add },
	{ HTTP_GET, "/v1/domains/{name}", ANY, http_h_domain_get },
	{ HTTP_DELETE, "/v1/domains/{name}", ANY, http_h_domain_del },
	{ HTTP_GET, "/v1/domains/{name}/check", ANY, http_h_domain_check },
	{ HTTP_GET, "/v1/mailboxes", ANY, http_h_mailboxes_list },
	{ HTTP_POST, "/v1/mailboxes", ANY, http_h_mailboxes_add },
	{ HTTP_GET, "/v1/mailboxes/{address}", ANY, http_h_mailbox_get },
	{ HTTP_DELETE, "/v1/mailboxes/{address}", ANY, http_h_mailbox_del },
	{ HTTP_GET, "/v1/messages", ANY, http_h_messages_list },
	{ HTTP_POST, "/v1/messages", ANY, http_h_inject },
	{ HTTP_GET, "/v1/messages/{id}", ANY, http_h_message_get },
	{ HTTP_GET, "/v1/suppressions", ANY, http_h_supp_list },
	{ HTTP_POST, "/v1/suppressions", ANY, http_h_supp_add },
	{ HTTP_DELETE, "/v1/suppressions/{address}", ANY, http_h_supp_del },
	{ HTTP_GET, "/v1/providers", ANY, http_h_providers },
	{ HTTP_GET, "/v1/stats", ANY, http_h_stats },
	{ HTTP_GET, "/v1/webhooks", ANY, http_h_webhooks_list },
	{ HTTP_POST, "/v1/webhooks", ANY, http_h_webhooks_add },
	{ HTTP_DELETE, "/v1/webhooks/{id}", ANY, http_h_webhook_del },
	{ HTTP_POST, "/v1/tools/explain", ANY, http_h_tool_explain },
	{ HTTP_POST, "/v1/tools/bounce", ANY, http_h_tool_bounce },
	{ HTTP_POST, "/v1/tools/check", ANY, http_h_tool_check },
	{ HTTP_POST, "/v1/tools/spf", ANY, http_h_tool_spf },
	{ HTTP_POST, "/v1/tools/dkim", ANY, http_h_tool_dkim },
	{ HTTP_POST, "/v1/tools/dmarc", ANY, http_h_tool_dmarc },
	{ HTTP_POST, "/v1/tools/blacklist", ANY, http_h_tool_blacklist },
	{ HTTP_POST, "/v1/tools/lint", ANY, http_h_tool_lint },
	{ HTTP_POST, "/v1/tools/cost", ANY, http_h_tool_cost },
	{ HTTP_POST, "/unsubscribe/{token}", NONE, http_h_unsubscribe },
};
const size_t http_nroutes = CP_NELEM(http_routes);

const char *
http_method_name(int method)
{
	switch (method) {
	case HTTP_GET:
		return "GET";
	case HTTP_POST:
		return "POST";
	case HTTP_PUT:
		return "PUT";
	case HTTP_DELETE:
		return "DELETE";
	case HTTP_PATCH:
		return "PATCH";
	default:
		return "?";
	}
}

int
http_route_match(const char *pat, const char *path, char caps[][HTTP_CAP_MAX],
    size_t *ncaps)
{
	size_t n = 0;

	while (*pat != '\0') {
		if (*pat == '{') {
			const char *end = strchr(pat, '}');
			size_t len = strcspn(path, "/");

			if (end == NULL || len == 0 || len >= HTTP_CAP_MAX ||
			    n >= HTTP_MAX_PARAMS)
				return 0;
			memcpy(caps[n], path, len);
			caps[n][len] = '\0';
			n++;
			pat = end + 1;
			path += len;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	if (*path != '\0')
		return 0;
	*ncaps = n;
	return 1;
}

const http_route *
http_route_find(int method, const char *path, char caps[][HTTP_CAP_MAX],
    size_t *ncaps, int *allowed)
{
	const http_route *found = NULL;

	*allowed = 0;
	for (size_t i = 0; i < http_nroutes; i++) {
		char tmp[HTTP_MAX_PARAMS][HTTP_CAP_MAX];
		size_t n;

		if (!http_route_match(http_routes[i].pattern, path, tmp, &n))
			continue;
		*allowed |= http_routes[i].method;
		if (found == NULL && http_routes[i].method == method) {
			found = &http_routes[i];
			memcpy(caps, tmp, sizeof(tmp));
			*ncaps = n;
		}
	}
	return found;
}

size_t
cp_http_route_list(size_t i, const char **method, const char **pattern)
{
	if (i < http_nroutes) {
		*method = http_method_name(http_routes[i].method);
		*pattern = http_routes[i].pattern;
	}
	return http_nroutes;
}
