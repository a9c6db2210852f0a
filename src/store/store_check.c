/*
 * store_check.c - checks of every string the store is given.
 *
 * Nothing reaches a backend before it passed here: lengths within the
 * limits of store.h, no NUL or control bytes in text, valid UTF-8 (RFC
 * 3629 3: no overlong forms, no surrogates, nothing past U+10FFFF), and
 * the shape of each kind of value: addresses (RFC 5321 4.1.2, 4.5.3.1,
 * with SMTPUTF8 local parts and U-labels, RFC 6531 3.3), domain names
 * (RFC 1035 2.3.1, '_' allowed for selectors), IP literals, time zones,
 * PEM keys, enhanced status codes (RFC 3463 2). Errors name the field, the
 * offset and the limit.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

#define ZONEINFO "/usr/share/zoneinfo"

enum {
	TEXT_EMPTY_OK = 1, /* "" is allowed */
	TEXT_CRLF_OK = 2   /* CR, LF and HT are allowed */
};

/* Length of the UTF-8 sequence at p (n bytes left), or 0 if invalid. */
static size_t
check_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t need;
	unsigned min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		min = 0x80;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		min = 0x800;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		min = 0x10000;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static int
check_text(const char *s, size_t len, const char *what, size_t max,
    int flags, cp_err *err)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s: missing", what);
	if (len == 0 && !(flags & TEXT_EMPTY_OK))
		return cp_err_set(err, CP_EINVAL, "store: %s: empty", what);
	if (len > max)
		return cp_err_set(err, CP_ETOOBIG,
		    "store: %s: %zu bytes, limit %zu", what, len, max);
	for (size_t i = 0; i < len;) {
		size_t k;

		if (p[i] == 0)
			return cp_err_set(err, CP_EINVAL,
			    "store: %s: NUL byte at offset %zu", what, i);
		if (p[i] < 0x20 || p[i] == 0x7f) {
			if (!(flags & TEXT_CRLF_OK) ||
			    (p[i] != '\r' && p[i] != '\n' && p[i] != '\t'))
				return cp_err_set(err, CP_EINVAL,
				    "store: %s: control byte 0x%02x at offset "
				    "%zu", what, p[i], i);
		}
		k = check_utf8_seq(p + i, len - i);
		if (k == 0)
			return cp_err_set(err, CP_EINVAL,
			    "store: %s: invalid UTF-8 at offset %zu", what, i);
		i += k;
	}
	return CP_OK;
}

/* strlen, but bounded: a string longer than max reports max + 1. */
static size_t
bounded_len(const char *s, size_t max)
{
	return s == NULL ? 0 : strnlen(s, max + 1);
}

int
store_check_present(const void *p, const char *what, cp_err *err)
{
	if (p == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s: missing", what);
	return CP_OK;
}

static int
is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
}

int
cp_store_check_domain(const char *p, size_t len, const char *what,
    cp_err *err)
{
	size_t label = 0;
	int rc;

	rc = check_text(p, len, what, CP_STORE_DOMAIN_MAX, 0, err);
	if (rc != CP_OK)
		return rc;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)p[i] : '.';

		if (c == '.') {
			if (label == 0)
				return cp_err_set(err, CP_EINVAL,
				    "store: %s: empty label at offset %zu%s",
				    what, i, i == len ? " (trailing dot?)" : "");
			if (label > 63)
				return cp_err_set(err, CP_EINVAL,
				    "store: %s: label of %zu bytes before "
				    "offset %zu, limit 63", what, label, i);
			if (p[i - 1] == '-' || p[i - label] == '-')
				return cp_err_set(err, CP_EINVAL,
				    "store: %s: label starts or ends with '-' "
				    "at offset %zu", what, i - label);
			label = 0;
			continue;
		}
		if (!is_ldh(c))
			return cp_err_set(err, CP_EINVAL,
			    "store: %s: '%c' at offset %zu not allowed in a "
			    "domain name", what, c, i);
		label++;
	}
	return CP_OK;
}

int
store_check_domain_str(const char *s, const char *what, cp_err *err)
{
	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s: missing", what);
	return cp_store_check_domain(s, bounded_len(s, CP_STORE_DOMAIN_MAX),
	    what, err);
}

