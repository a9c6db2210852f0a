/*
 * dnsbl.c - DNS block list checks (coldpost/dnsbl.h).
 *
 * The query name of an IP list is the address reversed: IPv4 octets in
 * reverse order (RFC 5782 2.1), IPv6 as 32 nibbles in reverse order like
 * ip6.arpa (RFC 5782 2.4, RFC 3596 2.5); a domain list takes the domain
 * itself (RFC 5782 2.3). A listing is an A record in 127.0.0.0/8 (RFC 5782
 * 2.1, 2.2) with the list's reason in a TXT record at the same name.
 * Codes are decoded from a built-in table per list; answers that mean
 * "query refused" (Spamhaus 127.255.255.x, DBL 127.0.1.255, URIBL
 * 127.0.0.1) are told apart from listings, and an answer outside 127/8 (a
 * resolver that rewrites NXDOMAIN) is an error. All lookups run at once
 * on the asynchronous API of coldpost/dns.h.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/dnsbl.h"

#define IP4(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | \
	    (uint32_t)(d))

/* Spamhaus' answers for a refused query, on every one of its zones. */
#define SPAMHAUS_REFUSALS                                                     \
	{ IP4(127, 255, 255, 252), NULL,                                      \
	    "query refused: typo in the zone name (not a listing)", 1 },      \
	{ IP4(127, 255, 255, 254), NULL,                                      \
	    "query refused: it came through a public/open resolver; use "     \
	    "your own resolver or a Spamhaus DQS key (not a listing)", 1 },   \
	{ IP4(127, 255, 255, 255), NULL,                                      \
	    "query refused: too many queries from this resolver (not a "      \
	    "listing)", 1 }

static const cp_dnsbl_code zen_codes[] = {
	{ IP4(127, 0, 0, 2), "SBL", "known spam source, operation or service", 0 },
	{ IP4(127, 0, 0, 3), "SBL CSS", "snowshoe or automated spam source", 0 },
	{ IP4(127, 0, 0, 4), "XBL", "hijacked or exploited host (bot, proxy, "
	    "trojan)", 0 },
	{ IP4(127, 0, 0, 5), "XBL", "hijacked or exploited host (bot, proxy, "
	    "trojan)", 0 },
	{ IP4(127, 0, 0, 6), "XBL", "hijacked or exploited host (bot, proxy, "
	    "trojan)", 0 },
	{ IP4(127, 0, 0, 7), "XBL", "hijacked or exploited host (bot, proxy, "
	    "trojan)", 0 },
	{ IP4(127, 0, 0, 9), "SBL DROP/EDROP", "network on the don't route or "
	    "peer list", 0 },
	{ IP4(127, 0, 0, 10), "PBL ISP", "end-user IP that by its ISP's policy "
	    "should not send mail directly", 0 },
	{ IP4(127, 0, 0, 11), "PBL Spamhaus", "end-user IP (range maintained by "
	    "Spamhaus) that should not send mail directly", 0 },
	SPAMHAUS_REFUSALS,
};

static const cp_dnsbl_code dbl_codes[] = {
	{ IP4(127, 0, 1, 2), "DBL", "spam domain", 0 },
	{ IP4(127, 0, 1, 4), "DBL", "phishing domain", 0 },
	{ IP4(127, 0, 1, 5), "DBL", "malware domain", 0 },
	{ IP4(127, 0, 1, 6), "DBL", "botnet command and control domain", 0 },
	{ IP4(127, 0, 1, 102), "DBL abused", "abused legitimate domain: spam", 0 },
	{ IP4(127, 0, 1, 103), "DBL abused", "abused legitimate domain: "
	    "redirector or URL shortener", 0 },
	{ IP4(127, 0, 1, 104), "DBL abused", "abused legitimate domain: "
	    "phishing", 0 },
	{ IP4(127, 0, 1, 105), "DBL abused", "abused legitimate domain: "
	    "malware", 0 },
	{ IP4(127, 0, 1, 106), "DBL abused", "abused legitimate domain: "
	    "botnet command and control", 0 },
	{ IP4(127, 0, 1, 255), NULL, "query refused: an IP address was "
	    "queried against DBL (not a listing)", 1 },
	SPAMHAUS_REFUSALS,
};

static const cp_dnsbl_code one_code[] = {
	{ IP4(127, 0, 0, 2), NULL, "listed", 0 },
};

