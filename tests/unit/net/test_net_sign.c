/*
 * Unit tests: src/net/net_cache.c and net_work_sign (net_work.c) against a
 * temporary SQLite store: domains and logins found and remembered, the
 * signing domain chosen (From when the tenant owns it, else the mailbox's
 * domain; never another tenant's key), the signature put in front of the
 * message and verified with coldpost's own verifier over a fake resolver
 * holding the published key records, and a domain without a key leaving
 * the message unsigned.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coldpost/alloc.h"
#include "coldpost/dkim.h"
#include "coldpost/dns.h"
#include "coldpost/store.h"
#include "cptest.h"
#include "net/net_int.h"

typedef struct fixture {
	char dir[256];
	cp_store *st;
	cp_dns *dns;
	int64_t acme, beta;
} fixture;

static void
add_domain(fixture *f, int64_t tenant, const char *name, const char *sel,
    cp_dkim_keytype type)
{
	cp_dkim_key *k = NULL;
	cp_buf pem, rec, owner;
	cp_domain d;
	cp_err err = { 0 };

	cp_buf_init(&pem, 1 << 16);
	cp_buf_init(&rec, 1 << 16);
	cp_buf_init(&owner, 512);
	CP_CHECK(cp_dkim_key_generate(type, 2048, &k, &err) == CP_OK, "%s",
	    err.msg);
	CP_CHECK(cp_dkim_key_pem(k, &pem, &err) == CP_OK, "%s", err.msg);
	CP_CHECK(cp_dkim_key_record(k, &rec, &err) == CP_OK, "%s", err.msg);
	memset(&d, 0, sizeof(d));
	d.tenant = tenant;
	d.name = name;
	d.selector = sel;
	d.key_pem = pem.data;
	d.alg = cp_dkim_alg_name(cp_dkim_key_alg(k));
	CP_CHECK(cp_store_add_domain(f->st, &d, &err) == CP_OK, "%s", err.msg);
	cp_buf_addf(&owner, "%s._domainkey.%s", sel, name);
	CP_CHECK(cp_dns_fake_add(f->dns, owner.data, CP_DNS_TXT, rec.data,
	    &err) == CP_OK, "%s", err.msg);
	cp_dkim_key_free(k);
	cp_buf_wipe(&pem);
	cp_buf_free(&rec);
	cp_buf_free(&owner);
}

static void
setup(fixture *f)
{
	const char *tmp = getenv("TMPDIR");
	cp_tenant t = { 0 };
	cp_mailbox m = { 0 };
	cp_domain d = { 0 };
	cp_buf dsn;
	cp_err err = { 0 };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/cp-net-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	CP_CHECK(mkdtemp(f->dir) != NULL, "mkdtemp");
	cp_buf_init(&dsn, 512);
	cp_buf_addf(&dsn, "sqlite:%s/q.db", f->dir);
	f->st = cp_store_open(dsn.data, &err);
	CP_CHECK(f->st != NULL, "%s", err.msg);
	cp_buf_free(&dsn);
	f->dns = cp_dns_new_fake();
	t.name = "acme";
	CP_CHECK(cp_store_add_tenant(f->st, &t, &err) == CP_OK, "%s", err.msg);
	f->acme = t.id;
	t.name = "beta";
	t.id = 0;
	CP_CHECK(cp_store_add_tenant(f->st, &t, &err) == CP_OK, "%s", err.msg);
	f->beta = t.id;
	add_domain(f, f->acme, "acme.example", "s1", CP_DKIM_KEY_RSA);
	add_domain(f, f->beta, "beta.example", "b1", CP_DKIM_KEY_ED25519);
	/* a domain whose key file does not exist */
	d.tenant = f->acme;
	d.name = "nokey.example";
	d.selector = "n1";
	d.key_path = "/nonexistent/coldpost-test-key.pem";
	d.alg = "rsa-sha256";
	CP_CHECK(cp_store_add_domain(f->st, &d, &err) == CP_OK, "%s", err.msg);
	m.tenant = f->acme;
	m.address = "ann@acme.example";
	m.tz = "UTC";
	m.daily_cap = -1;
	CP_CHECK(cp_store_add_mailbox(f->st, &m, &err) == CP_OK, "%s", err.msg);
	CP_CHECK(cp_store_set_password(f->st, "ann@acme.example", "secret", 6,
	    &err) == CP_OK, "%s", err.msg);
}

