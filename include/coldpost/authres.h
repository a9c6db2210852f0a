/*
 * authres.h - the Authentication-Results header field (RFC 8601): what a
 * receiver's SPF, DKIM and DMARC checks found, written into the message.
 *
 * Build one with cp_authres_new and the cp_authres_add_* calls, then
 * render it (values quoted where RFC 8601 2.2 and RFC 2045 require, comments
 * escaped, folded between results); or parse one a receiver wrote
 * (cp_authres_parse) and read its methods. A cp_authres owns copies of
 * every string given to it.
 */
#ifndef COLDPOST_AUTHRES_H
#define COLDPOST_AUTHRES_H

#include <stddef.h>

#include "coldpost/buf.h"
#include "coldpost/err.h"

/*
 * The result of one authentication method, as SPF (RFC 7208 2.6), DKIM
 * (RFC 6376, RFC 8601 2.7.1) and DMARC name them.
 */
typedef enum cp_auth_result {
	CP_AUTH_NONE = 0,
	CP_AUTH_PASS,
	CP_AUTH_FAIL,
	CP_AUTH_SOFTFAIL,  /* SPF only */
	CP_AUTH_NEUTRAL,
	CP_AUTH_TEMPERROR,
	CP_AUTH_PERMERROR,
	CP_AUTH_POLICY     /* RFC 8601 2.7.1: passed, but local policy refused */
} cp_auth_result;

/* "none", "pass", ... */
const char *cp_auth_result_name(cp_auth_result r);
/*
 * The result named s, case-insensitively; also the old names "hardfail"
 * (fail), "error" (temperror) and "unknown" (permerror) of RFC 4408.
 * CP_OK or CP_EINVAL.
 */
int cp_auth_result_from_name(const char *s, cp_auth_result *out);

#define CP_AUTHRES_METHODS_MAX 64 /* resinfo entries in one field */
#define CP_AUTHRES_PROPS_MAX 16   /* properties of one method */

typedef struct cp_authres_prop {
	char *ptype;    /* "smtp", "header", "body", "policy"; "" for a
	                   bare "action=none" seen by the parser */
	char *property; /* "mailfrom", "d", "from" */
	char *value;    /* unquoted: "example.com", "user@example.com" */
} cp_authres_prop;

typedef struct cp_authres_method {
	char *method;   /* "spf", "dkim", "dmarc", ... lowercase */
	char *version;  /* "1" from "dkim/1=pass", or NULL */
	char *result;   /* "pass", ... lowercase */
	char *reason;   /* reason= text, unquoted, or NULL */
	char *comment;  /* the comment after the result, without ( ), or NULL */
	cp_authres_prop props[CP_AUTHRES_PROPS_MAX];
	size_t nprops;
} cp_authres_method;

typedef struct cp_authres cp_authres;

/* A new, empty field for this authserv-id (usually the host name). */
cp_authres *cp_authres_new(const char *authserv_id, cp_err *err);
void cp_authres_free(cp_authres *ar);

/*
 * Append a result: method and result are RFC 8601 Keywords (letters,
 * digits, '-'), reason and comment free text or NULL. CP_EINVAL for a bad
 * keyword or a control character, CP_ETOOBIG past CP_AUTHRES_METHODS_MAX.
 */
int cp_authres_add_method(cp_authres *ar, const char *method,
    const char *result, const char *reason, const char *comment, cp_err *err);
/* Append "ptype.property=value" to the method added last. */
int cp_authres_add_prop(cp_authres *ar, const char *ptype,
    const char *property, const char *value, cp_err *err);

/*
 * spf=RESULT smtp.mailfrom=MAILFROM, or smtp.helo=HELO when mailfrom is
 * NULL or empty (a null reverse path is checked as the HELO identity).
 */
int cp_authres_add_spf(cp_authres *ar, cp_auth_result r, const char *mailfrom,
    const char *helo, const char *reason, cp_err *err);
/*
 * dkim=RESULT header.d=D header.s=S header.b=B, where B is the first 8
 * characters of the signature's b= (RFC 6008); NULLs leave a property out.
 */
int cp_authres_add_dkim(cp_authres *ar, cp_auth_result r, const char *d,
    const char *s, const char *b, const char *reason, cp_err *err);

const char *cp_authres_authserv_id(const cp_authres *ar);
size_t cp_authres_count(const cp_authres *ar);
/* The i-th method; valid until ar changes. */
const cp_authres_method *cp_authres_method_at(const cp_authres *ar, size_t i);
/* The first method named method (case-insensitive), or NULL. */
const cp_authres_method *cp_authres_find(const cp_authres *ar,
    const char *method);
/* The value of ptype.property in m, or NULL. */
const char *cp_authres_prop_value(const cp_authres_method *m,
    const char *ptype, const char *property);

/*
 * Append the whole field, "Authentication-Results: ID; spf=pass ...; ..."
 * to out, without a final line break. fold is put after each ';' that
 * separates results: "\r\n\t" for a message, "\n\t" for a terminal, NULL
 * for one line (then "; "). With no method, the field says "ID; none".
 */
int cp_authres_render(const cp_authres *ar, const char *fold, cp_buf *out,
    cp_err *err);

/*
 * Parse a field: its body, or the whole field with the
 * "Authentication-Results:" name; folded lines (CRLF or LF then WSP) and
 * comments are allowed anywhere RFC 8601 2.2 allows CFWS. CP_OK and *out
 * (the caller frees), CP_ESYNTAX with err naming the offset and what was
 * expected, CP_ETOOBIG past the limits above or 64 KiB of input.
 */
int cp_authres_parse(const char *txt, size_t len, cp_authres **out,
    cp_err *err);

#endif
