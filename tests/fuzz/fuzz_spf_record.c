/*
 * Fuzz target: the SPF record parser (src/auth/spf/spf_parse.c) on raw
 * bytes, then, for inputs that parse, check_host() with that record served
 * by the fake resolver (macros, mechanisms, limits, exp=) for an IPv4 and
 * an IPv6 client.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char zone[] =
    "$ORIGIN example.com.\n"
    "inc    TXT \"v=spf1 ip4:192.0.2.0/24 a mx ptr -all\"\n"
    "inc    A   192.0.2.1\n"
    "inc    MX  10 mx.example.com.\n"
    "mx     A   192.0.2.2\n"
    "mx     AAAA 2001:db8::2\n"
    "exp    TXT \"%{i} %{c} %{r} %{t} %{p} %{S} %{L2r-} %{o} %{d}\"\n"
    "slow   TIMEOUT\n"
    "2.2.0.192.in-addr.arpa. PTR mx.example.com.\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ips[] = { "192.0.2.2", "2001:db8::2" };
	cp_spf_record *rec = NULL;
	cp_spf_syntax syn;
	cp_err err;
	cp_dns *d;
	char *txt;

	if (cp_spf_parse_record((const char *)data, size, &rec, &syn, &err) !=
	    CP_OK)
		return 0;
	cp_spf_record_free(rec);
	if (size > 4096 || memchr(data, '\0', size) != NULL)
		return 0;
	d = cp_dns_new_fake();
	txt = d ? malloc(size + 1) : NULL;
	if (txt != NULL) {
		const char *strs[1] = { txt };

		memcpy(txt, data, size);
		txt[size] = '\0';
		if (cp_dns_fake_load_mem(d, zone, sizeof(zone) - 1, "fuzz", &err)
		    == CP_OK && cp_dns_fake_add_txt(d, "fuzz.example.com", strs,
		    1, &err) == CP_OK) {
			for (size_t i = 0; i < 2; i++) {
				cp_spf_query q = { ips[i], "a-b.c@fuzz.example.com",
					"helo.example.com", NULL };
				cp_spf_result res;
				cp_spf *spf = cp_spf_new(d, &err);

				if (spf == NULL)
					break;
				cp_spf_set_now(spf, 1);
				(void)cp_spf_check_host(spf, &q, &res, &err);
				cp_spf_result_clear(&res);
				cp_spf_free(spf);
			}
		}
	}
	free(txt);
	cp_dns_free(d);
	return 0;
}
