/*
 * check_spf.c - the SPF part of the domain check (RFC 7208).
 *
 * Record selection as check_host() does it (4.4, 4.5: TXT strings that
 * start with "v=spf1"; none is "none", several are a PermError), then
 * the record's syntax (the parser in spf_parse.c names the offending
 * term), then a walk of the record tree through include: and redirect=
 * that counts what a receiver counts when nothing matches early - the
 * worst case, which is the one that bites: every include, a, mx, ptr and
 * exists term and a live redirect cost one of the 10 lookups (4.6.4), a
 * name that does not exist or has no record is a void lookup (limit 2),
 * an mx target with more than 10 exchanges is a PermError. The walk
 * follows literal domains only; terms with macros cost their lookup and
 * are noted as not followed. Then the all term that ends evaluation
 * (along the redirect chain), ptr (5.5: "SHOULD NOT be used"), and
 * check_host() itself for each sending IP with postmaster@DOMAIN as the
 * sender, which is what a receiver will run.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check/check_int.h"
#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/spf.h"

#define SPF_LIMIT 10
#define SPF_VOID_LIMIT 2
#define SPF_WALK_DEPTH 12
#define SPF_WALK_LOOKUPS 64 /* stop walking past this: it is broken anyway */

enum { FETCH_NONE, FETCH_ONE, FETCH_MULTI, FETCH_TEMP };

typedef struct spf_walk {
	check_ctx *c;
	unsigned lookups, voids;
	const char *stack[SPF_WALK_DEPTH + 2]; /* terms that led here */
	size_t depth;
	cp_buf problems;  /* included records that break, a line each */
	size_t nproblems;
	cp_buf voidnames; /* names of the void lookups */
	int ptr_used;
	char ptr_where[300];
	unsigned macros;  /* terms with macros, not followed */
	int stopped;      /* too deep or too many: walk cut short */
	unsigned nincluded; /* records reached through include/redirect */
} spf_walk;

/* The SPF record of domain: FETCH_*; *txt (owned) for FETCH_ONE, *a the
 * answer (owned) for evidence. */
static int
spf_fetch(check_ctx *c, const char *domain, char **txt, size_t *len,
    cp_dns_answer **a)
{
	size_t n = 0, which = 0;

	*txt = NULL;
	*len = 0;
	if (check_query(c, domain, CP_DNS_TXT, a) == CP_ENOMEM)
		return FETCH_TEMP;
	if ((*a)->status == CP_DNS_TEMPFAIL || (*a)->status == CP_DNS_ERROR)
		return FETCH_TEMP;
	if ((*a)->status != CP_DNS_OK)
		return FETCH_NONE;
	for (size_t i = 0; i < (*a)->n; i++)
		if (cp_spf_is_record((*a)->rr[i].u.txt.data,
		    (*a)->rr[i].u.txt.len)) {
			n++;
			which = i;
		}
	if (n == 0)
		return FETCH_NONE;
	if (n > 1)
		return FETCH_MULTI;
	*txt = cp_strndup((*a)->rr[which].u.txt.data, (*a)->rr[which].u.txt.len);
	if (*txt == NULL) {
		check_set_nomem(c);
		return FETCH_TEMP;
	}
	*len = (*a)->rr[which].u.txt.len;
	return FETCH_ONE;
}

/* A literal domain of a term (no macro), without a trailing dot. */
static int
spf_literal(const char *arg, const char *cur, char *out, size_t outlen)
{
	const char *d = arg ? arg : cur;
	size_t n;

	if (strchr(d, '%') != NULL)
		return 0;
	n = strlen(d);
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen)
		return 0;
	memcpy(out, d, n);
	out[n] = '\0';
	return 1;
}

static void
spf_problem(spf_walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
spf_problem(spf_walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->problems.len)
		cp_buf_addc(&w->problems, '\n');
	va_start(ap, fmt);
	cp_buf_vaddf(&w->problems, fmt, ap);
	va_end(ap);
	w->nproblems++;
}

static void
spf_void(spf_walk *w, const char *name, const char *what)
{
	w->voids++;
	if (w->voidnames.len)
		cp_buf_addc(&w->voidnames, '\n');
	cp_buf_addf(&w->voidnames, "%s (%s)", name, what);
}

