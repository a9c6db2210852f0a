/*
 * Fuzz target: the DMARC record parser (src/auth/dmarc/dmarc_parse.c).
 * A record that parses must render to text that parses to the same
 * record; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[2 * CP_DMARC_URI_MAX * (CP_DMARC_URI_LEN + 24) + 256];
	cp_dmarc_record rec, again;
	cp_err err;

	(void)cp_dmarc_is_record((const char *)data, size);
	if (cp_dmarc_parse_record((const char *)data, size, &rec, &err) != CP_OK)
		return 0;
	cp_dmarc_render_record(&rec, out, sizeof(out));
	if (cp_dmarc_parse_record(out, strlen(out), &again, &err) != CP_OK)
		abort();
	rec.seen = again.seen = 0;
	rec.ntags = again.ntags = 0;
	/* rf= with only unknown formats is not rendered */
	rec.rf_afrf = again.rf_afrf = 0;
	/* URIs past CP_DMARC_URI_MAX are counted, not kept */
	rec.nrua_all = again.nrua_all = 0;
	rec.nruf_all = again.nruf_all = 0;
	if (memcmp(&rec, &again, sizeof(rec)) != 0)
		abort();
	return 0;
}
