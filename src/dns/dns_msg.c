/*
 * dns_msg.c - a DNS response message into a cp_dns_answer.
 *
 * Reads the header, the question, the answer section and the SOA of the
 * authority section of a response (RFC 1035 4.1); the additional section
 * is not needed and not read. Names, compression pointers included, are
 * expanded by c-ares (ares_expand_name, which bounds pointer loops and
 * lengths); everything else is read here with a bounds check before every
 * byte. What the RCODE, the records and the SOA mean for the caller is
 * decided here too: CNAME chains followed in the answer section (RFC 1034
 * 3.6.2, 4.3.2), NXDOMAIN vs NODATA (RFC 2308 1, 2.2; RFC 6604 for the
 * RCODE of a chain), the negative TTL min(SOA TTL, SOA MINIMUM) (RFC 2308
 * 5), TTLs over 2^31-1 read as 0 (RFC 2181 8), TXT character-strings of a
 * record joined without separator (RFC 7208 3.3), the null MX "." kept as
 * "" (RFC 7505). The input may be anything (fuzzed by fuzz_dns_answer).
 */
#include <ares.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "dns/dns_int.h"

#define HDR_LEN 12
#define MAX_HOPS 8     /* CNAMEs followed in one message */
#define MAX_RRS 1024   /* answer records looked at */
#define CLASS_IN 1

enum { RC_NOERROR = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NXDOMAIN = 3,
       RC_NOTIMP = 4, RC_REFUSED = 5 };

/* One record of the answer section, its data still in the message. */
typedef struct msg_rr {
	char *owner; /* lowercased */
	uint16_t type, cls;
	uint32_t ttl;
	size_t rdata, rdlen; /* offset and length in the message */
} msg_rr;

typedef struct msg {
	const unsigned char *p;
	size_t len;
	size_t off; /* read position */
} msg;

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

/*
 * Expand the name at off; *out is a cp_malloc'd copy (lowercased when
 * fold), *used the bytes it takes at off. CP_ESYNTAX if malformed.
 */
static int
msg_name(const msg *m, size_t off, int fold, char **out, size_t *used)
{
	char *s = NULL;
	long enclen = 0;
	int rc;

	*out = NULL;
	if (off >= m->len)
		return CP_ESYNTAX;
	rc = ares_expand_name(m->p + off, m->p, (int)m->len, &s, &enclen);
	if (rc == ARES_ENOMEM)
		return CP_ENOMEM;
	if (rc != ARES_SUCCESS || enclen <= 0 ||
	    (size_t)enclen > m->len - off) {
		ares_free_string(s);
		return CP_ESYNTAX;
	}
	*out = cp_strdup(s);
	ares_free_string(s);
	if (*out == NULL)
		return CP_ENOMEM;
	if (fold)
		lower(*out);
	*used = (size_t)enclen;
	return CP_OK;
}

/* Read one RR header at m->off (name, type, class, TTL, RDLENGTH) and
 * step over its data. */
static int
msg_rr_read(msg *m, msg_rr *rr)
{
	size_t used;
	int rc = msg_name(m, m->off, 1, &rr->owner, &used);

	if (rc != CP_OK)
		return rc;
	m->off += used;
	if (m->len - m->off < 10) {
		cp_free(rr->owner);
		rr->owner = NULL;
		return CP_ESYNTAX;
	}
	rr->type = get16(m->p + m->off);
	rr->cls = get16(m->p + m->off + 2);
	rr->ttl = get32(m->p + m->off + 4);
	if (rr->ttl > INT32_MAX) /* RFC 2181 8 */
		rr->ttl = 0;
	rr->rdlen = get16(m->p + m->off + 8);
	m->off += 10;
	if (rr->rdlen > m->len - m->off) {
		cp_free(rr->owner);
		rr->owner = NULL;
		return CP_ESYNTAX;
	}
	rr->rdata = m->off;
	m->off += rr->rdlen;
	return CP_OK;
}

/* A name that must fill the record data exactly (PTR, CNAME, NS, and the
 * end of MX). */
static int
rdata_name(const msg *m, size_t off, size_t len, char **out)
{
	size_t used;
	int rc = msg_name(m, off, 0, out, &used);

	if (rc == CP_OK && used != len) {
		cp_free(*out);
		*out = NULL;
		return CP_ESYNTAX;
	}
	return rc;
}

