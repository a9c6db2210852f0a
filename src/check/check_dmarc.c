/*
 * check_dmarc.c - the DMARC part of the domain check (RFC 7489).
 *
 * Discovery as a receiver does it (6.6.3): TXT at _dmarc.DOMAIN, records
 * not starting with v=DMARC1 dropped, several records mean no policy;
 * with none and DOMAIN below its organizational domain (3.2, the PSL),
 * the organizational domain's record governs through sp= (else p=). The
 * record is parsed strictly (dmarc_parse.c). Then what decides whether
 * the policy protects the domain: the policy (none only monitors), pct
 * (below 100 the policy applies to a sample, 6.3), rua (no aggregate
 * reports, no way to see what fails; a report address in another
 * organization must authorize the domain, 7.1), sp for subdomains, and,
 * for a subdomain, the organizational domain's own record.
 *
 * Fixes are the record with the one change made, rendered by
 * cp_dmarc_render_record, so everything else published stays as it was.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check/check_int.h"
#include "coldpost/alloc.h"
#include "coldpost/dmarc.h"

enum { DF_NONE, DF_ONE, DF_MULTI, DF_TEMP };

typedef struct dmarc_found {
	int st;               /* DF_* */
	char name[300];       /* _dmarc.X */
	char domain[256];     /* X */
	cp_dns_answer *a;     /* for evidence */
	size_t which;         /* the record, when DF_ONE */
	int valid;            /* DF_ONE and parsed */
	cp_dmarc_record rec;
	cp_err perr;
} dmarc_found;

static void
dmarc_fetch(check_ctx *c, const char *domain, dmarc_found *d)
{
	size_t n = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->domain, sizeof(d->domain), "%s", domain);
	snprintf(d->name, sizeof(d->name), "_dmarc.%s", domain);
	if (check_query(c, d->name, CP_DNS_TXT, &d->a) == CP_ENOMEM) {
		d->st = DF_TEMP;
		return;
	}
	if (d->a->status == CP_DNS_TEMPFAIL || d->a->status == CP_DNS_ERROR) {
		d->st = DF_TEMP;
		return;
	}
	if (d->a->status != CP_DNS_OK) {
		d->st = DF_NONE;
		return;
	}
	for (size_t i = 0; i < d->a->n; i++)
		if (cp_dmarc_is_record(d->a->rr[i].u.txt.data,
		    d->a->rr[i].u.txt.len)) {
			n++;
			d->which = i;
		}
	d->st = n == 0 ? DF_NONE : n == 1 ? DF_ONE : DF_MULTI;
	if (d->st == DF_ONE)
		d->valid = cp_dmarc_parse_record(d->a->rr[d->which].u.txt.data,
		    d->a->rr[d->which].u.txt.len, &d->rec, &d->perr) == CP_OK;
}

static void
dmarc_evidence(check_ctx *c, cp_check_finding *f, const dmarc_found *d)
{
	if (d->a == NULL)
		return;
	if (d->st == DF_ONE) {
		check_evidence_txt(c, f, d->name, d->a->rr[d->which].u.txt.data,
		    d->a->rr[d->which].u.txt.len);
		return;
	}
	if (d->st == DF_MULTI) {
		for (size_t i = 0; i < d->a->n; i++)
			if (cp_dmarc_is_record(d->a->rr[i].u.txt.data,
			    d->a->rr[i].u.txt.len))
				check_evidence_txt(c, f, d->name,
				    d->a->rr[i].u.txt.data, d->a->rr[i].u.txt.len);
		return;
	}
	check_evidence_answer(c, f, d->a);
}

/* Fix: the record changed, as a zone line. */
static void
dmarc_fix_record(check_ctx *c, cp_check_finding *f, const char *lead,
    const char *name, const cp_dmarc_record *rec)
{
	char txt[8192];

	cp_dmarc_render_record(rec, txt, sizeof(txt));
	check_fix(c, f, "%s%s. TXT \"%s\"", lead, name, txt);
}

