/*
 * Unit tests: the compiled knowledge base is complete and consistent.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/kb.h"
#include "cptest.h"

/* IANA SMTP Enhanced Status Codes registry: subject -> highest detail. */
static const int registry_max[8] = { 0, 10, 4, 6, 7, 6, 10, 30 };

CP_TEST(kb_has_every_registry_code)
{
	for (int s = 0; s < 8; s++)
		for (int d = 0; d <= registry_max[s]; d++)
			CP_CHECK(cp_kb_find_code(s, d) != NULL,
			    "no page for X.%d.%d", s, d);
}

CP_TEST(kb_has_basic_reply_codes)
{
	static const char *const codes[] = { "211", "214", "220", "221",
		"235", "250", "251", "252", "334", "354", "421", "450", "451",
		"452", "454", "500", "501", "502", "503", "504", "521", "530",
		"534", "535", "550", "551", "552", "553", "554", "555", "556" };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		CP_CHECK(cp_kb_find(CP_KB_REPLY, codes[i]) != NULL,
		    "no page for reply code %s", codes[i]);
}

CP_TEST(kb_has_receivers_and_causes)
{
	static const char *const receivers[] = { "gmail", "microsoft", "yahoo",
		"apple", "comcast", "gmx_webde", "ionos", "mailru", "yandex",
		"zoho", "proofpoint", "mimecast", "barracuda", "cisco",
		"trendmicro", "amazon_ses" };
	static const char *const lists[] = { "spamhaus", "spamcop", "brbl",
		"sorbs" };

	for (size_t i = 0; i < sizeof(receivers) / sizeof(receivers[0]); i++)
		CP_CHECK(cp_kb_find(CP_KB_RECEIVER, receivers[i]) != NULL,
		    "no receiver page %s", receivers[i]);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		CP_CHECK(cp_kb_find(CP_KB_BLOCKLIST, lists[i]) != NULL,
		    "no blocklist page %s", lists[i]);
	for (int c = 0; c < CP_CAUSE_COUNT; c++)
		CP_CHECK(cp_kb_find(CP_KB_CAUSE, cp_cause_name(c)) != NULL,
		    "no cause page %s", cp_cause_name(c));
}

/* Every page has the shape of a reference page; every related entry exists. */
CP_TEST(kb_pages_complete)
{
	for (size_t i = 0; i < cp_kb_count(); i++) {
		const cp_kb_page *pg = cp_kb_page_at(i);

		CP_CHECK(pg->nsteps >= 2, "%s: %u steps", pg->key, pg->nsteps);
		CP_CHECK(pg->nfaq >= 1, "%s: no FAQ", pg->key);
		CP_CHECK(*pg->meaning && *pg->who && *pg->why && *pg->cold,
		    "%s: empty section", pg->key);
		for (size_t j = 0; j < pg->nrelated; j++) {
			const char *rel = pg->related[j];
			char key[32];
			int found;

			/* "5.7.26" names the class-free page X.7.26 */
			if (rel[0] >= '2' && rel[0] <= '5' && rel[1] == '.') {
				snprintf(key, sizeof(key), "X%s", rel + 1);
				rel = key;
			}
			found = cp_kb_find(CP_KB_CODE, rel) ||
			    cp_kb_find(CP_KB_REPLY, rel) ||
			    cp_kb_find(CP_KB_CAUSE, rel) ||
			    cp_kb_find(CP_KB_RECEIVER, rel) ||
			    cp_kb_find(CP_KB_BLOCKLIST, rel);
			CP_CHECK(found, "%s: related '%s' is no page", pg->key,
			    pg->related[j]);
		}
	}
}

CP_TEST(kb_enums_and_aliases)
{
	CP_CHECK_STR(cp_cause_name(CP_CAUSE_AUTHENTICATION), "authentication");
	CP_CHECK_STR(cp_cause_name(CP_CAUSE_OTHER), "other");
	CP_CHECK_INT(cp_cause_from_name("rate_limit"), CP_CAUSE_RATE_LIMIT);
	CP_CHECK_INT(cp_cause_from_name("nonsense"), -1);
	CP_CHECK_STR(cp_retry_name(CP_RETRY_AFTER_FIX), "after_fix");
	CP_CHECK_STR(cp_reason_canonical("speeding"), "ratelimited");
	CP_CHECK_STR(cp_reason_canonical("mesgtoobig"), "emailtoolarge");
	CP_CHECK_STR(cp_reason_canonical("userunknown"), "userunknown");
	CP_CHECK(cp_reason_canonical("bogus") == NULL, "unknown reason");
	for (size_t i = 0; i < cp_kb_rule_count(); i++) {
		const cp_kb_rule *r = cp_kb_rule_at(i);

		CP_CHECK(r->cause >= 0 && r->cause < CP_CAUSE_COUNT,
		    "%s: cause", r->id);
		CP_CHECK(cp_reason_canonical(r->reason) != NULL, "%s: reason",
		    r->id);
		CP_CHECK(r->says && *r->says, "%s: says", r->id);
	}
}
