/*
 * http.c - the relay's HTTP server: lifecycle, listeners, the loop thread,
 * and the dispatch of one request (route, authentication, rate limit,
 * body limits, JSON answer), plus the dashboard's static files.
 *
 * HTTP/1.1 parsing is libevent's evhttp (RFC 9112); this file never reads
 * the wire itself. The API answers JSON (RFC 8259) with the error shape
 * {"error":{"code","message","field"}}. API keys come as
 * "Authorization: Bearer KEY" (RFC 6750 section 2.1); a key over its rate
 * gets 429 with Retry-After (RFC 6585 section 4). /metrics is Prometheus'
 * text exposition format, unauthenticated (it is only on listen.http,
 * loopback by default). POST /unsubscribe/TOKEN is RFC 8058's one-click
 * endpoint, without login: the token is its own proof.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/dmarc.h"
#include "coldpost/log.h"
#include "coldpost/policy.h"
#include "coldpost/store.h"
#include "http/http_int.h"

#ifndef CP_WEB_ROOT
#define CP_WEB_ROOT "/usr/local/share/coldpost/web"
#endif
#define STATIC_MAX (16u * 1024 * 1024)

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- answers ------------------------------------------------------------ */

static void
count_status(cp_http *h, int status)
{
	int c = status / 100;

	pthread_mutex_lock(&h->metrics.mu);
	h->metrics.requests[c >= 1 && c <= 5 ? c : 0]++;
	pthread_mutex_unlock(&h->metrics.mu);
}

static void
send_raw(cp_http *h, struct evhttp_request *ev, int status,
    const char *ctype, const void *p, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *oh = evhttp_request_get_output_headers(ev);

	if (ctype != NULL)
		evhttp_add_header(oh, "Content-Type", ctype);
	evhttp_add_header(oh, "Cache-Control", "no-store");
	evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
	if (b != NULL && len > 0)
		evbuffer_add(b, p, len);
	evhttp_send_reply(ev, status, NULL, b);
	if (b != NULL)
		evbuffer_free(b);
	count_status(h, status);
}

static void
send_json(cp_http *h, struct evhttp_request *ev, int status, json_t *v)
{
	char *s = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII) :
	    NULL;

	if (s == NULL && status != 204) {
		s = strdup("{\"error\":{\"code\":\"internal\",\"message\":"
		    "\"out of memory\"}}");
		status = 500;
	}
	send_raw(h, ev, status, s != NULL ? "application/json" : NULL, s,
	    s != NULL ? strlen(s) : 0);
	free(s); /* jansson's allocator */
}

static void
req_free(http_req *r)
{
	if (r == NULL)
		return;
	json_decref(r->out);
	json_decref(r->in);
	cp_free(r->pmem);
	cp_free((char *)r->body);
	cp_free(r);
}

void
http_finish(http_req *r, int status)
{
	send_json(r->h, r->ev, status, r->out);
	req_free(r);
}

/* ---- work on other threads ---------------------------------------------- */

static void
on_async_done(evutil_socket_t fd, short what, void *arg)
{
	http_req *r = arg;

	cp_http *h = r->h;

	event_free(r->done_ev);
	r->done_ev = NULL;
	if (r->status_wake)
		http_inject_answer(r);
	http_finish(r, r->status);
	__atomic_sub_fetch(&h->pending, 1, __ATOMIC_SEQ_CST);
}

void
http_wake(http_req *r)
{
	event_active(r->done_ev, EV_READ, 0);
}

static void *
async_main(void *arg)
{
	http_req *r = arg;
	cp_http *h = r->h;

	r->status = r->work(r);
	__atomic_sub_fetch(&h->async_n, 1, __ATOMIC_SEQ_CST);
	http_wake(r);
	return NULL;
}

