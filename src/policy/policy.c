/*
 * policy.c - the sending policy's entry points (coldpost/policy.h): the
 * RCPT check of the server, the per-recipient check of delivery, the
 * outcome of each attempt, and the lifecycle.
 *
 * Order of the checks, cheapest refusal first: suppression (a permanent
 * no), then the mailbox's daily cap (a no until its next local midnight),
 * then pacing of the (source IP, provider) pair (a no for minutes). A cap
 * unit is taken only when the recipient will really go (or, with
 * cap_action = refuse, when the server accepts it), so nothing over the
 * cap is ever sent; a store error never says SEND. Hard bounces (a 5xx
 * classified recipient_unknown or mailbox_disabled) go on the tenant's
 * suppression list. One lock serializes the calls; the pacing machine is
 * in policy_pace.c, caps in policy_cap.c, zones in policy_tz.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "coldpost/kb.h"
#include "coldpost/log.h"
#include "policy/policy_int.h"

extern const char cp_policy_providers_data[];
extern const size_t cp_policy_providers_len;

#define POLICY_RETRY_ON_ERROR 300 /* seconds, after a store error */

static int64_t
policy_system_clock(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

int64_t
policy_now(cp_policy *p, int64_t now)
{
	return now > 0 ? now : p->clock(p->clock_arg);
}

int64_t
cp_policy_now(cp_policy *p)
{
	return p->clock(p->clock_arg);
}

void
cp_policy_tick(cp_policy *p, int64_t now)
{
	pthread_mutex_lock(&p->lock);
	policy_pace_tick(p, policy_now(p, now));
	pthread_mutex_unlock(&p->lock);
}

const char *
policy_reason(const char *fmt, ...)
{
	static __thread char buf[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

/* The parts of conf the policy derives: the ramp, the extra providers. */
static int
policy_apply_conf(cp_policy *p, const cp_conf *conf, cp_err *err)
{
	cp_policy_providers *extra = NULL;
	int64_t ramp[CP_POLICY_RAMP_MAX];
	size_t nramp;
	cp_conf copy;
	int rc;

	if ((rc = cp_policy_ramp_parse(conf->mailbox.ramp, ramp, &nramp,
	    err)) != CP_OK)
		return rc;
	if ((rc = cp_policy_providers_parse(conf->throttle.providers,
	    strlen(conf->throttle.providers), &extra, err)) != CP_OK) {
		cp_err_set(err, rc, "throttle.providers: %s", err ? err->msg :
		    "malformed");
		return rc;
	}
	if ((rc = cp_conf_copy(&copy, conf, err)) != CP_OK) {
		cp_policy_providers_free(extra);
		return rc;
	}
	cp_conf_clear(&p->conf);
	p->conf = copy;
	memcpy(p->ramp, ramp, sizeof(ramp));
	p->nramp = nramp;
	cp_policy_providers_free(p->extra);
	p->extra = extra;
	policy_mbox_clear(p); /* caps may come from the config */
	return CP_OK;
}

cp_policy *
cp_policy_new(const cp_policy_opts *o, cp_err *err)
{
	cp_policy *p = cp_calloc(1, sizeof(*p));
	int rc;

	if (p == NULL) {
		cp_err_set(err, CP_ENOMEM, "policy: out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->store = o->store;
	p->clock = o->clock ? o->clock : policy_system_clock;
	p->clock_arg = o->clock_arg;
	p->on_event = o->on_event;
	p->event_arg = o->event_arg;
	rc = cp_conf_init(&p->conf, err);
	if (rc != CP_OK) {
		pthread_mutex_destroy(&p->lock);
		cp_free(p);
		return NULL;
	}
	rc = cp_policy_providers_parse(cp_policy_providers_data,
	    cp_policy_providers_len, &p->builtin, err);
	if (rc == CP_OK)
		rc = policy_apply_conf(p, o->conf, err);
	if (rc == CP_OK)
		rc = policy_pairs_load(p, err);
	if (rc != CP_OK) {
		cp_policy_free(p);
		return NULL;
	}
	return p;
}

void
cp_policy_free(cp_policy *p)
{
	if (p == NULL)
		return;
	policy_pairs_free(p);
	policy_mbox_clear(p);
	cp_policy_providers_free(p->builtin);
	cp_policy_providers_free(p->extra);
	cp_conf_clear(&p->conf);
	pthread_mutex_destroy(&p->lock);
	cp_free(p);
}

int
cp_policy_reload(cp_policy *p, const cp_conf *conf, cp_err *err)
{
	int rc;

	pthread_mutex_lock(&p->lock);
	rc = policy_apply_conf(p, conf, err);
	if (rc == CP_OK) /* operators' pauses and resumes (`coldpost policy`) */
		rc = policy_pairs_load(p, err);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int
cp_policy_set_pause(cp_policy *p, const char *source_ip,
    const char *provider, int64_t until, const char *note, cp_err *err)
{
	int64_t now = policy_now(p, 0);
	int rc;

	pthread_mutex_lock(&p->lock);
	rc = policy_pace_set_pause(p, source_ip, provider, until, note, now,
	    err);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* ---- suppression -------------------------------------------------------- */

/* 1 suppressed (reason into why), 0 not, < 0 store error. */
static int
policy_suppressed(cp_policy *p, int64_t tenant, const char *rcpt,
    char *why, size_t n, cp_err *err)
{
	cp_suppression *s = NULL;
	int rc;

	if (tenant <= 0 || rcpt == NULL || *rcpt == '\0')
		return 0;
	rc = cp_store_get_suppression(p->store, tenant, rcpt, &s, err);
	if (rc == CP_ENOTFOUND)
		return 0;
	if (rc == CP_EINVAL) /* not an address the list can hold */
		return 0;
	if (rc != CP_OK)
		return rc;
	snprintf(why, n, "%s", s->reason);
	cp_suppression_free(s);
	return 1;
}

/* ---- the cap -------------------------------------------------------------- */

/* Take a unit of today's cap: 1 taken (or no cap), 0 full, < 0 error. */
static int
policy_take(cp_policy *p, policy_mbox *m, const char *key, int64_t now,
    int64_t *cap_out, cp_err *err)
{
	int ramping, taken = 0, rc;
	int64_t cap;

	if ((rc = policy_mbox_day(m, now, err)) != CP_OK)
		return rc;
	cap = policy_cap_today(p, m, &ramping, NULL);
	*cap_out = cap;
	if (cap == 0)
		return 1;
	if (p->purged_day < m->day - POLICY_KEEP_DAYS) { /* once a day */
		(void)cp_store_purge_cap_usage(p->store,
		    m->day - POLICY_KEEP_DAYS, NULL, NULL);
		p->purged_day = m->day - POLICY_KEEP_DAYS;
	}
	rc = cp_store_take_cap(p->store, m->id, m->day, cap, key, &taken,
	    NULL, err);
	return rc != CP_OK ? rc : taken;
}

static void
send_cap(cp_policy *p, const cp_policy_rcpt *r, int64_t now,
    cp_policy_verdict *out)
{
	policy_mbox *m;
	char key[CP_STORE_ADDR_MAX + 64], when[128];
	cp_err err = { 0 };
	int64_t cap = 0;
	int rc;

	if (r->mailbox <= 0 || r->no_cap ||
	    p->conf.mailbox.cap_action == CP_CONF_CAP_REFUSE)
		return; /* refuse: the server took the unit at RCPT */
	rc = policy_mbox_get(p, r->tenant, r->mailbox, now, &m, &err);
	if (rc == CP_ENOTFOUND)
		return; /* the mailbox is gone; its mail was accepted */
	if (rc == CP_OK && (rc = policy_mbox_day(m, now, &err)) == CP_OK) {
		if (r->rcpt_id > 0)
			snprintf(key, sizeof(key), "r:%lld",
			    (long long)r->rcpt_id);
		else
			snprintf(key, sizeof(key), "a:%lld:%lld:%.254s",
			    (long long)m->id, (long long)m->day,
			    r->rcpt ? r->rcpt : "");
		rc = policy_take(p, m, key, now, &cap, &err);
	}
	if (rc == 1)
		return;
	out->verdict = CP_POLICY_DEFER;
	if (rc < 0) {
		cp_log(CP_LOG_ERR, POLICY_MOD, "mailbox=%lld rcpt=<%s>: %s",
		    (long long)r->mailbox, r->rcpt, err.msg);
		out->retry_at = now + POLICY_RETRY_ON_ERROR;
		out->reason = policy_reason("sending policy unavailable: %s",
		    err.msg);
		return;
	}
	policy_fmt_local(m, when, sizeof(when));
	out->retry_at = m->day_end;
	out->reason = policy_reason("daily cap of %lld reached for "
	    "mailbox %lld; held until %s", (long long)cap, (long long)m->id,
	    when);
	cp_log(CP_LOG_INFO, POLICY_MOD, "mailbox=%lld rcpt=<%s> cap=%lld "
	    "held until %s", (long long)m->id, r->rcpt, (long long)cap, when);
}

void
cp_policy_check_send(cp_policy *p, const cp_policy_rcpt *r,
    cp_policy_verdict *out)
{
	int64_t now = policy_now(p, r->now), retry = 0;
	char why[CP_STORE_TOKEN_MAX + 1];
	cp_err err = { 0 };
	int s;

	memset(out, 0, sizeof(*out));
	out->verdict = CP_POLICY_SEND;
	pthread_mutex_lock(&p->lock);
	s = policy_suppressed(p, r->tenant, r->rcpt, why, sizeof(why), &err);
	if (s == 1) {
		out->verdict = CP_POLICY_REFUSE;
		out->reason = policy_reason("<%s> is on the tenant's "
		    "suppression list (%s); not sent", r->rcpt, why);
	} else if (s < 0) {
		out->verdict = CP_POLICY_DEFER;
		out->retry_at = now + POLICY_RETRY_ON_ERROR;
		out->reason = policy_reason("sending policy unavailable: %s",
		    err.msg);
	} else {
		/* the cap before pacing: a unit taken is remembered by the
		   recipient's key, so a paced retry passes the cap free */
		send_cap(p, r, now, out);
		if (out->verdict == CP_POLICY_SEND && r->source_ip != NULL &&
		    r->mx != NULL && r->mx[0] && policy_pace_take(p,
		    r->source_ip, r->mx, now, &retry) != CP_POLICY_SEND) {
			out->verdict = CP_POLICY_DEFER;
			out->retry_at = retry;
			out->reason = policy_reason("pacing of %s towards %s: "
			    "next slot at %lld", r->source_ip, r->mx,
			    (long long)retry);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

void
cp_policy_deliver_hook(void *arg, int64_t tenant, int64_t mailbox,
    int64_t rcpt_id, const char *rcpt, int null_sender, int64_t now,
    cp_policy_verdict *out)
{
	cp_policy_rcpt r = { .tenant = tenant, .mailbox = mailbox,
		.rcpt_id = rcpt_id, .rcpt = rcpt, .no_cap = null_sender,
		.now = now };

	cp_policy_check_send(arg, &r, out);
}

/* ---- the server, at RCPT --------------------------------------------------- */

static void
reply_set(cp_policy_reply *out, int code, const char *enh, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
reply_set(cp_policy_reply *out, int code, const char *enh, const char *fmt,
    ...)
{
	va_list ap;

	out->code = code;
	snprintf(out->enhanced, sizeof(out->enhanced), "%s", enh);
	va_start(ap, fmt);
	vsnprintf(out->text, sizeof(out->text), fmt, ap);
	va_end(ap);
}

static void
rcpt_cap(cp_policy *p, int64_t tenant, int64_t mailbox, int64_t now,
    cp_policy_reply *out)
{
	policy_mbox *m;
	char when[128];
	cp_err err = { 0 };
	int64_t cap = 0;
	int rc;

	rc = policy_mbox_get(p, tenant, mailbox, now, &m, &err);
	if (rc == CP_ENOTFOUND)
		return;
	if (rc == CP_OK)
		rc = policy_take(p, m, NULL, now, &cap, &err);
	if (rc == 1)
		return;
	if (rc < 0) {
		reply_set(out, 451, "4.3.0", "Sending policy unavailable, try "
		    "again later");
		cp_log(CP_LOG_ERR, POLICY_MOD, "mailbox=%lld: %s",
		    (long long)mailbox, err.msg);
		return;
	}
	policy_fmt_local(m, when, sizeof(when));
	reply_set(out, 452, "4.2.2", "Daily cap of %lld messages reached for "
	    "this mailbox; it resets at %s", (long long)cap, when);
	cp_log(CP_LOG_INFO, POLICY_MOD, "mailbox=%lld cap=%lld refused at "
	    "RCPT until %s", (long long)mailbox, (long long)cap, when);
}

void
cp_policy_check_rcpt(cp_policy *p, int64_t tenant, int64_t mailbox,
    const char *rcpt, int64_t now, cp_policy_reply *out)
{
	char why[CP_STORE_TOKEN_MAX + 1];
	cp_err err = { 0 };
	int s;

	memset(out, 0, sizeof(*out));
	now = policy_now(p, now);
	pthread_mutex_lock(&p->lock);
	s = policy_suppressed(p, tenant, rcpt, why, sizeof(why), &err);
	if (s == 1)
		reply_set(out, 550, "5.7.1", "<%.200s> is on this sender's "
		    "suppression list (%s); not sent", rcpt, why);
	else if (s < 0)
		reply_set(out, 451, "4.3.0", "Sending policy unavailable, try "
		    "again later");
	else if (mailbox > 0 &&
	    p->conf.mailbox.cap_action == CP_CONF_CAP_REFUSE)
		rcpt_cap(p, tenant, mailbox, now, out);
	pthread_mutex_unlock(&p->lock);
}

/* ---- outcomes --------------------------------------------------------------- */

/* A 5xx saying the address does not exist (or is disabled for good). */
static int
policy_hard_bounce(const cp_policy_outcome *o)
{
	return o->code >= 500 && o->code < 600 &&
	    (o->cause == CP_CAUSE_RECIPIENT_UNKNOWN ||
	    o->cause == CP_CAUSE_MAILBOX_DISABLED);
}

void
cp_policy_record_outcome(cp_policy *p, const cp_policy_outcome *o)
{
	int64_t now = policy_now(p, o->now);
	cp_err err = { 0 };

	pthread_mutex_lock(&p->lock);
	if (policy_hard_bounce(o) && o->tenant > 0 && o->rcpt != NULL) {
		cp_suppression s = { .tenant = o->tenant, .address = o->rcpt,
			.reason = "bounce", .created = now };
		char note[CP_STORE_REPLY_MAX + 1];
		int added = 0;

		snprintf(note, sizeof(note), "%d %s %s", o->code,
		    o->enhanced ? o->enhanced : "", o->reply ? o->reply : "");
		s.note = note;
		if (cp_store_add_suppression(p->store, &s, &added, &err) !=
		    CP_OK)
			cp_log(CP_LOG_ERR, POLICY_MOD, "suppress <%s>: %s",
			    o->rcpt, err.msg);
		else if (added)
			cp_log(CP_LOG_INFO, POLICY_MOD, "tenant=%lld <%s> "
			    "suppressed: hard bounce %d %s", (long long)o->tenant,
			    o->rcpt, o->code, o->enhanced ? o->enhanced : "");
	}
	if (o->source_ip != NULL && o->source_ip[0] && o->mx != NULL &&
	    o->mx[0] && o->code > 0)
		policy_pace_record(p, o, now);
	pthread_mutex_unlock(&p->lock);
}

void
cp_policy_deliver_observer(void *arg, const cp_deliver_event *ev)
{
	const cp_attempt *a = ev->attempt;
	cp_policy_outcome o = { .tenant = ev->tenant, .rcpt = ev->rcpt,
		.cause = ev->cause };

	if (a != NULL) {
		o.source_ip = a->source_ip;
		o.mx = a->mx;
		o.code = a->code;
		o.enhanced = a->enhanced;
		o.reason = a->reason;
		o.reply = a->reply;
		/* o.now stays 0, the policy's clock: a->time is the system
		   clock's, and the pacing state must not mix the two when a
		   test clock runs ahead (the attempt was a moment ago) */
	}
	cp_policy_record_outcome(arg, &o);
}

int
cp_policy_may_deliver(cp_policy *p, const char *source_ip, const char *mx,
    int64_t now, int64_t *retry_at)
{
	int v;

	now = policy_now(p, now);
	*retry_at = 0;
	pthread_mutex_lock(&p->lock);
	v = policy_pace_take(p, source_ip, mx, now, retry_at);
	pthread_mutex_unlock(&p->lock);
	return v;
}

void
cp_policy_provider_of(cp_policy *p, const char *mx, char *out, size_t n)
{
	pthread_mutex_lock(&p->lock);
	policy_provider(p, mx, out, n);
	pthread_mutex_unlock(&p->lock);
}

int
cp_policy_get_usage(cp_policy *p, int64_t tenant, int64_t mailbox,
    int64_t now, cp_policy_usage *out, cp_err *err)
{
	policy_mbox *m;
	int rc;

	memset(out, 0, sizeof(*out));
	now = policy_now(p, now);
	pthread_mutex_lock(&p->lock);
	rc = policy_mbox_get(p, tenant, mailbox, now, &m, err);
	if (rc == CP_OK)
		rc = policy_mbox_day(m, now, err);
	if (rc == CP_OK) {
		out->cap = policy_cap_today(p, m, &out->ramping,
		    &out->age_days);
		out->full_cap = m->cap;
		out->day = m->day;
		out->resets_at = m->day_end;
		rc = cp_store_get_cap_usage(p->store, m->id, m->day,
		    &out->used, err);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}
