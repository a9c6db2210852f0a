/*
 * net_work.c - the submission server's worker threads: what must not run
 * on the loop thread because it blocks or burns CPU.
 *
 * Signer threads (a pool) take jobs one at a time: AUTH (Argon2id through
 * the login cache), DOMAIN (is a trusted client's sender domain known, and
 * whose is it) and MESSAGE (DKIM-sign: d= is the From header's domain when
 * the message's tenant owns it, else the mailbox's domain; rsa-sha256 or
 * ed25519-sha256 as the key says, relaxed/relaxed, RFC 6376 5.4; the
 * DKIM-Signature field is put in front of the message, in its buffer).
 *
 * The writer thread takes every signed message waiting and commits them
 * in one store batch (group commit: one fsync for all, as Postfix's and
 * PostgreSQL's group commit); only after the commit are the sessions told
 * (250), and messages leased to this node are handed to delivery in
 * memory. A failed commit answers 451 4.3.0 to every message of the batch
 * and keeps nothing of it, so a client never believes a lost message
 * queued.
 */
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "coldpost/alloc.h"
#include "coldpost/auth.h"
#include "coldpost/bounce.h"
#include "coldpost/log.h"
#include "coldpost/msg.h"
#include "coldpost/relay.h"
#include "net/net_int.h"

/* ---- jobs and queues -------------------------------------------------------- */

void
net_job_free(net_job *j)
{
	if (j == NULL)
		return;
	if (j->pass != NULL) {
		OPENSSL_cleanse(j->pass, j->passlen);
		cp_free(j->pass);
	}
	cp_free(j->user);
	cp_buf_free(&j->body);
	cp_free(j->mail_from);
	for (size_t i = 0; i < j->nrcpts; i++)
		cp_free(j->rcpts ? j->rcpts[i] : NULL);
	cp_free(j->rcpts);
	cp_free(j->message_id);
	cp_free(j->rcpt_ids);
	net_settings_unref(j->set);
	cp_free(j);
}

void
net_queue_init(net_queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
}

