/*
 * net_answer.c - the submission server's answers to the smtpd core's
 * events (coldpost/smtpd.h), on the loop thread: the policy of RFC 6409
 * 4.3 and 6.1 and of this relay (no open relay), and the jobs handed to
 * the workers when an answer needs the store or a signature.
 *
 * AUTH goes to a worker (Argon2id); MAIL FROM of an authenticated session
 * must be the mailbox's address (or of its domain when the mailbox may
 * send as the domain), else 553 5.7.1; a client in
 * submission.trusted_networks needs no AUTH but must use a domain the
 * store knows, which names the tenant, else 550 5.7.1; anyone else gets
 * 530 5.7.0. Addresses the queue could not keep are refused at once
 * (553 5.1.3 / 5.1.7) instead of failing at the commit. The message is
 * spooled in one buffer that moves, without a copy, to the signer, the
 * writer and delivery; the 250 comes back from the writer after the
 * commit (net_work.c). The socket side is net_session.c's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "net/net_int.h"

/* ---- the transaction ----------------------------------------------------- */

void
net_txn_reset(net_session *ss)
{
	cp_free(ss->mail_from);
	ss->mail_from = NULL;
	for (size_t i = 0; i < ss->nrcpts; i++)
		cp_free(ss->rcpts[i]);
	cp_free(ss->rcpts);
	ss->rcpts = NULL;
	ss->nrcpts = ss->caprcpts = 0;
	cp_buf_free(&ss->spool);
	ss->spool_failed = 0;
	ss->tenant = ss->mailbox = 0;
	ss->fallback[0] = '\0';
}

static int
txn_add_rcpt(net_session *ss, const char *addr)
{
	char *dup;

	if (ss->nrcpts == ss->caprcpts) {
		size_t cap = ss->caprcpts ? ss->caprcpts * 2 : 8;
		char **v = cp_realloc(ss->rcpts, cap * sizeof(*v));

		if (v == NULL)
			return CP_ENOMEM;
		ss->rcpts = v;
		ss->caprcpts = cap;
	}
	if ((dup = cp_strdup(addr)) == NULL)
		return CP_ENOMEM;
	ss->rcpts[ss->nrcpts++] = dup;
	return CP_OK;
}

/* ---- answers -------------------------------------------------------------- */

void
net_answer(net_session *ss, int verdict, int code, const char *enh,
    const char *text)
{
	cp_smtpd_answer a;

	memset(&a, 0, sizeof(a));
	a.verdict = verdict;
	a.code = code;
	a.enhanced = enh && enh[0] ? enh : NULL;
	a.text = text && text[0] ? text : NULL;
	cp_smtpd_conn_answer(ss->c, &a);
}

void
net_refuse(net_session *ss, const char *module, const char *what,
    int verdict, int code, const char *enh, const char *text)
{
	net_stat_add(&ss->srv->stats.rejected, 1);
	cp_log(CP_LOG_INFO, module, "session=%llu client=%s refused %s: "
	    "%d %s %s", (unsigned long long)ss->id, ss->addr, what, code,
	    enh, text);
	net_answer(ss, verdict, code, enh, text);
}


static void
mail_accept(net_session *ss, const char *addr, int64_t tenant,
    int64_t mailbox, const char *fallback)
{
	if ((ss->mail_from = cp_strdup(addr)) == NULL) {
		net_answer(ss, CP_SMTPD_TEMPFAIL, 452, "4.3.1",
		    "Insufficient system resources");
		return;
	}
	ss->tenant = tenant;
	ss->mailbox = mailbox;
	snprintf(ss->fallback, sizeof(ss->fallback), "%s", fallback);
	net_answer(ss, CP_SMTPD_ACCEPT, 0, NULL, NULL);
}

