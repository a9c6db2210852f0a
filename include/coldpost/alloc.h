/*
 * alloc.h - the one place memory comes from.
 *
 * Every allocation in libcoldpost goes through these, so a test can make
 * the Nth allocation fail (CP_TEST_FAIL_ALLOC=N) and check that each caller
 * returns CP_ENOMEM cleanly.
 */
#ifndef COLDPOST_ALLOC_H
#define COLDPOST_ALLOC_H

#include <stddef.h>

void *cp_malloc(size_t n);
void *cp_calloc(size_t n, size_t size);
void *cp_realloc(void *p, size_t n);
char *cp_strdup(const char *s);
char *cp_strndup(const char *s, size_t n);
void cp_free(void *p);
/* Test hook: fail the nth allocation from now on (0 = never). */
void cp_alloc_fail_at(unsigned long n);

#endif
