/*
 * cmd_webhook.c - `coldpost webhook`: a tenant's webhook endpoints.
 *
 *   coldpost webhook add --tenant T URL [--events a,b] [--secret S]
 *   coldpost webhook list [--tenant T] [--secrets]
 *   coldpost webhook rm ID [--tenant T]
 *   coldpost webhook test ID
 *
 * The relay (`coldpost serve`) POSTs each event a tenant's endpoint wants
 * to it, signed with the endpoint's secret (docs/webhooks.md); this
 * command manages the endpoints in the store, shows what waits in their
 * outbox, and sends a signed "test" event at once so a receiver can be
 * checked before real events flow. Without --secret, add makes a random
 * one ("whsec_" and 64 hex digits) and prints it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/store.h"
#include "coldpost/webhook.h"
#include "policy_cli.h"
#include "tools.h"

typedef struct wh_opts {
	const char *config, *store, *tenant, *events, *secret;
	int json, secrets;
} wh_opts;

static void
wh_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost webhook add --tenant T URL [--events LIST] "
	    "[--secret S]\n"
	    "       coldpost webhook list [--tenant T] [--secrets]\n"
	    "       coldpost webhook rm ID [--tenant T]\n"
	    "       coldpost webhook test ID\n\n"
	    "A tenant's webhook endpoints: the relay POSTs each event they "
	    "want,\nsigned with HMAC-SHA256 (see docs/webhooks.md).\n"
	    "  --tenant T       the tenant (list, rm: only its endpoints)\n"
	    "  --events LIST    delivered,deferred,bounced,complained,"
	    "provider.cut,\n"
	    "                   provider.recovered,test (default: all)\n"
	    "  --secret S       signing secret (default: a random one, "
	    "printed)\n"
	    "  --secrets        list: show the secrets\n"
	    "  --config FILE    read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN      the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json           machine output\n\n"
	    "exit: 0 done (test: a 2xx), 1 not found, bad input or the test "
	    "failed,\n      2 usage, 3 system error\n");
}

static int
wh_exit(int rc)
{
	return rc == CP_EINVAL || rc == CP_ETOOBIG || rc == CP_ENOTFOUND ||
	    rc == CP_ETEMP ? CP_EXIT_FAIL : CP_EXIT_SYS;
}

static int
wh_fail(int rc, const cp_err *err)
{
	fprintf(stderr, "coldpost webhook: %s\n", err->msg);
	return wh_exit(rc);
}

/* "whsec_" + 64 hex digits from the system's random source */
static void
wh_make_secret(char out[71])
{
	unsigned char raw[32];

	arc4random_buf(raw, sizeof(raw));
	memcpy(out, "whsec_", 6);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 6 + 2 * i, 3, "%02x", raw[i]);
	explicit_bzero(raw, sizeof(raw));
}

static int
wh_add(const wh_opts *o, cp_store *st, int64_t tenant, const char *url)
{
	cp_webhook_endpoint w = { .tenant = tenant, .url = url };
	char secret[71];
	cp_buf ev;
	cp_err err = { 0 };
	int rc;

	cp_buf_init(&ev, CP_STORE_EVENTS_MAX);
	rc = cp_webhook_parse_events(o->events ? o->events : "", &ev, &err);
	if (rc != CP_OK) {
		cp_buf_free(&ev);
		return wh_fail(rc, &err);
	}
	if (o->secret == NULL)
		wh_make_secret(secret);
	w.secret = o->secret ? o->secret : secret;
	w.events = ev.data;
	rc = cp_store_add_webhook(st, &w, &err);
	if (rc == CP_OK && o->json) {
		json_t *j = json_pack("{s:I,s:s,s:o,s:s,s:s}", "id",
		    (json_int_t)w.id, "tenant", o->tenant, "url", out_jstr(url),
		    "events", ev.data, "secret", w.secret);

		out_json_line(stdout, j);
		json_decref(j);
	} else if (rc == CP_OK) {
		printf("webhook %" PRId64 " added for %s: %s\n", w.id, o->tenant,
		    url);
		printf("events: %s\n", ev.data[0] ? ev.data : "all");
		printf("secret: %s\n", w.secret);
	}
	explicit_bzero(secret, sizeof(secret));
	cp_buf_free(&ev);
	return rc == CP_OK ? CP_EXIT_OK : wh_fail(rc, &err);
}