/* A trusted client's sender domain: known (tenant > 0) or not. */
static void
mail_domain_known(net_session *ss, const char *addr, const char *domain,
    int64_t tenant)
{
	char text[400];

	if (tenant > 0) {
		mail_accept(ss, addr, tenant, 0, domain);
		return;
	}
	snprintf(text, sizeof(text), "<%s>: Sender address rejected: domain "
	    "%s is not a sending domain of this relay (trusted clients must "
	    "use one)", addr, domain);
	net_refuse(ss, "smtpd", "MAIL", CP_SMTPD_REJECT, 550, "5.7.1", text);
}

/* Can the store keep this address? (local part 1..64, a domain, 254
 * bytes: what delivery can use); text gets the refusal otherwise. */
static int
addr_storable(const char *addr, const char *what, char *text, size_t len)
{
	cp_err err = { 0 };

	if (cp_store_check_address(addr, strlen(addr), what, &err) == CP_OK)
		return 1;
	snprintf(text, len, "<%.254s>: %s address rejected: %.100s", addr,
	    what[0] == 'r' ? "Recipient" : "Sender", err.msg);
	return 0;
}

/* ---- jobs ----------------------------------------------------------------- */

static net_job *
job_new(net_session *ss, int type)
{
	net_job *j = cp_calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->type = type;
	j->sess = ss;
	j->set = net_settings_ref(ss->set);
	ss->jobs++;
	return j;
}

static void
on_auth(net_session *ss, const cp_smtpd_event *ev)
{
	net_job *j;

	snprintf(ss->user, sizeof(ss->user), "%s", ev->user);
	if (ev->authzid[0] != '\0' && strcasecmp(ev->authzid, ev->user) != 0) {
		/* RFC 4616 2: acting for someone else is not allowed here */
		net_stat_add(&ss->srv->stats.auth_failed, 1);
		cp_log(CP_LOG_INFO, "smtpd", "session=%llu client=%s auth "
		    "user=%s failed: authzid %s refused",
		    (unsigned long long)ss->id, ss->addr, ev->user,
		    ev->authzid);
		net_answer(ss, CP_SMTPD_REJECT, 0, NULL, NULL);
		return;
	}
	if ((j = job_new(ss, NET_JOB_AUTH)) == NULL ||
	    (j->user = cp_strdup(ev->user)) == NULL ||
	    (j->pass = cp_strdup(ev->pass)) == NULL) {
		if (j != NULL) {
			ss->jobs--;
			net_job_free(j);
		}
		net_answer(ss, CP_SMTPD_TEMPFAIL, 454, "4.7.0",
		    "Temporary authentication failure");
		return;
	}
	j->passlen = strlen(ev->pass);
	net_queue_push(&ss->srv->work, j);
}

static void
auth_done(net_session *ss, net_job *j)
{
	cp_smtpd_answer a;

	memset(&a, 0, sizeof(a));
	a.verdict = j->verdict;
	a.code = j->code;
	a.enhanced = j->enhanced[0] ? j->enhanced : NULL;
	a.text = j->text[0] ? j->text : NULL;
	if (j->verdict == CP_SMTPD_ACCEPT) {
		ss->authenticated = 1;
		ss->login = j->login;
		a.user = ss->login.address;
		net_stat_add(&ss->srv->stats.auth_ok, 1);
		cp_log(CP_LOG_INFO, "smtpd", "session=%llu client=%s auth "
		    "user=%s ok mailbox=%lld tenant=%lld",
		    (unsigned long long)ss->id, ss->addr, j->user,
		    (long long)j->login.mailbox, (long long)j->login.tenant);
	} else {
		net_stat_add(&ss->srv->stats.auth_failed, 1);
		cp_log(CP_LOG_INFO, "smtpd", "session=%llu client=%s auth "
		    "user=%s failed%s", (unsigned long long)ss->id, ss->addr,
		    j->user, j->verdict == CP_SMTPD_TEMPFAIL ?
		    " (temporary)" : "");
	}
	cp_smtpd_conn_answer(ss->c, &a);
}