/* One lookup spent by term t; the 11th records the path that led to it. */
static void
spf_count(spf_walk *w, const cp_spf_term *t, const char *domain)
{
	w->lookups++;
	if (w->lookups == SPF_LIMIT + 1 && w->c->r->spf_path == NULL) {
		cp_buf b;

		cp_buf_init(&b, 16 * 1024);
		cp_buf_adds(&b, w->c->r->domain);
		for (size_t i = 0; i < w->depth; i++)
			cp_buf_addf(&b, " -> %s", w->stack[i]);
		cp_buf_addf(&b, " -> %s (in %s): lookup %d", t->text, domain,
		    SPF_LIMIT + 1);
		if (b.data == NULL)
			check_set_nomem(w->c);
		w->c->r->spf_path = cp_buf_steal(&b);
	}
}

static void spf_walk_record(spf_walk *w, const char *domain,
    const cp_spf_record *rec, char *final_all);

/* Follow include:/redirect= to target's record. */
static void
spf_follow(spf_walk *w, const cp_spf_term *t, const char *target,
    char *final_all)
{
	cp_dns_answer *a = NULL;
	cp_spf_record *rec = NULL;
	cp_spf_syntax syn;
	char *txt;
	size_t len;
	int r;

	r = spf_fetch(w->c, target, &txt, &len, &a);
	switch (r) {
	case FETCH_TEMP:
		spf_problem(w, "%s: the lookup of %s failed (%s): receivers get "
		    "a temperror", t->text, target, a && a->why ? a->why
		    : "temporary DNS failure");
		break;
	case FETCH_NONE:
		spf_problem(w, "%s: %s has no SPF record (%s): a permerror at "
		    "receivers (RFC 7208 5.2, 6.1)", t->text, target,
		    a ? cp_dns_status_name(a->status) : "?");
		if (a != NULL && (a->status == CP_DNS_NXDOMAIN ||
		    a->status == CP_DNS_NODATA))
			spf_void(w, target, t->text);
		break;
	case FETCH_MULTI:
		spf_problem(w, "%s: %s has several SPF records: a permerror at "
		    "receivers (RFC 7208 4.5)", t->text, target);
		break;
	default:
		if (cp_spf_parse_record(txt, len, &rec, &syn, NULL) != CP_OK) {
			spf_problem(w, "%s: the record of %s has a syntax error at "
			    "'%s': %s", t->text, target, syn.text, syn.why);
			break;
		}
		w->nincluded++;
		w->stack[w->depth++] = t->text;
		spf_walk_record(w, target, rec, final_all);
		w->depth--;
		break;
	}
	cp_spf_record_free(rec);
	cp_free(txt);
	cp_dns_answer_free(a);
}

/* Does name have an A or AAAA record? 1 yes, 0 no, -1 lookup failed. */
static int
spf_has_address(check_ctx *c, const char *name)
{
	cp_dns_answer *a = NULL;
	int r = -1;

	if (check_query(c, name, CP_DNS_A, &a) != CP_OK)
		goto out;
	if (a->status == CP_DNS_OK && a->n > 0) {
		r = 1;
		goto out;
	}
	if (a->status == CP_DNS_TEMPFAIL)
		goto out;
	cp_dns_answer_free(a);
	a = NULL;
	if (check_query(c, name, CP_DNS_AAAA, &a) != CP_OK)
		goto out;
	if (a->status == CP_DNS_OK && a->n > 0)
		r = 1;
	else if (a->status != CP_DNS_TEMPFAIL)
		r = 0;
out:
	cp_dns_answer_free(a);
	return r;
}

