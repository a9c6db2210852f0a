/*
 * policy.h - the sending policy (issue 5): per-mailbox daily caps with a
 * ramp, per-(source IP, provider) pacing, the suppression list.
 *
 * One cp_policy per process, shared by the server and delivery threads
 * (calls are serialized by its lock; the store calls it makes are short).
 * Four calls plug it into the relay (docs/policy.md, "Wiring"):
 *
 *   cp_policy_check_rcpt     server, at RCPT: suppressed -> 550; over the
 *                            cap with mailbox.cap_action = refuse -> 452
 *                            saying when the cap resets.
 *   cp_policy_check_send     delivery, before each recipient goes out:
 *                            suppression, daily cap (+ ramp) and, when the
 *                            source IP and MX are known, provider pacing.
 *                            cp_policy_deliver_hook is the same call with
 *                            the cp_deliver_policy signature (deliver.h).
 *   cp_policy_record_outcome delivery, after each attempt with its
 *                            classified answer: feeds the pacing machine,
 *                            puts hard bounces on the suppression list.
 *   cp_policy_may_deliver    delivery, before a message goes to an MX from
 *                            a source IP: the pair's rate and pause.
 *
 * Daily caps: the cap of a mailbox is its own (cp_mailbox.daily_cap >= 0),
 * else its tenant's (cp_tenant.mailbox_cap > 0), else mailbox.daily_cap;
 * 0 is no cap. A mailbox in its first days gets min(cap, mailbox.ramp[age])
 * where age counts local days since its creation. Days are the mailbox's
 * own (cp_mailbox.tz, IANA), computed with ICU's calendar (thread-safe,
 * no setenv("TZ")). Each recipient counts once (by its queue id: retries
 * do not count again); DSNs and trusted-network mail (mailbox 0) do not
 * count. With cap_action = defer a recipient over the cap is held until
 * the mailbox's next local midnight; with refuse the unit is taken at RCPT
 * time and delivery does not count again.
 *
 * Pacing: recipients are grouped into providers by MX host (the built-in
 * table src/policy/providers.txt plus throttle.providers; any other MX
 * host is a provider of its own). Each (source IP, provider) has a rate in
 * messages per hour: it starts at throttle.start_rate and climbs linearly
 * to throttle.max_rate over throttle.ramp_time. When policy refusals
 * (causes reputation, blocklist, content, policy, rate_limit; never a bad
 * address or a full mailbox) reach throttle.refusal_share percent of at
 * least throttle.min_answers answers within throttle.window, the rate is
 * halved, held for throttle.cooldown, then climbs back over ramp_time. A
 * blocklist answer naming the source IP pauses that pair for
 * throttle.pause; a 421 or 4.7.x "slow down" (rate_limit) pauses it for
 * throttle.slowdown at once. Each decision is an event with its evidence
 * (the answers), logged (module "policy") and stored (`coldpost policy`).
 *
 * Time: every call takes `now` (unix seconds); 0 means the policy's clock,
 * which tests replace (cp_policy_opts.clock) to run days in seconds. The
 * times it returns (retry_at) are on that clock too: a caller whose own
 * clock differs (delivery schedules by the system's) translates them.
 * Outcomes from cp_policy_deliver_observer are dated by the policy's clock.
 */
#ifndef COLDPOST_POLICY_H
#define COLDPOST_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/conf.h"
#include "coldpost/deliver.h" /* cp_policy_verdict, CP_POLICY_* */
#include "coldpost/err.h"
#include "coldpost/store.h"

typedef struct cp_policy cp_policy;

/* A clock in unix seconds. */
typedef int64_t (*cp_policy_clock)(void *arg);

/*
 * Called with every pacing decision once it is stored (kinds "cut",
 * "pause", "slowdown", "manual-pause", "resume", and "recover" when a
 * cut's cool-down or a pause has run out), under the policy's lock:
 * copy what is needed and return (cp_webhook_emit_provider does).
 * ev->source_ip and ev->provider are set.
 */
typedef void (*cp_policy_event_fn)(void *arg, const cp_provider_event *ev);

