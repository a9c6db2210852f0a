/*
 * lint_int.h - what the files of the linter share: the message as the
 * rules see it (lint_msg), filled by lint_mime.c (GMime) and lint_html.c
 * (libxml2), and the pattern helpers of lint_pat.c (PCRE2).
 */
#ifndef COLDPOST_LINT_INT_H
#define COLDPOST_LINT_INT_H

#include <stddef.h>

#include "coldpost/buf.h"
#include "coldpost/lint.h"

/* Ceilings on what one message may make us hold. */
#define LINT_TEXT_MAX (4u * 1024 * 1024) /* decoded text of all parts */
#define LINT_ITEMS_MAX 4096              /* links, images, attachments */
#define LINT_FIELD_MAX 4096              /* a stored header or attribute */

typedef struct lint_link {
	char *href;   /* as written, trimmed */
	char *host;   /* lowercased host, NULL when not http(s)/www */
	char *text;   /* visible anchor text (HTML), NULL from plain text */
	int html;     /* 1: from an <a href>, 0: a URL in a text part */
	int userinfo; /* 1: "user@" before the host */
} lint_link;

typedef struct lint_image {
	char *src;
	int width, height; /* -1 when not given */
	int hidden;        /* display:none / visibility:hidden */
	int part;          /* 1: an image MIME part, not an <img> */
} lint_image;

typedef struct lint_attach {
	char *name; /* filename, or NULL */
	char *type; /* "application/pdf" */
} lint_attach;

typedef struct lint_msg {
	int has_header;       /* at least one header field parsed */
	char *subject;        /* decoded UTF-8, or NULL when absent */
	char *from_addr;      /* the first From mailbox, or NULL */
	char *from_domain;    /* its domain, lowercased, or NULL */
	size_t nfrom;         /* mailboxes in From */
	char *reply_to_domain;
	char *reply_to_addr;
	int has_in_reply_to, has_references, has_message_id, has_date;
	char *list_unsub;      /* List-Unsubscribe, unfolded, or NULL */
	char *list_unsub_post; /* List-Unsubscribe-Post, or NULL */
	cp_buf text;          /* text/plain parts, UTF-8 */
	cp_buf html_text;     /* visible text of text/html parts */
	int has_text, has_html;
	lint_link *links;
	size_t nlinks;
	lint_image *images;
	size_t nimages;
	lint_attach *atts;
	size_t natts;
} lint_msg;

void lint_msg_init(lint_msg *m);
void lint_msg_clear(lint_msg *m);

/* Parse msg into m with GMime. CP_ESYNTAX: not a message; CP_ENOMEM. */
int lint_mime_parse(const char *msg, size_t len, lint_msg *m, cp_err *err);

/* The visible text, links and images of one HTML part, added to m. */
int lint_html_parse(const char *html, size_t len, lint_msg *m, cp_err *err);

/* URLs written in plain text, added to m->links. */
int lint_text_links(const char *text, size_t len, lint_msg *m, cp_err *err);

/* Adds a link (copies href and text); sets host and userinfo. */
int lint_msg_add_link(lint_msg *m, const char *href, size_t len,
    const char *text, int html);

/*
 * The host of an http(s) URL or a "www." reference, lowercased, without
 * port and userinfo, into out (NUL-terminated). Returns its length, 0 when
 * href is not such a URL or the host does not fit. *userinfo says whether
 * "user@" preceded the host.
 */
size_t lint_url_host(const char *href, size_t len, char *out, size_t outlen,
    int *userinfo);

/* ---- patterns (PCRE2), compiled once per process ------------------------ */

enum lint_pat_id {
	PAT_FAKE_REPLY,   /* Re:/Fwd: prefixes */
	PAT_URL,          /* URLs in plain text */
	PAT_DOMAINISH,    /* anchor text that is a URL or a domain */
	PAT_OPTOUT_TEXT,  /* "unsubscribe", "opt out", "reply STOP" */
	PAT_OPTOUT_LINK,  /* an unsubscribe link's href or text */
	PAT_ADDR_POBOX,
	PAT_ADDR_STREET,
	PAT_ADDR_EU_STREET,
	PAT_ADDR_US_ZIP,
	PAT_ADDR_UK_POSTCODE,
	PAT_ADDR_CA_POSTCODE,
	PAT_PHRASES,      /* the spam phrase list, one alternation */
	PAT_N
};

/*
 * Does pattern id match in s[0..len)? On a match mo and ml (may be NULL) get
 * the offset and length of the match. Returns 1, 0, or CP_ENOMEM /
 * CP_EINVAL when the patterns cannot be compiled (a bug).
 */
int lint_pat_match(int id, const char *s, size_t len, size_t start,
    size_t *mo, size_t *ml);

/* ---- rules --------------------------------------------------------------- */

typedef struct lint_ctx {
	const lint_msg *m;
	cp_lint_opts o;       /* with the defaults filled in */
	const char *sending;  /* the sending domain, or NULL (no From) */
	cp_lint_report *r;
	int rc;               /* first error of a rule (CP_ENOMEM) */
} lint_ctx;

/* Adds a finding; the evidence is printf-formatted. Sets c->rc on error. */
void lint_add(lint_ctx *c, const char *rule, cp_lint_severity sev,
    int points, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Same organization (PSL) or, without a list, equal or one a subdomain
 * of the other. NULLs never match. */
int lint_same_org(const lint_ctx *c, const char *a, const char *b);

/* Words a reader sees in s[0..len): runs of letters and digits. */
size_t lint_count_words(const char *s, size_t len);

/* Every rule, in report order (lint_rules.c). */
void lint_run_rules(lint_ctx *c);

/* The compiled-in data lists (generated from the src/lint .txt lists). */
extern const char *const lint_spam_phrases[];
extern const size_t lint_spam_phrases_n;
extern const char *const lint_shorteners[];
extern const size_t lint_shorteners_n;

#endif
