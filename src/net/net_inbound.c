/*
 * net_inbound.c - the relay's inbound listener (listen.bounce): SMTP for
 * the bounce domain only, and what it does with what it receives.
 *
 * Sessions run the same machinery as submission (net_session.c, the smtpd
 * core with the listener's own settings: no AUTH, RFC 5321 as an MX) and
 * answer here, on the loop thread: MAIL FROM is anyone's (DSNs come from
 * <>, RFC 3461 6.2 / RFC 5321 4.5.5), RCPT only for addresses this relay
 * made: a VERP return path whose tag checks (coldpost/verp.h), an
 * unsubscribe address (net_unsub.c), and postmaster (bare or at the
 * bounce domain, RFC 5321 4.5.1: kept for a person to read, logged).
 * Anything else is refused, another
 * domain with 550 5.7.1 (no relaying), a made-up local part of the
 * bounce domain with 550 5.1.1. AUTH is refused (503 5.5.1).
 *
 * At the final dot a signer thread (never the loop) reads the message
 * (coldpost/bounce.h) and, in one store batch: keeps it raw (table
 * inbound), records each failed recipient it reports on the recipient row
 * found through the VERP token (cp_store_record_late: a delivered
 * recipient becomes bounced), records a complaint (RFC 5965 ARF) the same
 * way, puts hard bounces and complaints on the tenant's suppression list,
 * and for an unsubscribe address the sender (MAIL FROM or From) when the
 * address's tag was made for that sender (RFC 8058's mailto path). Only
 * after the commit does the client get 250; a failed commit gets 451
 * 4.3.0 and nothing of it stays, so the sender tries again.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "coldpost/auth.h"
#include "coldpost/bounce.h"
#include "coldpost/kb.h"
#include "coldpost/log.h"
#include "coldpost/msg.h"
#include "coldpost/unsub.h"
#include "net/net_int.h"

/* ---- the loop thread (answers: net_answer, net_refuse) ------------------ */

static void
in_mail(net_session *ss, const cp_smtpd_event *ev)
{
	char text[400];

	if (strlen(ev->addr) > CP_STORE_ADDR_MAX) {
		snprintf(text, sizeof(text), "<%.64s...>: Sender address "
		    "rejected: longer than %d bytes", ev->addr,
		    CP_STORE_ADDR_MAX);
		net_refuse(ss, "inbound", "MAIL",
		    CP_SMTPD_REJECT, 553, "5.1.7", text);
		return;
	}
	cp_free(ss->mail_from);
	if ((ss->mail_from = cp_strdup(ev->addr)) == NULL) {
		net_answer(ss, CP_SMTPD_TEMPFAIL, 452, "4.3.1",
		    "Insufficient system resources");
		return;
	}
	net_answer(ss, CP_SMTPD_ACCEPT, 0, NULL, NULL);
}

static void
in_rcpt(net_session *ss, const cp_smtpd_event *ev)
{
	const cp_conf *c = &ss->set->conf;
	net_in_rcpt r;
	char text[700];

	switch (net_inbound_classify(ev->addr, c->bounce.domain,
	    c->bounce.verp_prefix, ss->srv->secret, ss->srv->secret_len, &r)) {
	case NET_IN_VERP:
	case NET_IN_UNSUB:
	case NET_IN_POSTMASTER:
		break;
	case NET_IN_OTHER_DOMAIN:
		snprintf(text, sizeof(text), "<%.254s>: Relay access denied: "
		    "this server accepts mail only for the return paths of "
		    "%.253s", ev->addr, c->bounce.domain[0] ?
		    c->bounce.domain : "its bounce domain (none is set)");
		net_refuse(ss, "inbound", "RCPT",
		    CP_SMTPD_REJECT, 550, "5.7.1", text);
		return;
	default:
		snprintf(text, sizeof(text), "<%.254s>: Recipient address "
		    "rejected: not a return path or unsubscribe address this "
		    "relay made", ev->addr);
		net_refuse(ss, "inbound", "RCPT",
		    CP_SMTPD_REJECT, 550, "5.1.1", text);
		return;
	}
	net_accept_rcpt(ss, ev->addr);
}

