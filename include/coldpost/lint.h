/*
 * lint.h - the content and CAN-SPAM linter of a cold email: `coldpost lint`.
 *
 * cp_lint_check_message parses one RFC 5322 / MIME message (GMime for the
 * MIME structure and RFC 2047 words, libxml2's forgiving HTML parser for
 * HTML parts) and returns findings, each with a rule id, a severity, the
 * points it adds to the score, the evidence (what was seen) and the fix.
 * Rule groups:
 *
 *   subject.*   missing, a Re:/Fwd: prefix without In-Reply-To/References,
 *               emoji, shouting (capitals, !!!)
 *   content.*   spam trigger phrases (a list compiled in from
 *               src/lint/spam_phrases.txt)
 *   link.*      URL shorteners (src/lint/shorteners.txt), anchor text
 *               naming another domain than the link, links to domains
 *               other than the From domain, credentials in a URL, too
 *               many links
 *   image.*     too many images, tracking pixels
 *   body.*      empty, image-only or low-text messages
 *   mime.*      missing text/plain part, text and HTML parts that say
 *               different things, attachments (risky ones fail)
 *   header.*    From missing or not in the sending domain, Reply-To in
 *               another domain, Message-ID or Date missing
 *   canspam.*   no opt-out at all, no physical postal address
 *               (15 U.S.C. 7704(a)(3), (a)(5))
 *   optout.*    List-Unsubscribe (RFC 2369) missing or malformed, no
 *               RFC 8058 one-click, no opt-out notice in the body
 *
 * The score is the sum of the findings' points; the verdict is fail at
 * fail_at points or more, warn at warn_at or more, else pass. Findings are
 * verdicts, not errors: the return code is for input that is not a message
 * at all and for memory.
 */
#ifndef COLDPOST_LINT_H
#define COLDPOST_LINT_H

#include <stddef.h>

#include "coldpost/dmarc.h"
#include "coldpost/err.h"

typedef enum cp_lint_severity {
	CP_LINT_INFO = 0,
	CP_LINT_WARN,
	CP_LINT_FAIL
} cp_lint_severity;

typedef enum cp_lint_verdict {
	CP_LINT_PASS = 0,
	CP_LINT_VERDICT_WARN,
	CP_LINT_VERDICT_FAIL
} cp_lint_verdict;

/* "info", "warn", "fail". */
const char *cp_lint_severity_name(cp_lint_severity s);
/* "pass", "warn", "fail". */
const char *cp_lint_verdict_name(cp_lint_verdict v);

typedef struct cp_lint_finding {
	const char *rule;          /* "subject.fake-reply" (static) */
	cp_lint_severity severity;
	int points;                /* added to the score */
	char *evidence;            /* what was seen (owned by the report) */
	const char *fix;           /* what to change (static) */
} cp_lint_finding;

typedef struct cp_lint_stats {
	size_t links;          /* distinct link targets (http, https, www.) */
	size_t images;         /* <img> tags and inline image parts */
	size_t words;          /* words of the body a reader sees */
	size_t attachments;
	int has_text, has_html;
} cp_lint_stats;

typedef struct cp_lint_report {
	cp_lint_finding *v;
	size_t n, cap;
	int score;
	cp_lint_verdict verdict;
	char *from_domain;     /* the From address's domain, or NULL */
	char *sending_domain;  /* the domain checked against, or NULL */
	cp_lint_stats stats;
} cp_lint_report;

/* Defaults of the zero fields of cp_lint_opts. */
#define CP_LINT_WARN_AT 5
#define CP_LINT_FAIL_AT 10
#define CP_LINT_MAX_LINKS 3
#define CP_LINT_MAX_IMAGES 3
#define CP_LINT_MSG_MAX (25u * 1024 * 1024)

typedef struct cp_lint_opts {
	const char *sending_domain; /* NULL: the From domain */
	const cp_psl *psl;          /* organizational domains (borrowed); NULL:
				       compare names, a subdomain matching its
				       parent */
	int warn_at, fail_at;       /* 0: CP_LINT_WARN_AT, CP_LINT_FAIL_AT */
	size_t max_links;           /* 0: CP_LINT_MAX_LINKS */
	size_t max_images;          /* 0: CP_LINT_MAX_IMAGES */
} cp_lint_opts;

/*
 * Lint the message in msg[0..len). o may be NULL (all defaults). On CP_OK
 * *out holds the findings (the caller frees with cp_lint_report_clear).
 * CP_ESYNTAX when the input is empty, over CP_LINT_MSG_MAX, has no header
 * field at all (GMime finds no message), or holds more than 200 multipart
 * containers (GMime recurses per level); CP_ENOMEM. On error *out is
 * empty. Thread-safe: the patterns are compiled once per process.
 */
int cp_lint_check_message(const char *msg, size_t len,
    const cp_lint_opts *o, cp_lint_report *out, cp_err *err);

/* Frees what the report holds; the report is then empty. NULL is fine. */
void cp_lint_report_clear(cp_lint_report *r);

/* The first finding of rule, or NULL. */
const cp_lint_finding *cp_lint_report_find(const cp_lint_report *r,
    const char *rule);

#endif
