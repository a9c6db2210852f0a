/*
 * check_records.c - small parsers of the domain check: the MTA-STS TXT
 * record (RFC 8461 3.1), the TLS-RPT TXT record (RFC 8460 3), and the
 * test for a generic (ISP-assigned) reverse-DNS name.
 *
 * Both records are "v=...; field; field" lists: fields are separated by
 * *WSP ";" *WSP, and a final ';' is allowed. The parsers are strict to
 * the ABNF of their RFC, since a sender that finds a record it cannot
 * read behaves as if there were none (RFC 8461 3.1, RFC 8460 3). They
 * read a cursor, so they take any bytes (fuzzed).
 *
 * The generic-name test is a heuristic, the one receivers apply in some
 * form (Spamhaus PBL-style rules, Microsoft's "generic rDNS" checks): the
 * client's address written into its own name, or a word ISPs use for
 * address pools. Its answer is advice, reported as such.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coldpost/check.h"
#include "coldpost/cursor.h"

static int
rec_is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

static int
rec_is_wsp(int ch)
{
	return ch == ' ' || ch == '\t';
}

static void
rec_show(cp_slice s, char *out, size_t outlen)
{
	size_t n = 0;

	for (size_t i = 0; i < s.len && n + 4 < outlen && i < 40; i++) {
		unsigned char c = (unsigned char)s.p[i];

		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s.len > 40 && n + 4 < outlen) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/*
 * The fields of a "v=X; a=b; c=d" record after the version: each field
 * goes to fn(name, value). The version must be exactly ver (case
 * sensitive, as both RFCs write it with %s).
 */
typedef int (*rec_field_fn)(void *arg, cp_slice name, cp_slice val,
    cp_err *err);

static int
rec_fields(const char *txt, size_t len, const char *what, const char *ver,
    rec_field_fn fn, void *arg, cp_err *err)
{
	cp_cursor c;
	cp_slice f;
	size_t vlen = strlen(ver);
	int rc, first = 1;

	cp_cursor_init(&c, txt, len);
	for (;;) {
		size_t start = cp_cursor_pos(&c);
		const char *eq;
		cp_slice name, val;
		char show[64];
		int last;

		last = cp_cursor_take_until(&c, ';', &f) != CP_OK;
		/* *WSP around the delimiter; the version comes first, bare */
		if (!first)
			while (f.len && rec_is_wsp((unsigned char)f.p[0])) {
				f.p++;
				f.len--;
			}
		while (f.len && rec_is_wsp((unsigned char)f.p[f.len - 1]))
			f.len--;
		if (first) {
			if (f.len != vlen || memcmp(f.p, ver, vlen) != 0) {
				rec_show(f, show, sizeof(show));
				return cp_err_set(err, CP_ESYNTAX, "%s: the record "
				    "must start with \"%s\" (found \"%s\")", what,
				    ver, show);
			}
			if (last)
				return cp_err_set(err, CP_ESYNTAX, "%s: no field "
				    "after the version", what);
			first = 0;
			continue;
		}
		if (f.len == 0) {
			if (last) /* a final ';' */
				return CP_OK;
			return cp_err_set(err, CP_ESYNTAX, "%s: empty field at "
			    "offset %zu", what, start);
		}
		eq = memchr(f.p, '=', f.len);
		if (eq == NULL) {
			rec_show(f, show, sizeof(show));
			return cp_err_set(err, CP_ESYNTAX, "%s: field \"%s\" has "
			    "no '='", what, show);
		}
		name.p = f.p;
		name.len = (size_t)(eq - f.p);
		val.p = eq + 1;
		val.len = f.len - name.len - 1;
		if ((rc = fn(arg, name, val, err)) != CP_OK)
			return rc;
		if (last)
			return CP_OK;
	}
}

/* sts-ext-name / tlsrpt-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT /
 * "_" / "-" / "."). */
