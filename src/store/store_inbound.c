/*
 * store_inbound.c - the generic half of the inbound mail calls (store.h,
 * "inbound mail"): raw messages the bounce-domain listener accepted, the
 * late reports (bounces, complaints) recorded on the recipients they are
 * about, and the per-tenant unsubscribe setting.
 *
 * Like store.c it checks every input, then takes the lock and calls the
 * backend, which trusts what it gets. Report texts are cut, not refused:
 * a receiver's diagnostic longer than CP_STORE_REPLY_MAX is still worth
 * keeping (the backend cuts it as it cuts delivery replies).
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "store/store_int.h"

static const char *const kinds[] = { "bounce", "complaint", "unsubscribe",
	"postmaster", "none" };

/* Text of at most max bytes without NUL; control bytes other than TAB,
 * CR and LF refused (they come from the wire: a log must stay readable). */
static int
inbound_check_text(const char *s, size_t max, const char *what, cp_err *err)
{
	size_t len;

	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s: missing", what);
	len = strnlen(s, max + 1);
	if (len > max)
		return cp_err_set(err, CP_ETOOBIG, "store: %s: longer than %zu "
		    "bytes", what, max);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f)
			return cp_err_set(err, CP_EINVAL, "store: %s: control "
			    "byte at offset %zu", what, i);
	}
	return CP_OK;
}

int
cp_store_insert_inbound(cp_store *st, cp_inbound *in, const void *data,
    size_t len, cp_err *err)
{
	cp_inbound n;
	int rc;

	if ((rc = store_check_present(in, "inbound", err)) != CP_OK ||
	    (rc = inbound_check_text(in->client, STORE_IP_MAX, "client",
	    err)) != CP_OK ||
	    (rc = inbound_check_text(in->helo, CP_STORE_DOMAIN_MAX + 2,
	    "helo", err)) != CP_OK ||
	    (rc = inbound_check_text(in->mail_from, CP_STORE_ADDR_MAX,
	    "mail from", err)) != CP_OK ||
	    (rc = inbound_check_text(in->rcpt_to, CP_STORE_INBOUND_RCPTS_MAX,
	    "rcpt to", err)) != CP_OK)
		return rc;
	if (data == NULL || len == 0)
		return cp_err_set(err, CP_EINVAL, "store: inbound message: "
		    "empty");
	if (len > CP_STORE_BODY_MAX)
		return cp_err_set(err, CP_ETOOBIG, "store: inbound message: "
		    "%zu bytes, limit %u", len, CP_STORE_BODY_MAX);
	if (in->received < 0)
		return cp_err_set(err, CP_EINVAL, "store: inbound received: "
		    "negative");
	n = *in;
	n.received = store_now(in->received);
	n.size = (int64_t)len;
	store_lock(st);
	rc = st->ops->insert_inbound(st, &n, data, len, err);
	store_unlock(st);
	if (rc == CP_OK) {
		in->id = n.id;
		in->size = n.size;
		in->received = n.received;
	}
	return rc;
}

int
cp_store_finish_inbound(cp_store *st, int64_t id, const char *kind,
    const char *result, int64_t now, cp_err *err)
{
	int rc, known = 0;

	if ((rc = store_check_id(id, "inbound", err)) != CP_OK ||
	    (rc = inbound_check_text(result, CP_STORE_INBOUND_RCPTS_MAX,
	    "inbound result", err)) != CP_OK)
		return rc;
	for (size_t i = 0; kind != NULL && i < sizeof(kinds) /
	    sizeof(kinds[0]); i++)
		known |= strcmp(kind, kinds[i]) == 0;
	if (!known)
		return cp_err_set(err, CP_EINVAL, "store: inbound kind '%s': "
		    "want bounce, complaint, unsubscribe or none",
		    kind ? kind : "(none)");
	store_lock(st);
	rc = st->ops->finish_inbound(st, id, kind, result, store_now(now), err);
	store_unlock(st);
	return rc;
}

int
cp_store_list_inbound(cp_store *st, int64_t after, size_t limit,
    int pending_only, cp_inbound_cb cb, void *arg, cp_err *err)
{
	int rc;

	if (after < 0 || cb == NULL)
		return cp_err_set(err, CP_EINVAL, "store: list inbound: bad "
		    "arguments");
	store_lock(st);
	rc = st->ops->list_inbound(st, after, limit, pending_only, cb, arg,
	    err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_inbound_body(cp_store *st, int64_t id, cp_buf *out, cp_err *err)
{
	int rc;

	if ((rc = store_check_id(id, "inbound", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_inbound_body(st, id, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_recipient(cp_store *st, int64_t rcpt, cp_due_list **out,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_id(rcpt, "recipient", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	*out = NULL;
	store_lock(st);
	rc = st->ops->get_recipient(st, rcpt, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_record_late(cp_store *st, cp_attempt *a, int *changed, cp_err *err)
{
	cp_attempt n;
	int rc, c = 0;

	if ((rc = store_check_present(a, "report", err)) != CP_OK ||
	    (rc = store_check_id(a->rcpt, "recipient", err)) != CP_OK)
		return rc;
	if (a->outcome != CP_RCPT_BOUNCED && a->outcome != CP_RCPT_DELIVERED)
		return cp_err_set(err, CP_EINVAL, "store: late report: outcome "
		    "must be bounced or delivered");
	n = *a;
	n.mx = a->mx ? a->mx : "";
	n.source_ip = a->source_ip ? a->source_ip : "";
	n.reply = a->reply ? a->reply : "";
	n.enhanced = a->enhanced ? a->enhanced : "";
	n.cause = a->cause ? a->cause : "";
	n.reason = a->reason ? a->reason : "";
	n.receiver = a->receiver ? a->receiver : "";
	n.time = store_now(a->time);
	n.duration_ms = 0;
	n.next_attempt = 0;
	if (n.code < 0 || n.code > 599)
		n.code = 0;
	if ((rc = inbound_check_text(n.mx, CP_STORE_DOMAIN_MAX, "remote mta",
	    err)) != CP_OK ||
	    (rc = store_check_enhanced(n.enhanced, err)) != CP_OK ||
	    (rc = store_check_token(n.cause, "cause", err)) != CP_OK ||
	    (rc = store_check_token(n.reason, "reason", err)) != CP_OK ||
	    (rc = store_check_token(n.receiver, "receiver", err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->record_late(st, &n, &c, err);
	store_unlock(st);
	if (rc == CP_OK) {
		a->id = n.id;
		a->message = n.message;
	}
	if (changed != NULL)
		*changed = rc == CP_OK ? c : 0;
	return rc;
}

int
cp_store_set_tenant_unsubscribe(cp_store *st, int64_t tenant, int on,
    cp_err *err)
{
	int rc, dummy = 0;

	if ((rc = store_check_id(tenant, "tenant", err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->tenant_unsubscribe(st, tenant, on ? 1 : 0, &dummy, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_tenant_unsubscribe(cp_store *st, int64_t tenant, int *on,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_id(tenant, "tenant", err)) != CP_OK ||
	    (rc = store_check_out(on, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->tenant_unsubscribe(st, tenant, -1, on, err);
	store_unlock(st);
	return rc;
}
