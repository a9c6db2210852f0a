/*
 * conf_keys.c - the configuration table: one row per key.
 *
 * A row names the key ("section.name"), its type and the cp_conf field it
 * sets (checked at compile time: a row whose C type does not match its
 * field does not build), the default as it would be written in the file,
 * the bounds (see cp_conf_key in conf.h for what they bound per type),
 * CP_CONF_LIVE when SIGHUP may change it on a running server, the names of
 * an enum, an extra check for strings, and a one-line summary. The file
 * reader, the defaults, `coldpost config show --defaults`, the checks and
 * the documentation test (docs/config/<key>.md for every row) all come from
 * here, so adding a key is adding a row, a field and a page (Redis
 * static_configs[]).
 *
 * Defaults follow Postfix where Postfix has the setting and RFC 5321
 * 4.5.3.2 for the timeouts; the rest is what cold email needs (a daily cap
 * of 2 per mailbox, 5 days before a message expires).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/cost.h"
#include "core/conf_int.h"

#define SEC(x) ((int64_t)(x) * 1000)
#define MINS(x) SEC((int64_t)(x) * 60)
#define HOURS(x) MINS((int64_t)(x) * 60)
#define DAYS(x) HOURS((int64_t)(x) * 24)
#define KIB(x) ((int64_t)(x) << 10)
#define GIB(x) ((int64_t)(x) << 30)

/*
 * type, offsetof(cp_conf, f): the sizeof fails to build (negative array)
 * when the field's C type is not the one the type stores.
 */
#define AT(T, ctype, f)                                                      \
	T, offsetof(cp_conf, f) +                                            \
	    0 * sizeof(char[_Generic(((cp_conf *)0)->f, ctype: 1, default: -1)])
#define INT(f) AT(CP_CONF_INT, int64_t, f)
#define BOOL(f) AT(CP_CONF_BOOL, int, f)
#define STR(f) AT(CP_CONF_STRING, char *, f)
#define DUR(f) AT(CP_CONF_DURATION, int64_t, f)
#define SIZE(f) AT(CP_CONF_SIZE, int64_t, f)
#define ADDRS(f) AT(CP_CONF_ADDRS, cp_conf_addrs, f)
#define CIDRS(f) AT(CP_CONF_CIDRS, cp_conf_cidrs, f)
#define DURS(f) AT(CP_CONF_DURATIONS, cp_conf_durations, f)
#define ENUM(f) AT(CP_CONF_ENUM, int, f)
#define ENUMSET(f) AT(CP_CONF_ENUMSET, uint32_t, f)
#define ROUTES(f) AT(CP_CONF_ROUTES, cp_conf_routes, f)

#define LIVE CP_CONF_LIVE
#define RESTART 0u

static const char *const tls_versions[] = { "TLSv1.2", "TLSv1.3", NULL };
static const char *const dkim_algorithms[] = { "rsa-sha256",
	"ed25519-sha256", NULL };
static const char *const cap_actions[] = { "defer", "refuse", NULL };
/* CP_CONF_DEBUG_* order */
static const char *const debug_modules[] = { "conf", "net", "tls", "smtpd",
	"smtpc", "auth", "store", "queue", "dns", "dkim", "throttle",
	"bounce", "http", NULL };

/* Empty, or a host name for EHLO/the greeting (RFC 5321 4.1.1.1). */
static const char *
check_hostname(const char *v)
{
	if (*v == '\0' || conf_is_domain(v, strlen(v)))
		return NULL;
	return "is not a host name (letters, digits, '-' and '.')";
}

/* Empty, or a POSIX-ish login name. */
static const char *
check_user(const char *v)
{
	if (*v == '\0')
		return NULL;
	if (!(islower((unsigned char)*v) || *v == '_'))
		return "is not a user name (start with a-z or '_')";
	for (const char *p = v + 1; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '_' && *p != '-')
			return "is not a user name (a-z, 0-9, '_' and '-')";
	return NULL;
}

/* "sqlite:PATH" (PATH may be ":memory:") or "postgres:CONNINFO". */
static const char *
check_store(const char *v)
{
	if (strncmp(v, "sqlite:", 7) == 0 && v[7] != '\0' &&
	    v[strlen(v) - 1] != '/')
		return NULL;
	if (strncmp(v, "postgres:", 9) == 0 && v[9] != '\0')
		return NULL;
	return "is not a store (use sqlite:/var/lib/coldpost/queue.db or "
	       "postgres:dbname=coldpost)";
}

