/*
 * classify.c - from a parsed reply to a verdict: cause family, reason,
 * receiver, blocklist, retry advice, remediation.
 *
 * All signature patterns of the knowledge base (rules, receiver and
 * blocklist signatures) are compiled into one Hyperscan block-mode
 * database, so one pass over the text finds every rule that matches,
 * whatever their number. Among matching rules whose code and class
 * constraints fit, the highest prio wins; ties go to the longer pattern
 * (the more specific wording), then to knowledge-base order.
 *
 * No rule: the enhanced code's page decides (X.s.d, then X.s.0), then the
 * basic code's page, and the verdict says code_only. Retry advice comes from
 * the rule, else the code page for the class, else the cause family.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce/kb_int.h"
#include "bounce/match.h"
#include "coldpost/alloc.h"
#include "coldpost/classify.h"

#define MAX_HITS 128

struct cp_classifier {
	cp_matcher *matcher;
	const cp_kb_page *cause_pages[CP_CAUSE_COUNT];
	size_t *patlen; /* strlen of each pattern, for tie-breaks */
	/* Indexes so the hot path never searches the page table by key. */
	const cp_kb_page *code_pages[8][1000]; /* X.s.d */
	const cp_kb_page *reply_pages[600];    /* basic codes */
	const cp_kb_page **rule_receiver;      /* per rule, or NULL */
	const cp_kb_page **rule_blocklist;     /* per rule, or NULL */
};

struct cp_classify_session {
	const cp_classifier *c;
	cp_match_scratch *scratch;
	cp_reply reply;
	unsigned hits[MAX_HITS];
	size_t nhits;
};

static cp_classifier *default_classifier;
static char default_error[256];
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* Default retry advice per cause family when neither rule nor code says. */
static const int cause_retry[CP_CAUSE_COUNT] = {
	[CP_CAUSE_AUTHENTICATION] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_REPUTATION] = CP_RETRY_LATER,
	[CP_CAUSE_BLOCKLIST] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_CONTENT] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_POLICY] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_RATE_LIMIT] = CP_RETRY_LATER,
	[CP_CAUSE_RECIPIENT_UNKNOWN] = CP_RETRY_NEVER,
	[CP_CAUSE_MAILBOX_FULL] = CP_RETRY_LATER,
	[CP_CAUSE_MAILBOX_DISABLED] = CP_RETRY_NEVER,
	[CP_CAUSE_MESSAGE_TOO_BIG] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_TLS] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_RELAY_DENIED] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_DNS_OR_ROUTING] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_PROTOCOL] = CP_RETRY_AFTER_FIX,
	[CP_CAUSE_TEMPORARY] = CP_RETRY_SOON,
	[CP_CAUSE_OTHER] = CP_RETRY_LATER,
};

const char *
cp_class_name(int cls)
{
	static const char *const names[] = { "success", "transient",
		"permanent" };

	return cls >= 0 && cls <= CP_CLASS_PERMANENT ? names[cls] : "?";
}

static void
classifier_free(cp_classifier *c)
{
	if (c == NULL)
		return;
	cp_matcher_free(c->matcher);
	cp_free(c->patlen);
	cp_free(c->rule_receiver);
	cp_free(c->rule_blocklist);
	cp_free(c);
}

/* Fill the page indexes from the generated tables. */
static int
classifier_index(cp_classifier *c)
{
	c->rule_receiver = cp_calloc(cp_kb_nrules, sizeof(*c->rule_receiver));
	c->rule_blocklist = cp_calloc(cp_kb_nrules, sizeof(*c->rule_blocklist));
	if (c->rule_receiver == NULL || c->rule_blocklist == NULL)
		return CP_ENOMEM;
	for (size_t i = 0; i < cp_kb_npages; i++) {
		const cp_kb_page *pg = &cp_kb_pages[i];
		const char *k = pg->key;

		if (pg->kind == CP_KB_CODE) {
			int sub = k[2] - '0', det = atoi(k + 4);

			if (sub >= 0 && sub < 8 && det >= 0 && det < 1000)
				c->code_pages[sub][det] = pg;
		} else if (pg->kind == CP_KB_REPLY) {
			int code = atoi(k);

			if (code >= 200 && code < 600)
				c->reply_pages[code] = pg;
		}
	}
	for (int i = 0; i < CP_CAUSE_COUNT; i++)
		c->cause_pages[i] = cp_kb_find(CP_KB_CAUSE, cp_cause_name(i));
	for (size_t i = 0; i < cp_kb_nrules; i++) {
		const cp_kb_rule *r = &cp_kb_rules[i];

		if (r->receiver)
			c->rule_receiver[i] = cp_kb_find(CP_KB_RECEIVER,
			    r->receiver);
		if (r->blocklist)
			c->rule_blocklist[i] = cp_kb_find(CP_KB_BLOCKLIST,
			    r->blocklist);
	}
	return CP_OK;
}

