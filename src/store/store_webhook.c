/*
 * store_webhook.c - the generic half of the webhook store calls (store.h,
 * "webhooks"): a tenant's endpoints and the outbox of deliveries.
 *
 * Like store.c it checks every input, then takes the lock and calls the
 * backend, which trusts what it gets. The store knows no event names and
 * no HTTP: an event is a token, a filter a comma list of tokens, a payload
 * opaque text; src/webhook/ gives them meaning. A delivery leaves the
 * outbox only through cp_store_finish_webhook (the endpoint said 2xx), so
 * what is enqueued is sent at least once, across crashes.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "store/store_int.h"

#define EVENT_TOKEN_MAX 64
#define LEASE_MAX (7 * 86400)

/* printable ASCII without space, 1..max bytes */
static int
wh_check_graph(const char *s, size_t max, const char *what, cp_err *err)
{
	size_t len;

	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s: missing", what);
	len = strnlen(s, max + 1);
	if (len == 0 || len > max)
		return cp_err_set(err, len ? CP_ETOOBIG : CP_EINVAL,
		    "store: %s: %s%zu bytes, want 1..%zu", what,
		    len > max ? "more than " : "", len > max ? max : len, max);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return cp_err_set(err, CP_EINVAL, "store: %s: byte 0x%02x "
			    "at offset %zu: want printable ASCII without spaces",
			    what, (unsigned char)s[i], i);
	return CP_OK;
}

static int
wh_check_url(const char *url, cp_err *err)
{
	int rc = wh_check_graph(url, CP_STORE_URL_MAX, "webhook URL", err);

	if (rc != CP_OK)
		return rc;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return cp_err_set(err, CP_EINVAL, "store: webhook URL '%.64s': "
		    "want http:// or https://", url);
	if (strlen(url) <= (url[4] == 's' ? 8u : 7u))
		return cp_err_set(err, CP_EINVAL, "store: webhook URL '%s': no "
		    "host", url);
	return CP_OK;
}

/* One event token: [a-z0-9._-], 1..64, a letter or digit first. */
static int
wh_check_event(const char *s, size_t len, const char *what, cp_err *err)
{
	if (len == 0 || len > EVENT_TOKEN_MAX)
		return cp_err_set(err, CP_EINVAL, "store: %s: %zu bytes, want "
		    "1..%d", what, len, EVENT_TOKEN_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '.' || c == '_' || c == '-'));

		if (!ok)
			return cp_err_set(err, CP_EINVAL, "store: %s '%.*s': "
			    "byte '%c' at offset %zu: use a-z, 0-9, '.', '_', "
			    "'-'", what, (int)len, s, c, i);
	}
	return CP_OK;
}

/* "" or tokens separated by single commas. */
static int
wh_check_filter(const char *s, cp_err *err)
{
	size_t len = strnlen(s, CP_STORE_EVENTS_MAX + 1), start = 0;
	int rc;

	if (len > CP_STORE_EVENTS_MAX)
		return cp_err_set(err, CP_ETOOBIG, "store: webhook events: more "
		    "than %d bytes", CP_STORE_EVENTS_MAX);
	if (len == 0)
		return CP_OK;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		rc = wh_check_event(s + start, i - start, "webhook event", err);
		if (rc != CP_OK)
			return rc;
		start = i + 1;
	}
	return CP_OK;
}

int
cp_store_add_webhook(cp_store *st, cp_webhook_endpoint *w, cp_err *err)
{
	cp_webhook_endpoint nw = *w;
	int rc;

	if ((rc = store_check_id(w->tenant, "tenant", err)) != CP_OK ||
	    (rc = wh_check_url(w->url, err)) != CP_OK ||
	    (rc = wh_check_graph(w->secret, CP_STORE_SECRET_MAX,
	    "webhook secret", err)) != CP_OK)
		return rc;
	nw.events = w->events ? w->events : "";
	if ((rc = wh_check_filter(nw.events, err)) != CP_OK)
		return rc;
	nw.created = store_now(w->created);
	store_lock(st);
	rc = st->ops->add_webhook(st, &nw, err);
	store_unlock(st);
	if (rc == CP_OK) {
		w->id = nw.id;
		w->created = nw.created;
	}
	return rc;
}

