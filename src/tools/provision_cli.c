/*
 * provision_cli.c - the provisioning step of `coldpost provision DOMAIN`
 * (cmd_provision.c) and `coldpost domain add --provision` (cmd_mailbox.c):
 * the DNS records a sending
 * domain needs (provision.h), shown as a table, zone-file lines or JSON,
 * or written to the domain's authoritative server with RFC 2136 updates
 * signed with TSIG (RFC 8945) and read back until the server answers with
 * them. Also the step behind `coldpost domain add --provision`.
 *
 * Inputs: a domain of the store gives its tenant's pool (IPs and EHLO
 * names) and its DKIM key; without a store, --ip and a key file (--key,
 * or --key-dir where a new key is made once and found again, so a second
 * run is the same). Existing records are read first (from the server
 * when applying, else from --dns-server or the system resolver) because
 * SPF is merged, DMARC and MX are kept, and nothing unchanged is sent.
 *
 * Key rotation (--rotate) publishes a new selector, waits until the
 * server answers with it, switches the store's domain to it (signing uses
 * it from then on), and removes the old record after --grace, or leaves
 * it for --retire when no grace is given: mail signed with the old key
 * may still be queued or in transit (RFC 6376 3.6.1 has the key looked
 * up at verification time).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/conf.h"
#include "coldpost/dkim.h"
#include "coldpost/dns.h"
#include "coldpost/provision.h"
#include "coldpost/store.h"
#include "model.h"
#include "provision_cli.h"
#include "tools.h"

/* Everything one run holds; freed by prov_ctx_clear. */
typedef struct prov_ctx {
	prov_args *a;
	cp_store *st;
	cp_domain *dom;            /* the store's row, or NULL */
	cp_prov_ip ips[PROV_MAX_IPS];
	char *ipmem[PROV_MAX_IPS * 2];
	size_t nips, nipmem;
	char selector[64], selector2[72];
	cp_buf rec1, rec2;         /* DKIM key records */
	cp_dkim_key *key;
	cp_dns *dns;
	cp_prov_server srv;
	cp_prov_tsig tsig;
	int have_tsig;
	cp_prov_existing exd, exb;
	cp_prov_plan *plan;
	cp_prov_state *before;     /* state of each record before applying */
	int read_ok;
} prov_ctx;

