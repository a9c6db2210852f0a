/*
 * cmd_queue.c - `coldpost queue` and `coldpost status`: the queue seen and
 * handled by an operator.
 *
 *   coldpost queue list [--state S] [--limit N] [--tenant T] | show MSGID
 *                   | retry|hold|release|delete ID [--rcpt]
 *   coldpost status [--since DURATION]
 *
 * The queue has one row per recipient; ID is a message id (all of its
 * recipients) or, with --rcpt, a recipient id. status counts the queue by
 * state and the recent delivery attempts by cause and outcome
 * (cp_store_count_queue, cp_store_count_attempts). Reading only streams
 * (cp_store_list_queue); --limit bounds what is printed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/conf.h"
#include "coldpost/policy.h"
#include "coldpost/store.h"
#include "model.h"
#include "tools.h"

/* ---- queue ------------------------------------------------------------ */

static void
queue_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost queue list [--state S] [--limit N] [--tenant T]\n"
	    "       coldpost queue show MSGID [--body]\n"
	    "       coldpost queue retry|hold|release|delete ID [--rcpt]\n\n"
	    "The queue, one row per recipient. ID is a message id (all of its "
	    "recipients),\nor with --rcpt a recipient id (the RCPT column "
	    "of list).\n"
	    "  retry    queued/deferred recipients become due now\n"
	    "  hold     queued/deferred recipients are kept out of delivery\n"
	    "  release  held recipients go back to the queue, due now\n"
	    "  delete   waiting recipients are cancelled (final)\n\n"
	    "  --state S        queued, deferred, held, delivered, bounced, "
	    "expired,\n"
	    "                   cancelled\n"
	    "  --limit N        at most N rows (default 100; 0: all)\n"
	    "  --tenant T       only this tenant's messages\n"
	    "  --rcpt           ID is a recipient id\n"
	    "  --body           show: print the stored message itself (as "
	    "signed)\n"
	    "  --config FILE    read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN      the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json           machine output\n\n"
	    "exit: 0 done, 1 not found, 2 usage, 3 system error\n");
}

static json_t *
rcpt_json(const cp_rcpt *r)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_integer(r->id));
	json_object_set_new(j, "message", json_integer(r->message));
	json_object_set_new(j, "address", out_jstr(r->address));
	json_object_set_new(j, "state",
	    json_string(cp_rcpt_state_name(r->state)));
	json_object_set_new(j, "attempts", json_integer(r->attempts));
	json_object_set_new(j, "next_attempt", json_integer(r->next_attempt));
	json_object_set_new(j, "expires", json_integer(r->expires));
	json_object_set_new(j, "updated", json_integer(r->updated));
	json_object_set_new(j, "owner", out_jstr(r->owner));
	json_object_set_new(j, "last_code", json_integer(r->last_code));
	json_object_set_new(j, "last_enhanced", out_jstr(r->last_enhanced));
	json_object_set_new(j, "last_cause", out_jstr(r->last_cause));
	json_object_set_new(j, "last_reason", out_jstr(r->last_reason));
	json_object_set_new(j, "last_receiver", out_jstr(r->last_receiver));
	json_object_set_new(j, "last_reply", out_jstr(r->last_reply));
	return j;
}

typedef struct qctx {
	tbl *t;
	json_t *a;
	size_t n;
} qctx;

static int
queue_cb(void *arg, const cp_rcpt *r)
{
	qctx *c = arg;

	c->n++;
	if (c->a != NULL) {
		json_array_append_new(c->a, rcpt_json(r));
	} else {
		char b[32];

		tbl_addf(c->t, "%" PRId64, r->id);
		tbl_addf(c->t, "%" PRId64, r->message);
		tbl_add(c->t, cp_rcpt_state_name(r->state));
		tbl_addf(c->t, "%d", r->attempts);
		tbl_add(c->t, cp_rcpt_state_final(r->state) ? "-" :
		    model_fmt_time(r->next_attempt, b));
		tbl_add(c->t, r->address);
		if (r->last_code)
			tbl_addf(c->t, "%d %s%s%s", r->last_code,
			    r->last_enhanced ? r->last_enhanced : "",
			    r->last_cause && r->last_cause[0] ? " " : "",
			    r->last_cause ? r->last_cause : "");
		else
			tbl_add(c->t, "-");
	}
	return 0;
}

