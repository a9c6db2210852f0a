/*
 * Unit tests: signing and verifying (dkim_sign.c, dkim_verify.c,
 * dkim_key.c) against the fake resolver and tests/data/dkim/test.zone:
 * every algorithm and canonicalization, each failure reason, several
 * signatures, over-signing, l=, streaming in pieces, key generation.
 */
#include <stdlib.h>
#include <string.h>

#include "coldpost/dkim.h"
#include "cptest.h"
#include "dkim_test.h"

/* Sign dt_msg (or msg) with one set of options; verify; return result 0. */
static cp_dkim_result
roundtrip(const cp_dkim_sign_opts *o, const char *msg, int64_t now,
    cp_dkim_status *msg_status)
{
	cp_buf out;
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;
	cp_dkim_result r;

	memset(&r, 0, sizeof(r));
	cp_buf_init(&out, 1 << 20);
	if (dt_sign(o, 1, msg ? msg : dt_msg, strlen(msg ? msg : dt_msg),
		&out) == CP_OK) {
		v = dt_verify(dns, now ? now : DT_NOW, out.data, out.len, 0);
		if (v && cp_dkim_verifier_count(v) == 1)
			r = *cp_dkim_verifier_result(v, 0);
		if (msg_status && v)
			*msg_status = cp_dkim_verifier_status(v);
		cp_dkim_verifier_free(v);
	}
	cp_buf_free(&out);
	cp_dns_free(dns);
	return r;
}

CP_TEST(dkim_sign_verify_matrix)
{
	static const struct {
		const char *key, *selector, *alg;
		int bits;
	} keys[] = {
		{ "dkim/keys/rsa2048.pem", "rsa", "rsa-sha256", 2048 },
		{ "dkim/keys/rsa2048.pkcs1.pem", "pkcs1", "rsa-sha256", 2048 },
		{ "dkim/keys/rsa4096.pem", "rsa4096", "rsa-sha256", 4096 },
		{ "dkim/keys/ed25519.pem", "ed", "ed25519-sha256", 256 },
		{ "dkim/rfc8463/rsa1024.pem", "test", "rsa-sha256", 1024 },
	};

	for (size_t k = 0; k < CP_NELEM(keys); k++) {
		cp_dkim_key *key = dt_key(keys[k].key);

		if (key == NULL)
			continue;
		CP_CHECK_INT(cp_dkim_key_bits(key), keys[k].bits);
		for (int c = 0; c < 4; c++) {
			cp_dkim_sign_opts o = dt_opts(key, keys[k].selector);
			cp_dkim_result r;
			char canon[32];

			if (k == 4)
				o.domain = "football.example.com";
			o.hcanon = (cp_dkim_canon)(c >> 1);
			o.bcanon = (cp_dkim_canon)(c & 1);
			r = roundtrip(&o, NULL, 0, NULL);
			snprintf(canon, sizeof(canon), "%s/%s",
			    cp_dkim_canon_name(o.hcanon),
			    cp_dkim_canon_name(o.bcanon));
			CP_CHECK(r.status == CP_DKIM_PASS, "%s %s: %s (%s)",
			    keys[k].key, canon, cp_dkim_status_name(r.status),
			    r.why);
			CP_CHECK_STR(r.alg, keys[k].alg);
			CP_CHECK_STR(r.canon, canon);
			CP_CHECK_STR(r.selector, keys[k].selector);
			CP_CHECK_INT(r.key_bits, keys[k].bits);
			CP_CHECK_INT(r.has_l, 0);
		}
		cp_dkim_key_free(key);
	}
}

