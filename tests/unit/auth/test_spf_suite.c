/*
 * Unit tests: the SPF council test suites run through the fake resolver.
 *
 * tests/data/spf/rfc7208-tests.json (made from the YAML by
 * scripts/spf_suite_json.py, which applies the reference driver's zone
 * rules) must pass 100%: the result is one of those listed, and the
 * explanation, where given, is the exp= text ("DEFAULT": none). The older
 * RFC 4408 suite runs as a regression report: every test must pass except
 * those where RFC 7208 changed the answer, listed below with the reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coldpost/buf.h"
#include "coldpost/spf.h"
#include "cptest.h"

static int
type_of(const char *s)
{
	static const struct {
		const char *name;
		int type;
	} t[] = { { "A", CP_DNS_A }, { "AAAA", CP_DNS_AAAA },
		{ "MX", CP_DNS_MX }, { "TXT", CP_DNS_TXT }, { "SPF", CP_DNS_SPF },
		{ "PTR", CP_DNS_PTR }, { "CNAME", CP_DNS_CNAME } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0)
			return t[i].type;
	return -1;
}

/* A TXT/SPF record as a zone line, every odd byte as \DDD (binary-safe). */
static int
add_txt(cp_dns *d, const char *name, const char *type, json_t *strs)
{
	cp_buf z;
	cp_err err = { 0 };
	size_t i;
	json_t *s;
	int rc;

	cp_buf_init(&z, 1 << 20);
	cp_buf_addf(&z, "%s. %s", name, type);
	if (json_array_size(strs) == 0)
		cp_buf_adds(&z, " \"\""); /* an RR of no strings: empty */
	json_array_foreach(strs, i, s) {
		const char *hex = json_string_value(json_object_get(s, "hex"));
		const char *txt = json_string_value(s);
		size_t n = hex ? strlen(hex) / 2 : strlen(txt);

		cp_buf_adds(&z, " \"");
		for (size_t k = 0; k < n; k++) {
			unsigned c;

			if (hex)
				sscanf(hex + 2 * k, "%2x", &c);
			else
				c = (unsigned char)txt[k];
			if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ||
			    c == ';' || c == '(' || c == ')')
				cp_buf_addf(&z, "\\%03u", c);
			else
				cp_buf_addc(&z, (char)c);
		}
		cp_buf_adds(&z, "\"");
	}
	cp_buf_adds(&z, "\n");
	rc = cp_dns_fake_load_mem(d, z.data, z.len, name, &err);
	CP_CHECK(rc == CP_OK, "zone %s: %s", name, err.msg);
	cp_buf_free(&z);
	return rc;
}

static cp_dns *
scenario_dns(json_t *sc)
{
	cp_dns *d = cp_dns_new_fake();
	json_t *recs = json_object_get(sc, "records"), *r;
	size_t i;

	json_array_foreach(recs, i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		json_t *to = json_object_get(r, "timeout");
		cp_err err = { 0 };

		if (to != NULL) {
			json_t *t;
			size_t k;

			if (json_is_string(to)) {
				cp_dns_fake_timeout(d, name, 0, &err);
				continue;
			}
			json_array_foreach(to, k, t)
				cp_dns_fake_timeout(d, name,
				    type_of(json_string_value(t)), &err);
			continue;
		}
		{
			const char *type =
			    json_string_value(json_object_get(r, "type"));
			json_t *data = json_object_get(r, "data");

			if (json_is_array(data)) {
				add_txt(d, name, type, data);
			} else {
				int rc = cp_dns_fake_add(d, name, type_of(type),
				    json_string_value(data), &err);

				CP_CHECK(rc == CP_OK, "record %s %s: %s", name,
				    type, err.msg);
			}
		}
	}
	return d;
}

/*
 * Run every test of a suite file; returns the failures (ids, with what we
 * got, in *failed as "id id ..."), and counts in *npass / *ntotal.
 */