static int
prov_failf(const prov_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
prov_failf(const prov_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "coldpost %s: ", c->a->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
prov_exit(int rc)
{
	switch (rc) {
	case CP_OK: return CP_EXIT_OK;
	case CP_EINVAL: case CP_ESYNTAX: case CP_ETOOBIG: case CP_ENOTFOUND:
	case CP_ETEMP:
		return CP_EXIT_FAIL;
	default: return CP_EXIT_SYS;
	}
}

/* ---- inputs --------------------------------------------------------------- */

struct pool_collect {
	prov_ctx *c;
};

static int
prov_pool_cb(void *arg, const cp_pool *p)
{
	prov_ctx *c = ((struct pool_collect *)arg)->c;

	if (c->nips == PROV_MAX_IPS)
		return 1;
	c->ipmem[c->nipmem] = cp_strdup(p->addr);
	c->ips[c->nips].addr = c->ipmem[c->nipmem++];
	c->ipmem[c->nipmem] = cp_strdup(p->ehlo);
	c->ips[c->nips++].ehlo = c->ipmem[c->nipmem++];
	return 0;
}

static int
prov_gather_ips(prov_ctx *c)
{
	struct pool_collect pc = { c };
	cp_err err;

	for (size_t i = 0; i < c->a->nips; i++) {
		const char *s = c->a->ips[i], *eq = strchr(s, '=');

		c->ipmem[c->nipmem] = eq ? cp_strndup(s, (size_t)(eq - s)) :
		    cp_strdup(s);
		c->ips[c->nips].addr = c->ipmem[c->nipmem++];
		c->ips[c->nips++].ehlo = eq ? eq + 1 : c->a->ehlo;
	}
	if (c->nips == 0 && c->dom != NULL &&
	    cp_store_list_pools(c->st, c->dom->tenant, prov_pool_cb, &pc,
	    &err) != CP_OK)
		return prov_failf(c, CP_EXIT_SYS, "%s", err.msg);
	if (c->nips == 0)
		return prov_failf(c, CP_EXIT_USAGE, "%s: no sending IPs: give "
		    "--ip IP[=EHLO], or add the tenant's pool (coldpost pool "
		    "add)", c->a->domain);
	return CP_EXIT_OK;
}

/* Write a new private key file, mode 0600, never over an existing one. */
static int
prov_write_key(const char *path, const cp_dkim_key *k, cp_err *err)
{
	cp_buf pem;
	int fd, rc;

	cp_buf_init(&pem, CP_STORE_PEM_MAX);
	if ((rc = cp_dkim_key_pem(k, &pem, err)) != CP_OK)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, pem.data, pem.len) != (ssize_t)pem.len) {
		rc = cp_err_set(err, CP_EIO, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(path);
	}
	if (fd >= 0)
		close(fd);
	cp_buf_wipe(&pem);
	return rc;
}

/* The key in DIR/DOMAIN.SELECTOR.pem: loaded, or made and written. */
static int
prov_key_file(prov_ctx *c, const char *sel, cp_dkim_keytype type,
    cp_dkim_key **out, cp_err *err)
{
	cp_buf path;
	int rc;

	cp_buf_init(&path, 4096);
	cp_buf_addf(&path, "%s/%s.%s.pem", c->a->key_dir, c->a->domain, sel);
	if (access(path.data, F_OK) == 0)
		rc = cp_dkim_key_load(path.data, out, err);
	else if ((rc = cp_dkim_key_generate(type, 2048, out, err)) == CP_OK &&
	    (rc = prov_write_key(path.data, *out, err)) != CP_OK) {
		cp_dkim_key_free(*out);
		*out = NULL;
	}
	cp_buf_free(&path);
	return rc;
}

static void
prov_default_selector(char *sel, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(sel, len, "s%Y%m", &tm);
}

static int
prov_gather_keys(prov_ctx *c)
{
	cp_dkim_key *k2 = NULL;
	cp_err err;
	int rc;

	if (c->dom != NULL) {
		snprintf(c->selector, sizeof(c->selector), "%s",
		    c->dom->selector);
		rc = c->dom->key_pem ? cp_dkim_key_from_pem(c->dom->key_pem,
		    strlen(c->dom->key_pem), &c->key, &err) :
		    cp_dkim_key_load(c->dom->key_path, &c->key, &err);
	} else {
		if (c->a->selector)
			snprintf(c->selector, sizeof(c->selector), "%s",
			    c->a->selector);
		else
			prov_default_selector(c->selector, sizeof(c->selector));
		if (c->a->key != NULL)
			rc = cp_dkim_key_load(c->a->key, &c->key, &err);
		else if (c->a->key_dir != NULL)
			rc = prov_key_file(c, c->selector, CP_DKIM_KEY_RSA,
			    &c->key, &err);
		else
			return prov_failf(c, CP_EXIT_USAGE, "%s is not a domain "
			    "of the store: give --key FILE.pem, or --key-dir DIR "
			    "where the new DKIM key is kept", c->a->domain);
	}
	if (rc == CP_OK)
		rc = cp_dkim_key_record(c->key, &c->rec1, &err);
	if (rc != CP_OK)
		return prov_failf(c, prov_exit(rc), "DKIM key: %s", err.msg);
	if (!c->a->ed25519)
		return CP_EXIT_OK;
	if (c->a->key_dir == NULL)
		return prov_failf(c, CP_EXIT_USAGE, "--ed25519 needs --key-dir "
		    "DIR, where the second key is kept");
	snprintf(c->selector2, sizeof(c->selector2), "%s-ed", c->selector);
	rc = prov_key_file(c, c->selector2, CP_DKIM_KEY_ED25519, &k2, &err);
	if (rc == CP_OK)
		rc = cp_dkim_key_record(k2, &c->rec2, &err);
	cp_dkim_key_free(k2);
	if (rc != CP_OK)
		return prov_failf(c, prov_exit(rc), "Ed25519 key: %s", err.msg);
	return CP_EXIT_OK;
}

/* --server as a resolver spec: its host may be a name, c-ares wants an
 * address ("ns1.acme.example:53" -> "192.0.2.53:53"). */
static void
prov_server_spec(const prov_ctx *c, char *spec, size_t len)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char host[sizeof(c->srv.host)] = "";

	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(c->srv.host, c->srv.port, &hints, &res) == 0) {
		getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host),
		    NULL, 0, NI_NUMERICHOST);
		freeaddrinfo(res);
	}
	if (host[0] == '\0')
		snprintf(host, sizeof(host), "%s", c->srv.host);
	snprintf(spec, len, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host,
	    c->srv.port);
}

