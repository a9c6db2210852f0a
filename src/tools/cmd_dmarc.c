/*
 * cmd_dmarc.c - `coldpost dmarc`: DMARC evaluation (RFC 7489) on the
 * command line, for SPF and DKIM outcomes given as arguments.
 *
 *   coldpost dmarc --from-domain example.com --spf pass:bounce.example.com
 *   coldpost dmarc --from-domain news.example.co.uk --dkim pass:example.co.uk
 *       --dkim fail:esp.example --json
 *   coldpost dmarc --from-domain example.com --zone try.zone --authserv-id mx
 *
 * Prints the result and the disposition, the record seen and where, the
 * organizational domain, the policy that applied (p, sp or np, and pct),
 * and the alignment of each identifier; with --authserv-id also the
 * Authentication-Results dmarc= entry. DNS goes to the system's resolvers,
 * to --dns-server, or with --zone to zone files in the fake resolver (to
 * try a record before publishing it). Exit status: 0 a result was computed
 * (pass, fail, none, temperror, permerror alike, as `coldpost spf`), 1 bad
 * input (malformed zone file, From domain or PSL file), 2 usage, 3 system
 * error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/authres.h"
#include "coldpost/dmarc.h"
#include "coldpost/dns.h"
#include "tools.h"

#define DKIM_MAX 32

static void
dmarc_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost dmarc --from-domain D [--spf RESULT:DOMAIN]\n"
	    "                      [--dkim RESULT:DOMAIN[:SELECTOR]]... [--json]\n"
	    "                      [--dns-server HOST:PORT[,...] | --zone FILE...]\n"
	    "                      [--authserv-id ID] [--pct-draw N] [--psl FILE]\n\n"
	    "Evaluates DMARC (RFC 7489) for a message from D whose SPF and DKIM\n"
	    "checks gave these outcomes: finds the policy record, checks the\n"
	    "alignment of each identifier with D, and says the result (pass, fail,\n"
	    "none, temperror, permerror) and the disposition (none, quarantine,\n"
	    "reject).\n\n"
	    "  --from-domain D  the RFC5322.From domain\n"
	    "  --spf R:DOMAIN   the SPF result and the domain SPF checked (MAIL\n"
	    "                   FROM domain, or the HELO name for a null sender)\n"
	    "  --dkim R:DOMAIN[:SEL]  a DKIM signature's result and d= (repeat for\n"
	    "                   each signature; the selector is for --authserv-id)\n"
	    "                   R: pass, fail, softfail, neutral, none, temperror,\n"
	    "                   permerror, policy\n"
	    "  --json           one JSON object: result, disposition, record,\n"
	    "                   org_domain, policy, spf, dkim (alignment), ...\n"
	    "  --authserv-id ID also print the Authentication-Results field\n"
	    "  --pct-draw N     use N (0-99) as the pct= sampling draw instead of\n"
	    "                   a random one\n"
	    "  --psl FILE       Public Suffix List (default: the publicsuffix\n"
	    "                   package's " CP_PSL_DAFSA ")\n"
	    "  --dns-server S   ask these servers (HOST:PORT, [V6]:PORT, comma-\n"
	    "                   separated) instead of /etc/resolv.conf's\n"
	    "  --zone FILE      answer from this zone file instead of DNS (may be\n"
	    "                   repeated): try a record before publishing it\n"
	    "  --timeout MS     DNS: first try's timeout (default 2000)\n\n"
	    "exit: 0 a result was computed (pass, fail, none, temperror, "
	    "permerror\n      alike), 1 bad input, 2 usage, 3 system error\n");
}

/* "RESULT:DOMAIN[:SELECTOR]" in place: 0, or -1 with a message. */
static int
parse_outcome(const char *opt, char *arg, int with_selector,
    cp_auth_result *r, char **domain, char **selector)
{
	char *c = strchr(arg, ':'), *s;

	if (c == NULL || c[1] == '\0') {
		fprintf(stderr, "coldpost dmarc: --%s '%s': expected "
		    "RESULT:DOMAIN\n", opt, arg);
		return -1;
	}
	*c = '\0';
	if (cp_auth_result_from_name(arg, r) != CP_OK) {
		fprintf(stderr, "coldpost dmarc: --%s: unknown result '%s' (pass, "
		    "fail, softfail, neutral, none, temperror, permerror, "
		    "policy)\n", opt, arg);
		return -1;
	}
	*domain = c + 1;
	if (selector != NULL)
		*selector = NULL;
	s = strchr(c + 1, ':');
	if (s != NULL) {
		if (!with_selector) {
			fprintf(stderr, "coldpost dmarc: --%s: expected "
			    "RESULT:DOMAIN\n", opt);
			return -1;
		}
		*s = '\0';
		*selector = s + 1;
	}
	return 0;
}

