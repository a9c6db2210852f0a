/*
 * cp_webhook_run.c - a test helper: run the webhook sender
 * (coldpost/webhook.h) on a store, as `coldpost serve` would, optionally
 * with the delivery engine feeding it through its observer.
 *
 *   cp-webhook-run --config FILE [--node NAME]
 *       [--emit TYPE[,TYPE...] --tenant ID [--count N]]
 *       [--deliver] [--until-empty] [--timeout SECONDS]
 *
 * --emit queues N events of each type for the tenant (recipient
 * rN@example.net, message N; provider.* for source 127.0.0.1 at provider
 * "google") through cp_webhook_emit. --deliver also runs the delivery
 * engine with cp_webhook_observe as its observer, so what it delivers,
 * defers and bounces (messages put in the store by cp-store-seed) becomes
 * webhooks. The run ends on SIGTERM/SIGINT, or with --until-empty once
 * nothing is queued in memory or due in the outbox (and, with --deliver,
 * no recipient is due or in flight), or at the timeout (exit 1).
 * Prints "enqueued=N sent=N failed=N given_up=N dropped=N".
 *
 * Exit 0 done, 1 timeout or failure, 2 usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/store.h"
#include "coldpost/webhook.h"

static volatile sig_atomic_t stop_now;

static void
on_signal(int sig)
{
	(void)sig;
	stop_now = 1;
}

static int
emit_all(cp_webhook *wh, const char *types, int64_t tenant, long count)
{
	char name[64];
	const char *p = types;

	while (*p) {
		size_t len = strcspn(p, ",");
		int t = cp_webhook_type_from_name(p, len);

		if (t < 0) {
			fprintf(stderr, "cp-webhook-run: unknown event '%.*s'\n",
			    (int)len, p);
			return -1;
		}
		for (long i = 1; i <= count; i++) {
			cp_webhook_event ev = { .type = t, .tenant = tenant,
				.message = i, .code = 250 };

			snprintf(name, sizeof(name), "r%ld@example.net", i);
			ev.rcpt = name;
			if (t == CP_WEBHOOK_BOUNCED) {
				ev.code = 550;
				ev.enhanced = "5.1.1";
				ev.cause = "recipient_unknown";
				ev.reason = "no such user";
				ev.reply = "550 5.1.1 no such user";
			} else if (t == CP_WEBHOOK_DEFERRED) {
				ev.code = 451;
				ev.next_attempt = time(NULL) + 600;
			} else if (t == CP_WEBHOOK_COMPLAINED) {
				ev.feedback = "abuse";
			} else if (t == CP_WEBHOOK_PROVIDER_CUT ||
			    t == CP_WEBHOOK_PROVIDER_RECOVERED) {
				ev.source_ip = "127.0.0.1";
				ev.provider = "google";
				ev.kind = t == CP_WEBHOOK_PROVIDER_CUT ? "cut" :
				    "resume";
				ev.rate_before = 600;
				ev.rate_after = 300;
			}
			if (cp_webhook_emit(wh, &ev) != CP_OK)
				return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
settled(cp_webhook *wh, cp_store *st, int deliver)
{
	cp_webhook_stats s;
	cp_queue_counts q;
	cp_err err;
	int64_t live = 0;

	cp_webhook_get_stats(wh, &s);
	if (s.queued > 0 || s.inflight > 0)
		return 0;
	if (cp_store_count_webhook_deliveries(st, 0, &live, NULL, &err) !=
	    CP_OK || live > 0)
		return 0;
	if (!deliver)
		return 1;
	if (cp_store_count_queue(st, 0, time(NULL), &q, &err) != CP_OK)
		return 0;
	return q.due == 0 && q.inflight == 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", 1, NULL, 'c' }, { "node", 1, NULL, 'N' },
		{ "emit", 1, NULL, 'e' }, { "tenant", 1, NULL, 't' },
		{ "count", 1, NULL, 'n' }, { "deliver", 0, NULL, 'd' },
		{ "until-empty", 0, NULL, 'u' }, { "timeout", 1, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *node = "wh-test", *emit = NULL;
	long count = 1, timeout = 60;
	int64_t tenant = 0;
	int deliver = 0, until_empty = 0, ch, rc = 1;
	cp_webhook_opts o = { 0 };
	cp_deliver_opts dopt = { 0 };
	cp_webhook_stats s;
	cp_webhook *wh = NULL;
	cp_deliver *d = NULL;
	cp_store *st;
	cp_conf conf;
	cp_err err = { 0 };
	time_t t0 = time(NULL);
	static const unsigned char secret[] = "test-verp-secret";

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'N': node = optarg; break;
		case 'e': emit = optarg; break;
		case 't': tenant = strtoll(optarg, NULL, 10); break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'd': deliver = 1; break;
		case 'u': until_empty = 1; break;
		case 'T': timeout = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (config == NULL || (emit != NULL && tenant <= 0)) {
		fprintf(stderr, "usage: cp-webhook-run --config FILE ...\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (cp_conf_load_file(&conf, config, NULL, &err) != CP_OK) {
		fprintf(stderr, "cp-webhook-run: %s\n", err.msg);
		return 1;
	}
	if ((st = cp_store_open(conf.server.store, &err)) == NULL) {
		fprintf(stderr, "cp-webhook-run: %s\n", err.msg);
		cp_conf_clear(&conf);
		return 1;
	}
	o.conf = &conf;
	o.store = st;
	o.node = node;
	if ((wh = cp_webhook_new(&o, &err)) == NULL ||
	    cp_webhook_start(wh, &err) != CP_OK) {
		fprintf(stderr, "cp-webhook-run: %s\n", err.msg);
		goto out;
	}
	if (deliver) {
		dopt.conf = &conf;
		dopt.store = st;
		dopt.node = node;
		dopt.observe = cp_webhook_observe;
		dopt.observe_arg = wh;
		dopt.verp_secret = secret;
		dopt.verp_secret_len = sizeof(secret) - 1;
		if ((d = cp_deliver_new(&dopt, &err)) == NULL ||
		    cp_deliver_start(d, &err) != CP_OK) {
			fprintf(stderr, "cp-webhook-run: %s\n", err.msg);
			goto out;
		}
	}
	if (emit != NULL && emit_all(wh, emit, tenant, count) != 0)
		goto out;
	fprintf(stderr, "cp-webhook-run: running\n");
	while (!stop_now && time(NULL) - t0 < timeout) {
		usleep(100000);
		if (until_empty && time(NULL) - t0 >= 1 &&
		    settled(wh, st, deliver)) {
			rc = 0;
			break;
		}
	}
	if (stop_now)
		rc = 0;
	else if (rc != 0)
		fprintf(stderr, "cp-webhook-run: not settled after %lds\n",
		    timeout);
	if (d != NULL)
		cp_deliver_stop(d, 5000);
	cp_webhook_stop(wh);
	cp_webhook_get_stats(wh, &s);
	printf("enqueued=%llu sent=%llu failed=%llu given_up=%llu "
	    "dropped=%llu\n", (unsigned long long)s.enqueued,
	    (unsigned long long)s.sent, (unsigned long long)s.failed,
	    (unsigned long long)s.given_up, (unsigned long long)s.dropped);
out:
	cp_deliver_free(d);
	cp_webhook_free(wh);
	cp_store_close(st);
	cp_conf_clear(&conf);
	return rc;
}