struct wh_list {
	const wh_opts *o;
	cp_store *st;
	json_t *a;
};

static int
wh_list_cb(void *arg, const cp_webhook_endpoint *w)
{
	struct wh_list *L = arg;
	cp_tenant *t = NULL;
	int64_t live = 0, dead = 0;
	const char *tname;

	(void)cp_store_get_tenant_by_id(L->st, w->tenant, &t, NULL);
	(void)cp_store_count_webhook_deliveries(L->st, w->id, &live, &dead,
	    NULL);
	tname = t ? t->name : "?";
	if (L->o->json) {
		json_t *j = json_pack("{s:I,s:s,s:o,s:s,s:I,s:I,s:I}", "id",
		    (json_int_t)w->id, "tenant", tname, "url", out_jstr(w->url),
		    "events", w->events, "pending", (json_int_t)live,
		    "given_up", (json_int_t)dead, "created",
		    (json_int_t)w->created);

		if (L->o->secrets)
			json_object_set_new(j, "secret", out_jstr(w->secret));
		json_array_append_new(L->a, j);
	} else {
		printf("%-5" PRId64 " %-16s %-8" PRId64 " %-8" PRId64 " %-30s %s",
		    w->id, tname, live, dead, w->events[0] ? w->events : "all",
		    w->url);
		if (L->o->secrets)
			printf("  secret=%s", w->secret);
		printf("\n");
	}
	cp_tenant_free(t);
	return 0;
}

static int
wh_list(const wh_opts *o, cp_store *st, int64_t tenant)
{
	struct wh_list L = { o, st, json_array() };
	cp_err err = { 0 };
	int rc;

	if (!o->json)
		printf("%-5s %-16s %-8s %-8s %-30s %s\n", "ID", "TENANT",
		    "PENDING", "GIVEN-UP", "EVENTS", "URL");
	rc = cp_store_list_webhooks(st, tenant, wh_list_cb, &L, &err);
	if (rc == CP_OK && o->json)
		out_json_line(stdout, L.a);
	json_decref(L.a);
	return rc == CP_OK ? CP_EXIT_OK : wh_fail(rc, &err);
}

static int
wh_parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v <= 0) {
		fprintf(stderr, "coldpost webhook: '%s' is not a webhook id\n",
		    s);
		return CP_EXIT_USAGE;
	}
	*id = v;
	return CP_EXIT_OK;
}

static int
wh_rm(const wh_opts *o, cp_store *st, int64_t tenant, int64_t id)
{
	cp_err err = { 0 };
	int rc = cp_store_remove_webhook(st, tenant, id, &err);

	if (rc != CP_OK)
		return wh_fail(rc, &err);
	if (o->json) {
		json_t *j = json_pack("{s:I}", "removed", (json_int_t)id);

		out_json_line(stdout, j);
		json_decref(j);
	} else {
		printf("webhook %" PRId64 " removed\n", id);
	}
	return CP_EXIT_OK;
}

static int
wh_test(const wh_opts *o, const cp_conf *conf, cp_store *st, int64_t id)
{
	cp_webhook_endpoint *w = NULL;
	cp_tenant *t = NULL;
	cp_err err = { 0 };
	long status = 0;
	int rc;

	if ((rc = cp_store_get_webhook(st, id, &w, &err)) != CP_OK)
		return wh_fail(rc, &err);
	(void)cp_store_get_tenant_by_id(st, w->tenant, &t, NULL);
	rc = cp_webhook_send_test(conf, w, t ? t->name : NULL, &status, &err);
	if (o->json) {
		json_t *j = json_pack("{s:I,s:o,s:i,s:b,s:o}", "id",
		    (json_int_t)id, "url", out_jstr(w->url), "status",
		    (int)status, "ok", rc == CP_OK, "error",
		    rc == CP_OK ? json_null() : out_jstr(err.msg));

		out_json_line(stdout, j);
		json_decref(j);
	} else if (rc == CP_OK) {
		printf("webhook %" PRId64 ": %s answered %ld\n", id, w->url,
		    status);
	} else {
		fprintf(stderr, "coldpost webhook: test of %" PRId64 " failed: "
		    "%s\n", id, err.msg);
	}
	cp_tenant_free(t);
	cp_webhook_endpoint_free(w);
	return rc == CP_OK ? CP_EXIT_OK : wh_exit(rc);
}

