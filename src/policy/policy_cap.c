/*
 * policy_cap.c - per-mailbox daily caps: which cap applies today, which
 * local day it is, and the mailbox cache behind both.
 *
 * The cap of a mailbox is its own (cp_mailbox.daily_cap >= 0), else its
 * tenant's (cp_tenant.mailbox_cap > 0), else the config's
 * mailbox.daily_cap; 0 is no cap. A new mailbox's day N (N counted in
 * local days from its creation, 0 first) is capped at mailbox.ramp[N] when
 * the ramp has that many entries. Mailboxes are read from the store by
 * tenant (the store has no lookup by id) and trusted for
 * POLICY_MAILBOX_TTL seconds, so `coldpost mailbox` changes apply within a
 * minute without a reload. The local day is asked of ICU once per
 * mailbox per day (policy_tz.c). Callers hold the policy lock.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "policy/policy_int.h"

int
cp_policy_ramp_parse(const char *text, int64_t *v, size_t *n, cp_err *err)
{
	const char *p = text;

	*n = 0;
	if (*p == '\0')
		return CP_OK;
	for (;;) {
		int64_t x = 0;
		int digits = 0;

		while (*p == ' ')
			p++;
		for (; *p >= '0' && *p <= '9' && digits < 8; p++, digits++)
			x = x * 10 + (*p - '0');
		while (*p == ' ')
			p++;
		if (digits == 0 || x < 1 || x > 1000000 ||
		    (*p != ',' && *p != '\0'))
			return cp_err_set(err, CP_ESYNTAX, "mailbox.ramp '%s': "
			    "want a comma list of daily caps (1,1,2,3)", text);
		if (*n == CP_POLICY_RAMP_MAX)
			return cp_err_set(err, CP_ESYNTAX, "mailbox.ramp: more "
			    "than %d days", CP_POLICY_RAMP_MAX);
		v[(*n)++] = x;
		if (*p++ == '\0')
			return CP_OK;
	}
}

struct mb_load {
	cp_policy *p;
	int64_t tenant_cap, now;
	int rc;
};

static policy_mbox *
mb_find(cp_policy *p, int64_t id)
{
	for (size_t i = 0; i < p->nmb; i++)
		if (p->mb[i].id == id)
			return &p->mb[i];
	return NULL;
}

/* One mailbox of the tenant's listing into the cache (no store calls). */
static int
mb_load_cb(void *arg, const cp_mailbox *m)
{
	struct mb_load *L = arg;
	cp_policy *p = L->p;
	policy_mbox *e = mb_find(p, m->id);

	if (e == NULL) {
		if (p->nmb == p->capmb) {
			size_t nc = p->capmb ? p->capmb * 2 : 64;
			policy_mbox *nv = cp_realloc(p->mb, nc * sizeof(*nv));

			if (nv == NULL) {
				L->rc = CP_ENOMEM;
				return 1;
			}
			p->mb = nv;
			p->capmb = nc;
		}
		e = &p->mb[p->nmb++];
		memset(e, 0, sizeof(*e));
		e->day = e->created_day = -1;
	}
	if (strcmp(e->tz, m->tz) != 0 || e->created != m->created)
		e->day = e->created_day = -1; /* compute the days again */
	e->id = m->id;
	e->tenant = m->tenant;
	e->created = m->created;
	snprintf(e->tz, sizeof(e->tz), "%s", m->tz);
	e->cap = m->daily_cap >= 0 ? m->daily_cap :
	    L->tenant_cap > 0 ? L->tenant_cap : p->conf.mailbox.daily_cap;
	e->loaded = L->now;
	return 0;
}

