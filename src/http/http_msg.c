/*
 * http_msg.c - messages through the API: injection (a raw RFC 5322
 * message, or a structured one built into MIME by http_mime.c) through
 * the submission server's acceptance path (cp_server_inject: the same
 * sender policy, header completion, DKIM signing, group commit and
 * hand-over to delivery as SMTP); listing and detail of messages with
 * each recipient's state and every attempt with its classified answer;
 * and the RFC 8058 one-click unsubscribe POST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/store.h"
#include "coldpost/unsub.h"
#include "http/http_int.h"

#define RCPTS_MAX 1000 /* recipients of one injected message */

/* ---- inject -------------------------------------------------------------- */

static void
inject_done(void *arg, int rc, int64_t id, const cp_err *err)
{
	http_req *r = arg;

	if (rc == CP_OK) {
		r->status = 202;
		r->id = id;
	} else if (rc == CP_EINVAL || rc == CP_ESYNTAX)
		r->status = http_fail(r, 422, "refused", NULL, "%s", err != NULL ?
		    err->msg : "refused");
	else if (rc == CP_ETEMP || rc == CP_EIO || rc == CP_ESTORE)
		r->status = http_fail(r, 503, "unavailable", NULL, "%s",
		    err != NULL ? err->msg : "try again");
	else
		r->status = http_fail_err(r, err, NULL);
	r->status_wake = 1;
	http_wake(r);
}

/* The envelope recipients: "to", "cc" and "bcc" arrays (or one string
 * for "to"). */
static int
collect_rcpts(http_req *r, json_t *b, const char **v, size_t *n)
{
	static const char *const names[] = { "to", "cc", "bcc" };

	*n = 0;
	for (size_t k = 0; k < CP_NELEM(names); k++) {
		json_t *a = json_object_get(b, names[k]), *x;
		size_t i;

		if (a == NULL || json_is_null(a))
			continue;
		if (json_is_string(a)) {
			if (*n == RCPTS_MAX)
				goto many;
			v[(*n)++] = json_string_value(a);
			continue;
		}
		if (!json_is_array(a))
			return http_fail(r, 400, "bad_field", names[k],
			    "%s: want an address or an array of addresses",
			    names[k]);
		json_array_foreach(a, i, x) {
			if (!json_is_string(x))
				return http_fail(r, 400, "bad_field", names[k],
				    "%s[%zu]: want a string", names[k], i);
			if (*n == RCPTS_MAX)
				goto many;
			v[(*n)++] = json_string_value(x);
		}
	}
	for (size_t i = 0; i < *n; i++) {
		cp_err err = { 0 };

		if (cp_store_check_address(v[i], strlen(v[i]), "to", &err) !=
		    CP_OK)
			return http_fail(r, 400, "bad_field", "to", "%s: %s",
			    v[i], err.msg);
	}
	if (*n == 0)
		return http_fail(r, 400, "missing_field", "to",
		    "to: at least one recipient");
	return 0;
many:
	return http_fail(r, 400, "bad_field", "to", "at most %d recipients",
	    RCPTS_MAX);
}

/* Put a Message-ID (RFC 5322 3.6.4) in front of a built message: random
 * left part, the sender's domain on the right. */
static int
add_message_id(http_req *r, const char *sender, cp_buf *msg)
{
	unsigned char rnd[12];
	char hex[25], field[sizeof(((http_req *)0)->msgid) + 16];
	const char *at = strrchr(sender, '@');
	cp_buf tmp;
	int rc;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return CP_EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(r->msgid, sizeof(r->msgid), "<%lld.%s@%s>", (long long)r->now,
	    hex, at != NULL ? at + 1 : "localhost");
	snprintf(field, sizeof(field), "Message-ID: %s\r\n", r->msgid);
	cp_buf_init(&tmp, msg->max);
	if ((rc = cp_buf_adds(&tmp, field)) == CP_OK &&
	    (rc = cp_buf_add(&tmp, msg->data, msg->len)) == CP_OK) {
		cp_buf_free(msg);
		*msg = tmp;
		return CP_OK;
	}
	cp_buf_free(&tmp);
	return rc;
}

