/*
 * The store contract for inbound mail (store.h, "inbound mail"): raw
 * messages kept and listed (pending ones apart), marked processed; one
 * recipient read with its message's fields; late reports recorded on a
 * recipient (a delivered one bounced by a late DSN, every other state
 * kept, a complaint changing nothing but the record); the per-tenant
 * unsubscribe setting; bad input refused. Every test runs once per
 * backend, on a fresh store, through the public interface only.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/store.h"
#include "cptest.h"
#include "store_fixture.h"

/* A tenant "acme" and one message to n recipients; ids out. */
static int64_t
fixture(cp_store *st, size_t n, int64_t *rcpt_ids)
{
	static const char *const to[] = { "ann@gmail.test", "bob@gmail.test",
		"cy@outlook.test" };
	cp_tenant t = { 0 };
	cp_envelope env;
	cp_err err = { 0 };
	static const char body[] = "From: a@acme.test\r\n\r\nhi\r\n";

	t.name = "acme";
	CP_CHECK_INT(cp_store_add_tenant(st, &t, &err), CP_OK);
	memset(&env, 0, sizeof(env));
	env.tenant = t.id;
	env.mailbox = 7;
	env.mail_from = "a@acme.test";
	env.return_path = "a@acme.test";
	env.rcpts = to;
	env.nrcpts = n;
	env.received = 1000;
	env.message_id = "<m1@acme.test>";
	env.rcpt_ids = rcpt_ids;
	CP_CHECK_INT(cp_store_insert_message(st, &env, body, sizeof(body) - 1,
	    &err), CP_OK);
	return t.id;
}

/* Record an outcome as delivery would. */
static void
deliver(cp_store *st, int64_t rcpt, int outcome)
{
	cp_attempt a;
	cp_err err = { 0 };

	memset(&a, 0, sizeof(a));
	a.rcpt = rcpt;
	a.time = 1100;
	a.mx = "mx.gmail.test";
	a.source_ip = "192.0.2.1";
	a.reply = outcome == CP_RCPT_DELIVERED ? "250 ok" : "450 later";
	a.code = outcome == CP_RCPT_DELIVERED ? 250 : 450;
	a.enhanced = "";
	a.cause = "";
	a.reason = "";
	a.receiver = "";
	a.outcome = outcome;
	a.next_attempt = 5000;
	CP_CHECK_INT(cp_store_record_attempts(st, "n1", &a, 1, &err), CP_OK);
}

typedef struct seen {
	int n;
	int64_t ids[8];
	char kind[8][16];
	char rcpt_to[8][128];
	int64_t size[8];
} seen;

static int
seen_cb(void *arg, const cp_inbound *in)
{
	seen *s = arg;

	if (s->n < 8) {
		s->ids[s->n] = in->id;
		snprintf(s->kind[s->n], sizeof(s->kind[0]), "%s", in->kind);
		snprintf(s->rcpt_to[s->n], sizeof(s->rcpt_to[0]), "%s",
		    in->rcpt_to);
		s->size[s->n] = in->size;
	}
	s->n++;
	return 0;
}

