/*
 * Fuzz target: a received message through SPF, DKIM and DMARC together
 * (src/auth/auth.c): header splitting, the From and DKIM-Signature
 * watchers, the verifier, DMARC per author domain, rendering. DNS comes
 * from a fixed zone in the fake resolver. The first byte splits the input
 * into two chunks so streaming is exercised too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char zone[] =
    "$ORIGIN auth.test.\n"
    "@ TXT \"v=spf1 ip4:192.0.2.10 -all\"\n"
    "s1._domainkey TXT \"v=DKIM1; k=ed25519; "
    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
    "_dmarc TXT \"v=DMARC1; p=reject; rua=mailto:d@auth.test\"\n"
    "$ORIGIN other.test.\n"
    "_dmarc TXT \"v=DMARC1; p=quarantine; sp=none\"\n";

static cp_dns *dns;
static cp_psl *psl;

static unsigned
roll(void *arg)
{
	(void)arg;
	return 42;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_auth_opts o = { 0 };
	cp_auth_envelope env = { "192.0.2.10", "mail.auth.test", "b@auth.test",
		NULL };
	cp_auth_verdict v;
	cp_auth *a = NULL;
	cp_err err;
	cp_buf b;
	size_t cut;
	int rc;

	if (dns == NULL) {
		dns = cp_dns_new_fake();
		psl = cp_psl_load(NULL, NULL);
		if (dns == NULL || psl == NULL ||
		    cp_dns_fake_load_mem(dns, zone, sizeof(zone) - 1, "fuzz",
		    NULL) != CP_OK)
			abort();
	}
	if (size == 0)
		return 0;
	o.dns = dns;
	o.psl = psl;
	o.now = 1700000000;
	o.roll = roll;
	if (data[0] & 1)
		env.mail_from = "";
	cut = size > 1 ? data[0] % size : 0;
	if (cp_auth_new(&o, &env, &a, &err) != CP_OK)
		abort();
	rc = cp_auth_write(a, (const char *)data + 1, cut ? cut - 1 : 0, &err);
	if (rc == CP_OK)
		rc = cp_auth_write(a, (const char *)data + (cut ? cut : 1),
		    size - (cut ? cut : 1), &err);
	memset(&v, 0, sizeof(v));
	if (rc == CP_OK)
		rc = cp_auth_finish(a, &v, &err);
	if (rc == CP_OK) {
		if (v.ndmarcs > v.from.n || (v.ndmarcs > 0 &&
		    v.decided >= v.ndmarcs))
			abort();
		cp_buf_init(&b, 1 << 20);
		(void)cp_auth_render(&v, &env, "fuzz.example", "\r\n\t", &b,
		    &err);
		cp_buf_free(&b);
	}
	cp_auth_verdict_clear(&v);
	cp_auth_free(a);
	return 0;
}
