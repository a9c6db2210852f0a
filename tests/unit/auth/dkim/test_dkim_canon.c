/*
 * Unit tests: DKIM canonicalization (dkim_canon.c), RFC 6376 3.4, with the
 * example of 3.4.5, and the streaming body canonicalizer fed in pieces.
 */
#include <stdlib.h>
#include <string.h>

#include "coldpost/dkim.h"
#include "cptest.h"

static void
collect(void *arg, const char *p, size_t len)
{
	cp_buf_add(arg, p, len);
}

/* Canonicalize body in pieces of chunk bytes (0: whole). */
static char *
body(cp_dkim_canon c, const char *in, size_t len, size_t chunk)
{
	cp_dkim_body_canon bc;
	cp_buf out;

	cp_buf_init(&out, 1 << 24);
	cp_buf_adds(&out, ""); /* data never NULL */
	cp_dkim_body_canon_init(&bc, c, collect, &out);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len; i += chunk)
		cp_dkim_body_canon_add(&bc, in + i, CP_MIN(chunk, len - i));
	cp_dkim_body_canon_end(&bc);
	return cp_buf_steal(&out);
}

static char *
header(cp_dkim_canon c, const char *f)
{
	cp_buf out;

	cp_buf_init(&out, 1 << 20);
	CP_CHECK_INT(cp_dkim_canon_header(c, f, strlen(f), &out), CP_OK);
	return cp_buf_steal(&out);
}

CP_TEST(dkim_canon_rfc6376_example)
{
	/* RFC 6376 3.4.5 */
	const char *h1 = "A: X\r\n", *h2 = "B : Y\t\r\n\tZ  \r\n";
	const char *b = " C \r\nD \t E\r\n\r\n\r\n";
	char *s;

	s = header(CP_DKIM_RELAXED, h1);
	CP_CHECK_STR(s, "a:X\r\n");
	free(s);
	s = header(CP_DKIM_RELAXED, h2);
	CP_CHECK_STR(s, "b:Y Z\r\n");
	free(s);
	s = header(CP_DKIM_SIMPLE, h2);
	CP_CHECK_STR(s, "B : Y\t\r\n\tZ  \r\n");
	free(s);
	s = body(CP_DKIM_RELAXED, b, strlen(b), 0);
	CP_CHECK_STR(s, " C\r\nD E\r\n");
	free(s);
	s = body(CP_DKIM_SIMPLE, b, strlen(b), 0);
	CP_CHECK_STR(s, " C \r\nD \t E\r\n");
	free(s);
}

CP_TEST(dkim_canon_headers)
{
	static const struct {
		const char *in, *simple, *relaxed;
	} cases[] = {
		{ "Subject:  Hello \r\n\tWorld  \r\n",
		    "Subject:  Hello \r\n\tWorld  \r\n", "subject:Hello World\r\n" },
		{ "X-Test :\r\n value\r\n", "X-Test :\r\n value\r\n",
		    "x-test:value\r\n" },
		{ "To: a@b", "To: a@b\r\n", "to:a@b\r\n" }, /* CRLF supplied */
		{ "To: a\n  b\n", "To: a\r\n  b\r\n", "to:a b\r\n" }, /* bare LF */
		{ "Empty:\r\n", "Empty:\r\n", "empty:\r\n" },
		{ "Empty: \t \r\n", "Empty: \t \r\n", "empty:\r\n" },
		{ "DKIM-Signature: a=b;\r\n\t b=c", "DKIM-Signature: a=b;\r\n\t b=c\r\n",
		    "dkim-signature:a=b; b=c\r\n" },
		{ "X: a\rb\r\n", "X: a\rb\r\n", "x:a\rb\r\n" }, /* bare CR kept */
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		char *s = header(CP_DKIM_SIMPLE, cases[i].in);
		char *r = header(CP_DKIM_RELAXED, cases[i].in);

		CP_CHECK(strcmp(s, cases[i].simple) == 0, "case %zu simple: '%s'",
		    i, s);
		CP_CHECK(strcmp(r, cases[i].relaxed) == 0,
		    "case %zu relaxed: '%s'", i, r);
		free(s);
		free(r);
	}
}

