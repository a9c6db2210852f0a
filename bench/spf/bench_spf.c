/*
 * bench_spf.c - SPF evaluations per second, coldpost (cp_spf_check_host)
 * on the fake resolver: DNS answers from memory, the in-process "warm
 * cache" the other two implementations get too (bench/spf/run.sh).
 *
 * usage: cp-bench-spf RECORDS QUERIES SECONDS
 * RECORDS: "NAME TYPE DATA" lines; QUERIES: "IP SENDER HELO EXPECTED".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/dns.h"
#include "coldpost/spf.h"

#define MAXQ 64

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
type_of(const char *s)
{
	if (strcmp(s, "TXT") == 0)
		return CP_DNS_TXT;
	if (strcmp(s, "A") == 0)
		return CP_DNS_A;
	if (strcmp(s, "AAAA") == 0)
		return CP_DNS_AAAA;
	if (strcmp(s, "MX") == 0)
		return CP_DNS_MX;
	if (strcmp(s, "PTR") == 0)
		return CP_DNS_PTR;
	return -1;
}

int
main(int argc, char **argv)
{
	char line[2048], ip[MAXQ][64], snd[MAXQ][256], helo[MAXQ][256];
	char want[MAXQ][16];
	size_t nq = 0;
	unsigned long n = 0;
	double secs, t0, el;
	cp_err err = { 0 };
	cp_dns *d = cp_dns_new_fake();
	cp_spf *spf;
	FILE *f;

	if (argc != 4 || d == NULL) {
		fprintf(stderr, "usage: cp-bench-spf RECORDS QUERIES SECONDS\n");
		return 2;
	}
	secs = strtod(argv[3], NULL);
	if ((f = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[256], type[16];
		int off = 0;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "%255s %15s %n", name, type, &off) != 2 ||
		    cp_dns_fake_add(d, name, type_of(type), line + off, &err)
		    != CP_OK) {
			fprintf(stderr, "%s: bad line '%s' %s\n", argv[1], line,
			    err.msg);
			return 1;
		}
	}
	fclose(f);
	if ((f = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	while (nq < MAXQ && fgets(line, sizeof(line), f))
		if (line[0] != '#' && sscanf(line, "%63s %255s %255s %15s",
		    ip[nq], snd[nq], helo[nq], want[nq]) == 4)
			nq++;
	fclose(f);
	spf = cp_spf_new(d, &err);
	/* check once, then time */
	for (size_t i = 0; i < nq; i++) {
		cp_spf_query q = { ip[i], snd[i], helo[i], NULL };
		cp_spf_result r;

		if (cp_spf_check_host(spf, &q, &r, &err) != CP_OK ||
		    strcmp(cp_spf_verdict_name(r.result), want[i]) != 0) {
			fprintf(stderr, "coldpost: %s %s: got %s, want %s (%s)\n",
			    ip[i], snd[i], cp_spf_verdict_name(r.result), want[i],
			    r.reason);
			return 1;
		}
		cp_spf_result_clear(&r);
	}
	t0 = now_s();
	do {
		for (size_t i = 0; i < nq; i++) {
			cp_spf_query q = { ip[i], snd[i], helo[i], NULL };
			cp_spf_result r;

			cp_spf_check_host(spf, &q, &r, &err);
			cp_spf_result_clear(&r);
		}
		n += nq;
		el = now_s() - t0;
	} while (el < secs);
	printf("coldpost: %lu evaluations in %.2f s = %.0f evaluations/s "
	       "(fake resolver: DNS answers from memory, in-process)\n", n, el,
	    n / el);
	cp_spf_free(spf);
	cp_dns_free(d);
	return 0;
}
