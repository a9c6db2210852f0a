/*
 * cmd_policy.c - `coldpost policy`: the sending policy's state, read from
 * the store (coldpost/policy.h, docs/policy.md).
 *
 *   coldpost policy [show] [--since DURATION] [--limit N] [--now UNIX]
 *   coldpost policy usage ADDRESS
 *   coldpost policy provider MXHOST...
 *   coldpost policy pause|resume SOURCE-IP PROVIDER [--for D] [--note T]
 *
 * show lists each (source IP, provider) pair with its rate now, whether
 * it is paused, cooling down after a cut, climbing back or at full speed,
 * and the decisions of the pacing machine with their evidence (the
 * receivers' answers), newest first. usage gives a mailbox's cap today,
 * what it used, its ramp stage and when its day ends. provider says which
 * provider an MX host belongs to (built-in table plus throttle.providers).
 * pause and resume are the operator's hand on a pair (after a delisting,
 * say); they are stored as events like the machine's own decisions.
 * The rates are computed with the configuration's [throttle] keys, so give
 * the server's --config. --now shows the rates as they will be (or were)
 * at another moment: a cool-down's end, a recovery's schedule.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/policy.h"
#include "policy_cli.h"
#include "tools.h"

typedef struct pol_opts {
	const char *config, *store, *note;
	int json;
	int64_t since_ms, limit, for_ms;
	int64_t now; /* show: 0 the system clock, else --now */
} pol_opts;

static void
pol_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost policy [show] [--since DURATION] [--limit N] "
	    "[--now UNIX]\n"
	    "       coldpost policy usage ADDRESS\n"
	    "       coldpost policy provider MXHOST...\n"
	    "       coldpost policy pause SOURCE-IP PROVIDER [--for D] "
	    "[--note TEXT]\n"
	    "       coldpost policy resume SOURCE-IP PROVIDER [--note TEXT]\n\n"
	    "The sending policy: provider pacing per source IP and its "
	    "decisions (show),\na mailbox's daily cap and ramp stage (usage), "
	    "the provider of an MX host;\npause or resume a source IP at a "
	    "provider by hand (a running server\nsees it after SIGHUP).\n"
	    "  --since D        show: events of the last D (default 7d)\n"
	    "  --limit N        show: at most N events (default 50; 0: all)\n"
	    "  --now UNIX       show: rates and states at that time (unix "
	    "seconds)\n"
	    "  --for D          pause: for how long (default 1d)\n"
	    "  --note TEXT      pause, resume: why (kept with the event)\n"
	    "  --config FILE    configuration ([throttle], [mailbox], the "
	    "store)\n"
	    "                   (default " CP_CONF_PATH " when it exists)\n"
	    "  --store DSN      the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json           machine output\n\n"
	    "exit: 0 done, 1 not found or bad input, 2 usage, 3 system "
	    "error\n");
}

/* ---- shared with cmd_suppress.c ------------------------------------------ */

int
policy_cli_open(const char *cmd, const char *config, const char *store,
    cp_conf *conf, cp_store **st)
{
	const char *path = config ? config : CP_CONF_PATH;
	cp_buf diags;
	cp_err err = { 0 };
	int rc;

	if (config == NULL && access(path, R_OK) != 0) {
		rc = cp_conf_init(conf, &err); /* no file: the defaults */
	} else {
		cp_buf_init(&diags, 1 << 16);
		rc = cp_conf_load_file(conf, path, &diags, &err);
		if (rc != CP_OK)
			fprintf(stderr, "coldpost %s: %s:\n%s\n", cmd, path,
			    diags.len ? diags.data : err.msg);
		cp_buf_free(&diags);
		if (rc != CP_OK)
			return rc == CP_EIO || rc == CP_ENOMEM ? CP_EXIT_SYS :
			    CP_EXIT_FAIL;
	}
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost %s: %s\n", cmd, err.msg);
		return CP_EXIT_SYS;
	}
	if (store == NULL && config == NULL && access(path, R_OK) != 0) {
		fprintf(stderr, "coldpost %s: no %s: give --store DSN or "
		    "--config FILE\n", cmd, path);
		cp_conf_clear(conf);
		return CP_EXIT_USAGE;
	}
	*st = cp_store_open(store ? store : conf->server.store, &err);
	if (*st == NULL) {
		fprintf(stderr, "coldpost %s: %s\n", cmd, err.msg);
		cp_conf_clear(conf);
		return err.code == CP_EINVAL ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	return CP_EXIT_OK;
}

