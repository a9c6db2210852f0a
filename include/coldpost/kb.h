/*
 * kb.h - the SMTP error knowledge base compiled into libcoldpost.
 *
 * Pages and rules are generated at build time from kb/ (format in
 * docs/internals/kb-format.md) into read-only static tables: every pointer
 * returned here lives as long as the program and is never freed.
 */
#ifndef COLDPOST_KB_H
#define COLDPOST_KB_H

#include <stddef.h>
#include <stdint.h>

typedef enum cp_kb_kind {
	CP_KB_CODE,      /* enhanced status code, key "X.7.1" */
	CP_KB_REPLY,     /* basic reply code, key "550" */
	CP_KB_CAUSE,     /* cause family, key "blocklist" */
	CP_KB_RECEIVER,  /* receiver, key "gmail" */
	CP_KB_BLOCKLIST, /* DNS blocklist, key "spamhaus" */
	CP_KB_RULES      /* never a page: rules files have no page */
} cp_kb_kind;

/* Cause families, in the order of the knowledge base (gen_kb.py CAUSES). */
typedef enum cp_cause {
	CP_CAUSE_AUTHENTICATION,
	CP_CAUSE_REPUTATION,
	CP_CAUSE_BLOCKLIST,
	CP_CAUSE_CONTENT,
	CP_CAUSE_POLICY,
	CP_CAUSE_RATE_LIMIT,
	CP_CAUSE_RECIPIENT_UNKNOWN,
	CP_CAUSE_MAILBOX_FULL,
	CP_CAUSE_MAILBOX_DISABLED,
	CP_CAUSE_MESSAGE_TOO_BIG,
	CP_CAUSE_TLS,
	CP_CAUSE_RELAY_DENIED,
	CP_CAUSE_DNS_OR_ROUTING,
	CP_CAUSE_PROTOCOL,
	CP_CAUSE_TEMPORARY,
	CP_CAUSE_OTHER,
	CP_CAUSE_COUNT
} cp_cause;

typedef enum cp_retry {
	CP_RETRY_SOON,      /* transient: retry within minutes */
	CP_RETRY_LATER,     /* retry in hours, and send less */
	CP_RETRY_AFTER_FIX, /* pointless until the cause is fixed */
	CP_RETRY_NEVER,     /* the address is dead (or nothing to retry) */
	CP_RETRY_COUNT
} cp_retry;

typedef struct cp_kb_faq {
	const char *q, *a;
} cp_kb_faq;

typedef struct cp_kb_page {
	uint8_t kind;      /* cp_kb_kind */
	const char *key;   /* "X.7.1", "550", "blocklist", "gmail" */
	const char *title; /* one line */
	const char *name;  /* display name (receivers, blocklists) or NULL */
	const char *ref;   /* "RFC 3463" or NULL */
	int8_t family;     /* default cp_cause, -1 for none */
	const char *reason;
	int8_t retry, retry4; /* cp_retry, -1 for none */
	const char *meaning, *who, *why, *cold; /* paragraphs, "\n\n" apart */
	const char *const *steps;
	uint8_t nsteps;
	const cp_kb_faq *faq;
	uint8_t nfaq;
	const char *const *related;
	uint8_t nrelated;
	const char *const *hosts; /* receivers: host name suffixes */
	uint8_t nhosts;
	const char *delist; /* URL or address, or NULL */
	const char *zones;  /* blocklists: DNS zones, or NULL */
} cp_kb_page;

typedef struct cp_kb_rule {
	const char *id;        /* "gmail.nosuchuser" */
	const char *receiver;  /* receiver id the text reveals, or NULL */
	const char *blocklist; /* blocklist id the text names, or NULL */
	int8_t cause;          /* cp_cause */
	const char *reason;
	int8_t retry;      /* cp_retry, -1: the cause family's default */
	int8_t cls;        /* 4 or 5, 0: any */
	const char *codes; /* "5.7.1 550" prefixes, or NULL: any */
	int16_t prio;      /* higher wins */
	const char *says;  /* one sentence */
	const char *const *steps; /* own steps, or NULL: cause's */
	uint8_t nsteps;
} cp_kb_rule;

size_t cp_kb_count(void);
const cp_kb_page *cp_kb_page_at(size_t i);
/* Exact key lookup within one kind, or NULL. */
const cp_kb_page *cp_kb_find(cp_kb_kind kind, const char *key);
/* The page for an enhanced code "5.7.1" (as "X.7.1"), or NULL. */
const cp_kb_page *cp_kb_find_code(int subject, int detail);

size_t cp_kb_rule_count(void);
const cp_kb_rule *cp_kb_rule_at(size_t i);

const char *cp_cause_name(int cause);      /* "blocklist", "?" if out of range */
int cp_cause_from_name(const char *name); /* -1 if unknown */
const char *cp_retry_name(int retry);
int cp_retry_from_name(const char *name);
/* Canonical reason for a name or an older alias ("speeding"), or NULL. */
const char *cp_reason_canonical(const char *name);
const char *cp_kind_name(int kind);

#endif
