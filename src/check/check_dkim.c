/*
 * check_dkim.c - the DKIM part of the domain check: the key record of
 * each selector (RFC 6376 3.6.1, 3.6.2), read as a verifier reads it.
 *
 * The record at SELECTOR._domainkey.DOMAIN is parsed strictly by the
 * verifier's own parser (cp_dkim_parse_keyrec); a verifier uses the first
 * record that parses (3.6.2.2). Then what makes signatures fail even with
 * a published key: an empty p= (revoked), a k= the verifier does not
 * know, h= without sha256, s= without email. The key itself is decoded
 * with OpenSSL: an RSA SubjectPublicKeyInfo (3.6.1; a bare PKCS#1 key is
 * accepted by some verifiers only) and its size against RFC 8301 (under
 * 1024 bits refused, 1024 weak; 2048 is what Gmail and Microsoft ask
 * for), or the 32 bytes of an Ed25519 key (RFC 8463 4.2), which not every
 * receiver verifies yet. t=y (testing) is flagged: receivers may treat
 * such signatures as absent.
 *
 * Selectors cannot be listed through DNS; with none given, a list of the
 * common ones (cp_check_common_selectors) is tried and what exists is
 * reported.
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "check/check_int.h"
#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/dkim.h"

const char *const cp_check_common_selectors[] = {
	"default", "selector1", "selector2", "google", "k1", "k2", "k3",
	"s1", "s2", "dkim", "mail", "email", "coldpost", "key1", "key2",
	"smtp", "mx", "sig1", "mta", "m1", "pm", "zoho", "mailjet",
	"protonmail", "everlytickey1", "dkim1", "s1024", "s2048", NULL
};

static size_t
check_nselectors(void)
{
	size_t n = 0;

	while (cp_check_common_selectors[n] != NULL)
		n++;
	return n;
}

/* What one selector's key turned out to be. */
enum { KEY_NONE, KEY_BAD, KEY_RSA, KEY_ED25519 };

/* The record without t=y (other flags kept). New string or NULL. */
static char *
dkim_without_testing(const char *txt, size_t len)
{
	cp_buf b;
	size_t i = 0;

	cp_buf_init(&b, 64 * 1024);
	while (i < len) {
		size_t s = i, e, eq;

		while (i < len && txt[i] != ';')
			i++;
		e = i;
		if (i < len)
			i++;
		while (s < e && (txt[s] == ' ' || txt[s] == '\t'))
			s++;
		while (e > s && (txt[e - 1] == ' ' || txt[e - 1] == '\t'))
			e--;
		if (s == e)
			continue;
		for (eq = s; eq < e && txt[eq] != '='; eq++)
			;
		if (eq - s == 1 && txt[s] == 't' && eq < e) {
			/* t=y:s -> t=s; t=y -> dropped */
			cp_buf fl;
			size_t k = eq + 1;

			cp_buf_init(&fl, 1024);
			while (k < e) {
				size_t fs = k, fe;

				while (k < e && txt[k] != ':')
					k++;
				fe = k;
				if (k < e)
					k++;
				while (fs < fe && (txt[fs] == ' ' ||
				    txt[fs] == '\t'))
					fs++;
				while (fe > fs && (txt[fe - 1] == ' ' ||
				    txt[fe - 1] == '\t'))
					fe--;
				if (fe - fs == 1 && txt[fs] == 'y')
					continue;
				if (fe > fs)
					cp_buf_addf(&fl, "%s%.*s", fl.len ? ":" : "",
					    (int)(fe - fs), txt + fs);
			}
			if (fl.len)
				cp_buf_addf(&b, "%st=%s", b.len ? "; " : "",
				    fl.data);
			cp_buf_free(&fl);
			continue;
		}
		cp_buf_addf(&b, "%s%.*s", b.len ? "; " : "", (int)(e - s),
		    txt + s);
	}
	if (b.data == NULL)
		return cp_strdup("");
	return cp_buf_steal(&b);
}

/*
 * The size of an RSA key in p=: bits, or 0 when p= is not an RSA key;
 * *pkcs1 set when it is a bare RSAPublicKey rather than an SPKI.
 */
