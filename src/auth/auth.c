/*
 * auth.c - SPF, DKIM and DMARC for one received message, and the
 * Authentication-Results field that reports them (see auth.h).
 *
 * The message streams through once: cp_msg_split hands each header field
 * to the DKIM verifier (which keeps the header) and to the From and
 * DKIM-Signature watchers here; at the end of the header the verifier
 * fetches its keys; body chunks go to its hashers and are not kept.
 * finish then runs, in order:
 *  - DKIM: every signature's verdict (RFC 6376 6), the message's result;
 *  - SPF (RFC 7208 2.3, 2.4): check_host() for the MAIL FROM identity,
 *    or for the HELO identity when the reverse path is null (the query
 *    with an empty sender does that: postmaster@HELO), unless the caller
 *    gave a result it computed during the SMTP session;
 *  - the author domain (RFC 7489 6.6.1, RFC 5322 3.6): exactly one From
 *    field with at least one mailbox; several mailboxes with different
 *    domains are evaluated one by one and the strictest outcome kept;
 *  - DMARC (RFC 7489 6.6) with the SPF domain and result and each DKIM
 *    signature's d= and result (dmarc_eval.c does the alignment).
 * Rendering follows RFC 8601 2.7: spf= with smtp.mailfrom or smtp.helo,
 * one dkim= per signature with header.d, header.s and header.b (RFC
 * 6008), dmarc= with header.from.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/auth.h"
#include "coldpost/msg.h"

#define AUTH_FROM_VALUE_MAX (64 * 1024)
#define AUTH_READ_CHUNK (64 * 1024)

struct cp_auth {
	cp_auth_opts o;
	cp_auth_envelope env;
	cp_dkim_verifier *dv;
	cp_msg_split split;
	int eoh;
	size_t nfrom;        /* From fields seen */
	cp_buf from;         /* the first one's value */
	char (*b)[16];       /* b= prefix of each DKIM-Signature, in order */
	size_t nb, capb;
	cp_err *cb_err;      /* where the field callback reports */
};

cp_auth_result
cp_auth_from_spf(cp_spf_verdict r)
{
	switch (r) {
	case CP_SPF_PASS: return CP_AUTH_PASS;
	case CP_SPF_FAIL: return CP_AUTH_FAIL;
	case CP_SPF_SOFTFAIL: return CP_AUTH_SOFTFAIL;
	case CP_SPF_NEUTRAL: return CP_AUTH_NEUTRAL;
	case CP_SPF_TEMPERROR: return CP_AUTH_TEMPERROR;
	case CP_SPF_PERMERROR: return CP_AUTH_PERMERROR;
	default: return CP_AUTH_NONE;
	}
}

cp_auth_result
cp_auth_from_dkim(cp_dkim_status s)
{
	switch (s) {
	case CP_DKIM_PASS: return CP_AUTH_PASS;
	case CP_DKIM_FAIL: return CP_AUTH_FAIL;
	case CP_DKIM_PERMERROR: return CP_AUTH_PERMERROR;
	case CP_DKIM_TEMPERROR: return CP_AUTH_TEMPERROR;
	default: return CP_AUTH_NONE;
	}
}

static int
auth_eqi(const char *a, size_t alen, const char *b)
{
	size_t n = strlen(b);

	if (alen != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return 0;
	}
	return 1;
}

int
cp_auth_new(const cp_auth_opts *o, const cp_auth_envelope *env,
    cp_auth **out, cp_err *err)
{
	cp_dkim_verify_opts vo = { 0 };
	struct in6_addr a6;
	struct in_addr a4;
	cp_auth *a;
	int rc;

	*out = NULL;
	CP_ASSERT(o != NULL && o->dns != NULL && o->psl != NULL);
	if (env->ip == NULL || (inet_pton(AF_INET, env->ip, &a4) != 1 &&
	    inet_pton(AF_INET6, env->ip, &a6) != 1))
		return cp_err_set(err, CP_EINVAL, "auth: '%s' is not an IP "
		    "address", env->ip ? env->ip : "(none)");
	if ((env->mail_from == NULL || *env->mail_from == '\0') &&
	    (env->helo == NULL || *env->helo == '\0') && env->spf == NULL)
		return cp_err_set(err, CP_EINVAL, "auth: a null reverse path is "
		    "checked as the HELO name, and there is none");
	a = cp_calloc(1, sizeof(*a));
	if (a == NULL)
		return cp_err_set(err, CP_ENOMEM, "auth: out of memory");
	a->o = *o;
	a->env = *env;
	vo.dns = o->dns;
	vo.now = o->now;
	vo.max_sigs = o->max_sigs;
	vo.header_max = o->header_max;
	rc = cp_dkim_verifier_new(&vo, &a->dv, err);
	if (rc != CP_OK) {
		cp_free(a);
		return rc;
	}
	cp_msg_split_init(&a->split, 0);
	cp_buf_init(&a->from, AUTH_FROM_VALUE_MAX);
	*out = a;
	return CP_OK;
}