static const char *
mode_name(cp_dmarc_align a)
{
	return a == CP_DMARC_ALIGN_STRICT ? "strict" : "relaxed";
}

static json_t *
ident_json(const cp_dmarc_ident *id, cp_dmarc_align mode, const char *sel)
{
	json_t *o = json_object();

	json_object_set_new(o, "result",
	    json_string(cp_auth_result_name(id->result)));
	json_object_set_new(o, "domain", out_jstr(id->domain));
	if (sel != NULL)
		json_object_set_new(o, "selector", out_jstr(sel));
	json_object_set_new(o, "org_domain",
	    id->org_domain[0] ? out_jstr(id->org_domain) : json_null());
	json_object_set_new(o, "aligned", json_boolean(id->aligned));
	json_object_set_new(o, "mode", json_string(mode_name(mode)));
	json_object_set_new(o, "aligned_relaxed",
	    json_boolean(id->aligned_relaxed));
	json_object_set_new(o, "aligned_strict", json_boolean(id->aligned_strict));
	json_object_set_new(o, "counts", json_boolean(id->counts));
	return o;
}

static json_t *
uris_json(const cp_dmarc_uri *u, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "uri", out_jstr(u[i].uri));
		json_object_set_new(o, "max_size", u[i].max_size
		    ? json_integer((json_int_t)u[i].max_size) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
record_json(const cp_dmarc_record *r)
{
	json_t *o = json_object();
	char fo[8];
	size_t n = 0;

	json_object_set_new(o, "p", json_string(cp_dmarc_policy_name(r->p)));
	json_object_set_new(o, "sp", r->sp ? json_string(
	    cp_dmarc_policy_name(r->sp)) : json_null());
	json_object_set_new(o, "np", r->np ? json_string(
	    cp_dmarc_policy_name(r->np)) : json_null());
	json_object_set_new(o, "adkim", json_string(cp_dmarc_align_name(r->adkim)));
	json_object_set_new(o, "aspf", json_string(cp_dmarc_align_name(r->aspf)));
	json_object_set_new(o, "pct", json_integer(r->pct));
	if (r->fo & CP_DMARC_FO_0)
		fo[n++] = '0';
	if (r->fo & CP_DMARC_FO_1)
		fo[n++] = '1';
	if (r->fo & CP_DMARC_FO_D)
		fo[n++] = 'd';
	if (r->fo & CP_DMARC_FO_S)
		fo[n++] = 's';
	fo[n] = '\0';
	json_object_set_new(o, "fo", json_string(fo));
	json_object_set_new(o, "ri", json_integer(r->ri));
	json_object_set_new(o, "rua", uris_json(r->rua, r->nrua));
	json_object_set_new(o, "ruf", uris_json(r->ruf, r->nruf));
	return o;
}

static json_t *
verdict_json(const cp_dmarc_verdict *v, char **selectors, const char *dns,
    const char *authres)
{
	json_t *o = json_object(), *dk = json_array();
	cp_dmarc_align adkim = v->have_record ? v->rec.adkim
					      : CP_DMARC_ALIGN_RELAXED;
	cp_dmarc_align aspf = v->have_record ? v->rec.aspf
					     : CP_DMARC_ALIGN_RELAXED;

	json_object_set_new(o, "result",
	    json_string(cp_dmarc_result_name(v->result)));
	json_object_set_new(o, "disposition",
	    json_string(cp_dmarc_disposition_name(v->disposition)));
	json_object_set_new(o, "reason", out_jstr(v->reason));
	json_object_set_new(o, "from_domain", out_jstr(v->from_domain));
	json_object_set_new(o, "org_domain", out_jstr(v->org_domain));
	json_object_set_new(o, "record", out_jstr(v->record_txt));
	json_object_set_new(o, "record_name",
	    v->record_name[0] ? out_jstr(v->record_name) : json_null());
	json_object_set_new(o, "record_at_org", json_boolean(v->record_at_org));
	json_object_set_new(o, "parsed",
	    v->have_record ? record_json(&v->rec) : json_null());
	json_object_set_new(o, "policy", v->have_record
	    ? json_string(cp_dmarc_policy_name(v->policy)) : json_null());
	json_object_set_new(o, "policy_tag",
	    v->policy_tag ? json_string(v->policy_tag) : json_null());
	json_object_set_new(o, "pct", v->have_record
	    ? json_integer(v->rec.pct) : json_null());
	json_object_set_new(o, "sampled", json_boolean(v->sampled));
	json_object_set_new(o, "sampled_out", json_boolean(v->sampled_out));
	json_object_set_new(o, "pct_draw",
	    v->sampled ? json_integer(v->roll) : json_null());
	json_object_set_new(o, "from_exists", v->from_exists < 0 ? json_null()
	    : json_boolean(v->from_exists));
	json_object_set_new(o, "spf", v->spf.domain[0]
	    ? ident_json(&v->spf, aspf, NULL) : json_null());
	for (size_t i = 0; i < v->ndkim; i++)
		json_array_append_new(dk, ident_json(&v->dkim[i], adkim,
		    selectors[i]));
	json_object_set_new(o, "dkim", dk);
	if (authres != NULL)
		json_object_set_new(o, "authentication_results", out_jstr(authres));
	json_object_set_new(o, "dns", json_string(dns));
	return o;
}

static void
print_ident(const char *label, const cp_dmarc_ident *id, cp_dmarc_align mode)
{
	printf("  %-13s%s for %s", label, cp_auth_result_name(id->result),
	    id->domain);
	if (id->org_domain[0] && strcmp(id->org_domain, id->domain) != 0)
		printf(" (org %s)", id->org_domain);
	printf(": %s (%s)%s\n", id->aligned ? "aligned" : "not aligned",
	    mode_name(mode), id->counts ? ", counts" : "");
}

static void
print_human(const cp_dmarc_verdict *v, const char *authres)
{
	cp_dmarc_align adkim = v->have_record ? v->rec.adkim
					      : CP_DMARC_ALIGN_RELAXED;
	cp_dmarc_align aspf = v->have_record ? v->rec.aspf
					     : CP_DMARC_ALIGN_RELAXED;

	printf("dmarc: %s (disposition: %s)\n", cp_dmarc_result_name(v->result),
	    cp_dmarc_disposition_name(v->disposition));
	printf("  %-13s%s", "from domain:", v->from_domain);
	if (strcmp(v->org_domain, v->from_domain) != 0)
		printf(" (organizational domain %s)", v->org_domain);
	putchar('\n');
	if (v->record_txt)
		printf("  %-13s%s: \"%s\"\n", "record:", v->record_name,
		    v->record_txt);
	else
		printf("  %-13snone found\n", "record:");
	if (v->have_record) {
		printf("  %-13s%s=%s", "policy:", v->policy_tag,
		    cp_dmarc_policy_name(v->policy));
		if (v->rec.pct != 100)
			printf(", pct=%u", v->rec.pct);
		if (v->sampled)
			printf(" (draw %u: %s)", v->roll, v->sampled_out
			    ? "outside pct, one step milder" : "inside pct");
		if (strcmp(v->policy_tag, "np") == 0)
			printf(" (the From domain does not exist)");
		putchar('\n');
	}
	if (v->spf.domain[0])
		print_ident("spf:", &v->spf, aspf);
	else
		printf("  %-13snot given\n", "spf:");
	for (size_t i = 0; i < v->ndkim; i++)
		print_ident("dkim:", &v->dkim[i], adkim);
	if (v->ndkim == 0)
		printf("  %-13snone given\n", "dkim:");
	printf("  %-13s%s\n", "why:", v->reason);
	if (authres != NULL)
		printf("\n%s\n", authres);
}

static unsigned
fixed_draw(void *arg)
{
	return *(const unsigned *)arg;
}

/* The Authentication-Results field for the outcomes given, or NULL. */
static char *
make_authres(const char *id, const cp_dmarc_query *q, char **selectors,
    const cp_dmarc_verdict *v, cp_err *err)
{
	cp_authres *ar = cp_authres_new(id, err);
	cp_buf b;
	int rc = ar ? CP_OK : err->code;

	cp_buf_init(&b, 64 * 1024);
	if (rc == CP_OK && q->spf_domain)
		rc = cp_authres_add_spf(ar, q->spf_result, q->spf_domain, NULL,
		    NULL, err);
	for (size_t i = 0; rc == CP_OK && i < q->ndkim; i++)
		rc = cp_authres_add_dkim(ar, q->dkim[i].result, q->dkim[i].domain,
		    selectors[i], NULL, NULL, err);
	if (rc == CP_OK)
		rc = cp_dmarc_add_authres(ar, v, err);
	if (rc == CP_OK)
		rc = cp_authres_render(ar, "\n\t", &b, err);
	cp_authres_free(ar);
	if (rc != CP_OK) {
		cp_buf_free(&b);
		return NULL;
	}
	return cp_buf_steal(&b);
}

int
cmd_dmarc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from-domain", required_argument, NULL, 'f' },
		{ "spf", required_argument, NULL, 's' },
		{ "dkim", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "dns-server", required_argument, NULL, 'S' },
		{ "zone", required_argument, NULL, 'z' },
		{ "timeout", required_argument, NULL, 't' },
		{ "authserv-id", required_argument, NULL, 'a' },
		{ "pct-draw", required_argument, NULL, 'p' },
		{ "psl", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cp_dmarc_dkim dkim[DKIM_MAX];
	char *selectors[DKIM_MAX];
	const char *servers = NULL, *zones[64], *psl_path = NULL;
	const char *authserv = NULL;
	char *authres = NULL, *end, *dom;
	size_t nzones = 0;
	int json = 0, c, rc = CP_EXIT_OK;
	long timeout = 0;
	unsigned draw = 0;
	cp_dmarc_query q = { 0 };
	cp_dmarc_verdict v;
	cp_err err = { 0 };
	cp_dns *d;
	cp_psl *psl;

	memset(&v, 0, sizeof(v));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:s:k:jS:z:t:a:p:P:h", opts,
	    NULL)) != -1) {
		switch (c) {
		case 'f': q.from_domain = optarg; break;
		case 's':
			if (parse_outcome("spf", optarg, 0, &q.spf_result, &dom,
			    NULL) != 0)
				return CP_EXIT_USAGE;
			q.spf_domain = dom;
			break;
		case 'k':
			if (q.ndkim == DKIM_MAX) {
				fprintf(stderr, "coldpost dmarc: at most %d "
				    "--dkim\n", DKIM_MAX);
				return CP_EXIT_USAGE;
			}
			if (parse_outcome("dkim", optarg, 1, &dkim[q.ndkim].result,
			    &dom, &selectors[q.ndkim]) != 0)
				return CP_EXIT_USAGE;
			dkim[q.ndkim].domain = dom;
			dkim[q.ndkim].selector = selectors[q.ndkim];
			q.ndkim++;
			break;
		case 'j': json = 1; break;
		case 'S': servers = optarg; break;
		case 'z':
			if (nzones == CP_NELEM(zones)) {
				fprintf(stderr, "coldpost dmarc: at most %zu "
				    "--zone files\n", CP_NELEM(zones));
				return CP_EXIT_USAGE;
			}
			zones[nzones++] = optarg;
			break;
		case 't':
			timeout = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || timeout < 1 ||
			    timeout > 600000) {
				fprintf(stderr, "coldpost dmarc: --timeout wants "
				    "milliseconds, 1 to 600000\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'a': authserv = optarg; break;
		case 'p': {
			long n = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || n < 0 || n > 99) {
				fprintf(stderr, "coldpost dmarc: --pct-draw wants "
				    "a number from 0 to 99\n");
				return CP_EXIT_USAGE;
			}
			draw = (unsigned)n;
			q.roll = fixed_draw;
			q.roll_arg = &draw;
			break;
		}
		case 'P': psl_path = optarg; break;
		case 'h': dmarc_usage(stdout); return CP_EXIT_OK;
		default: dmarc_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind < argc || q.from_domain == NULL) {
		fprintf(stderr, "coldpost dmarc: %s\n", optind < argc
		    ? "unexpected argument" : "--from-domain is required");
		dmarc_usage(stderr);
		return CP_EXIT_USAGE;
	}
	q.dkim = dkim;
	if (servers != NULL && nzones > 0) {
		fprintf(stderr, "coldpost dmarc: --zone and --dns-server exclude "
		    "each other\n");
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && cp_dns_check_servers(servers, &err) != CP_OK) {
		fprintf(stderr, "coldpost dmarc: --dns-server: %s\n", err.msg);
		return CP_EXIT_USAGE;
	}
	psl = cp_psl_load(psl_path, &err);
	if (psl == NULL) {
		fprintf(stderr, "coldpost dmarc: %s\n", err.msg);
		return err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_FAIL;
	}
	d = tools_open_resolver("dmarc", servers, zones, nzones, timeout,
	    CP_EXIT_FAIL, &rc);
	if (d == NULL) {
		cp_psl_free(psl);
		return rc;
	}
	if (cp_dmarc_evaluate(d, psl, &q, &v, &err) != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg); /* "dmarc: ..." */
		rc = err.code == CP_EINVAL ? CP_EXIT_FAIL : CP_EXIT_SYS;
		goto out;
	}
	if (authserv != NULL) {
		authres = make_authres(authserv, &q, selectors, &v, &err);
		if (authres == NULL) {
			fprintf(stderr, "coldpost dmarc: --authserv-id: %s\n",
			    err.msg);
			rc = err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_USAGE;
			goto out;
		}
	}
	if (json) {
		json_t *o = verdict_json(&v, selectors, nzones ? "zone"
		    : servers ? servers : "system", authres);

		out_json_pretty(stdout, o);
		json_decref(o);
	} else {
		print_human(&v, authres);
	}
	fflush(stdout);
	rc = ferror(stdout) ? CP_EXIT_SYS : CP_EXIT_OK;
out:
	cp_free(authres);
	cp_dmarc_verdict_clear(&v);
	cp_dns_free(d);
	cp_psl_free(psl);
	return rc;
}
