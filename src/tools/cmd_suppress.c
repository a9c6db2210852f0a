/*
 * cmd_suppress.c - `coldpost suppress`: a tenant's suppression list by hand.
 *
 *   coldpost suppress add ADDRESS... --tenant T [--reason R] [--note TEXT]
 *   coldpost suppress rm ADDRESS... --tenant T
 *   coldpost suppress list [--tenant T]
 *
 * Suppressed recipients are refused at submission with a 5xx and never
 * delivered (coldpost/policy.h). Delivery adds hard bounces by itself
 * (reason bounce); complaints and unsubscribes come from the bounce
 * listener; this command adds and removes entries by hand (reason manual
 * unless --reason says otherwise) and lists them.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "coldpost/store.h"
#include "policy_cli.h"
#include "tools.h"

typedef struct sup_opts {
	const char *config, *store, *tenant, *reason, *note;
	int json;
} sup_opts;

static void
sup_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost suppress add ADDRESS... --tenant T [--reason R] "
	    "[--note TEXT]\n"
	    "       coldpost suppress rm ADDRESS... --tenant T\n"
	    "       coldpost suppress list [--tenant T]\n\n"
	    "A tenant's suppression list: its addresses are refused at "
	    "submission (5xx)\nand never delivered.\n"
	    "  --tenant T       the tenant (list: only its entries)\n"
	    "  --reason R       manual (default), bounce, complaint, "
	    "unsubscribe\n"
	    "  --note TEXT      why, kept with the entry\n"
	    "  --config FILE    read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN      the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json           machine output\n\n"
	    "exit: 0 done, 1 not found or bad input, 2 usage, 3 system "
	    "error\n");
}

static int
sup_exit(int rc)
{
	return rc == CP_EINVAL || rc == CP_ETOOBIG || rc == CP_ENOTFOUND ?
	    CP_EXIT_FAIL : CP_EXIT_SYS;
}

static int
sup_add(const sup_opts *o, cp_store *st, int64_t tenant, char **addr,
    int n)
{
	json_t *a = json_array();
	int ex = CP_EXIT_OK;

	for (int i = 0; i < n; i++) {
		cp_suppression s = { .tenant = tenant, .address = addr[i],
			.reason = o->reason ? o->reason : "manual",
			.note = o->note ? o->note : "" };
		cp_err err = { 0 };
		int added = 0, rc;

		rc = cp_store_add_suppression(st, &s, &added, &err);
		if (rc != CP_OK) {
			fprintf(stderr, "coldpost suppress: %s\n", err.msg);
			ex = ex == CP_EXIT_OK ? sup_exit(rc) : ex;
			continue;
		}
		if (o->json)
			json_array_append_new(a, json_pack("{s:s,s:b}",
			    "address", addr[i], "added", added));
		else
			printf("%s %s\n", addr[i], added ? "suppressed" :
			    "was suppressed already");
	}
	if (o->json)
		out_json_line(stdout, a);
	json_decref(a);
	return ex;
}

static int
sup_rm(const sup_opts *o, cp_store *st, int64_t tenant, char **addr, int n)
{
	json_t *a = json_array();
	int ex = CP_EXIT_OK;

	for (int i = 0; i < n; i++) {
		cp_err err = { 0 };
		int rc = cp_store_remove_suppression(st, tenant, addr[i], &err);

		if (rc != CP_OK) {
			fprintf(stderr, "coldpost suppress: %s\n", err.msg);
			ex = ex == CP_EXIT_OK ? sup_exit(rc) : ex;
			continue;
		}
		if (o->json)
			json_array_append_new(a, json_pack("{s:s}", "removed",
			    addr[i]));
		else
			printf("%s removed\n", addr[i]);
	}
	if (o->json)
		out_json_line(stdout, a);
	json_decref(a);
	return ex;
}

struct sup_list {
	int json;
	json_t *a;
	size_t n;
};

static int
sup_list_cb(void *arg, const cp_suppression *s)
{
	struct sup_list *L = arg;
	char when[32];
	time_t t = (time_t)s->created;
	struct tm tm;

	L->n++;
	if (L->json) {
		json_array_append_new(L->a, json_pack("{s:I,s:o,s:s,s:o,s:I}",
		    "tenant", (json_int_t)s->tenant, "address",
		    out_jstr(s->address), "reason", s->reason, "note",
		    out_jstr(s->note), "created", (json_int_t)s->created));
		return 0;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-6" PRId64 " %-40s %-11s %s  %.60s\n", s->tenant, s->address,
	    s->reason, when, s->note);
	return 0;
}

static int
sup_list(const sup_opts *o, cp_store *st, int64_t tenant)
{
	struct sup_list L = { o->json, json_array(), 0 };
	cp_err err = { 0 };
	int rc;

	if (!o->json)
		printf("%-6s %-40s %-11s %-19s  %s\n", "TENANT", "ADDRESS",
		    "REASON", "SINCE (UTC)", "NOTE");
	rc = cp_store_list_suppressions(st, tenant, sup_list_cb, &L, &err);
	if (rc == CP_OK && o->json)
		out_json_line(stdout, L.a);
	json_decref(L.a);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost suppress: %s\n", err.msg);
		return sup_exit(rc);
	}
	return CP_EXIT_OK;
}

static int
sup_parse(int argc, char **argv, sup_opts *o)
{
	static const struct option opts[] = {
		{ "tenant", required_argument, NULL, 't' },
		{ "reason", required_argument, NULL, 'r' },
		{ "note", required_argument, NULL, 'n' },
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
		case 'r': o->reason = optarg; break;
		case 'n': o->note = optarg; break;
		case 'c': o->config = optarg; break;
		case 's': o->store = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': sup_usage(stdout); return CP_EXIT_OK;
		default: sup_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (o->reason && !cp_store_suppression_reason(o->reason)) {
		fprintf(stderr, "coldpost suppress: --reason '%s': want manual, "
		    "bounce, complaint or unsubscribe\n", o->reason);
		return CP_EXIT_USAGE;
	}
	return -1;
}

int
cmd_suppress(int argc, char **argv)
{
	sup_opts o = { 0 };
	const char *sub;
	cp_store *st = NULL;
	cp_conf conf;
	int64_t tenant = 0;
	int rc, npos;
	char **pos;

	if (argc < 2 || out_is_help(argv[1])) {
		sup_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CP_EXIT_USAGE : CP_EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "add") != 0 && strcmp(sub, "rm") != 0 &&
	    strcmp(sub, "list") != 0) {
		fprintf(stderr, "coldpost suppress: unknown subcommand '%s' "
		    "(see coldpost suppress --help)\n", sub);
		return CP_EXIT_USAGE;
	}
	if ((rc = sup_parse(argc - 1, argv + 1, &o)) != -1)
		return rc;
	pos = argv + 1 + optind;
	npos = argc - 1 - optind;
	if (strcmp(sub, "list") == 0 ? npos != 0 : npos < 1) {
		fprintf(stderr, "coldpost suppress %s: %s (see coldpost "
		    "suppress --help)\n", sub, npos ? "unexpected argument" :
		    "missing ADDRESS");
		return CP_EXIT_USAGE;
	}
	if (strcmp(sub, "list") != 0 && o.tenant == NULL) {
		fprintf(stderr, "coldpost suppress %s: --tenant T is needed\n",
		    sub);
		return CP_EXIT_USAGE;
	}
	if ((rc = policy_cli_open("suppress", o.config, o.store, &conf,
	    &st)) != CP_EXIT_OK)
		return rc;
	rc = o.tenant ? policy_cli_tenant("suppress", st, o.tenant, &tenant) :
	    CP_EXIT_OK;
	if (rc == CP_EXIT_OK) {
		if (strcmp(sub, "add") == 0)
			rc = sup_add(&o, st, tenant, pos, npos);
		else if (strcmp(sub, "rm") == 0)
			rc = sup_rm(&o, st, tenant, pos, npos);
		else
			rc = sup_list(&o, st, tenant);
	}
	cp_store_close(st);
	cp_conf_clear(&conf);
	return rc;
}