static void
on_mail(net_session *ss, const cp_smtpd_event *ev)
{
	net_identity id = { ss->authenticated, ss->trusted,
		ss->authenticated ? ss->login.address : NULL,
		ss->login.send_as_domain };
	char text[512], dom[CP_STORE_DOMAIN_MAX + 1];
	net_domain d;
	net_job *j;

	switch (net_sender_check(&id, ev->addr)) {
	case NET_SENDER_OK:
		mail_accept(ss, ev->addr, ss->login.tenant, ss->login.mailbox,
		    ss->login.domain);
		return;
	case NET_SENDER_NEED_AUTH:
		net_refuse(ss, "smtpd", "MAIL", CP_SMTPD_REJECT, 530, "5.7.0",
		    "Authentication required");
		return;
	case NET_SENDER_NOT_MAILBOX:
		snprintf(text, sizeof(text), "<%s>: Sender address rejected: "
		    "not owned by user %s (a mailbox sends only as its own "
		    "address%s)", ev->addr, ss->login.address,
		    ss->login.send_as_domain ? " or its domain's" : "");
		net_refuse(ss, "smtpd", "MAIL",
		    CP_SMTPD_REJECT, 553, "5.7.1", text);
		return;
	case NET_SENDER_NULL:
		snprintf(text, sizeof(text), "<%s>: Sender address rejected: "
		    "trusted clients must use an address of a sending domain "
		    "of this relay", ev->addr);
		net_refuse(ss, "smtpd", "MAIL",
		    CP_SMTPD_REJECT, 550, "5.7.1", text);
		return;
	default:
		break;
	}
	if (!addr_storable(ev->addr, "sender", text, sizeof(text))) {
		net_refuse(ss, "smtpd", "MAIL",
		    CP_SMTPD_REJECT, 553, "5.1.7", text);
		return;
	}
	net_addr_domain(ev->addr, dom, sizeof(dom));
	if (net_cache_domain(ss->srv->cache, dom, 0, 0, &d, NULL) == 1) {
		mail_domain_known(ss, ev->addr, dom, d.found ? d.tenant : 0);
		return;
	}
	if ((j = job_new(ss, NET_JOB_DOMAIN)) == NULL) {
		net_answer(ss, CP_SMTPD_TEMPFAIL, 451, "4.3.0",
		    "Temporary failure, try again");
		return;
	}
	snprintf(j->domain, sizeof(j->domain), "%s", dom);
	snprintf(ss->pend_from, sizeof(ss->pend_from), "%s", ev->addr);
	net_queue_push(&ss->srv->work, j);
}

static void
domain_done(net_session *ss, net_job *j)
{
	if (j->verdict != CP_SMTPD_ACCEPT)
		net_refuse(ss, "smtpd", "MAIL",
		    j->verdict, j->code, j->enhanced, j->text);
	else
		mail_domain_known(ss, ss->pend_from, j->domain, j->tenant);
}

void
net_accept_rcpt(net_session *ss, const char *addr)
{
	if (txn_add_rcpt(ss, addr) != CP_OK) {
		net_answer(ss, CP_SMTPD_TEMPFAIL, 452, "4.3.1",
		    "Insufficient system resources");
		return;
	}
	net_answer(ss, CP_SMTPD_ACCEPT, 0, NULL, NULL);
}

static void
on_rcpt(net_session *ss, const cp_smtpd_event *ev)
{
	char text[400];

	if (ss->mail_from == NULL || (!ss->authenticated && !ss->trusted)) {
		/* the core keeps the order; this only guards the relay */
		net_refuse(ss, "smtpd", "RCPT", CP_SMTPD_REJECT, 530, "5.7.0",
		    "Authentication required");
		return;
	}
	if (!addr_storable(ev->addr, "recipient", text, sizeof(text))) {
		/* the queue keeps only what it can deliver (RFC 3463 5.1.3) */
		net_refuse(ss, "smtpd", "RCPT",
		    CP_SMTPD_REJECT, 553, "5.1.3", text);
		return;
	}
	if (ss->srv->rcpt_check != NULL) {
		/* the policy reads the store: on a worker, never here */
		net_job *j = job_new(ss, NET_JOB_RCPT);

		if (j == NULL) {
			net_answer(ss, CP_SMTPD_TEMPFAIL, 451, "4.3.0",
			    "Temporary failure, try again");
			return;
		}
		snprintf(j->rcpt, sizeof(j->rcpt), "%s", ev->addr);
		j->tenant = ss->tenant;
		j->mailbox = ss->mailbox;
		net_queue_push(&ss->srv->work, j);
		return;
	}
	net_accept_rcpt(ss, ev->addr);
}

