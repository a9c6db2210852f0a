/*
 * conf.h - the server configuration: one struct, one table of keys, one file.
 *
 * Every setting of `coldpost serve` is a field of cp_conf and a row of the
 * key table (src/core/conf_keys.c): its name ("limits.max_size"), type,
 * field, default, bounds and whether SIGHUP may change it while running.
 * The table drives the file reader, the defaults, the dump (`coldpost
 * config show`), the checks and the documentation test (every key has a
 * docs/config/<key>.md). Tenants, pools, domains and mailboxes live in the
 * store, not here.
 *
 * The file is INI, read with libinih:
 *
 *   [limits]
 *   max_size = 25M          ; comments start with ';' or '#'
 *
 *   [routes]
 *   example.com = smtp.example.net:587 tls=verify
 *
 * Value types, as written in the file:
 *   int        decimal, "100"
 *   bool       on/off, yes/no, true/false, 1/0
 *   string     the text; "double quotes" keep ';', '#' and outer spaces
 *   duration   "30s", "5m", "1h30m", "5d" (ms, s, m, h, d, w); "0" is zero
 *   size       "25M", "512K", "1G" (powers of 1024), or bytes "1000"
 *   addresses  "127.0.0.1:587, [::1]:587": numeric IP and port, comma list
 *   cidrs      "10.0.0.0/8, 2001:db8::/32, 127.0.0.1": a bare IP is /32 or /128
 *   durations  "5m,10m,20m,1h": a comma list of durations, non-decreasing
 *   enum       one of the names the key lists
 *   enumset    a comma list of those names, or "all", or empty
 *   routes     the [routes] section: DOMAIN = HOST[:PORT] [tls=LEVEL]
 *
 * Relative paths in a file (tls.cert, tls.key, log.file, a sqlite: store)
 * are taken from the directory of that file, and the loaded config holds
 * them absolute. Reading is not thread-safe (libinih's options are global):
 * load on one thread, then share the result read-only.
 */
#ifndef COLDPOST_CONF_H
#define COLDPOST_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/buf.h"
#include "coldpost/err.h"

/* Where `coldpost serve` and `coldpost config` look without --config. */
#define CP_CONF_PATH "/etc/coldpost/coldpost.conf"
/* Files larger than this are refused; so are longer lines. */
#define CP_CONF_FILE_MAX (1024 * 1024)
#define CP_CONF_LINE_MAX 16384
/* At most this many problems are reported by one load. */
#define CP_CONF_DIAG_MAX 50

/* Value types (the "type" column of the key table). */
enum {
	CP_CONF_INT = 1, /* int64_t */
	CP_CONF_BOOL,	 /* int, 0 or 1 */
	CP_CONF_STRING,	 /* char *, owned, never NULL after init */
	CP_CONF_DURATION, /* int64_t milliseconds */
	CP_CONF_SIZE,	 /* int64_t bytes */
	CP_CONF_ADDRS,	 /* cp_conf_addrs */
	CP_CONF_CIDRS,	 /* cp_conf_cidrs */
	CP_CONF_DURATIONS, /* cp_conf_durations */
	CP_CONF_ENUM,	 /* int, index into the row's values */
	CP_CONF_ENUMSET, /* uint32_t, bit i = values[i] */
	CP_CONF_ROUTES	 /* cp_conf_routes, the whole [routes] section */
};

/* Row flags. */
#define CP_CONF_LIVE 1u /* SIGHUP applies a new value without a restart */

/* A listening address: numeric IP and port. */
typedef struct cp_conf_addr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char ip[16];	/* network order; 4 bytes used for AF_INET */
	uint16_t port;		/* host order, 1..65535 */
} cp_conf_addr;

typedef struct cp_conf_addrs {
	size_t n;
	cp_conf_addr *v; /* owned */
} cp_conf_addrs;

/* A network: address with host bits clear, and the prefix length. */
typedef struct cp_conf_cidr {
	int family;
	unsigned char ip[16];
	unsigned prefix; /* 0..32 or 0..128 */
} cp_conf_cidr;

typedef struct cp_conf_cidrs {
	size_t n;
	cp_conf_cidr *v; /* owned */
} cp_conf_cidrs;

typedef struct cp_conf_durations {
	size_t n;
	int64_t *v; /* owned; milliseconds */
} cp_conf_durations;