static const cp_dnsbl_code sorbs_codes[] = {
	{ IP4(127, 0, 0, 2), "HTTP", "open HTTP proxy", 0 },
	{ IP4(127, 0, 0, 3), "SOCKS", "open SOCKS proxy", 0 },
	{ IP4(127, 0, 0, 4), "MISC", "other open proxy", 0 },
	{ IP4(127, 0, 0, 5), "SMTP", "open SMTP relay", 0 },
	{ IP4(127, 0, 0, 6), "SPAM", "spam source", 0 },
	{ IP4(127, 0, 0, 7), "WEB", "vulnerable web server", 0 },
	{ IP4(127, 0, 0, 8), "BLOCK", "owner asked not to be tested", 0 },
	{ IP4(127, 0, 0, 9), "ZOMBIE", "hijacked network", 0 },
	{ IP4(127, 0, 0, 10), "DUL", "dynamic IP address", 0 },
	{ IP4(127, 0, 0, 11), "BADCONF", "bad configuration", 0 },
	{ IP4(127, 0, 0, 12), "NOMAIL", "domain that sends no mail", 0 },
	{ IP4(127, 0, 0, 14), "NOSERVER", "IP address with no server", 0 },
};

/* Bitmask lists: value is the bit of the last octet. */
static const cp_dnsbl_code surbl_codes[] = {
	{ 1, NULL, "query refused: access to SURBL blocked (not a listing)",
	    1 },
	{ 8, "PH", "phishing", 0 },
	{ 16, "MW", "malware", 0 },
	{ 64, "ABUSE", "spam and other abuse", 0 },
	{ 128, "CR", "cracked (compromised) site", 0 },
};

static const cp_dnsbl_code uribl_codes[] = {
	{ 1, NULL, "query refused: the resolver is blocked by URIBL (not a "
	    "listing)", 1 },
	{ 2, "black", "domain seen in spam", 0 },
	{ 4, "grey", "domain of bulk senders, some of it unsolicited", 0 },
	{ 8, "red", "domain seen in spam from new or unknown senders", 0 },
};

static const cp_dnsbl_list builtin[] = {
	{ "Spamhaus ZEN", "zen.spamhaus.org", CP_DNSBL_IP, 0, zen_codes,
	    CP_NELEM(zen_codes), "https://check.spamhaus.org/", NULL },
	{ "Barracuda BRBL", "b.barracudacentral.org", CP_DNSBL_IP, 0, one_code,
	    CP_NELEM(one_code), "https://www.barracudacentral.org/rbl/"
	    "removal-request", "needs a registered resolver" },
	{ "SpamCop", "bl.spamcop.net", CP_DNSBL_IP, 0, one_code,
	    CP_NELEM(one_code), "https://www.spamcop.net/bl.shtml", NULL },
	{ "PSBL", "psbl.surriel.com", CP_DNSBL_IP, 0, one_code,
	    CP_NELEM(one_code), "https://psbl.org/", NULL },
	{ "UCEPROTECT level 1", "dnsbl-1.uceprotect.net", CP_DNSBL_IP, 0,
	    one_code, CP_NELEM(one_code),
	    "https://www.uceprotect.net/en/rblcheck.php", NULL },
	{ "Mailspike", "bl.mailspike.net", CP_DNSBL_IP, 0, one_code,
	    CP_NELEM(one_code), "https://mailspike.org/", NULL },
	{ "SORBS", "dnsbl.sorbs.net", CP_DNSBL_IP, 0, sorbs_codes,
	    CP_NELEM(sorbs_codes), NULL,
	    "SORBS closed in 2024: its answers may be stale or absent" },
	{ "Spamhaus DBL", "dbl.spamhaus.org", CP_DNSBL_DOMAIN, 0, dbl_codes,
	    CP_NELEM(dbl_codes), "https://check.spamhaus.org/", NULL },
	{ "SURBL", "multi.surbl.org", CP_DNSBL_DOMAIN, 1, surbl_codes,
	    CP_NELEM(surbl_codes), "https://www.surbl.org/surbl-analysis",
	    NULL },
	{ "URIBL", "multi.uribl.com", CP_DNSBL_DOMAIN, 1, uribl_codes,
	    CP_NELEM(uribl_codes), "https://admin.uribl.com/", NULL },
};

const cp_dnsbl_list *
cp_dnsbl_builtin(size_t *n)
{
	*n = CP_NELEM(builtin);
	return builtin;
}

/* A host name: labels of letters, digits, '-' and '_', 63 bytes at most
 * (RFC 1035 2.3.4), a trailing dot allowed. */
