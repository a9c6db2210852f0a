/*
 * relay_msg.c - the record the server hands to delivery (coldpost/relay.h).
 *
 * One allocation for the struct, the recipient array and every string, so
 * that the hand-over is one pointer and one free; the body is a second
 * allocation because it is large and may be moved elsewhere later.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/relay.h"

static size_t
slen(const char *s)
{
	return (s ? strlen(s) : 0) + 1;
}

/* Copy s (NULL as "") to *p, advance *p. */
static char *
put(char **p, const char *s)
{
	char *r = *p;
	size_t n = slen(s);

	memcpy(r, s ? s : "", n);
	*p += n;
	return r;
}

cp_relay_msg *
cp_relay_msg_new(int64_t id, int64_t tenant, int64_t mailbox,
    const char *mail_from, const char *return_path, const char *message_id,
    const char *const *rcpts, const int64_t *rcpt_ids, size_t nrcpts,
    const void *body, size_t len)
{
	size_t need = sizeof(cp_relay_msg) + nrcpts * sizeof(cp_relay_rcpt);
	cp_relay_msg *m;
	char *p;

	need += slen(mail_from) + slen(return_path) + slen(message_id);
	for (size_t i = 0; i < nrcpts; i++)
		need += slen(rcpts[i]);
	if ((m = cp_calloc(1, need)) == NULL)
		return NULL;
	if ((m->body = cp_malloc(len + 1)) == NULL) {
		cp_free(m);
		return NULL;
	}
	if (len > 0)
		memcpy(m->body, body, len);
	m->body[len] = '\0';
	m->len = len;
	m->id = id;
	m->tenant = tenant;
	m->mailbox = mailbox;
	m->nrcpts = nrcpts;
	m->rcpts = (cp_relay_rcpt *)(m + 1);
	p = (char *)(m->rcpts + nrcpts);
	m->mail_from = put(&p, mail_from);
	m->return_path = put(&p, return_path);
	m->message_id = put(&p, message_id);
	for (size_t i = 0; i < nrcpts; i++) {
		m->rcpts[i].id = rcpt_ids ? rcpt_ids[i] : 0;
		m->rcpts[i].address = put(&p, rcpts[i]);
	}
	return m;
}

void
cp_relay_msg_free(cp_relay_msg *m)
{
	if (m == NULL)
		return;
	cp_free(m->body);
	cp_free(m);
}