/* Sign, apply an edit to the signed message, verify. */
static cp_dkim_result
tampered(const cp_dkim_sign_opts *o, const char *find, const char *repl)
{
	cp_buf out, ed;
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;
	cp_dkim_result r;
	char *at;

	memset(&r, 0, sizeof(r));
	cp_buf_init(&out, 1 << 20);
	cp_buf_init(&ed, 1 << 20);
	dt_sign(o, 1, dt_msg, strlen(dt_msg), &out);
	at = strstr(out.data, find);
	CP_CHECK(at != NULL, "'%s' not in the signed message", find);
	if (at) {
		cp_buf_add(&ed, out.data, (size_t)(at - out.data));
		cp_buf_adds(&ed, repl);
		cp_buf_adds(&ed, at + strlen(find));
		v = dt_verify(dns, DT_NOW, ed.data, ed.len, 0);
		if (v && cp_dkim_verifier_count(v) == 1)
			r = *cp_dkim_verifier_result(v, 0);
		cp_dkim_verifier_free(v);
	}
	cp_buf_free(&out);
	cp_buf_free(&ed);
	cp_dns_free(dns);
	return r;
}

#define CHECK_REASON(r, st, rs, text)                                        \
	do {                                                                 \
		CP_CHECK((r).status == (st) && (r).reason == (rs),           \
		    "got %s/%s (%s), want %s/%s", cp_dkim_status_name((r).status), \
		    cp_dkim_reason_name((r).reason), (r).why,                \
		    cp_dkim_status_name(st), cp_dkim_reason_name(rs));       \
		CP_CHECK(strstr((r).why, text) != NULL, "why '%s' lacks '%s'", \
		    (r).why, text);                                          \
	} while (0)

