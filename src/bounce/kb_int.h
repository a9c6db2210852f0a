/*
 * kb_int.h - the tables scripts/gen_kb.py generates (kb_data.c).
 */
#ifndef COLDPOST_KB_INT_H
#define COLDPOST_KB_INT_H

#include <stddef.h>

#include "coldpost/kb.h"

enum { CP_KB_PAT_RULE, CP_KB_PAT_RECEIVER, CP_KB_PAT_BLOCKLIST };

typedef struct cp_kb_pattern {
	const char *re; /* Hyperscan expression, matched caseless */
	uint16_t kind;  /* CP_KB_PAT_* */
	uint16_t index; /* into cp_kb_rules or cp_kb_pages */
} cp_kb_pattern;

extern const cp_kb_page cp_kb_pages[];
extern const size_t cp_kb_npages;
extern const cp_kb_rule cp_kb_rules[];
extern const size_t cp_kb_nrules;
extern const cp_kb_pattern cp_kb_patterns[];
extern const size_t cp_kb_npatterns;
extern const char *const cp_kb_cause_names[];
extern const char *const cp_kb_retry_names[];
extern const char *const cp_kb_reason_names[];
extern const size_t cp_kb_nreasons;

#endif
