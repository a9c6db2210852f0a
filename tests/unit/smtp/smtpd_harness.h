/*
 * smtpd_harness.h - drives a cp_smtpd_conn the way the net layer will,
 * without sockets, for the smtpd unit tests: feeds bytes, pulls events,
 * answers them by rules (or leaves them pending), collects replies, the
 * message bytes and a log of events.
 */
#ifndef SMTPD_HARNESS_H
#define SMTPD_HARNESS_H

#include "coldpost/buf.h"
#include "coldpost/smtpd.h"

/* 2026-01-01 00:00:00 UTC, a Thursday. */
#define H_NOW 1767225600

/* A rule: events of type whose subject (addr, user) contains match get
 * this answer instead of accept. */
typedef struct h_rule {
	int type;
	const char *match; /* NULL: every event of the type */
	cp_smtpd_answer answer;
} h_rule;

typedef struct h_session {
	cp_smtpd_conf conf;
	cp_smtpd_peer peer;
	cp_smtpd_conn *c;
	cp_buf out;  /* replies not yet taken by h_replies */
	cp_buf msg;  /* message bytes of the DATA in progress */
	cp_buf last; /* the last complete message */
	cp_buf log;  /* events, "; "-separated, not yet taken by h_events */
	h_rule rules[8];
	int nrules;
	int manual;     /* leave answers pending (h_answer gives them) */
	int auto_tls;   /* answer STARTTLS with a handshake at once */
	int no_drain;   /* leave replies in the core (backpressure tests) */
	unsigned qseq;  /* queue ids Q1, Q2, ... */
	char qid[16];
	size_t max_chunk; /* largest DATA_CHUNK seen */
	unsigned nchunks;
	cp_smtpd_event pending; /* the event awaiting h_answer (manual) */
	int has_pending;
} h_session;

/* Defaults: host "mx.test", peer 192.0.2.10 not trusted, TLS available,
 * fixed clock, auto TLS, accept everything; AUTH accepts alice/secret. */
void h_init(h_session *h);
/* Create the connection and answer the greeting (unless manual). */
void h_start(h_session *h);
void h_free(h_session *h);
void h_rule_add(h_session *h, int type, const char *match, int verdict,
    int code, const char *enh, const char *text);
/* Feed a C string (or n bytes) and pump events and output. */
void h_feed(h_session *h, const char *s);
void h_feedn(h_session *h, const char *s, size_t n);
void h_pump(h_session *h);
/* Answer the pending event (manual mode) and pump. */
void h_answer(h_session *h, const cp_smtpd_answer *a);
/* The replies since the last call / the events since the last call,
 * as NUL-terminated strings owned by h (valid until the next call). */
const char *h_replies(h_session *h);
const char *h_events(h_session *h);
/* s with \r \n and other controls escaped, for failure messages. */
const char *h_esc(const char *s);

/* A check that shows both strings escaped. */
#define H_CHECK_STR(got, want)                                               \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		if (strcmp(g_, w_) != 0)                                     \
			cptest_fail(__FILE__, __LINE__,                      \
			    "%s:\n      got  '%s'\n      want '%s'", #got,    \
			    h_esc(g_), h_esc(w_));                           \
	} while (0)

#endif
