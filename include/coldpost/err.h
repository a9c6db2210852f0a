/*
 * err.h - error codes and the error record every fallible call fills in.
 *
 * A call returns CP_OK or a negative code and, when the caller passed an
 * err, a message that names the input and the limit that was hit. Verdicts
 * (SPF permerror, a 5xx classification) are results, not errors.
 */
#ifndef COLDPOST_ERR_H
#define COLDPOST_ERR_H

#include <stddef.h>

enum {
	CP_OK = 0,
	CP_ENOMEM = -1,
	CP_EINVAL = -2,
	CP_ESYNTAX = -3,
	CP_ETOOBIG = -4,
	CP_ETEMP = -5,
	CP_EIO = -6,
	CP_ESTORE = -7,
	CP_ENOTFOUND = -8
};

typedef struct cp_err {
	int code;      /* CP_OK while nothing went wrong */
	int sys;       /* saved errno, or 0 */
	char msg[256]; /* "reply: line 2: code 451 differs from 550 on line 1" */
} cp_err;

/* Fill err (NULL is allowed) and return code. */
int cp_err_set(cp_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cp_err_clear(cp_err *err);
const char *cp_err_name(int code);

/* Caller misuse: abort in every build, with the place. */
#define CP_ASSERT(x)                                                         \
	((x) ? (void)0 : cp_assert_fail(#x, __FILE__, __LINE__))
void cp_assert_fail(const char *what, const char *file, int line)
    __attribute__((noreturn));

#define CP_NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define CP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CP_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
