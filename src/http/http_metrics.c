/*
 * http_metrics.c - /metrics in the Prometheus text exposition format
 * (version 0.0.4: "# HELP", "# TYPE", then `name{label="v"} value` lines;
 * label values escape backslash, double quote and newline).
 *
 * Sources: the queue counted in the store (recipients by state), the
 * server's and the delivery engine's counters, the store's commit count,
 * this module's request counters, the outcomes the delivery observer
 * (cp_http_observe) saw since start, by outcome, cause family and
 * receiver (provider), and two latency histograms: the store's commits
 * and the DNS round trips of the process's resolvers.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/dns.h"
#include "coldpost/hist.h"
#include "coldpost/store.h"
#include "http/http_int.h"

#define OUTCOME_KEYS_MAX 4096 /* distinct (outcome, cause, receiver) kept */

void
http_metrics_init(http_metrics *m)
{
	pthread_mutex_init(&m->mu, NULL);
	m->outcomes = json_object();
}

void
http_metrics_clear(http_metrics *m)
{
	json_decref(m->outcomes);
	m->outcomes = NULL;
	pthread_mutex_destroy(&m->mu);
}

/* A token safe in a label and in our "a|b|c" key: [A-Za-z0-9._:-]. */
static void
label_token(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; in != NULL && *in != '\0' && o + 1 < outlen; in++) {
		char c = *in;

		out[o++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == ':') ? c : '_';
	}
	out[o] = '\0';
}

void
cp_http_observe(void *arg, const cp_deliver_event *ev)
{
	cp_http *h = arg;
	char cause[64], recv[64], key[160];
	json_t *n;

	if (h == NULL || ev == NULL || ev->attempt == NULL)
		return;
	label_token(ev->attempt->cause, cause, sizeof(cause));
	label_token(ev->attempt->receiver, recv, sizeof(recv));
	snprintf(key, sizeof(key), "%s|%s|%s",
	    cp_rcpt_state_name(ev->attempt->outcome), cause, recv);
	pthread_mutex_lock(&h->metrics.mu);
	n = json_object_get(h->metrics.outcomes, key);
	if (n != NULL)
		json_integer_set(n, json_integer_value(n) + 1);
	else if (json_object_size(h->metrics.outcomes) < OUTCOME_KEYS_MAX)
		json_object_set_new(h->metrics.outcomes, key,
		    json_integer(1));
	pthread_mutex_unlock(&h->metrics.mu);
}