int
cp_store_list_webhooks(cp_store *st, int64_t tenant,
    cp_webhook_endpoint_cb cb, void *arg, cp_err *err)
{
	int rc;

	if (tenant < 0)
		return store_check_id(tenant, "tenant", err);
	store_lock(st);
	rc = st->ops->list_webhooks(st, tenant, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_webhook(cp_store *st, int64_t id, cp_webhook_endpoint **out,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_id(id, "webhook", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_webhook(st, id, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_remove_webhook(cp_store *st, int64_t tenant, int64_t id,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_id(id, "webhook", err)) != CP_OK)
		return rc;
	if (tenant < 0)
		return store_check_id(tenant, "tenant", err);
	store_lock(st);
	rc = st->ops->remove_webhook(st, tenant, id, err);
	store_unlock(st);
	return rc;
}

void
cp_webhook_endpoint_free(cp_webhook_endpoint *w)
{
	cp_free(w);
}

int
cp_store_enqueue_webhook_event(cp_store *st, int64_t tenant,
    const char *event, const char *payload, int64_t now, size_t *n,
    cp_err *err)
{
	size_t got = 0, plen;
	int rc;

	if (tenant < 0)
		return store_check_id(tenant, "tenant", err);
	if (event == NULL || payload == NULL)
		return cp_err_set(err, CP_EINVAL, "store: webhook event: "
		    "missing event or payload");
	if ((rc = wh_check_event(event, strnlen(event, EVENT_TOKEN_MAX + 1),
	    "webhook event", err)) != CP_OK)
		return rc;
	plen = strnlen(payload, CP_STORE_PAYLOAD_MAX + 1);
	if (plen == 0 || plen > CP_STORE_PAYLOAD_MAX)
		return cp_err_set(err, plen ? CP_ETOOBIG : CP_EINVAL, "store: "
		    "webhook payload: %zu bytes, want 1..%d", plen,
		    CP_STORE_PAYLOAD_MAX);
	store_lock(st);
	rc = st->ops->enqueue_webhook_event(st, tenant, event, payload,
	    store_now(now), &got, err);
	store_unlock(st);
	if (n != NULL)
		*n = got;
	return rc;
}

int
cp_store_claim_webhooks(cp_store *st, int64_t now, const char *node,
    int lease_s, size_t max, cp_webhook_delivery_list **out, cp_err *err)
{
	int rc;

	if ((rc = store_check_name(node, "node id", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	if (max == 0 || max > CP_STORE_BATCH_MAX)
		return cp_err_set(err, CP_EINVAL, "store: batch of %zu: want "
		    "1..%d", max, CP_STORE_BATCH_MAX);
	if (lease_s < 1 || lease_s > LEASE_MAX)
		return cp_err_set(err, CP_EINVAL, "store: lease of %d s: want "
		    "1..%d", lease_s, LEASE_MAX);
	if (now <= 0)
		return cp_err_set(err, CP_EINVAL, "store: claim: bad time %lld",
		    (long long)now);
	*out = NULL;
	store_lock(st);
	rc = st->ops->claim_webhooks(st, now, node, lease_s, max, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_release_webhooks(cp_store *st, const char *node, int64_t now,
    size_t *n, cp_err *err)
{
	size_t got = 0;
	int rc;

	if ((rc = store_check_name(node, "node id", err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->release_webhooks(st, node, store_now(now), &got, err);
	store_unlock(st);
	if (n != NULL)
		*n = got;
	return rc;
}

int
cp_store_finish_webhook(cp_store *st, int64_t id, cp_err *err)
{
	int rc;

	if ((rc = store_check_id(id, "webhook delivery", err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->finish_webhook(st, id, err);
	store_unlock(st);
	return rc;
}

int
cp_store_retry_webhook(cp_store *st, int64_t id, int64_t next_attempt,
    const char *error, int dead, cp_err *err)
{
	char *cut;
	int rc;

	if ((rc = store_check_id(id, "webhook delivery", err)) != CP_OK)
		return rc;
	if (next_attempt <= 0)
		return cp_err_set(err, CP_EINVAL, "store: webhook retry: bad "
		    "time %lld", (long long)next_attempt);
	error = error ? error : "";
	cut = cp_strndup(error, strnlen(error, CP_STORE_REPLY_MAX));
	if (cut == NULL)
		return cp_err_set(err, CP_ENOMEM, "store: out of memory");
	store_lock(st);
	rc = st->ops->retry_webhook(st, id, next_attempt, cut, dead != 0, err);
	store_unlock(st);
	cp_free(cut);
	return rc;
}

int
cp_store_list_webhook_deliveries(cp_store *st, int64_t webhook, int dead,
    size_t limit, cp_webhook_delivery_cb cb, void *arg, cp_err *err)
{
	int rc;

	if (webhook < 0)
		return store_check_id(webhook, "webhook", err);
	if (dead < -1 || dead > 1)
		return cp_err_set(err, CP_EINVAL, "store: dead filter %d: want "
		    "-1, 0 or 1", dead);
	store_lock(st);
	rc = st->ops->list_webhook_deliveries(st, webhook, dead, limit, cb,
	    arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_count_webhook_deliveries(cp_store *st, int64_t webhook,
    int64_t *live, int64_t *dead, cp_err *err)
{
	int64_t l = 0, d = 0;
	int rc;

	if (webhook < 0)
		return store_check_id(webhook, "webhook", err);
	store_lock(st);
	rc = st->ops->count_webhook_deliveries(st, webhook, &l, &d, err);
	store_unlock(st);
	if (live != NULL)
		*live = l;
	if (dead != NULL)
		*dead = d;
	return rc;
}

void
cp_webhook_delivery_list_free(cp_webhook_delivery_list *l)
{
	void **recs;

	if (l == NULL)
		return;
	recs = l->mem_;
	for (size_t i = 0; i < l->n && recs != NULL; i++)
		cp_free(recs[i]);
	cp_free(recs);
	cp_free(l->v);
	cp_free(l);
}
