/*
 * lint_pat.c - the linter's regular expressions (PCRE2), compiled once.
 *
 * Every pattern runs in UTF mode with Unicode properties (\b, \s, \p{Lu}
 * see non-ASCII letters) and PCRE2_MATCH_INVALID_UTF, so bytes that are not
 * UTF-8 (a part with a lying charset) simply do not match instead of
 * failing the call. The spam phrase list becomes one alternation, longest
 * phrase first so "limited time offer" wins over "limited time".
 *
 * The postal address patterns are the heuristic documented in
 * coldpost-lint(1): a P.O. box; a street line (a house number, one to four
 * capitalised words and a street type, or "<number> Broadway"; or the
 * continental "Hauptstraße 5", "12 rue de la Paix" forms); or a postal
 * code in United States (state and ZIP), United Kingdom or Canadian form.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "lint/lint_int.h"

#define STREET_TYPES                                                         \
	"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|"      \
	"court|ct|way|place|pl|square|sq|parkway|pkwy|highway|hwy|terrace|"  \
	"circle|plaza|loop|row|crescent|close|mews|gardens|walk"

#define US_STATES                                                            \
	"AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|" \
	"MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|" \
	"UT|VT|VA|WA|WV|WI|WY|PR"

static const struct {
	const char *re;
	uint32_t flags;
} pats[PAT_N - 1] = {
	[PAT_FAKE_REPLY] = { "^\\s*(?:(?:re|fwd?|aw|wg|sv|antw|tr|rif|odp)"
			     "\\s*(?:\\[\\d+\\]|\\(\\d+\\))?\\s*:\\s*)+",
		PCRE2_CASELESS },
	[PAT_URL] = { "(?:https?://|www\\.)[^\\s<>\"'`{}|\\\\^\\[\\]]+",
		PCRE2_CASELESS },
	[PAT_DOMAINISH] = { "^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+"
			    "[a-z]{2,24}/?$",
		PCRE2_CASELESS },
	[PAT_OPTOUT_TEXT] = {
		"\\b(?:unsubscribe|unsubscribing|opt[\\s-]?out|opting\\s+out"
		"|remove\\s+(?:you|me|yourself)\\s+from"
		"|reply\\s+(?:with\\s+)?[\"'\\x{201c}]?(?:stop|remove|"
		"unsubscribe|no\\s+thanks)\\b"
		"|(?:don['\\x{2019}]?t|do\\s+not|rather\\s+not|prefer\\s+not"
		"\\s+to)\\s+(?:want\\s+to\\s+)?(?:hear|receive|get)\\b"
		"|no\\s+longer\\s+(?:wish|want)\\s+to\\s+(?:receive|hear)"
		"|manage\\s+(?:your\\s+)?(?:email\\s+)?preferences)",
		PCRE2_CASELESS },
	[PAT_OPTOUT_LINK] = { "unsub|opt[-_]?out|remove|preferences|"
			      "email-?settings",
		PCRE2_CASELESS },
	[PAT_ADDR_POBOX] = { "\\b(?:p\\.?\\s?o\\.?\\s*box|post\\s+office\\s+"
			     "box|postfach|bo\\x{ee}te\\s+postale|apartado)"
			     "\\s*\\d+",
		PCRE2_CASELESS },
	[PAT_ADDR_STREET] = {
		"\\b\\d{1,6}[A-Za-z]?(?:-\\d{1,5})?,?\\s+(?:(?:\\p{Lu}"
		"[\\p{L}'.-]*|\\d+(?:st|nd|rd|th))\\s+){1,4}(?i:" STREET_TYPES
		")\\b|\\b\\d{1,6}\\s+Broadway\\b",
		0 },
	[PAT_ADDR_EU_STREET] = {
		"\\b\\p{Lu}[\\p{L}-]*(?:stra\\x{df}e|strasse|str\\.|weg|gasse"
		"|platz|allee|laan|gracht|straat|vej|gatan|v\\x{e4}gen)\\s+"
		"\\d{1,4}[a-z]?\\b"
		"|\\b\\d{1,4}(?:\\s?(?:bis|ter))?,?\\s+(?i:rue|avenue|av\\.|"
		"boulevard|bd|place|chemin|all\\x{e9}e|impasse|quai|calle|via|"
		"viale|piazza|avenida)\\s+\\p{L}",
		0 },
	[PAT_ADDR_US_ZIP] = { "\\b(?:" US_STATES ")\\s+\\d{5}(?:-\\d{4})?\\b",
		0 },
	[PAT_ADDR_UK_POSTCODE] = { "\\b[A-PR-UWYZ][A-HK-Y]?\\d[A-Z\\d]?\\s+"
				   "\\d[ABD-HJLNP-UW-Z]{2}\\b",
		0 },
	[PAT_ADDR_CA_POSTCODE] = { "\\b[ABCEGHJ-NPRSTVXY]\\d[ABCEGHJ-NPRSTV-Z]"
				   "\\s?\\d[ABCEGHJ-NPRSTV-Z]\\d\\b",
		0 },
};

static pcre2_code *compiled[PAT_N];
static int compile_rc = CP_OK;
static pthread_once_t pat_once = PTHREAD_ONCE_INIT;

static int
pat_by_length_desc(const void *a, const void *b)
{
	size_t la = strlen(lint_spam_phrases[*(const size_t *)a]);
	size_t lb = strlen(lint_spam_phrases[*(const size_t *)b]);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* One phrase as a regex: metacharacters escaped, a space matches any run
 * of white space, an apostrophe also the typographic one. */
