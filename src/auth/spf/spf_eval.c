/*
 * spf_eval.c - check_host() (RFC 7208 sections 4, 5, 6).
 *
 * Initial processing (4.3: a malformed or single-label <domain> is "none";
 * no local-part means "postmaster"; the null reverse path is checked as
 * postmaster@HELO), record lookup and selection (4.4, 4.5: exactly one TXT
 * string starting "v=spf1"; several are a PermError), then the terms left
 * to right (4.6): all, include (5.2: pass matches, fail/softfail/neutral do
 * not, none is a PermError), a and mx with dual CIDR (5.3, 5.4), ptr (5.5,
 * names validated by a forward lookup), ip4/ip6 (5.6; an IPv4-mapped IPv6
 * client is IPv4), exists (5.7, always an A query); redirect= after the
 * mechanisms (6.1, unless an "all" is present) and exp= for a fail (6.2,
 * looked up once, after the result, never from an included record).
 * Limits of 4.6.4: 10 DNS-querying terms for the whole evaluation, 2 void
 * lookups, 10 MX names (more is a PermError) and 10 PTR names (the rest
 * ignored). Every query goes through cp_dns_query; the parser is
 * spf_parse.c and the macros spf_macro.c.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/spf/spf_int.h"
#include "coldpost/alloc.h"

#define SPF_DNS_TERMS 10
#define SPF_VOID_LOOKUPS 2
#define SPF_MX_NAMES 10
#define SPF_PTR_NAMES 10
#define SPF_EXPAND_MAX 8192
#define SPF_EXP_MAX 4096
#define SPF_DEPTH_MAX 64 /* nested include/redirect, whatever the limits */

struct cp_spf {
	cp_dns *dns;
	int64_t now;
	char *receiver;
	unsigned max_dns, max_void;
};

/* One check_host() call tree. */
typedef struct spf_run {
	cp_spf *spf;
	spf_macro_env env; /* the top-level values; each level sets domain */
	unsigned lookups, voids, queries;
	int in_include;    /* inside an include: no explanation (6.2) */
	int depth;         /* nested check_host() calls */
	int oom;
	cp_spf_result *res;
} spf_run;

/* Internal outcomes of one mechanism. */
enum { M_NOMATCH = 0, M_MATCH = 1, M_ERROR = 2 };

cp_spf *
cp_spf_new(cp_dns *dns, cp_err *err)
{
	cp_spf *s;

	CP_ASSERT(dns != NULL);
	s = cp_calloc(1, sizeof(*s));
	if (s == NULL) {
		cp_err_set(err, CP_ENOMEM, "spf: out of memory");
		return NULL;
	}
	s->dns = dns;
	s->max_dns = SPF_DNS_TERMS;
	s->max_void = SPF_VOID_LOOKUPS;
	return s;
}

void
cp_spf_free(cp_spf *spf)
{
	if (spf == NULL)
		return;
	cp_free(spf->receiver);
	cp_free(spf);
}

void
cp_spf_set_now(cp_spf *spf, int64_t now)
{
	spf->now = now;
}

int
cp_spf_set_receiver(cp_spf *spf, const char *name, cp_err *err)
{
	char *d = NULL;

	if (name != NULL && (d = cp_strdup(name)) == NULL)
		return cp_err_set(err, CP_ENOMEM, "spf: out of memory");
	cp_free(spf->receiver);
	spf->receiver = d;
	return CP_OK;
}

void
cp_spf_set_limits(cp_spf *spf, unsigned dns_terms, unsigned void_lookups)
{
	spf->max_dns = dns_terms;
	spf->max_void = void_lookups;
}

void
cp_spf_result_clear(cp_spf_result *r)
{
	if (r == NULL)
		return;
	cp_free(r->explanation);
	memset(r, 0, sizeof(*r));
}

/* ---- helpers ------------------------------------------------------------- */

static void
spf_set_reason(spf_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
spf_set_reason(spf_run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->res->reason, sizeof(r->res->reason), fmt, ap);
	va_end(ap);
}

