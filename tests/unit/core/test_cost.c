/*
 * test_cost.c - the price calculator (src/core/cost.c): every tier
 * boundary of the default list, the minimum, the floor, graduated pricing,
 * custom and bad tier strings, capacity and cost per 1,000 sends, and the
 * cost.* configuration keys.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/conf.h"
#include "coldpost/cost.h"
#include "cptest.h"

static cp_cost_tiers
default_tiers(void)
{
	cp_cost_tiers t;
	cp_err err;

	memset(&t, 0, sizeof(t));
	CP_CHECK_INT(cp_cost_parse_tiers(CP_COST_TIERS_DEFAULT, &t, &err),
	    CP_OK);
	return t;
}

static cp_cost_quote
quote(const cp_cost_tiers *t, int64_t n, int graduated)
{
	cp_cost_quote q;
	cp_err err;

	memset(&q, 0, sizeof(q));
	CP_CHECK_INT(cp_cost_compute(t, CP_COST_MINIMUM_DEFAULT, n, 2,
	    graduated, &q, &err), CP_OK);
	return q;
}

CP_TEST(cost_default_tiers_parse)
{
	cp_cost_tiers t = default_tiers();
	cp_buf b;

	CP_CHECK_INT(t.n, 6);
	CP_CHECK_INT(t.v[0].from, 1);
	CP_CHECK_INT(t.v[0].cents, 100);
	CP_CHECK_INT(t.v[5].from, 2500);
	CP_CHECK_INT(t.v[5].cents, 55);
	cp_buf_init(&b, 4096);
	CP_CHECK_INT(cp_cost_format_tiers(&t, &b), CP_OK);
	CP_CHECK_INT(cp_buf_addc(&b, '\0'), CP_OK);
	CP_CHECK_STR(b.data, CP_COST_TIERS_DEFAULT);
	cp_buf_free(&b);
}

CP_TEST(cost_tier_boundaries)
{
	static const struct {
		int64_t n, price, total;
		size_t tier;
	} cases[] = {
		{ 99, 100, 9900, 0 },	    { 100, 90, 9000, 1 },
		{ 249, 90, 22410, 1 },	    { 250, 80, 20000, 2 },
		{ 499, 80, 39920, 2 },	    { 500, 70, 35000, 3 },
		{ 999, 70, 69930, 3 },	    { 1000, 60, 60000, 4 },
		{ 2499, 60, 149940, 4 },    { 2500, 55, 137500, 5 },
		{ 10000000, 55, 550000000, 5 },
	};
	cp_cost_tiers t = default_tiers();

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_cost_quote q = quote(&t, cases[i].n, 0);

		CP_CHECK_INT(q.tier, cases[i].tier);
		CP_CHECK_INT(q.price_cents, cases[i].price);
		CP_CHECK_INT(q.total_cents, cases[i].total);
		CP_CHECK_INT(q.minimum_applied, 0);
		CP_CHECK_INT(q.effective_cents, cases[i].price);
	}
}

CP_TEST(cost_minimum)
{
	cp_cost_tiers t = default_tiers();
	cp_cost_quote q = quote(&t, 1, 0);

	CP_CHECK_INT(q.price_cents, 100);
	CP_CHECK_INT(q.subtotal_cents, 100);
	CP_CHECK_INT(q.total_cents, 5000);
	CP_CHECK_INT(q.minimum_applied, 1);
	CP_CHECK_INT(q.effective_cents, 5000);
	CP_CHECK_INT(q.capacity_per_day, 2);
	CP_CHECK_INT(q.capacity_per_month, 60);
	/* 5000 * 1000 / 60 = 83333.33 */
	CP_CHECK_INT(q.cost_per_1000_cents, 83333);
	q = quote(&t, 49, 0);
	CP_CHECK_INT(q.total_cents, 5000);
	CP_CHECK_INT(q.effective_cents, 102); /* 102.04 */
	q = quote(&t, 50, 0);
	CP_CHECK_INT(q.total_cents, 5000);
	CP_CHECK_INT(q.minimum_applied, 0);
	q = quote(&t, 51, 0);
	CP_CHECK_INT(q.total_cents, 5100);
	CP_CHECK_INT(q.minimum_applied, 0);
}