static void
c_inbound_keep(cp_store *st, const char *dsn)
{
	static const char dsnmsg[] = "From: MAILER-DAEMON@mx.gmail.test\r\n"
	    "Subject: Undelivered\r\n\r\n\x01\xff binary ok\r\n";
	cp_inbound in;
	cp_buf body;
	seen s;
	cp_err err = { 0 };
	int64_t first;

	memset(&in, 0, sizeof(in));
	in.client = "192.0.2.9";
	in.helo = "mx.gmail.test";
	in.mail_from = "";
	in.rcpt_to = "b-1-abcdef01@bounce.test";
	CP_CHECK_INT(cp_store_insert_inbound(st, &in, dsnmsg,
	    sizeof(dsnmsg) - 1, &err), CP_OK);
	CP_CHECK(in.id > 0, "no id");
	CP_CHECK_INT(in.size, (int64_t)sizeof(dsnmsg) - 1);
	CP_CHECK(in.received > 0, "received not set to now");
	first = in.id;
	in.rcpt_to = "unsub+1-0011223344556677@bounce.test";
	CP_CHECK_INT(cp_store_insert_inbound(st, &in, "x", 1, &err), CP_OK);
	CP_CHECK(in.id > first, "ids grow: %lld", (long long)in.id);

	/* the raw bytes come back exactly */
	cp_buf_init(&body, 1 << 20);
	CP_CHECK_INT(cp_store_get_inbound_body(st, first, &body, &err), CP_OK);
	CP_CHECK(body.len == sizeof(dsnmsg) - 1 && memcmp(body.data, dsnmsg,
	    body.len) == 0, "body differs (%zu bytes)", body.len);
	cp_buf_free(&body);
	cp_buf_init(&body, 1 << 20);
	CP_CHECK_INT(cp_store_get_inbound_body(st, 999, &body, &err),
	    CP_ENOTFOUND);
	cp_buf_free(&body);

	/* both pending; one processed; then one pending */
	memset(&s, 0, sizeof(s));
	CP_CHECK_INT(cp_store_list_inbound(st, 0, 0, 1, seen_cb, &s, &err),
	    CP_OK);
	CP_CHECK_INT(s.n, 2);
	CP_CHECK_STR(s.kind[0], "");
	CP_CHECK_STR(s.rcpt_to[0], "b-1-abcdef01@bounce.test");
	CP_CHECK_INT(cp_store_finish_inbound(st, first, "bounce",
	    "rcpt=1 userunknown hard suppressed", 2000, &err), CP_OK);
	memset(&s, 0, sizeof(s));
	CP_CHECK_INT(cp_store_list_inbound(st, 0, 0, 1, seen_cb, &s, &err),
	    CP_OK);
	CP_CHECK_INT(s.n, 1);
	CP_CHECK(s.ids[0] == in.id, "the other one is pending");
	memset(&s, 0, sizeof(s));
	CP_CHECK_INT(cp_store_list_inbound(st, 0, 1, 0, seen_cb, &s, &err),
	    CP_OK);
	CP_CHECK_INT(s.n, 1); /* limit */
	CP_CHECK_STR(s.kind[0], "bounce");
	memset(&s, 0, sizeof(s));
	CP_CHECK_INT(cp_store_list_inbound(st, first, 0, 0, seen_cb, &s,
	    &err), CP_OK);
	CP_CHECK_INT(s.n, 1); /* after */

	/* bad input */
	CP_CHECK_INT(cp_store_finish_inbound(st, first, "weird", "", 0, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_store_finish_inbound(st, 12345, "none", "", 0, &err),
	    CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_insert_inbound(st, &in, "", 0, &err), CP_EINVAL);
	in.mail_from = "a\x01@b.test";
	CP_CHECK_INT(cp_store_insert_inbound(st, &in, "x", 1, &err),
	    CP_EINVAL);
	in.mail_from = NULL;
	CP_CHECK_INT(cp_store_insert_inbound(st, &in, "x", 1, &err),
	    CP_EINVAL);

	/* kept across a reopen */
	{
		cp_store *again = cp_store_open(dsn, &err);

		CP_CHECK(again != NULL, "reopen: %s", err.msg);
		if (again != NULL) {
			memset(&s, 0, sizeof(s));
			CP_CHECK_INT(cp_store_list_inbound(again, 0, 0, 0,
			    seen_cb, &s, &err), CP_OK);
			CP_CHECK_INT(s.n, 2);
			cp_store_close(again);
		}
	}
}

CP_TEST(store_inbound_keep)
{
	store_each_backend("c_inbound_keep", c_inbound_keep);
}

static void
c_get_recipient(cp_store *st, const char *dsn)
{
	int64_t ids[2], tenant;
	cp_due_list *l = NULL;
	cp_err err = { 0 };

	tenant = fixture(st, 2, ids);
	CP_CHECK_INT(cp_store_get_recipient(st, ids[1], &l, &err), CP_OK);
	CP_CHECK(l != NULL && l->n == 1, "one entry");
	if (l != NULL && l->n == 1) {
		CP_CHECK_STR(l->v[0].rcpt.address, "bob@gmail.test");
		CP_CHECK(l->v[0].tenant == tenant, "tenant");
		CP_CHECK_INT(l->v[0].mailbox, 7);
		CP_CHECK_STR(l->v[0].message_id, "<m1@acme.test>");
		CP_CHECK_INT(l->v[0].rcpt.state, CP_RCPT_QUEUED);
	}
	cp_due_list_free(l);
	l = NULL;
	CP_CHECK_INT(cp_store_get_recipient(st, 9999, &l, &err), CP_ENOTFOUND);
	CP_CHECK(l == NULL, "nothing returned");
	CP_CHECK_INT(cp_store_get_recipient(st, 0, &l, &err), CP_EINVAL);
}

CP_TEST(store_inbound_recipient)
{
	store_each_backend("c_get_recipient", c_get_recipient);
}

typedef struct attempts_seen {
	int n;
	int outcome[8];
	char reason[8][32];
	int64_t duration[8];
} attempts_seen;

static int
att_cb(void *arg, const cp_attempt *a)
{
	attempts_seen *s = arg;

	if (s->n < 8) {
		s->outcome[s->n] = a->outcome;
		snprintf(s->reason[s->n], sizeof(s->reason[0]), "%s", a->reason);
		s->duration[s->n] = a->duration_ms;
	}
	s->n++;
	return 0;
}

static cp_rcpt *
rcpt_now(cp_store *st, int64_t id, cp_due_list **keep)
{
	cp_err err = { 0 };

	*keep = NULL;
	if (cp_store_get_recipient(st, id, keep, &err) != CP_OK || *keep ==
	    NULL || (*keep)->n != 1)
		return NULL;
	return &(*keep)->v[0].rcpt;
}

static void
c_record_late(cp_store *st, const char *dsn)
{
	int64_t ids[3];
	cp_attempt a;
	cp_due_list *l;
	cp_rcpt *r;
	attempts_seen s;
	cp_queue_counts qc;
	cp_err err = { 0 };
	int changed = -1;

	fixture(st, 3, ids);
	deliver(st, ids[0], CP_RCPT_DELIVERED);
	deliver(st, ids[1], CP_RCPT_DEFERRED);
	deliver(st, ids[2], CP_RCPT_DELIVERED);

	/* a late hard bounce: delivered -> bounced, last answer replaced */
	memset(&a, 0, sizeof(a));
	a.rcpt = ids[0];
	a.time = 3000;
	a.mx = "mx.gmail.test";
	a.reply = "550 5.1.1 The email account that you tried to reach does "
	    "not exist";
	a.code = 550;
	a.enhanced = "5.1.1";
	a.cause = "bad_address";
	a.reason = "userunknown";
	a.receiver = "gmail";
	a.outcome = CP_RCPT_BOUNCED;
	CP_CHECK_INT(cp_store_record_late(st, &a, &changed, &err), CP_OK);
	CP_CHECK_INT(changed, 1);
	CP_CHECK(a.id > 0, "attempt id");
	r = rcpt_now(st, ids[0], &l);
	CP_CHECK(r != NULL, "read back");
	if (r != NULL) {
		CP_CHECK_INT(r->state, CP_RCPT_BOUNCED);
		CP_CHECK_STR(r->last_reason, "userunknown");
		CP_CHECK_STR(r->last_enhanced, "5.1.1");
		CP_CHECK_INT(r->last_code, 550);
		CP_CHECK_INT(r->attempts, 1); /* no delivery was tried */
		CP_CHECK(r->updated == 3000, "updated %lld",
		    (long long)r->updated);
	}
	cp_due_list_free(l);
	memset(&s, 0, sizeof(s));
	CP_CHECK_INT(cp_store_list_attempts(st, ids[0], 0, 0, 0, att_cb, &s,
	    &err), CP_OK);
	CP_CHECK_INT(s.n, 2);
	CP_CHECK_INT(s.outcome[0], CP_RCPT_BOUNCED); /* newest first */
	CP_CHECK_STR(s.reason[0], "userunknown");
	CP_CHECK(s.duration[0] == 0, "a report takes no time");

	/* the same bounce again: recorded, no change */
	CP_CHECK_INT(cp_store_record_late(st, &a, &changed, &err), CP_OK);
	CP_CHECK_INT(changed, 0);

	/* a deferred recipient stays delivery's */
	a.rcpt = ids[1];
	CP_CHECK_INT(cp_store_record_late(st, &a, &changed, &err), CP_OK);
	CP_CHECK_INT(changed, 0);
	r = rcpt_now(st, ids[1], &l);
	CP_CHECK(r != NULL && r->state == CP_RCPT_DEFERRED, "deferred kept");
	cp_due_list_free(l);

	/* a complaint: recorded, the state stays delivered */
	memset(&a, 0, sizeof(a));
	a.rcpt = ids[2];
	a.reply = "abuse";
	a.reason = "feedback";
	a.outcome = CP_RCPT_DELIVERED;
	CP_CHECK_INT(cp_store_record_late(st, &a, &changed, &err), CP_OK);
	CP_CHECK_INT(changed, 0);
	r = rcpt_now(st, ids[2], &l);
	CP_CHECK(r != NULL && r->state == CP_RCPT_DELIVERED, "delivered kept");
	cp_due_list_free(l);
	memset(&s, 0, sizeof(s));
	CP_CHECK_INT(cp_store_list_attempts(st, ids[2], 0, 0, 0, att_cb, &s,
	    &err), CP_OK);
	CP_CHECK_INT(s.n, 2);
	CP_CHECK_STR(s.reason[0], "feedback");

	/* the message's open count did not move: one deferred left */
	CP_CHECK_INT(cp_store_count_queue(st, 0, 1200, &qc, &err), CP_OK);
	CP_CHECK_INT(qc.state[CP_RCPT_BOUNCED], 1);
	CP_CHECK_INT(qc.state[CP_RCPT_DELIVERED], 1);
	CP_CHECK_INT(qc.state[CP_RCPT_DEFERRED], 1);

	/* refused: other outcomes, unknown recipients, bad fields */
	a.outcome = CP_RCPT_DEFERRED;
	CP_CHECK_INT(cp_store_record_late(st, &a, &changed, &err), CP_EINVAL);
	a.outcome = CP_RCPT_BOUNCED;
	a.rcpt = 424242;
	CP_CHECK_INT(cp_store_record_late(st, &a, &changed, &err),
	    CP_ENOTFOUND);
	a.rcpt = ids[2];
	a.enhanced = "9.9";
	CP_CHECK_INT(cp_store_record_late(st, &a, &changed, &err), CP_EINVAL);
	a.enhanced = "";
	a.reason = "has space";
	CP_CHECK_INT(cp_store_record_late(st, &a, &changed, &err), CP_EINVAL);
}

CP_TEST(store_inbound_record_late)
{
	store_each_backend("c_record_late", c_record_late);
}

static void
c_tenant_unsub(cp_store *st, const char *dsn)
{
	cp_tenant t = { 0 };
	cp_err err = { 0 };
	int on = -1;

	t.name = "beta";
	CP_CHECK_INT(cp_store_add_tenant(st, &t, &err), CP_OK);
	CP_CHECK_INT(cp_store_get_tenant_unsubscribe(st, t.id, &on, &err),
	    CP_OK);
	CP_CHECK_INT(on, 0); /* off by default */
	CP_CHECK_INT(cp_store_set_tenant_unsubscribe(st, t.id, 1, &err), CP_OK);
	CP_CHECK_INT(cp_store_get_tenant_unsubscribe(st, t.id, &on, &err),
	    CP_OK);
	CP_CHECK_INT(on, 1);
	CP_CHECK_INT(cp_store_set_tenant_unsubscribe(st, t.id, 0, &err), CP_OK);
	CP_CHECK_INT(cp_store_get_tenant_unsubscribe(st, t.id, &on, &err),
	    CP_OK);
	CP_CHECK_INT(on, 0);
	CP_CHECK_INT(cp_store_set_tenant_unsubscribe(st, 777, 1, &err),
	    CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_get_tenant_unsubscribe(st, 777, &on, &err),
	    CP_ENOTFOUND);
}

CP_TEST(store_inbound_tenant_unsubscribe)
{
	store_each_backend("c_tenant_unsub", c_tenant_unsub);
}
