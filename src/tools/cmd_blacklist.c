/*
 * cmd_blacklist.c - `coldpost blacklist IP|DOMAIN`: is this sending IP
 * or domain on the major block lists, why, and where to ask for delisting.
 *
 *   coldpost blacklist 192.0.2.1
 *   coldpost blacklist example.com --json
 *   coldpost blacklist 192.0.2.1 --list zen.spamhaus.org --list my.bl:ip
 *
 * Every list is asked at once (RFC 5782 query names; the library is
 * src/check/dnsbl.c). Answers that mean "your resolver is refused" are
 * shown as "blocked", not as listings.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/dns.h"
#include "coldpost/dnsbl.h"
#include "tools.h"

#define BL_MAX_ZONES 16
#define BL_MAX_FILE (1024 * 1024)

/* Read a lists file (1 MiB at most) into s. An exit code. */
static int
load_lists_file(cp_dnsbl_set *s, const char *path)
{
	FILE *f = fopen(path, "rb");
	cp_buf b;
	char chunk[4096];
	size_t got;
	cp_err err = { 0 };
	int rc = CP_OK;

	if (f == NULL) {
		fprintf(stderr, "coldpost blacklist: %s: cannot open\n", path);
		return CP_EXIT_USAGE;
	}
	cp_buf_init(&b, BL_MAX_FILE);
	while (rc == CP_OK && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = cp_buf_add(&b, chunk, got);
	if (ferror(f) && rc == CP_OK)
		rc = CP_EIO;
	fclose(f);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost blacklist: %s: %s\n", path,
		    rc == CP_ETOOBIG ? "larger than 1 MiB" : "read error");
		cp_buf_free(&b);
		return rc == CP_ETOOBIG ? CP_EXIT_USAGE : CP_EXIT_SYS;
	}
	rc = cp_dnsbl_set_parse(s, b.data != NULL ? b.data : "", b.len, path,
	    &err);
	cp_buf_free(&b);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost blacklist: %s\n", err.msg);
		return rc == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_USAGE;
	}
	if (s->n == 0) {
		fprintf(stderr, "coldpost blacklist: %s: no list in it\n",
		    path);
		return CP_EXIT_USAGE;
	}
	return CP_EXIT_OK;
}

static void
bl_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost blacklist IP|DOMAIN [--dns-server HOST:PORT[,...]]"
	    "\n                          [--timeout MS] [--json] "
	    "[--list ZONE[:ip|domain]]...\n"
	    "                          [--lists-file FILE]\n\n"
	    "Asks the DNS block lists in parallel whether IP (IPv4 or IPv6) or "
	    "DOMAIN\nis listed, decodes each answer and says where to ask for "
	    "delisting.\n\n"
	    "  --dns-server S  servers to ask, HOST:PORT or [V6]:PORT, "
	    "comma-separated\n"
	    "  --timeout MS    first try's timeout in milliseconds "
	    "(default 2000)\n"
	    "  --list Z[:K]    check this zone (kind ip, the default, or "
	    "domain);\n"
	    "                  repeatable; replaces the built-in set\n"
	    "  --lists-file F  the zones of F, one ZONE[:KIND] a line, "
	    "'#' comments\n"
	    "  --zone FILE     answer from a zone file instead of DNS "
	    "(testing)\n"
	    "  --json          one JSON object (target, lists[], listed, "
	    "summary)\n\n"
	    "exit: 0 not listed anywhere, 1 listed on at least one list, "
	    "2 usage,\n      3 system error\n");
}

static json_t *
result_json(const cp_dnsbl_result *r)
{
	json_t *o = json_object(), *codes = json_array(),
	       *meanings = json_array();

	json_object_set_new(o, "name", out_jstr(r->list->name));
	json_object_set_new(o, "zone", out_jstr(r->list->zone));
	json_object_set_new(o, "kind", json_string(r->list->kind ==
	    CP_DNSBL_IP ? "ip" : "domain"));
	json_object_set_new(o, "query", out_jstr(r->query));
	json_object_set_new(o, "status",
	    json_string(cp_dnsbl_state_name(r->state)));
	json_object_set_new(o, "listed",
	    json_boolean(r->state == CP_DNSBL_LISTED));
	for (size_t i = 0; i < r->nhits; i++) {
		char buf[512];

		json_array_append_new(codes, json_string(r->hits[i].addr));
		if (r->hits[i].list != NULL)
			snprintf(buf, sizeof(buf), "%s: %s", r->hits[i].list,
			    r->hits[i].meaning);
		else
			snprintf(buf, sizeof(buf), "%s", r->hits[i].meaning);
		json_array_append_new(meanings, out_jstr(buf));
	}
	json_object_set_new(o, "codes", codes);
	json_object_set_new(o, "meanings", meanings);
	json_object_set_new(o, "txt", out_jstr(r->txt));
	json_object_set_new(o, "delist", out_jstr(r->list->delist));
	json_object_set_new(o, "note", out_jstr(r->list->note));
	json_object_set_new(o, "error", out_jstr(r->error));
	return o;
}