/* A name a DNS query can be made of: 1-253 bytes, labels of 1-63. */
static int
spf_valid_name(const char *s)
{
	size_t n = strlen(s), lab = 0;

	if (n == 0 || n > SPF_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
		} else if (++lab > 63) {
			return 0;
		}
	}
	return lab > 0;
}

/*
 * One query. *a is NULL when the name cannot be queried (malformed): the
 * callers treat that as a name that does not exist.
 */
static int
spf_query(spf_run *r, const char *name, int type, cp_dns_answer **a)
{
	cp_err err = { 0 };
	int rc;

	*a = NULL;
	if (!spf_valid_name(name))
		return CP_OK;
	r->queries++;
	rc = cp_dns_query(r->spf->dns, name, type, a, &err);
	if (rc == CP_ENOMEM) {
		r->oom = 1;
		return rc;
	}
	if (rc != CP_OK)
		*a = NULL;
	return CP_OK;
}

static cp_dns_status
spf_status_of(const cp_dns_answer *a)
{
	if (a == NULL)
		return CP_DNS_NXDOMAIN;
	if (a->status == CP_DNS_OK && a->n == 0)
		return CP_DNS_NODATA;
	return a->status;
}

static const char *
spf_why_of(const cp_dns_answer *a)
{
	if (a && a->why)
		return a->why;
	return a && a->status == CP_DNS_ERROR ? "malformed answer" : "timeout";
}

/* Does addr (family of the client) fall in the client's network/cidr? */
static int
spf_ip_match(const spf_run *r, const unsigned char *addr, int cidr)
{
	int bits = r->env.v6 ? 128 : 32;
	const unsigned char *ip = r->env.ip;

	if (cidr < 0 || cidr > bits)
		cidr = bits;
	for (int i = 0; i < cidr / 8; i++)
		if (ip[i] != addr[i])
			return 0;
	if (cidr % 8) {
		unsigned char m = (unsigned char)(0xff << (8 - cidr % 8));

		if ((ip[cidr / 8] & m) != (addr[cidr / 8] & m))
			return 0;
	}
	return 1;
}

/* Count a void lookup; M_ERROR (PermError) past the limit. */
static int
spf_count_void(spf_run *r, const cp_spf_term *t, const char *domain,
    const char *target)
{
	r->voids++;
	if (r->voids > r->spf->max_void) {
		spf_set_reason(r, "too many void lookups: '%s' in %s found nothing "
		    "at %s, the %u. lookup with no answer (limit %u, RFC 7208 "
		    "4.6.4)", t->text, domain, target, r->voids,
		    r->spf->max_void);
		return M_ERROR;
	}
	return M_NOMATCH;
}

/* Expand a term's domain-spec (or take <domain>) into buf. */
static int
spf_target_of(spf_run *r, const spf_macro_env *env, const cp_spf_term *t,
    cp_buf *buf)
{
	int rc;

	if (t->arg == NULL) {
		cp_buf_reset(buf);
		return cp_buf_adds(buf, env->domain);
	}
	rc = spf_expand_domain(env, t->arg, buf);
	if (rc == CP_ENOMEM)
		r->oom = 1;
	return rc;
}

/* Addresses of name (A or AAAA by the client's family) against the client. */
static int
spf_addr_match(spf_run *r, const cp_dns_answer *a, int cidr)
{
	for (size_t i = 0; i < a->n; i++) {
		const unsigned char *p = r->env.v6
		    ? (const unsigned char *)&a->rr[i].u.aaaa
		    : (const unsigned char *)&a->rr[i].u.a;

		if (spf_ip_match(r, p, cidr))
			return 1;
	}
	return 0;
}

static int
spf_cidr_of(const spf_run *r, const cp_spf_term *t)
{
	return r->env.v6 ? t->cidr6 : t->cidr4;
}

static int
spf_ends_with_domain(const char *name, const char *dom)
{
	size_t n = strlen(name), d = strlen(dom);

	while (n > 0 && name[n - 1] == '.')
		n--;
	while (d > 0 && dom[d - 1] == '.')
		d--;
	if (d == 0 || n < d)
		return 0;
	if (strncasecmp(name + n - d, dom, d) != 0)
		return 0;
	return n == d || name[n - d - 1] == '.';
}

