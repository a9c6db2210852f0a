/*
 * cmd_model.c - what the management commands share: `coldpost tenant|pool|
 * domain|mailbox|queue|status` (cmd_tenant.c, cmd_mailbox.c, cmd_queue.c).
 *
 * Every one takes --config FILE (the store DSN is its [server] store),
 * --store DSN (overrides the file) and --json, and a subcommand with its own
 * options; model_run parses them (an option the subcommand does not take is
 * a usage error), opens the store (store.h) and calls the subcommand. Here
 * too: error messages ("coldpost GROUP: ...") and the exit codes of
 * coldpost(1), aligned tables, tenant-name lookups for listings, and the
 * list callbacks that tenant show and the list commands share.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/conf.h"
#include "coldpost/store.h"
#include "model.h"
#include "tools.h"

/* ---- options shared by the groups ------------------------------------ */




int
model_exit(int rc)
{
	switch (rc) {
	case CP_EINVAL: case CP_ESYNTAX: case CP_ETOOBIG: case CP_ENOTFOUND:
		return CP_EXIT_FAIL;
	default:
		return CP_EXIT_SYS;
	}
}

/* Print err's message (without the "store: " prefix) and map rc. */
int
model_fail(const mopts *o, int rc, const cp_err *err)
{
	const char *m = err->msg[0] ? err->msg : cp_err_name(rc);

	if (strncmp(m, "store: ", 7) == 0)
		m += 7;
	fprintf(stderr, "coldpost %s: %s\n", o->group, m);
	return model_exit(rc);
}

int
model_failf(const mopts *o, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "coldpost %s: ", o->group);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
model_parse_count(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	if (s[0] == '\0' || s[0] == ' ' || s[0] == '+')
		return -1;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Parse argv (argv[0] the group, argv[1] the subcommand) into *o for the
 * subcommand sub. Returns -1 to go on, else the exit code.
 */
static int
parse(int argc, char **argv, const msub *sub, mopts *o,
    void (*usage)(FILE *))
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "store", required_argument, NULL, O_STORE },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ "daily-cap", required_argument, NULL, O_CAP },
		{ "force", no_argument, NULL, O_FORCE },
		{ "ehlo", required_argument, NULL, O_EHLO },
		{ "tenant", required_argument, NULL, O_TENANT },
		{ "selector", required_argument, NULL, O_SELECTOR },
		{ "key", required_argument, NULL, O_KEY },
		{ "generate", optional_argument, NULL, O_GENERATE },
		{ "password-stdin", no_argument, NULL, O_PWSTDIN },
		{ "password", required_argument, NULL, O_PW },
		{ "tz", required_argument, NULL, O_TZ },
		{ "state", required_argument, NULL, O_STATE },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "rcpt", no_argument, NULL, O_RCPT },
		{ "since", required_argument, NULL, O_SINCE },
		{ "send-as-domain", no_argument, NULL, O_SENDAS },
		{ "body", no_argument, NULL, O_BODY },
		{ "provision", no_argument, NULL, O_PROVISION },
		{ "server", required_argument, NULL, O_SERVER },
		{ "tsig", required_argument, NULL, O_TSIG },
		{ "dns-server", required_argument, NULL, O_DNSSRV },
		{ "bounce-domain", required_argument, NULL, O_BOUNCE },
		{ "unsubscribe", required_argument, NULL, O_UNSUB },
		{ NULL, 0, NULL, 0 },
	};
	int c, ac = argc - 1;
	char **av = argv + 1;
	cp_err err;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(ac, av, "c:s:jh", opts, NULL)) != -1) {
		if (c >= O_CAP) {
			if (!(sub->opts & OBIT(c))) {
				fprintf(stderr, "coldpost %s %s: %s does not "
				    "apply here\n", o->group, sub->name,
				    av[optind - 1]);
				return CP_EXIT_USAGE;
			}
			o->given |= OBIT(c);
		}
		switch (c) {
		case O_CONFIG: o->config = optarg; break;
		case O_STORE: o->store = optarg; break;
		case O_JSON: o->json = 1; break;
		case O_HELP: usage(stdout); return CP_EXIT_OK;
		case O_FORCE: o->force = 1; break;
		case O_EHLO: o->ehlo = optarg; break;
		case O_TENANT: o->tenant = optarg; break;
		case O_SELECTOR: o->selector = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_PWSTDIN: o->pwstdin = 1; break;
		case O_PW: o->password = optarg; break;
		case O_TZ: o->tz = optarg; break;
		case O_STATE: o->state = optarg; break;
		case O_RCPT: o->rcpt = 1; break;
		case O_SENDAS: o->sendas = 1; break;
		case O_BODY: o->body = 1; break;
		case O_PROVISION: o->provision = 1; break;
		case O_SERVER: o->server = optarg; break;
		case O_TSIG: o->tsig = optarg; break;
		case O_DNSSRV: o->dns_server = optarg; break;
		case O_BOUNCE: o->bounce = optarg; break;
		case O_UNSUB: o->unsub = optarg; break;
		case O_GENERATE:
			o->generate = 1;
			o->gentype = optarg;
			if (optarg == NULL && optind < ac &&
			    (strcmp(av[optind], "rsa") == 0 ||
			    strcmp(av[optind], "ed25519") == 0))
				o->gentype = av[optind++];
			break;
		case O_CAP:
			if (model_parse_count(optarg, 0, INT32_MAX, &o->cap) != 0) {
				fprintf(stderr, "coldpost %s: --daily-cap "
				    "'%s': want a number, 0 for none\n",
				    o->group, optarg);
				return CP_EXIT_USAGE;
			}
			break;
		case O_LIMIT:
			if (model_parse_count(optarg, 0, INT32_MAX, &o->limit) !=
			    0) {
				fprintf(stderr, "coldpost %s: --limit '%s': "
				    "want a number, 0 for all\n", o->group,
				    optarg);
				return CP_EXIT_USAGE;
			}
			break;
		case O_SINCE:
			if (cp_conf_parse_duration(optarg, &o->since_ms,
			    &err) != CP_OK || o->since_ms <= 0) {
				fprintf(stderr, "coldpost %s: --since '%s': "
				    "want a duration (30m, 24h, 7d)\n",
				    o->group, optarg);
				return CP_EXIT_USAGE;
			}
			break;
		default:
			usage(stderr);
			return CP_EXIT_USAGE;
		}
	}
	o->pos = av + optind;
	o->npos = ac - optind;
	if (o->npos < sub->minpos || o->npos > sub->maxpos) {
		if (o->npos < sub->minpos)
			fprintf(stderr, "coldpost %s %s: missing argument "
			    "(see coldpost %s --help)\n", o->group, sub->name,
			    o->group);
		else
			fprintf(stderr, "coldpost %s %s: unexpected '%s'\n",
			    o->group, sub->name, o->pos[sub->maxpos]);
		return CP_EXIT_USAGE;
	}
	return -1;
}

