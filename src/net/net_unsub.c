/*
 * net_unsub.c - the bounce domain's addresses, pure and unit-tested: which
 * RCPT the inbound listener takes (VERP return paths whose tag checks, see
 * coldpost/verp.h, and unsubscribe addresses; nothing else: no relaying),
 * the unsubscribe tokens, and the List-Unsubscribe fields added to a
 * message before it is signed.
 *
 * An unsubscribe address is unsub+TENANT-TAG@bounce.domain, TAG the first
 * 16 hex digits of HMAC-SHA256(key, "unsub" NUL TENANT NUL address in
 * lower case). It fits the 64-byte local part (RFC 5321 4.5.3.1.1) that
 * the recipient's address itself would not, so the address is not in it:
 * a mail to it unsubscribes its sender only when the sender is the
 * address the tag was made for. Fields: RFC 2369 3.2 (List-Unsubscribe,
 * URIs in angle brackets, comma separated) and RFC 8058 3.1 (one https
 * URI and List-Unsubscribe-Post: List-Unsubscribe=One-Click).
 *
 * Attribution: a report sent to a VERP return path is about the one
 * recipient that path was made for; of the report's records (RFC 3464
 * per-recipient fields, RFC 5965 feedback), the one naming that address
 * counts, else the only one, else the first failure or complaint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "coldpost/alloc.h"
#include "coldpost/bounce.h"
#include "coldpost/verp.h"
#include "net/net_int.h"

#define UNSUB_ID_MAX 19 /* digits of INT64_MAX */

