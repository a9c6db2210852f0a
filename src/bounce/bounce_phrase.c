/*
 * bounce_phrase.c - every literal phrase the bounce readers look for,
 * found in one pass over a text.
 *
 * The reason phrases (bounce_reason.c), the families' template sentences
 * and the "copy of the original follows" markers (bounce_lhost.c) are a
 * few hundred literals; searching them one by one costs a pass each over
 * texts of kilobytes. They are compiled once per process into Hyperscan
 * literal databases (caseless, first match per phrase), so one scan tells
 * where each phrase first ends. A phrase's id is its place in the
 * registries, in order: reasons, families, marks, commands.
 *
 * One database per kind of scan (bounce_int.h), because a scan costs
 * more the more literals it looks for: over the corpus's text parts, the
 * marks and the full-mailbox phrases alone scan about three times faster
 * than with the families' signatures and the commands. A DSN's text part
 * is read only for the marks and a full mailbox (bounce_reason.c), a
 * plain-text bounce's for its writer too (bounce_lhost.c), and either
 * for the SMTP command only when the reason needs it; a diagnostic (a
 * line or two) for every reason and the command. The phrases a kind's
 * database lacks never hit in its scans.
 *
 * A text part's scan ends where the returned original starts (a family's
 * mark that opens a line, bnc_opens_line): what follows is the original
 * message, whose words are not the bounce's (a quoted "mailbox full", or
 * a bounce returned inside a bounce), and is often most of the text.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <hs/hs.h>

#include "bounce/bounce_int.h"
#include "coldpost/alloc.h"

struct bnc_phrase_scratch {
	int kind;               /* BNC_SCAN_* */
	const hs_database_t *db;
	hs_scratch_t *hs;
	bnc_hits hits;
	uint32_t *hit;          /* the ids hit by the last scan, nhit of them */
	size_t nhit;
	cp_slice text;          /* being scanned */
};

static hs_database_t *db[BNC_SCAN_COUNT];
static size_t npat;
static size_t *reg_base[BNC_REG_COUNT]; /* per set: id of its phrase 0 */
static size_t *plen;                    /* per id: the phrase's length */
static size_t mark_lo, mark_hi;         /* the ids of the marks */
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

/* Does the database for texts of kind want set s of registry reg? */
static int
wanted(int kind, int reg, const bnc_phrase_set *s)
{
	int full = reg == BNC_REG_REASON &&
	    strcmp(s->name, "mailboxfull") == 0;

	switch (kind) {
	case BNC_SCAN_NOTICE:
		return reg == BNC_REG_MARK || full;
	case BNC_SCAN_WRITER:
		return reg == BNC_REG_MARK || reg == BNC_REG_FAMILY || full;
	case BNC_SCAN_COMMAND:
		return reg == BNC_REG_MARK || reg == BNC_REG_COMMAND;
	default:
		return reg == BNC_REG_REASON || reg == BNC_REG_COMMAND;
	}
}

/* One database of the phrases kind wants, their ids as registered. */
static int
compile_kind(int kind, const char **pats, unsigned *ids, unsigned *flags,
    size_t *lens)
{
	hs_compile_error_t *ce = NULL;
	size_t k = 0, id = 0;

	for (int r = 0; r < BNC_REG_COUNT; r++) {
		size_t n;
		const bnc_phrase_set *s = registry(r, &n);

		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; s[i].phrases && s[i].phrases[j];
			    j++, id++) {
				if (!wanted(kind, r, &s[i]))
					continue;
				pats[k] = s[i].phrases[j];
				lens[k] = plen[id] = strlen(pats[k]);
				ids[k] = (unsigned)id;
				flags[k] = HS_FLAG_CASELESS |
				    HS_FLAG_SINGLEMATCH;
				k++;
			}
	}
	if (hs_compile_lit_multi(pats, flags, ids, lens, (unsigned)k,
	    HS_MODE_BLOCK, NULL, &db[kind], &ce) != HS_SUCCESS) {
		(void)snprintf(init_msg, sizeof(init_msg),
		    "bounce: phrase %d: %s", ce ? ce->expression : -1,
		    ce ? ce->message : "?");
		hs_free_compile_error(ce);
		db[kind] = NULL;
		return -1;
	}
	return 0;
}

