/*
 * cmd_cost.c - `coldpost cost`: what N mailboxes cost per month and how
 * much mail they may send.
 *
 *   coldpost cost --mailboxes 300
 *   coldpost cost --mailboxes 3000 --graduated --json
 *   coldpost cost --mailboxes 40 --config /etc/coldpost/coldpost.conf
 *   coldpost cost --mailboxes 40 --tiers 1:120,50:100 --daily-cap 30
 *
 * Prices come from the cost.* keys (defaults, or --config FILE; --tiers
 * overrides cost.tiers for one run); the daily cap from mailbox.daily_cap
 * or --daily-cap. The arithmetic is cp_cost_compute (src/core/cost.c), in
 * integer cents. Exit status: 0 a quote was printed, 1 the configuration
 * file is malformed, 2 usage (N outside 1..10000000, a bad --tiers), 3
 * system error (cannot read the file, out of memory).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/conf.h"
#include "coldpost/cost.h"
#include "tools.h"

static void
cost_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost cost --mailboxes N [--config FILE] [--tiers LIST]\n"
	    "                     [--daily-cap N] [--graduated] [--json]\n\n"
	    "Prints what N mailboxes cost per month, the price per mailbox, the\n"
	    "sending capacity (mailboxes x daily cap, per day and per 30-day\n"
	    "month) and the cost per 1,000 sends. By default the whole account\n"
	    "is priced at the tier its mailbox count falls in; the total is never\n"
	    "below the monthly minimum.\n\n"
	    "  --mailboxes N    number of mailboxes, 1 to 10000000\n"
	    "  --config FILE    read cost.tiers, cost.minimum_cents, cost.currency\n"
	    "                   and mailbox.daily_cap from FILE (default: the\n"
	    "                   built-in defaults)\n"
	    "  --tiers LIST     FROM:CENTS,... instead of cost.tiers (default\n"
	    "                   " CP_COST_TIERS_DEFAULT ")\n"
	    "  --daily-cap N    messages per mailbox per day (0-1000000) instead\n"
	    "                   of mailbox.daily_cap (default 2)\n"
	    "  --graduated      charge each tier's range at its own price (like\n"
	    "                   tax brackets) instead of one price for all\n"
	    "  --json           one JSON object\n\n"
	    "exit: 0 ok, 1 malformed configuration file, 2 usage, 3 system "
	    "error\n");
}

/* A decimal in lo..hi, or -1. */
static int64_t
cost_arg_num(const char *s, int64_t lo, int64_t hi)
{
	int64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > hi)
			return -1;
	}
	return v < lo ? -1 : v;
}

/* "1,234.56" for cents, in a static buffer per slot (0..3). */
static const char *
money(int64_t cents, int slot)
{
	static char bufs[4][48];
	cp_buf b;

	cp_buf_init(&b, 47);
	if (cp_cost_format_cents(cents, &b) != CP_OK || b.data == NULL)
		snprintf(bufs[slot], sizeof(bufs[slot]), "?");
	else
		snprintf(bufs[slot], sizeof(bufs[slot]), "%.*s", (int)b.len,
		    b.data);
	cp_buf_free(&b);
	return bufs[slot];
}

static int
cost_print_json(const cp_cost_quote *q, const cp_cost_tiers *t,
    const char *currency)
{
	json_t *o = json_object();
	int rc;

	if (o == NULL)
		return CP_EXIT_SYS;
	rc = json_object_set_new(o, "mailboxes", json_integer(q->mailboxes));
	rc |= json_object_set_new(o, "tier", json_integer((json_int_t)q->tier + 1));
	rc |= json_object_set_new(o, "tier_from",
	    json_integer(t->v[q->tier].from));
	rc |= json_object_set_new(o, "pricing",
	    json_string(q->graduated ? "graduated" : "tier"));
	rc |= json_object_set_new(o, "currency", out_jstr(currency));
	rc |= json_object_set_new(o, "price_cents",
	    json_integer(q->price_cents));
	rc |= json_object_set_new(o, "subtotal_cents",
	    json_integer(q->subtotal_cents));
	rc |= json_object_set_new(o, "minimum_cents",
	    json_integer(q->minimum_cents));
	rc |= json_object_set_new(o, "total_cents",
	    json_integer(q->total_cents));
	rc |= json_object_set_new(o, "minimum_applied",
	    json_boolean(q->minimum_applied));
	rc |= json_object_set_new(o, "effective_price_cents",
	    json_integer(q->effective_cents));
	rc |= json_object_set_new(o, "daily_cap", json_integer(q->daily_cap));
	rc |= json_object_set_new(o, "capacity_per_day",
	    json_integer(q->capacity_per_day));
	rc |= json_object_set_new(o, "capacity_per_month",
	    json_integer(q->capacity_per_month));
	rc |= json_object_set_new(o, "cost_per_1000_sends_cents",
	    q->cost_per_1000_cents < 0 ? json_null() :
					 json_integer(q->cost_per_1000_cents));
	if (rc != 0) {
		json_decref(o);
		return CP_EXIT_SYS;
	}
	out_json_pretty(stdout, o);
	json_decref(o);
	return CP_EXIT_OK;
}