static int
prov_open_dns(prov_ctx *c)
{
	cp_dns_config cfg = { 0 };
	char spec[300];
	cp_err err;

	cfg.servers = c->a->dns_server;
	if (cfg.servers == NULL && c->a->server != NULL) {
		prov_server_spec(c, spec, sizeof(spec));
		cfg.servers = spec;
	}
	cfg.timeout_ms = c->a->timeout_ms > 0 ? (int)c->a->timeout_ms : 1000;
	cfg.tries = 2;
	cfg.no_cache = 1; /* polling must see the server, not a cache */
	if ((c->dns = cp_dns_new_cares(&cfg, &err)) == NULL)
		return prov_failf(c, CP_EXIT_USAGE, "--dns-server: %s", err.msg);
	return CP_EXIT_OK;
}

/* Records the server does not serve are for someone else to publish
 * (a PTR in the hosting provider's reverse zone): ELSEWHERE. */
static int
prov_mark_zones(prov_ctx *c, cp_prov_plan *p)
{
	cp_err err = { 0 };
	char z[256];
	int rc;

	for (size_t i = 0; i < p->n; i++) {
		cp_prov_record *r = &p->rec[i];

		if (r->state == CP_PROV_BLOCKED || r->how == CP_PROV_KEEP)
			continue;
		if ((rc = cp_prov_find_zone(&c->srv, r->owner, z, sizeof(z),
		    &err)) != CP_OK)
			return prov_failf(c, prov_exit(rc), "%s", err.msg);
		if (z[0] == '\0')
			r->state = CP_PROV_ELSEWHERE;
	}
	return CP_EXIT_OK;
}

/* Read what exists and compute the plan (and compare it). */
static int
prov_make_plan(prov_ctx *c)
{
	const char *bounce = c->a->bounce ? c->a->bounce :
	    c->a->default_bounce ? c->a->default_bounce : c->a->domain;
	cp_prov_input in = { 0 };
	char dmarc[300];
	int has_dmarc = 0, has_mx = 0, rc;
	cp_err err = { 0 };

	snprintf(dmarc, sizeof(dmarc), "_dmarc.%s", c->a->domain);
	rc = cp_prov_read_spf(c->dns, c->a->domain, &c->exd, &err);
	if (rc == CP_OK && strcasecmp(bounce, c->a->domain) != 0)
		rc = cp_prov_read_spf(c->dns, bounce, &c->exb, &err);
	if (rc == CP_OK)
		rc = cp_prov_has_record(c->dns, dmarc, CP_DNS_TXT, &has_dmarc,
		    &err);
	if (rc == CP_OK)
		rc = cp_prov_has_record(c->dns, c->a->domain, CP_DNS_MX, &has_mx,
		    &err);
	c->read_ok = rc == CP_OK;
	if (rc != CP_OK && (c->a->apply || rc != CP_ETEMP))
		return prov_failf(c, prov_exit(rc), "cannot read what %s has "
		    "now: %s", c->a->domain, err.msg);
	if (rc != CP_OK)
		fprintf(stderr, "coldpost %s: warning: cannot read what %s has "
		    "now (%s): the plan assumes nothing exists\n", c->a->cmd,
		    c->a->domain, err.msg);
	in.domain = c->a->domain;
	in.ips = c->ips;
	in.nips = c->nips;
	in.bounce_domain = bounce;
	in.mx_host = c->a->mx;
	in.selector = c->selector;
	in.dkim_record = c->rec1.data;
	in.selector2 = c->selector2[0] ? c->selector2 : NULL;
	in.dkim_record2 = c->rec2.data;
	in.rua = c->a->rua;
	in.ttl = c->a->ttl;
	in.spf_domain = c->exd;
	in.spf_bounce = c->exb;
	in.has_dmarc = has_dmarc;
	in.domain_has_mx = has_mx;
	if ((rc = cp_prov_plan_compute(&in, &c->plan, &err)) != CP_OK)
		return prov_failf(c, prov_exit(rc), "%s", err.msg);
	if (c->a->apply && (rc = prov_mark_zones(c, c->plan)) != CP_EXIT_OK)
		return rc;
	if (c->read_ok &&
	    (rc = cp_prov_plan_compare(c->plan, c->dns, NULL, &err)) != CP_OK)
		return prov_failf(c, prov_exit(rc), "%s", err.msg);
	return CP_EXIT_OK;
}