static int
rec_ext_name_ok(cp_slice n)
{
	if (n.len == 0 || n.len > 32 || !rec_is_alnum((unsigned char)n.p[0]))
		return 0;
	for (size_t i = 1; i < n.len; i++) {
		int ch = (unsigned char)n.p[i];

		if (!rec_is_alnum(ch) && ch != '_' && ch != '-' && ch != '.')
			return 0;
	}
	return 1;
}

/* sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), i.e. VCHAR but ';' '='. */
static int
rec_ext_value_ok(cp_slice v)
{
	if (v.len == 0)
		return 0;
	for (size_t i = 0; i < v.len; i++) {
		int ch = (unsigned char)v.p[i];

		if (ch < 0x21 || ch > 0x7e || ch == ';' || ch == '=')
			return 0;
	}
	return 1;
}

typedef struct sts_state {
	char *id;
	size_t idlen;
	int have_id;
} sts_state;

static int
sts_field(void *arg, cp_slice name, cp_slice val, cp_err *err)
{
	sts_state *st = arg;
	char show[64];

	if (name.len == 2 && memcmp(name.p, "id", 2) == 0) {
		if (st->have_id)
			return cp_err_set(err, CP_ESYNTAX, "mta-sts: id= given "
			    "twice");
		if (val.len < 1 || val.len > 32) {
			rec_show(val, show, sizeof(show));
			return cp_err_set(err, CP_ESYNTAX, "mta-sts: id=%s: "
			    "1 to 32 letters and digits wanted", show);
		}
		for (size_t i = 0; i < val.len; i++)
			if (!rec_is_alnum((unsigned char)val.p[i])) {
				rec_show(val, show, sizeof(show));
				return cp_err_set(err, CP_ESYNTAX, "mta-sts: "
				    "id=%s: only letters and digits allowed",
				    show);
			}
		if (st->idlen > val.len) {
			memcpy(st->id, val.p, val.len);
			st->id[val.len] = '\0';
		}
		st->have_id = 1;
		return CP_OK;
	}
	if (!rec_ext_name_ok(name) || !rec_ext_value_ok(val)) {
		rec_show(name, show, sizeof(show));
		return cp_err_set(err, CP_ESYNTAX, "mta-sts: malformed field "
		    "\"%s=...\"", show);
	}
	return CP_OK;
}

int
cp_check_parse_mta_sts(const char *txt, size_t len, char *id, size_t idlen,
    cp_err *err)
{
	sts_state st = { id, idlen, 0 };
	int rc;

	if (idlen > 0)
		id[0] = '\0';
	rc = rec_fields(txt, len, "mta-sts", "v=STSv1", sts_field, &st, err);
	if (rc != CP_OK)
		return rc;
	if (!st.have_id)
		return cp_err_set(err, CP_ESYNTAX, "mta-sts: no id= field (RFC "
		    "8461 3.1 requires it)");
	return CP_OK;
}

/* A URI of the rua= list: mailto: with an address, or https:// host. */
static int
tlsrpt_uri_ok(cp_slice u)
{
	const char *at;

	for (size_t i = 0; i < u.len; i++) {
		int ch = (unsigned char)u.p[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == ';' || ch == ',')
			return 0;
	}
	if (u.len > 7 && strncasecmp(u.p, "mailto:", 7) == 0) {
		at = memchr(u.p + 7, '@', u.len - 7);
		return at != NULL && at > u.p + 7 && at < u.p + u.len - 1;
	}
	if (u.len > 8 && strncasecmp(u.p, "https://", 8) == 0)
		return u.p[8] != '/';
	return 0;
}

typedef struct tlsrpt_state {
	cp_check_tlsrpt *out;
	int have_rua;
} tlsrpt_state;

