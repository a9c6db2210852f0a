/*
 * cmd_dkim.c - `coldpost dkim`: DKIM keys, signing and verifying on the
 * command line (RFC 6376, RFC 8463).
 *
 *   coldpost dkim keygen [--alg rsa|ed25519] [--bits N] [--selector S
 *       --domain D] [--out FILE.pem] [--json]
 *   coldpost dkim sign --key FILE.pem --selector S --domain D
 *       [--alg rsa-sha256|ed25519-sha256] [--canon relaxed/relaxed]
 *       [--headers h1:h2...] < message > signed
 *   coldpost dkim verify [--json] [--dns-server HOST:PORT | --zone FILE]
 *       < message
 *
 * keygen prints the key record as zone-file text, split into strings of
 * at most 255 bytes (RFC 1035 3.3.14), ready to publish. sign writes the
 * DKIM-Signature field in front of the message, unchanged otherwise, with
 * the message's own line ends. verify streams the message through the
 * verifier and prints one line (or JSON entry) per signature.
 * Exit status: 0 done / a signature passed, 1 verification did not pass or
 * bad input, 2 usage, 3 system error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/dkim.h"
#include "coldpost/dns.h"
#include "tools.h"

#define MSG_MAX ((size_t)256 * 1024 * 1024)

static void
dkim_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost dkim keygen [--alg rsa|ed25519] [--bits N]\n"
	    "                            [--selector S --domain D] "
	    "[--out FILE.pem] [--json]\n"
	    "       coldpost dkim sign --key FILE.pem --selector S --domain D\n"
	    "                          [--alg rsa-sha256|ed25519-sha256] "
	    "[--canon H/B]\n"
	    "                          [--headers h1:h2...] [--identity I] "
	    "[--expire SEC]\n"
	    "                          < message > signed\n"
	    "       coldpost dkim verify [--json] [--dns-server HOST:PORT[,...] "
	    "| --zone FILE...]\n"
	    "                            [--timeout MS] [--now SECONDS] "
	    "< message\n\n"
	    "DKIM signatures (RFC 6376; rsa-sha256 and ed25519-sha256, RFC "
	    "8463).\n\n"
	    "keygen: a new private key (RSA 2048 bits unless --alg/--bits say\n"
	    "  otherwise) as PKCS#8 PEM, to --out (created mode 0600, never\n"
	    "  overwritten) or stdout, and the DNS TXT record to publish at\n"
	    "  SELECTOR._domainkey.DOMAIN.\n"
	    "sign: the message from stdin on stdout with a DKIM-Signature field\n"
	    "  in front. --canon is header/body canonicalization: relaxed/relaxed\n"
	    "  (default), relaxed/simple, simple/relaxed, simple/simple.\n"
	    "  --headers lists the fields to sign, as written into h=; the\n"
	    "  default list signs From, To, Subject, Date... and over-signs\n"
	    "  From, To, Subject and Date. --timestamp T sets t= (default now).\n"
	    "  Keys: PKCS#8 or PKCS#1 PEM, or a dkimpy ed25519 seed file.\n"
	    "verify: checks every DKIM-Signature of the message from stdin.\n"
	    "  --json: {\"result\": pass|fail|none|temperror, \"signatures\":\n"
	    "  [{domain, selector, algorithm, canon, result, reason, detail,\n"
	    "  ...}]}. Keys come from DNS (the system's resolvers, or\n"
	    "  --dns-server), or from zone files with --zone.\n\n"
	    "exit: 0 done (verify: a signature passed), 1 verification did not "
	    "pass or\n      bad input, 2 usage, 3 system error\n");
}

static int
parse_i64(const char *s, long long min, long long max, long long *out)
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

/* ---- keygen ----------------------------------------------------------- */

/* Zone-file text of one TXT record, strings of at most 255 bytes. */
static void
print_txt(FILE *f, const char *name, const char *rec, size_t len)
{
	fprintf(f, "%s.\tIN\tTXT\t(", name);
	for (size_t i = 0; i < len; i += 255)
		fprintf(f, "%s\"%.*s\"", i ? "\n\t\t\t\t " : " ",
		    (int)CP_MIN(255, len - i), rec + i);
	fprintf(f, " )\n");
}

