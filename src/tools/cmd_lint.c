/*
 * cmd_lint.c - `coldpost lint`: the content and CAN-SPAM linter of a cold
 * email, before it is sent.
 *
 *   coldpost lint campaign.eml
 *   coldpost lint --sending-domain mail.example.com --json campaign.eml
 *   coldpost lint - < campaign.eml
 *
 * The rules, weights and verdict are cp_lint_check_message's
 * (src/lint/). Domains are compared by organization through the Public
 * Suffix List Debian installs (--psl FILE for another), or by name when
 * none can be read. Exit status: 0 the verdict is pass, 1 it is warn or
 * fail (warn exits 0 with --warn-ok) or the input is not a message,
 * 2 usage, 3 system error (cannot read the file, out of memory).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/lint.h"
#include "tools.h"

static void
lint_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost lint [--sending-domain DOMAIN] [--json] "
	    "[--warn-ok]\n"
	    "                     [--warn-at N] [--fail-at N] [--max-links N]\n"
	    "                     [--max-images N] [--psl FILE] MESSAGE.eml|-\n\n"
	    "Checks a message before it is sent for what makes cold email look\n"
	    "like spam or break CAN-SPAM: deceptive subjects, spam phrases, link\n"
	    "shorteners and misleading links, images and tracking pixels, MIME\n"
	    "structure, attachments, From/Reply-To outside the sending domain,\n"
	    "a missing postal address or opt-out. Each finding has a rule id,\n"
	    "a severity, points, the evidence and the fix; the points add up\n"
	    "to a score and a verdict: pass, warn (score >= %d), fail (>= %d).\n\n"
	    "  --sending-domain D  the domain the mail is sent and signed from\n"
	    "                      (default: the From address's domain)\n"
	    "  --json              one JSON object\n"
	    "  --warn-ok           exit 0 on a warn verdict too\n"
	    "  --warn-at N         score from which the verdict is warn (1-1000)\n"
	    "  --fail-at N         score from which the verdict is fail (1-1000)\n"
	    "  --max-links N       distinct links allowed (default %d)\n"
	    "  --max-images N      images allowed (default %d)\n"
	    "  --psl FILE          Public Suffix List (default: Debian's)\n\n"
	    "exit: 0 pass, 1 warn or fail or not a message, 2 usage, 3 system "
	    "error\n",
	    CP_LINT_WARN_AT, CP_LINT_FAIL_AT, CP_LINT_MAX_LINKS,
	    CP_LINT_MAX_IMAGES);
}

/* A decimal in lo..hi, or -1. */
static long
lint_arg_num(const char *s, long lo, long hi)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > hi)
			return -1;
	}
	return v < lo ? -1 : v;
}

/* The whole file (or stdin for "-") into b; one byte over the linter's
 * limit is read so that limit can be reported. CP_OK or CP_EIO/ENOMEM. */
