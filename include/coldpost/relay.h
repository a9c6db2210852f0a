/*
 * relay.h - what the submission side hands to the delivery side.
 *
 * The server (src/net, coldpost/server.h) accepts a message, signs it,
 * commits it to the store with its recipients leased to this node, answers
 * 250, and hands the message to delivery (src/queue, coldpost/deliver.h)
 * in memory, so delivery neither polls nor re-reads what it was just
 * given. If the process dies in between, nothing is lost: the lease runs
 * out (or cp_store_release_node at start gives it back) and delivery
 * claims the recipients from the store like any other due recipient.
 */
#ifndef COLDPOST_RELAY_H
#define COLDPOST_RELAY_H

#include <stddef.h>
#include <stdint.h>

/* One recipient of a handed-over message, with its store id. */
typedef struct cp_relay_rcpt {
	int64_t id;
	char *address;
} cp_relay_rcpt;

/*
 * A message durable in the store, recipients leased to this node until
 * lease_until. One allocation owner: whoever holds the pointer frees it
 * with cp_relay_msg_free. body is the stored bytes (signed, CRLF lines).
 */
typedef struct cp_relay_msg {
	int64_t id;          /* message id in the store */
	int64_t tenant;
	int64_t mailbox;     /* 0: from a trusted network */
	char *mail_from;     /* "" for the null sender */
	char *return_path;   /* the envelope sender to use on delivery */
	char *message_id;
	int64_t received;
	int64_t expires;
	int64_t lease_until;
	size_t nrcpts;
	cp_relay_rcpt *rcpts;
	char *body;
	size_t len;
} cp_relay_msg;

/* A message with room for nrcpts recipients and a copy of the strings and
 * the body; NULL when out of memory. */
cp_relay_msg *cp_relay_msg_new(int64_t id, int64_t tenant, int64_t mailbox,
    const char *mail_from, const char *return_path, const char *message_id,
    const char *const *rcpts, const int64_t *rcpt_ids, size_t nrcpts,
    const void *body, size_t len);
void cp_relay_msg_free(cp_relay_msg *m); /* NULL is fine */

#endif