static void
spf_walk_record(spf_walk *w, const char *domain, const cp_spf_record *rec,
    char *final_all)
{
	check_ctx *c = w->c;
	char target[256];

	check_spf_tree_add(c, "%*s%s%s%s%s: %u lookup%s in this record",
	    (int)(2 * w->depth), "", domain, w->depth ? " (" : "",
	    w->depth ? w->stack[w->depth - 1] : "", w->depth ? ")" : "",
	    rec->ndns, rec->ndns == 1 ? "" : "s");
	if (w->depth >= SPF_WALK_DEPTH || w->lookups > SPF_WALK_LOOKUPS) {
		w->stopped = 1;
		return;
	}
	for (size_t i = 0; i < rec->nterms && c->rc == CP_OK; i++) {
		const cp_spf_term *t = &rec->terms[i];

		switch (t->kind) {
		case CP_SPF_INCLUDE:
			spf_count(w, t, domain);
			if (!spf_literal(t->arg, domain, target, sizeof(target))) {
				w->macros++;
				break;
			}
			spf_follow(w, t, target, NULL);
			break;
		case CP_SPF_A:
			spf_count(w, t, domain);
			if (!spf_literal(t->arg, domain, target, sizeof(target))) {
				w->macros++;
				break;
			}
			if (spf_has_address(c, target) == 0)
				spf_void(w, target, t->text);
			break;
		case CP_SPF_MX: {
			cp_dns_answer *a = NULL;

			spf_count(w, t, domain);
			if (!spf_literal(t->arg, domain, target, sizeof(target))) {
				w->macros++;
				break;
			}
			if (check_query(c, target, CP_DNS_MX, &a) != CP_OK) {
				cp_dns_answer_free(a);
				break;
			}
			if (check_absent(a))
				spf_void(w, target, t->text);
			else if (a->status == CP_DNS_OK && a->n > 10)
				spf_problem(w, "%s in %s: %s has %zu MX records; "
				    "more than 10 is a permerror (RFC 7208 "
				    "4.6.4)", t->text, domain, target, a->n);
			cp_dns_answer_free(a);
			break;
		}
		case CP_SPF_PTR:
			spf_count(w, t, domain);
			if (!w->ptr_used)
				snprintf(w->ptr_where, sizeof(w->ptr_where),
				    "%s in %s", t->text, domain);
			w->ptr_used = 1;
			break;
		case CP_SPF_EXISTS: {
			cp_dns_answer *a = NULL;

			spf_count(w, t, domain);
			if (!spf_literal(t->arg, domain, target, sizeof(target))) {
				w->macros++;
				break;
			}
			if (check_query(c, target, CP_DNS_A, &a) == CP_OK &&
			    check_absent(a))
				spf_void(w, target, t->text);
			cp_dns_answer_free(a);
			break;
		}
		case CP_SPF_ALL:
			if (final_all != NULL)
				*final_all = t->qualifier;
			break;
		default:
			break;
		}
	}
	if (rec->redirect >= 0 && !rec->has_all && c->rc == CP_OK) {
		const cp_spf_term *t = &rec->terms[rec->redirect];

		spf_count(w, t, domain);
		if (!spf_literal(t->arg, domain, target, sizeof(target)))
			w->macros++;
		else
			spf_follow(w, t, target, final_all);
	}
}

/* ---- record rewriting for fixes ---------------------------------------- */

static int
spf_tok_is_all(const char *t, size_t n)
{
	if (n == 4 && strchr("+-~?", t[0]) != NULL)
		t++, n--;
	return n == 3 && strncasecmp(t, "all", 3) == 0;
}

static int
spf_tok_is_redirect(const char *t, size_t n)
{
	return n > 9 && strncasecmp(t, "redirect=", 9) == 0;
}

/*
 * The record with insert put right after "v=spf1" (ip4:/ip6: terms cost
 * no lookup, so first they are matched before any limit can bite), and
 * its all replaced by new_all (appended when there is none) when given.
 * New string or NULL.
 */
static char *
spf_rewrite(const char *txt, const char *insert, const char *new_all)
{
	cp_buf b;
	const char *p = txt;
	int had_all = 0, first = 1;

	cp_buf_init(&b, 64 * 1024);
	while (*p) {
		const char *s;
		size_t n;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != ' ')
			p++;
		n = (size_t)(p - s);
		if (spf_tok_is_all(s, n)) {
			had_all = 1;
			if (new_all != NULL) {
				cp_buf_addf(&b, " %s", new_all);
				continue;
			}
		}
		cp_buf_addf(&b, "%s%.*s", b.len ? " " : "", (int)n, s);
		if (first && insert != NULL)
			cp_buf_addf(&b, " %s", insert);
		first = 0;
	}
	if (!had_all && new_all != NULL)
		cp_buf_addf(&b, " %s", new_all);
	return cp_buf_steal(&b);
}