static int
tlsrpt_field(void *arg, cp_slice name, cp_slice val, cp_err *err)
{
	tlsrpt_state *st = arg;
	char show[64];

	if (name.len == 3 && memcmp(name.p, "rua", 3) == 0) {
		cp_cursor c;
		cp_slice u;
		int last = 0;

		if (st->have_rua)
			return cp_err_set(err, CP_ESYNTAX, "tls-rpt: rua= given "
			    "twice");
		st->have_rua = 1;
		cp_cursor_init(&c, val.p, val.len);
		while (!last) {
			last = cp_cursor_take_until(&c, ',', &u) != CP_OK;
			u = cp_slice_trim(u);
			if (!tlsrpt_uri_ok(u)) {
				rec_show(u, show, sizeof(show));
				return cp_err_set(err, CP_ESYNTAX, "tls-rpt: rua= "
				    "\"%s\" is not a mailto: or https: URI",
				    show);
			}
			if (st->out->nrua < CP_CHECK_TLSRPT_URIS &&
			    u.len < sizeof(st->out->rua[0])) {
				memcpy(st->out->rua[st->out->nrua], u.p, u.len);
				st->out->rua[st->out->nrua][u.len] = '\0';
				st->out->nrua++;
			}
			st->out->nrua_all++;
		}
		return CP_OK;
	}
	if (!rec_ext_name_ok(name) || !rec_ext_value_ok(val)) {
		rec_show(name, show, sizeof(show));
		return cp_err_set(err, CP_ESYNTAX, "tls-rpt: malformed field "
		    "\"%s=...\"", show);
	}
	return CP_OK;
}

int
cp_check_parse_tlsrpt(const char *txt, size_t len, cp_check_tlsrpt *out,
    cp_err *err)
{
	tlsrpt_state st = { out, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rec_fields(txt, len, "tls-rpt", "v=TLSRPTv1", tlsrpt_field, &st,
	    err);
	if (rc != CP_OK)
		return rc;
	if (!st.have_rua)
		return cp_err_set(err, CP_ESYNTAX, "tls-rpt: no rua= field (RFC "
		    "8460 3 requires it)");
	return CP_OK;
}

/* ---- generic reverse-DNS names ---------------------------------------- */

/* Words ISPs and clouds put in the names of customer addresses. */
static const char *const generic_words[] = {
	"dynamic", "dyn", "dynip", "dhcp", "pool", "dsl", "adsl", "vdsl",
	"xdsl", "sdsl", "cable", "catv", "dial", "dialup", "dialin", "ppp",
	"pppoe", "broadband", "bb", "client", "clients", "customer",
	"customers", "cust", "resnet", "residential", "subscriber", "user",
	"users", "unassigned", "unknown", "nat", "cpe", "mobile", "wireless",
	"wlan", "ftth", "fttx", "fttc", "fibre", "fiber", "modem", "reverse",
	"noname", "nohost", "static", "ip", "host", "compute",
};

/* Tokens of a name: runs of letters-and-digits. */
typedef struct ptr_tok {
	const char *p;
	size_t len;
} ptr_tok;

static size_t
ptr_tokens(const char *name, ptr_tok *t, size_t max)
{
	size_t n = 0;
	const char *p = name;

	while (*p && n < max) {
		while (*p && !rec_is_alnum((unsigned char)*p))
			p++;
		if (!*p)
			break;
		t[n].p = p;
		while (*p && rec_is_alnum((unsigned char)*p))
			p++;
		t[n].len = (size_t)(p - t[n].p);
		n++;
	}
	return n;
}

static int
ptr_tok_is(const ptr_tok *t, const char *s)
{
	return t->len == strlen(s) && strncasecmp(t->p, s, t->len) == 0;
}

/* A decimal token equal to octet v (with or without leading zeros). */
static int
ptr_tok_num(const ptr_tok *t, unsigned v)
{
	unsigned x = 0;

	if (t->len == 0 || t->len > 3)
		return 0;
	for (size_t i = 0; i < t->len; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return 0;
		x = x * 10 + (unsigned)(t->p[i] - '0');
	}
	return x == v;
}

static int
ptr_has_seq(const ptr_tok *t, size_t n, const unsigned char o[4], int rev)
{
	for (size_t i = 0; i + 4 <= n; i++) {
		size_t k;

		for (k = 0; k < 4; k++)
			if (!ptr_tok_num(&t[i + k], o[rev ? 3 - k : k]))
				break;
		if (k == 4)
			return 1;
	}
	return 0;
}

/* The name contains s (ASCII case-insensitive)? */
static int
ptr_contains(const char *name, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = name; *p; p++)
		if (strncasecmp(p, s, n) == 0)
			return 1;
	return 0;
}

