/*
 * Fuzz target: the DSN builder (src/queue/dsn.c) on hostile input: the
 * original message (whose header section is copied and folded) and a
 * receiver's reply text (which goes into Diagnostic-Code and the human
 * part).
 *
 * Input: up to the first NUL, the receiver's reply; after it, the
 * original message. Checked: the DSN has only CRLF line ends, no line
 * over 998 octets, no NUL, and none of the reply's lines became a header
 * line of its own (X-Injected: in the reply stays inside Diagnostic-Code).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_lines(const char *p, size_t len)
{
	size_t start = 0;

	if (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n')
		__builtin_trap();
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\0' || (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')))
			__builtin_trap();
		if (p[i] == '\r') {
			if (i + 1 >= len || p[i + 1] != '\n' || i - start > 998)
				__builtin_trap();
			start = i + 2;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t dlen = nul ? (size_t)(nul - data) : size;
	char *diag = malloc(dlen + 1);
	cp_dsn_rcpt r = { "rcpt@example.test", CP_DSN_FAILED, "", "mx.test",
		NULL, "", 1, 0 };
	cp_dsn d = { 0 };
	cp_buf out;

	if (diag == NULL)
		return 0;
	memcpy(diag, data, dlen);
	diag[dlen] = '\0';
	r.diagnostic = diag;
	r.action = dlen % 2 ? CP_DSN_DELAYED : CP_DSN_FAILED;
	r.expired = dlen % 3 == 0;
	d.reporting_mta = "relay.test";
	d.from = "MAILER-DAEMON@relay.test";
	d.to = "sender@example.test";
	d.queue_id = "Q1";
	d.arrival = 1;
	d.now = 2;
	d.orig = nul ? (const char *)nul + 1 : NULL;
	d.orig_len = nul ? size - dlen - 1 : 0;
	d.rcpts = &r;
	d.n = 1;
	cp_buf_init(&out, 16u << 20);
	if (cp_dsn_build(&d, &out, NULL) == CP_OK) {
		check_lines(out.data, out.len);
		/* a header line of the reply's own, unless the original
		 * (whose header is copied) has one */
		if (memmem(out.data, out.len, "\r\nX-Injected:", 13) != NULL &&
		    (d.orig == NULL || memmem(d.orig, d.orig_len,
			"X-Injected:", 11) == NULL))
			__builtin_trap();
	}
	cp_buf_free(&out);
	free(diag);
	return 0;
}