static int
is_domain(const char *s)
{
	size_t label = 0, n = 0;

	for (const char *p = s; *p != '\0'; p++, n++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (label == 0 && p[1] != '\0')
				return 0;
			if (label == 0 && p == s)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return n > 0 && n <= 254;
}

int
cp_dnsbl_list_from_spec(const char *spec, char *zone_buf, size_t zonelen,
    cp_dnsbl_list *out, cp_err *err)
{
	const char *colon = strchr(spec, ':');
	size_t zl = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	int kind = -1;

	if (colon != NULL) {
		if (strcmp(colon + 1, "ip") == 0)
			kind = CP_DNSBL_IP;
		else if (strcmp(colon + 1, "domain") == 0)
			kind = CP_DNSBL_DOMAIN;
		else
			return cp_err_set(err, CP_EINVAL, "list '%s': kind "
			    "must be ip or domain", spec);
	}
	while (zl > 0 && spec[zl - 1] == '.')
		zl--;
	if (zl == 0)
		return cp_err_set(err, CP_EINVAL, "list '%s': no zone", spec);
	if (zl >= zonelen)
		return cp_err_set(err, CP_ETOOBIG, "list '%s': zone too long",
		    spec);
	memcpy(zone_buf, spec, zl);
	zone_buf[zl] = '\0';
	if (!is_domain(zone_buf))
		return cp_err_set(err, CP_EINVAL, "list '%s': '%s' is not a "
		    "DNS zone name", spec, zone_buf);
	for (size_t i = 0; i < CP_NELEM(builtin); i++)
		if (strcasecmp(builtin[i].zone, zone_buf) == 0) {
			*out = builtin[i];
			out->zone = zone_buf;
			if (kind >= 0)
				out->kind = (cp_dnsbl_kind)kind;
			return CP_OK;
		}
	memset(out, 0, sizeof(*out));
	out->name = zone_buf;
	out->zone = zone_buf;
	out->kind = kind >= 0 ? (cp_dnsbl_kind)kind : CP_DNSBL_IP;
	return CP_OK;
}

int
cp_dnsbl_set_add(cp_dnsbl_set *s, const char *spec, cp_err *err)
{
	char zone[256];
	cp_dnsbl_list l, *nl;
	char **nz, *z;
	int rc;

	if (s->n >= CP_DNSBL_SET_MAX)
		return cp_err_set(err, CP_ETOOBIG, "more than %d lists",
		    CP_DNSBL_SET_MAX);
	rc = cp_dnsbl_list_from_spec(spec, zone, sizeof(zone), &l, err);
	if (rc != CP_OK)
		return rc;
	z = cp_strdup(zone);
	nl = cp_realloc(s->lists, (s->n + 1) * sizeof(*nl));
	if (nl != NULL)
		s->lists = nl;
	nz = cp_realloc(s->zones, (s->n + 1) * sizeof(*nz));
	if (nz != NULL)
		s->zones = nz;
	if (z == NULL || nl == NULL || nz == NULL) {
		cp_free(z);
		return cp_err_set(err, CP_ENOMEM, "out of memory");
	}
	/* a custom list's name is its zone: point both at the copy */
	if (l.name == l.zone)
		l.name = z;
	l.zone = z;
	s->lists[s->n] = l;
	s->zones[s->n] = z;
	s->n++;
	return CP_OK;
}

int
cp_dnsbl_set_parse(cp_dnsbl_set *s, const char *data, size_t len,
    const char *label, cp_err *err)
{
	size_t pos = 0, lineno = 0;

	while (pos < len) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		size_t a = 0, b = ll;
		char spec[300];
		int rc;

		pos += ll + (nl != NULL ? 1 : 0);
		lineno++;
		if (memchr(line, '\0', ll) != NULL)
			return cp_err_set(err, CP_EINVAL, "%s: line %zu: NUL "
			    "byte", label, lineno);
		while (a < b && (line[a] == ' ' || line[a] == '\t'))
			a++;
		while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t' ||
		    line[b - 1] == '\r'))
			b--;
		if (a == b || line[a] == '#')
			continue;
		for (size_t i = a; i < b; i++)
			if (line[i] == ' ' || line[i] == '\t' ||
			    line[i] == '#')
				return cp_err_set(err, CP_EINVAL, "%s: line %zu: "
				    "one zone a line, no spaces or trailing "
				    "comments", label, lineno);
		if (b - a >= sizeof(spec))
			return cp_err_set(err, CP_EINVAL, "%s: line %zu: too "
			    "long", label, lineno);
		memcpy(spec, line + a, b - a);
		spec[b - a] = '\0';
		rc = cp_dnsbl_set_add(s, spec, err);
		if (rc != CP_OK) {
			char msg[sizeof(err->msg)];

			if (err != NULL) {
				snprintf(msg, sizeof(msg), "%s", err->msg);
				cp_err_set(err, rc, "%s: line %zu: %s", label,
				    lineno, msg);
			}
			return rc;
		}
	}
	return CP_OK;
}

