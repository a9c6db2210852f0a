/*
 * check_mx.c - the parts of the domain check about the domain's other
 * records: MX, reverse DNS of the sending IPs, MTA-STS, TLS-RPT.
 *
 * MX (RFC 5321 5.1, RFC 7505): a sending domain must be able to receive
 * the replies and bounces its mail causes; without MX the address
 * records serve as an implicit MX; a null MX ("0 .") says the domain
 * takes no mail at all, and RFC 7505 4.2 lets receivers reject mail whose
 * envelope names such a domain. Each exchange must resolve.
 *
 * Reverse DNS of each sending IP: a PTR record, a name in it that
 * resolves back to the IP (forward-confirmed reverse DNS, which Gmail
 * and Microsoft require), and whether that name makes a plausible EHLO
 * name: not an ISP's generic name (cp_check_ptr_generic) and under the
 * sending domain's organization.
 *
 * MTA-STS (RFC 8461 3.1) and TLS-RPT (RFC 8460 3): the TXT records only;
 * discovery drops records without the version prefix, and anything but
 * exactly one valid record is as good as none. The MTA-STS policy file
 * is served over HTTPS and is not fetched here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check/check_int.h"
#include "coldpost/alloc.h"

#define MX_NAMES_MAX 10
#define PTR_NAMES_MAX 10

/* Addresses of name: the answers for A and AAAA (either may be NULL). */
static int
mx_addresses(check_ctx *c, const char *name, cp_dns_answer **a4,
    cp_dns_answer **a6)
{
	*a4 = *a6 = NULL;
	if (check_query(c, name, CP_DNS_A, a4) == CP_ENOMEM)
		return -1;
	if (check_query(c, name, CP_DNS_AAAA, a6) == CP_ENOMEM)
		return -1;
	return ((*a4)->status == CP_DNS_OK && (*a4)->n > 0) ||
	    ((*a6)->status == CP_DNS_OK && (*a6)->n > 0);
}

void
check_mx(check_ctx *c)
{
	const char *dom = c->r->domain;
	cp_dns_answer *a = NULL, *a4 = NULL, *a6 = NULL;
	cp_check_finding *f;
	size_t nres = 0, nchk = 0;

	if (check_query(c, dom, CP_DNS_MX, &a) == CP_ENOMEM)
		return;
	if (a->status == CP_DNS_TEMPFAIL || a->status == CP_DNS_ERROR) {
		f = check_add(c, "mx.record", NULL, CP_CHECK_FAIL, "the MX lookup "
		    "failed: replies and bounces cannot be routed");
		check_evidence_answer(c, f, a);
		check_fix_temp(c, f, dom);
		goto out;
	}
	if (check_absent(a)) {
		int r = mx_addresses(c, dom, &a4, &a6);

		if (r < 0)
			goto out;
		if (r > 0) {
			f = check_add(c, "mx.record", NULL, CP_CHECK_WARN, "no MX "
			    "record: mail to %s goes to its address record "
			    "(implicit MX, RFC 5321 5.1)", dom);
			check_evidence_answer(c, f, a);
			check_evidence_answer(c, f, a4);
			check_fix(c, f, "Publish the server that takes replies "
			    "and bounces: %s. MX 10 mail.%s.", dom, dom);
		} else {
			f = check_add(c, "mx.record", NULL, CP_CHECK_FAIL, "no MX "
			    "and no address record: replies and bounces to %s "
			    "cannot be delivered", dom);
			check_evidence_answer(c, f, a);
			check_detail(c, f, "Receivers check that the sender's "
			    "domain can take mail; many refuse one that "
			    "cannot.");
			check_fix(c, f, "%s. MX 10 mail.%s. (and an A record "
			    "for mail.%s)", dom, dom, dom);
		}
		goto out;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->rr[i].u.mx.host[0] == '\0') {
			f = check_add(c, "mx.record", NULL, CP_CHECK_FAIL, "null MX "
			    "(RFC 7505): %s says it accepts no mail, yet sends",
			    dom);
			check_evidence_answer(c, f, a);
			check_detail(c, f, "Replies and bounces to %s cannot be "
			    "delivered, and receivers may reject mail whose "
			    "envelope sender is in a null-MX domain (RFC 7505 "
			    "4.2).", dom);
			check_fix(c, f, "Replace the null MX by a server that "
			    "takes mail: %s. MX 10 mail.%s.", dom, dom);
			goto out;
		}
	f = check_add(c, "mx.record", NULL, CP_CHECK_PASS, "%zu MX record%s",
	    a->n, a->n == 1 ? "" : "s");
	check_evidence_answer(c, f, a);

	/* each exchange resolves */
	f = check_add(c, "mx.resolve", NULL, CP_CHECK_PASS, "every exchange "
	    "has an address");
	for (size_t i = 0; i < a->n && i < MX_NAMES_MAX && f != NULL; i++) {
		const char *h = a->rr[i].u.mx.host;
		int r = mx_addresses(c, h, &a4, &a6);

		nchk++;
		if (r < 0)
			goto out;
		if (r > 0) {
			nres++;
			if (a4->status == CP_DNS_OK)
				check_evidence_answer(c, f, a4);
			if (a6->status == CP_DNS_OK)
				check_evidence_answer(c, f, a6);
		} else {
			check_evidence(c, f, "%s. A/AAAA: %s", h,
			    cp_dns_status_name(a4->status));
		}
		cp_dns_answer_free(a4);
		cp_dns_answer_free(a6);
		a4 = a6 = NULL;
	}
	if (f != NULL && nres < nchk) {
		/* restate the finding: some or all exchanges are dead */
		check_set_status(c, f, nres == 0 ? CP_CHECK_FAIL
		    : CP_CHECK_WARN);
		check_summary(c, f, "%s", nres == 0 ? "no exchange has an "
		    "address: mail to the domain cannot be delivered"
		    : "some exchanges have no address");
		check_fix(c, f, "Give each exchange an A (or AAAA) record, or "
		    "remove the MX records that name dead hosts.");
	}
out:
	cp_dns_answer_free(a);
	cp_dns_answer_free(a4);
	cp_dns_answer_free(a6);
}

