/*
 * The store contract for the sending policy's state (store.h, "sending
 * policy"): daily cap usage (atomic take, retries not counted twice, the
 * cap holds across threads and reopen), provider pacing state and events,
 * suppressions. Every test runs once per backend in `store_backends` (store_fixture.c), on a
 * fresh store, through the public interface only.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/store.h"
#include "cptest.h"
#include "store_fixture.h"

#define PCONTRACT(name)                                                      \
	static void pcontract_##name(cp_store *st, const char *dsn);         \
	CP_TEST(store_policy_##name)                                         \
	{                                                                    \
		store_each_backend(#name, pcontract_##name);                 \
	}                                                                    \
	static void pcontract_##name(cp_store *st, const char *dsn)

static int
take(cp_store *st, int64_t mb, int64_t day, int64_t cap, const char *key,
    int64_t *used)
{
	cp_err err = { 0 };
	int taken = -1, rc;

	rc = cp_store_take_cap(st, mb, day, cap, key, &taken, used, &err);
	CP_CHECK(rc == CP_OK, "take_cap: %s", err.msg);
	return taken;
}

PCONTRACT(cap_take)
{
	cp_err err = { 0 };
	int64_t used = -1;
	cp_store *again;

	CP_CHECK_INT(take(st, 7, 20000, 2, "r:1", &used), 1);
	CP_CHECK_INT((int)used, 1);
	/* a retry of the same recipient is not counted twice */
	CP_CHECK_INT(take(st, 7, 20000, 2, "r:1", &used), 1);
	CP_CHECK_INT((int)used, 1);
	CP_CHECK_INT(take(st, 7, 20000, 2, "r:2", &used), 1);
	CP_CHECK_INT((int)used, 2);
	CP_CHECK_INT(take(st, 7, 20000, 2, "r:3", &used), 0);
	CP_CHECK_INT((int)used, 2);
	/* once counted, a recipient goes even when the day is full */
	CP_CHECK_INT(take(st, 7, 20000, 2, "r:2", NULL), 1);
	/* another day, another mailbox: their own counts */
	CP_CHECK_INT(take(st, 7, 20001, 2, "r:3", &used), 1);
	CP_CHECK_INT((int)used, 1);
	CP_CHECK_INT(take(st, 8, 20000, 1, NULL, &used), 1);
	CP_CHECK_INT(take(st, 8, 20000, 1, NULL, &used), 0);
	/* cap 0: no cap, still counted */
	CP_CHECK_INT(take(st, 9, 20000, 0, NULL, NULL), 1);
	CP_CHECK_INT(take(st, 9, 20000, 0, NULL, &used), 1);
	CP_CHECK_INT((int)used, 2);
	CP_CHECK_INT(cp_store_get_cap_usage(st, 7, 20000, &used, &err), CP_OK);
	CP_CHECK_INT((int)used, 2);
	CP_CHECK_INT(cp_store_get_cap_usage(st, 7, 19999, &used, &err), CP_OK);
	CP_CHECK_INT((int)used, 0);
	/* bad input */
	CP_CHECK_INT(cp_store_take_cap(st, 0, 1, 1, NULL, &(int){ 0 }, NULL,
	    &err), CP_EINVAL);
	CP_CHECK_INT(cp_store_take_cap(st, 1, 1, -1, NULL, &(int){ 0 }, NULL,
	    &err), CP_EINVAL);
	CP_CHECK_INT(cp_store_take_cap(st, 1, 1, 1, "a\nb", &(int){ 0 }, NULL,
	    &err), CP_EINVAL);
	/* survives a reopen */
	again = cp_store_open(dsn, &err);
	CP_CHECK(again != NULL, "reopen: %s", err.msg);
	if (again != NULL) {
		CP_CHECK_INT(take(again, 7, 20000, 2, "r:9", &used), 0);
		CP_CHECK_INT((int)used, 2);
		cp_store_close(again);
	}
}

