/*
 * store_queue.c - the queue half of the store interface: checks of
 * envelopes, claims, attempts and operator commands, then dispatch to the
 * backend under the store's lock (store.c says how the lock and batches
 * work).
 *
 * Recipient addresses and MAIL FROM are checked as RFC 5321 4.1.2 paths
 * (store_check.c); bodies are bytes, bounded by CP_STORE_BODY_MAX. A
 * receiver's reply is information, not input: it is cut to
 * CP_STORE_REPLY_MAX rather than refused, so that recording what happened
 * never fails on what a peer said.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* ---- queue -------------------------------------------------------------- */

static int
check_envelope(cp_envelope *env, const void *body, size_t len, cp_err *err)
{
	int rc;

	if ((rc = store_check_id(env->tenant, "message tenant", err)) != CP_OK)
		return rc;
	if (env->mailbox < 0)
		return store_check_id(env->mailbox, "message mailbox", err);
	if ((rc = store_check_address_str(env->mail_from, "MAIL FROM", 1,
	    err)) != CP_OK ||
	    (rc = store_check_address_str(env->return_path, "return path", 1,
	    err)) != CP_OK ||
	    (rc = store_check_msgid(env->message_id, err)) != CP_OK)
		return rc;
	if (env->lease_node != NULL && (rc = store_check_name(env->lease_node,
	    "node id", err)) != CP_OK)
		return rc;
	if (env->nrcpts == 0 || env->rcpts == NULL)
		return cp_err_set(err, CP_EINVAL, "store: message without "
		    "recipients");
	if (env->nrcpts > CP_STORE_RCPTS_MAX)
		return cp_err_set(err, CP_ETOOBIG, "store: %zu recipients, "
		    "limit %d", env->nrcpts, CP_STORE_RCPTS_MAX);
	for (size_t i = 0; i < env->nrcpts; i++) {
		char what[32];

		snprintf(what, sizeof(what), "recipient %zu", i + 1);
		if ((rc = store_check_address_str(env->rcpts[i], what, 0,
		    err)) != CP_OK)
			return rc;
	}
	if (env->received <= 0)
		return cp_err_set(err, CP_EINVAL, "store: message without a "
		    "received time");
	if (env->expires != 0 && env->expires < env->received)
		return cp_err_set(err, CP_EINVAL, "store: message expires "
		    "(%lld) before it was received (%lld)",
		    (long long)env->expires, (long long)env->received);
	if (env->hold != 0 && env->hold != 1)
		return cp_err_set(err, CP_EINVAL, "store: hold is 0 or 1");
	if (len > CP_STORE_BODY_MAX)
		return cp_err_set(err, CP_ETOOBIG, "store: body of %zu bytes, "
		    "limit %u", len, CP_STORE_BODY_MAX);
	if (body == NULL && len > 0)
		return cp_err_set(err, CP_EINVAL, "store: body missing");
	env->size = (int64_t)len;
	if (env->expires == 0)
		env->expires = env->received + CP_STORE_EXPIRE_DEFAULT;
	return CP_OK;
}

