/*
 * http_tools.c - the tools of `coldpost` as API endpoints: explain a
 * receiver's reply (the classifier and the knowledge base), parse an
 * uploaded bounce (RFC 3464 DSN, RFC 5965 ARF and the usual MTA texts),
 * check a sending domain, evaluate SPF (RFC 7208 section 4), verify DKIM
 * signatures (RFC 6376 section 6), find the DMARC policy (RFC 7489
 * section 6.6), look up DNS blocklists (RFC 5782), lint a message's
 * content, and quote the cost of a number of mailboxes.
 *
 * The ones that ask the DNS run on a worker (http_run_async) with their
 * own resolver, so a slow name server never stalls the HTTP loop.
 */
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/bounce.h"
#include "coldpost/check.h"
#include "coldpost/classify.h"
#include "coldpost/cost.h"
#include "coldpost/dkim.h"
#include "coldpost/dmarc.h"
#include "coldpost/dns.h"
#include "coldpost/dnsbl.h"
#include "coldpost/lint.h"
#include "coldpost/spf.h"
#include "http/http_int.h"

#define MSG_MAX (10u * 1024 * 1024) /* a message given to a tool */

static json_t *
str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

/* The body as a message: raw unless it is JSON ({"message": "..."}). The
 * JSON (if any) is kept in *hold while p is used. */
static int
body_message(http_req *r, json_t **hold, const char **p, size_t *len)
{
	const char *ct = http_content_type(r);
	int rc;

	*hold = NULL;
	if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0) {
		json_t *m;

		if ((rc = http_body_object(r, hold)) != 0)
			return rc;
		m = json_object_get(*hold, "message");
		if (!json_is_string(m))
			return http_fail(r, 400, m == NULL ? "missing_field" :
			    "bad_field", "message", "message: want the "
			    "message as a string");
		*p = json_string_value(m);
		*len = json_string_length(m);
	} else {
		*p = r->body;
		*len = r->body_len;
	}
	if (*len == 0)
		return http_fail(r, 400, "missing_field", "message",
		    "message: empty");
	if (*len > MSG_MAX)
		return http_fail(r, 413, "too_big", "message",
		    "message: %zu bytes, at most %u", *len, MSG_MAX);
	return 0;
}

/* ---- explain ------------------------------------------------------------- */

static json_t *
page_json(const cp_kb_page *p)
{
	if (p == NULL)
		return json_null();
	return json_pack("{s:s,s:s,s:o}", "key", p->key, "title", p->title,
	    "meaning", str_or_null(p->meaning));
}

int
http_h_tool_explain(http_req *r)
{
	json_t *b, *steps;
	const char *reply, *host = NULL;
	const cp_classifier *c;
	cp_classify_session *s = NULL;
	cp_verdict v;
	cp_err err = { 0 };
	int rc;

	if ((rc = http_body_object(r, &b)) != 0)
		return rc;
	if ((rc = http_get_str(r, b, "reply", 1, 65536, &reply)) ||
	    (rc = http_get_str(r, b, "host", 0, 253, &host)))
		goto out;
	if ((c = cp_classifier_default(&err)) == NULL ||
	    (s = cp_classify_session_new(c, &err)) == NULL) {
		rc = http_fail_err(r, &err, NULL);
		goto out;
	}
	if (cp_classify_reply(s, reply, strlen(reply), host, &v, &err) !=
	    CP_OK) {
		rc = http_fail(r, 400, "bad_field", "reply", "%s", err.msg);
		goto out;
	}
	steps = json_array();
	for (size_t i = 0; i < v.nsteps; i++)
		json_array_append_new(steps, json_string(v.steps[i]));
	r->out = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:b,s:s,s:o,"
	    "s:o,s:o,s:o}", "code", v.code, "enhanced", v.enhanced, "class",
	    cp_class_name(v.cls), "cause", v.cause_page != NULL ?
	    v.cause_page->key : "other", "reason", v.reason != NULL ? v.reason :
	    "", "receiver", v.receiver != NULL ? v.receiver : "unknown",
	    "blocklist", str_or_null(v.blocklist), "rule", v.rule != NULL ?
	    v.rule : "", "code_only", v.code_only, "says", v.says != NULL ?
	    v.says : "", "steps", steps, "code_page", page_json(v.code_page),
	    "cause_page", page_json(v.cause_page), "receiver_page",
	    page_json(v.receiver_page));
	rc = r->out != NULL ? 200 : http_fail(r, 500, "internal", NULL,
	    "cannot build the answer");
