/*
 * The HTTP server in process, over a real socket: authentication (no key,
 * an unknown key: 401 with WWW-Authenticate), the admin/tenant split (403
 * on admin endpoints, 404 for another tenant's resources), JSON errors
 * with codes and fields, 405 with Allow, the per-key rate limit (429 with
 * Retry-After), RFC 8058 one-click unsubscribe, /metrics, and static
 * files from the web root without directory traversal.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "coldpost/buf.h"
#include "coldpost/dkim.h"
#include "coldpost/http.h"
#include "coldpost/store.h"
#include "coldpost/unsub.h"
#include "cptest.h"

#define PORT 30181

typedef struct resp {
	int status;
	char head[2048];
	char *body;
} resp;

static int
http_do(const char *method, const char *path, const char *key,
    const char *ctype, const char *body, resp *r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = htons(PORT) };
	cp_buf req, in;
	char buf[4096];
	ssize_t n;
	int fd;
	char *sep;

	memset(r, 0, sizeof(*r));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	cp_buf_init(&req, 1u << 20);
	cp_buf_init(&in, 8u << 20);
	cp_buf_addf(&req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
	    method, path);
	if (key != NULL)
		cp_buf_addf(&req, "Authorization: Bearer %s\r\n", key);
	if (body != NULL)
		cp_buf_addf(&req, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    ctype ? ctype : "application/json", strlen(body));
	cp_buf_adds(&req, "\r\n");
	if (body != NULL)
		cp_buf_adds(&req, body);
	if (write(fd, req.data, req.len) != (ssize_t)req.len)
		r->status = -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		cp_buf_add(&in, buf, (size_t)n);
	close(fd);
	cp_buf_free(&req);
	if (in.data == NULL || sscanf(in.data, "HTTP/1.1 %d", &r->status) != 1)
		r->status = -1;
	if (in.data != NULL && (sep = strstr(in.data, "\r\n\r\n")) != NULL) {
		snprintf(r->head, sizeof(r->head), "%.*s",
		    (int)(sep - in.data), in.data);
		r->body = strdup(sep + 4);
	}
	cp_buf_free(&in);
	return r->status;
}

/* The error code of a JSON error answer, or "". */
static const char *
err_code(resp *r, char *out, size_t n, char *field, size_t fn)
{
	json_t *j = r->body ? json_loads(r->body, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");

	snprintf(out, n, "%s", json_string_value(json_object_get(e, "code")) ?
	    json_string_value(json_object_get(e, "code")) : "");
	if (field != NULL)
		snprintf(field, fn, "%s", json_string_value(json_object_get(e,
		    "field")) ? json_string_value(json_object_get(e, "field")) :
		    "");
	json_decref(j);
	return out;
}

static void
resp_free(resp *r)
{
	free(r->body);
	r->body = NULL;
}

static char *
add_key(cp_store *st, int64_t tenant, int64_t rate)
{
	char key[CP_HTTP_KEY_LEN + 1], hash[65];
	cp_apikey k = { .tenant = tenant, .prefix = "p", .rate = rate };

	cp_http_key_new(key, hash, NULL);
	k.hash = hash;
	CP_CHECK_INT(cp_store_add_apikey(st, &k, NULL), CP_OK);
	return strdup(key);
}

static void
remove_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

CP_TEST(http_server_auth_scope_errors)
{
	char dir[256], dsn[300], path[400], code[64], field[64];
	const char *tmp = getenv("TMPDIR");
	cp_store *st;
	cp_conf conf;
	cp_http *h;
	cp_tenant ta = { .name = "ta" }, tb = { .name = "tb" };
	cp_domain d = { .name = "a.example", .selector = "s1",
		.alg = "ed25519-sha256" };
	cp_dkim_key *dk = NULL;
	cp_buf pem;
	char *admin, *ka, *kb, *slow;
	static const unsigned char secret[] = "unit-test-secret-0123456789";
	resp r;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/cp-http-XXXXXX", tmp && *tmp ? tmp :
	    "/tmp");
	CP_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(dsn, sizeof(dsn), "sqlite:%s/s.db", dir);
	st = cp_store_open(dsn, NULL);
	CP_CHECK(st != NULL, "store");
	if (st == NULL)
		return;
	CP_CHECK_INT(cp_store_add_tenant(st, &ta, NULL), CP_OK);
	CP_CHECK_INT(cp_store_add_tenant(st, &tb, NULL), CP_OK);
	cp_buf_init(&pem, 65536);
	CP_CHECK_INT(cp_dkim_key_generate(CP_DKIM_KEY_ED25519, 0, &dk, NULL),
	    CP_OK);
	CP_CHECK_INT(cp_dkim_key_pem(dk, &pem, NULL), CP_OK);
	d.tenant = ta.id;
	d.key_pem = pem.data;
	CP_CHECK_INT(cp_store_add_domain(st, &d, NULL), CP_OK);
	admin = add_key(st, 0, 0);
	ka = add_key(st, ta.id, 0);
	kb = add_key(st, tb.id, 0);
	slow = add_key(st, tb.id, 1);
	snprintf(path, sizeof(path), "%s/web", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/web/index.html", dir);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("<!doctype html><title>coldpost</title>", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/web", dir);

	CP_CHECK_INT(cp_conf_init(&conf, NULL), CP_OK);
	CP_CHECK_INT(cp_conf_set(&conf, "listen.http", "127.0.0.1:30181",
	    NULL), CP_OK);
	{
		cp_http_opts o = { .conf = &conf, .store = st, .node = "t",
			.web_root = path, .secret = secret,
			.secret_len = sizeof(secret) - 1 };
		cp_err err = { 0 };

		h = cp_http_new(&o, &err);
		CP_CHECK(h != NULL, "new: %s", err.msg);
		CP_CHECK_INT(cp_http_listen(h, &err), CP_OK);
		CP_CHECK_INT(cp_http_start(h, &err), CP_OK);
	}

	CP_CHECK_INT(http_do("GET", "/v1/me", NULL, NULL, NULL, &r), 401);
	CP_CHECK_STR(err_code(&r, code, sizeof(code), NULL, 0), "unauthorized");
	CP_CHECK(strstr(r.head, "WWW-Authenticate: Bearer") != NULL, "challenge");
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/v1/me", "cpk_nope", NULL, NULL, &r), 401);
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/v1/me", admin, NULL, NULL, &r), 200);
	CP_CHECK(r.body && strstr(r.body, "\"role\":\"admin\""), "admin");
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/v1/me", ka, NULL, NULL, &r), 200);
	CP_CHECK(r.body && strstr(r.body, "\"name\":\"ta\""), "tenant me");
	resp_free(&r);

	/* scope: A's domain for A, 404 for B, like a missing one */
	CP_CHECK_INT(http_do("GET", "/v1/domains/a.example", ka, NULL, NULL,
	    &r), 200);
	CP_CHECK(r.body && strstr(r.body, "\"records\"") &&
	    strstr(r.body, "_domainkey") && !strstr(r.body, "PRIVATE"),
	    "records, never the key: %s", r.body ? r.body : "");
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/v1/domains/a.example", kb, NULL, NULL,
	    &r), 404);
	CP_CHECK_STR(err_code(&r, code, sizeof(code), NULL, 0), "not_found");
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/v1/domains", kb, NULL, NULL, &r), 200);
	CP_CHECK(r.body && strcmp(r.body, "{\"items\":[]}") == 0, "B sees none:"
	    " %s", r.body ? r.body : "");
	resp_free(&r);
	CP_CHECK_INT(http_do("DELETE", "/v1/domains/a.example", kb, NULL, NULL,
	    &r), 404);
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/v1/tenants/ta", kb, NULL, NULL, &r), 404);
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/v1/tenants", kb, NULL, NULL, &r), 200);
	CP_CHECK(r.body && !strstr(r.body, "\"ta\""), "B lists only itself");
	resp_free(&r);

	/* admin-only and input errors */
	CP_CHECK_INT(http_do("POST", "/v1/tenants", ka, NULL, "{\"name\":\"x\"}",
	    &r), 403);
	CP_CHECK_STR(err_code(&r, code, sizeof(code), NULL, 0), "forbidden");
	resp_free(&r);
	CP_CHECK_INT(http_do("POST", "/v1/tenants", admin, NULL, "{nope", &r),
	    400);
	CP_CHECK_STR(err_code(&r, code, sizeof(code), NULL, 0), "bad_json");
	resp_free(&r);
	CP_CHECK_INT(http_do("POST", "/v1/tenants", admin, NULL, "{}", &r), 400);
	CP_CHECK_STR(err_code(&r, code, sizeof(code), field, sizeof(field)),
	    "missing_field");
	CP_CHECK_STR(field, "name");
	resp_free(&r);
	CP_CHECK_INT(http_do("POST", "/v1/tenants", admin, NULL,
	    "{\"name\":\"tc\",\"mailbox_cap\":\"x\"}", &r), 400);
	CP_CHECK_STR(err_code(&r, code, sizeof(code), field, sizeof(field)),
	    "bad_field");
	CP_CHECK_STR(field, "mailbox_cap");
	resp_free(&r);
	CP_CHECK_INT(http_do("POST", "/v1/tenants", admin, NULL,
	    "{\"name\":\"tc\"}", &r), 201);
	resp_free(&r);
	CP_CHECK_INT(http_do("POST", "/v1/tenants", admin, NULL,
	    "{\"name\":\"tc\"}", &r), 409);
	resp_free(&r);
	CP_CHECK_INT(http_do("PATCH", "/v1/me", admin, NULL, "{}", &r), 405);
	CP_CHECK(strstr(r.head, "Allow: GET") != NULL, "Allow");
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/v1/nothing", admin, NULL, NULL, &r), 404);
	CP_CHECK_STR(err_code(&r, code, sizeof(code), NULL, 0), "not_found");
	resp_free(&r);
	CP_CHECK_INT(http_do("POST", "/v1/messages", ka, NULL,
	    "{\"mailbox\":\"x@a.example\"}", &r), 503); /* no server here */
	resp_free(&r);

	/* the rate limit: 1/s, two deep */
	{
		int got429 = 0;

		for (int i = 0; i < 5; i++) {
			if (http_do("GET", "/v1/me", slow, NULL, NULL, &r) ==
			    429) {
				got429++;
				CP_CHECK(strstr(r.head, "Retry-After:") != NULL,
				    "Retry-After");
			}
			resp_free(&r);
		}
		CP_CHECK(got429 >= 2, "429 after the burst (%d)", got429);
	}

	/* RFC 8058 */
	{
		char tok[CP_UNSUB_TOKEN_MAX], url[512];
		cp_suppression *s = NULL;

		cp_unsub_make_token(secret, sizeof(secret) - 1, ta.id,
		    "Reader@Example.org", tok, sizeof(tok), NULL);
		snprintf(url, sizeof(url), "/unsubscribe/%s", tok);
		CP_CHECK_INT(http_do("POST", url, NULL,
		    "application/x-www-form-urlencoded", "x=1", &r), 400);
		resp_free(&r);
		CP_CHECK_INT(cp_store_get_suppression(st, ta.id,
		    "reader@example.org", &s, NULL), CP_ENOTFOUND);
		CP_CHECK_INT(http_do("POST", url, NULL,
		    "application/x-www-form-urlencoded",
		    "List-Unsubscribe=One-Click", &r), 200);
		resp_free(&r);
		CP_CHECK_INT(cp_store_get_suppression(st, ta.id,
		    "reader@example.org", &s, NULL), CP_OK);
		CP_CHECK(s != NULL && strcmp(s->reason, "unsubscribe") == 0,
		    "reason");
		cp_suppression_free(s);
		s = NULL;
		CP_CHECK_INT(cp_store_get_suppression(st, tb.id,
		    "reader@example.org", &s, NULL), CP_ENOTFOUND);
		url[strlen(url) - 2] ^= 1;
		CP_CHECK_INT(http_do("POST", url, NULL,
		    "application/x-www-form-urlencoded",
		    "List-Unsubscribe=One-Click", &r), 404);
		resp_free(&r);
	}

	/* metrics and static files */
	CP_CHECK_INT(http_do("GET", "/metrics", NULL, NULL, NULL, &r), 200);
	CP_CHECK(strstr(r.head, "text/plain; version=0.0.4") != NULL, "ctype");
	CP_CHECK(r.body && strstr(r.body, "coldpost_http_requests_total{code="
	    "\"4xx\"}") != NULL, "metrics body");
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/", NULL, NULL, NULL, &r), 200);
	CP_CHECK(strstr(r.head, "Content-Type: text/html") != NULL, "html");
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/overview", NULL, NULL, NULL, &r), 200);
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/../s.db", NULL, NULL, NULL, &r), 404);
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/%2e%2e/s.db", NULL, NULL, NULL, &r), 404);
	resp_free(&r);
	CP_CHECK_INT(http_do("GET", "/x.js", NULL, NULL, NULL, &r), 404);
	resp_free(&r);

	cp_http_stop(h);
	cp_http_free(h);
	cp_conf_clear(&conf);
	cp_store_close(st);
	cp_dkim_key_free(dk);
	cp_buf_free(&pem);
	free(admin);
	free(ka);
	free(kb);
	free(slow);
	remove_tree(dir);
}
