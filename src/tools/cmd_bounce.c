/*
 * cmd_bounce.c - `coldpost bounce`: read bounce emails and say, for each
 * recipient, why it failed.
 *
 *   coldpost bounce FILE... | -          a summary per recipient
 *   coldpost bounce --json FILE...       one JSON object per email
 *   coldpost bounce --batch LIST|DIR     one JSON line per email, for bulk
 *
 * LIST is a file naming one email file per line ('-': stdin); DIR is read
 * in name order (not recursively). The parsing is cp_bounce_parse.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coldpost/alloc.h"
#include "coldpost/bounce.h"
#include "coldpost/buf.h"
#include "coldpost/kb.h"
#include "tools.h"

static void
bounce_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost bounce [--json] FILE...|-\n"
	    "       coldpost bounce --batch LIST|DIR\n\n"
	    "Reads bounce emails (RFC 3464 DSNs, RFC 5965 feedback reports,\n"
	    "auto-replies, the text bounces of common MTAs) and says for each\n"
	    "recipient: the reason, status, reply code, cause and whether the\n"
	    "address is dead (hard).\n\n"
	    "  --json         one JSON object per email: {\"file\", \"family\",\n"
	    "                 \"message_id\", \"return_path\", \"verp\", "
	    "\"recipients\": [...]}\n"
	    "  --batch LIST   emails named one per line in LIST ('-': stdin), "
	    "or every\n                 file of a directory; one JSON object "
	    "per line\n\n"
	    "exit: 0 read (bounce or not), 1 an email could not be read, "
	    "2 usage,\n      3 system error\n");
}

/* The whole file (or stdin for "-") into b. */
static int
read_file(const char *path, cp_buf *b)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char tmp[65536];
	size_t n;
	int rc = CP_OK;

	cp_buf_reset(b);
	if (f == NULL)
		return CP_EIO;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if ((rc = cp_buf_add(b, tmp, n)) != CP_OK)
			break;
	if (rc == CP_OK && ferror(f))
		rc = CP_EIO;
	if (f != stdin)
		fclose(f);
	return rc;
}

static json_t *
rcpt_json(const cp_bounce_rcpt *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "recipient", out_jstr(r->recipient));
	json_object_set_new(o, "reason", out_jstr(r->reason));
	json_object_set_new(o, "action", out_jstr(r->action));
	json_object_set_new(o, "status", out_jstr(r->status));
	json_object_set_new(o, "replycode", r->replycode ?
	    json_integer(r->replycode) : json_null());
	json_object_set_new(o, "cause", r->cause >= 0 ?
	    json_string(cp_cause_name(r->cause)) : json_null());
	json_object_set_new(o, "receiver", out_jstr(r->receiver));
	json_object_set_new(o, "hard", json_boolean(r->hard));
	json_object_set_new(o, "diagnostic", out_jstr(r->diagnostic));
	json_object_set_new(o, "remote_mta", out_jstr(r->remote_mta));
	json_object_set_new(o, "reporting_mta", out_jstr(r->reporting_mta));
	json_object_set_new(o, "command", out_jstr(r->command));
	json_object_set_new(o, "date", out_jstr(r->date));
	json_object_set_new(o, "rule", out_jstr(r->rule));
	if (r->orig_recipient[0])
		json_object_set_new(o, "original_recipient",
		    out_jstr(r->orig_recipient));
	if (r->feedback_type[0])
		json_object_set_new(o, "feedback_type",
		    out_jstr(r->feedback_type));
	return o;
}

static json_t *
bounce_json(const char *file, const cp_bounce *b)
{
	json_t *o = json_object(), *a = json_array();

	json_object_set_new(o, "file", out_jstr(file));
	json_object_set_new(o, "family", out_jstr(b->family));
	json_object_set_new(o, "message_id", out_jstr(b->message_id));
	json_object_set_new(o, "return_path", out_jstr(b->return_path));
	json_object_set_new(o, "rcpt_to", out_jstr(b->rcpt_to));
	json_object_set_new(o, "verp", out_jstr(b->verp));
	if (b->envelope_id[0])
		json_object_set_new(o, "envelope_id", out_jstr(b->envelope_id));
	if (b->source_ip[0])
		json_object_set_new(o, "source_ip", out_jstr(b->source_ip));
	if (b->notes[0])
		json_object_set_new(o, "notes", out_jstr(b->notes));
	if (b->used_gmime)
		json_object_set_new(o, "parser", json_string("gmime"));
	for (size_t i = 0; i < b->n; i++)
		json_array_append_new(a, rcpt_json(&b->rcpts[i]));
	json_object_set_new(o, "recipients", a);
	return o;
}