/* Open the store named by --store, else by the configuration file. */
static int
open_store(const mopts *o, cp_store **out)
{
	const char *path = o->config ? o->config : CP_CONF_PATH;
	cp_conf conf;
	cp_buf diags;
	cp_err err;
	int rc;

	if (o->store != NULL) {
		*out = cp_store_open(o->store, &err);
		return *out ? CP_EXIT_OK : model_fail(o, err.code ? err.code :
		    CP_ESTORE, &err);
	}
	cp_buf_init(&diags, 1 << 16);
	rc = cp_conf_load_file(&conf, path, &diags, &err);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost %s: cannot use %s (give --store "
		    "DSN, or --config FILE):\n%s", o->group, path,
		    diags.len ? diags.data : err.msg);
		if (!diags.len)
			fputc('\n', stderr);
		cp_buf_free(&diags);
		return rc == CP_EIO || rc == CP_ENOMEM ? CP_EXIT_SYS :
		    CP_EXIT_FAIL;
	}
	cp_buf_free(&diags);
	*out = cp_store_open(conf.server.store, &err);
	cp_conf_clear(&conf);
	return *out ? CP_EXIT_OK : model_fail(o, err.code ? err.code : CP_ESTORE,
	    &err);
}

int
model_run(int argc, char **argv, const char *group, const msub *subs,
    size_t nsubs, void (*usage)(FILE *))
{
	mopts o;
	cp_store *st = NULL;
	const msub *sub = NULL;
	int rc;

	if (argc < 2 || out_is_help(argv[1])) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CP_EXIT_USAGE : CP_EXIT_OK;
	}
	for (size_t i = 0; i < nsubs; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			sub = &subs[i];
	if (sub == NULL) {
		fprintf(stderr, "coldpost %s: unknown subcommand '%s' (see "
		    "coldpost %s --help)\n", group, argv[1], group);
		return CP_EXIT_USAGE;
	}
	memset(&o, 0, sizeof(o));
	o.group = group;
	o.sub = sub->name;
	o.limit = -1;
	o.cap = -1;
	if ((rc = parse(argc, argv, sub, &o, usage)) != -1)
		return rc;
	if ((rc = open_store(&o, &st)) != CP_EXIT_OK)
		return rc;
	rc = sub->run(&o, st);
	cp_store_close(st);
	return rc;
}