/* ---- output ------------------------------------------------------------------ */

static const char *
prov_state_word(const prov_ctx *c, size_t i)
{
	cp_prov_state now = c->plan->rec[i].state;
	cp_prov_state was = c->before ? c->before[i] : now;

	if (!c->a->apply)
		return now == CP_PROV_UNKNOWN ? "?" : cp_prov_state_name(now);
	if (was == CP_PROV_NEW)
		return now == CP_PROV_SAME ? "added" : "not-seen";
	if (was == CP_PROV_CHANGE)
		return now == CP_PROV_SAME ? "replaced" : "not-seen";
	if (was == CP_PROV_SAME)
		return "unchanged";
	if (was == CP_PROV_ELSEWHERE)
		return "by-hand";
	return cp_prov_state_name(was);
}

static void
prov_print_zone(const prov_ctx *c)
{
	cp_buf line;

	cp_buf_init(&line, 1 << 17);
	printf("; DNS records for %s (coldpost provision)\n", c->plan->domain);
	for (size_t i = 0; i < c->plan->n; i++) {
		const cp_prov_record *r = &c->plan->rec[i];

		cp_buf_reset(&line);
		if (r->how == CP_PROV_KEEP) {
			printf("; %s %s: kept as it is\n", r->owner,
			    cp_dns_type_name(r->type));
			continue;
		}
		cp_prov_zone_line(r, &line);
		if (r->state == CP_PROV_BLOCKED)
			printf("; not written (%s): ", r->note ? r->note : "");
		else if (r->kind == CP_PROV_PTR)
			printf("; reverse zone, for the IP's owner:\n");
		printf("%s\n", line.data ? line.data : "");
	}
	cp_buf_free(&line);
}

static void
prov_print_table(const prov_ctx *c, size_t nchanged)
{
	printf("%-10s %-5s %-44s %s\n", "STATE", "TYPE", "NAME", "VALUE");
	for (size_t i = 0; i < c->plan->n; i++) {
		const cp_prov_record *r = &c->plan->rec[i];
		const char *v = r->how == CP_PROV_KEEP ? "(existing kept)" :
		    r->data;
		size_t vl = strlen(v);

		printf("%-10s %-5s %-44s %.*s%s\n", prov_state_word(c, i),
		    cp_dns_type_name(r->type), r->owner, (int)CP_MIN(vl, 60), v,
		    vl > 60 ? "..." : "");
	}
	printf("\nSPF lookups: %d of %d\n", c->plan->spf_lookups,
	    CP_PROV_SPF_LIMIT);
	printf("notes:\n");
	for (size_t i = 0; i < c->plan->n; i++) {
		const cp_prov_record *r = &c->plan->rec[i];
		int seen = 0;
		cp_buf b;

		for (size_t j = 0; j < i && r->note; j++)
			seen |= c->plan->rec[j].note != NULL &&
			    c->plan->rec[j].kind == r->kind &&
			    strcmp(c->plan->rec[j].note, r->note) == 0;
		if (r->note == NULL || seen)
			continue;
		cp_buf_init(&b, 1 << 16);
		cp_buf_addf(&b, "%s (%s): %s", r->owner,
		    cp_prov_kind_name(r->kind), r->note);
		out_wrap(stdout, b.data, 2, 78);
		cp_buf_free(&b);
	}
	if (c->a->apply)
		printf("\n%s\n", nchanged ? "records written and answered by "
		    "the server" : "no change: every record is already "
		    "published");
}