static int
dkim_rsa_bits(const unsigned char *p, size_t len, int *pkcs1, int *other)
{
	const unsigned char *q = p;
	EVP_PKEY *k;
	int bits = 0;

	*pkcs1 = 0;
	*other = 0;
	k = d2i_PUBKEY(NULL, &q, (long)len);
	if (k != NULL && q == p + len) {
		if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)
			bits = EVP_PKEY_get_bits(k);
		else
			*other = EVP_PKEY_get_base_id(k);
		EVP_PKEY_free(k);
		return bits;
	}
	EVP_PKEY_free(k);
	q = p;
	k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)len);
	if (k != NULL && q == p + len) {
		bits = EVP_PKEY_get_bits(k);
		*pkcs1 = 1;
	}
	EVP_PKEY_free(k);
	return bits;
}

static void
dkim_fix_keygen(check_ctx *c, cp_check_finding *f, const char *why,
    const char *sel)
{
	check_fix(c, f, "%scoldpost dkim keygen --selector %s --domain %s "
	    "--out %s.pem, publish the record it prints, and sign with that "
	    "key.", why, sel, c->r->domain, sel);
}

/* The key type found at this selector (KEY_*). */
static int
dkim_check_selector(check_ctx *c, const char *sel, int given)
{
	char name[512];
	cp_dns_answer *a = NULL;
	cp_dkim_keyrec *rec = NULL;
	cp_check_finding *f;
	cp_err perr = { 0 };
	size_t used = 0, ntxt = 0;
	int parsed = 0, ret = KEY_BAD;

	snprintf(name, sizeof(name), "%s._domainkey.%s", sel, c->r->domain);
	if (check_query(c, name, CP_DNS_TXT, &a) == CP_ENOMEM)
		return KEY_NONE;
	if (a->status == CP_DNS_TEMPFAIL || a->status == CP_DNS_ERROR) {
		if (!given) {
			ret = KEY_NONE;
			goto out;
		}
		f = check_add(c, "dkim.record", sel, CP_CHECK_FAIL, "the key "
		    "lookup at %s failed: receivers get a temperror", name);
		check_evidence_answer(c, f, a);
		check_fix_temp(c, f, name);
		goto out;
	}
	if (check_absent(a)) {
		ret = KEY_NONE;
		if (!given)
			goto out;
		f = check_add(c, "dkim.record", sel, CP_CHECK_FAIL, "no key "
		    "record at %s: signatures with s=%s fail", name, sel);
		check_evidence_answer(c, f, a);
		dkim_fix_keygen(c, f, "Generate a key: ", sel);
		goto out;
	}
	if (!given)
		check_dkim_found_add(c, sel);
	rec = cp_malloc(sizeof(*rec));
	if (rec == NULL) {
		check_set_nomem(c);
		goto out;
	}
	ntxt = a->n;
	for (size_t i = 0; i < a->n && !parsed; i++)
		if (cp_dkim_parse_keyrec(a->rr[i].u.txt.data,
		    a->rr[i].u.txt.len, rec, i == 0 ? &perr : NULL) == CP_OK) {
			parsed = 1;
			used = i;
		}
	if (!parsed) {
		f = check_add(c, "dkim.record", sel, CP_CHECK_FAIL, "the key "
		    "record at %s is malformed: %s", name, perr.msg);
		check_evidence_answer(c, f, a);
		check_detail(c, f, "Verifiers parse key records strictly (RFC "
		    "6376 3.6.1): every signature with s=%s fails.", sel);
		dkim_fix_keygen(c, f, "Publish the record exactly as "
		    "generated, e.g. ", sel);
		goto out;
	}
	if (rec->revoked) {
		f = check_add(c, "dkim.record", sel, CP_CHECK_FAIL, "the key at %s "
		    "is revoked (empty p=)", name);
		check_evidence_txt(c, f, name, a->rr[used].u.txt.data,
		    a->rr[used].u.txt.len);
		check_detail(c, f, "Signatures with s=%s fail; keep the revoked "
		    "record only if that selector is retired.", sel);
		dkim_fix_keygen(c, f, "Sign with a new selector: ", "s2");
		goto out;
	}
	if (rec->k == CP_DKIM_KEY_UNKNOWN) {
		f = check_add(c, "dkim.record", sel, CP_CHECK_FAIL, "k=%s: a key "
		    "type verifiers do not know", rec->k_name);
	} else if (!(rec->hashes & CP_DKIM_HASH_SHA256)) {
		f = check_add(c, "dkim.record", sel, CP_CHECK_FAIL, "h= does not "
		    "allow sha256: rsa-sha256 and ed25519-sha256 signatures "
		    "fail");
	} else if (!(rec->services & (CP_DKIM_SERVICE_EMAIL |
	    CP_DKIM_SERVICE_ANY))) {
		f = check_add(c, "dkim.record", sel, CP_CHECK_FAIL, "s= does not "
		    "list email: the key is not for mail");
	} else if (ntxt > 1) {
		f = check_add(c, "dkim.record", sel, CP_CHECK_WARN, "%zu TXT "
		    "records at %s: verifiers use the first that parses, in "
		    "whatever order DNS gives", ntxt, name);
		check_fix(c, f, "Keep one key record at %s.", name);
		ret = KEY_NONE; /* decided below from the key itself */
	} else {
		f = check_add(c, "dkim.record", sel, CP_CHECK_PASS, "key record "
		    "at %s", name);
		ret = KEY_NONE;
	}
	if (ntxt > 1)
		check_evidence_answer(c, f, a);
	else
		check_evidence_txt(c, f, name, a->rr[used].u.txt.data,
		    a->rr[used].u.txt.len);
	if (ret == KEY_BAD) {
		dkim_fix_keygen(c, f, "Publish a standard record: ", sel);
		goto out;
	}

	/* the key */
	if (rec->k == CP_DKIM_KEY_ED25519) {
		if (rec->plen != 32) {
			f = check_add(c, "dkim.key", sel, CP_CHECK_FAIL, "p= has "
			    "%zu bytes: an Ed25519 key has 32 (RFC 8463 4.2)",
			    rec->plen);
			dkim_fix_keygen(c, f, "", sel);
			ret = KEY_BAD;
			goto out;
		}
		f = check_add(c, "dkim.key", sel, CP_CHECK_PASS, "Ed25519 key "
		    "(RFC 8463)");
		check_detail(c, f, "Some receivers do not verify ed25519-sha256 "
		    "yet: sign with an RSA key too.");
		ret = KEY_ED25519;
	} else {
		int pkcs1, other, bits = dkim_rsa_bits(rec->p, rec->plen, &pkcs1,
		    &other);

		if (bits == 0) {
			f = check_add(c, "dkim.key", sel, CP_CHECK_FAIL, "p= is "
			    "not an RSA public key%s", other ? " (another key "
			    "type in an RSA record)" : "");
			dkim_fix_keygen(c, f, "", sel);
			ret = KEY_BAD;
			goto out;
		}
		if (bits < 1024) {
			f = check_add(c, "dkim.key", sel, CP_CHECK_FAIL, "%d-bit "
			    "RSA key: verifiers refuse keys under 1024 bits (RFC "
			    "8301 3.2)", bits);
			dkim_fix_keygen(c, f, "Make a 2048-bit key under a new "
			    "selector: ", "s2048");
		} else if (bits < 2048) {
			f = check_add(c, "dkim.key", sel, CP_CHECK_WARN, "%d-bit "
			    "RSA key: weak; 2048 bits is what large receivers "
			    "ask for", bits);
			dkim_fix_keygen(c, f, "Move to a 2048-bit key under a "
			    "new selector: ", "s2048");
		} else if (bits > 4096) {
			f = check_add(c, "dkim.key", sel, CP_CHECK_WARN, "%d-bit "
			    "RSA key: verifiers need only handle up to 4096 "
			    "bits (RFC 8301 3.2)", bits);
			dkim_fix_keygen(c, f, "Use 2048 bits: ", sel);
		} else {
			f = check_add(c, "dkim.key", sel, CP_CHECK_PASS, "%d-bit "
			    "RSA key", bits);
		}
		if (pkcs1)
			check_detail(c, f, "p= holds a bare PKCS#1 RSAPublicKey, "
			    "not the SubjectPublicKeyInfo RFC 6376 3.6.1 asks "
			    "for: some verifiers reject it.");
		ret = bits >= 1024 ? KEY_RSA : KEY_BAD;
	}

	/* testing mode */
	if (rec->flags & CP_DKIM_FLAG_TESTING) {
		char *nr = dkim_without_testing(a->rr[used].u.txt.data,
		    a->rr[used].u.txt.len);

		f = check_add(c, "dkim.testing", sel, CP_CHECK_WARN, "t=y: the "
		    "key is in testing mode");
		check_detail(c, f, "Receivers may treat signatures with this "
		    "key as if the message were unsigned (RFC 6376 3.6.1).");
		if (nr == NULL)
			check_set_nomem(c);
		else
			check_fix(c, f, "%s. TXT \"%s\"", name, nr);
		cp_free(nr);
	} else {
		check_add(c, "dkim.testing", sel, CP_CHECK_PASS, "not in testing "
		    "mode");
	}
out:
	cp_free(rec);
	cp_dns_answer_free(a);
	return ret;
}

