/*
 * dmarc_parse.c - the DMARC policy record (RFC 7489 6.3 and the ABNF of
 * 6.4; np= from RFC 9091 4.1), parsed strictly from a TXT record's bytes.
 *
 * The record is a list of tag=value pairs separated by ';' and WSP. It
 * must open with v=DMARC1 ("DMARC1" is case-sensitive: %x44 %x4d ... in
 * the ABNF; tag names and keywords are quoted ABNF strings, so not). Known
 * tags are checked against their grammar and a known tag twice is an
 * error; unknown tags are skipped (6.3: "Unknown tags MUST be ignored").
 * Errors name the tag and what is wrong. A missing or invalid p= (or an
 * invalid sp=/np=) is reported after the rest of the record was read, with
 * rec->bad_policy set, because RFC 7489 6.6.3 step 6 still uses such a
 * record (as p=none) when its rua= holds a usable URI; whether to do so is
 * the evaluator's decision (dmarc_eval.c), not the parser's.
 *
 * No I/O, no allocation: fuzzed as tests/fuzz/fuzz_dmarc_record.c.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/cursor.h"
#include "coldpost/dmarc.h"

/* Bits of rec->seen, one per known tag. */
enum {
	TAG_P = 1 << 0,
	TAG_SP = 1 << 1,
	TAG_NP = 1 << 2,
	TAG_ADKIM = 1 << 3,
	TAG_ASPF = 1 << 4,
	TAG_PCT = 1 << 5,
	TAG_FO = 1 << 6,
	TAG_RF = 1 << 7,
	TAG_RI = 1 << 8,
	TAG_RUA = 1 << 9,
	TAG_RUF = 1 << 10
};

/* A policy error kept until the end of the record (see the top). */
typedef struct policy_err {
	int set;
	char msg[200];
} policy_err;

void
cp_dmarc_record_init(cp_dmarc_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->adkim = CP_DMARC_ALIGN_RELAXED;
	rec->aspf = CP_DMARC_ALIGN_RELAXED;
	rec->pct = 100;
	rec->fo = CP_DMARC_FO_0;
	rec->rf_afrf = 1;
	rec->ri = 86400;
}

const char *
cp_dmarc_policy_name(cp_dmarc_policy p)
{
	switch (p) {
	case CP_DMARC_POLICY_NONE: return "none";
	case CP_DMARC_POLICY_QUARANTINE: return "quarantine";
	case CP_DMARC_POLICY_REJECT: return "reject";
	default: return "";
	}
}

const char *
cp_dmarc_align_name(cp_dmarc_align a)
{
	return a == CP_DMARC_ALIGN_STRICT ? "s" : "r";
}

static int
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
is_tagchar(int ch)
{
	return is_alpha(ch) || is_digit(ch) || ch == '_';
}

static int
is_ldh(int ch)
{
	return is_alpha(ch) || is_digit(ch) || ch == '-';
}

