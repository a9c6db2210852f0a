/*
 * bench_libspf2.c - SPF evaluations per second with libspf2 (Debian
 * libspf2-dev), its in-memory zone DNS layer (SPF_dns_zone) standing in
 * for a warm cache, on the same records and queries as cp-bench-spf.
 * Built by bench/spf/run.sh: cc -O2 bench_libspf2.c -lspf2.
 *
 * usage: bench_libspf2 RECORDS QUERIES SECONDS
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

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
		return ns_t_txt;
	if (strcmp(s, "A") == 0)
		return ns_t_a;
	if (strcmp(s, "AAAA") == 0)
		return ns_t_aaaa;
	if (strcmp(s, "MX") == 0)
		return ns_t_mx;
	if (strcmp(s, "PTR") == 0)
		return ns_t_ptr;
	return -1;
}

static const char *
eval(SPF_server_t *srv, const char *ip, const char *sender, const char *helo)
{
	SPF_request_t *req = SPF_request_new(srv);
	SPF_response_t *resp = NULL;
	SPF_result_t res;

	if (strchr(ip, ':'))
		SPF_request_set_ipv6_str(req, ip);
	else
		SPF_request_set_ipv4_str(req, ip);
	SPF_request_set_helo_dom(req, helo);
	SPF_request_set_env_from(req, sender);
	SPF_request_query_mailfrom(req, &resp);
	res = SPF_response_result(resp);
	SPF_response_free(resp);
	SPF_request_free(req);
	return SPF_strresult(res);
}

int
main(int argc, char **argv)
{
	char line[2048], ip[MAXQ][64], snd[MAXQ][256], helo[MAXQ][256];
	char want[MAXQ][16];
	size_t nq = 0;
	unsigned long n = 0;
	double secs, t0, el;
	SPF_dns_server_t *dns;
	SPF_server_t *srv;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_libspf2 RECORDS QUERIES SECONDS\n");
		return 2;
	}
	secs = strtod(argv[3], NULL);
	dns = SPF_dns_zone_new(NULL, "bench", 0);
	if ((f = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[256], type[16];
		const char *data;
		int off = 0;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "%255s %15s %n", name, type, &off) != 2)
			return 1;
		data = line + off;
		if (type_of(type) == ns_t_mx) /* the zone layer wants the host */
			data = strchr(data, ' ') + 1;
		if (SPF_dns_zone_add_str(dns, name, type_of(type), NETDB_SUCCESS,
		    data) != SPF_E_SUCCESS) {
			fprintf(stderr, "libspf2: cannot add '%s'\n", line);
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
	srv = SPF_server_new_dns(dns, 0);
	for (size_t i = 0; i < nq; i++) {
		const char *got = eval(srv, ip[i], snd[i], helo[i]);

		if (strcmp(got, want[i]) != 0) {
			fprintf(stderr, "libspf2: %s %s: got %s, want %s\n", ip[i],
			    snd[i], got, want[i]);
			return 1;
		}
	}
	t0 = now_s();
	do {
		for (size_t i = 0; i < nq; i++)
			eval(srv, ip[i], snd[i], helo[i]);
		n += nq;
		el = now_s() - t0;
	} while (el < secs);
	printf("libspf2:  %lu evaluations in %.2f s = %.0f evaluations/s "
	       "(SPF_dns_zone: DNS answers from memory, in-process)\n", n, el,
	    n / el);
	SPF_server_free(srv);
	return 0;
}