static void
rcpt_done(net_session *ss, net_job *j)
{
	if (j->verdict != CP_SMTPD_ACCEPT)
		net_refuse(ss, "smtpd", "RCPT",
		    j->verdict, j->code, j->enhanced, j->text);
	else
		net_accept_rcpt(ss, j->rcpt);
}

static void
on_data(net_session *ss)
{
	const cp_smtpd_conf *sc = &ss->set->sconf;

	cp_buf_free(&ss->spool);
	/* the message, the Received field and the signature in front */
	cp_buf_init(&ss->spool, sc->max_message_size + sc->max_header_size +
	    64 * 1024);
	ss->spool_failed = cp_buf_reserve(&ss->spool, 16 * 1024) != CP_OK;
	net_answer(ss, CP_SMTPD_ACCEPT, 0, NULL, NULL);
}

static void
on_data_end(net_session *ss, const cp_smtpd_event *ev)
{
	net_job *j;

	if (ss->spool_failed || (j = job_new(ss, NET_JOB_MESSAGE)) == NULL) {
		net_refuse(ss, "smtpd", "DATA", CP_SMTPD_TEMPFAIL, 452, "4.3.1",
		    "Insufficient system storage");
		return;
	}
	j->body = ss->spool; /* moves */
	cp_buf_init(&ss->spool, 0);
	j->mail_from = ss->mail_from;
	ss->mail_from = NULL;
	j->rcpts = ss->rcpts;
	j->nrcpts = ss->nrcpts;
	ss->rcpts = NULL;
	ss->nrcpts = ss->caprcpts = 0;
	j->tenant = ss->tenant;
	j->mailbox = ss->mailbox;
	snprintf(j->fallback, sizeof(j->fallback), "%s", ss->fallback);
	j->received = (int64_t)time(NULL);
	j->size = ev->size;
	j->id = 0;
	j->verdict = CP_SMTPD_TEMPFAIL;
	net_queue_push(&ss->srv->work, j);
}

static void
message_done(net_session *ss, net_job *j)
{
	char qid[32];
	cp_smtpd_answer a;

	if (j->verdict != CP_SMTPD_ACCEPT) {
		net_refuse(ss, "smtpd", "DATA",
		    j->verdict, j->code, j->enhanced, j->text);
		return;
	}
	net_stat_add(&ss->srv->stats.messages, 1);
	net_stat_add(&ss->srv->stats.recipients, j->nrcpts);
	if (j->sign_d[0] == '\0')
		cp_log(CP_LOG_WARN, "dkim", "id=%lld stored unsigned: %s",
		    (long long)j->id, j->unsigned_why);
	cp_log(CP_LOG_INFO, "smtpd", "id=%lld session=%llu client=%s "
	    "from=<%s> nrcpts=%zu size=%llu msgid=%s dkim=%s%s%s%s%s",
	    (long long)j->id, (unsigned long long)ss->id, ss->addr,
	    j->mail_from, j->nrcpts, (unsigned long long)j->size,
	    j->message_id ? j->message_id :
	    "", j->sign_d[0] ? "d=" : "none", j->sign_d,
	    j->sign_d[0] ? " s=" : "", j->sign_s, j->leased ? " handed" : "");
	snprintf(qid, sizeof(qid), "%lld", (long long)j->id);
	memset(&a, 0, sizeof(a));
	a.verdict = CP_SMTPD_ACCEPT;
	a.queue_id = qid;
	cp_smtpd_conn_answer(ss->c, &a);
}

