/*
 * cmd_explain.c - `coldpost explain`: the SMTP error reference on the
 * command line.
 *
 *   coldpost explain "550 5.7.1 Message rejected as spam"   a reply
 *   coldpost explain 550 5.7.1 | 5.7.26 | 421               codes alone
 *   coldpost explain gmail | blocklist | spamhaus            a page
 *   coldpost explain --list                                  the index
 *   coldpost explain --batch FILE|-                          JSON per line
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/classify.h"
#include "coldpost/kb.h"
#include "tools.h"

#define WIDTH 78

static void
explain_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost explain [--json] [--host MX] REPLY...\n"
	    "       coldpost explain [--json] CODE | RECEIVER | CAUSE | BLOCKLIST\n"
	    "       coldpost explain --list [--json]\n"
	    "       coldpost explain --batch FILE|- [--host MX]\n\n"
	    "Explains an SMTP reply: what it means, which receiver sent it, "
	    "why,\nand numbered steps to fix it.\n\n"
	    "  --json         one JSON object (fields code, enhanced, class, "
	    "cause,\n                 reason, receiver, retry, steps, ...)\n"
	    "  --host MX      the receiving host or MX name, to recognise the "
	    "receiver\n"
	    "  --list         the index of every code, receiver, blocklist "
	    "and cause\n"
	    "  --batch FILE   classify one reply per line of FILE ('-': "
	    "stdin), one\n                 JSON object per line, in order; "
	    "bad lines get \"error\"\n\n"
	    "exit: 0 explained, 1 malformed reply or unknown code, 2 usage, "
	    "3 system error\n");
}

static json_t *
jstrings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, out_jstr(v[i]));
	return a;
}

static json_t *
page_json(const cp_kb_page *pg)
{
	json_t *o = json_object(), *faq = json_array();

	json_object_set_new(o, "kind", json_string(cp_kind_name(pg->kind)));
	json_object_set_new(o, "key", out_jstr(pg->key));
	json_object_set_new(o, "title", out_jstr(pg->title));
	if (pg->name)
		json_object_set_new(o, "name", out_jstr(pg->name));
	if (pg->ref)
		json_object_set_new(o, "ref", out_jstr(pg->ref));
	if (pg->family >= 0)
		json_object_set_new(o, "family",
		    json_string(cp_cause_name(pg->family)));
	json_object_set_new(o, "meaning", out_jstr(pg->meaning));
	json_object_set_new(o, "who", out_jstr(pg->who));
	json_object_set_new(o, "why", out_jstr(pg->why));
	json_object_set_new(o, "steps", jstrings(pg->steps, pg->nsteps));
	json_object_set_new(o, "cold_email", out_jstr(pg->cold));
	for (size_t i = 0; i < pg->nfaq; i++)
		json_array_append_new(faq, json_pack("{s:s,s:s}", "q",
		    pg->faq[i].q, "a", pg->faq[i].a));
	json_object_set_new(o, "faq", faq);
	json_object_set_new(o, "related", jstrings(pg->related, pg->nrelated));
	if (pg->delist)
		json_object_set_new(o, "delist", out_jstr(pg->delist));
	return o;
}

static json_t *
verdict_json(const cp_verdict *v, const cp_reply *r, int full)
{
	json_t *o = json_object();

	json_object_set_new(o, "code", v->code ? json_integer(v->code)
					       : json_null());
	json_object_set_new(o, "enhanced",
	    v->enhanced[0] ? json_string(v->enhanced) : json_null());
	json_object_set_new(o, "class", json_string(cp_class_name(v->cls)));
	json_object_set_new(o, "cause", json_string(cp_cause_name(v->cause)));
	json_object_set_new(o, "reason", out_jstr(v->reason));
	json_object_set_new(o, "receiver", out_jstr(v->receiver));
	json_object_set_new(o, "blocklist", out_jstr(v->blocklist));
	json_object_set_new(o, "retry", json_string(cp_retry_name(v->retry)));
	json_object_set_new(o, "rule", out_jstr(v->rule));
	json_object_set_new(o, "confidence",
	    json_string(v->code_only ? "codes_only" : "signature"));
	json_object_set_new(o, "says", out_jstr(v->says));
	json_object_set_new(o, "steps", jstrings(v->steps, v->nsteps));
	if (r != NULL) {
		json_object_set_new(o, "text", out_jstr(r->text));
		if (r->host[0])
			json_object_set_new(o, "host", out_jstr(r->host));
	}
	if (full) {
		json_t *pages = json_object();

		if (v->code_page)
			json_object_set_new(pages, "code",
			    page_json(v->code_page));
		if (v->reply_page)
			json_object_set_new(pages, "reply",
			    page_json(v->reply_page));
		if (v->receiver_page)
			json_object_set_new(pages, "receiver",
			    page_json(v->receiver_page));
		if (v->blocklist_page)
			json_object_set_new(pages, "blocklist",
			    page_json(v->blocklist_page));
		if (v->cause_page)
			json_object_set_new(pages, "cause",
			    page_json(v->cause_page));
		json_object_set_new(o, "pages", pages);
	}
	return o;
}

static void
print_heading(const char *h)
{
	printf("\n%s\n", h);
}

static void
print_steps(const char *const *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char num[8];
		int w = snprintf(num, sizeof(num), "%zu. ", i + 1);

		printf("  %s", num);
		/* first line after the number, then hanging indent */
		{
			const char *p = steps[i];
			int col = 2 + w;
			int first = 1;

			while (*p) {
				size_t len = strcspn(p, " ");

				if (!first && col + 1 + (int)len > WIDTH) {
					printf("\n%*s", 2 + w, "");
					col = 2 + w;
					first = 1;
				}
				if (!first) {
					putchar(' ');
					col++;
				}
				fwrite(p, 1, len, stdout);
				col += (int)len;
				first = 0;
				p += len;
				while (*p == ' ')
					p++;
			}
			putchar('\n');
		}
	}
}

