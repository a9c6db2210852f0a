/*
 * cp_deliver_run.c - a test helper: run the delivery engine
 * (coldpost/deliver.h) alone on a store, without the submission server,
 * until the queue settles, then print its counters.
 *
 *   cp-deliver-run --config FILE [--dns-server HOST:PORT] [--node NAME]
 *       [--push N --tenant ID --from ADDR --rcpt ADDR... [--size BYTES]
 *        [--domains D] [--expires SECONDS]]
 *       [--policy-refuse DOMAIN] [--policy-defer DOMAIN]
 *       [--until-final] [--timeout SECONDS]
 *
 * Messages already in the store (cp-store-seed) are claimed like after a
 * restart; --push inserts N messages leased to the node and hands them
 * over in memory, as the server does. The run ends when nothing is due
 * or in flight (--until-final: when every recipient is final), or at the
 * timeout (exit 1). Prints "delivered=N deferred=N bounced=N expired=N
 * dsns=N connections=N pushed=N claimed=N seconds=S rate=R".
 *
 * Exit 0 settled, 1 timeout or failure, 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/log.h"
#include "coldpost/store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A test message of about size bytes. */
static char *
make_body(const char *from, const char *to, long i, size_t size,
    size_t *len)
{
	char *b = cp_malloc(size + 1024);
	int n;

	if (b == NULL)
		return NULL;
	n = snprintf(b, 1024, "From: <%s>\r\nTo: <%s>\r\nSubject: test %ld\r\n"
	    "Message-ID: <run%ld.%ld@test>\r\n\r\n", from, to, i, i,
	    (long)time(NULL));
	static const char line[] = "0123456789abcdefghijklmnopqrstuvwxyz"
	    "0123456789abcdefghijklmnopqrstuvwxyz..\r\n";

	while ((size_t)n + sizeof(line) < size) {
		memcpy(b + n, line, sizeof(line) - 1);
		n += (int)sizeof(line) - 1;
	}
	*len = (size_t)n;
	return b;
}

/* Insert count messages in batches (one sync each, like the server's
 * group commit) and hand each over; --domains spreads the first
 * recipient over dNN.bench.test. */
static int
push_messages(cp_deliver *d, cp_store *st, const char *node, long count,
    int64_t tenant, const char *from, const char **rcpts, size_t nrcpt,
    size_t size, int domains, long expires_s)
{
	enum { BATCH = 100 };
	cp_insert v[BATCH];
	int64_t ids[BATCH][64];
	char dom[BATCH][128];
	const char *rv[BATCH][64];
	char *bodies[BATCH];
	cp_err err;

	for (long base = 0; base < count; base += BATCH) {
		size_t n = (size_t)CP_MIN((long)BATCH, count - base);

		memset(v, 0, sizeof(v));
		for (size_t k = 0; k < n; k++) {
			long i = base + (long)k;

			memcpy(rv[k], rcpts, nrcpt * sizeof(*rcpts));
			if (domains > 0) {
				snprintf(dom[k], sizeof(dom[k]),
				    "u%ld@d%02ld.bench.test", i, i % domains);
				rv[k][0] = dom[k];
			}
			if ((bodies[k] = make_body(from, rv[k][0], i, size,
			    &v[k].len)) == NULL)
				return -1;
			v[k].body = bodies[k];
			v[k].env.tenant = tenant;
			v[k].env.mail_from = from;
			v[k].env.return_path = from;
			v[k].env.rcpts = rv[k];
			v[k].env.nrcpts = nrcpt;
			v[k].env.received = time(NULL);
			v[k].env.message_id = "";
			v[k].env.lease_node = node;
			v[k].env.lease_until = time(NULL) + CP_DELIVER_LEASE_S;
			v[k].env.rcpt_ids = ids[k];
			v[k].env.expires = expires_s > 0 ?
			    v[k].env.received + expires_s : 0;
		}
		if (cp_store_insert_many(st, v, n, &err) != CP_OK) {
			fprintf(stderr, "cp-deliver-run: insert: %s\n", err.msg);
			return -1;
		}
		for (size_t k = 0; k < n; k++) {
			cp_relay_msg *m = NULL;

			if (v[k].rc == CP_OK)
				m = cp_relay_msg_new(v[k].env.id, tenant, 0,
				    from, from, "", rv[k], ids[k], nrcpt,
				    bodies[k], v[k].len);
			if (m != NULL) {
				m->received = v[k].env.received;
				m->expires = v[k].env.expires > 0 ?
				    v[k].env.expires : m->received +
				    CP_STORE_EXPIRE_DEFAULT;
				while (!cp_deliver_has_room(d, m->len))
					usleep(1000);
				cp_deliver_push(d, m);
			}
			cp_free(bodies[k]);
		}
	}
	return 0;
}

/* A stand-in for the sending policy (issue 5): refuse or defer the
 * recipients of one domain each. */
static const char *policy_refuse, *policy_defer;

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a > b && s[a - b - 1] == '@' && strcmp(s + a - b, suffix) == 0;
}

