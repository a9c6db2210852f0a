/*
 * cmd_spf.c - `coldpost spf`: check_host() (RFC 7208) on the command line.
 *
 *   coldpost spf --ip 192.0.2.1 --sender bob@example.com --helo mx.example.com
 *   coldpost spf --ip 2001:db8::1 --sender '' --helo mx.example.com --json
 *   coldpost spf --ip 192.0.2.1 --sender a@example.com --helo h --zone z.zone
 *
 * Prints the result, the mechanism that decided and where, why in words,
 * the lookups spent and, for fail, the domain's explanation (exp=). DNS goes
 * to the system's resolvers, to --dns-server, or, with --zone, to zone files
 * loaded into the fake resolver (to try a record before publishing it).
 * Exit status: 0 a result was computed (whatever it is: pass, fail,
 * permerror...), 1 bad input (not an IP address, unreadable or malformed
 * zone file), 2 usage, 3 system error.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/dns.h"
#include "coldpost/spf.h"
#include "tools.h"

static void
spf_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost spf --ip IP --sender ADDR [--helo NAME] [--json]\n"
	    "                    [--dns-server HOST:PORT[,...] | --zone FILE...]\n"
	    "                    [--domain D] [--receiver NAME] [--now SECONDS]\n\n"
	    "Evaluates SPF (RFC 7208 check_host) for a client IP and a sender,\n"
	    "and says why: the mechanism that matched, the DNS lookups spent, the\n"
	    "explanation the domain publishes for a fail.\n\n"
	    "  --ip IP          the SMTP client's address (IPv4 or IPv6)\n"
	    "  --sender ADDR    MAIL FROM address; '' is the null reverse path,\n"
	    "                   checked as postmaster@HELO\n"
	    "  --helo NAME      the HELO/EHLO name (needed for --sender '')\n"
	    "  --domain D       check D instead of the sender's domain (for\n"
	    "                   example the HELO name: the HELO identity)\n"
	    "  --json           one JSON object: result, mechanism, lookups,\n"
	    "                   void_lookups, domain, explanation, reason, ...\n"
	    "  --dns-server S   ask these servers (HOST:PORT, [V6]:PORT, comma-\n"
	    "                   separated) instead of /etc/resolv.conf's\n"
	    "  --zone FILE      answer from this zone file instead of DNS (may be\n"
	    "                   repeated): try a record before publishing it\n"
	    "  --timeout MS     DNS: first try's timeout (default 2000)\n"
	    "  --receiver NAME  what %%{r} expands to in explanations\n"
	    "  --now SECONDS    what %%{t} expands to (default: the clock)\n\n"
	    "exit: 0 a result was computed (pass, fail, permerror... alike), "
	    "1 bad input,\n      2 usage, 3 system error\n");
}

static void
print_human(const cp_spf_query *q, const cp_spf_result *r)
{
	printf("spf: %s\n", cp_spf_verdict_name(r->result));
	printf("  domain:      %s%s\n", r->domain,
	    q->domain ? "" : q->sender && *q->sender ? " (the sender's)"
						      : " (postmaster@HELO)");
	if (r->mechanism[0])
		printf("  mechanism:   %s (in the record of %s)\n", r->mechanism,
		    r->mech_domain);
	else
		printf("  mechanism:   none\n");
	printf("  reason:      %s\n", r->reason);
	printf("  lookups:     %u of 10 DNS-querying terms, %u of 2 void "
	       "lookups, %u DNS queries\n", r->lookups, r->void_lookups,
	    r->dns_queries);
	if (r->result == CP_SPF_FAIL)
		printf("  explanation: %s\n", r->explanation ? r->explanation
		    : "(the domain publishes none: no exp= modifier, or it "
		      "could not be used)");
}

static json_t *
result_json(const cp_spf_query *q, const cp_spf_result *r, const char *dns)
{
	json_t *o = json_object();

	json_object_set_new(o, "result",
	    json_string(cp_spf_verdict_name(r->result)));
	json_object_set_new(o, "domain", out_jstr(r->domain));
	json_object_set_new(o, "mechanism",
	    r->mechanism[0] ? out_jstr(r->mechanism) : json_null());
	json_object_set_new(o, "mechanism_domain",
	    r->mech_domain[0] ? out_jstr(r->mech_domain) : json_null());
	json_object_set_new(o, "lookups", json_integer(r->lookups));
	json_object_set_new(o, "void_lookups", json_integer(r->void_lookups));
	json_object_set_new(o, "dns_queries", json_integer(r->dns_queries));
	json_object_set_new(o, "explanation", out_jstr(r->explanation));
	json_object_set_new(o, "reason", out_jstr(r->reason));
	json_object_set_new(o, "ip", out_jstr(q->ip));
	json_object_set_new(o, "sender", out_jstr(q->sender));
	json_object_set_new(o, "helo", out_jstr(q->helo));
	json_object_set_new(o, "dns", json_string(dns));
	return o;
}

static int
parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
cmd_spf(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "sender", required_argument, NULL, 's' },
		{ "helo", required_argument, NULL, 'H' },
		{ "domain", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "dns-server", required_argument, NULL, 'S' },
		{ "zone", required_argument, NULL, 'z' },
		{ "timeout", required_argument, NULL, 't' },
		{ "receiver", required_argument, NULL, 'r' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cp_spf_query q = { NULL, NULL, NULL, NULL };
	const char *servers = NULL, *receiver = NULL, *zones[64];
	size_t nzones = 0;
	int json = 0, c, rc, sender_set = 0;
	int64_t now = 0, timeout = 0;
	cp_err err = { 0 };
	cp_spf_result res = { 0 };
	cp_dns *d;
	cp_spf *spf;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+i:s:H:d:jS:z:t:r:n:h", opts,
	    NULL)) != -1) {
		switch (c) {
		case 'i': q.ip = optarg; break;
		case 's': q.sender = optarg; sender_set = 1; break;
		case 'H': q.helo = optarg; break;
		case 'd': q.domain = optarg; break;
		case 'j': json = 1; break;
		case 'S': servers = optarg; break;
		case 'z':
			if (nzones == CP_NELEM(zones)) {
				fprintf(stderr, "coldpost spf: at most %zu "
				    "--zone files\n", CP_NELEM(zones));
				return CP_EXIT_USAGE;
			}
			zones[nzones++] = optarg;
			break;
		case 't':
			if (parse_int64(optarg, &timeout) != 0 || timeout < 1 ||
			    timeout > 600000) {
				fprintf(stderr, "coldpost spf: --timeout wants "
				    "milliseconds, 1 to 600000\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'r': receiver = optarg; break;
		case 'n':
			if (parse_int64(optarg, &now) != 0) {
				fprintf(stderr, "coldpost spf: --now wants "
				    "seconds since 1970\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'h': spf_usage(stdout); return CP_EXIT_OK;
		default: spf_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind < argc || q.ip == NULL || !sender_set) {
		fprintf(stderr, "coldpost spf: %s\n", optind < argc
		    ? "unexpected argument" : "--ip and --sender are required");
		spf_usage(stderr);
		return CP_EXIT_USAGE;
	}
	if (q.sender[0] == '\0' && (q.helo == NULL || q.helo[0] == '\0')) {
		fprintf(stderr, "coldpost spf: --sender '' (the null reverse "
		    "path) is checked as postmaster@HELO: give --helo\n");
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && nzones > 0) {
		fprintf(stderr, "coldpost spf: --zone and --dns-server exclude "
		    "each other\n");
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && cp_dns_check_servers(servers, &err) != CP_OK) {
		fprintf(stderr, "coldpost spf: --dns-server: %s\n", err.msg);
		return CP_EXIT_USAGE;
	}
	d = tools_open_resolver("spf", servers, zones, nzones, timeout,
	    CP_EXIT_FAIL, &rc);
	if (d == NULL)
		return rc;
	spf = cp_spf_new(d, &err);
	if (spf == NULL || cp_spf_set_receiver(spf, receiver, &err) != CP_OK) {
		fprintf(stderr, "coldpost spf: %s\n", err.msg);
		cp_spf_free(spf);
		cp_dns_free(d);
		return CP_EXIT_SYS;
	}
	cp_spf_set_now(spf, now);
	rc = cp_spf_check_host(spf, &q, &res, &err);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg); /* "spf: ..." */
		rc = rc == CP_EINVAL ? CP_EXIT_FAIL : CP_EXIT_SYS;
	} else {
		if (json) {
			json_t *o = result_json(&q, &res, nzones ? "zone"
			    : servers ? servers : "system");

			out_json_pretty(stdout, o);
			json_decref(o);
		} else {
			print_human(&q, &res);
		}
		fflush(stdout);
		rc = ferror(stdout) ? CP_EXIT_SYS : CP_EXIT_OK;
	}
	cp_spf_result_clear(&res);
	cp_spf_free(spf);
	cp_dns_free(d);
	return rc;
}