/* Empty or a file name (relative ones are taken from the file's folder). */
static const char *
check_path(const char *v)
{
	size_t n = strlen(v);

	if (n > 0 && v[n - 1] == '/')
		return "names a folder, not a file";
	return NULL;
}

static const char *
check_log_file(const char *v)
{
	if (*v == '\0')
		return "is empty (use stderr or a file)";
	return check_path(v);
}

/* Empty, or https://HOST[:PORT][/PATH] without a query, a fragment or a
 * trailing '/': the relay appends /unsubscribe/TOKEN (RFC 8058 3.1 wants
 * an HTTPS URI). */
static const char *
check_unsubscribe_url(const char *v)
{
	size_t n = strlen(v);

	if (n == 0)
		return NULL;
	if (strncmp(v, "https://", 8) != 0 || n == 8 || v[8] == '/')
		return "is not an https URL (https://relay.example.com)";
	if (v[n - 1] == '/')
		return "must not end with '/'";
	for (const char *p = v + 8; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_~:/%", *p))
			return "may hold only letters, digits and . - _ ~ : / %";
	return NULL;
}

/* The start of a VERP local part (RFC 5321 4.1.2 dot-string, a subset). */
static const char *
check_verp_prefix(const char *v)
{
	if (*v == '.')
		return "must not start with '.'";
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return "may hold only letters, digits, '.', '_' and '-'";
	return NULL;
}

/* A price tier list (coldpost/cost.h); the message names the bad item.
   The buffer is static: the config is loaded on one thread (conf.h). */
static const char *
check_cost_tiers(const char *v)
{
	static char why[sizeof(((cp_err *)0)->msg) + 32];
	cp_cost_tiers t;
	cp_err err;

	if (cp_cost_parse_tiers(v, &t, &err) == CP_OK)
		return NULL;
	snprintf(why, sizeof(why), "is not a tier list: %s", err.msg);
	return why;
}

/* An ISO 4217 currency code: three capital letters. */
static const char *
check_currency(const char *v)
{
	for (int i = 0; i < 3; i++)
		if (v[i] < 'A' || v[i] > 'Z')
			return "is not a currency code (three capitals: USD, EUR)";
	return v[3] == '\0' ? NULL :
			      "is not a currency code (three capitals: USD, EUR)";
}

/* mailbox.ramp: "" or a comma list of 1..90 caps, each 1..1000000. */
static const char *
check_ramp(const char *v)
{
	size_t n = 0;

	if (*v == '\0')
		return NULL;
	for (const char *p = v;; p++) {
		int64_t x = 0;
		int digits = 0;

		while (*p == ' ')
			p++;
		for (; *p >= '0' && *p <= '9' && digits < 8; p++, digits++)
			x = x * 10 + (*p - '0');
		while (*p == ' ')
			p++;
		if (digits == 0 || x < 1 || x > 1000000 || ++n > 90 ||
		    (*p != ',' && *p != '\0'))
			return "is not a ramp (a comma list of up to 90 daily "
			       "caps, each 1 to 1000000: 1,1,2,3)";
		if (*p == '\0')
			return NULL;
	}
}

/* throttle.providers: printable text; src/policy parses the lines. */
static const char *
check_providers(const char *v)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "holds a control character";
	return NULL;
}

