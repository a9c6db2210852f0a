/*
 * Fuzz target: the domain check (src/check/) over zone data from the
 * input, loaded into the fake resolver: SPF walks, record rewriting for
 * fixes, DKIM key decoding, DMARC, MX, PTR, MTA-STS and TLS-RPT on
 * whatever records a domain might publish. The report must be
 * consistent: counts that add up, every finding with a summary.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cp_psl *psl;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ips[] = { "192.0.2.10", "2001:db8::1" };
	static const char *const sels[] = { "s1", "s2" };
	cp_check_opts o = { 0 };
	cp_check_report *r = NULL;
	cp_dns *d;
	size_t np = 0, nw = 0, nf = 0;

	if (psl == NULL && (psl = cp_psl_load(NULL, NULL)) == NULL)
		abort();
	if (size > 16384)
		return 0;
	d = cp_dns_new_fake();
	if (d == NULL)
		abort();
	if (cp_dns_fake_load_mem(d, (const char *)data, size, "fuzz", NULL) !=
	    CP_OK) {
		cp_dns_free(d);
		return 0;
	}
	o.dns = d;
	o.psl = psl;
	o.ips = ips;
	o.nips = 2;
	/* an input ending in '!' probes the common selectors instead */
	if (size == 0 || data[size - 1] != '!') {
		o.selectors = sels;
		o.nselectors = 2;
	}
	o.now = 1700000000;
	if (cp_check_domain(&o, "fuzz.test", &r, NULL) == CP_OK) {
		for (size_t i = 0; i < r->n; i++) {
			const cp_check_finding *f = &r->findings[i];

			if (f->summary == NULL || f->id == NULL)
				abort();
			np += f->status == CP_CHECK_PASS;
			nw += f->status == CP_CHECK_WARN;
			nf += f->status == CP_CHECK_FAIL;
		}
		if (np != r->npass || nw != r->nwarn || nf != r->nfail)
			abort();
	}
	cp_check_report_free(r);
	cp_dns_free(d);
	return 0;
}
