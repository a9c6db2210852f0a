/*
 * server.h - the submission server: SMTP listeners to durable messages.
 *
 * One libevent loop thread owns the listeners (submission with STARTTLS,
 * submissions with implicit TLS; OpenSSL through bufferevent_openssl) and
 * every session, each driven by the smtpd protocol core. Policy decided
 * here: AUTH against the store (Argon2id verification in a worker, never
 * on the loop), no relaying without AUTH unless the client is in
 * submission.trusted_networks, MAIL FROM must be the authenticated
 * mailbox (or any address of its domain when the mailbox may send as the
 * domain; a trusted client must use a domain the store knows, which names
 * the tenant), per-client connection limits.
 *
 * Accepting a message: the core adds Received, Date and Message-ID and
 * drops Bcc; a worker DKIM-signs it with the key of its From domain (or of
 * the mailbox's domain) when the tenant owns one; the store writer thread
 * commits every message waiting into one transaction (group commit: one
 * fsync for many sessions), and only then does each client get its 250.
 * The committed message goes to delivery in memory (coldpost/deliver.h).
 *
 * The inbound listener (listen.bounce) is the bounce domain's MX: RCPT
 * only for the VERP return paths and unsubscribe addresses this relay
 * made (no relaying); each DSN, ARF report or unsubscribe mail is kept,
 * read (coldpost/bounce.h), recorded on the recipient it is about, and
 * hard bounces, complaints and unsubscribes go on the tenant's
 * suppression list, before the 250 (docs/internals/server.md).
 */
#ifndef COLDPOST_SERVER_H
#define COLDPOST_SERVER_H

#include <stdint.h>

#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/err.h"
#include "coldpost/store.h"

typedef struct cp_server cp_server;

/*
 * The sending policy's word on one recipient at RCPT (coldpost/policy.h:
 * suppressed, or over a daily cap with cap_action = refuse). Called on a
 * worker thread (it may read the store). Sets *code 0 to accept, else a
 * 4xx/5xx code with enhanced ("5.7.1") and text (the reply after the
 * codes, at most 255 bytes).
 */
typedef void (*cp_server_rcpt_fn)(void *arg, int64_t tenant, int64_t mailbox,
    const char *rcpt, int *code, char enhanced[8], char text[256]);

/*
 * A report the inbound listener (listen.bounce) recorded against a
 * recipient this relay sent: a late bounce (DSN) or a complaint (ARF).
 * Called on a worker thread after the store has it; the pointers live
 * until the call returns. The relay turns it into a webhook.
 */
typedef struct cp_server_report {
	int64_t tenant, mailbox, message;
	const char *rcpt;            /* the recipient address */
	int complaint;               /* 1: ARF complaint; 0: bounce */
	const char *feedback;        /* complaint: Feedback-Type, else "" */
	int hard;                    /* bounce: hard (now suppressed) */
	const cp_attempt *attempt;   /* as recorded (code, reply, cause...) */
} cp_server_report;
typedef void (*cp_server_report_fn)(void *arg, const cp_server_report *r);

typedef struct cp_server_opts {
	const cp_conf *conf;  /* copied */
	cp_store *store;      /* borrowed */
	cp_deliver *deliver;  /* borrowed; NULL: messages wait in the store */
	const char *node;     /* lease owner name, as given to delivery */
	unsigned sign_threads; /* DKIM workers; 0: one per core */
	/* the VERP key delivery uses (copied): the inbound listener
	   (listen.bounce) checks return paths and unsubscribe tokens with
	   it; NULL: the key file beside an SQLite store (PATH.verp-key) */
	const unsigned char *verp_secret;
	size_t verp_secret_len;
	/* the key of the https unsubscribe tokens (coldpost/unsub.h), the
	   one the HTTP side verifies with (copied); NULL: derived from the
	   VERP key as `coldpost serve` derives the HTTP key,
	   HMAC-SHA256(verp key, "coldpost http") */
	const unsigned char *unsub_secret;
	size_t unsub_secret_len;
	cp_server_rcpt_fn rcpt_check; /* NULL: every recipient accepted */
	void *rcpt_check_arg;
	cp_server_report_fn report;   /* NULL: none */
	void *report_arg;
} cp_server_opts;

typedef struct cp_server_stats {
	uint64_t connections, active;
	uint64_t messages, recipients;  /* accepted */
	uint64_t rejected;              /* 4xx/5xx answers to MAIL/RCPT/DATA */
	uint64_t auth_ok, auth_failed;
	uint64_t commits;               /* group commits */
} cp_server_stats;

cp_server *cp_server_new(const cp_server_opts *opts, cp_err *err);
/* Bind every configured listener (run as root for ports < 1024). A port
 * in use or an address not on this machine fails, naming it. */
int cp_server_listen(cp_server *s, cp_err *err);
/* Start the threads (loop, signers, writer). */
int cp_server_start(cp_server *s, cp_err *err);
/* New settings (SIGHUP): certificate, limits, trusted networks. Sessions
 * open keep theirs. Listener addresses need a restart. */
int cp_server_reload(cp_server *s, const cp_conf *conf, cp_err *err);
/*
 * Drain: close the listeners, let every session finish the message it is
 * in (at most wait_ms; then 421 4.3.2 and close), commit what was
 * accepted, join the threads.
 */
void cp_server_stop(cp_server *s, unsigned wait_ms);
void cp_server_free(cp_server *s);
void cp_server_get_stats(cp_server *s, cp_server_stats *out);

/*
 * A message from elsewhere (the HTTP API) through the same acceptance path
 * as SMTP: the sender policy for mailbox (0: trusted, tenant by the
 * sender's domain), header completion (Date, Message-ID; no Received),
 * DKIM signing, the group commit, hand-over to delivery. done is called
 * once, from a server thread, after the commit (rc CP_OK, id the store's
 * message id) or the refusal (rc and err saying why). Takes nothing: the
 * strings and body are copied before return.
 */
typedef void (*cp_server_inject_cb)(void *arg, int rc, int64_t id,
    const cp_err *err);
int cp_server_inject(cp_server *s, int64_t mailbox, const char *mail_from,
    const char *const *rcpts, size_t nrcpts, const void *msg, size_t len,
    cp_server_inject_cb done, void *arg, cp_err *err);
/* The same for a mailbox record the caller holds already (the HTTP API
 * looked it up to check the caller's tenant): m->id, tenant, address and
 * send_as_domain are used, and the store is not asked for it again. */
int cp_server_inject_as(cp_server *s, const cp_mailbox *m,
    const char *mail_from, const char *const *rcpts, size_t nrcpts,
    const void *msg, size_t len, cp_server_inject_cb done, void *arg,
    cp_err *err);

#endif