/* Prepare r to be answered later: the event that brings it back. */
int
http_async_prepare(http_req *r)
{
	r->done_ev = event_new(r->h->base, -1, 0, on_async_done, r);
	if (r->done_ev == NULL)
		return http_fail(r, 500, "internal", NULL, "out of memory");
	__atomic_add_fetch(&r->h->pending, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void
http_async_cancel(http_req *r)
{
	event_free(r->done_ev);
	r->done_ev = NULL;
	__atomic_sub_fetch(&r->h->pending, 1, __ATOMIC_SEQ_CST);
}

int
http_run_async(http_req *r, http_handler work, int parse_body)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (parse_body && (rc = http_body_object(r, &r->in)) != 0)
		return rc;
	if (__atomic_add_fetch(&r->h->async_n, 1, __ATOMIC_SEQ_CST) >
	    HTTP_ASYNC_MAX) {
		__atomic_sub_fetch(&r->h->async_n, 1, __ATOMIC_SEQ_CST);
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "Retry-After", "1");
		return http_fail(r, 503, "busy", NULL,
		    "too many lookups running; try again");
	}
	if ((rc = http_async_prepare(r)) != 0) {
		__atomic_sub_fetch(&r->h->async_n, 1, __ATOMIC_SEQ_CST);
		return rc;
	}
	r->work = work;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, async_main, r);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		__atomic_sub_fetch(&r->h->async_n, 1, __ATOMIC_SEQ_CST);
		http_async_cancel(r);
		return http_fail(r, 503, "busy", NULL, "no thread for the "
		    "lookup: %s", strerror(rc));
	}
	return HTTP_ASYNC;
}

const char *
http_content_type(http_req *r)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->ev),
	    "Content-Type");
}

/* ---- static files ------------------------------------------------------- */

static const struct {
	const char *ext, *type;
} ctypes[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".map", "application/json" },
	{ ".yaml", "application/yaml" },
};

static const char *
content_type(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < CP_NELEM(ctypes); i++) {
		size_t e = strlen(ctypes[i].ext);

		if (n >= e && strcasecmp(path + n - e, ctypes[i].ext) == 0)
			return ctypes[i].type;
	}
	return "application/octet-stream";
}

/*
 * A safe relative path of the web root: segments of [A-Za-z0-9._-], none
 * starting with '.' (no "..", no hidden files). "" and ".../" mean
 * index.html. 1 when safe.
 */
int
cp_http_static_path(const char *path, char *out, size_t outlen)
{
	size_t o = 0;
	int seg_start = 1;

	if (path[0] != '/')
		return 0;
	path++;
	for (; *path != '\0'; path++) {
		char c = *path;

		if (c == '/') {
			if (seg_start)
				return 0; /* "//" */
			seg_start = 1;
		} else {
			if (seg_start && c == '.')
				return 0;
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			    c == '-'))
				return 0;
			seg_start = 0;
		}
		if (o + 1 >= outlen)
			return 0;
		out[o++] = c;
	}
	if (o == 0 || out[o - 1] == '/') {
		const char *idx = "index.html";

		if (o + strlen(idx) + 1 > outlen)
			return 0;
		memcpy(out + o, idx, strlen(idx));
		o += strlen(idx);
	}
	out[o] = '\0';
	return 1;
}

static void
serve_static(cp_http *h, struct evhttp_request *ev, const char *path)
{
	char rel[1024], full[4096];
	struct stat sb;
	int fd, n;
	struct evbuffer *b;

	if (!cp_http_static_path(path, rel, sizeof(rel))) {
		send_raw(h, ev, 404, "text/plain", "not found\n", 10);
		return;
	}
	n = snprintf(full, sizeof(full), "%s/%s", h->web_root, rel);
	if (n < 0 || (size_t)n >= sizeof(full) ||
	    (fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		/* the dashboard routes in the page itself: unknown paths
		 * without an extension get index.html */
		if (strchr(rel, '.') == NULL && n > 0 &&
		    (n = snprintf(full, sizeof(full), "%s/index.html",
		    h->web_root)) > 0 && (size_t)n < sizeof(full) &&
		    (fd = open(full, O_RDONLY | O_CLOEXEC)) >= 0)
			snprintf(rel, sizeof(rel), "index.html");
		else {
			send_raw(h, ev, 404, "text/plain", "not found\n", 10);
			return;
		}
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > STATIC_MAX || (b = evbuffer_new()) == NULL) {
		close(fd);
		send_raw(h, ev, 404, "text/plain", "not found\n", 10);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(ev),
	    "Content-Type", content_type(rel));
	evhttp_add_header(evhttp_request_get_output_headers(ev),
	    "X-Content-Type-Options", "nosniff");
	if (sb.st_size > 0)
		evbuffer_add_file(b, fd, 0, sb.st_size); /* takes fd */
	else
		close(fd);
	if (evhttp_request_get_command(ev) == EVHTTP_REQ_HEAD)
		evbuffer_drain(b, evbuffer_get_length(b));
	evhttp_send_reply(ev, 200, "OK", b);
	evbuffer_free(b);
	count_status(h, 200);
}

/* ---- dispatch ----------------------------------------------------------- */

static int
method_of(struct evhttp_request *ev)
{
	switch (evhttp_request_get_command(ev)) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD:
		return HTTP_GET;
	case EVHTTP_REQ_POST:
		return HTTP_POST;
	case EVHTTP_REQ_PUT:
		return HTTP_PUT;
	case EVHTTP_REQ_DELETE:
		return HTTP_DELETE;
	case EVHTTP_REQ_PATCH:
		return HTTP_PATCH;
	default:
		return 0;
	}
}

