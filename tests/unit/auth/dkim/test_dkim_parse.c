/*
 * Unit tests: DKIM-Signature and key record parsing (dkim_parse.c),
 * RFC 6376 3.2, 3.5, 3.6.1.
 */
#include <string.h>

#include "coldpost/dkim.h"
#include "cptest.h"

#define BH "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
#define GOOD "v=1; a=rsa-sha256; d=Example.COM; s=sel; h=from:to; bh=" BH "; b=AAAA"

static const struct {
	const char *txt;
	int rc;
	cp_dkim_reason reason;
	const char *msg; /* in err.msg, or NULL */
} sig_cases[] = {
	{ GOOD, CP_OK, CP_DKIM_OK, NULL },
	{ GOOD ";", CP_OK, CP_DKIM_OK, NULL },
	{ " v = 1 ;\r\n\ta=ed25519-sha256; c=relaxed/simple; d=example.com; "
	  "s=a.b; h = from :\r\n to; bh=" BH "; b=AA\r\n AA; t=1; x=2",
	    CP_OK, CP_DKIM_OK, NULL },
	{ GOOD "; zz=unknown tag is fine; z=From:a@b|To:c", CP_OK, CP_DKIM_OK,
	    NULL },
	{ GOOD "; i=user@mail.example.com", CP_OK, CP_DKIM_OK, NULL },
	{ GOOD "; q=dns/txt", CP_OK, CP_DKIM_OK, NULL },
	{ "a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH "; b=AAAA",
	    CP_ESYNTAX, CP_DKIM_EMISSING, "missing required tag v=" },
	{ GOOD "; v=1", CP_ESYNTAX, CP_DKIM_ESYNTAX, "appears twice" },
	{ "v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH "; b=AAAA",
	    CP_ESYNTAX, CP_DKIM_EVERSION, "version" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; b=AAAA",
	    CP_ESYNTAX, CP_DKIM_EMISSING, "bh=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; bh=" BH
	  "; b=AAAA", CP_ESYNTAX, CP_DKIM_EFROM, "From" },
	{ GOOD "; i=@other.example", CP_ESYNTAX, CP_DKIM_EIDENTITY,
	    "not within" },
	{ GOOD "; i=@notexample.com", CP_ESYNTAX, CP_DKIM_EIDENTITY,
	    "not within" },
	{ GOOD "; i=nobody", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag i=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=!!!!; b=AAAA",
	    CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag bh=: bad base64" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA",
	    CP_ESYNTAX, CP_DKIM_ESYNTAX, "SHA-256" },
	{ GOOD "; c=fancy", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag c=" },
	{ GOOD "; l=12a", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag l=" },
	{ GOOD "; t=100; x=50", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag x=" },
	{ GOOD "; t=1234567890123", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag t=" },
	{ GOOD "; q=http/well-known", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag q=" },
	{ GOOD "; 1x=a", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag name" },
	{ GOOD ";; x=5", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag name" },
	{ GOOD "; n", CP_ESYNTAX, CP_DKIM_ESYNTAX, "no '='" },
	{ GOOD "; z=caf\xc3\xa9", CP_ESYNTAX, CP_DKIM_ESYNTAX, "byte 0xc3" },
	{ "v=1; a=rsa-sha256; d=-bad-.com; s=sel; h=from; bh=" BH "; b=AAAA",
	    CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag d=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=se l; h=from; bh=" BH "; b=AAAA",
	    CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag s=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from::to; bh=" BH
	  "; b=AAAA", CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag h=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH "; b=",
	    CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag b=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH "; b=AAA=A",
	    CP_ESYNTAX, CP_DKIM_ESYNTAX, "tag b=" },
	{ "", CP_ESYNTAX, CP_DKIM_EMISSING, "missing" },
};

CP_TEST(dkim_parse_sig_cases)
{
	for (size_t i = 0; i < CP_NELEM(sig_cases); i++) {
		cp_dkim_sig sig;
		cp_dkim_reason why = CP_DKIM_ETOOMANY;
		cp_err err = { 0 };
		int rc = cp_dkim_parse_sig(sig_cases[i].txt,
		    strlen(sig_cases[i].txt), &sig, &why, &err);

		CP_CHECK(rc == sig_cases[i].rc, "case %zu: rc %d, want %d (%s)", i,
		    rc, sig_cases[i].rc, err.msg);
		CP_CHECK(why == sig_cases[i].reason,
		    "case %zu: reason %s, want %s (%s)", i,
		    cp_dkim_reason_name(why),
		    cp_dkim_reason_name(sig_cases[i].reason), err.msg);
		if (sig_cases[i].msg)
			CP_CHECK(strstr(err.msg, sig_cases[i].msg) != NULL,
			    "case %zu: message '%s' lacks '%s'", i, err.msg,
			    sig_cases[i].msg);
		cp_dkim_sig_clear(&sig);
	}
}

CP_TEST(dkim_parse_sig_fields)
{
	const char *txt = " v=1; a=ed25519-sha256; c=relaxed;\r\n d=Example.COM;"
			  " s=brisbane; t=1528637909; x=1528999999; l=42;\r\n"
			  " h=From : To:subject:FROM; bh=" BH ";\r\n"
			  " b=/gCr inpc\r\n QOoI; q=dns/txt";
	cp_dkim_sig sig;
	cp_err err = { 0 };

	CP_CHECK_INT(cp_dkim_parse_sig(txt, strlen(txt), &sig, NULL, &err),
	    CP_OK);
	CP_CHECK_INT(sig.alg, CP_DKIM_ED25519_SHA256);
	CP_CHECK_STR(sig.a_name, "ed25519-sha256");
	CP_CHECK_INT(sig.hcanon, CP_DKIM_RELAXED);
	CP_CHECK_INT(sig.bcanon, CP_DKIM_SIMPLE); /* c=relaxed: body simple */
	CP_CHECK_STR(sig.domain, "example.com");
	CP_CHECK_STR(sig.selector, "brisbane");
	CP_CHECK_STR(sig.identity, "@example.com");
	CP_CHECK_INT(sig.t, 1528637909);
	CP_CHECK_INT(sig.x, 1528999999);
	CP_CHECK_INT(sig.has_l, 1);
	CP_CHECK_INT(sig.l, 42);
	CP_CHECK_INT(sig.nh, 4);
	if (sig.nh == 4) {
		CP_CHECK_STR(sig.h[0], "From");
		CP_CHECK_STR(sig.h[2], "subject");
		CP_CHECK_STR(sig.h[3], "FROM");
	}
	CP_CHECK_INT(sig.bhlen, 32);
	CP_CHECK_INT(sig.blen, 9); /* "/gCrinpcQOoI" decoded */
	/* the b= value: from just after '=' up to the ';' */
	CP_CHECK(sig.b_end > sig.b_off && txt[sig.b_off - 1] == '=' &&
	    txt[sig.b_off - 2] == 'b' && txt[sig.b_end] == ';',
	    "b= span %zu-%zu", sig.b_off, sig.b_end);
	CP_CHECK(strncmp(txt + sig.b_off, "/gCr inpc\r\n QOoI", 16) == 0,
	    "b= value");
	cp_dkim_sig_clear(&sig);

	/* an unknown or refused algorithm parses; the verifier reports it */
	txt = "v=1; a=rsa-sha1; d=example.com; s=s; h=from; bh=AAAA; b=AAAA";
	CP_CHECK_INT(cp_dkim_parse_sig(txt, strlen(txt), &sig, NULL, &err),
	    CP_OK);
	CP_CHECK_INT(sig.alg, CP_DKIM_RSA_SHA1);
	cp_dkim_sig_clear(&sig);
	txt = "v=1; a=foo-sha512; d=example.com; s=s; h=from; bh=AAAA; b=AAAA";
	CP_CHECK_INT(cp_dkim_parse_sig(txt, strlen(txt), &sig, NULL, &err),
	    CP_OK);
	CP_CHECK_INT(sig.alg, CP_DKIM_ALG_UNKNOWN);
	CP_CHECK_STR(sig.a_name, "foo-sha512");
	cp_dkim_sig_clear(&sig);
}

#define P "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="

static const struct {
	const char *txt;
	int rc;
	const char *msg;
} key_cases[] = {
	{ "v=DKIM1; k=rsa; p=" P, CP_OK, NULL },
	{ "p=" P, CP_OK, NULL },
	{ "v=DKIM1; p=" P ";", CP_OK, NULL },
	{ "v=DKIM1; p=", CP_OK, NULL },
	{ "v=DKIM1; k=rsa; n=notes are ignored; foo=bar; p=" P, CP_OK, NULL },
	{ "v=DKIM1; p=MCowBQYDK2VwAyEAGb9E\r\n\tCWmEzf6FQbrBZ9w7lshQhqowtrbLDF"
	  "w4rXAxZuE=", CP_OK, NULL },
	{ "k=rsa; v=DKIM1; p=" P, CP_ESYNTAX, "v= is not the first" },
	{ "v=DKIM2; p=" P, CP_ESYNTAX, "DKIM1" },
	{ "v=dkim1; p=" P, CP_ESYNTAX, "DKIM1" },
	{ "v=DKIM1; k=rsa", CP_ESYNTAX, "missing required tag p=" },
	{ "", CP_ESYNTAX, "missing required tag p=" },
	{ "v=DKIM1; p=abc", CP_ESYNTAX, "bad base64" },
	{ "v=DKIM1; p=ab$d", CP_ESYNTAX, "bad base64" },
	{ "v=DKIM1; p=" P "; p=" P, CP_ESYNTAX, "twice" },
	{ "v=DKIM1; h=sha256::sha1; p=" P, CP_ESYNTAX, "hash list" },
	{ "v=DKIM1; t=y s; p=" P, CP_ESYNTAX, "flag list" },
	{ "v=DKIM1; k=; p=" P, CP_ESYNTAX, "key type" },
	{ "v=DKIM1; p=" P "; ;", CP_ESYNTAX, "tag name" },
	{ "v=DKIM1 p=" P, CP_ESYNTAX, "DKIM1" },
};

CP_TEST(dkim_parse_keyrec_cases)
{
	for (size_t i = 0; i < CP_NELEM(key_cases); i++) {
		cp_dkim_keyrec rec;
		cp_err err = { 0 };
		int rc = cp_dkim_parse_keyrec(key_cases[i].txt,
		    strlen(key_cases[i].txt), &rec, &err);

		CP_CHECK(rc == key_cases[i].rc, "case %zu: rc %d, want %d (%s)", i,
		    rc, key_cases[i].rc, err.msg);
		if (key_cases[i].msg)
			CP_CHECK(strstr(err.msg, key_cases[i].msg) != NULL,
			    "case %zu: message '%s' lacks '%s'", i, err.msg,
			    key_cases[i].msg);
	}
}

CP_TEST(dkim_parse_keyrec_fields)
{
	cp_dkim_keyrec rec;
	cp_err err = { 0 };
	const char *txt;

	txt = "v=DKIM1; p=" P;
	CP_CHECK_INT(cp_dkim_parse_keyrec(txt, strlen(txt), &rec, &err), CP_OK);
	CP_CHECK_INT(rec.k, CP_DKIM_KEY_RSA); /* the default */
	CP_CHECK_INT(rec.hashes, CP_DKIM_HASH_SHA1 | CP_DKIM_HASH_SHA256);
	CP_CHECK_INT(rec.services, CP_DKIM_SERVICE_ANY);
	CP_CHECK_INT(rec.flags, 0);
	CP_CHECK_INT(rec.revoked, 0);
	CP_CHECK_INT(rec.plen, 44);

	txt = "v=DKIM1; k=ed25519; h=sha256:sha512; s=email:other; t=y:s:q; p=";
	CP_CHECK_INT(cp_dkim_parse_keyrec(txt, strlen(txt), &rec, &err), CP_OK);
	CP_CHECK_INT(rec.k, CP_DKIM_KEY_ED25519);
	CP_CHECK_INT(rec.hashes, CP_DKIM_HASH_SHA256); /* sha512 ignored */
	CP_CHECK_INT(rec.services, CP_DKIM_SERVICE_EMAIL);
	CP_CHECK_INT(rec.flags, CP_DKIM_FLAG_TESTING | CP_DKIM_FLAG_STRICT);
	CP_CHECK_INT(rec.revoked, 1);

	txt = "k=quantum; h=sha1; s=voice; p=" P;
	CP_CHECK_INT(cp_dkim_parse_keyrec(txt, strlen(txt), &rec, &err), CP_OK);
	CP_CHECK_INT(rec.k, CP_DKIM_KEY_UNKNOWN);
	CP_CHECK_STR(rec.k_name, "quantum");
	CP_CHECK_INT(rec.hashes, CP_DKIM_HASH_SHA1);
	CP_CHECK_INT(rec.services, 0);
}

CP_TEST(dkim_names)
{
	cp_dkim_canon h, b;

	CP_CHECK_INT(cp_dkim_canon_parse("relaxed/simple", 14, &h, &b), CP_OK);
	CP_CHECK(h == CP_DKIM_RELAXED && b == CP_DKIM_SIMPLE, "relaxed/simple");
	CP_CHECK_INT(cp_dkim_canon_parse("Simple/Relaxed", 14, &h, &b), CP_OK);
	CP_CHECK(h == CP_DKIM_SIMPLE && b == CP_DKIM_RELAXED, "simple/relaxed");
	CP_CHECK_INT(cp_dkim_canon_parse("relaxed", 7, &h, &b), CP_OK);
	CP_CHECK(h == CP_DKIM_RELAXED && b == CP_DKIM_SIMPLE, "relaxed alone");
	CP_CHECK_INT(cp_dkim_canon_parse("relaxed/", 8, &h, &b), CP_ESYNTAX);
	CP_CHECK_INT(cp_dkim_canon_parse("loose", 5, &h, &b), CP_ESYNTAX);
	CP_CHECK_INT(cp_dkim_alg_parse("ed25519-sha256", 14),
	    CP_DKIM_ED25519_SHA256);
	CP_CHECK_STR(cp_dkim_alg_name(CP_DKIM_RSA_SHA256), "rsa-sha256");
	CP_CHECK_STR(cp_dkim_reason_name(CP_DKIM_EBODYHASH),
	    "body hash mismatch");
	CP_CHECK_STR(cp_dkim_status_name(CP_DKIM_PERMERROR), "permerror");
}
