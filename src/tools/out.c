/*
 * out.c - human and JSON output shared by the subcommands.
 */
#include <stdlib.h>
#include <string.h>

#include "coldpost/dns.h"
#include "tools.h"

void
out_wrap(FILE *f, const char *text, int indent, int width)
{
	const char *p = text;

	while (*p) {
		int col = indent;

		if (*p == '\n') { /* paragraph break "\n\n" -> blank line */
			while (*p == '\n')
				p++;
			fputc('\n', f);
			continue;
		}
		fprintf(f, "%*s", indent, "");
		while (*p && *p != '\n') {
			size_t w = strcspn(p, " \n");

			if (col > indent && col + 1 + (int)w > width)
				break;
			if (col > indent) {
				fputc(' ', f);
				col++;
			}
			fwrite(p, 1, w, f);
			col += (int)w;
			p += w;
			while (*p == ' ')
				p++;
		}
		fputc('\n', f);
	}
}

void
out_json_line(FILE *f, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		fputs(s, f);
		fputc('\n', f);
		free(s);
	}
}

void
out_json_pretty(FILE *f, json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		fputs(s, f);
		fputc('\n', f);
		free(s);
	}
}

json_t *
out_jstr(const char *s)
{
	json_t *v;

	if (s == NULL)
		return json_null();
	v = json_string(s);
	if (v == NULL) { /* not UTF-8: keep the bytes visible, escaped */
		char buf[4096];
		size_t o = 0;

		for (; *s && o + 5 < sizeof(buf); s++) {
			unsigned char c = (unsigned char)*s;

			if (c < 0x80)
				buf[o++] = (char)c;
			else
				o += (size_t)snprintf(buf + o, sizeof(buf) - o,
				    "\\x%02x", c);
		}
		buf[o] = '\0';
		v = json_string(buf);
	}
	return v;
}

int
out_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

cp_dns *
tools_open_resolver(const char *cmd, const char *servers,
    const char *const *zones, size_t nzones, long timeout_ms, int bad_zone_exit,
    int *exit_code)
{
	cp_dns_config cfg = { 0 };
	cp_err err = { 0 };
	cp_dns *d;

	if (nzones == 0) {
		cfg.servers = servers;
		cfg.timeout_ms = (int)timeout_ms;
		d = cp_dns_new_cares(&cfg, &err);
		if (d == NULL) {
			fprintf(stderr, "coldpost %s: resolver: %s\n", cmd, err.msg);
			*exit_code = err.code == CP_EINVAL ? CP_EXIT_USAGE
							   : CP_EXIT_SYS;
		}
		return d;
	}
	d = cp_dns_new_fake();
	if (d == NULL) {
		fprintf(stderr, "coldpost %s: out of memory\n", cmd);
		*exit_code = CP_EXIT_SYS;
		return NULL;
	}
	for (size_t i = 0; i < nzones; i++)
		if (cp_dns_fake_load(d, zones[i], &err) != CP_OK) {
			fprintf(stderr, "coldpost %s: %s\n", cmd, err.msg);
			cp_dns_free(d);
			*exit_code = err.code == CP_ENOMEM ? CP_EXIT_SYS
							   : bad_zone_exit;
			return NULL;
		}
	return d;
}
