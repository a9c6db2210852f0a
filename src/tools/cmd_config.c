/*
 * cmd_config.c - `coldpost config`: show and check the server configuration.
 *
 *   coldpost config show [--defaults] [--json] [--config FILE]
 *   coldpost config check [--json] [--config FILE]
 *
 * show prints every key, as an INI file that `coldpost serve` reads back to
 * the same configuration: the file's values over the defaults (a
 * "; default: X" comment above each changed key), or with --defaults the
 * built-in values with a comment per key (what it sets, type, bounds, live
 * or restart). --json prints one object per key instead. check reads the
 * file and prints every problem, "FILE:LINE: [section] key: what is wrong",
 * or "FILE: ok". The reading, checks and dump are libcoldpost's (conf.c);
 * this file only chooses what to print.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/conf.h"
#include "tools.h"

static void
config_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost config show [--defaults] [--json] [--config FILE]\n"
	    "       coldpost config check [--json] [--config FILE]\n\n"
	    "show   print every key of the server configuration: FILE's values\n"
	    "       over the defaults, as a file coldpost serve reads back\n"
	    "check  read FILE and print every problem with its line, or 'ok'\n\n"
	    "  --config FILE  the file (default " CP_CONF_PATH ")\n"
	    "  --defaults     show the built-in defaults, with a comment per "
	    "key\n"
	    "  --json         one JSON object (show: a row per key; check: "
	    "ok, errors)\n\n"
	    "exit: 0 ok, 1 the file has errors, 2 usage, 3 cannot read the "
	    "file\n");
}

static json_t *
key_json(const cp_conf *c, const cp_conf *def, const cp_conf_key *k)
{
	json_t *o = json_object();
	size_t sl = strcspn(k->name, ".");
	cp_buf v;

	cp_buf_init(&v, 4 * CP_CONF_LINE_MAX);
	json_object_set_new(o, "key", json_string(k->name));
	json_object_set_new(o, "section", json_stringn(k->name, sl));
	json_object_set_new(o, "name",
	    k->name[sl] ? json_string(k->name + sl + 1) : json_null());
	json_object_set_new(o, "type", json_string(cp_conf_type_name(k->type)));
	if (k->type == CP_CONF_ROUTES) {
		json_t *r = json_object();

		for (size_t i = 0; i < c->routes.n; i++) {
			cp_buf_reset(&v);
			cp_conf_format_route(&c->routes.v[i], &v);
			json_object_set_new(r, c->routes.v[i].domain,
			    out_jstr(v.data ? v.data : ""));
		}
		json_object_set_new(o, "value", r);
		json_object_set_new(o, "default", json_object());
	} else {
		cp_conf_format(c, k, &v);
		json_object_set_new(o, "value", out_jstr(v.data ? v.data : ""));
		cp_buf_reset(&v);
		cp_conf_format(def, k, &v);
		json_object_set_new(o, "default",
		    out_jstr(v.data ? v.data : ""));
	}
	json_object_set_new(o, "changed",
	    json_boolean(!cp_conf_key_equal(c, def, k)));
	json_object_set_new(o, "live",
	    json_boolean((k->flags & CP_CONF_LIVE) != 0));
	if (k->type == CP_CONF_INT || k->type == CP_CONF_DURATION ||
	    k->type == CP_CONF_SIZE || k->type == CP_CONF_DURATIONS) {
		cp_buf_reset(&v);
		if (k->type == CP_CONF_INT)
			cp_buf_addf(&v, "%lld..%lld", (long long)k->min,
			    (long long)k->max);
		else if (k->type == CP_CONF_SIZE) {
			cp_conf_format_size(k->min, &v);
			cp_buf_adds(&v, "..");
			cp_conf_format_size(k->max, &v);
		} else {
			cp_conf_format_duration(k->min, &v);
			cp_buf_adds(&v, "..");
			cp_conf_format_duration(k->max, &v);
		}
		json_object_set_new(o, "bounds", out_jstr(v.data));
	}
	if (k->values != NULL) {
		json_t *a = json_array();

		for (size_t i = 0; k->values[i] != NULL; i++)
			json_array_append_new(a, json_string(k->values[i]));
		json_object_set_new(o, "values", a);
	}
	json_object_set_new(o, "summary", out_jstr(k->summary));
	cp_buf_free(&v);
	return o;
}

static int
show_json(const cp_conf *c, const char *file)
{
	size_t n;
	const cp_conf_key *keys = cp_conf_keys(&n);
	json_t *o = json_object(), *a = json_array();
	cp_conf def;
	cp_err err;

	if (cp_conf_init(&def, &err) != CP_OK) {
		fprintf(stderr, "coldpost config: %s\n", err.msg);
		json_decref(o);
		json_decref(a);
		return CP_EXIT_SYS;
	}
	json_object_set_new(o, "file", out_jstr(file));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, key_json(c, &def, &keys[i]));
	json_object_set_new(o, "keys", a);
	out_json_pretty(stdout, o);
	json_decref(o);
	cp_conf_clear(&def);
	return CP_EXIT_OK;
}

/* Load path into *c; on failure print the problems (or JSON) and return
   the exit code. */