/* Convert the data of one record of the asked type and add it. */
static int
add_record(const msg *m, const msg_rr *r, cp_dns_answer *out)
{
	const unsigned char *d = m->p + r->rdata;
	cp_dns_rr rr;
	char *owned = NULL;
	cp_buf b;
	int rc;

	memset(&rr, 0, sizeof(rr));
	rr.type = r->type;
	rr.ttl = r->ttl;
	switch (r->type) {
	case CP_DNS_A:
		if (r->rdlen != 4)
			return CP_ESYNTAX;
		memcpy(&rr.u.a, d, 4);
		break;
	case CP_DNS_AAAA:
		if (r->rdlen != 16)
			return CP_ESYNTAX;
		memcpy(&rr.u.aaaa, d, 16);
		break;
	case CP_DNS_MX:
		if (r->rdlen < 3)
			return CP_ESYNTAX;
		rr.u.mx.pref = get16(d);
		rc = rdata_name(m, r->rdata + 2, r->rdlen - 2, &owned);
		if (rc != CP_OK)
			return rc;
		rr.u.mx.host = owned; /* "" for the root: a null MX */
		break;
	case CP_DNS_PTR:
	case CP_DNS_CNAME:
	case CP_DNS_NS:
		rc = rdata_name(m, r->rdata, r->rdlen, &owned);
		if (rc != CP_OK)
			return rc;
		rr.u.name = owned;
		break;
	case CP_DNS_TXT:
	case CP_DNS_SPF:
		/* <character-string>+ : a length byte and that many bytes */
		cp_buf_init(&b, 65535);
		for (size_t i = 0; i < r->rdlen;) {
			size_t n = d[i];

			if (n > r->rdlen - i - 1) {
				cp_buf_free(&b);
				return CP_ESYNTAX;
			}
			if (cp_buf_add(&b, d + i + 1, n) != CP_OK) {
				cp_buf_free(&b);
				return CP_ENOMEM;
			}
			i += 1 + n;
		}
		if (b.data == NULL && cp_buf_add(&b, "", 0) != CP_OK)
			return CP_ENOMEM;
		owned = b.data;
		rr.u.txt.data = owned;
		rr.u.txt.len = b.len;
		break;
	default:
		break; /* counted, data not decoded */
	}
	rc = dns_answer_add(out, &rr);
	cp_free(owned);
	return rc;
}

/* Negative TTL from the first SOA of the authority section, or 0 (not
 * to be cached, RFC 2308 5) when there is none. *found says if there was. */
static int
authority_soa(msg *m, unsigned nscount, uint32_t *ttl, int *found)
{
	*ttl = 0;
	*found = 0;
	for (unsigned i = 0; i < nscount; i++) {
		msg_rr r;
		size_t used, off;
		char *s;
		int rc = msg_rr_read(m, &r);

		if (rc != CP_OK)
			return rc;
		cp_free(r.owner);
		if (r.type != CP_DNS_SOA || r.cls != CLASS_IN)
			continue;
		/* MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM */
		off = r.rdata;
		for (int k = 0; k < 2; k++) {
			rc = msg_name(m, off, 0, &s, &used);
			if (rc != CP_OK)
				return rc;
			cp_free(s);
			off += used;
		}
		if (off > r.rdata + r.rdlen || r.rdata + r.rdlen - off != 20)
			return CP_ESYNTAX;
		*ttl = CP_MIN(r.ttl, get32(m->p + off + 16));
		if (*ttl > INT32_MAX)
			*ttl = 0;
		*found = 1;
		return CP_OK;
	}
	return CP_OK;
}

static const char *
rcode_name(unsigned rc)
{
	switch (rc) {
	case RC_FORMERR: return "FORMERR";
	case RC_SERVFAIL: return "SERVFAIL";
	case RC_NOTIMP: return "NOTIMP";
	case RC_REFUSED: return "REFUSED";
	default: return NULL;
	}
}

static int
malformed(cp_dns_answer *out, const char *what)
{
	out->status = CP_DNS_ERROR;
	out->ttl = 0;
	return dns_answer_set_why(out, "malformed DNS answer: %s", what);
}

/* Set *out's status and why from the already-read parts; see the
 * comment of cp_dns_answer_parse in dns.h for the rules. */
static int
answer_from(msg *m, unsigned rcode, msg_rr *rrs, size_t nrr,
    unsigned nscount, cp_dns_answer *out, char **next, uint32_t *chain_ttl)
{
	const char *cur = out->name;
	uint32_t cttl = UINT32_MAX, neg;
	int rc, followed = 0, soa;

	for (int hops = 0;; hops++) {
		const msg_rr *cname = NULL;

		for (size_t i = 0; i < nrr; i++) {
			if (rrs[i].cls != CLASS_IN ||
			    strcmp(rrs[i].owner, cur) != 0)
				continue;
			if (rrs[i].type == out->type) {
				rc = add_record(m, &rrs[i], out);
				if (rc == CP_ESYNTAX) {
					char what[300];

					snprintf(what, sizeof(what),
					    "bad %s record data for %s",
					    cp_dns_type_name(rrs[i].type), cur);
					return malformed(out, what);
				}
				if (rc != CP_OK)
					return rc;
			} else if (rrs[i].type == CP_DNS_CNAME &&
			    out->type != CP_DNS_CNAME && cname == NULL) {
				cname = &rrs[i];
			}
		}
		if (out->n > 0) {
			if (cttl < out->ttl)
				out->ttl = cttl;
			return CP_OK;
		}
		if (cname == NULL)
			break;
		if (hops == MAX_HOPS) {
			out->status = CP_DNS_TEMPFAIL;
			return dns_answer_set_why(out,
			    "CNAME chain longer than %d or a loop at %s",
			    MAX_HOPS, out->name);
		}
		{
			char *target = NULL;

			rc = rdata_name(m, cname->rdata, cname->rdlen, &target);
			if (rc == CP_ESYNTAX)
				return malformed(out, "bad CNAME record data");
			if (rc != CP_OK)
				return rc;
			lower(target);
			cttl = CP_MIN(cttl, cname->ttl);
			/* keep the target alive while following: park it */
			cp_free(*next);
			*next = target;
			cur = target;
			followed = 1;
		}
	}
	/* no records of the type at the end of the chain */
	rc = authority_soa(m, nscount, &neg, &soa);
	if (rc == CP_ESYNTAX)
		return malformed(out, "bad authority section");
	if (rc != CP_OK)
		return rc;
	if (followed)
		neg = CP_MIN(neg, cttl);
	out->ttl = neg;
	if (rcode == RC_NXDOMAIN) {
		out->status = CP_DNS_NXDOMAIN;
	} else {
		out->status = CP_DNS_NODATA;
		/* the chain leads out of what this server answered for */
		if (followed && !soa) {
			*chain_ttl = cttl;
			return CP_OK; /* *next holds the name to ask next */
		}
	}
	cp_free(*next);
	*next = NULL;
	return CP_OK;
}