static int
write_new_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0) {
		fprintf(stderr, "coldpost dkim: %s: %s%s\n", path,
		    strerror(errno), errno == EEXIST ? " (not overwritten)" : "");
		return errno == EEXIST ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "coldpost dkim: %s: %s\n", path,
			    strerror(errno));
			close(fd);
			unlink(path);
			return CP_EXIT_SYS;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0) {
		fprintf(stderr, "coldpost dkim: %s: %s\n", path, strerror(errno));
		unlink(path);
		return CP_EXIT_SYS;
	}
	return CP_EXIT_OK;
}

static int
dkim_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "selector", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sel = NULL, *dom = NULL, *out = NULL;
	cp_dkim_keytype type = CP_DKIM_KEY_RSA;
	long long bits = 2048;
	int bits_set = 0, json = 0, c, rc = CP_EXIT_OK;
	cp_dkim_key *key = NULL;
	cp_buf pem, rec;
	cp_err err = { 0 };
	char name[512];

	optind = 1;
	while ((c = getopt_long(argc, argv, "+a:b:s:d:o:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "rsa") == 0 ||
			    strcmp(optarg, "rsa-sha256") == 0) {
				type = CP_DKIM_KEY_RSA;
			} else if (strcmp(optarg, "ed25519") == 0 ||
				   strcmp(optarg, "ed25519-sha256") == 0) {
				type = CP_DKIM_KEY_ED25519;
			} else {
				fprintf(stderr, "coldpost dkim keygen: --alg is "
				    "rsa or ed25519\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'b':
			if (parse_i64(optarg, 1024, 4096, &bits) != 0) {
				fprintf(stderr, "coldpost dkim keygen: --bits "
				    "wants 1024 to 4096\n");
				return CP_EXIT_USAGE;
			}
			bits_set = 1;
			break;
		case 's': sel = optarg; break;
		case 'd': dom = optarg; break;
		case 'o': out = optarg; break;
		case 'j': json = 1; break;
		case 'h': dkim_usage(stdout); return CP_EXIT_OK;
		default: dkim_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind < argc || (sel == NULL) != (dom == NULL)) {
		fprintf(stderr, "coldpost dkim keygen: %s\n", optind < argc
		    ? "unexpected argument" : "give both --selector and --domain");
		return CP_EXIT_USAGE;
	}
	if (bits_set && type == CP_DKIM_KEY_ED25519) {
		fprintf(stderr, "coldpost dkim keygen: --bits is for RSA keys\n");
		return CP_EXIT_USAGE;
	}
	snprintf(name, sizeof(name), "%s._domainkey.%s", sel ? sel : "SELECTOR",
	    dom ? dom : "DOMAIN");
	if (cp_dkim_key_generate(type, (int)bits, &key, &err) != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg);
		return CP_EXIT_SYS;
	}
	cp_buf_init(&pem, 64 * 1024);
	cp_buf_init(&rec, 64 * 1024);
	if (cp_dkim_key_pem(key, &pem, &err) != CP_OK ||
	    cp_dkim_key_record(key, &rec, &err) != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg);
		rc = CP_EXIT_SYS;
	}
	if (rc == CP_EXIT_OK && out != NULL)
		rc = write_new_file(out, pem.data, pem.len);
	if (rc == CP_EXIT_OK && json) {
		json_t *o = json_object(), *strs = json_array();

		for (size_t i = 0; i < rec.len; i += 255) {
			char part[256];
			size_t n = CP_MIN(255, rec.len - i);

			memcpy(part, rec.data + i, n);
			part[n] = '\0';
			json_array_append_new(strs, json_string(part));
		}
		json_object_set_new(o, "algorithm",
		    json_string(cp_dkim_alg_name(cp_dkim_key_alg(key))));
		json_object_set_new(o, "bits",
		    json_integer(cp_dkim_key_bits(key)));
		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "type", json_string("TXT"));
		json_object_set_new(o, "record", json_string(rec.data));
		json_object_set_new(o, "strings", strs);
		json_object_set_new(o, "key_file", out ? json_string(out)
						       : json_null());
		if (out == NULL)
			json_object_set_new(o, "private_key",
			    json_string(pem.data));
		out_json_pretty(stdout, o);
		json_decref(o);
	} else if (rc == CP_EXIT_OK) {
		if (out == NULL)
			fwrite(pem.data, 1, pem.len, stdout);
		else
			printf("; private key written to %s\n", out);
		printf("; %s key (%d bits); publish this record:\n",
		    cp_dkim_alg_name(cp_dkim_key_alg(key)),
		    cp_dkim_key_bits(key));
		print_txt(stdout, name, rec.data, rec.len);
	}
	if (rc == CP_EXIT_OK && (fflush(stdout) != 0 || ferror(stdout)))
		rc = CP_EXIT_SYS;
	cp_buf_wipe(&pem);
	cp_buf_free(&rec);
	cp_dkim_key_free(key);
	return rc;
}

