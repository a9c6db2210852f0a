/*
 * The store contract for webhooks (store.h, "webhooks"): endpoints per
 * tenant with their checks, fan-out of an event to the endpoints whose
 * filter wants it, claims with leases that run out, retries, give-ups,
 * deletion only on finish, survival across a reopen, and a release after
 * a restart. Every test runs once per backend in `store_backends` (store_fixture.c), on a fresh
 * store, through the public interface only.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/store.h"
#include "cptest.h"
#include "store_fixture.h"

static int64_t
add_tenant(cp_store *st, const char *name)
{
	cp_tenant t = { .name = name };
	cp_err err = { 0 };

	CP_CHECK_INT(cp_store_add_tenant(st, &t, &err), CP_OK);
	return t.id;
}

static int64_t
add_hook(cp_store *st, int64_t tenant, const char *url, const char *events)
{
	cp_webhook_endpoint w = { .tenant = tenant, .url = url,
		.secret = "s3cret", .events = events };
	cp_err err = { 0 };

	CP_CHECK(cp_store_add_webhook(st, &w, &err) == CP_OK, "add %s: %s",
	    url, err.msg);
	CP_CHECK(w.id > 0 && w.created > 0, "id %lld created %lld",
	    (long long)w.id, (long long)w.created);
	return w.id;
}

static int
count_cb(void *arg, const cp_webhook_endpoint *w)
{
	(void)w;
	(*(int *)arg)++;
	return 0;
}

static void
c_endpoints(cp_store *st, const char *dsn)
{
	int64_t a = add_tenant(st, "acme"), b = add_tenant(st, "beta");
	int64_t h1 = add_hook(st, a, "https://hooks.acme.example/cp", "");
	int64_t h2 = add_hook(st, b, "http://127.0.0.1:9/x", "bounced");
	cp_webhook_endpoint *got = NULL;
	cp_err err = { 0 };
	int n = 0;
	static const struct {
		const char *url, *secret, *events;
		int rc;
	} bad[] = {
		{ "ftp://x.example/", "s", "", CP_EINVAL },
		{ "https://", "s", "", CP_EINVAL },
		{ "https://a b.example/", "s", "", CP_EINVAL },
		{ "https://x.example/", "", "", CP_EINVAL },
		{ "https://x.example/", "se cret", "", CP_EINVAL },
		{ "https://x.example/", "s", "Delivered", CP_EINVAL },
		{ "https://x.example/", "s", "delivered,,bounced", CP_EINVAL },
		{ "https://x.example/", "s", ",delivered", CP_EINVAL },
		{ NULL, "s", "", CP_EINVAL },
	};

	(void)dsn;
	CP_CHECK(h1 != h2, "distinct ids");
	CP_CHECK_INT(cp_store_get_webhook(st, h2, &got, &err), CP_OK);
	if (got) {
		CP_CHECK_STR(got->url, "http://127.0.0.1:9/x");
		CP_CHECK_STR(got->secret, "s3cret");
		CP_CHECK_STR(got->events, "bounced");
		CP_CHECK_INT(got->tenant, b);
	}
	cp_webhook_endpoint_free(got);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cp_webhook_endpoint w = { .tenant = a, .url = bad[i].url,
			.secret = bad[i].secret, .events = bad[i].events };
		int rc = cp_store_add_webhook(st, &w, &err);

		CP_CHECK(rc == bad[i].rc, "case %zu: got %d want %d (%s)", i, rc,
		    bad[i].rc, err.msg);
	}
	{
		cp_webhook_endpoint w = { .tenant = 999, .url = "http://x/",
			.secret = "s" };

		CP_CHECK_INT(cp_store_add_webhook(st, &w, &err), CP_ENOTFOUND);
	}
	CP_CHECK_INT(cp_store_list_webhooks(st, 0, count_cb, &n, &err), CP_OK);
	CP_CHECK_INT(n, 2);
	n = 0;
	CP_CHECK_INT(cp_store_list_webhooks(st, a, count_cb, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1);
	/* another tenant's endpoint is not found, its own is removed */
	CP_CHECK_INT(cp_store_remove_webhook(st, a, h2, &err), CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_remove_webhook(st, b, h2, &err), CP_OK);
	CP_CHECK_INT(cp_store_remove_webhook(st, b, h2, &err), CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_get_webhook(st, h2, &got, &err), CP_ENOTFOUND);
}

CP_TEST(store_webhook_endpoints)
{
	store_each_backend("c_endpoints", c_endpoints);
}

