/*
 * bench_queue.c - the store at queue scale (bench/store/queue_1m.sh).
 *
 *   cp-bench-store insert DSN NMSG NRCPT BATCH [hold]
 *       NMSG messages of NRCPT recipients, BATCH messages per commit
 *   cp-bench-store scan DSN
 *       counts by state, then every recipient streamed through a callback
 *   cp-bench-store claim DSN BATCH
 *       claim due recipients BATCH at a time until none is left
 *
 * Each prints one line of figures, with the process's peak resident
 * memory (getrusage ru_maxrss), so a fresh process per phase shows what
 * that phase alone costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "coldpost/store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static long
arg_num(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "cp-bench-store: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static cp_store *
open_or_die(const char *dsn)
{
	cp_err err = { 0 };
	cp_store *st = cp_store_open(dsn, &err);

	if (st == NULL) {
		fprintf(stderr, "cp-bench-store: %s\n", err.msg);
		exit(3);
	}
	return st;
}

static int
bench_insert(const char *dsn, long nmsg, long nrcpt, long batch, int hold)
{
	cp_store *st = open_or_die(dsn);
	cp_tenant t = { .name = "bench" }, *got = NULL;
	cp_insert *v = calloc((size_t)batch, sizeof(*v));
	char (*addr)[64] = calloc((size_t)(batch * nrcpt), 64);
	const char **rcpts = calloc((size_t)(batch * nrcpt), sizeof(*rcpts));
	char body[512];
	cp_store_stats stats;
	cp_err err = { 0 };
	double t0;
	long done = 0;

	if (cp_store_get_tenant(st, "bench", &got, &err) == CP_OK) {
		t.id = got->id;
		cp_tenant_free(got);
	} else if (cp_store_add_tenant(st, &t, &err) != CP_OK) {
		fprintf(stderr, "cp-bench-store: %s\n", err.msg);
		return 3;
	}
	snprintf(body, sizeof(body), "From: bench@bench.test\r\nTo: you\r\n"
	    "Subject: queue bench\r\nMessage-ID: <x@bench.test>\r\n\r\n"
	    "A small body, as most cold emails are: a few lines of text.\r\n");
	t0 = now_s();
	while (done < nmsg) {
		long n = nmsg - done < batch ? nmsg - done : batch;

		for (long i = 0; i < n; i++) {
			long m = done + i;

			memset(&v[i], 0, sizeof(v[i]));
			for (long k = 0; k < nrcpt; k++) {
				snprintf(addr[i * nrcpt + k], 64,
				    "u%ld-%ld@d%ld.test", m, k, m % 1000);
				rcpts[i * nrcpt + k] = addr[i * nrcpt + k];
			}
			v[i].env.tenant = t.id;
			v[i].env.mail_from = "bench@bench.test";
			v[i].env.return_path = "b+1@bench.test";
			v[i].env.rcpts = rcpts + i * nrcpt;
			v[i].env.nrcpts = (size_t)nrcpt;
			v[i].env.received = 1700000000 + m / 100;
			v[i].env.message_id = "<x@bench.test>";
			v[i].env.hold = hold;
			v[i].body = body;
			v[i].len = strlen(body);
		}
		if (cp_store_insert_many(st, v, (size_t)n, &err) != CP_OK) {
			fprintf(stderr, "cp-bench-store: %s\n", err.msg);
			return 3;
		}
		done += n;
	}
	cp_store_get_stats(st, &stats);
	{
		double dt = now_s() - t0;

		printf("insert: %ld messages, %ld recipients%s in %.1f s "
		    "(%.0f msg/s, %.0f rcpt/s), %llu commits, peak RSS %.1f "
		    "MiB\n", nmsg, nmsg * nrcpt, hold ? " (held)" : "", dt,
		    (double)nmsg / dt, (double)(nmsg * nrcpt) / dt,
		    (unsigned long long)stats.commits,
		    (double)peak_rss_kib() / 1024);
	}
	cp_store_close(st);
	free(v);
	free(addr);
	free(rcpts);
	return 0;
}

static int
count_cb(void *arg, const cp_rcpt *r)
{
	(void)r;
	(*(long *)arg)++;
	return 0;
}

static int
bench_scan(const char *dsn)
{
	cp_store *st = open_or_die(dsn);
	cp_queue_counts qc;
	cp_err err = { 0 };
	double t0 = now_s(), t1, t2;
	long n = 0;

	if (cp_store_count_queue(st, 0, 2000000000, &qc, &err) != CP_OK) {
		fprintf(stderr, "cp-bench-store: %s\n", err.msg);
		return 3;
	}
	t1 = now_s();
	if (cp_store_list_queue(st, NULL, count_cb, &n, &err) != CP_OK) {
		fprintf(stderr, "cp-bench-store: %s\n", err.msg);
		return 3;
	}
	t2 = now_s();
	printf("scan: counts (queued %lld, held %lld, due %lld) in %.2f s; "
	    "%ld recipients streamed in %.2f s; peak RSS %.1f MiB\n",
	    (long long)qc.state[CP_RCPT_QUEUED],
	    (long long)qc.state[CP_RCPT_HELD], (long long)qc.due, t1 - t0, n,
	    t2 - t1, (double)peak_rss_kib() / 1024);
	cp_store_close(st);
	return 0;
}

static int
bench_claim(const char *dsn, long batch)
{
	cp_store *st = open_or_die(dsn);
	cp_err err = { 0 };
	double t0 = now_s(), worst = 0;
	long total = 0, batches = 0;

	for (;;) {
		cp_due_list *l = NULL;
		double b0 = now_s(), dt;

		if (cp_store_claim_due(st, 2000000000, "bench", 600,
		    (size_t)batch, &l, &err) != CP_OK) {
			fprintf(stderr, "cp-bench-store: %s\n", err.msg);
			return 3;
		}
		dt = now_s() - b0;
		worst = dt > worst ? dt : worst;
		total += (long)l->n;
		batches++;
		if (l->n == 0) {
			cp_due_list_free(l);
			break;
		}
		cp_due_list_free(l);
	}
	{
		double dt = now_s() - t0;

		printf("claim: %ld recipients in %ld batches of %ld in %.1f s "
		    "(%.0f rcpt/s, slowest batch %.1f ms), peak RSS %.1f MiB\n",
		    total, batches - 1, batch, dt, (double)total / dt,
		    worst * 1000, (double)peak_rss_kib() / 1024);
	}
	cp_store_close(st);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "insert") == 0)
		return bench_insert(argv[2], arg_num(argv[3], 1, 100000000),
		    arg_num(argv[4], 1, 1000), arg_num(argv[5], 1, 100000),
		    argc > 6 && strcmp(argv[6], "hold") == 0);
	if (argc == 3 && strcmp(argv[1], "scan") == 0)
		return bench_scan(argv[2]);
	if (argc == 4 && strcmp(argv[1], "claim") == 0)
		return bench_claim(argv[2], arg_num(argv[3], 1, 100000));
	fprintf(stderr, "usage: cp-bench-store insert DSN NMSG NRCPT BATCH "
	    "[hold]\n       cp-bench-store scan DSN\n"
	    "       cp-bench-store claim DSN BATCH\n");
	return 2;
}
