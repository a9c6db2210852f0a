/*
 * webhook_event.c - what a webhook says and how it is signed: event names
 * and filters, the JSON body of an event (jansson), the HMAC-SHA256
 * signature over "timestamp.body" (OpenSSL), and the retry back-off.
 *
 * Pure functions, no I/O: webhook_send.c puts them on the wire. The
 * signature scheme (docs/webhooks.md) binds the timestamp to the body so
 * a receiver that rejects old timestamps also rejects replays; the
 * comparison in cp_webhook_verify is constant-time (CRYPTO_memcmp).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "coldpost/alloc.h"
#include "coldpost/webhook.h"

static const char *const type_names[CP_WEBHOOK_NTYPES] = {
	[CP_WEBHOOK_DELIVERED] = "delivered",
	[CP_WEBHOOK_DEFERRED] = "deferred",
	[CP_WEBHOOK_BOUNCED] = "bounced",
	[CP_WEBHOOK_COMPLAINED] = "complained",
	[CP_WEBHOOK_PROVIDER_CUT] = "provider.cut",
	[CP_WEBHOOK_PROVIDER_RECOVERED] = "provider.recovered",
	[CP_WEBHOOK_TEST] = "test",
};

const char *
cp_webhook_type_name(int type)
{
	if (type < 0 || type >= CP_WEBHOOK_NTYPES)
		return "?";
	return type_names[type];
}

int
cp_webhook_type_from_name(const char *name, size_t len)
{
	for (int i = 0; i < CP_WEBHOOK_NTYPES; i++)
		if (strlen(type_names[i]) == len &&
		    memcmp(type_names[i], name, len) == 0)
			return i;
	return -1;
}

/* Trim spaces and tabs around [*p, *p + *len). */
static void
events_trim(const char **p, size_t *len)
{
	while (*len > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
		(*len)--;
}

int
cp_webhook_parse_events(const char *list, cp_buf *out, cp_err *err)
{
	unsigned seen = 0;
	const char *p = list;
	int rc = CP_OK;

	if (list == NULL)
		return cp_err_set(err, CP_EINVAL, "webhook: events: missing");
	for (;;) {
		const char *comma = strchr(p, ','), *name = p;
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int t;

		events_trim(&name, &len);
		if (len == 0 && (comma != NULL || p != list))
			return cp_err_set(err, CP_EINVAL, "webhook: events "
			    "'%.64s': an empty name", list);
		if (len > 0) {
			t = cp_webhook_type_from_name(name, len);
			if (t < 0)
				return cp_err_set(err, CP_EINVAL, "webhook: "
				    "unknown event '%.*s' (want delivered, "
				    "deferred, bounced, complained, provider.cut,"
				    " provider.recovered, test)",
				    (int)CP_MIN(len, 64), name);
			seen |= 1u << t;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	for (int i = 0; i < CP_WEBHOOK_NTYPES && rc == CP_OK; i++) {
		if (!(seen & (1u << i)))
			continue;
		if (out->len > 0)
			rc = cp_buf_addc(out, ',');
		if (rc == CP_OK)
			rc = cp_buf_adds(out, type_names[i]);
	}
	if (rc == CP_OK && out->data == NULL)
		rc = cp_buf_adds(out, "");
	if (rc != CP_OK)
		return cp_err_set(err, rc, "webhook: events: out of memory");
	return CP_OK;
}

/* ---- JSON ------------------------------------------------------------- */

/* Set key to a string when s is set and not empty; 0 or -1 (no memory). */
static int
json_put_str(json_t *o, const char *key, const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	return json_object_set_new(o, key, json_string(s));
}

static int
json_put_int(json_t *o, const char *key, int64_t v)
{
	if (v == 0)
		return 0;
	return json_object_set_new(o, key, json_integer(v));
}

/* delivered, deferred, bounced, complained, test */
static int
event_message_data(json_t *d, const cp_webhook_event *ev)
{
	int bad = 0;

	bad |= json_put_int(d, "message", ev->message);
	bad |= json_put_int(d, "mailbox", ev->mailbox);
	bad |= json_put_str(d, "recipient", ev->rcpt);
	bad |= json_put_int(d, "code", ev->code);
	bad |= json_put_str(d, "enhanced", ev->enhanced);
	bad |= json_put_str(d, "reply", ev->reply);
	bad |= json_put_str(d, "cause", ev->cause);
	bad |= json_put_str(d, "reason", ev->reason);
	bad |= json_put_str(d, "receiver", ev->receiver);
	bad |= json_put_str(d, "mx", ev->mx);
	bad |= json_put_str(d, "source_ip", ev->source_ip);
	bad |= json_put_int(d, "next_attempt", ev->next_attempt);
	bad |= json_put_str(d, "feedback_type", ev->feedback);
	if (ev->expired)
		bad |= json_object_set_new(d, "expired", json_true());
	if (ev->late)
		bad |= json_object_set_new(d, "late", json_true());
	return bad;
}

static int
event_provider_data(json_t *d, const cp_webhook_event *ev)
{
	int bad = 0;

	bad |= json_put_str(d, "provider", ev->provider);
	bad |= json_put_str(d, "source_ip", ev->source_ip);
	bad |= json_put_str(d, "kind", ev->kind);
	bad |= json_object_set_new(d, "rate_before",
	    json_integer(ev->rate_before));
	bad |= json_object_set_new(d, "rate_after",
	    json_integer(ev->rate_after));
	bad |= json_put_int(d, "until", ev->until);
	bad |= json_put_str(d, "evidence", ev->evidence);
	return bad;
}

int
cp_webhook_event_json(const cp_webhook_event *ev, int64_t tenant_id,
    const char *tenant_name, const char *id, cp_buf *out, cp_err *err)
{
	json_t *o, *d;
	char *text = NULL;
	int bad = 0, rc = CP_OK;

	if (ev->type < 0 || ev->type >= CP_WEBHOOK_NTYPES)
		return cp_err_set(err, CP_EINVAL, "webhook: event type %d",
		    ev->type);
	o = json_object();
	d = json_object();
	if (o == NULL || d == NULL) {
		json_decref(o);
		json_decref(d);
		return cp_err_set(err, CP_ENOMEM, "webhook: out of memory");
	}
	bad |= json_object_set_new(o, "id", json_string(id));
	bad |= json_object_set_new(o, "type",
	    json_string(type_names[ev->type]));
	bad |= json_object_set_new(o, "time", json_integer(ev->time > 0 ?
	    ev->time : (int64_t)time(NULL)));
	if (tenant_name != NULL)
		bad |= json_object_set_new(o, "tenant", json_string(tenant_name));
	else if (tenant_id > 0)
		bad |= json_object_set_new(o, "tenant", json_integer(tenant_id));
	if (ev->type == CP_WEBHOOK_PROVIDER_CUT ||
	    ev->type == CP_WEBHOOK_PROVIDER_RECOVERED)
		bad |= event_provider_data(d, ev);
	else
		bad |= event_message_data(d, ev);
	bad |= json_object_set(o, "data", d);
	/* invalid UTF-8 in a reply makes json_string NULL: set_new fails */
	if (!bad)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL)
		rc = cp_err_set(err, bad ? CP_EINVAL : CP_ENOMEM, "webhook: "
		    "event %s: %s", type_names[ev->type], bad ? "a text field "
		    "is not UTF-8" : "out of memory");
	else if ((rc = cp_buf_adds(out, text)) != CP_OK)
		cp_err_set(err, rc, "webhook: event body: %s",
		    rc == CP_ETOOBIG ? "too big" : "out of memory");
	free(text); /* jansson's allocator */
	json_decref(d);
	json_decref(o);
	return rc;
}

/* ---- signature ---------------------------------------------------------- */

/* raw HMAC-SHA256(secret, "<ts>.<body>") into mac[32]; streamed, so the
 * body is not copied */
static int
sig_mac(const char *secret, int64_t ts, const void *body, size_t len,
    unsigned char mac[32])
{
	char head[32], digest[] = "SHA256";
	int hl = snprintf(head, sizeof(head), "%" PRId64 ".", ts);
	OSSL_PARAM params[2];
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	size_t maclen = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = c != NULL &&
	    EVP_MAC_init(c, (const unsigned char *)secret, strlen(secret),
	    params) == 1 &&
	    EVP_MAC_update(c, (const unsigned char *)head, (size_t)hl) == 1 &&
	    EVP_MAC_update(c, body, len) == 1 &&
	    EVP_MAC_final(c, mac, &maclen, 32) == 1 && maclen == 32;
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	return ok;
}

int
cp_webhook_sign(const char *secret, int64_t timestamp, const void *body,
    size_t len, char out[CP_WEBHOOK_SIG_LEN + 1], cp_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[32];

	if (secret == NULL || *secret == '\0')
		return cp_err_set(err, CP_EINVAL, "webhook: sign: no secret");
	if (!sig_mac(secret, timestamp, body, len, mac))
		return cp_err_set(err, CP_ENOMEM, "webhook: sign: HMAC failed");
	memcpy(out, "v1=", 3);
	for (size_t i = 0; i < 32; i++) {
		out[3 + 2 * i] = hex[mac[i] >> 4];
		out[4 + 2 * i] = hex[mac[i] & 15];
	}
	out[CP_WEBHOOK_SIG_LEN] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return CP_OK;
}

int
cp_webhook_verify(const char *secret, int64_t timestamp, const void *body,
    size_t len, const char *sig, int64_t now, int64_t tolerance_s)
{
	char want[CP_WEBHOOK_SIG_LEN + 1];
	int64_t skew = now - timestamp;

	if (sig == NULL || strlen(sig) != CP_WEBHOOK_SIG_LEN)
		return 0;
	if (skew < -tolerance_s || skew > tolerance_s)
		return 0;
	if (cp_webhook_sign(secret, timestamp, body, len, want, NULL) != CP_OK)
		return 0;
	return CRYPTO_memcmp(want, sig, CP_WEBHOOK_SIG_LEN) == 0;
}

/* ---- back-off ----------------------------------------------------------- */

int64_t
cp_webhook_backoff_ms(int failures, int64_t base_ms, int64_t max_ms,
    uint32_t rnd)
{
	int64_t d = base_ms > 0 ? base_ms : 1;

	if (max_ms < d)
		max_ms = d;
	/* double failures - 1 times, stopping at max (no overflow) */
	for (int i = 1; i < failures && d < max_ms; i++)
		d = d > max_ms / 2 ? max_ms : d * 2;
	d = CP_MIN(d, max_ms);
	return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1)) + (d & 1);
}
