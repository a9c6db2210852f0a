/*
 * spf_int.h - what the three files of the SPF module share: macro syntax
 * and expansion (spf_macro.c), used by the parser and the evaluator.
 */
#ifndef COLDPOST_SPF_INT_H
#define COLDPOST_SPF_INT_H

#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/spf.h"

/* Flags for the macro functions. */
enum {
	SPF_MACRO_EXP = 1,    /* explanation text: c r t allowed, and SP */
	SPF_MACRO_ANY = 2     /* unknown modifier value: every letter allowed */
};

/* Domain names: RFC 7208 7.3 truncates expanded names to this. */
#define SPF_NAME_MAX 253

/* What the macro letters of section 7.3 expand to. */
typedef struct spf_macro_env {
	const char *sender;   /* s: local-part@domain */
	const char *local;    /* l */
	const char *odomain;  /* o */
	const char *domain;   /* d: the current <domain> */
	const char *helo;     /* h */
	const char *receiver; /* r (exp only) */
	int v6;               /* the client is IPv6 */
	unsigned char ip[16]; /* the client address (4 bytes for IPv4) */
	int64_t now;          /* t (exp only) */
	/* p: the validated domain name of ip, found lazily by the evaluator
	 * (5.5 procedure, preferring <domain> or a subdomain of it). */
	int (*ptr_name)(void *arg, const char *domain, cp_buf *out);
	void *ptr_arg;
} spf_macro_env;

/*
 * Check the syntax of a macro-string (7.1) of len bytes. On CP_ESYNTAX,
 * *why says what is wrong and *at where (offset in s).
 */
int spf_macro_check(const char *s, size_t len, int flags, const char **why,
    size_t *at);

/*
 * Is s a domain-spec (7.1): a macro-string ending in a macro-expand or in
 * "." toplabel [ "." ]? The same out-parameters as spf_macro_check.
 */
int spf_domain_spec_check(const char *s, size_t len, const char **why,
    size_t *at);

/* Expand a (checked) macro-string into out (appended). */
int spf_macro_expand(const spf_macro_env *env, const char *s, size_t len,
    int flags, cp_buf *out);

/*
 * Expand a domain-spec into the name to query: macro expansion, a trailing
 * dot dropped, left labels removed until it fits in 253 bytes (7.3).
 * out is reset first and NUL-terminated.
 */
int spf_expand_domain(const spf_macro_env *env, const char *spec, cp_buf *out);

/* The "dot-format" of the client address for %{i} (7.3). */
void spf_ip_dotted(const spf_macro_env *env, char *out, size_t outlen);

#endif