void
check_dkim(check_ctx *c)
{
	size_t nrsa = 0, ned = 0;
	cp_check_finding *f;

	if (c->o->nselectors > 0) {
		for (size_t i = 0; i < c->o->nselectors && c->rc == CP_OK; i++) {
			int k = dkim_check_selector(c, c->o->selectors[i], 1);

			nrsa += k == KEY_RSA;
			ned += k == KEY_ED25519;
		}
	} else {
		size_t at;

		/* the summary first, filled in once the probing is done */
		c->r->dkim_probed = 1;
		if (check_add(c, "dkim.selectors", NULL, CP_CHECK_PASS, "-") ==
		    NULL)
			return;
		at = c->r->n - 1;
		for (size_t i = 0; cp_check_common_selectors[i] != NULL &&
		    c->rc == CP_OK; i++) {
			int k = dkim_check_selector(c,
			    cp_check_common_selectors[i], 0);

			nrsa += k == KEY_RSA;
			ned += k == KEY_ED25519;
		}
		if (c->rc != CP_OK)
			return;
		f = &c->r->findings[at]; /* findings may have moved */
		if (c->r->ndkim_found > 0) {
			cp_buf b;

			cp_buf_init(&b, 4096);
			for (size_t i = 0; i < c->r->ndkim_found; i++)
				cp_buf_addf(&b, "%s%s", i ? ", " : "",
				    c->r->dkim_found[i]);
			check_summary(c, f, "key record%s found at selector%s %s "
			    "(%zu common selectors tried)",
			    c->r->ndkim_found == 1 ? "" : "s",
			    c->r->ndkim_found == 1 ? "" : "s",
			    b.data ? b.data : "", check_nselectors());
			check_detail(c, f, "DNS cannot list selectors: give "
			    "--selector for the one you sign with if it is not "
			    "among these.");
			cp_buf_free(&b);
		} else {
			check_set_status(c, f, CP_CHECK_FAIL);
			check_summary(c, f, "no DKIM key found at the %zu common "
			    "selectors tried", check_nselectors());
			check_detail(c, f, "DNS cannot list selectors: if you "
			    "sign with another one, run the check with "
			    "--selector NAME. Without DKIM, DMARC rests on SPF "
			    "alone, and forwarding breaks SPF.");
			dkim_fix_keygen(c, f, "", "s1");
		}
	}
	if (ned > 0 && c->rc == CP_OK) {
		if (nrsa == 0) {
			f = check_add(c, "dkim.rsa", NULL, CP_CHECK_WARN, "only "
			    "Ed25519 keys: receivers that do not verify "
			    "ed25519-sha256 see no valid signature");
			dkim_fix_keygen(c, f, "Add an RSA key and sign with both "
			    "(two DKIM-Signature fields): ", "rsa1");
		} else {
			check_add(c, "dkim.rsa", NULL, CP_CHECK_PASS, "an RSA key "
			    "exists beside the Ed25519 one");
		}
	}
}