static void
cost_print_text(const cp_cost_quote *q, const cp_cost_tiers *t,
    const char *currency)
{
	const cp_cost_tier *tier = &t->v[q->tier];

	printf("%-22s %lld\n", "mailboxes", (long long)q->mailboxes);
	if (q->tier + 1 < t->n)
		printf("%-22s %zu of %zu (%lld-%lld mailboxes)\n", "tier",
		    q->tier + 1, t->n, (long long)tier->from,
		    (long long)t->v[q->tier + 1].from - 1);
	else
		printf("%-22s %zu of %zu (%lld+ mailboxes)\n", "tier",
		    q->tier + 1, t->n, (long long)tier->from);
	printf("%-22s %s %s / mailbox / month%s\n", "price",
	    money(q->price_cents, 0), currency,
	    q->graduated ? " (this tier; graduated)" : "");
	printf("%-22s %s %s\n", "subtotal", money(q->subtotal_cents, 0),
	    currency);
	printf("%-22s %s %s%s\n", "monthly minimum",
	    money(q->minimum_cents, 0), currency,
	    q->minimum_applied ? " (applies)" : "");
	printf("%-22s %s %s\n", "monthly total", money(q->total_cents, 0),
	    currency);
	printf("%-22s %s %s / mailbox\n", "effective price",
	    money(q->effective_cents, 0), currency);
	if (q->daily_cap == 0) {
		printf("%-22s no cap (mailbox.daily_cap = 0)\n", "capacity");
		printf("%-22s n/a\n", "cost per 1,000 sends");
		return;
	}
	printf("%-22s %lld / day (%lld mailboxes x %lld)\n", "capacity",
	    (long long)q->capacity_per_day, (long long)q->mailboxes,
	    (long long)q->daily_cap);
	printf("%-22s %lld / 30-day month\n", "",
	    (long long)q->capacity_per_month);
	printf("%-22s %s %s\n", "cost per 1,000 sends",
	    money(q->cost_per_1000_cents, 0), currency);
}

int
cmd_cost(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mailboxes", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "tiers", required_argument, NULL, 't' },
		{ "daily-cap", required_argument, NULL, 'd' },
		{ "graduated", no_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *tiers_arg = NULL;
	int64_t mailboxes = -1, daily_cap = -1;
	int graduated = 0, json = 0, ch, rc;
	cp_conf conf;
	cp_cost_tiers tiers;
	cp_cost_quote q;
	cp_buf diags;
	cp_err err;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			mailboxes = cost_arg_num(optarg, 1,
			    CP_COST_MAILBOXES_MAX);
			if (mailboxes < 0) {
				fprintf(stderr, "coldpost cost: --mailboxes "
				    "'%s': must be 1 to %d\n", optarg,
				    CP_COST_MAILBOXES_MAX);
				return CP_EXIT_USAGE;
			}
			break;
		case 'c': config = optarg; break;
		case 't': tiers_arg = optarg; break;
		case 'd':
			daily_cap = cost_arg_num(optarg, 0, 1000000);
			if (daily_cap < 0) {
				fprintf(stderr, "coldpost cost: --daily-cap "
				    "'%s': must be 0 to 1000000\n", optarg);
				return CP_EXIT_USAGE;
			}
			break;
		case 'g': graduated = 1; break;
		case 'j': json = 1; break;
		case 'h': cost_usage(stdout); return CP_EXIT_OK;
		default:
			fprintf(stderr, "coldpost cost: unknown option '%s'\n",
			    argv[optind - 1]);
			cost_usage(stderr);
			return CP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "coldpost cost: unexpected argument '%s'\n",
		    argv[optind]);
		return CP_EXIT_USAGE;
	}
	if (mailboxes < 0) {
		fprintf(stderr, "coldpost cost: --mailboxes N is required\n");
		cost_usage(stderr);
		return CP_EXIT_USAGE;
	}
	if (config == NULL) {
		if (cp_conf_init(&conf, &err) != CP_OK) {
			fprintf(stderr, "coldpost cost: %s\n", err.msg);
			return CP_EXIT_SYS;
		}
	} else {
		cp_buf_init(&diags, 1 << 20);
		rc = cp_conf_load_file(&conf, config, &diags, &err);
		if (rc != CP_OK) {
			if (diags.len > 0)
				fprintf(stderr, "%.*s", (int)diags.len,
				    diags.data);
			else
				fprintf(stderr, "coldpost cost: %s\n", err.msg);
			cp_buf_free(&diags);
			return rc == CP_ESYNTAX ? CP_EXIT_FAIL : CP_EXIT_SYS;
		}
		cp_buf_free(&diags);
	}
	rc = CP_EXIT_OK;
	if (cp_cost_parse_tiers(tiers_arg ? tiers_arg : conf.cost.tiers,
	    &tiers, &err) != CP_OK) {
		fprintf(stderr, "coldpost cost: %s '%s': %s\n",
		    tiers_arg ? "--tiers" : "cost.tiers",
		    tiers_arg ? tiers_arg : conf.cost.tiers, err.msg);
		rc = tiers_arg ? CP_EXIT_USAGE : CP_EXIT_FAIL;
	} else if (cp_cost_compute(&tiers, conf.cost.minimum_cents, mailboxes,
	    daily_cap >= 0 ? daily_cap : conf.mailbox.daily_cap, graduated, &q,
	    &err) != CP_OK) {
		fprintf(stderr, "coldpost %s\n", err.msg);
		rc = CP_EXIT_USAGE;
	} else if (json) {
		rc = cost_print_json(&q, &tiers, conf.cost.currency);
	} else {
		cost_print_text(&q, &tiers, conf.cost.currency);
	}
	cp_conf_clear(&conf);
	return rc;
}
