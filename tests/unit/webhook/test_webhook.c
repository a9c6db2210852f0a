/*
 * Webhooks (webhook.h): event names and filters, the JSON of each event,
 * the signature against a vector made with Python's hmac module, its
 * verification window, the back-off schedule and its jitter bounds, and
 * the sender on loopback: an endpoint whose port refuses connections gets
 * its delivery retried later with the error recorded, an event queued in
 * memory reaches the outbox when the sender stops.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "coldpost/alloc.h"
#include "coldpost/webhook.h"
#include "cptest.h"

CP_TEST(webhook_type_names)
{
	for (int t = 0; t < CP_WEBHOOK_NTYPES; t++) {
		const char *n = cp_webhook_type_name(t);

		CP_CHECK_INT(cp_webhook_type_from_name(n, strlen(n)), t);
	}
	CP_CHECK_STR(cp_webhook_type_name(CP_WEBHOOK_PROVIDER_CUT),
	    "provider.cut");
	CP_CHECK_STR(cp_webhook_type_name(99), "?");
	CP_CHECK_INT(cp_webhook_type_from_name("bounce", 6), -1);
}

CP_TEST(webhook_parse_events)
{
	static const struct {
		const char *in, *out;
		int rc;
	} cases[] = {
		{ "", "", CP_OK },
		{ "bounced", "bounced", CP_OK },
		{ " bounced , delivered,bounced", "delivered,bounced", CP_OK },
		{ "provider.recovered,provider.cut", "provider.cut,"
		    "provider.recovered", CP_OK },
		{ "bounce", NULL, CP_EINVAL },
		{ "delivered,", NULL, CP_EINVAL },
		{ ",delivered", NULL, CP_EINVAL },
		{ "delivered,,bounced", NULL, CP_EINVAL },
		{ "DELIVERED", NULL, CP_EINVAL },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_buf b;
		cp_err err = { 0 };
		int rc;

		cp_buf_init(&b, 1024);
		rc = cp_webhook_parse_events(cases[i].in, &b, &err);
		CP_CHECK(rc == cases[i].rc, "case %zu '%s': got %d (%s)", i,
		    cases[i].in, rc, err.msg);
		if (rc == CP_OK)
			CP_CHECK_STR(b.data, cases[i].out);
		else
			CP_CHECK(strstr(err.msg, "event") != NULL, "msg '%s'",
			    err.msg);
		cp_buf_free(&b);
	}
}

CP_TEST(webhook_sign_vector)
{
	char sig[CP_WEBHOOK_SIG_LEN + 1];
	const char *body = "{\"a\":1}";
	cp_err err = { 0 };

	/* python3: hmac.new(b"whsec_test", b'1764300000.{"a":1}',
	   hashlib.sha256).hexdigest() */
	CP_CHECK_INT(cp_webhook_sign("whsec_test", 1764300000, body,
	    strlen(body), sig, &err), CP_OK);
	CP_CHECK_STR(sig, "v1=ae8cd8988e6cfa1e616760b15a9a00246de8f63a1dab43bf"
	    "9fa252f535686403");
	CP_CHECK_INT(cp_webhook_verify("whsec_test", 1764300000, body,
	    strlen(body), sig, 1764300000 + 299, 300), 1);
	/* too old, from the future, another body, another secret, cut */
	CP_CHECK_INT(cp_webhook_verify("whsec_test", 1764300000, body,
	    strlen(body), sig, 1764300000 + 301, 300), 0);
	CP_CHECK_INT(cp_webhook_verify("whsec_test", 1764300000, body,
	    strlen(body), sig, 1764300000 - 301, 300), 0);
	CP_CHECK_INT(cp_webhook_verify("whsec_test", 1764300000, "{\"a\":2}",
	    7, sig, 1764300000, 300), 0);
	CP_CHECK_INT(cp_webhook_verify("whsec_tesT", 1764300000, body,
	    strlen(body), sig, 1764300000, 300), 0);
	sig[20] = '\0';
	CP_CHECK_INT(cp_webhook_verify("whsec_test", 1764300000, body,
	    strlen(body), sig, 1764300000, 300), 0);
	/* the timestamp is signed: same body, other time, other signature */
	CP_CHECK_INT(cp_webhook_sign("whsec_test", 1764300001, body,
	    strlen(body), sig, &err), CP_OK);
	CP_CHECK(strcmp(sig, "v1=ae8cd8988e6cfa1e616760b15a9a00246de8f63a1dab"
	    "43bf9fa252f535686403") != 0, "timestamp not signed");
	CP_CHECK_INT(cp_webhook_sign("", 1, body, 1, sig, &err), CP_EINVAL);
}

