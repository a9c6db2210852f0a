/*
 * orgdomain.c - the Organizational Domain of RFC 7489 3.2 through libpsl
 * and the Public Suffix List that Debian's publicsuffix package installs.
 *
 * RFC 7489 3.2: take the longest public suffix that matches the name
 * (wildcard and exception rules included, ICANN and private sections
 * alike: "blogspot.com" and "github.io" are suffixes), then add one label.
 * That is libpsl's registrable domain. A name that is itself a public
 * suffix has no such domain; for DMARC the name then stands for itself.
 *
 * The list is always loaded from a file (cp_psl_load), never taken from
 * the copy compiled into libpsl, so an update of the publicsuffix package
 * is picked up without a rebuild. Names are lowercased (ASCII) here;
 * libpsl handles IDN labels given as UTF-8 or as A-labels.
 */
#include <errno.h>
#include <libpsl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/dmarc.h"
#include "auth/dmarc/dmarc_int.h"

struct cp_psl {
	psl_ctx_t *ctx;
};

cp_psl *
cp_psl_load(const char *path, cp_err *err)
{
	cp_psl *psl;
	psl_ctx_t *ctx;

	if (path == NULL)
		path = access(CP_PSL_DAFSA, R_OK) == 0 ? CP_PSL_DAFSA : CP_PSL_DAT;
	if (access(path, R_OK) != 0) {
		cp_err_set(err, CP_EIO,
		    "psl: %s: %s (install the publicsuffix package)", path,
		    strerror(errno));
		return NULL;
	}
	ctx = psl_load_file(path);
	/* a .dafsa reports -1 suffixes (not counted), an empty .dat 0 */
	if (ctx == NULL || psl_suffix_count(ctx) == 0) {
		psl_free(ctx);
		cp_err_set(err, CP_EIO, "psl: %s: not a Public Suffix List",
		    path);
		return NULL;
	}
	psl = cp_malloc(sizeof(*psl));
	if (psl == NULL) {
		psl_free(ctx);
		cp_err_set(err, CP_ENOMEM, "psl: out of memory");
		return NULL;
	}
	psl->ctx = ctx;
	return psl;
}

void
cp_psl_free(cp_psl *psl)
{
	if (psl == NULL)
		return;
	psl_free(psl->ctx);
	cp_free(psl);
}

/* See dmarc_int.h; bytes over 0x7f pass (UTF-8 labels, for libpsl). */
int
dmarc_norm_domain(const char *name, char *buf, size_t buflen)
{
	size_t n, label = 0;

	if (name == NULL)
		return CP_EINVAL;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= buflen)
		return CP_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '.') {
			if (label == 0)
				return CP_EINVAL;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch >= 0x80) {
			label++;
		} else if (ch >= 'A' && ch <= 'Z') {
			ch = (unsigned char)(ch + 32);
			label++;
		} else {
			return CP_EINVAL;
		}
		if (label > 63)
			return CP_EINVAL;
		buf[i] = (char)ch;
	}
	buf[n] = '\0';
	return CP_OK;
}

int
cp_psl_get_registrable(const cp_psl *psl, const char *name, char *out,
    size_t outlen)
{
	char norm[256];
	const char *r;
	size_t n;

	CP_ASSERT(psl != NULL && outlen > 0);
	out[0] = '\0';
	if (dmarc_norm_domain(name, norm, sizeof(norm)) != CP_OK)
		return CP_EINVAL;
	r = psl_registrable_domain(psl->ctx, norm);
	if (r == NULL)
		return CP_ENOTFOUND;
	n = strlen(r);
	if (n >= outlen)
		return CP_ETOOBIG;
	memcpy(out, r, n + 1);
	return CP_OK;
}

int
cp_dmarc_get_org_domain(const cp_psl *psl, const char *name, char *out,
    size_t outlen)
{
	char norm[256];
	int rc = cp_psl_get_registrable(psl, name, out, outlen);
	size_t n;

	if (rc != CP_ENOTFOUND)
		return rc;
	/* a public suffix is its own organizational domain */
	if (dmarc_norm_domain(name, norm, sizeof(norm)) != CP_OK)
		return CP_EINVAL;
	n = strlen(norm);
	if (n >= outlen)
		return CP_ETOOBIG;
	memcpy(out, norm, n + 1);
	return CP_OK;
}