out:
	cp_classify_session_free(s);
	json_decref(b);
	return rc;
}

/* ---- bounce -------------------------------------------------------------- */

int
http_h_tool_bounce(http_req *r)
{
	json_t *hold = NULL, *a;
	const char *p;
	size_t len;
	cp_bounce_parser *bp;
	const cp_bounce *bo;
	cp_err err = { 0 };
	int rc;

	if ((rc = body_message(r, &hold, &p, &len)) != 0)
		goto out;
	if ((bp = cp_bounce_parser_new(&err)) == NULL) {
		rc = http_fail_err(r, &err, NULL);
		goto out;
	}
	if (cp_bounce_parse(bp, p, len, &bo, &err) != CP_OK) {
		rc = http_fail(r, err.code == CP_ENOMEM ? 500 : 422,
		    err.code == CP_ENOMEM ? "internal" : "not_a_bounce",
		    "message", "%s", err.msg);
		cp_bounce_parser_free(bp);
		goto out;
	}
	a = json_array();
	for (size_t i = 0; i < bo->n; i++) {
		const cp_bounce_rcpt *x = &bo->rcpts[i];

		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,"
		    "s:s,s:s,s:s,s:b,s:s}", "recipient", x->recipient,
		    "action", x->action, "status", x->status, "replycode",
		    x->replycode, "diagnostic", x->diagnostic, "remote_mta",
		    x->remote_mta, "reason", x->reason, "cause", x->cause >= 0 ?
		    cp_cause_name(x->cause) : "", "receiver", x->receiver,
		    "hard", x->hard, "feedback_type", x->feedback_type));
	}
	r->out = json_pack("{s:s,s:s,s:s,s:s,s:o}", "family", bo->family,
	    "message_id", bo->message_id, "return_path", bo->return_path,
	    "notes", bo->notes, "recipients", a);
	cp_bounce_parser_free(bp);
	rc = r->out != NULL ? 200 : http_fail(r, 500, "internal", NULL,
	    "cannot build the answer (text not UTF-8?)");
out:
	json_decref(hold);
	return rc;
}

/* ---- lint ---------------------------------------------------------------- */

int
http_h_tool_lint(http_req *r)
{
	json_t *hold = NULL, *a;
	const char *p;
	size_t len;
	cp_lint_opts o = { 0 };
	cp_lint_report rep;
	cp_err err = { 0 };
	int rc;

	memset(&rep, 0, sizeof(rep));
	if ((rc = body_message(r, &hold, &p, &len)) != 0)
		goto out;
	if (hold != NULL && (rc = http_get_str(r, hold, "sending_domain", 0,
	    253, &o.sending_domain)) != 0)
		goto out;
	if (cp_lint_check_message(p, len, &o, &rep, &err) != CP_OK) {
		rc = http_fail(r, err.code == CP_ENOMEM ? 500 : 400,
		    err.code == CP_ENOMEM ? "internal" : "bad_field", "message",
		    "%s", err.msg);
		goto out;
	}
	a = json_array();
	for (size_t i = 0; i < rep.n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:o,s:o}",
		    "rule", rep.v[i].rule, "severity",
		    cp_lint_severity_name(rep.v[i].severity), "points",
		    rep.v[i].points, "evidence", str_or_null(rep.v[i].evidence),
		    "fix", str_or_null(rep.v[i].fix)));
	r->out = json_pack("{s:i,s:s,s:o,s:{s:I,s:I,s:I,s:I,s:b,s:b}}",
	    "score", rep.score, "verdict", cp_lint_verdict_name(rep.verdict),
	    "findings", a, "stats", "links", (json_int_t)rep.stats.links,
	    "images", (json_int_t)rep.stats.images, "words",
	    (json_int_t)rep.stats.words, "attachments",
	    (json_int_t)rep.stats.attachments, "has_text", rep.stats.has_text,
	    "has_html", rep.stats.has_html);
	rc = r->out != NULL ? 200 : http_fail(r, 500, "internal", NULL,
	    "cannot build the answer (text not UTF-8?)");
