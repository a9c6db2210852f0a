/*
 * bounce_phrase.c - every literal phrase the bounce readers look for,
 * found in one pass over a text.
 *
 * The reason phrases (bounce_reason.c), the families' template sentences
 * and the "copy of the original follows" markers (bounce_lhost.c) are a
 * few hundred literals; searching them one by one costs a pass each over
 * texts of kilobytes. They are compiled once per process into one
 * Hyperscan literal database (caseless, first match per phrase), so one
 * scan tells where each phrase first ends. A phrase's id is its place in
 * the registries, in order: reasons, families, marks.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <hs/hs.h>

#include "bounce/bounce_int.h"
#include "coldpost/alloc.h"

struct bnc_phrase_scratch {
	hs_scratch_t *hs;
	bnc_hits hits;
};

static hs_database_t *db;
static size_t npat;
static size_t *reg_base[BNC_REG_COUNT]; /* per set: id of its phrase 0 */
static char init_msg[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const bnc_phrase_set *
registry(int reg, size_t *n)
{
	switch (reg) {
	case BNC_REG_REASON:
		return bnc_reason_sets(n);
	case BNC_REG_FAMILY:
		return bnc_family_sets(n);
	case BNC_REG_COMMAND:
		return bnc_command_sets(n);
	default:
		return bnc_mark_sets(n);
	}
}

size_t
bnc_phrase_id(int reg, size_t i, size_t j)
{
	return reg_base[reg][i] + j;
}

static void
compile(void)
{
	const char **pats;
	unsigned *ids, *flags;
	size_t *lens, k = 0;
	hs_compile_error_t *ce = NULL;

	for (int r = 0; r < BNC_REG_COUNT; r++) {
		size_t n;
		const bnc_phrase_set *s = registry(r, &n);

		reg_base[r] = cp_calloc(n ? n : 1, sizeof(size_t));
		if (reg_base[r] == NULL)
			return;
		for (size_t i = 0; i < n; i++) {
			reg_base[r][i] = npat;
			for (size_t j = 0; s[i].phrases && s[i].phrases[j]; j++)
				npat++;
		}
	}
	pats = cp_calloc(npat, sizeof(*pats));
	ids = cp_calloc(npat, sizeof(*ids));
	flags = cp_calloc(npat, sizeof(*flags));
	lens = cp_calloc(npat, sizeof(*lens));
	if (pats == NULL || ids == NULL || flags == NULL || lens == NULL)
		goto out;
	for (int r = 0; r < BNC_REG_COUNT; r++) {
		size_t n;
		const bnc_phrase_set *s = registry(r, &n);

		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; s[i].phrases && s[i].phrases[j];
			    j++) {
				pats[k] = s[i].phrases[j];
				lens[k] = strlen(pats[k]);
				ids[k] = (unsigned)k;
				flags[k] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
				k++;
			}
	}
	if (hs_compile_lit_multi(pats, flags, ids, lens, (unsigned)npat,
	    HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
		(void)snprintf(init_msg, sizeof(init_msg),
		    "bounce: phrase %d: %s", ce ? ce->expression : -1,
		    ce ? ce->message : "?");
		hs_free_compile_error(ce);
		db = NULL;
	}
out:
	cp_free(pats);
	cp_free(ids);
	cp_free(flags);
	cp_free(lens);
}

int
bnc_phrase_init(char *msg, size_t msglen)
{
	(void)pthread_once(&once, compile);
	if (db == NULL)
		(void)snprintf(msg, msglen, "%s", init_msg[0] ? init_msg :
		    "bounce: phrase matcher: out of memory");
	return db != NULL;
}

struct bnc_phrase_scratch *
bnc_phrase_scratch_new(void)
{
	struct bnc_phrase_scratch *s = cp_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->hits.n = npat;
	s->hits.end = cp_malloc((npat ? npat : 1) * sizeof(uint32_t));
	if (s->hits.end == NULL || hs_alloc_scratch(db, &s->hs) !=
	    HS_SUCCESS) {
		bnc_phrase_scratch_free(s);
		return NULL;
	}
	return s;
}

void
bnc_phrase_scratch_free(struct bnc_phrase_scratch *s)
{
	if (s == NULL)
		return;
	if (s->hs != NULL)
		hs_free_scratch(s->hs);
	cp_free(s->hits.end);
	cp_free(s);
}

static int
on_match(unsigned id, unsigned long long from, unsigned long long to,
    unsigned flags, void *arg)
{
	bnc_hits *h = arg;

	(void)from;
	(void)flags;
	if (id < h->n && h->end[id] == BNC_NO_HIT)
		h->end[id] = (uint32_t)to;
	return 0;
}

const bnc_hits *
bnc_phrase_scan(struct bnc_phrase_scratch *s, cp_slice text)
{
	memset(s->hits.end, 0xff, s->hits.n * sizeof(uint32_t));
	if (text.len > 0 && text.len < UINT32_MAX)
		(void)hs_scan(db, text.p, (unsigned)text.len, 0, s->hs,
		    on_match, &s->hits);
	return &s->hits;
}
