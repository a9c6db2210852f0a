/*
 * spf_parse.c - SPF records: selection test and parser (RFC 7208).
 *
 * Turns the text of one TXT record into a cp_spf_record, checking all of
 * it before anything is evaluated, as section 4.6 requires ("syntax errors
 * anywhere in the record" are a PermError): the version (4.5), terms
 * separated by single or repeated spaces only (4.6.1), the mechanisms of
 * section 5 with their arguments and CIDR lengths (5.6 ip4/ip6, dual CIDR
 * for a and mx), the modifiers of section 6 (redirect= and exp= at most
 * once, unknown modifiers kept and ignored), domain-specs and macro-strings
 * (7.1, through spf_macro.c). Names of mechanisms and modifiers are
 * case-insensitive. No DNS here: the evaluator (spf_eval.c) and
 * `coldpost check` (static lookup counts) both start from this.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/spf/spf_int.h"
#include "coldpost/alloc.h"

#define SPF_RECORD_MAX 65535

const char *
cp_spf_verdict_name(cp_spf_verdict v)
{
	switch (v) {
	case CP_SPF_NONE: return "none";
	case CP_SPF_NEUTRAL: return "neutral";
	case CP_SPF_PASS: return "pass";
	case CP_SPF_FAIL: return "fail";
	case CP_SPF_SOFTFAIL: return "softfail";
	case CP_SPF_TEMPERROR: return "temperror";
	case CP_SPF_PERMERROR: return "permerror";
	}
	return "?";
}

int
cp_spf_verdict_from_name(const char *name)
{
	static const struct {
		const char *name;
		cp_spf_verdict v;
	} t[] = { { "none", CP_SPF_NONE }, { "neutral", CP_SPF_NEUTRAL },
		{ "pass", CP_SPF_PASS }, { "fail", CP_SPF_FAIL },
		{ "softfail", CP_SPF_SOFTFAIL }, { "temperror", CP_SPF_TEMPERROR },
		{ "permerror", CP_SPF_PERMERROR }, { "unknown", CP_SPF_PERMERROR },
		{ "error", CP_SPF_TEMPERROR } };

	for (size_t i = 0; i < CP_NELEM(t); i++)
		if (strcasecmp(name, t[i].name) == 0)
			return (int)t[i].v;
	return -1;
}

int
cp_spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || txt[6] == ' ');
}

/* ---- small scanners ----------------------------------------------------- */

static int
spf_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
spf_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * A CIDR length without leading zeros (ip4-cidr-length and
 * ip6-cidr-length of 5.6), digits only, at most max. -1 if malformed.
 */
static int
spf_cidr_value(const char *s, size_t n, int max)
{
	int v = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!spf_is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ] */
static int
spf_dual_cidr(const char *s, size_t n, int *c4, int *c6, const char **why)
{
	size_t i = 0, j;

	*c4 = *c6 = -1;
	if (n == 0)
		return CP_OK;
	if (s[0] != '/') {
		*why = "expected a CIDR length after the domain";
		return CP_ESYNTAX;
	}
	if (n > 1 && s[1] != '/') {
		for (j = 1; j < n && s[j] != '/'; j++)
			;
		*c4 = spf_cidr_value(s + 1, j - 1, 32);
		if (*c4 < 0) {
			*why = "IPv4 CIDR length must be 0-32, no leading zero";
			return CP_ESYNTAX;
		}
		i = j;
	}
	if (i == n)
		return CP_OK;
	if (n - i < 3 || s[i] != '/' || s[i + 1] != '/') {
		*why = "IPv6 CIDR length must follow '//'";
		return CP_ESYNTAX;
	}
	*c6 = spf_cidr_value(s + i + 2, n - i - 2, 128);
	if (*c6 < 0) {
		*why = "IPv6 CIDR length must be 0-128, no leading zero";
		return CP_ESYNTAX;
	}
	return CP_OK;
}

/*
 * Where a trailing dual-cidr-length starts in arg (":" domain-spec
 * [dual-cidr]): the domain-spec may itself hold '/', so only a tail of
 * "/digits", "//digits" or "/digits//digits" is taken as CIDR.
 */
static size_t
spf_cidr_split(const char *s, size_t n)
{
	size_t k = n, d;

	while (k > 0 && spf_is_digit((unsigned char)s[k - 1]))
		k--;
	if (k == n || k == 0 || s[k - 1] != '/')
		return n;
	k--; /* at the '/' */
	if (k == 0 || s[k - 1] != '/')
		return k; /* "/N" */
	k--;          /* "//N": maybe "/M" before it */
	d = k;
	while (d > 0 && spf_is_digit((unsigned char)s[d - 1]))
		d--;
	if (d < k && d > 0 && s[d - 1] == '/' && (d < 2 || s[d - 2] != '/'))
		return d - 1;
	return k;
}