/* The record to start with: monitoring, with reports to the domain. */
static void
dmarc_fix_new(check_ctx *c, cp_check_finding *f, const char *domain)
{
	check_fix(c, f, "_dmarc.%s. TXT \"v=DMARC1; p=none; "
	    "rua=mailto:dmarc-reports@%s\" (then quarantine, then reject, "
	    "once the reports show your mail passing)", domain, domain);
}

/* rua= destinations in another organization must authorize it (7.1). */
static void
dmarc_check_rua(check_ctx *c, const dmarc_found *d)
{
	const cp_dmarc_record *r = &d->rec;
	cp_check_finding *f;
	cp_dns_answer *bad[CP_DMARC_URI_MAX];
	char myorg[256];
	size_t nbad = 0;

	if (r->nrua_all == 0) {
		cp_dmarc_record nr = *r;

		f = check_add(c, "dmarc.rua", NULL, CP_CHECK_WARN, "no rua=: no "
		    "aggregate reports, so nobody sees which mail fails");
		dmarc_evidence(c, f, d);
		memset(&nr.rua[0], 0, sizeof(nr.rua[0]));
		snprintf(nr.rua[0].uri, sizeof(nr.rua[0].uri),
		    "mailto:dmarc-reports@%s", d->domain);
		nr.nrua = nr.nrua_all = 1;
		dmarc_fix_record(c, f, "", d->name, &nr);
		return;
	}
	if (c->o->psl == NULL || cp_dmarc_get_org_domain(c->o->psl, d->domain,
	    myorg, sizeof(myorg)) != CP_OK)
		snprintf(myorg, sizeof(myorg), "%s", d->domain);
	for (size_t i = 0; i < r->nrua && c->rc == CP_OK; i++) {
		const char *u = r->rua[i].uri, *at;
		char dom[256], org[256], name[600];
		cp_dns_answer *a = NULL;
		size_t ok = 0;

		if (strncasecmp(u, "mailto:", 7) != 0 ||
		    (at = strrchr(u, '@')) == NULL)
			continue;
		snprintf(dom, sizeof(dom), "%s", at + 1);
		check_lower(dom);
		if (c->o->psl == NULL || cp_dmarc_get_org_domain(c->o->psl, dom,
		    org, sizeof(org)) != CP_OK)
			snprintf(org, sizeof(org), "%s", dom);
		if (check_name_eq(org, myorg))
			continue;
		snprintf(name, sizeof(name), "%s._report._dmarc.%s", d->domain,
		    dom);
		if (check_query(c, name, CP_DNS_TXT, &a) != CP_OK) {
			cp_dns_answer_free(a);
			continue;
		}
		for (size_t k = 0; a->status == CP_DNS_OK && k < a->n; k++)
			ok += cp_dmarc_is_record(a->rr[k].u.txt.data,
			    a->rr[k].u.txt.len);
		if (ok == 0 && a->status != CP_DNS_TEMPFAIL)
			bad[nbad++] = a;
		else
			cp_dns_answer_free(a);
	}
	if (nbad == 0) {
		f = check_add(c, "dmarc.rua", NULL, CP_CHECK_PASS, "aggregate "
		    "reports go to %s%s", r->rua[0].uri, r->nrua_all > 1
		    ? " and more" : "");
		dmarc_evidence(c, f, d);
		return;
	}
	f = check_add(c, "dmarc.rua", NULL, CP_CHECK_WARN, "aggregate reports "
	    "go to %zu address%s in another organization that ha%s not "
	    "authorized them", nbad, nbad == 1 ? "" : "es", nbad == 1 ? "s"
	    : "ve");
	dmarc_evidence(c, f, d);
	for (size_t i = 0; i < nbad; i++) {
		check_evidence_answer(c, f, bad[i]);
		if (i == 0)
			check_fix(c, f, "Have the report domain publish %s. TXT "
			    "\"v=DMARC1\" (RFC 7489 7.1), or send reports to an "
			    "address under %s.", bad[i]->name, myorg);
		cp_dns_answer_free(bad[i]);
	}
	check_detail(c, f, "Receivers check that a report address outside "
	    "the domain's organization agrees to get its reports, and send "
	    "nothing otherwise.");
}