CP_TEST(cost_floor_and_capacity)
{
	cp_cost_tiers t = default_tiers();
	cp_cost_quote q = quote(&t, 5000, 0);
	cp_err err;

	CP_CHECK_INT(q.price_cents, 55);
	CP_CHECK_INT(q.total_cents, 275000);
	CP_CHECK_INT(q.capacity_per_day, 10000);
	CP_CHECK_INT(q.capacity_per_month, 300000);
	/* 275000 * 1000 / 300000 = 916.67 */
	CP_CHECK_INT(q.cost_per_1000_cents, 917);
	CP_CHECK_INT(cp_cost_compute(&t, 5000, 5000, 0, 0, &q, &err), CP_OK);
	CP_CHECK_INT(q.capacity_per_day, 0);
	CP_CHECK_INT(q.cost_per_1000_cents, -1);
	CP_CHECK_INT(cp_cost_compute(&t, 5000, 0, 2, 0, &q, &err), CP_EINVAL);
	CP_CHECK_INT(cp_cost_compute(&t, 5000, 10000001, 2, 0, &q, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_cost_compute(&t, -1, 10, 2, 0, &q, &err), CP_EINVAL);
	CP_CHECK_INT(cp_cost_compute(&t, 5000, 10, -1, 0, &q, &err),
	    CP_EINVAL);
}

CP_TEST(cost_graduated)
{
	cp_cost_tiers t = default_tiers();
	cp_cost_quote q = quote(&t, 100, 1);

	/* 99 x 100 + 1 x 90 */
	CP_CHECK_INT(q.subtotal_cents, 9990);
	CP_CHECK_INT(q.price_cents, 90);
	q = quote(&t, 400, 1);
	/* 99 x 100 + 150 x 90 + 151 x 80 */
	CP_CHECK_INT(q.total_cents, 9900 + 13500 + 12080);
	q = quote(&t, 3000, 1);
	CP_CHECK_INT(q.total_cents, 9900 + 13500 + 20000 + 35000 + 90000 +
	    501 * 55);
	q = quote(&t, 10, 1);
	CP_CHECK_INT(q.total_cents, 5000);
	CP_CHECK_INT(q.minimum_applied, 1);
}

CP_TEST(cost_custom_tiers)
{
	cp_cost_tiers t;
	cp_cost_quote q;
	cp_err err;

	CP_CHECK_INT(cp_cost_parse_tiers(" 1 : 200 ,10:150, 100:0", &t, &err),
	    CP_OK);
	CP_CHECK_INT(t.n, 3);
	CP_CHECK_INT(cp_cost_compute(&t, 0, 9, 5, 0, &q, &err), CP_OK);
	CP_CHECK_INT(q.total_cents, 1800);
	CP_CHECK_INT(q.minimum_applied, 0);
	CP_CHECK_INT(cp_cost_compute(&t, 0, 10, 5, 0, &q, &err), CP_OK);
	CP_CHECK_INT(q.total_cents, 1500);
	CP_CHECK_INT(cp_cost_compute(&t, 0, 100, 5, 0, &q, &err), CP_OK);
	CP_CHECK_INT(q.total_cents, 0);
	CP_CHECK_INT(q.cost_per_1000_cents, 0);
	CP_CHECK_INT(cp_cost_parse_tiers("1:55", &t, &err), CP_OK);
	CP_CHECK_INT(t.n, 1);
	CP_CHECK_INT(cp_cost_find_tier(&t, 10000000), 0);
}

CP_TEST(cost_bad_tiers)
{
	static const struct {
		const char *in, *msg;
	} cases[] = {
		{ "", "item 1 '' is not FROM:CENTS" },
		{ "1:100,", "item 2 '' is not FROM:CENTS" },
		{ "1:100,100", "item 2 '100' is not FROM:CENTS" },
		{ "2:100", "item 1 '2:100': the first tier must start at 1" },
		{ "1:100,x:90", "item 2 'x:90': FROM is not a number" },
		{ "1:100,100:-5", "item 2 '100:-5': CENTS is not a number" },
		{ "1:100,100:", "item 2 '100:': CENTS is not a number" },
		{ "1:100,100:9.5", "item 2 '100:9.5': CENTS is not a number" },
		{ "1:100,100:90,100:80", "item 3 '100:80': FROM must be above" },
		{ "1:100,250:80,100:90", "item 3 '100:90': FROM must be above" },
		{ "1:100,100:110", "item 2 '100:110': the price rises" },
		{ "1:100,10000001:5", "FROM is above 10000000" },
		{ "1:1000001", "CENTS is above 1000000" },
		{ "1:99999999999999999999999", "CENTS is above" },
	};
	cp_cost_tiers t, before;
	cp_err err;

	memset(&t, 0, sizeof(t));
	t.n = 7;
	before = t;
	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		memset(&err, 0, sizeof(err));
		CP_CHECK_INT(cp_cost_parse_tiers(cases[i].in, &t, &err),
		    CP_ESYNTAX);
		CP_CHECK(strstr(err.msg, cases[i].msg) != NULL,
		    "'%s': message '%s' lacks '%s'", cases[i].in, err.msg,
		    cases[i].msg);
		CP_CHECK(memcmp(&t, &before, sizeof(t)) == 0,
		    "'%s' changed the output", cases[i].in);
	}
}

