/*
 * cmd_dns.c - `coldpost dns`: one lookup through the library's resolver,
 * printed, for debugging what the SPF, DKIM, DMARC and domain checks see.
 *
 *   coldpost dns example.com TXT --dns-server 127.0.0.1:5353 --json
 *   coldpost dns 192.0.2.1 PTR        (an address is turned into its
 *                                      in-addr.arpa / ip6.arpa name)
 *
 * Like c-ares' adig, but the answer shown is what cp_dns_query returns:
 * the status (ok, nodata, nxdomain, tempfail, error), the TTL (the
 * negative TTL for nodata/nxdomain), CNAMEs already followed, TXT strings
 * joined. --repeat N asks N times through one resolver, so the second
 * answer shows the cache at work (TTL counted down, no query sent).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/buf.h"
#include "coldpost/dns.h"
#include "tools.h"

static void
dns_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost dns NAME [TYPE] [--dns-server HOST:PORT[,...]]\n"
	    "                        [--timeout MS] [--tries N] [--repeat N] "
	    "[--json]\n\n"
	    "Looks NAME up through coldpost's resolver (c-ares, with its "
	    "cache) and\nprints the status, TTL and records. TYPE: A (default), "
	    "AAAA, MX, TXT,\nSPF, PTR, CNAME, NS, SOA or TYPEnnn. For PTR, NAME "
	    "may be an IP address.\n\n"
	    "  --dns-server S  servers to ask, HOST:PORT or [V6]:PORT, "
	    "comma-separated\n"
	    "                  (default: the nameservers of "
	    "/etc/resolv.conf)\n"
	    "  --timeout MS    first try's timeout in milliseconds "
	    "(default 2000)\n"
	    "  --tries N       tries per server (default 3)\n"
	    "  --repeat N      ask N times through one resolver (shows the "
	    "cache)\n"
	    "  --json          one JSON object per lookup (fields name, type, "
	    "status,\n"
	    "                  ttl, records, why, stats)\n\n"
	    "exit: 0 answered (ok, nodata, nxdomain), 1 tempfail or error, "
	    "2 usage,\n      3 system error\n");
}

/* TXT data in zone-file form: printable ASCII as is, '"' and '\\'
 * escaped, other bytes as \DDD (RFC 1035 5.1). */