static int
unsub_tag(const unsigned char *secret, size_t secret_len, int64_t tenant,
    const char *address, char tag[NET_UNSUB_TAG_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char in[32 + CP_STORE_ADDR_MAX + 1];
	size_t alen = strlen(address);
	int n;

	n = snprintf(in, sizeof(in), "unsub%c%" PRId64, '\0', tenant);
	if (n < 0 || alen > CP_STORE_ADDR_MAX)
		return -1;
	n++; /* the NUL between the tenant and the address */
	for (size_t i = 0; i < alen; i++) {
		char c = address[i];

		in[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	if (HMAC(EVP_sha256(), secret_len ? secret : (const unsigned char *)"",
	    (int)secret_len, (const unsigned char *)in, (size_t)n, mac,
	    &mac_len) == NULL || mac_len < NET_UNSUB_TAG_LEN / 2)
		return -1;
	for (size_t i = 0; i < NET_UNSUB_TAG_LEN / 2; i++) {
		tag[2 * i] = hex[mac[i] >> 4];
		tag[2 * i + 1] = hex[mac[i] & 0xf];
	}
	tag[NET_UNSUB_TAG_LEN] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int
net_unsub_make(const unsigned char *secret, size_t secret_len,
    int64_t tenant, const char *address, char *out, size_t outlen)
{
	char tag[NET_UNSUB_TAG_LEN + 1];
	int n;

	if (outlen > 0)
		out[0] = '\0';
	if (tenant <= 0 || address == NULL || address[0] == '\0')
		return CP_EINVAL;
	if (unsub_tag(secret, secret_len, tenant, address, tag) != 0)
		return CP_EIO;
	n = snprintf(out, outlen, NET_UNSUB_PREFIX "+%" PRId64 "-%s", tenant,
	    tag);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return CP_ETOOBIG;
	}
	return CP_OK;
}

int
net_unsub_parse(const char *local, size_t len, int64_t *tenant,
    char tag[NET_UNSUB_TAG_LEN + 1])
{
	const size_t plen = sizeof(NET_UNSUB_PREFIX) - 1;
	const char *p = local + plen + 1, *end = local + len, *dash;
	int64_t v = 0;

	if (len < plen + 1 || strncasecmp(local, NET_UNSUB_PREFIX, plen) != 0 ||
	    local[plen] != '+')
		return -1;
	dash = memchr(p, '-', (size_t)(end - p));
	if (dash == NULL || dash == p || dash - p > UNSUB_ID_MAX ||
	    (*p == '0') || end - dash - 1 != NET_UNSUB_TAG_LEN)
		return -1;
	for (const char *q = p; q < dash; q++) {
		if (*q < '0' || *q > '9' || v > (INT64_MAX - (*q - '0')) / 10)
			return -1;
		v = v * 10 + (*q - '0');
	}
	for (size_t i = 0; i < NET_UNSUB_TAG_LEN; i++) {
		char c = dash[1 + i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		tag[i] = c;
	}
	tag[NET_UNSUB_TAG_LEN] = '\0';
	*tenant = v;
	return 0;
}

int
net_unsub_check(const unsigned char *secret, size_t secret_len,
    int64_t tenant, const char *address, const char *tag)
{
	char want[NET_UNSUB_TAG_LEN + 1];

	if (tenant <= 0 || address == NULL || address[0] == '\0' ||
	    tag == NULL || strlen(tag) != NET_UNSUB_TAG_LEN ||
	    unsub_tag(secret, secret_len, tenant, address, want) != 0)
		return 0;
	return CRYPTO_memcmp(want, tag, NET_UNSUB_TAG_LEN) == 0;
}

int
net_inbound_classify(const char *addr, const char *domain,
    const char *prefix, const unsigned char *secret, size_t secret_len,
    net_in_rcpt *out)
{
	const char *at = strrchr(addr, '@');
	size_t dlen = strlen(domain);
	cp_err err = { 0 };

	memset(out, 0, sizeof(*out));
	/* RFC 5321 4.5.1: an SMTP server must take mail for "postmaster",
	   bare or at any domain it serves, without regard to case */
	if ((at == NULL && strcasecmp(addr, "postmaster") == 0) ||
	    (at != NULL && at - addr == 10 &&
	    strncasecmp(addr, "postmaster", 10) == 0 && dlen > 0 &&
	    strcasecmp(at + 1, domain) == 0))
		return out->kind = NET_IN_POSTMASTER;
	if (dlen == 0 || at == NULL || strlen(at + 1) != dlen ||
	    strncasecmp(at + 1, domain, dlen) != 0)
		return out->kind = NET_IN_OTHER_DOMAIN;
	if (prefix[0] != '\0' && secret_len > 0 && cp_verp_decode(prefix,
	    domain, addr, secret, secret_len, &out->rcpt, &err) == CP_OK &&
	    out->rcpt > 0)
		return out->kind = NET_IN_VERP;
	out->rcpt = 0;
	if (secret_len > 0 && net_unsub_parse(addr, (size_t)(at - addr),
	    &out->tenant, out->tag) == 0 && out->tenant > 0)
		return out->kind = NET_IN_UNSUB;
	out->tenant = 0;
	out->tag[0] = '\0';
	return out->kind = NET_IN_UNKNOWN;
}

/* One "<uri>" of List-Unsubscribe, folded onto its own line when the
 * line would pass 78 columns (RFC 5322 2.1.1, 2.2.3). */
static int
fields_add_uri(cp_buf *out, size_t *col, const char *scheme, const char *uri,
    int first)
{
	size_t n = strlen(scheme) + strlen(uri) + 2 + (first ? 1 : 2);
	int rc = CP_OK;

	if (!first)
		rc = cp_buf_adds(out, ",");
	if (rc == CP_OK && !first && *col + n > 78) {
		rc = cp_buf_adds(out, "\r\n");
		*col = 0;
	}
	if (rc == CP_OK)
		rc = cp_buf_adds(out, " <");
	if (rc == CP_OK)
		rc = cp_buf_adds(out, scheme);
	if (rc == CP_OK)
		rc = cp_buf_adds(out, uri);
	if (rc == CP_OK)
		rc = cp_buf_adds(out, ">");
	*col += n;
	return rc;
}

int
net_unsub_fields(const char *mailto, const char *https, cp_buf *out)
{
	size_t col = sizeof("List-Unsubscribe:") - 1;
	int rc;

	rc = cp_buf_adds(out, "List-Unsubscribe:");
	if (rc == CP_OK)
		rc = fields_add_uri(out, &col, "mailto:", mailto, 1);
	if (rc == CP_OK && https != NULL && https[0] != '\0')
		rc = fields_add_uri(out, &col, "", https, 0);
	if (rc == CP_OK)
		rc = cp_buf_adds(out, "\r\n");
	if (rc == CP_OK && https != NULL && https[0] != '\0')
		rc = cp_buf_adds(out, "List-Unsubscribe-Post: "
		    "List-Unsubscribe=One-Click\r\n");
	return rc;
}

int
net_insert_fields(cp_buf *msg, const char *fields, size_t len)
{
	const char *d = msg->data ? msg->data : "";
	size_t at = 0, n = msg->len;
	int found = 0, rc;

	/* the empty line: a line end at the very start, or two in a row */
	if (n > 0 && (d[0] == '\n' || (n > 1 && d[0] == '\r' && d[1] == '\n')))
		found = 1;
	for (size_t i = 0; !found && i + 1 < n; i++)
		if (d[i] == '\n' && (d[i + 1] == '\n' || (d[i + 1] == '\r' &&
		    i + 2 < n && d[i + 2] == '\n'))) {
			at = i + 1; /* after the last field's line end */
			found = 1;
		}
	if (!found) { /* a header without a body */
		if (n > 0 && d[n - 1] != '\n' &&
		    (rc = cp_buf_adds(msg, "\r\n")) != CP_OK)
			return rc;
		at = msg->len;
	}
	if ((rc = cp_buf_reserve(msg, len)) != CP_OK)
		return rc;
	memmove(msg->data + at + len, msg->data + at, msg->len - at);
	memcpy(msg->data + at, fields, len);
	msg->len += len;
	msg->data[msg->len] = '\0';
	return CP_OK;
}

int
net_report_class(const cp_bounce_rcpt *r)
{
	if (r->feedback_type[0] != '\0' || strcmp(r->reason, "feedback") == 0)
		return NET_REPORT_COMPLAINT;
	if (strcmp(r->reason, "delivered") == 0 ||
	    strcmp(r->reason, "vacation") == 0 || r->reason[0] == '\0')
		return NET_REPORT_NONE;
	if (r->action[0] == '\0' || strcasecmp(r->action, "failed") == 0)
		return NET_REPORT_FAILURE;
	return NET_REPORT_NONE; /* delayed, relayed, expanded, delivered */
}

const cp_bounce_rcpt *
net_report_pick(const cp_bounce *b, const char *addr)
{
	const cp_bounce_rcpt *first = NULL;

	for (size_t i = 0; i < b->n; i++) {
		const cp_bounce_rcpt *r = &b->rcpts[i];

		if (strcasecmp(r->recipient, addr) == 0 ||
		    strcasecmp(r->orig_recipient, addr) == 0)
			return r;
		if (first == NULL && net_report_class(r) != NET_REPORT_NONE)
			first = r;
	}
	return b->n == 1 ? &b->rcpts[0] : first;
}