typedef struct cp_policy_opts {
	const cp_conf *conf;   /* copied */
	cp_store *store;       /* borrowed; outlives the policy */
	cp_policy_clock clock; /* NULL: the system clock */
	void *clock_arg;
	cp_policy_event_fn on_event; /* NULL: none */
	void *event_arg;
} cp_policy_opts;

/* Loads the pacing state kept in the store; NULL + err on failure
 * (CP_ESYNTAX: throttle.providers or mailbox.ramp is malformed). */
cp_policy *cp_policy_new(const cp_policy_opts *opts, cp_err *err);
void cp_policy_free(cp_policy *p); /* NULL is fine */
/* New settings (SIGHUP); the pacing state stays. */
int cp_policy_reload(cp_policy *p, const cp_conf *conf, cp_err *err);
/* The policy's clock. */
int64_t cp_policy_now(cp_policy *p);
/*
 * Housekeeping a caller runs every few seconds: a pair whose cool-down
 * or pause ended gets its "recover" event even when no mail goes there
 * (delivery's own calls notice it too, on the pair's next message).
 */
void cp_policy_tick(cp_policy *p, int64_t now);

/* ---- (1) delivery: may this recipient go out now? ---------------------- */

typedef struct cp_policy_rcpt {
	int64_t tenant;
	int64_t mailbox;       /* submitting mailbox; 0: no cap */
	int64_t rcpt_id;       /* queue recipient id; 0: unknown (then a
	                          retry on the same local day is recognised
	                          by address, one on a later day counts) */
	const char *rcpt;      /* recipient address */
	const char *source_ip; /* NULL: not chosen yet (pacing not asked) */
	const char *mx;        /* MX host; NULL: not known (pacing not asked) */
	int no_cap;            /* 1: a DSN or null-sender message */
	int64_t now;           /* 0: the policy's clock */
} cp_policy_rcpt;

/*
 * SEND, DEFER (retry_at: the mailbox's next local midnight for a full
 * cap, the end of a pause or the next free slot for pacing) or REFUSE
 * (suppressed). SEND with source_ip and mx set has taken a pacing slot.
 * out->reason is text for the attempt record without codes ("daily cap
 * of 2 reached for mailbox 7; held until 2026-11-29 00:00 Europe/Paris
 * (...)"), valid until this thread's next call. A store error gives DEFER in 5
 * minutes (never SEND: the cap must hold).
 */
void cp_policy_check_send(cp_policy *p, const cp_policy_rcpt *r,
    cp_policy_verdict *out);
/* cp_deliver_policy (deliver.h) for cp_deliver_opts.policy; arg is the
 * cp_policy. Without a recipient id, source IP or MX: see above. */
void cp_policy_deliver_hook(void *arg, int64_t tenant, int64_t mailbox,
    int64_t rcpt_id, const char *rcpt, int null_sender, int64_t now,
    cp_policy_verdict *out);

/* ---- (2) server: at RCPT ------------------------------------------------ */

typedef struct cp_policy_reply {
	int code;          /* 0: accept; 550 or 452 */
	char enhanced[8];  /* "5.7.1", "4.2.2" */
	char text[256];    /* the reply text after the codes */
} cp_policy_reply;

/* Suppressed -> 550 5.7.1; cap reached with cap_action = refuse -> 452
 * 4.2.2 "... resets at 2026-11-29 00:00 Europe/Paris"; else code 0 (with
 * refuse, the recipient has taken its unit of the day). A store error
 * gives 451 4.3.0. */
void cp_policy_check_rcpt(cp_policy *p, int64_t tenant, int64_t mailbox,
    const char *rcpt, int64_t now, cp_policy_reply *out);

/* ---- (3) delivery: each attempt's classified outcome ------------------- */

typedef struct cp_policy_outcome {
	int64_t tenant;
	const char *rcpt;
	const char *source_ip; /* "" or NULL: no pacing update */
	const char *mx;        /* host that answered, "" or NULL: none */
	int code;              /* basic reply code; 0: no answer */
	const char *enhanced;  /* "5.7.1" or "" */
	int cause;             /* cp_cause (kb.h), -1: none / delivered */
	const char *reason;    /* classifier's reason, may be NULL */
	const char *blocklist; /* classifier's blocklist, may be NULL */
	const char *reply;     /* the reply text, may be NULL */
	int64_t now;           /* 0: the policy's clock */
} cp_policy_outcome;

