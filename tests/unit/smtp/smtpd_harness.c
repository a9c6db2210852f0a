/*
 * smtpd_harness.c - the smtpd tests' stand-in for the net layer (see
 * smtpd_harness.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cptest.h"
#include "smtpd_harness.h"

static int64_t
h_clock(void *arg)
{
	(void)arg;
	return H_NOW;
}

void
h_init(h_session *h)
{
	memset(h, 0, sizeof(*h));
	cp_smtpd_conf_init(&h->conf);
	h->conf.hostname = "mx.test";
	h->conf.tls_available = 1;
	h->conf.clock = h_clock;
	h->peer.addr = "192.0.2.10";
	h->peer.name = "client.example";
	h->auto_tls = 1;
	cp_buf_init(&h->out, 1 << 24);
	cp_buf_init(&h->msg, 1 << 26);
	cp_buf_init(&h->last, 1 << 26);
	cp_buf_init(&h->log, 1 << 20);
}

void
h_free(h_session *h)
{
	cp_smtpd_conn_free(h->c);
	cp_buf_free(&h->out);
	cp_buf_free(&h->msg);
	cp_buf_free(&h->last);
	cp_buf_free(&h->log);
}

void
h_rule_add(h_session *h, int type, const char *match, int verdict, int code,
    const char *enh, const char *text)
{
	h_rule *r = &h->rules[h->nrules++];

	memset(r, 0, sizeof(*r));
	r->type = type;
	r->match = match;
	r->answer.verdict = verdict;
	r->answer.code = code;
	r->answer.enhanced = enh;
	r->answer.text = text;
}

static void
log_add(h_session *h, const char *s)
{
	if (h->log.len > 0)
		cp_buf_adds(&h->log, "; ");
	cp_buf_adds(&h->log, s);
}

static void
log_event(h_session *h, const cp_smtpd_event *ev)
{
	char tmp[256];

	switch (ev->type) {
	case CP_SMTPD_EV_HELO:
		snprintf(tmp, sizeof(tmp), "%s %s", ev->esmtp ? "EHLO" : "HELO",
		    ev->helo);
		break;
	case CP_SMTPD_EV_AUTH:
		snprintf(tmp, sizeof(tmp), "AUTH %s [%s] %s %s", ev->mech,
		    ev->authzid, ev->user, ev->pass);
		break;
	case CP_SMTPD_EV_MAIL: {
		char size[32] = "";

		if (ev->size)
			snprintf(size, sizeof(size), " size=%llu",
			    (unsigned long long)ev->size);
		snprintf(tmp, sizeof(tmp), "MAIL <%s>%s%s%s", ev->addr, size,
		    ev->body == CP_SMTPD_BODY_8BITMIME ? " 8bitmime" :
		    ev->body == CP_SMTPD_BODY_7BIT ? " 7bit" : "",
		    ev->smtputf8 ? " smtputf8" : "");
		break;
	}
	case CP_SMTPD_EV_RCPT:
		snprintf(tmp, sizeof(tmp), "RCPT <%s> #%zu", ev->addr, ev->n);
		break;
	case CP_SMTPD_EV_DATA:
		snprintf(tmp, sizeof(tmp), "DATA %zu", ev->n);
		break;
	case CP_SMTPD_EV_DATA_CHUNK:
		return; /* chunking varies; the message is checked whole */
	case CP_SMTPD_EV_DATA_END:
		snprintf(tmp, sizeof(tmp), "DATA_END %llu",
		    (unsigned long long)ev->size);
		break;
	case CP_SMTPD_EV_DELAY:
		snprintf(tmp, sizeof(tmp), "DELAY %u", ev->delay_ms);
		break;
	case CP_SMTPD_EV_RSET:
	case CP_SMTPD_EV_CLOSE:
		snprintf(tmp, sizeof(tmp), "%s %s", cp_smtpd_event_name(ev->type),
		    cp_smtpd_reason_name(ev->reason));
		break;
	case CP_SMTPD_EV_ERROR:
		snprintf(tmp, sizeof(tmp), "ERROR %s%s",
		    cp_smtpd_reason_name(ev->reason), ev->fatal ? " fatal" : "");
		break;
	default:
		snprintf(tmp, sizeof(tmp), "%s", cp_smtpd_event_name(ev->type));
		break;
	}
	log_add(h, tmp);
}

static const char *
subject_of(const cp_smtpd_event *ev)
{
	if (ev->type == CP_SMTPD_EV_AUTH)
		return ev->user;
	if (ev->type == CP_SMTPD_EV_HELO)
		return ev->helo;
	return ev->addr ? ev->addr : "";
}