/* ip4-network: four qnums, no leading zeros. */
static int
spf_parse_ip4(const char *s, size_t n, struct in_addr *out)
{
	unsigned char b[4];
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t st = i;
		int v = 0;

		while (i < n && spf_is_digit((unsigned char)s[i]) && i - st < 4)
			v = v * 10 + (s[i++] - '0');
		if (i == st || i - st > 3 || v > 255 ||
		    (i - st > 1 && s[st] == '0'))
			return -1;
		b[part] = (unsigned char)v;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
	}
	if (i != n)
		return -1;
	memcpy(out, b, 4);
	return 0;
}

static int
spf_parse_ip6(const char *s, size_t n, struct in6_addr *out)
{
	char tmp[64];

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1 ? 0 : -1;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
static int
spf_valid_mod_name(const char *s, size_t n)
{
	if (n == 0 || !spf_is_alpha((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!spf_is_alpha(c) && !spf_is_digit(c) && c != '-' && c != '_' &&
		    c != '.')
			return 0;
	}
	return 1;
}

/* ---- the record ---------------------------------------------------------- */

typedef struct parse_state {
	const char *txt;
	size_t len;
	cp_spf_record *rec;
	char *strs;     /* string storage inside rec's block */
	size_t strused;
	cp_spf_syntax *syn;
	cp_err *err;
} parse_state;

static const char *
spf_keep(parse_state *ps, const char *s, size_t n)
{
	char *d = ps->strs + ps->strused;

	memcpy(d, s, n);
	d[n] = '\0';
	ps->strused += n + 1;
	return d;
}

static void
spf_escape_term(const char *s, size_t n, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o + 5 >= outlen && outlen > 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int
spf_syntax_error(parse_state *ps, int term, size_t pos, size_t n, const char *why)
{
	cp_spf_syntax tmp, *syn = ps->syn ? ps->syn : &tmp;

	syn->pos = pos;
	syn->len = n;
	syn->term = term;
	spf_escape_term(ps->txt + pos, n, syn->text, sizeof(syn->text));
	snprintf(syn->why, sizeof(syn->why), "%s", why);
	if (term < 0)
		return cp_err_set(ps->err, CP_ESYNTAX, "spf: '%s': %s",
		    syn->text, why);
	return cp_err_set(ps->err, CP_ESYNTAX,
	    "spf: term %d '%s' (offset %zu): %s", term + 1, syn->text, pos, why);
}

static const struct {
	const char *name;
	size_t len;
	cp_spf_term_kind kind;
} mechs[] = { { "all", 3, CP_SPF_ALL }, { "include", 7, CP_SPF_INCLUDE },
	{ "a", 1, CP_SPF_A }, { "mx", 2, CP_SPF_MX }, { "ptr", 3, CP_SPF_PTR },
	{ "ip4", 3, CP_SPF_IP4 }, { "ip6", 3, CP_SPF_IP6 },
	{ "exists", 6, CP_SPF_EXISTS } };

/* A domain-spec argument: checked, and stored when valid. */
static int
spf_domain_arg(parse_state *ps, cp_spf_term *t, int idx, const char *s, size_t n,
    size_t pos, size_t tlen, const char *what)
{
	const char *why;
	size_t at;
	char msg[128];

	if (n == 0) {
		snprintf(msg, sizeof(msg), "%s: empty domain-spec", what);
		return spf_syntax_error(ps, idx, pos, tlen, msg);
	}
	if (spf_domain_spec_check(s, n, &why, &at) != CP_OK) {
		snprintf(msg, sizeof(msg), "%s: %s", what, why);
		return spf_syntax_error(ps, idx, pos, tlen, msg);
	}
	t->arg = spf_keep(ps, s, n);
	return CP_OK;
}

static int
spf_parse_modifier(parse_state *ps, cp_spf_term *t, int idx, const char *s,
    size_t n, size_t eq, size_t pos)
{
	cp_spf_record *rec = ps->rec;
	const char *val = s + eq + 1;
	size_t vlen = n - eq - 1;
	const char *why;
	size_t at;

	if (!spf_valid_mod_name(s, eq))
		return spf_syntax_error(ps, idx, pos, n,
		    "modifier name must start with a letter and hold only "
		    "letters, digits, '-', '_', '.'");
	t->qualifier = 0;
	if (eq == 8 && strncasecmp(s, "redirect", 8) == 0) {
		if (rec->redirect >= 0)
			return spf_syntax_error(ps, idx, pos, n,
			    "redirect= appears twice");
		t->kind = CP_SPF_REDIRECT;
		rec->redirect = idx;
		return spf_domain_arg(ps, t, idx, val, vlen, pos, n, "redirect=");
	}
	if (eq == 3 && strncasecmp(s, "exp", 3) == 0) {
		if (rec->exp >= 0)
			return spf_syntax_error(ps, idx, pos, n, "exp= appears twice");
		t->kind = CP_SPF_EXP;
		rec->exp = idx;
		return spf_domain_arg(ps, t, idx, val, vlen, pos, n, "exp=");
	}
	t->kind = CP_SPF_UNKNOWN_MOD;
	if (spf_macro_check(val, vlen, SPF_MACRO_ANY, &why, &at) != CP_OK) {
		char msg[128];

		snprintf(msg, sizeof(msg), "modifier value: %s", why);
		return spf_syntax_error(ps, idx, pos, n, msg);
	}
	t->name = spf_keep(ps, s, eq);
	t->arg = spf_keep(ps, val, vlen);
	return CP_OK;
}

static int
spf_parse_mechanism(parse_state *ps, cp_spf_term *t, int idx, const char *s,
    size_t n, size_t pos)
{
	const char *p = s, *why = NULL, *rest;
	size_t nl, rn, k;
	size_t i;
	int rc;
	char msg[128];

	t->qualifier = '+';
	if (*p == '+' || *p == '-' || *p == '~' || *p == '?') {
		t->qualifier = *p;
		p++;
	}
	nl = strcspn(p, ":/"); /* p is NUL-terminated inside a copy */
	if ((size_t)(p - s) + nl > n)
		nl = n - (size_t)(p - s);
	for (i = 0; i < CP_NELEM(mechs); i++)
		if (mechs[i].len == nl &&
		    strncasecmp(p, mechs[i].name, nl) == 0)
			break;
	if (i == CP_NELEM(mechs))
		return spf_syntax_error(ps, idx, pos, n, nl == 0
		    ? "missing mechanism name" : "unknown mechanism");
	t->kind = mechs[i].kind;
	rest = p + nl;
	rn = n - (size_t)(rest - s);
	switch (t->kind) {
	case CP_SPF_ALL:
		if (rn != 0)
			return spf_syntax_error(ps, idx, pos, n,
			    "all takes no argument");
		ps->rec->has_all = 1;
		return CP_OK;
	case CP_SPF_INCLUDE:
	case CP_SPF_EXISTS:
		if (rn == 0 || rest[0] != ':')
			return spf_syntax_error(ps, idx, pos, n, t->kind ==
			    CP_SPF_INCLUDE ? "include needs ':domain'"
					   : "exists needs ':domain'");
		return spf_domain_arg(ps, t, idx, rest + 1, rn - 1, pos, n,
		    mechs[i].name);
	case CP_SPF_PTR:
		if (rn == 0)
			return CP_OK;
		if (rest[0] != ':')
			return spf_syntax_error(ps, idx, pos, n,
			    "ptr takes no CIDR length");
		return spf_domain_arg(ps, t, idx, rest + 1, rn - 1, pos, n, "ptr");
	case CP_SPF_A:
	case CP_SPF_MX:
		if (rn == 0)
			return CP_OK;
		if (rest[0] == '/') {
			if (spf_dual_cidr(rest, rn, &t->cidr4, &t->cidr6, &why) !=
			    CP_OK) {
				snprintf(msg, sizeof(msg), "%s: %s",
				    mechs[i].name, why);
				return spf_syntax_error(ps, idx, pos, n, msg);
			}
			return CP_OK;
		}
		k = spf_cidr_split(rest + 1, rn - 1);
		if (spf_dual_cidr(rest + 1 + k, rn - 1 - k, &t->cidr4, &t->cidr6,
		    &why) != CP_OK) {
			snprintf(msg, sizeof(msg), "%s: %s", mechs[i].name, why);
			return spf_syntax_error(ps, idx, pos, n, msg);
		}
		return spf_domain_arg(ps, t, idx, rest + 1, k, pos, n,
		    mechs[i].name);
	case CP_SPF_IP4:
	case CP_SPF_IP6: {
		int v6 = t->kind == CP_SPF_IP6;
		const char *net;
		size_t netlen, sl;

		if (rn < 2 || rest[0] != ':')
			return spf_syntax_error(ps, idx, pos, n, v6
			    ? "ip6 needs ':address'" : "ip4 needs ':address'");
		net = rest + 1;
		sl = strcspn(net, "/");
		netlen = sl < rn - 1 ? sl : rn - 1;
		if (v6)
			rc = spf_parse_ip6(net, netlen, &t->net.v6);
		else
			rc = spf_parse_ip4(net, netlen, &t->net.v4);
		if (rc != 0)
			return spf_syntax_error(ps, idx, pos, n, v6
			    ? "not an IPv6 address"
			    : "not a dotted-quad IPv4 address (no leading "
			      "zeros, no port, all four parts)");
		if (netlen < rn - 1) {
			int c = spf_cidr_value(net + netlen + 1, rn - 2 - netlen,
			    v6 ? 128 : 32);

			if (c < 0)
				return spf_syntax_error(ps, idx, pos, n, v6
				    ? "IPv6 CIDR length must be /0 to /128, "
				      "no leading zero"
				    : "IPv4 CIDR length must be /0 to /32, "
				      "no leading zero");
			if (v6)
				t->cidr6 = c;
			else
				t->cidr4 = c;
		}
		return CP_OK;
	}
	default:
		break;
	}
	return CP_OK;
}

static int
spf_parse_term(parse_state *ps, int idx, size_t pos, size_t n)
{
	const char *s = ps->txt + pos;
	cp_spf_term *t = &ps->rec->terms[idx];
	const char *copy;
	size_t sep;

	memset(t, 0, sizeof(*t));
	t->cidr4 = t->cidr6 = -1;
	t->pos = pos;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e)
			return spf_syntax_error(ps, idx, pos, n, c >= 0x80
			    ? "non-ASCII byte (records are 7-bit ASCII)"
			    : "control character (terms are separated by "
			      "spaces only)");
	}
	copy = spf_keep(ps, s, n);
	t->text = copy;
	/* a modifier when '=' comes before any ':' or '/' (4.6.1) */
	sep = strcspn(copy, "=:/");
	if (sep < n && copy[sep] == '=')
		return spf_parse_modifier(ps, t, idx, copy, n, sep, pos);
	return spf_parse_mechanism(ps, t, idx, copy, n, pos);
}

int
cp_spf_parse_record(const char *txt, size_t len, cp_spf_record **out,
    cp_spf_syntax *syn, cp_err *err)
{
	parse_state ps = { txt, len, NULL, NULL, 0, syn, err };
	size_t nterms = 0, i, block;
	cp_spf_record *rec;
	int rc = CP_OK, idx = 0;

	*out = NULL;
	if (syn != NULL) /* callers may print it after any failure, ENOMEM too */
		memset(syn, 0, sizeof(*syn));
	if (len > SPF_RECORD_MAX)
		return cp_err_set(err, CP_ETOOBIG,
		    "spf: record of %zu bytes, over %d", len, SPF_RECORD_MAX);
	if (!cp_spf_is_record(txt, len))
		return spf_syntax_error(&ps, -1, 0, CP_MIN(len, (size_t)16),
		    "not an SPF record: it must start with \"v=spf1\" and a "
		    "space");
	for (i = 6; i < len; i++)
		if (txt[i] != ' ' && (i == 6 || txt[i - 1] == ' '))
			nterms++;
	/* one block: the record, its terms, then their strings (each term's
	 * text, arg and name are substrings of it: 3x plus NULs is enough) */
	block = sizeof(*rec) + nterms * sizeof(cp_spf_term) + 3 * len + 3 *
	    nterms + 1;
	rec = cp_malloc(block);
	if (rec == NULL)
		return cp_err_set(err, CP_ENOMEM, "spf: out of memory");
	memset(rec, 0, sizeof(*rec)); /* terms are set one by one, strings
					 are written before they are read */
	rec->terms = (cp_spf_term *)(rec + 1);
	rec->redirect = rec->exp = -1;
	ps.rec = rec;
	ps.strs = (char *)(rec->terms + nterms);
	for (i = 6; i < len && rc == CP_OK;) {
		size_t st;

		while (i < len && txt[i] == ' ')
			i++;
		if (i == len)
			break;
		st = i;
		while (i < len && txt[i] != ' ')
			i++;
		rc = spf_parse_term(&ps, idx, st, i - st);
		idx++;
	}
	if (rc != CP_OK) {
		cp_free(rec);
		return rc;
	}
	rec->nterms = nterms;
	for (i = 0; i < nterms; i++) {
		switch (rec->terms[i].kind) {
		case CP_SPF_INCLUDE:
		case CP_SPF_A:
		case CP_SPF_MX:
		case CP_SPF_PTR:
		case CP_SPF_EXISTS: rec->ndns++; break;
		case CP_SPF_REDIRECT:
			if (!rec->has_all)
				rec->ndns++;
			break;
		default: break;
		}
	}
	*out = rec;
	return CP_OK;
}

void
cp_spf_record_free(cp_spf_record *rec)
{
	cp_free(rec);
}

int
cp_spf_check_explain_string(const char *txt, size_t len, cp_err *err)
{
	const char *why;
	size_t at;

	if (spf_macro_check(txt, len, SPF_MACRO_EXP, &why, &at) != CP_OK)
		return cp_err_set(err, CP_ESYNTAX,
		    "spf: explanation: %s at offset %zu", why, at);
	return CP_OK;
}
