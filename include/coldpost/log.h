/*
 * log.h - the server's log: one line per event, to stderr or a file.
 *
 * One process-wide sink shared by every thread (a line is written with one
 * write(2), so lines from threads never interleave). Lines are
 *   2026-11-28T02:30:00.123Z info smtpd: id=42 from=<ann@acme.example> ...
 * or, with log.json, one JSON object per line:
 *   {"time":"2026-11-28T02:30:00.123Z","level":"info","module":"smtpd",
 *    "msg":"id=42 from=<ann@acme.example> ..."}
 * Messages are key=value pairs where that helps a reader grep them.
 * Before cp_log_open (and in the CLI) lines go to stderr.
 */
#ifndef COLDPOST_LOG_H
#define COLDPOST_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "coldpost/err.h"

enum { CP_LOG_ERR = 0, CP_LOG_WARN, CP_LOG_INFO, CP_LOG_DEBUG };

/*
 * Where lines go: "stderr" or a file path (opened O_APPEND, created 0640).
 * json: one JSON object per line. debug: CP_CONF_DEBUG_* bits of modules
 * whose debug lines are written. Calling it again swaps the sink.
 */
int cp_log_open(const char *file, int json, uint32_t debug, cp_err *err);
/* Reopen the file (after logrotate moved it): SIGHUP. */
int cp_log_reopen(cp_err *err);
void cp_log_close(void);

/* Whether debug lines of module bit (CP_CONF_DEBUG_*) are wanted. */
int cp_log_debug_on(int bit);

/* A line; module is a short lower-case word ("smtpd", "queue"). The
 * text is cut at 8 KiB; control characters are escaped. */
void cp_log(int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cp_logv(int level, const char *module, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Debug line of module bit, only when that bit is on. */
#define cp_log_debug(bit, module, ...)                                       \
	do {                                                                 \
		if (cp_log_debug_on(bit))                                    \
			cp_log(CP_LOG_DEBUG, module, __VA_ARGS__);           \
	} while (0)

#endif
