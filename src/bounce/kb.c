/*
 * kb.c - lookups in the compiled knowledge base (tables in kb_data.c).
 *
 * Pages are few (a few hundred) and looked up once per explain, so a linear
 * scan is clear and fast enough; the classifier's hot path never calls it
 * by key (it resolves code pages through cp_kb_find_code's cache).
 */
#include <stdio.h>
#include <string.h>

#include "bounce/kb_int.h"

size_t
cp_kb_count(void)
{
	return cp_kb_npages;
}

const cp_kb_page *
cp_kb_page_at(size_t i)
{
	return i < cp_kb_npages ? &cp_kb_pages[i] : NULL;
}

const cp_kb_page *
cp_kb_find(cp_kb_kind kind, const char *key)
{
	for (size_t i = 0; i < cp_kb_npages; i++)
		if (cp_kb_pages[i].kind == kind &&
		    strcmp(cp_kb_pages[i].key, key) == 0)
			return &cp_kb_pages[i];
	return NULL;
}

const cp_kb_page *
cp_kb_find_code(int subject, int detail)
{
	char key[24];

	if (subject < 0 || subject > 9 || detail < 0 || detail > 999)
		return NULL;
	snprintf(key, sizeof(key), "X.%d.%d", subject, detail);
	return cp_kb_find(CP_KB_CODE, key);
}

size_t
cp_kb_rule_count(void)
{
	return cp_kb_nrules;
}

const cp_kb_rule *
cp_kb_rule_at(size_t i)
{
	return i < cp_kb_nrules ? &cp_kb_rules[i] : NULL;
}

const char *
cp_cause_name(int cause)
{
	return cause >= 0 && cause < CP_CAUSE_COUNT ? cp_kb_cause_names[cause]
						    : "?";
}

int
cp_cause_from_name(const char *name)
{
	for (int i = 0; i < CP_CAUSE_COUNT; i++)
		if (strcmp(cp_kb_cause_names[i], name) == 0)
			return i;
	return -1;
}

const char *
cp_retry_name(int retry)
{
	return retry >= 0 && retry < CP_RETRY_COUNT ? cp_kb_retry_names[retry]
						    : "?";
}

int
cp_retry_from_name(const char *name)
{
	for (int i = 0; i < CP_RETRY_COUNT; i++)
		if (strcmp(cp_kb_retry_names[i], name) == 0)
			return i;
	return -1;
}

const char *
cp_reason_canonical(const char *name)
{
	static const struct {
		const char *old, *now;
	} aliases[] = {
		{ "speeding", "ratelimited" },
		{ "toomanyconn", "ratelimited" },
		{ "mesgtoobig", "emailtoolarge" },
		{ "exceedlimit", "emailtoolarge" },
	};

	for (size_t i = 0; i < cp_kb_nreasons; i++)
		if (cp_kb_reason_names[i][0] == name[0] &&
		    strcmp(cp_kb_reason_names[i], name) == 0)
			return cp_kb_reason_names[i];
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].old, name) == 0)
			return aliases[i].now;
	return NULL;
}

const char *
cp_kind_name(int kind)
{
	static const char *const names[] = { "code", "reply", "cause",
		"receiver", "blocklist", "rules" };

	return kind >= 0 && kind <= CP_KB_RULES ? names[kind] : "?";
}
