/*
 * provision_update.c - writing records with RFC 2136 dynamic updates,
 * signed with TSIG (RFC 8945), through ldns.
 *
 * ldns builds the messages (update.h: zone section, update section) and
 * signs and verifies them (tsig.h); this file decides what goes in them
 * and moves the bytes: one UPDATE per zone, over TCP (RFC 2136 6.1 allows
 * it, and a DKIM key record with its TSIG does not always fit the 512
 * bytes of plain UDP), each exchange under a timeout.
 *
 * The update section (RFC 2136 2.5) is written so that applying it twice
 * gives the same zone: an RRset the plan owns is deleted (class ANY, 2.5.2)
 * and its records added back; an SPF record is replaced by deleting the
 * exact old record (class NONE, 2.5.4), so other TXT records at the name
 * stay. The reply must be an UPDATE response with our id and, when a key
 * is used, a TSIG that verifies against the request's MAC (RFC 8945 5.3):
 * a reply that does not is treated as not applied.
 *
 * Memory that ldns allocates (wire buffers) is ldns's and goes back with
 * free(); everything else uses cp_alloc.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "coldpost/alloc.h"
#include "coldpost/provision.h"

#define PROV_FUDGE 300     /* seconds of clock skew TSIG allows (8945 5.2.3) */
#define PROV_MSG_MAX 65535 /* a DNS message over TCP */

/* ---- TSIG key and server specs ---------------------------------------- */

static const char *const prov_algs[] = { "hmac-md5", "hmac-sha1",
	"hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512" };

static int
prov_alg_known(const char *s, size_t n)
{
	for (size_t i = 0; i < CP_NELEM(prov_algs); i++)
		if (strlen(prov_algs[i]) == n && strncasecmp(s, prov_algs[i],
		    n) == 0)
			return 1;
	return 0;
}

/* The name ldns knows the algorithm by (tsig.c: the RFC 8945 6 names). */
static void
prov_alg_ldns(const char *alg, char *out, size_t outlen)
{
	if (strcasecmp(alg, "hmac-md5") == 0)
		snprintf(out, outlen, "hmac-md5.sig-alg.reg.int.");
	else
		snprintf(out, outlen, "%s.", alg);
}

static int
prov_copy(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n == 0 || n >= dstlen)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int
cp_prov_tsig_parse(const char *spec, cp_prov_tsig *out, cp_err *err)
{
	const char *c1 = strchr(spec, ':'), *c2;
	const char *a, *nm;
	size_t alen, nlen;

	memset(out, 0, sizeof(*out));
	if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL)
		return cp_err_set(err, CP_EINVAL, "tsig: '%s': want "
		    "NAME:ALG:SECRET", spec);
	if (prov_alg_known(spec, (size_t)(c1 - spec))) {
		a = spec;        /* ALG:NAME:SECRET, knsupdate -y's order */
		alen = (size_t)(c1 - spec);
		nm = c1 + 1;
		nlen = (size_t)(c2 - c1 - 1);
	} else {
		nm = spec;
		nlen = (size_t)(c1 - spec);
		a = c1 + 1;
		alen = (size_t)(c2 - c1 - 1);
	}
	if (!prov_alg_known(a, alen))
		return cp_err_set(err, CP_EINVAL, "tsig: algorithm '%.*s': want "
		    "hmac-sha256 (or hmac-sha1/224/384/512, hmac-md5)",
		    (int)CP_MIN(alen, 64), a);
	if (prov_copy(out->alg, sizeof(out->alg), a, alen) != 0 ||
	    prov_copy(out->name, sizeof(out->name), nm, nlen) != 0)
		return cp_err_set(err, CP_EINVAL, "tsig: '%s': empty or too long "
		    "key name", spec);
	for (size_t i = 0; out->alg[i]; i++)
		out->alg[i] = (char)(out->alg[i] | 0x20);
	if (prov_copy(out->secret, sizeof(out->secret), c2 + 1,
	    strlen(c2 + 1)) != 0)
		return cp_err_set(err, CP_EINVAL, "tsig: the secret is empty or "
		    "over %zu characters", sizeof(out->secret) - 1);
	for (const char *s = out->secret; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/' ||
		    *s == '='))
			return cp_err_set(err, CP_EINVAL, "tsig: the secret is "
			    "not base64");
	return CP_OK;
}