void
check_dmarc(check_ctx *c)
{
	const char *dom = c->r->domain, *org = c->r->org_domain;
	int is_sub = !check_name_eq(dom, org);
	dmarc_found own, od;
	const dmarc_found *gov = NULL;   /* the record that governs DOMAIN */
	const dmarc_found *orgrec = NULL; /* the org-level record */
	cp_check_finding *f;
	cp_dmarc_policy eff;
	const char *eff_tag;

	memset(&od, 0, sizeof(od));
	dmarc_fetch(c, dom, &own);
	if (is_sub)
		dmarc_fetch(c, org, &od);
	if (c->rc != CP_OK)
		goto out;

	/* dmarc.record */
	switch (own.st) {
	case DF_TEMP:
		f = check_add(c, "dmarc.record", NULL, CP_CHECK_FAIL, "the DMARC "
		    "lookup at %s failed: receivers get a temperror", own.name);
		dmarc_evidence(c, f, &own);
		check_fix_temp(c, f, own.name);
		break;
	case DF_MULTI:
		f = check_add(c, "dmarc.record", NULL, CP_CHECK_FAIL, "several "
		    "DMARC records at %s: receivers apply none of them (RFC 7489 "
		    "6.6.3)", own.name);
		dmarc_evidence(c, f, &own);
		check_fix(c, f, "Keep one v=DMARC1 record at %s.", own.name);
		break;
	case DF_ONE:
		if (!own.valid) {
			f = check_add(c, "dmarc.record", NULL, CP_CHECK_FAIL, "the "
			    "DMARC record is malformed: %s", own.perr.msg);
			dmarc_evidence(c, f, &own);
			if (own.rec.bad_policy && own.rec.nrua > 0)
				check_detail(c, f, "With a usable rua=, receivers "
				    "read it as p=none (RFC 7489 6.6.3): no "
				    "protection.");
			else
				check_detail(c, f, "Receivers get a permerror: no "
				    "DMARC protection.");
			dmarc_fix_new(c, f, dom);
			break;
		}
		f = check_add(c, "dmarc.record", NULL, CP_CHECK_PASS, "DMARC "
		    "record at %s", own.name);
		dmarc_evidence(c, f, &own);
		gov = &own;
		break;
	default:
		if (is_sub && od.st == DF_ONE && od.valid) {
			f = check_add(c, "dmarc.record", NULL, CP_CHECK_PASS, "no "
			    "record at %s: the organizational domain's record at "
			    "%s applies", own.name, od.name);
			dmarc_evidence(c, f, &od);
			gov = &od;
			break;
		}
		f = check_add(c, "dmarc.record", NULL, CP_CHECK_FAIL, "no DMARC "
		    "record at %s%s%s", own.name, is_sub ? " nor at " : "",
		    is_sub ? od.name : "");
		dmarc_evidence(c, f, &own);
		check_detail(c, f, "Gmail and Yahoo require a DMARC record from "
		    "bulk senders; without one, spoofing the domain is easy and "
		    "mail is filtered harder.");
		dmarc_fix_new(c, f, is_sub ? org : dom);
		break;
	}
	if (is_sub)
		orgrec = &od;
	else if (gov == &own)
		orgrec = &own;

	if (gov != NULL) {
		const cp_dmarc_record *r = &gov->rec;

		/* the policy that applies to mail from DOMAIN itself */
		if (gov == &own) {
			eff = r->p;
			eff_tag = "p";
		} else {
			eff = r->sp ? r->sp : r->p;
			eff_tag = r->sp ? "sp" : "p";
		}
		if (eff == CP_DMARC_POLICY_NONE) {
			cp_dmarc_record nr = *r;

			f = check_add(c, "dmarc.policy", NULL, CP_CHECK_WARN,
			    "%s=none: monitoring only, failing mail is delivered "
			    "as usual", eff_tag);
			check_detail(c, f, "Move to quarantine, then reject, once "
			    "the aggregate reports show all your legitimate mail "
			    "passing SPF or DKIM aligned.");
			dmarc_evidence(c, f, gov);
			if (gov == &own)
				nr.p = CP_DMARC_POLICY_QUARANTINE;
			else
				nr.sp = CP_DMARC_POLICY_QUARANTINE;
			dmarc_fix_record(c, f, "When the reports are clean: ",
			    gov->name, &nr);
		} else {
			f = check_add(c, "dmarc.policy", NULL, CP_CHECK_PASS,
			    "%s=%s: receivers %s failing mail", eff_tag,
			    cp_dmarc_policy_name(eff), eff ==
			    CP_DMARC_POLICY_REJECT ? "reject" : "quarantine");
			dmarc_evidence(c, f, gov);
		}

		if (r->pct < 100) {
			cp_dmarc_record nr = *r;

			f = check_add(c, "dmarc.pct", NULL, CP_CHECK_WARN, "pct=%u: "
			    "the policy applies to %u%% of failing mail, the rest "
			    "gets the next milder one", r->pct, r->pct);
			dmarc_evidence(c, f, gov);
			nr.pct = 100;
			dmarc_fix_record(c, f, "", gov->name, &nr);
		} else {
			check_add(c, "dmarc.pct", NULL, CP_CHECK_PASS, "the policy "
			    "applies to all failing mail (pct=100)");
		}
		dmarc_check_rua(c, gov);
	}

	/* subdomains: the sp= of the organizational domain's record */
	if (orgrec != NULL && orgrec->st == DF_ONE && orgrec->valid) {
		const cp_dmarc_record *r = &orgrec->rec;
		cp_dmarc_policy sp = r->sp ? r->sp : r->p;

		if (sp == CP_DMARC_POLICY_NONE && r->p != CP_DMARC_POLICY_NONE) {
			cp_dmarc_record nr = *r;

			f = check_add(c, "dmarc.subdomains", NULL, CP_CHECK_WARN,
			    "sp=none while p=%s: mail from made-up subdomains of "
			    "%s gets through", cp_dmarc_policy_name(r->p),
			    orgrec->domain);
			dmarc_evidence(c, f, orgrec);
			nr.sp = CP_DMARC_POLICY_UNSET;
			dmarc_fix_record(c, f, "Unless a subdomain still needs "
			    "time: ", orgrec->name, &nr);
		} else {
			f = check_add(c, "dmarc.subdomains", NULL, CP_CHECK_PASS,
			    "subdomains of %s get %s=%s", orgrec->domain,
			    r->sp ? "sp" : "p", cp_dmarc_policy_name(sp));
			dmarc_evidence(c, f, orgrec);
		}
	}

	/* a subdomain: the organizational domain's own record */
	if (is_sub) {
		switch (od.st) {
		case DF_ONE:
			if (od.valid) {
				f = check_add(c, "dmarc.org", NULL, CP_CHECK_PASS,
				    "the organizational domain %s has a record "
				    "(p=%s)", org, cp_dmarc_policy_name(od.rec.p));
			} else {
				f = check_add(c, "dmarc.org", NULL, CP_CHECK_FAIL,
				    "the record of the organizational domain %s "
				    "is malformed: %s", org, od.perr.msg);
				dmarc_fix_new(c, f, org);
			}
			dmarc_evidence(c, f, &od);
			break;
		case DF_MULTI:
			f = check_add(c, "dmarc.org", NULL, CP_CHECK_FAIL, "several "
			    "DMARC records at %s", od.name);
			dmarc_evidence(c, f, &od);
			check_fix(c, f, "Keep one v=DMARC1 record at %s.",
			    od.name);
			break;
		case DF_TEMP:
			f = check_add(c, "dmarc.org", NULL, CP_CHECK_FAIL, "the "
			    "lookup at %s failed", od.name);
			dmarc_evidence(c, f, &od);
			check_fix_temp(c, f, od.name);
			break;
		default:
			f = check_add(c, "dmarc.org", NULL, CP_CHECK_WARN, "the "
			    "organizational domain %s has no DMARC record: its "
			    "other subdomains are unprotected", org);
			dmarc_evidence(c, f, &od);
			dmarc_fix_new(c, f, org);
			break;
		}
	}
out:
	cp_dns_answer_free(own.a);
	cp_dns_answer_free(od.a);
}