static const cp_conf_key keys[] = {
	/* [server] */
	{ "server.hostname", STR(server.hostname), "", 0, 253, LIVE, NULL,
	    check_hostname,
	    "host name in the SMTP greeting and Received: fields; empty: the "
	    "system's" },
	{ "server.user", STR(server.user), "coldpost", 0, 32, RESTART, NULL,
	    check_user,
	    "user to run as after binding the ports when started as root; "
	    "empty: stay" },
	{ "server.store", STR(server.store),
	    "sqlite:/var/lib/coldpost/queue.db", 1, 4096, RESTART, NULL,
	    check_store, "where the queue, tenants and mailboxes are kept" },

	/* [listen] */
	{ "listen.submission", ADDRS(listen.submission), "0.0.0.0:587", 0, 16,
	    RESTART, NULL, NULL,
	    "submission listeners with STARTTLS (RFC 6409); empty: none" },
	{ "listen.submissions", ADDRS(listen.submissions), "0.0.0.0:465", 0,
	    16, RESTART, NULL, NULL,
	    "submission listeners with implicit TLS (RFC 8314); empty: none" },
	{ "listen.bounce", ADDRS(listen.bounce), "", 0, 16, RESTART, NULL,
	    NULL, "listeners for bounces sent back to the VERP domain; empty: "
		  "none" },
	{ "listen.http", ADDRS(listen.http), "", 0, 16, RESTART, NULL, NULL,
	    "listeners for the HTTP API; empty: none" },

	/* [tls] */
	{ "tls.cert", STR(tls.cert), "/etc/coldpost/tls/cert.pem", 0, 4096,
	    LIVE, NULL, check_path,
	    "PEM certificate chain for the listeners; re-read on SIGHUP" },
	{ "tls.key", STR(tls.key), "/etc/coldpost/tls/key.pem", 0, 4096, LIVE,
	    NULL, check_path,
	    "PEM private key of tls.cert; re-read on SIGHUP" },
	{ "tls.min_version", ENUM(tls.min_version), "TLSv1.2", 0, 0, LIVE,
	    tls_versions, NULL, "oldest TLS version the listeners accept" },

	/* [submission] */
	{ "submission.trusted_networks", CIDRS(submission.trusted_networks),
	    "", 0, 1024, LIVE, NULL, NULL,
	    "clients that may relay without AUTH (like Postfix mynetworks)" },
	{ "submission.auth_without_tls", BOOL(submission.auth_without_tls),
	    "off", 0, 0, LIVE, NULL, NULL,
	    "offer AUTH before STARTTLS (tests only)" },

	/* [limits] */
	{ "limits.max_size", SIZE(limits.max_size), "25M", KIB(1), GIB(1),
	    LIVE, NULL, NULL, "largest message accepted (the SIZE extension)" },
	{ "limits.max_recipients", INT(limits.max_recipients), "100", 1, 10000,
	    LIVE, NULL, NULL, "recipients per message" },
	{ "limits.max_line_length", INT(limits.max_line_length), "2048", 1000,
	    65536, LIVE, NULL, NULL,
	    "longest command or message line, CRLF included, in bytes" },
	{ "limits.connections", INT(limits.connections), "1000", 1, 100000,
	    LIVE, NULL, NULL, "client connections at once, in total" },
	{ "limits.connections_per_ip", INT(limits.connections_per_ip), "20",
	    1, 100000, LIVE, NULL, NULL,
	    "client connections at once from one IP address" },
	{ "limits.auth_failures", INT(limits.auth_failures), "3", 1, 100,
	    LIVE, NULL, NULL, "failed AUTH attempts before disconnecting" },
	{ "limits.auth_failure_delay", DUR(limits.auth_failure_delay), "2s", 0,
	    SEC(60), LIVE, NULL, NULL,
	    "wait before answering a failed AUTH" },
	{ "limits.bad_commands", INT(limits.bad_commands), "20", 1, 1000,
	    LIVE, NULL, NULL,
	    "unknown or malformed commands before disconnecting" },
	{ "limits.commands_before_auth", INT(limits.commands_before_auth),
	    "10", 1, 1000, LIVE, NULL, NULL,
	    "commands an untrusted client may send before AUTH succeeds" },
	{ "limits.idle_timeout", DUR(limits.idle_timeout), "5m", SEC(1),
	    HOURS(1), LIVE, NULL, NULL, "wait for the next command" },
	{ "limits.data_timeout", DUR(limits.data_timeout), "10m", SEC(1),
	    HOURS(1), LIVE, NULL, NULL,
	    "wait for more message data during DATA" },

	/* [delivery] */
	{ "delivery.mx_port", INT(delivery.mx_port), "25", 1, 65535, LIVE,
	    NULL, NULL, "port of the receiving MX hosts" },
	{ "delivery.tls", ENUM(delivery.tls), "opportunistic", 0, 0, LIVE,
	    conf_tls_levels, NULL,
	    "STARTTLS towards receivers, unless a route says otherwise" },
	{ "delivery.connect_timeout", DUR(delivery.connect_timeout), "30s",
	    SEC(1), MINS(10), LIVE, NULL, NULL,
	    "wait for a TCP connection and the greeting" },
	{ "delivery.command_timeout", DUR(delivery.command_timeout), "5m",
	    SEC(1), HOURS(1), LIVE, NULL, NULL,
	    "wait for the reply to a command" },
	{ "delivery.data_timeout", DUR(delivery.data_timeout), "10m", SEC(1),
	    HOURS(1), LIVE, NULL, NULL,
	    "wait for the reply to the end of the message" },
	{ "delivery.connections_per_destination",
	    INT(delivery.connections_per_destination), "10", 1, 1000, LIVE,
	    NULL, NULL, "parallel connections to one destination" },
	{ "delivery.connections_per_source_ip",
	    INT(delivery.connections_per_source_ip), "100", 1, 10000, LIVE,
	    NULL, NULL, "parallel outbound connections from one source IP" },
	{ "delivery.messages_per_connection",
	    INT(delivery.messages_per_connection), "100", 1, 100000, LIVE,
	    NULL, NULL, "messages sent over one connection before QUIT" },

	/* [routes] */
	{ "routes", ROUTES(routes), "", 0, 10000, LIVE, NULL, NULL,
	    "static routes: DOMAIN = HOST[:PORT] [tls=LEVEL]" },

	/* [queue] */
	{ "queue.retry", DURS(queue.retry), "5m,10m,20m,40m,1h,2h,4h,8h",
	    SEC(1), DAYS(7), LIVE, NULL, NULL,
	    "waits between attempts after a 4xx; the last one repeats" },
	{ "queue.expiry", DUR(queue.expiry), "5d", MINS(1), DAYS(30), LIVE,
	    NULL, NULL, "give up on a recipient this long after acceptance" },
	{ "queue.retention", DUR(queue.retention), "7d", 0, DAYS(3650), LIVE,
	    NULL, NULL, "keep bodies of finished messages this long" },

	/* [dkim] */
	{ "dkim.algorithm", ENUM(dkim.algorithm), "rsa-sha256", 0, 0, LIVE,
	    dkim_algorithms, NULL, "algorithm of new DKIM keys" },

	/* [bounce] */
	{ "bounce.domain", STR(bounce.domain), "", 0, 253, LIVE, NULL,
	    check_hostname,
	    "domain of VERP return paths, its MX pointing at listen.bounce" },
	{ "bounce.verp", BOOL(bounce.verp), "on", 0, 0, LIVE, NULL, NULL,
	    "a return path per recipient when bounce.domain is set" },
	{ "bounce.verp_prefix", STR(bounce.verp_prefix), "b-", 1, 32, LIVE,
	    NULL, check_verp_prefix, "start of VERP local parts" },
	{ "bounce.unsubscribe_url", STR(bounce.unsubscribe_url), "", 0, 200,
	    LIVE, NULL, check_unsubscribe_url,
	    "https base of one-click unsubscribe links; empty: mailto only" },

	/* [log] */
	{ "log.file", STR(log.file), "stderr", 1, 4096, LIVE, NULL,
	    check_log_file, "stderr or a file; reopened on SIGHUP" },
	{ "log.json", BOOL(log.json), "off", 0, 0, LIVE, NULL, NULL,
	    "one JSON object per line instead of text" },
	{ "log.debug", ENUMSET(log.debug), "", 0, 0, LIVE, debug_modules, NULL,
	    "modules that log at debug level" },

	/* [mailbox] */
	{ "mailbox.daily_cap", INT(mailbox.daily_cap), "2", 0, 1000000, LIVE,
	    NULL, NULL, "default messages per mailbox per day; 0: no cap" },
	{ "mailbox.cap_action", ENUM(mailbox.cap_action), "defer", 0, 0, LIVE,
	    cap_actions, NULL, "what a message over the cap gets" },
	{ "mailbox.ramp", STR(mailbox.ramp), "1,1,1,1,1,1,1", 0, 1024, LIVE,
	    NULL, check_ramp,
	    "daily caps of a new mailbox's first days, then its cap" },

	/* [throttle] */
	{ "throttle.start_rate", INT(throttle.start_rate), "60", 1, 1000000,
	    LIVE, NULL, NULL,
	    "messages/hour a new (source IP, provider) pair starts at" },
	{ "throttle.max_rate", INT(throttle.max_rate), "600", 0, 10000000,
	    LIVE, NULL, NULL,
	    "messages/hour per (source IP, provider) at full speed; 0: no "
	    "pacing" },
	{ "throttle.ramp_time", DUR(throttle.ramp_time), "14d", MINS(1),
	    DAYS(365), LIVE, NULL, NULL,
	    "time a pair takes from its start or cut rate to max_rate" },
	{ "throttle.window", DUR(throttle.window), "1h", MINS(1), DAYS(7),
	    LIVE, NULL, NULL, "answers judged together for refusal_share" },
	{ "throttle.refusal_share", INT(throttle.refusal_share), "20", 1, 100,
	    LIVE, NULL, NULL,
	    "percent of policy refusals in the window that halves the rate" },
	{ "throttle.min_answers", INT(throttle.min_answers), "10", 1, 100000,
	    LIVE, NULL, NULL, "answers in the window before the share counts" },
	{ "throttle.cooldown", DUR(throttle.cooldown), "1d", 0, DAYS(90), LIVE,
	    NULL, NULL, "how long a halved rate is held before it climbs" },
	{ "throttle.pause", DUR(throttle.pause), "1d", MINS(1), DAYS(90), LIVE,
	    NULL, NULL,
	    "pause of a source IP at a provider whose block list names it" },
	{ "throttle.slowdown", DUR(throttle.slowdown), "15m", SEC(1), DAYS(1),
	    LIVE, NULL, NULL, "pause of a pair after a 421 / 4.7.x slow down" },
	{ "throttle.providers", STR(throttle.providers), "", 0, 65536, LIVE,
	    NULL, check_providers,
	    "more MX patterns: NAME PATTERN...; NAME PATTERN..." },

	/* [cost] */
	{ "cost.tiers", STR(cost.tiers), CP_COST_TIERS_DEFAULT, 1, 1024, LIVE,
	    NULL, check_cost_tiers,
	    "price per mailbox per month by volume: FROM:CENTS,..." },
	{ "cost.minimum_cents", INT(cost.minimum_cents), "5000", 0,
	    CP_COST_MINIMUM_MAX, LIVE, NULL, NULL,
	    "monthly minimum of `coldpost cost`, in cents" },
	{ "cost.currency", STR(cost.currency), "USD", 3, 3, LIVE, NULL,
	    check_currency, "currency of the prices (ISO 4217 code)" },

	/* [webhook] */
	{ "webhook.timeout", DUR(webhook.timeout), "10s", SEC(1), MINS(5),
	    LIVE, NULL, NULL, "time one webhook POST may take" },
	{ "webhook.backoff_base", DUR(webhook.backoff_base), "30s", SEC(1),
	    HOURS(1), LIVE, NULL, NULL,
	    "delay before the first retry of a failed webhook" },
	{ "webhook.backoff_max", DUR(webhook.backoff_max), "6h", SEC(1),
	    DAYS(1), LIVE, NULL, NULL, "longest delay between webhook retries" },
	{ "webhook.max_attempts", INT(webhook.max_attempts), "15", 1, 100,
	    LIVE, NULL, NULL, "sends of a webhook before it is given up" },
	{ "webhook.concurrency", INT(webhook.concurrency), "4", 1, 64, RESTART,
	    NULL, NULL, "webhook POSTs at once" },
};

const cp_conf_key *
cp_conf_keys(size_t *n)
{
	*n = CP_NELEM(keys);
	return keys;
}

const cp_conf_key *
cp_conf_find_key(const char *name)
{
	for (size_t i = 0; i < CP_NELEM(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

const char *
cp_conf_type_name(int type)
{
	switch (type) {
	case CP_CONF_INT: return "int";
	case CP_CONF_BOOL: return "bool";
	case CP_CONF_STRING: return "string";
	case CP_CONF_DURATION: return "duration";
	case CP_CONF_SIZE: return "size";
	case CP_CONF_ADDRS: return "addresses";
	case CP_CONF_CIDRS: return "cidrs";
	case CP_CONF_DURATIONS: return "durations";
	case CP_CONF_ENUM: return "enum";
	case CP_CONF_ENUMSET: return "enumset";
	case CP_CONF_ROUTES: return "routes";
	default: return "?";
	}
}