static void
in_data_end(net_session *ss, const cp_smtpd_event *ev)
{
	net_job *j;

	if (ss->spool_failed || (j = cp_calloc(1, sizeof(*j))) == NULL) {
		net_refuse(ss, "inbound", "DATA",
		    CP_SMTPD_TEMPFAIL, 452, "4.3.1",
		    "Insufficient system storage");
		return;
	}
	j->type = NET_JOB_INBOUND;
	j->sess = ss;
	j->set = net_settings_ref(ss->set);
	ss->jobs++;
	j->body = ss->spool; /* moves */
	cp_buf_init(&ss->spool, 0);
	j->mail_from = ss->mail_from;
	ss->mail_from = NULL;
	j->rcpts = ss->rcpts;
	j->nrcpts = ss->nrcpts;
	ss->rcpts = NULL;
	ss->nrcpts = ss->caprcpts = 0;
	snprintf(j->client, sizeof(j->client), "%s", ss->addr);
	snprintf(j->helo, sizeof(j->helo), "%s", ss->helo);
	j->received = (int64_t)time(NULL);
	j->size = ev->size;
	j->verdict = CP_SMTPD_TEMPFAIL;
	net_queue_push(&ss->srv->work, j);
}

void
net_inbound_done(net_session *ss, net_job *j)
{
	char qid[32];
	cp_smtpd_answer a;

	if (j->verdict != CP_SMTPD_ACCEPT) {
		net_refuse(ss, "inbound", "DATA",
		    j->verdict, j->code, j->enhanced,
		    j->text);
		return;
	}
	net_stat_add(&ss->srv->stats.messages, 1);
	snprintf(qid, sizeof(qid), "in%lld", (long long)j->id);
	memset(&a, 0, sizeof(a));
	a.verdict = CP_SMTPD_ACCEPT;
	a.queue_id = qid;
	cp_smtpd_conn_answer(ss->c, &a);
}

void
net_inbound_handle(net_session *ss, const cp_smtpd_event *ev)
{
	switch (ev->type) {
	case CP_SMTPD_EV_HELO:
		snprintf(ss->helo, sizeof(ss->helo), "%.*s",
		    (int)sizeof(ss->helo) - 1, ev->helo ? ev->helo : "");
		net_answer(ss, CP_SMTPD_ACCEPT, 0, NULL, NULL);
		break;
	case CP_SMTPD_EV_AUTH:
		net_refuse(ss, "inbound", "AUTH", CP_SMTPD_REJECT, 503, "5.5.1",
		    "AUTH not available on this port");
		break;
	case CP_SMTPD_EV_MAIL:
		in_mail(ss, ev);
		break;
	case CP_SMTPD_EV_RCPT:
		in_rcpt(ss, ev);
		break;
	case CP_SMTPD_EV_DATA_END:
		in_data_end(ss, ev);
		break;
	default:
		break; /* the rest as submission's (net_answer.c) */
	}
}

/* ---- a signer thread: reading and recording --------------------------- */

typedef struct in_ctx {
	net_server *s;
	net_job *j;
	const cp_bounce *b;  /* NULL: unreadable */
	int64_t id, now;
	cp_buf result;
	int nbounce, ncomplaint, nunsub, nsuppressed, npostmaster;
} in_ctx;

static void
in_result(in_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
in_result(in_ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->result.len > 0)
		(void)cp_buf_adds(&x->result, "\n");
	va_start(ap, fmt);
	(void)cp_buf_vaddf(&x->result, fmt, ap);
	va_end(ap);
}

/* A store token (cause, reason, receiver): up to 64 bytes, no blanks or
 * control bytes; anything else is dropped rather than failing the record. */
static const char *
in_token(const char *s)
{
	size_t n = strnlen(s, CP_STORE_TOKEN_MAX + 1);

	if (n > CP_STORE_TOKEN_MAX)
		return "";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return "";
	return s;
}

/* "X.Y.Z", class 2/4/5, 1-3 digits each (RFC 3463 2), else "". */
static const char *
in_enhanced(const char *s)
{
	const char *p = s;
	int parts = 0;

	if (*p != '2' && *p != '4' && *p != '5')
		return "";
	while (parts < 3) {
		int digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 4) {
			p++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return "";
		parts++;
		if (parts < 3 && *p++ != '.')
			return "";
	}
	return *p == '\0' ? s : "";
}

/* A host name for the attempt's mx: printable, cut to fit. */
static void
in_host(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *s != '\0' && n + 1 < outlen && n < CP_STORE_DOMAIN_MAX; s++)
		if ((unsigned char)*s > 0x20 && *s != 0x7f)
			out[n++] = *s;
	out[n] = '\0';
}