CP_TEST(dkim_verify_failure_reasons)
{
	cp_dkim_key *rsa = dt_key("dkim/keys/rsa2048.pem");
	cp_dkim_key *ed = dt_key("dkim/keys/ed25519.pem");
	cp_dkim_sign_opts o;
	cp_dkim_result r;
	cp_dkim_status st;

	o = dt_opts(rsa, "rsa");
	for (int c = 0; c < 2; c++) {
		o.hcanon = o.bcanon = (cp_dkim_canon)c;
		r = tampered(&o, "the  numbers", "the  Numbers");
		CHECK_REASON(r, CP_DKIM_FAIL, CP_DKIM_EBODYHASH,
		    "body hash mismatch");
		r = tampered(&o, "Subject: Quarterly", "Subject: Quarterlx");
		CHECK_REASON(r, CP_DKIM_FAIL, CP_DKIM_ESIGNATURE, "bad signature");
		r = tampered(&o, "Alice\r\n\r\n\r\n", "Alice\r\n\r\nP.S. added\r\n");
		CHECK_REASON(r, CP_DKIM_FAIL, CP_DKIM_EBODYHASH, "body hash");
	}
	/* what canonicalization forgives */
	o.hcanon = o.bcanon = CP_DKIM_RELAXED;
	r = tampered(&o, "Subject: Quarterly", "SUBJECT:   Quarterly");
	CP_CHECK(r.status == CP_DKIM_PASS, "relaxed header: %s", r.why);
	r = tampered(&o, "in.\t \r\n", "in.\r\n");
	CP_CHECK(r.status == CP_DKIM_PASS, "relaxed body: %s", r.why);
	r = tampered(&o, "X-Mailer: coldpost tests", "X-Mailer: changed");
	CP_CHECK(r.status == CP_DKIM_PASS, "unsigned field: %s", r.why);
	o.hcanon = o.bcanon = CP_DKIM_SIMPLE;
	r = tampered(&o, "Subject: Quarterly", "Subject:  Quarterly");
	CHECK_REASON(r, CP_DKIM_FAIL, CP_DKIM_ESIGNATURE, "bad signature");

	o = dt_opts(rsa, "revoked");
	r = roundtrip(&o, NULL, 0, &st);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_REVOKED, "key revoked");
	CP_CHECK_INT(st, CP_DKIM_FAIL);
	o = dt_opts(rsa, "nokey");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_NOTFOUND,
	    "nokey._domainkey.example.com (nxdomain)");
	o = dt_opts(rsa, "short");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_SHORT,
	    "512-bit RSA key");
	o = dt_opts(rsa, "slow");
	r = roundtrip(&o, NULL, 0, &st);
	CHECK_REASON(r, CP_DKIM_TEMPERROR, CP_DKIM_EKEY_TEMP, "key lookup");
	CP_CHECK_INT(st, CP_DKIM_TEMPERROR);
	o = dt_opts(rsa, "ed");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_ALG,
	    "a=rsa-sha256, key at ed._domainkey.example.com has k=ed25519");
	o = dt_opts(ed, "rsa");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_ALG, "k=rsa");
	o = dt_opts(rsa, "wrongtype");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_SYNTAX,
	    "not a valid RSA public key");
	o = dt_opts(rsa, "broken");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_SYNTAX, "bad base64");
	o = dt_opts(ed, "vlater");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_SYNTAX, "first tag");
	o = dt_opts(ed, "sha1only");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_ALG, "sha256");
	o = dt_opts(ed, "otherservice");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_SERVICE, "email");
	o = dt_opts(rsa, "other");
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_FAIL, CP_DKIM_ESIGNATURE, "does not verify");

	/* time: x= in the past, t= in the future */
	o = dt_opts(ed, "ed");
	o.timestamp = DT_NOW - 7200;
	o.expire = 3600;
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EEXPIRED, "3600 s ago");
	r = roundtrip(&o, NULL, DT_NOW - 7200 + 3000, NULL);
	CP_CHECK(r.status == CP_DKIM_PASS, "before x=: %s", r.why);
	o.timestamp = DT_NOW + 3600;
	o.expire = 0;
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EFUTURE, "in the future");
	o.timestamp = DT_NOW + 200; /* within the default skew of 300 s */
	r = roundtrip(&o, NULL, 0, NULL);
	CP_CHECK(r.status == CP_DKIM_PASS, "small skew: %s", r.why);

	/* keys that work with a twist */
	o = dt_opts(ed, "testing");
	r = roundtrip(&o, NULL, 0, NULL);
	CP_CHECK(r.status == CP_DKIM_PASS && r.testing == 1, "t=y: %s", r.why);
	o = dt_opts(ed, "emailonly");
	r = roundtrip(&o, NULL, 0, NULL);
	CP_CHECK(r.status == CP_DKIM_PASS, "s=email: %s", r.why);
	o = dt_opts(ed, "twice"); /* the first record that parses */
	r = roundtrip(&o, NULL, 0, NULL);
	CP_CHECK(r.status == CP_DKIM_PASS, "two records: %s", r.why);
	o = dt_opts(ed, "strict");
	o.identity = "news@example.com";
	r = roundtrip(&o, NULL, 0, NULL);
	CP_CHECK(r.status == CP_DKIM_PASS, "t=s, i= at d=: %s", r.why);
	CP_CHECK_STR(r.identity, "news@example.com");
	o.identity = "news@mail.example.com";
	r = roundtrip(&o, NULL, 0, NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EKEY_STRICT, "t=s");
	o = dt_opts(ed, "ed");
	o.identity = "news@mail.example.com"; /* fine without t=s */
	r = roundtrip(&o, NULL, 0, NULL);
	CP_CHECK(r.status == CP_DKIM_PASS, "i= subdomain: %s", r.why);
	cp_dkim_key_free(rsa);
	cp_dkim_key_free(ed);
}

static cp_dkim_result
verify_text(const char *msg, cp_dkim_status *st)
{
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v = dt_verify(dns, DT_NOW, msg, strlen(msg), 0);
	cp_dkim_result r;

	memset(&r, 0, sizeof(r));
	if (v && cp_dkim_verifier_count(v) > 0)
		r = *cp_dkim_verifier_result(v, 0);
	if (st && v)
		*st = cp_dkim_verifier_status(v);
	cp_dkim_verifier_free(v);
	cp_dns_free(dns);
	return r;
}