static void
queue_header(tbl *t)
{
	tbl_init(t, 7);
	tbl_add(t, "RCPT"); tbl_add(t, "MSG"); tbl_add(t, "STATE");
	tbl_add(t, "TRIES"); tbl_add(t, "NEXT"); tbl_add(t, "RECIPIENT");
	tbl_add(t, "LAST");
}

static int
queue_list(mopts *o, cp_store *st)
{
	cp_queue_filter f = { 0 };
	qctx c = { 0 };
	tbl t;
	cp_err err;
	int rc;

	f.state = -1;
	if (o->state != NULL &&
	    (f.state = cp_rcpt_state_from_name(o->state)) < 0)
		return model_failf(o, CP_EXIT_USAGE, "--state '%s': queued, "
		    "deferred, held, delivered, bounced, expired or "
		    "cancelled", o->state);
	if (o->tenant != NULL) {
		cp_tenant *ten;

		if ((rc = model_get_tenant(o, st, o->tenant, &ten)) != CP_EXIT_OK)
			return rc;
		f.tenant = ten->id;
		cp_tenant_free(ten);
	}
	f.limit = o->limit < 0 ? 100 : (size_t)o->limit;
	queue_header(&t);
	c.t = &t;
	if (o->json)
		c.a = json_array();
	rc = cp_store_list_queue(st, &f, queue_cb, &c, &err);
	rc = model_list_end(o, rc, &err, c.a, &t, "the queue is empty");
	if (rc != CP_EXIT_OK)
		return rc;
	if (f.limit > 0 && c.n == f.limit)
		fprintf(stderr, "(first %zu recipients; --limit N shows more, "
		    "--limit 0 all)\n", c.n);
	return CP_EXIT_OK;
}

static int
parse_id(const mopts *o, const char *s, int64_t *id)
{
	if (model_parse_count(s, 1, INT64_MAX, id) != 0)
		return model_failf(o, CP_EXIT_USAGE, "'%s': want a numeric id", s);
	return CP_EXIT_OK;
}

typedef struct actx {
	tbl *t;
	json_t *a;
} actx;

static const char *
outcome_name(int outcome)
{
	return cp_rcpt_state_name(outcome);
}

static int
attempt_cb(void *arg, const cp_attempt *at)
{
	actx *c = arg;

	if (c->a != NULL) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer(at->id));
		json_object_set_new(j, "rcpt", json_integer(at->rcpt));
		json_object_set_new(j, "time", json_integer(at->time));
		json_object_set_new(j, "mx", out_jstr(at->mx));
		json_object_set_new(j, "source_ip", out_jstr(at->source_ip));
		json_object_set_new(j, "code", json_integer(at->code));
		json_object_set_new(j, "enhanced", out_jstr(at->enhanced));
		json_object_set_new(j, "cause", out_jstr(at->cause));
		json_object_set_new(j, "reason", out_jstr(at->reason));
		json_object_set_new(j, "receiver", out_jstr(at->receiver));
		json_object_set_new(j, "reply", out_jstr(at->reply));
		json_object_set_new(j, "duration_ms",
		    json_integer(at->duration_ms));
		json_object_set_new(j, "outcome",
		    json_string(outcome_name(at->outcome)));
		json_array_append_new(c->a, j);
	} else {
		char b[32];
		size_t l = strcspn(at->reply ? at->reply : "", "\r\n");

		tbl_add(c->t, model_fmt_time(at->time, b));
		tbl_addf(c->t, "%" PRId64, at->rcpt);
		tbl_add(c->t, outcome_name(at->outcome));
		tbl_add(c->t, at->mx && at->mx[0] ? at->mx : "-");
		tbl_add(c->t, at->cause && at->cause[0] ? at->cause : "-");
		tbl_addf(c->t, "%.*s", (int)CP_MIN(l, 60),
		    at->reply ? at->reply : "");
	}
	return 0;
}

