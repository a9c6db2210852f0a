/*
 * policy_pace.c - pacing per (source IP, provider): a rate in messages per
 * hour, cut when a provider's policy refusals concentrate, won back
 * slowly; pauses for a listed IP and for "slow down" answers.
 *
 * The rate of a pair at time t is linear between two points: `rate` at
 * `ramp_from` and throttle.max_rate throttle.ramp_time later (flat before
 * ramp_from: that is the cool-down). A new pair starts at
 * throttle.start_rate with ramp_from = now (IP warm-up); a cut halves the
 * rate of the moment and sets ramp_from = now + throttle.cooldown, so the
 * rate is held, then climbs back (default: 1 day held, 14 days to full).
 * A token bucket of one minute's worth of the rate spaces the sends.
 *
 * Only policy refusals count against a provider: causes reputation,
 * blocklist, content, policy and rate_limit (kb.h); a bad address or a
 * full mailbox says nothing about our standing, and neither does a 2xx
 * (it counts in the share's denominator). The share is judged over
 * throttle.window, kept in POLICY_BUCKETS slices so old answers fall
 * out; after a cut the window starts empty, so one burst cuts once.
 * Every decision is stored with the state (cp_store_put_provider_state,
 * one transaction) and logged with its evidence: the last answers, then
 * handed to the policy's on_event (webhooks). When a cut's cool-down or a
 * pause runs out, a "recover" event says so: noticed on the pair's next
 * use or by cp_policy_tick, whichever comes first (the end itself needs
 * no state change: the rate formula and paused_until already say it).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/kb.h"
#include "coldpost/log.h"
#include "policy/policy_int.h"

#define PAIR_BUCKETS 1024

/* ---- the pair table ------------------------------------------------------- */

static uint64_t
pair_hash(const char *ip, const char *provider)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *s = ip; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	h = (h ^ '|') * 1099511628211ull;
	for (const char *s = provider; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The canonical text of an IP (as the store keeps it); 0 if not one. */
static int
pace_norm_ip(const char *ip, char out[48])
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return inet_ntop(AF_INET, a, out, 48) != NULL;
	if (inet_pton(AF_INET6, ip, a) == 1)
		return inet_ntop(AF_INET6, a, out, 48) != NULL;
	return 0;
}

const char *
policy_provider(cp_policy *p, const char *mx, char *buf, size_t n)
{
	const char *who = cp_policy_providers_match(p->extra, mx);
	size_t i = 0;

	if (who == NULL)
		who = cp_policy_providers_match(p->builtin, mx);
	if (who != NULL) {
		snprintf(buf, n, "%s", who);
		return buf;
	}
	/* one group per other MX host: the host, lower case, no dot */
	for (; mx[i] != '\0' && i + 1 < n; i++)
		buf[i] = (char)tolower((unsigned char)mx[i]);
	if (i > 0 && buf[i - 1] == '.')
		i--;
	buf[i] = '\0';
	return buf;
}

static policy_pair *
pair_find(cp_policy *p, const char *ip, const char *provider)
{
	policy_pair *e;

	if (p->pairs == NULL)
		return NULL;
	e = p->pairs[pair_hash(ip, provider) % p->nbuckets];
	for (; e != NULL; e = e->next)
		if (strcmp(e->ip, ip) == 0 && strcmp(e->provider, provider) == 0)
			return e;
	return NULL;
}

static policy_pair *
pair_add(cp_policy *p, const char *ip, const char *provider)
{
	policy_pair *e;
	size_t b;

	if (p->pairs == NULL) {
		p->pairs = cp_calloc(PAIR_BUCKETS, sizeof(*p->pairs));
		if (p->pairs == NULL)
			return NULL;
		p->nbuckets = PAIR_BUCKETS;
	}
	if ((e = cp_calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->ip, sizeof(e->ip), "%s", ip);
	snprintf(e->provider, sizeof(e->provider), "%s", provider);
	e->st.source_ip = e->ip;
	e->st.provider = e->provider;
	b = pair_hash(ip, provider) % p->nbuckets;
	e->next = p->pairs[b];
	p->pairs[b] = e;
	p->npairs++;
	return e;
}

void
policy_pairs_free(cp_policy *p)
{
	for (size_t b = 0; p->pairs != NULL && b < p->nbuckets; b++) {
		policy_pair *e = p->pairs[b], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			cp_free(e);
		}
	}
	cp_free(p->pairs);
	p->pairs = NULL;
	p->npairs = 0;
}

