/*
 * bounce_int.h - what the modules of the bounce parser share: the parser
 * body, the flat list of MIME parts, header fields, the string arena and
 * the interface of the per-format readers (DSN, ARF, auto-reply, the text
 * bounces of each MTA family).
 *
 * Every text handed around is LF-only (bounce.c normalises CRLF and bare
 * CR first) and held as a cp_slice into the normalised copy or the arena.
 */
#ifndef COLDPOST_BOUNCE_INT_H
#define COLDPOST_BOUNCE_INT_H

#include <iconv.h>
#include <stddef.h>
#include <stdint.h>

#include "coldpost/bounce.h"
#include "coldpost/bytes.h"
#include "coldpost/buf.h"
#include "coldpost/classify.h"
#include "coldpost/cursor.h"

#define BNC_PARTS_MAX 32   /* MIME parts kept per email */
#define BNC_DEPTH_MAX 8    /* multipart nesting followed */
#define BNC_FIELDS_MAX 96  /* header fields indexed per header block */
#define BNC_ICONV_SLOTS 4  /* converters kept open; the oldest used is closed */

#define BNC_NO_HIT UINT32_MAX
/* Where each phrase first ends in the text scanned, or BNC_NO_HIT. */
typedef struct bnc_hits {
	uint32_t *end;  /* indexed by phrase id */
	size_t n;
} bnc_hits;

/* The kinds of phrase scan (bounce_phrase.c), each with its own database
 * and a scratch per parser: what a bounce's text part is read for, or a
 * diagnostic. */
enum {
	BNC_SCAN_NOTICE,  /* text: the original's marks, a full mailbox */
	BNC_SCAN_WRITER,  /* text: the same and the families' signatures */
	BNC_SCAN_COMMAND, /* text: the SMTP commands (and the marks) */
	BNC_SCAN_DIAG,    /* a diagnostic: every reason, the commands */
	BNC_SCAN_COUNT
};

/* One header field: name and raw value (folded lines kept). */
typedef struct bnc_field {
	cp_slice name, value;
} bnc_field;

typedef struct bnc_fields {
	bnc_field f[BNC_FIELDS_MAX];
	size_t n;
} bnc_fields;

/* One leaf of the MIME tree, in document order. */
typedef struct bnc_part {
	cp_slice ctype;  /* "text/plain" (raw case), "" when none */
	cp_slice head;   /* its header block */
	cp_slice body;   /* decoded body (transfer encoding undone) */
	int in_message;  /* inside an attached message/rfc822 */
	int attached;    /* message/rfc822 or text/rfc822-headers: body is
			    the original message (or its header) */
} bnc_part;

/* Arena chunk: strings made while parsing one email. */
typedef struct bnc_chunk {
	struct bnc_chunk *next;
	size_t len, cap;
	char data[];
} bnc_chunk;

/* A recipient record under construction (strings in the arena). */
typedef cp_bounce_rcpt bnc_rcpt;