CP_TEST(webhook_backoff_schedule)
{
	int64_t prev_hi = 0;

	/* base 30 s, max 6 h: the ceilings double, then stay */
	static const int64_t ceil_ms[] = { 30000, 60000, 120000, 240000,
		480000, 960000, 1920000, 3840000, 7680000, 15360000, 21600000,
		21600000 };
	for (int f = 1; f <= (int)CP_NELEM(ceil_ms); f++) {
		int64_t d = ceil_ms[f - 1];
		int64_t lo = cp_webhook_backoff_ms(f, 30000, 21600000, 0);
		int64_t hi = cp_webhook_backoff_ms(f, 30000, 21600000,
		    0xffffffffu);

		CP_CHECK(lo == (d + 1) / 2, "failure %d: low %lld, want %lld", f,
		    (long long)lo, (long long)(d + 1) / 2);
		CP_CHECK(hi <= d && hi >= lo, "failure %d: high %lld of %lld", f,
		    (long long)hi, (long long)d);
		/* below the cap, never shorter than the previous try could
		   have been */
		if (d < 21600000)
			CP_CHECK(lo >= prev_hi, "failure %d shrinks", f);
		prev_hi = hi;
		for (uint32_t r = 0; r < 1000; r += 7) {
			int64_t x = cp_webhook_backoff_ms(f, 30000, 21600000,
			    r * 2654435761u);

			CP_CHECK(x >= lo && x <= d, "failure %d r %u: %lld", f,
			    r, (long long)x);
		}
	}
	/* no overflow far out, the cap holds */
	CP_CHECK(cp_webhook_backoff_ms(1000, 30000, 21600000, 12345) <=
	    21600000, "cap");
	/* the jitter spreads: not every draw the same */
	CP_CHECK(cp_webhook_backoff_ms(3, 1000, 60000, 1) !=
	    cp_webhook_backoff_ms(3, 1000, 60000, 1500), "no jitter");
	/* tiny or odd bases still give 1..base */
	CP_CHECK_INT(cp_webhook_backoff_ms(1, 1, 1, 0), 1);
	CP_CHECK_INT(cp_webhook_backoff_ms(1, 1000, 500, 0), 500);
}

static json_t *
event_json(const cp_webhook_event *ev, const char *tenant)
{
	cp_buf b;
	cp_err err = { 0 };
	json_t *j = NULL;

	cp_buf_init(&b, 1 << 16);
	CP_CHECK(cp_webhook_event_json(ev, 7, tenant, "0123456789abcdef0123456"
	    "789abcdef", &b, &err) == CP_OK, "json: %s", err.msg);
	if (b.data)
		j = json_loads(b.data, 0, NULL);
	CP_CHECK(j != NULL, "not JSON: %s", b.data ? b.data : "");
	cp_buf_free(&b);
	return j;
}

