/*
 * spf_macro.c - SPF macros (RFC 7208 section 7): syntax and expansion.
 *
 * A macro-string is literal visible ASCII and macro-expands: "%{" letter
 * [digits] ["r"] [delimiters] "}", "%%", "%_" (space), "%-" ("%20"). The
 * letters s l o d i p h v work everywhere; c r t only in explanation text
 * (7.1/8). Expansion (7.3-7.4) splits a value on the delimiters (default
 * "."), optionally reverses it, keeps the rightmost N parts, joins them with
 * dots, and URL-escapes it when the letter is upper case. Names for DNS are
 * cut from the left to 253 bytes (7.3) by spf_expand_domain. The evaluator
 * supplies the values (spf_macro_env), including %{p}, which needs DNS.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth/spf/spf_int.h"
#include "coldpost/alloc.h"

static int
spf_is_delim(int c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' ||
	    c == '_' || c == '=';
}

static int
spf_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Is letter allowed here? */
static int
spf_letter_ok(int c, int flags)
{
	c = spf_lower(c);
	if (strchr("slodiphv", c) != NULL && c != '\0')
		return 1;
	if (c == 'c' || c == 'r' || c == 't')
		return (flags & (SPF_MACRO_EXP | SPF_MACRO_ANY)) != 0;
	return 0;
}

/*
 * One "%{...}" at s[0] (s[0] == '%', s[1] == '{'). Its length on success,
 * 0 on a syntax error with *why set.
 */
static size_t
spf_scan_expand(const char *s, size_t len, int flags, const char **why)
{
	size_t i = 2;
	unsigned long digits = 0;
	int nd = 0;

	if (i >= len) {
		*why = "unterminated macro '%{'";
		return 0;
	}
	if (!spf_letter_ok((unsigned char)s[i], flags)) {
		*why = strchr("crtCRT", s[i]) && s[i]
		    ? "macro letters c, r, t are allowed only in exp= text"
		    : "unknown macro letter";
		return 0;
	}
	i++;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (digits < 100000)
			digits = digits * 10 + (unsigned long)(s[i] - '0');
		nd++;
		i++;
	}
	if (nd > 0 && digits == 0) {
		*why = "macro digit transformer must be nonzero";
		return 0;
	}
	if (i < len && (s[i] == 'r' || s[i] == 'R'))
		i++;
	while (i < len && spf_is_delim((unsigned char)s[i]))
		i++;
	if (i >= len || s[i] != '}') {
		*why = "malformed macro: expected '}'";
		return 0;
	}
	return i + 1;
}

/*
 * Walk a macro-string; *last_expand_end gets the offset just after the last
 * macro-expand (0 when none).
 */
static int
spf_macro_walk(const char *s, size_t len, int flags, const char **why, size_t *at,
    size_t *last_expand_end)
{
	size_t i = 0, n;

	*last_expand_end = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 1 >= len) {
				*why = "'%' at the end (write '%%' for a percent)";
				*at = i;
				return CP_ESYNTAX;
			}
			if (s[i + 1] == '%' || s[i + 1] == '_' ||
			    s[i + 1] == '-') {
				i += 2;
				*last_expand_end = i;
				continue;
			}
			if (s[i + 1] != '{') {
				*why = "'%' must be followed by '{', '%', '_' or '-'";
				*at = i;
				return CP_ESYNTAX;
			}
			n = spf_scan_expand(s + i, len - i, flags, why);
			if (n == 0) {
				*at = i;
				return CP_ESYNTAX;
			}
			i += n;
			*last_expand_end = i;
			continue;
		}
		if (c == ' ' && (flags & SPF_MACRO_EXP)) {
			i++;
			continue;
		}
		if (c < 0x21 || c > 0x7e) {
			*why = c >= 0x80 ? "non-ASCII byte" : "control character";
			*at = i;
			return CP_ESYNTAX;
		}
		i++;
	}
	return CP_OK;
}

int
spf_macro_check(const char *s, size_t len, int flags, const char **why,
    size_t *at)
{
	size_t end;

	return spf_macro_walk(s, len, flags, why, at, &end);
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int
spf_valid_toplabel(const char *s, size_t n)
{
	int alpha = 0, dash = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = spf_lower((unsigned char)s[i]);

		if (c >= 'a' && c <= 'z')
			alpha = 1;
		else if (c == '-')
			dash = 1;
		else if (!(c >= '0' && c <= '9'))
			return 0;
	}
	if (dash)
		return s[0] != '-' && s[n - 1] != '-';
	return alpha;
}