static void
prov_print_json(const prov_ctx *c, size_t nchanged)
{
	json_t *o = json_object(), *a = json_array();

	json_object_set_new(o, "domain", out_jstr(c->plan->domain));
	json_object_set_new(o, "spf_lookups", json_integer(
	    c->plan->spf_lookups));
	json_object_set_new(o, "blocked", json_integer(c->plan->blocked));
	json_object_set_new(o, "applied", json_boolean(c->a->apply));
	json_object_set_new(o, "changes", json_integer((json_int_t)nchanged));
	for (size_t i = 0; i < c->plan->n; i++) {
		const cp_prov_record *r = &c->plan->rec[i];
		json_t *j = json_object();
		cp_buf line;

		cp_buf_init(&line, 1 << 17);
		json_object_set_new(j, "kind", out_jstr(cp_prov_kind_name(
		    r->kind)));
		json_object_set_new(j, "name", out_jstr(r->owner));
		json_object_set_new(j, "type", out_jstr(cp_dns_type_name(
		    r->type)));
		json_object_set_new(j, "ttl", json_integer(r->ttl));
		json_object_set_new(j, "value", r->how == CP_PROV_KEEP ?
		    json_null() : out_jstr(r->data));
		if (r->how != CP_PROV_KEEP && cp_prov_zone_line(r, &line) ==
		    CP_OK)
			json_object_set_new(j, "zone_line", out_jstr(line.data));
		json_object_set_new(j, "replaces", out_jstr(r->old));
		json_object_set_new(j, "state", out_jstr(prov_state_word(c, i)));
		json_object_set_new(j, "note", out_jstr(r->note));
		json_array_append_new(a, j);
		cp_buf_free(&line);
	}
	json_object_set_new(o, "records", a);
	out_json_pretty(stdout, o);
	json_decref(o);
}

/* ---- applying ------------------------------------------------------------------ */

static int
prov_is_change(cp_prov_state s)
{
	return s == CP_PROV_NEW || s == CP_PROV_CHANGE;
}

/* Send one UPDATE to zone; 0 applied, else the exit code (printed). */
static int
prov_send(prov_ctx *c, const char *zone, const cp_prov_plan *p,
    const char *const *remove, size_t nremove)
{
	cp_prov_reply rep;
	cp_err err = { 0 };
	int rc;

	rc = cp_prov_update_send(&c->srv, c->have_tsig ? &c->tsig : NULL, zone,
	    p, remove, nremove, &rep, &err);
	if (rc != CP_OK)
		return prov_failf(c, prov_exit(rc), "update of zone %s: %s", zone,
		    err.msg);
	if (rep.rcode != 0)
		return prov_failf(c, CP_EXIT_FAIL, "update of zone %s refused: %s",
		    zone, rep.why);
	if (c->have_tsig && rep.tsig != 1)
		return prov_failf(c, CP_EXIT_FAIL, "update of zone %s: the reply "
		    "is %s: not trusted", zone, rep.tsig == 0 ? "not signed" :
		    "signed with a MAC that does not verify");
	if (c->have_tsig && llabs((long long)(time(NULL) - rep.signed_at)) >
	    300)
		return prov_failf(c, CP_EXIT_FAIL, "update of zone %s: the reply "
		    "was signed at %lld, over 300 s from this clock (RFC 8945 "
		    "5.4.3): not trusted", zone, (long long)rep.signed_at);
	return CP_EXIT_OK;
}

/* Poll the server until no record of p is NEW or CHANGE any more. */
static int
prov_poll(prov_ctx *c, cp_prov_plan *p)
{
	int64_t waited = 0, wait = c->a->wait_ms > 0 ? c->a->wait_ms : 10000;
	struct timespec ts = { 0, 200 * 1000000L };
	cp_err err = { 0 };

	for (;;) {
		size_t pending = 0;

		for (size_t i = 0; i < p->n; i++)
			if (prov_is_change(p->rec[i].state))
				p->rec[i].state = CP_PROV_UNKNOWN;
		if (cp_prov_plan_compare(p, c->dns, &pending, &err) != CP_OK)
			pending = 1;
		if (pending == 0)
			return CP_EXIT_OK;
		if (waited >= wait)
			return prov_failf(c, CP_EXIT_FAIL, "the server accepted "
			    "the update but does not answer with the new "
			    "records after %lld ms", (long long)wait);
		nanosleep(&ts, NULL);
		waited += 200;
	}
}