/* Outbound TLS levels (delivery.tls and a route's tls=). */
enum {
	CP_CONF_TLS_NONE = 0,	    /* never STARTTLS */
	CP_CONF_TLS_OPPORTUNISTIC, /* STARTTLS when offered, any certificate */
	CP_CONF_TLS_REQUIRED,	    /* STARTTLS or defer, any certificate */
	CP_CONF_TLS_VERIFY	    /* STARTTLS, valid chain, name matches */
};

/* A static route: mail for domain goes to host:port instead of its MX. */
typedef struct cp_conf_route {
	char *domain; /* owned; lower case: "example.com", ".example.com"
			 (subdomains) or "*" (everything else) */
	char *host;   /* owned; a name or an IP literal without brackets */
	uint16_t port;
	int tls; /* CP_CONF_TLS_*, or -1: delivery.tls */
} cp_conf_route;

typedef struct cp_conf_routes {
	size_t n;
	cp_conf_route *v; /* owned, in file order */
} cp_conf_routes;

/* tls.min_version */
enum { CP_CONF_TLS_V1_2 = 0, CP_CONF_TLS_V1_3 };
/* dkim.algorithm */
enum { CP_CONF_DKIM_RSA_SHA256 = 0, CP_CONF_DKIM_ED25519_SHA256 };
/* mailbox.cap_action */
enum { CP_CONF_CAP_DEFER = 0, CP_CONF_CAP_REFUSE };
/* log.debug: bit (1u << CP_CONF_DEBUG_x) for each module */
enum {
	CP_CONF_DEBUG_CONF = 0,
	CP_CONF_DEBUG_NET,
	CP_CONF_DEBUG_TLS,
	CP_CONF_DEBUG_SMTPD,
	CP_CONF_DEBUG_SMTPC,
	CP_CONF_DEBUG_AUTH,
	CP_CONF_DEBUG_STORE,
	CP_CONF_DEBUG_QUEUE,
	CP_CONF_DEBUG_DNS,
	CP_CONF_DEBUG_DKIM,
	CP_CONF_DEBUG_THROTTLE,
	CP_CONF_DEBUG_BOUNCE,
	CP_CONF_DEBUG_HTTP
};

/*
 * The configuration. Strings and lists are owned by the struct: change
 * them with cp_conf_set, copy with cp_conf_copy, free with cp_conf_clear.
 * Durations are milliseconds, sizes bytes.
 */
