/*
 * Unit tests: organizational domains (src/auth/dmarc/orgdomain.c) through
 * libpsl and the list of Debian's publicsuffix package, including the
 * Public Suffix List project's own vectors (tests/data/psl/test_psl.txt).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/dmarc.h"
#include "cptest.h"

static cp_psl *
load_psl(void)
{
	cp_err err = { 0 };
	cp_psl *psl = cp_psl_load(NULL, &err);

	CP_CHECK(psl != NULL, "psl: %s", err.msg);
	if (psl == NULL)
		_exit(1);
	return psl;
}

/*
 * Vectors whose answer depends on the list's age. The vectors are from the
 * PSL project's HEAD; bookworm's list is 20230209. Each entry is checked
 * to still differ (so a newer list shows up as a fixed entry) and is
 * reported, never skipped silently. Empty while the answers all agree.
 */
static const struct {
	const char *input;
	const char *why;
} known_diffs[] = {
	{ NULL, NULL },
};

static int
is_known_diff(const char *input)
{
	for (size_t i = 0; i < CP_NELEM(known_diffs); i++)
		if (known_diffs[i].input && strcmp(known_diffs[i].input, input) == 0)
			return 1;
	return 0;
}

/* 'text' or null into out (NULL for null); returns the rest, or NULL. */
static const char *
take_arg(const char *p, char *out, size_t outlen, int *is_null)
{
	const char *e;

	while (*p == ' ')
		p++;
	if (strncmp(p, "null", 4) == 0) {
		*is_null = 1;
		return p + 4;
	}
	if (*p != '\'')
		return NULL;
	e = strchr(p + 1, '\'');
	if (e == NULL || (size_t)(e - p - 1) >= outlen)
		return NULL;
	memcpy(out, p + 1, (size_t)(e - p - 1));
	out[e - p - 1] = '\0';
	*is_null = 0;
	return e + 1;
}

CP_TEST(psl_test_vectors)
{
	char path[512], line[512];
	cp_psl *psl = load_psl();
	FILE *f;
	int total = 0, pass = 0, known = 0, fixed = 0;

	snprintf(path, sizeof(path), "%s/psl/test_psl.txt", cptest_data_dir());
	f = fopen(path, "r");
	CP_CHECK(f != NULL, "cannot open %s", path);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		char in[256] = "", want[256] = "", got[256];
		int in_null, want_null, rc, ok;
		const char *p;

		if (strncmp(line, "checkPublicSuffix(", 18) != 0)
			continue; /* comments, including commented-out vectors */
		p = take_arg(line + 18, in, sizeof(in), &in_null);
		if (p != NULL && *p == ',')
			p = take_arg(p + 1, want, sizeof(want), &want_null);
		CP_CHECK(p != NULL, "unreadable vector: %s", line);
		if (p == NULL)
			continue;
		total++;
		rc = cp_psl_get_registrable(psl, in_null ? NULL : in, got,
		    sizeof(got));
		if (want_null)
			ok = rc == CP_ENOTFOUND || rc == CP_EINVAL;
		else
			ok = rc == CP_OK && strcmp(got, want) == 0;
		if (ok && is_known_diff(in)) {
			fixed++;
			printf("    psl: known difference now agrees: '%s'\n", in);
		}
		if (ok) {
			pass++;
			continue;
		}
		if (is_known_diff(in)) {
			known++;
			printf("    psl: known difference: '%s' -> %s, vector says "
			    "%s\n", in, rc == CP_OK ? got : "null",
			    want_null ? "null" : want);
			continue;
		}
		CP_CHECK(0, "'%s': got %s (rc %d), want %s", in_null ? "null" : in,
		    rc == CP_OK ? got : "null", rc, want_null ? "null" : want);
	}
	fclose(f);
	printf("    psl: %d/%d vectors pass, %d known differences, %d fixed\n",
	    pass, total, known, fixed);
	CP_CHECK(total == 78, "%d vectors read, the file has 78", total);
	cp_psl_free(psl);
}

