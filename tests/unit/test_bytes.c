/* Unit tests: src/util/bytes.c, against plain loops on random input. */
#include <stdlib.h>
#include <string.h>

#include "coldpost/bytes.h"
#include "cptest.h"

static int
lc(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static const char *
ref_find_ci(const char *s, size_t len, const char *lit, size_t n)
{
	for (size_t i = 0; i + n <= len; i++) {
		size_t j = 0;

		while (j < n && lc((unsigned char)s[i + j]) ==
		    lc((unsigned char)lit[j]))
			j++;
		if (j == n)
			return s + i;
	}
	return NULL;
}

/* Bytes from a small alphabet, so that partial matches are common. */
static void
fill(char *b, size_t n, unsigned *seed)
{
	static const char abc[] = "aAbB \n\r\t@`-\x7f\x01\xe9";

	for (size_t i = 0; i < n; i++)
		b[i] = abc[rand_r(seed) % (sizeof(abc) - 1)];
}

CP_TEST(bytes_find_ci_matches_plain_search)
{
	char hay[300], lit[6];
	unsigned seed = 7;

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(hay);
		size_t n = 1 + (size_t)rand_r(&seed) % (sizeof(lit) - 1);
		size_t off = (size_t)rand_r(&seed) % 16;

		if (off + len > sizeof(hay))
			len = sizeof(hay) - off;
		fill(hay + off, len, &seed);
		fill(lit, n, &seed);
		CP_CHECK(cp_bytes_find_ci(hay + off, len, lit, n) ==
		    ref_find_ci(hay + off, len, lit, n), "round %d", round);
	}
	CP_CHECK(cp_bytes_find_ci("xx Remote HOSTmx", 16, "host ", 5) == NULL,
	    "no space after");
	{
		const char *s = "a long line, then: REMOTE host mx.example";

		CP_CHECK(cp_bytes_find_ci(s, strlen(s), "host ", 5) ==
		    strstr(s, "host "), "case ignored, found");
		CP_CHECK(cp_bytes_find_ci(s, strlen(s), "remote h", 8) ==
		    strstr(s, "REMOTE"), "upper case in the text");
		CP_CHECK(cp_bytes_find_ci(s, strlen(s) - 1, "example", 7) ==
		    NULL, "a match past the span is not seen");
		CP_CHECK(cp_bytes_find_ci(s, 0, "a", 1) == NULL, "empty");
		CP_CHECK(cp_bytes_find_ci(s, 3, "", 0) == s, "empty literal");
	}
}

CP_TEST(bytes_find_matches_memmem)
{
	char hay[300], lit[8];
	unsigned seed = 3;

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(hay);
		size_t n = (size_t)rand_r(&seed) % sizeof(lit);

		fill(hay, len, &seed);
		fill(lit, n, &seed);
		if (n > 0 && len > n && round % 4 == 0) /* planted */
			memcpy(hay + (size_t)rand_r(&seed) % (len - n), lit, n);
		CP_CHECK(cp_bytes_find(hay, len, lit, n) == memmem(hay, len,
		    lit, n), "round %d", round);
	}
	CP_CHECK(cp_bytes_find("--b1\n--b\n--b2", 12, "\n--b2", 5) ==
	    NULL, "a needle cut at the end is not found");
}

CP_TEST(bytes_to_lf_matches_plain_loop)
{
	char src[200], dst[200], want[200];
	unsigned seed = 5;

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(src), n = 0, got;

		fill(src, len, &seed);
		if (round % 3 == 0) /* CRLF text, with long runs between */
			for (size_t i = 0; i < len; i++)
				src[i] = i % 37 == 35 ? '\r' : i % 37 == 36 ?
				    '\n' : 'x';
		for (size_t i = 0; i < len; i++) {
			if (src[i] == '\0')
				want[n++] = ' ';
			else if (src[i] != '\r')
				want[n++] = src[i];
			else {
				want[n++] = '\n';
				if (i + 1 < len && src[i + 1] == '\n')
					i++;
			}
		}
		got = cp_bytes_to_lf(dst, src, len);
		CP_CHECK(got == n && memcmp(dst, want, n) == 0, "round %d",
		    round);
	}
	CP_CHECK(cp_bytes_to_lf(dst, "a\r\nb\rc\0d\r", 9) == 8 &&
	    memcmp(dst, "a\nb\nc d\n", 8) == 0, "CRLF, CR, NUL, CR at the end");
}