int
cp_http_key_lookup(cp_store *st, const char *key, size_t len, http_key *out)
{
	char hash[65];
	cp_apikey *k = NULL;
	int rc;

	http_key_hash(key, len, hash);
	if ((rc = cp_store_find_apikey(st, hash, &k, NULL)) != CP_OK)
		return rc;
	out->id = k->id;
	out->tenant = k->tenant;
	out->rate = k->rate;
	cp_apikey_free(k);
	return CP_OK;
}

/*
 * A key through a small cache (the HTTP thread's only): the store is
 * asked at most every HTTP_KEY_TTL_MS per key, so requests do not queue
 * behind the writer's group commits on the store lock. A removed key
 * stops working within that time; unknown keys are never cached.
 */
static int
key_cached(cp_http *h, const char *tok, size_t len, http_key *out)
{
	char hash[65];
	int64_t now = now_ms();
	size_t slot;
	int rc;

	http_key_hash(tok, len, hash);
	slot = (size_t)strtoul((char[9]){ hash[0], hash[1], hash[2], hash[3],
	    hash[4], hash[5], hash[6], hash[7], 0 }, NULL, 16) %
	    CP_NELEM(h->keys);
	if (strcmp(h->keys[slot].hash, hash) == 0 &&
	    now - h->keys[slot].at_ms < HTTP_KEY_TTL_MS) {
		*out = h->keys[slot].key;
		return CP_OK;
	}
	if ((rc = cp_http_key_lookup(h->store, tok, len, out)) == CP_OK) {
		memcpy(h->keys[slot].hash, hash, sizeof(hash));
		h->keys[slot].key = *out;
		h->keys[slot].at_ms = now;
	}
	return rc;
}

/* Authenticate r; 0 on success, else the error answer was prepared. */
static int
authenticate(http_req *r, int need)
{
	struct evkeyvalq *ih = evhttp_request_get_input_headers(r->ev);
	const char *v = evhttp_find_header(ih, "Authorization");
	const char *tok;
	size_t len;
	int rc;

	if (v == NULL || (tok = http_bearer(v, &len)) == NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "WWW-Authenticate", "Bearer realm=\"coldpost\"");
		return http_fail(r, 401, "unauthorized", NULL,
		    "send an API key: Authorization: Bearer KEY");
	}
	rc = key_cached(r->h, tok, len, &r->key);
	if (rc == CP_ENOTFOUND) {
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "WWW-Authenticate", "Bearer realm=\"coldpost\", "
		    "error=\"invalid_token\"");
		return http_fail(r, 401, "unauthorized", NULL,
		    "unknown API key");
	}
	if (rc != CP_OK)
		return http_fail(r, 503, "unavailable", NULL,
		    "store: cannot check the key now");
	if (!http_rate_take(r->h, &r->key, now_ms())) {
		pthread_mutex_lock(&r->h->metrics.mu);
		r->h->metrics.rate_limited++;
		pthread_mutex_unlock(&r->h->metrics.mu);
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "Retry-After", "1");
		return http_fail(r, 429, "rate_limited", NULL,
		    "too many requests for this key: at most %lld per second",
		    (long long)(r->key.rate > 0 ? r->key.rate :
		    HTTP_RATE_PER_S));
	}
	if (need == HTTP_AUTH_ADMIN && r->key.tenant != 0)
		return http_fail(r, 403, "forbidden", NULL,
		    "this needs the admin key");
	return 0;
}