static int
classifier_compile(cp_classifier **out, char *msg, size_t msglen)
{
	cp_classifier *c = cp_calloc(1, sizeof(*c));
	int rc = CP_ENOMEM;

	if (c == NULL)
		goto out;
	c->patlen = cp_calloc(cp_kb_npatterns ? cp_kb_npatterns : 1,
	    sizeof(*c->patlen));
	if (c->patlen == NULL || classifier_index(c) != CP_OK)
		goto out;
	for (size_t i = 0; i < cp_kb_npatterns; i++)
		c->patlen[i] = strlen(cp_kb_patterns[i].re);
	c->matcher = cp_matcher_new(msg, msglen);
	if (c->matcher == NULL) {
		rc = CP_ESYNTAX;
		goto out;
	}
	*out = c;
	c = NULL;
	rc = CP_OK;
out:
	if (rc == CP_ENOMEM)
		snprintf(msg, msglen, "classifier: out of memory");
	classifier_free(c);
	return rc;
}

static void
default_init(void)
{
	if (classifier_compile(&default_classifier, default_error,
	    sizeof(default_error)) != CP_OK)
		default_classifier = NULL;
}

const cp_classifier *
cp_classifier_default(cp_err *err)
{
	pthread_once(&default_once, default_init);
	if (default_classifier == NULL)
		cp_err_set(err, CP_ESYNTAX, "%s", default_error);
	return default_classifier;
}

cp_classify_session *
cp_classify_session_new(const cp_classifier *c, cp_err *err)
{
	cp_classify_session *s = cp_calloc(1, sizeof(*s));

	if (s == NULL) {
		cp_err_set(err, CP_ENOMEM, "classifier: out of memory");
		return NULL;
	}
	s->c = c;
	cp_reply_init(&s->reply);
	s->scratch = cp_match_scratch_new(c->matcher);
	if (s->scratch == NULL) {
		cp_err_set(err, CP_ENOMEM, "classifier: no scratch space");
		cp_free(s);
		return NULL;
	}
	return s;
}

void
cp_classify_session_free(cp_classify_session *s)
{
	if (s == NULL)
		return;
	cp_match_scratch_free(s->scratch);
	cp_reply_clear(&s->reply);
	cp_free(s);
}

const cp_reply *
cp_classify_session_reply(const cp_classify_session *s)
{
	return &s->reply;
}

/* Does one code prefix ("5.7", "5.7.1", "550", "5") admit this reply? */
static int
code_admits(const char *p, size_t n, const cp_reply *r, const char *basic)
{
	/* basic is the code as 3 digits, or "" */
	if (memchr(p, '.', n) != NULL)
		return r->enhanced[0] && strncmp(r->enhanced, p, n) == 0 &&
		    (p[n - 1] == '.' || r->enhanced[n] == '\0' ||
		    r->enhanced[n] == '.');
	if (n == 1)
		return (r->code ? r->code / 100 : r->cls) == p[0] - '0';
	return r->code && strncmp(basic, p, n) == 0;
}