/* Is name's forward lookup the client (5.5 validation)? 1, 0, or -1 (oom). */
static int
spf_forward_confirms(spf_run *r, const char *name)
{
	cp_dns_answer *a;
	int ok;

	if (spf_query(r, name, r->env.v6 ? CP_DNS_AAAA : CP_DNS_A, &a) != CP_OK)
		return -1;
	ok = a != NULL && a->status == CP_DNS_OK && spf_addr_match(r, a, -1);
	cp_dns_answer_free(a);
	return ok;
}

static int
spf_reverse_query(spf_run *r, cp_dns_answer **a)
{
	char ipstr[INET6_ADDRSTRLEN], rev[80];

	*a = NULL;
	inet_ntop(r->env.v6 ? AF_INET6 : AF_INET, r->env.ip, ipstr,
	    sizeof(ipstr));
	if (cp_dns_reverse_name(ipstr, rev, sizeof(rev)) != CP_OK)
		return CP_OK;
	return spf_query(r, rev, CP_DNS_PTR, a);
}

/*
 * %{p} (7.3): a validated name of the client, <domain> itself first, then
 * a subdomain of it, then any; "unknown" when none validates.
 */
static int
spf_ptr_name_cb(void *arg, const char *domain, cp_buf *out)
{
	spf_run *r = arg;
	cp_dns_answer *a;
	const char *best = NULL;
	int best_rank = 0, rc;

	if (spf_reverse_query(r, &a) != CP_OK)
		return CP_ENOMEM;
	for (size_t i = 0; a && a->status == CP_DNS_OK && i < a->n &&
	    i < SPF_PTR_NAMES; i++) {
		const char *name = a->rr[i].u.name;
		int rank = 1, ok;

		if (strcasecmp(name, domain) == 0)
			rank = 3;
		else if (spf_ends_with_domain(name, domain))
			rank = 2;
		if (rank <= best_rank)
			continue;
		ok = spf_forward_confirms(r, name);
		if (ok < 0) {
			cp_dns_answer_free(a);
			return CP_ENOMEM;
		}
		if (ok) {
			best = name;
			best_rank = rank;
		}
		if (best_rank == 3)
			break;
	}
	rc = cp_buf_adds(out, best ? best : "unknown");
	cp_dns_answer_free(a);
	return rc;
}

static int spf_check_host(spf_run *r, const char *domain);

/* ---- mechanisms ----------------------------------------------------------- */

static int
spf_mech_a(spf_run *r, const cp_spf_term *t, const char *domain,
    const char *target)
{
	cp_dns_answer *a;
	cp_dns_status st;
	int m;

	if (spf_query(r, target, r->env.v6 ? CP_DNS_AAAA : CP_DNS_A, &a) != CP_OK)
		return M_ERROR;
	st = spf_status_of(a);
	if (st == CP_DNS_TEMPFAIL || st == CP_DNS_ERROR) {
		r->res->result = CP_SPF_TEMPERROR;
		spf_set_reason(r, "DNS error on '%s' in %s: %s %s: %s", t->text,
		    domain, target, r->env.v6 ? "AAAA" : "A", spf_why_of(a));
		cp_dns_answer_free(a);
		return M_ERROR;
	}
	if (st != CP_DNS_OK) {
		cp_dns_answer_free(a);
		m = spf_count_void(r, t, domain, target);
		if (m == M_ERROR)
			r->res->result = CP_SPF_PERMERROR;
		return m;
	}
	m = spf_addr_match(r, a, spf_cidr_of(r, t)) ? M_MATCH : M_NOMATCH;
	cp_dns_answer_free(a);
	return m;
}

static int
spf_mx_pref_cmp(const void *x, const void *y)
{
	const cp_dns_rr *a = x, *b = y;

	return (int)a->u.mx.pref - (int)b->u.mx.pref;
}