/* The stored bytes, as delivery sends them, to stdout. */
static int
queue_body(mopts *o, cp_store *st, int64_t id)
{
	cp_buf b;
	cp_err err;
	int rc;

	cp_buf_init(&b, CP_STORE_BODY_MAX);
	if ((rc = cp_store_get_body(st, id, &b, &err)) != CP_OK) {
		cp_buf_free(&b);
		if (rc == CP_ENOTFOUND)
			return model_failf(o, CP_EXIT_FAIL, "message %" PRId64
			    " has no body (unknown or purged)", id);
		return model_fail(o, rc, &err);
	}
	rc = fwrite(b.data, 1, b.len, stdout) == b.len ? CP_EXIT_OK :
	    CP_EXIT_SYS;
	cp_buf_free(&b);
	return rc;
}

static int
queue_show(mopts *o, cp_store *st)
{
	cp_envelope *e;
	cp_queue_filter f = { 0 };
	cp_tenant *t = NULL;
	qctx c = { 0 };
	actx ac = { 0 };
	tbl tr, ta;
	int64_t id;
	char b[32];
	cp_err err;
	int rc;

	if ((rc = parse_id(o, o->pos[0], &id)) != CP_EXIT_OK)
		return rc;
	if (o->body)
		return queue_body(o, st, id);
	if ((rc = cp_store_get_message(st, id, &e, &err)) != CP_OK) {
		if (rc == CP_ENOTFOUND)
			return model_failf(o, CP_EXIT_FAIL, "no message %" PRId64,
			    id);
		return model_fail(o, rc, &err);
	}
	(void)cp_store_get_tenant_by_id(st, e->tenant, &t, NULL);
	f.message = id;
	f.state = -1;
	queue_header(&tr);
	tbl_init(&ta, 6);
	tbl_add(&ta, "TIME"); tbl_add(&ta, "RCPT"); tbl_add(&ta, "OUTCOME");
	tbl_add(&ta, "MX"); tbl_add(&ta, "CAUSE"); tbl_add(&ta, "REPLY");
	c.t = &tr;
	ac.t = &ta;
	if (o->json) {
		c.a = json_array();
		ac.a = json_array();
	}
	rc = cp_store_list_queue(st, &f, queue_cb, &c, &err);
	if (rc == CP_OK)
		rc = cp_store_list_attempts(st, 0, id, 0, 100, attempt_cb,
		    &ac, &err);
	if (rc != CP_OK) {
		json_decref(c.a);
		json_decref(ac.a);
	} else if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer(e->id));
		json_object_set_new(j, "tenant", out_jstr(t ? t->name : NULL));
		json_object_set_new(j, "mailbox", json_integer(e->mailbox));
		json_object_set_new(j, "mail_from", out_jstr(e->mail_from));
		json_object_set_new(j, "return_path",
		    out_jstr(e->return_path));
		json_object_set_new(j, "message_id", out_jstr(e->message_id));
		json_object_set_new(j, "size", json_integer(e->size));
		json_object_set_new(j, "received", json_integer(e->received));
		json_object_set_new(j, "expires", json_integer(e->expires));
		json_object_set_new(j, "open", json_integer(e->nopen));
		json_object_set_new(j, "finished", json_integer(e->finished));
		json_object_set_new(j, "body_purged",
		    json_boolean(e->body_purged));
		json_object_set_new(j, "recipients", c.a);
		json_object_set_new(j, "attempts", ac.a);
		model_json_done(j);
	} else {
		char num[64];

		snprintf(num, sizeof(num), "%" PRId64, e->id);
		model_field("message", num);
		model_field("tenant", t ? t->name : "?");
		model_field("mail from", e->mail_from[0] ? e->mail_from : "<>");
		model_field("return path", e->return_path);
		model_field("message-id", e->message_id[0] ? e->message_id : "-");
		snprintf(num, sizeof(num), "%" PRId64 " bytes%s", e->size,
		    e->body_purged ? " (body purged)" : "");
		model_field("size", num);
		model_field("received", model_fmt_time(e->received, b));
		model_field("expires", model_fmt_time(e->expires, b));
		snprintf(num, sizeof(num), "%" PRId64, e->nopen);
		model_field("open rcpts", num);
		if (e->finished)
			model_field("finished", model_fmt_time(e->finished, b));
		printf("\nrecipients:\n");
		tbl_print(&tr, "  none");
		printf("\nattempts (newest first):\n");
		tbl_print(&ta, "  none yet");
	}
	tbl_free(&tr);
	tbl_free(&ta);
	cp_envelope_free(e);
	cp_tenant_free(t);
	return rc == CP_OK ? CP_EXIT_OK : model_fail(o, rc, &err);
}