/* Does "5.7.1 550" (space-separated prefixes; NULL: any) admit the reply? */
static int
codes_admit(const char *codes, const cp_reply *r)
{
	char basic[4] = "";

	if (codes == NULL)
		return 1;
	if (r->code) {
		basic[0] = (char)('0' + r->code / 100);
		basic[1] = (char)('0' + r->code / 10 % 10);
		basic[2] = (char)('0' + r->code % 10);
		basic[3] = '\0';
	}
	for (const char *p = codes; *p;) {
		size_t n = strcspn(p, " ");

		if (n > 0 && code_admits(p, n, r, basic))
			return 1;
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

static const cp_kb_rule *
best_rule(const cp_classify_session *s, const cp_reply *r, int cls)
{
	const cp_kb_rule *best = NULL;
	size_t best_len = 0;
	unsigned best_pat = 0;

	for (size_t i = 0; i < s->nhits; i++) {
		const cp_kb_pattern *p = &cp_kb_patterns[s->hits[i]];
		const cp_kb_rule *rule;
		size_t len;

		if (p->kind != CP_KB_PAT_RULE)
			continue;
		rule = &cp_kb_rules[p->index];
		if (rule->cls && rule->cls != cls)
			continue;
		if (!codes_admit(rule->codes, r))
			continue;
		len = s->c->patlen[s->hits[i]];
		if (best == NULL || rule->prio > best->prio ||
		    (rule->prio == best->prio && (len > best_len ||
		    (len == best_len && s->hits[i] < best_pat)))) {
			best = rule;
			best_len = len;
			best_pat = s->hits[i];
		}
	}
	return best;
}

/*
 * Receiver host suffixes, hashed: a lookup tries each suffix of the host
 * that starts a label (or a ".suffix" entry) instead of every entry of
 * every receiver page. Hashed right to left, so one pass over the host
 * gives the hash of each of its suffixes. ASCII case is folded, as
 * strncasecmp does in the C locale.
 */
typedef struct host_slot {
	const char *host;   /* NULL: empty slot */
	size_t len;
	size_t page;        /* index in cp_kb_pages: the first wins */
} host_slot;

static host_slot *host_index;
static size_t host_mask;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static uint32_t
host_step(uint32_t h, unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		ch = (unsigned char)(ch + 32);
	return (h ^ ch) * 16777619u;
}

static uint32_t
host_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	while (len-- > 0)
		h = host_step(h, (unsigned char)s[len]);
	return h;
}

static void
host_index_build(void)
{
	size_t n = 0, cap = 16;

	for (size_t i = 0; i < cp_kb_npages; i++)
		if (cp_kb_pages[i].kind == CP_KB_RECEIVER)
			n += cp_kb_pages[i].nhosts;
	while (cap < 2 * n)
		cap *= 2;
	host_index = cp_calloc(cap, sizeof(*host_index));
	if (host_index == NULL)
		return;
	host_mask = cap - 1;
	for (size_t i = 0; i < cp_kb_npages; i++) {
		const cp_kb_page *pg = &cp_kb_pages[i];

		if (pg->kind != CP_KB_RECEIVER)
			continue;
		for (size_t j = 0; j < pg->nhosts; j++) {
			const char *h = pg->hosts[j];
			size_t len = strlen(h);
			size_t k = host_hash(h, len) & host_mask;

			while (host_index[k].host != NULL &&
			    !(host_index[k].len == len &&
			    strncasecmp(host_index[k].host, h, len) == 0))
				k = (k + 1) & host_mask;
			if (host_index[k].host == NULL) {
				host_index[k].host = h;
				host_index[k].len = len;
				host_index[k].page = i; /* pages in order */
			}
		}
	}
}

/* The page of the entry equal to s (case folded), else cp_kb_npages. */
static size_t
host_probe(const char *s, size_t len, uint32_t hash)
{
	for (size_t k = hash & host_mask; host_index[k].host != NULL;
	    k = (k + 1) & host_mask)
		if (host_index[k].len == len &&
		    strncasecmp(host_index[k].host, s, len) == 0)
			return host_index[k].page;
	return cp_kb_npages;
}

/* The linear search the index replaces (when it could not be built). */
static const cp_kb_page *
host_scan(const char *host, size_t hl)
{
	for (size_t i = 0; i < cp_kb_npages; i++) {
		const cp_kb_page *pg = &cp_kb_pages[i];

		if (pg->kind != CP_KB_RECEIVER)
			continue;
		for (size_t j = 0; j < pg->nhosts; j++) {
			size_t sl = strlen(pg->hosts[j]);

			if (sl <= hl &&
			    strncasecmp(host + hl - sl, pg->hosts[j], sl) == 0 &&
			    (sl == hl || host[hl - sl - 1] == '.' ||
			    pg->hosts[j][0] == '.'))
				return pg;
		}
	}
	return NULL;
}

/*
 * An entry matches when it is the host, a suffix after a dot, or starts
 * with a dot itself: so only suffixes at the start, after a dot or at a
 * dot can match. Among matches the first page wins.
 */
const cp_kb_page *
cp_kb_receiver_by_host(const char *host)
{
	size_t hl, best;
	uint32_t h = 2166136261u;

	if (host == NULL || *host == '\0')
		return NULL;
	hl = strlen(host);
	while (hl > 0 && host[hl - 1] == '.')
		hl--;
	(void)pthread_once(&host_once, host_index_build);
	if (host_index == NULL)
		return host_scan(host, hl);
	best = hl == 0 ? host_probe(host, 0, h) : cp_kb_npages;
	for (size_t k = hl; k-- > 0;) {
		h = host_step(h, (unsigned char)host[k]);
		if (k == 0 || host[k - 1] == '.' || host[k] == '.') {
			size_t pg = host_probe(host + k, hl - k, h);

			if (pg < best)
				best = pg;
		}
	}
	return best < cp_kb_npages ? &cp_kb_pages[best] : NULL;
}

/* The X.s.d page, else X.s.0 (subject-wide default), else NULL. */
static const cp_kb_page *
code_page_for(const cp_classifier *c, const cp_reply *r, int *exact)
{
	*exact = 0;
	if (r->cls == 0 || r->subject > 7 || r->detail > 999)
		return NULL;
	if (c->code_pages[r->subject][r->detail] != NULL) {
		*exact = 1;
		return c->code_pages[r->subject][r->detail];
	}
	return c->code_pages[r->subject][0];
}

/*
 * Does the enhanced code's page decide over the basic code's? An exact
 * X.s.d with d > 0 is specific and wins. X.s.0 and X.0.0 only name an area
 * ("other security problem"), so a specific basic code (530 auth needed,
 * 552 storage) knows more; the catch-all basic codes 550 and 554 do not.
 */
static int
code_page_decides(const cp_kb_page *cp, int exact, const cp_kb_page *rp,
    const cp_reply *r)
{
	if (cp == NULL || cp->family < 0)
		return 0;
	if (rp == NULL || rp->family < 0)
		return 1;
	if (exact && r->detail != 0)
		return 1;
	return r->code == 550 || r->code == 554;
}

static void
verdict_from_codes(const cp_classifier *c, cp_verdict *v, const cp_reply *r,
    int cls)
{
	int exact;
	const cp_kb_page *cp = code_page_for(c, r, &exact);
	const cp_kb_page *rp = v->reply_page;
	const cp_kb_page *src;

	v->code_only = 1;
	if (code_page_decides(cp, exact, rp, r))
		src = cp;
	else if (rp != NULL && rp->family >= 0)
		src = rp;
	else
		src = cp;
	if (src == NULL) {
		v->cause = cls == CP_CLASS_TRANSIENT ? CP_CAUSE_TEMPORARY
						     : CP_CAUSE_OTHER;
		v->reason = cls == CP_CLASS_SUCCESS ? "delivered" : "undefined";
		v->retry = cause_retry[v->cause];
		v->rule = "code:none";
		return;
	}
	v->cause = src->family;
	v->reason = src->reason ? src->reason : "undefined";
	if (cls == CP_CLASS_TRANSIENT)
		v->retry = src->retry4 >= 0 ? src->retry4 : CP_RETRY_LATER;
	else
		v->retry = src->retry >= 0 ? src->retry : cause_retry[v->cause];
	v->rule = src == cp ? "code:enhanced" : "code:basic";
	v->says = src->title;
}

void
cp_classify_parsed(cp_classify_session *s, const cp_reply *r,
    const char *host, cp_verdict *v)
{
	int rcls = cp_reply_class(r);
	int cls = rcls == 5 ? CP_CLASS_PERMANENT
	    : rcls == 4 ? CP_CLASS_TRANSIENT : CP_CLASS_SUCCESS;
	const cp_kb_rule *rule;
	int exact;

	memset(v, 0, sizeof(*v));
	v->code = r->code;
	v->enhanced = r->enhanced;
	v->cls = cls;
	v->receiver = "unknown";
	v->code_page = code_page_for(s->c, r, &exact);
	if (!exact)
		v->code_page = NULL; /* shown only when it is this very code */
	v->reply_page = r->code ? s->c->reply_pages[r->code] : NULL;
	s->nhits = cp_matcher_scan(s->c->matcher, s->scratch, r->text,
	    r->text_len, s->hits, MAX_HITS);
	rule = cls == CP_CLASS_SUCCESS ? NULL : best_rule(s, r, rcls);
	if (rule != NULL) {
		v->matched = rule;
		v->cause = rule->cause;
		v->reason = rule->reason;
		v->rule = rule->id;
		v->says = rule->says;
		v->retry = rule->retry >= 0 ? rule->retry : cause_retry[v->cause];
		if (rule->receiver)
			v->receiver = rule->receiver;
		v->receiver_page = s->c->rule_receiver[rule - cp_kb_rules];
		v->blocklist = rule->blocklist;
		v->blocklist_page = s->c->rule_blocklist[rule - cp_kb_rules];
	} else if (cls == CP_CLASS_SUCCESS) {
		v->cause = CP_CAUSE_OTHER;
		v->reason = "delivered";
		v->retry = CP_RETRY_NEVER;
		v->rule = "code:success";
		v->says = v->reply_page ? v->reply_page->title
					: "The receiver accepted the command.";
	} else {
		verdict_from_codes(s->c, v, r, cls);
	}
	/* A 4xx says "try again": never call the address dead on it. */
	if (cls == CP_CLASS_TRANSIENT && v->retry == CP_RETRY_NEVER)
		v->retry = CP_RETRY_LATER;
	for (size_t i = 0; i < s->nhits; i++) {
		const cp_kb_pattern *p = &cp_kb_patterns[s->hits[i]];

		if (p->kind == CP_KB_PAT_RECEIVER && v->receiver_page == NULL &&
		    v->receiver[0] == 'u' && strcmp(v->receiver, "unknown") == 0)
			v->receiver_page = &cp_kb_pages[p->index];
		if (p->kind == CP_KB_PAT_BLOCKLIST && v->blocklist == NULL)
			v->blocklist_page = &cp_kb_pages[p->index];
	}
	if (v->receiver_page == NULL && strcmp(v->receiver, "unknown") == 0) {
		v->receiver_page = cp_kb_receiver_by_host(host);
		if (v->receiver_page == NULL)
			v->receiver_page = cp_kb_receiver_by_host(r->host);
	}
	if (v->receiver_page != NULL)
		v->receiver = v->receiver_page->key;
	if (v->blocklist_page != NULL)
		v->blocklist = v->blocklist_page->key;
	v->cause_page = s->c->cause_pages[v->cause];
	if (rule != NULL && rule->nsteps > 0) {
		v->steps = rule->steps;
		v->nsteps = rule->nsteps;
	} else if (v->cause_page != NULL && cls != CP_CLASS_SUCCESS) {
		v->steps = v->cause_page->steps;
		v->nsteps = v->cause_page->nsteps;
	}
	if (v->says == NULL)
		v->says = v->cause_page ? v->cause_page->title : "";
}

int
cp_classify_reply(cp_classify_session *s, const char *reply, size_t len,
    const char *host, cp_verdict *out, cp_err *err)
{
	int rc = cp_reply_parse(&s->reply, reply, len, err);

	if (rc != CP_OK)
		return rc;
	cp_classify_parsed(s, &s->reply, host, out);
	return CP_OK;
}