struct cp_bounce_parser {
	cp_classify_session *cs;
	cp_buf norm;          /* the LF-normalised email */
	bnc_chunk *arena;     /* newest chunk first */
	bnc_fields top;       /* the email's own header */
	bnc_fields scratch;   /* a part's header while scanning */
	cp_slice body;        /* the email's body (raw) */
	bnc_part parts[BNC_PARTS_MAX];
	bnc_part saved[BNC_PARTS_MAX]; /* the fast scan's, while GMime tries */
	size_t nparts;
	int broken;           /* the fast scan met something it could not
				 follow: GMime should try */
	int embedded;         /* the report was read from text (a pasted
				 delivery-status block): GMime may do better */
	bnc_rcpt rcpts[CP_BOUNCE_RCPT_MAX];
	bnc_rcpt saved_rcpts[CP_BOUNCE_RCPT_MAX]; /* while GMime tries */
	size_t n;
	cp_buf notes;
	cp_bounce out;
	const char *family;
	cp_slice orig_head;   /* the original message's header, if found */
	int oom;
	int depth;            /* > 0 while parsing a forwarded bounce */
	int weak;             /* the only record is a guess (original's To:) */
	cp_slice fwd;         /* the forwarded bounce found */
	struct bnc_phrase_scratch *ps[BNC_SCAN_COUNT];
	cp_slice scanned[BNC_SCAN_COUNT];     /* the text each last saw */
	const bnc_hits *text_hits[BNC_SCAN_COUNT]; /* NULL: none yet */
	cp_slice orig_of;                     /* the text orig_at is of */
	size_t orig_at; /* bnc_orig_start of orig_of; SIZE_MAX: not yet */
	struct {
		iconv_t cd;      /* to UTF-8 from charset, kept open */
		char from[64];   /* "" when the slot is free */
		unsigned long used; /* p->iconv_clock at the last use */
	} iconv[BNC_ICONV_SLOTS];
	unsigned long iconv_clock;
};

/* A converter to UTF-8 from charset (g_mime_iconv_open), kept open in
 * the parser for the next email in that charset, reset to its initial
 * state; (iconv_t)-1 if there is none. Not to be closed by the caller. */
iconv_t bnc_iconv_utf8(cp_bounce_parser *p, const char *charset);

/* The hits of a scan of kind (BNC_SCAN_NOTICE, _WRITER or _COMMAND) of
 * the text part, scanned once per email and kind; a NOTICE is served by
 * a WRITER scan of the same text, whose phrases include its own. */
const bnc_hits *bnc_text_hits(cp_bounce_parser *p, int kind,
    cp_slice text);

/* ---- arena and strings (bounce.c) ---- */
char *bnc_strdup(cp_bounce_parser *p, const char *s, size_t len);
/* Value unfolded, white space collapsed, trimmed; NUL-terminated. */
char *bnc_clean(cp_bounce_parser *p, cp_slice v);
void bnc_note(cp_bounce_parser *p, const char *note);
bnc_rcpt *bnc_add_rcpt(cp_bounce_parser *p);

/* ---- header fields and MIME (bounce_mime.c) ---- */
/* Index the header block at the start of s; *rest gets what follows the
 * empty line (or nothing). */
void bnc_fields_parse(cp_slice s, bnc_fields *out, cp_slice *rest);
/* First field named name (ASCII case ignored), raw value; 0 if none. */
int bnc_fields_get(const bnc_fields *h, const char *name, cp_slice *val);
/* Same, straight from a header block (no index). */
int bnc_head_get(cp_slice head, const char *name, cp_slice *val);
/* bnc_head_get(head, ...) where f indexes head: the same answer, faster. */
int bnc_head_field(const bnc_fields *f, cp_slice head, const char *name,
    cp_slice *val);
/* A Content-Type parameter ("boundary", "charset"); 0 if none. */
int bnc_param(cp_slice ctype_value, const char *name, cp_slice *val);
/* The media type of a Content-Type value, trimmed ("text/plain"). */
cp_slice bnc_media_type(cp_slice ctype_value);
/* Fill p->parts from p->body and p->top: the fast scan. */
void bnc_mime_scan(cp_bounce_parser *p);
/* Fill p->parts with GMime's parser instead; 0 if GMime failed too. */
int bnc_mime_gmime(cp_bounce_parser *p);
/* First part whose media type is one of the given (NULL-ended). */
const bnc_part *bnc_part_find(const cp_bounce_parser *p,
    const char *const *types);
/* The first text part outside attached messages, or NULL. */
const bnc_part *bnc_part_text(const cp_bounce_parser *p);