void
cp_dnsbl_set_free(cp_dnsbl_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		cp_free(s->zones[i]);
	cp_free(s->zones);
	cp_free(s->lists);
	memset(s, 0, sizeof(*s));
}

int
cp_dnsbl_is_ip(const char *target)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, target, buf) == 1 ||
	    inet_pton(AF_INET6, target, buf) == 1;
}

int
cp_dnsbl_query_name(const char *target, const cp_dnsbl_list *l, char *out,
    size_t outlen, cp_err *err)
{
	unsigned char a[16];
	static const char hex[] = "0123456789abcdef";
	cp_buf b;
	int rc = CP_OK;

	cp_buf_init(&b, outlen > 0 ? outlen - 1 : 0);
	if (l->kind == CP_DNSBL_IP) {
		if (inet_pton(AF_INET, target, a) == 1) {
			rc = cp_buf_addf(&b, "%u.%u.%u.%u.", a[3], a[2], a[1],
			    a[0]);
		} else if (inet_pton(AF_INET6, target, a) == 1) {
			for (int i = 15; i >= 0 && rc == CP_OK; i--)
				rc = cp_buf_addf(&b, "%c.%c.", hex[a[i] & 15],
				    hex[a[i] >> 4]);
		} else {
			cp_buf_free(&b);
			return cp_err_set(err, CP_EINVAL, "'%s' is not an IP "
			    "address (list %s takes IPs)", target, l->zone);
		}
	} else {
		size_t tl = strlen(target);

		if (cp_dnsbl_is_ip(target) || tl == 0) {
			cp_buf_free(&b);
			return cp_err_set(err, CP_EINVAL, "'%s' is not a domain "
			    "(list %s takes domains)", target, l->zone);
		}
		while (tl > 0 && target[tl - 1] == '.')
			tl--;
		rc = cp_buf_add(&b, target, tl);
		if (rc == CP_OK)
			rc = cp_buf_addc(&b, '.');
	}
	if (rc == CP_OK)
		rc = cp_buf_adds(&b, l->zone);
	if (rc == CP_OK && b.len > 253) { /* RFC 1035 3.1 (255 on the wire) */
		cp_buf_free(&b);
		return cp_err_set(err, CP_EINVAL, "query name for '%s' on %s "
		    "longer than a DNS name may be", target, l->zone);
	}
	if (rc == CP_OK && b.len >= outlen)
		rc = CP_ETOOBIG;
	if (rc != CP_OK) {
		cp_buf_free(&b);
		return cp_err_set(err, rc == CP_ENOMEM ? CP_ENOMEM : CP_ETOOBIG,
		    "query name for '%s' on %s too long", target, l->zone);
	}
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	cp_buf_free(&b);
	return CP_OK;
}

int
cp_dnsbl_decode(const cp_dnsbl_list *l, uint32_t value, cp_dnsbl_hit *hit)
{
	memset(hit, 0, sizeof(*hit));
	snprintf(hit->addr, sizeof(hit->addr), "%u.%u.%u.%u", value >> 24,
	    (value >> 16) & 255, (value >> 8) & 255, value & 255);
	if ((value >> 24) != 127) {
		hit->meaning = "answer outside 127.0.0.0/8: not a list answer "
		    "(a resolver rewriting NXDOMAIN?)";
		return -1;
	}
	if (l->bitmask) {
		unsigned last = value & 255;

		/* refusal bit alone: refused; other bits: listings */
		for (size_t i = 0; i < l->ncodes; i++)
			if (l->codes[i].refused && last == l->codes[i].value) {
				hit->meaning = l->codes[i].meaning;
				hit->refused = 1;
				return 0;
			}
		for (size_t i = 0; i < l->ncodes; i++)
			if (!l->codes[i].refused && (last & l->codes[i].value)) {
				hit->list = l->codes[i].list;
				hit->meaning = l->codes[i].meaning;
				return 1;
			}
		hit->meaning = "listed (code not documented)";
		return 1;
	}
	for (size_t i = 0; i < l->ncodes; i++)
		if (l->codes[i].value == value) {
			hit->list = l->codes[i].list;
			hit->meaning = l->codes[i].meaning;
			hit->refused = l->codes[i].refused;
			return hit->refused ? 0 : 1;
		}
	hit->meaning = "listed (code not documented)";
	return 1;
}

