/*
 * mime_init.c - initialises GMime exactly once (see coldpost/mime.h).
 *
 * g_mime_init() is not safe to call twice or from two threads at once, and
 * several modules use GMime; pthread_once makes the first caller do the
 * work and every other caller wait for it. GMime's RFC 2047 / RFC 2231
 * decoding options are left at their defaults (strict about nothing,
 * lenient with the broken encodings real mail carries).
 */
#include <pthread.h>

#include <gmime/gmime.h>

#include "coldpost/mime.h"

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static void
mime_do_init(void)
{
	g_mime_init();
}

void
cp_mime_init(void)
{
	(void)pthread_once(&mime_once, mime_do_init);
}