static int
spf_mech_mx(spf_run *r, const cp_spf_term *t, const char *domain,
    const char *target)
{
	cp_dns_answer *a;
	cp_dns_status st;
	int m = M_NOMATCH;

	if (spf_query(r, target, CP_DNS_MX, &a) != CP_OK)
		return M_ERROR;
	st = spf_status_of(a);
	if (st == CP_DNS_TEMPFAIL || st == CP_DNS_ERROR) {
		r->res->result = CP_SPF_TEMPERROR;
		spf_set_reason(r, "DNS error on '%s' in %s: %s MX: %s", t->text,
		    domain, target, spf_why_of(a));
		cp_dns_answer_free(a);
		return M_ERROR;
	}
	if (st != CP_DNS_OK) {
		cp_dns_answer_free(a);
		m = spf_count_void(r, t, domain, target);
		if (m == M_ERROR)
			r->res->result = CP_SPF_PERMERROR;
		return m;
	}
	if (a->n > SPF_MX_NAMES) {
		r->res->result = CP_SPF_PERMERROR;
		spf_set_reason(r, "'%s' in %s: %s has %zu MX records, more than %d "
		    "may not be looked up (RFC 7208 4.6.4)", t->text, domain,
		    target, a->n, SPF_MX_NAMES);
		cp_dns_answer_free(a);
		return M_ERROR;
	}
	qsort(a->rr, a->n, sizeof(a->rr[0]), spf_mx_pref_cmp);
	for (size_t i = 0; i < a->n && m == M_NOMATCH; i++) {
		const char *host = a->rr[i].u.mx.host;
		cp_dns_answer *h;

		if (host == NULL || host[0] == '\0')
			continue; /* null MX (RFC 7505) */
		if (spf_query(r, host, r->env.v6 ? CP_DNS_AAAA : CP_DNS_A, &h) !=
		    CP_OK) {
			m = M_ERROR;
			break;
		}
		st = spf_status_of(h);
		if (st == CP_DNS_TEMPFAIL || st == CP_DNS_ERROR) {
			r->res->result = CP_SPF_TEMPERROR;
			spf_set_reason(r, "DNS error on '%s' in %s: MX host %s: %s",
			    t->text, domain, host, spf_why_of(h));
			m = M_ERROR;
		} else if (st == CP_DNS_OK && spf_addr_match(r, h, spf_cidr_of(r, t))) {
			m = M_MATCH;
		}
		cp_dns_answer_free(h);
	}
	cp_dns_answer_free(a);
	return m;
}

static int
spf_mech_ptr(spf_run *r, const cp_spf_term *t, const char *domain,
    const char *target)
{
	cp_dns_answer *a;
	cp_dns_status st;
	int m = M_NOMATCH;

	if (spf_reverse_query(r, &a) != CP_OK)
		return M_ERROR;
	st = spf_status_of(a);
	if (st == CP_DNS_NXDOMAIN || st == CP_DNS_NODATA) {
		cp_dns_answer_free(a);
		m = spf_count_void(r, t, domain, "the reverse name");
		if (m == M_ERROR)
			r->res->result = CP_SPF_PERMERROR;
		return m;
	}
	/* a DNS error on the PTR lookup: no match (5.5) */
	for (size_t i = 0; st == CP_DNS_OK && i < a->n && i < SPF_PTR_NAMES;
	    i++) {
		const char *name = a->rr[i].u.name;
		int ok;

		if (!spf_ends_with_domain(name, target))
			continue;
		ok = spf_forward_confirms(r, name);
		if (ok < 0) {
			m = M_ERROR;
			break;
		}
		if (ok) {
			m = M_MATCH;
			break;
		}
	}
	cp_dns_answer_free(a);
	return m;
}

static int
spf_mech_exists(spf_run *r, const cp_spf_term *t, const char *domain,
    const char *target)
{
	cp_dns_answer *a;
	cp_dns_status st;
	int m;

	if (spf_query(r, target, CP_DNS_A, &a) != CP_OK)
		return M_ERROR;
	st = spf_status_of(a);
	if (st == CP_DNS_TEMPFAIL || st == CP_DNS_ERROR) {
		r->res->result = CP_SPF_TEMPERROR;
		spf_set_reason(r, "DNS error on '%s' in %s: %s A: %s", t->text,
		    domain, target, spf_why_of(a));
		cp_dns_answer_free(a);
		return M_ERROR;
	}
	cp_dns_answer_free(a);
	if (st == CP_DNS_OK)
		return M_MATCH;
	m = spf_count_void(r, t, domain, target);
	if (m == M_ERROR)
		r->res->result = CP_SPF_PERMERROR;
	return m;
}