static int
load_cb(void *arg, const cp_provider_state *s)
{
	cp_policy *p = arg;
	policy_pair *e = pair_find(p, s->source_ip, s->provider);

	if (e == NULL && (e = pair_add(p, s->source_ip, s->provider)) == NULL)
		return 1;
	if (e->stored && e->st.updated > s->updated)
		return 0; /* ours is newer */
	e->st.rate = s->rate;
	e->st.ramp_from = s->ramp_from;
	e->st.paused_until = s->paused_until;
	e->st.cuts = s->cuts;
	e->st.updated = s->updated;
	/* a cool-down or pause still running when the last process stopped
	   is announced when it ends, by this one */
	e->recover_at = s->cuts > 0 && s->ramp_from > s->paused_until ?
	    s->ramp_from : s->paused_until;
	if (e->recover_at <= s->updated)
		e->recover_at = 0; /* ended before the last change: told */
	if (!e->stored)
		e->tokens = -1; /* filled on first use */
	e->stored = 1;
	return 0;
}

int
policy_pairs_load(cp_policy *p, cp_err *err)
{
	return cp_store_list_provider_states(p->store, load_cb, p, err);
}

/* ---- rates -------------------------------------------------------------- */

int64_t
cp_policy_rate_at(const cp_conf *conf, const cp_provider_state *s,
    int64_t now)
{
	int64_t max = conf->throttle.max_rate, r0, ramp;

	if (max == 0)
		return 0;
	r0 = s->rate < max ? s->rate : max;
	if (now <= s->ramp_from)
		return r0;
	ramp = conf->throttle.ramp_time / 1000;
	if (ramp <= 0 || now - s->ramp_from >= ramp)
		return max;
	return r0 + (max - r0) * (now - s->ramp_from) / ramp;
}

static int
pace_save(cp_policy *p, policy_pair *e, cp_provider_event *ev, int64_t now)
{
	cp_err err = { 0 };
	int rc;

	e->st.updated = now;
	rc = cp_store_put_provider_state(p->store, &e->st, ev, &err);
	if (rc != CP_OK)
		cp_log(CP_LOG_ERR, POLICY_MOD, "provider=%s ip=%s: %s",
		    e->provider, e->ip, err.msg);
	else
		e->stored = 1;
	return rc;
}

static void pace_event(cp_policy *p, policy_pair *e, const char *kind,
    int64_t before, int64_t until, const char *evidence, int64_t now);

/* The cool-down or pause of e is over: say so once. */
static void
pace_recover(cp_policy *p, policy_pair *e, int64_t now)
{
	int64_t rate;

	if (e->recover_at == 0 || now < e->recover_at ||
	    e->st.paused_until > now || e->st.ramp_from > now)
		return;
	e->recover_at = 0;
	rate = cp_policy_rate_at(&p->conf, &e->st, now);
	pace_event(p, e, "recover", rate, 0, e->st.cuts > 0 ? "the cool-down "
	    "ended: the rate climbs back to throttle.max_rate over "
	    "throttle.ramp_time" : "the pause ended", now);
}

void
policy_pace_tick(cp_policy *p, int64_t now)
{
	for (size_t b = 0; p->pairs != NULL && b < p->nbuckets; b++)
		for (policy_pair *e = p->pairs[b]; e != NULL; e = e->next)
			pace_recover(p, e, now);
}

static policy_pair *
pair_get(cp_policy *p, const char *ip, const char *mx, int64_t now)
{
	char nip[48], prov[CP_STORE_DOMAIN_MAX + 1];
	policy_pair *e;

	if (!pace_norm_ip(ip, nip))
		return NULL;
	policy_provider(p, mx, prov, sizeof(prov));
	if (prov[0] == '\0')
		return NULL;
	if ((e = pair_find(p, nip, prov)) != NULL) {
		pace_recover(p, e, now);
		return e;
	}
	if ((e = pair_add(p, nip, prov)) == NULL)
		return NULL;
	e->st.rate = p->conf.throttle.start_rate;
	e->st.ramp_from = now;
	e->tokens = -1;
	(void)pace_save(p, e, NULL, now); /* the warm-up survives restarts */
	return e;
}

