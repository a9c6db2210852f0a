/*
 * http.h - the relay's HTTP side: the JSON API under /v1, the web
 * dashboard and the SMTP error reference pages, /metrics for Prometheus,
 * the RFC 8058 one-click unsubscribe endpoint, and the webhook sender.
 *
 * Runs inside `coldpost serve` on its own thread (libevent's evhttp: the
 * relay already runs on libevent), on the listen.http addresses
 * (loopback by default; empty: no HTTP at all). It reads and changes the
 * store, injects messages through the submission server's acceptance path
 * (cp_server_inject: signed, committed, handed to delivery exactly like
 * SMTP), and reads the stats of the server and the delivery engine.
 */
#ifndef COLDPOST_HTTP_H
#define COLDPOST_HTTP_H

#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/err.h"
#include "coldpost/server.h"
#include "coldpost/store.h"

typedef struct cp_http cp_http;

typedef struct cp_http_opts {
	const cp_conf *conf;    /* copied */
	cp_store *store;        /* borrowed */
	cp_server *server;      /* borrowed: injection and stats */
	cp_deliver *deliver;    /* borrowed, may be NULL: stats, kick */
	const char *node;
	const char *web_root;   /* dashboard assets; NULL: the installed ones */
	const unsigned char *secret; /* key of unsubscribe tokens and webhook */
	size_t secret_len;           /* signatures' defaults (copied) */
	const char *dns_servers; /* for the tools and domain checks:
	                            "HOST:PORT,..."; NULL: /etc/resolv.conf */
} cp_http_opts;

cp_http *cp_http_new(const cp_http_opts *opts, cp_err *err);
/* Bind listen.http (before privileges are dropped). */
int cp_http_listen(cp_http *h, cp_err *err);
int cp_http_start(cp_http *h, cp_err *err);
int cp_http_reload(cp_http *h, const cp_conf *conf, cp_err *err);
/* Stop serving (requests in progress finish), stop the webhook sender
 * (what is not sent stays in the store), join. */
void cp_http_stop(cp_http *h);
void cp_http_free(cp_http *h);

/* The delivery observer that feeds webhooks and metrics: pass it (with h)
 * as cp_deliver_opts.observe, or call it from a fan-out. */
void cp_http_observe(void *h, const cp_deliver_event *ev);

/*
 * API keys: "cpk_" and 43 base64url characters of 32 random bytes. Only
 * the SHA-256 is stored (cp_apikey.hash); the key is shown once.
 * key: CP_HTTP_KEY_LEN + 1 bytes; hash: 65 (64 hex digits and NUL).
 */
#define CP_HTTP_KEY_LEN 47
int cp_http_key_new(char *key, char *hash, cp_err *err);
void cp_http_key_hash(const char *key, size_t len, char *hash);

/* The routes served (for the OpenAPI check): entry i's method ("GET")
 * and pattern ("/v1/domains/{name}") when i < the count returned. */
size_t cp_http_route_list(size_t i, const char **method,
    const char **pattern);

#endif