out:
	cp_lint_report_clear(&rep);
	json_decref(hold);
	return rc;
}

/* ---- cost ---------------------------------------------------------------- */

int
http_h_tool_cost(http_req *r)
{
	json_t *b;
	int64_t n = 0, cap = 0, min = -1;
	const char *tiers_s = NULL;
	cp_cost_tiers tiers;
	cp_cost_quote q;
	cp_err err = { 0 };
	char tiers_conf[1024], cur[16];
	int rc, grad;

	if ((rc = http_body_object(r, &b)) != 0)
		return rc;
	if ((rc = http_get_int(r, b, "mailboxes", 1, 1, 100000000, &n)) ||
	    (rc = http_get_int(r, b, "daily_cap", 0, 0, 100000000, &cap)) ||
	    (rc = http_get_int(r, b, "minimum_cents", 0, 0, INT32_MAX, &min)) ||
	    (rc = http_get_str(r, b, "tiers", 0, 1000, &tiers_s)))
		goto out;
	grad = json_is_true(json_object_get(b, "graduated"));
	pthread_mutex_lock(&r->h->mu);
	snprintf(tiers_conf, sizeof(tiers_conf), "%s",
	    r->h->conf.cost.tiers != NULL ? r->h->conf.cost.tiers : "");
	snprintf(cur, sizeof(cur), "%s", r->h->conf.cost.currency != NULL ?
	    r->h->conf.cost.currency : "USD");
	if (min < 0)
		min = r->h->conf.cost.minimum_cents;
	pthread_mutex_unlock(&r->h->mu);
	if (cp_cost_parse_tiers(tiers_s != NULL ? tiers_s : tiers_conf, &tiers,
	    &err) != CP_OK) {
		rc = http_fail(r, 400, "bad_field", "tiers", "%s", err.msg);
		goto out;
	}
	if (cp_cost_compute(&tiers, min, n, cap, grad, &q, &err) != CP_OK) {
		rc = http_fail_err(r, &err, "mailboxes");
		goto out;
	}
	r->out = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:b,s:I,s:I,s:I,s:I,"
	    "s:I}", "currency", cur, "mailboxes", (json_int_t)q.mailboxes,
	    "price_cents", (json_int_t)q.price_cents, "subtotal_cents",
	    (json_int_t)q.subtotal_cents, "minimum_cents",
	    (json_int_t)q.minimum_cents, "total_cents",
	    (json_int_t)q.total_cents, "minimum_applied", q.minimum_applied,
	    "graduated", q.graduated, "effective_cents",
	    (json_int_t)q.effective_cents, "daily_cap", (json_int_t)q.daily_cap,
	    "capacity_per_day", (json_int_t)q.capacity_per_day,
	    "capacity_per_month", (json_int_t)q.capacity_per_month,
	    "cost_per_1000_cents", (json_int_t)q.cost_per_1000_cents);
	rc = 200;
out:
	json_decref(b);
	return rc;
}

/* ---- the ones that ask the DNS (on a worker) ------------------------------ */

cp_dns *
http_resolver(cp_http *h, cp_err *err)
{
	cp_dns_config cfg = { 0 };

	cfg.servers = h->dns_servers;
	cfg.timeout_ms = 2000;
	cfg.tries = 2;
	return cp_dns_new_cares(&cfg, err);
}