/* One record holding the terms of all of them (duplicates once). */
static char *
spf_merge(const cp_dns_answer *a)
{
	cp_buf b;
	char all[8] = "";

	cp_buf_init(&b, 64 * 1024);
	cp_buf_adds(&b, "v=spf1");
	for (size_t i = 0; i < a->n; i++) {
		const char *p = a->rr[i].u.txt.data;

		if (!cp_spf_is_record(p, a->rr[i].u.txt.len))
			continue;
		p += 6;
		while (*p) {
			const char *s;
			size_t n;

			while (*p == ' ')
				p++;
			if (!*p)
				break;
			s = p;
			while (*p && *p != ' ')
				p++;
			n = (size_t)(p - s);
			if (spf_tok_is_all(s, n)) {
				if (all[0] == '\0' && n < sizeof(all)) {
					memcpy(all, s, n);
					all[n] = '\0';
				}
				continue;
			}
			if (spf_tok_is_redirect(s, n))
				continue;
			{
				/* skip a term already there */
				char tok[512];
				const char *q = b.data;
				int dup = 0;

				if (n >= sizeof(tok))
					continue;
				memcpy(tok, s, n);
				tok[n] = '\0';
				while (q && (q = strstr(q, tok)) != NULL) {
					if (q > b.data && q[-1] == ' ' &&
					    (q[n] == ' ' || q[n] == '\0')) {
						dup = 1;
						break;
					}
					q += n;
				}
				if (!dup)
					cp_buf_addf(&b, " %s", tok);
			}
		}
	}
	cp_buf_addf(&b, " %s", all[0] ? all : "-all");
	return cp_buf_steal(&b);
}

/* ---- the findings ------------------------------------------------------ */

/* The record to suggest when there is none: the sending IPs, or mx. */
static void
spf_fix_new(check_ctx *c, cp_check_finding *f)
{
	cp_buf b;

	cp_buf_init(&b, 16 * 1024);
	cp_buf_adds(&b, "v=spf1");
	for (size_t i = 0; i < c->o->nips; i++)
		cp_buf_addf(&b, " %s:%s", strchr(c->o->ips[i], ':') ? "ip6"
		    : "ip4", c->o->ips[i]);
	if (c->o->nips == 0)
		cp_buf_adds(&b, " mx");
	cp_buf_adds(&b, " -all");
	if (b.data == NULL) {
		check_set_nomem(c);
		return;
	}
	check_fix(c, f, "%s. TXT \"%s\"%s", c->r->domain, b.data,
	    c->o->nips ? "" : " (list the addresses your mail leaves from: "
	    "\"mx\" covers only your inbound servers)");
	cp_buf_free(&b);
}

static void
spf_check_ips(check_ctx *c, const char *rec_txt, const char *blocked)
{
	char sender[300];
	cp_spf *spf;
	cp_err err = { 0 };

	if (c->o->nips == 0)
		return;
	spf = cp_spf_new(c->o->dns, &err);
	if (spf == NULL) {
		check_set_nomem(c);
		return;
	}
	if (c->o->now)
		cp_spf_set_now(spf, c->o->now);
	snprintf(sender, sizeof(sender), "postmaster@%s", c->r->domain);
	for (size_t i = 0; i < c->o->nips && c->rc == CP_OK; i++) {
		cp_spf_query q = { 0 };
		cp_spf_result res = { 0 };
		cp_check_finding *f;
		const char *ip = c->o->ips[i];
		int rc;

		q.ip = ip;
		q.sender = sender;
		q.helo = c->r->domain;
		rc = cp_spf_check_host(spf, &q, &res, &err);
		if (rc != CP_OK) {
			if (rc == CP_ENOMEM)
				check_set_nomem(c);
			else
				check_add(c, "spf.ip", ip, CP_CHECK_FAIL,
				    "%s: %s", ip, err.msg);
			cp_spf_result_clear(&res);
			continue;
		}
		if (res.result == CP_SPF_PASS) {
			f = check_add(c, "spf.ip", ip, CP_CHECK_PASS, "%s is "
			    "authorized: spf=pass", ip);
		} else {
			f = check_add(c, "spf.ip", ip, CP_CHECK_FAIL, "%s is not "
			    "authorized: spf=%s", ip,
			    cp_spf_verdict_name(res.result));
			if (blocked != NULL) {
				check_fix(c, f, "%s", blocked);
			} else if (rec_txt != NULL) {
				char ins[64], *nr;

				snprintf(ins, sizeof(ins), "%s:%s",
				    strchr(ip, ':') ? "ip6" : "ip4", ip);
				nr = spf_rewrite(rec_txt, ins, NULL);
				if (nr == NULL)
					check_set_nomem(c);
				else
					check_fix(c, f, "%s. TXT \"%s\"",
					    c->r->domain, nr);
				cp_free(nr);
			} else {
				spf_fix_new(c, f);
			}
		}
		if (res.mechanism[0])
			check_evidence(c, f, "check_host(%s, %s): %s, by %s in "
			    "%s", ip, sender, cp_spf_verdict_name(res.result),
			    res.mechanism, res.mech_domain[0] ? res.mech_domain
			    : c->r->domain);
		else
			check_evidence(c, f, "check_host(%s, %s): %s", ip,
			    sender, cp_spf_verdict_name(res.result));
		check_detail(c, f, "%s (%u DNS lookup%s).", res.reason,
		    res.lookups, res.lookups == 1 ? "" : "s");
		cp_spf_result_clear(&res);
	}
	cp_spf_free(spf);
}