CP_TEST(dkim_verify_broken_fields)
{
	cp_dkim_result r;
	cp_dkim_status st = CP_DKIM_PASS;

	r = verify_text("From: a@example.com\r\n\r\nbody\r\n", &st);
	CP_CHECK_INT(st, CP_DKIM_NONE);
	r = verify_text("DKIM-Signature: v=1; a=rsa-sha1; d=example.com; s=rsa;"
			" h=from; bh=AAAA; b=AAAA\r\nFrom: a@example.com\r\n\r\n",
	    &st);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EALG, "RFC 8301");
	CP_CHECK_INT(st, CP_DKIM_FAIL);
	r = verify_text("DKIM-Signature: v=1; a=rsa-sha512; d=example.com; "
			"s=rsa; h=from; bh=AAAA; b=AAAA\r\nFrom: a@example.com\r\n\r\n",
	    NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EALG, "a=rsa-sha512");
	r = verify_text("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; "
			"s=rsa; h=to; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; "
			"b=AAAA\r\nFrom: a@example.com\r\n\r\n",
	    NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EFROM, "From");
	r = verify_text("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; "
			"s=rsa; h=from; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"
			" b=AA!A\r\nFrom: a@example.com\r\n\r\n",
	    NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_ESYNTAX,
	    "syntax error in tag b=");
	CP_CHECK_STR(r.domain, "example.com"); /* reported as far as parsed */
	r = verify_text("DKIM-Signature: v=1; d=example.com; s=rsa; h=from; "
			"bh=AAAA; b=AAAA\r\nFrom: a@example.com\r\n\r\n", NULL);
	CHECK_REASON(r, CP_DKIM_PERMERROR, CP_DKIM_EMISSING, "a=");
}

CP_TEST(dkim_verify_l_tag)
{
	size_t len;
	char *msg = dt_read("dkim/l-tag.eml", &len);
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;
	const cp_dkim_result *r;
	cp_buf ext;
	int64_t now = 1795823874 + 100; /* the signature's t= */

	/* signed by dkimpy with l=44: the body as signed */
	v = dt_verify(dns, now, msg, len, 0);
	r = cp_dkim_verifier_result(v, 0);
	CP_CHECK(r->status == CP_DKIM_PASS, "%s", r->why);
	CP_CHECK(r->has_l && r->l == 44 && r->body_len == 44, "l=%llu body %llu",
	    (unsigned long long)r->l, (unsigned long long)r->body_len);
	cp_dkim_verifier_free(v);
	/* something appended: still passes, and the report shows it */
	cp_buf_init(&ext, 1 << 20);
	cp_buf_add(&ext, msg, len);
	cp_buf_adds(&ext, "Appended by someone else.\r\n");
	v = dt_verify(dns, now, ext.data, ext.len, 5);
	r = cp_dkim_verifier_result(v, 0);
	CP_CHECK(r->status == CP_DKIM_PASS, "%s", r->why);
	CP_CHECK(r->has_l && r->l == 44 && r->body_len == 44 + 27,
	    "body %llu", (unsigned long long)r->body_len);
	cp_dkim_verifier_free(v);
	/* cut short: l= larger than the body */
	v = dt_verify(dns, now, msg, len - 14, 0);
	r = cp_dkim_verifier_result(v, 0);
	CP_CHECK(r->status == CP_DKIM_FAIL && r->reason == CP_DKIM_EBODYLEN,
	    "%s", r->why);
	cp_dkim_verifier_free(v);
	cp_buf_free(&ext);
	cp_dns_free(dns);
	free(msg);
}