static void
run_suite(const char *file, int *npass, int *ntotal, cp_buf *failed,
    int verbose)
{
	char path[512];
	json_error_t jerr;
	json_t *root, *sc;
	size_t i;

	snprintf(path, sizeof(path), "%s/spf/%s", cptest_data_dir(), file);
	root = json_load_file(path, 0, &jerr);
	CP_CHECK(root != NULL, "%s: %s", path, jerr.text);
	if (root == NULL)
		return;
	*npass = *ntotal = 0;
	json_array_foreach(json_object_get(root, "scenarios"), i, sc) {
		cp_dns *d = scenario_dns(sc);
		json_t *t;
		size_t k;

		json_array_foreach(json_object_get(sc, "tests"), k, t) {
			const char *id = json_string_value(json_object_get(t, "id"));
			const char *want_exp = json_string_value(
			    json_object_get(t, "explanation"));
			json_t *results = json_object_get(t, "result"), *w;
			cp_spf_query q = {
				json_string_value(json_object_get(t, "host")),
				json_string_value(json_object_get(t, "mailfrom")),
				json_string_value(json_object_get(t, "helo")),
				NULL
			};
			cp_spf_result res;
			cp_err err = { 0 };
			cp_spf *spf = cp_spf_new(d, &err);
			int ok = 0, rc;
			size_t m;

			cp_spf_set_now(spf, 1700000000);
			rc = cp_spf_check_host(spf, &q, &res, &err);
			json_array_foreach(results, m, w)
				if (rc == CP_OK && strcmp(json_string_value(w),
				    cp_spf_verdict_name(res.result)) == 0)
					ok = 1;
			if (ok && want_exp != NULL) {
				if (strcmp(want_exp, "DEFAULT") == 0)
					ok = res.explanation == NULL;
				else
					ok = res.explanation != NULL &&
					    strcmp(res.explanation, want_exp) == 0;
			}
			(*ntotal)++;
			if (ok) {
				(*npass)++;
			} else {
				cp_buf_addf(failed, " %s", id);
				if (verbose)
					printf("  %s %s: got %s (%s) exp='%s', want "
					    "%s exp='%s'\n", file, id,
					    cp_spf_verdict_name(res.result),
					    rc == CP_OK ? res.reason : err.msg,
					    res.explanation ? res.explanation
							    : "(none)",
					    json_string_value(json_array_get(
						results, 0)),
					    want_exp ? want_exp : "-");
			}
			cp_spf_result_clear(&res);
			cp_spf_free(spf);
		}
		cp_dns_free(d);
	}
	json_decref(root);
}

CP_TEST(spf_rfc7208_suite)
{
	cp_buf failed;
	int pass = 0, total = 0;

	cp_buf_init(&failed, 1 << 16);
	run_suite("rfc7208-tests.json", &pass, &total, &failed, 1);
	printf("spf: RFC 7208 suite: %d/%d passed\n", pass, total);
	CP_CHECK(total == 203, "suite has %d tests, want 203", total);
	CP_CHECK(pass == total, "failed:%s", failed.data ? failed.data : "");
	cp_buf_free(&failed);
}

/*
 * RFC 4408 tests whose expected answer RFC 7208 changed (the RFC 7208
 * suite's CHANGES file and the RFC's appendix C): the newer answer wins.
 */
static const char *const rfc4408_changed[] = {
	NULL,
};

CP_TEST(spf_rfc4408_suite_regression)
{
	cp_buf failed;
	int pass = 0, total = 0;
	const char *p;

	cp_buf_init(&failed, 1 << 16);
	run_suite("rfc4408-tests.json", &pass, &total, &failed, 1);
	printf("spf: RFC 4408 suite (regression report): %d/%d passed; the "
	       "others (if any) must be answers RFC 7208 changed\n", pass,
	    total);
	CP_CHECK(total == 191, "suite has %d tests, want 191", total);
	for (p = failed.data; p != NULL && *p;) {
		size_t n;
		int known = 0;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 0)
			break;
		for (size_t i = 0; rfc4408_changed[i] != NULL; i++)
			if (strlen(rfc4408_changed[i]) == n &&
			    strncmp(p, rfc4408_changed[i], n) == 0)
				known = 1;
		CP_CHECK(known, "RFC 4408 test %.*s fails and is not one RFC "
		    "7208 changed", (int)n, p);
		p += n;
	}
	cp_buf_free(&failed);
}
