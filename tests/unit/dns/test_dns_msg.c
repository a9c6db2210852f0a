/*
 * Unit tests: DNS response messages into answers (src/dns/dns_msg.c,
 * cp_dns_answer_parse). Each message is built byte by byte (wire.h), so a
 * test says exactly what the server sent.
 */
#include <arpa/inet.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/dns.h"
#include "cptest.h"
#include "dns/dns_int.h"
#include "wire.h"

static cp_dns_answer *
parse(const wire *w, const char *name, int type)
{
	cp_dns_answer *a = NULL;
	cp_err err = { 0 };
	int rc = cp_dns_answer_parse(w->b, w->len, name, type, &a, &err);

	CP_CHECK(rc == CP_OK && a != NULL, "parse: rc %d %s", rc, err.msg);
	return a;
}

static const char *
ip4(const cp_dns_rr *rr, char *buf)
{
	return inet_ntop(AF_INET, &rr->u.a, buf, INET_ADDRSTRLEN);
}

CP_TEST(dns_msg_a_records_min_ttl)
{
	wire w;
	cp_dns_answer *a;
	char ip[INET_ADDRSTRLEN];

	wire_response(&w, 0, "a.test", CP_DNS_A, 2, 0);
	wire_a(&w, "a.test", 600, "192.0.2.1");
	wire_a(&w, "A.Test", 300, "192.0.2.2"); /* owner case ignored */
	a = parse(&w, "a.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_OK);
	CP_CHECK_INT(a->n, 2);
	CP_CHECK_INT(a->ttl, 300);
	if (a->n == 2) {
		CP_CHECK_STR(ip4(&a->rr[0], ip), "192.0.2.1");
		CP_CHECK_INT(a->rr[0].ttl, 600);
		CP_CHECK_STR(ip4(&a->rr[1], ip), "192.0.2.2");
	}
	CP_CHECK(a->why == NULL, "why set on ok");
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_aaaa_and_bad_length)
{
	wire w;
	cp_dns_answer *a;
	size_t at;
	struct in6_addr v6;
	char buf[INET6_ADDRSTRLEN];

	inet_pton(AF_INET6, "2001:db8::1", &v6);
	wire_response(&w, 0, "v6.test", CP_DNS_AAAA, 1, 0);
	at = wire_rr(&w, "v6.test", CP_DNS_AAAA, 60);
	wire_bytes(&w, &v6, 16);
	wire_rr_end(&w, at);
	a = parse(&w, "v6.test", CP_DNS_AAAA);
	CP_CHECK(a->status == CP_DNS_OK && a->n == 1, "AAAA");
	if (a->n == 1)
		CP_CHECK_STR(inet_ntop(AF_INET6, &a->rr[0].u.aaaa, buf,
		    sizeof(buf)), "2001:db8::1");
	cp_dns_answer_free(a);

	/* an A record with 5 bytes of data is malformed */
	wire_response(&w, 0, "a.test", CP_DNS_A, 1, 0);
	at = wire_rr(&w, "a.test", CP_DNS_A, 60);
	wire_bytes(&w, "\1\2\3\4\5", 5);
	wire_rr_end(&w, at);
	a = parse(&w, "a.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	CP_CHECK(a->why && strstr(a->why, "bad A record"), "why: %s",
	    a->why ? a->why : "(null)");
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_mx_compressed_and_null)
{
	wire w;
	cp_dns_answer *a;
	size_t at;

	/* the exchange "mx" + pointer to the question name at offset 12 */
	wire_response(&w, 0, "example.test", CP_DNS_MX, 2, 0);
	wire_ptr(&w, 12);
	wire_u16(&w, CP_DNS_MX);
	wire_u16(&w, 1);
	wire_u32(&w, 300);
	at = w.len;
	wire_u16(&w, 0);
	wire_u16(&w, 10);
	wire_u8(&w, 2);
	wire_bytes(&w, "MX", 2);
	wire_ptr(&w, 12);
	wire_rr_end(&w, at);
	at = wire_rr(&w, "example.test", CP_DNS_MX, 300);
	wire_u16(&w, 20);
	wire_name(&w, "mx2.other.test");
	wire_rr_end(&w, at);
	a = parse(&w, "Example.Test.", CP_DNS_MX);
	CP_CHECK(a->status == CP_DNS_OK && a->n == 2, "MX: %d %zu",
	    a->status, a->n);
	if (a->n == 2) {
		CP_CHECK_INT(a->rr[0].u.mx.pref, 10);
		CP_CHECK_STR(a->rr[0].u.mx.host, "MX.example.test");
		CP_CHECK_INT(a->rr[1].u.mx.pref, 20);
		CP_CHECK_STR(a->rr[1].u.mx.host, "mx2.other.test");
	}
	cp_dns_answer_free(a);

	/* RFC 7505: "0 ." */
	wire_response(&w, 0, "null.test", CP_DNS_MX, 1, 0);
	at = wire_rr(&w, "null.test", CP_DNS_MX, 300);
	wire_u16(&w, 0);
	wire_u8(&w, 0);
	wire_rr_end(&w, at);
	a = parse(&w, "null.test", CP_DNS_MX);
	CP_CHECK(a->status == CP_DNS_OK && a->n == 1, "null MX");
	if (a->n == 1) {
		CP_CHECK_INT(a->rr[0].u.mx.pref, 0);
		CP_CHECK_STR(a->rr[0].u.mx.host, "");
	}
	cp_dns_answer_free(a);

	/* the exchange name runs past RDLENGTH: malformed */
	wire_response(&w, 0, "bad.test", CP_DNS_MX, 1, 0);
	at = wire_rr(&w, "bad.test", CP_DNS_MX, 300);
	wire_u16(&w, 0);
	wire_rr_end(&w, at); /* RDLENGTH 2: only the preference */
	wire_name(&w, "mx.bad.test");
	a = parse(&w, "bad.test", CP_DNS_MX);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_txt_joined_per_record)
{
	static const char *const spf[] = { "v=spf1 ", "ip4:192.0.2.0/24",
		" -all" };
	static const char *const two[] = { "second" };
	static const char *const empty[] = { "" };
	wire w;
	cp_dns_answer *a;
	size_t at;

	wire_response(&w, 0, "t.test", CP_DNS_TXT, 3, 0);
	wire_txt(&w, "t.test", 300, spf, 3);
	wire_txt(&w, "t.test", 300, two, 1);
	wire_txt(&w, "t.test", 300, empty, 1);
	a = parse(&w, "t.test", CP_DNS_TXT);
	CP_CHECK(a->status == CP_DNS_OK && a->n == 3, "TXT count %zu", a->n);
	if (a->n == 3) {
		CP_CHECK_STR(a->rr[0].u.txt.data, "v=spf1 ip4:192.0.2.0/24 -all");
		CP_CHECK_INT(a->rr[0].u.txt.len, 28);
		CP_CHECK_STR(a->rr[1].u.txt.data, "second");
		CP_CHECK_INT(a->rr[2].u.txt.len, 0);
	}
	cp_dns_answer_free(a);

	/* binary data with a NUL: kept whole, len counts it */
	wire_response(&w, 0, "b.test", CP_DNS_TXT, 1, 0);
	at = wire_rr(&w, "b.test", CP_DNS_TXT, 300);
	wire_u8(&w, 3);
	wire_bytes(&w, "a\0b", 3);
	wire_rr_end(&w, at);
	a = parse(&w, "b.test", CP_DNS_TXT);
	CP_CHECK(a->n == 1 && a->rr[0].u.txt.len == 3 &&
	    memcmp(a->rr[0].u.txt.data, "a\0b", 4) == 0, "binary TXT");
	cp_dns_answer_free(a);

	/* a character-string longer than what is left of RDATA */
	wire_response(&w, 0, "c.test", CP_DNS_TXT, 1, 0);
	at = wire_rr(&w, "c.test", CP_DNS_TXT, 300);
	wire_u8(&w, 10);
	wire_bytes(&w, "short", 5);
	wire_rr_end(&w, at);
	a = parse(&w, "c.test", CP_DNS_TXT);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_cname_chain_ttl)
{
	wire w;
	cp_dns_answer *a;
	char ip[INET_ADDRSTRLEN];

	/* records out of order on purpose: the chain is followed by name */
	wire_response(&w, 0, "www.test", CP_DNS_A, 3, 0);
	wire_a(&w, "host.test", 600, "192.0.2.7");
	wire_cname(&w, "mid.test", 30, "host.test");
	wire_cname(&w, "www.test", 900, "mid.test");
	a = parse(&w, "www.test", CP_DNS_A);
	CP_CHECK(a->status == CP_DNS_OK && a->n == 1, "chain");
	CP_CHECK_STR(a->name, "www.test");
	CP_CHECK_INT(a->ttl, 30); /* the CNAME with the least TTL */
	if (a->n == 1)
		CP_CHECK_STR(ip4(&a->rr[0], ip), "192.0.2.7");
	cp_dns_answer_free(a);

	/* asking for the CNAME itself: not followed */
	wire_response(&w, 0, "www.test", CP_DNS_CNAME, 2, 0);
	wire_cname(&w, "www.test", 900, "mid.test");
	wire_cname(&w, "mid.test", 30, "host.test");
	a = parse(&w, "www.test", CP_DNS_CNAME);
	CP_CHECK(a->status == CP_DNS_OK && a->n == 1, "CNAME asked");
	if (a->n == 1)
		CP_CHECK_STR(a->rr[0].u.name, "mid.test");
	cp_dns_answer_free(a);

	/* a loop */
	wire_response(&w, 0, "l1.test", CP_DNS_A, 2, 0);
	wire_cname(&w, "l1.test", 60, "l2.test");
	wire_cname(&w, "l2.test", 60, "l1.test");
	a = parse(&w, "l1.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_TEMPFAIL);
	CP_CHECK(a->why && strstr(a->why, "CNAME"), "loop why");
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_cname_out_of_message)
{
	wire w;
	cp_dns_answer *a = dns_answer_new("ext.test", CP_DNS_A);
	char *next = NULL;
	uint32_t cttl = 0;
	cp_err err = { 0 };

	/* an authoritative server's answer: the CNAME only, no SOA */
	wire_response(&w, 0, "ext.test", CP_DNS_A, 1, 0);
	wire_cname(&w, "ext.test", 120, "www.Other.test");
	CP_CHECK(dns_msg_parse(w.b, w.len, a, &next, &cttl, &err) == CP_OK,
	    "%s", err.msg);
	CP_CHECK_INT(a->status, CP_DNS_NODATA);
	CP_CHECK_STR(next, "www.other.test");
	CP_CHECK_INT(cttl, 120);
	cp_free(next);
	cp_dns_answer_free(a);

	/* with the SOA of the target's zone: a real NODATA, nothing next */
	a = dns_answer_new("ext.test", CP_DNS_A);
	next = NULL;
	wire_response(&w, 0, "ext.test", CP_DNS_A, 1, 1);
	wire_cname(&w, "ext.test", 120, "www.test");
	wire_soa(&w, "test", 300, 60);
	CP_CHECK(dns_msg_parse(w.b, w.len, a, &next, &cttl, &err) == CP_OK,
	    "%s", err.msg);
	CP_CHECK_INT(a->status, CP_DNS_NODATA);
	CP_CHECK(next == NULL, "next set with an SOA");
	CP_CHECK_INT(a->ttl, 60);
	cp_free(next);
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_negative_answers)
{
	static const char *const s[] = { "x" };
	wire w;
	cp_dns_answer *a;

	/* NXDOMAIN: TTL min(SOA TTL 300, MINIMUM 60) */
	wire_response(&w, 3, "nope.test", CP_DNS_A, 0, 1);
	wire_soa(&w, "test", 300, 60);
	a = parse(&w, "nope.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_NXDOMAIN);
	CP_CHECK_INT(a->ttl, 60);
	CP_CHECK_INT(a->n, 0);
	cp_dns_answer_free(a);

	/* NODATA: SOA TTL 30 below MINIMUM 600 */
	wire_response(&w, 0, "here.test", CP_DNS_MX, 0, 1);
	wire_soa(&w, "test", 30, 600);
	a = parse(&w, "here.test", CP_DNS_MX);
	CP_CHECK_INT(a->status, CP_DNS_NODATA);
	CP_CHECK_INT(a->ttl, 30);
	cp_dns_answer_free(a);

	/* no SOA: TTL 0 (not to be cached) */
	wire_response(&w, 3, "nope.test", CP_DNS_A, 0, 0);
	a = parse(&w, "nope.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_NXDOMAIN);
	CP_CHECK_INT(a->ttl, 0);
	cp_dns_answer_free(a);

	/* records of another type only: NODATA */
	wire_response(&w, 0, "here.test", CP_DNS_A, 1, 0);
	wire_txt(&w, "here.test", 300, s, 1);
	a = parse(&w, "here.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_NODATA);
	cp_dns_answer_free(a);

	/* NXDOMAIN at the end of a chain speaks of the target (RFC 6604) */
	wire_response(&w, 3, "alias.test", CP_DNS_A, 1, 1);
	wire_cname(&w, "alias.test", 300, "gone.test");
	wire_soa(&w, "test", 300, 45);
	a = parse(&w, "alias.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_NXDOMAIN);
	CP_CHECK_INT(a->ttl, 45);
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_rcodes_and_truncation)
{
	static const struct {
		unsigned rcode;
		const char *why;
	} cases[] = { { 2, "SERVFAIL" }, { 5, "REFUSED" }, { 1, "FORMERR" },
		{ 4, "NOTIMP" }, { 9, "RCODE 9" } };
	wire w;
	cp_dns_answer *a;

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		wire_response(&w, cases[i].rcode, "x.test", CP_DNS_A, 0, 0);
		a = parse(&w, "x.test", CP_DNS_A);
		CP_CHECK(a->status == CP_DNS_TEMPFAIL, "rcode %u: status %d",
		    cases[i].rcode, a->status);
		CP_CHECK(a->why && strstr(a->why, cases[i].why), "why '%s'",
		    a->why ? a->why : "(null)");
		cp_dns_answer_free(a);
	}
	/* TC set: not trusted */
	wire_header(&w, 1, W_QR | W_TC, 1, 0, 0, 0);
	wire_name(&w, "x.test");
	wire_u16(&w, CP_DNS_TXT);
	wire_u16(&w, 1);
	a = parse(&w, "x.test", CP_DNS_TXT);
	CP_CHECK_INT(a->status, CP_DNS_TEMPFAIL);
	CP_CHECK(a->why && strstr(a->why, "truncated"), "tc why");
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_malformed)
{
	wire w;
	cp_dns_answer *a;

	/* shorter than a header */
	w.len = 0;
	wire_u16(&w, 1);
	a = parse(&w, "x.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	cp_dns_answer_free(a);
	/* a query, not a response */
	wire_header(&w, 1, W_RD, 1, 0, 0, 0);
	wire_name(&w, "x.test");
	wire_u16(&w, 1);
	wire_u16(&w, 1);
	a = parse(&w, "x.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	cp_dns_answer_free(a);
	/* the answer to another question */
	wire_response(&w, 0, "y.test", CP_DNS_A, 1, 0);
	wire_a(&w, "y.test", 60, "192.0.2.1");
	a = parse(&w, "x.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	CP_CHECK(a->n == 0, "records from another question");
	cp_dns_answer_free(a);
	a = parse(&w, "y.test", CP_DNS_AAAA); /* same name, other type */
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	cp_dns_answer_free(a);
	/* a compression pointer to itself (a loop) in the answer */
	wire_response(&w, 0, "x.test", CP_DNS_A, 1, 0);
	wire_ptr(&w, (unsigned)w.len);
	wire_u16(&w, 1);
	a = parse(&w, "x.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	cp_dns_answer_free(a);
	/* more records announced than present */
	wire_response(&w, 0, "x.test", CP_DNS_A, 2, 0);
	wire_a(&w, "x.test", 60, "192.0.2.1");
	a = parse(&w, "x.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	CP_CHECK(a->why && strstr(a->why, "answer section"), "why %s",
	    a->why ? a->why : "(null)");
	cp_dns_answer_free(a);
	/* RDLENGTH past the end */
	wire_response(&w, 0, "x.test", CP_DNS_A, 1, 0);
	wire_rr(&w, "x.test", CP_DNS_A, 60);
	w.b[w.len - 1] = 40;
	a = parse(&w, "x.test", CP_DNS_A);
	CP_CHECK_INT(a->status, CP_DNS_ERROR);
	cp_dns_answer_free(a);
}

CP_TEST(dns_msg_ttl_class_and_question)
{
	wire w;
	cp_dns_answer *a;
	size_t at;

	/* TTL with the top bit set reads as 0 (RFC 2181 8); a CH-class
	 * record of the same name and type is not ours */
	wire_response(&w, 0, "x.test", CP_DNS_A, 2, 0);
	wire_a(&w, "x.test", 0x80000001u, "192.0.2.1");
	wire_name(&w, "x.test");
	wire_u16(&w, CP_DNS_A);
	wire_u16(&w, 3);
	wire_u32(&w, 60);
	at = w.len;
	wire_u16(&w, 0);
	wire_bytes(&w, "\1\1\1\1", 4);
	wire_rr_end(&w, at);
	a = parse(&w, "x.test", CP_DNS_A);
	CP_CHECK(a->status == CP_DNS_OK && a->n == 1, "IN only: %zu", a->n);
	CP_CHECK_INT(a->ttl, 0);
	cp_dns_answer_free(a);

	/* name NULL: the question of the message is the question */
	a = parse(&w, NULL, 0);
	CP_CHECK_STR(a->name, "x.test");
	CP_CHECK_INT(a->type, CP_DNS_A);
	CP_CHECK_INT(a->n, 1);
	cp_dns_answer_free(a);

	/* a record type without a field: counted, no data */
	wire_response(&w, 0, "x.test", 257 /* CAA */, 1, 0);
	at = wire_rr(&w, "x.test", 257, 60);
	wire_bytes(&w, "\0\5issueca.test", 14);
	wire_rr_end(&w, at);
	a = parse(&w, "x.test", 257);
	CP_CHECK(a->status == CP_DNS_OK && a->n == 1, "CAA counted");
	cp_dns_answer_free(a);
}

CP_TEST(dns_type_names)
{
	CP_CHECK_INT(cp_dns_type_from_name("mx"), CP_DNS_MX);
	CP_CHECK_INT(cp_dns_type_from_name("AAAA"), CP_DNS_AAAA);
	CP_CHECK_INT(cp_dns_type_from_name("TYPE257"), 257);
	CP_CHECK_INT(cp_dns_type_from_name("TYPE0"), 0);
	CP_CHECK_INT(cp_dns_type_from_name("TYPE65536"), 0);
	CP_CHECK_INT(cp_dns_type_from_name("MXX"), 0);
}
