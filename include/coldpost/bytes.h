/*
 * bytes.h - byte compares and searches that libc does not offer or
 * does slowly: ASCII case-insensitive compare, a literal found with or
 * without ASCII case; and a copy that makes line ends LF.
 *
 * The bounce parser runs these over every email it reads, on spans of a
 * few dozen bytes to a few kilobytes; glibc's generic memmem and a loop
 * of memchr calls (one per candidate first byte) cost more there than
 * the 16-byte SSE2 compares these use (on x86-64, where SSE2 is always
 * present; plain loops elsewhere). None needs a NUL terminator.
 */
#ifndef COLDPOST_BYTES_H
#define COLDPOST_BYTES_H

#include <stddef.h>

/* ASCII lower case, whatever the locale. */
static inline int
cp_ascii_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/*
 * n bytes of a equal to n bytes of b, ASCII case ignored (strncasecmp in
 * the C locale, inline: header and phrase compares are the hot path of
 * the bounce parser). A NUL differs as it does for strncasecmp when b
 * holds none in its first n bytes.
 */
static inline int
cp_bytes_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i] && cp_ascii_lower((unsigned char)a[i]) !=
		    cp_ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* The first place of lit (n bytes) in s (len bytes), or NULL: memmem,
 * faster on the short spans and needles of mail parsing (glibc's
 * generic memmem does not use SIMD). */
const char *cp_bytes_find(const char *s, size_t len, const char *lit,
    size_t n);

/* The same with ASCII case ignored. */
const char *cp_bytes_find_ci(const char *s, size_t len, const char *lit,
    size_t n);

/*
 * src (len bytes) copied to dst (len bytes, not overlapping) with CRLF
 * and bare CR turned into LF and NUL into SP; the length written.
 */
size_t cp_bytes_to_lf(char *dst, const char *src, size_t len);

#endif