int
policy_pace_take(cp_policy *p, const char *ip, const char *mx, int64_t now,
    int64_t *retry_at)
{
	policy_pair *e = pair_get(p, ip, mx, now);
	double rate, cap;

	if (e == NULL)
		return CP_POLICY_SEND; /* no IP / MX to pace by */
	if (e->st.paused_until > now) {
		*retry_at = e->st.paused_until;
		return CP_POLICY_DEFER;
	}
	rate = (double)cp_policy_rate_at(&p->conf, &e->st, now);
	if (rate <= 0)
		return CP_POLICY_SEND; /* throttle.max_rate = 0: no pacing */
	cap = rate / 60.0 < 1.0 ? 1.0 : rate / 60.0;
	if (e->tokens < 0) {
		e->tokens = cap;
	} else if (now > e->tokens_at) {
		e->tokens += (double)(now - e->tokens_at) * rate / 3600.0;
		if (e->tokens > cap)
			e->tokens = cap;
	}
	e->tokens_at = now;
	if (e->tokens >= 1.0) {
		e->tokens -= 1.0;
		return CP_POLICY_SEND;
	}
	*retry_at = now + (int64_t)((1.0 - e->tokens) * 3600.0 / rate) + 1;
	return CP_POLICY_DEFER;
}

/* ---- outcomes ------------------------------------------------------------- */

static int
pace_policy_refusal(const cp_policy_outcome *o)
{
	if (o->code < 400)
		return 0;
	switch (o->cause) {
	case CP_CAUSE_REPUTATION:
	case CP_CAUSE_BLOCKLIST:
	case CP_CAUSE_CONTENT:
	case CP_CAUSE_POLICY:
	case CP_CAUSE_RATE_LIMIT:
		return 1;
	default:
		return 0;
	}
}

/* Does the reply name ip (not as part of a longer number)? */
static int
pace_names_ip(const char *reply, const char *ip)
{
	size_t n = strlen(ip);

	for (const char *s = reply; reply && (s = strstr(s, ip)) != NULL;
	    s++) {
		char before = s == reply ? ' ' : s[-1], after = s[n];

		if (!isxdigit((unsigned char)before) && before != '.' &&
		    before != ':' && !isxdigit((unsigned char)after) &&
		    !(after == '.' && isdigit((unsigned char)s[n + 1])) &&
		    after != ':')
			return 1;
	}
	return 0;
}

/* One answer as evidence: "550 5.7.1 text [mx]", on one line. The reply
 * text usually starts with its codes already: they are not repeated. */
static void
pace_answer(const cp_policy_outcome *o, char *buf, size_t n)
{
	const char *reply = o->reply ? o->reply : "";
	char code[8];
	size_t i;

	snprintf(code, sizeof(code), "%d", o->code);
	if (strncmp(reply, code, 3) == 0 &&
	    (reply[3] == ' ' || reply[3] == '-'))
		snprintf(buf, n, "%s [%s]", reply, o->mx);
	else
		snprintf(buf, n, "%d %s%s%s [%s]", o->code,
		    o->enhanced ? o->enhanced : "",
		    o->enhanced && o->enhanced[0] ? " " : "", reply, o->mx);
	for (i = 0; buf[i]; i++) /* one line per answer */
		if (buf[i] == '\r' || buf[i] == '\n')
			buf[i] = ' ';
}

static void
pace_evidence_add(policy_pair *e, const cp_policy_outcome *o)
{
	pace_answer(o, e->evidence[e->nevidence++ % POLICY_EVIDENCE_N],
	    POLICY_EVIDENCE_LEN);
}

/* The kept answers, oldest first, one per line, into buf. */
static void
pace_evidence(const policy_pair *e, char *buf, size_t n)
{
	unsigned k = e->nevidence > POLICY_EVIDENCE_N ?
	    e->nevidence - POLICY_EVIDENCE_N : 0;
	size_t len = 0;

	buf[0] = '\0';
	for (; k < e->nevidence && len + 1 < n; k++) {
		int w = snprintf(buf + len, n - len, "%s%s", len ? "\n" : "",
		    e->evidence[k % POLICY_EVIDENCE_N]);

		if (w < 0)
			break;
		len += (size_t)w < n - len ? (size_t)w : n - len - 1;
	}
}

static void
pace_event(cp_policy *p, policy_pair *e, const char *kind, int64_t before,
    int64_t until, const char *evidence, int64_t now)
{
	cp_provider_event ev = { .time = now, .kind = kind,
		.source_ip = e->ip, .provider = e->provider,
		.rate_before = before,
		.rate_after = cp_policy_rate_at(&p->conf, &e->st, now),
		.until = until, .evidence = evidence };

	if (until > now && until > e->recover_at)
		e->recover_at = until; /* announce its end */
	else if (strcmp(kind, "resume") == 0)
		e->recover_at = e->st.ramp_from > now ? e->st.ramp_from : 0;
	if (pace_save(p, e, &ev, now) == CP_OK && p->on_event != NULL)
		p->on_event(p->event_arg, &ev);
	cp_log(CP_LOG_WARN, POLICY_MOD, "provider=%s ip=%s %s rate=%lld->%lld"
	    "/h until=%lld cuts=%lld evidence=\"%s\"", e->provider, e->ip,
	    kind, (long long)before, (long long)ev.rate_after,
	    (long long)until, (long long)e->st.cuts, evidence);
}

