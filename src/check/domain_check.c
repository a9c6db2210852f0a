/*
 * domain_check.c - `coldpost check DOMAIN`: the deliverability test of a
 * sending domain's DNS set-up (see check.h for what is looked at).
 *
 * This file checks the arguments, finds the organizational domain (RFC
 * 7489 3.2, through the PSL) and runs the parts in report order: SPF
 * (check_spf.c), DKIM (check_dkim.c), DMARC (check_dmarc.c), MX, reverse
 * DNS, MTA-STS and TLS-RPT (check_mx.c). Each part adds its findings to
 * the report (check_report.c); none of them prints or decides an exit
 * status, which is the CLI's business (cmd_check.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "check/check_int.h"
#include "coldpost/alloc.h"

/* A host name DNS can ask for: 1-253 bytes, labels of 1-63, LDH and '_'. */
static int
check_valid_domain(const char *d)
{
	size_t n = strlen(d), lab = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = d[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63)
				return 0;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return 0;
		lab++;
	}
	return strchr(d, '.') != NULL;
}

int
cp_check_domain(const cp_check_opts *o, const char *domain,
    cp_check_report **out, cp_err *err)
{
	cp_check_report *r;
	check_ctx c;
	size_t n;

	*out = NULL;
	CP_ASSERT(o != NULL && o->dns != NULL);
	for (size_t i = 0; i < o->nips; i++) {
		struct in6_addr a6;
		struct in_addr a4;

		if (inet_pton(AF_INET, o->ips[i], &a4) != 1 &&
		    inet_pton(AF_INET6, o->ips[i], &a6) != 1)
			return cp_err_set(err, CP_EINVAL, "check: '%s' is not an "
			    "IP address", o->ips[i]);
	}
	r = cp_calloc(1, sizeof(*r));
	if (r == NULL)
		return cp_err_set(err, CP_ENOMEM, "check: out of memory");
	n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n >= sizeof(r->domain)) {
		cp_free(r);
		return cp_err_set(err, CP_EINVAL, "check: domain too long");
	}
	memcpy(r->domain, domain, n);
	r->domain[n] = '\0';
	check_lower(r->domain);
	if (!check_valid_domain(r->domain)) {
		cp_free(r);
		return cp_err_set(err, CP_EINVAL, "check: '%s' is not a domain "
		    "name (letters, digits, '-', at least two labels)", domain);
	}
	if (o->psl == NULL || cp_dmarc_get_org_domain(o->psl, r->domain,
	    r->org_domain, sizeof(r->org_domain)) != CP_OK)
		snprintf(r->org_domain, sizeof(r->org_domain), "%s", r->domain);
	r->spf_lookups = -1;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.r = r;
	c.err = err;
	c.rc = CP_OK;
	check_spf(&c);
	if (c.rc == CP_OK)
		check_dkim(&c);
	if (c.rc == CP_OK)
		check_dmarc(&c);
	if (c.rc == CP_OK)
		check_mx(&c);
	if (c.rc == CP_OK)
		check_ptr(&c);
	if (c.rc == CP_OK)
		check_mta_sts(&c);
	if (c.rc == CP_OK)
		check_tls_rpt(&c);
	if (c.rc != CP_OK) {
		cp_check_report_free(r);
		return c.rc;
	}
	*out = r;
	return CP_OK;
}