static int
spf_mech_include(spf_run *r, const cp_spf_term *t, const char *domain,
    const char *target)
{
	char inner[sizeof(r->res->reason)];
	int v;

	r->in_include++;
	v = spf_check_host(r, target);
	r->in_include--;
	if (v < 0)
		return M_ERROR;
	switch ((cp_spf_verdict)v) {
	case CP_SPF_PASS:
		memcpy(inner, r->res->reason, sizeof(inner));
		spf_set_reason(r, "%s", inner);
		return M_MATCH;
	case CP_SPF_FAIL:
	case CP_SPF_SOFTFAIL:
	case CP_SPF_NEUTRAL:
		return M_NOMATCH;
	case CP_SPF_NONE:
		r->res->result = CP_SPF_PERMERROR;
		memcpy(inner, r->res->reason, sizeof(inner));
		spf_set_reason(r, "'%s' in %s: %s", t->text, domain, inner);
		return M_ERROR;
	default: /* temperror, permerror: the reason is already set */
		r->res->result = (cp_spf_verdict)v;
		return M_ERROR;
	}
}

static cp_spf_verdict
spf_qualifier_verdict(char q)
{
	switch (q) {
	case '-': return CP_SPF_FAIL;
	case '~': return CP_SPF_SOFTFAIL;
	case '?': return CP_SPF_NEUTRAL;
	default: return CP_SPF_PASS;
	}
}

/* ---- record lookup (4.4, 4.5) ---------------------------------------------- */

/*
 * The SPF record of domain into *rec. Returns -1 on memory failure, else a
 * verdict: CP_SPF_PASS stands for "found", NONE, TEMPERROR or PERMERROR
 * otherwise, with the reason set.
 */
static int
spf_get_record(spf_run *r, const char *domain, cp_spf_record **rec)
{
	cp_dns_answer *a;
	cp_dns_status st;
	const cp_dns_rr *found = NULL;
	size_t nfound = 0;
	cp_spf_syntax syn;
	cp_err err = { 0 };
	int rc;

	*rec = NULL;
	if (spf_query(r, domain, CP_DNS_TXT, &a) != CP_OK)
		return -1;
	st = spf_status_of(a);
	if (st == CP_DNS_TEMPFAIL || st == CP_DNS_ERROR) {
		spf_set_reason(r, "DNS error looking up the SPF record (TXT) of "
		    "%s: %s", domain, spf_why_of(a));
		cp_dns_answer_free(a);
		return CP_SPF_TEMPERROR;
	}
	for (size_t i = 0; st == CP_DNS_OK && i < a->n; i++)
		if (cp_spf_is_record(a->rr[i].u.txt.data, a->rr[i].u.txt.len)) {
			found = &a->rr[i];
			nfound++;
		}
	if (nfound == 0) {
		spf_set_reason(r, "%s has no SPF record (%s)", domain,
		    st == CP_DNS_NXDOMAIN ? "the domain does not exist"
		    : st == CP_DNS_NODATA ? "no TXT records"
					  : "no TXT record starts with v=spf1");
		cp_dns_answer_free(a);
		return CP_SPF_NONE;
	}
	if (nfound > 1) {
		spf_set_reason(r, "%s publishes %zu SPF records; exactly one is "
		    "allowed (RFC 7208 4.5)", domain, nfound);
		cp_dns_answer_free(a);
		return CP_SPF_PERMERROR;
	}
	rc = cp_spf_parse_record(found->u.txt.data, found->u.txt.len, rec, &syn,
	    &err);
	cp_dns_answer_free(a);
	if (rc == CP_ENOMEM) {
		r->oom = 1;
		return -1;
	}
	if (rc != CP_OK) {
		spf_set_reason(r, "the SPF record of %s is malformed: %s", domain,
		    rc == CP_ESYNTAX && syn.term >= 0 ? "" : err.msg);
		if (rc == CP_ESYNTAX && syn.term >= 0)
			spf_set_reason(r, "the SPF record of %s is malformed: "
			    "term %d '%s': %s", domain, syn.term + 1, syn.text,
			    syn.why);
		return CP_SPF_PERMERROR;
	}
	return CP_SPF_PASS;
}

