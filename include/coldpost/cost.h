/*
 * cost.h - the price calculator behind `coldpost cost`: what N mailboxes
 * cost per month and how much mail they may send.
 *
 * Prices are per mailbox per month in integer cents, from volume tiers
 * written "FROM:CENTS,FROM:CENTS,..." (cost.tiers in the configuration):
 * "1:100,100:90,250:80" means 1-99 mailboxes at 100 cents, 100-249 at 90,
 * 250 and more at 80. By default the whole account is priced at the tier
 * its mailbox count falls in (400 mailboxes: 400 x 80); graduated pricing
 * charges each tier's range at its own price, like tax brackets (400: 99 x
 * 100 + 150 x 90 + 151 x 80). The monthly total is never below the
 * minimum (cost.minimum_cents). No floating point anywhere: money is cents.
 */
#ifndef COLDPOST_COST_H
#define COLDPOST_COST_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/err.h"

#define CP_COST_TIERS_DEFAULT "1:100,100:90,250:80,500:70,1000:60,2500:55"
#define CP_COST_MINIMUM_DEFAULT 5000 /* cents: $50 a month */
#define CP_COST_TIERS_MAX 32
#define CP_COST_MAILBOXES_MAX 10000000	/* mailboxes in a quote */
#define CP_COST_PRICE_MAX 1000000	/* cents per mailbox per month */
#define CP_COST_MINIMUM_MAX 100000000	/* cents a month ($1,000,000) */
#define CP_COST_DAYS_PER_MONTH 30

typedef struct cp_cost_tier {
	int64_t from;  /* first mailbox count of the tier, 1.. */
	int64_t cents; /* price per mailbox per month */
} cp_cost_tier;

/* Ascending from (the first is 1), prices never increasing. */
typedef struct cp_cost_tiers {
	size_t n;
	cp_cost_tier v[CP_COST_TIERS_MAX];
} cp_cost_tiers;

typedef struct cp_cost_quote {
	int64_t mailboxes;
	size_t tier;		/* index into tiers of the count's tier */
	int64_t price_cents;	/* that tier's price per mailbox */
	int64_t subtotal_cents; /* before the minimum */
	int64_t minimum_cents;
	int64_t total_cents;	/* max(subtotal, minimum) */
	int minimum_applied;	/* subtotal < minimum */
	int graduated;
	int64_t effective_cents;   /* total / mailboxes, rounded half up */
	int64_t daily_cap;	   /* per mailbox; 0 = no cap */
	int64_t capacity_per_day;  /* mailboxes x daily_cap; 0 with no cap */
	int64_t capacity_per_month; /* x CP_COST_DAYS_PER_MONTH */
	int64_t cost_per_1000_cents; /* total x 1000 / month capacity, rounded
					half up; -1 with no cap */
} cp_cost_quote;

/*
 * Parse "FROM:CENTS,..." (blanks around items and numbers allowed) into
 * *out. CP_OK, or CP_ESYNTAX with the bad item named in err:
 *   "item 2 '100:x': CENTS is not a number"
 * Rules: 1 to CP_COST_TIERS_MAX items, the first from 1, from strictly
 * ascending up to CP_COST_MAILBOXES_MAX, cents 0..CP_COST_PRICE_MAX and
 * never higher than the tier before. *out is unchanged on error.
 */
int cp_cost_parse_tiers(const char *s, cp_cost_tiers *out, cp_err *err);
/* The canonical text form ("1:100,100:90"), appended to out. */
int cp_cost_format_tiers(const cp_cost_tiers *t, cp_buf *out);
/* Index of the tier a count of mailboxes (>= 1) falls in. */
size_t cp_cost_find_tier(const cp_cost_tiers *t, int64_t mailboxes);

/*
 * The quote for mailboxes (1..CP_COST_MAILBOXES_MAX) at daily_cap messages
 * per mailbox per day (0..1000000, 0 = no cap), with minimum_cents
 * (0..CP_COST_MINIMUM_MAX). CP_OK, or CP_EINVAL naming the bad argument.
 */
int cp_cost_compute(const cp_cost_tiers *t, int64_t minimum_cents,
    int64_t mailboxes, int64_t daily_cap, int graduated, cp_cost_quote *out,
    cp_err *err);

/* "1,234.56" for 123456 cents (negative with '-'), appended to out. */
int cp_cost_format_cents(int64_t cents, cp_buf *out);

#endif