static void
compile(void)
{
	const char **pats;
	unsigned *ids, *flags;
	size_t *lens;

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
	mark_lo = reg_base[BNC_REG_MARK][0];
	mark_hi = reg_base[BNC_REG_MARK + 1][0];
	pats = cp_calloc(npat, sizeof(*pats));
	ids = cp_calloc(npat, sizeof(*ids));
	flags = cp_calloc(npat, sizeof(*flags));
	lens = cp_calloc(npat, sizeof(*lens));
	plen = cp_calloc(npat, sizeof(*plen));
	for (int k = 0; k < BNC_SCAN_COUNT; k++)
		if (plen == NULL || pats == NULL || ids == NULL ||
		    flags == NULL || lens == NULL ||
		    compile_kind(k, pats, ids, flags, lens) != 0) {
			for (int j = 0; j < BNC_SCAN_COUNT; j++) {
				hs_free_database(db[j]);
				db[j] = NULL;
			}
			break;
		}
	cp_free(pats);
	cp_free(ids);
	cp_free(flags);
	cp_free(lens);
}

int
bnc_phrase_init(char *msg, size_t msglen)
{
	(void)pthread_once(&once, compile);
	/* all compiled, or none */
	if (db[0] == NULL)
		(void)snprintf(msg, msglen, "%s", init_msg[0] ? init_msg :
		    "bounce: phrase matcher: out of memory");
	return db[0] != NULL;
}

struct bnc_phrase_scratch *
bnc_phrase_scratch_new(int kind)
{
	struct bnc_phrase_scratch *s = cp_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->kind = kind;
	s->db = db[kind];
	s->hits.n = npat;
	s->hits.end = cp_malloc((npat ? npat : 1) * sizeof(uint32_t));
	s->hit = cp_malloc((npat ? npat : 1) * sizeof(uint32_t));
	if (s->hits.end == NULL || s->hit == NULL ||
	    hs_alloc_scratch(s->db, &s->hs) != HS_SUCCESS) {
		bnc_phrase_scratch_free(s);
		return NULL;
	}
	memset(s->hits.end, 0xff, s->hits.n * sizeof(uint32_t));
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
	cp_free(s->hit);
	cp_free(s);
}

int
bnc_opens_line(cp_slice text, size_t end, size_t len, size_t *at)
{
	const char *ls;

	if (end < len || end > text.len)
		return 0;
	ls = text.p + end - len;
	while (ls > text.p && (ls[-1] == ' ' || ls[-1] == '\t'))
		ls--;
	if (ls != text.p && ls[-1] != '\n')
		return 0;
	*at = (size_t)(ls - text.p);
	return 1;
}

static int
on_match(unsigned id, unsigned long long from, unsigned long long to,
    unsigned flags, void *arg)
{
	struct bnc_phrase_scratch *s = arg;
	size_t at;

	(void)from;
	(void)flags;
	if (id >= s->hits.n || s->hits.end[id] != BNC_NO_HIT)
		return 0;
	s->hits.end[id] = (uint32_t)to;
	s->hit[s->nhit++] = id;
	/* the original starts: the rest is not the bounce's text */
	return s->kind != BNC_SCAN_DIAG && id >= mark_lo && id < mark_hi &&
	    bnc_opens_line(s->text, (size_t)to, plen[id], &at);
}

const bnc_hits *
bnc_phrase_scan(struct bnc_phrase_scratch *s, cp_slice text)
{
	/* only what the last scan set: a scan hits a few of hundreds */
	while (s->nhit > 0)
		s->hits.end[s->hit[--s->nhit]] = BNC_NO_HIT;
	s->text = text;
	if (text.len > 0 && text.len < UINT32_MAX)
		(void)hs_scan(s->db, text.p, (unsigned)text.len, 0, s->hs,
		    on_match, s);
	return &s->hits;
}
