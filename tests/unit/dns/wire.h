/*
 * wire.h - build DNS messages by hand for the resolver's unit tests
 * (RFC 1035 4.1): a header, names written label by label (or as a
 * compression pointer), records whose RDLENGTH is filled in at the end.
 */
#ifndef CP_TEST_WIRE_H
#define CP_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define W_QR 0x8000
#define W_AA 0x0400
#define W_TC 0x0200
#define W_RD 0x0100
#define W_RA 0x0080

typedef struct wire {
	unsigned char b[8192];
	size_t len;
} wire;

void wire_u8(wire *w, unsigned v);
void wire_u16(wire *w, unsigned v);
void wire_u32(wire *w, uint32_t v);
void wire_bytes(wire *w, const void *p, size_t n);
/* "a.example.com" as labels and the root; "" is the root alone. */
void wire_name(wire *w, const char *name);
/* A compression pointer to offset off. */
void wire_ptr(wire *w, unsigned off);
void wire_header(wire *w, unsigned id, unsigned flags, unsigned qd,
    unsigned an, unsigned ns, unsigned ar);
/* Response header (QR AA RD RA, rcode) and the question, class IN. */
void wire_response(wire *w, unsigned rcode, const char *qname, int qtype,
    unsigned an, unsigned ns);
/* Start a record (owner name, type, class IN, TTL); returns where its
 * RDLENGTH goes, for wire_rr_end. */
size_t wire_rr(wire *w, const char *owner, int type, uint32_t ttl);
void wire_rr_end(wire *w, size_t at);
/* Whole records. */
void wire_a(wire *w, const char *owner, uint32_t ttl, const char *ip);
void wire_cname(wire *w, const char *owner, uint32_t ttl, const char *target);
void wire_txt(wire *w, const char *owner, uint32_t ttl,
    const char *const *strs, size_t n);
void wire_soa(wire *w, const char *zone, uint32_t ttl, uint32_t minimum);

#endif