int
cp_prov_server_parse(const char *spec, cp_prov_server *out, cp_err *err)
{
	const char *host = spec, *port = "53", *end;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL || (end[1] != '\0' &&
		    end[1] != ':'))
			return cp_err_set(err, CP_EINVAL, "server '%s': want "
			    "[V6]:PORT", spec);
		host = spec + 1;
		hlen = (size_t)(end - host);
		if (end[1] == ':')
			port = end + 2;
	} else if ((end = strrchr(spec, ':')) != NULL &&
	    strchr(spec, ':') == end) {
		hlen = (size_t)(end - spec);
		port = end + 1;
	} else {
		hlen = strlen(spec);
	}
	if (prov_copy(out->host, sizeof(out->host), host, hlen) != 0)
		return cp_err_set(err, CP_EINVAL, "server '%s': no host", spec);
	if (prov_copy(out->port, sizeof(out->port), port, strlen(port)) != 0 ||
	    strspn(port, "0123456789") != strlen(port) || atol(port) < 1 ||
	    atol(port) > 65535)
		return cp_err_set(err, CP_EINVAL, "server '%s': port '%s' is "
		    "not 1-65535", spec, port);
	return CP_OK;
}

/* ---- one exchange over TCP --------------------------------------------- */

static int64_t
prov_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for ev until deadline; 0 ok, -1 timed out. */
static int
prov_wait(int fd, short ev, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = ev };

	for (;;) {
		int64_t left = deadline - prov_now_ms();
		int r;

		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int
prov_connect(const cp_prov_server *srv, int64_t deadline, cp_err *err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int fd = -1, e, soerr = 0;
	socklen_t sl = sizeof(soerr);

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(srv->host, srv->port, &hints, &res)) != 0)
		return cp_err_set(err, CP_ETEMP, "update: %s: %s", srv->host,
		    gai_strerror(e));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0) {
		freeaddrinfo(res);
		return cp_err_set(err, CP_EIO, "update: socket: %s",
		    strerror(errno));
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) != 0 &&
	    errno != EINPROGRESS)
		soerr = errno;
	freeaddrinfo(res);
	if (soerr == 0 && prov_wait(fd, POLLOUT, deadline) != 0)
		soerr = ETIMEDOUT;
	if (soerr == 0)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr != 0) {
		close(fd);
		return cp_err_set(err, CP_ETEMP, "update: %s port %s: %s",
		    srv->host, srv->port, strerror(soerr));
	}
	return fd;
}

static int
prov_io(int fd, void *buf, size_t len, int wr, int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (prov_wait(fd, wr ? POLLOUT : POLLIN, deadline) != 0)
			return -1;
		n = wr ? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL) :
		    recv(fd, (char *)buf + done, len - done, 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return -1;
		if (n > 0)
			done += (size_t)n;
	}
	return 0;
}

/* Send msg, read the reply into *reply (cp_malloc'd, *rlen bytes). */
static int
prov_exchange(const cp_prov_server *srv, const uint8_t *msg, size_t len,
    unsigned char **reply, size_t *rlen, cp_err *err)
{
	int64_t deadline = prov_now_ms() + (srv->timeout_ms > 0 ?
	    srv->timeout_ms : 5000);
	unsigned char hdr[2] = { (unsigned char)(len >> 8),
		(unsigned char)len };
	unsigned char *buf = NULL;
	size_t n;
	int fd;

	*reply = NULL;
	if (len > PROV_MSG_MAX)
		return cp_err_set(err, CP_ETOOBIG, "update: message of %zu bytes",
		    len);
	if ((fd = prov_connect(srv, deadline, err)) < 0)
		return err && err->code ? err->code : CP_ETEMP;
	if (prov_io(fd, hdr, 2, 1, deadline) != 0 ||
	    prov_io(fd, (void *)msg, len, 1, deadline) != 0 ||
	    prov_io(fd, hdr, 2, 0, deadline) != 0) {
		close(fd);
		return cp_err_set(err, CP_ETEMP, "update: %s port %s: no answer "
		    "(closed or timed out)", srv->host, srv->port);
	}
	n = (size_t)hdr[0] << 8 | hdr[1];
	if ((buf = cp_malloc(n ? n : 1)) == NULL) {
		close(fd);
		return cp_err_set(err, CP_ENOMEM, "update: out of memory");
	}
	if (prov_io(fd, buf, n, 0, deadline) != 0) {
		close(fd);
		cp_free(buf);
		return cp_err_set(err, CP_ETEMP, "update: %s port %s: answer cut "
		    "short", srv->host, srv->port);
	}
	close(fd);
	*reply = buf;
	*rlen = n;
	return CP_OK;
}

/* ---- the reply ------------------------------------------------------------ */

