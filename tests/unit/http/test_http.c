/*
 * The HTTP side's pure parts: the route table and matcher, the OpenAPI
 * document against the routes really served (both ways), safe static
 * paths, Bearer parsing, API keys, the per-key token bucket, query
 * strings, the JSON error shape, RFC 8058 unsubscribe tokens (round trip,
 * tampering, another key), the structured message -> MIME builder
 * (header injection refused, Bcc never written) and the header completion
 * of injected messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/http.h"
#include "coldpost/unsub.h"
#include "cptest.h"
#include "http/http_int.h"
#include "net/net_int.h"

CP_TEST(http_route_match)
{
	char caps[HTTP_MAX_PARAMS][HTTP_CAP_MAX];
	size_t n = 9;
	int allowed;
	const http_route *r;

	CP_CHECK(http_route_match("/v1/domains/{name}", "/v1/domains/a.example",
	    caps, &n), "capture route");
	CP_CHECK_INT(n, 1);
	CP_CHECK_STR(caps[0], "a.example");
	CP_CHECK(!http_route_match("/v1/domains/{name}", "/v1/domains/",
	    caps, &n), "empty capture");
	CP_CHECK(!http_route_match("/v1/domains/{name}", "/v1/domains/a/b",
	    caps, &n), "a capture is one segment");
	CP_CHECK(!http_route_match("/v1/me", "/v1/me/", caps, &n), "slash");
	CP_CHECK(http_route_match("/v1/domains/{name}/check",
	    "/v1/domains/x.org/check", caps, &n) && strcmp(caps[0], "x.org") ==
	    0, "capture then literal");

	r = http_route_find(HTTP_DELETE, "/v1/domains/x.org", caps, &n,
	    &allowed);
	CP_CHECK(r != NULL && r->fn == http_h_domain_del, "delete route");
	r = http_route_find(HTTP_PATCH, "/v1/domains/x.org", caps, &n,
	    &allowed);
	CP_CHECK(r == NULL, "no PATCH");
	CP_CHECK_INT(allowed, HTTP_GET | HTTP_DELETE);
	r = http_route_find(HTTP_GET, "/v1/nothing", caps, &n, &allowed);
	CP_CHECK(r == NULL && allowed == 0, "unknown path");
	r = http_route_find(HTTP_POST, "/v1/tenants", caps, &n, &allowed);
	CP_CHECK(r != NULL && r->auth == HTTP_AUTH_ADMIN, "tenants: admin");
	r = http_route_find(HTTP_POST, "/unsubscribe/abc", caps, &n, &allowed);
	CP_CHECK(r != NULL && r->auth == HTTP_AUTH_NONE, "unsubscribe: open");
	/* a capture longer than the limit does not match */
	{
		char path[HTTP_CAP_MAX + 32];

		memcpy(path, "/unsubscribe/", 13);
		memset(path + 13, 'A', HTTP_CAP_MAX);
		path[13 + HTTP_CAP_MAX] = '\0';
		CP_CHECK(http_route_find(HTTP_POST, path, caps, &n, &allowed) ==
		    NULL, "long capture");
	}
}

/* The OpenAPI document's "paths" as "METHOD path" lines. */
static size_t
openapi_ops(char ops[][128], size_t max)
{
	char path[1024], line[512], cur[256] = "";
	FILE *f;
	size_t n = 0;
	int in_paths = 0;

	snprintf(path, sizeof(path), "%s/../../docs/api/openapi.yaml",
	    cptest_data_dir());
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "paths:", 6) == 0) {
			in_paths = 1;
			continue;
		}
		if (!in_paths)
			continue;
		if (line[0] != ' ' && line[0] != '\n')
			break; /* the next top-level key */
		if (strncmp(line, "  /", 3) == 0 && line[3 + strcspn(line + 3,
		    ":")] == ':') {
			snprintf(cur, sizeof(cur), "%.*s",
			    (int)strcspn(line + 2, ":"), line + 2);
			continue;
		}
		static const char *const m[] = { "get", "post", "put", "delete",
			"patch" };
		for (size_t i = 0; i < 5; i++) {
			char want[32];

			snprintf(want, sizeof(want), "    %s:", m[i]);
			if (strncmp(line, want, strlen(want)) == 0 && n < max) {
				char up[8];
				size_t k;

				for (k = 0; m[i][k]; k++)
					up[k] = (char)(m[i][k] - 32);
				up[k] = '\0';
				snprintf(ops[n++], 128, "%s %s", up, cur);
			}
		}
	}
	fclose(f);
	return n;
}