/* DMARC organizational domains under the suffixes the issue names. */
CP_TEST(dmarc_org_domains)
{
	static const struct {
		const char *name, *org;
	} cases[] = {
		{ "example.com", "example.com" },
		{ "a.b.Example.COM.", "example.com" },
		{ "mail.example.co.uk", "example.co.uk" },
		{ "example.co.uk", "example.co.uk" },
		{ "co.uk", "co.uk" }, /* a public suffix stands for itself */
		{ "a.b.shop.example.com.au", "example.com.au" },
		{ "www.alice.blogspot.com", "alice.blogspot.com" }, /* private */
		{ "alice.github.io", "alice.github.io" },
		{ "x.y.alice.github.io", "alice.github.io" },
		{ "github.io", "github.io" },
		{ "b.test.ck", "b.test.ck" },      /* *.ck */
		{ "a.www.ck", "www.ck" },          /* !www.ck */
		{ "mail.example.unlisted", "example.unlisted" }, /* rule "*" */
	};
	cp_psl *psl = load_psl();

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		char out[256];
		int rc = cp_dmarc_get_org_domain(psl, cases[i].name, out,
		    sizeof(out));

		CP_CHECK(rc == CP_OK && strcmp(out, cases[i].org) == 0,
		    "%s: got %s (rc %d), want %s", cases[i].name,
		    rc == CP_OK ? out : "-", rc, cases[i].org);
	}
	cp_psl_free(psl);
}

CP_TEST(dmarc_org_domain_errors)
{
	cp_psl *psl = load_psl();
	char out[256], small[8], longname[300];

	CP_CHECK_INT(cp_dmarc_get_org_domain(psl, "", out, sizeof(out)),
	    CP_EINVAL);
	CP_CHECK_INT(cp_dmarc_get_org_domain(psl, "a..example.com", out,
	    sizeof(out)), CP_EINVAL);
	CP_CHECK_INT(cp_dmarc_get_org_domain(psl, ".example.com", out,
	    sizeof(out)), CP_EINVAL);
	CP_CHECK_INT(cp_dmarc_get_org_domain(psl, "exa mple.com", out,
	    sizeof(out)), CP_EINVAL);
	CP_CHECK_INT(cp_dmarc_get_org_domain(psl, "user@example.com", out,
	    sizeof(out)), CP_EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CP_CHECK_INT(cp_dmarc_get_org_domain(psl, longname, out, sizeof(out)),
	    CP_EINVAL);
	CP_CHECK_INT(cp_dmarc_get_org_domain(psl, "mail.example.com", small,
	    sizeof(small)), CP_ETOOBIG);
	CP_CHECK_INT(cp_psl_get_registrable(psl, "co.uk", out, sizeof(out)),
	    CP_ENOTFOUND);
	cp_psl_free(psl);
}

CP_TEST(psl_load_errors)
{
	cp_err err = { 0 };
	char path[512];

	CP_CHECK(cp_psl_load("/nonexistent/psl.dat", &err) == NULL, "missing");
	CP_CHECK(strstr(err.msg, "/nonexistent/psl.dat") != NULL, "msg: %s",
	    err.msg);
	/* the text form loads too, and answers the same */
	{
		cp_psl *psl = cp_psl_load(CP_PSL_DAT, &err);
		char out[256];

		CP_CHECK(psl != NULL, "dat: %s", err.msg);
		if (psl) {
			CP_CHECK_INT(cp_psl_get_registrable(psl,
			    "a.b.example.co.uk", out, sizeof(out)), CP_OK);
			CP_CHECK_STR(out, "example.co.uk");
		}
		cp_psl_free(psl);
	}
	/* a file without a single rule */
	snprintf(path, sizeof(path), "/tmp/cp-psl-XXXXXX");
	{
		int fd = mkstemp(path);
		cp_psl *psl;

		CP_CHECK(fd >= 0, "mkstemp");
		if (fd >= 0) {
			CP_CHECK(write(fd, "// only a comment\n", 18) == 18, "write");
			close(fd);
		}
		psl = cp_psl_load(path, &err);
		CP_CHECK(psl == NULL, "an empty list is refused");
		CP_CHECK(strstr(err.msg, "not a Public Suffix List") != NULL,
		    "msg: %s", err.msg);
		cp_psl_free(psl);
		unlink(path);
	}
}
