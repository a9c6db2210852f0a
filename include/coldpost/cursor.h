/*
 * cursor.h - reading bytes with bounds: a pointer, a length, a position.
 *
 * Parsers of peer and DNS input (DMARC, SPF, DKIM tag lists, header
 * fields) read through a cp_cursor, so they need no NUL terminator and a
 * fuzzer can hand them raw bytes (c-ares ares_buf). A cp_slice is a view
 * into the cursor's bytes: it owns nothing and lives as long as they do.
 * Nothing here allocates.
 */
#ifndef COLDPOST_CURSOR_H
#define COLDPOST_CURSOR_H

#include <stddef.h>

typedef struct cp_slice {
	const char *p; /* not NUL-terminated */
	size_t len;
} cp_slice;

typedef struct cp_cursor {
	const char *p; /* the bytes read */
	size_t len;    /* their count */
	size_t pos;    /* next byte to read, 0..len */
} cp_cursor;

void cp_cursor_init(cp_cursor *c, const char *p, size_t len);
int cp_cursor_eof(const cp_cursor *c);
size_t cp_cursor_pos(const cp_cursor *c);
size_t cp_cursor_left(const cp_cursor *c);
/* The next byte (0..255) without taking it, or -1 at the end. */
int cp_cursor_peek(const cp_cursor *c);
/* Take the next byte if it is ch: 1 taken, 0 not (or at the end). */
int cp_cursor_take_char(cp_cursor *c, char ch);
/* Skip SP and HTAB (WSP, RFC 5234). */
void cp_cursor_skip_ws(cp_cursor *c);
/*
 * The bytes up to delim into *out, and delim taken: CP_OK. Without delim
 * before the end, all that is left goes to *out and the result is
 * CP_ENOTFOUND (the cursor is then at the end).
 */
int cp_cursor_take_until(cp_cursor *c, char delim, cp_slice *out);
/* The longest run of bytes for which pred is true (maybe empty). */
void cp_cursor_take_while(cp_cursor *c, int (*pred)(int ch), cp_slice *out);

/* The slice without leading and trailing SP / HTAB. */
cp_slice cp_slice_trim(cp_slice s);
/* Equal to the C string lit: exactly (eq) or ignoring ASCII case (eqi). */
int cp_slice_eq(cp_slice s, const char *lit);
int cp_slice_eqi(cp_slice s, const char *lit);
/* From a C string. */
cp_slice cp_slice_from(const char *s);

#endif
