/*
 * conf_int.h - what the configuration files share (conf.c, conf_keys.c,
 * conf_types.c); not part of the public interface.
 */
#ifndef COLDPOST_CONF_INT_H
#define COLDPOST_CONF_INT_H

#include "coldpost/conf.h"

/* Entries in one list value, whatever the row's bounds say. */
#define CONF_LIST_MAX 4096
/* The longest domain name (RFC 1035 2.3.4, presentation form). */
#define CONF_DOMAIN_MAX 253

/* A pointer to the field a row sets. */
#define CONF_FIELD(conf, k) ((void *)((char *)(conf) + (k)->off))
#define CONF_CFIELD(conf, k) ((const void *)((const char *)(conf) + (k)->off))

/* Is s (len bytes) a domain name: dot-separated labels of letters, digits,
   '-' and '_', 1..63 bytes each, not starting or ending with '-', at most
   253 bytes, one trailing dot allowed? */
int conf_is_domain(const char *s, size_t len);
/* Does the string hold a byte below 0x20 (other than TAB) or 0x7f? */
int conf_has_control(const char *s);
/* The index of name in a NULL-terminated list, or -1. */
int conf_enum_index(const char *const *values, const char *name, size_t len);
/* "none, opportunistic, required or verify" into out. */
int conf_enum_list(const char *const *values, cp_buf *out);
/* The outbound TLS level names (CP_CONF_TLS_* order). */
extern const char *const conf_tls_levels[];

/* Shared by conf.c (values) and conf_file.c (the file). */
#include <sys/types.h>

/* Parse v as k's type, check bounds, store; conf unchanged on error, and
   err says what is wrong with the value (without the key's name). */
int conf_key_set(cp_conf *c, const cp_conf_key *k, const char *v,
    cp_err *err);
/* "Example.COM." -> "example.com" into buf (CONF_DOMAIN_MAX + 2 bytes);
   "*" and ".example.com" are kept as patterns. */
int conf_route_domain(const char *d, char *buf, cp_err *err);
/* The index of the route for a normalised domain pattern, or -1. */
ssize_t conf_route_index(const cp_conf_routes *l, const char *domain);
/* Add or replace the route for domain (normalised here). */
int conf_route_set(cp_conf *c, const char *domain, const char *target,
    cp_err *err);
/* A bound of k in its text form ("1G", "60s", "100"). */
const char *conf_bound_text(const cp_conf_key *k, int64_t v, char *buf,
    size_t cap);
/* "listen.submission" -> "[listen] submission" */
void conf_key_label(const char *key, char *buf, size_t cap);

/* A broken rule: the key it is about, another key it involves (its line
   is given when the first one was not set in the file), what is wrong. */
typedef void (*conf_rule_fn)(void *ctx, const char *key, const char *other,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Check the rules between keys, calling report for each broken one. */
void conf_rules(const cp_conf *c, conf_rule_fn report, void *ctx);

#endif