typedef int (*queue_op)(cp_store *, const cp_target *, int64_t, size_t *,
    cp_err *);

static int
queue_act(mopts *o, cp_store *st, queue_op op, const char *done)
{
	cp_target tg = { 0 };
	size_t n = 0;
	int64_t id;
	cp_err err;
	int rc;

	if ((rc = parse_id(o, o->pos[0], &id)) != CP_EXIT_OK)
		return rc;
	if (o->rcpt)
		tg.rcpt = id;
	else
		tg.message = id;
	if ((rc = op(st, &tg, model_now(), &n, &err)) != CP_OK) {
		if (rc == CP_ENOTFOUND)
			return model_failf(o, CP_EXIT_FAIL, "no %s %" PRId64 "%s",
			    o->rcpt ? "recipient" : "message", id,
			    o->rcpt ? "" : " (a recipient id needs --rcpt)");
		return model_fail(o, rc, &err);
	}
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, o->rcpt ? "rcpt" : "message",
		    json_integer(id));
		json_object_set_new(j, "action", json_string(o->sub));
		json_object_set_new(j, "changed", json_integer((json_int_t)n));
		model_json_done(j);
	} else {
		printf("%s %" PRId64 ": %zu recipient%s %s\n",
		    o->rcpt ? "recipient" : "message", id, n,
		    n == 1 ? "" : "s", done);
	}
	return CP_EXIT_OK;
}

static int
queue_retry(mopts *o, cp_store *st)
{
	return queue_act(o, st, cp_store_retry_now, "due now");
}

static int
queue_hold(mopts *o, cp_store *st)
{
	return queue_act(o, st, cp_store_hold, "held");
}

static int
queue_release(mopts *o, cp_store *st)
{
	return queue_act(o, st, cp_store_release, "released");
}

static int
queue_delete(mopts *o, cp_store *st)
{
	return queue_act(o, st, cp_store_cancel, "cancelled");
}

int
cmd_queue(int argc, char **argv)
{
	static const msub subs[] = {
		{ "list", OBIT(O_STATE) | OBIT(O_LIMIT) | OBIT(O_TENANT), 0, 0,
		    queue_list },
		{ "show", OBIT(O_BODY), 1, 1, queue_show },
		{ "retry", OBIT(O_RCPT), 1, 1, queue_retry },
		{ "hold", OBIT(O_RCPT), 1, 1, queue_hold },
		{ "release", OBIT(O_RCPT), 1, 1, queue_release },
		{ "delete", OBIT(O_RCPT), 1, 1, queue_delete },
	};

	return model_run(argc, argv, "queue", subs, CP_NELEM(subs),
	    queue_usage);
}

/* ---- status ----------------------------------------------------------- */

static void
status_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost status [--since DURATION] [--json]\n\n"
	    "The queue by state (recipients), and the delivery attempts of "
	    "the last\nDURATION (default 24h) by cause and outcome.\n\n"
	    "  --since DURATION  how far back attempts count (30m, 24h, 7d)\n"
	    "  --config FILE     read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN       the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json            machine output\n\n"
	    "exit: 0 done, 2 usage, 3 system error\n");
}