int
http_h_inject(http_req *r)
{
	json_t *b = NULL;
	const char *mbox, *raw = NULL, *from = NULL, *field = NULL;
	const char *env_from = NULL;
	const char **rcpts = NULL;
	size_t nrcpts = 0;
	cp_mailbox *m = NULL;
	cp_buf msg;
	cp_err err = { 0 };
	int status, rc;

	cp_buf_init(&msg, CP_STORE_BODY_MAX);
	if (r->h->server == NULL) {
		status = http_fail(r, 503, "unavailable", NULL,
		    "injection needs the submission server");
		goto out;
	}
	if ((status = http_body_object(r, &b)) != 0)
		goto out;
	if ((status = http_get_str(r, b, "mailbox", 1, CP_STORE_ADDR_MAX,
	    &mbox)) != 0 ||
	    (status = http_get_str(r, b, "raw", 0, HTTP_BODY_MAX, &raw)) != 0 ||
	    (status = http_get_str(r, b, "from", 0, 998, &from)) != 0 ||
	    (status = http_get_str(r, b, "mail_from", 0, CP_STORE_ADDR_MAX,
	    &env_from)) != 0)
		goto out;
	if ((m = http_mailbox_scoped(r, mbox, &status)) == NULL) {
		/* a mailbox is named in the body, not the path */
		json_object_set_new(json_object_get(r->out, "error"), "field",
		    json_string("mailbox"));
		goto out;
	}
	if ((rcpts = cp_calloc(RCPTS_MAX, sizeof(*rcpts))) == NULL) {
		status = http_fail(r, 500, "internal", NULL, "out of memory");
		goto out;
	}
	if ((status = collect_rcpts(r, b, rcpts, &nrcpts)) != 0)
		goto out;
	if (raw != NULL) {
		rc = cp_buf_add(&msg, raw, strlen(raw));
	} else {
		if (from == NULL)
			json_object_set_new(b, "from", json_string(m->address));
		rc = http_mime_build(b, m->address, &msg, &field, &err);
		if (rc == CP_EINVAL || rc == CP_ESYNTAX || rc == CP_ETOOBIG) {
			status = http_fail(r, 400, "bad_field", field, "%s",
			    err.msg);
			goto out;
		}
		/* our Message-ID, so the answer needs no store read */
		if (rc == CP_OK)
			rc = add_message_id(r, m->address, &msg);
	}
	if (rc != CP_OK) {
		status = http_fail(r, 500, "internal", NULL, "out of memory");
		goto out;
	}
	if ((status = http_async_prepare(r)) != 0)
		goto out;
	/* the envelope sender: the mailbox unless given (then the server's
	 * sender policy decides, as for MAIL FROM); bounces come back to it */
	if (cp_server_inject_as(r->h->server, m, env_from != NULL ? env_from :
	    m->address, rcpts, nrcpts,
	    msg.data, msg.len, inject_done, r, &err) != CP_OK) {
		http_async_cancel(r);
		status = err.code == CP_EINVAL || err.code == CP_ESYNTAX ?
		    http_fail(r, 422, "refused", NULL, "%s", err.msg) :
		    http_fail(r, 503, "unavailable", NULL, "%s", err.msg);
		goto out;
	}
	pthread_mutex_lock(&r->h->metrics.mu);
	r->h->metrics.injected++;
	pthread_mutex_unlock(&r->h->metrics.mu);
	status = HTTP_ASYNC;
out:
	cp_buf_free(&msg);
	cp_free(rcpts);
	cp_mailbox_free(m);
	json_decref(b);
	return status;
}

/* Called on the loop when an injection is done: the answer's body. */
void
http_inject_answer(http_req *r)
{
	cp_envelope *e = NULL;

	if (r->status != 202)
		return;
	json_decref(r->out);
	r->out = json_pack("{s:I,s:s}", "id", (json_int_t)r->id, "status",
	    "accepted");
	if (r->msgid[0] != '\0')
		json_object_set_new(r->out, "message_id",
		    json_string(r->msgid));
	else if (cp_store_get_message(r->h->store, r->id, &e, NULL) ==
	    CP_OK) {
		json_object_set_new(r->out, "message_id",
		    json_string(e->message_id));
		cp_envelope_free(e);
	}
}

/* ---- listing and detail -------------------------------------------------- */

static json_t *
env_json(const cp_envelope *e)
{
	return json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:b}", "id", (json_int_t)e->id, "tenant", (json_int_t)e->tenant,
	    "mailbox", (json_int_t)e->mailbox, "mail_from", e->mail_from,
	    "return_path", e->return_path, "message_id", e->message_id,
	    "size", (json_int_t)e->size, "received", (json_int_t)e->received,
	    "expires", (json_int_t)e->expires, "recipients",
	    (json_int_t)e->nrcpts, "open", (json_int_t)e->nopen, "finished",
	    (json_int_t)e->finished, "body_purged", e->body_purged);
}

