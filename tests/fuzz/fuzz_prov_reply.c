/*
 * Fuzz target: replies to RFC 2136 UPDATE messages (src/provision/
 * provision_update.c, cp_prov_reply_parse), TSIG verification included.
 * Input: one byte N, N bytes of the request's TSIG MAC (N = 0: the request
 * was not signed), then the reply message as the server sent it. The
 * reply is checked against its own id (so the id test passes and the
 * parser goes on) and against a fixed id, with the key of the seeds and
 * without a key. Also the --tsig and --server parsers on the same bytes.
 * Seeds: real replies of Knot DNS (tests/fuzz/update_capture.py): signed
 * NOERROR, BADSIG, BADKEY, unsigned REFUSED/NOTAUTH, a zone not served.
 */
#include <stdint.h>
#include <string.h>

#include "coldpost/provision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const cp_prov_tsig key = { "cp-fuzz-key", "hmac-sha256",
		"Y29sZHBvc3QtZnV6ei1zZWNyZXQ=" };
	cp_prov_reply rep;
	cp_prov_tsig t;
	cp_prov_server srv;
	char spec[600];
	size_t n, off;
	uint16_t id;

	if (size == 0)
		return 0;
	n = data[0];
	off = 1 + n;
	if (off > size)
		return 0;
	id = size >= off + 2 ? (uint16_t)(data[off] << 8 | data[off + 1]) : 0;
	(void)cp_prov_reply_parse(data + off, size - off, id, &key,
	    n ? data + 1 : NULL, n, &rep, NULL);
	(void)cp_prov_reply_parse(data + off, size - off, 4242, NULL, NULL, 0,
	    &rep, NULL);
	n = size - 1 < sizeof(spec) - 1 ? size - 1 : sizeof(spec) - 1;
	memcpy(spec, data + 1, n);
	spec[n] = '\0';
	(void)cp_prov_tsig_parse(spec, &t, NULL);
	(void)cp_prov_server_parse(spec, &srv, NULL);
	return 0;
}