static void
print_faq(const cp_kb_page *pg)
{
	for (size_t i = 0; i < pg->nfaq; i++) {
		char q[512];

		snprintf(q, sizeof(q), "Q: %s", pg->faq[i].q);
		out_wrap(stdout, q, 2, WIDTH);
		snprintf(q, sizeof(q), "A: %s", pg->faq[i].a);
		out_wrap(stdout, q, 2, WIDTH);
	}
}

static void
print_related(const cp_kb_page *pg)
{
	if (pg->nrelated == 0)
		return;
	printf("\nRelated: ");
	for (size_t i = 0; i < pg->nrelated; i++)
		printf("%s%s", i ? ", " : "", pg->related[i]);
	putchar('\n');
}

/* The full page of one knowledge-base entry. */
static void
print_page(const cp_kb_page *pg)
{
	printf("%s — %s\n", pg->name ? pg->name : pg->key, pg->title);
	if (pg->ref)
		printf("Defined in: %s\n", pg->ref);
	if (pg->family >= 0)
		printf("Usual cause: %s\n", cp_cause_name(pg->family));
	if (pg->zones)
		printf("Zones: %s\n", pg->zones);
	if (pg->delist)
		printf("Delisting / support: %s\n", pg->delist);
	print_heading("What it means");
	out_wrap(stdout, pg->meaning, 2, WIDTH);
	print_heading("Who you will see it from");
	out_wrap(stdout, pg->who, 2, WIDTH);
	print_heading("Why it happens");
	out_wrap(stdout, pg->why, 2, WIDTH);
	print_heading("How to fix it");
	print_steps(pg->steps, pg->nsteps);
	print_heading("For cold email");
	out_wrap(stdout, pg->cold, 2, WIDTH);
	print_heading("FAQ");
	print_faq(pg);
	print_related(pg);
}

/* The page for one reply: the verdict first, then what the pages say. */
static void
print_verdict(const cp_verdict *v, const cp_reply *r)
{
	const cp_kb_page *main = v->code_page ? v->code_page : v->reply_page;
	const cp_kb_page *rp = v->receiver_page;

	printf("%s\n\n", r->text);
	printf("  Class:     %s\n", cp_class_name(v->cls));
	printf("  Cause:     %s (%s)\n", cp_cause_name(v->cause), v->reason);
	printf("  Receiver:  %s\n", rp ? rp->name : v->receiver);
	if (v->blocklist)
		printf("  Blocklist: %s\n", v->blocklist_page &&
		    v->blocklist_page->name ? v->blocklist_page->name
					    : v->blocklist);
	printf("  Retry:     %s\n", cp_retry_name(v->retry));
	printf("  Matched:   %s\n", v->code_only
	    ? "no receiver signature; this reading comes from the codes alone"
	    : v->rule);
	print_heading("What it means");
	if (v->says && *v->says)
		out_wrap(stdout, v->says, 2, WIDTH);
	if (main) {
		putchar('\n');
		out_wrap(stdout, main->meaning, 2, WIDTH);
	}
	if (v->cause == CP_CAUSE_BLOCKLIST || v->cause == CP_CAUSE_REPUTATION)
		out_wrap(stdout, "\nThis is a refusal of the sender, not a "
				 "dead address: do not suppress the recipient.",
		    2, WIDTH);
	print_heading("Who you will see it from");
	out_wrap(stdout, rp ? rp->who : main ? main->who
		: v->cause_page->who, 2, WIDTH);
	print_heading("Why it happens");
	out_wrap(stdout, main && v->code_only ? main->why : v->cause_page->why,
	    2, WIDTH);
	print_heading("How to fix it");
	print_steps(v->steps, v->nsteps);
	if (v->blocklist_page && v->blocklist_page->delist)
		printf("  Delisting: %s\n", v->blocklist_page->delist);
	print_heading("For cold email");
	out_wrap(stdout, main && v->code_only ? main->cold : v->cause_page->cold,
	    2, WIDTH);
	print_heading("FAQ");
	print_faq(main ? main : v->cause_page);
	if (main)
		print_related(main);
}

