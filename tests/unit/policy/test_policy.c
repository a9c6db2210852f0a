/*
 * The sending policy (coldpost/policy.h) on a real SQLite store, with an
 * injected clock so that days and weeks pass in milliseconds: daily caps
 * in the mailbox's time zone (3rd message of a 2/day mailbox held to the
 * next local midnight), the ramp, cap_action = refuse at RCPT, provider
 * grouping by MX, a concentration of 550 5.7.1 halving one provider's rate
 * (and not another's) and the rate recovering on schedule, a listed source
 * IP paused for that provider only, a slow-down pause, suppression (hard
 * bounces added, suppressed recipients refused at RCPT and at delivery),
 * state surviving a restart, local days across DST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/kb.h"
#include "coldpost/policy.h"
#include "cptest.h"

typedef struct fixture {
	char dir[256], dsn[300];
	cp_store *st;
	cp_conf conf;
	cp_policy *pol;
	int64_t clock;
	int64_t tenant, mailbox;
} fixture;

static int64_t
fake_clock(void *arg)
{
	return *(int64_t *)arg;
}

/* 2026-11-27 12:00:00 UTC, a Friday: 13:00 in Paris (CET, +1). */
#define T0 1795780800

static void
fx_open_policy(fixture *f)
{
	cp_policy_opts o = { .conf = &f->conf, .store = f->st,
		.clock = fake_clock, .clock_arg = &f->clock };
	cp_err err = { 0 };

	f->pol = cp_policy_new(&o, &err);
	CP_CHECK(f->pol != NULL, "policy: %s", err.msg);
}

static int
fx_init(fixture *f, const char *tz, int32_t cap, int64_t created)
{
	cp_err err = { 0 };
	cp_tenant t = { .name = "acme" };
	cp_domain d = { .name = "acme.example", .selector = "s1",
		.key_path = "/nonexistent/key.pem", .alg = "rsa-sha256" };
	cp_mailbox m = { .address = "ann@acme.example", .tz = tz,
		.daily_cap = cap, .created = created };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/cp-policy-XXXXXX",
	    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->dsn, sizeof(f->dsn), "sqlite:%s/q.db", f->dir);
	f->st = cp_store_open(f->dsn, &err);
	CP_CHECK(f->st != NULL, "store: %s", err.msg);
	if (f->st == NULL)
		return -1;
	CP_CHECK_INT(cp_store_add_tenant(f->st, &t, &err), CP_OK);
	d.tenant = t.id;
	CP_CHECK_INT(cp_store_add_domain(f->st, &d, &err), CP_OK);
	m.tenant = t.id;
	CP_CHECK(cp_store_add_mailbox(f->st, &m, &err) == CP_OK, "mailbox: %s",
	    err.msg);
	f->tenant = t.id;
	f->mailbox = m.id;
	CP_CHECK_INT(cp_conf_init(&f->conf, &err), CP_OK);
	cp_conf_set(&f->conf, "mailbox.ramp", "", &err);
	f->clock = T0;
	fx_open_policy(f);
	return f->pol ? 0 : -1;
}