/* Find the zone of each changed record; send an update per zone. */
static int
prov_apply_plan(prov_ctx *c, cp_prov_plan *p)
{
	char zones[16][256];
	size_t nz = 0;
	cp_err err = { 0 };
	int rc;

	for (size_t i = 0; i < p->n; i++) {
		cp_prov_record *r = &p->rec[i];
		char z[256];
		size_t j;

		if (!prov_is_change(r->state))
			continue;
		if ((rc = cp_prov_find_zone(&c->srv, r->owner, z, sizeof(z),
		    &err)) != CP_OK)
			return prov_failf(c, prov_exit(rc), "%s", err.msg);
		if (z[0] == '\0') {
			r->state = CP_PROV_ELSEWHERE;
			if (c->before)
				c->before[i] = CP_PROV_ELSEWHERE;
			continue;
		}
		for (j = 0; j < nz && strcmp(zones[j], z) != 0; j++)
			;
		if (j == nz && nz < CP_NELEM(zones))
			snprintf(zones[nz++], sizeof(zones[0]), "%s", z);
	}
	for (size_t j = 0; j < nz; j++)
		if ((rc = prov_send(c, zones[j], p, NULL, 0)) != CP_EXIT_OK)
			return rc;
	return nz ? prov_poll(c, p) : CP_EXIT_OK;
}

static int
prov_setup_server(prov_ctx *c)
{
	cp_err err;

	if (c->a->server == NULL)
		return prov_failf(c, CP_EXIT_USAGE, "--apply, --rotate and "
		    "--retire need --server HOST:PORT (the domain's "
		    "authoritative server)");
	if (cp_prov_server_parse(c->a->server, &c->srv, &err) != CP_OK)
		return prov_failf(c, CP_EXIT_USAGE, "--server: %s", err.msg);
	c->srv.timeout_ms = c->a->timeout_ms > 0 ? (int)c->a->timeout_ms :
	    5000;
	if (c->a->tsig != NULL) {
		if (cp_prov_tsig_parse(c->a->tsig, &c->tsig, &err) != CP_OK)
			return prov_failf(c, CP_EXIT_USAGE, "--tsig: %s", err.msg);
		c->have_tsig = 1;
	}
	return CP_EXIT_OK;
}

/* ---- DKIM selectors: retire and rotate ------------------------------------- */

/* Remove SEL._domainkey.DOMAIN; 0 done (or nothing to do). */
static int
prov_retire(prov_ctx *c, const char *sel)
{
	char owner[320], zone[256];
	const char *rm[1] = { owner };
	cp_err err = { 0 };
	int has = 0, rc;

	snprintf(owner, sizeof(owner), "%s._domainkey.%s", sel, c->a->domain);
	if ((rc = cp_prov_has_record(c->dns, owner, CP_DNS_TXT, &has, &err)) !=
	    CP_OK)
		return prov_failf(c, prov_exit(rc), "%s", err.msg);
	if (!has) {
		printf("no change: %s has no record\n", owner);
		return CP_EXIT_OK;
	}
	if ((rc = cp_prov_find_zone(&c->srv, owner, zone, sizeof(zone),
	    &err)) != CP_OK)
		return prov_failf(c, prov_exit(rc), "%s", err.msg);
	if (zone[0] == '\0')
		return prov_failf(c, CP_EXIT_FAIL, "the server does not serve "
		    "%s", owner);
	if ((rc = prov_send(c, zone, NULL, rm, 1)) != CP_EXIT_OK)
		return rc;
	for (int i = 0; i < 50; i++) {
		struct timespec ts = { 0, 200 * 1000000L };

		if (cp_prov_has_record(c->dns, owner, CP_DNS_TXT, &has, &err) ==
		    CP_OK && !has) {
			printf("removed %s TXT (DKIM selector %s retired)\n", owner,
			    sel);
			return CP_EXIT_OK;
		}
		nanosleep(&ts, NULL);
	}
	return prov_failf(c, CP_EXIT_FAIL, "%s still answers after the "
	    "update", owner);
}