void
cp_auth_free(cp_auth *a)
{
	if (a == NULL)
		return;
	cp_dkim_verifier_free(a->dv);
	cp_msg_split_clear(&a->split);
	cp_buf_free(&a->from);
	cp_free(a->b);
	cp_free(a);
}

/*
 * The first characters of the b= tag of a DKIM-Signature value (a tag
 * list, RFC 6376 3.2), white space dropped; "" without one.
 */
static void
auth_b_prefix(const char *v, size_t len, char out[16])
{
	size_t i = 0, n = 0;

	out[0] = '\0';
	while (i < len) {
		size_t ns, ne;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' ||
		    v[i] == '\n'))
			i++;
		ns = i;
		while (i < len && v[i] != '=' && v[i] != ';')
			i++;
		ne = i;
		while (ne > ns && (v[ne - 1] == ' ' || v[ne - 1] == '\t' ||
		    v[ne - 1] == '\r' || v[ne - 1] == '\n'))
			ne--;
		if (i < len && v[i] == '=' && ne - ns == 1 && v[ns] == 'b') {
			for (i++; i < len && v[i] != ';' && n < 8; i++)
				if (v[i] != ' ' && v[i] != '\t' && v[i] != '\r' &&
				    v[i] != '\n')
					out[n++] = v[i];
			out[n] = '\0';
			return;
		}
		while (i < len && v[i] != ';')
			i++;
		if (i < len)
			i++;
	}
}

static int
auth_field_cb(void *arg, const char *field, size_t len)
{
	cp_auth *a = arg;
	size_t nlen = cp_msg_field_name(field, len);
	const char *colon;
	int rc;

	rc = cp_dkim_verifier_header(a->dv, field, len, a->cb_err);
	if (rc != CP_OK)
		return rc;
	if (nlen == 0)
		return CP_OK;
	colon = memchr(field, ':', len);
	if (colon == NULL)
		return CP_OK;
	if (auth_eqi(field, nlen, "from")) {
		if (a->nfrom++ == 0) {
			rc = cp_buf_add(&a->from, colon + 1,
			    len - (size_t)(colon + 1 - field));
			if (rc == CP_ETOOBIG)
				return cp_err_set(a->cb_err, rc, "auth: From "
				    "field over %zu bytes", a->from.max);
			if (rc != CP_OK)
				return cp_err_set(a->cb_err, rc,
				    "auth: out of memory");
		}
	} else if (auth_eqi(field, nlen, "dkim-signature")) {
		if (a->nb == a->capb) {
			size_t cap = a->capb ? a->capb * 2 : 4;
			char (*nb)[16] = cp_realloc(a->b, cap * sizeof(*nb));

			if (nb == NULL)
				return cp_err_set(a->cb_err, CP_ENOMEM,
				    "auth: out of memory");
			a->b = nb;
			a->capb = cap;
		}
		auth_b_prefix(colon + 1, len - (size_t)(colon + 1 - field),
		    a->b[a->nb++]);
	}
	return CP_OK;
}

int
cp_auth_write(cp_auth *a, const char *p, size_t len, cp_err *err)
{
	size_t off;
	int rc;

	if (a->eoh)
		return cp_dkim_verifier_body(a->dv, p, len, err);
	a->cb_err = err;
	rc = cp_msg_split_feed(&a->split, p, len, &off, auth_field_cb, a, err);
	if (rc != CP_OK)
		return rc;
	if (!a->split.done)
		return CP_OK;
	a->eoh = 1;
	if ((rc = cp_dkim_verifier_eoh(a->dv, err)) != CP_OK)
		return rc;
	return cp_dkim_verifier_body(a->dv, p + off, len - off, err);
}

static void
auth_copy(char *dst, size_t max, const char *src)
{
	snprintf(dst, max, "%s", src ? src : "");
}

/* snprintf into a fixed field; a long message is cut, which is fine. */
static void
auth_setf(char *dst, size_t max, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
auth_setf(char *dst, size_t max, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, max, fmt, ap);
	va_end(ap);
}