static int
load(cp_conf *c, const char *path, int json)
{
	cp_buf diags;
	cp_err err;
	int rc;

	cp_buf_init(&diags, 1 << 20);
	rc = cp_conf_load_file(c, path, &diags, &err);
	if (rc != CP_OK) {
		if (json) {
			json_t *o = json_object(), *a = json_array();
			const char *p = diags.data ? diags.data : "";

			while (*p) {
				size_t l = strcspn(p, "\n");

				json_array_append_new(a, json_stringn(p, l));
				p += l + (p[l] == '\n');
			}
			json_object_set_new(o, "file", out_jstr(path));
			json_object_set_new(o, "ok", json_false());
			json_object_set_new(o, "errors", a);
			out_json_pretty(stdout, o);
			json_decref(o);
		} else {
			fputs(diags.data ? diags.data : err.msg, stderr);
		}
	}
	cp_buf_free(&diags);
	if (rc == CP_OK)
		return CP_EXIT_OK;
	return rc == CP_EIO || rc == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_FAIL;
}

int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "defaults", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *sub;
	int defaults = 0, json = 0, c, rc;
	cp_conf conf;
	cp_err err;

	if (argc < 2 || out_is_help(argv[1])) {
		config_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CP_EXIT_USAGE : CP_EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "show") != 0 && strcmp(sub, "check") != 0) {
		fprintf(stderr, "coldpost config: unknown subcommand '%s' "
				"(show or check)\n", sub);
		return CP_EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "c:djh", opts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'd': defaults = 1; break;
		case 'j': json = 1; break;
		case 'h': config_usage(stdout); return CP_EXIT_OK;
		default: config_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "coldpost config: unexpected '%s' (the file "
				"goes after --config)\n", argv[optind + 1]);
		return CP_EXIT_USAGE;
	}
	if (strcmp(sub, "check") == 0 && defaults) {
		fprintf(stderr, "coldpost config: --defaults is for show\n");
		return CP_EXIT_USAGE;
	}
	if (defaults && path != NULL) {
		fprintf(stderr, "coldpost config: --defaults takes no "
				"--config\n");
		return CP_EXIT_USAGE;
	}
	if (path == NULL && !defaults)
		path = CP_CONF_PATH;

	if (defaults) {
		if (cp_conf_init(&conf, &err) != CP_OK) {
			fprintf(stderr, "coldpost config: %s\n", err.msg);
			return CP_EXIT_SYS;
		}
	} else if ((rc = load(&conf, path, json)) != CP_EXIT_OK) {
		return rc;
	}

	if (strcmp(sub, "check") == 0) {
		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "file", out_jstr(path));
			json_object_set_new(o, "ok", json_true());
			json_object_set_new(o, "errors", json_array());
			out_json_pretty(stdout, o);
			json_decref(o);
		} else {
			printf("%s: ok\n", path);
		}
		cp_conf_clear(&conf);
		return CP_EXIT_OK;
	}

	if (json) {
		rc = show_json(&conf, defaults ? NULL : path);
	} else {
		cp_buf out;

		cp_buf_init(&out, 64 << 20);
		if (defaults)
			cp_buf_adds(&out, "# coldpost configuration: the "
					  "built-in defaults\n\n");
		else
			cp_buf_addf(&out, "# coldpost configuration: %s over "
					  "the defaults\n\n", path);
		rc = cp_conf_dump(&conf,
		    defaults ? CP_CONF_DUMP_DOC : CP_CONF_DUMP_CHANGED, &out);
		if (rc == CP_OK)
			fputs(out.data, stdout);
		else
			fprintf(stderr, "coldpost config: %s\n",
			    cp_err_name(rc));
		cp_buf_free(&out);
		rc = rc == CP_OK ? CP_EXIT_OK : CP_EXIT_SYS;
	}
	cp_conf_clear(&conf);
	return rc;
}