CP_TEST(dkim_oversigning)
{
	cp_dkim_key *ed = dt_key("dkim/keys/ed25519.pem");
	cp_dkim_sign_opts o = dt_opts(ed, "ed");
	cp_dkim_result r;
	cp_buf out;

	/* the default h=: From/To/Subject/Date once more than present */
	cp_buf_init(&out, 1 << 20);
	dt_sign(&o, 1, dt_msg, strlen(dt_msg), &out);
	{
		char *u = malloc(out.len + 1);
		size_t k = 0;

		for (size_t i = 0; i < out.len; i++) /* unfold */
			if (out.data[i] != '\r' && out.data[i] != '\n' &&
			    !(i > 0 && out.data[i] == ' ' && out.data[i - 1] == '\n'))
				u[k++] = out.data[i];
		u[k] = '\0';
		CP_CHECK(strstr(u, "h=from:from:subject:subject:date:date:"
				   "message-id:to:to:mime-version:content-type;") !=
			NULL, "h= in:\n%s", u);
		free(u);
	}
	CP_CHECK(strstr(out.data, "x-mailer") == NULL, "x-mailer signed");
	CP_CHECK(strstr(out.data, " l=") == NULL, "l= written");
	cp_buf_free(&out);
	/* a second From, Subject, To or Date added anywhere breaks it */
	r = tampered(&o, "From: Alice", "From: Mallory <m@evil.example>\r\nFrom: Alice");
	CHECK_REASON(r, CP_DKIM_FAIL, CP_DKIM_ESIGNATURE, "bad signature");
	r = tampered(&o, "X-Mailer:", "Subject: Urgent\r\nX-Mailer:");
	CHECK_REASON(r, CP_DKIM_FAIL, CP_DKIM_ESIGNATURE, "bad signature");
	r = tampered(&o, "X-Mailer:", "To: eve@example.org\r\nX-Mailer:");
	CHECK_REASON(r, CP_DKIM_FAIL, CP_DKIM_ESIGNATURE, "bad signature");
	/* an unsigned field may come and go */
	r = tampered(&o, "X-Mailer:", "Received: by relay\r\nX-Mailer:");
	CP_CHECK(r.status == CP_DKIM_PASS, "Received added: %s", r.why);
	/*
	 * the caller's h= is taken as written: without over-signing a From
	 * added on top goes unnoticed (the verifier, like the signer, takes
	 * the bottom one), which is what over-signing is for
	 */
	o.headers = "from:to:subject";
	r = tampered(&o, "From: Alice", "From: Mallory <m@evil.example>\r\nFrom: Alice");
	CP_CHECK(r.status == CP_DKIM_PASS, "From on top, no over-signing: %s",
	    r.why);
	r = tampered(&o, "X-Mailer:", "From: Mallory <m@evil.example>\r\nX-Mailer:");
	CP_CHECK(r.status == CP_DKIM_FAIL, "signer picks bottom-up: %s", r.why);
	cp_dkim_key_free(ed);
}

CP_TEST(dkim_several_signatures)
{
	cp_dkim_key *rsa = dt_key("dkim/keys/rsa2048.pem");
	cp_dkim_key *ed = dt_key("dkim/keys/ed25519.pem");
	cp_dkim_key *other = dt_key("dkim/keys/rsa2048-other.pem");
	cp_dkim_sign_opts o[3];
	cp_buf out;
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;

	o[0] = dt_opts(rsa, "rsa");
	o[1] = dt_opts(ed, "ed");
	o[1].hcanon = o[1].bcanon = CP_DKIM_SIMPLE;
	o[2] = dt_opts(other, "rsa"); /* a key that does not match */
	cp_buf_init(&out, 1 << 20);
	dt_sign(o, 3, dt_msg, strlen(dt_msg), &out);
	v = dt_verify(dns, DT_NOW, out.data, out.len, 0);
	CP_CHECK_INT(cp_dkim_verifier_count(v), 3);
	if (cp_dkim_verifier_count(v) == 3) {
		CP_CHECK_INT(cp_dkim_verifier_result(v, 0)->status, CP_DKIM_PASS);
		CP_CHECK_STR(cp_dkim_verifier_result(v, 0)->alg, "rsa-sha256");
		CP_CHECK_INT(cp_dkim_verifier_result(v, 1)->status, CP_DKIM_PASS);
		CP_CHECK_STR(cp_dkim_verifier_result(v, 1)->canon, "simple/simple");
		CP_CHECK_INT(cp_dkim_verifier_result(v, 2)->reason,
		    CP_DKIM_ESIGNATURE);
	}
	CP_CHECK_INT(cp_dkim_verifier_status(v), CP_DKIM_PASS);
	cp_dkim_verifier_free(v);
	cp_buf_free(&out);
	cp_dkim_key_free(rsa);
	cp_dkim_key_free(ed);
	cp_dkim_key_free(other);
	cp_dns_free(dns);
}

