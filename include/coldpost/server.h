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
 */
#ifndef COLDPOST_SERVER_H
#define COLDPOST_SERVER_H

#include <stdint.h>

#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/err.h"
#include "coldpost/store.h"

typedef struct cp_server cp_server;

typedef struct cp_server_opts {
	const cp_conf *conf;  /* copied */
	cp_store *store;      /* borrowed */
	cp_deliver *deliver;  /* borrowed; NULL: messages wait in the store */
	const char *node;     /* lease owner name, as given to delivery */
	unsigned sign_threads; /* DKIM workers; 0: one per core */
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

#endif
