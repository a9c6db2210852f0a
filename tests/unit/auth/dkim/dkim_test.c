/* dkim_test.c - helpers shared by the DKIM unit tests (dkim_test.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "cptest.h"
#include "dkim_test.h"

const char dt_msg[] =
    "From: Alice Example <alice@example.com>\r\n"
    "To: Bob <bob@example.net>\r\n"
    "Subject: Quarterly numbers,\r\n"
    "\tfolded over two lines\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <q3.numbers@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "X-Mailer: coldpost tests\r\n"
    "\r\n"
    "Hi Bob,\r\n"
    "\r\n"
    "the  numbers are   in.\t \r\n"
    "Alice\r\n"
    "\r\n"
    "\r\n";

char *
dt_read(const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", cptest_data_dir(), rel);
	f = fopen(path, "rb");
	CP_CHECK(f != NULL, "cannot open %s", path);
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		CP_CHECK(0, "cannot read %s", path);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

char *
dt_crlf(const char *s, size_t len, size_t *outlen)
{
	char *o = malloc(len * 2 + 1);
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			o[k++] = '\r';
		o[k++] = s[i];
	}
	o[k] = '\0';
	*outlen = k;
	return o;
}

cp_dns *
dt_dns(void)
{
	char path[1024];
	cp_err err = { 0 };
	cp_dns *d = cp_dns_new_fake();

	snprintf(path, sizeof(path), "%s/dkim/test.zone", cptest_data_dir());
	CP_CHECK(cp_dns_fake_load(d, path, &err) == CP_OK, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/dkim/rfc8463/records.zone",
	    cptest_data_dir());
	CP_CHECK(cp_dns_fake_load(d, path, &err) == CP_OK, "%s", err.msg);
	return d;
}

cp_dkim_key *
dt_key(const char *rel)
{
	char path[1024];
	cp_err err = { 0 };
	cp_dkim_key *k = NULL;

	snprintf(path, sizeof(path), "%s/%s", cptest_data_dir(), rel);
	CP_CHECK(cp_dkim_key_load(path, &k, &err) == CP_OK, "%s: %s", rel,
	    err.msg);
	return k;
}

cp_dkim_verifier *
dt_verify(cp_dns *dns, int64_t now, const char *msg, size_t len, size_t chunk)
{
	cp_dkim_verify_opts o = { 0 };
	cp_dkim_verifier *v = NULL;
	cp_err err = { 0 };
	int rc;

	o.dns = dns;
	o.now = now;
	rc = cp_dkim_verifier_new(&o, &v, &err);
	CP_CHECK(rc == CP_OK, "verifier_new: %s", err.msg);
	if (rc != CP_OK)
		return NULL;
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len && rc == CP_OK; i += chunk)
		rc = cp_dkim_verifier_write(v, msg + i, CP_MIN(chunk, len - i),
		    &err);
	if (rc == CP_OK)
		rc = cp_dkim_verifier_finish(v, &err);
	CP_CHECK(rc == CP_OK, "verify: %s", err.msg);
	return v;
}

int
dt_sign(const cp_dkim_sign_opts *o, size_t n, const char *msg, size_t len,
    cp_buf *out)
{
	cp_dkim_signer *s = NULL;
	cp_err err = { 0 };
	int rc = cp_dkim_signer_new(o, n, &s, &err);

	if (rc == CP_OK)
		rc = cp_dkim_signer_write(s, msg, len, &err);
	if (rc == CP_OK)
		rc = cp_dkim_signer_finish(s, "\r\n", out, &err);
	if (rc == CP_OK)
		rc = cp_buf_add(out, msg, len);
	CP_CHECK(rc == CP_OK, "sign: %s", err.msg);
	cp_dkim_signer_free(s);
	return rc;
}

cp_dkim_sign_opts
dt_opts(cp_dkim_key *key, const char *selector)
{
	cp_dkim_sign_opts o = { 0 };

	o.key = key;
	o.domain = "example.com";
	o.selector = selector;
	o.hcanon = CP_DKIM_RELAXED;
	o.bcanon = CP_DKIM_RELAXED;
	o.timestamp = DT_NOW - 60;
	return o;
}
