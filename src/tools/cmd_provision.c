/*
 * cmd_provision.c - the command line of `coldpost provision DOMAIN`: its
 * options, the store (--store, or --config, which also names the bounce
 * domain), then the step itself (provision_cli.c, which says what it does
 * and which RFCs it follows).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/conf.h"
#include "coldpost/store.h"
#include "model.h"
#include "provision_cli.h"
#include "tools.h"

/* ---- the command line ---------------------------------------------------------- */

static void
provision_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost provision DOMAIN [--ip IP[=EHLO]]... [--ehlo NAME]\n"
	    "           [--bounce-domain D] [--mx HOST] [--rua URI] [--ttl N]\n"
	    "           [--selector S] [--key FILE.pem | --key-dir DIR] "
	    "[--ed25519]\n"
	    "           [--store DSN | --config FILE] [--dns-server S]\n"
	    "           [--zone | --json] [--apply --server HOST:PORT "
	    "--tsig NAME:ALG:SECRET]\n"
	    "           [--rotate [--grace DURATION]] [--retire SELECTOR] "
	    "[--wait DURATION]\n\n"
	    "The DNS records DOMAIN needs to send: SPF listing its IPs "
	    "(merged into the\nexisting record), DKIM, DMARC p=none, MX of the "
	    "bounce domain, A of EHLO\nnames in the domain and PTR of each IP. "
	    "Shows them, or writes them with\nRFC 2136 updates signed with "
	    "TSIG and reads them back.\n\n"
	    "  --ip IP[=EHLO]     a sending IP (repeat); default: the pool of "
	    "the\n                     domain's tenant in the store\n"
	    "  --ehlo NAME        EHLO name of --ip given without one\n"
	    "  --bounce-domain D  the MAIL FROM domain (default: the "
	    "configuration's\n                     [bounce] domain, else "
	    "DOMAIN)\n"
	    "  --mx HOST          takes bounces (default: the first EHLO "
	    "name)\n"
	    "  --rua URI          DMARC reports (default "
	    "mailto:dmarc-reports@DOMAIN)\n"
	    "  --selector S       DKIM selector of a domain not in the store, "
	    "or the\n                     new one with --rotate\n"
	    "  --key FILE.pem     the DKIM key of a domain not in the store\n"
	    "  --key-dir DIR      keys made here once (DOMAIN.SELECTOR.pem, "
	    "0600)\n                     and reused on later runs\n"
	    "  --ed25519          a second, Ed25519 key (selector S-ed, in "
	    "--key-dir)\n"
	    "  --store DSN, --config FILE  the store (and bounce domain) to "
	    "use\n"
	    "  --dns-server S     resolver for existing records "
	    "(default: --server\n                     when applying, else "
	    "resolv.conf)\n"
	    "  --zone             zone-file lines\n"
	    "  --json             machine output\n"
	    "  --apply            write the changes to --server, signed with "
	    "--tsig\n"
	    "                     (NAME:ALG:SECRET or ALG:NAME:SECRET, secret "
	    "in base64)\n"
	    "  --rotate           new DKIM key and selector: publish, switch "
	    "the store\n                     to it, retire the old one "
	    "after --grace\n"
	    "  --grace DURATION   how long the old key stays (0: at once); "
	    "without it\n                     the old record stays for "
	    "--retire\n"
	    "  --retire SELECTOR  remove an old selector's key record\n"
	    "  --wait DURATION    how long to wait for the server to answer "
	    "(10s)\n\n"
	    "exit: 0 done (nothing blocked), 1 a record could not be written "
	    "or the\nupdate failed, 2 usage, 3 system error\n");
}

enum {
	P_IP = 256, P_EHLO, P_BOUNCE, P_MX, P_RUA, P_TTL, P_SEL, P_KEY,
	P_KEYDIR, P_ED, P_STORE, P_CONFIG, P_DNS, P_ZONE, P_JSON, P_APPLY,
	P_SERVER, P_TSIG, P_ROTATE, P_GRACE, P_RETIRE, P_WAIT
};

static int
provision_duration(const char *opt, const char *s, int64_t *ms)
{
	cp_err err;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (cp_conf_parse_duration(s, ms, &err) != CP_OK || *ms < 0) {
		fprintf(stderr, "coldpost provision: %s '%s': want a duration "
		    "(0, 500ms, 30s, 7d)\n", opt, s);
		return -1;
	}
	return 0;
}

/* Open the store of --store, or of --config (which also names the
 * bounce domain). */