#define STATUS_CAUSES 64

typedef struct sctx {
	size_t n;
	char *cause[STATUS_CAUSES];
	int64_t by[STATUS_CAUSES][CP_RCPT_NSTATES];
	int64_t other;
} sctx;

static int
status_cb(void *arg, const char *cause, int outcome, int64_t n)
{
	sctx *c = arg;
	size_t i;

	if (outcome < 0 || outcome >= CP_RCPT_NSTATES)
		return 0;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->cause[i], cause) == 0)
			break;
	if (i == c->n) {
		if (c->n == STATUS_CAUSES) {
			c->other += n;
			return 0;
		}
		c->cause[c->n++] = cp_strdup(cause);
	}
	c->by[i][outcome] += n;
	return 0;
}

/* ---- status: the sending policy's side -------------------------------- */

#define STATUS_ROWS 50

/* Mailboxes by id and address (the list callback may not call the
 * store, so usage is asked afterwards). */
typedef struct smbox {
	size_t n;
	int64_t id[STATUS_ROWS * 20], tenant[STATUS_ROWS * 20];
	char addr[STATUS_ROWS * 20][CP_STORE_ADDR_MAX + 1];
} smbox;

static int
smbox_cb(void *arg, const cp_mailbox *m)
{
	smbox *b = arg;

	if (b->n == CP_NELEM(b->id))
		return 1;
	b->id[b->n] = m->id;
	b->tenant[b->n] = m->tenant;
	snprintf(b->addr[b->n++], sizeof(b->addr[0]), "%s", m->address);
	return 0;
}

/* Today's cap use of the mailboxes that sent today, are at their cap or
 * are ramping, under --config (the defaults with --store alone). */
static void
status_mailboxes(const mopts *o, cp_store *st, json_t *j)
{
	smbox *b = cp_calloc(1, sizeof(*b));
	cp_conf conf;
	cp_policy_opts po = { .conf = &conf, .store = st };
	cp_policy *p = NULL;
	json_t *a = j ? json_array() : NULL;
	size_t shown = 0, at_cap = 0;
	tbl t;

	if (b == NULL)
		return;
	if ((o->config != NULL ? cp_conf_load_file(&conf, o->config, NULL,
	    NULL) : cp_conf_init(&conf, NULL)) != CP_OK) {
		cp_free(b);
		return;
	}
	if (cp_store_list_mailboxes(st, 0, smbox_cb, b, NULL) == CP_OK)
		p = cp_policy_new(&po, NULL);
	tbl_init(&t, 4);
	tbl_add(&t, "  MAILBOX"); tbl_add(&t, "TODAY"); tbl_add(&t, "CAP");
	tbl_add(&t, "STAGE");
	for (size_t i = 0; p != NULL && i < b->n; i++) {
		cp_policy_usage u;

		if (cp_policy_get_usage(p, b->tenant[i], b->id[i], 0, &u,
		    NULL) != CP_OK || (u.used == 0 && !u.ramping))
			continue;
		at_cap += u.cap > 0 && u.used >= u.cap;
		if (shown++ >= STATUS_ROWS)
			continue;
		if (a != NULL) {
			json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:b,"
			    "s:I}", "address", b->addr[i], "used_today",
			    (json_int_t)u.used, "cap_today", (json_int_t)u.cap,
			    "ramping", u.ramping, "age_days",
			    (json_int_t)u.age_days));
			continue;
		}
		tbl_addf(&t, "  %s", b->addr[i]);
		tbl_addf(&t, "%" PRId64, u.used);
		tbl_addf(&t, u.cap ? "%" PRId64 : "none", u.cap);
		tbl_addf(&t, "day %" PRId64 "%s", u.age_days + 1, u.ramping ?
		    ", ramping" : "");
	}
	if (a != NULL) {
		json_object_set_new(j, "mailboxes_today", a);
		json_object_set_new(j, "mailboxes_at_cap",
		    json_integer((json_int_t)at_cap));
		tbl_free(&t);
	} else {
		printf("\nmailboxes today (sent, at their cap or ramping; %zu "
		    "at their cap):\n", at_cap);
		tbl_print(&t, "  none");
		if (shown > STATUS_ROWS)
			printf("  (%zu more: coldpost mailbox show ADDRESS)\n",
			    shown - STATUS_ROWS);
	}
	cp_policy_free(p);
	cp_conf_clear(&conf);
	cp_free(b);
}

