/*
 * net_inject.c - cp_server_inject: a message from elsewhere (the HTTP
 * API) through the submission server's acceptance path, so it is treated
 * exactly like one that came over SMTP: the same MAIL FROM rule
 * (net_sender_check, docs/internals/server.md "Policy"), the same signer
 * workers (List-Unsubscribe fields, DKIM), the same group-commit writer
 * and hand-over to delivery; the answer comes back through the loop's
 * completion list like a session's.
 *
 * What the smtpd core does to an SMTP message is done here instead
 * (RFC 6409 section 8): Bcc fields are dropped (8.2), Date and Message-ID
 * are added at the end of the header section when missing (8.3), line
 * ends become CRLF. No Received field: there was no SMTP hop. Lines
 * longer than RFC 5322 section 2.1.1's 998 characters are refused, as a
 * header section that does not end before a line that is not a field.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "coldpost/msg.h"
#include "net/net_int.h"

#define LINE_MAX_CHARS 998

struct complete {
	cp_buf *out;
	int seen_date, seen_msgid, bad;
	size_t nfields;
};

/* Append p[0..len) with every line end as CRLF; 1 if a line is too long. */
static int
add_crlf(cp_buf *out, const char *p, size_t len, int *too_long)
{
	size_t start = 0, i;
	int rc = CP_OK;

	for (i = 0; rc == CP_OK && i < len; i++) {
		if (p[i] != '\n')
			continue;
		size_t end = i > start && p[i - 1] == '\r' ? i - 1 : i;

		if (end - start > LINE_MAX_CHARS)
			*too_long = 1;
		rc = cp_buf_add(out, p + start, end - start);
		if (rc == CP_OK)
			rc = cp_buf_add(out, "\r\n", 2);
		start = i + 1;
	}
	if (rc == CP_OK && start < len) {
		if (len - start > LINE_MAX_CHARS)
			*too_long = 1;
		rc = cp_buf_add(out, p + start, len - start);
		if (rc == CP_OK)
			rc = cp_buf_add(out, "\r\n", 2);
	}
	return rc;
}

static int
complete_field(void *arg, const char *field, size_t len)
{
	struct complete *c = arg;
	size_t n = cp_msg_field_name(field, len);
	int too_long = 0, rc;

	if (n == 0) {
		c->bad = 1; /* not a field, and no empty line before it */
		return CP_EINVAL;
	}
	c->nfields++;
	if (n == 3 && strncasecmp(field, "bcc", 3) == 0)
		return CP_OK;
	if (n == 4 && strncasecmp(field, "date", 4) == 0)
		c->seen_date = 1;
	if (n == 10 && strncasecmp(field, "message-id", 10) == 0)
		c->seen_msgid = 1;
	rc = add_crlf(c->out, field, len, &too_long);
	if (rc == CP_OK && too_long) {
		c->bad = 2;
		return CP_EINVAL;
	}
	return rc;
}