static void
c_fanout(cp_store *st, const char *dsn)
{
	int64_t a = add_tenant(st, "acme"), b = add_tenant(st, "beta");
	int64_t all = add_hook(st, a, "http://h/all", "");
	int64_t bo = add_hook(st, a, "http://h/bounced", "delivered,bounced");
	int64_t other = add_hook(st, b, "http://h/b", "");
	cp_webhook_delivery_list *l = NULL;
	cp_err err = { 0 };
	size_t n = 99;
	int64_t live, dead;

	(void)dsn;
	(void)other;
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "deferred",
	    "{\"x\":1}", 1000, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1); /* only the catch-all of acme */
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "bounced",
	    "{\"x\":2}", 1000, &n, &err), CP_OK);
	CP_CHECK_INT(n, 2);
	/* "bounce" is a prefix of a wanted name, not a wanted name */
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "bounce",
	    "{\"x\":3}", 1000, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1);
	/* tenant 0: every tenant's endpoints that want it */
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, 0, "provider.cut",
	    "{\"x\":4}", 1000, &n, &err), CP_OK);
	CP_CHECK_INT(n, 2);
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "Bad Event", "{}",
	    1000, &n, &err), CP_EINVAL);
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "delivered", "",
	    1000, &n, &err), CP_EINVAL);
	CP_CHECK_INT(cp_store_count_webhook_deliveries(st, 0, &live, &dead,
	    &err), CP_OK);
	CP_CHECK_INT(live, 6);
	CP_CHECK_INT(dead, 0);
	CP_CHECK_INT(cp_store_count_webhook_deliveries(st, bo, &live, &dead,
	    &err), CP_OK);
	CP_CHECK_INT(live, 1);
	/* nothing is due before its time */
	CP_CHECK_INT(cp_store_claim_webhooks(st, 999, "n1", 60, 100, &l, &err),
	    CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 0);
	cp_webhook_delivery_list_free(l);
	CP_CHECK_INT(cp_store_claim_webhooks(st, 1000, "n1", 60, 100, &l,
	    &err), CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 6);
	for (size_t i = 0; l && i < l->n; i++) {
		CP_CHECK(l->v[i].url != NULL && l->v[i].url[0] == 'h', "url");
		CP_CHECK_STR(l->v[i].secret, "s3cret");
		CP_CHECK_INT(l->v[i].attempts, 0);
		if (l->v[i].webhook == all && strcmp(l->v[i].event,
		    "deferred") == 0)
			CP_CHECK_STR(l->v[i].payload, "{\"x\":1}");
		CP_CHECK_INT(l->v[i].tenant, l->v[i].webhook == other ? b : a);
	}
	cp_webhook_delivery_list_free(l);
	/* removing an endpoint takes its deliveries */
	CP_CHECK_INT(cp_store_remove_webhook(st, 0, bo, &err), CP_OK);
	CP_CHECK_INT(cp_store_count_webhook_deliveries(st, 0, &live, &dead,
	    &err), CP_OK);
	CP_CHECK_INT(live, 5);
}

CP_TEST(store_webhook_fanout)
{
	store_each_backend("c_fanout", c_fanout);
}

static int
keep_first(void *arg, const cp_webhook_delivery *d)
{
	cp_webhook_delivery *out = arg;

	out->id = d->id;
	out->attempts = d->attempts;
	out->dead = d->dead;
	out->next_attempt = d->next_attempt;
	return 1;
}