/* For a bitmask list, every bit set is its own meaning: joined here. */
static int
bitmask_meanings(const cp_dnsbl_list *l, uint32_t value, cp_buf *b)
{
	int rc = CP_OK, first = 1;

	for (size_t i = 0; i < l->ncodes && rc == CP_OK; i++)
		if (!l->codes[i].refused && ((value & 255) & l->codes[i].value)) {
			rc = cp_buf_addf(b, "%s%s (%s)", first ? "" : ", ",
			    l->codes[i].meaning, l->codes[i].list);
			first = 0;
		}
	return rc;
}

const char *
cp_dnsbl_state_name(cp_dnsbl_state s)
{
	switch (s) {
	case CP_DNSBL_NOT_LISTED:
		return "not listed";
	case CP_DNSBL_LISTED:
		return "listed";
	case CP_DNSBL_BLOCKED:
		return "blocked";
	default:
		return "error";
	}
}

/* One lookup in flight: which result, which query. */
typedef struct dnsbl_job {
	cp_dns *d;
	cp_dnsbl_result *r;
	int oom;
} dnsbl_job;

static void
set_error(dnsbl_job *j, cp_dnsbl_state st, const char *msg)
{
	j->r->state = st;
	cp_free(j->r->error);
	j->r->error = cp_strdup(msg);
	if (j->r->error == NULL)
		j->oom = 1;
}

static void
txt_done(cp_dns_answer *a, void *arg)
{
	dnsbl_job *j = arg;
	cp_buf b;

	if (a == NULL) {
		j->oom = 1;
		return;
	}
	if (a->status == CP_DNS_OK) {
		cp_buf_init(&b, 65536);
		for (size_t i = 0; i < a->n; i++) {
			if (a->rr[i].type != CP_DNS_TXT)
				continue;
			if ((b.len > 0 && cp_buf_adds(&b, "; ") != CP_OK) ||
			    cp_buf_add(&b, a->rr[i].u.txt.data,
			    strnlen(a->rr[i].u.txt.data,
			    a->rr[i].u.txt.len)) != CP_OK)
				break;
		}
		if (b.len > 0) {
			j->r->txt = cp_strndup(b.data, b.len);
			if (j->r->txt == NULL)
				j->oom = 1;
		}
		cp_buf_free(&b);
	}
	cp_dns_answer_free(a);
}

static void
a_done(cp_dns_answer *a, void *arg)
{
	dnsbl_job *j = arg;
	cp_dnsbl_result *r = j->r;
	int listed = 0, refused = 0, bad = 0;

	if (a == NULL) {
		j->oom = 1;
		return;
	}
	switch (a->status) {
	case CP_DNS_NXDOMAIN:
	case CP_DNS_NODATA:
		r->state = CP_DNSBL_NOT_LISTED;
		break;
	case CP_DNS_OK:
		r->hits = cp_calloc(a->n, sizeof(*r->hits));
		if (r->hits == NULL) {
			j->oom = 1;
			break;
		}
		for (size_t i = 0; i < a->n; i++) {
			cp_dnsbl_hit *h = &r->hits[r->nhits];
			int k;

			if (a->rr[i].type != CP_DNS_A)
				continue;
			k = cp_dnsbl_decode(r->list,
			    ntohl(a->rr[i].u.a.s_addr), h);
			r->nhits++;
			if (k > 0)
				listed++;
			else if (k == 0)
				refused++;
			else
				bad++;
			if (k > 0 && r->list->bitmask &&
			    r->bits_meaning == NULL) {
				cp_buf b;

				cp_buf_init(&b, 1024);
				if (bitmask_meanings(r->list,
				    ntohl(a->rr[i].u.a.s_addr), &b) == CP_OK &&
				    b.len > 0) {
					r->bits_meaning = cp_strndup(b.data,
					    b.len);
					if (r->bits_meaning != NULL) {
						h->meaning = r->bits_meaning;
						h->list = NULL; /* in the text */
					}
				}
				cp_buf_free(&b);
			}
		}
		if (listed > 0) {
			r->state = CP_DNSBL_LISTED;
			/* the name was just accepted for the A lookup: a
			 * failure now can only be memory (dns.c reports a
			 * failed copy of the name as CP_EINVAL) */
			if (cp_dns_query_async(j->d, r->query, CP_DNS_TXT,
			    txt_done, j, NULL) != CP_OK)
				j->oom = 1;
		} else if (refused > 0) {
			set_error(j, CP_DNSBL_BLOCKED, r->hits[0].refused ?
			    r->hits[0].meaning : "query refused by the list");
			for (size_t i = 0; i < r->nhits; i++)
				if (r->hits[i].refused) {
					set_error(j, CP_DNSBL_BLOCKED,
					    r->hits[i].meaning);
					break;
				}
		} else if (bad > 0) {
			set_error(j, CP_DNSBL_ERROR, r->hits[0].meaning);
		} else {
			r->state = CP_DNSBL_NOT_LISTED;
		}
		break;
	default:
		set_error(j, CP_DNSBL_ERROR, a->why != NULL ? a->why :
		    cp_dns_status_name(a->status));
		break;
	}
	cp_dns_answer_free(a);
}

