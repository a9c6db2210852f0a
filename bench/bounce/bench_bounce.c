/*
 * bench_bounce.c - bounce emails parsed per second on one core.
 *
 * usage: cp-bench-bounce LIST SECONDS
 * Reads every email named in LIST (one path per line) into memory, then
 * parses them round-robin with one cp_bounce_parser for about SECONDS of
 * wall time on this thread, and prints "coldpost: N emails in S s cpu
 * (W s wall) = R emails/s per cpu second": the rate per second of CPU the
 * process got, so a busy machine does not skew it. Everything cp_bounce_parse does is timed: line endings, MIME,
 * the readers and the classifier. Sisimai (sisimai_bench.pl) is given the
 * same emails in memory too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/bounce.h"

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) != NULL)
		*len = fread(b, 1, (size_t)n, f);
	fclose(f);
	return b;
}

int
main(int argc, char **argv)
{
	FILE *f;
	char *line = NULL, **mails = NULL;
	size_t cap = 0, n = 0, *lens = NULL, bytes = 0;
	ssize_t len;
	cp_err err = { 0 };
	cp_bounce_parser *p;
	double secs, t0, t, c0, cpu;
	unsigned long long done = 0, rcpts = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s LIST SECONDS\n", argv[0]);
		return 2;
	}
	secs = atof(argv[2]);
	if ((f = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		mails = realloc(mails, (n + 1) * sizeof(*mails));
		lens = realloc(lens, (n + 1) * sizeof(*lens));
		if (mails == NULL || lens == NULL ||
		    (mails[n] = slurp(line, &lens[n])) == NULL) {
			perror(line);
			return 1;
		}
		bytes += lens[n];
		n++;
	}
	fclose(f);
	free(line);
	if ((p = cp_bounce_parser_new(&err)) == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	t0 = now();
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	do {
		for (size_t i = 0; i < n; i++) {
			const cp_bounce *b;

			if (cp_bounce_parse(p, mails[i], lens[i], &b, &err) ==
			    CP_OK)
				rcpts += b->n;
		}
		done += n;
		t = now() - t0;
	} while (t < secs);
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	printf("coldpost: %llu emails in %.2f s cpu (%.2f s wall) = %.0f "
	       "emails/s per cpu second (%llu records, %zu emails of %zu "
	       "bytes)\n", done, cpu, t, (double)done / cpu, rcpts, n, bytes);
	cp_bounce_parser_free(p);
	for (size_t i = 0; i < n; i++)
		free(mails[i]);
	free(mails);
	free(lens);
	return 0;
}
