/*
 * dns_int.h - what a resolver implementation provides (dns.c dispatches).
 */
#ifndef COLDPOST_DNS_INT_H
#define COLDPOST_DNS_INT_H

#include "coldpost/dns.h"

typedef struct cp_dns_ops {
	const char *name; /* "fake", "c-ares" */
	int (*query)(cp_dns *d, const char *name, int type, cp_dns_answer *out,
	    cp_err *err);
	void (*free)(cp_dns *d);
} cp_dns_ops;

struct cp_dns {
	const cp_dns_ops *ops;
	void *impl;
};

/* Answer helpers shared by the implementations. */
cp_dns_answer *dns_answer_new(const char *name, int type);
/* Append a record (copied; strings duplicated). */
int dns_answer_add(cp_dns_answer *a, const cp_dns_rr *rr);
int dns_answer_set_why(cp_dns_answer *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dns_rr_clear(cp_dns_rr *rr);
/* Lowercase copy of name without a trailing dot; NULL if malformed. */
char *dns_name_norm(const char *name);

#endif