/* ---- explanation (6.2) ------------------------------------------------------ */

/* Failures here are silent: the result stays fail without explanation. */
static void
spf_explain(spf_run *r, const cp_spf_record *rec, const spf_macro_env *env)
{
	const cp_spf_term *t = &rec->terms[rec->exp];
	cp_buf name, text;
	cp_dns_answer *a = NULL;

	cp_buf_init(&name, SPF_EXPAND_MAX);
	cp_buf_init(&text, SPF_EXP_MAX);
	if (spf_expand_domain(env, t->arg, &name) != CP_OK)
		goto out;
	if (spf_query(r, name.data, CP_DNS_TXT, &a) != CP_OK || a == NULL ||
	    a->status != CP_DNS_OK || a->n != 1)
		goto out;
	if (cp_spf_check_explain_string(a->rr[0].u.txt.data,
	    a->rr[0].u.txt.len, NULL) != CP_OK)
		goto out;
	if (spf_macro_expand(env, a->rr[0].u.txt.data, a->rr[0].u.txt.len,
	    SPF_MACRO_EXP, &text) != CP_OK)
		goto out;
	cp_free(r->res->explanation);
	r->res->explanation = cp_strdup(text.data ? text.data : "");
	if (r->res->explanation == NULL)
		r->oom = 1;
out:
	cp_dns_answer_free(a);
	cp_buf_free(&name);
	cp_buf_free(&text);
}

/* ---- check_host --------------------------------------------------------------- */

static int
spf_is_dns_term(cp_spf_term_kind k)
{
	return k == CP_SPF_INCLUDE || k == CP_SPF_A || k == CP_SPF_MX ||
	    k == CP_SPF_PTR || k == CP_SPF_EXISTS || k == CP_SPF_REDIRECT;
}

/* Count one DNS-querying term; 0 when over the limit (reason set). */
static int
spf_count_lookup(spf_run *r, const cp_spf_term *t, const char *domain)
{
	r->lookups++;
	if (r->lookups <= r->spf->max_dns)
		return 1;
	spf_set_reason(r, "too many DNS lookups: '%s' in %s would be lookup %u, "
	    "the limit is %u (RFC 7208 4.6.4)", t->text, domain, r->lookups,
	    r->spf->max_dns);
	return 0;
}

static void
spf_set_decider(spf_run *r, const cp_spf_term *t, const char *domain)
{
	snprintf(r->res->mechanism, sizeof(r->res->mechanism), "%s", t->text);
	snprintf(r->res->mech_domain, sizeof(r->res->mech_domain), "%s",
	    domain);
}

static int
spf_eval_redirect(spf_run *r, const cp_spf_record *rec, const spf_macro_env *env,
    const char *domain)
{
	const cp_spf_term *t = &rec->terms[rec->redirect];
	cp_buf target;
	int v;

	if (!spf_count_lookup(r, t, domain))
		return CP_SPF_PERMERROR;
	cp_buf_init(&target, SPF_EXPAND_MAX);
	if (spf_target_of(r, env, t, &target) != CP_OK) {
		cp_buf_free(&target);
		return r->oom ? -1 : CP_SPF_PERMERROR;
	}
	if (!spf_valid_name(target.data)) {
		spf_set_reason(r, "'%s' in %s: '%s' is not a valid domain name",
		    t->text, domain, target.data);
		cp_buf_free(&target);
		return CP_SPF_PERMERROR;
	}
	v = spf_check_host(r, target.data);
	if (v == CP_SPF_NONE) {
		char inner[sizeof(r->res->reason)];

		memcpy(inner, r->res->reason, sizeof(inner));
		spf_set_reason(r, "'%s' in %s: %s", t->text, domain, inner);
		v = CP_SPF_PERMERROR; /* 6.1 */
	}
	cp_buf_free(&target);
	return v;
}