CP_TEST(dkim_verify_limits_signatures)
{
	cp_dkim_key *ed = dt_key("dkim/keys/ed25519.pem");
	cp_dkim_sign_opts o[20];
	cp_buf out;
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;

	for (int i = 0; i < 20; i++)
		o[i] = dt_opts(ed, "ed");
	cp_buf_init(&out, 1 << 20);
	dt_sign(o, 20, dt_msg, strlen(dt_msg), &out);
	v = dt_verify(dns, DT_NOW, out.data, out.len, 0);
	CP_CHECK_INT(cp_dkim_verifier_count(v), 20);
	CP_CHECK_INT(cp_dkim_verifier_result(v, 15)->status, CP_DKIM_PASS);
	CP_CHECK_INT(cp_dkim_verifier_result(v, 16)->reason, CP_DKIM_ETOOMANY);
	CP_CHECK_INT(cp_dkim_verifier_status(v), CP_DKIM_PASS);
	cp_dkim_verifier_free(v);
	cp_buf_free(&out);
	cp_dkim_key_free(ed);
	cp_dns_free(dns);
}

CP_TEST(dkim_streaming_api)
{
	cp_dkim_key *rsa = dt_key("dkim/keys/rsa2048.pem");
	cp_dkim_sign_opts o = dt_opts(rsa, "rsa");
	cp_dkim_signer *s;
	cp_buf a, b, msg;
	cp_err err = { 0 };
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;
	static const char *const hdrs[] = {
		"From: a@example.com\r\n", "To: b@example.net\r\n",
		"Subject: streamed\r\n",
	};
	size_t body_len = 1024 * 1024;
	char *bodytext = malloc(body_len);

	for (size_t i = 0; i < body_len; i++)
		bodytext[i] = (i % 71 == 70) ? '\n' : "Lorem ipsum  dolor\r"[i % 19];
	cp_buf_init(&msg, 4 << 20);
	for (size_t i = 0; i < CP_NELEM(hdrs); i++)
		cp_buf_adds(&msg, hdrs[i]);
	cp_buf_adds(&msg, "\r\n");
	cp_buf_add(&msg, bodytext, body_len);

	/* fields, eoh, body in 4 KB pieces */
	cp_buf_init(&a, 4 << 20);
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_OK);
	for (size_t i = 0; i < CP_NELEM(hdrs); i++)
		CP_CHECK_INT(cp_dkim_signer_header(s, hdrs[i], strlen(hdrs[i]),
				 &err), CP_OK);
	CP_CHECK_INT(cp_dkim_signer_eoh(s, &err), CP_OK);
	for (size_t i = 0; i < body_len; i += 4096)
		cp_dkim_signer_body(s, bodytext + i, CP_MIN(4096, body_len - i),
		    &err);
	CP_CHECK_INT(cp_dkim_signer_finish(s, "\r\n", &a, &err), CP_OK);
	cp_dkim_signer_free(s);
	/* the raw message through write, in odd pieces */
	cp_buf_init(&b, 1 << 20);
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_OK);
	for (size_t i = 0; i < msg.len; i += 999)
		cp_dkim_signer_write(s, msg.data + i, CP_MIN(999, msg.len - i),
		    &err);
	CP_CHECK_INT(cp_dkim_signer_finish(s, "\r\n", &b, &err), CP_OK);
	cp_dkim_signer_free(s);
	CP_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
	    "streams differ:\n%s\n%s", a.data, b.data);
	/* verify in 4 KB pieces */
	cp_buf_add(&a, msg.data, msg.len);
	v = dt_verify(dns, DT_NOW, a.data, a.len, 4096);
	CP_CHECK(cp_dkim_verifier_status(v) == CP_DKIM_PASS, "%s",
	    cp_dkim_verifier_count(v) ? cp_dkim_verifier_result(v, 0)->why : "");
	cp_dkim_verifier_free(v);
	cp_buf_free(&a);
	cp_buf_free(&b);
	cp_buf_free(&msg);
	free(bodytext);
	cp_dkim_key_free(rsa);
	cp_dns_free(dns);
}