static int
is_hex(int ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

/*
 * Characters of a URI (RFC 3986 2.2, 2.3) that may stand unencoded in a
 * DMARC URI: ',' and '!' separate URIs and sizes there (RFC 7489 6.2 says
 * they MUST be %-encoded inside a URI), and ';' ends the tag.
 */
static int
is_urichar(int ch)
{
	return is_alpha(ch) || is_digit(ch) ||
	    (ch != 0 && strchr("-._~:/?#[]@$&'()*+=", ch) != NULL);
}

/* A value for messages: at most 40 bytes, control bytes shown as '?'. */
static const char *
shown(cp_slice s, char *buf, size_t buflen)
{
	size_t n = CP_MIN(s.len, buflen - 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s.p[i];

		buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	buf[n] = '\0';
	return buf;
}

#define SHOW(s) shown((s), show, sizeof(show))

/* 1*DIGIT into *out, at most max; 0 if not digits or too large. */
static int
parse_uint(cp_slice s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return 0;
	for (size_t i = 0; i < s.len; i++) {
		if (!is_digit((unsigned char)s.p[i]))
			return 0;
		if (v > (max - (uint64_t)(s.p[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v;
	return 1;
}

static int
parse_policy(cp_slice v, cp_dmarc_policy *out)
{
	if (cp_slice_eqi(v, "none"))
		*out = CP_DMARC_POLICY_NONE;
	else if (cp_slice_eqi(v, "quarantine"))
		*out = CP_DMARC_POLICY_QUARANTINE;
	else if (cp_slice_eqi(v, "reject"))
		*out = CP_DMARC_POLICY_REJECT;
	else
		return 0;
	return 1;
}

/* One dmarc-uri: URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]. */
static int
parse_uri(const char *tag, cp_slice u, cp_dmarc_uri *out, cp_err *err)
{
	char show[48];
	cp_slice uri = u, size = { NULL, 0 };
	const char *bang = memchr(u.p, '!', u.len);
	size_t i = 0;
	uint64_t n, mult = 1;

	if (bang != NULL) {
		uri.len = (size_t)(bang - u.p);
		size.p = bang + 1;
		size.len = u.len - uri.len - 1;
	}
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	if (uri.len == 0 || !is_alpha((unsigned char)uri.p[0]))
		return cp_err_set(err, CP_ESYNTAX,
		    "dmarc: %s=%s: not a URI (no scheme)", tag, SHOW(u));
	while (i < uri.len && (is_alpha((unsigned char)uri.p[i]) ||
	    is_digit((unsigned char)uri.p[i]) || uri.p[i] == '+' ||
	    uri.p[i] == '-' || uri.p[i] == '.'))
		i++;
	if (i == uri.len || uri.p[i] != ':' || i + 1 == uri.len)
		return cp_err_set(err, CP_ESYNTAX,
		    "dmarc: %s=%s: not a URI (expected scheme:rest)", tag,
		    SHOW(u));
	for (i++; i < uri.len; i++) {
		unsigned char ch = (unsigned char)uri.p[i];

		if (ch == '%') {
			if (i + 2 >= uri.len || !is_hex(uri.p[i + 1]) ||
			    !is_hex(uri.p[i + 2]))
				return cp_err_set(err, CP_ESYNTAX,
				    "dmarc: %s=%s: bad %%-escape in URI", tag,
				    SHOW(u));
			i += 2;
		} else if (!is_urichar(ch)) {
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: %s=%s: byte 0x%02x not allowed in a URI",
			    tag, SHOW(u), ch);
		}
	}
	if (bang != NULL) {
		cp_slice digits = size;
		char unit = size.len > 0 ? size.p[size.len - 1] : '\0';

		switch (unit) {
		case 'k': case 'K': mult = 1ULL << 10; break;
		case 'm': case 'M': mult = 1ULL << 20; break;
		case 'g': case 'G': mult = 1ULL << 30; break;
		case 't': case 'T': mult = 1ULL << 40; break;
		default: break;
		}
		if (mult > 1)
			digits.len--;
		if (!parse_uint(digits, UINT64_MAX / mult, &n))
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: %s=%s: size after '!' must be digits and an "
			    "optional k, m, g or t", tag, SHOW(u));
		out->max_size = n * mult;
	} else {
		out->max_size = 0;
	}
	if (uri.len >= sizeof(out->uri))
		return cp_err_set(err, CP_ETOOBIG,
		    "dmarc: %s: URI of %zu bytes, limit %zu", tag, uri.len,
		    sizeof(out->uri) - 1);
	memcpy(out->uri, uri.p, uri.len);
	out->uri[uri.len] = '\0';
	return CP_OK;
}

/* dmarc-auri: dmarc-uri *(*WSP "," *WSP dmarc-uri) */
static int
parse_uris(const char *tag, cp_slice v, cp_dmarc_uri *uris, size_t *n,
    size_t *nall, cp_err *err)
{
	cp_cursor c;
	cp_slice one;
	int more = 1;

	if (v.len == 0)
		return cp_err_set(err, CP_ESYNTAX, "dmarc: %s= is empty", tag);
	cp_cursor_init(&c, v.p, v.len);
	while (more) {
		cp_dmarc_uri scratch;
		int rc;

		more = cp_cursor_take_until(&c, ',', &one) == CP_OK;
		one = cp_slice_trim(one);
		if (one.len == 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: %s: empty URI in the list", tag);
		rc = parse_uri(tag, one, *n < CP_DMARC_URI_MAX ? &uris[*n]
		    : &scratch, err);
		if (rc != CP_OK)
			return rc;
		if (*n < CP_DMARC_URI_MAX)
			(*n)++;
		(*nall)++;
	}
	return CP_OK;
}

/* fo: ( "0" / "1" / "d" / "s" ) *(*WSP ":" *WSP ( "0" / "1" / "d" / "s" )) */
static int
parse_fo(cp_slice v, unsigned *out, cp_err *err)
{
	char show[48];
	cp_cursor c;
	cp_slice one;
	unsigned fo = 0;
	int more = 1;

	cp_cursor_init(&c, v.p, v.len);
	while (more) {
		more = cp_cursor_take_until(&c, ':', &one) == CP_OK;
		one = cp_slice_trim(one);
		if (cp_slice_eq(one, "0"))
			fo |= CP_DMARC_FO_0;
		else if (cp_slice_eq(one, "1"))
			fo |= CP_DMARC_FO_1;
		else if (cp_slice_eqi(one, "d"))
			fo |= CP_DMARC_FO_D;
		else if (cp_slice_eqi(one, "s"))
			fo |= CP_DMARC_FO_S;
		else
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: fo=%s: expected 0, 1, d or s separated by "
			    "':'", SHOW(v));
	}
	*out = fo;
	return CP_OK;
}

/* rf: Keyword *(*WSP ":" Keyword) */
static int
parse_rf(cp_slice v, int *afrf, cp_err *err)
{
	char show[48];
	cp_cursor c;
	cp_slice one;
	int more = 1, seen = 0;

	cp_cursor_init(&c, v.p, v.len);
	while (more) {
		more = cp_cursor_take_until(&c, ':', &one) == CP_OK;
		one = cp_slice_trim(one);
		if (one.len == 0)
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: rf=%s: empty report format", SHOW(v));
		for (size_t i = 0; i < one.len; i++)
			if (!is_ldh((unsigned char)one.p[i]))
				return cp_err_set(err, CP_ESYNTAX,
				    "dmarc: rf=%s: a format is a keyword "
				    "(letters, digits, '-')", SHOW(v));
		seen |= cp_slice_eqi(one, "afrf");
	}
	*afrf = seen;
	return CP_OK;
}

static int
dmarc_apply_tag(cp_dmarc_record *rec, cp_slice tag, cp_slice val,
    policy_err *pe, cp_err *err)
{
	static const struct {
		const char *name;
		unsigned bit;
	} known[] = { { "p", TAG_P }, { "sp", TAG_SP }, { "np", TAG_NP },
		{ "adkim", TAG_ADKIM }, { "aspf", TAG_ASPF }, { "pct", TAG_PCT },
		{ "fo", TAG_FO }, { "rf", TAG_RF }, { "ri", TAG_RI },
		{ "rua", TAG_RUA }, { "ruf", TAG_RUF } };
	char show[48];
	const char *name = NULL;
	unsigned bit = 0;
	uint64_t n;

	for (size_t i = 0; i < CP_NELEM(known); i++)
		if (cp_slice_eqi(tag, known[i].name)) {
			name = known[i].name;
			bit = known[i].bit;
			break;
		}
	if (name == NULL)
		return CP_OK; /* 6.3: unknown tags MUST be ignored */
	if (rec->seen & bit)
		return cp_err_set(err, CP_ESYNTAX, "dmarc: tag %s= appears twice",
		    name);
	rec->seen |= bit;
	switch (bit) {
	case TAG_P:
	case TAG_SP:
	case TAG_NP: {
		cp_dmarc_policy pol;

		if (!parse_policy(val, &pol)) {
			if (!pe->set) {
				pe->set = 1;
				snprintf(pe->msg, sizeof(pe->msg),
				    "dmarc: %s=%s: expected none, quarantine or "
				    "reject", name, SHOW(val));
			}
			return CP_OK;
		}
		if (bit == TAG_P)
			rec->p = pol;
		else if (bit == TAG_SP)
			rec->sp = pol;
		else
			rec->np = pol;
		return CP_OK;
	}
	case TAG_ADKIM:
	case TAG_ASPF: {
		cp_dmarc_align a;

		if (cp_slice_eqi(val, "r"))
			a = CP_DMARC_ALIGN_RELAXED;
		else if (cp_slice_eqi(val, "s"))
			a = CP_DMARC_ALIGN_STRICT;
		else
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: %s=%s: expected r (relaxed) or s (strict)",
			    name, SHOW(val));
		if (bit == TAG_ADKIM)
			rec->adkim = a;
		else
			rec->aspf = a;
		return CP_OK;
	}
	case TAG_PCT:
		/* dmarc-percent = "pct" *WSP "=" *WSP 1*3DIGIT */
		if (val.len > 3 || !parse_uint(val, 999, &n))
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: pct=%s: expected 1 to 3 digits", SHOW(val));
		if (n > 100)
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: pct=%s: out of range 0-100", SHOW(val));
		rec->pct = (unsigned)n;
		return CP_OK;
	case TAG_RI:
		if (!parse_uint(val, UINT32_MAX, &n))
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: ri=%s: expected seconds, a 32-bit unsigned "
			    "number", SHOW(val));
		rec->ri = (uint32_t)n;
		return CP_OK;
	case TAG_FO:
		return parse_fo(val, &rec->fo, err);
	case TAG_RF:
		return parse_rf(val, &rec->rf_afrf, err);
	case TAG_RUA:
		return parse_uris("rua", val, rec->rua, &rec->nrua,
		    &rec->nrua_all, err);
	default: /* TAG_RUF */
		return parse_uris("ruf", val, rec->ruf, &rec->nruf,
		    &rec->nruf_all, err);
	}
}

/* "v" *WSP "=" *WSP "DMARC1", then the end or *WSP ";". */
int
cp_dmarc_is_record(const char *txt, size_t len)
{
	cp_cursor c;
	cp_slice tag, val;

	cp_cursor_init(&c, txt, len);
	cp_cursor_skip_ws(&c);
	if (cp_cursor_take_until(&c, '=', &tag) != CP_OK)
		return 0;
	cp_cursor_take_until(&c, ';', &val);
	return cp_slice_eqi(cp_slice_trim(tag), "v") &&
	    cp_slice_eq(cp_slice_trim(val), "DMARC1");
}

int
cp_dmarc_parse_record(const char *txt, size_t len, cp_dmarc_record *rec,
    cp_err *err)
{
	char show[48];
	cp_cursor c;
	cp_slice tag, val;
	policy_err pe = { 0 };
	int rc;

	cp_cursor_init(&c, txt, len);
	cp_dmarc_record_init(rec);
	for (cp_cursor_skip_ws(&c); !cp_cursor_eof(&c); cp_cursor_skip_ws(&c)) {
		size_t at = cp_cursor_pos(&c);

		if (rec->ntags > 0 && cp_cursor_take_char(&c, ';'))
			continue; /* an empty component, or the final ';' */
		if (cp_cursor_take_until(&c, '=', &tag) != CP_OK)
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: no '=' in '%s' at offset %zu", SHOW(tag), at);
		cp_cursor_take_until(&c, ';', &val); /* last tag may omit ';' */
		tag = cp_slice_trim(tag);
		val = cp_slice_trim(val);
		if (tag.len == 0 || !is_alpha((unsigned char)tag.p[0]))
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: bad tag name '%s' at offset %zu", SHOW(tag),
			    at);
		for (size_t i = 1; i < tag.len; i++)
			if (!is_tagchar((unsigned char)tag.p[i]))
				return cp_err_set(err, CP_ESYNTAX,
				    "dmarc: bad tag name '%s' at offset %zu",
				    SHOW(tag), at);
		if (rec->ntags == 0) {
			/* 6.3: v= MUST be first and MUST be exactly DMARC1 */
			if (!cp_slice_eqi(tag, "v"))
				return cp_err_set(err, CP_ESYNTAX,
				    "dmarc: record must start with v=DMARC1, "
				    "not %s=", SHOW(tag));
			if (!cp_slice_eq(val, "DMARC1"))
				return cp_err_set(err, CP_ESYNTAX,
				    "dmarc: v=%s: expected v=DMARC1", SHOW(val));
		} else if (cp_slice_eqi(tag, "v")) {
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: v= may only be the first tag");
		} else {
			rc = dmarc_apply_tag(rec, tag, val, &pe, err);
			if (rc != CP_OK)
				return rc;
		}
		rec->ntags++;
	}
	if (rec->ntags == 0)
		return cp_err_set(err, CP_ESYNTAX, "dmarc: empty record");
	if (pe.set || rec->p == CP_DMARC_POLICY_UNSET) {
		rec->bad_policy = 1;
		if (!pe.set)
			return cp_err_set(err, CP_ESYNTAX,
			    "dmarc: no p= tag (required in a policy record)");
		/* an invalid p= leaves p UNSET; sp=/np= likewise */
		return cp_err_set(err, CP_ESYNTAX, "%s", pe.msg);
	}
	return CP_OK;
}

/* "!10m": the largest exact unit, so that parse(render(r)) == r. */
static void
render_size(char *buf, size_t buflen, uint64_t size)
{
	static const char units[] = "tgmk";

	for (int i = 0; i < 4; i++) {
		uint64_t m = 1ULL << (10 * (4 - i));

		if (size >= m && size % m == 0) {
			snprintf(buf, buflen, "!%llu%c",
			    (unsigned long long)(size / m), units[i]);
			return;
		}
	}
	snprintf(buf, buflen, "!%llu", (unsigned long long)size);
}

static void
render_uris(cp_buf *b, const char *tag, const cp_dmarc_uri *u, size_t n)
{
	if (n == 0)
		return;
	cp_buf_addf(b, "; %s=", tag);
	for (size_t i = 0; i < n; i++) {
		char size[32] = "";

		if (u[i].max_size)
			render_size(size, sizeof(size), u[i].max_size);
		cp_buf_addf(b, "%s%s%s", i ? "," : "", u[i].uri, size);
	}
}

void
cp_dmarc_render_record(const cp_dmarc_record *rec, char *out, size_t outlen)
{
	cp_buf b;

	CP_ASSERT(outlen > 0);
	cp_buf_init(&b, 64 * 1024);
	cp_buf_adds(&b, "v=DMARC1");
	if (rec->p)
		cp_buf_addf(&b, "; p=%s", cp_dmarc_policy_name(rec->p));
	if (rec->sp)
		cp_buf_addf(&b, "; sp=%s", cp_dmarc_policy_name(rec->sp));
	if (rec->np)
		cp_buf_addf(&b, "; np=%s", cp_dmarc_policy_name(rec->np));
	if (rec->adkim == CP_DMARC_ALIGN_STRICT)
		cp_buf_adds(&b, "; adkim=s");
	if (rec->aspf == CP_DMARC_ALIGN_STRICT)
		cp_buf_adds(&b, "; aspf=s");
	if (rec->pct != 100)
		cp_buf_addf(&b, "; pct=%u", rec->pct);
	if (rec->fo != CP_DMARC_FO_0) {
		const char *sep = "; fo=";

		if (rec->fo & CP_DMARC_FO_0) {
			cp_buf_addf(&b, "%s0", sep);
			sep = ":";
		}
		if (rec->fo & CP_DMARC_FO_1) {
			cp_buf_addf(&b, "%s1", sep);
			sep = ":";
		}
		if (rec->fo & CP_DMARC_FO_D) {
			cp_buf_addf(&b, "%sd", sep);
			sep = ":";
		}
		if (rec->fo & CP_DMARC_FO_S)
			cp_buf_addf(&b, "%ss", sep);
	}
	if (rec->ri != 86400)
		cp_buf_addf(&b, "; ri=%lu", (unsigned long)rec->ri);
	render_uris(&b, "rua", rec->rua, rec->nrua);
	render_uris(&b, "ruf", rec->ruf, rec->nruf);
	snprintf(out, outlen, "%s", b.data ? b.data : "");
	cp_buf_free(&b);
}
