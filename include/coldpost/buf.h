/*
 * buf.h - growable byte buffers with a ceiling.
 *
 * Peer input always lands in a cp_buf whose max comes from configuration,
 * so a hostile peer gets CP_ETOOBIG instead of our memory. A failed append
 * leaves the buffer as it was. data stays NUL-terminated after any append.
 */
#ifndef COLDPOST_BUF_H
#define COLDPOST_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct cp_buf {
	char *data;      /* NULL until the first append */
	size_t len, cap; /* used (without the NUL), allocated */
	size_t max;      /* appends past this return CP_ETOOBIG */
} cp_buf;

void cp_buf_init(cp_buf *b, size_t max); /* allocates nothing */
int cp_buf_add(cp_buf *b, const void *p, size_t n);
/* Make room for extra more bytes (and the NUL) without adding any. */
int cp_buf_reserve(cp_buf *b, size_t extra);
int cp_buf_addc(cp_buf *b, char c);
int cp_buf_adds(cp_buf *b, const char *s);
int cp_buf_addf(cp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cp_buf_vaddf(cp_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void cp_buf_reset(cp_buf *b); /* len = 0, keeps the memory */
void cp_buf_free(cp_buf *b);  /* free, back to init state */
void cp_buf_wipe(cp_buf *b);  /* zero, free: for secrets */
/* Pass ownership of data to the caller (NUL-terminated, or NULL). */
char *cp_buf_steal(cp_buf *b);

#endif
