/*
 * http_int.h - what the files of src/http/ share: the server object, one
 * request in flight, the route table and the helpers handlers use.
 *
 * Every handler runs on the HTTP thread (its own libevent loop). A handler
 * gets an http_req with the caller already authenticated (req->key), fills
 * req->out (a JSON value) and returns the status, or calls http_fail and
 * returns its result; a handler that must wait for another thread (an
 * injected message's commit) returns HTTP_ASYNC and answers later.
 */
#ifndef COLDPOST_HTTP_INT_H
#define COLDPOST_HTTP_INT_H

#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

#include "coldpost/http.h"

struct evhttp;
struct evhttp_request;
struct event_base;
struct event;

#define HTTP_ASYNC 0          /* the handler answers later */
#define HTTP_ASYNC_MAX 16     /* workers at once */
#define HTTP_KEY_TTL_MS 5000  /* a removed key works at most this long */
#define HTTP_BODY_MAX (32u * 1024 * 1024) /* request bodies (inject) */
#define HTTP_HEADERS_MAX 16384
#define HTTP_MAX_PARAMS 3     /* {name} captures per route */
#define HTTP_CAP_MAX 512      /* bytes of one capture, with the NUL */
#define HTTP_LIST_MAX 1000    /* items of one list answer */
#define HTTP_RATE_PER_S 100   /* token bucket per key: default refill */
/* its depth: two seconds' worth */

/* Who is asking (an API key's record). */
typedef struct http_key {
	int64_t id;
	int64_t tenant;   /* 0: the admin key */
	int64_t rate;     /* requests per second; 0: HTTP_RATE_PER_S */
} http_key;

/* The counters /metrics shows that nobody else keeps. */
typedef struct http_metrics {
	pthread_mutex_t mu;
	uint64_t requests[6];     /* by status class 1xx..5xx, [0] other */
	uint64_t injected;
	uint64_t rate_limited;
	json_t *outcomes;         /* {"delivered|cause|provider": n} */
} http_metrics;

typedef struct http_bucket http_bucket;

typedef struct http_listener {
	char name[64];
	int fd;
} http_listener;

struct cp_http {
	pthread_mutex_t mu;       /* conf */
	cp_conf conf;
	int conf_ok;
	cp_store *store;
	cp_server *server;
	cp_deliver *deliver;
	char *node;
	char *web_root;
	unsigned char secret[64];
	size_t secret_len;

	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	http_listener *listeners;
	size_t nlisteners;
	pthread_t thr;
	int started;

	char *dns_servers;        /* NULL: /etc/resolv.conf */
	struct cp_policy *policy; /* usage of mailboxes (read only), or NULL */
	struct cp_psl *psl;       /* organizational domains, or NULL */
	int async_n;              /* workers running (atomic) */
	int pending;              /* requests answered later (atomic) */

	struct http_key_cache {   /* API keys seen lately (HTTP thread) */
		char hash[65];
		http_key key;
		int64_t at_ms;
	} keys[64];

	http_bucket *buckets;     /* rate limit, HTTP thread only */
	size_t nbuckets;
	http_metrics metrics;
	int64_t started_at;
};

/* One request in flight. */
typedef struct http_req http_req;
typedef int (*http_handler)(http_req *r);
struct http_req {
	cp_http *h;
	struct evhttp_request *ev;
	int method;               /* HTTP_GET ... */
	const char *path;         /* decoded path, no query */
	const char *query;        /* raw query or NULL */
	const char *param[HTTP_MAX_PARAMS]; /* the route's {captures} */
	char *pmem;               /* their storage */
	const char *body;         /* request body (NUL-terminated copy) */
	size_t body_len;
	http_key key;
	json_t *out;              /* the answer, owned */
	json_t *in;               /* the body parsed (async handlers) */
	struct event *done_ev;    /* async: the answer is ready */
	int status;               /* async: its status */
	http_handler work;        /* async: what the worker runs */
	int64_t id;               /* inject: the store's message id */
	int status_wake;          /* inject: answered by the server */
	char msgid[320];          /* inject: the Message-ID we gave, or "" */
	int64_t now;
};

enum { HTTP_GET = 1, HTTP_POST = 2, HTTP_PUT = 4, HTTP_DELETE = 8,
	HTTP_PATCH = 16 };
enum { HTTP_AUTH_NONE = 0, HTTP_AUTH_ANY, HTTP_AUTH_ADMIN };

typedef struct http_route {
	int method;
	const char *pattern;      /* "/v1/domains/{name}" */
	int auth;                 /* HTTP_AUTH_* */
	http_handler fn;
} http_route;

/* http_route.c: the table and the matcher */
extern const http_route http_routes[];
extern const size_t http_nroutes;
const char *http_method_name(int method);
/* Match path against pattern; captures copied into caps (each cap
 * capmax bytes). 1 on a match. */
int http_route_match(const char *pattern, const char *path,
    char caps[][HTTP_CAP_MAX], size_t *ncaps);
/* The route of (method, path): NULL and *allowed the methods the path
 * takes (0: no such path). */
const http_route *http_route_find(int method, const char *path,
    char caps[][HTTP_CAP_MAX], size_t *ncaps, int *allowed);

/* http.c */
/* A safe path below the web root for a request path (1), or 0. */
int cp_http_static_path(const char *path, char *out, size_t outlen);
/* The key record of a bearer token: CP_ENOTFOUND if unknown. */
int cp_http_key_lookup(cp_store *st, const char *key, size_t len,
    http_key *out);

