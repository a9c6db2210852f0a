/*
 * cost.c - the price calculator: volume tiers, the monthly minimum and the
 * sending capacity of N mailboxes (see coldpost/cost.h and coldpost-cost(1)).
 *
 * Pure functions over integers: the tier list is parsed from its text form
 * ("1:100,100:90,...", the cost.tiers key) with every rule checked and the
 * bad item named; a quote is computed in int64 cents. The bounds
 * (10,000,000 mailboxes, 1,000,000 cents a mailbox, a daily cap of
 * 1,000,000) keep every product below 2^63: 10^7 x 10^6 x 1000 = 10^16.
 * Rounding is half up and happens only in the derived figures (effective
 * price per mailbox, cost per 1,000 sends), never in the total.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/cost.h"

#define ITEM_SHOW 40

/* Decimal digits between p and end (blanks trimmed) into *v, at most max.
   Returns 0 when not a number, -1 when too large, 1 on success. */
static int
cost_parse_num(const char *p, const char *end, int64_t max, int64_t *v)
{
	int64_t n = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		n = n * 10 + (*p - '0');
		if (n > max)
			return -1;
	}
	*v = n;
	return 1;
}

/* The item as it may appear in a message: printable, at most ITEM_SHOW. */
static void
cost_show(const char *s, size_t len, char *buf, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == ITEM_SHOW) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	buf[o] = '\0';
}

int
cp_cost_parse_tiers(const char *s, cp_cost_tiers *out, cp_err *err)
{
	cp_cost_tiers t;
	const char *p = s, *end = s + strlen(s);
	char shown[ITEM_SHOW + 8];
	size_t item = 0;

	t.n = 0;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *iend = comma ? comma : end, *colon;
		cp_cost_tier tier;
		int r;

		item++;
		cost_show(p, (size_t)(iend - p), shown, sizeof(shown));
		if (t.n == CP_COST_TIERS_MAX)
			return cp_err_set(err, CP_ESYNTAX,
			    "item %zu '%s': more than %d tiers", item, shown,
			    CP_COST_TIERS_MAX);
		colon = memchr(p, ':', (size_t)(iend - p));
		if (colon == NULL)
			return cp_err_set(err, CP_ESYNTAX,
			    "item %zu '%s' is not FROM:CENTS (like 100:90)",
			    item, shown);
		r = cost_parse_num(p, colon, CP_COST_MAILBOXES_MAX, &tier.from);
		if (r == 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "item %zu '%s': FROM is not a number of mailboxes",
			    item, shown);
		if (r < 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "item %zu '%s': FROM is above %d mailboxes", item,
			    shown, CP_COST_MAILBOXES_MAX);
		r = cost_parse_num(colon + 1, iend, CP_COST_PRICE_MAX,
		    &tier.cents);
		if (r == 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "item %zu '%s': CENTS is not a number (a price in "
			    "cents, >= 0)", item, shown);
		if (r < 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "item %zu '%s': CENTS is above %d", item, shown,
			    CP_COST_PRICE_MAX);
		if (t.n == 0 && tier.from != 1)
			return cp_err_set(err, CP_ESYNTAX,
			    "item 1 '%s': the first tier must start at 1 "
			    "mailbox", shown);
		if (t.n > 0 && tier.from <= t.v[t.n - 1].from)
			return cp_err_set(err, CP_ESYNTAX,
			    "item %zu '%s': FROM must be above the previous "
			    "tier's %lld", item, shown,
			    (long long)t.v[t.n - 1].from);
		if (t.n > 0 && tier.cents > t.v[t.n - 1].cents)
			return cp_err_set(err, CP_ESYNTAX,
			    "item %zu '%s': the price rises above the previous "
			    "tier's %lld cents", item, shown,
			    (long long)t.v[t.n - 1].cents);
		t.v[t.n++] = tier;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = t;
	return CP_OK;
}

int
cp_cost_format_tiers(const cp_cost_tiers *t, cp_buf *out)
{
	int rc = CP_OK;

	for (size_t i = 0; i < t->n && rc == CP_OK; i++)
		rc = cp_buf_addf(out, "%s%lld:%lld", i ? "," : "",
		    (long long)t->v[i].from, (long long)t->v[i].cents);
	return rc;
}