/* Does answer a hold the address ip (same family)? */
static int
ptr_answer_has(const cp_dns_answer *a, const char *ip)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (a == NULL || a->status != CP_DNS_OK)
		return 0;
	if (inet_pton(AF_INET, ip, &v4) == 1) {
		for (size_t i = 0; i < a->n; i++)
			if (a->rr[i].type == CP_DNS_A &&
			    memcmp(&a->rr[i].u.a, &v4, sizeof(v4)) == 0)
				return 1;
	} else if (inet_pton(AF_INET6, ip, &v6) == 1) {
		for (size_t i = 0; i < a->n; i++)
			if (a->rr[i].type == CP_DNS_AAAA &&
			    memcmp(&a->rr[i].u.aaaa, &v6, sizeof(v6)) == 0)
				return 1;
	}
	return 0;
}

static void
ptr_check_one(check_ctx *c, const char *ip)
{
	char rev[128], why[160];
	const char *name = NULL, *org = c->r->org_domain;
	int v6 = strchr(ip, ':') != NULL;
	cp_dns_answer *a = NULL, *fw = NULL;
	cp_check_finding *f;

	if (cp_dns_reverse_name(ip, rev, sizeof(rev)) != CP_OK) {
		check_add(c, "ptr.record", ip, CP_CHECK_FAIL, "%s is not an "
		    "address", ip);
		return;
	}
	if (check_query(c, rev, CP_DNS_PTR, &a) == CP_ENOMEM)
		return;
	if (a->status == CP_DNS_TEMPFAIL || a->status == CP_DNS_ERROR) {
		f = check_add(c, "ptr.record", ip, CP_CHECK_FAIL, "the PTR lookup "
		    "for %s failed", ip);
		check_evidence_answer(c, f, a);
		check_fix_temp(c, f, rev);
		goto out;
	}
	if (check_absent(a)) {
		f = check_add(c, "ptr.record", ip, CP_CHECK_FAIL, "no PTR record "
		    "for %s: receivers distrust or refuse addresses without "
		    "reverse DNS", ip);
		check_evidence_answer(c, f, a);
		check_fix(c, f, "Ask whoever runs the address block (your "
		    "hosting provider) for: %s. PTR mail.%s. - and publish "
		    "mail.%s. %s %s", rev, c->r->domain, c->r->domain,
		    v6 ? "AAAA" : "A", ip);
		goto out;
	}
	f = check_add(c, "ptr.record", ip, CP_CHECK_PASS, "%s has a PTR record "
	    "(%s)", ip, a->rr[0].u.name);
	check_evidence_answer(c, f, a);
	if (a->n > 1)
		check_detail(c, f, "Several PTR names: receivers may look at any "
		    "one of them; one is better.");

	/* forward-confirmed reverse DNS */
	for (size_t i = 0; i < a->n && i < PTR_NAMES_MAX && name == NULL; i++) {
		cp_dns_answer *x = NULL;

		if (check_query(c, a->rr[i].u.name, v6 ? CP_DNS_AAAA : CP_DNS_A,
		    &x) == CP_ENOMEM)
			goto out;
		if (ptr_answer_has(x, ip)) {
			name = a->rr[i].u.name;
			cp_dns_answer_free(fw);
			fw = x;
		} else if (fw == NULL) {
			fw = x;
		} else {
			cp_dns_answer_free(x);
		}
	}
	if (name != NULL) {
		f = check_add(c, "ptr.fcrdns", ip, CP_CHECK_PASS, "%s resolves "
		    "back to %s (forward-confirmed)", name, ip);
		check_evidence_answer(c, f, fw);
	} else {
		f = check_add(c, "ptr.fcrdns", ip, CP_CHECK_FAIL, "%s does not "
		    "resolve back to %s: the reverse DNS is not "
		    "forward-confirmed", a->rr[0].u.name, ip);
		check_evidence_answer(c, f, fw);
		check_detail(c, f, "Gmail requires the PTR name of a sending IP "
		    "to resolve to that IP.");
		check_fix(c, f, "%s. %s %s", a->rr[0].u.name, v6 ? "AAAA" : "A",
		    ip);
	}

	/* a plausible EHLO name? */
	if (name == NULL)
		name = a->rr[0].u.name;
	if (cp_check_ptr_generic(name, ip, why, sizeof(why))) {
		f = check_add(c, "ptr.ehlo", ip, CP_CHECK_FAIL, "%s looks like an "
		    "ISP's generic name: %s", name, why);
		check_detail(c, f, "Receivers treat generic reverse DNS as a "
		    "home or dynamic address and filter or refuse its mail.");
		check_fix(c, f, "Have the PTR of %s set to a name of your own, "
		    "e.g. %s. PTR mail.%s. with mail.%s. %s %s, and use that "
		    "name in EHLO.", ip, rev, c->r->domain, c->r->domain,
		    v6 ? "AAAA" : "A", ip);
	} else if (!check_name_under(name, org)) {
		f = check_add(c, "ptr.ehlo", ip, CP_CHECK_WARN, "%s is not under "
		    "%s", name, org);
		check_detail(c, f, "Fine when a provider sends for you under its "
		    "own name; otherwise a name under your domain ties the IP "
		    "to it. The EHLO name should be the PTR name either way.");
		check_fix(c, f, "%s. PTR mail.%s. and mail.%s. %s %s, then EHLO "
		    "mail.%s", rev, c->r->domain, c->r->domain,
		    v6 ? "AAAA" : "A", ip, c->r->domain);
	} else {
		f = check_add(c, "ptr.ehlo", ip, CP_CHECK_PASS, "%s is a "
		    "plausible EHLO name under %s: use it in EHLO", name, org);
	}
out:
	cp_dns_answer_free(a);
	cp_dns_answer_free(fw);
}