static int
check_work(http_req *r)
{
	json_t *b = r->in;
	const char *domain;
	const char *sels[8], *ips[8];
	cp_check_opts o = { 0 };
	cp_check_report *rep = NULL;
	cp_err err = { 0 };
	int rc;

	if ((rc = http_get_str(r, b, "domain", 1, 253, &domain)) != 0)
		return rc;
	if ((rc = http_str_array(r, b, "selectors", sels, 8, &o.nselectors)) ||
	    (rc = http_str_array(r, b, "ips", ips, 8, &o.nips)))
		return rc;
	o.selectors = sels;
	o.ips = ips;
	o.psl = r->h->psl;
	if ((o.dns = http_resolver(r->h, &err)) == NULL)
		return http_fail_err(r, &err, NULL);
	if (cp_check_domain(&o, domain, &rep, &err) != CP_OK)
		rc = http_fail_err(r, &err, "domain");
	else {
		r->out = http_check_json(rep);
		rc = 200;
	}
	cp_check_report_free(rep);
	cp_dns_free(o.dns);
	return rc;
}

int
http_h_tool_check(http_req *r)
{
	return http_run_async(r, check_work, 1);
}

static int
spf_work(http_req *r)
{
	json_t *b = r->in;
	cp_spf_query q = { 0 };
	cp_spf_result res;
	cp_spf *spf;
	cp_dns *d;
	cp_err err = { 0 };
	int rc;

	if ((rc = http_get_str(r, b, "ip", 1, 64, &q.ip)) ||
	    (rc = http_get_str(r, b, "sender", 0, 254, &q.sender)) ||
	    (rc = http_get_str(r, b, "helo", 0, 253, &q.helo)) ||
	    (rc = http_get_str(r, b, "domain", 0, 253, &q.domain)))
		return rc;
	if (q.sender == NULL && q.domain == NULL)
		return http_fail(r, 400, "missing_field", "sender",
		    "give sender (MAIL FROM) or domain");
	if (q.helo == NULL)
		q.helo = "unknown";
	memset(&res, 0, sizeof(res));
	if ((d = http_resolver(r->h, &err)) == NULL)
		return http_fail_err(r, &err, NULL);
	if ((spf = cp_spf_new(d, &err)) == NULL) {
		cp_dns_free(d);
		return http_fail_err(r, &err, NULL);
	}
	if (cp_spf_check_host(spf, &q, &res, &err) != CP_OK)
		rc = http_fail_err(r, &err, "ip");
	else {
		r->out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:o}",
		    "result", cp_spf_verdict_name(res.result), "domain",
		    res.domain, "mechanism", res.mechanism, "mech_domain",
		    res.mech_domain, "reason", res.reason, "lookups",
		    (int)res.lookups, "void_lookups", (int)res.void_lookups,
		    "explanation", str_or_null(res.explanation));
		rc = r->out != NULL ? 200 : http_fail(r, 500, "internal",
		    NULL, "cannot build the answer");
	}
	cp_spf_result_clear(&res);
	cp_spf_free(spf);
	cp_dns_free(d);
	return rc;
}

int
http_h_tool_spf(http_req *r)
{
	return http_run_async(r, spf_work, 1);
}

static int
dkim_work(http_req *r)
{
	json_t *hold = NULL, *a;
	const char *p;
	size_t len;
	cp_dkim_verify_opts o = { 0 };
	cp_dkim_verifier *v = NULL;
	cp_err err = { 0 };
	int rc;

	if ((rc = body_message(r, &hold, &p, &len)) != 0)
		goto out;
	if ((o.dns = http_resolver(r->h, &err)) == NULL ||
	    cp_dkim_verifier_new(&o, &v, &err) != CP_OK) {
		rc = http_fail_err(r, &err, NULL);
		goto out;
	}
	if (cp_dkim_verifier_write(v, p, len, &err) != CP_OK ||
	    cp_dkim_verifier_finish(v, &err) != CP_OK) {
		rc = http_fail(r, err.code == CP_ENOMEM ? 500 : 400,
		    err.code == CP_ENOMEM ? "internal" : "bad_field",
		    "message", "%s", err.msg);
		goto out;
	}
	a = json_array();
	for (size_t i = 0; i < cp_dkim_verifier_count(v); i++) {
		const cp_dkim_result *x = cp_dkim_verifier_result(v, i);

		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,"
		    "s:s,s:b,s:i}", "status", cp_dkim_status_name(x->status),
		    "reason", cp_dkim_reason_name(x->reason), "why", x->why,
		    "domain", x->domain, "selector", x->selector, "alg", x->alg,
		    "canon", x->canon, "testing", x->testing, "key_bits",
		    x->key_bits));
	}
	r->out = json_pack("{s:s,s:o}", "result",
	    cp_dkim_status_name(cp_dkim_verifier_status(v)), "signatures", a);
	rc = r->out != NULL ? 200 : http_fail(r, 500, "internal", NULL,
	    "cannot build the answer (text not UTF-8?)");