static void
test_policy(void *arg, int64_t tenant, int64_t mailbox, int64_t rcpt_id,
    const char *rcpt, int null_sender, int64_t now, cp_policy_verdict *out)
{
	if (policy_refuse && ends_with(rcpt, policy_refuse)) {
		out->verdict = CP_POLICY_REFUSE;
		out->reason = "recipient is on the suppression list";
	} else if (policy_defer && ends_with(rcpt, policy_defer)) {
		out->verdict = CP_POLICY_DEFER;
		out->retry_at = now + 600;
		out->reason = "daily cap reached";
	}
}

static int
settled(cp_store *st, int until_final)
{
	cp_queue_counts q;
	cp_err err;

	if (cp_store_count_queue(st, 0, time(NULL), &q, &err) != CP_OK)
		return 0;
	if (until_final)
		return q.state[CP_RCPT_QUEUED] == 0 &&
		    q.state[CP_RCPT_DEFERRED] == 0;
	return q.due == 0 && q.inflight == 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", 1, NULL, 'c' }, { "dns-server", 1, NULL, 'D' },
		{ "node", 1, NULL, 'N' }, { "push", 1, NULL, 'p' },
		{ "tenant", 1, NULL, 't' }, { "from", 1, NULL, 'f' },
		{ "rcpt", 1, NULL, 'r' }, { "size", 1, NULL, 's' },
		{ "until-final", 0, NULL, 'F' }, { "timeout", 1, NULL, 'T' },
		{ "policy-refuse", 1, NULL, 'R' }, { "policy-defer", 1, NULL, 'P' },
		{ "domains", 1, NULL, 'd' }, { "expires", 1, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *dns = NULL, *node = "test-node";
	const char *from = "ann@acme.example", *rcpts[64];
	size_t nrcpt = 0, size = 2000;
	long push = 0, timeout = 30, expires_s = 0;
	int64_t tenant = 1;
	int until_final = 0, ch, rc = 1, domains = 0;
	cp_deliver_opts o = { 0 };
	cp_deliver_stats s;
	cp_deliver *d = NULL;
	cp_store *st;
	cp_conf conf;
	cp_err err;
	double t0;
	static const unsigned char secret[] = "test-verp-secret";

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'D': dns = optarg; break;
		case 'N': node = optarg; break;
		case 'p': push = strtol(optarg, NULL, 10); break;
		case 't': tenant = strtoll(optarg, NULL, 10); break;
		case 'f': from = optarg; break;
		case 'r':
			if (nrcpt < 64)
				rcpts[nrcpt++] = optarg;
			break;
		case 's': size = strtoul(optarg, NULL, 10); break;
		case 'F': until_final = 1; break;
		case 'T': timeout = strtol(optarg, NULL, 10); break;
		case 'R': policy_refuse = optarg; break;
		case 'P': policy_defer = optarg; break;
		case 'e': expires_s = strtol(optarg, NULL, 10); break;
		case 'd': domains = (int)strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (config == NULL || (push > 0 && nrcpt == 0)) {
		fprintf(stderr, "usage: cp-deliver-run --config FILE ...\n");
		return 2;
	}
	if (cp_conf_load_file(&conf, config, NULL, &err) != CP_OK) {
		fprintf(stderr, "cp-deliver-run: %s\n", err.msg);
		return 1;
	}
	if ((st = cp_store_open(conf.server.store, &err)) == NULL) {
		fprintf(stderr, "cp-deliver-run: %s\n", err.msg);
		cp_conf_clear(&conf);
		return 1;
	}
	o.conf = &conf;
	o.store = st;
	o.node = node;
	o.dns_servers = dns;
	o.verp_secret = secret;
	if (policy_refuse || policy_defer)
		o.policy = test_policy;
	o.verp_secret_len = sizeof(secret) - 1;
	t0 = now_s();
	if ((d = cp_deliver_new(&o, &err)) == NULL ||
	    cp_deliver_start(d, &err) != CP_OK) {
		fprintf(stderr, "cp-deliver-run: %s\n", err.msg);
		goto out;
	}
	if (push > 0 && push_messages(d, st, node, push, tenant, from, rcpts,
	    nrcpt, size, domains, expires_s) != 0)
		goto out;
	usleep(200000);
	while (now_s() - t0 < (double)timeout) {
		if (settled(st, until_final)) {
			rc = 0;
			break;
		}
		usleep(50000);
	}
	cp_deliver_stop(d, 5000);
	cp_deliver_get_stats(d, &s);
	printf("delivered=%llu deferred=%llu bounced=%llu expired=%llu "
	    "dsns=%llu connections=%llu pushed=%llu claimed=%llu "
	    "seconds=%.2f rate=%.0f\n",
	    (unsigned long long)s.delivered, (unsigned long long)s.deferred,
	    (unsigned long long)s.bounced, (unsigned long long)s.expired,
	    (unsigned long long)s.dsns, (unsigned long long)s.connections,
	    (unsigned long long)s.pushed, (unsigned long long)s.claimed,
	    now_s() - t0, (double)s.delivered / (now_s() - t0));
	if (rc != 0)
		fprintf(stderr, "cp-deliver-run: not settled after %lds\n",
		    timeout);
out:
	cp_deliver_free(d);
	cp_store_close(st);
	cp_conf_clear(&conf);
	return rc;
}