static int
provision_store(const char *dsn, const char *config, cp_store **st,
    char **bounce)
{
	cp_conf conf;
	cp_buf diags;
	cp_err err;
	int rc;

	if (dsn == NULL && config == NULL)
		return CP_EXIT_OK;
	if (dsn == NULL) {
		cp_buf_init(&diags, 1 << 16);
		rc = cp_conf_load_file(&conf, config, &diags, &err);
		if (rc != CP_OK) {
			fprintf(stderr, "coldpost provision: %s:\n%s\n", config,
			    diags.len ? diags.data : err.msg);
			cp_buf_free(&diags);
			return prov_exit(rc);
		}
		cp_buf_free(&diags);
		if (conf.bounce.domain && conf.bounce.domain[0])
			*bounce = cp_strdup(conf.bounce.domain);
		*st = cp_store_open(conf.server.store, &err);
		cp_conf_clear(&conf);
	} else {
		*st = cp_store_open(dsn, &err);
	}
	if (*st == NULL) {
		fprintf(stderr, "coldpost provision: %s\n", err.msg);
		return CP_EXIT_SYS;
	}
	return CP_EXIT_OK;
}

int
cmd_provision(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, P_IP },
		{ "ehlo", required_argument, NULL, P_EHLO },
		{ "bounce-domain", required_argument, NULL, P_BOUNCE },
		{ "mx", required_argument, NULL, P_MX },
		{ "rua", required_argument, NULL, P_RUA },
		{ "ttl", required_argument, NULL, P_TTL },
		{ "selector", required_argument, NULL, P_SEL },
		{ "key", required_argument, NULL, P_KEY },
		{ "key-dir", required_argument, NULL, P_KEYDIR },
		{ "ed25519", no_argument, NULL, P_ED },
		{ "store", required_argument, NULL, P_STORE },
		{ "config", required_argument, NULL, P_CONFIG },
		{ "dns-server", required_argument, NULL, P_DNS },
		{ "zone", no_argument, NULL, P_ZONE },
		{ "json", no_argument, NULL, P_JSON },
		{ "apply", no_argument, NULL, P_APPLY },
		{ "server", required_argument, NULL, P_SERVER },
		{ "tsig", required_argument, NULL, P_TSIG },
		{ "rotate", no_argument, NULL, P_ROTATE },
		{ "grace", required_argument, NULL, P_GRACE },
		{ "retire", required_argument, NULL, P_RETIRE },
		{ "wait", required_argument, NULL, P_WAIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	prov_args a;
	const char *dsn = NULL, *config = NULL;
	cp_store *st = NULL;
	char *bounce = NULL;
	int64_t ttl;
	int c, rc;

	memset(&a, 0, sizeof(a));
	a.cmd = "provision";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case P_IP:
			if (a.nips == PROV_MAX_IPS) {
				fprintf(stderr, "coldpost provision: more than %d "
				    "--ip\n", PROV_MAX_IPS);
				return CP_EXIT_USAGE;
			}
			a.ips[a.nips++] = optarg;
			break;
		case P_EHLO: a.ehlo = optarg; break;
		case P_BOUNCE: a.bounce = optarg; break;
		case P_MX: a.mx = optarg; break;
		case P_RUA: a.rua = optarg; break;
		case P_TTL:
			if (model_parse_count(optarg, 60, 604800, &ttl) != 0) {
				fprintf(stderr, "coldpost provision: --ttl '%s': "
				    "want 60-604800 seconds\n", optarg);
				return CP_EXIT_USAGE;
			}
			a.ttl = (uint32_t)ttl;
			break;
		case P_SEL: a.selector = optarg; break;
		case P_KEY: a.key = optarg; break;
		case P_KEYDIR: a.key_dir = optarg; break;
		case P_ED: a.ed25519 = 1; break;
		case P_STORE: dsn = optarg; break;
		case P_CONFIG: config = optarg; break;
		case P_DNS: a.dns_server = optarg; break;
		case P_ZONE: a.zone = 1; break;
		case P_JSON: a.json = 1; break;
		case P_APPLY: a.apply = 1; break;
		case P_SERVER: a.server = optarg; break;
		case P_TSIG: a.tsig = optarg; break;
		case P_ROTATE: a.rotate = 1; break;
		case P_RETIRE: a.retire = optarg; break;
		case P_GRACE:
			if (provision_duration("--grace", optarg, &a.grace_ms))
				return CP_EXIT_USAGE;
			a.has_grace = 1;
			break;
		case P_WAIT:
			if (provision_duration("--wait", optarg, &a.wait_ms))
				return CP_EXIT_USAGE;
			break;
		case 'h':
			provision_usage(stdout);
			return CP_EXIT_OK;
		default:
			provision_usage(stderr);
			return CP_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		provision_usage(stderr);
		return CP_EXIT_USAGE;
	}
	a.domain = argv[optind];
	if (a.zone + a.json > 1 || (a.rotate && a.retire) ||
	    (a.key && a.key_dir) || (a.has_grace && !a.rotate)) {
		fprintf(stderr, "coldpost provision: --zone/--json, "
		    "--rotate/--retire and --key/--key-dir exclude each other; "
		    "--grace goes with --rotate\n");
		return CP_EXIT_USAGE;
	}
	if ((rc = provision_store(dsn, config, &st, &bounce)) != CP_EXIT_OK)
		return rc;
	a.default_bounce = bounce;
	rc = prov_run(&a, st);
	cp_store_close(st);
	cp_free(bounce);
	return rc;
}