/* RFC 5321 4.1.2 atext, and UTF-8 (RFC 6531 3.3) */
static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 ||
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
check_local(const char *p, size_t len, const char *what, cp_err *err)
{
	if (len == 0)
		return cp_err_set(err, CP_EINVAL, "store: %s: empty local part",
		    what);
	if (len > CP_STORE_LOCAL_MAX)
		return cp_err_set(err, CP_ETOOBIG,
		    "store: %s: local part of %zu bytes, limit %d", what, len,
		    CP_STORE_LOCAL_MAX);
	if (p[0] == '"') { /* Quoted-string: any printable, '\' escapes */
		if (len < 2 || p[len - 1] != '"')
			return cp_err_set(err, CP_EINVAL,
			    "store: %s: unterminated quoted local part", what);
		for (size_t i = 1; i + 1 < len; i++) {
			if (p[i] == '\\') {
				i++;
				if (i + 1 >= len)
					return cp_err_set(err, CP_EINVAL,
					    "store: %s: '\\' at the end of the "
					    "quoted local part", what);
			} else if (p[i] == '"') {
				return cp_err_set(err, CP_EINVAL,
				    "store: %s: bare '\"' at offset %zu", what,
				    i);
			}
		}
		return CP_OK;
	}
	for (size_t i = 0; i < len; i++) { /* Dot-string */
		unsigned char c = (unsigned char)p[i];

		if (c == '.') {
			if (i == 0 || i + 1 == len || p[i + 1] == '.')
				return cp_err_set(err, CP_EINVAL,
				    "store: %s: misplaced '.' at offset %zu",
				    what, i);
		} else if (!is_atext(c)) {
			return cp_err_set(err, CP_EINVAL,
			    "store: %s: '%c' at offset %zu not allowed in a "
			    "local part", what, c, i);
		}
	}
	return CP_OK;
}

int
cp_store_check_address(const char *p, size_t len, const char *what,
    cp_err *err)
{
	const char *at = NULL, *dom;
	size_t dlen;
	int rc;

	rc = check_text(p, len, what, CP_STORE_ADDR_MAX, 0, err);
	if (rc != CP_OK)
		return rc;
	for (size_t i = len; i > 0; i--)
		if (p[i - 1] == '@') {
			at = p + i - 1;
			break;
		}
	if (at == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s: no '@'", what);
	rc = check_local(p, (size_t)(at - p), what, err);
	if (rc != CP_OK)
		return rc;
	dom = at + 1;
	dlen = len - (size_t)(dom - p);
	if (dlen > 0 && dom[0] == '[') { /* address literal, RFC 5321 4.1.3 */
		char lit[64];
		struct in6_addr a6;
		struct in_addr a4;

		if (dlen < 3 || dom[dlen - 1] != ']' || dlen - 2 >= sizeof(lit))
			return cp_err_set(err, CP_EINVAL,
			    "store: %s: malformed address literal", what);
		memcpy(lit, dom + 1, dlen - 2);
		lit[dlen - 2] = '\0';
		if (strncmp(lit, "IPv6:", 5) == 0 ?
		    inet_pton(AF_INET6, lit + 5, &a6) == 1 :
		    inet_pton(AF_INET, lit, &a4) == 1)
			return CP_OK;
		return cp_err_set(err, CP_EINVAL,
		    "store: %s: bad address literal [%s]", what, lit);
	}
	return cp_store_check_domain(dom, dlen, what, err);
}

int
store_check_address_str(const char *s, const char *what, int allow_empty,
    cp_err *err)
{
	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s: missing", what);
	if (allow_empty && s[0] == '\0')
		return CP_OK;
	return cp_store_check_address(s, bounded_len(s, CP_STORE_ADDR_MAX),
	    what, err);
}

int
store_check_name(const char *s, const char *what, cp_err *err)
{
	size_t len = bounded_len(s, CP_STORE_NAME_MAX);
	int rc = check_text(s, len, what, CP_STORE_NAME_MAX, 0, err);

	if (rc != CP_OK)
		return rc;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return cp_err_set(err, CP_EINVAL,
			    "store: %s: '%c' at offset %zu: use letters, "
			    "digits, '.', '_', '-' (a letter or digit first)",
			    what, c, i);
	}
	return CP_OK;
}

int
store_check_ip(const char *s, const char *what, cp_err *err)
{
	struct in6_addr a6;
	struct in_addr a4;
	int rc = check_text(s, bounded_len(s, STORE_IP_MAX), what, STORE_IP_MAX,
	    0, err);

	if (rc != CP_OK)
		return rc;
	if (inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1)
		return CP_OK;
	return cp_err_set(err, CP_EINVAL,
	    "store: %s: '%s' is not an IPv4 or IPv6 address", what, s);
}

int
store_norm_ip(const char *s, char out[STORE_IP_MAX + 1], const char *what,
    cp_err *err)
{
	struct in6_addr a6;
	struct in_addr a4;
	int rc = store_check_ip(s, what, err);

	if (rc != CP_OK)
		return rc;
	if (inet_pton(AF_INET, s, &a4) == 1)
		inet_ntop(AF_INET, &a4, out, STORE_IP_MAX + 1);
	else if (inet_pton(AF_INET6, s, &a6) == 1)
		inet_ntop(AF_INET6, &a6, out, STORE_IP_MAX + 1);
	return CP_OK;
}

int
store_check_host(const char *s, const char *what, cp_err *err)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s: missing", what);
	if (s[0] == '\0' || inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1)
		return CP_OK;
	return store_check_domain_str(s, what, err);
}

