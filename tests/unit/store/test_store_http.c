/*
 * The store contract for the HTTP API's calls (store.h, "HTTP API"): API
 * keys (add, find by hash, list by scope, remove, checks on input),
 * messages listed per tenant newest first with paging, attempt statistics
 * by outcome, cause and receiver over [from, to) per tenant, and the
 * messages and recipients accepted in a range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/store.h"
#include "cptest.h"

static cp_store *
fresh(char *dir, size_t dn)
{
	const char *tmp = getenv("TMPDIR");
	char dsn[400];

	snprintf(dir, dn, "%s/cp-shttp-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return NULL;
	snprintf(dsn, sizeof(dsn), "sqlite:%s/store.db", dir);
	return cp_store_open(dsn, NULL);
}

static void
gone(cp_store *st, const char *dir)
{
	char p[400];

	cp_store_close(st);
	snprintf(p, sizeof(p), "%s/store.db", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/store.db-wal", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/store.db-shm", dir);
	unlink(p);
	rmdir(dir);
}

static const char H1[] =
    "1111111111111111111111111111111111111111111111111111111111111111";
static const char H2[] =
    "2222222222222222222222222222222222222222222222222222222222222222";

static int
count_cb(void *arg, const cp_apikey *k)
{
	(*(int *)arg)++;
	return 0;
}

CP_TEST(store_http_apikeys)
{
	char dir[300];
	cp_store *st = fresh(dir, sizeof(dir));
	cp_apikey a = { .tenant = 0, .hash = H1, .prefix = "cpk_aaaa",
		.note = "ops" };
	cp_apikey b = { .tenant = 5, .hash = H2, .prefix = "cpk_bbbb",
		.rate = 3 };
	cp_apikey *k = NULL;
	cp_err err = { 0 };
	int n;

	CP_CHECK(st != NULL, "store");
	if (st == NULL)
		return;
	CP_CHECK_INT(cp_store_add_apikey(st, &a, &err), CP_OK);
	CP_CHECK(a.id > 0 && a.created > 0, "id and created set");
	CP_CHECK_INT(cp_store_add_apikey(st, &b, &err), CP_OK);
	CP_CHECK(cp_store_add_apikey(st, &b, &err) != CP_OK, "same hash");
	CP_CHECK_INT(cp_store_find_apikey(st, H2, &k, &err), CP_OK);
	CP_CHECK(k != NULL && k->tenant == 5 && k->rate == 3 &&
	    strcmp(k->prefix, "cpk_bbbb") == 0 && strcmp(k->note, "") == 0,
	    "found b");
	cp_apikey_free(k);
	k = NULL;
	CP_CHECK_INT(cp_store_find_apikey(st, "3333333333333333333333333333333"
	    "333333333333333333333333333333333", &k, &err), CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_find_apikey(st, "ABC", &k, &err), CP_EINVAL);
	CP_CHECK_INT(cp_store_find_apikey(st, "111111111111111111111111111111"
	    "111111111111111111111111111111111X", &k, &err), CP_EINVAL);
	{
		cp_apikey bad = { .hash = H1, .prefix = "p\n" };

		CP_CHECK_INT(cp_store_add_apikey(st, &bad, &err), CP_EINVAL);
		bad.prefix = "p";
		bad.rate = -1;
		CP_CHECK_INT(cp_store_add_apikey(st, &bad, &err), CP_EINVAL);
	}
	n = 0;
	CP_CHECK_INT(cp_store_list_apikeys(st, -1, count_cb, &n, &err), CP_OK);
	CP_CHECK_INT(n, 2);
	n = 0;
	CP_CHECK_INT(cp_store_list_apikeys(st, 0, count_cb, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1);
	n = 0;
	CP_CHECK_INT(cp_store_list_apikeys(st, 5, count_cb, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1);
	CP_CHECK_INT(cp_store_remove_apikey(st, b.id, &err), CP_OK);
	CP_CHECK_INT(cp_store_remove_apikey(st, b.id, &err), CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_find_apikey(st, H2, &k, &err), CP_ENOTFOUND);
	gone(st, dir);
}

struct msgs {
	int64_t ids[16];
	size_t n;
};

static int
env_cb(void *arg, const cp_envelope *e)
{
	struct msgs *m = arg;

	if (m->n < 16)
		m->ids[m->n++] = e->id;
	return 0;
}

struct stat_sum {
	int64_t delivered, bounced_gmail_block, deferred;
};

static int
stat_cb(void *arg, const cp_attempt_stat *s)
{
	struct stat_sum *x = arg;

	if (s->outcome == CP_RCPT_DELIVERED)
		x->delivered += s->n;
	if (s->outcome == CP_RCPT_BOUNCED && strcmp(s->cause, "blocklist") ==
	    0 && strcmp(s->receiver, "gmail") == 0)
		x->bounced_gmail_block += s->n;
	if (s->outcome == CP_RCPT_DEFERRED)
		x->deferred += s->n;
	return 0;
}

CP_TEST(store_http_messages_and_stats)
{
	char dir[300];
	cp_store *st = fresh(dir, sizeof(dir));
	int64_t ids[2][3], rids[4];
	struct msgs m = { 0 };
	struct stat_sum sum = { 0 };
	int64_t nm = 0, nr = 0;
	cp_err err = { 0 };

	CP_CHECK(st != NULL, "store");
	if (st == NULL)
		return;
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < 3; i++) {
			const char *rc[2] = { "a@gmail.example", "b@x.example" };
			cp_envelope e = { .tenant = t + 1, .mailbox = 1,
				.mail_from = "s@a.example", .message_id = "<m@a>", .return_path =
				"s@a.example", .rcpts = rc, .nrcpts = 2,
				.received = 1000 + 10 * i, .rcpt_ids = rids };

			CP_CHECK(cp_store_insert_message(st, &e, "x\r\n", 3,
			    &err) == CP_OK, "insert: %s", err.msg);
			ids[t][i] = e.id;
			if (t == 0 && i == 0) {
				cp_attempt at[3] = {
				    { .rcpt = rids[0], .time = 1500, .mx = "",
				      .source_ip = "", .reply = "550 listed",
				      .code = 550, .enhanced = "5.7.1",
				      .cause = "blocklist", .reason = "blocked",
				      .receiver = "gmail",
				      .outcome = CP_RCPT_BOUNCED },
				    { .rcpt = rids[1], .time = 1500, .mx = "",
				      .source_ip = "", .reply = "451 later",
				      .code = 451, .enhanced = "", .cause =
				      "temporary", .reason = "", .receiver = "",
				      .outcome = CP_RCPT_DEFERRED,
				      .next_attempt = 1600 },
				    { .rcpt = rids[1], .time = 1700, .mx = "",
				      .source_ip = "", .reply = "250 ok",
				      .code = 250, .enhanced = "", .cause = "",
				      .reason = "", .receiver = "",
				      .outcome = CP_RCPT_DELIVERED } };

				CP_CHECK_INT(cp_store_record_attempts(st, "n", at,
				    3, &err), CP_OK);
			}
		}
	cp_message_filter mf = { .tenant = 1, .limit = 2, .state = -1 };
	char idtext[24];

	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err), CP_OK);
	CP_CHECK_INT(m.n, 2);
	CP_CHECK_INT(m.ids[0], ids[0][2]);
	CP_CHECK_INT(m.ids[1], ids[0][1]);
	m.n = 0;
	mf.before = ids[0][1];
	mf.limit = 0;
	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err), CP_OK);
	CP_CHECK_INT(m.n, 1);
	CP_CHECK_INT(m.ids[0], ids[0][0]);
	m.n = 0;
	mf = (cp_message_filter){ .state = -1 };
	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err), CP_OK);
	CP_CHECK_INT(m.n, 6);
	/* filters: a recipient state, text in a recipient's last reply
	   (any case), a recipient address, the id; '%' is a character */
	m.n = 0;
	mf = (cp_message_filter){ .tenant = 1, .state = CP_RCPT_BOUNCED };
	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err), CP_OK);
	CP_CHECK_INT(m.n, 1);
	CP_CHECK_INT(m.ids[0], ids[0][0]);
	m.n = 0;
	mf = (cp_message_filter){ .state = -1, .q = "LISTED" };
	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err), CP_OK);
	CP_CHECK_INT(m.n, 1);
	CP_CHECK_INT(m.ids[0], ids[0][0]);
	m.n = 0;
	mf = (cp_message_filter){ .tenant = 2, .state = -1,
		.q = "A@Gmail.Example" };
	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err), CP_OK);
	CP_CHECK_INT(m.n, 3);
	CP_CHECK_INT(m.ids[0], ids[1][2]);
	m.n = 0;
	snprintf(idtext, sizeof(idtext), "%lld", (long long)ids[1][1]);
	mf = (cp_message_filter){ .state = -1, .q = idtext };
	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err), CP_OK);
	CP_CHECK(m.n >= 1 && m.ids[0] == ids[1][1], "by id");
	m.n = 0;
	mf = (cp_message_filter){ .state = -1, .q = "%" };
	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err), CP_OK);
	CP_CHECK_INT(m.n, 0);
	mf = (cp_message_filter){ .state = 99 };
	CP_CHECK_INT(cp_store_list_messages(st, &mf, env_cb, &m, &err),
	    CP_EINVAL);

	CP_CHECK_INT(cp_store_stat_attempts(st, 1, 0, 2000, stat_cb, &sum,
	    &err), CP_OK);
	CP_CHECK_INT(sum.delivered, 1);
	CP_CHECK_INT(sum.bounced_gmail_block, 1);
	CP_CHECK_INT(sum.deferred, 1);
	memset(&sum, 0, sizeof(sum));
	CP_CHECK_INT(cp_store_stat_attempts(st, 1, 1600, 2000, stat_cb, &sum,
	    &err), CP_OK);
	CP_CHECK_INT(sum.delivered + sum.deferred + sum.bounced_gmail_block, 1);
	memset(&sum, 0, sizeof(sum));
	CP_CHECK_INT(cp_store_stat_attempts(st, 2, 0, 2000, stat_cb, &sum,
	    &err), CP_OK);
	CP_CHECK_INT(sum.delivered + sum.deferred + sum.bounced_gmail_block, 0);
	CP_CHECK_INT(cp_store_stat_attempts(st, 1, 10, 5, stat_cb, &sum, &err),
	    CP_EINVAL);

	CP_CHECK_INT(cp_store_count_accepted(st, 1, 1000, 1011, &nm, &nr, &err),
	    CP_OK);
	CP_CHECK_INT(nm, 2);
	CP_CHECK_INT(nr, 4);
	CP_CHECK_INT(cp_store_count_accepted(st, 0, 0, 5000, &nm, &nr, &err),
	    CP_OK);
	CP_CHECK_INT(nm, 6);
	gone(st, dir);
}