CP_TEST(http_openapi_matches_routes)
{
	static char ops[256][128];
	size_t nops = openapi_ops(ops, 256), nroutes;
	const char *m, *p;

	CP_CHECK(nops > 30, "openapi.yaml read (%zu operations)", nops);
	nroutes = cp_http_route_list(0, &m, &p);
	CP_CHECK_INT(nroutes, nops);
	for (size_t i = 0; i < nroutes; i++) {
		char want[128];
		size_t k;

		cp_http_route_list(i, &m, &p);
		snprintf(want, sizeof(want), "%s %s", m, p);
		for (k = 0; k < nops && strcmp(ops[k], want) != 0; k++)
			;
		CP_CHECK(k < nops, "route %s is not in openapi.yaml", want);
	}
	for (size_t k = 0; k < nops; k++) {
		size_t i;

		for (i = 0; i < nroutes; i++) {
			char have[128];

			cp_http_route_list(i, &m, &p);
			snprintf(have, sizeof(have), "%s %s", m, p);
			if (strcmp(ops[k], have) == 0)
				break;
		}
		CP_CHECK(i < nroutes, "openapi.yaml has %s, not served", ops[k]);
	}
}

CP_TEST(http_static_path)
{
	char out[256];

	CP_CHECK(cp_http_static_path("/", out, sizeof(out)) &&
	    strcmp(out, "index.html") == 0, "root");
	CP_CHECK(cp_http_static_path("/assets/app.js", out, sizeof(out)) &&
	    strcmp(out, "assets/app.js") == 0, "file");
	CP_CHECK(cp_http_static_path("/assets/", out, sizeof(out)) &&
	    strcmp(out, "assets/index.html") == 0, "dir index");
	CP_CHECK(!cp_http_static_path("/../etc/passwd", out, sizeof(out)),
	    "dot dot");
	CP_CHECK(!cp_http_static_path("/a/../../x", out, sizeof(out)), "..");
	CP_CHECK(!cp_http_static_path("/.env", out, sizeof(out)), "hidden");
	CP_CHECK(!cp_http_static_path("//etc/passwd", out, sizeof(out)), "//");
	CP_CHECK(!cp_http_static_path("/a%2f", out, sizeof(out)), "percent");
	CP_CHECK(!cp_http_static_path("/a\\b", out, sizeof(out)), "backslash");
	CP_CHECK(!cp_http_static_path("relative", out, sizeof(out)), "rel");
}

CP_TEST(http_bearer_and_keys)
{
	size_t len;
	const char *t;
	char key[CP_HTTP_KEY_LEN + 1], key2[CP_HTTP_KEY_LEN + 1], hash[65],
	    h2[65];

	t = http_bearer("Bearer abc123", &len);
	CP_CHECK(t != NULL && len == 6 && strncmp(t, "abc123", 6) == 0, "bearer");
	t = http_bearer("bearer   xyz  ", &len);
	CP_CHECK(t != NULL && len == 3, "case and spaces");
	CP_CHECK(http_bearer("Basic abc", &len) == NULL, "basic");
	CP_CHECK(http_bearer("Bearer", &len) == NULL, "empty");
	CP_CHECK(http_bearer("Bearer a b", &len) == NULL, "two tokens");
	CP_CHECK(http_bearer("Bearerabc", &len) == NULL, "no space");

	CP_CHECK_INT(cp_http_key_new(key, hash, NULL), CP_OK);
	CP_CHECK_INT(strlen(key), CP_HTTP_KEY_LEN);
	CP_CHECK(strncmp(key, "cpk_", 4) == 0, "prefix");
	CP_CHECK(strspn(key + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
	    "tuvwxyz0123456789-_") == 43, "base64url: %s", key);
	CP_CHECK_INT(strlen(hash), 64);
	cp_http_key_hash(key, strlen(key), h2);
	CP_CHECK_STR(h2, hash);
	CP_CHECK_INT(cp_http_key_new(key2, h2, NULL), CP_OK);
	CP_CHECK(strcmp(key, key2) != 0 && strcmp(hash, h2) != 0, "random");
	/* SHA-256("abc") */
	cp_http_key_hash("abc", 3, h2);
	CP_CHECK_STR(h2, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410"
	    "ff61f20015ad");
}