int
cp_store_insert_message(cp_store *st, cp_envelope *env, const void *body,
    size_t len, cp_err *err)
{
	int rc;

	if ((rc = check_envelope(env, body, len, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->insert_message(st, env, body, len, err);
	store_unlock(st);
	return rc;
}

int
cp_store_insert_many(cp_store *st, cp_insert *v, size_t n, cp_err *err)
{
	int rc;

	if (n == 0)
		return CP_OK;
	if ((rc = cp_store_begin(st, err)) != CP_OK) {
		for (size_t i = 0; i < n; i++) {
			v[i].rc = rc;
			v[i].err = err ? *err : v[i].err;
		}
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		cp_err_clear(&v[i].err);
		v[i].rc = cp_store_insert_message(st, &v[i].env, v[i].body,
		    v[i].len, &v[i].err);
	}
	rc = cp_store_commit(st, err);
	if (rc != CP_OK)
		for (size_t i = 0; i < n; i++) {
			if (v[i].rc == CP_OK) {
				v[i].rc = rc;
				if (err != NULL)
					v[i].err = *err;
				v[i].env.id = 0;
			}
		}
	return rc;
}

static int
check_node(const char *node, cp_err *err)
{
	return store_check_name(node, "node id", err);
}

static int
check_max(size_t max, cp_err *err)
{
	if (max == 0 || max > CP_STORE_BATCH_MAX)
		return cp_err_set(err, CP_EINVAL, "store: batch of %zu: want "
		    "1..%d", max, CP_STORE_BATCH_MAX);
	return CP_OK;
}

int
cp_store_claim_due(cp_store *st, int64_t now, const char *node, int lease_s,
    size_t max, cp_due_list **out, cp_err *err)
{
	int rc;

	if ((rc = check_node(node, err)) != CP_OK ||
	    (rc = check_max(max, err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	if (lease_s < 1 || lease_s > 7 * 86400)
		return cp_err_set(err, CP_EINVAL, "store: lease of %d s: want "
		    "1..%d", lease_s, 7 * 86400);
	if (now <= 0)
		return cp_err_set(err, CP_EINVAL, "store: claim: bad time %lld",
		    (long long)now);
	*out = NULL;
	store_lock(st);
	rc = st->ops->claim_due(st, now, node, lease_s, max, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_release_node(cp_store *st, const char *node, int64_t now,
    size_t *n, cp_err *err)
{
	size_t dummy;
	int rc;

	if ((rc = check_node(node, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->release_node(st, node, store_now(now), n ? n : &dummy,
	    err);
	store_unlock(st);
	return rc;
}

static int
check_attempt(cp_attempt *a, size_t i, cp_err *err)
{
	const char **strs[] = { &a->mx, &a->source_ip, &a->reply,
		&a->enhanced, &a->cause, &a->reason, &a->receiver };
	int rc;

	for (size_t k = 0; k < CP_NELEM(strs); k++)
		if (*strs[k] == NULL)
			*strs[k] = "";
	if (a->rcpt <= 0)
		return cp_err_set(err, CP_EINVAL, "store: attempt %zu: "
		    "recipient id %lld", i + 1, (long long)a->rcpt);
	if (a->time <= 0)
		return cp_err_set(err, CP_EINVAL, "store: attempt %zu: bad "
		    "time %lld", i + 1, (long long)a->time);
	if ((rc = store_check_host(a->mx, "attempt MX host", err)) != CP_OK)
		return rc;
	if (a->source_ip[0] != '\0' &&
	    (rc = store_check_ip(a->source_ip, "attempt source IP", err)) !=
	    CP_OK)
		return rc;
	if (a->code != 0 && (a->code < 200 || a->code > 599))
		return cp_err_set(err, CP_EINVAL, "store: attempt %zu: reply "
		    "code %d", i + 1, a->code);
	if ((rc = store_check_enhanced(a->enhanced, err)) != CP_OK ||
	    (rc = store_check_token(a->cause, "cause", err)) != CP_OK ||
	    (rc = store_check_token(a->reason, "reason", err)) != CP_OK ||
	    (rc = store_check_token(a->receiver, "receiver", err)) != CP_OK)
		return rc;
	if (a->duration_ms < 0)
		return cp_err_set(err, CP_EINVAL, "store: attempt %zu: "
		    "negative duration", i + 1);
	switch (a->outcome) {
	case CP_RCPT_DEFERRED:
		if (a->next_attempt <= 0)
			return cp_err_set(err, CP_EINVAL, "store: attempt %zu: "
			    "deferred without a next attempt time", i + 1);
		break;
	case CP_RCPT_DELIVERED:
	case CP_RCPT_BOUNCED:
	case CP_RCPT_EXPIRED:
		break;
	default:
		return cp_err_set(err, CP_EINVAL, "store: attempt %zu: outcome "
		    "%s: want delivered, deferred, bounced or expired", i + 1,
		    cp_rcpt_state_name(a->outcome));
	}
	return CP_OK;
}

int
cp_store_record_attempts(cp_store *st, const char *node, cp_attempt *v,
    size_t n, cp_err *err)
{
	int rc;

	if ((rc = check_node(node, err)) != CP_OK ||
	    (rc = check_max(n, err)) != CP_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = check_attempt(&v[i], i, err)) != CP_OK)
			return rc;
	store_lock(st);
	rc = st->ops->record_attempts(st, node, v, n, err);
	store_unlock(st);
	return rc;
}

static int
store_change(cp_store *st, int what, const cp_target *t, int64_t now,
    size_t *n, cp_err *err)
{
	size_t dummy;
	int rc;

	if (t == NULL || (t->message != 0) == (t->rcpt != 0) ||
	    t->message < 0 || t->rcpt < 0)
		return cp_err_set(err, CP_EINVAL, "store: give a message or a "
		    "recipient (one of both)");
	store_lock(st);
	rc = st->ops->change(st, what, t, store_now(now), n ? n : &dummy,
	    err);
	store_unlock(st);
	return rc;
}

int
cp_store_hold(cp_store *st, const cp_target *t, int64_t now, size_t *n,
    cp_err *err)
{
	return store_change(st, STORE_HOLD, t, now, n, err);
}

int
cp_store_release(cp_store *st, const cp_target *t, int64_t now, size_t *n,
    cp_err *err)
{
	return store_change(st, STORE_RELEASE, t, now, n, err);
}

int
cp_store_cancel(cp_store *st, const cp_target *t, int64_t now, size_t *n,
    cp_err *err)
{
	return store_change(st, STORE_CANCEL, t, now, n, err);
}

int
cp_store_retry_now(cp_store *st, const cp_target *t, int64_t now, size_t *n,
    cp_err *err)
{
	return store_change(st, STORE_RETRY, t, now, n, err);
}

int
cp_store_get_message(cp_store *st, int64_t id, cp_envelope **out,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_id(id, "message", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_message(st, id, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_list_queue(cp_store *st, const cp_queue_filter *f, cp_rcpt_cb cb,
    void *arg, cp_err *err)
{
	cp_queue_filter all = { 0, 0, -1, 0, 0 };
	int rc;

	if (f == NULL)
		f = &all;
	if (f->tenant < 0 || f->message < 0 || f->after < 0 ||
	    f->state < -1 || f->state >= CP_RCPT_NSTATES)
		return cp_err_set(err, CP_EINVAL, "store: bad queue filter");
	store_lock(st);
	rc = st->ops->list_queue(st, f, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_count_queue(cp_store *st, int64_t tenant, int64_t now,
    cp_queue_counts *out, cp_err *err)
{
	int rc;

	if (tenant < 0)
		return store_check_id(tenant, "tenant", err);
	memset(out, 0, sizeof(*out));
	store_lock(st);
	rc = st->ops->count_queue(st, tenant, store_now(now), out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_list_attempts(cp_store *st, int64_t rcpt, int64_t message,
    int64_t since, size_t limit, cp_attempt_cb cb, void *arg, cp_err *err)
{
	int rc;

	if (rcpt < 0 || message < 0 || since < 0 || (rcpt && message))
		return cp_err_set(err, CP_EINVAL, "store: list attempts: give "
		    "a recipient, a message, or neither");
	store_lock(st);
	rc = st->ops->list_attempts(st, rcpt, message, since, limit, cb, arg,
	    err);
	store_unlock(st);
	return rc;
}

int
cp_store_count_attempts(cp_store *st, int64_t since, cp_cause_count_cb cb,
    void *arg, cp_err *err)
{
	int rc;

	store_lock(st);
	rc = st->ops->count_attempts(st, since, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_read_body(cp_store *st, int64_t message, uint64_t offset,
    void *buf, size_t len, size_t *got, uint64_t *total, cp_err *err)
{
	uint64_t dummy;
	int rc;

	*got = 0;
	if ((rc = store_check_id(message, "message", err)) != CP_OK)
		return rc;
	if (buf == NULL && len > 0)
		return store_check_out(buf, err);
	store_lock(st);
	rc = st->ops->read_body(st, message, offset, buf, len, got,
	    total ? total : &dummy, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_body(cp_store *st, int64_t message, cp_buf *out, cp_err *err)
{
	uint64_t off = 0, total = 0;
	size_t start = out->len, got = 0;
	int rc;

	rc = cp_store_read_body(st, message, 0, NULL, 0, &got, &total, err);
	if (rc != CP_OK)
		return rc;
	if (total > SIZE_MAX - 1 || cp_buf_reserve(out, (size_t)total) != CP_OK)
		return cp_err_set(err, CP_ETOOBIG, "store: body of message "
		    "%lld: %llu bytes do not fit the buffer",
		    (long long)message, (unsigned long long)total);
	while (off < total) {
		size_t want = (size_t)CP_MIN(total - off, (uint64_t)65536);

		rc = cp_store_read_body(st, message, off, out->data + out->len,
		    want, &got, NULL, err);
		if (rc == CP_OK && got == 0)
			rc = cp_err_set(err, CP_ESTORE, "store: body of message "
			    "%lld changed while read", (long long)message);
		if (rc != CP_OK) {
			out->len = start;
			out->data[start] = '\0';
			return rc;
		}
		out->len += got;
		off += got;
	}
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return CP_OK;
}

int
cp_store_purge_bodies(cp_store *st, int64_t now, int64_t older_than,
    size_t max, size_t *n, cp_err *err)
{
	size_t dummy;
	int rc;

	if ((rc = check_max(max, err)) != CP_OK)
		return rc;
	if (older_than < 0)
		return cp_err_set(err, CP_EINVAL, "store: purge: negative age");
	store_lock(st);
	rc = st->ops->purge_bodies(st, store_now(now), older_than, max,
	    n ? n : &dummy, err);
	store_unlock(st);
	return rc;
}

int
cp_store_expire_due(cp_store *st, int64_t now, size_t max,
    cp_due_list **out, cp_err *err)
{
	int rc;

	if ((rc = check_max(max, err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	*out = NULL;
	store_lock(st);
	rc = st->ops->expire_due(st, store_now(now), max, out, err);
	store_unlock(st);
	return rc;
}