void
cp_dnsbl_results_free(cp_dnsbl_result *r, size_t n)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		cp_free(r[i].query);
		cp_free(r[i].hits);
		cp_free(r[i].txt);
		cp_free(r[i].error);
		cp_free(r[i].bits_meaning);
	}
	cp_free(r);
}

int
cp_dnsbl_check(cp_dns *d, const char *target, const cp_dnsbl_list *lists,
    size_t nlists, cp_dnsbl_result **out, size_t *nout, cp_err *err)
{
	cp_dnsbl_kind kind = cp_dnsbl_is_ip(target) ? CP_DNSBL_IP
						     : CP_DNSBL_DOMAIN;
	cp_dnsbl_result *r;
	dnsbl_job *jobs;
	size_t n = 0;
	char qname[1100];
	int rc = CP_OK;

	*out = NULL;
	*nout = 0;
	if (kind == CP_DNSBL_DOMAIN && !is_domain(target))
		return cp_err_set(err, CP_EINVAL, "'%s' is neither an IP nor "
		    "a domain", target);
	for (size_t i = 0; i < nlists; i++)
		if (lists[i].kind == kind)
			n++;
	if (n == 0)
		return cp_err_set(err, CP_EINVAL, "no %s list to check '%s' "
		    "against", kind == CP_DNSBL_IP ? "IP" : "domain", target);
	r = cp_calloc(n, sizeof(*r));
	jobs = cp_calloc(n, sizeof(*jobs));
	if (r == NULL || jobs == NULL) {
		cp_free(r);
		cp_free(jobs);
		return cp_err_set(err, CP_ENOMEM, "out of memory");
	}
	n = 0;
	for (size_t i = 0; i < nlists && rc == CP_OK; i++) {
		if (lists[i].kind != kind)
			continue;
		r[n].list = &lists[i];
		r[n].state = CP_DNSBL_ERROR;
		jobs[n].d = d;
		jobs[n].r = &r[n];
		n++;
		rc = cp_dnsbl_query_name(target, &lists[i], qname,
		    sizeof(qname), err);
		if (rc != CP_OK)
			break;
		r[n - 1].query = cp_strdup(qname);
		if (r[n - 1].query == NULL) {
			rc = cp_err_set(err, CP_ENOMEM, "out of memory");
			break;
		}
		rc = cp_dns_query_async(d, qname, CP_DNS_A, a_done, &jobs[n - 1],
		    err);
		/* qname is well formed (checked above): CP_EINVAL here is
		 * dns.c failing to allocate its normalised copy */
		if (rc == CP_EINVAL)
			rc = cp_err_set(err, CP_ENOMEM, "out of memory");
	}
	/* drive every lookup (also after a failure: callbacks point at jobs) */
	while (cp_dns_pending(d) > 0) {
		struct pollfd pfd[CP_DNS_MAX_FDS];
		size_t nfd = cp_dns_pollfds(d, pfd, CP_DNS_MAX_FDS);
		int ms = cp_dns_timeout_ms(d);

		if (poll(pfd, nfd, ms) < 0)
			nfd = 0;
		cp_dns_process(d, pfd, nfd);
	}
	for (size_t i = 0; i < n; i++)
		if (jobs[i].oom && rc == CP_OK)
			rc = cp_err_set(err, CP_ENOMEM, "out of memory");
	if (rc != CP_OK) {
		cp_free(jobs);
		cp_dnsbl_results_free(r, n);
		return rc;
	}
	cp_free(jobs);
	*out = r;
	*nout = n;
	return CP_OK;
}