/* ---- output helpers --------------------------------------------------- */


void
tbl_init(tbl *t, size_t ncol)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
}

void
tbl_add(tbl *t, const char *s)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cell = cp_realloc(t->cell, t->cap * sizeof(*t->cell));
	}
	t->cell[t->n++] = cp_strdup(s ? s : "");
}

void
tbl_addf(tbl *t, const char *fmt, ...)
{
	cp_buf b;
	va_list ap;

	cp_buf_init(&b, 1 << 16);
	va_start(ap, fmt);
	cp_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	tbl_add(t, b.data ? b.data : "");
	cp_buf_free(&b);
}

size_t
tbl_rows(const tbl *t)
{
	return t->n / t->ncol;
}

void
tbl_free(tbl *t)
{
	for (size_t i = 0; i < t->n; i++)
		cp_free(t->cell[i]);
	cp_free(t->cell);
	memset(t, 0, sizeof(*t));
}

/* Print and free; a table of the header alone prints empty instead (if
   not NULL). */
void
tbl_print(tbl *t, const char *empty)
{
	size_t w[16] = { 0 };

	CP_ASSERT(t->ncol <= CP_NELEM(w));
	if (tbl_rows(t) <= 1 && empty != NULL) {
		puts(empty);
	} else {
		for (size_t i = 0; i < t->n; i++)
			w[i % t->ncol] = CP_MAX(w[i % t->ncol],
			    strlen(t->cell[i]));
		for (size_t i = 0; i < t->n; i++) {
			size_t c = i % t->ncol;

			if (c + 1 == t->ncol)
				printf("%s\n", t->cell[i]);
			else
				printf("%-*s  ", (int)w[c], t->cell[i]);
		}
	}
	tbl_free(t);
}

/* "2026-11-28 01:04:00" (UTC), "-" for 0. */
const char *
model_fmt_time(int64_t t, char buf[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

const char *
model_fmt_cap(int64_t cap, char buf[32])
{
	if (cap < 0)
		return "tenant";
	if (cap == 0)
		return "none";
	snprintf(buf, 32, "%" PRId64, cap);
	return buf;
}

void
model_field(const char *name, const char *value)
{
	printf("%-14s %s\n", name, value ? value : "-");
}

void
model_json_done(json_t *v)
{
	out_json_pretty(stdout, v);
	json_decref(v);
}

int64_t
model_now(void)
{
	return (int64_t)time(NULL);
}


static int
model_names_cb(void *arg, const cp_tenant *t)
{
	model_names *nm = arg;

	nm->id = cp_realloc(nm->id, (nm->n + 1) * sizeof(*nm->id));
	nm->name = cp_realloc(nm->name, (nm->n + 1) * sizeof(*nm->name));
	nm->id[nm->n] = t->id;
	nm->name[nm->n++] = cp_strdup(t->name);
	return 0;
}

const char *
model_names_get(const model_names *nm, int64_t id)
{
	for (size_t i = 0; i < nm->n; i++)
		if (nm->id[i] == id)
			return nm->name[i];
	return "?";
}

void
model_names_free(model_names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		cp_free(nm->name[i]);
	cp_free(nm->id);
	cp_free(nm->name);
	memset(nm, 0, sizeof(*nm));
}

int
model_load_names(const mopts *o, cp_store *st, model_names *nm)
{
	cp_err err;
	int rc;

	memset(nm, 0, sizeof(*nm));
	if ((rc = cp_store_list_tenants(st, model_names_cb, nm, &err)) != CP_OK) {
		model_names_free(nm);
		return model_fail(o, rc, &err);
	}
	return CP_EXIT_OK;
}

/* Look tenant name up; prints the error. */
int
model_get_tenant(const mopts *o, cp_store *st, const char *name, cp_tenant **t)
{
	cp_err err;
	int rc = cp_store_get_tenant(st, name, t, &err);

	if (rc == CP_ENOTFOUND)
		return model_failf(o, CP_EXIT_FAIL, "no tenant '%s' (coldpost tenant "
		    "list shows them)", name);
	return rc == CP_OK ? CP_EXIT_OK : model_fail(o, rc, &err);
}

static int
count_cb(void *arg, const void *rec)
{
	(void)rec;
	(*(int64_t *)arg)++;
	return 0;
}

static int count_pool_cb(void *a, const cp_pool *p) { return count_cb(a, p); }
static int count_dom_cb(void *a, const cp_domain *d) { return count_cb(a, d); }
static int count_mb_cb(void *a, const cp_mailbox *m) { return count_cb(a, m); }


int
model_tenant_counts(cp_store *st, int64_t id, model_tcounts *c, cp_err *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = cp_store_list_pools(st, id, count_pool_cb, &c->pools,
	    err)) != CP_OK ||
	    (rc = cp_store_list_domains(st, id, count_dom_cb, &c->domains,
	    err)) != CP_OK)
		return rc;
	return cp_store_list_mailboxes(st, id, count_mb_cb, &c->mailboxes,
	    err);
}