typedef struct sevents {
	tbl *t;
	json_t *a;
} sevents;

static int
sevent_cb(void *arg, const cp_provider_event *e)
{
	sevents *s = arg;
	char b[32];
	size_t l = strcspn(e->evidence ? e->evidence : "", "\n");

	if (s->a != NULL) {
		json_array_append_new(s->a, json_pack("{s:I,s:s,s:s,s:s,s:I,"
		    "s:I,s:I,s:s}", "time", (json_int_t)e->time, "kind",
		    e->kind, "provider", e->provider, "source_ip",
		    e->source_ip, "rate_before", (json_int_t)e->rate_before,
		    "rate_after", (json_int_t)e->rate_after, "until",
		    (json_int_t)e->until, "evidence",
		    e->evidence ? e->evidence : ""));
		return 0;
	}
	tbl_addf(s->t, "  %s", model_fmt_time(e->time, b));
	tbl_add(s->t, e->kind);
	tbl_addf(s->t, "%s from %s", e->provider, e->source_ip);
	tbl_addf(s->t, "%" PRId64 " -> %" PRId64 "/h", e->rate_before,
	    e->rate_after);
	tbl_addf(s->t, "%.*s", (int)(l > 70 ? 70 : l),
	    e->evidence ? e->evidence : "");
	return 0;
}

/* The sending policy's decisions (cuts, pauses, slow-downs) in the
 * window, with their evidence. */
static void
status_events(cp_store *st, int64_t since, json_t *j)
{
	tbl t;
	sevents s = { &t, j ? json_array() : NULL };

	tbl_init(&t, 5);
	tbl_add(&t, "  TIME"); tbl_add(&t, "DECISION"); tbl_add(&t, "WHERE");
	tbl_add(&t, "RATE"); tbl_add(&t, "EVIDENCE");
	if (cp_store_list_provider_events(st, since, STATUS_ROWS, sevent_cb,
	    &s, NULL) != CP_OK) {
		json_decref(s.a);
		tbl_free(&t);
		return;
	}
	if (j != NULL) {
		json_object_set_new(j, "provider_events", s.a);
		tbl_free(&t);
		return;
	}
	printf("\nsending policy decisions (coldpost policy show has "
	    "more):\n");
	tbl_print(&t, "  none");
}

