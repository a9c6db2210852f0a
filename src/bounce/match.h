/*
 * match.h - every knowledge-base pattern against one text, at once.
 *
 * Internal to libcoldpost (src/bounce). The matcher is immutable once
 * built and shared by threads; each thread scans with its own scratch.
 */
#ifndef COLDPOST_MATCH_H
#define COLDPOST_MATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct cp_matcher cp_matcher;
typedef struct cp_match_scratch cp_match_scratch;

/* Build from the generated tables; on failure NULL and msg says why. */
cp_matcher *cp_matcher_new(char *msg, size_t msglen);
void cp_matcher_free(cp_matcher *m);
/* The compiled database as bytes (malloc'd, caller frees with free()). */
int cp_matcher_serialize(const cp_matcher *m, char **bytes, size_t *len);

cp_match_scratch *cp_match_scratch_new(const cp_matcher *m);
void cp_match_scratch_free(cp_match_scratch *s);

/*
 * Indexes (into cp_kb_patterns) of the patterns that match text, each
 * once, at most max of them, in no particular order; returns how many.
 */
size_t cp_matcher_scan(const cp_matcher *m, cp_match_scratch *s,
    const char *text, size_t len, unsigned *hits, size_t max);

#endif