size_t
cp_cost_find_tier(const cp_cost_tiers *t, int64_t mailboxes)
{
	size_t i = 0;

	while (i + 1 < t->n && t->v[i + 1].from <= mailboxes)
		i++;
	return i;
}

/* a / b rounded half up, a >= 0, b > 0. */
static int64_t
cost_div_round(int64_t a, int64_t b)
{
	return (a + b / 2) / b;
}

int
cp_cost_compute(const cp_cost_tiers *t, int64_t minimum_cents,
    int64_t mailboxes, int64_t daily_cap, int graduated, cp_cost_quote *out,
    cp_err *err)
{
	cp_cost_quote q;

	if (t->n == 0 || t->n > CP_COST_TIERS_MAX || t->v[0].from != 1)
		return cp_err_set(err, CP_EINVAL,
		    "cost: the tier list is empty or does not start at 1");
	if (mailboxes < 1 || mailboxes > CP_COST_MAILBOXES_MAX)
		return cp_err_set(err, CP_EINVAL,
		    "cost: %lld mailboxes: must be 1 to %d",
		    (long long)mailboxes, CP_COST_MAILBOXES_MAX);
	if (daily_cap < 0 || daily_cap > 1000000)
		return cp_err_set(err, CP_EINVAL,
		    "cost: daily cap %lld: must be 0 to 1000000",
		    (long long)daily_cap);
	if (minimum_cents < 0 || minimum_cents > CP_COST_MINIMUM_MAX)
		return cp_err_set(err, CP_EINVAL,
		    "cost: minimum %lld cents: must be 0 to %d",
		    (long long)minimum_cents, CP_COST_MINIMUM_MAX);
	memset(&q, 0, sizeof(q));
	q.mailboxes = mailboxes;
	q.tier = cp_cost_find_tier(t, mailboxes);
	q.price_cents = t->v[q.tier].cents;
	q.graduated = graduated != 0;
	if (!graduated) {
		q.subtotal_cents = mailboxes * q.price_cents;
	} else {
		for (size_t i = 0; i <= q.tier; i++) {
			int64_t last = i + 1 < t->n ? t->v[i + 1].from - 1 :
						      mailboxes;

			if (last > mailboxes)
				last = mailboxes;
			q.subtotal_cents += (last - t->v[i].from + 1) *
			    t->v[i].cents;
		}
	}
	q.minimum_cents = minimum_cents;
	q.minimum_applied = q.subtotal_cents < minimum_cents;
	q.total_cents = q.minimum_applied ? minimum_cents : q.subtotal_cents;
	q.effective_cents = cost_div_round(q.total_cents, mailboxes);
	q.daily_cap = daily_cap;
	q.capacity_per_day = mailboxes * daily_cap;
	q.capacity_per_month = q.capacity_per_day * CP_COST_DAYS_PER_MONTH;
	q.cost_per_1000_cents = q.capacity_per_month > 0 ?
	    cost_div_round(q.total_cents * 1000, q.capacity_per_month) : -1;
	*out = q;
	return CP_OK;
}

int
cp_cost_format_cents(int64_t cents, cp_buf *out)
{
	char digits[32];
	int64_t whole;
	int rc, n, first;
	uint64_t u;

	u = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
	whole = (int64_t)(u / 100);
	n = snprintf(digits, sizeof(digits), "%lld", (long long)whole);
	rc = cents < 0 ? cp_buf_addc(out, '-') : CP_OK;
	first = n % 3 == 0 ? 3 : n % 3;
	if (rc == CP_OK)
		rc = cp_buf_add(out, digits, (size_t)first);
	for (int i = first; i < n && rc == CP_OK; i += 3) {
		rc = cp_buf_addc(out, ',');
		if (rc == CP_OK)
			rc = cp_buf_add(out, digits + i, 3);
	}
	if (rc == CP_OK)
		rc = cp_buf_addf(out, ".%02u", (unsigned)(u % 100));
	return rc;
}