CP_TEST(http_rate_bucket)
{
	cp_http h;
	http_key k = { .id = 7, .tenant = 1, .rate = 10 };
	http_key other = { .id = 8, .tenant = 1, .rate = 0 };
	int ok = 0;

	memset(&h, 0, sizeof(h));
	pthread_mutex_init(&h.mu, NULL);
	for (int i = 0; i < 50; i++)
		ok += http_rate_take(&h, &k, 1000);
	CP_CHECK_INT(ok, 20); /* two seconds' worth */
	CP_CHECK(!http_rate_take(&h, &k, 1000), "empty");
	CP_CHECK(!http_rate_take(&h, &k, 1050), "half a token later");
	CP_CHECK(http_rate_take(&h, &k, 1100), "one token after 100 ms");
	CP_CHECK(http_rate_take(&h, &other, 1100), "buckets are per key");
	for (int64_t id = 100; id < 400; id++) {
		http_key x = { .id = id };

		CP_CHECK(http_rate_take(&h, &x, 2000), "many keys");
	}
	CP_CHECK(!http_rate_take(&h, &k, 1100), "still empty after growth");
	http_rate_free(&h);
	pthread_mutex_destroy(&h.mu);
}

CP_TEST(http_query)
{
	char v[32];

	CP_CHECK(http_query_get("a=1&b=two&c", "b", v, sizeof(v)) == 1 &&
	    strcmp(v, "two") == 0, "b");
	CP_CHECK(http_query_get("a=1&b=two&c", "c", v, sizeof(v)) == 1 &&
	    strcmp(v, "") == 0, "flag");
	CP_CHECK(http_query_get("x=a%40b+c", "x", v, sizeof(v)) == 1 &&
	    strcmp(v, "a@b c") == 0, "decoded");
	CP_CHECK(http_query_get("x=%4", "x", v, sizeof(v)) == -1, "short escape");
	CP_CHECK(http_query_get("x=%zz", "x", v, sizeof(v)) == -1, "bad escape");
	CP_CHECK(http_query_get("x=%00", "x", v, sizeof(v)) == -1, "NUL");
	CP_CHECK(http_query_get("xx=1", "x", v, sizeof(v)) == 0, "prefix");
	CP_CHECK(http_query_get(NULL, "x", v, sizeof(v)) == 0, "none");
	CP_CHECK(http_query_get("x=0123456789", "x", v, 5) == -1, "too long");
	CP_CHECK(http_query_get("List-Unsubscribe=One-Click", "List-Unsubscribe",
	    v, sizeof(v)) == 1 && strcmp(v, "One-Click") == 0, "RFC 8058 body");
}

CP_TEST(http_error_shape)
{
	json_t *e = http_error_json("bad_field", "to: not an address", "to");
	char *s = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);

	CP_CHECK_STR(s, "{\"error\":{\"code\":\"bad_field\",\"field\":\"to\","
	    "\"message\":\"to: not an address\"}}");
	free(s);
	json_decref(e);
	e = http_error_json("not_found", "x", NULL);
	CP_CHECK(json_object_get(json_object_get(e, "error"), "field") == NULL,
	    "no field");
	json_decref(e);
	/* a message that is not UTF-8 still gives an answer */
	{
		http_req r;

		memset(&r, 0, sizeof(r));
		CP_CHECK_INT(http_fail(&r, 400, "bad_field", "x", "%s",
		    "\xff\xfe"), 400);
		CP_CHECK(r.out != NULL, "answer despite bad UTF-8");
		json_decref(r.out);
	}
}

