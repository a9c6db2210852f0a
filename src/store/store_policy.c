/*
 * store_policy.c - the generic half of the sending policy's store calls
 * (store.h, "sending policy"): daily cap usage, provider pacing state and
 * its events, the suppression list.
 *
 * Like store.c it checks every input, then takes the lock and calls the
 * backend, which trusts what it gets. Only the state that must survive a
 * restart lives here; the decisions are made in src/policy/. Evidence
 * (receiver replies) is cut at CP_STORE_REPLY_MAX as attempts' replies are.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "store/store_int.h"

#define CAP_KEY_MAX (CP_STORE_ADDR_MAX + 64)

static const char *const reasons[] = { "bounce", "complaint", "unsubscribe",
	"manual" };

int
cp_store_suppression_reason(const char *reason)
{
	if (reason == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reason, reasons[i]) == 0)
			return 1;
	return 0;
}

/* Printable text of 1..max bytes (a cap key): no control bytes. */
static int
policy_check_key(const char *s, cp_err *err)
{
	size_t len;

	if (s == NULL)
		return CP_OK; /* no key: count without remembering */
	len = strnlen(s, CAP_KEY_MAX + 1);
	if (len == 0 || len > CAP_KEY_MAX)
		return cp_err_set(err, CP_EINVAL, "store: cap key: %zu bytes, "
		    "want 1..%d", len, CAP_KEY_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cp_err_set(err, CP_EINVAL, "store: cap key: "
			    "control byte at offset %zu", i);
	return CP_OK;
}

int
cp_store_take_cap(cp_store *st, int64_t mailbox, int64_t day, int64_t cap,
    const char *key, int *taken, int64_t *used, cp_err *err)
{
	int64_t u = 0;
	int rc;

	if ((rc = store_check_id(mailbox, "mailbox", err)) != CP_OK ||
	    (rc = policy_check_key(key, err)) != CP_OK ||
	    (rc = store_check_out(taken, err)) != CP_OK)
		return rc;
	if (cap < 0 || day < 0)
		return cp_err_set(err, CP_EINVAL, "store: take cap: cap %lld, "
		    "day %lld must not be negative", (long long)cap,
		    (long long)day);
	store_lock(st);
	rc = st->ops->take_cap(st, mailbox, day, cap, key, taken, &u, err);
	store_unlock(st);
	if (used != NULL)
		*used = u;
	return rc;
}

int
cp_store_get_cap_usage(cp_store *st, int64_t mailbox, int64_t day,
    int64_t *used, cp_err *err)
{
	int rc;

	if ((rc = store_check_id(mailbox, "mailbox", err)) != CP_OK ||
	    (rc = store_check_out(used, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_cap_usage(st, mailbox, day, used, err);
	store_unlock(st);
	return rc;
}

int
cp_store_purge_cap_usage(cp_store *st, int64_t day, size_t *n, cp_err *err)
{
	size_t got = 0;
	int rc;

	store_lock(st);
	rc = st->ops->purge_cap_usage(st, day, &got, err);
	store_unlock(st);
	if (n != NULL)
		*n = got;
	return rc;
}

/* A provider is a host name or a one-label name ("google"). */
static int
policy_check_pair(const char *ip, const char *provider, cp_err *err)
{
	int rc = store_check_ip(ip, "source IP", err);

	if (rc == CP_OK)
		rc = store_check_domain_str(provider, "provider", err);
	return rc;
}

int
cp_store_put_provider_state(cp_store *st, const cp_provider_state *s,
    cp_provider_event *ev, cp_err *err)
{
	cp_provider_event e;
	char norm[STORE_IP_MAX + 1], *evid = NULL;
	cp_provider_state ns;
	int rc;

	if ((rc = store_norm_ip(s->source_ip, norm, "source IP", err)) != CP_OK ||
	    (rc = policy_check_pair(norm, s->provider, err)) != CP_OK)
		return rc;
	if (s->rate < 0 || s->paused_until < 0 || s->cuts < 0)
		return cp_err_set(err, CP_EINVAL, "store: provider state: "
		    "negative rate, pause or cuts");
	ns = *s;
	ns.source_ip = norm;
	ns.updated = store_now(s->updated);
	if (ev != NULL) {
		e = *ev;
		e.source_ip = norm;
		e.provider = s->provider;
		e.time = store_now(ev->time);
		if ((rc = store_check_token(ev->kind, "event kind", err)) !=
		    CP_OK)
			return rc;
		if (ev->kind[0] == '\0')
			return cp_err_set(err, CP_EINVAL,
			    "store: event kind: empty");
		e.evidence = ev->evidence ? ev->evidence : "";
		evid = cp_strndup(e.evidence, strnlen(e.evidence,
		    CP_STORE_REPLY_MAX));
		if (evid == NULL)
			return cp_err_set(err, CP_ENOMEM,
			    "store: out of memory");
		e.evidence = evid;
	}
	store_lock(st);
	rc = st->ops->put_provider_state(st, &ns, ev ? &e : NULL, err);
	store_unlock(st);
	if (ev != NULL) {
		ev->id = e.id;
		ev->time = e.time;
	}
	cp_free(evid);
	return rc;
}

int
cp_store_list_provider_states(cp_store *st, cp_provider_state_cb cb,
    void *arg, cp_err *err)
{
	int rc;

	store_lock(st);
	rc = st->ops->list_provider_states(st, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_list_provider_events(cp_store *st, int64_t since, size_t limit,
    cp_provider_event_cb cb, void *arg, cp_err *err)
{
	int rc;

	store_lock(st);
	rc = st->ops->list_provider_events(st, since, limit, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_add_suppression(cp_store *st, const cp_suppression *s, int *added,
    cp_err *err)
{
	cp_suppression ns = *s;
	int rc, a = 0;

	if ((rc = store_check_id(s->tenant, "tenant", err)) != CP_OK ||
	    (rc = store_check_address_str(s->address, "suppressed address", 0,
	    err)) != CP_OK)
		return rc;
	if (!cp_store_suppression_reason(s->reason))
		return cp_err_set(err, CP_EINVAL, "store: suppression reason "
		    "'%s': want bounce, complaint, unsubscribe or manual",
		    s->reason ? s->reason : "(none)");
	if (s->note != NULL && strnlen(s->note, CP_STORE_REPLY_MAX + 1) >
	    CP_STORE_REPLY_MAX)
		return cp_err_set(err, CP_ETOOBIG, "store: suppression note: "
		    "longer than %d bytes", CP_STORE_REPLY_MAX);
	ns.note = s->note ? s->note : "";
	ns.created = store_now(s->created);
	store_lock(st);
	rc = st->ops->add_suppression(st, &ns, &a, err);
	store_unlock(st);
	if (added != NULL)
		*added = a;
	return rc;
}

int
cp_store_remove_suppression(cp_store *st, int64_t tenant,
    const char *address, cp_err *err)
{
	int rc;

	if ((rc = store_check_id(tenant, "tenant", err)) != CP_OK ||
	    (rc = store_check_address_str(address, "suppressed address", 0,
	    err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->remove_suppression(st, tenant, address, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_suppression(cp_store *st, int64_t tenant, const char *address,
    cp_suppression **out, cp_err *err)
{
	int rc;

	if ((rc = store_check_id(tenant, "tenant", err)) != CP_OK ||
	    (rc = store_check_address_str(address, "recipient", 0, err)) !=
	    CP_OK || (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_suppression(st, tenant, address, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_list_suppressions(cp_store *st, int64_t tenant,
    cp_suppression_cb cb, void *arg, cp_err *err)
{
	int rc;

	if (tenant < 0)
		return store_check_id(tenant, "tenant", err);
	store_lock(st);
	rc = st->ops->list_suppressions(st, tenant, cb, arg, err);
	store_unlock(st);
	return rc;
}

void
cp_suppression_free(cp_suppression *s)
{
	cp_free(s);
}