int
policy_cli_tenant(const char *cmd, cp_store *st, const char *name,
    int64_t *id)
{
	cp_tenant *t = NULL;
	cp_err err = { 0 };
	int rc = cp_store_get_tenant(st, name, &t, &err);

	if (rc != CP_OK) {
		fprintf(stderr, "coldpost %s: %s\n", cmd, rc == CP_ENOTFOUND ?
		    "no such tenant" : err.msg);
		return rc == CP_ENOTFOUND || rc == CP_EINVAL ? CP_EXIT_FAIL :
		    CP_EXIT_SYS;
	}
	*id = t->id;
	cp_tenant_free(t);
	return CP_EXIT_OK;
}

/* ---- show ------------------------------------------------------------------ */

static const char *
pol_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

struct pol_show {
	const cp_conf *conf;
	int64_t now;
	int json;
	json_t *a;
	size_t n;
};

/* paused / cooling / ramping / full, and until when */
static const char *
pol_phase(const cp_conf *conf, const cp_provider_state *s, int64_t now,
    int64_t *until)
{
	int64_t max = conf->throttle.max_rate;

	*until = 0;
	if (s->paused_until > now) {
		*until = s->paused_until;
		return "paused";
	}
	if (max == 0)
		return "unpaced";
	if (now < s->ramp_from) {
		*until = s->ramp_from;
		return "cooling";
	}
	if (cp_policy_rate_at(conf, s, now) < max) {
		*until = s->ramp_from + conf->throttle.ramp_time / 1000;
		return "ramping";
	}
	return "full";
}

static int
pol_state_cb(void *arg, const cp_provider_state *s)
{
	struct pol_show *S = arg;
	int64_t rate = cp_policy_rate_at(S->conf, s, S->now), until;
	const char *phase = pol_phase(S->conf, s, S->now, &until);
	char b[32];

	S->n++;
	if (S->json) {
		json_array_append_new(S->a, json_pack("{s:s,s:s,s:I,s:s,s:I,"
		    "s:I,s:I,s:I}", "provider", s->provider, "source_ip",
		    s->source_ip, "rate", (json_int_t)rate, "phase", phase,
		    "until", (json_int_t)until, "paused_until",
		    (json_int_t)s->paused_until, "cuts", (json_int_t)s->cuts,
		    "updated", (json_int_t)s->updated));
		return 0;
	}
	printf("%-28.28s %-20s %8" PRId64 " %-8s %-19s %4" PRId64 "\n",
	    s->provider, s->source_ip, rate, phase, pol_time(until, b),
	    s->cuts);
	return 0;
}

static int
pol_event_cb(void *arg, const cp_provider_event *e)
{
	struct pol_show *S = arg;
	char b[32], b2[32];
	const char *p;

	S->n++;
	if (S->json) {
		json_array_append_new(S->a, json_pack("{s:I,s:I,s:s,s:s,s:s,"
		    "s:I,s:I,s:I,s:o}", "id", (json_int_t)e->id, "time",
		    (json_int_t)e->time, "provider", e->provider, "source_ip",
		    e->source_ip, "kind", e->kind, "rate_before",
		    (json_int_t)e->rate_before, "rate_after",
		    (json_int_t)e->rate_after, "until", (json_int_t)e->until,
		    "evidence", out_jstr(e->evidence)));
		return 0;
	}
	printf("%s  %-8s %s from %s: rate %" PRId64 " -> %" PRId64 "/h, "
	    "until %s\n", pol_time(e->time, b), e->kind, e->provider,
	    e->source_ip, e->rate_before, e->rate_after, pol_time(e->until,
	    b2));
	for (p = e->evidence; p && *p;) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		printf("    %.*s\n", len, p);
		p = nl ? nl + 1 : p + len;
	}
	return 0;
}

static int
pol_show(const pol_opts *o, const cp_conf *conf, cp_store *st)
{
	struct pol_show S = { conf, o->now > 0 ? o->now : (int64_t)time(NULL),
		o->json, NULL, 0 };
	json_t *root = json_object();
	cp_err err = { 0 };
	int rc;

	S.a = json_array();
	if (!o->json)
		printf("%-28s %-20s %8s %-8s %-19s %4s\n", "PROVIDER",
		    "SOURCE-IP", "RATE/H", "STATE", "UNTIL (UTC)", "CUTS");
	rc = cp_store_list_provider_states(st, pol_state_cb, &S, &err);
	if (!o->json && rc == CP_OK)
		printf("%s\nEVENTS (newest first)\n", S.n ? "" :
		    "(no provider state yet)\n");
	json_object_set_new(root, "now", json_integer((json_int_t)S.now));
	json_object_set_new(root, "providers", S.a);
	S.a = json_array();
	S.n = 0;
	if (rc == CP_OK)
		rc = cp_store_list_provider_events(st, S.now - o->since_ms /
		    1000, (size_t)o->limit, pol_event_cb, &S, &err);
	json_object_set_new(root, "events", S.a);
	if (rc == CP_OK && o->json)
		out_json_pretty(stdout, root);
	else if (rc == CP_OK && S.n == 0)
		printf("(none)\n");
	json_decref(root);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost policy: %s\n", err.msg);
		return CP_EXIT_SYS;
	}
	return CP_EXIT_OK;
}

