/*
 * cptest.h - the unit-test harness: CP_TEST(name) { CP_CHECK(cond, fmt...); }
 *
 * Tests register themselves at load time; the runner forks each into a
 * child with a timeout (a crash or hang fails that test, not the run) and
 * ends with "N passed, N failed". Arguments select tests by name prefix.
 */
#ifndef CPTEST_H
#define CPTEST_H

#include <stdio.h>
#include <string.h>

typedef void (*cptest_fn)(void);
void cptest_register(const char *name, cptest_fn fn);
void cptest_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern int cptest_failures;

#define CP_TEST(name)                                                        \
	static void test_##name(void);                                       \
	__attribute__((constructor)) static void reg_##name(void)            \
	{                                                                    \
		cptest_register(#name, test_##name);                         \
	}                                                                    \
	static void test_##name(void)

#define CP_CHECK(cond, ...)                                                  \
	do {                                                                 \
		if (!(cond))                                                 \
			cptest_fail(__FILE__, __LINE__, __VA_ARGS__);        \
	} while (0)

#define CP_CHECK_STR(got, want)                                              \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) \
			cptest_fail(__FILE__, __LINE__,                      \
			    "%s: got '%s', want '%s'", #got,                 \
			    g_ ? g_ : "(null)", w_ ? w_ : "(null)");         \
	} while (0)

#define CP_CHECK_INT(got, want)                                              \
	do {                                                                 \
		long long g_ = (got), w_ = (want);                           \
		if (g_ != w_)                                                \
			cptest_fail(__FILE__, __LINE__,                      \
			    "%s: got %lld, want %lld", #got, g_, w_);        \
	} while (0)

/* Directory of test data (tests/data), from CP_TEST_DATA or the build. */
const char *cptest_data_dir(void);

#endif