int
dns_msg_parse(const unsigned char *p, size_t len, cp_dns_answer *out,
    char **next, uint32_t *chain_ttl, cp_err *err)
{
	msg m = { p, len, HDR_LEN };
	msg_rr *rrs = NULL;
	size_t nrr = 0, used;
	unsigned qd, an, ns, rcode;
	uint16_t qtype, qclass;
	char *qname = NULL;
	int rc;

	*next = NULL;
	*chain_ttl = 0;
	out->ttl = 0;
	if (len < HDR_LEN)
		rc = malformed(out, "shorter than a header");
	else if (len > 65535)
		rc = malformed(out, "longer than 65535 bytes");
	else if (!(p[2] & 0x80))
		rc = malformed(out, "a query, not a response");
	else if ((p[2] >> 3 & 0xf) != 0)
		rc = malformed(out, "opcode is not QUERY");
	else
		rc = 1;
	if (rc != 1)
		goto done;
	rcode = p[3] & 0xf;
	qd = get16(p + 4);
	an = get16(p + 6);
	ns = get16(p + 8);
	if (qd != 1) {
		rc = malformed(out, "question count is not 1");
		goto done;
	}
	rc = msg_name(&m, m.off, 1, &qname, &used);
	if (rc == CP_ESYNTAX || (rc == CP_OK && len - m.off - used < 4)) {
		rc = malformed(out, "bad question");
		goto done;
	}
	if (rc != CP_OK)
		goto done;
	m.off += used;
	qtype = get16(p + m.off);
	qclass = get16(p + m.off + 2);
	m.off += 4;
	if (out->name == NULL) { /* take the question as asked */
		out->name = qname;
		qname = NULL;
		out->type = qtype;
	} else if (strcmp(qname, out->name) != 0 || qtype != out->type ||
	    qclass != CLASS_IN) {
		rc = malformed(out, "answers another question");
		goto done;
	}
	if (p[2] & 0x02) {
		out->status = CP_DNS_TEMPFAIL;
		rc = dns_answer_set_why(out, "truncated answer");
		goto done;
	}
	if (rcode != RC_NOERROR && rcode != RC_NXDOMAIN) {
		const char *n = rcode_name(rcode);

		out->status = CP_DNS_TEMPFAIL;
		rc = n ? dns_answer_set_why(out, "server answered %s", n)
		       : dns_answer_set_why(out, "server answered RCODE %u",
			   rcode);
		goto done;
	}
	if (an > MAX_RRS) {
		rc = malformed(out, "too many answer records");
		goto done;
	}
	rrs = cp_calloc(an ? an : 1, sizeof(*rrs));
	if (rrs == NULL) {
		rc = CP_ENOMEM;
		goto done;
	}
	for (; nrr < an; nrr++) {
		rc = msg_rr_read(&m, &rrs[nrr]);
		if (rc == CP_ESYNTAX) {
			rc = malformed(out, "bad answer section");
			goto done;
		}
		if (rc != CP_OK)
			goto done;
	}
	rc = answer_from(&m, rcode, rrs, nrr, ns, out, next, chain_ttl);
	if (rc == CP_OK && out->status != CP_DNS_NODATA) {
		cp_free(*next);
		*next = NULL;
	}
done:
	for (size_t i = 0; i < nrr; i++)
		cp_free(rrs[i].owner);
	cp_free(rrs);
	cp_free(qname);
	if (rc != CP_OK) {
		cp_free(*next);
		*next = NULL;
		if (rc == CP_ENOMEM)
			return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	}
	if (out->name == NULL) { /* a message without a usable question */
		out->name = cp_strdup("");
		if (out->name == NULL)
			return cp_err_set(err, CP_ENOMEM, "dns: out of memory");
	}
	return rc == CP_OK ? CP_OK : rc;
}