static int
in_suppress(in_ctx *x, int64_t tenant, const char *address,
    const char *reason, const char *note, cp_err *err)
{
	cp_suppression sp;
	int added = 0, rc;

	memset(&sp, 0, sizeof(sp));
	sp.tenant = tenant;
	sp.address = address;
	sp.reason = reason;
	sp.note = note;
	sp.created = x->now;
	rc = cp_store_add_suppression(x->s->store, &sp, &added, err);
	if (rc == CP_OK)
		x->nsuppressed += added;
	return rc;
}

/* After the record: on the list (hard bounces, complaints), counted,
 * said in the result and the log. */
static int
in_report_done(in_ctx *x, const cp_due *d, const cp_bounce_rcpt *r,
    const cp_attempt *a, int complaint, int changed, cp_err *err)
{
	int suppress = complaint || r->hard, rc = CP_OK;
	char note[512];

	if (suppress) {
		snprintf(note, sizeof(note), "inbound %" PRId64 ": %s %s "
		    "%.300s", x->id, complaint ? "feedback" : r->reason,
		    complaint ? r->feedback_type : r->status, r->diagnostic);
		rc = in_suppress(x, d->tenant, d->rcpt.address, complaint ?
		    "complaint" : "bounce", note, err);
	}
	if (rc != CP_OK)
		return rc;
	if (complaint)
		x->ncomplaint++;
	else
		x->nbounce++;
	if (x->s->report != NULL) {
		cp_server_report rep = { .tenant = d->tenant,
			.mailbox = d->mailbox, .message = d->rcpt.message,
			.rcpt = d->rcpt.address, .complaint = complaint,
			.feedback = complaint ? r->feedback_type : "",
			.hard = r->hard, .attempt = a };

		x->s->report(x->s->report_arg, &rep);
	}
	in_result(x, "rcpt=%" PRId64 " <%s> tenant=%" PRId64 " %s reason=%s "
	    "status=%s cause=%s%s%s%s%s", d->rcpt.id, d->rcpt.address,
	    d->tenant, complaint ? "complaint" : r->hard ? "hard-bounce" :
	    "soft-bounce", r->reason, r->status[0] ? r->status : "-",
	    a->cause[0] ? a->cause : "-", changed ? " delivered->bounced" : "",
	    suppress ? " suppressed" : "", r->feedback_type[0] ?
	    " feedback-type=" : "", r->feedback_type);
	cp_log(CP_LOG_INFO, "inbound", "inbound=%" PRId64 " rcpt=%" PRId64
	    " message=%" PRId64 " msgid=%s to=<%s> %s reason=%s status=%s%s%s",
	    x->id, d->rcpt.id, d->rcpt.message, d->message_id ?
	    d->message_id : "", d->rcpt.address, complaint ? "complaint" :
	    "bounce", r->reason, r->status[0] ? r->status : "-", changed ?
	    " delivered->bounced" : "", suppress ? " suppressed" : "");
	return CP_OK;
}

/* A DSN or ARF report sent to the VERP return path of recipient rcpt. */
static int
in_report(in_ctx *x, int64_t rcpt, cp_err *err)
{
	const cp_bounce_rcpt *r;
	cp_due_list *dl = NULL;
	const cp_due *d;
	cp_attempt a;
	char mx[CP_STORE_DOMAIN_MAX + 1];
	int cls, complaint, changed = 0, rc;

	rc = cp_store_get_recipient(x->s->store, rcpt, &dl, err);
	if (rc == CP_ENOTFOUND) {
		in_result(x, "rcpt=%" PRId64 " unknown (removed?)", rcpt);
		return CP_OK;
	}
	if (rc != CP_OK)
		return rc;
	d = &dl->v[0];
	r = x->b != NULL ? net_report_pick(x->b, d->rcpt.address) : NULL;
	cls = r != NULL ? net_report_class(r) : NET_REPORT_NONE;
	if (cls == NET_REPORT_NONE) {
		in_result(x, "rcpt=%" PRId64 " <%s> nothing to record%s%s",
		    rcpt, d->rcpt.address, r ? ": " : "", r ? r->reason : "");
		cp_due_list_free(dl);
		return CP_OK;
	}
	complaint = cls == NET_REPORT_COMPLAINT;
	memset(&a, 0, sizeof(a));
	in_host(r->remote_mta, mx, sizeof(mx));
	a.rcpt = rcpt;
	a.time = x->now;
	a.mx = mx;
	a.source_ip = "";
	a.reply = complaint && r->diagnostic[0] == '\0' ? r->feedback_type :
	    r->diagnostic;
	a.code = r->replycode;
	a.enhanced = in_enhanced(r->status);
	a.cause = r->cause >= 0 ? in_token(cp_cause_name(r->cause)) : "";
	a.reason = in_token(r->reason);
	a.receiver = in_token(r->receiver);
	a.outcome = complaint ? CP_RCPT_DELIVERED : CP_RCPT_BOUNCED;
	rc = cp_store_record_late(x->s->store, &a, &changed, err);
	if (rc == CP_OK)
		rc = in_report_done(x, d, r, &a, complaint, changed, err);
	cp_due_list_free(dl);
	return rc;
}