/* A bare code ("5.7.26", "550", "X.7.1") or a page key, or NULL. */
static const cp_kb_page *
lookup_key(const char *arg)
{
	static const cp_kb_kind kinds[] = { CP_KB_RECEIVER, CP_KB_BLOCKLIST,
		CP_KB_CAUSE, CP_KB_REPLY, CP_KB_CODE };
	char key[32];

	if ((arg[0] == 'X' || arg[0] == 'x') && arg[1] == '.') {
		snprintf(key, sizeof(key), "X%s", arg + 1);
		return cp_kb_find(CP_KB_CODE, key);
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const cp_kb_page *pg = cp_kb_find(kinds[i], arg);

		if (pg)
			return pg;
	}
	return NULL;
}

static int
explain_list(int json)
{
	json_t *a = json ? json_array() : NULL;
	int last = -1;

	for (size_t i = 0; i < cp_kb_count(); i++) {
		const cp_kb_page *pg = cp_kb_page_at(i);

		if (json) {
			json_array_append_new(a, json_pack("{s:s,s:s,s:s}",
			    "kind", cp_kind_name(pg->kind), "key", pg->key,
			    "title", pg->title));
			continue;
		}
		if (pg->kind != last)
			printf("%s== %ss\n", last < 0 ? "" : "\n",
			    cp_kind_name(pg->kind));
		last = pg->kind;
		printf("  %-18s %s\n", pg->key, pg->title);
	}
	if (json) {
		out_json_pretty(stdout, a);
		json_decref(a);
	}
	return CP_EXIT_OK;
}

static int
explain_batch(cp_classify_session *s, const char *path, const char *host)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		fprintf(stderr, "coldpost explain: %s: cannot open: %s\n", path,
		    strerror(errno));
		return CP_EXIT_SYS;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		cp_verdict v;
		cp_err err = { 0 };
		json_t *o;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		line[n] = '\0';
		if (cp_classify_reply(s, line, (size_t)n, host, &v, &err) ==
		    CP_OK) {
			o = verdict_json(&v, cp_classify_session_reply(s), 0);
		} else {
			o = json_object();
			json_object_set_new(o, "error", out_jstr(err.msg));
		}
		{
			json_t *in = json_stringn(line, (size_t)n);

			json_object_set_new(o, "input", in ? in : out_jstr(line));
		}
		out_json_line(stdout, o);
		json_decref(o);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	fflush(stdout);
	return ferror(stdout) ? CP_EXIT_SYS : CP_EXIT_OK;
}

int
cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "list", no_argument, NULL, 'l' },
		{ "batch", required_argument, NULL, 'b' },
		{ "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *batch = NULL, *host = NULL;
	int json = 0, list = 0, c, rc;
	const cp_classifier *cl;
	cp_classify_session *s;
	cp_err err = { 0 };
	char reply[8192];
	size_t len = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+jlb:H:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'l': list = 1; break;
		case 'b': batch = optarg; break;
		case 'H': host = optarg; break;
		case 'h': explain_usage(stdout); return CP_EXIT_OK;
		default: explain_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (list)
		return explain_list(json);
	if (batch == NULL && optind >= argc) {
		explain_usage(stderr);
		return CP_EXIT_USAGE;
	}
	cl = cp_classifier_default(&err);
	s = cl ? cp_classify_session_new(cl, &err) : NULL;
	if (s == NULL) {
		fprintf(stderr, "coldpost explain: %s\n", err.msg);
		return CP_EXIT_SYS;
	}
	if (batch != NULL) {
		rc = explain_batch(s, batch, host);
		cp_classify_session_free(s);
		return rc;
	}
	/* A single word that names a page: show the page itself. */
	if (optind == argc - 1 && strchr(argv[optind], ' ') == NULL) {
		const cp_kb_page *pg = lookup_key(argv[optind]);

		if (pg != NULL && pg->kind != CP_KB_REPLY &&
		    pg->kind != CP_KB_CODE) {
			if (json) {
				json_t *o = page_json(pg);

				out_json_pretty(stdout, o);
				json_decref(o);
			} else {
				print_page(pg);
			}
			cp_classify_session_free(s);
			return CP_EXIT_OK;
		}
	}
	for (int i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + 2 > sizeof(reply)) {
			fprintf(stderr, "coldpost explain: reply longer than "
					"%zu bytes\n", sizeof(reply) - 2);
			cp_classify_session_free(s);
			return CP_EXIT_USAGE;
		}
		if (len)
			reply[len++] = ' ';
		memcpy(reply + len, argv[i], n);
		len += n;
	}
	{
		cp_verdict v;

		if (cp_classify_reply(s, reply, len, host, &v, &err) != CP_OK) {
			fprintf(stderr, "coldpost explain: %s\n", err.msg);
			cp_classify_session_free(s);
			return CP_EXIT_FAIL;
		}
		if (json) {
			json_t *o = verdict_json(&v,
			    cp_classify_session_reply(s), 1);

			out_json_pretty(stdout, o);
			json_decref(o);
		} else {
			print_verdict(&v, cp_classify_session_reply(s));
		}
	}
	cp_classify_session_free(s);
	return CP_EXIT_OK;
}