CP_TEST(http_unsub_token)
{
	static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
	char tok[CP_UNSUB_TOKEN_MAX], rcpt[300], addr[255];
	int64_t t = 0;

	CP_CHECK_INT(cp_unsub_make_token(key, 32, 42, "Bob@Example.org", tok,
	    sizeof(tok), NULL), CP_OK);
	CP_CHECK(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	    "yz0123456789-_") == strlen(tok), "url-safe: %s", tok);
	CP_CHECK_INT(cp_unsub_verify_token(key, 32, tok, strlen(tok), &t, rcpt,
	    sizeof(rcpt), NULL), CP_OK);
	CP_CHECK_INT(t, 42);
	CP_CHECK_STR(rcpt, "Bob@Example.org");
	/* another key */
	CP_CHECK_INT(cp_unsub_verify_token((const unsigned char *)"other", 5,
	    tok, strlen(tok), &t, rcpt, sizeof(rcpt), NULL), CP_EINVAL);
	/* every single-character change is refused */
	for (size_t i = 0; i < strlen(tok); i++) {
		char bad[CP_UNSUB_TOKEN_MAX];

		memcpy(bad, tok, strlen(tok) + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		CP_CHECK(cp_unsub_verify_token(key, 32, bad, strlen(bad), &t,
		    rcpt, sizeof(rcpt), NULL) != CP_OK, "changed at %zu", i);
	}
	CP_CHECK_INT(cp_unsub_verify_token(key, 32, tok, strlen(tok) - 1, &t,
	    rcpt, sizeof(rcpt), NULL) != CP_OK, 1);
	CP_CHECK_INT(cp_unsub_verify_token(key, 32, "", 0, &t, rcpt,
	    sizeof(rcpt), NULL), CP_ESYNTAX);
	CP_CHECK_INT(cp_unsub_verify_token(key, 32, "a+b/", 4, &t, rcpt,
	    sizeof(rcpt), NULL), CP_ESYNTAX);
	/* the longest address fits the documented maximum */
	memset(addr, 'a', 254);
	addr[64] = '@';
	addr[254] = '\0';
	CP_CHECK_INT(cp_unsub_make_token(key, 32, INT64_MAX, addr, tok,
	    sizeof(tok), NULL), CP_OK);
	CP_CHECK(strlen(tok) < CP_UNSUB_TOKEN_MAX, "fits");
	CP_CHECK_INT(cp_unsub_verify_token(key, 32, tok, strlen(tok), &t, rcpt,
	    sizeof(rcpt), NULL), CP_OK);
	CP_CHECK_INT(t, INT64_MAX);
	CP_CHECK_INT(cp_unsub_make_token(key, 32, 0, "a@b", tok, sizeof(tok),
	    NULL), CP_EINVAL);
	CP_CHECK_INT(cp_unsub_make_token(key, 32, 1, "a b@c", tok, sizeof(tok),
	    NULL), CP_EINVAL);
	CP_CHECK_INT(cp_unsub_make_token(NULL, 0, 1, "a@c", tok, sizeof(tok),
	    NULL), CP_EINVAL);
}

static int
build(const char *json, cp_buf *out, const char **field)
{
	json_error_t je;
	json_t *m = json_loads(json, 0, &je);
	cp_err err = { 0 };
	int rc;

	CP_CHECK(m != NULL, "test JSON: %s", je.text);
	cp_buf_reset(out);
	rc = http_mime_build(m, NULL, out, field, &err);
	json_decref(m);
	return rc;
}

