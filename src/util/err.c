/*
 * err.c - filling cp_err records and aborting on caller misuse.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "coldpost/err.h"

int
cp_err_set(cp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->sys = errno;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
cp_err_clear(cp_err *err)
{
	if (err == NULL)
		return;
	err->code = CP_OK;
	err->sys = 0;
	err->msg[0] = '\0';
}

const char *
cp_err_name(int code)
{
	switch (code) {
	case CP_OK: return "ok";
	case CP_ENOMEM: return "out of memory";
	case CP_EINVAL: return "invalid argument";
	case CP_ESYNTAX: return "syntax error";
	case CP_ETOOBIG: return "too big";
	case CP_ETEMP: return "temporary failure";
	case CP_EIO: return "i/o error";
	case CP_ESTORE: return "store error";
	case CP_ENOTFOUND: return "not found";
	default: return "unknown error";
	}
}

void
cp_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "coldpost: assertion failed: %s (%s:%d)\n", what, file,
	    line);
	abort();
}
