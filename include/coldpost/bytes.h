/*
 * bytes.h - byte searches that libc does not offer or does slowly: a
 * literal, with or without ASCII case; and a copy that makes line ends
 * LF.
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