int
model_show_pool_cb(void *arg, const cp_pool *p)
{
	model_show *c = arg;

	if (c->a != NULL) {
		json_t *j = json_object();

		json_object_set_new(j, "ip", out_jstr(p->addr));
		json_object_set_new(j, "ehlo", out_jstr(p->ehlo));
		json_object_set_new(j, "tenant", out_jstr(c->nm ?
		    model_names_get(c->nm, p->tenant) : NULL));
		json_object_set_new(j, "created", json_integer(p->created));
		json_array_append_new(c->a, j);
	} else {
		char b[32];

		tbl_add(c->t, p->addr);
		if (c->nm)
			tbl_add(c->t, model_names_get(c->nm, p->tenant));
		tbl_add(c->t, p->ehlo);
		tbl_add(c->t, model_fmt_time(p->created, b));
	}
	return 0;
}

int
model_show_domain_cb(void *arg, const cp_domain *d)
{
	model_show *c = arg;

	if (c->a != NULL) {
		json_t *j = json_object();

		json_object_set_new(j, "domain", out_jstr(d->name));
		json_object_set_new(j, "tenant", out_jstr(c->nm ?
		    model_names_get(c->nm, d->tenant) : NULL));
		json_object_set_new(j, "selector", out_jstr(d->selector));
		json_object_set_new(j, "alg", out_jstr(d->alg));
		json_object_set_new(j, "key_path", out_jstr(d->key_path));
		json_object_set_new(j, "created", json_integer(d->created));
		json_array_append_new(c->a, j);
	} else {
		char b[32];

		tbl_add(c->t, d->name);
		if (c->nm)
			tbl_add(c->t, model_names_get(c->nm, d->tenant));
		tbl_add(c->t, d->selector);
		tbl_add(c->t, d->alg);
		tbl_add(c->t, d->key_path ? d->key_path : "(in store)");
		tbl_add(c->t, model_fmt_time(d->created, b));
	}
	return 0;
}

json_t *
model_mailbox_json(const cp_mailbox *m, const char *tenant)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_integer(m->id));
	json_object_set_new(j, "address", out_jstr(m->address));
	json_object_set_new(j, "tenant", out_jstr(tenant));
	json_object_set_new(j, "tz", out_jstr(m->tz));
	json_object_set_new(j, "daily_cap", json_integer(m->daily_cap));
	json_object_set_new(j, "send_as_domain",
	    json_boolean(m->send_as_domain));
	json_object_set_new(j, "password_set",
	    json_boolean(m->pwhash != NULL && m->pwhash[0] != '\0'));
	json_object_set_new(j, "created", json_integer(m->created));
	return j;
}

int
model_show_mailbox_cb(void *arg, const cp_mailbox *m)
{
	model_show *c = arg;

	if (c->a != NULL) {
		json_array_append_new(c->a, model_mailbox_json(m, c->nm ?
		    model_names_get(c->nm, m->tenant) : NULL));
	} else {
		char b[32], b2[32];

		tbl_add(c->t, m->address);
		if (c->nm)
			tbl_add(c->t, model_names_get(c->nm, m->tenant));
		tbl_add(c->t, m->tz);
		tbl_add(c->t, model_fmt_cap(m->daily_cap, b2));
		tbl_add(c->t, m->pwhash && m->pwhash[0] ? "set" : "not set");
		tbl_add(c->t, model_fmt_time(m->created, b));
	}
	return 0;
}

int
model_list_end(const mopts *o, int rc, const cp_err *err, json_t *a, tbl *t,
    const char *empty)
{
	if (rc != CP_OK) {
		tbl_free(t);
		json_decref(a);
		return model_fail(o, rc, err);
	}
	if (o->json) {
		model_json_done(a);
		tbl_free(t);
	} else {
		tbl_print(t, empty);
	}
	return CP_EXIT_OK;
}

int
model_removed(const mopts *o, const char *what, const char *name)
{
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "removed", out_jstr(name));
		model_json_done(j);
	} else {
		printf("%s %s removed\n", what, name);
	}
	return CP_EXIT_OK;
}