static int
env_cb(void *arg, const cp_envelope *e)
{
	json_t *v = env_json(e);

	if (v != NULL)
		json_array_append_new(arg, v);
	return 0;
}

#define LIST_RCPTS 20 /* recipients shown per message in a listing */

/* A listed recipient: address, state and its last answer. */
static int
rcpt_brief_cb(void *arg, const cp_rcpt *x)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:i}", "id", (json_int_t)x->id,
	    "address", x->address, "state", cp_rcpt_state_name(x->state),
	    "attempts", x->attempts);

	if (o == NULL)
		return 0;
	if (x->last_reply != NULL)
		json_object_set_new(o, "last", json_pack("{s:s,s:i,s:s?,s:s?}",
		    "reply", x->last_reply, "code", x->last_code, "cause",
		    x->last_cause, "reason", x->last_reason));
	json_array_append_new(arg, o);
	return 0;
}

/* Each listed message gets its first LIST_RCPTS recipients, so that a
 * list shows who and in which state without one request per message. */
static int
list_add_rcpts(http_req *r, json_t *items, cp_err *err)
{
	size_t i;
	json_t *m;

	json_array_foreach(items, i, m) {
		cp_queue_filter f = { 0 };
		json_t *rc = json_array();

		f.message = json_integer_value(json_object_get(m, "id"));
		f.state = -1;
		f.limit = LIST_RCPTS;
		if (cp_store_list_queue(r->h->store, &f, rcpt_brief_cb, rc,
		    err) != CP_OK) {
			json_decref(rc);
			return CP_ESTORE;
		}
		json_object_set_new(m, "recipient_list", rc);
	}
	return CP_OK;
}

/* ?q= and ?state= of GET /v1/messages into f. */
static int
list_filter(http_req *r, cp_message_filter *f, char *q, size_t qlen)
{
	char st[32];
	int got;

	f->state = -1;
	if ((got = http_query_get(r->query, "q", q, qlen)) < 0)
		return http_fail(r, 400, "bad_field", "q", "q: malformed or "
		    "longer than %zu bytes", qlen - 1);
	f->q = got > 0 ? q : NULL;
	if ((got = http_query_get(r->query, "state", st, sizeof(st))) < 0 ||
	    (got > 0 && st[0] != '\0' &&
	    (f->state = cp_rcpt_state_from_name(st)) < 0))
		return http_fail(r, 400, "bad_field", "state", "state: not a "
		    "recipient state (queued, deferred, delivered, bounced, "
		    "expired, ...)");
	return 0;
}

int
http_h_messages_list(http_req *r)
{
	int64_t limit, before, t = r->key.tenant;
	cp_message_filter f = { 0 };
	char q[256];
	json_t *a;
	cp_err err = { 0 };
	int rc;

	if ((rc = http_query_int(r, "limit", 50, 1, HTTP_LIST_MAX, &limit)) != 0 ||
	    (rc = http_query_int(r, "before", 0, 0, INT64_MAX, &before)) != 0 ||
	    (rc = list_filter(r, &f, q, sizeof(q))) != 0)
		return rc;
	if (t == 0) {
		int64_t qt;

		if ((rc = http_query_int(r, "tenant_id", 0, 0, INT64_MAX,
		    &qt)) != 0)
			return rc;
		t = qt;
	}
	f.tenant = t;
	f.before = before;
	f.limit = (size_t)limit;
	a = json_array();
	if (cp_store_list_messages(r->h->store, &f, env_cb, a, &err) !=
	    CP_OK || list_add_rcpts(r, a, &err) != CP_OK) {
		json_decref(a);
		return http_fail_err(r, &err, NULL);
	}
	r->out = json_pack("{s:o}", "items", a);
	return 200;
}

static json_t *
attempt_json(const cp_attempt *a)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:I,s:s,"
	    "s:I}", "id", (json_int_t)a->id, "time", (json_int_t)a->time,
	    "mx", a->mx, "source_ip", a->source_ip, "reply", a->reply, "code",
	    a->code, "enhanced", a->enhanced, "cause", a->cause, "reason",
	    a->reason, "receiver", a->receiver, "duration_ms",
	    (json_int_t)a->duration_ms, "outcome",
	    cp_rcpt_state_name(a->outcome), "next_attempt",
	    (json_int_t)a->next_attempt);
}