/* ---- sign ------------------------------------------------------------- */

static int
read_all(FILE *f, cp_buf *b)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		int rc = cp_buf_add(b, chunk, n);

		if (rc == CP_ETOOBIG) {
			fprintf(stderr, "coldpost dkim: message over %zu bytes\n",
			    b->max);
			return CP_EXIT_FAIL;
		}
		if (rc != CP_OK) {
			fprintf(stderr, "coldpost dkim: out of memory\n");
			return CP_EXIT_SYS;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "coldpost dkim: reading the message: %s\n",
		    strerror(errno));
		return CP_EXIT_SYS;
	}
	return CP_EXIT_OK;
}

static int
dkim_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "selector", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'd' },
		{ "alg", required_argument, NULL, 'a' },
		{ "canon", required_argument, NULL, 'c' },
		{ "headers", required_argument, NULL, 'H' },
		{ "identity", required_argument, NULL, 'i' },
		{ "timestamp", required_argument, NULL, 't' },
		{ "expire", required_argument, NULL, 'x' },
		{ "query-tag", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cp_dkim_sign_opts o = { 0 };
	const char *keyfile = NULL;
	cp_dkim_key *key = NULL;
	cp_dkim_signer *s = NULL;
	cp_err err = { 0 };
	cp_buf msg, sig;
	long long v;
	int c, rc;
	const char *nl;

	o.hcanon = o.bcanon = CP_DKIM_RELAXED;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+k:s:d:a:c:H:i:t:x:qh", opts,
		    NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 's': o.selector = optarg; break;
		case 'd': o.domain = optarg; break;
		case 'a':
			o.alg = cp_dkim_alg_parse(optarg, strlen(optarg));
			if (o.alg != CP_DKIM_RSA_SHA256 &&
			    o.alg != CP_DKIM_ED25519_SHA256) {
				fprintf(stderr, "coldpost dkim sign: --alg is "
				    "rsa-sha256 or ed25519-sha256\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'c':
			if (cp_dkim_canon_parse(optarg, strlen(optarg), &o.hcanon,
				&o.bcanon) != CP_OK) {
				fprintf(stderr, "coldpost dkim sign: --canon is "
				    "HEADER/BODY, each simple or relaxed\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'H': o.headers = optarg; break;
		case 'i': o.identity = optarg; break;
		case 't':
			if (parse_i64(optarg, 1, 999999999999LL, &v) != 0) {
				fprintf(stderr, "coldpost dkim sign: --timestamp "
				    "wants seconds since 1970\n");
				return CP_EXIT_USAGE;
			}
			o.timestamp = v;
			break;
		case 'x':
			if (parse_i64(optarg, 1, 100LL * 365 * 86400, &v) != 0) {
				fprintf(stderr, "coldpost dkim sign: --expire "
				    "wants seconds\n");
				return CP_EXIT_USAGE;
			}
			o.expire = v;
			break;
		case 'q': o.query_tag = 1; break;
		case 'h': dkim_usage(stdout); return CP_EXIT_OK;
		default: dkim_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind < argc || keyfile == NULL || o.selector == NULL ||
	    o.domain == NULL) {
		fprintf(stderr, "coldpost dkim sign: %s\n", optind < argc
		    ? "unexpected argument (the message comes on stdin)"
		    : "--key, --selector and --domain are required");
		return CP_EXIT_USAGE;
	}
	if (cp_dkim_key_load(keyfile, &key, &err) != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg);
		return err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_FAIL;
	}
	o.key = key;
	if (cp_dkim_signer_new(&o, 1, &s, &err) != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg);
		cp_dkim_key_free(key);
		return err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_USAGE;
	}
	cp_dkim_key_free(key); /* the signer holds its reference */
	cp_buf_init(&msg, MSG_MAX);
	cp_buf_init(&sig, 1024 * 1024);
	rc = read_all(stdin, &msg);
	if (rc == CP_EXIT_OK &&
	    (cp_dkim_signer_write(s, msg.data ? msg.data : "", msg.len,
		 &err) != CP_OK ||
		cp_dkim_signer_finish(s, NULL, &sig, &err) != CP_OK))
		rc = CP_EXIT_FAIL;
	if (rc == CP_EXIT_OK) {
		/* the signature in the message's own line ends */
		nl = msg.data ? memchr(msg.data, '\n', msg.len) : NULL;
		if (nl != NULL && (nl == msg.data || nl[-1] != '\r')) {
			size_t k = 0;

			for (size_t i = 0; i < sig.len; i++)
				if (sig.data[i] != '\r')
					sig.data[k++] = sig.data[i];
			sig.len = k;
		}
		fwrite(sig.data, 1, sig.len, stdout);
		if (msg.len)
			fwrite(msg.data, 1, msg.len, stdout);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "coldpost dkim: writing: %s\n",
			    strerror(errno));
			rc = CP_EXIT_SYS;
		}
	} else if (err.msg[0]) {
		fprintf(stderr, "coldpost %s\n", err.msg);
		if (err.code == CP_ENOMEM)
			rc = CP_EXIT_SYS;
	}
	cp_buf_free(&msg);
	cp_buf_free(&sig);
	cp_dkim_signer_free(s);
	return rc;
}

