/*
 * policy_int.h - what the files of src/policy share: the body of
 * cp_policy, the mailbox cache (policy_cap.c), the pacing pairs
 * (policy_pace.c).
 */
#ifndef COLDPOST_POLICY_INT_H
#define COLDPOST_POLICY_INT_H

#include <pthread.h>

#include "coldpost/policy.h"

#define POLICY_MOD "policy"
#define POLICY_EVIDENCE_N 5     /* answers kept as a pair's evidence */
#define POLICY_EVIDENCE_LEN 200 /* bytes of each */
#define POLICY_BUCKETS 12       /* the window, in slices */
#define POLICY_MAILBOX_TTL 60   /* seconds a cached mailbox is trusted */
#define POLICY_KEEP_DAYS 32     /* counted recipients remembered (> expiry) */

/* A mailbox as the cap needs it, cached (store reads are by tenant). */
typedef struct policy_mbox {
	int64_t id, tenant, created;
	int64_t cap;        /* resolved: own, tenant's, config's; 0: none */
	int64_t loaded;     /* when read from the store */
	char tz[CP_STORE_TZ_MAX + 1];
	/* the local day last computed, so ICU is asked once a day */
	int64_t day, day_end, day_start;
	int64_t created_day; /* local date of creation, -1: not yet known */
} policy_mbox;

/* The window's answers at one pair, in POLICY_BUCKETS slices. */
typedef struct policy_bucket {
	int64_t start;
	uint32_t answers, refused;
} policy_bucket;

/* One (source IP, provider): its stored state and what lives in memory. */
typedef struct policy_pair {
	struct policy_pair *next; /* hash chain */
	char ip[48];
	char provider[CP_STORE_DOMAIN_MAX + 1];
	cp_provider_state st;     /* strings point at ip / provider */
	int stored;               /* st is in the store */
	double tokens;            /* token bucket of the hourly rate */
	int64_t tokens_at;
	policy_bucket win[POLICY_BUCKETS];
	char evidence[POLICY_EVIDENCE_N][POLICY_EVIDENCE_LEN];
	unsigned nevidence;       /* total added (ring index = n % N) */
	int64_t recover_at;       /* end of a cut's cool-down or of a pause
	                             not yet announced as "recover"; 0: none */
} policy_pair;

struct cp_policy {
	pthread_mutex_t lock;
	cp_conf conf;
	cp_store *store;
	cp_policy_clock clock;
	void *clock_arg;
	cp_policy_event_fn on_event;
	void *event_arg;
	int64_t ramp[CP_POLICY_RAMP_MAX];
	size_t nramp;
	cp_policy_providers *builtin, *extra;
	/* mailbox cache: open addressing would do; a sorted array is enough
	   for the few thousand mailboxes of one node */
	policy_mbox *mb;
	size_t nmb, capmb;
	/* pacing pairs */
	policy_pair **pairs;
	size_t npairs, nbuckets;
	int64_t purged_day; /* last cap housekeeping */
};

/* policy.c */
int64_t policy_now(cp_policy *p, int64_t now);
/* A reason text in this thread's buffer, valid until its next call. */
const char *policy_reason(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* policy_cap.c (lock held) */
int policy_mbox_get(cp_policy *p, int64_t tenant, int64_t mailbox,
    int64_t now, policy_mbox **out, cp_err *err);
int policy_mbox_day(policy_mbox *m, int64_t now, cp_err *err);
int64_t policy_cap_today(cp_policy *p, policy_mbox *m, int *ramping,
    int64_t *age);
void policy_mbox_clear(cp_policy *p);
/* "2026-11-29 00:00 Europe/Paris" */
void policy_fmt_local(const policy_mbox *m, char *buf, size_t n);

/* policy_pace.c (lock held) */
int policy_pairs_load(cp_policy *p, cp_err *err);
void policy_pace_tick(cp_policy *p, int64_t now);
void policy_pairs_free(cp_policy *p);
int policy_pace_take(cp_policy *p, const char *ip, const char *mx,
    int64_t now, int64_t *retry_at);
void policy_pace_record(cp_policy *p, const cp_policy_outcome *o,
    int64_t now);
const char *policy_provider(cp_policy *p, const char *mx, char *buf,
    size_t n);
int policy_pace_set_pause(cp_policy *p, const char *ip, const char *provider,
    int64_t until, const char *note, int64_t now, cp_err *err);

#endif