typedef struct in_from {
	char addr[CP_STORE_ADDR_MAX + 1];
	int n;
} in_from;

static int
in_scan_from(void *arg, const char *field, size_t len)
{
	in_from *f = arg;
	size_t nlen = cp_msg_field_name(field, len);
	cp_auth_from from;
	const char *colon;

	if (f->n > 0 || nlen != 4 || strncasecmp(field, "from", 4) != 0)
		return 0;
	f->n++;
	colon = memchr(field, ':', len);
	if (colon != NULL && cp_auth_parse_from(colon + 1, len - (size_t)(colon
	    + 1 - field), &from, NULL) == CP_OK && from.n > 0 &&
	    !from.mbox[0].literal)
		snprintf(f->addr, sizeof(f->addr), "%.64s@%.189s",
		    from.mbox[0].local, from.mbox[0].domain);
	return 0;
}

/* The address of the message's From field, or "". */
static void
in_header_from(const cp_buf *msg, char *out, size_t outlen)
{
	cp_msg_split sp;
	in_from f;
	size_t off;

	memset(&f, 0, sizeof(f));
	cp_msg_split_init(&sp, 0);
	if (cp_msg_split_feed(&sp, msg->data ? msg->data : "", msg->len, &off,
	    in_scan_from, &f, NULL) == CP_OK && !sp.done)
		cp_msg_split_end(&sp, in_scan_from, &f, NULL);
	cp_msg_split_clear(&sp);
	snprintf(out, outlen, "%s", f.addr);
}

/* A mail to unsub+TENANT-TAG: its sender, when the tag is the sender's. */
static int
in_unsub(in_ctx *x, const net_in_rcpt *t, cp_err *err)
{
	char hfrom[CP_STORE_ADDR_MAX + 1], note[128];
	const char *who = NULL;
	int rc;

	in_header_from(&x->j->body, hfrom, sizeof(hfrom));
	if (x->j->mail_from[0] != '\0' && net_unsub_check(x->s->secret,
	    x->s->secret_len, t->tenant, x->j->mail_from, t->tag))
		who = x->j->mail_from;
	else if (hfrom[0] != '\0' && net_unsub_check(x->s->secret,
	    x->s->secret_len, t->tenant, hfrom, t->tag))
		who = hfrom;
	if (who == NULL) {
		in_result(x, "unsubscribe tenant=%" PRId64 ": the token was "
		    "not made for <%s> or <%s>: nothing done", t->tenant,
		    x->j->mail_from, hfrom);
		cp_log(CP_LOG_INFO, "inbound", "inbound=%" PRId64
		    " unsubscribe tenant=%" PRId64 " from=<%s> "
		    "header-from=<%s>: token does not match the sender", x->id,
		    t->tenant, x->j->mail_from, hfrom);
		return CP_OK;
	}
	snprintf(note, sizeof(note), "inbound %" PRId64 ": mail to the "
	    "List-Unsubscribe address", x->id);
	if ((rc = in_suppress(x, t->tenant, who, "unsubscribe", note, err)) !=
	    CP_OK)
		return rc;
	x->nunsub++;
	in_result(x, "unsubscribe tenant=%" PRId64 " <%s> suppressed",
	    t->tenant, who);
	cp_log(CP_LOG_INFO, "inbound", "inbound=%" PRId64 " unsubscribe "
	    "tenant=%" PRId64 " address=<%s> suppressed", x->id, t->tenant,
	    who);
	return CP_OK;
}

static const char *
in_kind(const in_ctx *x)
{
	if (x->nunsub > 0)
		return "unsubscribe";
	if (x->ncomplaint > 0)
		return "complaint";
	if (x->nbounce > 0)
		return "bounce";
	if (x->npostmaster > 0)
		return "postmaster";
	return "none";
}

