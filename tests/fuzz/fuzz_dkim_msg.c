/*
 * Fuzz target: a whole message through the DKIM verifier (header
 * splitting, DKIM-Signature parsing, canonicalization, key records), with
 * a fake resolver that knows one ed25519 and one RSA key. The input is
 * fed in two pieces, split at a point taken from its first byte, so the
 * streaming paths are exercised too.
 */
#include <stdint.h>

#include "coldpost/dkim.h"
#include "coldpost/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cp_dns *dns;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cp_dkim_verify_opts o = { 0 };
	cp_dkim_verifier *v = NULL;
	cp_err err;
	size_t cut;

	if (dns == NULL) {
		dns = cp_dns_new_fake();
		cp_dns_fake_add(dns, "ed._domainkey.example.com", CP_DNS_TXT,
		    "v=DKIM1; k=ed25519; "
		    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", &err);
		cp_dns_fake_add(dns, "rsa._domainkey.example.com", CP_DNS_TXT,
		    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkH"
		    "lOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx"
		    "/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4"
		    "hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
		    &err);
	}
	if (size < 1)
		return 0;
	cut = size > 1 ? data[0] % size : 0;
	o.dns = dns;
	o.now = 1600000000;
	if (cp_dkim_verifier_new(&o, &v, &err) != CP_OK)
		return 0;
	if (cp_dkim_verifier_write(v, (const char *)data, cut, &err) == CP_OK &&
	    cp_dkim_verifier_write(v, (const char *)data + cut, size - cut,
		&err) == CP_OK &&
	    cp_dkim_verifier_finish(v, &err) == CP_OK) {
		for (size_t i = 0; i < cp_dkim_verifier_count(v); i++)
			(void)cp_dkim_verifier_result(v, i)->status;
		(void)cp_dkim_verifier_status(v);
	}
	cp_dkim_verifier_free(v);
	return 0;
}