/* The verdict (>= 0) for domain, or -1 on memory failure. */
static int
spf_check_host(spf_run *r, const char *domain)
{
	cp_spf_record *rec;
	spf_macro_env env = r->env;
	cp_buf target;
	int v;

	if (r->depth >= SPF_DEPTH_MAX) {
		spf_set_reason(r, "%s: include/redirect nested %d deep", domain,
		    SPF_DEPTH_MAX);
		return CP_SPF_PERMERROR;
	}
	v = spf_get_record(r, domain, &rec);
	if (v != CP_SPF_PASS)
		return v;
	r->depth++;
	env.domain = domain;
	cp_buf_init(&target, SPF_EXPAND_MAX);
	v = CP_SPF_NEUTRAL;
	for (size_t i = 0; i < rec->nterms; i++) {
		const cp_spf_term *t = &rec->terms[i];
		int m = M_NOMATCH;

		if (t->kind >= CP_SPF_REDIRECT)
			continue; /* modifiers act after the mechanisms */
		if (spf_is_dns_term(t->kind)) {
			if (!spf_count_lookup(r, t, domain)) {
				v = CP_SPF_PERMERROR;
				goto done;
			}
			if (spf_target_of(r, &env, t, &target) != CP_OK) {
				v = -1;
				goto done;
			}
		}
		r->res->result = CP_SPF_NEUTRAL; /* set by failing mechanisms */
		switch (t->kind) {
		case CP_SPF_ALL: m = M_MATCH; break;
		case CP_SPF_IP4:
			m = !r->env.v6 && spf_ip_match(r, (const unsigned char *)
			    &t->net.v4, t->cidr4);
			break;
		case CP_SPF_IP6:
			m = r->env.v6 && spf_ip_match(r, (const unsigned char *)
			    &t->net.v6, t->cidr6);
			break;
		case CP_SPF_A: m = spf_mech_a(r, t, domain, target.data); break;
		case CP_SPF_MX: m = spf_mech_mx(r, t, domain, target.data); break;
		case CP_SPF_PTR: m = spf_mech_ptr(r, t, domain, target.data); break;
		case CP_SPF_EXISTS:
			m = spf_mech_exists(r, t, domain, target.data);
			break;
		case CP_SPF_INCLUDE:
			if (!spf_valid_name(target.data)) {
				/* a name that cannot exist: as "none", 5.2 */
				spf_set_reason(r, "'%s' in %s: '%s' is not a valid "
				    "domain name", t->text, domain, target.data);
				r->res->result = CP_SPF_PERMERROR;
				m = M_ERROR;
				break;
			}
			m = spf_mech_include(r, t, domain, target.data);
			break;
		default: break;
		}
		if (m == M_ERROR || r->oom) {
			v = r->oom ? -1 : (int)r->res->result;
			goto done;
		}
		if (m == M_MATCH) {
			v = spf_qualifier_verdict(t->qualifier);
			if (t->kind == CP_SPF_INCLUDE) {
				char inner[sizeof(r->res->reason)];

				memcpy(inner, r->res->reason, sizeof(inner));
				spf_set_reason(r, "'%s' in %s matched (%s)", t->text,
				    domain, inner);
			} else if (t->kind == CP_SPF_ALL) {
				spf_set_reason(r, "'%s' in %s: nothing before it "
				    "matched", t->text, domain);
			} else {
				char ip[INET6_ADDRSTRLEN];

				inet_ntop(r->env.v6 ? AF_INET6 : AF_INET,
				    r->env.ip, ip, sizeof(ip));
				spf_set_reason(r, "'%s' in %s matched %s", t->text,
				    domain, ip);
			}
			spf_set_decider(r, t, domain);
			if (v == CP_SPF_FAIL && !r->in_include && rec->exp >= 0)
				spf_explain(r, rec, &env);
			goto done;
		}
	}
	if (rec->redirect >= 0 && !rec->has_all) {
		v = spf_eval_redirect(r, rec, &env, domain);
		goto done;
	}
	spf_set_reason(r, "no mechanism in the record of %s matched: default "
	    "neutral (RFC 7208 4.7)", domain);
	r->res->mechanism[0] = '\0';
	snprintf(r->res->mech_domain, sizeof(r->res->mech_domain), "%s",
	    domain);
	v = CP_SPF_NEUTRAL;
done:
	r->depth--;
	if (r->oom)
		v = -1;
	cp_buf_free(&target);
	cp_spf_record_free(rec);
	return v;
}

