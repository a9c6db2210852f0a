/*
 * Unit tests: the RFC 8463 Appendix A example (ed25519-sha256 and
 * rsa-sha256, relaxed/relaxed), and dkimpy's simple/simple variant of it:
 * verifying the published signatures, and signing the unsigned message
 * with the same keys and tags to get the same b= (Ed25519 and RSASSA
 * PKCS#1 v1.5 are both deterministic).
 */
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/dkim.h"
#include "coldpost/msg.h"
#include "cptest.h"
#include "dkim_test.h"

#define A3_T 1528637909
#define A3_H "from : to : subject : date : message-id : from : subject : date"

typedef struct fields {
	char *v[8];
	size_t n;
} fields;

static int
keep_sig(void *arg, const char *f, size_t len)
{
	fields *fs = arg;
	size_t nl = cp_msg_field_name(f, len);

	if (nl == 14 && strncasecmp(f, "DKIM-Signature", 14) == 0 && fs->n < 8)
		fs->v[fs->n++] = strndup(f + 15, len - 15);
	return 0;
}

/* The DKIM-Signature values of a message, parsed. */
static size_t
sigs_of(const char *msg, size_t len, cp_dkim_sig *out, size_t max)
{
	cp_msg_split sp;
	fields fs = { { 0 }, 0 };
	size_t off, n = 0;
	cp_err err = { 0 };

	cp_msg_split_init(&sp, 0);
	CP_CHECK_INT(cp_msg_split_feed(&sp, msg, len, &off, keep_sig, &fs, &err),
	    CP_OK);
	cp_msg_split_clear(&sp);
	for (size_t i = 0; i < fs.n; i++) {
		if (n < max) {
			CP_CHECK(cp_dkim_parse_sig(fs.v[i], strlen(fs.v[i]), &out[n],
			    NULL, &err) == CP_OK, "parse: %s", err.msg);
			n++;
		}
		free(fs.v[i]);
	}
	return n;
}

static void
check_all_pass(cp_dkim_verifier *v, size_t want)
{
	CP_CHECK(v != NULL, "no verifier");
	if (v == NULL)
		return;
	CP_CHECK_INT(cp_dkim_verifier_count(v), want);
	for (size_t i = 0; i < cp_dkim_verifier_count(v); i++) {
		const cp_dkim_result *r = cp_dkim_verifier_result(v, i);

		CP_CHECK(r->status == CP_DKIM_PASS, "signature %zu (%s, s=%s): %s",
		    i, r->alg, r->selector, r->why);
	}
	CP_CHECK_INT(cp_dkim_verifier_status(v), CP_DKIM_PASS);
}

CP_TEST(dkim_rfc8463_signatures_verify)
{
	size_t len;
	char *msg = dt_read("dkim/rfc8463/signed.eml", &len);
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;
	const cp_dkim_result *r;

	v = dt_verify(dns, A3_T + 3600, msg, len, 0);
	check_all_pass(v, 2);
	r = cp_dkim_verifier_result(v, 0);
	CP_CHECK_STR(r->alg, "ed25519-sha256");
	CP_CHECK_STR(r->selector, "brisbane");
	CP_CHECK_STR(r->domain, "football.example.com");
	CP_CHECK_STR(r->canon, "relaxed/relaxed");
	CP_CHECK_INT(r->key_bits, 256);
	r = cp_dkim_verifier_result(v, 1);
	CP_CHECK_STR(r->alg, "rsa-sha256");
	CP_CHECK_INT(r->key_bits, 1024);
	cp_dkim_verifier_free(v);
	/* byte by byte: the streaming path gives the same verdicts */
	v = dt_verify(dns, A3_T + 3600, msg, len, 1);
	check_all_pass(v, 2);
	cp_dkim_verifier_free(v);
	v = dt_verify(dns, A3_T + 3600, msg, len, 7);
	check_all_pass(v, 2);
	cp_dkim_verifier_free(v);
	cp_dns_free(dns);
	free(msg);
}

CP_TEST(dkim_rfc8463_signing_reproduces_b)
{
	size_t len, slen;
	char *msg = dt_read("dkim/rfc8463/unsigned.eml", &len);
	char *signed_msg = dt_read("dkim/rfc8463/signed.eml", &slen);
	cp_dkim_key *ed = dt_key("dkim/rfc8463/ed25519.pem");
	cp_dkim_key *rsa = dt_key("dkim/rfc8463/rsa1024.pem");
	cp_dkim_sign_opts o[2];
	cp_dkim_sig want[2], got[2];
	cp_buf out;
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;

	memset(o, 0, sizeof(o));
	for (int i = 0; i < 2; i++) {
		o[i].key = i == 0 ? ed : rsa;
		o[i].domain = "football.example.com";
		o[i].selector = i == 0 ? "brisbane" : "test";
		o[i].identity = "@football.example.com";
		o[i].hcanon = o[i].bcanon = CP_DKIM_RELAXED;
		o[i].headers = A3_H;
		o[i].timestamp = A3_T;
		o[i].query_tag = 1;
	}
	o[1].alg = CP_DKIM_RSA_SHA256;
	cp_buf_init(&out, 1 << 20);
	CP_CHECK_INT(dt_sign(o, 2, msg, len, &out), CP_OK);
	CP_CHECK_INT(sigs_of(signed_msg, slen, want, 2), 2);
	CP_CHECK_INT(sigs_of(out.data, out.len, got, 2), 2);
	for (int i = 0; i < 2; i++) {
		CP_CHECK(got[i].bhlen == 32 &&
		    memcmp(got[i].bh, want[i].bh, 32) == 0, "sig %d: bh differs",
		    i);
		CP_CHECK(got[i].blen == want[i].blen &&
		    memcmp(got[i].b, want[i].b, want[i].blen) == 0,
		    "sig %d (%s): b= differs from RFC 8463 A.3", i,
		    got[i].a_name);
		cp_dkim_sig_clear(&want[i]);
		cp_dkim_sig_clear(&got[i]);
	}
	/* and what we wrote verifies */
	v = dt_verify(dns, A3_T + 60, out.data, out.len, 0);
	check_all_pass(v, 2);
	cp_dkim_verifier_free(v);
	cp_buf_free(&out);
	cp_dkim_key_free(ed);
	cp_dkim_key_free(rsa);
	cp_dns_free(dns);
	free(msg);
	free(signed_msg);
}

CP_TEST(dkim_dkimpy_simple_variant)
{
	size_t len, clen;
	char *lf = dt_read("dkim/dkimpy/rfc8463-draft-simple.signed.eml", &len);
	char *crlf = dt_crlf(lf, len, &clen);
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;
	const cp_dkim_result *r;

	v = dt_verify(dns, DT_NOW, crlf, clen, 0);
	check_all_pass(v, 2);
	r = cp_dkim_verifier_result(v, 0);
	CP_CHECK_STR(r->canon, "simple/simple");
	cp_dkim_verifier_free(v);
	/* the LF file as it is: bare LF is taken for CRLF */
	v = dt_verify(dns, DT_NOW, lf, len, 3);
	check_all_pass(v, 2);
	cp_dkim_verifier_free(v);
	/* one changed byte in the body */
	crlf[clen - 5] = 'X';
	v = dt_verify(dns, DT_NOW, crlf, clen, 0);
	r = cp_dkim_verifier_result(v, 0);
	CP_CHECK_INT(r->reason, CP_DKIM_EBODYHASH);
	CP_CHECK_INT(cp_dkim_verifier_status(v), CP_DKIM_FAIL);
	cp_dkim_verifier_free(v);
	cp_dns_free(dns);
	free(lf);
	free(crlf);
}