static void
decide(h_session *h, const cp_smtpd_event *ev, cp_smtpd_answer *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < h->nrules; i++) {
		const h_rule *r = &h->rules[i];

		if (r->type == ev->type &&
		    (r->match == NULL || strstr(subject_of(ev), r->match))) {
			*a = r->answer;
			return;
		}
	}
	if (ev->type == CP_SMTPD_EV_AUTH &&
	    (strcmp(ev->user, "alice") != 0 || strcmp(ev->pass, "secret") != 0))
		a->verdict = CP_SMTPD_REJECT;
	if (ev->type == CP_SMTPD_EV_MAIL) {
		snprintf(h->qid, sizeof(h->qid), "Q%u", ++h->qseq);
		a->queue_id = h->qid;
	}
}

static void
drain(h_session *h)
{
	const char *p;
	size_t n;

	if (h->no_drain)
		return;
	while ((n = cp_smtpd_conn_output(h->c, &p)) > 0) {
		cp_buf_add(&h->out, p, n);
		cp_smtpd_conn_consumed(h->c, n);
	}
}

void
h_pump(h_session *h)
{
	cp_smtpd_event ev;
	cp_smtpd_answer a;
	const char *p;
	int progress = 1;

	while (progress) {
		progress = 0;
		while (cp_smtpd_conn_next_event(h->c, &ev) != CP_SMTPD_EV_NONE) {
			progress = 1;
			log_event(h, &ev);
			if (ev.type == CP_SMTPD_EV_DATA_CHUNK) {
				CP_CHECK(ev.len > 0 &&
				    ev.len <= h->conf.data_chunk_size,
				    "chunk of %zu bytes", ev.len);
				if (ev.len > h->max_chunk)
					h->max_chunk = ev.len;
				h->nchunks++;
				cp_buf_add(&h->msg, ev.data, ev.len);
			} else if (ev.type == CP_SMTPD_EV_DATA_END) {
				cp_buf_reset(&h->last);
				cp_buf_add(&h->last, h->msg.data ? h->msg.data : "",
				    h->msg.len);
				cp_buf_reset(&h->msg);
			} else if (ev.type == CP_SMTPD_EV_RSET) {
				cp_buf_reset(&h->msg);
			} else if (ev.type == CP_SMTPD_EV_STARTTLS &&
			    h->auto_tls) {
				drain(h); /* the 220 goes out in the clear */
				cp_smtpd_conn_tls_started(h->c, "TLSv1.3",
				    "TLS_AES_256_GCM_SHA384");
			}
			if (ev.need_answer) {
				if (h->manual) {
					h->pending = ev;
					h->has_pending = 1;
					continue;
				}
				decide(h, &ev, &a);
				cp_smtpd_conn_answer(h->c, &a);
			}
		}
		if (!h->no_drain && cp_smtpd_conn_output(h->c, &p) > 0) {
			drain(h);
			progress = 1;
		}
	}
}

void
h_start(h_session *h)
{
	h->c = cp_smtpd_conn_new(&h->conf, &h->peer);
	CP_CHECK(h->c != NULL, "cp_smtpd_conn_new");
	if (h->c == NULL)
		exit(1);
	h_pump(h);
}

void
h_answer(h_session *h, const cp_smtpd_answer *a)
{
	CP_CHECK(h->has_pending, "no pending event to answer");
	h->has_pending = 0;
	cp_smtpd_conn_answer(h->c, a);
	h_pump(h);
}

void
h_feedn(h_session *h, const char *s, size_t n)
{
	while (n > 0) {
		size_t room = cp_smtpd_conn_input_room(h->c), k = CP_MIN(n, room);

		if (cp_smtpd_conn_closed(h->c))
			k = n;
		if (k == 0) {
			CP_CHECK(0, "input full with %zu bytes left to feed", n);
			return;
		}
		CP_CHECK(cp_smtpd_conn_feed(h->c, s, k) == CP_OK, "feed");
		s += k;
		n -= k;
		h_pump(h);
	}
}

void
h_feed(h_session *h, const char *s)
{
	h_feedn(h, s, strlen(s));
}

const char *
h_replies(h_session *h)
{
	static char *last;

	free(last);
	last = strdup(h->out.data ? h->out.data : "");
	cp_buf_reset(&h->out);
	return last;
}

const char *
h_events(h_session *h)
{
	static char *last;

	free(last);
	last = strdup(h->log.data ? h->log.data : "");
	cp_buf_reset(&h->log);
	return last;
}

const char *
h_esc(const char *s)
{
	static char bufs[4][8192];
	static int k;
	char *b = bufs[k++ % 4];
	size_t n = 0;

	for (; *s && n < sizeof(bufs[0]) - 5; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\r')
			n += (size_t)snprintf(b + n, 3, "\\r");
		else if (ch == '\n')
			n += (size_t)snprintf(b + n, 3, "\\n");
		else if (ch < 32 || ch >= 127)
			n += (size_t)snprintf(b + n, 5, "\\x%02x", ch);
		else
			b[n++] = (char)ch;
	}
	b[n] = '\0';
	return b;
}