void
check_ptr(check_ctx *c)
{
	for (size_t i = 0; i < c->o->nips && c->rc == CP_OK; i++)
		ptr_check_one(c, c->o->ips[i]);
}

/* The TXT records at name starting with prefix (case-sensitive as the
 * RFCs' %s strings): their count; the answer in *a. */
static size_t
mx_txt_with(check_ctx *c, const char *name, const char *prefix,
    cp_dns_answer **a, size_t *which)
{
	size_t n = 0, pl = strlen(prefix);

	if (check_query(c, name, CP_DNS_TXT, a) == CP_ENOMEM)
		return 0;
	if ((*a)->status != CP_DNS_OK)
		return 0;
	for (size_t i = 0; i < (*a)->n; i++)
		if ((*a)->rr[i].u.txt.len >= pl &&
		    memcmp((*a)->rr[i].u.txt.data, prefix, pl) == 0) {
			n++;
			*which = i;
		}
	return n;
}

void
check_mta_sts(check_ctx *c)
{
	char name[300], id[64];
	cp_dns_answer *a = NULL;
	cp_check_finding *f;
	cp_err perr = { 0 };
	size_t which = 0, n;

	snprintf(name, sizeof(name), "_mta-sts.%s", c->r->domain);
	/* RFC 8461 3.1: records not beginning with "v=STSv1;" are dropped;
	   take "v=STSv1" so a record without the ';' is reported, not lost */
	n = mx_txt_with(c, name, "v=STSv1", &a, &which);
	if (a == NULL)
		return;
	if (a->status == CP_DNS_TEMPFAIL || a->status == CP_DNS_ERROR) {
		f = check_add(c, "mta_sts.record", NULL, CP_CHECK_FAIL, "the "
		    "lookup at %s failed", name);
		check_evidence_answer(c, f, a);
		check_fix_temp(c, f, name);
	} else if (n == 0) {
		f = check_add(c, "mta_sts.record", NULL, CP_CHECK_WARN, "no "
		    "MTA-STS record: mail to %s (replies, bounces) can be "
		    "downgraded to plain text", c->r->domain);
		check_evidence_answer(c, f, a);
		check_fix(c, f, "%s. TXT \"v=STSv1; id=%s\" and a policy at "
		    "https://mta-sts.%s/.well-known/mta-sts.txt (mode: "
		    "testing, then enforce, with your mx: names)", name,
		    "20240101", c->r->domain);
	} else if (n > 1) {
		f = check_add(c, "mta_sts.record", NULL, CP_CHECK_FAIL, "%zu "
		    "MTA-STS records: senders treat that as no policy (RFC 8461 "
		    "3.1)", n);
		check_evidence_answer(c, f, a);
		check_fix(c, f, "Keep one v=STSv1 record at %s.", name);
	} else if (cp_check_parse_mta_sts(a->rr[which].u.txt.data,
	    a->rr[which].u.txt.len, id, sizeof(id), &perr) != CP_OK) {
		f = check_add(c, "mta_sts.record", NULL, CP_CHECK_FAIL, "the "
		    "MTA-STS record is malformed: %s", perr.msg);
		check_evidence_txt(c, f, name, a->rr[which].u.txt.data,
		    a->rr[which].u.txt.len);
		check_fix(c, f, "%s. TXT \"v=STSv1; id=20240101\"", name);
	} else {
		f = check_add(c, "mta_sts.record", NULL, CP_CHECK_PASS, "MTA-STS "
		    "record, id=%s", id);
		check_evidence_txt(c, f, name, a->rr[which].u.txt.data,
		    a->rr[which].u.txt.len);
		check_detail(c, f, "Only the record was checked: the policy at "
		    "https://mta-sts.%s/.well-known/mta-sts.txt is fetched over "
		    "HTTPS, which this check does not do.", c->r->domain);
	}
	cp_dns_answer_free(a);
}