static const char *
prov_rcode_text(int rc)
{
	static const char *const t[] = {
		"NOERROR: applied",
		"FORMERR: the server could not read the update",
		"SERVFAIL: the server failed (see its log)",
		"NXDOMAIN: a prerequisite name does not exist",
		"NOTIMP: the server does not do dynamic updates",
		"REFUSED: the server refuses updates (ACL, or no key allowed)",
		"YXDOMAIN: a name that should not exist does",
		"YXRRSET: an RRset that should not exist does",
		"NXRRSET: an RRset that should exist does not",
		"NOTAUTH: not authoritative here, or the TSIG key refused",
		"NOTZONE: a name is outside the zone",
	};

	return rc >= 0 && (size_t)rc < CP_NELEM(t) ? t[rc] : "unknown RCODE";
}

static const char *
prov_tsig_error_text(unsigned e)
{
	switch (e) {
	case 16: return "BADSIG: the key's secret differs from the server's";
	case 17: return "BADKEY: the server does not know this key name or "
	    "algorithm";
	case 18: return "BADTIME: the clocks differ by more than the fudge";
	case 22: return "BADTRUNC: truncated MAC refused";
	default: return "TSIG error";
	}
}

int
cp_prov_reply_parse(const unsigned char *wire, size_t len, uint16_t want_id,
    const cp_prov_tsig *key, const unsigned char *mac, size_t maclen,
    cp_prov_reply *out, cp_err *err)
{
	ldns_pkt *pkt = NULL;
	ldns_rr *tsig;
	unsigned terr = 0;
	int rc = CP_OK;

	memset(out, 0, sizeof(*out));
	if (len < 12 || ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return cp_err_set(err, CP_ESYNTAX, "update: the reply is not a "
		    "DNS message (%zu bytes)", len);
	out->id = ldns_pkt_id(pkt);
	out->opcode = (int)ldns_pkt_get_opcode(pkt);
	out->rcode = (int)ldns_pkt_get_rcode(pkt);
	if (!ldns_pkt_qr(pkt) || out->opcode != LDNS_PACKET_UPDATE)
		rc = cp_err_set(err, CP_ESYNTAX, "update: the reply is not an "
		    "UPDATE response (opcode %d)", out->opcode);
	else if (out->id != want_id)
		rc = cp_err_set(err, CP_ESYNTAX, "update: the reply has id %u, "
		    "the request %u", out->id, want_id);
	if (rc != CP_OK) {
		ldns_pkt_free(pkt);
		return rc;
	}
	tsig = ldns_pkt_tsig(pkt);
	if (tsig != NULL && ldns_rr_rd_count(tsig) == 7 &&
	    ldns_rdf_size(ldns_rr_rdf(tsig, 5)) == 2)
		terr = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
	if (tsig != NULL && ldns_rr_rd_count(tsig) == 7 &&
	    ldns_rdf_size(ldns_rr_rdf(tsig, 1)) == 6) {
		const uint8_t *t = ldns_rdf_data(ldns_rr_rdf(tsig, 1));

		for (int i = 0; i < 6; i++)
			out->signed_at = out->signed_at << 8 | t[i];
	}
	if (tsig == NULL) {
		out->tsig = 0;
	} else if (key != NULL && ldns_rr_rd_count(tsig) == 7 && terr == 0) {
		unsigned char md[2 + 512];
		ldns_rdf *m = NULL;

		if (mac != NULL && maclen <= 512) {
			md[0] = (unsigned char)(maclen >> 8);
			md[1] = (unsigned char)maclen;
			memcpy(md + 2, mac, maclen);
			m = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA,
			    maclen + 2, md);
		}

		out->tsig = ldns_pkt_tsig_verify(pkt, wire, len, key->name,
		    key->secret, m) ? 1 : -1;
		/* ldns 1.8 takes the TSIG out of the packet while it checks,
		   and does not put it back when the MAC cannot be computed
		   (an algorithm it does not know): free it ourselves (found
		   by fuzz_prov_reply) */
		if (ldns_pkt_tsig(pkt) == NULL)
			ldns_rr_free(tsig);
		ldns_rdf_deep_free(m);
	} else {
		out->tsig = -1;
	}
	if (terr != 0)
		snprintf(out->why, sizeof(out->why), "%s (TSIG error %u: %s)",
		    prov_rcode_text(out->rcode), terr, prov_tsig_error_text(terr));
	else
		snprintf(out->why, sizeof(out->why), "%s",
		    prov_rcode_text(out->rcode));
	ldns_pkt_free(pkt);
	return CP_OK;
}

/* ---- finding the zone ------------------------------------------------------ */