static void
teardown(fixture *f)
{
	char path[512];

	cp_store_close(f->st);
	cp_dns_free(f->dns);
	snprintf(path, sizeof(path), "%s/q.db", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/q.db-wal", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/q.db-shm", f->dir);
	unlink(path);
	rmdir(f->dir);
}

static net_job *
message(int64_t tenant, const char *fallback, const char *text)
{
	net_job *j = cp_calloc(1, sizeof(*j));

	cp_buf_init(&j->body, 1 << 20);
	cp_buf_adds(&j->body, text);
	j->tenant = tenant;
	snprintf(j->fallback, sizeof(j->fallback), "%s", fallback);
	return j;
}

/* The first signature of the message verifies; its d= is want_d. */
static void
check_verifies(fixture *f, const net_job *j, const char *want_d)
{
	cp_dkim_verify_opts o = { 0 };
	cp_dkim_verifier *v = NULL;
	const cp_dkim_result *r;
	cp_err err = { 0 };

	o.dns = f->dns;
	CP_CHECK(cp_dkim_verifier_new(&o, &v, &err) == CP_OK, "%s", err.msg);
	CP_CHECK(cp_dkim_verifier_write(v, j->body.data, j->body.len, &err) ==
	    CP_OK, "%s", err.msg);
	CP_CHECK(cp_dkim_verifier_finish(v, &err) == CP_OK, "%s", err.msg);
	CP_CHECK(cp_dkim_verifier_count(v) == 1, "signatures: %zu",
	    cp_dkim_verifier_count(v));
	if (cp_dkim_verifier_count(v) == 1) {
		r = cp_dkim_verifier_result(v, 0);
		CP_CHECK(r->status == CP_DKIM_PASS, "status %s: %s",
		    cp_dkim_status_name(r->status), r->why);
		CP_CHECK_STR(r->domain, want_d);
	}
	cp_dkim_verifier_free(v);
}

static const char msg_acme[] =
	"Received: from client (client [192.0.2.1]) by relay.test\r\n"
	"From: Ann <ann@acme.example>\r\n"
	"To: bob@dest.example\r\n"
	"Subject: hello\r\n"
	"Message-ID: <m1@acme.example>\r\n"
	"X-Mailer: test\r\n"
	"\r\n"
	"Hello.\r\n";

CP_TEST(net_sign_from_domain)
{
	fixture f;
	net_cache *c;
	net_job *j;

	setup(&f);
	c = net_cache_new(f.st);
	j = message(f.acme, "acme.example", msg_acme);
	net_work_sign(c, j);
	CP_CHECK_STR(j->sign_d, "acme.example");
	CP_CHECK_STR(j->sign_s, "s1");
	CP_CHECK_STR(j->message_id, "<m1@acme.example>");
	CP_CHECK(strncmp(j->body.data, "DKIM-Signature:", 15) == 0,
	    "the signature comes first");
	CP_CHECK(strstr(j->body.data, "h=from:from:to:subject:message-id;") !=
	    NULL, "h= lists the present fields, From over-signed: %.400s",
	    j->body.data);
	CP_CHECK(strstr(j->body.data, "c=relaxed/relaxed") != NULL, "c=");
	CP_CHECK(strstr(j->body.data, msg_acme) != NULL, "message intact");
	check_verifies(&f, j, "acme.example");
	net_job_free(j);
	net_cache_free(c);
	teardown(&f);
}