/* http_json.c: answers */
int http_fail(http_req *r, int status, const char *code, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A cp_err from a lower layer as an HTTP error. */
int http_fail_err(http_req *r, const cp_err *err, const char *field);
json_t *http_error_json(const char *code, const char *message,
    const char *field);
/* The body as a JSON object (400 bad_json otherwise). */
int http_body_object(http_req *r, json_t **out);
/* A string member (required: 400 missing_field) of at most max bytes. */
int http_get_str(http_req *r, json_t *o, const char *name, int required,
    size_t max, const char **out);
int http_get_int(http_req *r, json_t *o, const char *name, int required,
    int64_t min, int64_t max, int64_t *out);
/* Query string parameter (decoded, copied into out); 1 found, 0 not. */
int http_query_get(const char *query, const char *name, char *out,
    size_t outlen);
int http_query_int(http_req *r, const char *name, int64_t def, int64_t min,
    int64_t max, int64_t *out);
/* A tenant key may touch tenant t; else 404 (never say it exists). */
int http_tenant_ok(const http_req *r, int64_t t);

/* http_auth.c: keys and the rate limit */
/* SHA-256 of the key, as 64 hex digits (out: 65 bytes). */
void http_key_hash(const char *key, size_t len, char out[65]);
/* A new random key "cpk_" + 43 base64url characters (out: 48 bytes). */
int http_key_make(char out[48], cp_err *err);
/* The Bearer token of an Authorization value, or NULL. */
const char *http_bearer(const char *value, size_t *len);
/* Take one token of key id's bucket at now_ms: 1 allowed, 0 limited. */
int http_rate_take(cp_http *h, const http_key *k, int64_t now_ms);
void http_rate_free(cp_http *h);

/* handlers, by file */
int http_h_tenants_list(http_req *r);
int http_h_tenants_add(http_req *r);
int http_h_tenant_get(http_req *r);
int http_h_tenant_del(http_req *r);
int http_h_pools_list(http_req *r);
int http_h_pools_add(http_req *r);
int http_h_pool_del(http_req *r);
int http_h_domains_list(http_req *r);
int http_h_domains_add(http_req *r);
int http_h_domain_get(http_req *r);
int http_h_domain_del(http_req *r);
int http_h_domain_check(http_req *r);
int http_h_mailboxes_list(http_req *r);
int http_h_mailboxes_add(http_req *r);
int http_h_mailbox_get(http_req *r);
int http_h_mailbox_del(http_req *r);
int http_h_supp_list(http_req *r);
int http_h_supp_add(http_req *r);
int http_h_supp_del(http_req *r);
int http_h_providers(http_req *r);
int http_h_stats(http_req *r);
int http_h_messages_list(http_req *r);
int http_h_message_get(http_req *r);
int http_h_inject(http_req *r);
int http_h_me(http_req *r);
int http_h_tool_explain(http_req *r);
int http_h_tool_bounce(http_req *r);
int http_h_tool_check(http_req *r);
int http_h_tool_spf(http_req *r);
int http_h_tool_dkim(http_req *r);
int http_h_tool_dmarc(http_req *r);
int http_h_tool_blacklist(http_req *r);
int http_h_tool_lint(http_req *r);
int http_h_tool_cost(http_req *r);
int http_h_webhooks_list(http_req *r);
int http_h_webhooks_add(http_req *r);
int http_h_webhook_del(http_req *r);
int http_h_unsubscribe(http_req *r);

/* http.c: send the answer of an HTTP_ASYNC handler (frees r) */
void http_finish(http_req *r, int status);
/* Run work(r) on a worker thread, answer on the loop when it is done;
 * parse_body: the body must be a JSON object (then in r->in). Returns
 * HTTP_ASYNC, or an error status (too many workers: 503). */
int http_run_async(http_req *r, http_handler work, int parse_body);
/* Complete an HTTP_ASYNC request from any thread (status in r->status). */
void http_wake(http_req *r);
/* Set up r->done_ev for http_wake (0, or the error status). */
int http_async_prepare(http_req *r);
/* Undo http_async_prepare (the work could not start). */
void http_async_cancel(http_req *r);
/* The request's Content-Type, or NULL. */
const char *http_content_type(http_req *r);
/* An optional array of at most max strings: pointers into the JSON. */
int http_str_array(http_req *r, json_t *o, const char *name,
    const char **v, size_t max, size_t *n);

/* http_model.c: a record the caller may see, else NULL and the 404 */
struct cp_domain *http_domain_scoped(http_req *r, const char *name,
    int *status);
struct cp_mailbox *http_mailbox_scoped(http_req *r, const char *address,
    int *status);
/* http_domain.c */
json_t *http_domain_records(cp_http *h, const cp_domain *d);
struct cp_check_report;
json_t *http_check_json(const struct cp_check_report *rep);
/* http_tools.c: a resolver of our own (the caller frees it) */
struct cp_dns *http_resolver(cp_http *h, cp_err *err);

/* http_msg.c: the body of an injection's answer (on the loop) */
void http_inject_answer(http_req *r);

/* http_mime.c: the structured message of POST /v1/messages as MIME */
int http_mime_build(json_t *msg, const char *boundary_seed, cp_buf *out,
    const char **field, cp_err *err);

/* http_metrics.c */
void http_metrics_init(http_metrics *m);
void http_metrics_clear(http_metrics *m);
int http_metrics_render(cp_http *h, cp_buf *out);

#endif