int
store_check_tz(const char *s, cp_err *err)
{
	size_t len = bounded_len(s, CP_STORE_TZ_MAX);
	char path[sizeof(ZONEINFO) + CP_STORE_TZ_MAX + 2];
	int rc = check_text(s, len, "time zone", CP_STORE_TZ_MAX, 0, err);

	if (rc != CP_OK)
		return rc;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '/' || c == '_' ||
		    c == '+' || c == '-'))
			return cp_err_set(err, CP_EINVAL,
			    "store: time zone '%s': '%c' not allowed", s, c);
	}
	if (s[0] == '/' || s[len - 1] == '/' || strstr(s, "//") != NULL)
		return cp_err_set(err, CP_EINVAL,
		    "store: time zone '%s': not an IANA name "
		    "(\"Europe/Paris\")", s);
	if (strcmp(s, "UTC") == 0 || access(ZONEINFO, F_OK) != 0)
		return CP_OK; /* no tz database here to look it up in */
	snprintf(path, sizeof(path), "%s/%s", ZONEINFO, s);
	if (access(path, R_OK) != 0)
		return cp_err_set(err, CP_EINVAL,
		    "store: time zone '%s': unknown (not in %s)", s, ZONEINFO);
	return CP_OK;
}

int
store_check_pem(const char *s, cp_err *err)
{
	size_t len = bounded_len(s, CP_STORE_PEM_MAX);
	int rc = check_text(s, len, "DKIM key PEM", CP_STORE_PEM_MAX,
	    TEXT_CRLF_OK, err);

	if (rc != CP_OK)
		return rc;
	if (strncmp(s, "-----BEGIN ", 11) != 0 ||
	    strstr(s, "\n-----END ") == NULL)
		return cp_err_set(err, CP_EINVAL,
		    "store: DKIM key PEM: no -----BEGIN ... -----END block");
	return CP_OK;
}

int
store_check_path(const char *s, const char *what, cp_err *err)
{
	int rc = check_text(s, bounded_len(s, CP_STORE_PATH_MAX), what,
	    CP_STORE_PATH_MAX, 0, err);

	if (rc != CP_OK)
		return rc;
	if (s[0] != '/')
		return cp_err_set(err, CP_EINVAL,
		    "store: %s: '%s' is not an absolute path", what, s);
	return CP_OK;
}

int
store_check_alg(const char *s, cp_err *err)
{
	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: DKIM alg: missing");
	if (strcmp(s, "rsa-sha256") == 0 || strcmp(s, "ed25519-sha256") == 0)
		return CP_OK;
	return cp_err_set(err, CP_EINVAL,
	    "store: DKIM alg '%.40s': use rsa-sha256 or ed25519-sha256", s);
}

int
store_check_msgid(const char *s, cp_err *err)
{
	return check_text(s, bounded_len(s, CP_STORE_MSGID_MAX), "message id",
	    CP_STORE_MSGID_MAX, TEXT_EMPTY_OK, err);
}

int
store_check_token(const char *s, const char *what, cp_err *err)
{
	size_t len = bounded_len(s, CP_STORE_TOKEN_MAX);
	int rc = check_text(s, len, what, CP_STORE_TOKEN_MAX, TEXT_EMPTY_OK,
	    err);

	if (rc != CP_OK)
		return rc;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ' ')
			return cp_err_set(err, CP_EINVAL,
			    "store: %s: space at offset %zu", what, i);
	return CP_OK;
}

/* "" or class.subject.detail, RFC 3463 2: class 2/4/5, 1-3 digits each */
int
store_check_enhanced(const char *s, cp_err *err)
{
	size_t len = bounded_len(s, 15), i = 0, digits;

	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: enhanced code: missing");
	if (len == 0)
		return CP_OK;
	if (len > 15 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		goto bad;
	for (i = 2, digits = 0; i < len && s[i] != '.'; i++, digits++)
		if (s[i] < '0' || s[i] > '9')
			goto bad;
	if (digits < 1 || digits > 3 || i == len)
		goto bad;
	for (i++, digits = 0; i < len; i++, digits++)
		if (s[i] < '0' || s[i] > '9')
			goto bad;
	if (digits >= 1 && digits <= 3)
		return CP_OK;
bad:
	return cp_err_set(err, CP_EINVAL,
	    "store: enhanced code '%.15s': not class.subject.detail", s);
}

int
store_check_password(const char *pw, size_t len, cp_err *err)
{
	if (pw == NULL || len == 0)
		return cp_err_set(err, CP_EINVAL, "store: password: empty");
	if (len > CP_STORE_PASSWORD_MAX)
		return cp_err_set(err, CP_ETOOBIG,
		    "store: password: %zu bytes, limit %d", len,
		    CP_STORE_PASSWORD_MAX);
	if (memchr(pw, '\0', len) != NULL)
		return cp_err_set(err, CP_EINVAL,
		    "store: password: contains a NUL byte");
	return CP_OK;
}