out:
	cp_dkim_verifier_free(v);
	cp_dns_free(o.dns);
	json_decref(hold);
	return rc;
}

int
http_h_tool_dkim(http_req *r)
{
	return http_run_async(r, dkim_work, 0);
}

static int
dmarc_work(http_req *r)
{
	json_t *b = r->in;
	cp_dmarc_query q = { 0 };
	cp_dmarc_verdict v;
	cp_dns *d;
	cp_err err = { 0 };
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = http_get_str(r, b, "domain", 1, 253, &q.from_domain)) != 0)
		return rc;
	if ((d = http_resolver(r->h, &err)) == NULL)
		return http_fail_err(r, &err, NULL);
	if (cp_dmarc_evaluate(d, r->h->psl, &q, &v, &err) != CP_OK)
		rc = http_fail_err(r, &err, "domain");
	else {
		r->out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:b,s:s}",
		    "domain", v.from_domain, "org_domain", v.org_domain,
		    "result", cp_dmarc_result_name(v.result), "policy",
		    v.have_record ? cp_dmarc_policy_name(v.policy) : "none",
		    "record_name", v.record_name, "record",
		    str_or_null(v.record_txt), "have_record", v.have_record,
		    "record_at_org", v.record_at_org, "reason", v.reason);
		rc = r->out != NULL ? 200 : http_fail(r, 500, "internal",
		    NULL, "cannot build the answer");
	}
	cp_dmarc_verdict_clear(&v);
	cp_dns_free(d);
	return rc;
}

int
http_h_tool_dmarc(http_req *r)
{
	return http_run_async(r, dmarc_work, 1);
}

static int
blacklist_work(http_req *r)
{
	json_t *b = r->in, *a;
	const char *target;
	const cp_dnsbl_list *lists;
	size_t nlists, nres = 0;
	cp_dnsbl_result *res = NULL;
	cp_dns *d;
	cp_err err = { 0 };
	int rc, listed = 0;

	if ((rc = http_get_str(r, b, "target", 1, 253, &target)) != 0)
		return rc;
	lists = cp_dnsbl_builtin(&nlists);
	if ((d = http_resolver(r->h, &err)) == NULL)
		return http_fail_err(r, &err, NULL);
	if (cp_dnsbl_check(d, target, lists, nlists, &res, &nres, &err) !=
	    CP_OK) {
		cp_dns_free(d);
		return http_fail_err(r, &err, "target");
	}
	a = json_array();
	for (size_t i = 0; i < nres; i++) {
		json_t *hits = json_array();

		for (size_t k = 0; k < res[i].nhits; k++)
			json_array_append_new(hits, json_pack("{s:s,s:o,s:o}",
			    "addr", res[i].hits[k].addr, "list",
			    str_or_null(res[i].hits[k].list), "meaning",
			    str_or_null(res[i].hits[k].meaning)));
		listed += res[i].state == CP_DNSBL_LISTED;
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}",
		    "list", res[i].list->name, "zone", res[i].list->zone,
		    "state", cp_dnsbl_state_name(res[i].state), "hits", hits,
		    "txt", str_or_null(res[i].txt), "error",
		    str_or_null(res[i].error)));
	}
	r->out = json_pack("{s:s,s:i,s:o}", "target", target, "listed", listed,
	    "results", a);
	cp_dnsbl_results_free(res, nres);
	cp_dns_free(d);
	return r->out != NULL ? 200 : http_fail(r, 500, "internal", NULL,
	    "cannot build the answer");
}

int
http_h_tool_blacklist(http_req *r)
{
	return http_run_async(r, blacklist_work, 1);
}