static int
mb_reload(cp_policy *p, int64_t tenant, int64_t now, cp_err *err)
{
	struct mb_load L = { p, 0, now, CP_OK };
	cp_tenant *t = NULL;
	int rc;

	rc = cp_store_get_tenant_by_id(p->store, tenant, &t, err);
	if (rc == CP_OK) {
		L.tenant_cap = t->mailbox_cap;
		cp_tenant_free(t);
	} else if (rc != CP_ENOTFOUND) {
		return rc;
	}
	rc = cp_store_list_mailboxes(p->store, tenant, mb_load_cb, &L, err);
	if (rc == CP_OK && L.rc != CP_OK)
		rc = cp_err_set(err, L.rc, "policy: out of memory");
	return rc;
}

int
policy_mbox_get(cp_policy *p, int64_t tenant, int64_t mailbox, int64_t now,
    policy_mbox **out, cp_err *err)
{
	policy_mbox *m = mb_find(p, mailbox);
	int rc;

	if (m == NULL || now - m->loaded >= POLICY_MAILBOX_TTL ||
	    now < m->loaded) {
		if ((rc = mb_reload(p, tenant, now, err)) != CP_OK)
			return rc;
		m = mb_find(p, mailbox);
	}
	if (m == NULL || m->tenant != tenant)
		return cp_err_set(err, CP_ENOTFOUND, "policy: mailbox %lld of "
		    "tenant %lld: not found", (long long)mailbox,
		    (long long)tenant);
	*out = m;
	return CP_OK;
}

void
policy_mbox_clear(cp_policy *p)
{
	cp_free(p->mb);
	p->mb = NULL;
	p->nmb = p->capmb = 0;
}

/* The local day of now for m, from the cache while now is between when
 * it was computed and the next local midnight. A zone the calendar does
 * not know counts in UTC (logged). */
int
policy_mbox_day(policy_mbox *m, int64_t now, cp_err *err)
{
	int64_t day, end;
	cp_err e2 = { 0 };

	if (m->day >= 0 && now >= m->day_start && now < m->day_end)
		return CP_OK;
	if (cp_policy_local_day(m->tz, now, &day, &end, &e2) != CP_OK) {
		cp_log(CP_LOG_WARN, POLICY_MOD, "mailbox=%lld %s; its cap "
		    "counts UTC days", (long long)m->id, e2.msg);
		if (cp_policy_local_day("UTC", now, &day, &end, err) != CP_OK)
			return CP_EINVAL;
	}
	m->day = day;
	m->day_end = end;
	m->day_start = now; /* the day is the same from here to day_end */
	return CP_OK;
}

int64_t
policy_cap_today(cp_policy *p, policy_mbox *m, int *ramping, int64_t *age)
{
	int64_t a, end;
	cp_err err = { 0 };

	*ramping = 0;
	if (m->created_day < 0) { /* once per mailbox: ICU is not free */
		m->created_day = m->day;
		if (m->created > 0 && cp_policy_local_day(m->tz, m->created,
		    &m->created_day, &end, &err) != CP_OK)
			(void)cp_policy_local_day("UTC", m->created,
			    &m->created_day, &end, &err);
	}
	a = m->day - m->created_day;
	if (a < 0)
		a = 0;
	if (age != NULL)
		*age = a;
	if (m->cap == 0)
		return 0;
	if ((size_t)a < p->nramp && p->ramp[a] < m->cap) {
		*ramping = 1;
		return p->ramp[a];
	}
	return m->cap;
}

/* Date of a day number (H. Hinnant's civil_from_days). */
static void
cap_civil(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "2026-11-29 00:00 Europe/Paris (2026-11-28T23:00:00Z)": when the next
 * local day starts. */
void
policy_fmt_local(const policy_mbox *m, char *buf, size_t n)
{
	int64_t y, uy;
	int mo, d, umo, ud;
	int64_t secs = m->day_end % 86400;

	cap_civil(m->day + 1, &y, &mo, &d);
	cap_civil(m->day_end / 86400, &uy, &umo, &ud);
	snprintf(buf, n, "%04lld-%02d-%02d 00:00 %s (%04lld-%02d-%02dT%02d:"
	    "%02d:%02dZ)", (long long)y, mo, d, m->tz, (long long)uy, umo, ud,
	    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}
