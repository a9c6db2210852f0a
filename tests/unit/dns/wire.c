/* wire.c - see wire.h. Test code: overflowing the buffer aborts. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

static void
room(wire *w, size_t n)
{
	if (w->len + n > sizeof(w->b))
		abort();
}

void
wire_u8(wire *w, unsigned v)
{
	room(w, 1);
	w->b[w->len++] = (unsigned char)v;
}

void
wire_u16(wire *w, unsigned v)
{
	wire_u8(w, v >> 8 & 0xff);
	wire_u8(w, v & 0xff);
}

void
wire_u32(wire *w, uint32_t v)
{
	wire_u16(w, v >> 16);
	wire_u16(w, v & 0xffff);
}

void
wire_bytes(wire *w, const void *p, size_t n)
{
	room(w, n);
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

void
wire_name(wire *w, const char *name)
{
	while (*name) {
		size_t n = strcspn(name, ".");

		wire_u8(w, (unsigned)n);
		wire_bytes(w, name, n);
		name += n;
		if (*name == '.')
			name++;
	}
	wire_u8(w, 0);
}

void
wire_ptr(wire *w, unsigned off)
{
	wire_u16(w, 0xc000 | off);
}

void
wire_header(wire *w, unsigned id, unsigned flags, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	w->len = 0;
	wire_u16(w, id);
	wire_u16(w, flags);
	wire_u16(w, qd);
	wire_u16(w, an);
	wire_u16(w, ns);
	wire_u16(w, ar);
}

void
wire_response(wire *w, unsigned rcode, const char *qname, int qtype,
    unsigned an, unsigned ns)
{
	wire_header(w, 0x1234, W_QR | W_AA | W_RD | W_RA | rcode, 1, an, ns, 0);
	wire_name(w, qname);
	wire_u16(w, (unsigned)qtype);
	wire_u16(w, 1);
}

size_t
wire_rr(wire *w, const char *owner, int type, uint32_t ttl)
{
	size_t at;

	wire_name(w, owner);
	wire_u16(w, (unsigned)type);
	wire_u16(w, 1);
	wire_u32(w, ttl);
	at = w->len;
	wire_u16(w, 0);
	return at;
}

void
wire_rr_end(wire *w, size_t at)
{
	size_t n = w->len - at - 2;

	w->b[at] = (unsigned char)(n >> 8);
	w->b[at + 1] = (unsigned char)(n & 0xff);
}

void
wire_a(wire *w, const char *owner, uint32_t ttl, const char *ip)
{
	struct in_addr a;
	size_t at = wire_rr(w, owner, 1, ttl);

	if (inet_pton(AF_INET, ip, &a) != 1)
		abort();
	wire_bytes(w, &a, 4);
	wire_rr_end(w, at);
}

void
wire_cname(wire *w, const char *owner, uint32_t ttl, const char *target)
{
	size_t at = wire_rr(w, owner, 5, ttl);

	wire_name(w, target);
	wire_rr_end(w, at);
}

void
wire_txt(wire *w, const char *owner, uint32_t ttl, const char *const *strs,
    size_t n)
{
	size_t at = wire_rr(w, owner, 16, ttl);

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(strs[i]);

		wire_u8(w, (unsigned)l);
		wire_bytes(w, strs[i], l);
	}
	wire_rr_end(w, at);
}

void
wire_soa(wire *w, const char *zone, uint32_t ttl, uint32_t minimum)
{
	size_t at = wire_rr(w, zone, 6, ttl);

	wire_name(w, "ns.test");
	wire_name(w, "hostmaster.test");
	wire_u32(w, 1);
	wire_u32(w, 3600);
	wire_u32(w, 600);
	wire_u32(w, 86400);
	wire_u32(w, minimum);
	wire_rr_end(w, at);
}