CP_TEST(webhook_event_json)
{
	cp_webhook_event ev = { .type = CP_WEBHOOK_BOUNCED, .tenant = 7,
		.time = 1764300000, .message = 42, .rcpt = "bob@example.net",
		.code = 550, .enhanced = "5.1.1",
		.reply = "550 5.1.1 <bob@example.net>: no such user",
		.cause = "bad_address", .reason = "user_unknown",
		.receiver = "gmail", .mx = "mx.example.net",
		.source_ip = "192.0.2.7" };
	json_t *j, *d;

	j = event_json(&ev, "acme");
	if (j == NULL)
		return;
	CP_CHECK_STR(json_string_value(json_object_get(j, "type")), "bounced");
	CP_CHECK_STR(json_string_value(json_object_get(j, "tenant")), "acme");
	CP_CHECK_STR(json_string_value(json_object_get(j, "id")),
	    "0123456789abcdef0123456789abcdef");
	CP_CHECK_INT(json_integer_value(json_object_get(j, "time")), 1764300000);
	d = json_object_get(j, "data");
	CP_CHECK_INT(json_integer_value(json_object_get(d, "message")), 42);
	CP_CHECK_INT(json_integer_value(json_object_get(d, "code")), 550);
	CP_CHECK_STR(json_string_value(json_object_get(d, "recipient")),
	    "bob@example.net");
	CP_CHECK_STR(json_string_value(json_object_get(d, "cause")),
	    "bad_address");
	CP_CHECK_STR(json_string_value(json_object_get(d, "reason")),
	    "user_unknown");
	CP_CHECK_STR(json_string_value(json_object_get(d, "enhanced")), "5.1.1");
	CP_CHECK(json_object_get(d, "expired") == NULL, "not expired");
	CP_CHECK(json_object_get(d, "next_attempt") == NULL, "no next");
	json_decref(j);

	/* a deferral carries its next try; unknown tenant name: the id */
	ev.type = CP_WEBHOOK_DEFERRED;
	ev.next_attempt = 1764300600;
	j = event_json(&ev, NULL);
	if (j == NULL)
		return;
	CP_CHECK_INT(json_integer_value(json_object_get(j, "tenant")), 7);
	CP_CHECK_INT(json_integer_value(json_object_get(json_object_get(j,
	    "data"), "next_attempt")), 1764300600);
	json_decref(j);

	/* provider events: their own fields, zero rates kept */
	memset(&ev, 0, sizeof(ev));
	ev.type = CP_WEBHOOK_PROVIDER_CUT;
	ev.provider = "google";
	ev.source_ip = "192.0.2.7";
	ev.kind = "cut";
	ev.rate_before = 600;
	ev.rate_after = 300;
	ev.until = 1764400000;
	ev.evidence = "550 5.7.1 spam\n421 4.7.0 rate";
	j = event_json(&ev, "acme");
	if (j == NULL)
		return;
	d = json_object_get(j, "data");
	CP_CHECK_STR(json_string_value(json_object_get(j, "type")),
	    "provider.cut");
	CP_CHECK_STR(json_string_value(json_object_get(d, "provider")),
	    "google");
	CP_CHECK_INT(json_integer_value(json_object_get(d, "rate_after")), 300);
	CP_CHECK(json_object_get(d, "recipient") == NULL, "no recipient");
	json_decref(j);

	/* text that is not UTF-8 is refused by the JSON layer */
	ev.evidence = "caf\xe9";
	{
		cp_buf b;
		cp_err err = { 0 };

		cp_buf_init(&b, 4096);
		CP_CHECK_INT(cp_webhook_event_json(&ev, 7, NULL, "x", &b, &err),
		    CP_EINVAL);
		cp_buf_free(&b);
	}
}

/* ---- the sender on loopback -------------------------------------------- */

static void
rm_dir(const char *dir)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/store.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/store.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

static int
first_delivery(void *arg, const cp_webhook_delivery *d)
{
	cp_webhook_delivery *out = arg;

	out->attempts = d->attempts;
	out->next_attempt = d->next_attempt;
	out->id = d->id;
	out->last_error = d->last_error && strcmp(d->last_error,
	    "connection refused") == 0 ? "connection refused" : "other";
	out->payload = strstr(d->payload, "\"expired\":true") ? "expired" : "";
	return 1;
}