/* ---- usage, provider ------------------------------------------------------- */

static int
pol_mailbox_usage(const pol_opts *o, const cp_conf *conf, cp_store *st,
    const char *addr)
{
	cp_policy_opts po = { .conf = conf, .store = st };
	cp_policy_usage u;
	cp_mailbox *m = NULL;
	cp_policy *p;
	cp_err err = { 0 };
	char b[32];
	int rc;

	rc = cp_store_get_mailbox(st, addr, &m, &err);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost policy: %s\n", rc == CP_ENOTFOUND ?
		    "no such mailbox" : err.msg);
		return rc == CP_ENOTFOUND || rc == CP_EINVAL ? CP_EXIT_FAIL :
		    CP_EXIT_SYS;
	}
	if ((p = cp_policy_new(&po, &err)) == NULL) {
		fprintf(stderr, "coldpost policy: %s\n", err.msg);
		cp_mailbox_free(m);
		return err.code == CP_ESYNTAX ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	rc = cp_policy_get_usage(p, m->tenant, m->id, 0, &u, &err);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost policy: %s\n", err.msg);
	} else if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:I,s:b,s:I,s:I}",
		    "address", m->address, "tz", m->tz, "cap", (json_int_t)u.cap,
		    "full_cap", (json_int_t)u.full_cap, "used",
		    (json_int_t)u.used, "ramping", u.ramping, "age_days",
		    (json_int_t)u.age_days, "resets_at",
		    (json_int_t)u.resets_at);

		out_json_line(stdout, j);
		json_decref(j);
	} else {
		printf("mailbox:    %s (%s)\n", m->address, m->tz);
		if (u.cap == 0)
			printf("cap today:  none\n");
		else
			printf("cap today:  %" PRId64 "%s\n", u.cap, u.ramping ?
			    " (ramp)" : "");
		printf("used today: %" PRId64 "\n", u.used);
		printf("ramp stage: day %" PRId64 " of its life; %s\n",
		    u.age_days + 1, u.ramping ? "ramping" : "full cap");
		printf("full cap:   %s%" PRId64 "\n", u.full_cap ? "" :
		    "none ", u.full_cap);
		printf("resets at:  %s UTC\n", pol_time(u.resets_at, b));
	}
	cp_policy_free(p);
	cp_mailbox_free(m);
	return rc == CP_OK ? CP_EXIT_OK : CP_EXIT_SYS;
}

static int
pol_provider(const pol_opts *o, const cp_conf *conf, cp_store *st,
    char **hosts, int n)
{
	cp_policy_opts po = { .conf = conf, .store = st };
	json_t *a = json_array();
	cp_err err = { 0 };
	cp_policy *p = cp_policy_new(&po, &err);
	char prov[256];

	if (p == NULL) {
		fprintf(stderr, "coldpost policy: %s\n", err.msg);
		json_decref(a);
		return err.code == CP_ESYNTAX ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	for (int i = 0; i < n; i++) {
		cp_policy_provider_of(p, hosts[i], prov, sizeof(prov));
		if (o->json)
			json_array_append_new(a, json_pack("{s:o,s:s}", "mx",
			    out_jstr(hosts[i]), "provider", prov));
		else
			printf("%s %s\n", hosts[i], prov);
	}
	if (o->json)
		out_json_line(stdout, a);
	json_decref(a);
	cp_policy_free(p);
	return CP_EXIT_OK;
}

static int
pol_pause(const pol_opts *o, const cp_conf *conf, cp_store *st, int pause,
    char **pos)
{
	cp_policy_opts po = { .conf = conf, .store = st };
	cp_err err = { 0 };
	cp_policy *p = cp_policy_new(&po, &err);
	int64_t until = 0;
	char b[32];
	int rc;

	if (p == NULL) {
		fprintf(stderr, "coldpost policy: %s\n", err.msg);
		return err.code == CP_ESYNTAX ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	if (pause)
		until = cp_policy_now(p) + o->for_ms / 1000;
	rc = cp_policy_set_pause(p, pos[0], pos[1], until, o->note ? o->note :
	    (pause ? "paused by hand" : "resumed by hand"), &err);
	cp_policy_free(p);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost policy: %s\n", err.msg);
		return rc == CP_EINVAL ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:I}", "source_ip", pos[0],
		    "provider", pos[1], "paused_until", (json_int_t)until);

		out_json_line(stdout, j);
		json_decref(j);
	} else if (pause) {
		printf("%s paused at %s until %s UTC\n", pos[0], pos[1],
		    pol_time(until, b));
	} else {
		printf("%s resumed at %s\n", pos[0], pos[1]);
	}
	return CP_EXIT_OK;
}