void
check_tls_rpt(check_ctx *c)
{
	char name[300];
	cp_dns_answer *a = NULL;
	cp_check_finding *f;
	cp_check_tlsrpt t;
	cp_err perr = { 0 };
	size_t which = 0, n;

	snprintf(name, sizeof(name), "_smtp._tls.%s", c->r->domain);
	n = mx_txt_with(c, name, "v=TLSRPTv1", &a, &which);
	if (a == NULL)
		return;
	if (a->status == CP_DNS_TEMPFAIL || a->status == CP_DNS_ERROR) {
		f = check_add(c, "tls_rpt.record", NULL, CP_CHECK_FAIL, "the "
		    "lookup at %s failed", name);
		check_evidence_answer(c, f, a);
		check_fix_temp(c, f, name);
	} else if (n == 0) {
		f = check_add(c, "tls_rpt.record", NULL, CP_CHECK_WARN, "no "
		    "TLS-RPT record: no reports of TLS failures on mail to %s",
		    c->r->domain);
		check_evidence_answer(c, f, a);
		check_fix(c, f, "%s. TXT \"v=TLSRPTv1; "
		    "rua=mailto:tls-reports@%s\"", name, c->r->domain);
	} else if (n > 1) {
		f = check_add(c, "tls_rpt.record", NULL, CP_CHECK_FAIL, "%zu "
		    "TLS-RPT records: senders send no reports (RFC 8460 3)", n);
		check_evidence_answer(c, f, a);
		check_fix(c, f, "Keep one v=TLSRPTv1 record at %s.", name);
	} else if (cp_check_parse_tlsrpt(a->rr[which].u.txt.data,
	    a->rr[which].u.txt.len, &t, &perr) != CP_OK) {
		f = check_add(c, "tls_rpt.record", NULL, CP_CHECK_FAIL, "the "
		    "TLS-RPT record is malformed: %s", perr.msg);
		check_evidence_txt(c, f, name, a->rr[which].u.txt.data,
		    a->rr[which].u.txt.len);
		check_fix(c, f, "%s. TXT \"v=TLSRPTv1; "
		    "rua=mailto:tls-reports@%s\"", name, c->r->domain);
	} else {
		f = check_add(c, "tls_rpt.record", NULL, CP_CHECK_PASS, "TLS-RPT "
		    "reports go to %s%s", t.rua[0], t.nrua_all > 1 ? " and more"
		    : "");
		check_evidence_txt(c, f, name, a->rr[which].u.txt.data,
		    a->rr[which].u.txt.len);
	}
	cp_dns_answer_free(a);
}
