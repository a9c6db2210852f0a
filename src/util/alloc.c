/*
 * alloc.c - allocation wrappers with a failure-injection hook for tests.
 */
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"

static unsigned long fail_at; /* 0: never fail */

static int
alloc_should_fail(void)
{
	if (fail_at == 0)
		return 0;
	if (--fail_at == 0)
		return 1;
	return 0;
}

void
cp_alloc_fail_at(unsigned long n)
{
	fail_at = n;
}

void *
cp_malloc(size_t n)
{
	return alloc_should_fail() ? NULL : malloc(n ? n : 1);
}

void *
cp_calloc(size_t n, size_t size)
{
	return alloc_should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *
cp_realloc(void *p, size_t n)
{
	return alloc_should_fail() ? NULL : realloc(p, n ? n : 1);
}

char *
cp_strndup(const char *s, size_t n)
{
	char *d = cp_malloc(n + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
cp_strdup(const char *s)
{
	return cp_strndup(s, strlen(s));
}

void
cp_free(void *p)
{
	free(p);
}