static int
pat_add_phrase(cp_buf *b, const char *p)
{
	int rc = CP_OK;

	for (; *p && rc == CP_OK; p++) {
		if (*p == ' ')
			rc = cp_buf_adds(b, "\\s+");
		else if (*p == '\'')
			rc = cp_buf_adds(b, "['\\x{2019}]");
		else if (strchr("\\^$.|?*+()[]{}-#", *p) != NULL) {
			rc = cp_buf_addc(b, '\\');
			if (rc == CP_OK)
				rc = cp_buf_addc(b, *p);
		} else
			rc = cp_buf_addc(b, *p);
	}
	return rc;
}

/* The phrase list as (?<!\w)(?:longest|...|shortest)(?!\w). */
static int
pat_build_phrases(cp_buf *b)
{
	size_t *order, i;
	int rc;

	order = cp_calloc(lint_spam_phrases_n, sizeof(*order));
	if (order == NULL)
		return CP_ENOMEM;
	for (i = 0; i < lint_spam_phrases_n; i++)
		order[i] = i;
	qsort(order, lint_spam_phrases_n, sizeof(*order), pat_by_length_desc);
	rc = cp_buf_adds(b, "(?<![\\p{L}\\p{N}_])(?:");
	for (i = 0; i < lint_spam_phrases_n && rc == CP_OK; i++) {
		if (i > 0)
			rc = cp_buf_addc(b, '|');
		if (rc == CP_OK)
			rc = pat_add_phrase(b, lint_spam_phrases[order[i]]);
	}
	if (rc == CP_OK)
		rc = cp_buf_adds(b, ")(?![\\p{L}\\p{N}_])");
	cp_free(order);
	return rc;
}

static pcre2_code *
pat_compile(const char *re, size_t len, uint32_t flags)
{
	pcre2_code *c;
	int ecode;
	PCRE2_SIZE eoff;

	c = pcre2_compile((PCRE2_SPTR)re, len,
	    flags | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &ecode,
	    &eoff, NULL);
	if (c != NULL)
		(void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); /* optional */
	return c;
}

static void
pat_init(void)
{
	cp_buf b;
	int i;

	for (i = 0; i < PAT_PHRASES; i++) {
		compiled[i] = pat_compile(pats[i].re, PCRE2_ZERO_TERMINATED,
		    pats[i].flags);
		if (compiled[i] == NULL) {
			compile_rc = CP_EINVAL;
			return;
		}
	}
	cp_buf_init(&b, 1 << 20);
	compile_rc = pat_build_phrases(&b);
	if (compile_rc == CP_OK) {
		compiled[PAT_PHRASES] = pat_compile(b.data, b.len,
		    PCRE2_CASELESS);
		if (compiled[PAT_PHRASES] == NULL)
			compile_rc = CP_EINVAL;
	}
	cp_buf_free(&b);
}

int
lint_pat_match(int id, const char *s, size_t len, size_t start, size_t *mo,
    size_t *ml)
{
	pcre2_match_data *md;
	PCRE2_SIZE *ov;
	int rc;

	CP_ASSERT(id >= 0 && id < PAT_N);
	(void)pthread_once(&pat_once, pat_init);
	if (compile_rc != CP_OK)
		return compile_rc;
	if (start > len)
		return 0;
	md = pcre2_match_data_create_from_pattern(compiled[id], NULL);
	if (md == NULL)
		return CP_ENOMEM;
	rc = pcre2_match(compiled[id], (PCRE2_SPTR)(s ? s : ""), len, start, 0,
	    md, NULL);
	if (rc >= 0) {
		ov = pcre2_get_ovector_pointer(md);
		if (mo != NULL)
			*mo = ov[0];
		if (ml != NULL)
			*ml = ov[1] - ov[0];
		rc = 1;
	} else
		rc = 0; /* no match, or a match limit hit: not a finding */
	pcre2_match_data_free(md);
	return rc;
}
