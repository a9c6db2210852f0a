/*
 * cmd_auth.c - `coldpost auth`: what a receiving server's SPF, DKIM and
 * DMARC checks make of a message, as an Authentication-Results field
 * (RFC 8601).
 *
 *   coldpost auth --ip 192.0.2.1 --helo mail.example.com
 *       --mail-from bounce@example.com < message.eml
 *   coldpost auth ... --json --dns-server 127.0.0.1:5353
 *
 * The message is read from stdin and streamed through the checks
 * (cp_auth_check_message, auth.c): only its header is held. Without
 * --json the output is the header field alone, folded, ready to be put
 * in front of the message; --json has each result with its details.
 * Exit status: 0 the results were computed (whatever they are, like
 * `coldpost spf` and `coldpost dmarc`), 1 bad input (zone file, PSL file,
 * header too large), 2 usage, 3 system error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/auth.h"
#include "tools.h"

static void
auth_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost auth --ip IP --helo NAME --mail-from ADDR "
	    "[--authserv-id ID]\n"
	    "                     [--json] [--dns-server HOST:PORT[,...] | "
	    "--zone FILE...]\n"
	    "                     [--timeout MS] [--now SECONDS] "
	    "[--pct-draw N]\n"
	    "                     [--psl FILE] < message\n\n"
	    "Checks the message on stdin as a receiving server would, for a "
	    "client at IP\nthat said HELO NAME and MAIL FROM:<ADDR>: SPF (the "
	    "MAIL FROM identity, or\nthe HELO name when ADDR is empty, the "
	    "null reverse path), every DKIM\nsignature, and DMARC for the "
	    "From header's domain with those results.\nPrints the "
	    "Authentication-Results header field (RFC 8601).\n\n"
	    "  --ip IP          the SMTP client's address\n"
	    "  --helo NAME      the HELO/EHLO name\n"
	    "  --mail-from ADDR the reverse path without <> ('' for a "
	    "bounce)\n"
	    "  --authserv-id ID the name in the field (default: this host's "
	    "name)\n"
	    "  --json           the three results with their details\n"
	    "  --dns-server S   ask these servers (HOST:PORT, [V6]:PORT, "
	    "comma-\n"
	    "                   separated) instead of /etc/resolv.conf's\n"
	    "  --zone FILE      answer from zone files instead of DNS (may be "
	    "repeated)\n"
	    "  --timeout MS     DNS: first try's timeout (default 2000)\n"
	    "  --now SECONDS    the time for DKIM t=/x= and SPF %%{t}\n"
	    "  --pct-draw N     DMARC pct= sampling draw (0-99) instead of a "
	    "random one\n"
	    "  --psl FILE       Public Suffix List (default: "
	    CP_PSL_DAFSA ")\n\n"
	    "exit: 0 results computed (pass or not), 1 bad input, 2 usage, "
	    "3 system error\n");
}

static int
parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static ssize_t
read_stdin(void *arg, char *buf, size_t len)
{
	size_t n = fread(buf, 1, len, (FILE *)arg);

	if (n == 0 && ferror((FILE *)arg))
		return -1;
	return (ssize_t)n;
}

static unsigned
fixed_draw(void *arg)
{
	return *(const unsigned *)arg;
}

static json_t *
spf_json(const cp_auth_verdict *v, const cp_auth_envelope *env)
{
	json_t *o = json_object();
	const cp_spf_result *r = &v->spf_res;

	json_object_set_new(o, "result",
	    json_string(cp_auth_result_name(v->spf)));
	json_object_set_new(o, "identity",
	    json_string(v->spf_helo ? "helo" : "mailfrom"));
	json_object_set_new(o, "domain", out_jstr(v->spf_domain));
	json_object_set_new(o, "ip", out_jstr(env->ip));
	json_object_set_new(o, "mail_from", out_jstr(env->mail_from ?
	    env->mail_from : ""));
	json_object_set_new(o, "helo", out_jstr(env->helo));
	json_object_set_new(o, "mechanism",
	    r->mechanism[0] ? out_jstr(r->mechanism) : json_null());
	json_object_set_new(o, "mechanism_domain",
	    r->mech_domain[0] ? out_jstr(r->mech_domain) : json_null());
	json_object_set_new(o, "reason", out_jstr(r->reason));
	json_object_set_new(o, "lookups", json_integer(r->lookups));
	json_object_set_new(o, "void_lookups", json_integer(r->void_lookups));
	json_object_set_new(o, "explanation", out_jstr(r->explanation));
	return o;
}

static json_t *
dkim_json(const cp_auth_verdict *v)
{
	json_t *o = json_object(), *a = json_array();

	json_object_set_new(o, "result",
	    json_string(cp_auth_result_name(v->dkim)));
	for (size_t i = 0; i < v->nsigs; i++) {
		const cp_auth_dkim *s = &v->sigs[i];
		json_t *e = json_object();

		json_object_set_new(e, "result",
		    json_string(cp_auth_result_name(s->result)));
		json_object_set_new(e, "domain", out_jstr(s->r.domain));
		json_object_set_new(e, "selector", out_jstr(s->r.selector));
		json_object_set_new(e, "identity", out_jstr(s->r.identity));
		json_object_set_new(e, "algorithm", out_jstr(s->r.alg));
		json_object_set_new(e, "canon", out_jstr(s->r.canon));
		json_object_set_new(e, "b", out_jstr(s->b));
		json_object_set_new(e, "reason", s->result == CP_AUTH_PASS
		    ? json_null()
		    : json_string(cp_dkim_reason_name(s->r.reason)));
		json_object_set_new(e, "detail",
		    s->r.why[0] ? out_jstr(s->r.why) : json_null());
		json_object_set_new(e, "key_bits", s->r.key_bits
		    ? json_integer(s->r.key_bits) : json_null());
		json_object_set_new(e, "testing", json_boolean(s->r.testing));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "signatures", a);
	return o;
}

static json_t *
dmarc_json(const cp_auth_verdict *v)
{
	json_t *o = json_object(), *doms = json_array(), *addrs = json_array();

	json_object_set_new(o, "result",
	    json_string(cp_dmarc_result_name(v->dmarc)));
	json_object_set_new(o, "disposition",
	    json_string(cp_dmarc_disposition_name(v->disposition)));
	json_object_set_new(o, "from_domain",
	    v->dmarc_domain[0] ? out_jstr(v->dmarc_domain) : json_null());
	json_object_set_new(o, "reason", out_jstr(v->dmarc_reason));
	json_object_set_new(o, "from_fields", json_integer(
	    (json_int_t)v->nfrom_fields));
	json_object_set_new(o, "from_error",
	    v->from_error[0] ? out_jstr(v->from_error) : json_null());
	for (size_t i = 0; i < v->from.n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "local", out_jstr(v->from.mbox[i].local));
		json_object_set_new(e, "domain", out_jstr(v->from.mbox[i].domain));
		json_array_append_new(addrs, e);
	}
	json_object_set_new(o, "from_addresses", addrs);
	for (size_t i = 0; i < v->ndmarcs; i++) {
		const cp_dmarc_verdict *d = &v->dmarcs[i].v;
		json_t *e = json_object(), *dk = json_array();

		json_object_set_new(e, "domain", out_jstr(v->dmarcs[i].domain));
		json_object_set_new(e, "result",
		    json_string(cp_dmarc_result_name(d->result)));
		json_object_set_new(e, "disposition",
		    json_string(cp_dmarc_disposition_name(d->disposition)));
		json_object_set_new(e, "policy", d->have_record
		    ? json_string(cp_dmarc_policy_name(d->policy)) : json_null());
		json_object_set_new(e, "policy_tag", out_jstr(d->policy_tag));
		json_object_set_new(e, "record", out_jstr(d->record_txt));
		json_object_set_new(e, "record_name", d->record_name[0]
		    ? out_jstr(d->record_name) : json_null());
		json_object_set_new(e, "org_domain", out_jstr(d->org_domain));
		json_object_set_new(e, "spf_aligned", json_boolean(d->spf.counts));
		for (size_t k = 0; k < d->ndkim; k++) {
			json_t *x = json_object();

			json_object_set_new(x, "domain", out_jstr(d->dkim[k].domain));
			json_object_set_new(x, "aligned",
			    json_boolean(d->dkim[k].aligned));
			json_object_set_new(x, "counts",
			    json_boolean(d->dkim[k].counts));
			json_array_append_new(dk, x);
		}
		json_object_set_new(e, "dkim_alignment", dk);
		json_object_set_new(e, "reason", out_jstr(d->reason));
		json_array_append_new(doms, e);
	}
	json_object_set_new(o, "domains", doms);
	return o;
}

int
cmd_auth(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "mail-from", required_argument, NULL, 'm' },
		{ "authserv-id", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "dns-server", required_argument, NULL, 'S' },
		{ "zone", required_argument, NULL, 'z' },
		{ "timeout", required_argument, NULL, 't' },
		{ "now", required_argument, NULL, 'n' },
		{ "pct-draw", required_argument, NULL, 'p' },
		{ "psl", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cp_auth_envelope env = { 0 };
	cp_auth_opts o = { 0 };
	cp_auth_verdict v;
	const char *servers = NULL, *zones[64], *psl_path = NULL;
	const char *authserv = NULL;
	char host[256];
	size_t nzones = 0;
	int json = 0, c, rc = CP_EXIT_OK, have_from = 0;
	long long timeout = 0, now = 0, n;
	unsigned draw = 0;
	cp_err err = { 0 };
	cp_dns *d = NULL;
	cp_psl *psl = NULL;
	cp_buf field;

	memset(&v, 0, sizeof(v));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+i:H:m:a:jS:z:t:n:p:P:h", opts,
	    NULL)) != -1) {
		switch (c) {
		case 'i': env.ip = optarg; break;
		case 'H': env.helo = optarg; break;
		case 'm': env.mail_from = optarg; have_from = 1; break;
		case 'a': authserv = optarg; break;
		case 'j': json = 1; break;
		case 'S': servers = optarg; break;
		case 'z':
			if (nzones == CP_NELEM(zones)) {
				fprintf(stderr, "coldpost auth: at most %zu "
				    "--zone files\n", CP_NELEM(zones));
				return CP_EXIT_USAGE;
			}
			zones[nzones++] = optarg;
			break;
		case 't':
			if (parse_num(optarg, 1, 600000, &timeout) != 0) {
				fprintf(stderr, "coldpost auth: --timeout wants "
				    "milliseconds, 1 to 600000\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'n':
			if (parse_num(optarg, 1, 999999999999LL, &now) != 0) {
				fprintf(stderr, "coldpost auth: --now wants "
				    "seconds since 1970\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'p':
			if (parse_num(optarg, 0, 99, &n) != 0) {
				fprintf(stderr, "coldpost auth: --pct-draw wants "
				    "a number from 0 to 99\n");
				return CP_EXIT_USAGE;
			}
			draw = (unsigned)n;
			o.roll = fixed_draw;
			o.roll_arg = &draw;
			break;
		case 'P': psl_path = optarg; break;
		case 'h': auth_usage(stdout); return CP_EXIT_OK;
		default: auth_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind < argc || env.ip == NULL || env.helo == NULL || !have_from) {
		fprintf(stderr, "coldpost auth: %s\n", optind < argc
		    ? "unexpected argument (the message comes on stdin)"
		    : "--ip, --helo and --mail-from are required");
		auth_usage(stderr);
		return CP_EXIT_USAGE;
	}
	if (env.mail_from[0] == '\0' && env.helo[0] == '\0') {
		fprintf(stderr, "coldpost auth: --mail-from '' (the null reverse "
		    "path) is checked as the HELO name: give --helo\n");
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && nzones > 0) {
		fprintf(stderr, "coldpost auth: --zone and --dns-server exclude "
		    "each other\n");
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && cp_dns_check_servers(servers, &err) != CP_OK) {
		fprintf(stderr, "coldpost auth: --dns-server: %s\n", err.msg);
		return CP_EXIT_USAGE;
	}
	if (authserv == NULL) {
		if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		authserv = host;
	}
	psl = cp_psl_load(psl_path, &err);
	if (psl == NULL) {
		fprintf(stderr, "coldpost auth: %s\n", err.msg);
		return err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_FAIL;
	}
	d = tools_open_resolver("auth", servers, zones, nzones, timeout,
	    CP_EXIT_FAIL, &rc);
	if (d == NULL) {
		cp_psl_free(psl);
		return rc;
	}
	o.dns = d;
	o.psl = psl;
	o.now = now;
	o.receiver = authserv;
	cp_buf_init(&field, 1024 * 1024);
	rc = cp_auth_check_message(&o, &env, read_stdin, stdin, &v, &err);
	if (rc == CP_OK)
		rc = cp_auth_render(&v, &env, authserv, json ? NULL : "\n\t",
		    &field, &err);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg);
		rc = rc == CP_ENOMEM ? CP_EXIT_SYS : rc == CP_EIO ? CP_EXIT_SYS
		    : CP_EXIT_FAIL;
		goto out;
	}
	if (json) {
		json_t *j = json_object();

		json_object_set_new(j, "authentication_results",
		    out_jstr(field.data));
		json_object_set_new(j, "authserv_id", out_jstr(authserv));
		json_object_set_new(j, "spf", spf_json(&v, &env));
		json_object_set_new(j, "dkim", dkim_json(&v));
		json_object_set_new(j, "dmarc", dmarc_json(&v));
		json_object_set_new(j, "dns", json_string(nzones ? "zone"
		    : servers ? servers : "system"));
		out_json_pretty(stdout, j);
		json_decref(j);
	} else {
		printf("%s\n", field.data);
	}
	rc = (fflush(stdout) != 0 || ferror(stdout)) ? CP_EXIT_SYS : CP_EXIT_OK;
out:
	cp_buf_free(&field);
	cp_auth_verdict_clear(&v);
	cp_dns_free(d);
	cp_psl_free(psl);
	return rc;
}