static void
print_text(const char *file, const cp_bounce *b)
{
	printf("%s: %s", file, b->n == 0 ? "not a bounce (no recipient)\n" :
	    "");
	if (b->n > 0)
		printf("%s, %zu recipient%s\n", b->family, b->n,
		    b->n == 1 ? "" : "s");
	if (b->message_id[0])
		printf("  original message-id: %s\n", b->message_id);
	if (b->return_path[0])
		printf("  return path: %s%s%s\n", b->return_path,
		    b->verp[0] ? "  verp: " : "", b->verp);
	for (size_t i = 0; i < b->n; i++) {
		const cp_bounce_rcpt *r = &b->rcpts[i];

		printf("  %s\n    reason %s%s", r->recipient[0] ?
		    r->recipient : "(unknown recipient)", r->reason,
		    r->hard ? " (hard: suppress)" : "");
		if (r->cause >= 0)
			printf(", cause %s", cp_cause_name(r->cause));
		if (r->status[0])
			printf(", status %s", r->status);
		if (r->replycode)
			printf(", reply %d", r->replycode);
		if (strcmp(r->receiver, "unknown") != 0)
			printf(", receiver %s", r->receiver);
		if (r->feedback_type[0])
			printf(", feedback %s", r->feedback_type);
		printf("\n");
		if (r->remote_mta[0])
			printf("    remote MTA %s\n", r->remote_mta);
		if (r->diagnostic[0]) {
			printf("    said:\n");
			out_wrap(stdout, r->diagnostic, 6, 78);
		}
	}
	if (b->notes[0])
		printf("  note: %s\n", b->notes);
}

/* Parse one file; print as asked. CP_EXIT_* */
static int
one(cp_bounce_parser *p, cp_buf *buf, const char *file, int json, int line)
{
	const cp_bounce *b;
	cp_err err = { 0 };
	int rc = read_file(file, buf);

	if (rc != CP_OK) {
		if (line) {
			json_t *o = json_pack("{s:s,s:s}", "file", file,
			    "error", strerror(errno ? errno : EIO));

			out_json_line(stdout, o);
			json_decref(o);
		} else
			fprintf(stderr, "coldpost bounce: %s: %s\n", file,
			    rc == CP_ETOOBIG ? "too big" : strerror(errno));
		return CP_EXIT_FAIL;
	}
	rc = cp_bounce_parse(p, buf->data ? buf->data : "", buf->len, &b,
	    &err);
	if (rc != CP_OK) {
		fprintf(stderr, "coldpost bounce: %s: %s\n", file, err.msg);
		return rc == CP_ENOMEM ? CP_EXIT_SYS : CP_EXIT_FAIL;
	}
	if (json || line) {
		json_t *o = bounce_json(file, b);

		if (line)
			out_json_line(stdout, o);
		else
			out_json_pretty(stdout, o);
		json_decref(o);
	} else
		print_text(file, b);
	return CP_EXIT_OK;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
batch_dir(cp_bounce_parser *p, cp_buf *buf, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int worst = CP_EXIT_OK;

	if (d == NULL) {
		fprintf(stderr, "coldpost bounce: %s: %s\n", dir,
		    strerror(errno));
		return CP_EXIT_FAIL;
	}
	while ((e = readdir(d)) != NULL) {
		cp_buf path;
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		cp_buf_init(&path, 4096);
		if (cp_buf_addf(&path, "%s/%s", dir, e->d_name) != CP_OK ||
		    stat(path.data, &st) != 0 || !S_ISREG(st.st_mode)) {
			cp_buf_free(&path);
			continue;
		}
		if (n == cap) {
			char **nn = cp_realloc(names, (cap ? cap * 2 : 64) *
			    sizeof(*names));

			if (nn == NULL) {
				cp_buf_free(&path);
				worst = CP_EXIT_SYS;
				break;
			}
			names = nn;
			cap = cap ? cap * 2 : 64;
		}
		names[n++] = cp_buf_steal(&path);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		int rc = one(p, buf, names[i], 0, 1);

		if (rc > worst)
			worst = rc;
		cp_free(names[i]);
	}
	cp_free(names);
	return worst;
}

static int
batch_list(cp_bounce_parser *p, cp_buf *buf, const char *list)
{
	FILE *f = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
	char line[4096];
	int worst = CP_EXIT_OK;

	if (f == NULL) {
		fprintf(stderr, "coldpost bounce: %s: %s\n", list,
		    strerror(errno));
		return CP_EXIT_FAIL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t l = strcspn(line, "\r\n");
		int rc;

		line[l] = '\0';
		if (l == 0)
			continue;
		rc = one(p, buf, line, 0, 1);
		if (rc > worst)
			worst = rc;
	}
	if (f != stdin)
		fclose(f);
	return worst;
}

int
cmd_bounce(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *batch = NULL;
	int json = 0, ch, worst = CP_EXIT_OK;
	cp_bounce_parser *p;
	cp_buf buf;
	cp_err err = { 0 };
	struct stat st;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "jb:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'b':
			batch = optarg;
			break;
		case 'h':
			bounce_usage(stdout);
			return CP_EXIT_OK;
		default:
			bounce_usage(stderr);
			return CP_EXIT_USAGE;
		}
	}
	if ((batch == NULL) == (optind >= argc) ||
	    (batch != NULL && json)) {
		bounce_usage(stderr);
		return CP_EXIT_USAGE;
	}
	p = cp_bounce_parser_new(&err);
	if (p == NULL) {
		fprintf(stderr, "coldpost bounce: %s\n", err.msg);
		return CP_EXIT_SYS;
	}
	cp_buf_init(&buf, CP_BOUNCE_MAX + 1);
	if (batch != NULL) {
		if (strcmp(batch, "-") != 0 && stat(batch, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			worst = batch_dir(p, &buf, batch);
		else
			worst = batch_list(p, &buf, batch);
	} else {
		for (int i = optind; i < argc; i++) {
			int rc = one(p, &buf, argv[i], json, 0);

			if (rc > worst)
				worst = rc;
		}
	}
	cp_buf_free(&buf);
	cp_bounce_parser_free(p);
	return worst;
}