void
net_session_job_done(net_server *s, net_job *j)
{
	net_session *ss = j->sess;

	if (ss == NULL) { /* cp_server_inject's: no session */
		net_inject_finish(s, j);
		return;
	}
	ss->jobs--;
	if (ss->dead || ss->c == NULL || ss->closing) {
		if (j->type == NET_JOB_MESSAGE && j->verdict == CP_SMTPD_ACCEPT)
			cp_log(CP_LOG_INFO, "smtpd", "id=%lld from=<%s> "
			    "stored, but the client left before the reply",
			    (long long)j->id, j->mail_from);
		net_job_free(j);
		if (ss->dead && ss->jobs == 0)
			net_session_free_dead(ss);
		return;
	}
	switch (j->type) {
	case NET_JOB_AUTH:
		auth_done(ss, j);
		break;
	case NET_JOB_DOMAIN:
		domain_done(ss, j);
		break;
	case NET_JOB_RCPT:
		rcpt_done(ss, j);
		break;
	case NET_JOB_MESSAGE:
		message_done(ss, j);
		break;
	case NET_JOB_INBOUND:
		net_inbound_done(ss, j);
		break;
	}
	net_job_free(j);
	net_session_pump(ss);
}

/* ---- events of the core ---------------------------------------------------- */

void
net_session_handle(net_session *ss, const cp_smtpd_event *ev)
{
	if (ss->inbound && (ev->type == CP_SMTPD_EV_HELO ||
	    ev->type == CP_SMTPD_EV_AUTH || ev->type == CP_SMTPD_EV_MAIL ||
	    ev->type == CP_SMTPD_EV_RCPT || ev->type == CP_SMTPD_EV_DATA_END)) {
		net_inbound_handle(ss, ev); /* the bounce listener's policy */
		return;
	}
	switch (ev->type) {
	case CP_SMTPD_EV_GREETING:
		if (ss->srv->draining)
			net_answer(ss, CP_SMTPD_TEMPFAIL, 421, "4.3.2",
			    "Service shutting down");
		else
			net_answer(ss, CP_SMTPD_ACCEPT, 0, NULL, NULL);
		break;
	case CP_SMTPD_EV_HELO:
		net_answer(ss, CP_SMTPD_ACCEPT, 0, NULL, NULL);
		break;
	case CP_SMTPD_EV_STARTTLS:
		net_session_flush(ss); /* the 220 goes out in the clear */
		net_session_start_tls(ss);
		break;
	case CP_SMTPD_EV_AUTH:
		on_auth(ss, ev);
		break;
	case CP_SMTPD_EV_MAIL:
		on_mail(ss, ev);
		break;
	case CP_SMTPD_EV_RCPT:
		on_rcpt(ss, ev);
		break;
	case CP_SMTPD_EV_DATA:
		on_data(ss);
		break;
	case CP_SMTPD_EV_DATA_CHUNK:
		if (!ss->spool_failed &&
		    cp_buf_add(&ss->spool, ev->data, ev->len) != CP_OK)
			ss->spool_failed = 1;
		break;
	case CP_SMTPD_EV_DATA_END:
		on_data_end(ss, ev);
		break;
	case CP_SMTPD_EV_RSET:
		net_txn_reset(ss);
		break;
	case CP_SMTPD_EV_DELAY:
		net_session_delay(ss, ev->delay_ms);
		break;
	case CP_SMTPD_EV_ERROR:
		cp_log(CP_LOG_INFO, "smtpd", "session=%llu client=%s limit: %s%s",
		    (unsigned long long)ss->id, ss->addr,
		    cp_smtpd_reason_name(ev->reason),
		    ev->fatal ? " (disconnecting)" : "");
		break;
	case CP_SMTPD_EV_QUIT:
		break;
	case CP_SMTPD_EV_CLOSE:
		ss->closing = 1;
		ss->close_reason = ev->reason;
		break;
	}
}