/* ---- verify ----------------------------------------------------------- */

static json_t *
result_json(const cp_dkim_result *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "domain", out_jstr(r->domain));
	json_object_set_new(o, "selector", out_jstr(r->selector));
	json_object_set_new(o, "algorithm", out_jstr(r->alg));
	json_object_set_new(o, "canon", out_jstr(r->canon));
	json_object_set_new(o, "identity", out_jstr(r->identity));
	json_object_set_new(o, "result",
	    json_string(cp_dkim_status_name(r->status)));
	json_object_set_new(o, "reason", r->status == CP_DKIM_PASS
	    ? json_null() : json_string(cp_dkim_reason_name(r->reason)));
	json_object_set_new(o, "detail", r->why[0] ? out_jstr(r->why)
						   : json_null());
	json_object_set_new(o, "testing", json_boolean(r->testing));
	json_object_set_new(o, "key_bits", r->key_bits
	    ? json_integer(r->key_bits) : json_null());
	if (r->has_l) {
		/* l=: content past it is not covered by the signature */
		json_object_set_new(o, "l", json_integer((json_int_t)r->l));
		json_object_set_new(o, "body_length",
		    json_integer((json_int_t)r->body_len));
	}
	return o;
}

static int
dkim_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dns-server", required_argument, NULL, 'S' },
		{ "zone", required_argument, NULL, 'z' },
		{ "timeout", required_argument, NULL, 't' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *servers = NULL, *zones[64];
	size_t nzones = 0, n;
	int json = 0, c, rc = CP_EXIT_OK;
	long long timeout = 0, now = 0;
	cp_dkim_verify_opts vo = { 0 };
	cp_dkim_verifier *v = NULL;
	cp_dkim_status st;
	cp_err err = { 0 };
	cp_dns *d;
	char chunk[65536];

	optind = 1;
	while ((c = getopt_long(argc, argv, "+jS:z:t:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'S': servers = optarg; break;
		case 'z':
			if (nzones == CP_NELEM(zones)) {
				fprintf(stderr, "coldpost dkim verify: at most "
				    "%zu --zone files\n", CP_NELEM(zones));
				return CP_EXIT_USAGE;
			}
			zones[nzones++] = optarg;
			break;
		case 't':
			if (parse_i64(optarg, 1, 600000, &timeout) != 0) {
				fprintf(stderr, "coldpost dkim verify: --timeout "
				    "wants milliseconds, 1 to 600000\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'n':
			if (parse_i64(optarg, 1, 999999999999LL, &now) != 0) {
				fprintf(stderr, "coldpost dkim verify: --now "
				    "wants seconds since 1970\n");
				return CP_EXIT_USAGE;
			}
			break;
		case 'h': dkim_usage(stdout); return CP_EXIT_OK;
		default: dkim_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "coldpost dkim verify: unexpected argument (the "
		    "message comes on stdin)\n");
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && nzones > 0) {
		fprintf(stderr, "coldpost dkim verify: --zone and --dns-server "
		    "exclude each other\n");
		return CP_EXIT_USAGE;
	}
	if (servers != NULL && cp_dns_check_servers(servers, &err) != CP_OK) {
		fprintf(stderr, "coldpost dkim verify: --dns-server: %s\n",
		    err.msg);
		return CP_EXIT_USAGE;
	}
	d = tools_open_resolver("dkim verify", servers, zones, nzones, timeout,
	    CP_EXIT_FAIL, &rc);
	if (d == NULL)
		return rc;
	vo.dns = d;
	vo.now = now;
	if (cp_dkim_verifier_new(&vo, &v, &err) != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg);
		cp_dns_free(d);
		return CP_EXIT_SYS;
	}
	/* streamed: only the header is kept */
	while (rc == CP_EXIT_OK && (n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (cp_dkim_verifier_write(v, chunk, n, &err) != CP_OK)
			rc = err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_FAIL;
	if (rc == CP_EXIT_OK && ferror(stdin)) {
		fprintf(stderr, "coldpost dkim: reading the message: %s\n",
		    strerror(errno));
		rc = CP_EXIT_SYS;
		err.msg[0] = '\0';
	}
	if (rc == CP_EXIT_OK && cp_dkim_verifier_finish(v, &err) != CP_OK)
		rc = err.code == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_FAIL;
	if (rc != CP_EXIT_OK) {
		if (err.msg[0])
			fprintf(stderr, "coldpost %s\n", err.msg);
		cp_dkim_verifier_free(v);
		cp_dns_free(d);
		return rc;
	}
	st = cp_dkim_verifier_status(v);
	if (json) {
		json_t *o = json_object(), *a = json_array();

		json_object_set_new(o, "result",
		    json_string(cp_dkim_status_name(st)));
		for (size_t i = 0; i < cp_dkim_verifier_count(v); i++)
			json_array_append_new(a,
			    result_json(cp_dkim_verifier_result(v, i)));
		json_object_set_new(o, "signatures", a);
		out_json_pretty(stdout, o);
		json_decref(o);
	} else {
		printf("dkim: %s\n", cp_dkim_status_name(st));
		for (size_t i = 0; i < cp_dkim_verifier_count(v); i++) {
			const cp_dkim_result *r = cp_dkim_verifier_result(v, i);

			printf("  %-9s d=%s s=%s a=%s c=%s%s\n",
			    cp_dkim_status_name(r->status),
			    r->domain[0] ? r->domain : "?",
			    r->selector[0] ? r->selector : "?",
			    r->alg[0] ? r->alg : "?", r->canon,
			    r->testing ? " (key in testing mode, t=y)" : "");
			if (r->has_l)
				printf("            l=%llu: only the first %llu of "
				       "%llu body bytes are signed\n",
				    (unsigned long long)r->l,
				    (unsigned long long)r->l,
				    (unsigned long long)r->body_len);
			if (r->why[0])
				printf("            %s\n", r->why);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = CP_EXIT_SYS;
	else
		rc = st == CP_DKIM_PASS ? CP_EXIT_OK : CP_EXIT_FAIL;
	cp_dkim_verifier_free(v);
	cp_dns_free(d);
	return rc;
}

int
cmd_dkim(int argc, char **argv)
{
	if (argc < 2) {
		dkim_usage(stderr);
		return CP_EXIT_USAGE;
	}
	if (out_is_help(argv[1])) {
		dkim_usage(stdout);
		return CP_EXIT_OK;
	}
	if (strcmp(argv[1], "keygen") == 0)
		return dkim_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return dkim_sign(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return dkim_verify(argc - 1, argv + 1);
	fprintf(stderr, "coldpost dkim: unknown subcommand '%s' (keygen, sign, "
	    "verify)\n", argv[1]);
	return CP_EXIT_USAGE;
}