typedef struct cp_conf {
	struct {
		char *hostname; /* "" = the system's host name */
		char *user;	/* "" = do not change user */
		char *store;	/* "sqlite:/abs/path.db" | "postgres:..." */
	} server;
	struct {
		cp_conf_addrs submission;  /* STARTTLS, usually 587 */
		cp_conf_addrs submissions; /* implicit TLS, usually 465 */
		cp_conf_addrs bounce;	   /* inbound bounces, usually 25 */
		cp_conf_addrs http;	   /* the HTTP API */
	} listen;
	struct {
		char *cert; /* PEM chain, "" = none */
		char *key;  /* PEM private key, "" = none */
		int min_version; /* CP_CONF_TLS_V1_* */
	} tls;
	struct {
		cp_conf_cidrs trusted_networks; /* relay without AUTH */
		int auth_without_tls;		/* AUTH before STARTTLS */
	} submission;
	struct {
		int64_t max_size;	       /* bytes */
		int64_t max_recipients;
		int64_t max_line_length;       /* bytes, with CRLF */
		int64_t connections;	       /* in total */
		int64_t connections_per_ip;
		int64_t auth_failures;	       /* then disconnect */
		int64_t auth_failure_delay;    /* ms, before each failure reply */
		int64_t bad_commands;	       /* then disconnect */
		int64_t commands_before_auth;
		int64_t idle_timeout;	       /* ms */
		int64_t data_timeout;	       /* ms */
	} limits;
	struct {
		int64_t mx_port;
		int tls; /* CP_CONF_TLS_* */
		int64_t connect_timeout; /* ms */
		int64_t command_timeout; /* ms */
		int64_t data_timeout;	 /* ms */
		int64_t connections_per_destination;
		int64_t connections_per_source_ip;
		int64_t messages_per_connection;
	} delivery;
	cp_conf_routes routes;
	struct {
		cp_conf_durations retry; /* ms each; the last one repeats */
		int64_t expiry;		 /* ms */
		int64_t retention;	 /* ms */
	} queue;
	struct {
		int algorithm; /* CP_CONF_DKIM_* */
	} dkim;
	struct {
		char *domain;	   /* "" = no VERP domain */
		int verp;
		char *verp_prefix;
		char *unsubscribe_url; /* "" = no https List-Unsubscribe */
	} bounce;
	struct {
		char *file; /* "stderr" or an absolute path */
		int json;
		uint32_t debug; /* CP_CONF_DEBUG_* bits */
	} log;
	struct {
		int64_t daily_cap; /* 0 = no cap */
		int cap_action;	   /* CP_CONF_CAP_* */
		char *ramp;	   /* "1,1,2": caps of a new mailbox's days */
	} mailbox;
	struct {
		int64_t start_rate;    /* messages/hour of a new (IP, provider) */
		int64_t max_rate;      /* full rate; 0 = no pacing */
		int64_t ramp_time;     /* ms from start (or a cut) to full */
		int64_t window;	       /* ms of answers judged together */
		int64_t refusal_share; /* percent of policy refusals to cut */
		int64_t min_answers;   /* in the window, before judging */
		int64_t cooldown;      /* ms a halved rate is held */
		int64_t pause;	       /* ms a listed source IP is paused */
		int64_t slowdown;      /* ms a "slow down" pauses the pair */
		char *providers;       /* "NAME PATTERN...; ..." added to the
					  built-in MX table */
	} throttle;
	struct {
		char *tiers;	       /* "FROM:CENTS,...", see coldpost/cost.h */
		int64_t minimum_cents; /* monthly minimum */
		char *currency;	       /* ISO 4217 code, "USD" */
	} cost;
	struct {
		int64_t timeout;      /* ms for one POST */
		int64_t backoff_base; /* ms: first retry delay */
		int64_t backoff_max;  /* ms: longest retry delay */
		int64_t max_attempts; /* sends before giving up */
		int64_t concurrency;  /* POSTs at once */
	} webhook;
} cp_conf;

/* One row of the key table. */
typedef struct cp_conf_key {
	const char *name; /* "section.key"; "routes" for the [routes] section */
	int type;	  /* CP_CONF_* */
	size_t off;	  /* offsetof(cp_conf, field) */
	const char *def;  /* the default, as written in a file */
	int64_t min, max; /* int/duration/size: the value; string: length;
			     addrs/cidrs/routes: entries; durations: each */
	unsigned flags;	  /* CP_CONF_LIVE */
	const char *const *values; /* enum/enumset: names, NULL-terminated */
	/* strings: extra check, returns NULL or what is wrong ("is not ...") */
	const char *(*check)(const char *value);
	const char *summary; /* one line: what it sets */
} cp_conf_key;

/* The table, in file order (section by section); *n gets its length. */
const cp_conf_key *cp_conf_keys(size_t *n);
/* A row by name ("limits.max_size"), or NULL. */
const cp_conf_key *cp_conf_find_key(const char *name);
/* "int", "duration", ... */
const char *cp_conf_type_name(int type);

/* Fill conf with the defaults. CP_ENOMEM leaves nothing to free. */
int cp_conf_init(cp_conf *conf, cp_err *err);
/* Free what conf owns; conf is then unusable until cp_conf_init. */
void cp_conf_clear(cp_conf *conf);
/* A deep copy into dst (not initialised before). */
int cp_conf_copy(cp_conf *dst, const cp_conf *src, cp_err *err);

/*
 * Read a file over the defaults into *out (not initialised before). On
 * success the caller owns *out (cp_conf_clear); on failure there is nothing
 * to free, err holds the first problem and diags (if not NULL) gets every
 * problem found, one per line, at most CP_CONF_DIAG_MAX:
 *   "coldpost.conf:12: [limits] max_size: '25X' is not a size (use 25M, 1G, ...)"
 * Returns CP_OK, CP_ESYNTAX (the file is wrong), CP_EIO (cannot read it,
 * err->sys set) or CP_ENOMEM. Unknown sections and keys, a key set twice
 * and a value out of bounds are errors; so is a broken cross-key rule.
 */
int cp_conf_load_file(cp_conf *out, const char *path, cp_buf *diags,
    cp_err *err);
/*
 * The same from memory (data need not be NUL-terminated; NUL bytes are an
 * error). name is used in messages; relative paths are taken from basedir,
 * or left as written when basedir is NULL.
 */