static int
auth_run_spf(cp_auth *a, cp_auth_verdict *v, cp_err *err)
{
	const cp_auth_envelope *env = &a->env;
	cp_spf_query q = { 0 };
	cp_spf *spf;
	int rc;

	v->spf_helo = env->mail_from == NULL || *env->mail_from == '\0';
	if (env->spf != NULL) {
		v->spf_res = *env->spf;
		v->spf_res.explanation = NULL;
		if (env->spf->explanation != NULL &&
		    (v->spf_res.explanation =
			cp_strdup(env->spf->explanation)) == NULL)
			return cp_err_set(err, CP_ENOMEM, "auth: out of memory");
	} else {
		spf = cp_spf_new(a->o.dns, err);
		if (spf == NULL)
			return err && err->code ? err->code : CP_ENOMEM;
		if (a->o.now)
			cp_spf_set_now(spf, a->o.now);
		if (a->o.receiver != NULL &&
		    (rc = cp_spf_set_receiver(spf, a->o.receiver, err)) != CP_OK) {
			cp_spf_free(spf);
			return rc;
		}
		q.ip = env->ip;
		q.sender = v->spf_helo ? "" : env->mail_from;
		q.helo = env->helo;
		rc = cp_spf_check_host(spf, &q, &v->spf_res, err);
		cp_spf_free(spf);
		if (rc == CP_EINVAL) {
			/* a sender or HELO check_host cannot use: permerror */
			v->spf_res.result = CP_SPF_PERMERROR;
			auth_copy(v->spf_res.reason, sizeof(v->spf_res.reason),
			    err ? err->msg : "unusable identity");
			cp_err_clear(err);
			rc = CP_OK;
		}
		if (rc != CP_OK)
			return rc;
	}
	v->spf = cp_auth_from_spf(v->spf_res.result);
	if (v->spf_res.domain[0])
		auth_copy(v->spf_domain, sizeof(v->spf_domain),
		    v->spf_res.domain);
	else if (v->spf_helo)
		auth_copy(v->spf_domain, sizeof(v->spf_domain), env->helo);
	else {
		const char *at = strrchr(env->mail_from, '@');

		auth_copy(v->spf_domain, sizeof(v->spf_domain),
		    at ? at + 1 : env->mail_from);
	}
	for (char *s = v->spf_domain; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
	return CP_OK;
}

static int
auth_collect_dkim(cp_auth *a, cp_auth_verdict *v, cp_err *err)
{
	size_t n = cp_dkim_verifier_count(a->dv);

	v->dkim = cp_auth_from_dkim(cp_dkim_verifier_status(a->dv));
	if (n == 0)
		return CP_OK;
	v->sigs = cp_calloc(n, sizeof(*v->sigs));
	if (v->sigs == NULL)
		return cp_err_set(err, CP_ENOMEM, "auth: out of memory");
	v->nsigs = n;
	for (size_t i = 0; i < n; i++) {
		cp_auth_dkim *s = &v->sigs[i];

		s->r = *cp_dkim_verifier_result(a->dv, i);
		s->result = cp_auth_from_dkim(s->r.status);
		if (i < a->nb) /* the verifier has one result per field */
			memcpy(s->b, a->b[i], sizeof(s->b));
	}
	return CP_OK;
}

/* The author domains, or from_error saying why there is none. */
static int
auth_author(cp_auth *a, cp_auth_verdict *v)
{
	cp_err ferr = { 0 };
	int rc;

	v->nfrom_fields = a->nfrom;
	if (a->nfrom == 0) {
		auth_copy(v->from_error, sizeof(v->from_error), "no From header "
		    "field (RFC 5322 3.6 requires one)");
		return -1;
	}
	if (a->nfrom > 1) {
		auth_setf(v->from_error, sizeof(v->from_error), "%zu From header "
		    "fields (RFC 5322 3.6 allows one)", a->nfrom);
		return -1;
	}
	rc = cp_auth_parse_from(a->from.data ? a->from.data : "", a->from.len,
	    &v->from, &ferr);
	if (rc != CP_OK) {
		auth_setf(v->from_error, sizeof(v->from_error), "From field "
		    "unusable: %s", ferr.msg);
		memset(&v->from, 0, sizeof(v->from));
		return -1;
	}
	if (v->from.n_all == 0) {
		auth_copy(v->from_error, sizeof(v->from_error), "the From field "
		    "holds no address (an empty group)");
		return -1;
	}
	if (v->from.n_all > CP_AUTH_FROM_MAX) {
		auth_setf(v->from_error, sizeof(v->from_error), "the From field "
		    "holds %zu addresses, more than the %d checked",
		    v->from.n_all, CP_AUTH_FROM_MAX);
		return -1;
	}
	for (size_t i = 0; i < v->from.n; i++)
		if (v->from.mbox[i].literal) {
			auth_setf(v->from_error, sizeof(v->from_error), "From "
			    "address %zu has a domain literal, not a domain "
			    "name", i + 1);
			return -1;
		}
	return 0;
}

/* Strictness of a DMARC outcome when several author domains compete. */
static int
auth_dmarc_rank(const cp_dmarc_verdict *d)
{
	switch (d->result) {
	case CP_DMARC_FAIL: return 10 + (int)d->disposition;
	case CP_DMARC_TEMPERROR: return 4;
	case CP_DMARC_PERMERROR: return 3;
	case CP_DMARC_PASS: return 2;
	default: return 1;
	}
}

static int
auth_run_dmarc(cp_auth *a, cp_auth_verdict *v, cp_err *err)
{
	cp_dmarc_dkim *dk = NULL;
	cp_dmarc_query q = { 0 };
	size_t nd = 0;
	int rc = CP_OK, best = -1;

	if (auth_author(a, v) != 0) {
		v->dmarc = CP_DMARC_PERMERROR;
		auth_copy(v->dmarc_reason, sizeof(v->dmarc_reason),
		    v->from_error);
		return CP_OK;
	}
	if (v->nsigs > 0) {
		dk = cp_calloc(v->nsigs, sizeof(*dk));
		if (dk == NULL)
			return cp_err_set(err, CP_ENOMEM, "auth: out of memory");
	}
	for (size_t i = 0; i < v->nsigs; i++) {
		if (v->sigs[i].r.domain[0] == '\0')
			continue;
		dk[nd].result = v->sigs[i].result;
		dk[nd].domain = v->sigs[i].r.domain;
		dk[nd].selector = v->sigs[i].r.selector;
		nd++;
	}
	v->dmarcs = cp_calloc(v->from.n, sizeof(*v->dmarcs));
	if (v->dmarcs == NULL) {
		cp_free(dk);
		return cp_err_set(err, CP_ENOMEM, "auth: out of memory");
	}
	q.spf_domain = v->spf_domain[0] ? v->spf_domain : NULL;
	q.spf_result = v->spf;
	q.dkim = dk;
	q.ndkim = nd;
	q.roll = a->o.roll;
	q.roll_arg = a->o.roll_arg;
	for (size_t i = 0; i < v->from.n; i++) {
		const char *dom = v->from.mbox[i].domain;
		cp_auth_dmarc *d;
		cp_err derr = { 0 };
		size_t j;
		int r;

		for (j = 0; j < v->ndmarcs; j++)
			if (strcmp(v->dmarcs[j].domain, dom) == 0)
				break;
		if (j < v->ndmarcs)
			continue; /* the same author domain twice */
		d = &v->dmarcs[v->ndmarcs++];
		auth_copy(d->domain, sizeof(d->domain), dom);
		q.from_domain = dom;
		rc = cp_dmarc_evaluate(a->o.dns, a->o.psl, &q, &d->v, &derr);
		if (rc == CP_EINVAL) {
			cp_dmarc_verdict_clear(&d->v);
			d->v.result = CP_DMARC_PERMERROR;
			auth_copy(d->v.from_domain, sizeof(d->v.from_domain), dom);
			auth_copy(d->v.reason, sizeof(d->v.reason), derr.msg);
			rc = CP_OK;
		}
		if (rc != CP_OK) {
			if (err != NULL)
				*err = derr;
			break;
		}
		r = auth_dmarc_rank(&d->v);
		if (r > best) {
			best = r;
			v->decided = v->ndmarcs - 1;
		}
	}
	cp_free(dk);
	if (rc != CP_OK)
		return rc;
	{
		const cp_auth_dmarc *d = &v->dmarcs[v->decided];

		v->dmarc = d->v.result;
		v->disposition = d->v.disposition;
		auth_copy(v->dmarc_domain, sizeof(v->dmarc_domain), d->domain);
		if (v->ndmarcs > 1)
			auth_setf(v->dmarc_reason, sizeof(v->dmarc_reason),
			    "%zu author domains; the strictest outcome is %s's: "
			    "%s", v->ndmarcs, d->domain, d->v.reason);
		else
			auth_copy(v->dmarc_reason, sizeof(v->dmarc_reason),
			    d->v.reason);
	}
	return CP_OK;
}

int
cp_auth_finish(cp_auth *a, cp_auth_verdict *v, cp_err *err)
{
	int rc;

	memset(v, 0, sizeof(*v));
	if (!a->eoh) { /* a message that is all header */
		a->cb_err = err;
		rc = cp_msg_split_end(&a->split, auth_field_cb, a, err);
		if (rc != CP_OK)
			return rc;
		a->eoh = 1;
		if ((rc = cp_dkim_verifier_eoh(a->dv, err)) != CP_OK)
			return rc;
	}
	if ((rc = cp_dkim_verifier_finish(a->dv, err)) != CP_OK)
		return rc;
	if ((rc = auth_collect_dkim(a, v, err)) != CP_OK)
		return rc;
	if ((rc = auth_run_spf(a, v, err)) != CP_OK)
		return rc;
	return auth_run_dmarc(a, v, err);
}

int
cp_auth_check_message(const cp_auth_opts *o, const cp_auth_envelope *env,
    cp_auth_read_fn rd, void *rd_arg, cp_auth_verdict *v, cp_err *err)
{
	cp_auth *a = NULL;
	char *chunk;
	int rc;

	memset(v, 0, sizeof(*v));
	chunk = cp_malloc(AUTH_READ_CHUNK);
	if (chunk == NULL)
		return cp_err_set(err, CP_ENOMEM, "auth: out of memory");
	rc = cp_auth_new(o, env, &a, err);
	while (rc == CP_OK) {
		ssize_t n = rd(rd_arg, chunk, AUTH_READ_CHUNK);

		if (n < 0) {
			rc = cp_err_set(err, CP_EIO, "auth: reading the message "
			    "failed");
			break;
		}
		if (n == 0)
			break;
		rc = cp_auth_write(a, chunk, (size_t)n, err);
	}
	if (rc == CP_OK)
		rc = cp_auth_finish(a, v, err);
	cp_auth_free(a);
	cp_free(chunk);
	return rc;
}

void
cp_auth_verdict_clear(cp_auth_verdict *v)
{
	if (v == NULL)
		return;
	cp_spf_result_clear(&v->spf_res);
	cp_free(v->sigs);
	for (size_t i = 0; i < v->ndmarcs; i++)
		cp_dmarc_verdict_clear(&v->dmarcs[i].v);
	cp_free(v->dmarcs);
	memset(v, 0, sizeof(*v));
}

int
cp_auth_add_authres(cp_authres *ar, const cp_auth_verdict *v,
    const cp_auth_envelope *env, cp_err *err)
{
	const char *reason = NULL;
	int rc;

	/* spf= (RFC 8601 2.7.2): the identity checked */
	if (v->spf == CP_AUTH_TEMPERROR || v->spf == CP_AUTH_PERMERROR)
		reason = v->spf_res.reason;
	rc = cp_authres_add_method(ar, "spf", cp_auth_result_name(v->spf),
	    reason, v->spf_res.mechanism[0] ? v->spf_res.mechanism : NULL, err);
	if (rc == CP_OK && !v->spf_helo)
		rc = cp_authres_add_prop(ar, "smtp", "mailfrom", env->mail_from,
		    err);
	else if (rc == CP_OK && env->helo != NULL && *env->helo != '\0')
		rc = cp_authres_add_prop(ar, "smtp", "helo", env->helo, err);
	/* dkim= (2.7.1), one per signature */
	if (rc == CP_OK && v->nsigs == 0)
		rc = cp_authres_add_method(ar, "dkim", "none", NULL, NULL, err);
	for (size_t i = 0; rc == CP_OK && i < v->nsigs; i++) {
		const cp_auth_dkim *s = &v->sigs[i];

		rc = cp_authres_add_dkim(ar, s->result, s->r.domain,
		    s->r.selector, s->b, s->result == CP_AUTH_PASS ? NULL
		    : s->r.why, err);
	}
	/* dmarc= (RFC 7489 11.2) */
	if (rc == CP_OK && v->ndmarcs == 0)
		rc = cp_authres_add_method(ar, "dmarc",
		    cp_dmarc_result_name(v->dmarc), v->dmarc_reason, NULL, err);
	for (size_t i = 0; rc == CP_OK && i < v->ndmarcs; i++)
		rc = cp_dmarc_add_authres(ar, &v->dmarcs[i].v, err);
	return rc;
}

int
cp_auth_render(const cp_auth_verdict *v, const cp_auth_envelope *env,
    const char *authserv_id, const char *fold, cp_buf *out, cp_err *err)
{
	cp_authres *ar = cp_authres_new(authserv_id, err);
	int rc;

	if (ar == NULL)
		return err && err->code ? err->code : CP_ENOMEM;
	rc = cp_auth_add_authres(ar, v, env, err);
	if (rc == CP_OK)
		rc = cp_authres_render(ar, fold, out, err);
	cp_authres_free(ar);
	return rc;
}