/* A selector for the new key: --selector, else sYYYYMMDD, made unique. */
static void
prov_new_selector(const prov_ctx *c, char *sel, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	if (c->a->selector != NULL) {
		snprintf(sel, len, "%s", c->a->selector);
		return;
	}
	gmtime_r(&now, &tm);
	strftime(sel, len, "s%Y%m%d", &tm);
	n = strlen(sel);
	for (char x = 'b'; strcasecmp(sel, c->dom->selector) == 0 && x <= 'z' &&
	    n + 1 < len; x++) {
		sel[n] = x;
		sel[n + 1] = '\0';
	}
}

static int
prov_rotate(prov_ctx *c)
{
	char sel[64], owner[320];
	cp_dkim_key *k = NULL;
	cp_buf rec, pem;
	cp_prov_plan *p = NULL;
	cp_domain nd;
	cp_err err = { 0 };
	char *old = NULL;
	int ed = strncmp(c->dom->alg, "ed25519", 7) == 0, rc;

	prov_new_selector(c, sel, sizeof(sel));
	if (strcasecmp(sel, c->dom->selector) == 0)
		return prov_failf(c, CP_EXIT_USAGE, "--selector %s is the "
		    "selector in use: give a new one", sel);
	cp_buf_init(&rec, 1 << 16);
	cp_buf_init(&pem, CP_STORE_PEM_MAX);
	snprintf(owner, sizeof(owner), "%s._domainkey.%s", sel, c->a->domain);
	rc = cp_dkim_key_generate(ed ? CP_DKIM_KEY_ED25519 : CP_DKIM_KEY_RSA,
	    2048, &k, &err);
	if (rc == CP_OK)
		rc = cp_dkim_key_record(k, &rec, &err);
	if (rc == CP_OK)
		rc = cp_dkim_key_pem(k, &pem, &err);
	if (rc == CP_OK && ((p = cp_prov_plan_new(c->a->domain)) == NULL ||
	    cp_prov_plan_add(p, CP_PROV_DKIM, CP_PROV_RRSET, owner, CP_DNS_TXT,
	    c->a->ttl ? c->a->ttl : CP_PROV_TTL, rec.data, NULL, NULL) == NULL))
		rc = cp_err_set(&err, CP_ENOMEM, "out of memory");
	if (rc == CP_OK)
		rc = cp_prov_plan_compare(p, c->dns, NULL, &err);
	if (rc != CP_OK) {
		rc = prov_failf(c, prov_exit(rc), "rotate: %s", err.msg);
		goto out;
	}
	if ((rc = prov_apply_plan(c, p)) != CP_EXIT_OK)
		goto out;
	if (p->rec[0].state != CP_PROV_SAME) {
		rc = prov_failf(c, CP_EXIT_FAIL, "rotate: %s is not in a zone "
		    "of the server", owner);
		goto out;
	}
	printf("published %s TXT (new DKIM selector %s); the server answers "
	    "with it\n", owner, sel);
	old = cp_strdup(c->dom->selector);
	nd = *c->dom;
	nd.selector = sel;
	nd.key_pem = pem.data;
	nd.key_path = NULL;
	nd.alg = cp_dkim_alg_name(cp_dkim_key_alg(k));
	if ((rc = cp_store_set_domain_key(c->st, &nd, &err)) != CP_OK) {
		rc = prov_failf(c, prov_exit(rc), "rotate: %s", err.msg);
		goto out;
	}
	printf("signing switched: %s now signs with selector %s (was %s)\n",
	    c->a->domain, sel, old);
	if (!c->a->has_grace) {
		printf("the old record %s._domainkey.%s stays: mail signed with "
		    "it may still be queued. Once it is delivered, run\n  "
		    "coldpost provision %s --retire %s --server %s "
		    "--tsig ...\n", old, c->a->domain, c->a->domain, old,
		    c->a->server);
		goto out;
	}
	if (c->a->grace_ms > 0) {
		struct timespec ts = { c->a->grace_ms / 1000,
			(c->a->grace_ms % 1000) * 1000000L };

		printf("grace period: the old selector %s stays for %lld ms\n",
		    old, (long long)c->a->grace_ms);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	rc = prov_retire(c, old);
out:
	cp_free(old);
	cp_prov_plan_free(p);
	cp_dkim_key_free(k);
	cp_buf_free(&rec);
	cp_buf_wipe(&pem);
	return rc;
}

/* ---- the step ------------------------------------------------------------------ */

static void
prov_ctx_clear(prov_ctx *c)
{
	for (size_t i = 0; i < c->nipmem; i++)
		cp_free(c->ipmem[i]);
	cp_buf_free(&c->rec1);
	cp_buf_free(&c->rec2);
	cp_dkim_key_free(c->key);
	cp_prov_existing_clear(&c->exd);
	cp_prov_existing_clear(&c->exb);
	cp_prov_plan_free(c->plan);
	cp_free(c->before);
	cp_domain_free(c->dom);
	cp_dns_free(c->dns);
	memset(&c->tsig, 0, sizeof(c->tsig));
}

static int
prov_find_domain(prov_ctx *c)
{
	cp_err err;
	int rc;

	if (c->st == NULL)
		return CP_EXIT_OK;
	rc = cp_store_get_domain(c->st, c->a->domain, &c->dom, &err);
	if (rc == CP_ENOTFOUND)
		c->dom = NULL;
	else if (rc != CP_OK)
		return prov_failf(c, prov_exit(rc), "%s", err.msg);
	if (c->dom == NULL && (c->a->rotate || c->a->retire))
		return prov_failf(c, CP_EXIT_FAIL, "%s is not a domain of the "
		    "store: --rotate and --retire switch the store's key",
		    c->a->domain);
	if (c->dom != NULL && c->a->retire != NULL &&
	    strcasecmp(c->a->retire, c->dom->selector) == 0)
		return prov_failf(c, CP_EXIT_FAIL, "--retire %s: the domain signs "
		    "with this selector (rotate first)", c->a->retire);
	return CP_EXIT_OK;
}

static int
prov_plan_and_apply(prov_ctx *c)
{
	size_t nch = 0;
	int rc;

	if ((rc = prov_gather_ips(c)) != CP_EXIT_OK ||
	    (rc = prov_gather_keys(c)) != CP_EXIT_OK ||
	    (rc = prov_make_plan(c)) != CP_EXIT_OK)
		return rc;
	for (size_t i = 0; i < c->plan->n; i++)
		nch += prov_is_change(c->plan->rec[i].state);
	if (c->a->apply) {
		c->before = cp_calloc(c->plan->n + 1, sizeof(*c->before));
		if (c->before == NULL)
			return prov_failf(c, CP_EXIT_SYS, "out of memory");
		for (size_t i = 0; i < c->plan->n; i++)
			c->before[i] = c->plan->rec[i].state;
		if (nch > 0 && (rc = prov_apply_plan(c, c->plan)) != CP_EXIT_OK)
			return rc;
		nch = 0;
		for (size_t i = 0; i < c->plan->n; i++)
			nch += c->plan->rec[i].state == CP_PROV_SAME &&
			    prov_is_change(c->before[i]);
	}
	if (c->a->json)
		prov_print_json(c, nch);
	else if (c->a->zone)
		prov_print_zone(c);
	else
		prov_print_table(c, nch);
	return c->plan->blocked ? CP_EXIT_FAIL : CP_EXIT_OK;
}

int
prov_run(prov_args *a, cp_store *st)
{
	prov_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.a = a;
	c.st = st;
	cp_buf_init(&c.rec1, 1 << 16);
	cp_buf_init(&c.rec2, 1 << 16);
	if ((a->apply || a->rotate || a->retire) &&
	    (rc = prov_setup_server(&c)) != CP_EXIT_OK)
		goto out;
	if ((rc = prov_find_domain(&c)) != CP_EXIT_OK ||
	    (rc = prov_open_dns(&c)) != CP_EXIT_OK)
		goto out;
	if (a->retire)
		rc = prov_retire(&c, a->retire);
	else if (a->rotate)
		rc = prov_rotate(&c);
	else
		rc = prov_plan_and_apply(&c);
out:
	prov_ctx_clear(&c);
	return rc;
}