static void
spf_check_all(check_ctx *c, char all, int top_has_all, int redirect,
    const char *txt)
{
	cp_check_finding *f;
	char *nr = NULL;

	switch (all) {
	case '-':
		check_add(c, "spf.all", NULL, CP_CHECK_PASS, "ends in -all: "
		    "hosts not listed fail");
		return;
	case '~':
		f = check_add(c, "spf.all", NULL, CP_CHECK_PASS, "ends in ~all: "
		    "hosts not listed softfail");
		check_detail(c, f, "With a DMARC policy of quarantine or reject "
		    "a softfail is enough; -all is stricter.");
		return;
	case '?':
		f = check_add(c, "spf.all", NULL, CP_CHECK_WARN, "ends in ?all: "
		    "hosts not listed are neutral, as if there were no SPF");
		nr = spf_rewrite(txt, NULL, "-all");
		break;
	case '+':
		f = check_add(c, "spf.all", NULL, CP_CHECK_FAIL, "ends in +all: "
		    "every host on the internet may send as %s", c->r->domain);
		check_detail(c, f, "Anyone can pass SPF for this domain; "
		    "receivers treat +all as a sign of abuse.");
		nr = spf_rewrite(txt, NULL, "-all");
		break;
	default:
		f = check_add(c, "spf.all", NULL, CP_CHECK_WARN, "no all term%s: "
		    "hosts not listed get neutral", top_has_all ? ""
		    : " at the end of evaluation");
		check_detail(c, f, "Without an all, a host matched by nothing "
		    "gets the default result, neutral (RFC 7208 4.7).");
		nr = spf_rewrite(txt, NULL, "-all");
		break;
	}
	if (redirect && !top_has_all) {
		/* the all comes from the end of the redirect= chain */
		cp_free(nr);
		check_fix(c, f, "End the record that redirect= leads to with "
		    "-all.");
		return;
	}
	if (nr == NULL) {
		check_set_nomem(c);
		return;
	}
	check_fix(c, f, "%s. TXT \"%s\"", c->r->domain, nr);
	cp_free(nr);
}

