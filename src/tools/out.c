/*
 * out.c - human and JSON output shared by the subcommands.
 */
#include <stdlib.h>
#include <string.h>

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