/* Join the envelope recipients for the inbound row. */
static int
in_rcpt_list(const net_job *j, cp_buf *out)
{
	int rc = CP_OK;

	for (size_t i = 0; rc == CP_OK && i < j->nrcpts; i++) {
		if (i > 0)
			rc = cp_buf_adds(out, ", ");
		if (rc == CP_OK)
			rc = cp_buf_adds(out, j->rcpts[i]);
	}
	if (rc == CP_OK && out->data == NULL)
		rc = cp_buf_adds(out, "");
	return rc;
}

/* Everything inside one batch: nothing of it stays unless all of it does. */
static int
in_commit(in_ctx *x, cp_err *err)
{
	const cp_conf *c = &x->j->set->conf;
	cp_inbound in;
	cp_buf rcpts;
	int rc;

	cp_buf_init(&rcpts, CP_STORE_INBOUND_RCPTS_MAX);
	if ((rc = in_rcpt_list(x->j, &rcpts)) != CP_OK) {
		cp_buf_free(&rcpts);
		return cp_err_set(err, rc, "inbound: recipients do not fit");
	}
	memset(&in, 0, sizeof(in));
	in.received = x->j->received;
	in.client = x->j->client;
	in.helo = x->j->helo;
	in.mail_from = x->j->mail_from;
	in.rcpt_to = rcpts.data;
	if ((rc = cp_store_begin(x->s->store, err)) != CP_OK) {
		cp_buf_free(&rcpts);
		return rc;
	}
	rc = cp_store_insert_inbound(x->s->store, &in, x->j->body.data,
	    x->j->body.len, err);
	x->id = in.id;
	for (size_t i = 0; rc == CP_OK && i < x->j->nrcpts; i++) {
		net_in_rcpt t;

		switch (net_inbound_classify(x->j->rcpts[i], c->bounce.domain,
		    c->bounce.verp_prefix, x->s->secret, x->s->secret_len,
		    &t)) {
		case NET_IN_VERP:
			rc = in_report(x, t.rcpt, err);
			break;
		case NET_IN_UNSUB:
			rc = in_unsub(x, &t, err);
			break;
		case NET_IN_POSTMASTER:
			/* for a person: kept raw, logged, nothing acted on */
			x->npostmaster++;
			in_result(x, "<%s>: kept for the operator",
			    x->j->rcpts[i]);
			cp_log(CP_LOG_WARN, "inbound", "inbound=%" PRId64
			    " mail to <%s> from <%s>: kept in the store for "
			    "the operator", x->id, x->j->rcpts[i],
			    x->j->mail_from);
			break;
		default: /* a reload changed the bounce domain meanwhile */
			in_result(x, "<%s>: no longer ours", x->j->rcpts[i]);
			break;
		}
		if (rc == CP_EINVAL || rc == CP_ETOOBIG) {
			/* what the report says does not fit the store: keep
			   the message and say so rather than refuse it forever
			   (the failed call left nothing; the batch goes on) */
			in_result(x, "<%s>: not recorded: %.200s",
			    x->j->rcpts[i], err->msg);
			cp_log(CP_LOG_WARN, "inbound", "inbound=%" PRId64
			    " <%s>: not recorded: %s", x->id, x->j->rcpts[i],
			    err->msg);
			memset(err, 0, sizeof(*err));
			rc = CP_OK;
		}
	}
	if (rc == CP_OK && x->b != NULL && x->b->notes[0] != '\0')
		in_result(x, "notes: %.300s", x->b->notes);
	if (rc == CP_OK)
		rc = cp_store_finish_inbound(x->s->store, x->id, in_kind(x),
		    x->result.data ? x->result.data : "", x->now, err);
	if (rc == CP_OK)
		rc = cp_store_commit(x->s->store, err);
	else
		cp_store_rollback(x->s->store);
	cp_buf_free(&rcpts);
	return rc;
}