void
check_spf(check_ctx *c)
{
	const char *dom = c->r->domain;
	cp_dns_answer *a = NULL;
	cp_spf_record *rec = NULL;
	cp_spf_syntax syn;
	cp_check_finding *f;
	spf_walk w;
	char *txt = NULL, all = 0;
	size_t len = 0;
	int r, prc, parsed = 0;

	memset(&w, 0, sizeof(w));
	w.c = c;
	cp_buf_init(&w.problems, 64 * 1024);
	cp_buf_init(&w.voidnames, 16 * 1024);
	c->r->spf_lookups = -1;
	r = spf_fetch(c, dom, &txt, &len, &a);
	if (c->rc != CP_OK)
		goto out;
	switch (r) {
	case FETCH_TEMP:
		f = check_add(c, "spf.record", NULL, CP_CHECK_FAIL, "the SPF "
		    "lookup failed: receivers get a temperror");
		check_evidence_answer(c, f, a);
		check_fix_temp(c, f, dom);
		goto ips;
	case FETCH_NONE:
		f = check_add(c, "spf.record", NULL, CP_CHECK_FAIL, "no SPF "
		    "record: receivers get spf=none");
		check_evidence_answer(c, f, a);
		check_detail(c, f, "Gmail, Yahoo and Microsoft require SPF or "
		    "DKIM, and DMARC, from bulk senders; without SPF, DMARC can "
		    "pass through DKIM alone.");
		spf_fix_new(c, f);
		goto ips;
	case FETCH_MULTI:
		f = check_add(c, "spf.record", NULL, CP_CHECK_FAIL, "several SPF "
		    "records: receivers get a permerror (RFC 7208 4.5)");
		for (size_t i = 0; i < a->n; i++)
			if (cp_spf_is_record(a->rr[i].u.txt.data,
			    a->rr[i].u.txt.len))
				check_evidence_txt(c, f, dom, a->rr[i].u.txt.data,
				    a->rr[i].u.txt.len);
		{
			char *m = spf_merge(a);

			if (m == NULL)
				check_set_nomem(c);
			else
				check_fix(c, f, "Publish one record with the "
				    "terms of both, and delete the others: "
				    "%s. TXT \"%s\"", dom, m);
			cp_free(m);
		}
		goto ips;
	default:
		break;
	}
	f = check_add(c, "spf.record", NULL, CP_CHECK_PASS, "one SPF record");
	check_evidence_txt(c, f, dom, txt, len);

	prc = cp_spf_parse_record(txt, len, &rec, &syn, NULL);
	if (prc == CP_ENOMEM) {
		check_set_nomem(c);
		goto out;
	}
	if (prc != CP_OK) {
		char *fixed;

		f = check_add(c, "spf.syntax", NULL, CP_CHECK_FAIL, "syntax error "
		    "at '%s': %s", syn.text, syn.why);
		check_evidence_txt(c, f, dom, txt, len);
		check_detail(c, f, "Receivers stop at the error with a "
		    "permerror: no host passes SPF.");
		/* the record without the offending term, if that parses */
		fixed = cp_malloc(len + 1);
		if (fixed != NULL && syn.term >= 0 && syn.pos + syn.len <= len) {
			cp_spf_record *r2 = NULL;
			size_t k = syn.pos, e = syn.pos + syn.len;

			while (k > 0 && txt[k - 1] == ' ')
				k--;
			memcpy(fixed, txt, k);
			memcpy(fixed + k, txt + e, len - e);
			fixed[k + len - e] = '\0';
			if (cp_spf_parse_record(fixed, strlen(fixed), &r2, NULL,
			    NULL) == CP_OK)
				check_fix(c, f, "Correct or remove the term "
				    "'%s'; without it: %s. TXT \"%s\"", syn.text,
				    dom, fixed);
			else
				check_fix(c, f, "Correct the term '%s' (%s).",
				    syn.text, syn.why);
			cp_spf_record_free(r2);
		} else if (fixed == NULL) {
			check_set_nomem(c);
		} else {
			check_fix(c, f, "Start the record with \"v=spf1 \".");
		}
		cp_free(fixed);
		goto ips;
	}
	parsed = 1;
	check_add(c, "spf.syntax", NULL, CP_CHECK_PASS, "the record parses "
	    "(%zu terms)", rec->nterms);

	/* the walk */
	spf_walk_record(&w, dom, rec, &all);
	if (c->rc != CP_OK)
		goto out;
	c->r->spf_lookups = (int)w.lookups;
	c->r->spf_void = w.voids;
	if (w.lookups > SPF_LIMIT)
		f = check_add(c, "spf.lookups", NULL, CP_CHECK_FAIL, "%u%s DNS "
		    "lookups through include/redirect: over the limit of %d, "
		    "receivers get a permerror", w.lookups, w.stopped ? "+" : "",
		    SPF_LIMIT);
	else if (w.lookups >= SPF_LIMIT - 1)
		f = check_add(c, "spf.lookups", NULL, CP_CHECK_WARN, "%u DNS "
		    "lookups through include/redirect: at the edge of the limit "
		    "of %d", w.lookups, SPF_LIMIT);
	else
		f = check_add(c, "spf.lookups", NULL, CP_CHECK_PASS, "%u DNS "
		    "lookup%s through include/redirect (limit %d)", w.lookups,
		    w.lookups == 1 ? "" : "s", SPF_LIMIT);
	for (size_t i = 0; i < c->r->nspf_tree; i++)
		check_evidence(c, f, "%s", c->r->spf_tree[i]);
	if (c->r->spf_path != NULL)
		check_detail(c, f, "Lookup %d comes at: %s.", SPF_LIMIT + 1,
		    c->r->spf_path);
	if (w.macros)
		check_detail(c, f, "%u term%s with macros counted but not "
		    "followed (their targets depend on the message).",
		    w.macros, w.macros == 1 ? "" : "s");
	if (w.stopped)
		check_detail(c, f, "The walk stopped early: the includes nest "
		    "too deep or loop.");
	if (w.lookups > SPF_LIMIT)
		check_fix(c, f, "Bring it to %d or fewer: drop includes of "
		    "services you no longer use, replace an include by the "
		    "ip4:/ip6: ranges it lists, or move a sending service to "
		    "a subdomain with its own record.", SPF_LIMIT);
	else if (w.lookups >= SPF_LIMIT - 1)
		check_fix(c, f, "One more include will break SPF: flatten an "
		    "include into ip4:/ip6: terms before adding services.");

	if (w.voids > SPF_VOID_LIMIT)
		f = check_add(c, "spf.void", NULL, CP_CHECK_FAIL, "%u void "
		    "lookups: over the limit of %d, receivers may return a "
		    "permerror", w.voids, SPF_VOID_LIMIT);
	else if (w.voids > 0)
		f = check_add(c, "spf.void", NULL, CP_CHECK_WARN, "%u void "
		    "lookup%s (names without records; limit %d)", w.voids,
		    w.voids == 1 ? "" : "s", SPF_VOID_LIMIT);
	else
		f = check_add(c, "spf.void", NULL, CP_CHECK_PASS, "no void "
		    "lookups");
	if (w.voids > 0) {
		char *s = w.voidnames.data, *nl;

		while (s != NULL && *s) {
			nl = strchr(s, '\n');
			check_evidence(c, f, "%.*s", nl ? (int)(nl - s)
			    : (int)strlen(s), s);
			s = nl ? nl + 1 : NULL;
		}
		check_fix(c, f, "Remove the terms that name these domains, or "
		    "publish their records.");
	}

	if (rec->redirect >= 0 || w.nincluded > 0 || w.nproblems > 0) {
		if (w.nproblems > 0) {
			char *s = w.problems.data, *nl;

			f = check_add(c, "spf.includes", NULL, CP_CHECK_FAIL, "%zu "
			    "included or redirected record%s broken", w.nproblems,
			    w.nproblems == 1 ? " is" : "s are");
			while (s != NULL && *s) {
				nl = strchr(s, '\n');
				check_evidence(c, f, "%.*s", nl ? (int)(nl - s)
				    : (int)strlen(s), s);
				s = nl ? nl + 1 : NULL;
			}
			check_fix(c, f, "Remove these terms, or have the owner "
			    "of the target publish one valid SPF record.");
		} else {
			check_add(c, "spf.includes", NULL, CP_CHECK_PASS, "%u "
			    "included or redirected record%s found and valid",
			    w.nincluded, w.nincluded == 1 ? "" : "s");
		}
	}
	if (w.ptr_used) {
		f = check_add(c, "spf.ptr", NULL, CP_CHECK_WARN, "uses the ptr "
		    "mechanism (%s)", w.ptr_where);
		check_detail(c, f, "RFC 7208 5.5: ptr SHOULD NOT be used; it is "
		    "slow, and some receivers skip it.");
		check_fix(c, f, "Replace ptr by ip4:/ip6: terms for the sending "
		    "addresses.");
	}
	spf_check_all(c, all, rec->has_all, rec->redirect >= 0, txt);
ips:
	spf_check_ips(c, parsed ? txt : NULL, r == FETCH_MULTI
	    ? "Publish a single SPF record first (spf.record)."
	    : r == FETCH_ONE && !parsed
	    ? "Fix the syntax error of the record first (spf.syntax)."
	    : r == FETCH_TEMP ? "Fix the DNS lookup first (spf.record)."
	    : NULL);
out:
	cp_buf_free(&w.problems);
	cp_buf_free(&w.voidnames);
	cp_spf_record_free(rec);
	cp_free(txt);
	cp_dns_answer_free(a);
}
