/*
 * deliver_outcome.c - what an attempt's result makes of a recipient, and
 * the records that carry it: attempt rows for the store, DSNs for the
 * sender.
 *
 * RFC 5321 4.2.1 / 4.5.4.1: a 2xx delivers, a 5xx ends the recipient
 * (bounced), a 4xx or no answer at all (connection refused or lost,
 * timeout, TLS failure) is retried on the queue.retry schedule until the
 * recipient's expiry, and a recipient whose expiry has come expires. A
 * bounce or an expiry sends a DSN (RFC 3464, built by dsn.c) to the
 * message's sender, but never for a message with the null sender (RFC
 * 5321 6.1, RFC 3464 2: no notification about a notification).
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/dsn.h"
#include "coldpost/verp.h"
#include "queue/deliver_int.h"

void
dl_decide(int status, int attempts, int64_t now, int64_t expires,
    const cp_conf_durations *retry, dl_decision *out)
{
	int64_t delay;

	out->next_attempt = 0;
	if (status == CP_SMTPC_OK) {
		out->outcome = CP_RCPT_DELIVERED;
		return;
	}
	if (status == CP_SMTPC_PERM) {
		out->outcome = CP_RCPT_BOUNCED;
		return;
	}
	if (expires > 0 && now >= expires) {
		out->outcome = CP_RCPT_EXPIRED;
		return;
	}
	delay = cp_retry_delay_ms(retry->v, retry->n, attempts + 1);
	out->outcome = CP_RCPT_DEFERRED;
	out->next_attempt = now + (delay + 999) / 1000;
	/* past its expiry the next try would never come: try at expiry,
	 * when the sweep or that last attempt ends it */
	if (expires > 0 && out->next_attempt > expires)
		out->next_attempt = expires;
}

int
dl_may_open(size_t dest_conns, size_t src_conns, int64_t per_dest,
    int64_t per_src)
{
	return (int64_t)dest_conns < per_dest && (int64_t)src_conns < per_src;
}

static size_t
slen(const char *s)
{
	return (s ? strlen(s) : 0) + 1;
}

static const char *
put(char **p, const char *s, size_t max)
{
	char *r = *p;
	size_t n = s ? strlen(s) : 0;

	if (n > max)
		n = max;
	if (n > 0)
		memcpy(r, s, n);
	r[n] = '\0';
	*p += n + 1;
	return r;
}

dl_rec *
dl_rec_new(const cp_attempt *a)
{
	size_t need = sizeof(dl_rec) + slen(a->mx) + slen(a->source_ip) +
	    slen(a->reply) + slen(a->enhanced) + slen(a->cause) +
	    slen(a->reason) + slen(a->receiver);
	dl_rec *r = cp_malloc(need);
	char *p;

	if (r == NULL)
		return NULL;
	r->next = NULL;
	r->a = *a;
	p = (char *)(r + 1);
	r->a.mx = put(&p, a->mx, SIZE_MAX);
	r->a.source_ip = put(&p, a->source_ip, SIZE_MAX);
	r->a.reply = put(&p, a->reply, CP_STORE_REPLY_MAX);
	r->a.enhanced = put(&p, a->enhanced, SIZE_MAX);
	r->a.cause = put(&p, a->cause, SIZE_MAX);
	r->a.reason = put(&p, a->reason, SIZE_MAX);
	r->a.receiver = put(&p, a->receiver, SIZE_MAX);
	return r;
}

void
dl_dsn_free(dl_dsn *x)
{
	if (x == NULL)
		return;
	cp_buf_wipe(&x->body);
	cp_free(x->to);
	cp_free(x);
}

/* The original's header section only: a DSN returns headers, not the
 * whole message (RFC 3462 text/rfc822-headers). */
static size_t
header_len(const char *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (p[i] == '\n' && p[i + 1] == '\n')
			return i + 1;
		if (i + 3 < len && memcmp(p + i, "\r\n\r\n", 4) == 0)
			return i + 2;
	}
	return len;
}

dl_dsn *
dl_dsn_make(const char *hostname, int64_t tenant, int64_t msgid,
    const char *mail_from, int64_t received, const char *orig,
    size_t orig_len, const char *rcpt, int outcome, const char *enhanced,
    const char *mx, const char *reply, const char *explain, int64_t now)
{
	char from[300], qid[32];
	cp_dsn_rcpt r = { 0 };
	cp_dsn dsn = { 0 };
	dl_dsn *x;
	cp_err err;

	if (mail_from == NULL || mail_from[0] == '\0')
		return NULL;	/* never a DSN for a DSN */
	if ((x = cp_calloc(1, sizeof(*x))) == NULL)
		return NULL;
	cp_buf_init(&x->body, CP_STORE_BODY_MAX);
	x->tenant = tenant;
	if ((x->to = cp_strdup(mail_from)) == NULL) {
		dl_dsn_free(x);
		return NULL;
	}
	snprintf(from, sizeof(from), "MAILER-DAEMON@%s", hostname);
	snprintf(qid, sizeof(qid), "%lld", (long long)msgid);
	r.address = rcpt;
	r.action = CP_DSN_FAILED;
	r.status = enhanced ? enhanced : "";
	if (r.status[0] == '\0')
		r.status = outcome == CP_RCPT_EXPIRED ? "4.4.7" : "5.0.0";
	r.remote_mta = mx ? mx : "";
	r.diagnostic = reply ? reply : "";
	r.explain = explain ? explain
	    : outcome == CP_RCPT_EXPIRED
	    ? "The message could not be delivered before it expired."
	    : "The receiving server refused the message.";
	r.last_attempt = now;
	r.expired = outcome == CP_RCPT_EXPIRED;
	dsn.reporting_mta = hostname;
	dsn.from = from;
	dsn.to = mail_from;
	dsn.queue_id = qid;
	dsn.arrival = received;
	dsn.now = now;
	dsn.orig = orig ? orig : "";
	dsn.orig_len = orig ? header_len(orig, orig_len) : 0;
	dsn.rcpts = &r;
	dsn.n = 1;
	if (cp_dsn_build(&dsn, &x->body, &err) != CP_OK) {
		dl_dsn_free(x);
		return NULL;
	}
	return x;
}