void
net_inbound_work(net_server *s, net_job *j, cp_bounce_parser **parser)
{
	in_ctx x;
	cp_err err = { 0 };
	int rc;

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.j = j;
	x.now = (int64_t)time(NULL);
	cp_buf_init(&x.result, CP_STORE_INBOUND_RCPTS_MAX);
	if (j->mail_from == NULL && (j->mail_from = cp_strdup("")) == NULL) {
		snprintf(j->text, sizeof(j->text), "Insufficient system "
		    "resources");
		j->verdict = CP_SMTPD_TEMPFAIL;
		j->code = 451;
		snprintf(j->enhanced, sizeof(j->enhanced), "4.3.0");
		cp_buf_free(&x.result);
		return;
	}
	if (*parser == NULL)
		*parser = cp_bounce_parser_new(&err);
	if (*parser != NULL && j->body.len > 0 && cp_bounce_parse(*parser,
	    j->body.data, j->body.len, &x.b, &err) != CP_OK) {
		in_result(&x, "unreadable: %.200s", err.msg);
		x.b = NULL;
	} else if (*parser == NULL)
		in_result(&x, "not read: %.200s", err.msg);
	memset(&err, 0, sizeof(err));
	rc = in_commit(&x, &err);
	if (rc != CP_OK) {
		cp_log(CP_LOG_ERR, "inbound", "client=%s from=<%s> not stored: "
		    "%s", j->client, j->mail_from, err.msg);
		j->verdict = CP_SMTPD_TEMPFAIL;
		j->code = 451;
		snprintf(j->enhanced, sizeof(j->enhanced), "4.3.0");
		snprintf(j->text, sizeof(j->text), "Temporary failure storing "
		    "the message");
		j->id = 0;
	} else {
		j->verdict = CP_SMTPD_ACCEPT;
		j->id = x.id;
		cp_log(CP_LOG_INFO, "inbound", "inbound=%" PRId64 " client=%s "
		    "from=<%s> nrcpts=%zu size=%zu kind=%s family=%s msgid=%s "
		    "bounces=%d complaints=%d unsubscribes=%d suppressed=%d",
		    x.id, j->client, j->mail_from, j->nrcpts, j->body.len,
		    in_kind(&x), x.b && x.b->family[0] ? x.b->family : "-",
		    x.b && x.b->message_id[0] ? x.b->message_id : "-",
		    x.nbounce, x.ncomplaint, x.nunsub, x.nsuppressed);
	}
	cp_buf_free(&x.result);
}

/* ---- outgoing: List-Unsubscribe (a signer thread, before signing) ------ */

static int
in_scan_unsub(void *arg, const char *field, size_t len)
{
	size_t nlen = cp_msg_field_name(field, len);

	if (nlen == 16 && strncasecmp(field, "list-unsubscribe", 16) == 0)
		(*(int *)arg)++;
	return 0;
}

void
net_unsub_add(net_server *s, net_job *j)
{
	const cp_conf *c = &j->set->conf;
	char local[96], mailto[96 + CP_STORE_DOMAIN_MAX + 2];
	char token[CP_UNSUB_TOKEN_MAX], https[CP_UNSUB_TOKEN_MAX + 280];
	cp_msg_split sp;
	cp_buf f;
	cp_err err = { 0 };
	size_t off;
	int on = 0, has = 0;

	j->unsub_added = 0;
	if (c->bounce.domain[0] == '\0' || s->secret_len == 0 ||
	    j->tenant <= 0 || j->nrcpts != 1)
		return; /* one token per message: only a message to one */
	if (cp_store_get_tenant_unsubscribe(s->store, j->tenant, &on, &err) !=
	    CP_OK) {
		cp_log(CP_LOG_WARN, "smtpd", "tenant=%lld unsubscribe setting "
		    "unknown: %s", (long long)j->tenant, err.msg);
		return;
	}
	if (!on)
		return;
	cp_msg_split_init(&sp, 0);
	if (cp_msg_split_feed(&sp, j->body.data ? j->body.data : "",
	    j->body.len, &off, in_scan_unsub, &has, NULL) == CP_OK && !sp.done)
		cp_msg_split_end(&sp, in_scan_unsub, &has, NULL);
	cp_msg_split_clear(&sp);
	if (has > 0)
		return; /* the sender's own stays */
	if (net_unsub_make(s->secret, s->secret_len, j->tenant, j->rcpts[0],
	    local, sizeof(local)) != CP_OK)
		return;
	snprintf(mailto, sizeof(mailto), "%s@%s", local, c->bounce.domain);
	https[0] = '\0';
	if (c->bounce.unsubscribe_url[0] != '\0' && s->unsub_key_len > 0 &&
	    cp_unsub_make_token(s->unsub_key, s->unsub_key_len, j->tenant,
	    j->rcpts[0], token, sizeof(token), &err) == CP_OK)
		snprintf(https, sizeof(https), "%.250s/unsubscribe/%s",
		    c->bounce.unsubscribe_url, token);
	cp_buf_init(&f, 4096);
	if (net_unsub_fields(mailto, https, &f) == CP_OK &&
	    net_insert_fields(&j->body, f.data, f.len) == CP_OK)
		j->unsub_added = 1;
	cp_buf_free(&f);
}
