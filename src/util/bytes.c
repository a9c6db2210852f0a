/*
 * bytes.c - byte searches with SSE2 compares (see bytes.h for why).
 *
 * Each vector loop reads 16 bytes at a time only while they lie inside
 * the span; what is left at the end goes through the plain loop, which is
 * also the whole implementation where SSE2 is missing.
 */
#include <stdint.h>
#include <string.h>

#include "coldpost/bytes.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Positions from..last (inclusive) of s, one by one. */
static const char *
find_ci_plain(const char *s, size_t from, size_t last, const char *lit,
    size_t n)
{
	int c0 = cp_ascii_lower((unsigned char)lit[0]);

	for (size_t i = from; i <= last; i++)
		if (cp_ascii_lower((unsigned char)s[i]) == c0 &&
		    cp_bytes_ieq(s + i, lit, n))
			return s + i;
	return NULL;
}

const char *
cp_bytes_find_ci(const char *s, size_t len, const char *lit, size_t n)
{
	size_t last, i = 0;

	if (n == 0)
		return s;
	if (len < n)
		return NULL;
	last = len - n; /* the last place lit can start */
#ifdef __SSE2__
	if (n >= 2) {
		/* (byte | 0x20) == (c | 0x20) holds for both cases of a
		 * letter and for a few other bytes too: a filter, each
		 * candidate then compared in full. Two bytes, so that a
		 * common first letter alone does not stop the loop. */
		const __m128i k20 = _mm_set1_epi8(0x20);
		const __m128i c0 = _mm_set1_epi8((char)(lit[0] | 0x20));
		const __m128i c1 = _mm_set1_epi8((char)(lit[1] | 0x20));

		/* bytes i..i+16 are read: i + 17 <= len */
		for (; i + 17 <= len && i <= last; i += 16) {
			__m128i v0 = _mm_loadu_si128((const void *)(s + i));
			__m128i v1 = _mm_loadu_si128((const void *)(s + i + 1));
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(
			    _mm_cmpeq_epi8(_mm_or_si128(v0, k20), c0),
			    _mm_cmpeq_epi8(_mm_or_si128(v1, k20), c1)));

			while (m != 0) {
				size_t at = i + (size_t)__builtin_ctz(m);

				if (at > last)
					return NULL;
				if (cp_bytes_ieq(s + at, lit, n))
					return s + at;
				m &= m - 1;
			}
		}
		if (i > last)
			return NULL;
	}
#endif
	return find_ci_plain(s, i, last, lit, n);
}

const char *
cp_bytes_find(const char *s, size_t len, const char *lit, size_t n)
{
	size_t last, i = 0;

	if (n == 0)
		return s;
	if (len < n)
		return NULL;
	last = len - n;
#ifdef __SSE2__
	if (n >= 2) {
		/* candidates: the first and the last byte of lit in place,
		 * then compared in full */
		const __m128i f = _mm_set1_epi8(lit[0]);
		const __m128i l = _mm_set1_epi8(lit[n - 1]);

		/* bytes i..i+n-1+15 are read: i + n + 15 <= len */
		for (; i + n + 15 <= len; i += 16) {
			__m128i vf = _mm_loadu_si128((const void *)(s + i));
			__m128i vl = _mm_loadu_si128((const void *)(s + i + n -
			    1));
			unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(
			    _mm_cmpeq_epi8(vf, f), _mm_cmpeq_epi8(vl, l)));

			while (m != 0) {
				size_t at = i + (size_t)__builtin_ctz(m);

				if (memcmp(s + at + 1, lit + 1, n - 2) == 0)
					return s + at;
				m &= m - 1;
			}
		}
	}
#endif
	for (; i <= last; i++)
		if (s[i] == lit[0] && memcmp(s + i, lit, n) == 0)
			return s + i;
	return NULL;
}

size_t
cp_bytes_to_lf(char *dst, const char *src, size_t len)
{
	size_t i = 0, o = 0;

	for (;;) {
#ifdef __SSE2__
		/* a block without CR or NUL is stored whole; else the bytes
		 * before the first one are kept of it. The store stays in
		 * dst: no more is written than read, so o <= i, and
		 * i + 16 <= len. */
		const __m128i cr = _mm_set1_epi8('\r'), z = _mm_setzero_si128();
		unsigned m = 0;

		while (i + 16 <= len) {
			__m128i v = _mm_loadu_si128((const void *)(src + i));

			_mm_storeu_si128((void *)(dst + o), v);
			m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			    _mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, z)));
			if (m != 0)
				break;
			i += 16;
			o += 16;
		}
		if (m != 0) {
			i += (size_t)__builtin_ctz(m);
			o += (size_t)__builtin_ctz(m);
		}
#endif
		while (i < len && src[i] != '\r' && src[i] != '\0')
			dst[o++] = src[i++];
		if (i == len)
			return o;
		if (src[i] == '\0')
			dst[o++] = ' ';
		else {
			dst[o++] = '\n';
			if (i + 1 < len && src[i + 1] == '\n')
				i++;
		}
		i++;
	}
}