static void
prov_dname_text(const ldns_rdf *d, char *out, size_t outlen)
{
	char *s = ldns_rdf2str(d);
	size_t n;

	snprintf(out, outlen, "%s", s ? s : "");
	free(s); /* ldns's */
	n = strlen(out);
	if (n > 1 && out[n - 1] == '.')
		out[n - 1] = '\0';
	for (char *c = out; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

static uint16_t
prov_random_id(void)
{
	return (uint16_t)ldns_get_random();
}

int
cp_prov_find_zone(const cp_prov_server *srv, const char *name, char *zone,
    size_t zonelen, cp_err *err)
{
	ldns_rdf *qname = ldns_dname_new_frm_str(name);
	ldns_pkt *q, *r = NULL;
	ldns_rr_list *secs[2];
	uint8_t *wire = NULL;
	unsigned char *reply = NULL;
	size_t wlen, rlen;
	uint16_t id = prov_random_id();
	int rc;

	zone[0] = '\0';
	if (qname == NULL)
		return cp_err_set(err, CP_EINVAL, "update: '%s' is not a domain "
		    "name", name);
	q = ldns_pkt_query_new(qname, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_id(q, id);
	if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK) {
		ldns_pkt_free(q);
		return cp_err_set(err, CP_ENOMEM, "update: cannot build a query");
	}
	ldns_pkt_free(q);
	rc = prov_exchange(srv, wire, wlen, &reply, &rlen, err);
	free(wire); /* ldns's */
	if (rc != CP_OK)
		return rc;
	if (ldns_wire2pkt(&r, reply, rlen) != LDNS_STATUS_OK ||
	    ldns_pkt_id(r) != id) {
		cp_free(reply);
		ldns_pkt_free(r);
		return cp_err_set(err, CP_ETEMP, "update: %s: a malformed answer "
		    "to the SOA query for %s", srv->host, name);
	}
	cp_free(reply);
	secs[0] = ldns_pkt_answer(r);
	secs[1] = ldns_pkt_authority(r);
	if (ldns_pkt_aa(r) && (ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR ||
	    ldns_pkt_get_rcode(r) == LDNS_RCODE_NXDOMAIN))
		for (int s = 0; s < 2 && zone[0] == '\0'; s++)
			for (size_t i = 0; i < ldns_rr_list_rr_count(secs[s]); i++) {
				ldns_rr *rr = ldns_rr_list_rr(secs[s], i);

				if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
					prov_dname_text(ldns_rr_owner(rr), zone,
					    zonelen);
					break;
				}
			}
	ldns_pkt_free(r);
	return CP_OK;
}

/* ---- the UPDATE -------------------------------------------------------------- */

static int
prov_in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z)
		return strcasecmp(name, zone) == 0;
	return n > z && name[n - z - 1] == '.' &&
	    strcasecmp(name + n - z, zone) == 0;
}

/* A record of the plan as an ldns RR (data: the value, or r->data). */
static ldns_rr *
prov_rr(const cp_prov_record *r, const char *data)
{
	cp_prov_record tmp = *r;
	ldns_rr *rr = NULL;
	cp_buf line;

	tmp.data = (char *)data;
	cp_buf_init(&line, 1 << 17);
	if (cp_prov_zone_line(&tmp, &line) == CP_OK &&
	    ldns_rr_new_frm_str(&rr, line.data, 0, NULL, NULL) != LDNS_STATUS_OK)
		rr = NULL;
	cp_buf_free(&line);
	return rr;
}

/* Delete the RRset name/type (RFC 2136 2.5.2): class ANY, no data. */
static ldns_rr *
prov_rr_delete_set(const char *name, int type)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *owner = ldns_dname_new_frm_str(name);

	if (rr == NULL || owner == NULL) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(owner);
		return NULL;
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, (ldns_rr_type)type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_ANY);
	ldns_rr_set_ttl(rr, 0);
	return rr;
}

/* Was the RRset owner/type of record i already deleted in this update? */
static int
prov_seen_set(const cp_prov_plan *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (p->rec[j].how == CP_PROV_RRSET &&
		    (p->rec[j].state == CP_PROV_NEW ||
		    p->rec[j].state == CP_PROV_CHANGE) &&
		    p->rec[j].type == p->rec[i].type &&
		    strcasecmp(p->rec[j].owner, p->rec[i].owner) == 0)
			return 1;
	return 0;
}