static int
wh_parse(int argc, char **argv, wh_opts *o)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "events", required_argument, NULL, 'e' },
		{ "secret", required_argument, NULL, 'S' },
		{ "secrets", no_argument, NULL, 'x' },
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 't': o->tenant = optarg; break;
		case 'e': o->events = optarg; break;
		case 'S': o->secret = optarg; break;
		case 'x': o->secrets = 1; break;
		case 'c': o->config = optarg; break;
		case 's': o->store = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': wh_usage(stdout); return CP_EXIT_OK;
		default: wh_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	return -1;
}

/* Check the arguments of sub: positional count and --tenant. */
static int
wh_check_args(const char *sub, const wh_opts *o, int npos)
{
	int want = strcmp(sub, "list") == 0 ? 0 : 1;

	if (npos != want) {
		fprintf(stderr, "coldpost webhook %s: %s (see coldpost webhook "
		    "--help)\n", sub, npos > want ? "unexpected argument" :
		    strcmp(sub, "add") == 0 ? "missing URL" : "missing ID");
		return CP_EXIT_USAGE;
	}
	if (strcmp(sub, "add") == 0 && o->tenant == NULL) {
		fprintf(stderr, "coldpost webhook add: --tenant T is needed\n");
		return CP_EXIT_USAGE;
	}
	return -1;
}

static int
wh_run(const char *sub, const wh_opts *o, char **pos)
{
	cp_store *st = NULL;
	cp_conf conf;
	int64_t tenant = 0, id = 0;
	int rc;

	if (strcmp(sub, "rm") == 0 || strcmp(sub, "test") == 0)
		if ((rc = wh_parse_id(pos[0], &id)) != CP_EXIT_OK)
			return rc;
	if ((rc = policy_cli_open("webhook", o->config, o->store, &conf,
	    &st)) != CP_EXIT_OK)
		return rc;
	rc = o->tenant ? policy_cli_tenant("webhook", st, o->tenant, &tenant) :
	    CP_EXIT_OK;
	if (rc == CP_EXIT_OK) {
		if (strcmp(sub, "add") == 0)
			rc = wh_add(o, st, tenant, pos[0]);
		else if (strcmp(sub, "list") == 0)
			rc = wh_list(o, st, tenant);
		else if (strcmp(sub, "rm") == 0)
			rc = wh_rm(o, st, tenant, id);
		else
			rc = wh_test(o, &conf, st, id);
	}
	cp_store_close(st);
	cp_conf_clear(&conf);
	return rc;
}

int
cmd_webhook(int argc, char **argv)
{
	static const char *const subs[] = { "add", "list", "rm", "test" };
	wh_opts o = { 0 };
	const char *sub;
	int rc, known = 0;

	if (argc < 2 || out_is_help(argv[1])) {
		wh_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CP_EXIT_USAGE : CP_EXIT_OK;
	}
	sub = argv[1];
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		known |= strcmp(sub, subs[i]) == 0;
	if (!known) {
		fprintf(stderr, "coldpost webhook: unknown subcommand '%s' (see "
		    "coldpost webhook --help)\n", sub);
		return CP_EXIT_USAGE;
	}
	if ((rc = wh_parse(argc - 1, argv + 1, &o)) != -1)
		return rc;
	if ((rc = wh_check_args(sub, &o, argc - 1 - optind)) != -1)
		return rc;
	return wh_run(sub, &o, argv + 1 + optind);
}