static int
add_missing(struct complete *c, const char *host)
{
	time_t now = time(NULL);
	struct tm tm;
	char date[64], id[17];
	unsigned char r[8];
	int rc = CP_OK;

	if (gmtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	if (!c->seen_date) {
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		rc = cp_buf_addf(c->out, "Date: %s\r\n", date);
	}
	if (rc == CP_OK && !c->seen_msgid) {
		if (RAND_bytes(r, sizeof(r)) != 1)
			return CP_EIO;
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(id + 2 * i, 3, "%02x", r[i]);
		rc = cp_buf_addf(c->out,
		    "Message-ID: <%04d%02d%02d%02d%02d%02d.%s@%s>\r\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, id, host[0] ? host : "localhost");
	}
	return rc;
}

int
net_inject_complete(const char *msg, size_t len, const char *host,
    cp_buf *out, cp_err *err)
{
	struct complete c = { .out = out };
	cp_msg_split sp;
	size_t off = len;
	int rc, too_long = 0;

	cp_msg_split_init(&sp, 0);
	rc = cp_msg_split_feed(&sp, msg, len, &off, complete_field, &c, err);
	if (rc == CP_OK && !sp.done) {
		rc = cp_msg_split_end(&sp, complete_field, &c, err);
		off = len;
	}
	cp_msg_split_clear(&sp);
	if (c.bad == 1)
		return cp_err_set(err, CP_EINVAL, "message: a line of the "
		    "header section is not a header field (an empty line must "
		    "separate header and body)");
	if (c.bad == 2)
		return cp_err_set(err, CP_EINVAL, "message: a header line is "
		    "longer than %d characters", LINE_MAX_CHARS);
	if (rc != CP_OK)
		return rc == CP_ENOMEM ? cp_err_set(err, rc, "message: out of "
		    "memory") : rc;
	if (c.nfields == 0)
		return cp_err_set(err, CP_EINVAL, "message: no header fields");
	if ((rc = add_missing(&c, host)) != CP_OK ||
	    (rc = cp_buf_add(out, "\r\n", 2)) != CP_OK ||
	    (rc = add_crlf(out, msg + off, len - off, &too_long)) != CP_OK)
		return cp_err_set(err, rc, "message: %s", rc == CP_ETOOBIG ?
		    "too big" : "out of memory");
	if (too_long)
		return cp_err_set(err, CP_EINVAL, "message: a body line is "
		    "longer than %d characters (use a content transfer "
		    "encoding)", LINE_MAX_CHARS);
	return CP_OK;
}

/* Who sends: the mailbox's record, or the tenant of a trusted sender's
 * domain. Fills j->tenant, j->fallback; 0 or the refusal in err. */
struct find_mbox {
	int64_t id;
	cp_mailbox *m;
};

static int
find_mbox_cb(void *arg, const cp_mailbox *m)
{
	struct find_mbox *f = arg;

	if (m->id != f->id)
		return 0;
	f->m = cp_calloc(1, sizeof(*f->m) + strlen(m->address) + 1);
	if (f->m != NULL) {
		*f->m = *m;
		f->m->address = memcpy((char *)(f->m + 1), m->address,
		    strlen(m->address) + 1);
		f->m->pwhash = f->m->tz = NULL;
	}
	return 1;
}

/* The MAIL FROM rule for an authenticated mailbox m. */
static int
inject_mailbox(const cp_mailbox *m, const char *mail_from, net_job *j,
    cp_err *err)
{
	net_identity id = { 0 };
	int rc;

	id.authenticated = 1;
	id.mailbox = m->address;
	id.send_as_domain = m->send_as_domain;
	rc = net_sender_check(&id, mail_from);
	j->tenant = m->tenant;
	net_addr_domain(m->address, j->fallback, sizeof(j->fallback));
	if (rc != NET_SENDER_OK)
		return cp_err_set(err, CP_EINVAL, "553 5.7.1 <%s>: not the "
		    "mailbox's address%s", mail_from, id.send_as_domain ?
		    " or domain" : "");
	return CP_OK;
}

static int
inject_sender(net_server *s, int64_t mailbox, const cp_mailbox *rec,
    const char *mail_from, net_job *j, cp_err *err)
{
	net_identity id = { 0 };
	char dom[CP_STORE_DOMAIN_MAX + 1];
	int rc;

	if (rec != NULL)
		return inject_mailbox(rec, mail_from, j, err);
	if (mailbox != 0) {
		struct find_mbox f = { mailbox, NULL };

		if (cp_store_list_mailboxes(s->store, 0, find_mbox_cb, &f,
		    err) != CP_OK)
			return err->code;
		if (f.m == NULL)
			return cp_err_set(err, CP_EINVAL, "550 5.7.1 mailbox %lld "
			    "does not exist", (long long)mailbox);
		rc = inject_mailbox(f.m, mail_from, j, err);
		cp_free(f.m);
		return rc;
	}
	id.trusted = 1;
	if ((rc = net_sender_check(&id, mail_from)) == NET_SENDER_NULL)
		return cp_err_set(err, CP_EINVAL, "550 5.7.1 the null sender "
		    "needs a mailbox");
	if (!net_addr_domain(mail_from, dom, sizeof(dom)))
		return cp_err_set(err, CP_EINVAL, "550 5.7.1 <%s>: no domain",
		    mail_from);
	{
		cp_domain *d = NULL;
		cp_err e2 = { 0 };

		if (cp_store_get_domain(s->store, dom, &d, &e2) != CP_OK)
			return e2.code == CP_ENOTFOUND ? cp_err_set(err,
			    CP_EINVAL, "550 5.7.1 <%s>: the domain is not "
			    "ours", mail_from) : cp_err_set(err, e2.code,
			    "%s", e2.msg);
		j->tenant = d->tenant;
		cp_domain_free(d);
	}
	snprintf(j->fallback, sizeof(j->fallback), "%s", dom);
	return CP_OK;
}

static int
inject_envelope(net_job *j, const char *mail_from, const char *const *rcpts,
    size_t nrcpts, cp_err *err)
{
	int64_t max = j->set->conf.limits.max_recipients;

	if (nrcpts == 0 || (max > 0 && (int64_t)nrcpts > max) ||
	    nrcpts > CP_STORE_RCPTS_MAX)
		return cp_err_set(err, CP_EINVAL, "452 4.5.3 %zu recipients: "
		    "want 1..%lld", nrcpts, (long long)(max > 0 ? max :
		    CP_STORE_RCPTS_MAX));
	if ((j->mail_from = cp_strdup(mail_from)) == NULL ||
	    (j->rcpts = cp_calloc(nrcpts, sizeof(char *))) == NULL)
		return cp_err_set(err, CP_ENOMEM, "inject: out of memory");
	for (size_t i = 0; i < nrcpts; i++) {
		if (cp_store_check_address(rcpts[i], strlen(rcpts[i]),
		    "recipient", err) != CP_OK)
			return cp_err_set(err, CP_EINVAL, "553 5.1.3 <%.254s>: "
			    "%s", rcpts[i], err->msg);
		if ((j->rcpts[i] = cp_strdup(rcpts[i])) == NULL)
			return cp_err_set(err, CP_ENOMEM, "inject: out of "
			    "memory");
		j->nrcpts = i + 1;
	}
	return CP_OK;
}

static int
inject(cp_server *cs, int64_t mailbox, const cp_mailbox *rec,
    const char *mail_from, const char *const *rcpts, size_t nrcpts,
    const void *msg, size_t len, cp_server_inject_cb done, void *arg,
    cp_err *err)
{
	net_server *s = (net_server *)cs;
	net_job *j;
	int rc;

	CP_ASSERT(s != NULL && mail_from != NULL && done != NULL);
	if (!s->started || s->draining || s->stopped)
		return cp_err_set(err, CP_ETEMP, "421 4.3.2 the server is not "
		    "accepting messages now");
	if (mail_from[0] != '\0' && cp_store_check_address(mail_from,
	    strlen(mail_from), "sender", err) != CP_OK)
		return cp_err_set(err, CP_EINVAL, "553 5.1.7 <%.254s>: %s",
		    mail_from, err->msg);
	if ((j = cp_calloc(1, sizeof(*j))) == NULL)
		return cp_err_set(err, CP_ENOMEM, "inject: out of memory");
	j->type = NET_JOB_MESSAGE;
	j->set = net_server_settings(s);
	j->inject_done = done;
	j->inject_arg = arg;
	j->mailbox = mailbox;
	j->received = (int64_t)time(NULL);
	j->size = len;
	j->verdict = CP_SMTPD_TEMPFAIL;
	if ((int64_t)len > j->set->conf.limits.max_size) {
		rc = cp_err_set(err, CP_EINVAL, "552 5.3.4 message: %zu bytes, "
		    "at most %lld", len, (long long)j->set->conf.limits.max_size);
		goto fail;
	}
	cp_buf_init(&j->body, (size_t)j->set->conf.limits.max_size +
	    64 * 1024);
	if ((rc = inject_sender(s, mailbox, rec, mail_from, j, err)) != CP_OK ||
	    (rc = inject_envelope(j, mail_from, rcpts, nrcpts, err)) != CP_OK ||
	    (rc = net_inject_complete(msg, len, j->set->hostname, &j->body,
	    err)) != CP_OK)
		goto fail;
	net_queue_push(&s->work, j);
	return CP_OK;
fail:
	net_job_free(j);
	return rc;
}

int
cp_server_inject(cp_server *cs, int64_t mailbox, const char *mail_from,
    const char *const *rcpts, size_t nrcpts, const void *msg, size_t len,
    cp_server_inject_cb done, void *arg, cp_err *err)
{
	return inject(cs, mailbox, NULL, mail_from, rcpts, nrcpts, msg, len,
	    done, arg, err);
}

int
cp_server_inject_as(cp_server *cs, const cp_mailbox *m,
    const char *mail_from, const char *const *rcpts, size_t nrcpts,
    const void *msg, size_t len, cp_server_inject_cb done, void *arg,
    cp_err *err)
{
	CP_ASSERT(m != NULL && m->address != NULL);
	return inject(cs, m->id, m, mail_from, rcpts, nrcpts, msg, len, done,
	    arg, err);
}

void
net_inject_finish(net_server *s, net_job *j)
{
	cp_err err = { 0 };
	int rc = CP_OK;

	if (j->verdict == CP_SMTPD_ACCEPT) {
		net_stat_add(&s->stats.messages, 1);
		net_stat_add(&s->stats.recipients, j->nrcpts);
		if (j->sign_d[0] == '\0')
			cp_log(CP_LOG_WARN, "dkim", "id=%lld stored unsigned: %s",
			    (long long)j->id, j->unsigned_why);
		cp_log(CP_LOG_INFO, "smtpd", "id=%lld injected from=<%s> "
		    "nrcpts=%zu size=%zu msgid=%s dkim=%s%s%s%s%s",
		    (long long)j->id, j->mail_from, j->nrcpts, (size_t)j->size,
		    j->message_id ? j->message_id : "", j->sign_d[0] ? "d=" :
		    "none", j->sign_d, j->sign_d[0] ? " s=" : "", j->sign_s,
		    j->leased ? " handed" : "");
	} else
		rc = cp_err_set(&err, CP_ETEMP, "%d %s %s", j->code,
		    j->enhanced, j->text);
	j->inject_done(j->inject_arg, rc, rc == CP_OK ? j->id : 0, &err);
	net_job_free(j);
}