static int
rcpt_cb(void *arg, const cp_rcpt *x)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:i,s:I,s:I,s:I,s:o}", "id",
	    (json_int_t)x->id, "address", x->address, "state",
	    cp_rcpt_state_name(x->state), "attempts", x->attempts,
	    "next_attempt", (json_int_t)x->next_attempt, "expires",
	    (json_int_t)x->expires, "updated", (json_int_t)x->updated,
	    "attempt_list", json_array());

	if (o == NULL)
		return 0;
	if (x->last_reply != NULL)
		json_object_set_new(o, "last", json_pack("{s:s,s:i,s:s?,s:s?,"
		    "s:s?,s:s?}", "reply", x->last_reply, "code", x->last_code,
		    "enhanced", x->last_enhanced, "cause", x->last_cause,
		    "reason", x->last_reason, "receiver", x->last_receiver));
	json_array_append_new(arg, o);
	return 0;
}

static int
attempt_cb(void *arg, const cp_attempt *a)
{
	json_t *rcpts = arg, *x;
	size_t i;

	json_array_foreach(rcpts, i, x)
		if (json_integer_value(json_object_get(x, "id")) == a->rcpt) {
			json_t *j = attempt_json(a);

			if (j != NULL)
				json_array_append_new(json_object_get(x,
				    "attempt_list"), j);
			break;
		}
	return 0;
}

int
http_h_message_get(http_req *r)
{
	char *end;
	long long id = strtoll(r->param[0], &end, 10);
	cp_envelope *e = NULL;
	cp_queue_filter f = { 0 };
	json_t *rcpts;
	cp_err err = { 0 };

	if (*end != '\0' || id <= 0 || r->param[0][0] == '\0')
		return http_fail(r, 404, "not_found", "id",
		    "no such message: %s", r->param[0]);
	if (cp_store_get_message(r->h->store, id, &e, &err) != CP_OK)
		return http_fail_err(r, &err, "id");
	if (!http_tenant_ok(r, e->tenant)) {
		cp_envelope_free(e);
		return http_fail(r, 404, "not_found", "id",
		    "store: message %lld: not found", id);
	}
	r->out = env_json(e);
	cp_envelope_free(e);
	rcpts = json_array();
	f.message = id;
	f.state = -1;
	f.limit = HTTP_LIST_MAX;
	if (cp_store_list_queue(r->h->store, &f, rcpt_cb, rcpts, &err) !=
	    CP_OK || cp_store_list_attempts(r->h->store, 0, id, 0, 0,
	    attempt_cb, rcpts, &err) != CP_OK) {
		json_decref(rcpts);
		return http_fail_err(r, &err, NULL);
	}
	json_object_set_new(r->out, "recipient_list", rcpts);
	return 200;
}

/* ---- RFC 8058 one-click unsubscribe --------------------------------------- */

/* The form body carries List-Unsubscribe=One-Click (RFC 8058 section 3.1),
 * urlencoded; other pairs may come along. */
static int
one_click(const char *body)
{
	char v[32];

	return body != NULL && http_query_get(body, "List-Unsubscribe", v,
	    sizeof(v)) > 0 && strcmp(v, "One-Click") == 0;
}

int
http_h_unsubscribe(http_req *r)
{
	char rcpt[CP_STORE_ADDR_MAX + 1];
	int64_t tenant;
	cp_suppression s = { 0 };
	cp_err err = { 0 };

	if (r->h->secret_len == 0)
		return http_fail(r, 404, "not_found", NULL,
		    "one-click unsubscribe is not set up here");
	if (cp_unsub_verify_token(r->h->secret, r->h->secret_len, r->param[0],
	    strlen(r->param[0]), &tenant, rcpt, sizeof(rcpt), &err) != CP_OK)
		return http_fail(r, 404, "not_found", "token",
		    "unknown or altered unsubscribe link");
	if (!one_click(r->body))
		return http_fail(r, 400, "bad_field", "List-Unsubscribe",
		    "the body must be List-Unsubscribe=One-Click "
		    "(RFC 8058)");
	s.tenant = tenant;
	s.address = rcpt;
	s.reason = "unsubscribe";
	s.note = "one-click (RFC 8058)";
	if (cp_store_add_suppression(r->h->store, &s, NULL, &err) != CP_OK)
		return err.code == CP_ENOTFOUND ? http_fail(r, 404,
		    "not_found", "token", "unknown or altered unsubscribe "
		    "link") : http_fail_err(r, &err, NULL);
	r->out = json_pack("{s:s}", "status", "unsubscribed");
	return 200;
}
