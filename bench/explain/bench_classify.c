/*
 * bench_classify.c - replies classified per second on one core.
 *
 * usage: cp-bench-classify FILE SECONDS
 * Reads one reply per line, then parses and classifies them round-robin
 * for about SECONDS of wall time on this thread, and prints
 * "coldpost: N replies in S s = R replies/s". Parsing is included: the
 * peer (Sisimai) is given the raw strings too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/classify.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	FILE *f;
	char *line = NULL, **lines = NULL;
	size_t cap = 0, n = 0, *lens = NULL;
	ssize_t len;
	cp_err err = { 0 };
	const cp_classifier *c;
	cp_classify_session *s;
	double secs, t0, t;
	unsigned long long done = 0, sink = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE SECONDS\n", argv[0]);
		return 2;
	}
	secs = atof(argv[2]);
	f = fopen(argv[1], "r");
	if (f == NULL) {
		perror(argv[1]);
		return 1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		lens = realloc(lens, (n + 1) * sizeof(*lens));
		lines[n] = strndup(line, (size_t)len);
		lens[n] = (size_t)len;
		n++;
	}
	fclose(f);
	c = cp_classifier_default(&err);
	if (c == NULL || (s = cp_classify_session_new(c, &err)) == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	t0 = now();
	do {
		for (size_t i = 0; i < n; i++) {
			cp_verdict v;

			if (cp_classify_reply(s, lines[i], lens[i], NULL, &v,
			    &err) == CP_OK)
				sink += (unsigned)v.cause;
		}
		done += n;
		t = now() - t0;
	} while (t < secs);
	printf("coldpost: %llu replies in %.2f s = %.0f replies/s (checksum "
	       "%llu)\n", done, t, (double)done / t, sink);
	cp_classify_session_free(s);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(lens);
	free(line);
	return 0;
}
