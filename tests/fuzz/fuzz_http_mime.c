/*
 * Fuzz target: the structured message of POST /v1/messages built into MIME
 * (src/http/http_mime.c), then completed as an injected message is
 * (net_inject_complete: Bcc dropped, Date and Message-ID added).
 *
 * Input: JSON (any bytes). Checked: a message that builds has every line
 * ended by CRLF and at most 998 characters, a From field, no Bcc field,
 * and no header field that the caller's text could have injected (the
 * header section holds only lines that are fields or folds); the
 * completion accepts what the builder made.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "coldpost/buf.h"
#include "http/http_int.h"
#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_lines(const cp_buf *b)
{
	size_t col = 0;
	int in_header = 1, saw_from = 0;
	const char *line = b->data;

	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] != '\n') {
			col++;
			continue;
		}
		if (i == 0 || b->data[i - 1] != '\r' || col - 1 > 998)
			abort();
		if (in_header) {
			size_t len = (size_t)(b->data + i - 1 - line);

			if (len == 0)
				in_header = 0;
			else if (line[0] != ' ' && line[0] != '\t') {
				const char *colon = memchr(line, ':', len);

				if (colon == NULL)
					abort();
				if (strncasecmp(line, "bcc:", 4) == 0)
					abort();
				if (strncasecmp(line, "from:", 5) == 0)
					saw_from = 1;
			}
		}
		col = 0;
		line = b->data + i + 1;
	}
	if (!saw_from || in_header)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *m = json_loadb((const char *)data, size, 0, NULL);
	const char *field = NULL;
	cp_buf b, c;
	cp_err err;

	if (m == NULL)
		return 0;
	cp_buf_init(&b, 4u << 20);
	cp_buf_init(&c, 8u << 20);
	if (http_mime_build(m, NULL, &b, &field, &err) == CP_OK) {
		check_lines(&b);
		if (net_inject_complete(b.data, b.len, "fuzz.test", &c, &err) !=
		    CP_OK)
			abort();
		check_lines(&c);
	}
	cp_buf_free(&b);
	cp_buf_free(&c);
	json_decref(m);
	return 0;
}
