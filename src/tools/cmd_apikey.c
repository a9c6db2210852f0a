/*
 * cmd_apikey.c - `coldpost apikey`: keys of the HTTP API.
 *
 *   coldpost apikey add [--tenant T] [--note TEXT] [--rate N]
 *   coldpost apikey list [--tenant T]
 *   coldpost apikey rm ID
 *
 * A key without --tenant is an admin key (everything); with it, the key
 * sees and changes only that tenant's resources. The key is printed once,
 * by add: the store keeps only its SHA-256 (see src/http/http_auth.c for
 * why not Argon2). --rate sets the key's requests per second (default
 * 100; bursts of two seconds' worth).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/http.h"
#include "coldpost/store.h"
#include "policy_cli.h"
#include "tools.h"

typedef struct key_opts {
	const char *config, *store, *tenant, *note;
	long rate;
	int json;
} key_opts;

static void
key_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost apikey add [--tenant T] [--note TEXT] [--rate N]\n"
	    "       coldpost apikey list [--tenant T]\n"
	    "       coldpost apikey rm ID\n\n"
	    "Keys of the HTTP API (Authorization: Bearer KEY). Without --tenant"
	    " a key is\nan admin key; with it, it reaches only that tenant's "
	    "resources. add prints\nthe key once: only its hash is kept.\n"
	    "  --tenant T       the tenant of the key (list: only its keys)\n"
	    "  --note TEXT      what the key is for\n"
	    "  --rate N         requests per second allowed (default 100)\n"
	    "  --config FILE    read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN      the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json           machine output\n\n"
	    "exit: 0 done, 1 not found or bad input, 2 usage, 3 system "
	    "error\n");
}

static int
key_exit(int rc)
{
	return rc == CP_EINVAL || rc == CP_ETOOBIG || rc == CP_ENOTFOUND ?
	    CP_EXIT_FAIL : CP_EXIT_SYS;
}

static int
key_add(const key_opts *o, cp_store *st, int64_t tenant)
{
	char key[CP_HTTP_KEY_LEN + 1], hash[65], prefix[13];
	cp_apikey k = { 0 };
	cp_err err = { 0 };
	int rc;

	if ((rc = cp_http_key_new(key, hash, &err)) != CP_OK) {
		fprintf(stderr, "coldpost apikey: %s\n", err.msg);
		return CP_EXIT_SYS;
	}
	snprintf(prefix, sizeof(prefix), "%.12s", key);
	k.tenant = tenant;
	k.hash = hash;
	k.prefix = prefix;
	k.note = o->note != NULL ? o->note : "";
	k.rate = o->rate;
	if ((rc = cp_store_add_apikey(st, &k, &err)) != CP_OK) {
		fprintf(stderr, "coldpost apikey: %s\n", err.msg);
		return key_exit(rc);
	}
	if (o->json) {
		json_t *j = json_pack("{s:I,s:I,s:s,s:s}", "id",
		    (json_int_t)k.id, "tenant", (json_int_t)tenant, "key", key,
		    "prefix", prefix);

		out_json_line(stdout, j);
		json_decref(j);
	} else
		printf("%s\n", key);
	fprintf(stderr, "coldpost apikey: key %" PRId64 " (%s) made; it is "
	    "shown only now\n", k.id, tenant ? "tenant" : "admin");
	return CP_EXIT_OK;
}

struct key_list {
	int json;
	json_t *a;
};

static int
key_list_cb(void *arg, const cp_apikey *k)
{
	struct key_list *L = arg;
	char when[32];
	time_t t = (time_t)k->created;
	struct tm tm;

	if (L->json) {
		json_array_append_new(L->a, json_pack("{s:I,s:I,s:s,s:o,s:I,"
		    "s:I}", "id", (json_int_t)k->id, "tenant",
		    (json_int_t)k->tenant, "prefix", k->prefix, "note",
		    out_jstr(k->note), "rate", (json_int_t)k->rate, "created",
		    (json_int_t)k->created));
		return 0;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-6" PRId64 " %-6s %-14s %-19s  %.50s\n", k->id, k->tenant ?
	    "" : "admin", k->prefix, when, k->note);
	if (k->tenant)
		printf("       tenant %" PRId64 "\n", k->tenant);
	return 0;
}

static int
key_list(const key_opts *o, cp_store *st, int64_t tenant)
{
	struct key_list L = { o->json, json_array() };
	cp_err err = { 0 };
	int rc;

	if (!o->json)
		printf("%-6s %-6s %-14s %-19s  %s\n", "ID", "ROLE", "PREFIX",
		    "CREATED (UTC)", "NOTE");
	rc = cp_store_list_apikeys(st, tenant, key_list_cb, &L, &err);
	if (rc == CP_OK && o->json)
		out_json_line(stdout, L.a);
	json_decref(L.a);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost apikey: %s\n", err.msg);
		return key_exit(rc);
	}
	return CP_EXIT_OK;
}

static int
key_rm(cp_store *st, const char *arg)
{
	char *end;
	long long id = strtoll(arg, &end, 10);
	cp_err err = { 0 };
	int rc;

	if (*arg == '\0' || *end != '\0' || id <= 0) {
		fprintf(stderr, "coldpost apikey rm: '%s' is not a key id\n",
		    arg);
		return CP_EXIT_USAGE;
	}
	if ((rc = cp_store_remove_apikey(st, id, &err)) != CP_OK) {
		fprintf(stderr, "coldpost apikey: %s\n", err.msg);
		return key_exit(rc);
	}
	printf("key %lld removed\n", id);
	return CP_EXIT_OK;
}

static int
key_parse(int argc, char **argv, key_opts *o)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "note", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 't': o->tenant = optarg; break;
		case 'n': o->note = optarg; break;
		case 'r':
			o->rate = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->rate < 1 ||
			    o->rate > 1000000) {
				fprintf(stderr, "coldpost apikey: --rate wants "
				    "1..1000000 requests per second\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'c': o->config = optarg; break;
		case 's': o->store = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': key_usage(stdout); return CP_EXIT_OK;
		default: key_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	return -1;
}

int
cmd_apikey(int argc, char **argv)
{
	key_opts o = { 0 };
	const char *sub;
	cp_store *st = NULL;
	cp_conf conf;
	int64_t tenant = 0;
	int rc, npos;

	if (argc < 2 || out_is_help(argv[1])) {
		key_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CP_EXIT_USAGE : CP_EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "add") != 0 && strcmp(sub, "rm") != 0 &&
	    strcmp(sub, "list") != 0) {
		fprintf(stderr, "coldpost apikey: unknown subcommand '%s' "
		    "(see coldpost apikey --help)\n", sub);
		return CP_EXIT_USAGE;
	}
	if ((rc = key_parse(argc - 1, argv + 1, &o)) != -1)
		return rc;
	npos = argc - 1 - optind;
	if (strcmp(sub, "rm") == 0 ? npos != 1 : npos != 0) {
		fprintf(stderr, "coldpost apikey %s: %s (see coldpost apikey "
		    "--help)\n", sub, npos ? "unexpected argument" :
		    "missing ID");
		return CP_EXIT_USAGE;
	}
	if ((rc = policy_cli_open("apikey", o.config, o.store, &conf, &st)) !=
	    CP_EXIT_OK)
		return rc;
	rc = o.tenant ? policy_cli_tenant("apikey", st, o.tenant, &tenant) :
	    CP_EXIT_OK;
	if (rc == CP_EXIT_OK) {
		if (strcmp(sub, "add") == 0)
			rc = key_add(&o, st, tenant);
		else if (strcmp(sub, "rm") == 0)
			rc = key_rm(st, argv[1 + optind]);
		else
			rc = key_list(&o, st, o.tenant ? tenant : -1);
	}
	cp_store_close(st);
	cp_conf_clear(&conf);
	return rc;
}