static int
read_body(http_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
	size_t len = evbuffer_get_length(in);
	char *p;

	if (len > HTTP_BODY_MAX)
		return http_fail(r, 413, "too_big", NULL,
		    "request body: %zu bytes, at most %u", len, HTTP_BODY_MAX);
	if ((p = cp_malloc(len + 1)) == NULL)
		return http_fail(r, 500, "internal", NULL, "out of memory");
	evbuffer_remove(in, p, len);
	p[len] = '\0';
	r->body = p;
	r->body_len = len;
	return 0;
}

static void
dispatch(http_req *r, const char *path)
{
	char caps[HTTP_MAX_PARAMS][HTTP_CAP_MAX];
	size_t ncaps = 0, off = 0, total = 0;
	const http_route *rt;
	int allowed, status;

	rt = http_route_find(r->method, path, caps, &ncaps, &allowed);
	if (rt == NULL) {
		if (allowed != 0) {
			char list[64] = "";

			for (int m = 1; m <= HTTP_PATCH; m <<= 1)
				if (allowed & m)
					snprintf(list + strlen(list),
					    sizeof(list) - strlen(list), "%s%s",
					    list[0] ? ", " : "",
					    http_method_name(m));
			evhttp_add_header(evhttp_request_get_output_headers(
			    r->ev), "Allow", list);
			status = http_fail(r, 405, "method_not_allowed", NULL,
			    "%s takes %s", path, list);
		} else
			status = http_fail(r, 404, "not_found", NULL,
			    "no such endpoint: %s", path);
		http_finish(r, status);
		return;
	}
	for (size_t i = 0; i < ncaps; i++)
		total += strlen(caps[i]) + 1;
	if (ncaps > 0 && (r->pmem = cp_malloc(total)) == NULL) {
		http_finish(r, http_fail(r, 500, "internal", NULL,
		    "out of memory"));
		return;
	}
	for (size_t i = 0; i < ncaps; i++) {
		size_t n = strlen(caps[i]) + 1;

		memcpy(r->pmem + off, caps[i], n);
		r->param[i] = r->pmem + off;
		off += n;
	}
	if (rt->auth != HTTP_AUTH_NONE && (status = authenticate(r,
	    rt->auth)) != 0) {
		http_finish(r, status);
		return;
	}
	if ((status = read_body(r)) != 0) {
		http_finish(r, status);
		return;
	}
	status = rt->fn(r);
	if (status != HTTP_ASYNC)
		http_finish(r, status);
}

static void
on_request(struct evhttp_request *ev, void *arg)
{
	cp_http *h = arg;
	const char *uri = evhttp_request_get_uri(ev);
	struct evhttp_uri *u = evhttp_uri_parse_with_flags(uri, 0);
	const char *raw = u != NULL ? evhttp_uri_get_path(u) : NULL;
	size_t plen = 0;
	char *path = raw != NULL ? evhttp_uridecode(raw, 0, &plen) : NULL;
	http_req *r;

	/* %00 would cut the path short where checks look: refuse it */
	if (path == NULL || path[0] != '/' || strlen(path) != plen) {
		static const char bad[] = "{\"error\":{\"code\":"
		    "\"bad_request\",\"message\":\"malformed request "
		    "target\"}}";

		send_raw(h, ev, 400, "application/json", bad, sizeof(bad) - 1);
		goto done;
	}
	if (strcmp(path, "/metrics") == 0 && method_of(ev) == HTTP_GET) {
		cp_buf b;

		cp_buf_init(&b, 16u * 1024 * 1024);
		if (http_metrics_render(h, &b) == CP_OK)
			send_raw(h, ev, 200,
			    "text/plain; version=0.0.4; charset=utf-8",
			    b.data, b.len);
		else
			send_raw(h, ev, 500, "text/plain", "error\n", 6);
		cp_buf_free(&b);
		goto done;
	}
	if (strncmp(path, "/v1/", 4) != 0 && strcmp(path, "/v1") != 0 &&
	    strncmp(path, "/unsubscribe/", 13) != 0) {
		if (method_of(ev) != HTTP_GET)
			send_raw(h, ev, 405, "text/plain", "method not allowed\n",
			    19);
		else
			serve_static(h, ev, path);
		goto done;
	}
	if ((r = cp_calloc(1, sizeof(*r))) == NULL) {
		send_raw(h, ev, 500, "text/plain", "out of memory\n", 14);
		goto done;
	}
	r->h = h;
	r->ev = ev;
	r->method = method_of(ev);
	r->path = path;
	r->query = u != NULL ? evhttp_uri_get_query(u) : NULL;
	r->now = time(NULL);
	dispatch(r, path);
done:
	free(path);
	if (u != NULL)
		evhttp_uri_free(u);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	cp_http *h = arg;

	event_base_loopexit(h->base, NULL);
}