/* Never fails the caller: store errors are logged. Writes to the store
 * only for a decision (an event) or a new suppression. */
void cp_policy_record_outcome(cp_policy *p, const cp_policy_outcome *o);
/* cp_deliver_observer (deliver.h) for cp_deliver_opts.observe; arg is the
 * cp_policy. Maps the event's attempt to cp_policy_record_outcome. */
void cp_policy_deliver_observer(void *arg, const cp_deliver_event *ev);

/* ---- (4) delivery: may (source IP, provider of mx) take one more? ------ */

/* CP_POLICY_SEND (a slot of the hour's rate taken) or CP_POLICY_DEFER
 * with *retry_at (end of the pause, or when the next slot frees). */
int cp_policy_may_deliver(cp_policy *p, const char *source_ip,
    const char *mx, int64_t now, int64_t *retry_at);

/*
 * An operator's pause (until > now) or resume (until 0) of a (source IP,
 * provider) pair; provider is a provider name or an MX host. Stored with
 * an event ("manual-pause" / "resume", note as its evidence). A running
 * server sees a change made by another process at its next
 * cp_policy_reload (SIGHUP), which re-reads the pacing state.
 */
int cp_policy_set_pause(cp_policy *p, const char *source_ip,
    const char *provider, int64_t until, const char *note, cp_err *err);

/* ---- what the CLI and tests read ---------------------------------------- */

/* The provider of an MX host: "google", ..., or the host itself (lower
 * case, no trailing dot). Writes at most n bytes (NUL included). */
void cp_policy_provider_of(cp_policy *p, const char *mx, char *out,
    size_t n);
/* The rate (messages/hour) of a stored state at time now under conf;
 * 0 when throttle.max_rate is 0 (no pacing). */
int64_t cp_policy_rate_at(const cp_conf *conf, const cp_provider_state *s,
    int64_t now);

/* A mailbox's cap today. */
typedef struct cp_policy_usage {
	int64_t cap;        /* today's cap (ramp applied), 0: none */
	int64_t full_cap;   /* the cap after the ramp, 0: none */
	int64_t used;       /* counted today */
	int64_t age_days;   /* local days since creation (0: first day) */
	int ramping;        /* 1: today's cap comes from mailbox.ramp */
	int64_t day;        /* local date, days since 1970-01-01 */
	int64_t resets_at;  /* next local midnight, unix seconds */
} cp_policy_usage;
int cp_policy_get_usage(cp_policy *p, int64_t tenant, int64_t mailbox,
    int64_t now, cp_policy_usage *out, cp_err *err);

/* ---- parsers, exposed for tests and fuzzing ----------------------------- */

/* The local date (days since 1970-01-01) of t in zone tz and the start of
 * the next local day. CP_EINVAL for a zone the calendar does not know. */
int cp_policy_local_day(const char *tz, int64_t t, int64_t *day,
    int64_t *next_midnight, cp_err *err);

/* A provider table: lines "PROVIDER PATTERN..." ('\n' or ';' end a line,
 * '#' a comment). PATTERN is a host ("mx.example.net") or ".domain" /
 * "*.domain" (any host under it). */
typedef struct cp_policy_providers cp_policy_providers;
int cp_policy_providers_parse(const char *text, size_t len,
    cp_policy_providers **out, cp_err *err);
void cp_policy_providers_free(cp_policy_providers *t);
/* The longest matching pattern's provider, or NULL. */
const char *cp_policy_providers_match(const cp_policy_providers *t,
    const char *host);

/* mailbox.ramp: "1,1,2,3": caps of a mailbox's first days; at most
 * CP_POLICY_RAMP_MAX entries, each 1..1000000; "" is no ramp. */
#define CP_POLICY_RAMP_MAX 90
int cp_policy_ramp_parse(const char *text, int64_t *v, size_t *n,
    cp_err *err);

#endif