static int
status_run(mopts *o, cp_store *st)
{
	static const int outs[] = { CP_RCPT_DELIVERED, CP_RCPT_DEFERRED,
		CP_RCPT_BOUNCED, CP_RCPT_EXPIRED };
	cp_queue_counts q;
	sctx *c = cp_calloc(1, sizeof(*c));
	int64_t now = model_now(), span = o->since_ms > 0 ? o->since_ms / 1000 :
	    86400;
	cp_err err;
	int rc;

	if ((rc = cp_store_count_queue(st, 0, now, &q, &err)) == CP_OK)
		rc = cp_store_count_attempts(st, now - span, status_cb, c,
		    &err);
	if (rc != CP_OK) {
		for (size_t i = 0; i < c->n; i++)
			cp_free(c->cause[i]);
		cp_free(c);
		return model_fail(o, rc, &err);
	}
	if (o->json) {
		json_t *j = json_object(), *qs = json_object(),
		    *a = json_array();

		for (int s = 0; s < CP_RCPT_NSTATES; s++)
			json_object_set_new(qs, cp_rcpt_state_name(s),
			    json_integer(q.state[s]));
		json_object_set_new(qs, "inflight", json_integer(q.inflight));
		json_object_set_new(qs, "due", json_integer(q.due));
		json_object_set_new(j, "queue", qs);
		json_object_set_new(j, "since", json_integer(now - span));
		for (size_t i = 0; i < c->n; i++) {
			json_t *r = json_object();

			json_object_set_new(r, "cause", out_jstr(c->cause[i]));
			for (size_t k = 0; k < CP_NELEM(outs); k++)
				json_object_set_new(r,
				    cp_rcpt_state_name(outs[k]),
				    json_integer(c->by[i][outs[k]]));
			json_array_append_new(a, r);
		}
		json_object_set_new(j, "attempts", a);
		status_mailboxes(o, st, j);
		status_events(st, now - span, j);
		model_json_done(j);
	} else {
		tbl t;
		int64_t tot[CP_RCPT_NSTATES] = { 0 }, all = 0;

		printf("queue (recipients):\n");
		tbl_init(&t, 2);
		for (int s = 0; s < CP_RCPT_NSTATES; s++) {
			tbl_addf(&t, "  %s", cp_rcpt_state_name(s));
			tbl_addf(&t, "%" PRId64, q.state[s]);
		}
		tbl_add(&t, "  in flight");
		tbl_addf(&t, "%" PRId64, q.inflight);
		tbl_add(&t, "  due now");
		tbl_addf(&t, "%" PRId64, q.due);
		tbl_print(&t, NULL);
		printf("\nattempts in the last %" PRId64 "h%s by cause:\n",
		    span / 3600, span % 3600 ? "+" : "");
		tbl_init(&t, 6);
		tbl_add(&t, "  CAUSE");
		for (size_t k = 0; k < CP_NELEM(outs); k++)
			tbl_add(&t, outs[k] == CP_RCPT_DEFERRED ? "DEFERRED" :
			    outs[k] == CP_RCPT_DELIVERED ? "DELIVERED" :
			    outs[k] == CP_RCPT_BOUNCED ? "BOUNCED" :
			    "EXPIRED");
		tbl_add(&t, "TOTAL");
		for (size_t i = 0; i < c->n; i++) {
			int64_t sum = 0;

			tbl_addf(&t, "  %s", c->cause[i][0] ? c->cause[i] :
			    "(none)");
			for (size_t k = 0; k < CP_NELEM(outs); k++) {
				int64_t v = c->by[i][outs[k]];

				tbl_addf(&t, "%" PRId64, v);
				tot[outs[k]] += v;
				sum += v;
			}
			tbl_addf(&t, "%" PRId64, sum);
			all += sum;
		}
		if (c->n > 0) {
			tbl_add(&t, "  total");
			for (size_t k = 0; k < CP_NELEM(outs); k++)
				tbl_addf(&t, "%" PRId64, tot[outs[k]]);
			tbl_addf(&t, "%" PRId64, all);
		}
		tbl_print(&t, "  none");
		status_mailboxes(o, st, NULL);
		status_events(st, now - span, NULL);
	}
	for (size_t i = 0; i < c->n; i++)
		cp_free(c->cause[i]);
	cp_free(c);
	return CP_EXIT_OK;
}

int
cmd_status(int argc, char **argv)
{
	static const msub sub = { "status", OBIT(O_SINCE), 0, 0, status_run };
	static char name[] = "status";
	char *av[64];
	int ac;

	/* status has no subcommand: parse as if it were "status status" */
	if (argc > 1 && out_is_help(argv[1])) {
		status_usage(stdout);
		return CP_EXIT_OK;
	}
	if (argc + 1 > (int)CP_NELEM(av)) {
		status_usage(stderr);
		return CP_EXIT_USAGE;
	}
	av[0] = argv[0];
	av[1] = name;
	for (int i = 1; i < argc; i++)
		av[i + 1] = argv[i];
	ac = argc + 1;
	return model_run(ac, av, "status", &sub, 1, status_usage);
}