void
net_queue_destroy(net_queue *q)
{
	while (q->head != NULL) {
		net_job *j = q->head;

		q->head = j->next;
		net_job_free(j);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

void
net_queue_push(net_queue *q, net_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->n++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

net_job *
net_queue_take_all(net_queue *q)
{
	net_job *list;

	pthread_mutex_lock(&q->mu);
	while (q->head == NULL && !q->stop)
		pthread_cond_wait(&q->cv, &q->mu);
	list = q->head;
	q->head = q->tail = NULL;
	q->n = 0;
	pthread_mutex_unlock(&q->mu);
	return list;
}

net_job *
net_queue_take(net_queue *q)
{
	net_job *j;

	pthread_mutex_lock(&q->mu);
	while (q->head == NULL && !q->stop)
		pthread_cond_wait(&q->cv, &q->mu);
	j = q->head;
	if (j != NULL) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->n--;
		j->next = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	return j;
}

void
net_queue_stop(net_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void
net_job_done(net_server *s, net_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&s->done_mu);
	if (s->done_tail != NULL)
		s->done_tail->next = j;
	else
		s->done_head = j;
	s->done_tail = j;
	pthread_mutex_unlock(&s->done_mu);
	event_active(s->done_ev, EV_READ, 0);
}

static void
job_reply(net_job *j, int verdict, int code, const char *enh,
    const char *text)
{
	j->verdict = verdict;
	j->code = code;
	snprintf(j->enhanced, sizeof(j->enhanced), "%s", enh ? enh : "");
	snprintf(j->text, sizeof(j->text), "%s", text ? text : "");
}

/* ---- AUTH and DOMAIN ---------------------------------------------------------- */

static void
work_auth(net_server *s, net_job *j)
{
	cp_err err = { 0 };
	int rc;

	rc = net_cache_login(s->cache, j->user, j->pass, j->passlen,
	    &j->auth_ok, &j->login, &err);
	OPENSSL_cleanse(j->pass, j->passlen);
	if (rc != CP_OK) {
		cp_log(CP_LOG_ERR, "smtpd", "auth user=%s store error: %s",
		    j->user, err.msg);
		job_reply(j, CP_SMTPD_TEMPFAIL, 454, "4.7.0",
		    "Temporary authentication failure");
	} else if (j->auth_ok)
		job_reply(j, CP_SMTPD_ACCEPT, 0, NULL, NULL);
	else
		job_reply(j, CP_SMTPD_REJECT, 0, NULL, NULL);
}

static void
work_domain(net_server *s, net_job *j)
{
	net_domain d;
	cp_err err = { 0 };
	int rc;

	rc = net_cache_domain(s->cache, j->domain, 1, 0, &d, &err);
	if (rc < 0) {
		cp_log(CP_LOG_ERR, "smtpd", "domain=%s store error: %s",
		    j->domain, err.msg);
		job_reply(j, CP_SMTPD_TEMPFAIL, 451, "4.3.0",
		    "Temporary failure looking up the sender domain");
		return;
	}
	j->tenant = d.found ? d.tenant : 0;
}

/* ---- signing -------------------------------------------------------------------- */

typedef struct sign_scan {
	unsigned count[32];
	char from_domain[CP_STORE_DOMAIN_MAX + 1];
	int nfrom;
	char *message_id;
} sign_scan;

/* The value of a field as an id for the store: after the colon, without
 * the outer blanks, unfolded, printable ASCII only (RFC 5322 3.6.4
 * msg-id is ASCII; anything else would be refused by the store). */
static char *
field_value(const char *field, size_t len)
{
	const char *colon = memchr(field, ':', len), *p, *end = field + len;
	char *out;
	size_t n = 0;

	if (colon == NULL)
		return NULL;
	p = colon + 1;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if ((out = cp_malloc((size_t)(end - p) + 1)) == NULL)
		return NULL;
	for (; p < end; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\t')
			ch = ' ';
		if (ch >= 0x20 && ch < 0x7f)
			out[n++] = (char)ch;
	}
	out[n] = '\0';
	return out;
}

static int
scan_field(void *arg, const char *field, size_t len)
{
	sign_scan *sc = arg;
	size_t nlen = cp_msg_field_name(field, len);
	int i = nlen ? net_sign_index(field, nlen) : -1;
	const char *colon;

	if (i < 0)
		return 0;
	sc->count[i]++;
	if (i == 0 && sc->nfrom++ == 0) { /* From: the author domain */
		cp_auth_from from;

		colon = memchr(field, ':', len);
		if (cp_auth_parse_from(colon + 1, len - (size_t)(colon + 1 -
		    field), &from, NULL) == CP_OK && from.n > 0)
			snprintf(sc->from_domain, sizeof(sc->from_domain),
			    "%.253s", from.mbox[0].domain);
	}
	if (strcmp(net_sign_names[i], "message-id") == 0 &&
	    sc->message_id == NULL) {
		sc->message_id = field_value(field, len);
		if (sc->message_id != NULL &&
		    strlen(sc->message_id) > CP_STORE_MSGID_MAX)
			sc->message_id[0] = '\0'; /* not an id anyone keeps */
	}
	return 0;
}

/* Put the signature fields in front of the message, in its buffer. */
static int
prepend(cp_buf *body, const cp_buf *sig)
{
	int rc = cp_buf_reserve(body, sig->len);

	if (rc != CP_OK)
		return rc;
	memmove(body->data + sig->len, body->data, body->len);
	memcpy(body->data, sig->data, sig->len);
	body->len += sig->len;
	body->data[body->len] = '\0';
	return CP_OK;
}

static int
sign_with(net_job *j, const net_domain *d, const sign_scan *sc, cp_err *err)
{
	cp_dkim_sign_opts o;
	cp_dkim_signer *sg = NULL;
	cp_buf h, sig;
	int rc;

	cp_buf_init(&h, 4096);
	cp_buf_init(&sig, 64 * 1024);
	memset(&o, 0, sizeof(o));
	o.key = d->key;
	o.domain = d->name;
	o.selector = d->selector;
	o.hcanon = CP_DKIM_RELAXED;
	o.bcanon = CP_DKIM_RELAXED;
	rc = net_sign_headers(sc->count, &h);
	o.headers = h.data;
	if (rc == CP_OK)
		rc = cp_dkim_signer_new(&o, 1, &sg, err);
	if (rc == CP_OK)
		rc = cp_dkim_signer_write(sg, j->body.data, j->body.len, err);
	if (rc == CP_OK)
		rc = cp_dkim_signer_finish(sg, "\r\n", &sig, err);
	if (rc == CP_OK && (rc = prepend(&j->body, &sig)) != CP_OK)
		cp_err_set(err, rc, "dkim: no room for the signature");
	if (rc == CP_OK) {
		snprintf(j->sign_d, sizeof(j->sign_d), "%s", d->name);
		snprintf(j->sign_s, sizeof(j->sign_s), "%s", d->selector);
	}
	cp_dkim_signer_free(sg);
	cp_buf_free(&h);
	cp_buf_free(&sig);
	return rc;
}

void
net_work_sign(net_cache *cache, net_job *j)
{
	sign_scan sc;
	cp_msg_split sp;
	net_domain from = { 0 }, fb = { 0 }, *use = NULL;
	const char *d;
	size_t off;
	cp_err err = { 0 };
	int rc;

	memset(&sc, 0, sizeof(sc));
	cp_msg_split_init(&sp, 0);
	rc = cp_msg_split_feed(&sp, j->body.data ? j->body.data : "",
	    j->body.len, &off, scan_field, &sc, NULL);
	if (rc == CP_OK && !sp.done)
		cp_msg_split_end(&sp, scan_field, &sc, NULL);
	cp_msg_split_clear(&sp);
	j->message_id = sc.message_id ? sc.message_id : cp_strdup("");
	if (sc.from_domain[0] != '\0' && net_cache_domain(cache,
	    sc.from_domain, 1, 1, &from, &err) < 0) {
		cp_log(CP_LOG_WARN, "dkim", "domain=%s lookup failed: %s",
		    sc.from_domain, err.msg);
		memset(&from, 0, sizeof(from));
	}
	d = net_sign_domain(sc.from_domain, from.found ? from.tenant : 0,
	    j->tenant, j->fallback);
	if (d == sc.from_domain)
		use = &from;
	else if (d[0] != '\0' && net_cache_domain(cache, d, 1, 1, &fb,
	    &err) == 1 && fb.found && fb.tenant == j->tenant)
		use = &fb;
	if (use == NULL || use->key == NULL)
		snprintf(j->unsigned_why, sizeof(j->unsigned_why),
		    "no key for %.64s: %.60s", d[0] ? d : "(no domain)",
		    use ? use->why : "the domain is not the tenant's");
	else if (sign_with(j, use, &sc, &err) != CP_OK) {
		snprintf(j->unsigned_why, sizeof(j->unsigned_why),
		    "signing failed: %.100s", err.msg);
		j->sign_d[0] = '\0';
	}
	cp_dkim_key_free(from.key);
	cp_dkim_key_free(fb.key);
}

static void
work_message(net_server *s, net_job *j)
{
	net_unsub_add(s, j); /* before signing: the signature covers it */
	net_work_sign(s->cache, j);
	net_queue_push(&s->commit, j);
}

/* The sending policy on one recipient (suppression, a refusing cap). */
static void
work_rcpt(net_server *s, net_job *j)
{
	int code = 0;

	j->enhanced[0] = '\0';
	j->text[0] = '\0';
	s->rcpt_check(s->rcpt_check_arg, j->tenant, j->mailbox, j->rcpt,
	    &code, j->enhanced, j->text);
	if (code == 0) {
		j->verdict = CP_SMTPD_ACCEPT;
		return;
	}
	j->verdict = code >= 500 ? CP_SMTPD_REJECT : CP_SMTPD_TEMPFAIL;
	j->code = code;
}

void *
net_signer_main(void *arg)
{
	net_server *s = arg;
	cp_bounce_parser *parser = NULL; /* this thread's, made on first use */
	net_job *j;

	while ((j = net_queue_take(&s->work)) != NULL) {
		switch (j->type) {
		case NET_JOB_INBOUND:
			net_inbound_work(s, j, &parser);
			break;
		case NET_JOB_AUTH:
			work_auth(s, j);
			break;
		case NET_JOB_DOMAIN:
			work_domain(s, j);
			break;
		case NET_JOB_RCPT:
			work_rcpt(s, j);
			break;
		case NET_JOB_MESSAGE:
			work_message(s, j); /* on to the writer */
			continue;
		}
		net_job_done(s, j);
	}
	cp_bounce_parser_free(parser);
	return NULL;
}

/* ---- the writer ------------------------------------------------------------------ */

static int64_t
wall_s(void)
{
	return (int64_t)time(NULL);
}

/* Insert one message into the open batch. */
static int
write_one(net_server *s, net_job *j, cp_err *err)
{
	cp_envelope env;
	int64_t now = wall_s();

	memset(&env, 0, sizeof(env));
	env.tenant = j->tenant;
	env.mailbox = j->mailbox;
	env.mail_from = j->mail_from;
	env.return_path = j->mail_from;
	env.rcpts = (const char *const *)j->rcpts;
	env.nrcpts = j->nrcpts;
	env.received = j->received;
	env.expires = j->received + j->set->conf.queue.expiry / 1000;
	env.message_id = j->message_id ? j->message_id : "";
	j->leased = 0;
	if (s->deliver != NULL && cp_deliver_has_room(s->deliver,
	    j->body.len)) {
		j->rcpt_ids = cp_calloc(j->nrcpts, sizeof(int64_t));
		if (j->rcpt_ids != NULL) {
			env.lease_node = s->node;
			env.lease_until = now + CP_DELIVER_LEASE_S;
			env.rcpt_ids = j->rcpt_ids;
			j->leased = 1;
		}
	}
	if (cp_store_insert_message(s->store, &env, j->body.data,
	    j->body.len, err) != CP_OK) {
		j->leased = 0;
		return err->code ? err->code : CP_ESTORE;
	}
	j->id = env.id;
	return CP_OK;
}

/* After the commit: the message goes to delivery without a store read. */
static void
hand_over(net_server *s, net_job *j)
{
	cp_relay_msg *m;

	m = cp_relay_msg_new(j->id, j->tenant, j->mailbox, j->mail_from,
	    j->mail_from, j->message_id, (const char *const *)j->rcpts,
	    j->rcpt_ids, j->nrcpts, NULL, 0);
	if (m == NULL) { /* the lease runs out and delivery claims it */
		cp_log(CP_LOG_WARN, "smtpd", "id=%lld no memory to hand over",
		    (long long)j->id);
		return;
	}
	cp_free(m->body); /* the signed message moves, not copied */
	m->len = j->body.len;
	m->body = cp_buf_steal(&j->body);
	if (m->body == NULL) {
		cp_relay_msg_free(m);
		return;
	}
	m->received = j->received;
	m->expires = j->received + j->set->conf.queue.expiry / 1000;
	m->lease_until = wall_s() + CP_DELIVER_LEASE_S;
	cp_deliver_push(s->deliver, m);
}

static void
write_batch(net_server *s, net_job *list)
{
	cp_err err = { 0 };
	int rc;

	rc = cp_store_begin(s->store, &err);
	for (net_job *j = list; rc == CP_OK && j != NULL; j = j->next) {
		cp_err e1 = { 0 };

		if (write_one(s, j, &e1) != CP_OK) {
			cp_log(CP_LOG_ERR, "smtpd", "message from=<%s> not "
			    "stored: %s", j->mail_from, e1.msg);
			job_reply(j, CP_SMTPD_TEMPFAIL, 451, "4.3.0",
			    "Temporary failure storing the message");
		} else
			j->verdict = CP_SMTPD_ACCEPT;
	}
	if (rc == CP_OK)
		rc = cp_store_commit(s->store, &err);
	if (rc != CP_OK) {
		cp_log(CP_LOG_ERR, "smtpd", "commit failed: %s", err.msg);
		for (net_job *j = list; j != NULL; j = j->next) {
			j->id = 0;
			j->leased = 0;
			job_reply(j, CP_SMTPD_TEMPFAIL, 451, "4.3.0",
			    "Temporary failure storing the message");
		}
		return;
	}
	net_stat_add(&s->stats.commits, 1);
	for (net_job *j = list; j != NULL; j = j->next)
		if (j->verdict == CP_SMTPD_ACCEPT && j->leased)
			hand_over(s, j);
}

void *
net_writer_main(void *arg)
{
	net_server *s = arg;
	net_job *list, *next;

	while ((list = net_queue_take_all(&s->commit)) != NULL) {
		write_batch(s, list);
		for (net_job *j = list; j != NULL; j = next) {
			next = j->next;
			net_job_done(s, j);
		}
	}
	return NULL;
}
