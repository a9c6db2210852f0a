/*
 * http_json.c - JSON answers and input of the API: the error shape
 * {"error":{"code":"bad_field","message":"...","field":"to"}}, members of
 * a request object read with limits, query strings (RFC 3986 section 3.4,
 * application/x-www-form-urlencoded pairs), and the tenant scope check.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "coldpost/alloc.h"
#include "http/http_int.h"

json_t *
http_error_json(const char *code, const char *message, const char *field)
{
	json_t *e = json_object();

	if (e == NULL)
		return NULL;
	json_object_set_new(e, "code", json_string(code));
	json_object_set_new(e, "message", json_string(message));
	if (field != NULL)
		json_object_set_new(e, "field", json_string(field));
	return json_pack("{s:o}", "error", e);
}

int
http_fail(http_req *r, int status, const char *code, const char *field,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(r->out);
	/* messages from lower layers may carry bytes that are not UTF-8 */
	r->out = http_error_json(code, msg, field);
	if (r->out == NULL)
		r->out = http_error_json(code, "(message not valid UTF-8)",
		    field);
	return status;
}

int
http_fail_err(http_req *r, const cp_err *err, const char *field)
{
	switch (err->code) {
	case CP_ENOTFOUND:
		return http_fail(r, 404, "not_found", field, "%s", err->msg);
	case CP_EINVAL:
	case CP_ESYNTAX:
		return http_fail(r, 400, "bad_field", field, "%s", err->msg);
	case CP_ETOOBIG:
		return http_fail(r, 413, "too_big", field, "%s", err->msg);
	case CP_ETEMP:
		return http_fail(r, 503, "unavailable", NULL, "%s", err->msg);
	default:
		return http_fail(r, 500, "internal", NULL, "%s", err->msg);
	}
}

int
http_body_object(http_req *r, json_t **out)
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	if (r->body_len == 0)
		return http_fail(r, 400, "bad_json", NULL,
		    "this endpoint wants a JSON object as the request body");
	v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL)
		return http_fail(r, 400, "bad_json", NULL,
		    "request body: %s at line %d column %d", je.text, je.line,
		    je.column);
	if (!json_is_object(v)) {
		json_decref(v);
		return http_fail(r, 400, "bad_json", NULL,
		    "request body: want a JSON object");
	}
	*out = v;
	return 0;
}

int
http_get_str(http_req *r, json_t *o, const char *name, int required,
    size_t max, const char **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return http_fail(r, 400, "missing_field", name,
			    "%s is required", name);
		return 0;
	}
	if (!json_is_string(v))
		return http_fail(r, 400, "bad_field", name,
		    "%s: want a string", name);
	if (json_string_length(v) > max)
		return http_fail(r, 400, "bad_field", name,
		    "%s: %zu bytes, at most %zu", name, json_string_length(v),
		    max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return http_fail(r, 400, "bad_field", name,
		    "%s: contains a NUL character", name);
	*out = json_string_value(v);
	return 0;
}

int
http_get_int(http_req *r, json_t *o, const char *name, int required,
    int64_t min, int64_t max, int64_t *out)
{
	json_t *v = json_object_get(o, name);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return http_fail(r, 400, "missing_field", name,
			    "%s is required", name);
		return 0;
	}
	if (!json_is_integer(v))
		return http_fail(r, 400, "bad_field", name,
		    "%s: want an integer", name);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return http_fail(r, 400, "bad_field", name,
		    "%s: %lld out of range %lld..%lld", name,
		    (long long)json_integer_value(v), (long long)min,
		    (long long)max);
	*out = json_integer_value(v);
	return 0;
}

/* Decode %XX and '+' of src[0..len) into out; 0 if malformed or too long
 * or if it decodes to a NUL. */
static int
query_decode(const char *src, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)src[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int v = 0;

			if (i + 2 >= len)
				return 0;
			for (int k = 1; k <= 2; k++) {
				char x = src[i + k];

				v <<= 4;
				if (x >= '0' && x <= '9')
					v |= x - '0';
				else if (x >= 'a' && x <= 'f')
					v |= x - 'a' + 10;
				else if (x >= 'A' && x <= 'F')
					v |= x - 'A' + 10;
				else
					return 0;
			}
			c = v;
			i += 2;
		}
		if (c == 0 || o + 1 >= outlen)
			return 0;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 1;
}

int
http_query_get(const char *query, const char *name, char *out,
    size_t outlen)
{
	size_t nlen = strlen(name);

	if (query == NULL || outlen == 0)
		return 0;
	while (*query != '\0') {
		size_t plen = strcspn(query, "&");
		const char *eq = memchr(query, '=', plen);
		size_t klen = eq != NULL ? (size_t)(eq - query) : plen;

		if (klen == nlen && memcmp(query, name, nlen) == 0) {
			const char *v = eq != NULL ? eq + 1 : query + plen;
			size_t vlen = (size_t)(query + plen - v);

			return query_decode(v, vlen, out, outlen) ? 1 : -1;
		}
		query += plen;
		if (*query == '&')
			query++;
	}
	return 0;
}

int
http_query_int(http_req *r, const char *name, int64_t def, int64_t min,
    int64_t max, int64_t *out)
{
	char buf[32], *end;
	long long v;
	int got = http_query_get(r->query, name, buf, sizeof(buf));

	*out = def;
	if (got == 0)
		return 0;
	if (got < 0 || buf[0] == '\0')
		return http_fail(r, 400, "bad_field", name,
		    "%s: malformed value", name);
	v = strtoll(buf, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return http_fail(r, 400, "bad_field", name,
		    "%s: want an integer in %lld..%lld", name, (long long)min,
		    (long long)max);
	*out = v;
	return 0;
}

int
http_tenant_ok(const http_req *r, int64_t t)
{
	return r->key.tenant == 0 || r->key.tenant == t;
}

int
http_str_array(http_req *r, json_t *o, const char *name, const char **v,
    size_t max, size_t *n)
{
	json_t *a = json_object_get(o, name), *x;
	size_t i;

	*n = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return http_fail(r, 400, "bad_field", name,
		    "%s: want an array of strings", name);
	if (json_array_size(a) > max)
		return http_fail(r, 400, "bad_field", name,
		    "%s: at most %zu entries", name, max);
	json_array_foreach(a, i, x) {
		if (!json_is_string(x) || json_string_length(x) == 0 ||
		    json_string_length(x) > 253)
			return http_fail(r, 400, "bad_field", name,
			    "%s[%zu]: want a string of 1..253 bytes", name, i);
		v[(*n)++] = json_string_value(x);
	}
	return 0;
}
