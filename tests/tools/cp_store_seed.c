/*
 * cp_store_seed.c - a test helper: put messages and delivery attempts in a
 * store, so that the management commands (coldpost queue, coldpost status)
 * can be tested on a real queue without running the relay.
 *
 *   cp-store-seed DSN message TENANT-ID [--hold] RCPT...   prints the id
 *   cp-store-seed DSN attempt RCPT-ID OUTCOME CODE ENHANCED CAUSE
 *       OUTCOME: delivered, deferred, bounced or expired; prints the id
 *
 * Exit 0 done, 1 the store refused, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/store.h"

static int
num(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *s != '\0' && *end == '\0' ? 0 : -1;
}

static int
seed_message(cp_store *st, int argc, char **argv)
{
	static const char body[] = "From: ann@acme.example\r\n"
	    "Subject: seed\r\n\r\nhello\r\n";
	cp_envelope e = { 0 };
	long long tenant;
	cp_err err;
	int i = 1;

	if (argc < 2 || num(argv[0], &tenant) != 0)
		return 2;
	if (strcmp(argv[1], "--hold") == 0) {
		e.hold = 1;
		i++;
	}
	if (i >= argc)
		return 2;
	e.tenant = tenant;
	e.mail_from = "ann@acme.example";
	e.return_path = "bounce+seed@acme.example";
	e.rcpts = (const char *const *)(argv + i);
	e.nrcpts = (size_t)(argc - i);
	e.received = (int64_t)time(NULL);
	e.message_id = "<seed@acme.example>";
	if (cp_store_insert_message(st, &e, body, sizeof(body) - 1, &err) !=
	    CP_OK) {
		fprintf(stderr, "cp-store-seed: %s\n", err.msg);
		return 1;
	}
	printf("%lld\n", (long long)e.id);
	return 0;
}

static int
seed_attempt(cp_store *st, int argc, char **argv)
{
	cp_attempt a = { 0 };
	long long rcpt, code;
	int outcome;
	cp_err err;

	if (argc != 5 || num(argv[0], &rcpt) != 0 ||
	    num(argv[2], &code) != 0 ||
	    (outcome = cp_rcpt_state_from_name(argv[1])) < 0)
		return 2;
	a.rcpt = rcpt;
	a.time = (int64_t)time(NULL);
	a.mx = "mx.example.net";
	a.source_ip = "127.0.0.2";
	a.reply = "seeded reply";
	a.code = (int)code;
	a.enhanced = argv[3];
	a.cause = argv[4];
	a.reason = "";
	a.receiver = "unknown";
	a.outcome = outcome;
	a.next_attempt = a.time + 600;
	if (cp_store_record_attempts(st, "seed", &a, 1, &err) != CP_OK) {
		fprintf(stderr, "cp-store-seed: %s\n", err.msg);
		return 1;
	}
	printf("%lld\n", (long long)a.id);
	return 0;
}

int
main(int argc, char **argv)
{
	cp_store *st;
	cp_err err;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: cp-store-seed DSN message|attempt "
		    "...\n");
		return 2;
	}
	if ((st = cp_store_open(argv[1], &err)) == NULL) {
		fprintf(stderr, "cp-store-seed: %s\n", err.msg);
		return 1;
	}
	if (strcmp(argv[2], "message") == 0)
		rc = seed_message(st, argc - 3, argv + 3);
	else if (strcmp(argv[2], "attempt") == 0)
		rc = seed_attempt(st, argc - 3, argv + 3);
	else
		rc = 2;
	if (rc == 2)
		fprintf(stderr, "cp-store-seed: bad arguments\n");
	cp_store_close(st);
	return rc;
}