int
spf_domain_spec_check(const char *s, size_t len, const char **why, size_t *at)
{
	size_t end, tl, dot;
	int rc = spf_macro_walk(s, len, 0, why, at, &end);

	if (rc != CP_OK)
		return rc;
	if (end == len && len > 0)
		return CP_OK; /* domain-end = macro-expand */
	tl = len;
	if (tl > end && s[tl - 1] == '.')
		tl--;
	for (dot = tl; dot > end && s[dot - 1] != '.'; dot--)
		;
	if (dot == end) {
		*why = "domain must end in a top-level label such as '.com' "
		       "(or a macro)";
		*at = end;
		return CP_ESYNTAX;
	}
	if (!spf_valid_toplabel(s + dot, tl - dot)) {
		*why = tl == dot ? "empty top-level label"
				 : "top-level label must be letters, digits and "
				   "inner '-', not all digits";
		*at = dot;
		return CP_ESYNTAX;
	}
	return CP_OK;
}

void
spf_ip_dotted(const spf_macro_env *env, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!env->v6) {
		snprintf(out, outlen, "%u.%u.%u.%u", env->ip[0], env->ip[1],
		    env->ip[2], env->ip[3]);
		return;
	}
	/* 7.3: 32 nibbles, dot-separated (upper case, as the test suite
	 * expects; DNS does not care) */
	for (int i = 0; i < 16 && o + 4 < outlen; i++) {
		out[o++] = hex[env->ip[i] >> 4];
		out[o++] = '.';
		out[o++] = hex[env->ip[i] & 15];
		out[o++] = '.';
	}
	if (o > 0)
		o--;
	out[o] = '\0';
}

static int
spf_url_escape(cp_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			rc = cp_buf_addc(out, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			rc = cp_buf_add(out, e, 3);
		}
		if (rc != CP_OK)
			return rc;
	}
	return CP_OK;
}

/*
 * Split value on the delimiters, reverse if asked, keep the rightmost keep
 * parts (0: all), join with '.', and append (URL-escaped if esc).
 */
static int
spf_transform(cp_buf *out, const char *val, size_t vlen, const char *delims,
    size_t ndelims, int reverse, unsigned long keep, int esc)
{
	size_t stackoff[130], *off = stackoff, nparts = 1, first, last;
	cp_buf tmp;
	int rc = CP_OK;

	for (size_t i = 0; i < vlen; i++)
		if (memchr(delims, val[i], ndelims) != NULL)
			nparts++;
	/* off[k] = start of part k; off[nparts] = vlen + 1 (a virtual delim) */
	if (nparts + 1 > CP_NELEM(stackoff)) {
		off = cp_malloc((nparts + 1) * sizeof(*off));
		if (off == NULL)
			return CP_ENOMEM;
	}
	off[0] = 0;
	for (size_t i = 0, k = 1; i < vlen; i++)
		if (memchr(delims, val[i], ndelims) != NULL)
			off[k++] = i + 1;
	off[nparts] = vlen + 1;
	if (keep == 0 || keep > nparts)
		keep = nparts;
	cp_buf_init(&tmp, out->max);
	/* parts in output order: reversed list's rightmost `keep` are
	 * originals keep-1 .. 0; otherwise nparts-keep .. nparts-1 */
	first = reverse ? keep - 1 : nparts - keep;
	last = reverse ? 0 : nparts - 1;
	for (size_t k = first;; k = reverse ? k - 1 : k + 1) {
		size_t st = off[k], en = off[k + 1] - 1;

		if (k != first && (rc = cp_buf_addc(&tmp, '.')) != CP_OK)
			break;
		if ((rc = cp_buf_add(&tmp, val + st, en - st)) != CP_OK)
			break;
		if (k == last)
			break;
	}
	if (rc == CP_OK) {
		if (esc)
			rc = spf_url_escape(out, tmp.data ? tmp.data : "", tmp.len);
		else
			rc = cp_buf_add(out, tmp.data ? tmp.data : "", tmp.len);
	}
	cp_buf_free(&tmp);
	if (off != stackoff)
		cp_free(off);
	return rc;
}