static int
txt_presentation(cp_buf *b, const char *p, size_t len)
{
	int rc = cp_buf_addc(b, '"');

	for (size_t i = 0; i < len && rc == CP_OK; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			rc = cp_buf_addf(b, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			rc = cp_buf_addf(b, "\\%03u", c);
		else
			rc = cp_buf_addc(b, (char)c);
	}
	return rc == CP_OK ? cp_buf_addc(b, '"') : rc;
}

/* The record data in zone-file form. */
static int
rr_presentation(cp_buf *b, const cp_dns_rr *rr)
{
	char ip[INET6_ADDRSTRLEN];

	switch (rr->type) {
	case CP_DNS_A:
		inet_ntop(AF_INET, &rr->u.a, ip, sizeof(ip));
		return cp_buf_adds(b, ip);
	case CP_DNS_AAAA:
		inet_ntop(AF_INET6, &rr->u.aaaa, ip, sizeof(ip));
		return cp_buf_adds(b, ip);
	case CP_DNS_MX:
		return cp_buf_addf(b, "%u %s.", rr->u.mx.pref, rr->u.mx.host);
	case CP_DNS_PTR:
	case CP_DNS_CNAME:
	case CP_DNS_NS:
		return cp_buf_addf(b, "%s.", rr->u.name);
	case CP_DNS_TXT:
	case CP_DNS_SPF:
		return txt_presentation(b, rr->u.txt.data, rr->u.txt.len);
	default:
		return cp_buf_adds(b, "(data not decoded)");
	}
}

/* "MX", or "TYPE257" for a type without a name here (RFC 3597 5). */
static const char *
type_label(int type, char *buf, size_t len)
{
	const char *tn = cp_dns_type_name(type);

	if (strcmp(tn, "?") != 0)
		return tn;
	snprintf(buf, len, "TYPE%d", type);
	return buf;
}

static json_t *
rr_json(const cp_dns_rr *rr)
{
	json_t *o = json_object();
	char ip[INET6_ADDRSTRLEN], tbuf[16];
	cp_buf b;

	json_object_set_new(o, "type",
	    json_string(type_label(rr->type, tbuf, sizeof(tbuf))));
	json_object_set_new(o, "ttl", json_integer(rr->ttl));
	switch (rr->type) {
	case CP_DNS_A:
		inet_ntop(AF_INET, &rr->u.a, ip, sizeof(ip));
		json_object_set_new(o, "address", json_string(ip));
		break;
	case CP_DNS_AAAA:
		inet_ntop(AF_INET6, &rr->u.aaaa, ip, sizeof(ip));
		json_object_set_new(o, "address", json_string(ip));
		break;
	case CP_DNS_MX:
		json_object_set_new(o, "preference",
		    json_integer(rr->u.mx.pref));
		json_object_set_new(o, "exchange", out_jstr(rr->u.mx.host));
		json_object_set_new(o, "null_mx",
		    json_boolean(rr->u.mx.host[0] == '\0'));
		break;
	case CP_DNS_PTR:
	case CP_DNS_CNAME:
	case CP_DNS_NS:
		json_object_set_new(o, "target", out_jstr(rr->u.name));
		break;
	case CP_DNS_TXT:
	case CP_DNS_SPF: {
		/* the bytes when they are UTF-8, else the escaped form */
		json_t *t = json_stringn(rr->u.txt.data, rr->u.txt.len);

		json_object_set_new(o, "length", json_integer((json_int_t)
		    rr->u.txt.len));
		if (t == NULL) {
			cp_buf_init(&b, 4 * 65536);
			txt_presentation(&b, rr->u.txt.data, rr->u.txt.len);
			t = out_jstr(b.data);
			cp_buf_free(&b);
		}
		json_object_set_new(o, "text", t);
		break;
	}
	default:
		break;
	}
	cp_buf_init(&b, 4 * 65536);
	rr_presentation(&b, rr);
	json_object_set_new(o, "data", out_jstr(b.data ? b.data : ""));
	cp_buf_free(&b);
	return o;
}

static json_t *
answer_json(const cp_dns_answer *a, const cp_dns_stats *st)
{
	json_t *o = json_object(), *rrs = json_array(), *s = json_object();
	char tbuf[16];

	json_object_set_new(o, "name", out_jstr(a->name));
	json_object_set_new(o, "type",
	    json_string(type_label(a->type, tbuf, sizeof(tbuf))));
	json_object_set_new(o, "type_code", json_integer(a->type));
	json_object_set_new(o, "status",
	    json_string(cp_dns_status_name(a->status)));
	json_object_set_new(o, "ttl", json_integer(a->ttl));
	for (size_t i = 0; i < a->n; i++)
		json_array_append_new(rrs, rr_json(&a->rr[i]));
	json_object_set_new(o, "records", rrs);
	json_object_set_new(o, "why", out_jstr(a->why));
	json_object_set_new(s, "queries", json_integer((json_int_t)st->queries));
	json_object_set_new(s, "cache_hits", json_integer((json_int_t)st->hits));
	json_object_set_new(s, "cached", json_integer((json_int_t)st->cached));
	json_object_set_new(o, "stats", s);
	return o;
}

static void
answer_print(const cp_dns_answer *a)
{
	char tbuf[16];
	const char *tn = type_label(a->type, tbuf, sizeof(tbuf));

	printf("; %s %s: %s", a->name, tn, cp_dns_status_name(a->status));
	if (a->status == CP_DNS_OK)
		printf(", ttl %u, %zu record%s", a->ttl, a->n,
		    a->n == 1 ? "" : "s");
	else if (a->status == CP_DNS_NODATA || a->status == CP_DNS_NXDOMAIN)
		printf(", negative ttl %u%s", a->ttl,
		    a->ttl ? "" : " (no SOA: not cached)");
	if (a->why)
		printf(": %s", a->why);
	putchar('\n');
	for (size_t i = 0; i < a->n; i++) {
		cp_buf b;

		cp_buf_init(&b, 4 * 65536);
		rr_presentation(&b, &a->rr[i]);
		/* records are all of the type asked (CNAMEs followed) */
		printf("%s.\t%u\tIN\t%s\t%s\n", a->name, a->rr[i].ttl, tn,
		    b.data ? b.data : "");
		cp_buf_free(&b);
	}
}

static int
parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
cmd_dns(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dns-server", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tries", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cp_dns_config cfg = { 0 };
	cp_err err = { 0 };
	const char *name;
	char rev[80];
	long v, repeat = 1;
	int json = 0, type = CP_DNS_A, c, exit_rc = CP_EXIT_OK;
	cp_dns *d;

	optind = 1;
	while ((c = getopt_long(argc, argv, "js:t:r:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's':
			if (cp_dns_check_servers(optarg, &err) != CP_OK) {
				fprintf(stderr, "coldpost dns: %s\n", err.msg);
				return CP_EXIT_USAGE;
			}
			cfg.servers = optarg;
			break;
		case 't':
			if (parse_int(optarg, 1, 600000, &v) < 0) {
				fprintf(stderr, "coldpost dns: --timeout wants "
						"1-600000 ms\n");
				return CP_EXIT_USAGE;
			}
			cfg.timeout_ms = (int)v;
			break;
		case 'r':
			if (parse_int(optarg, 1, 100, &v) < 0) {
				fprintf(stderr, "coldpost dns: --tries wants "
						"1-100\n");
				return CP_EXIT_USAGE;
			}
			cfg.tries = (int)v;
			break;
		case 'n':
			if (parse_int(optarg, 1, 1000, &repeat) < 0) {
				fprintf(stderr, "coldpost dns: --repeat wants "
						"1-1000\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'h': dns_usage(stdout); return CP_EXIT_OK;
		default: dns_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		dns_usage(stderr);
		return CP_EXIT_USAGE;
	}
	name = argv[optind];
	if (argc - optind == 2) {
		type = cp_dns_type_from_name(argv[optind + 1]);
		if (type == 0) {
			fprintf(stderr, "coldpost dns: unknown type '%s'\n",
			    argv[optind + 1]);
			return CP_EXIT_USAGE;
		}
	}
	if (type == CP_DNS_PTR &&
	    cp_dns_reverse_name(name, rev, sizeof(rev)) == CP_OK)
		name = rev;
	d = cp_dns_new_cares(&cfg, &err);
	if (d == NULL) {
		fprintf(stderr, "coldpost dns: %s\n", err.msg);
		return err.code == CP_EINVAL ? CP_EXIT_USAGE : CP_EXIT_SYS;
	}
	for (long i = 0; i < repeat; i++) {
		cp_dns_answer *a = NULL;
		cp_dns_stats st;
		int rc = cp_dns_query(d, name, type, &a, &err);

		if (rc != CP_OK) {
			fprintf(stderr, "coldpost dns: %s\n", err.msg);
			cp_dns_free(d);
			return rc == CP_EINVAL ? CP_EXIT_FAIL : CP_EXIT_SYS;
		}
		cp_dns_get_stats(d, &st);
		if (json) {
			json_t *o = answer_json(a, &st);

			out_json_line(stdout, o);
			json_decref(o);
		} else {
			answer_print(a);
		}
		if (a->status == CP_DNS_TEMPFAIL || a->status == CP_DNS_ERROR)
			exit_rc = CP_EXIT_FAIL;
		cp_dns_answer_free(a);
	}
	cp_dns_free(d);
	fflush(stdout);
	return ferror(stdout) ? CP_EXIT_SYS : exit_rc;
}
