/*
 * classify.h - what a receiver's reply means: cause, reason, receiver, fix.
 *
 * The classifier matches every signature rule of the knowledge base at
 * once (Hyperscan) against a parsed reply, picks the most specific rule
 * that fits the reply's codes, and falls back to what the codes alone say
 * when no rule matched (marked code_only).
 *
 * Ownership: cp_classifier is compiled once and shared read-only by all
 * threads (cp_classifier_default). A cp_classify_session holds the
 * per-thread scratch and parse buffer; one per thread, not shared.
 * Every string in a cp_verdict points into the knowledge base or the
 * session and stays valid until the session's next call.
 */
#ifndef COLDPOST_CLASSIFY_H
#define COLDPOST_CLASSIFY_H

#include <stddef.h>

#include "coldpost/err.h"
#include "coldpost/kb.h"
#include "coldpost/reply.h"

typedef enum cp_class {
	CP_CLASS_SUCCESS,   /* 2xx, 3xx */
	CP_CLASS_TRANSIENT, /* 4xx */
	CP_CLASS_PERMANENT  /* 5xx */
} cp_class;

typedef struct cp_verdict {
	int code;           /* basic code or 0 */
	const char *enhanced; /* "5.7.1" or "" */
	int cls;            /* cp_class */
	int cause;          /* cp_cause */
	const char *reason; /* Sisimai reason name */
	const char *receiver;  /* "gmail", or "unknown" */
	const char *blocklist; /* "spamhaus", or NULL */
	int retry;          /* cp_retry */
	const char *rule;   /* rule id, or "code:5.7.1" / "code:550" */
	int code_only;      /* 1: no signature matched, codes decided */
	const char *says;   /* one sentence: what this reply means */
	const char *const *steps; /* remediation steps */
	size_t nsteps;
	const cp_kb_page *code_page;  /* X.s.d page or NULL */
	const cp_kb_page *reply_page; /* basic code page or NULL */
	const cp_kb_page *cause_page;
	const cp_kb_page *receiver_page;  /* or NULL */
	const cp_kb_page *blocklist_page; /* or NULL */
	const cp_kb_rule *matched;        /* or NULL */
} cp_verdict;

typedef struct cp_classifier cp_classifier;
typedef struct cp_classify_session cp_classify_session;

/* The process-wide classifier, compiled on first use; NULL + err on error. */
const cp_classifier *cp_classifier_default(cp_err *err);

cp_classify_session *cp_classify_session_new(const cp_classifier *c,
    cp_err *err);
void cp_classify_session_free(cp_classify_session *s);

/*
 * Parse and classify one reply. host is the receiving host or MX name if
 * known (NULL otherwise): it identifies the receiver when the text does
 * not. CP_ESYNTAX for a malformed reply, with err saying why.
 */
int cp_classify_reply(cp_classify_session *s, const char *reply, size_t len,
    const char *host, cp_verdict *out, cp_err *err);

/* Classify an already parsed reply. Never fails. */
void cp_classify_parsed(cp_classify_session *s, const cp_reply *r,
    const char *host, cp_verdict *out);

/* The parsed form of the last reply cp_classify_reply saw. */
const cp_reply *cp_classify_session_reply(const cp_classify_session *s);

const char *cp_class_name(int cls);

/* Receiver page whose hosts match this host name (suffix), or NULL. */
const cp_kb_page *cp_kb_receiver_by_host(const char *host);

#endif