PCONTRACT(cap_purge)
{
	cp_err err = { 0 };
	int64_t used;
	size_t n = 0;

	CP_CHECK_INT(take(st, 1, 100, 5, "r:1", NULL), 1);
	CP_CHECK_INT(take(st, 1, 101, 5, "r:2", NULL), 1);
	CP_CHECK_INT(cp_store_purge_cap_usage(st, 101, &n, &err), CP_OK);
	CP_CHECK_INT((int)n, 2); /* day 100: its key and its usage row */
	CP_CHECK_INT(cp_store_get_cap_usage(st, 1, 100, &used, &err), CP_OK);
	CP_CHECK_INT((int)used, 0);
	CP_CHECK_INT(cp_store_get_cap_usage(st, 1, 101, &used, &err), CP_OK);
	CP_CHECK_INT((int)used, 1);
}

struct race {
	cp_store *st;
	int taken;
};

static void *
race_thread(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 50; i++)
		r->taken += take(r->st, 3, 500, 30, NULL, NULL);
	return NULL;
}

/* Four threads take 200 units of a cap of 30: exactly 30 are given. */
PCONTRACT(cap_threads)
{
	struct race r[4];
	pthread_t t[4];
	int sum = 0;

	(void)dsn;
	for (int i = 0; i < 4; i++) {
		r[i].st = st;
		r[i].taken = 0;
		pthread_create(&t[i], NULL, race_thread, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		sum += r[i].taken;
	}
	CP_CHECK_INT(sum, 30);
}

struct pcollect {
	int n;
	char provider[8][64], ip[8][64], kind[8][16], evidence[8][128];
	int64_t rate[8], paused[8];
};

static int
collect_state(void *arg, const cp_provider_state *s)
{
	struct pcollect *c = arg;

	if (c->n < 8) {
		snprintf(c->provider[c->n], 64, "%s", s->provider);
		snprintf(c->ip[c->n], 64, "%s", s->source_ip);
		c->rate[c->n] = s->rate;
		c->paused[c->n] = s->paused_until;
	}
	c->n++;
	return 0;
}

static int
collect_event(void *arg, const cp_provider_event *e)
{
	struct pcollect *c = arg;

	if (c->n < 8) {
		snprintf(c->provider[c->n], 64, "%s", e->provider);
		snprintf(c->kind[c->n], 16, "%s", e->kind);
		snprintf(c->evidence[c->n], 128, "%s", e->evidence);
		c->rate[c->n] = e->rate_after;
	}
	c->n++;
	return 0;
}

PCONTRACT(provider_state)
{
	cp_provider_state s = { .source_ip = "192.0.2.7", .provider = "google",
		.rate = 100, .ramp_from = 1000, .updated = 1000 };
	cp_provider_event ev = { .time = 1000, .kind = "cut",
		.rate_before = 200, .rate_after = 100, .until = 2000,
		.evidence = "550 5.7.1 listed\n550 5.7.1 again" };
	struct pcollect c = { 0 };
	cp_err err = { 0 };

	(void)dsn;
	CP_CHECK_INT(cp_store_put_provider_state(st, &s, &ev, &err), CP_OK);
	CP_CHECK(ev.id > 0, "event id %lld", (long long)ev.id);
	s.provider = "microsoft";
	s.source_ip = "2001:DB8:0::7"; /* normalised */
	CP_CHECK_INT(cp_store_put_provider_state(st, &s, NULL, &err), CP_OK);
	/* replace google's */
	s.provider = "google";
	s.source_ip = "192.0.2.7";
	s.rate = 50;
	s.paused_until = 5000;
	ev.time = 3000;
	ev.kind = "pause";
	CP_CHECK_INT(cp_store_put_provider_state(st, &s, &ev, &err), CP_OK);
	CP_CHECK_INT(cp_store_list_provider_states(st, collect_state, &c,
	    &err), CP_OK);
	CP_CHECK_INT(c.n, 2);
	CP_CHECK_STR(c.provider[0], "google");
	CP_CHECK_INT((int)c.rate[0], 50);
	CP_CHECK_INT((int)c.paused[0], 5000);
	CP_CHECK_STR(c.provider[1], "microsoft");
	CP_CHECK_STR(c.ip[1], "2001:db8::7");
	memset(&c, 0, sizeof(c));
	CP_CHECK_INT(cp_store_list_provider_events(st, 0, 0, collect_event, &c,
	    &err), CP_OK);
	CP_CHECK_INT(c.n, 2);
	CP_CHECK_STR(c.kind[0], "pause"); /* newest first */
	CP_CHECK_STR(c.kind[1], "cut");
	CP_CHECK_STR(c.evidence[1], "550 5.7.1 listed\n550 5.7.1 again");
	memset(&c, 0, sizeof(c));
	CP_CHECK_INT(cp_store_list_provider_events(st, 2000, 0, collect_event,
	    &c, &err), CP_OK);
	CP_CHECK_INT(c.n, 1);
	memset(&c, 0, sizeof(c));
	CP_CHECK_INT(cp_store_list_provider_events(st, 0, 1, collect_event,
	    &c, &err), CP_OK);
	CP_CHECK_INT(c.n, 1);
	/* bad input changes nothing */
	s.source_ip = "not-an-ip";
	CP_CHECK_INT(cp_store_put_provider_state(st, &s, NULL, &err),
	    CP_EINVAL);
	s.source_ip = "192.0.2.7";
	s.provider = "bad provider";
	CP_CHECK_INT(cp_store_put_provider_state(st, &s, NULL, &err),
	    CP_EINVAL);
	s.provider = "google";
	ev.kind = "two words";
	CP_CHECK_INT(cp_store_put_provider_state(st, &s, &ev, &err),
	    CP_EINVAL);
}

static int
count_supp(void *arg, const cp_suppression *s)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

PCONTRACT(suppressions)
{
	cp_suppression s = { .tenant = 1, .address = "Bob@Example.org",
		.reason = "bounce", .note = "550 5.1.1 no such user" };
	cp_suppression *got = NULL;
	cp_err err = { 0 };
	int added = -1, n = 0;

	(void)dsn;
	CP_CHECK_INT(cp_store_add_suppression(st, &s, &added, &err), CP_OK);
	CP_CHECK_INT(added, 1);
	/* again, other reason: keeps the first */
	s.reason = "manual";
	CP_CHECK_INT(cp_store_add_suppression(st, &s, &added, &err), CP_OK);
	CP_CHECK_INT(added, 0);
	CP_CHECK_INT(cp_store_get_suppression(st, 1, "bob@example.ORG", &got,
	    &err), CP_OK);
	if (got != NULL) {
		CP_CHECK_STR(got->reason, "bounce");
		CP_CHECK_STR(got->note, "550 5.1.1 no such user");
		CP_CHECK(got->created > 0, "created %lld",
		    (long long)got->created);
		cp_suppression_free(got);
	}
	/* per tenant */
	got = NULL;
	CP_CHECK_INT(cp_store_get_suppression(st, 2, "bob@example.org", &got,
	    &err), CP_ENOTFOUND);
	s.tenant = 2;
	s.address = "carol@example.org";
	s.reason = "unsubscribe";
	s.note = NULL;
	CP_CHECK_INT(cp_store_add_suppression(st, &s, NULL, &err), CP_OK);
	CP_CHECK_INT(cp_store_list_suppressions(st, 0, count_supp, &n, &err),
	    CP_OK);
	CP_CHECK_INT(n, 2);
	n = 0;
	CP_CHECK_INT(cp_store_list_suppressions(st, 2, count_supp, &n, &err),
	    CP_OK);
	CP_CHECK_INT(n, 1);
	CP_CHECK_INT(cp_store_remove_suppression(st, 1, "BOB@example.org",
	    &err), CP_OK);
	CP_CHECK_INT(cp_store_remove_suppression(st, 1, "bob@example.org",
	    &err), CP_ENOTFOUND);
	/* bad input */
	s.reason = "spite";
	CP_CHECK_INT(cp_store_add_suppression(st, &s, NULL, &err), CP_EINVAL);
	s.reason = "manual";
	s.address = "no-at-sign";
	CP_CHECK_INT(cp_store_add_suppression(st, &s, NULL, &err), CP_EINVAL);
	s.address = "x@example.org";
	s.tenant = 0;
	CP_CHECK_INT(cp_store_add_suppression(st, &s, NULL, &err), CP_EINVAL);
}