static void
fx_done(fixture *f)
{
	char cmd[300];

	cp_policy_free(f->pol);
	cp_store_close(f->st);
	cp_conf_clear(&f->conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
}

static int
send(fixture *f, int64_t rcpt_id, const char *rcpt, int64_t *retry)
{
	cp_policy_rcpt r = { .tenant = f->tenant, .mailbox = f->mailbox,
		.rcpt_id = rcpt_id, .rcpt = rcpt };
	cp_policy_verdict v;

	cp_policy_check_send(f->pol, &r, &v);
	if (retry != NULL)
		*retry = v.retry_at;
	return v.verdict;
}

CP_TEST(policy_local_day)
{
	int64_t day, next;
	cp_err err = { 0 };

	/* T0 is 2026-11-27 in Paris; the next day starts 23:00 UTC */
	CP_CHECK_INT(cp_policy_local_day("Europe/Paris", T0, &day, &next,
	    &err), CP_OK);
	CP_CHECK_INT((int)day, 20784);
	CP_CHECK_INT(next, T0 + 11 * 3600);
	/* Tokyo (+9): 21:00 local; next midnight 15:00 UTC */
	CP_CHECK_INT(cp_policy_local_day("Asia/Tokyo", T0, &day, &next, &err),
	    CP_OK);
	CP_CHECK_INT(next, T0 + 3 * 3600);
	/* Los Angeles: 2026-03-08 has 23 hours (DST starts 02:00):
	   that day starts 08:00 UTC, the next 07:00 UTC */
	CP_CHECK_INT(cp_policy_local_day("America/Los_Angeles",
	    1772928000 + 12 * 3600, &day, &next, &err), CP_OK);
	CP_CHECK_INT(next, 1772928000 + 86400 + 7 * 3600);
	/* Santiago skips midnight at DST: 2026-09-06 starts at 01:00 local =
	   04:00 UTC (from -04 to -03) */
	CP_CHECK_INT(cp_policy_local_day("America/Santiago",
	    1788652800 - 6 * 3600, &day, &next, &err), CP_OK);
	CP_CHECK_INT(next, 1788652800 + 4 * 3600);
	CP_CHECK_INT(cp_policy_local_day("Mars/Olympus_Mons", T0, &day, &next,
	    &err), CP_EINVAL);
}

/* The 3rd message of the day for a 2/day mailbox waits for the next local
 * midnight, then goes; its retries do not count twice. */
CP_TEST(policy_cap_third_deferred)
{
	fixture f;
	int64_t retry = 0;

	if (fx_init(&f, "Europe/Paris", 2, T0 - 30 * 86400) != 0)
		return;
	CP_CHECK_INT(send(&f, 1, "a@gmail.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 2, "b@gmail.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 1, "a@gmail.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 3, "c@gmail.test", &retry), CP_POLICY_DEFER);
	CP_CHECK_INT(retry, T0 + 11 * 3600); /* 00:00 Paris */
	f.clock = retry - 1;
	CP_CHECK_INT(send(&f, 3, "c@gmail.test", NULL), CP_POLICY_DEFER);
	f.clock = retry;
	CP_CHECK_INT(send(&f, 3, "c@gmail.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 4, "d@gmail.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 5, "e@gmail.test", &retry), CP_POLICY_DEFER);
	CP_CHECK_INT(retry, T0 + 11 * 3600 + 86400);
	/* DSNs and trusted-network mail do not count */
	{
		cp_policy_rcpt r = { .tenant = f.tenant, .mailbox = f.mailbox,
			.rcpt = "x@y.test", .no_cap = 1 };
		cp_policy_verdict v;

		cp_policy_check_send(f.pol, &r, &v);
		CP_CHECK_INT(v.verdict, CP_POLICY_SEND);
		r.no_cap = 0;
		r.mailbox = 0;
		cp_policy_check_send(f.pol, &r, &v);
		CP_CHECK_INT(v.verdict, CP_POLICY_SEND);
	}
	fx_done(&f);
}

/* A new mailbox follows the ramp, then its cap; the tenant's cap and the
 * config's default apply when the mailbox has none. */
CP_TEST(policy_cap_ramp)
{
	fixture f;
	cp_policy_usage u;
	cp_err err = { 0 };
	int64_t midnight;

	if (fx_init(&f, "UTC", 3, T0 - 3600) != 0)
		return;
	cp_conf_set(&f.conf, "mailbox.ramp", "1,2", &err);
	CP_CHECK_INT(cp_policy_reload(f.pol, &f.conf, &err), CP_OK);
	midnight = T0 + 12 * 3600;
	CP_CHECK_INT(send(&f, 1, "a@x.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 2, "b@x.test", NULL), CP_POLICY_DEFER);
	CP_CHECK_INT(cp_policy_get_usage(f.pol, f.tenant, f.mailbox, 0, &u,
	    &err), CP_OK);
	CP_CHECK_INT((int)u.cap, 1);
	CP_CHECK_INT((int)u.full_cap, 3);
	CP_CHECK_INT((int)u.used, 1);
	CP_CHECK_INT(u.ramping, 1);
	CP_CHECK_INT((int)u.age_days, 0);
	CP_CHECK_INT(u.resets_at, midnight);
	f.clock = midnight; /* day 1: 2 */
	CP_CHECK_INT(send(&f, 2, "b@x.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 3, "c@x.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 4, "d@x.test", NULL), CP_POLICY_DEFER);
	f.clock = midnight + 86400; /* day 2: the cap, 3 */
	for (int i = 5; i < 8; i++)
		CP_CHECK_INT(send(&f, i, "e@x.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 8, "f@x.test", NULL), CP_POLICY_DEFER);
	CP_CHECK_INT(cp_policy_get_usage(f.pol, f.tenant, f.mailbox, 0, &u,
	    &err), CP_OK);
	CP_CHECK_INT(u.ramping, 0);
	CP_CHECK_INT((int)u.age_days, 2);
	fx_done(&f);
}

/* cap_action = refuse: the server refuses at RCPT with the reset time;
 * delivery does not count the accepted ones again. */
CP_TEST(policy_cap_refuse_at_rcpt)
{
	fixture f;
	cp_policy_reply r;
	cp_err err = { 0 };

	if (fx_init(&f, "Asia/Tokyo", 2, T0 - 30 * 86400) != 0)
		return;
	cp_conf_set(&f.conf, "mailbox.cap_action", "refuse", &err);
	CP_CHECK_INT(cp_policy_reload(f.pol, &f.conf, &err), CP_OK);
	for (int i = 0; i < 2; i++) {
		cp_policy_check_rcpt(f.pol, f.tenant, f.mailbox, "a@x.test", 0,
		    &r);
		CP_CHECK_INT(r.code, 0);
	}
	cp_policy_check_rcpt(f.pol, f.tenant, f.mailbox, "c@x.test", 0, &r);
	CP_CHECK_INT(r.code, 452);
	CP_CHECK_STR(r.enhanced, "4.2.2");
	CP_CHECK(strstr(r.text, "2026-11-28 00:00 Asia/Tokyo") != NULL &&
	    strstr(r.text, "2026-11-27T15:00:00Z") != NULL, "text: %s",
	    r.text);
	CP_CHECK_INT(send(&f, 1, "a@x.test", NULL), CP_POLICY_SEND);
	CP_CHECK_INT(send(&f, 2, "b@x.test", NULL), CP_POLICY_SEND);
	f.clock = T0 + 3 * 3600;
	cp_policy_check_rcpt(f.pol, f.tenant, f.mailbox, "c@x.test", 0, &r);
	CP_CHECK_INT(r.code, 0);
	fx_done(&f);
}

/* Suppressed recipients are refused at RCPT (5xx) and at delivery; a hard
 * bounce puts its recipient on the list, a full mailbox does not. */
CP_TEST(policy_suppression)
{
	fixture f;
	cp_policy_reply r;
	cp_suppression s = { .address = "gone@x.test", .reason = "manual" };
	cp_policy_outcome o = { .rcpt = "bad@x.test", .code = 550,
		.enhanced = "5.1.1", .cause = CP_CAUSE_RECIPIENT_UNKNOWN,
		.reply = "550 5.1.1 no such user", .source_ip = "127.0.0.2",
		.mx = "mx.x.test" };
	cp_suppression *got = NULL;
	cp_err err = { 0 };

	if (fx_init(&f, "UTC", 0, T0) != 0)
		return;
	s.tenant = f.tenant;
	CP_CHECK_INT(cp_store_add_suppression(f.st, &s, NULL, &err), CP_OK);
	cp_policy_check_rcpt(f.pol, f.tenant, f.mailbox, "Gone@X.test", 0, &r);
	CP_CHECK_INT(r.code, 550);
	CP_CHECK_STR(r.enhanced, "5.7.1");
	CP_CHECK(strstr(r.text, "suppression list (manual)") != NULL, "%s",
	    r.text);
	CP_CHECK_INT(send(&f, 1, "gone@x.test", NULL), CP_POLICY_REFUSE);
	cp_policy_check_rcpt(f.pol, f.tenant, f.mailbox, "ok@x.test", 0, &r);
	CP_CHECK_INT(r.code, 0);
	/* another tenant's list does not apply */
	cp_policy_check_rcpt(f.pol, f.tenant + 1, 0, "gone@x.test", 0, &r);
	CP_CHECK_INT(r.code, 0);
	o.tenant = f.tenant;
	cp_policy_record_outcome(f.pol, &o);
	CP_CHECK_INT(cp_store_get_suppression(f.st, f.tenant, "bad@x.test",
	    &got, &err), CP_OK);
	if (got) {
		CP_CHECK_STR(got->reason, "bounce");
		CP_CHECK(strstr(got->note, "5.1.1") != NULL, "%s", got->note);
		cp_suppression_free(got);
	}
	CP_CHECK_INT(send(&f, 2, "bad@x.test", NULL), CP_POLICY_REFUSE);
	o.rcpt = "full@x.test";
	o.code = 552;
	o.enhanced = "5.2.2";
	o.cause = CP_CAUSE_MAILBOX_FULL;
	cp_policy_record_outcome(f.pol, &o);
	got = NULL;
	CP_CHECK_INT(cp_store_get_suppression(f.st, f.tenant, "full@x.test",
	    &got, &err), CP_ENOTFOUND);
	fx_done(&f);
}

static void
answer(fixture *f, const char *ip, const char *mx, int code, const char *enh,
    int cause, const char *reply)
{
	cp_policy_outcome o = { .tenant = f->tenant, .rcpt = "r@x.test",
		.source_ip = ip, .mx = mx, .code = code, .enhanced = enh,
		.cause = cause, .reply = reply };

	cp_policy_record_outcome(f->pol, &o);
}

struct states {
	int n;
	char prov[8][64], ip[8][48];
	cp_provider_state s[8];
};

static int
states_cb(void *arg, const cp_provider_state *s)
{
	struct states *c = arg;

	if (c->n < 8) {
		snprintf(c->prov[c->n], 64, "%s", s->provider);
		snprintf(c->ip[c->n], 48, "%s", s->source_ip);
		c->s[c->n] = *s;
	}
	c->n++;
	return 0;
}

static int64_t
rate_of(fixture *f, const char *ip, const char *prov)
{
	struct states c = { 0 };
	cp_err err = { 0 };

	cp_store_list_provider_states(f->st, states_cb, &c, &err);
	for (int i = 0; i < c.n && i < 8; i++)
		if (strcmp(c.prov[i], prov) == 0 && strcmp(c.ip[i], ip) == 0)
			return cp_policy_rate_at(&f->conf, &c.s[i], f->clock);
	return -1;
}

static int
count_events(fixture *f, const char *kind, char *evidence, size_t n);

/* How many sends (source IP, mx) gets in the next `secs` seconds, asking
 * every second. */
static int
sends_in(fixture *f, const char *ip, const char *mx, int secs)
{
	int n = 0;
	int64_t retry;

	for (int i = 0; i < secs; i++, f->clock++)
		n += cp_policy_may_deliver(f->pol, ip, mx, 0, &retry) ==
		    CP_POLICY_SEND;
	return n;
}

/* A concentration of 550 5.7.1 at the Gmail-like provider halves its rate
 * while the Microsoft-like one is untouched; the rate is held for the
 * cool-down, then climbs back to full over ramp_time. */
CP_TEST(policy_pacing_cut_and_recover)
{
	fixture f;
	char evid[2048];
	cp_err err = { 0 };
	char prov[64];

	if (fx_init(&f, "UTC", 0, T0) != 0)
		return;
	cp_conf_set(&f.conf, "throttle.start_rate", "600", &err);
	cp_conf_set(&f.conf, "throttle.max_rate", "600", &err);
	CP_CHECK_INT(cp_policy_reload(f.pol, &f.conf, &err), CP_OK);
	cp_policy_provider_of(f.pol, "ALT1.Gmail-SMTP-in.L.Google.com.", prov,
	    sizeof(prov));
	CP_CHECK_STR(prov, "google");
	cp_policy_provider_of(f.pol, "acme-com.mail.protection.outlook.com",
	    prov, sizeof(prov));
	CP_CHECK_STR(prov, "microsoft");
	cp_policy_provider_of(f.pol, "MX1.Small-ISP.test", prov, sizeof(prov));
	CP_CHECK_STR(prov, "mx1.small-isp.test");
	/* 600/h: a slot every 6 s after a burst of 10 */
	CP_CHECK_INT(sends_in(&f, "127.0.0.2", "mx.google.com", 600), 109);
	CP_CHECK_INT(sends_in(&f, "127.0.0.2", "x.outlook.com", 60), 19);
	/* 10 answers at google, 3 policy refusals (30% > 20%) */
	for (int i = 0; i < 7; i++)
		answer(&f, "127.0.0.2", "mx.google.com", 250, "2.0.0", -1,
		    "250 ok");
	for (int i = 0; i < 3; i++) {
		answer(&f, "127.0.0.2", "mx.google.com", 550, "5.7.1",
		    CP_CAUSE_REPUTATION, "550-5.7.1 unsolicited mail "
		    "originating from your IP address");
		/* a bad address never counts against the provider */
		answer(&f, "127.0.0.2", "x.outlook.com", 550, "5.1.1",
		    CP_CAUSE_RECIPIENT_UNKNOWN, "550 5.1.1 no such user");
	}
	CP_CHECK_INT((int)rate_of(&f, "127.0.0.2", "google"), 300);
	CP_CHECK_INT((int)rate_of(&f, "127.0.0.2", "microsoft"), 600);
	CP_CHECK_INT(count_events(&f, "cut", evid, sizeof(evid)), 1);
	CP_CHECK(strstr(evid, "3 of 10 answers") != NULL &&
	    strstr(evid, "\n550-5.7.1 unsolicited") != NULL &&
	    strstr(evid, "5.7.1 550") == NULL && /* codes not repeated */
	    strstr(evid, "[mx.google.com]") != NULL, "evidence: %s", evid);
	/* the next hour: half as many sends to google (a slot every 12 s,
	   after a burst of 5 refilled while idle) */
	f.clock += 3600;
	CP_CHECK_INT(sends_in(&f, "127.0.0.2", "mx.google.com", 3600), 304);
	CP_CHECK_INT(sends_in(&f, "127.0.0.2", "x.outlook.com", 3600), 609);
	/* held for the cool-down (1 day), then linear over 14 days */
	f.clock = T0 + 600 + 60 + 86400 - 10;
	CP_CHECK_INT((int)rate_of(&f, "127.0.0.2", "google"), 300);
	f.clock += 10 + 7 * 86400;
	CP_CHECK_INT((int)rate_of(&f, "127.0.0.2", "google"), 450);
	f.clock += 7 * 86400;
	CP_CHECK_INT((int)rate_of(&f, "127.0.0.2", "google"), 600);
	fx_done(&f);
}

static int
count_events(fixture *f, const char *kind, char *evidence, size_t n);

struct evs {
	const char *kind;
	int n;
	char *evidence;
	size_t len;
};

static int
events_cb(void *arg, const cp_provider_event *e)
{
	struct evs *c = arg;

	if (strcmp(e->kind, c->kind) == 0) {
		if (c->n == 0 && c->evidence)
			snprintf(c->evidence, c->len, "%s@%s: %s", e->provider,
			    e->source_ip, e->evidence);
		c->n++;
	}
	return 0;
}

static int
count_events(fixture *f, const char *kind, char *evidence, size_t n)
{
	struct evs c = { kind, 0, evidence, n };
	cp_err err = { 0 };

	cp_store_list_provider_events(f->st, 0, 0, events_cb, &c, &err);
	return c.n;
}

/* A blocklist answer naming the source IP pauses that IP for that provider
 * only; a 421 4.7.0 slow down pauses the pair at once. */
CP_TEST(policy_pacing_pause)
{
	fixture f;
	int64_t retry = 0;
	char evid[1024];

	if (fx_init(&f, "UTC", 0, T0) != 0)
		return;
	answer(&f, "127.0.0.2", "mx.google.com", 550, "5.7.1",
	    CP_CAUSE_BLOCKLIST, "550 5.7.1 Service unavailable; client host "
	    "[127.0.0.2] blocked using zen.spamhaus.org");
	/* a listing of another address (127.0.0.20) is not ours */
	answer(&f, "127.0.0.2", "x.outlook.com", 550, "5.7.1",
	    CP_CAUSE_BLOCKLIST, "550 5.7.1 client host [127.0.0.20] blocked");
	CP_CHECK_INT(cp_policy_may_deliver(f.pol, "127.0.0.2", "mx.google.com",
	    0, &retry), CP_POLICY_DEFER);
	CP_CHECK_INT(retry, T0 + 86400);
	CP_CHECK_INT(cp_policy_may_deliver(f.pol, "127.0.0.3", "mx.google.com",
	    0, &retry), CP_POLICY_SEND);
	CP_CHECK_INT(cp_policy_may_deliver(f.pol, "127.0.0.2", "x.outlook.com",
	    0, &retry), CP_POLICY_SEND);
	CP_CHECK_INT(count_events(&f, "pause", evid, sizeof(evid)), 1);
	CP_CHECK(strstr(evid, "google@127.0.0.2: 550 5.7.1") != NULL &&
	    strstr(evid, "zen.spamhaus.org") != NULL, "%s", evid);
	/* the delivery hook with IP and MX says the same */
	{
		cp_policy_rcpt r = { .tenant = f.tenant, .rcpt = "a@b.test",
			.source_ip = "127.0.0.2", .mx = "mx.google.com" };
		cp_policy_verdict v;

		cp_policy_check_send(f.pol, &r, &v);
		CP_CHECK_INT(v.verdict, CP_POLICY_DEFER);
		CP_CHECK_INT(v.retry_at, T0 + 86400);
	}
	f.clock = T0 + 86400;
	CP_CHECK_INT(cp_policy_may_deliver(f.pol, "127.0.0.2", "mx.google.com",
	    0, &retry), CP_POLICY_SEND);
	/* slow down */
	answer(&f, "127.0.0.3", "x.outlook.com", 421, "4.7.0", CP_CAUSE_OTHER,
	    "421 4.7.0 Too many connections, slow down");
	CP_CHECK_INT(cp_policy_may_deliver(f.pol, "127.0.0.3", "x.outlook.com",
	    0, &retry), CP_POLICY_DEFER);
	CP_CHECK_INT(retry, f.clock + 15 * 60);
	CP_CHECK_INT(count_events(&f, "slowdown", NULL, 0), 1);
	fx_done(&f);
}

/* Pacing state, cap usage and the list outlive a restart. */
CP_TEST(policy_state_survives_restart)
{
	fixture f;
	int64_t retry;

	if (fx_init(&f, "UTC", 1, T0 - 30 * 86400) != 0)
		return;
	answer(&f, "127.0.0.2", "mx.google.com", 554, "5.7.1",
	    CP_CAUSE_BLOCKLIST, "554 5.7.1 127.0.0.2 listed at b.barracuda");
	CP_CHECK_INT(send(&f, 1, "a@x.test", NULL), CP_POLICY_SEND);
	cp_policy_free(f.pol);
	f.clock += 60;
	fx_open_policy(&f);
	if (f.pol == NULL)
		return;
	CP_CHECK_INT(cp_policy_may_deliver(f.pol, "127.0.0.2", "mx.google.com",
	    0, &retry), CP_POLICY_DEFER);
	CP_CHECK_INT(send(&f, 2, "b@x.test", NULL), CP_POLICY_DEFER);
	CP_CHECK_INT(send(&f, 1, "a@x.test", NULL), CP_POLICY_SEND);
	fx_done(&f);
}

CP_TEST(policy_providers_parse)
{
	static const struct { const char *txt; int rc; } cases[] = {
		{ "acme .acme.test mx.other.test", CP_OK },
		{ "a .a.test; b *.b.test\n# c\n\n", CP_OK },
		{ "acme", CP_ESYNTAX },             /* no pattern */
		{ "Acme .acme.test", CP_ESYNTAX },  /* upper case name */
		{ "acme .acme..test", CP_ESYNTAX }, /* empty label */
		{ "acme acme_mx.test", CP_ESYNTAX },
		{ "acme .", CP_ESYNTAX },
	};
	cp_policy_providers *t = NULL;
	cp_err err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = cp_policy_providers_parse(cases[i].txt,
		    strlen(cases[i].txt), &t, &err);

		CP_CHECK(rc == cases[i].rc, "case %zu: got %d want %d (%s)", i,
		    rc, cases[i].rc, err.msg);
		if (rc == CP_OK)
			cp_policy_providers_free(t);
	}
	{
		const char *txt = "x .acme.test; y mx.acme.test; "
		    "z *.in.acme.test";

		t = NULL;
		CP_CHECK_INT(cp_policy_providers_parse(txt, strlen(txt), &t,
		    &err), CP_OK);
		if (t == NULL)
			return;
	}
	CP_CHECK_STR(cp_policy_providers_match(t, "a.acme.test"), "x");
	CP_CHECK_STR(cp_policy_providers_match(t, "MX.acme.test."), "y");
	CP_CHECK_STR(cp_policy_providers_match(t, "mx1.in.acme.test"), "z");
	CP_CHECK(cp_policy_providers_match(t, "acme.test") == NULL, "bare");
	CP_CHECK(cp_policy_providers_match(t, "xacme.test") == NULL, "xacme");
	cp_policy_providers_free(t);
}

CP_TEST(policy_ramp_parse)
{
	int64_t v[CP_POLICY_RAMP_MAX];
	size_t n = 9;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_policy_ramp_parse("", v, &n, &err), CP_OK);
	CP_CHECK_INT((int)n, 0);
	CP_CHECK_INT(cp_policy_ramp_parse("1, 2,30", v, &n, &err), CP_OK);
	CP_CHECK_INT((int)n, 3);
	CP_CHECK_INT((int)v[2], 30);
	CP_CHECK_INT(cp_policy_ramp_parse("1,,2", v, &n, &err), CP_ESYNTAX);
	CP_CHECK_INT(cp_policy_ramp_parse("0", v, &n, &err), CP_ESYNTAX);
	CP_CHECK_INT(cp_policy_ramp_parse("1,x", v, &n, &err), CP_ESYNTAX);
}

/* The cp_deliver_policy adapter (deliver.h signature): without a recipient
 * id, a retry on the same local day is recognised by address; suppressed
 * recipients are refused; the reason carries no reply codes (delivery
 * adds its own). */
CP_TEST(policy_deliver_hook)
{
	fixture f;
	cp_policy_verdict v;
	cp_suppression s = { .address = "gone@x.test", .reason = "complaint" };
	cp_err err = { 0 };

	if (fx_init(&f, "Europe/Paris", 2, T0 - 30 * 86400) != 0)
		return;
	s.tenant = f.tenant;
	CP_CHECK_INT(cp_store_add_suppression(f.st, &s, NULL, &err), CP_OK);
	cp_policy_deliver_hook(f.pol, f.tenant, f.mailbox, 0,
	    "a@x.test", 0, 0, &v);
	CP_CHECK_INT(v.verdict, CP_POLICY_SEND);
	cp_policy_deliver_hook(f.pol, f.tenant, f.mailbox, 0,
	    "a@x.test", 0, 0, &v);
	CP_CHECK_INT(v.verdict, CP_POLICY_SEND); /* same recipient again */
	cp_policy_deliver_hook(f.pol, f.tenant, f.mailbox, 0,
	    "b@x.test", 0, 0, &v);
	CP_CHECK_INT(v.verdict, CP_POLICY_SEND);
	cp_policy_deliver_hook(f.pol, f.tenant, f.mailbox, 0,
	    "c@x.test", 0, 0, &v);
	CP_CHECK_INT(v.verdict, CP_POLICY_DEFER);
	CP_CHECK_INT(v.retry_at, T0 + 11 * 3600);
	CP_CHECK(v.reason != NULL && strncmp(v.reason, "daily cap of 2 "
	    "reached", 22) == 0 && strstr(v.reason, "2026-11-28 00:00 "
	    "Europe/Paris (2026-11-27T23:00:00Z)") != NULL, "reason: %s",
	    v.reason ? v.reason : "(null)");
	cp_policy_deliver_hook(f.pol, f.tenant, f.mailbox, 0,
	    "gone@x.test", 0, 0,
	    &v);
	CP_CHECK_INT(v.verdict, CP_POLICY_REFUSE);
	CP_CHECK(v.reason != NULL && strncmp(v.reason, "<gone@x.test> is on",
	    19) == 0 && strstr(v.reason, "(complaint)") != NULL, "reason: %s",
	    v.reason ? v.reason : "(null)");
	fx_done(&f);
}

/* The cp_deliver_observer adapter: a hard bounce suppresses, a blocklist
 * answer naming the source IP pauses the pair. */
CP_TEST(policy_deliver_observer)
{
	fixture f;
	cp_attempt a = { .time = T0, .mx = "mx.google.com",
		.source_ip = "127.0.0.5", .code = 550, .enhanced = "5.1.1",
		.reply = "550 5.1.1 The email account does not exist",
		.cause = "recipient_unknown" };
	cp_deliver_event ev = { .rcpt = "nobody@x.test",
		.cause = CP_CAUSE_RECIPIENT_UNKNOWN, .attempt = &a };
	cp_suppression *got = NULL;
	cp_err err = { 0 };
	int64_t retry;

	if (fx_init(&f, "UTC", 0, T0) != 0)
		return;
	ev.tenant = f.tenant;
	cp_policy_deliver_observer(f.pol, &ev);
	CP_CHECK_INT(cp_store_get_suppression(f.st, f.tenant, "nobody@x.test",
	    &got, &err), CP_OK);
	cp_suppression_free(got);
	CP_CHECK_INT(cp_policy_may_deliver(f.pol, "127.0.0.5", "mx.google.com",
	    0, &retry), CP_POLICY_SEND);
	a.enhanced = "5.7.1";
	a.reply = "554 5.7.1 Service unavailable; Client host [127.0.0.5] "
	    "blocked using b.barracudacentral.org";
	ev.rcpt = "someone@x.test";
	ev.cause = CP_CAUSE_BLOCKLIST;
	cp_policy_deliver_observer(f.pol, &ev);
	CP_CHECK_INT(cp_policy_may_deliver(f.pol, "127.0.0.5", "mx.google.com",
	    0, &retry), CP_POLICY_DEFER);
	CP_CHECK_INT(retry, T0 + 86400);
	got = NULL;
	CP_CHECK_INT(cp_store_get_suppression(f.st, f.tenant, "someone@x.test",
	    &got, &err), CP_ENOTFOUND);
	fx_done(&f);
}