static void
c_lifecycle(cp_store *st, const char *dsn)
{
	int64_t a = add_tenant(st, "acme");
	cp_webhook_delivery_list *l = NULL;
	cp_webhook_delivery d = { 0 };
	cp_err err = { 0 };
	int64_t id, live, dead;
	size_t n;

	add_hook(st, a, "http://h/", "");
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "delivered", "{}",
	    1000, &n, &err), CP_OK);
	CP_CHECK_INT(cp_store_claim_webhooks(st, 1000, "n1", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 1);
	id = l && l->n ? l->v[0].id : 0;
	cp_webhook_delivery_list_free(l);
	/* leased: nobody else gets it until the lease runs out */
	CP_CHECK_INT(cp_store_claim_webhooks(st, 1059, "n2", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 0);
	cp_webhook_delivery_list_free(l);
	CP_CHECK_INT(cp_store_claim_webhooks(st, 1060, "n2", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 1); /* n1 crashed */
	cp_webhook_delivery_list_free(l);
	/* a failed send: counted, due later, no lease */
	CP_CHECK_INT(cp_store_retry_webhook(st, id, 1100, "HTTP 500", 0, &err),
	    CP_OK);
	CP_CHECK_INT(cp_store_list_webhook_deliveries(st, 0, -1, 0, keep_first,
	    &d, &err), CP_OK);
	CP_CHECK_INT(d.id, id);
	CP_CHECK_INT(d.attempts, 1);
	CP_CHECK_INT(d.next_attempt, 1100);
	CP_CHECK_INT(cp_store_claim_webhooks(st, 1099, "n2", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 0);
	cp_webhook_delivery_list_free(l);
	/* durable across a reopen, and a restart gives back its leases */
	CP_CHECK_INT(cp_store_claim_webhooks(st, 1100, "n2", 600, 10, &l,
	    &err), CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 1);
	if (l && l->n) {
		CP_CHECK_INT(l->v[0].attempts, 1);
		CP_CHECK_STR(l->v[0].last_error, "HTTP 500");
	}
	cp_webhook_delivery_list_free(l);
	cp_store_close(st);
	st = cp_store_open(dsn, &err);
	CP_CHECK(st != NULL, "reopen: %s", err.msg);
	if (st == NULL)
		return;
	CP_CHECK_INT(cp_store_release_webhooks(st, "n2", 1200, &n, &err),
	    CP_OK);
	CP_CHECK_INT(n, 1);
	CP_CHECK_INT(cp_store_claim_webhooks(st, 1200, "n2", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 1);
	cp_webhook_delivery_list_free(l);
	/* given up: kept, never claimed again */
	CP_CHECK_INT(cp_store_retry_webhook(st, id, 1300, "timeout", 1, &err),
	    CP_OK);
	CP_CHECK_INT(cp_store_claim_webhooks(st, 99999, "n2", 60, 10, &l,
	    &err), CP_OK);
	CP_CHECK_INT(l ? (long long)l->n : -1, 0);
	cp_webhook_delivery_list_free(l);
	CP_CHECK_INT(cp_store_count_webhook_deliveries(st, 0, &live, &dead,
	    &err), CP_OK);
	CP_CHECK_INT(live, 0);
	CP_CHECK_INT(dead, 1);
	/* finished: gone */
	CP_CHECK_INT(cp_store_finish_webhook(st, id, &err), CP_OK);
	CP_CHECK_INT(cp_store_finish_webhook(st, id, &err), CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_retry_webhook(st, id, 1, "x", 0, &err),
	    CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_count_webhook_deliveries(st, 0, &live, &dead,
	    &err), CP_OK);
	CP_CHECK_INT(live + dead, 0);
	cp_store_close(st);
}

/* c_lifecycle closes and reopens the store itself */
CP_TEST(store_webhook_lifecycle)
{
	store_each_backend_owned("lifecycle", c_lifecycle);
}

static void
c_batch(cp_store *st, const char *dsn)
{
	int64_t a = add_tenant(st, "acme");
	cp_err err = { 0 };
	int64_t live;
	size_t n;

	(void)dsn;
	add_hook(st, a, "http://h/", "");
	/* enqueues join a batch: nothing stays after a rollback */
	CP_CHECK_INT(cp_store_begin(st, &err), CP_OK);
	for (int i = 0; i < 10; i++)
		CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "delivered",
		    "{}", 1000, &n, &err), CP_OK);
	cp_store_rollback(st);
	CP_CHECK_INT(cp_store_count_webhook_deliveries(st, 0, &live, NULL,
	    &err), CP_OK);
	CP_CHECK_INT(live, 0);
	CP_CHECK_INT(cp_store_begin(st, &err), CP_OK);
	for (int i = 0; i < 10; i++)
		CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "delivered",
		    "{}", 1000, &n, &err), CP_OK);
	CP_CHECK_INT(cp_store_commit(st, &err), CP_OK);
	CP_CHECK_INT(cp_store_count_webhook_deliveries(st, 0, &live, NULL,
	    &err), CP_OK);
	CP_CHECK_INT(live, 10);
}

CP_TEST(store_webhook_batch)
{
	store_each_backend("c_batch", c_batch);
}

/* A removed tenant's endpoints go with it: a tenant added later (SQLite
 * may give it the same id) must not inherit them. */
static void
c_tenant_removed(cp_store *st, const char *dsn)
{
	int64_t a = add_tenant(st, "acme"), b;
	cp_err err = { 0 };
	int64_t live = -1;
	size_t n = 9;
	int cnt = 0;

	(void)dsn;
	add_hook(st, a, "http://h/", "");
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, a, "delivered", "{}",
	    1000, &n, &err), CP_OK);
	CP_CHECK_INT(cp_store_remove_tenant(st, "acme", 0, 1000, &err), CP_OK);
	b = add_tenant(st, "newco");
	CP_CHECK_INT(cp_store_list_webhooks(st, b, count_cb, &cnt, &err),
	    CP_OK);
	CP_CHECK_INT(cnt, 0);
	CP_CHECK_INT(cp_store_list_webhooks(st, 0, count_cb, &cnt, &err),
	    CP_OK);
	CP_CHECK_INT(cnt, 0);
	CP_CHECK_INT(cp_store_count_webhook_deliveries(st, 0, &live, NULL,
	    &err), CP_OK);
	CP_CHECK_INT(live, 0);
	CP_CHECK_INT(cp_store_enqueue_webhook_event(st, b, "delivered", "{}",
	    1000, &n, &err), CP_OK);
	CP_CHECK_INT(n, 0);
}

CP_TEST(store_webhook_tenant_removed)
{
	store_each_backend("c_tenant_removed", c_tenant_removed);
}