CP_TEST(dkim_lf_messages)
{
	cp_dkim_key *ed = dt_key("dkim/keys/ed25519.pem");
	cp_dkim_sign_opts o = dt_opts(ed, "ed");
	const char *lf = "From: a@example.com\nSubject: unix\n\nline one\nline two\n";
	cp_dkim_signer *s;
	cp_buf out;
	cp_err err = { 0 };
	cp_dns *dns = dt_dns();
	cp_dkim_verifier *v;
	size_t clen;
	char *crlf;

	for (int c = 0; c < 2; c++) {
		o.hcanon = o.bcanon = (cp_dkim_canon)c;
		cp_buf_init(&out, 1 << 20);
		CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_OK);
		cp_dkim_signer_write(s, lf, strlen(lf), &err);
		CP_CHECK_INT(cp_dkim_signer_finish(s, "\n", &out, &err), CP_OK);
		cp_dkim_signer_free(s);
		CP_CHECK(strchr(out.data, '\r') == NULL, "CR in an LF signature");
		cp_buf_adds(&out, lf);
		v = dt_verify(dns, DT_NOW, out.data, out.len, 0);
		CP_CHECK(cp_dkim_verifier_status(v) == CP_DKIM_PASS, "LF: %s",
		    cp_dkim_verifier_result(v, 0)->why);
		cp_dkim_verifier_free(v);
		/* the same message converted to CRLF, as an MTA would */
		crlf = dt_crlf(out.data, out.len, &clen);
		v = dt_verify(dns, DT_NOW, crlf, clen, 0);
		CP_CHECK(cp_dkim_verifier_status(v) == CP_DKIM_PASS, "CRLF: %s",
		    cp_dkim_verifier_result(v, 0)->why);
		cp_dkim_verifier_free(v);
		free(crlf);
		cp_buf_free(&out);
	}
	cp_dkim_key_free(ed);
	cp_dns_free(dns);
}