/* The value of one macro letter, appended raw to val. */
static int
spf_letter_value(const spf_macro_env *env, int letter, cp_buf *val)
{
	char tmp[INET6_ADDRSTRLEN + 80];

	switch (spf_lower(letter)) {
	case 's': return cp_buf_adds(val, env->sender ? env->sender : "");
	case 'l': return cp_buf_adds(val, env->local ? env->local : "");
	case 'o': return cp_buf_adds(val, env->odomain ? env->odomain : "");
	case 'd': return cp_buf_adds(val, env->domain ? env->domain : "");
	case 'h': return cp_buf_adds(val, env->helo ? env->helo : "");
	case 'v': return cp_buf_adds(val, env->v6 ? "ip6" : "in-addr");
	case 'i':
		spf_ip_dotted(env, tmp, sizeof(tmp));
		return cp_buf_adds(val, tmp);
	case 'c':
		if (env->v6)
			inet_ntop(AF_INET6, env->ip, tmp, sizeof(tmp));
		else
			spf_ip_dotted(env, tmp, sizeof(tmp));
		return cp_buf_adds(val, tmp);
	case 'r':
		return cp_buf_adds(val, env->receiver ? env->receiver
						       : "unknown");
	case 't':
		snprintf(tmp, sizeof(tmp), "%" PRId64, env->now);
		return cp_buf_adds(val, tmp);
	case 'p':
		if (env->ptr_name != NULL)
			return env->ptr_name(env->ptr_arg, env->domain, val);
		return cp_buf_adds(val, "unknown");
	default: return cp_buf_adds(val, "");
	}
}

int
spf_macro_expand(const spf_macro_env *env, const char *s, size_t len,
    int flags, cp_buf *out)
{
	cp_buf val;
	int rc = CP_OK;

	cp_buf_init(&val, out->max);
	for (size_t i = 0; i < len && rc == CP_OK;) {
		const char *why;
		size_t n, j;
		int letter, reverse = 0;
		unsigned long keep = 0;

		if (s[i] != '%' || i + 1 >= len) {
			rc = cp_buf_addc(out, s[i++]);
			continue;
		}
		switch (s[i + 1]) {
		case '%': rc = cp_buf_addc(out, '%'); i += 2; continue;
		case '_': rc = cp_buf_addc(out, ' '); i += 2; continue;
		case '-': rc = cp_buf_add(out, "%20", 3); i += 2; continue;
		case '{': break;
		default: rc = cp_buf_addc(out, s[i++]); continue;
		}
		n = spf_scan_expand(s + i, len - i, flags | SPF_MACRO_ANY, &why);
		if (n == 0) { /* not checked first: copy it as text */
			rc = cp_buf_addc(out, s[i++]);
			continue;
		}
		letter = (unsigned char)s[i + 2];
		j = i + 3;
		while (s[j] >= '0' && s[j] <= '9') {
			if (keep < 100000)
				keep = keep * 10 + (unsigned long)(s[j] - '0');
			j++;
		}
		if (s[j] == 'r' || s[j] == 'R') {
			reverse = 1;
			j++;
		}
		cp_buf_reset(&val);
		rc = spf_letter_value(env, letter, &val);
		if (rc == CP_OK) {
			size_t nd = i + n - 1 - j; /* delimiters before '}' */

			rc = spf_transform(out, val.data ? val.data : "", val.len,
			    nd ? s + j : ".", nd ? nd : 1, reverse, keep,
			    letter >= 'A' && letter <= 'Z');
		}
		i += n;
	}
	cp_buf_free(&val);
	return rc;
}

int
spf_expand_domain(const spf_macro_env *env, const char *spec, cp_buf *out)
{
	int rc;

	cp_buf_reset(out);
	rc = spf_macro_expand(env, spec, strlen(spec), 0, out);
	if (rc != CP_OK)
		return rc;
	if (out->len == 0)
		return cp_buf_add(out, "", 0);
	if (out->data[out->len - 1] == '.')
		out->data[--out->len] = '\0';
	while (out->len > SPF_NAME_MAX) {
		char *dot = memchr(out->data, '.', out->len);
		size_t cut;

		if (dot == NULL)
			break;
		cut = (size_t)(dot - out->data) + 1;
		memmove(out->data, out->data + cut, out->len - cut + 1);
		out->len -= cut;
	}
	return CP_OK;
}