static int
lint_read(const char *path, cp_buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = CP_OK;

	if (f == NULL)
		return CP_EIO;
	while (rc == CP_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = cp_buf_add(b, chunk, n);
	if (rc == CP_ETOOBIG)
		rc = CP_OK; /* cut: the linter reports the size */
	if (rc == CP_OK && ferror(f))
		rc = CP_EIO;
	if (f != stdin)
		fclose(f);
	return rc;
}

static int
lint_print_json(const char *file, const cp_lint_report *r,
    const cp_lint_opts *o)
{
	json_t *root = json_object(), *fs = json_array(), *st = json_object();
	int rc = 0;

	if (root == NULL || fs == NULL || st == NULL) {
		json_decref(root);
		json_decref(fs);
		json_decref(st);
		return CP_EXIT_SYS;
	}
	for (size_t i = 0; i < r->n; i++) {
		const cp_lint_finding *f = &r->v[i];
		json_t *j = json_object();

		rc |= j == NULL;
		rc |= json_object_set_new(j, "rule", json_string(f->rule));
		rc |= json_object_set_new(j, "severity",
		    json_string(cp_lint_severity_name(f->severity)));
		rc |= json_object_set_new(j, "points", json_integer(f->points));
		rc |= json_object_set_new(j, "evidence", out_jstr(f->evidence));
		rc |= json_object_set_new(j, "fix", out_jstr(f->fix));
		rc |= json_array_append_new(fs, j);
	}
	rc |= json_object_set_new(st, "links", json_integer((json_int_t)
	    r->stats.links));
	rc |= json_object_set_new(st, "images", json_integer((json_int_t)
	    r->stats.images));
	rc |= json_object_set_new(st, "words", json_integer((json_int_t)
	    r->stats.words));
	rc |= json_object_set_new(st, "attachments", json_integer((json_int_t)
	    r->stats.attachments));
	rc |= json_object_set_new(st, "text_part",
	    json_boolean(r->stats.has_text));
	rc |= json_object_set_new(st, "html_part",
	    json_boolean(r->stats.has_html));
	rc |= json_object_set_new(root, "file", out_jstr(file));
	rc |= json_object_set_new(root, "verdict",
	    json_string(cp_lint_verdict_name(r->verdict)));
	rc |= json_object_set_new(root, "score", json_integer(r->score));
	rc |= json_object_set_new(root, "warn_at", json_integer(o->warn_at));
	rc |= json_object_set_new(root, "fail_at", json_integer(o->fail_at));
	rc |= json_object_set_new(root, "from_domain", out_jstr(r->from_domain));
	rc |= json_object_set_new(root, "sending_domain",
	    out_jstr(r->sending_domain));
	rc |= json_object_set_new(root, "stats", st);
	rc |= json_object_set_new(root, "findings", fs);
	if (rc != 0) {
		json_decref(root);
		return CP_EXIT_SYS;
	}
	out_json_pretty(stdout, root);
	json_decref(root);
	return CP_EXIT_OK;
}

static void
lint_print_text(const char *file, const cp_lint_report *r)
{
	static const char *const sev_upper[] = { "INFO", "WARN", "FAIL" };
	cp_buf line;

	printf("%s: %s (score %d)\n", file, cp_lint_verdict_name(r->verdict),
	    r->score);
	printf("  from domain %s, sending domain %s\n",
	    r->from_domain ? r->from_domain : "(none)",
	    r->sending_domain ? r->sending_domain : "(none)");
	printf("  %zu link(s), %zu image(s), %zu word(s), %zu attachment(s); "
	       "parts: %s%s%s\n", r->stats.links, r->stats.images,
	    r->stats.words, r->stats.attachments,
	    r->stats.has_text ? "text" : "",
	    r->stats.has_text && r->stats.has_html ? "+" : "",
	    r->stats.has_html ? "html" : (r->stats.has_text ? "" : "none"));
	if (r->n == 0)
		printf("  no findings\n");
	cp_buf_init(&line, 8192);
	for (size_t i = 0; i < r->n; i++) {
		const cp_lint_finding *f = &r->v[i];

		printf("\n  %s %-34s +%d\n", sev_upper[f->severity], f->rule,
		    f->points);
		cp_buf_reset(&line);
		if (cp_buf_addf(&line, "seen: %s", f->evidence) == CP_OK)
			out_wrap(stdout, line.data, 7, 78);
		out_wrap(stdout, f->fix, 7, 78);
	}
	cp_buf_free(&line);
}

int
cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sending-domain", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "warn-ok", no_argument, NULL, 'w' },
		{ "warn-at", required_argument, NULL, 'W' },
		{ "fail-at", required_argument, NULL, 'F' },
		{ "max-links", required_argument, NULL, 'l' },
		{ "max-images", required_argument, NULL, 'i' },
		{ "psl", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cp_lint_opts o = { 0 };
	cp_lint_report r;
	const char *psl_path = NULL, *file;
	int json = 0, warn_ok = 0, ch, rc;
	long v;
	cp_psl *psl;
	cp_buf msg;
	cp_err err = { 0 };

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's': o.sending_domain = optarg; break;
		case 'j': json = 1; break;
		case 'w': warn_ok = 1; break;
		case 'p': psl_path = optarg; break;
		case 'W': case 'F': case 'l': case 'i':
			v = lint_arg_num(optarg, 1, 1000);
			if (v < 0) {
				fprintf(stderr, "coldpost lint: '%s': must be a "
				    "number from 1 to 1000\n", optarg);
				return CP_EXIT_USAGE;
			}
			if (ch == 'W')
				o.warn_at = (int)v;
			else if (ch == 'F')
				o.fail_at = (int)v;
			else if (ch == 'l')
				o.max_links = (size_t)v;
			else
				o.max_images = (size_t)v;
			break;
		case 'h': lint_usage(stdout); return CP_EXIT_OK;
		default:
			fprintf(stderr, "coldpost lint: unknown option or "
			    "missing value '%s'\n", argv[optind - 1]);
			lint_usage(stderr);
			return CP_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "coldpost lint: %s\n", optind < argc ?
		    "one message at a time" : "which message? (a file or -)");
		lint_usage(stderr);
		return CP_EXIT_USAGE;
	}
	file = argv[optind];
	if (o.warn_at > 0 && o.fail_at > 0 && o.warn_at > o.fail_at) {
		fprintf(stderr, "coldpost lint: --warn-at %d is above "
		    "--fail-at %d\n", o.warn_at, o.fail_at);
		return CP_EXIT_USAGE;
	}
	cp_buf_init(&msg, (size_t)CP_LINT_MSG_MAX + 1);
	if ((rc = lint_read(file, &msg)) != CP_OK) {
		fprintf(stderr, "coldpost lint: %s: %s\n", file,
		    rc == CP_EIO ? strerror(errno) : "out of memory");
		cp_buf_free(&msg);
		return CP_EXIT_SYS;
	}
	psl = cp_psl_load(psl_path, &err);
	if (psl == NULL && psl_path != NULL) {
		fprintf(stderr, "coldpost lint: %s\n", err.msg);
		cp_buf_free(&msg);
		return CP_EXIT_SYS;
	}
	o.psl = psl;
	rc = cp_lint_check_message(msg.data, msg.len, &o, &r, &err);
	cp_buf_free(&msg);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost lint: %s: %s\n", file, err.msg);
		cp_psl_free(psl);
		return rc == CP_ESYNTAX ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	if (o.warn_at == 0)
		o.warn_at = CP_LINT_WARN_AT;
	if (o.fail_at == 0)
		o.fail_at = CP_LINT_FAIL_AT;
	rc = CP_EXIT_OK;
	if (json)
		rc = lint_print_json(file, &r, &o);
	else
		lint_print_text(file, &r);
	if (rc == CP_EXIT_OK && (r.verdict == CP_LINT_VERDICT_FAIL ||
	    (r.verdict == CP_LINT_VERDICT_WARN && !warn_ok)))
		rc = CP_EXIT_FAIL;
	cp_lint_report_clear(&r);
	cp_psl_free(psl);
	return rc;
}