int
cp_check_ptr_generic(const char *name, const char *ip, char *why,
    size_t whylen)
{
	ptr_tok t[64];
	size_t n = ptr_tokens(name, t, CP_NELEM(t));
	const char *last_label;
	size_t host_tokens = n;
	unsigned char o[4];
	struct in6_addr a6;

	if (whylen > 0)
		why[0] = '\0';
	/* the labels of the registered domain carry no signal: look only at
	   the tokens before the last two labels */
	last_label = strrchr(name, '.');
	if (last_label != NULL && last_label != name) {
		const char *p = last_label - 1;

		while (p > name && *p != '.')
			p--;
		for (host_tokens = 0; host_tokens < n &&
		    t[host_tokens].p < (p > name ? p : name); host_tokens++)
			;
	}
	if (ip != NULL && inet_pton(AF_INET, ip, o) == 1) {
		char pad[16], hex[16];

		if (ptr_has_seq(t, n, o, 0) || ptr_has_seq(t, n, o, 1)) {
			snprintf(why, whylen, "it spells out the address %s", ip);
			return 1;
		}
		snprintf(pad, sizeof(pad), "%03u%03u%03u%03u", o[0], o[1], o[2],
		    o[3]);
		snprintf(hex, sizeof(hex), "%02x%02x%02x%02x", o[0], o[1], o[2],
		    o[3]);
		if (ptr_contains(name, pad) || ptr_contains(name, hex)) {
			snprintf(why, whylen, "it encodes the address %s", ip);
			return 1;
		}
	} else if (ip != NULL && inet_pton(AF_INET6, ip, &a6) == 1) {
		char tail[16];

		/* the low 32 bits in hex, as v6 pools write them */
		snprintf(tail, sizeof(tail), "%x%04x", a6.s6_addr[12] << 8 |
		    a6.s6_addr[13], a6.s6_addr[14] << 8 | a6.s6_addr[15]);
		if (a6.s6_addr[12] | a6.s6_addr[13] | a6.s6_addr[14] |
		    a6.s6_addr[15]) {
			if (ptr_contains(name, tail)) {
				snprintf(why, whylen, "it encodes the address %s",
				    ip);
				return 1;
			}
		}
	}
	for (size_t i = 0; i < host_tokens; i++)
		for (size_t k = 0; k < CP_NELEM(generic_words); k++) {
			int digits = 0;

			if (!ptr_tok_is(&t[i], generic_words[k]))
				continue;
			/* "ip", "host", "static" and "compute" only count next
			   to numbers ("static-1-2-3-4", "host123") */
			if (strcmp(generic_words[k], "ip") == 0 ||
			    strcmp(generic_words[k], "host") == 0 ||
			    strcmp(generic_words[k], "static") == 0 ||
			    strcmp(generic_words[k], "compute") == 0) {
				for (size_t j = 0; j < n; j++)
					if (t[j].len && t[j].p[0] >= '0' &&
					    t[j].p[0] <= '9')
						digits++;
				if (digits < 2)
					continue;
			}
			snprintf(why, whylen, "it has '%s', a word ISPs use in "
			    "names of customer addresses", generic_words[k]);
			return 1;
		}
	/* four or more numeric tokens: an address in some other order */
	{
		size_t nums = 0;

		for (size_t i = 0; i < host_tokens; i++) {
			size_t k;

			for (k = 0; k < t[i].len; k++)
				if (t[i].p[k] < '0' || t[i].p[k] > '9')
					break;
			if (k == t[i].len && t[i].len <= 3)
				nums++;
		}
		if (nums >= 4) {
			snprintf(why, whylen, "it is mostly numbers, like an "
			    "address");
			return 1;
		}
	}
	return 0;
}