/* ---- entry point ------------------------------------------------------------ */

/* 4.3: a multi-label name, labels of 1-63, not a literal. */
static int
spf_valid_initial_domain(const char *d)
{
	return d[0] != '[' && spf_valid_name(d) && strchr(d, '.') != NULL;
}

static int
spf_parse_client(const char *ip, spf_macro_env *env)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (ip == NULL)
		return CP_EINVAL;
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		env->v6 = 0;
		memcpy(env->ip, &a4, 4);
		return CP_OK;
	}
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return CP_EINVAL;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) { /* 5/9/2: it is IPv4 */
		env->v6 = 0;
		memcpy(env->ip, a6.s6_addr + 12, 4);
		return CP_OK;
	}
	env->v6 = 1;
	memcpy(env->ip, &a6, 16);
	return CP_OK;
}

int
cp_spf_check_host(cp_spf *spf, const cp_spf_query *q, cp_spf_result *out,
    cp_err *err)
{
	spf_run r;
	char *sender = NULL, *local = NULL, *domain = NULL, *odomain;
	const char *helo = q->helo ? q->helo : "";
	const char *at;
	size_t n;
	int v, rc = CP_OK;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.spf = spf;
	r.res = out;
	if (spf_parse_client(q->ip, &r.env) != CP_OK)
		return cp_err_set(err, CP_EINVAL,
		    "spf: '%s' is not an IP address", q->ip ? q->ip : "(null)");
	/* the sender: null path -> postmaster@helo; no local-part ->
	 * postmaster (4.3) */
	if (q->sender == NULL || q->sender[0] == '\0') {
		n = strlen(helo) + 12;
		sender = cp_malloc(n);
		if (sender)
			snprintf(sender, n, "postmaster@%s", helo);
	} else if ((at = strrchr(q->sender, '@')) == NULL ||
	    at == q->sender) {
		const char *d = at ? at + 1 : q->sender;

		n = strlen(d) + 12;
		sender = cp_malloc(n);
		if (sender)
			snprintf(sender, n, "postmaster@%s", d);
	} else {
		sender = cp_strdup(q->sender);
	}
	if (sender == NULL)
		return cp_err_set(err, CP_ENOMEM, "spf: out of memory");
	at = strrchr(sender, '@');
	local = cp_strndup(sender, (size_t)(at - sender));
	odomain = (char *)at + 1;
	domain = cp_strdup(q->domain ? q->domain : odomain);
	if (local == NULL || domain == NULL) {
		rc = cp_err_set(err, CP_ENOMEM, "spf: out of memory");
		goto out;
	}
	n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		domain[n - 1] = '\0';
	r.env.sender = sender;
	r.env.local = local;
	r.env.odomain = odomain;
	r.env.helo = helo;
	r.env.receiver = spf->receiver;
	r.env.now = spf->now ? spf->now : (int64_t)time(NULL);
	r.env.ptr_name = spf_ptr_name_cb;
	r.env.ptr_arg = &r;
	snprintf(out->domain, sizeof(out->domain), "%s", domain);
	if (!spf_valid_initial_domain(domain)) {
		out->result = CP_SPF_NONE;
		spf_set_reason(&r, "'%s' is not a valid multi-label domain name, "
		    "so it cannot have an SPF record (RFC 7208 4.3)", domain);
		goto out;
	}
	v = spf_check_host(&r, domain);
	if (v < 0) {
		rc = cp_err_set(err, CP_ENOMEM, "spf: out of memory");
		goto out;
	}
	out->result = (cp_spf_verdict)v;
	if (out->result != CP_SPF_FAIL) {
		cp_free(out->explanation);
		out->explanation = NULL;
	}
	if (out->result == CP_SPF_NONE || out->result == CP_SPF_TEMPERROR ||
	    out->result == CP_SPF_PERMERROR)
		out->mechanism[0] = '\0';
out:
	out->lookups = r.lookups;
	out->void_lookups = r.voids;
	out->dns_queries = r.queries;
	cp_free(sender);
	cp_free(local);
	cp_free(domain);
	return rc;
}