static int
head(cp_buf *b, const char *name, const char *type, const char *help)
{
	return cp_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static int
render_queue(cp_http *h, cp_buf *b, int64_t now)
{
	cp_queue_counts qc;
	int rc;

	if (cp_store_count_queue(h->store, 0, now, &qc, NULL) != CP_OK)
		return CP_OK; /* the store is busy: leave the family out */
	rc = head(b, "coldpost_queue_recipients", "gauge",
	    "Recipients in the store by state.");
	for (int s = 0; rc == CP_OK && s < CP_RCPT_NSTATES; s++)
		rc = cp_buf_addf(b, "coldpost_queue_recipients{state=\"%s\"} "
		    "%lld\n", cp_rcpt_state_name(s), (long long)qc.state[s]);
	if (rc == CP_OK)
		rc = head(b, "coldpost_queue_inflight", "gauge",
		    "Recipients leased to a delivery node now.");
	if (rc == CP_OK)
		rc = cp_buf_addf(b, "coldpost_queue_inflight %lld\n",
		    (long long)qc.inflight);
	if (rc == CP_OK)
		rc = head(b, "coldpost_queue_due", "gauge",
		    "Recipients due for an attempt now.");
	if (rc == CP_OK)
		rc = cp_buf_addf(b, "coldpost_queue_due %lld\n",
		    (long long)qc.due);
	return rc;
}

static int
counter(cp_buf *b, const char *name, const char *help, uint64_t v)
{
	int rc = head(b, name, "counter", help);

	return rc == CP_OK ? cp_buf_addf(b, "%s %llu\n", name,
	    (unsigned long long)v) : rc;
}

static int
gauge(cp_buf *b, const char *name, const char *help, uint64_t v)
{
	int rc = head(b, name, "gauge", help);

	return rc == CP_OK ? cp_buf_addf(b, "%s %llu\n", name,
	    (unsigned long long)v) : rc;
}

static int
render_server(cp_http *h, cp_buf *b)
{
	cp_server_stats s;
	int rc = CP_OK;

	if (h->server == NULL)
		return CP_OK;
	cp_server_get_stats(h->server, &s);
	if ((rc = counter(b, "coldpost_smtp_connections_total",
	    "Submission connections accepted.", s.connections)) == CP_OK &&
	    (rc = gauge(b, "coldpost_smtp_connections_active",
	    "Submission connections open now.", s.active)) == CP_OK &&
	    (rc = counter(b, "coldpost_accepted_messages_total",
	    "Messages accepted (SMTP and HTTP injection).", s.messages)) ==
	    CP_OK &&
	    (rc = counter(b, "coldpost_accepted_recipients_total",
	    "Recipients accepted.", s.recipients)) == CP_OK &&
	    (rc = counter(b, "coldpost_smtp_rejected_total",
	    "4xx/5xx answers to MAIL, RCPT and DATA.", s.rejected)) == CP_OK &&
	    (rc = counter(b, "coldpost_smtp_auth_ok_total",
	    "Successful AUTH.", s.auth_ok)) == CP_OK &&
	    (rc = counter(b, "coldpost_smtp_auth_failed_total",
	    "Failed AUTH.", s.auth_failed)) == CP_OK)
		rc = counter(b, "coldpost_group_commits_total",
		    "Group commits of accepted messages.", s.commits);
	return rc;
}

static int
render_deliver(cp_http *h, cp_buf *b)
{
	cp_deliver_stats d;
	int rc;

	if (h->deliver == NULL)
		return CP_OK;
	cp_deliver_get_stats(h->deliver, &d);
	rc = head(b, "coldpost_delivery_recipients_total", "counter",
	    "Recipient outcomes since start.");
	if (rc == CP_OK)
		rc = cp_buf_addf(b,
		    "coldpost_delivery_recipients_total{outcome=\"delivered\"} "
		    "%llu\ncoldpost_delivery_recipients_total{outcome="
		    "\"deferred\"} %llu\ncoldpost_delivery_recipients_total{"
		    "outcome=\"bounced\"} %llu\ncoldpost_delivery_recipients_"
		    "total{outcome=\"expired\"} %llu\n",
		    (unsigned long long)d.delivered,
		    (unsigned long long)d.deferred,
		    (unsigned long long)d.bounced,
		    (unsigned long long)d.expired);
	if (rc == CP_OK &&
	    (rc = counter(b, "coldpost_delivery_connections_total",
	    "Outbound SMTP connections opened.", d.connections)) == CP_OK &&
	    (rc = gauge(b, "coldpost_delivery_connections_active",
	    "Outbound SMTP connections open now.", d.active)) == CP_OK &&
	    (rc = counter(b, "coldpost_dsns_total", "DSNs queued.",
	    d.dsns)) == CP_OK)
		rc = gauge(b, "coldpost_delivery_held_bytes",
		    "Message bodies held in memory by delivery.", d.held_bytes);
	return rc;
}

static int
render_outcomes(cp_http *h, cp_buf *b)
{
	const char *key;
	json_t *v;
	int rc = head(b, "coldpost_outcomes_total", "counter",
	    "Recipient outcomes seen by the HTTP observer, by cause family "
	    "and receiver.");

	pthread_mutex_lock(&h->metrics.mu);
	json_object_foreach(h->metrics.outcomes, key, v) {
		char o[64], c[64], r[64];
		const char *p1 = strchr(key, '|'), *p2;

		if (rc != CP_OK || p1 == NULL ||
		    (p2 = strchr(p1 + 1, '|')) == NULL)
			continue;
		snprintf(o, sizeof(o), "%.*s", (int)(p1 - key), key);
		snprintf(c, sizeof(c), "%.*s", (int)(p2 - p1 - 1), p1 + 1);
		snprintf(r, sizeof(r), "%s", p2 + 1);
		rc = cp_buf_addf(b, "coldpost_outcomes_total{outcome=\"%s\","
		    "cause=\"%s\",provider=\"%s\"} %lld\n", o, c, r,
		    (long long)json_integer_value(v));
	}
	pthread_mutex_unlock(&h->metrics.mu);
	return rc;
}

static int
render_http(cp_http *h, cp_buf *b)
{
	uint64_t req[6], inj, lim;
	int rc;

	pthread_mutex_lock(&h->metrics.mu);
	memcpy(req, h->metrics.requests, sizeof(req));
	inj = h->metrics.injected;
	lim = h->metrics.rate_limited;
	pthread_mutex_unlock(&h->metrics.mu);
	rc = head(b, "coldpost_http_requests_total", "counter",
	    "HTTP requests answered, by status class.");
	for (int i = 1; rc == CP_OK && i <= 5; i++)
		rc = cp_buf_addf(b, "coldpost_http_requests_total{code=\"%dxx\"}"
		    " %llu\n", i, (unsigned long long)req[i]);
	if (rc == CP_OK &&
	    (rc = counter(b, "coldpost_http_injected_total",
	    "Messages injected through the API.", inj)) == CP_OK)
		rc = counter(b, "coldpost_http_rate_limited_total",
		    "Requests refused by the per-key rate limit.", lim);
	return rc;
}

static int
render_store(cp_http *h, cp_buf *b)
{
	cp_store_stats s;
	int rc;

	cp_store_get_stats(h->store, &s);
	if ((rc = counter(b, "coldpost_store_commits_total",
	    "Store write transactions committed (one sync each).",
	    s.commits)) != CP_OK ||
	    (rc = counter(b, "coldpost_store_rollbacks_total",
	    "Store write transactions rolled back.", s.rollbacks)) != CP_OK ||
	    (rc = head(b, "coldpost_store_commit_seconds", "histogram",
	    "Time of each store COMMIT (the disk sync).")) != CP_OK)
		return rc;
	return cp_hist_render(b, "coldpost_store_commit_seconds", "",
	    &s.commit_latency);
}

static int
render_dns(cp_buf *b)
{
	cp_hist lat;
	int rc = head(b, "coldpost_dns_query_seconds", "histogram",
	    "DNS round trips (query sent to answer or timeout) of the "
	    "relay's resolvers; cache hits are not counted.");

	cp_dns_get_latency(&lat);
	return rc == CP_OK ? cp_hist_render(b, "coldpost_dns_query_seconds",
	    "", &lat) : rc;
}

/* The three provider families, each kept as one group (the format
 * wants every sample of a family together). */
struct prov_ctx {
	cp_buf rate, cuts, paused;
	int64_t now;
};

static int
render_providers_cb(void *arg, const cp_provider_state *s)
{
	struct prov_ctx *c = arg;
	char ip[64], prov[128];

	label_token(s->source_ip, ip, sizeof(ip));
	label_token(s->provider, prov, sizeof(prov));
	if (cp_buf_addf(&c->rate, "coldpost_provider_rate{source_ip=\"%s\","
	    "provider=\"%s\"} %lld\n", ip, prov, (long long)s->rate) !=
	    CP_OK ||
	    cp_buf_addf(&c->cuts, "coldpost_provider_cuts_total{source_ip="
	    "\"%s\",provider=\"%s\"} %lld\n", ip, prov,
	    (long long)s->cuts) != CP_OK ||
	    cp_buf_addf(&c->paused, "coldpost_provider_paused{source_ip="
	    "\"%s\",provider=\"%s\"} %d\n", ip, prov,
	    s->paused_until > c->now) != CP_OK)
		return 1;
	return 0;
}

static int
render_providers(cp_http *h, cp_buf *b, int64_t now)
{
	struct prov_ctx c = { .now = now };
	int rc;

	cp_buf_init(&c.rate, 4u * 1024 * 1024);
	cp_buf_init(&c.cuts, 4u * 1024 * 1024);
	cp_buf_init(&c.paused, 4u * 1024 * 1024);
	cp_store_list_provider_states(h->store, render_providers_cb, &c,
	    NULL);
	if ((rc = head(b, "coldpost_provider_rate", "gauge", "Messages per "
	    "hour allowed per source IP and provider.")) == CP_OK &&
	    (rc = cp_buf_add(b, c.rate.data, c.rate.len)) == CP_OK &&
	    (rc = head(b, "coldpost_provider_cuts_total", "counter",
	    "Times the rate was cut.")) == CP_OK &&
	    (rc = cp_buf_add(b, c.cuts.data, c.cuts.len)) == CP_OK &&
	    (rc = head(b, "coldpost_provider_paused", "gauge",
	    "1 while sending to the provider is paused.")) == CP_OK)
		rc = cp_buf_add(b, c.paused.data, c.paused.len);
	cp_buf_free(&c.rate);
	cp_buf_free(&c.cuts);
	cp_buf_free(&c.paused);
	return rc;
}

int
http_metrics_render(cp_http *h, cp_buf *b)
{
	int64_t now = time(NULL);
	int rc;

	if ((rc = render_queue(h, b, now)) == CP_OK &&
	    (rc = render_server(h, b)) == CP_OK &&
	    (rc = render_deliver(h, b)) == CP_OK &&
	    (rc = render_outcomes(h, b)) == CP_OK &&
	    (rc = render_providers(h, b, now)) == CP_OK &&
	    (rc = render_store(h, b)) == CP_OK &&
	    (rc = render_dns(b)) == CP_OK &&
	    (rc = render_http(h, b)) == CP_OK)
		rc = gauge(b, "coldpost_uptime_seconds",
		    "Seconds since the HTTP side started.",
		    (uint64_t)(now - h->started_at));
	return rc;
}
