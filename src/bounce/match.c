/*
 * match.c - every knowledge-base pattern against one text, in one pass.
 *
 * All patterns (rule matches, receiver and blocklist signatures) are
 * compiled into one Hyperscan block-mode database, caseless, one report
 * per pattern. Hyperscan decomposes the set into literals and small
 * automata itself; we measured a hand-made split (literal anchors found by
 * Hyperscan, the rest checked in C) and it was no faster, because the cost
 * is in the ~1,400 literals both approaches must look for, so this file
 * stays a thin wrapper.
 */
#include <stdio.h>
#include <string.h>

#include <hs/hs.h>

#include "bounce/kb_int.h"
#include "bounce/match.h"
#include "coldpost/alloc.h"

/*
 * The database serialized at build time (tools/kbc.c writes kb_hsdb.c),
 * so a CLI run does not spend ~0.6 s compiling it. Builds of the compiler
 * itself link hsdb_none.c instead (length 0), and a database that does not
 * load here (another CPU) is compiled at run time.
 */
extern const char cp_kb_hsdb[];
extern const size_t cp_kb_hsdb_len;

struct cp_matcher {
	hs_database_t *db; /* NULL when the knowledge base has no pattern */
};

struct cp_match_scratch {
	hs_scratch_t *hs;
	unsigned *hits;
	size_t nhits, max;
};

static int
on_match(unsigned id, unsigned long long from, unsigned long long to,
    unsigned flags, void *ctx)
{
	cp_match_scratch *s = ctx;

	(void)from;
	(void)to;
	(void)flags;
	if (s->nhits < s->max)
		s->hits[s->nhits++] = id;
	return 0;
}

size_t
cp_matcher_scan(const cp_matcher *m, cp_match_scratch *s, const char *text,
    size_t len, unsigned *hits, size_t max)
{
	s->hits = hits;
	s->max = max;
	s->nhits = 0;
	if (m->db != NULL && len > 0)
		hs_scan(m->db, text, (unsigned)len, 0, s->hs, on_match, s);
	return s->nhits;
}

cp_matcher *
cp_matcher_new(char *msg, size_t msglen)
{
	size_t n = cp_kb_npatterns;
	cp_matcher *m = cp_calloc(1, sizeof(*m));
	const char **exprs = cp_calloc(n ? n : 1, sizeof(*exprs));
	unsigned *flags = cp_calloc(n ? n : 1, sizeof(*flags));
	unsigned *ids = cp_calloc(n ? n : 1, sizeof(*ids));
	hs_compile_error_t *cerr = NULL;

	if (m == NULL || exprs == NULL || flags == NULL || ids == NULL) {
		snprintf(msg, msglen, "matcher: out of memory");
		goto fail;
	}
	if (n > 0 && cp_kb_hsdb_len > 0 && hs_deserialize_database(cp_kb_hsdb,
	    cp_kb_hsdb_len, &m->db) == HS_SUCCESS)
		goto done;
	for (size_t i = 0; i < n; i++) {
		exprs[i] = cp_kb_patterns[i].re;
		/* no HS_FLAG_ALLOWEMPTY: a pattern that matches the empty
		 * string would match every reply, so it fails the build
		 * (kbc) instead; the flag also costs every scan a few per
		 * cent */
		flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
		ids[i] = (unsigned)i;
	}
	if (n > 0 && hs_compile_multi(exprs, flags, ids, (unsigned)n,
	    HS_MODE_BLOCK, NULL, &m->db, &cerr) != HS_SUCCESS) {
		int at = cerr->expression;

		snprintf(msg, msglen, "matcher: pattern %d (%s) of %s: %s", at,
		    at >= 0 ? cp_kb_patterns[at].re : "?",
		    at >= 0 && cp_kb_patterns[at].kind == CP_KB_PAT_RULE
			? cp_kb_rules[cp_kb_patterns[at].index].id
			: "a signature",
		    cerr->message);
		hs_free_compile_error(cerr);
		goto fail;
	}
done:
	cp_free(exprs);
	cp_free(flags);
	cp_free(ids);
	return m;
fail:
	cp_free(exprs);
	cp_free(flags);
	cp_free(ids);
	cp_matcher_free(m);
	return NULL;
}

int
cp_matcher_serialize(const cp_matcher *m, char **bytes, size_t *len)
{
	*bytes = NULL;
	*len = 0;
	if (m->db == NULL)
		return 0;
	return hs_serialize_database(m->db, bytes, len) == HS_SUCCESS ? 0 : -1;
}

void
cp_matcher_free(cp_matcher *m)
{
	if (m == NULL)
		return;
	hs_free_database(m->db);
	cp_free(m);
}

cp_match_scratch *
cp_match_scratch_new(const cp_matcher *m)
{
	cp_match_scratch *s = cp_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (m->db != NULL && hs_alloc_scratch(m->db, &s->hs) != HS_SUCCESS) {
		cp_free(s);
		return NULL;
	}
	return s;
}

void
cp_match_scratch_free(cp_match_scratch *s)
{
	if (s == NULL)
		return;
	hs_free_scratch(s->hs);
	cp_free(s);
}
