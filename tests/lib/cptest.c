/*
 * cptest.c - runs the registered unit tests, each in a forked child.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cptest.h"

#define MAX_TESTS 1024
#define TIMEOUT_S 60

static struct {
	const char *name;
	cptest_fn fn;
} tests[MAX_TESTS];
static int ntests;
int cptest_failures;

void
cptest_register(const char *name, cptest_fn fn)
{
	if (ntests < MAX_TESTS) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		ntests++;
	}
}

void
cptest_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	cptest_failures++;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
cptest_data_dir(void)
{
	const char *d = getenv("CP_TEST_DATA");

	return d ? d : "tests/data";
}

static int
selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strncmp(name, argv[i], strlen(argv[i])) == 0)
			return 1;
	return 0;
}

static int
run_one(int i)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 0;
	}
	if (pid == 0) {
		alarm(TIMEOUT_S);
		tests[i].fn();
		fflush(NULL);
		_exit(cptest_failures ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 0;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(status),
		    WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return 0;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < ntests; i++) {
		int ok;

		if (!selected(tests[i].name, argc, argv))
			continue;
		ok = run_one(i);
		printf("%s %s\n", ok ? "ok  " : "FAIL", tests[i].name);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