static int
pol_parse(int argc, char **argv, pol_opts *o)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'l' },
		{ "now", required_argument, NULL, 'N' },
		{ "for", required_argument, NULL, 'f' },
		{ "note", required_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	cp_err err = { 0 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (cp_conf_parse_duration(optarg, &o->since_ms,
			    &err) != CP_OK || o->since_ms <= 0) {
				fprintf(stderr, "coldpost policy: --since '%s': "
				    "want a duration (30m, 24h, 7d)\n", optarg);
				return CP_EXIT_USAGE;
			}
			break;
		case 'l':
			if (cp_conf_parse_int(optarg, &o->limit, &err) !=
			    CP_OK || o->limit < 0) {
				fprintf(stderr, "coldpost policy: --limit '%s': "
				    "want a number, 0 for all\n", optarg);
				return CP_EXIT_USAGE;
			}
			break;
		case 'f':
			if (cp_conf_parse_duration(optarg, &o->for_ms, &err) !=
			    CP_OK || o->for_ms < 1000) {
				fprintf(stderr, "coldpost policy: --for '%s': "
				    "want a duration (30m, 24h, 7d)\n", optarg);
				return CP_EXIT_USAGE;
			}
			break;
		case 'N':
			if (cp_conf_parse_int(optarg, &o->now, &err) != CP_OK ||
			    o->now <= 0) {
				fprintf(stderr, "coldpost policy: --now '%s': "
				    "want unix seconds\n", optarg);
				return CP_EXIT_USAGE;
			}
			break;
		case 'n': o->note = optarg; break;
		case 'c': o->config = optarg; break;
		case 's': o->store = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': pol_usage(stdout); return CP_EXIT_OK;
		default: pol_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	return -1;
}

int
cmd_policy(int argc, char **argv)
{
	pol_opts o = { .since_ms = 7LL * 86400 * 1000, .limit = 50,
		.for_ms = 86400LL * 1000 };
	const char *sub = "show";
	cp_store *st = NULL;
	cp_conf conf;
	int rc, npos, first = 1;
	char **pos;

	if (argc >= 2 && out_is_help(argv[1])) {
		pol_usage(stdout);
		return CP_EXIT_OK;
	}
	if (argc >= 2 && argv[1][0] != '-') {
		sub = argv[1];
		first = 2;
	}
	if (strcmp(sub, "show") != 0 && strcmp(sub, "usage") != 0 &&
	    strcmp(sub, "provider") != 0 && strcmp(sub, "pause") != 0 &&
	    strcmp(sub, "resume") != 0) {
		fprintf(stderr, "coldpost policy: unknown subcommand '%s' (see "
		    "coldpost policy --help)\n", sub);
		return CP_EXIT_USAGE;
	}
	if ((rc = pol_parse(argc - first + 1, argv + first - 1, &o)) != -1)
		return rc;
	pos = argv + first - 1 + optind;
	npos = argc - first + 1 - optind;
	if ((strcmp(sub, "show") == 0 && npos != 0) ||
	    (strcmp(sub, "usage") == 0 && npos != 1) ||
	    (strcmp(sub, "provider") == 0 && npos < 1) ||
	    ((strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0) &&
	    npos != 2)) {
		fprintf(stderr, "coldpost policy %s: wrong arguments (see "
		    "coldpost policy --help)\n", sub);
		return CP_EXIT_USAGE;
	}
	if ((rc = policy_cli_open("policy", o.config, o.store, &conf, &st)) !=
	    CP_EXIT_OK)
		return rc;
	if (strcmp(sub, "show") == 0)
		rc = pol_show(&o, &conf, st);
	else if (strcmp(sub, "usage") == 0)
		rc = pol_mailbox_usage(&o, &conf, st, pos[0]);
	else if (strcmp(sub, "provider") == 0)
		rc = pol_provider(&o, &conf, st, pos, npos);
	else
		rc = pol_pause(&o, &conf, st, strcmp(sub, "pause") == 0, pos);
	cp_store_close(st);
	cp_conf_clear(&conf);
	return rc;
}