/* Count the answer in its slice; slices older than the window are reset. */
static void
pace_window_add(cp_policy *p, policy_pair *e, int refused, int64_t now,
    uint32_t *answers, uint32_t *nrefused)
{
	int64_t win = p->conf.throttle.window / 1000, slice;
	policy_bucket *b;

	slice = win / POLICY_BUCKETS > 0 ? win / POLICY_BUCKETS : 1;
	b = &e->win[(now / slice) % POLICY_BUCKETS];
	if (b->start != now / slice * slice) {
		b->start = now / slice * slice;
		b->answers = b->refused = 0;
	}
	b->answers++;
	b->refused += refused != 0;
	*answers = *nrefused = 0;
	for (int i = 0; i < POLICY_BUCKETS; i++)
		if (e->win[i].start > now - win) {
			*answers += e->win[i].answers;
			*nrefused += e->win[i].refused;
		}
}

static void
pace_pause(cp_policy *p, policy_pair *e, const char *kind, int64_t len_ms,
    const cp_policy_outcome *o, int64_t now)
{
	int64_t until = now + len_ms / 1000, rate;
	char evid[POLICY_EVIDENCE_LEN];

	if (e->st.paused_until >= until)
		return; /* paused as long already: no new decision */
	rate = cp_policy_rate_at(&p->conf, &e->st, now);
	e->st.paused_until = until;
	pace_answer(o, evid, sizeof(evid));
	pace_event(p, e, kind, rate, until, evid, now);
}

static void
pace_cut(cp_policy *p, policy_pair *e, uint32_t answers, uint32_t refused,
    int64_t now)
{
	int64_t before = cp_policy_rate_at(&p->conf, &e->st, now);
	char evid[POLICY_EVIDENCE_N * (POLICY_EVIDENCE_LEN + 1) + 96];
	size_t len;

	len = (size_t)snprintf(evid, sizeof(evid), "%u of %u answers in the "
	    "window were policy refusals:\n", refused, answers);
	pace_evidence(e, evid + len, sizeof(evid) - len);
	e->st.rate = before / 2 > 0 ? before / 2 : 1;
	e->st.ramp_from = now + p->conf.throttle.cooldown / 1000;
	e->st.cuts++;
	e->tokens = e->tokens > 1.0 ? 1.0 : e->tokens;
	memset(e->win, 0, sizeof(e->win)); /* judge a fresh window next */
	pace_event(p, e, "cut", before, e->st.ramp_from, evid, now);
}

void
policy_pace_record(cp_policy *p, const cp_policy_outcome *o, int64_t now)
{
	policy_pair *e = pair_get(p, o->source_ip, o->mx, now);
	int refused = pace_policy_refusal(o);
	uint32_t answers, nrefused;

	if (e == NULL)
		return;
	if (refused)
		pace_evidence_add(e, o);
	if (refused && (o->cause == CP_CAUSE_BLOCKLIST || o->blocklist) &&
	    pace_names_ip(o->reply, e->ip)) {
		pace_pause(p, e, "pause", p->conf.throttle.pause, o, now);
	} else if (o->code / 100 == 4 && (o->cause == CP_CAUSE_RATE_LIMIT ||
	    (o->code == 421 && o->enhanced != NULL &&
	    strncmp(o->enhanced, "4.7.", 4) == 0))) {
		pace_pause(p, e, "slowdown", p->conf.throttle.slowdown, o, now);
	}
	pace_window_add(p, e, refused, now, &answers, &nrefused);
	if (refused && answers >= (uint32_t)p->conf.throttle.min_answers &&
	    (int64_t)nrefused * 100 >=
	    p->conf.throttle.refusal_share * (int64_t)answers)
		pace_cut(p, e, answers, nrefused, now);
}

int
policy_pace_set_pause(cp_policy *p, const char *ip, const char *provider,
    int64_t until, const char *note, int64_t now, cp_err *err)
{
	policy_pair *e = pair_get(p, ip, provider, now);
	int64_t rate;

	if (e == NULL)
		return cp_err_set(err, CP_EINVAL, "policy: '%s' is not an IP "
		    "address", ip);
	rate = cp_policy_rate_at(&p->conf, &e->st, now);
	e->st.paused_until = until > now ? until : 0;
	pace_event(p, e, until > now ? "manual-pause" : "resume", rate,
	    e->st.paused_until, note ? note : "", now);
	return e->stored ? CP_OK : cp_err_set(err, CP_ESTORE, "policy: the "
	    "store did not take the change (see the log)");
}