/* ---- slices ---- */
int bnc_ieq(cp_slice s, const char *lit);
int bnc_istarts(cp_slice s, const char *lit);
/* Case-insensitive search of an ASCII literal; NULL if absent. */
const char *bnc_isearch(cp_slice s, const char *lit);
cp_slice bnc_slice(const char *p, size_t len);
/* Next LF-terminated line of *c (without the LF); 0 at the end. */
int bnc_next_line(cp_cursor *c, cp_slice *line);
/* The first address ("local@domain") in s into out (lowercase domain
 * kept as is); 0 if none. */
int bnc_find_addr(cp_slice s, cp_slice *out);

/* ---- format readers: each returns records added ---- */
size_t bnc_dsn_read(cp_bounce_parser *p, const bnc_part *ds);
/* A delivery-status block pasted into a text part (bounce_dsn.c). */
size_t bnc_dsn_read_embedded(cp_bounce_parser *p, cp_slice text);
size_t bnc_arf_read(cp_bounce_parser *p, const bnc_part *fb);
size_t bnc_auto_read(cp_bounce_parser *p);
size_t bnc_text_read(cp_bounce_parser *p);
size_t bnc_json_read(cp_bounce_parser *p);

/* The SMTP command a diagnostic says was answered, "" if none, from the
 * hits of a phrase scan of s (or of a text s starts). */
const char *bnc_command_of(const bnc_hits *h, cp_slice s);

/* The first RFC 3463 status in s (arena copy) or ""; the first SMTP
 * reply code standing alone in s (its offset in *at) or 0. */
const char *bnc_find_status(cp_bounce_parser *p, cp_slice s);
int bnc_find_code(cp_slice s, size_t *at);

/* ---- literal phrases, all at once (bounce_phrase.c) ---- */
/* A set of literal phrases tried in order (NULL-ended). */
typedef struct bnc_phrase_set {
	const char *name;             /* a reason, a family */
	const char *const *phrases;
} bnc_phrase_set;

/* The registries the matcher is compiled from. */
const bnc_phrase_set *bnc_reason_sets(size_t *n);
const bnc_phrase_set *bnc_family_sets(size_t *n);  /* body signatures */
const bnc_phrase_set *bnc_mark_sets(size_t *n);    /* original markers */
const bnc_phrase_set *bnc_command_sets(size_t *n); /* SMTP commands */
enum { BNC_REG_REASON, BNC_REG_FAMILY, BNC_REG_MARK, BNC_REG_COMMAND,
	BNC_REG_COUNT };

/* Compile once per process; 0 and msg on failure. */
int bnc_phrase_init(char *msg, size_t msglen);
/* Per-parser scratch for the scans of kind (BNC_SCAN_*). */
struct bnc_phrase_scratch *bnc_phrase_scratch_new(int kind);
void bnc_phrase_scratch_free(struct bnc_phrase_scratch *s);
/* Scan text; the hits stay valid until the next scan with s. */
const bnc_hits *bnc_phrase_scan(struct bnc_phrase_scratch *s, cp_slice text);
/* Does the phrase of len bytes that ends at end of text open its line
 * (after indentation)? Then *at is where that line starts. */
int bnc_opens_line(cp_slice text, size_t end, size_t len, size_t *at);
/* The id of phrase j of set i of registry reg. */
size_t bnc_phrase_id(int reg, size_t i, size_t j);

/* ---- MTA families (bounce_lhost.c) ---- */
typedef struct bnc_family {
	const char *name;
	/* Signatures: From: address/name, Subject:, or body text
	 * substrings (case ignored); any one match picks the family. */
	const char *const *from;
	const char *const *subject;
	const char *const *body;
	/* Lines that start the returned original in the text. */
	const char *const *orig_marks;
} bnc_family;

const bnc_family *bnc_family_detect(cp_bounce_parser *p, cp_slice text);
/* Where the returned original starts in text (any family's marks), or
 * text.len. */
size_t bnc_orig_start(cp_bounce_parser *p, cp_slice text);

/* ---- reasons (bounce_reason.c) ---- */
void bnc_reason_decide(cp_bounce_parser *p, bnc_rcpt *r, cp_slice context);

#endif