/* The update section for zone. -1 on a record ldns cannot read. */
static int
prov_update_section(const cp_prov_plan *p, const char *zone,
    const char *const *remove, size_t nremove, ldns_rr_list *up)
{
	for (size_t i = 0; p != NULL && i < p->n; i++) {
		const cp_prov_record *r = &p->rec[i];
		ldns_rr *rr;

		if ((r->state != CP_PROV_NEW && r->state != CP_PROV_CHANGE) ||
		    !prov_in_zone(r->owner, zone))
			continue;
		if (r->how == CP_PROV_RRSET && !prov_seen_set(p, i)) {
			if ((rr = prov_rr_delete_set(r->owner, r->type)) == NULL)
				return -1;
			ldns_rr_list_push_rr(up, rr);
		}
		if (r->how == CP_PROV_REPLACE && r->old != NULL &&
		    r->state == CP_PROV_CHANGE) {
			if ((rr = prov_rr(r, r->old)) == NULL)
				return -1;
			ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);
			ldns_rr_set_ttl(rr, 0);
			ldns_rr_list_push_rr(up, rr);
		}
		if ((rr = prov_rr(r, r->data)) == NULL)
			return -1;
		ldns_rr_list_push_rr(up, rr);
	}
	for (size_t i = 0; i < nremove; i++) {
		ldns_rr *rr = prov_rr_delete_set(remove[i], CP_DNS_TXT);

		if (rr == NULL)
			return -1;
		ldns_rr_list_push_rr(up, rr);
	}
	return 0;
}

/* Build, sign and encode the UPDATE; *mac gets the request MAC. */
static int
prov_update_wire(const cp_prov_tsig *key, const char *zone, ldns_rr_list *up,
    uint16_t id, uint8_t **wire, size_t *wlen, unsigned char *mac,
    size_t *maclen, cp_err *err)
{
	ldns_rdf *zrdf = ldns_dname_new_frm_str(zone);
	ldns_pkt *pkt;
	char alg[80];
	int rc = CP_OK;

	*maclen = 0;
	if (zrdf == NULL)
		return cp_err_set(err, CP_EINVAL, "update: zone '%s' is not a "
		    "name", zone);
	pkt = ldns_update_pkt_new(zrdf, LDNS_RR_CLASS_IN, NULL, up, NULL);
	if (pkt == NULL)
		return cp_err_set(err, CP_ENOMEM, "update: out of memory");
	ldns_pkt_set_id(pkt, id);
	if (key != NULL) {
		prov_alg_ldns(key->alg, alg, sizeof(alg));
		if (ldns_pkt_tsig_sign(pkt, key->name, key->secret, PROV_FUDGE,
		    alg, NULL) != LDNS_STATUS_OK)
			rc = cp_err_set(err, CP_EINVAL, "update: cannot sign with "
			    "key %s (%s): is the secret base64?", key->name,
			    key->alg);
		else {
			/* the MAC without its 2-byte length (RFC 8945 4.2) */
			ldns_rdf *m = ldns_rr_rdf(ldns_pkt_tsig(pkt), 3);
			size_t n = ldns_rdf_size(m);

			*maclen = n > 2 ? CP_MIN(n - 2, 510) : 0;
			memcpy(mac, ldns_rdf_data(m) + 2, *maclen);
		}
	}
	if (rc == CP_OK && ldns_pkt2wire(wire, pkt, wlen) != LDNS_STATUS_OK)
		rc = cp_err_set(err, CP_ENOMEM, "update: cannot encode the "
		    "message");
	ldns_pkt_free(pkt);
	return rc;
}

int
cp_prov_update_send(const cp_prov_server *srv, const cp_prov_tsig *key,
    const char *zone, const cp_prov_plan *p, const char *const *remove,
    size_t nremove, cp_prov_reply *reply, cp_err *err)
{
	ldns_rr_list *up = ldns_rr_list_new();
	unsigned char mac[512], *ans = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0, maclen, alen = 0;
	uint16_t id = prov_random_id();
	int rc;

	memset(reply, 0, sizeof(*reply));
	if (up == NULL)
		return cp_err_set(err, CP_ENOMEM, "update: out of memory");
	if (prov_update_section(p, zone, remove, nremove, up) != 0) {
		ldns_rr_list_deep_free(up);
		return cp_err_set(err, CP_EINVAL, "update: a record of zone %s "
		    "cannot be encoded", zone);
	}
	rc = prov_update_wire(key, zone, up, id, &wire, &wlen, mac, &maclen,
	    err);
	ldns_rr_list_deep_free(up);
	if (rc == CP_OK)
		rc = prov_exchange(srv, wire, wlen, &ans, &alen, err);
	free(wire); /* ldns's */
	if (rc == CP_OK)
		rc = cp_prov_reply_parse(ans, alen, id, key, maclen ? mac : NULL,
		    maclen, reply, err);
	cp_free(ans);
	return rc;
}