CP_TEST(webhook_sender_refused)
{
	char dir[] = "/tmp/cp-wh-XXXXXX", dsn[600];
	cp_webhook_endpoint w = { .url = "http://127.0.0.1:1/hook",
		.secret = "s" };
	cp_tenant t = { .name = "acme" };
	cp_attempt a = { .outcome = CP_RCPT_EXPIRED, .reply = "", .code = 0 };
	cp_deliver_event dev = { 0 };
	cp_webhook_opts o = { 0 };
	cp_webhook_delivery got = { 0 };
	cp_webhook_stats s = { 0 };
	cp_webhook *wh;
	cp_store *st;
	cp_conf conf;
	cp_err err = { 0 };
	int64_t t0 = time(NULL);

	CP_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(dsn, sizeof(dsn), "sqlite:%s/store.db", dir);
	CP_CHECK((st = cp_store_open(dsn, &err)) != NULL, "open: %s", err.msg);
	if (st == NULL)
		return;
	CP_CHECK_INT(cp_store_add_tenant(st, &t, &err), CP_OK);
	w.tenant = t.id;
	CP_CHECK_INT(cp_store_add_webhook(st, &w, &err), CP_OK);
	CP_CHECK_INT(cp_conf_init(&conf, &err), CP_OK);
	CP_CHECK_INT(cp_conf_set(&conf, "webhook.backoff_base", "10s", &err),
	    CP_OK);
	o.conf = &conf;
	o.store = st;
	o.node = "unit";
	CP_CHECK((wh = cp_webhook_new(&o, &err)) != NULL, "new: %s", err.msg);
	if (wh == NULL)
		return;
	CP_CHECK_INT(cp_webhook_start(wh, &err), CP_OK);
	dev.tenant = t.id;
	dev.message = 1;
	dev.rcpt = "bob@example.net";
	dev.attempt = &a;
	cp_webhook_observe(wh, &dev);
	for (int i = 0; i < 100; i++) { /* up to 10 s */
		cp_webhook_get_stats(wh, &s);
		if (s.failed > 0)
			break;
		usleep(100000);
	}
	CP_CHECK_INT(s.failed, 1);
	CP_CHECK_INT(s.enqueued, 1);
	CP_CHECK_INT(s.sent, 0);
	/* an event emitted right before the stop still reaches the outbox */
	{
		cp_webhook_event ev = { .type = CP_WEBHOOK_COMPLAINED,
			.tenant = t.id, .rcpt = "carol@example.net",
			.feedback = "abuse" };

		CP_CHECK_INT(cp_webhook_emit(wh, &ev), CP_OK);
	}
	cp_webhook_free(wh);
	CP_CHECK_INT(cp_store_list_webhook_deliveries(st, 0, 0, 0,
	    first_delivery, &got, &err), CP_OK);
	CP_CHECK_INT(got.attempts, 1);
	CP_CHECK_STR(got.last_error, "connection refused");
	CP_CHECK_STR(got.payload, "expired");
	/* 10 s base: the retry is 5..10 s after the failure */
	CP_CHECK(got.next_attempt >= t0 + 5 && got.next_attempt <=
	    time(NULL) + 11, "next attempt %lld, start %lld",
	    (long long)got.next_attempt, (long long)t0);
	{
		int64_t live = 0, dead = 0;

		CP_CHECK_INT(cp_store_count_webhook_deliveries(st, 0, &live,
		    &dead, &err), CP_OK);
		CP_CHECK_INT(live, 2);
	}
	cp_conf_clear(&conf);
	cp_store_close(st);
	rm_dir(dir);
}

/* The policy's decisions: which kinds are events, which are not. */
CP_TEST(webhook_emit_provider_kinds)
{
	char dir[] = "/tmp/cp-whp-XXXXXX", dsn[600];
	static const struct {
		const char *kind;
		int queued; /* events in memory after it */
	} cases[] = {
		{ "start", 0 }, { "cut", 1 }, { "pause", 2 }, { "slowdown", 3 },
		{ "manual-pause", 4 }, { "resume", 5 }, { "recover", 6 },
		{ "other", 6 },
	};
	cp_webhook_opts o = { 0 };
	cp_webhook_stats s;
	cp_webhook *wh;
	cp_store *st;
	cp_conf conf;
	cp_err err = { 0 };

	CP_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(dsn, sizeof(dsn), "sqlite:%s/store.db", dir);
	CP_CHECK((st = cp_store_open(dsn, &err)) != NULL, "open: %s", err.msg);
	CP_CHECK_INT(cp_conf_init(&conf, &err), CP_OK);
	if (st == NULL)
		return;
	o.conf = &conf;
	o.store = st;
	CP_CHECK((wh = cp_webhook_new(&o, &err)) != NULL, "new: %s", err.msg);
	for (size_t i = 0; wh && i < CP_NELEM(cases); i++) {
		cp_provider_event pe = { .time = 1764300000,
			.source_ip = "192.0.2.7", .provider = "google",
			.kind = cases[i].kind, .rate_before = 600,
			.rate_after = 300 };

		CP_CHECK_INT(cp_webhook_emit_provider(wh, 0, &pe), CP_OK);
		cp_webhook_get_stats(wh, &s);
		CP_CHECK(s.queued == (uint64_t)cases[i].queued, "%s: %llu "
		    "queued, want %d", cases[i].kind,
		    (unsigned long long)s.queued, cases[i].queued);
	}
	{
		cp_webhook_event bad = { .type = CP_WEBHOOK_NTYPES };

		CP_CHECK_INT(cp_webhook_emit(wh, &bad), CP_EINVAL);
	}
	cp_webhook_free(wh); /* never started: frees what is queued */
	cp_conf_clear(&conf);
	cp_store_close(st);
	rm_dir(dir);
}