CP_TEST(dkim_canon_bodies)
{
	static const struct {
		const char *in, *simple, *relaxed;
	} cases[] = {
		{ "", "\r\n", "" },
		{ "\r\n", "\r\n", "" },
		{ "\r\n\r\n\r\n", "\r\n", "" },
		{ "abc", "abc\r\n", "abc\r\n" },
		{ "abc\r\n", "abc\r\n", "abc\r\n" },
		{ "abc \r\n\r\n\r\n", "abc \r\n", "abc\r\n" },
		{ " \t \r\n", " \t \r\n", "" },
		{ "a\r\n \r\n\t\r\n", "a\r\n \r\n\t\r\n", "a\r\n" },
		{ "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },
		{ "a\r\n \r\nb\r\n", "a\r\n \r\nb\r\n", "a\r\n\r\nb\r\n" },
		{ "a  b\t\tc \r\n", "a  b\t\tc \r\n", "a b c\r\n" },
		{ "  lead\r\n", "  lead\r\n", " lead\r\n" },
		{ "a\nb\n\n", "a\r\nb\r\n", "a\r\nb\r\n" },     /* bare LF */
		{ "a\rb\r\n", "a\rb\r\n", "a\rb\r\n" },         /* bare CR */
		{ "a\r", "a\r\r\n", "a\r\r\n" },
		{ "a\r\r\n", "a\r\r\n", "a\r\r\n" },
		{ "x \r\n\r\n \r\ny", "x \r\n\r\n \r\ny\r\n", "x\r\n\r\n\r\ny\r\n" },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		size_t len = strlen(cases[i].in);

		/* whole, byte by byte, and in pairs: always the same */
		for (size_t chunk = 0; chunk <= 2; chunk++) {
			char *s = body(CP_DKIM_SIMPLE, cases[i].in, len, chunk);
			char *r = body(CP_DKIM_RELAXED, cases[i].in, len, chunk);

			CP_CHECK(strcmp(s, cases[i].simple) == 0,
			    "case %zu chunk %zu simple: '%s'", i, chunk, s);
			CP_CHECK(strcmp(r, cases[i].relaxed) == 0,
			    "case %zu chunk %zu relaxed: '%s'", i, chunk, r);
			free(s);
			free(r);
		}
	}
}

CP_TEST(dkim_canon_body_large)
{
	/* 200 KB of mixed lines, 4 KB pieces vs whole: the same output */
	size_t n = 200 * 1024;
	char *in = malloc(n), *a, *b;

	for (size_t i = 0; i < n; i++)
		in[i] = "ab  c\t\r\n\r\n x"[i % 13];
	for (int c = 0; c < 2; c++) {
		a = body((cp_dkim_canon)c, in, n, 0);
		b = body((cp_dkim_canon)c, in, n, 4096);
		CP_CHECK(strcmp(a, b) == 0, "canon %d: chunked output differs", c);
		free(a);
		free(b);
	}
	free(in);
}

CP_TEST(dkim_canon_fast_path_matches_slow)
{
	/*
	 * whole buffers take the line-at-a-time path, single bytes the state
	 * machine: random bodies over the bytes that matter must agree
	 */
	static const char alphabet[] = "ab  \t\r\n\n\r\n";
	unsigned int seed = 12345;
	char in[300];

	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(round % 97) * 3;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		for (int c = 0; c < 2; c++) {
			char *a = body((cp_dkim_canon)c, in, n, 0);
			char *b = body((cp_dkim_canon)c, in, n, 1);
			char *d = body((cp_dkim_canon)c, in, n, 7);

			CP_CHECK(strcmp(a, b) == 0 && strcmp(a, d) == 0,
			    "round %d canon %d differs", round, c);
			free(a);
			free(b);
			free(d);
		}
	}
}

CP_TEST(dkim_canon_relaxed_long_lines)
{
	/* long lines without CR: the eight-bytes-at-a-time scan */
	static const char alphabet[] = "abcdefg  \t\n";
	unsigned int seed = 777;
	char in[2000];

	for (int round = 0; round < 2000; round++) {
		size_t n = 1 + (size_t)(round * 7) % sizeof(in);

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly letters: spaces and tabs now and then */
			in[i] = (seed >> 16) % 5 ? "abcdefg"[(seed >> 8) % 7]
			    : alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		for (int c = 0; c < 2; c++) {
			char *a = body((cp_dkim_canon)c, in, n, 0);
			char *b = body((cp_dkim_canon)c, in, n, 1);
			char *d = body((cp_dkim_canon)c, in, n, 13);

			CP_CHECK(strcmp(a, b) == 0 && strcmp(a, d) == 0,
			    "round %d canon %d differs:\n%s\n%s", round, c, a, b);
			free(a);
			free(b);
			free(d);
		}
	}
}