CP_TEST(http_mime_build)
{
	cp_buf b;
	const char *field = NULL;

	cp_buf_init(&b, 1u << 20);
	CP_CHECK_INT(build("{\"from\":\"Ann <ann@acme.example>\",\"to\":"
	    "[\"bob@example.org\"],\"cc\":\"c@example.org\",\"bcc\":"
	    "[\"hidden@example.org\"],\"subject\":\"Caf\\u00e9\",\"text\":"
	    "\"hello\\nworld\",\"html\":\"<p>hi</p>\",\"headers\":"
	    "{\"X-Campaign\":\"q4\"}}", &b, &field), CP_OK);
	CP_CHECK(strstr(b.data, "From: Ann <ann@acme.example>\r\n") != NULL,
	    "from: %s", b.data);
	CP_CHECK(strstr(b.data, "To: bob@example.org\r\n") != NULL, "to");
	CP_CHECK(strstr(b.data, "Cc: c@example.org\r\n") != NULL, "cc");
	CP_CHECK(strstr(b.data, "hidden") == NULL, "Bcc never written");
	CP_CHECK(strstr(b.data, "Subject: =?UTF-8?") != NULL ||
	    strstr(b.data, "Subject: =?utf-8?") != NULL, "RFC 2047 subject");
	CP_CHECK(strstr(b.data, "X-Campaign: q4\r\n") != NULL, "extra field");
	CP_CHECK(strstr(b.data, "multipart/alternative") != NULL, "alt");
	CP_CHECK(strstr(b.data, "text/plain") < strstr(b.data, "text/html"),
	    "plain first");
	CP_CHECK(strstr(b.data, "MIME-Version: 1.0\r\n") != NULL, "mime");
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\n')
			CP_CHECK(i > 0 && b.data[i - 1] == '\r', "bare LF at %zu",
			    i);

	CP_CHECK_INT(build("{\"from\":\"a@b.example\",\"to\":\"x@y.example\","
	    "\"text\":\"x\",\"subject\":\"hi\\r\\nBcc: evil@x\"}", &b, &field),
	    CP_EINVAL);
	CP_CHECK_STR(field, "subject");
	CP_CHECK_INT(build("{\"from\":\"a@b.example\",\"to\":\"x@y.example\","
	    "\"text\":\"x\",\"headers\":{\"X-A\":\"1\\r\\nBcc: e@x\"}}", &b,
	    &field), CP_EINVAL);
	CP_CHECK_STR(field, "headers");
	CP_CHECK_INT(build("{\"from\":\"a@b.example\",\"to\":\"x@y.example\","
	    "\"text\":\"x\",\"headers\":{\"Content-Type\":\"text/evil\"}}", &b,
	    &field), CP_EINVAL);
	CP_CHECK_INT(build("{\"from\":\"a@b.example\",\"to\":\"x@y.example\","
	    "\"text\":\"x\",\"headers\":{\"Bad Name\":\"v\"}}", &b, &field),
	    CP_EINVAL);
	CP_CHECK_INT(build("{\"from\":\"not an address\",\"to\":\"x@y.example\","
	    "\"text\":\"x\"}", &b, &field), CP_EINVAL);
	CP_CHECK_STR(field, "from");
	CP_CHECK_INT(build("{\"from\":\"a@b.example, c@d.example\",\"to\":"
	    "\"x@y.example\",\"text\":\"x\"}", &b, &field), CP_EINVAL);
	CP_CHECK_INT(build("{\"from\":\"a@b.example\",\"to\":\"x@y.example\"}",
	    &b, &field), CP_EINVAL);
	CP_CHECK_STR(field, "text");
	CP_CHECK_INT(build("{\"from\":\"a@b.example\",\"to\":[1],\"text\":\"x\"}",
	    &b, &field), CP_EINVAL);
	CP_CHECK_STR(field, "to");
	/* long lines are encoded, not sent as they are */
	{
		char j[5000];

		snprintf(j, sizeof(j), "{\"from\":\"a@b.example\",\"to\":"
		    "\"x@y.example\",\"html\":\"%0*d\"}", 3000, 7);
		CP_CHECK_INT(build(j, &b, &field), CP_OK);
		for (size_t i = 0, col = 0; i < b.len; i++, col++) {
			if (b.data[i] == '\n')
				col = 0;
			CP_CHECK(col <= 999, "line too long at %zu", i);
			if (col > 999)
				break;
		}
	}
	cp_buf_free(&b);
}

CP_TEST(http_inject_complete)
{
	cp_buf b;
	cp_err err = { 0 };
	const char *m1 = "From: a@b.example\nTo: x@y.example\nBcc: hidden@z\n"
	    " continued@z\nSubject: s\n\nbody\nline2";

	cp_buf_init(&b, 1u << 20);
	CP_CHECK_INT(net_inject_complete(m1, strlen(m1), "relay.test", &b,
	    &err), CP_OK);
	CP_CHECK(strstr(b.data, "hidden") == NULL && strstr(b.data,
	    "continued") == NULL, "Bcc dropped with its continuation");
	CP_CHECK(strstr(b.data, "\r\nDate: ") != NULL, "Date added");
	CP_CHECK(strstr(b.data, "@relay.test>\r\n\r\nbody\r\nline2\r\n") !=
	    NULL, "Message-ID added, CRLF: %s", b.data);
	CP_CHECK(strncmp(b.data, "From: a@b.example\r\n", 19) == 0, "order");
	cp_buf_reset(&b);
	{
		const char *m2 = "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
		    "Message-ID: <x@y>\r\nFrom: a@b\r\n\r\nhi\r\n";

		CP_CHECK_INT(net_inject_complete(m2, strlen(m2), "r", &b, &err),
		    CP_OK);
		CP_CHECK_INT(b.len, strlen(m2)); /* nothing added */
	}
	cp_buf_reset(&b);
	CP_CHECK_INT(net_inject_complete("just text\n", 10, "r", &b, &err),
	    CP_EINVAL);
	cp_buf_reset(&b);
	CP_CHECK_INT(net_inject_complete("", 0, "r", &b, &err), CP_EINVAL);
	cp_buf_reset(&b);
	{
		char big[1200];

		memcpy(big, "From: a@b\r\n\r\n", 13);
		memset(big + 13, 'x', 1100);
		big[1113] = '\0';
		CP_CHECK_INT(net_inject_complete(big, strlen(big), "r", &b,
		    &err), CP_EINVAL);
	}
	cp_buf_free(&b);
}