CP_TEST(net_sign_foreign_from)
{
	fixture f;
	net_cache *c;
	net_job *j;

	setup(&f);
	c = net_cache_new(f.st);
	/* tenant beta's mailbox writes From: acme.example: beta's key only */
	j = message(f.beta, "beta.example",
	    "From: ceo@acme.example\r\nSubject: x\r\n\r\nbody\r\n");
	net_work_sign(c, j);
	CP_CHECK_STR(j->sign_d, "beta.example");
	CP_CHECK(strstr(j->body.data, "a=ed25519-sha256") != NULL,
	    "beta's Ed25519 key");
	CP_CHECK(strstr(j->body.data, "d=acme.example") == NULL,
	    "never acme's key");
	check_verifies(&f, j, "beta.example");
	net_job_free(j);
	/* a folded Message-ID is unfolded for the store */
	j = message(f.beta, "beta.example", "From: bob@beta.example\r\n"
	    "Message-ID:\r\n\t<m2@beta.example>\r\n\r\nbody\r\n");
	net_work_sign(c, j);
	CP_CHECK_STR(j->message_id, "<m2@beta.example>");
	net_job_free(j);
	/* an unknown From domain: the mailbox's domain signs */
	j = message(f.acme, "acme.example",
	    "From: someone@gmail.example\r\n\r\nbody\r\n");
	net_work_sign(c, j);
	CP_CHECK_STR(j->sign_d, "acme.example");
	CP_CHECK_STR(j->message_id, "");
	net_job_free(j);
	net_cache_free(c);
	teardown(&f);
}

CP_TEST(net_sign_no_key)
{
	fixture f;
	net_cache *c;
	net_job *j;

	setup(&f);
	c = net_cache_new(f.st);
	j = message(f.acme, "nokey.example",
	    "From: news@nokey.example\r\n\r\nbody\r\n");
	net_work_sign(c, j);
	CP_CHECK_STR(j->sign_d, "");
	CP_CHECK(strstr(j->unsigned_why, "nokey.example") != NULL, "why: %s",
	    j->unsigned_why);
	CP_CHECK(strncmp(j->body.data, "From:", 5) == 0, "left as it was");
	net_job_free(j);
	/* a fallback domain of another tenant is never used */
	j = message(f.acme, "beta.example", "From: x@beta.example\r\n\r\nb\r\n");
	net_work_sign(c, j);
	CP_CHECK_STR(j->sign_d, "");
	net_job_free(j);
	net_cache_free(c);
	teardown(&f);
}

CP_TEST(net_cache_lookups)
{
	fixture f;
	net_cache *c;
	net_domain d;
	net_login l;
	cp_err err = { 0 };
	int ok = 0;

	setup(&f);
	c = net_cache_new(f.st);
	/* from memory only: a miss until a worker asked the store */
	CP_CHECK_INT(net_cache_domain(c, "acme.example", 0, 0, &d, &err), 0);
	CP_CHECK_INT(net_cache_domain(c, "acme.example", 1, 0, &d, &err), 1);
	CP_CHECK(d.found && d.tenant == f.acme && d.key == NULL, "acme");
	CP_CHECK_INT(net_cache_domain(c, "ACME.example", 0, 1, &d, &err), 1);
	CP_CHECK(d.found && d.key != NULL, "cached, with the key");
	cp_dkim_key_free(d.key);
	CP_CHECK_INT(net_cache_domain(c, "unknown.example", 1, 0, &d, &err),
	    1);
	CP_CHECK(!d.found, "unknown domain");
	CP_CHECK_INT(net_cache_domain(c, "unknown.example", 0, 0, &d, &err),
	    1);
	CP_CHECK(!d.found, "unknown domain remembered");
	/* logins */
	CP_CHECK(net_cache_login(c, "ann@acme.example", "wrong", 5, &ok, &l,
	    &err) == CP_OK && !ok, "wrong password");
	CP_CHECK(net_cache_login(c, "ann@acme.example", "secret", 6, &ok, &l,
	    &err) == CP_OK && ok, "right password: %s", err.msg);
	CP_CHECK(l.tenant == f.acme && !l.send_as_domain, "login record");
	CP_CHECK_STR(l.address, "ann@acme.example");
	CP_CHECK_STR(l.domain, "acme.example");
	/* remembered: a right password again is ok, a wrong one is not */
	CP_CHECK(net_cache_login(c, "ann@acme.example", "secret", 6, &ok, &l,
	    &err) == CP_OK && ok, "cached login");
	CP_CHECK(net_cache_login(c, "ann@acme.example", "secreT", 6, &ok, &l,
	    &err) == CP_OK && !ok, "cache keyed by the password");
	CP_CHECK(net_cache_login(c, "not an address", "x", 1, &ok, &l,
	    &err) == CP_OK && !ok, "malformed user is a failed login");
	CP_CHECK(net_cache_login(c, "nobody@acme.example", "secret", 6, &ok,
	    &l, &err) == CP_OK && !ok, "unknown mailbox");
	net_cache_free(c);
	teardown(&f);
}