CP_TEST(cost_too_many_tiers)
{
	cp_buf b;
	cp_cost_tiers t;
	cp_err err;

	cp_buf_init(&b, 4096);
	for (int i = 1; i <= CP_COST_TIERS_MAX + 1; i++)
		cp_buf_addf(&b, "%s%d:%d", i > 1 ? "," : "", i, 100 - i);
	cp_buf_addc(&b, '\0');
	CP_CHECK_INT(cp_cost_parse_tiers(b.data, &t, &err), CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "item 33 '33:67': more than 32 tiers") !=
	    NULL, "%s", err.msg);
	cp_buf_free(&b);
}

CP_TEST(cost_format_cents)
{
	static const struct {
		int64_t c;
		const char *s;
	} cases[] = { { 0, "0.00" }, { 5, "0.05" }, { 5000, "50.00" },
		{ 123456, "1,234.56" }, { 550000000, "5,500,000.00" },
		{ -150, "-1.50" } };

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		cp_buf b;

		cp_buf_init(&b, 100);
		CP_CHECK_INT(cp_cost_format_cents(cases[i].c, &b), CP_OK);
		cp_buf_addc(&b, '\0');
		CP_CHECK_STR(b.data, cases[i].s);
		cp_buf_free(&b);
	}
}

/* The cost.* keys: defaults, a file, errors naming the bad item, and the
   dump read back to an equal config. */
CP_TEST(cost_conf_keys)
{
	static const char text[] = "[cost]\n"
				   "tiers = 1:120,50:100,500:75\n"
				   "minimum_cents = 9900\n"
				   "currency = EUR\n";
	cp_conf c, back;
	cp_buf d, dump;
	cp_err err;

	CP_CHECK_INT(cp_conf_init(&c, &err), CP_OK);
	CP_CHECK_STR(c.cost.tiers, CP_COST_TIERS_DEFAULT);
	CP_CHECK_INT(c.cost.minimum_cents, 5000);
	CP_CHECK_STR(c.cost.currency, "USD");
	cp_conf_clear(&c);

	cp_buf_init(&d, 1 << 16);
	CP_CHECK_INT(cp_conf_load_mem(&c, text, strlen(text), "t.conf", NULL,
	    &d, &err), CP_OK);
	if (err.code != CP_OK) {
		cp_buf_free(&d);
		return;
	}
	CP_CHECK_STR(c.cost.tiers, "1:120,50:100,500:75");
	CP_CHECK_INT(c.cost.minimum_cents, 9900);
	CP_CHECK_STR(c.cost.currency, "EUR");
	cp_buf_init(&dump, 1 << 20);
	CP_CHECK_INT(cp_conf_dump(&c, CP_CONF_DUMP_DOC, &dump), CP_OK);
	CP_CHECK_INT(cp_conf_load_mem(&back, dump.data, dump.len, "dump",
	    NULL, NULL, &err), CP_OK);
	if (err.code == CP_OK) {
		CP_CHECK_INT(cp_conf_diff(&c, &back, NULL, 0), 0);
		cp_conf_clear(&back);
	}
	cp_buf_free(&dump);

	CP_CHECK_INT(cp_conf_set(&c, "cost.tiers", "1:100,100:120", &err),
	    CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "item 2 '100:120': the price rises") != NULL,
	    "%s", err.msg);
	CP_CHECK_STR(c.cost.tiers, "1:120,50:100,500:75");
	CP_CHECK_INT(cp_conf_set(&c, "cost.currency", "usd", &err),
	    CP_ESYNTAX);
	CP_CHECK_INT(cp_conf_set(&c, "cost.currency", "EURO", &err),
	    CP_ESYNTAX);
	CP_CHECK_INT(cp_conf_set(&c, "cost.minimum_cents", "-1", &err),
	    CP_ESYNTAX);
	CP_CHECK_INT(cp_conf_set(&c, "cost.minimum_cents", "0", &err), CP_OK);
	CP_CHECK_INT(c.cost.minimum_cents, 0);
	cp_conf_clear(&c);

	cp_buf_reset(&d);
	CP_CHECK_INT(cp_conf_load_mem(&c, "[cost]\ntiers = 1:100,x:5\n", 24,
	    "bad.conf", NULL, &d, &err), CP_ESYNTAX);
	CP_CHECK(strstr(err.msg, "item 2 'x:5'") != NULL, "%s", err.msg);
	cp_buf_free(&d);
}
