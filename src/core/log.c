/*
 * log.c - the process-wide log sink (see coldpost/log.h).
 *
 * A line is formatted into a stack buffer and written with one write(2) on
 * an O_APPEND descriptor, so lines of different threads never interleave
 * and no lock is held while formatting. The descriptor is swapped under a
 * mutex on reopen; a writer racing a reopen writes to the old file, which
 * is what logrotate's "create" mode expects.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"

#define LINE_MAX_ 8192

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = 2;        /* stderr until opened */
static int log_json;
static uint32_t log_debug;
static char log_path[4096];   /* "" for stderr */

static const char *const level_names[] = { "error", "warn", "info",
	"debug" };

static int
open_path(const char *path, cp_err *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return cp_err_set(err, CP_EIO, "log: cannot open %s: %s", path,
		    strerror(errno));
	return fd;
}

int
cp_log_open(const char *file, int json, uint32_t debug, cp_err *err)
{
	int fd = 2, old;

	if (file != NULL && *file != '\0' && strcmp(file, "stderr") != 0) {
		if (strlen(file) >= sizeof(log_path))
			return cp_err_set(err, CP_EINVAL, "log: path too long");
		if ((fd = open_path(file, err)) < 0)
			return CP_EIO;
	}
	pthread_mutex_lock(&log_mu);
	old = log_fd;
	log_fd = fd;
	log_json = json;
	log_debug = debug;
	if (fd == 2)
		log_path[0] = '\0';
	else
		snprintf(log_path, sizeof(log_path), "%s", file);
	pthread_mutex_unlock(&log_mu);
	if (old != 2 && old != fd)
		close(old);
	return CP_OK;
}

int
cp_log_reopen(cp_err *err)
{
	char path[sizeof(log_path)];
	int fd, old;

	pthread_mutex_lock(&log_mu);
	snprintf(path, sizeof(path), "%s", log_path);
	pthread_mutex_unlock(&log_mu);
	if (path[0] == '\0')
		return CP_OK;
	if ((fd = open_path(path, err)) < 0)
		return CP_EIO;
	pthread_mutex_lock(&log_mu);
	old = log_fd;
	log_fd = fd;
	pthread_mutex_unlock(&log_mu);
	if (old != 2)
		close(old);
	return CP_OK;
}

void
cp_log_close(void)
{
	cp_log_open("stderr", 0, 0, NULL);
}

int
cp_log_debug_on(int bit)
{
	return bit >= 0 && bit < 32 &&
	    (__atomic_load_n(&log_debug, __ATOMIC_RELAXED) & (1u << bit));
}

/* Append s to out[*n..cap) escaping what a reader must not get raw:
 * control bytes always, '"' and '\\' in JSON. */
static void
put_escaped(char *out, size_t *n, size_t cap, const char *s, int json)
{
	for (; *s != '\0' && *n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (json && (c == '"' || c == '\\')))
			*n += (size_t)snprintf(out + *n, cap - *n,
			    json ? "\\u%04x" : "\\x%02x", c);
		else
			out[(*n)++] = (char)c;
	}
}

void
cp_logv(int level, const char *module, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_], line[LINE_MAX_ + 256], stamp[64];
	struct timeval tv;
	struct tm tm;
	size_t n = 0;
	int fd, json;

	if (level < CP_LOG_ERR || level > CP_LOG_DEBUG)
		level = CP_LOG_INFO;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
	json = __atomic_load_n(&log_json, __ATOMIC_RELAXED);
	if (json) {
		n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\","
		    "\"level\":\"%s\",\"module\":\"", stamp,
		    level_names[level]);
		put_escaped(line, &n, sizeof(line), module, 1);
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    "\",\"msg\":\"");
		put_escaped(line, &n, sizeof(line), msg, 1);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}\n");
	} else {
		n = (size_t)snprintf(line, sizeof(line), "%s %s %s: ", stamp,
		    level_names[level], module);
		put_escaped(line, &n, sizeof(line) - 1, msg, 0);
		line[n++] = '\n';
	}
	if (n > sizeof(line))
		n = sizeof(line);
	pthread_mutex_lock(&log_mu);
	fd = log_fd;
	/* One write: a line is never split between threads. A failed log
	 * write has nowhere to be reported; the server goes on. */
	if (write(fd, line, n) < 0)
		errno = 0;
	pthread_mutex_unlock(&log_mu);
}

void
cp_log(int level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cp_logv(level, module, fmt, ap);
	va_end(ap);
}