static void
result_text(FILE *f, const cp_dnsbl_result *r)
{
	fprintf(f, "%-22s %-24s %s\n", r->list->name, r->list->zone,
	    r->state == CP_DNSBL_LISTED ? "LISTED" :
	    r->state == CP_DNSBL_NOT_LISTED ? "not listed" :
	    r->state == CP_DNSBL_BLOCKED ? "BLOCKED (query refused)" : "ERROR");
	if (r->state == CP_DNSBL_LISTED) {
		for (size_t i = 0; i < r->nhits; i++)
			fprintf(f, "    %s %s%s%s\n", r->hits[i].addr,
			    r->hits[i].list ? r->hits[i].list : "",
			    r->hits[i].list ? ": " : "", r->hits[i].meaning);
		if (r->txt != NULL)
			fprintf(f, "    reason: %s\n", r->txt);
		if (r->list->delist != NULL)
			fprintf(f, "    delisting: %s\n", r->list->delist);
	} else if (r->error != NULL) {
		fprintf(f, "    %s\n", r->error);
	}
	if (r->list->note != NULL && r->state != CP_DNSBL_NOT_LISTED)
		fprintf(f, "    note: %s\n", r->list->note);
}

int
cmd_blacklist(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dns-server", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "list", required_argument, NULL, 'l' },
		{ "lists-file", required_argument, NULL, 'f' },
		{ "zone", required_argument, NULL, 'z' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cp_dnsbl_set set = { 0 };
	const char *zonefiles[BL_MAX_ZONES];
	const char *servers = NULL;
	const cp_dnsbl_list *lists;
	size_t nlists = 0, nzf = 0, nres = 0, nlisted = 0, nbad = 0;
	long timeout = 0;
	int json = 0, c, code = CP_EXIT_OK;
	cp_dnsbl_result *res = NULL;
	cp_err err = { 0 };
	cp_dns *d;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			servers = optarg;
			break;
		case 't':
			timeout = strtol(optarg, &end, 10);
			if (*end != '\0' || timeout <= 0 || timeout > 600000) {
				fprintf(stderr, "coldpost blacklist: bad "
				    "--timeout '%s'\n", optarg);
				code = CP_EXIT_USAGE;
		goto done;
			}
			break;
		case 'l':
			if (cp_dnsbl_set_add(&set, optarg, &err) != CP_OK) {
				fprintf(stderr, "coldpost blacklist: %s\n",
				    err.msg);
				code = err.code == CP_ENOMEM ? CP_EXIT_SYS
							     : CP_EXIT_USAGE;
				goto done;
			}
			break;
		case 'f':
			code = load_lists_file(&set, optarg);
			if (code != CP_EXIT_OK)
				goto done;
			break;
		case 'z':
			if (nzf == BL_MAX_ZONES) {
				fprintf(stderr, "coldpost blacklist: too many "
				    "--zone files\n");
				code = CP_EXIT_USAGE;
		goto done;
			}
			zonefiles[nzf++] = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			bl_usage(stdout);
			code = CP_EXIT_OK;
			goto done;
		default:
			bl_usage(stderr);
			code = CP_EXIT_USAGE;
		goto done;
		}
	}
	if (optind != argc - 1) {
		bl_usage(stderr);
		code = CP_EXIT_USAGE;
		goto done;
	}
	if (servers != NULL && cp_dns_check_servers(servers, &err) != CP_OK) {
		fprintf(stderr, "coldpost blacklist: --dns-server: %s\n",
		    err.msg);
		code = CP_EXIT_USAGE;
		goto done;
	}
	if (set.n > 0) {
		lists = set.lists;
		nlists = set.n;
	} else {
		lists = cp_dnsbl_builtin(&nlists);
	}
	d = tools_open_resolver("blacklist", servers, zonefiles, nzf, timeout,
	    CP_EXIT_USAGE, &code);
	if (d == NULL)
		goto done;
	if (cp_dnsbl_check(d, argv[optind], lists, nlists, &res, &nres,
	    &err) != CP_OK) {
		fprintf(stderr, "coldpost blacklist: %s\n", err.msg);
		cp_dns_free(d);
		code = err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_USAGE;
		goto done;
	}
	for (size_t i = 0; i < nres; i++) {
		if (res[i].state == CP_DNSBL_LISTED)
			nlisted++;
		else if (res[i].state != CP_DNSBL_NOT_LISTED)
			nbad++;
	}
	if (json) {
		json_t *o = json_object(), *arr = json_array();

		json_object_set_new(o, "target", out_jstr(argv[optind]));
		for (size_t i = 0; i < nres; i++)
			json_array_append_new(arr, result_json(&res[i]));
		json_object_set_new(o, "lists", arr);
		json_object_set_new(o, "listed", json_boolean(nlisted > 0));
		json_object_set_new(o, "checked", json_integer((json_int_t)
		    nres));
		json_object_set_new(o, "listed_on", json_integer((json_int_t)
		    nlisted));
		json_object_set_new(o, "unchecked", json_integer((json_int_t)
		    nbad));
		out_json_pretty(stdout, o);
		json_decref(o);
	} else {
		for (size_t i = 0; i < nres; i++)
			result_text(stdout, &res[i]);
		printf("\n%s: listed on %zu of %zu lists", argv[optind],
		    nlisted, nres);
		if (nbad > 0)
			printf(" (%zu could not be checked)", nbad);
		printf("\n");
	}
	cp_dnsbl_results_free(res, nres);
	cp_dns_free(d);
	code = nlisted > 0 ? CP_EXIT_FAIL : CP_EXIT_OK;
done:
	cp_dnsbl_set_free(&set);
	return code;
}