int cp_conf_load_mem(cp_conf *out, const char *data, size_t len,
    const char *name, const char *basedir, cp_buf *diags, cp_err *err);

/*
 * Set one key from its text form, as the file reader does: "limits.max_size"
 * "25M", or "routes.example.com" "[::1]:2525 tls=none" to add or replace a
 * route. Checks the type and bounds, not the cross-key rules. On error conf
 * is unchanged and err says "max_size: '25X' is not a size (...)".
 */
int cp_conf_set(cp_conf *conf, const char *name, const char *value,
    cp_err *err);
/*
 * The rules between keys (a listener with implicit TLS needs a certificate,
 * two listeners on one port, expiry shorter than the first retry, ...).
 * CP_OK, or CP_EINVAL with the first broken rule in err.
 */
int cp_conf_validate(const cp_conf *conf, cp_err *err);

/* The text form of one key's value, appended to out ("25M"). For routes:
   "DOMAIN = TARGET" lines. */
int cp_conf_format(const cp_conf *conf, const cp_conf_key *k, cp_buf *out);
/* The text form of one route's target: "[::1]:2525 tls=verify". */
int cp_conf_format_route(const cp_conf_route *r, cp_buf *out);

/* Dump flags. */
#define CP_CONF_DUMP_DOC 1u	/* a comment line per key: summary, type,
				   bounds, live or restart */
#define CP_CONF_DUMP_CHANGED 2u /* a comment line "; default: X" above each
				   key whose value is not the default */
/*
 * The whole configuration as an INI file that cp_conf_load_* reads back to
 * an equal config. Appends to out.
 */
int cp_conf_dump(const cp_conf *conf, unsigned flags, cp_buf *out);

/* Is this key's value the same in a and b? */
int cp_conf_key_equal(const cp_conf *a, const cp_conf *b,
    const cp_conf_key *k);
/*
 * The keys whose values differ, in table order: up to max rows into out,
 * returns how many differ. SIGHUP: a differing key without CP_CONF_LIVE
 * needs a restart.
 */
size_t cp_conf_diff(const cp_conf *a, const cp_conf *b,
    const cp_conf_key **out, size_t max);

/* Lookups the server makes. */
/* Is the address (AF_INET: 4 bytes, AF_INET6: 16) in one of the networks?
   An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 networks. */
int cp_conf_cidrs_match(const cp_conf_cidrs *l, int family, const void *ip);
/* The route for a domain: exact, then the longest ".parent", then "*";
   NULL when mail for it goes to its MX. Case-insensitive. */
const cp_conf_route *cp_conf_find_route(const cp_conf *conf,
    const char *domain);

/*
 * The type parsers, one value each (no list splitting for the scalars).
 * They return CP_OK or CP_ESYNTAX with what is wrong in err
 * ("'25X' is not a size (use 25M, 1G, ...)").
 */
int cp_conf_parse_int(const char *s, int64_t *out, cp_err *err);
int cp_conf_parse_bool(const char *s, int *out, cp_err *err);
int cp_conf_parse_duration(const char *s, int64_t *ms, cp_err *err);
int cp_conf_parse_size(const char *s, int64_t *bytes, cp_err *err);
int cp_conf_parse_addr(const char *s, cp_conf_addr *out, cp_err *err);
int cp_conf_parse_cidr(const char *s, cp_conf_cidr *out, cp_err *err);
/* Lists: out is replaced on success (its old array freed). */
int cp_conf_parse_addrs(const char *s, cp_conf_addrs *out, cp_err *err);
int cp_conf_parse_cidrs(const char *s, cp_conf_cidrs *out, cp_err *err);
int cp_conf_parse_durations(const char *s, cp_conf_durations *out,
    cp_err *err);
/* A route target "HOST[:PORT] [tls=LEVEL]" into r (host owned by r). */
int cp_conf_parse_route(const char *s, cp_conf_route *r, cp_err *err);

/* Text forms: "1h30m", "25M", "[::1]:587", "10.0.0.0/8". */
int cp_conf_format_duration(int64_t ms, cp_buf *out);
int cp_conf_format_size(int64_t bytes, cp_buf *out);
int cp_conf_format_addr(const cp_conf_addr *a, cp_buf *out);
int cp_conf_format_cidr(const cp_conf_cidr *c, cp_buf *out);

#endif
