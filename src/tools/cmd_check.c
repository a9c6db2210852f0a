/*
 * cmd_check.c - `coldpost check DOMAIN`: will mail from DOMAIN pass at
 * Gmail, Microsoft and Yahoo? The deliverability test of its DNS set-up.
 *
 *   coldpost check example.com --ip 203.0.113.5 --selector s1
 *   coldpost check example.com --json --dns-server 127.0.0.1:5353
 *
 * Runs cp_check_domain (src/check/) and prints its findings grouped by
 * subject (SPF, DKIM, DMARC, MX, reverse DNS, MTA-STS, TLS-RPT), each with
 * its status, what was seen and the fix, then a summary line; --json
 * prints the same as one object (schema in coldpost-check(1)). Exit
 * status: 0 no finding failed, 1 at least one failed, 2 usage, 3 system
 * error (memory, resolver, output).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/check.h"
#include "coldpost/dmarc.h"
#include "coldpost/dns.h"
#include "tools.h"

#define CHECK_ARGS_MAX 64

static void
check_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost check DOMAIN [--selector S]... [--ip IP]... "
	    "[--json]\n"
	    "                      [--dns-server HOST:PORT[,...] | --zone "
	    "FILE...]\n"
	    "                      [--timeout MS] [--psl FILE]\n\n"
	    "The deliverability test of a sending domain: what receivers look "
	    "at, found\nin DNS. SPF (one record, syntax, lookups through "
	    "include/redirect, void\nlookups, the all term, each --ip "
	    "authorized), DKIM (the key of each\nselector: present, valid, "
	    "type and size, testing, revoked; common selectors\nare tried "
	    "when none is given), DMARC (record, policy, pct, rua, sp, the\n"
	    "organizational domain's record), MX (null MX), reverse DNS of "
	    "each --ip\n(PTR, forward-confirmed, a plausible EHLO name), "
	    "MTA-STS and TLS-RPT\nrecords. Each finding is pass, warn or "
	    "fail, with the records seen and\nthe fix.\n\n"
	    "  --selector S     a DKIM selector you sign with (repeat for "
	    "several)\n"
	    "  --ip IP          an address your mail leaves from (repeat for "
	    "several)\n"
	    "  --json           one JSON object (schema in coldpost-check(1))\n"
	    "  --dns-server S   ask these servers (HOST:PORT, [V6]:PORT, "
	    "comma-\n"
	    "                   separated) instead of /etc/resolv.conf's\n"
	    "  --zone FILE      answer from zone files instead of DNS (try "
	    "records\n"
	    "                   before publishing them; may be repeated)\n"
	    "  --timeout MS     DNS: first try's timeout (default 2000)\n"
	    "  --psl FILE       Public Suffix List (default: "
	    CP_PSL_DAFSA ")\n\n"
	    "exit: 0 no finding failed, 1 at least one failed, 2 usage, "
	    "3 system error\n");
}

static const struct {
	const char *group, *title;
} check_groups[] = {
	{ "spf", "SPF (RFC 7208)" },
	{ "dkim", "DKIM (RFC 6376)" },
	{ "dmarc", "DMARC (RFC 7489)" },
	{ "mx", "MX: replies and bounces" },
	{ "ptr", "Reverse DNS of the sending IPs" },
	{ "mta_sts", "MTA-STS (RFC 8461)" },
	{ "tls_rpt", "TLS-RPT (RFC 8460)" },
};

static json_t *
strs_json(char *const *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, out_jstr(s[i]));
	return a;
}

static json_t *
report_json(const cp_check_report *r, const cp_check_opts *o,
    const char *dns)
{
	json_t *j = json_object(), *fs = json_array(), *sum = json_object();

	json_object_set_new(j, "domain", out_jstr(r->domain));
	json_object_set_new(j, "org_domain", out_jstr(r->org_domain));
	json_object_set_new(j, "result", json_string(r->nfail ? "fail"
	    : r->nwarn ? "warn" : "pass"));
	json_object_set_new(sum, "pass", json_integer((json_int_t)r->npass));
	json_object_set_new(sum, "warn", json_integer((json_int_t)r->nwarn));
	json_object_set_new(sum, "fail", json_integer((json_int_t)r->nfail));
	json_object_set_new(j, "summary", sum);
	json_object_set_new(j, "exit", json_integer(r->nfail ? CP_EXIT_FAIL
	    : CP_EXIT_OK));
	json_object_set_new(j, "ips", strs_json((char *const *)o->ips,
	    o->nips));
	json_object_set_new(j, "selectors", strs_json(
	    (char *const *)o->selectors, o->nselectors));
	json_object_set_new(j, "selectors_probed",
	    json_boolean(r->dkim_probed));
	json_object_set_new(j, "dkim_found", strs_json(r->dkim_found,
	    r->ndkim_found));
	json_object_set_new(j, "spf_lookups", r->spf_lookups < 0 ? json_null()
	    : json_integer(r->spf_lookups));
	json_object_set_new(j, "spf_void_lookups", json_integer(r->spf_void));
	json_object_set_new(j, "spf_tree", strs_json(r->spf_tree,
	    r->nspf_tree));
	json_object_set_new(j, "spf_path", out_jstr(r->spf_path));
	for (size_t i = 0; i < r->n; i++) {
		const cp_check_finding *f = &r->findings[i];
		json_t *e = json_object();

		json_object_set_new(e, "id", json_string(f->id));
		json_object_set_new(e, "group", json_string(f->group));
		json_object_set_new(e, "status",
		    json_string(cp_check_status_name(f->status)));
		json_object_set_new(e, "subject", out_jstr(f->subject));
		json_object_set_new(e, "summary", out_jstr(f->summary));
		json_object_set_new(e, "detail", out_jstr(f->detail));
		json_object_set_new(e, "evidence", strs_json(f->evidence,
		    f->nevidence));
		json_object_set_new(e, "fix", out_jstr(f->fix));
		json_array_append_new(fs, e);
	}
	json_object_set_new(j, "findings", fs);
	json_object_set_new(j, "dns", json_string(dns));
	return j;
}

static void
print_human(const cp_check_report *r)
{
	printf("coldpost check %s", r->domain);
	if (strcmp(r->domain, r->org_domain) != 0)
		printf(" (organizational domain %s)", r->org_domain);
	printf("\n");
	for (size_t g = 0; g < CP_NELEM(check_groups); g++) {
		int any = 0;

		for (size_t i = 0; i < r->n; i++) {
			const cp_check_finding *f = &r->findings[i];
			const char *tag = f->status == CP_CHECK_PASS ? "PASS"
			    : f->status == CP_CHECK_WARN ? "WARN" : "FAIL";

			if (strcmp(f->group, check_groups[g].group) != 0)
				continue;
			if (!any)
				printf("\n%s\n", check_groups[g].title);
			any = 1;
			printf("  %s  %s%s%s%s: %s\n", tag, f->id,
			    f->subject ? " [" : "", f->subject ? f->subject : "",
			    f->subject ? "]" : "", f->summary);
			for (size_t k = 0; k < f->nevidence; k++)
				printf("          | %s\n", f->evidence[k]);
			if (f->detail != NULL)
				out_wrap(stdout, f->detail, 10, 78);
			if (f->fix != NULL && f->status != CP_CHECK_PASS) {
				printf("          fix:\n");
				out_wrap(stdout, f->fix, 12, 78);
			}
		}
	}
	printf("\n%s: %zu pass, %zu warn, %zu fail%s\n", r->domain, r->npass,
	    r->nwarn, r->nfail, r->nfail ? " - mail from it will meet "
	    "trouble: fix the FAIL lines first" : r->nwarn ? "" : " - all "
	    "good");
}

int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "selector", required_argument, NULL, 's' },
		{ "ip", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "dns-server", required_argument, NULL, 'S' },
		{ "zone", required_argument, NULL, 'z' },
		{ "timeout", required_argument, NULL, 't' },
		{ "psl", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sels[CHECK_ARGS_MAX], *ips[CHECK_ARGS_MAX];
	const char *zones[CHECK_ARGS_MAX], *servers = NULL, *psl_path = NULL;
	size_t nsels = 0, nips = 0, nzones = 0;
	int json = 0, c, rc;
	long timeout = 0;
	char *end;
	cp_check_opts o = { 0 };
	cp_check_report *r = NULL;
	cp_err err = { 0 };
	cp_psl *psl;
	cp_dns *d;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:i:jS:z:t:P:h", opts, NULL)) !=
	    -1) {
		switch (c) {
		case 's':
		case 'i':
		case 'z': {
			const char **arr = c == 's' ? sels : c == 'i' ? ips : zones;
			size_t *n = c == 's' ? &nsels : c == 'i' ? &nips : &nzones;

			if (*n == CHECK_ARGS_MAX) {
				fprintf(stderr, "coldpost check: at most %d of "
				    "--%s\n", CHECK_ARGS_MAX, c == 's' ? "selector"
				    : c == 'i' ? "ip" : "zone");
				return CP_EXIT_USAGE;
			}
			arr[(*n)++] = optarg;
			break;
		}
		case 'j': json = 1; break;
		case 'S': servers = optarg; break;
		case 't':
			errno = 0;
			timeout = strtol(optarg, &end, 10);
			if (errno || *optarg == '\0' || *end != '\0' ||
			    timeout < 1 || timeout > 600000) {
				fprintf(stderr, "coldpost check: --timeout wants "
				    "milliseconds, 1 to 600000\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'P': psl_path = optarg; break;
		case 'h': check_usage(stdout); return CP_EXIT_OK;
		default: check_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "coldpost check: %s\n", optind >= argc
		    ? "which domain? (coldpost check DOMAIN)"
		    : "one domain at a time");
		check_usage(stderr);
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && nzones > 0) {
		fprintf(stderr, "coldpost check: --zone and --dns-server exclude "
		    "each other\n");
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && cp_dns_check_servers(servers, &err) != CP_OK) {
		fprintf(stderr, "coldpost check: --dns-server: %s\n", err.msg);
		return CP_EXIT_USAGE;
	}
	for (size_t i = 0; i < nsels; i++) {
		size_t k;

		for (k = 0; sels[i][k] != '\0'; k++)
			if (!((sels[i][k] >= 'a' && sels[i][k] <= 'z') ||
			    (sels[i][k] >= 'A' && sels[i][k] <= 'Z') ||
			    (sels[i][k] >= '0' && sels[i][k] <= '9') ||
			    sels[i][k] == '-' || sels[i][k] == '_' ||
			    sels[i][k] == '.'))
				break;
		if (k == 0 || sels[i][k] != '\0' || k > 63) {
			fprintf(stderr, "coldpost check: --selector '%s' is not "
			    "a selector (letters, digits, '-', '_', '.')\n",
			    sels[i]);
			return CP_EXIT_USAGE;
		}
	}
	psl = cp_psl_load(psl_path, &err);
	if (psl == NULL) {
		fprintf(stderr, "coldpost check: %s\n", err.msg);
		return err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_USAGE;
	}
	d = tools_open_resolver("check", servers, zones, nzones, timeout,
	    CP_EXIT_USAGE, &rc);
	if (d == NULL) {
		cp_psl_free(psl);
		return rc;
	}
	o.dns = d;
	o.psl = psl;
	o.selectors = sels;
	o.nselectors = nsels;
	o.ips = ips;
	o.nips = nips;
	rc = cp_check_domain(&o, argv[optind], &r, &err);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg); /* "check: ..." */
		rc = rc == CP_EINVAL ? CP_EXIT_USAGE : CP_EXIT_SYS;
		goto out;
	}
	if (json) {
		json_t *j = report_json(r, &o, nzones ? "zone" : servers
		    ? servers : "system");

		out_json_pretty(stdout, j);
		json_decref(j);
	} else {
		print_human(r);
	}
	rc = r->nfail ? CP_EXIT_FAIL : CP_EXIT_OK;
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = CP_EXIT_SYS;
out:
	cp_check_report_free(r);
	cp_dns_free(d);
	cp_psl_free(psl);
	return rc;
}