CP_TEST(dkim_signer_refuses)
{
	cp_dkim_key *rsa = dt_key("dkim/keys/rsa2048.pem");
	cp_dkim_sign_opts o;
	cp_dkim_signer *s = NULL;
	cp_dkim_key *k = NULL;
	cp_err err = { 0 };
	cp_buf out;
	char path[1024];

	o = dt_opts(rsa, "rsa");
	o.alg = CP_DKIM_ED25519_SHA256;
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "does not fit") != NULL, "%s", err.msg);
	o = dt_opts(rsa, "rsa");
	o.domain = "bad domain";
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_EINVAL);
	o = dt_opts(rsa, "_bad");
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_EINVAL);
	o = dt_opts(rsa, "rsa");
	o.headers = "to:subject";
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "From") != NULL, "%s", err.msg);
	o.headers = "from::to";
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_EINVAL);
	o.headers = "from:to;x=y";
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_EINVAL);
	o = dt_opts(rsa, "rsa");
	o.identity = "x@example.org";
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_EINVAL);
	/* a message without From */
	o = dt_opts(rsa, "rsa");
	CP_CHECK_INT(cp_dkim_signer_new(&o, 1, &s, &err), CP_OK);
	CP_CHECK_INT(cp_dkim_signer_write(s, "To: x@example.com\r\n\r\nhi\r\n", 25,
			 &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "no From") != NULL, "%s", err.msg);
	cp_dkim_signer_free(s);
	/* keys: too short to sign with, not a key, missing file */
	snprintf(path, sizeof(path), "%s/dkim/keys/rsa512.pem",
	    cptest_data_dir());
	CP_CHECK_INT(cp_dkim_key_load(path, &k, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "512 bits") != NULL, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/dkim/test.zone", cptest_data_dir());
	CP_CHECK_INT(cp_dkim_key_load(path, &k, &err), CP_EINVAL);
	CP_CHECK_INT(cp_dkim_key_load("/nonexistent/key.pem", &k, &err), CP_EIO);
	/* dkimpy's ed25519 key file: the base64 seed */
	snprintf(path, sizeof(path), "%s/dkim/rfc8463/ed25519.seed.b64",
	    cptest_data_dir());
	CP_CHECK_INT(cp_dkim_key_load(path, &k, &err), CP_OK);
	CP_CHECK(k && cp_dkim_key_type(k) == CP_DKIM_KEY_ED25519, "seed key");
	if (k) {
		cp_buf_init(&out, 4096);
		cp_dkim_key_record(k, &out, &err);
		CP_CHECK_STR(out.data, "v=DKIM1; k=ed25519; "
				       "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
		cp_buf_free(&out);
	}
	cp_dkim_key_free(k);
	cp_dkim_key_free(rsa);
}

CP_TEST(dkim_keygen_roundtrip)
{
	static const struct {
		cp_dkim_keytype t;
		int bits;
	} kinds[] = { { CP_DKIM_KEY_RSA, 1024 }, { CP_DKIM_KEY_ED25519, 0 } };

	for (size_t i = 0; i < CP_NELEM(kinds); i++) {
		cp_dkim_key *k = NULL, *k2 = NULL;
		cp_err err = { 0 };
		cp_buf rec, pem, out;
		cp_dkim_keyrec kr;
		cp_dkim_sign_opts o;
		cp_dns *dns = cp_dns_new_fake();
		cp_dkim_verifier *v;

		CP_CHECK_INT(cp_dkim_key_generate(kinds[i].t, kinds[i].bits, &k,
				 &err), CP_OK);
		if (k == NULL)
			continue;
		cp_buf_init(&rec, 8192);
		cp_buf_init(&pem, 16384);
		CP_CHECK_INT(cp_dkim_key_record(k, &rec, &err), CP_OK);
		CP_CHECK_INT(cp_dkim_parse_keyrec(rec.data, rec.len, &kr, &err),
		    CP_OK);
		CP_CHECK_INT(kr.k, kinds[i].t);
		/* the PEM reads back as the same key */
		CP_CHECK_INT(cp_dkim_key_pem(k, &pem, &err), CP_OK);
		CP_CHECK(strstr(pem.data, "-----BEGIN PRIVATE KEY-----") != NULL,
		    "PKCS#8");
		CP_CHECK_INT(cp_dkim_key_from_pem(pem.data, pem.len, &k2, &err),
		    CP_OK);
		cp_dns_fake_add(dns, "gen._domainkey.example.com", CP_DNS_TXT,
		    rec.data, &err);
		o = dt_opts(k2, "gen");
		cp_buf_init(&out, 1 << 20);
		dt_sign(&o, 1, dt_msg, strlen(dt_msg), &out);
		v = dt_verify(dns, DT_NOW, out.data, out.len, 0);
		CP_CHECK(cp_dkim_verifier_status(v) == CP_DKIM_PASS, "%s",
		    cp_dkim_verifier_result(v, 0)->why);
		cp_dkim_verifier_free(v);
		cp_buf_free(&out);
		cp_buf_free(&rec);
		cp_buf_wipe(&pem);
		cp_dkim_key_free(k);
		cp_dkim_key_free(k2);
		cp_dns_free(dns);
	}
	{
		cp_dkim_key *k = NULL;
		cp_err err = { 0 };

		CP_CHECK_INT(cp_dkim_key_generate(CP_DKIM_KEY_RSA, 512, &k, &err),
		    CP_EINVAL);
		CP_CHECK_INT(cp_dkim_key_generate(CP_DKIM_KEY_RSA, 8192, &k, &err),
		    CP_EINVAL);
	}
}