cp_http *
cp_http_new(const cp_http_opts *opts, cp_err *err)
{
	cp_http *h;
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	CP_ASSERT(opts != NULL && opts->conf != NULL && opts->store != NULL);
	pthread_once(&once, (void (*)(void))evthread_use_pthreads);
	if ((h = cp_calloc(1, sizeof(*h))) == NULL) {
		cp_err_set(err, CP_ENOMEM, "http: out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	http_metrics_init(&h->metrics);
	h->store = opts->store;
	h->server = opts->server;
	h->deliver = opts->deliver;
	h->started_at = time(NULL);
	if (cp_conf_copy(&h->conf, opts->conf, err) != CP_OK)
		goto fail;
	h->conf_ok = 1;
	h->node = cp_strdup(opts->node != NULL ? opts->node : "");
	h->web_root = cp_strdup(opts->web_root != NULL ? opts->web_root :
	    CP_WEB_ROOT);
	if (h->node == NULL || h->web_root == NULL) {
		cp_err_set(err, CP_ENOMEM, "http: out of memory");
		goto fail;
	}
	if (opts->secret != NULL && opts->secret_len > 0) {
		h->secret_len = CP_MIN(opts->secret_len, sizeof(h->secret));
		memcpy(h->secret, opts->secret, h->secret_len);
	}
	if (opts->dns_servers != NULL &&
	    (h->dns_servers = cp_strdup(opts->dns_servers)) == NULL) {
		cp_err_set(err, CP_ENOMEM, "http: out of memory");
		goto fail;
	}
	{
		cp_policy_opts po = { .conf = opts->conf, .store = opts->store };
		cp_err e2 = { 0 };

		/* only for usage figures: without it mailboxes show none */
		if ((h->policy = cp_policy_new(&po, &e2)) == NULL)
			cp_log(CP_LOG_WARN, "http", "no mailbox usage: %s",
			    e2.msg);
		if ((h->psl = cp_psl_load(NULL, &e2)) == NULL)
			cp_log(CP_LOG_WARN, "http", "no public suffix list: %s",
			    e2.msg);
	}
	if ((h->base = event_base_new()) == NULL ||
	    (h->http = evhttp_new(h->base)) == NULL ||
	    (h->stop_ev = event_new(h->base, -1, 0, on_stop, h)) == NULL) {
		cp_err_set(err, CP_ENOMEM, "http: cannot set up libevent");
		goto fail;
	}
	evhttp_set_max_body_size(h->http, HTTP_BODY_MAX);
	evhttp_set_max_headers_size(h->http, HTTP_HEADERS_MAX);
	evhttp_set_timeout(h->http, 60);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, on_request, h);
	return h;
fail:
	cp_http_free(h);
	return NULL;
}

static int
bind_one(cp_http *h, const cp_conf_addr *a, cp_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char ip[INET6_ADDRSTRLEN];
	int fd, one = 1;
	http_listener *l = &h->listeners[h->nlisteners];

	memset(&ss, 0, sizeof(ss));
	inet_ntop(a->family, a->ip, ip, sizeof(ip));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = htons(a->port);
		sl = sizeof(*s6);
		snprintf(l->name, sizeof(l->name), "[%s]:%u", ip, a->port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->ip, 4);
		s4->sin_port = htons(a->port);
		sl = sizeof(*s4);
		snprintf(l->name, sizeof(l->name), "%s:%u", ip, a->port);
	}
	if ((fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return cp_err_set(err, CP_EIO, "listen.http %s: socket: %s",
		    l->name, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 512) != 0) {
		int e = errno;

		close(fd);
		return cp_err_set(err, e == EADDRINUSE ? CP_EINVAL : CP_EIO,
		    "listen.http %s: %s", l->name, strerror(e));
	}
	l->fd = fd;
	h->nlisteners++;
	return CP_OK;
}

int
cp_http_listen(cp_http *h, cp_err *err)
{
	size_t n = h->conf.listen.http.n;
	int rc = CP_OK;

	if (n == 0)
		return CP_OK;
	if ((h->listeners = cp_calloc(n, sizeof(*h->listeners))) == NULL)
		return cp_err_set(err, CP_ENOMEM, "http: out of memory");
	for (size_t i = 0; rc == CP_OK && i < n; i++)
		rc = bind_one(h, &h->conf.listen.http.v[i], err);
	for (size_t i = 0; rc == CP_OK && i < h->nlisteners; i++)
		if (evhttp_accept_socket(h->http, h->listeners[i].fd) != 0)
			rc = cp_err_set(err, CP_EIO, "listen.http %s: cannot "
			    "accept", h->listeners[i].name);
	if (rc != CP_OK) {
		for (size_t i = 0; i < h->nlisteners; i++)
			close(h->listeners[i].fd);
		h->nlisteners = 0;
		return rc;
	}
	for (size_t i = 0; i < h->nlisteners; i++)
		cp_log(CP_LOG_INFO, "http", "listening on %s",
		    h->listeners[i].name);
	return CP_OK;
}

static void *
loop_main(void *arg)
{
	cp_http *h = arg;

	event_base_loop(h->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
cp_http_start(cp_http *h, cp_err *err)
{
	int rc;

	CP_ASSERT(!h->started);
	if (h->nlisteners == 0)
		return CP_OK; /* no HTTP configured: nothing to run */
	if ((rc = pthread_create(&h->thr, NULL, loop_main, h)) != 0)
		return cp_err_set(err, CP_EIO, "http: thread: %s",
		    strerror(rc));
	h->started = 1;
	return CP_OK;
}

int
cp_http_reload(cp_http *h, const cp_conf *conf, cp_err *err)
{
	cp_conf c;
	int rc;

	if ((rc = cp_conf_copy(&c, conf, err)) != CP_OK)
		return rc;
	pthread_mutex_lock(&h->mu);
	/* listen.http needs a restart: keep the bound addresses' config */
	cp_conf_addrs keep = h->conf.listen.http;
	cp_conf_addrs fresh = c.listen.http;

	c.listen.http = keep;
	h->conf.listen.http = fresh;
	cp_conf_clear(&h->conf);
	h->conf = c;
	pthread_mutex_unlock(&h->mu);
	/* ramp and caps shown by the mailbox endpoints follow the file */
	if (h->policy != NULL)
		return cp_policy_reload(h->policy, conf, err);
	return CP_OK;
}

void
cp_http_stop(cp_http *h)
{
	int waited = 0;

	if (h == NULL || !h->started)
		return;
	/* requests waiting for a worker or the server finish first (the
	 * loop still runs to send their answers); at most 30 s */
	while (__atomic_load_n(&h->pending, __ATOMIC_SEQ_CST) > 0 &&
	    waited++ < 3000)
		usleep(10000);
	event_active(h->stop_ev, EV_READ, 0);
	pthread_join(h->thr, NULL);
	h->started = 0;
}

void
cp_http_free(cp_http *h)
{
	if (h == NULL)
		return;
	cp_http_stop(h);
	if (h->http != NULL)
		evhttp_free(h->http); /* closes the bound sockets */
	else
		for (size_t i = 0; i < h->nlisteners; i++)
			close(h->listeners[i].fd);
	if (h->stop_ev != NULL)
		event_free(h->stop_ev);
	if (h->base != NULL)
		event_base_free(h->base);
	/* a worker still running holds a request of the loop: wait */
	while (__atomic_load_n(&h->async_n, __ATOMIC_SEQ_CST) > 0)
		usleep(10000);
	http_rate_free(h);
	http_metrics_clear(&h->metrics);
	cp_policy_free(h->policy);
	cp_psl_free(h->psl);
	cp_free(h->dns_servers);
	if (h->conf_ok)
		cp_conf_clear(&h->conf);
	cp_free(h->listeners);
	cp_free(h->node);
	cp_free(h->web_root);
	memset(h->secret, 0, sizeof(h->secret));
	pthread_mutex_destroy(&h->mu);
	cp_free(h);
}
