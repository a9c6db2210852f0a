/*
 * The store contract (include/coldpost/store.h): what every backend must
 * do, tested through the public interface only. Each CONTRACT test runs
 * once per backend in `store_backends` (store_fixture.c), on a fresh,
 * empty store; a PostgreSQL backend adds a row there and passes the same
 * suite.
 *
 * Also here: crash safety (a child inserting in a loop is killed with
 * SIGKILL at a random point; every insert it reported as committed must
 * be back, intact, and the database must pass its integrity check), the
 * group-commit count (1000 inserts in batches of 100 are 10 commits), and
 * lease expiry with injected time.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coldpost/store.h"
#include "cptest.h"
#include "store_fixture.h"

/* ---- one test per contract, on every backend (store_fixture.c) -------- */

#define CONTRACT(name)                                                       \
	static void contract_##name(cp_store *st, const char *dsn);          \
	CP_TEST(store_contract_##name)                                       \
	{                                                                    \
		store_each_backend(#name, contract_##name);                  \
	}                                                                    \
	static void contract_##name(cp_store *st, const char *dsn)

/* ---- fixtures ------------------------------------------------------------ */

static const char PEM[] = "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIAbHFXLaE7VZzOPmnZpY0aFwTYm+wm9JAzE4ypYJ3qCa\n"
    "-----END PRIVATE KEY-----\n";

static int64_t
add_tenant(cp_store *st, const char *name)
{
	cp_tenant t = { .name = name };
	cp_err err = { 0 };

	CP_CHECK(cp_store_add_tenant(st, &t, &err) == CP_OK, "tenant %s: %s",
	    name, err.msg);
	return t.id;
}

static int64_t
add_domain(cp_store *st, int64_t tenant, const char *name)
{
	cp_domain d = { .tenant = tenant, .name = name, .selector = "s1",
		.key_pem = PEM, .alg = "ed25519-sha256" };
	cp_err err = { 0 };

	CP_CHECK(cp_store_add_domain(st, &d, &err) == CP_OK, "domain %s: %s",
	    name, err.msg);
	return d.id;
}

static int64_t
add_mailbox(cp_store *st, int64_t tenant, const char *addr)
{
	cp_mailbox m = { .tenant = tenant, .address = addr, .tz = "UTC",
		.daily_cap = -1 };
	cp_err err = { 0 };

	CP_CHECK(cp_store_add_mailbox(st, &m, &err) == CP_OK, "mailbox %s: "
	    "%s", addr, err.msg);
	return m.id;
}

/* A message for tenant with n recipients r<k>@dest.test, received at t. */
static int64_t
insert(cp_store *st, int64_t tenant, size_t n, int64_t t, int hold)
{
	static const char *const rcpts[] = { "r1@dest.test", "r2@dest.test",
		"r3@dest.test", "r4@dest.test", "r5@dest.test" };
	cp_envelope env = { .tenant = tenant, .mailbox = 0,
		.mail_from = "ann@acme.test", .return_path = "b+1@acme.test",
		.rcpts = rcpts, .nrcpts = n, .received = t,
		.message_id = "<m@acme.test>", .hold = hold };
	cp_err err = { 0 };
	const char body[] = "Subject: hi\r\n\r\nhello\r\n";

	CP_CHECK(n <= 5, "fixture: at most 5 recipients");
	CP_CHECK(cp_store_insert_message(st, &env, body, sizeof(body) - 1,
	    &err) == CP_OK, "insert: %s", err.msg);
	return env.id;
}

struct rcpts {
	size_t n;
	cp_rcpt v[64];
	char addr[64][64];
	char owner[64][64];
};

static int
collect_rcpt(void *arg, const cp_rcpt *r)
{
	struct rcpts *c = arg;

	if (c->n < 64) {
		c->v[c->n] = *r;
		snprintf(c->addr[c->n], sizeof(c->addr[0]), "%s", r->address);
		c->v[c->n].address = c->addr[c->n];
		snprintf(c->owner[c->n], sizeof(c->owner[0]), "%s",
		    r->owner ? r->owner : "");
		c->v[c->n].owner = r->owner ? c->owner[c->n] : NULL;
		c->v[c->n].last_reply = NULL; /* not kept past the callback */
		c->v[c->n].last_enhanced = c->v[c->n].last_cause = NULL;
		c->v[c->n].last_reason = c->v[c->n].last_receiver = NULL;
	}
	c->n++;
	return 0;
}

/* c points into itself: fill it in place, never copy it */
static void
rcpts_of(cp_store *st, int64_t message, struct rcpts *c)
{
	cp_queue_filter f = { .message = message, .state = -1 };
	cp_err err = { 0 };

	memset(c, 0, sizeof(*c));
	CP_CHECK(cp_store_list_queue(st, &f, collect_rcpt, c, &err) == CP_OK,
	    "list: %s", err.msg);
}

static cp_rcpt
rcpt_by_id(cp_store *st, int64_t message, int64_t id)
{
	struct rcpts c;
	cp_rcpt none = { 0 };

	rcpts_of(st, message, &c);
	for (size_t i = 0; i < c.n && i < 64; i++)
		if (c.v[i].id == id) { /* no pointers into c leave here */
			cp_rcpt r = c.v[i];

			r.address = NULL;
			r.owner = r.owner ? "(leased)" : NULL;
			return r;
		}
	CP_CHECK(0, "recipient %lld not in message %lld", (long long)id,
	    (long long)message);
	return none;
}

static int
count_tenant(void *arg, const cp_tenant *t)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

static int
count_pool(void *arg, const cp_pool *p)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

static int
count_domain(void *arg, const cp_domain *d)
{
	(void)d;
	(*(int *)arg)++;
	return 0;
}

static int
count_mailbox(void *arg, const cp_mailbox *m)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

static uint64_t
commits(cp_store *st)
{
	cp_store_stats s;

	cp_store_get_stats(st, &s);
	return s.commits;
}

/* ---- the model ----------------------------------------------------------- */

CONTRACT(tenants)
{
	static const struct { const char *name; int rc; } bad[] = {
		{ "", CP_EINVAL },
		{ "a b", CP_EINVAL },
		{ "-acme", CP_EINVAL },
		{ "acme\n", CP_EINVAL },
		{ "x234567890123456789012345678901234567890123456789012345678901"
		  "2345", CP_ETOOBIG },
	};
	cp_tenant t = { .name = "ACME" }, *got = NULL;
	cp_err err = { 0 };
	int64_t acme = add_tenant(st, "acme");
	int n = 0;

	add_tenant(st, "beta");
	CP_CHECK(acme > 0, "tenant id %lld", (long long)acme);
	CP_CHECK_INT(cp_store_add_tenant(st, &t, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "already exists") != NULL, "dup: %s", err.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cp_tenant b = { .name = bad[i].name };

		CP_CHECK(cp_store_add_tenant(st, &b, &err) == bad[i].rc,
		    "bad name %zu accepted or wrong code (%s)", i, err.msg);
	}
	t.name = "gamma";
	t.mailbox_cap = -1;
	CP_CHECK_INT(cp_store_add_tenant(st, &t, &err), CP_EINVAL);
	CP_CHECK_INT(cp_store_get_tenant(st, "Acme", &got, &err), CP_OK);
	if (got) {
		CP_CHECK_STR(got->name, "acme");
		CP_CHECK_INT(got->id, acme);
		CP_CHECK(got->created > 1600000000, "created %lld",
		    (long long)got->created);
		cp_tenant_free(got);
		got = NULL;
	}
	CP_CHECK_INT(cp_store_get_tenant_by_id(st, acme, &got, &err), CP_OK);
	if (got) {
		CP_CHECK_STR(got->name, "acme");
		cp_tenant_free(got);
	}
	CP_CHECK_INT(cp_store_get_tenant(st, "nobody", &got, &err),
	    CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_list_tenants(st, count_tenant, &n, &err), CP_OK);
	CP_CHECK_INT(n, 2);
	CP_CHECK_INT(cp_store_remove_tenant(st, "beta", 0, 0, &err), CP_OK);
	CP_CHECK_INT(cp_store_remove_tenant(st, "beta", 0, 0, &err),
	    CP_ENOTFOUND);
	n = 0;
	cp_store_list_tenants(st, count_tenant, &n, &err);
	CP_CHECK_INT(n, 1);
}

CONTRACT(pools)
{
	int64_t acme = add_tenant(st, "acme"), beta = add_tenant(st, "beta");
	cp_pool p = { .tenant = acme, .addr = "127.0.0.2",
		.ehlo = "mta1.acme.test" };
	cp_pool *got = NULL;
	cp_err err = { 0 };
	int n = 0;

	CP_CHECK_INT(cp_store_add_pool(st, &p, &err), CP_OK);
	CP_CHECK(p.id > 0, "pool id");
	p.addr = "2001:DB8:0::7";
	CP_CHECK_INT(cp_store_add_pool(st, &p, &err), CP_OK);
	p.tenant = beta;
	p.addr = "127.0.0.2"; /* an address belongs to one tenant */
	CP_CHECK_INT(cp_store_add_pool(st, &p, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "already exists") != NULL, "%s", err.msg);
	p.addr = "300.1.1.1";
	CP_CHECK_INT(cp_store_add_pool(st, &p, &err), CP_EINVAL);
	p.addr = "127.0.0.3";
	p.ehlo = "bad..name";
	CP_CHECK_INT(cp_store_add_pool(st, &p, &err), CP_EINVAL);
	p.ehlo = "mta.beta.test";
	p.tenant = 999;
	CP_CHECK_INT(cp_store_add_pool(st, &p, &err), CP_ENOTFOUND);
	p.tenant = beta;
	CP_CHECK_INT(cp_store_add_pool(st, &p, &err), CP_OK);
	CP_CHECK_INT(cp_store_list_pools(st, acme, count_pool, &n, &err), CP_OK);
	CP_CHECK_INT(n, 2);
	n = 0;
	CP_CHECK_INT(cp_store_list_pools(st, 0, count_pool, &n, &err), CP_OK);
	CP_CHECK_INT(n, 3);
	/* stored in canonical form, found in any form */
	CP_CHECK_INT(cp_store_get_pool(st, "2001:db8::7", &got, &err), CP_OK);
	if (got) {
		CP_CHECK_STR(got->addr, "2001:db8::7");
		CP_CHECK_STR(got->ehlo, "mta1.acme.test");
		CP_CHECK_INT(got->tenant, acme);
		cp_pool_free(got);
	}
	CP_CHECK_INT(cp_store_remove_pool(st, "2001:0db8::0007", &err), CP_OK);
	CP_CHECK_INT(cp_store_remove_pool(st, "2001:db8::7", &err),
	    CP_ENOTFOUND);
}

CONTRACT(domains)
{
	int64_t acme = add_tenant(st, "acme"), beta = add_tenant(st, "beta");
	cp_domain d = { .tenant = acme, .name = "Acme.TEST", .selector = "s1",
		.key_pem = PEM, .alg = "rsa-sha256" };
	cp_domain *got = NULL;
	cp_err err = { 0 };
	int n = 0;

	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_OK);
	d.tenant = beta; /* a domain belongs to exactly one tenant */
	d.name = "acme.test";
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_EINVAL);
	d.name = "beta.test";
	d.key_path = "/etc/coldpost/beta.pem"; /* both */
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_EINVAL);
	d.key_pem = NULL;
	d.key_path = "keys/beta.pem"; /* relative */
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_EINVAL);
	d.key_path = NULL; /* neither */
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_EINVAL);
	d.key_pem = "not a key";
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_EINVAL);
	d.key_pem = NULL;
	d.key_path = "/etc/coldpost/beta.pem";
	d.alg = "rsa-sha1";
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "rsa-sha1") != NULL, "%s", err.msg);
	d.alg = "ed25519-sha256";
	d.selector = "s 1";
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_EINVAL);
	d.selector = "2025.q1";
	CP_CHECK_INT(cp_store_add_domain(st, &d, &err), CP_OK);
	CP_CHECK_INT(cp_store_get_domain(st, "ACME.test", &got, &err), CP_OK);
	if (got) {
		CP_CHECK_STR(got->name, "acme.test");
		CP_CHECK_STR(got->key_pem, PEM);
		CP_CHECK(got->key_path == NULL, "key_path set");
		CP_CHECK_STR(got->alg, "rsa-sha256");
		CP_CHECK_INT(got->tenant, acme);
		cp_domain_free(got);
		got = NULL;
	}
	CP_CHECK_INT(cp_store_get_domain(st, "beta.test", &got, &err), CP_OK);
	if (got) {
		CP_CHECK(got->key_pem == NULL, "key_pem set");
		CP_CHECK_STR(got->key_path, "/etc/coldpost/beta.pem");
		CP_CHECK_STR(got->selector, "2025.q1");
		cp_domain_free(got);
	}
	CP_CHECK_INT(cp_store_list_domains(st, beta, count_domain, &n, &err),
	    CP_OK);
	CP_CHECK_INT(n, 1);
	/* removal refused while mailboxes use it, unless forced */
	add_mailbox(st, acme, "ann@acme.test");
	CP_CHECK_INT(cp_store_remove_domain(st, "acme.test", 0, &err),
	    CP_EINVAL);
	CP_CHECK(strstr(err.msg, "1 mailbox") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_store_remove_domain(st, "acme.test", 1, &err), CP_OK);
	n = 0;
	cp_store_list_mailboxes(st, 0, count_mailbox, &n, &err);
	CP_CHECK_INT(n, 0);
	CP_CHECK_INT(cp_store_remove_domain(st, "acme.test", 1, &err),
	    CP_ENOTFOUND);
}

CONTRACT(mailboxes)
{
	int64_t acme = add_tenant(st, "acme"), beta = add_tenant(st, "beta");
	cp_mailbox m = { .tenant = acme, .address = "Bob@ACME.test",
		.tz = "Europe/Paris", .daily_cap = 50 };
	cp_mailbox *got = NULL;
	cp_err err = { 0 };
	int n = 0;

	add_domain(st, acme, "acme.test");
	add_domain(st, beta, "beta.test");
	add_mailbox(st, acme, "ann@acme.test");
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_OK);
	CP_CHECK(m.domain > 0, "domain id");
	CP_CHECK_INT(cp_store_get_mailbox(st, "bob@acme.test", &got, &err),
	    CP_OK);
	if (got) {
		CP_CHECK_STR(got->address, "Bob@acme.test");
		CP_CHECK_STR(got->tz, "Europe/Paris");
		CP_CHECK_STR(got->pwhash, "");
		CP_CHECK_INT(got->daily_cap, 50);
		CP_CHECK_INT(got->tenant, acme);
		cp_mailbox_free(got);
	}
	m.address = "BOB@acme.test"; /* unique, whatever the case */
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_EINVAL);
	m.address = "eve@beta.test"; /* tenant isolation */
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "another tenant") != NULL, "%s", err.msg);
	m.address = "eve@nowhere.test";
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "not a sending domain") != NULL, "%s",
	    err.msg);
	m.address = "carl@acme.test";
	m.tz = "Mars/Olympus_Mons";
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_EINVAL);
	m.tz = "../../etc/passwd";
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_EINVAL);
	m.tz = "UTC";
	m.daily_cap = -2;
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_EINVAL);
	m.daily_cap = -1;
	m.address = "carl@[192.0.2.1]";
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_EINVAL);
	m.address = "carl@acme.test";
	CP_CHECK_INT(cp_store_add_mailbox(st, &m, &err), CP_OK);
	CP_CHECK_INT(cp_store_list_mailboxes(st, acme, count_mailbox, &n, &err),
	    CP_OK);
	CP_CHECK_INT(n, 3);
	CP_CHECK_INT(cp_store_remove_mailbox(st, "CARL@acme.test", &err), CP_OK);
	CP_CHECK_INT(cp_store_remove_mailbox(st, "carl@acme.test", &err),
	    CP_ENOTFOUND);
}

CONTRACT(passwords)
{
	int64_t acme = add_tenant(st, "acme");
	cp_mailbox *got = NULL;
	cp_err err = { 0 };
	int ok = -1;

	add_domain(st, acme, "acme.test");
	add_mailbox(st, acme, "ann@acme.test");
	CP_CHECK_INT(cp_store_set_password(st, "ann@acme.test", "s3cret!", 7,
	    &err), CP_OK);
	CP_CHECK_INT(cp_store_get_mailbox(st, "ann@acme.test", &got, &err),
	    CP_OK);
	if (got) {
		CP_CHECK(strncmp(got->pwhash, "$argon2id$", 10) == 0,
		    "hash %s", got->pwhash);
		CP_CHECK(strstr(got->pwhash, "s3cret") == NULL, "plain text");
		cp_mailbox_free(got);
	}
	CP_CHECK_INT(cp_store_verify_password(st, "ann@acme.test", "s3cret!",
	    7, &ok, &err), CP_OK);
	CP_CHECK_INT(ok, 1);
	CP_CHECK_INT(cp_store_verify_password(st, "ann@acme.test", "s3cret?",
	    7, &ok, &err), CP_OK);
	CP_CHECK_INT(ok, 0);
	CP_CHECK_INT(cp_store_verify_password(st, "zed@acme.test", "s3cret!",
	    7, &ok, &err), CP_OK);
	CP_CHECK_INT(ok, 0);
	CP_CHECK_INT(cp_store_set_password(st, "ann@acme.test", "a\0b", 3,
	    &err), CP_EINVAL);
	CP_CHECK(strstr(err.msg, "NUL") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_store_set_password(st, "ann@acme.test", "", 0, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_store_set_password(st, "zed@acme.test", "x", 1, &err),
	    CP_ENOTFOUND);
}

CONTRACT(tenant_force_removal)
{
	int64_t acme = add_tenant(st, "acme"), msg;
	cp_envelope *e = NULL;
	cp_tenant *t = NULL;
	cp_domain *d = NULL;
	struct rcpts c;
	cp_err err = { 0 };
	cp_pool p = { .tenant = acme, .addr = "127.0.0.9", .ehlo = "a.test" };

	add_domain(st, acme, "acme.test");
	add_mailbox(st, acme, "ann@acme.test");
	cp_store_add_pool(st, &p, &err);
	msg = insert(st, acme, 2, 1000, 0);
	CP_CHECK_INT(cp_store_remove_tenant(st, "acme", 0, 2000, &err),
	    CP_EINVAL);
	CP_CHECK(strstr(err.msg, "1 mailbox") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_store_remove_tenant(st, "acme", 1, 2000, &err), CP_OK);
	CP_CHECK_INT(cp_store_get_tenant(st, "acme", &t, &err), CP_ENOTFOUND);
	CP_CHECK_INT(cp_store_get_domain(st, "acme.test", &d, &err),
	    CP_ENOTFOUND);
	rcpts_of(st, msg, &c); /* its waiting mail will not leave */
	CP_CHECK_INT(c.n, 2);
	for (size_t i = 0; i < c.n; i++)
		CP_CHECK_INT(c.v[i].state, CP_RCPT_CANCELLED);
	CP_CHECK_INT(cp_store_get_message(st, msg, &e, &err), CP_OK);
	if (e) {
		CP_CHECK_INT(e->nopen, 0);
		CP_CHECK_INT(e->finished, 2000);
		cp_envelope_free(e);
	}
}

/* ---- messages ----------------------------------------------------------- */

CONTRACT(insert_and_read)
{
	static const char *const rcpts[] = { "x@dest.test", "Y@Dest.Test",
		"\"john doe\"@dest.test" };
	int64_t acme = add_tenant(st, "acme");
	cp_envelope env = { .tenant = acme, .mailbox = 7,
		.mail_from = "ann@acme.test", .return_path = "b+7@acme.test",
		.rcpts = rcpts, .nrcpts = 3, .received = 1700000000,
		.message_id = "<abc@acme.test>" };
	cp_envelope *e = NULL;
	size_t len = 100000, got = 0;
	unsigned char *body = malloc(len), chunk[7000];
	uint64_t total = 0, off = 0;
	cp_buf whole;
	struct rcpts c;
	cp_err err = { 0 };
	int same = 1;

	for (size_t i = 0; i < len; i++) /* binary, NUL bytes included */
		body[i] = (unsigned char)(i * 7 + i / 251);
	CP_CHECK_INT(cp_store_insert_message(st, &env, body, len, &err), CP_OK);
	CP_CHECK(env.id > 0, "id");
	CP_CHECK_INT(env.size, (long long)len);
	CP_CHECK_INT(env.expires, 1700000000 + 5 * 86400);
	CP_CHECK_INT(cp_store_get_message(st, env.id, &e, &err), CP_OK);
	if (e) {
		CP_CHECK_STR(e->mail_from, "ann@acme.test");
		CP_CHECK_STR(e->return_path, "b+7@acme.test");
		CP_CHECK_STR(e->message_id, "<abc@acme.test>");
		CP_CHECK_INT(e->tenant, acme);
		CP_CHECK_INT(e->mailbox, 7);
		CP_CHECK_INT(e->size, (long long)len);
		CP_CHECK_INT(e->nrcpts, 3);
		CP_CHECK_INT(e->nopen, 3);
		CP_CHECK_INT(e->finished, 0);
		cp_envelope_free(e);
	}
	rcpts_of(st, env.id, &c);
	CP_CHECK_INT(c.n, 3);
	for (size_t i = 0; i < 3 && i < c.n; i++) {
		CP_CHECK_STR(c.v[i].address, rcpts[i]);
		CP_CHECK_INT(c.v[i].state, CP_RCPT_QUEUED);
		CP_CHECK_INT(c.v[i].attempts, 0);
		CP_CHECK_INT(c.v[i].next_attempt, 1700000000);
		CP_CHECK(c.v[i].owner == NULL, "owner");
	}
	cp_buf_init(&whole, 1 << 20);
	CP_CHECK_INT(cp_store_get_body(st, env.id, &whole, &err), CP_OK);
	CP_CHECK(whole.len == len && memcmp(whole.data, body, len) == 0,
	    "whole body differs (%zu bytes)", whole.len);
	cp_buf_free(&whole);
	cp_buf_init(&whole, 1000); /* a buffer too small says so */
	CP_CHECK_INT(cp_store_get_body(st, env.id, &whole, &err), CP_ETOOBIG);
	cp_buf_free(&whole);
	do { /* streamed in chunks */
		CP_CHECK_INT(cp_store_read_body(st, env.id, off, chunk,
		    sizeof(chunk), &got, &total, &err), CP_OK);
		if (got && memcmp(chunk, body + off, got) != 0)
			same = 0;
		off += got;
	} while (got > 0);
	CP_CHECK(same && off == len && total == len, "chunks: %llu of %llu",
	    (unsigned long long)off, (unsigned long long)total);
	CP_CHECK_INT(cp_store_read_body(st, env.id + 1000, 0, chunk, 10, &got,
	    NULL, &err), CP_ENOTFOUND);
	free(body);
}

CONTRACT(insert_checks)
{
	static const char *const one[] = { "x@dest.test" };
	static const char *const none[] = { NULL };
	char longlocal[80], longaddr[300], bad_utf8[] = "x\xc3\x28@dest.test";
	const char *rcpt[1];
	int64_t acme = add_tenant(st, "acme");
	cp_queue_counts qc;
	cp_err err = { 0 };
	struct {
		const char *what;
		const char *mail_from, *rcpt, *msgid;
		int64_t tenant, received, expires;
		size_t nrcpts;
		int rc;
		const char *msg; /* part of the error message */
	} cases[] = {
		{ "CR in rcpt", "", "x\r@dest.test", "", 1, 10, 0, 1, CP_EINVAL,
		  "control byte 0x0d" },
		{ "no @", "", "dest.test", "", 1, 10, 0, 1, CP_EINVAL, "no '@'" },
		{ "local too long", "", longlocal, "", 1, 10, 0, 1, CP_ETOOBIG,
		  "local part of 65 bytes" },
		{ "address too long", longaddr, "x@dest.test", "", 1, 10, 0, 1,
		  CP_ETOOBIG, "limit 254" },
		{ "bad UTF-8", "", bad_utf8, "", 1, 10, 0, 1, CP_EINVAL,
		  "invalid UTF-8" },
		{ "LF in message id", "", "x@dest.test", "<a\n@b>", 1, 10, 0, 1,
		  CP_EINVAL, "message id" },
		{ "no recipients", "", "x@dest.test", "", 1, 10, 0, 0, CP_EINVAL,
		  "without recipients" },
		{ "no tenant", "", "x@dest.test", "", 0, 10, 0, 1, CP_EINVAL,
		  "tenant" },
		{ "no time", "", "x@dest.test", "", 1, 0, 0, 1, CP_EINVAL,
		  "received" },
		{ "expires before", "", "x@dest.test", "", 1, 10, 5, 1,
		  CP_EINVAL, "expires" },
		{ "trailing dot", "", "x@dest.test.", "", 1, 10, 0, 1, CP_EINVAL,
		  "trailing dot" },
		{ "NULL rcpt", "", NULL, "", 1, 10, 0, 1, CP_EINVAL, "missing" },
	};

	memset(longlocal, 'a', 65);
	memcpy(longlocal + 65, "@dest.test", 11);
	memset(longaddr, 'b', sizeof(longaddr));
	memcpy(longaddr, "a@", 2);
	for (size_t i = 2; i + 1 < sizeof(longaddr); i += 10)
		longaddr[i + 9 < sizeof(longaddr) - 1 ? i + 9 : i] = '.';
	longaddr[sizeof(longaddr) - 1] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cp_envelope env = { .tenant = cases[i].tenant ? acme : 0,
			.mail_from = cases[i].mail_from, .return_path = "",
			.nrcpts = cases[i].nrcpts, .received = cases[i].received,
			.expires = cases[i].expires,
			.message_id = cases[i].msgid };

		rcpt[0] = cases[i].rcpt;
		env.rcpts = cases[i].rcpt ? rcpt : none;
		cp_err_clear(&err);
		CP_CHECK(cp_store_insert_message(st, &env, "x", 1, &err) ==
		    cases[i].rc, "%s: got %d (%s)", cases[i].what, err.code,
		    err.msg);
		CP_CHECK(strstr(err.msg, cases[i].msg) != NULL,
		    "%s: message '%s' lacks '%s'", cases[i].what, err.msg,
		    cases[i].msg);
	}
	{ /* a NUL byte inside a length-delimited address, from the wire */
		static const char nul[] = "x\0y@dest.test";

		CP_CHECK_INT(cp_store_check_address(nul, sizeof(nul) - 1,
		    "RCPT TO", &err), CP_EINVAL);
		CP_CHECK(strstr(err.msg, "NUL byte at offset 1") != NULL, "%s",
		    err.msg);
		CP_CHECK_INT(cp_store_check_address("x@dest.test", 11, "RCPT",
		    &err), CP_OK);
	}
	{ /* a body over the limit */
		cp_envelope env = { .tenant = acme, .mail_from = "",
			.return_path = "", .rcpts = one, .nrcpts = 1,
			.received = 10, .message_id = "" };

		CP_CHECK_INT(cp_store_insert_message(st, &env, "x",
		    (size_t)CP_STORE_BODY_MAX + 1, &err), CP_ETOOBIG);
	}
	CP_CHECK_INT(cp_store_count_queue(st, 0, 100, &qc, &err), CP_OK);
	for (int s = 0; s < CP_RCPT_NSTATES; s++)
		CP_CHECK(qc.state[s] == 0, "state %d: %lld rows after refused "
		    "inserts", s, (long long)qc.state[s]);
}

CONTRACT(group_commit)
{
	static const char *const rcpts[] = { "a@dest.test", "b@dest.test" };
	int64_t acme = add_tenant(st, "acme");
	cp_insert *v = calloc(100, sizeof(*v));
	cp_queue_counts qc;
	cp_err err = { 0 };
	uint64_t c0;
	int failed = 0;

	/* 1000 inserts in batches of 100: 10 commits, one sync each */
	c0 = commits(st);
	for (int b = 0; b < 10; b++) {
		for (int i = 0; i < 100; i++) {
			memset(&v[i], 0, sizeof(v[i]));
			v[i].env.tenant = acme;
			v[i].env.mail_from = "ann@acme.test";
			v[i].env.return_path = "";
			v[i].env.rcpts = rcpts;
			v[i].env.nrcpts = 2;
			v[i].env.received = 1000 + b * 100 + i;
			v[i].env.message_id = "<g@acme.test>";
			v[i].body = "hello";
			v[i].len = 5;
		}
		CP_CHECK_INT(cp_store_insert_many(st, v, 100, &err), CP_OK);
		for (int i = 0; i < 100; i++)
			if (v[i].rc != CP_OK || v[i].env.id <= 0)
				failed++;
	}
	CP_CHECK_INT(failed, 0);
	CP_CHECK(commits(st) - c0 == 10, "1000 inserts in batches of 100: %llu "
	    "commits, want 10", (unsigned long long)(commits(st) - c0));
	CP_CHECK_INT(cp_store_count_queue(st, 0, 5000, &qc, &err), CP_OK);
	CP_CHECK_INT(qc.state[CP_RCPT_QUEUED], 2000);
	CP_CHECK_INT(qc.due, 2000);

	/* without a batch, each insert is its own commit */
	c0 = commits(st);
	for (int i = 0; i < 5; i++)
		insert(st, acme, 1, 3000, 0);
	CP_CHECK(commits(st) - c0 == 5, "5 single inserts: %llu commits",
	    (unsigned long long)(commits(st) - c0));

	/* one bad item fails alone; the others commit */
	for (int i = 0; i < 3; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].env.tenant = acme;
		v[i].env.mail_from = "";
		v[i].env.return_path = "";
		v[i].env.rcpts = rcpts;
		v[i].env.nrcpts = 2;
		v[i].env.received = 4000;
		v[i].env.message_id = "";
	}
	v[1].env.mail_from = "bad address";
	c0 = commits(st);
	CP_CHECK_INT(cp_store_insert_many(st, v, 3, &err), CP_OK);
	CP_CHECK_INT(v[0].rc, CP_OK);
	CP_CHECK_INT(v[1].rc, CP_EINVAL);
	CP_CHECK(strstr(v[1].err.msg, "MAIL FROM") != NULL, "%s", v[1].err.msg);
	CP_CHECK_INT(v[2].rc, CP_OK);
	CP_CHECK(commits(st) - c0 == 1, "one commit for the batch");

	/* begin / insert / commit, and a rollback that leaves nothing */
	{
		cp_envelope env = { .tenant = acme, .mail_from = "",
			.return_path = "", .rcpts = rcpts, .nrcpts = 1,
			.received = 5000, .message_id = "" };
		cp_envelope *e = NULL;
		int64_t ids[3];

		c0 = commits(st);
		CP_CHECK_INT(cp_store_begin(st, &err), CP_OK);
		CP_CHECK_INT(cp_store_begin(st, &err), CP_EINVAL); /* nested */
		for (int i = 0; i < 3; i++) {
			env.id = 0;
			CP_CHECK_INT(cp_store_insert_message(st, &env, "b", 1,
			    &err), CP_OK);
			ids[i] = env.id;
		}
		CP_CHECK_INT(cp_store_commit(st, &err), CP_OK);
		CP_CHECK(commits(st) - c0 == 1, "begin/3 inserts/commit: %llu "
		    "commits", (unsigned long long)(commits(st) - c0));
		CP_CHECK_INT(cp_store_get_message(st, ids[2], &e, &err), CP_OK);
		cp_envelope_free(e);
		e = NULL;
		CP_CHECK_INT(cp_store_begin(st, &err), CP_OK);
		env.id = 0;
		CP_CHECK_INT(cp_store_insert_message(st, &env, "b", 1, &err),
		    CP_OK);
		cp_store_rollback(st);
		CP_CHECK_INT(cp_store_get_message(st, env.id, &e, &err),
		    CP_ENOTFOUND);
		CP_CHECK_INT(cp_store_commit(st, &err), CP_EINVAL);
	}
	free(v);
}

/* A second thread's insert waits for the open batch, then commits alone. */
struct racer {
	cp_store *st;
	int64_t tenant;
	int64_t id;
	int rc;
	double waited;
};

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
racer_main(void *arg)
{
	static const char *const rcpts[] = { "t@dest.test" };
	struct racer *r = arg;
	cp_envelope env = { .tenant = r->tenant, .mail_from = "",
		.return_path = "", .rcpts = rcpts, .nrcpts = 1, .received = 10,
		.message_id = "<thread>" };
	cp_err err = { 0 };
	double t0 = mono_s();

	r->rc = cp_store_insert_message(r->st, &env, "t", 1, &err);
	r->waited = mono_s() - t0;
	r->id = env.id;
	return NULL;
}

CONTRACT(threads_and_batches)
{
	int64_t acme = add_tenant(st, "acme");
	struct racer r = { .st = st, .tenant = acme };
	cp_envelope *e = NULL;
	cp_err err = { 0 };
	pthread_t th;
	uint64_t c0 = commits(st);

	CP_CHECK_INT(cp_store_begin(st, &err), CP_OK);
	insert(st, acme, 1, 10, 0);
	pthread_create(&th, NULL, racer_main, &r);
	usleep(200000); /* the other thread is blocked meanwhile */
	insert(st, acme, 1, 10, 0);
	CP_CHECK_INT(cp_store_commit(st, &err), CP_OK);
	pthread_join(th, NULL);
	CP_CHECK_INT(r.rc, CP_OK);
	CP_CHECK(r.waited >= 0.15, "the other thread did not wait for the "
	    "batch (%.3f s)", r.waited);
	CP_CHECK(commits(st) - c0 == 2, "batch + the thread's insert: %llu "
	    "commits", (unsigned long long)(commits(st) - c0));
	CP_CHECK_INT(cp_store_get_message(st, r.id, &e, &err), CP_OK);
	cp_envelope_free(e);
}

/* ---- claims, leases, attempts ----------------------------------------- */

/* The relay inserts recipients already leased to itself and hands them to
 * delivery in memory: nobody claims them during the lease; after it (the
 * node crashed) they are due again; the ids come back in rcpts order. */
CONTRACT(insert_leased)
{
	static const char *const rcpts[] = { "x1@dest.test", "x2@dest.test" };
	int64_t acme = add_tenant(st, "acme");
	int64_t ids[2] = { 0, 0 };
	cp_envelope env = { .tenant = acme, .mail_from = "ann@acme.test",
		.return_path = "ann@acme.test", .rcpts = rcpts, .nrcpts = 2,
		.received = 1000, .message_id = "", .lease_node = "relay-1",
		.lease_until = 1600, .rcpt_ids = ids };
	cp_due_list *l = NULL;
	cp_err err = { 0 };

	(void)dsn;
	CP_CHECK_INT(cp_store_insert_message(st, &env, "x\r\n", 3, &err),
	    CP_OK);
	CP_CHECK(ids[0] > 0 && ids[1] == ids[0] + 1, "ids %lld %lld",
	    (long long)ids[0], (long long)ids[1]);
	CP_CHECK_INT(cp_store_claim_due(st, 1599, "other", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 0, "claimed during the lease: %zu", l ? l->n : 0);
	cp_due_list_free(l);
	l = NULL;
	CP_CHECK_INT(cp_store_claim_due(st, 1600, "other", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 2 && l->v[0].rcpt.id == ids[0],
	    "after the lease: %zu", l ? l->n : 0);
	cp_due_list_free(l);
	env.lease_node = "bad node";
	CP_CHECK_INT(cp_store_insert_message(st, &env, "x", 1, &err),
	    CP_EINVAL);
}

CONTRACT(claim_order_and_lease)
{
	int64_t acme = add_tenant(st, "acme");
	int64_t m3 = insert(st, acme, 2, 300, 0);
	int64_t m1 = insert(st, acme, 1, 100, 0);
	int64_t m2 = insert(st, acme, 1, 200, 0);
	int64_t mheld = insert(st, acme, 1, 50, 1);
	int64_t mlater = insert(st, acme, 1, 5000, 0);
	cp_due_list *l = NULL, *l2 = NULL;
	cp_queue_counts qc;
	cp_err err = { 0 };
	size_t n = 0;

	(void)mheld;
	(void)mlater;
	CP_CHECK_INT(cp_store_claim_due(st, 1000, "node-a", 60, 3, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 3, "claimed %zu", l ? l->n : 0);
	if (l && l->n == 3) { /* earliest next_attempt first; held never */
		CP_CHECK_INT(l->v[0].rcpt.message, m1);
		CP_CHECK_INT(l->v[1].rcpt.message, m2);
		CP_CHECK_INT(l->v[2].rcpt.message, m3);
		CP_CHECK_STR(l->v[0].rcpt.owner, "node-a");
		CP_CHECK_INT(l->v[0].rcpt.lease_until, 1060);
		CP_CHECK_STR(l->v[0].mail_from, "ann@acme.test");
		CP_CHECK_STR(l->v[0].return_path, "b+1@acme.test");
		CP_CHECK_STR(l->v[0].rcpt.address, "r1@dest.test");
		CP_CHECK_INT(l->v[0].tenant, acme);
		CP_CHECK_INT(l->v[0].received, 100);
	}
	CP_CHECK_INT(cp_store_count_queue(st, 0, 1000, &qc, &err), CP_OK);
	CP_CHECK_INT(qc.inflight, 3);
	CP_CHECK_INT(qc.due, 1); /* m3's second recipient */
	CP_CHECK_INT(qc.state[CP_RCPT_HELD], 1);
	/* the rest; claimed ones are not claimed twice */
	CP_CHECK_INT(cp_store_claim_due(st, 1000, "node-b", 60, 10, &l2, &err),
	    CP_OK);
	CP_CHECK(l2 && l2->n == 1 && l2->v[0].rcpt.message == m3,
	    "second claim: %zu", l2 ? l2->n : 0);
	cp_due_list_free(l2);
	l2 = NULL;
	/* lease running: nothing; lease over: they come back by themselves */
	CP_CHECK_INT(cp_store_claim_due(st, 1059, "node-c", 60, 10, &l2, &err),
	    CP_OK);
	CP_CHECK(l2 && l2->n == 0, "claimed during the lease: %zu",
	    l2 ? l2->n : 0);
	cp_due_list_free(l2);
	l2 = NULL;
	CP_CHECK_INT(cp_store_claim_due(st, 1061, "node-c", 60, 10, &l2, &err),
	    CP_OK);
	CP_CHECK(l2 && l2->n == 4, "after the lease: %zu", l2 ? l2->n : 0);
	if (l2 && l && l2->n == 4 && l->n == 3) { /* the same ones again */
		for (size_t i = 0; i < l->n; i++) {
			int seen = 0;

			for (size_t k = 0; k < l2->n; k++)
				seen |= l2->v[k].rcpt.id == l->v[i].rcpt.id;
			CP_CHECK(seen, "recipient %lld did not come back",
			    (long long)l->v[i].rcpt.id);
		}
		CP_CHECK_STR(l2->v[0].rcpt.owner, "node-c");
	}
	cp_due_list_free(l2);
	l2 = NULL;
	/* a restarting node gives its leases back at once */
	CP_CHECK_INT(cp_store_release_node(st, "node-c", 1062, &n, &err),
	    CP_OK);
	CP_CHECK_INT(n, 4);
	CP_CHECK_INT(cp_store_claim_due(st, 1062, "node-c", 60, 10, &l2, &err),
	    CP_OK);
	CP_CHECK(l2 && l2->n == 4, "after release: %zu", l2 ? l2->n : 0);
	cp_due_list_free(l2);
	cp_due_list_free(l);
	/* bad input */
	CP_CHECK_INT(cp_store_claim_due(st, 1000, "", 60, 10, &l, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_store_claim_due(st, 1000, "n", 0, 10, &l, &err),
	    CP_EINVAL);
	CP_CHECK_INT(cp_store_claim_due(st, 1000, "n", 60, 0, &l, &err),
	    CP_EINVAL);
}

static cp_attempt
attempt(int64_t rcpt, int64_t t, int outcome, int code, const char *enh,
    const char *cause, const char *reply)
{
	cp_attempt a = { .rcpt = rcpt, .time = t, .mx = "mx.dest.test",
		.source_ip = "127.0.0.2", .reply = reply, .code = code,
		.enhanced = enh, .cause = cause, .reason = "",
		.receiver = "gmail", .duration_ms = 42, .outcome = outcome };

	return a;
}

struct causes {
	int n;
	char cause[8][32];
	int outcome[8];
	int64_t count[8];
};

static int
collect_cause(void *arg, const char *cause, int outcome, int64_t n)
{
	struct causes *c = arg;

	if (c->n < 8) {
		snprintf(c->cause[c->n], sizeof(c->cause[0]), "%s", cause);
		c->outcome[c->n] = outcome;
		c->count[c->n] = n;
	}
	c->n++;
	return 0;
}

static int64_t
causes_find(const struct causes *c, const char *cause, int outcome)
{
	for (int i = 0; i < c->n && i < 8; i++)
		if (strcmp(c->cause[i], cause) == 0 && c->outcome[i] == outcome)
			return c->count[i];
	return 0;
}

struct attempts {
	int n;
	int64_t id[16];
	int64_t time[16];
	int outcome[16];
	size_t reply_len[16];
};

static int
collect_attempt(void *arg, const cp_attempt *a)
{
	struct attempts *c = arg;

	if (c->n < 16) {
		c->id[c->n] = a->id;
		c->time[c->n] = a->time;
		c->outcome[c->n] = a->outcome;
		c->reply_len[c->n] = strlen(a->reply);
	}
	c->n++;
	return 0;
}

struct last {
	int n, code;
	char reply[200], enhanced[16], cause[32], receiver[16];
};

static int
keep_last(void *arg, const cp_rcpt *r)
{
	struct last *l = arg;

	l->n++;
	l->code = r->last_code;
	snprintf(l->reply, sizeof(l->reply), "%s", r->last_reply);
	snprintf(l->enhanced, sizeof(l->enhanced), "%s", r->last_enhanced);
	snprintf(l->cause, sizeof(l->cause), "%s", r->last_cause);
	snprintf(l->receiver, sizeof(l->receiver), "%s", r->last_receiver);
	return 0;
}

CONTRACT(attempts_and_outcomes)
{
	int64_t acme = add_tenant(st, "acme");
	int64_t msg = insert(st, acme, 3, 100, 0);
	cp_due_list *l = NULL;
	cp_attempt v[3];
	cp_envelope *e = NULL;
	struct causes cc = { 0 };
	struct attempts ac = { 0 };
	cp_rcpt r;
	cp_err err = { 0 };
	int64_t r1, r2, r3;

	CP_CHECK_INT(cp_store_claim_due(st, 1000, "n1", 300, 10, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 3, "claim");
	if (!l || l->n != 3) {
		cp_due_list_free(l);
		return;
	}
	r1 = l->v[0].rcpt.id;
	r2 = l->v[1].rcpt.id;
	r3 = l->v[2].rcpt.id;
	cp_due_list_free(l);
	l = NULL;
	v[0] = attempt(r1, 1001, CP_RCPT_DELIVERED, 250, "2.0.0", "",
	    "250 2.0.0 OK");
	v[1] = attempt(r2, 1001, CP_RCPT_DEFERRED, 451, "4.7.0", "rate_limit",
	    "451 4.7.0 Try again later");
	v[1].next_attempt = 1600;
	v[2] = attempt(r3, 1001, CP_RCPT_BOUNCED, 550, "5.1.1",
	    "recipient_unknown", "550-5.1.1 The email account that you tried\r\n"
	    "550 5.1.1 to reach does not exist.");
	CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 3, &err), CP_OK);
	CP_CHECK(v[0].id > 0 && v[2].id > v[0].id, "attempt ids");
	r = rcpt_by_id(st, msg, r1);
	CP_CHECK_INT(r.state, CP_RCPT_DELIVERED);
	CP_CHECK_INT(r.attempts, 1);
	CP_CHECK(r.owner == NULL, "lease kept after the outcome");
	r = rcpt_by_id(st, msg, r2);
	CP_CHECK_INT(r.state, CP_RCPT_DEFERRED);
	CP_CHECK_INT(r.next_attempt, 1600);
	CP_CHECK_INT(r.last_code, 451);
	r = rcpt_by_id(st, msg, r3);
	CP_CHECK_INT(r.state, CP_RCPT_BOUNCED);
	{ /* the last answer and its classification are kept */
		cp_queue_filter f = { .message = msg, .state = CP_RCPT_BOUNCED };
		struct last got = { 0 };

		CP_CHECK_INT(cp_store_list_queue(st, &f, keep_last, &got, &err),
		    CP_OK);
		CP_CHECK_INT(got.n, 1);
		CP_CHECK_INT(got.code, 550);
		CP_CHECK_STR(got.enhanced, "5.1.1");
		CP_CHECK_STR(got.cause, "recipient_unknown");
		CP_CHECK_STR(got.receiver, "gmail");
		CP_CHECK(strstr(got.reply, "\r\n550 5.1.1 to reach") != NULL,
		    "multi-line reply kept: %s", got.reply);
	}
	CP_CHECK_INT(cp_store_get_message(st, msg, &e, &err), CP_OK);
	if (e) {
		CP_CHECK_INT(e->nopen, 1);
		CP_CHECK_INT(e->finished, 0);
		cp_envelope_free(e);
		e = NULL;
	}
	/* deferred: due again at its next attempt, not before */
	CP_CHECK_INT(cp_store_claim_due(st, 1599, "n1", 300, 10, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 0, "claimed before its next attempt");
	cp_due_list_free(l);
	CP_CHECK_INT(cp_store_claim_due(st, 1600, "n1", 300, 10, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 1 && l->v[0].rcpt.id == r2 &&
	    l->v[0].rcpt.attempts == 1 && l->v[0].rcpt.last_code == 451 &&
	    strcmp(l->v[0].rcpt.last_cause, "rate_limit") == 0,
	    "deferred recipient back with its last answer");
	cp_due_list_free(l);
	v[0] = attempt(r2, 1601, CP_RCPT_DELIVERED, 250, "2.0.0", "", "250 ok");
	CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err), CP_OK);
	CP_CHECK_INT(cp_store_get_message(st, msg, &e, &err), CP_OK);
	if (e) { /* every recipient final: the message is finished */
		CP_CHECK_INT(e->nopen, 0);
		CP_CHECK_INT(e->finished, 1601);
		cp_envelope_free(e);
	}
	CP_CHECK_INT(cp_store_list_attempts(st, 0, msg, 0, 0, collect_attempt,
	    &ac, &err), CP_OK);
	CP_CHECK_INT(ac.n, 4);
	CP_CHECK_INT(ac.time[0], 1601); /* newest first */
	ac.n = 0;
	CP_CHECK_INT(cp_store_list_attempts(st, r2, 0, 0, 0, collect_attempt,
	    &ac, &err), CP_OK);
	CP_CHECK_INT(ac.n, 2);
	CP_CHECK(ac.outcome[0] == CP_RCPT_DELIVERED &&
	    ac.outcome[1] == CP_RCPT_DEFERRED, "r2 history");
	ac.n = 0;
	CP_CHECK_INT(cp_store_list_attempts(st, 0, 0, 1600, 10, collect_attempt,
	    &ac, &err), CP_OK);
	CP_CHECK_INT(ac.n, 1);
	CP_CHECK_INT(cp_store_count_attempts(st, 1000, collect_cause, &cc,
	    &err), CP_OK);
	CP_CHECK_INT(causes_find(&cc, "", CP_RCPT_DELIVERED), 2);
	CP_CHECK_INT(causes_find(&cc, "rate_limit", CP_RCPT_DEFERRED), 1);
	CP_CHECK_INT(causes_find(&cc, "recipient_unknown", CP_RCPT_BOUNCED), 1);

	/* all or nothing: an unknown recipient fails the whole call */
	{
		int64_t m2 = insert(st, acme, 1, 2000, 0);
		struct rcpts c;

		rcpts_of(st, m2, &c);

		v[0] = attempt(c.v[0].id, 2001, CP_RCPT_DELIVERED, 250, "", "",
		    "250 ok");
		v[1] = attempt(999999, 2001, CP_RCPT_DELIVERED, 250, "", "",
		    "250 ok");
		CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 2, &err),
		    CP_ENOTFOUND);
		r = rcpt_by_id(st, m2, c.v[0].id);
		CP_CHECK_INT(r.state, CP_RCPT_QUEUED);
		CP_CHECK_INT(r.attempts, 0);
		/* long replies are cut, not refused */
		{
			char *big = malloc(10000);

			memset(big, 'x', 9999);
			big[9999] = '\0';
			memcpy(big, "421 ", 4);
			v[0] = attempt(c.v[0].id, 2002, CP_RCPT_DEFERRED, 421, "",
			    "temporary", big);
			v[0].next_attempt = 3000;
			CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1,
			    &err), CP_OK);
			ac.n = 0;
			cp_store_list_attempts(st, c.v[0].id, 0, 0, 1,
			    collect_attempt, &ac, &err);
			CP_CHECK_INT(ac.reply_len[0], CP_STORE_REPLY_MAX);
			free(big);
		}
		/* bad attempts */
		v[0] = attempt(c.v[0].id, 2003, CP_RCPT_DEFERRED, 421, "", "",
		    "");
		CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err),
		    CP_EINVAL); /* deferred without next attempt */
		v[0] = attempt(c.v[0].id, 2003, CP_RCPT_HELD, 250, "", "", "");
		CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err),
		    CP_EINVAL);
		v[0] = attempt(c.v[0].id, 2003, CP_RCPT_DELIVERED, 250, "2.x.0",
		    "", "");
		CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err),
		    CP_EINVAL);
		v[0] = attempt(c.v[0].id, 2003, CP_RCPT_DELIVERED, 250, "",
		    "rate limit", "");
		CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err),
		    CP_EINVAL);
		v[0] = attempt(c.v[0].id, 2003, CP_RCPT_DELIVERED, 250, "", "",
		    "");
		v[0].source_ip = "not-an-ip";
		CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err),
		    CP_EINVAL);
	}
}

CONTRACT(outcome_vs_operator)
{
	int64_t acme = add_tenant(st, "acme");
	int64_t msg = insert(st, acme, 2, 100, 0);
	cp_due_list *l = NULL;
	cp_attempt v[1];
	cp_target t = { 0 };
	cp_rcpt r;
	cp_err err = { 0 };
	size_t n = 0;

	CP_CHECK_INT(cp_store_claim_due(st, 1000, "n1", 300, 10, &l, &err),
	    CP_OK);
	if (!l || l->n != 2) {
		CP_CHECK(0, "claim");
		cp_due_list_free(l);
		return;
	}
	/* held while in flight: a deferral keeps it held */
	t.rcpt = l->v[0].rcpt.id;
	CP_CHECK_INT(cp_store_hold(st, &t, 1001, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1);
	v[0] = attempt(t.rcpt, 1002, CP_RCPT_DEFERRED, 451, "", "", "451 x");
	v[0].next_attempt = 2000;
	CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err), CP_OK);
	r = rcpt_by_id(st, msg, t.rcpt);
	CP_CHECK_INT(r.state, CP_RCPT_HELD);
	CP_CHECK_INT(r.attempts, 1);
	/* cancelled while in flight, then delivered: delivery is a fact */
	t.rcpt = l->v[1].rcpt.id;
	CP_CHECK_INT(cp_store_cancel(st, &t, 1001, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1);
	v[0] = attempt(t.rcpt, 1003, CP_RCPT_DELIVERED, 250, "", "", "250 ok");
	CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err), CP_OK);
	r = rcpt_by_id(st, msg, t.rcpt);
	CP_CHECK_INT(r.state, CP_RCPT_DELIVERED);
	cp_due_list_free(l);
}

CONTRACT(operator_commands)
{
	int64_t acme = add_tenant(st, "acme");
	int64_t msg = insert(st, acme, 3, 100, 0);
	cp_due_list *l = NULL;
	cp_target t = { .message = msg };
	cp_attempt v[1];
	struct rcpts c;
	cp_envelope *e = NULL;
	cp_err err = { 0 };
	size_t n = 0;

	CP_CHECK_INT(cp_store_hold(st, &t, 500, &n, &err), CP_OK);
	CP_CHECK_INT(n, 3);
	CP_CHECK_INT(cp_store_claim_due(st, 1000, "n1", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 0, "held recipients claimed");
	cp_due_list_free(l);
	CP_CHECK_INT(cp_store_release(st, &t, 1000, &n, &err), CP_OK);
	CP_CHECK_INT(n, 3);
	rcpts_of(st, msg, &c);
	CP_CHECK(c.n == 3 && c.v[0].state == CP_RCPT_QUEUED &&
	    c.v[0].next_attempt == 1000, "released: state %d next %lld",
	    c.v[0].state, (long long)c.v[0].next_attempt);
	/* cancel one recipient; again: nothing left to change */
	t.message = 0;
	t.rcpt = c.v[2].id;
	CP_CHECK_INT(cp_store_cancel(st, &t, 1000, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1);
	CP_CHECK_INT(cp_store_cancel(st, &t, 1000, &n, &err), CP_OK);
	CP_CHECK_INT(n, 0);
	/* retry now: a deferred recipient due in an hour comes forward */
	CP_CHECK_INT(cp_store_claim_due(st, 1000, "n1", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 2, "claim after release: %zu", l ? l->n : 0);
	cp_due_list_free(l);
	v[0] = attempt(c.v[0].id, 1001, CP_RCPT_DEFERRED, 421, "", "", "421");
	v[0].next_attempt = 4600;
	CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err), CP_OK);
	t.rcpt = c.v[1].id; /* still in flight: retry leaves it alone */
	CP_CHECK_INT(cp_store_retry_now(st, &t, 1002, &n, &err), CP_OK);
	CP_CHECK_INT(n, 0);
	t.rcpt = 0;
	t.message = msg;
	CP_CHECK_INT(cp_store_retry_now(st, &t, 1002, &n, &err), CP_OK);
	CP_CHECK_INT(n, 1);
	CP_CHECK_INT(cp_store_claim_due(st, 1002, "n1", 60, 10, &l, &err),
	    CP_OK);
	CP_CHECK(l && l->n == 1 && l->v[0].rcpt.id == c.v[0].id,
	    "retried recipient claimed");
	cp_due_list_free(l);
	/* delete the whole message: the rest is cancelled, it is finished */
	CP_CHECK_INT(cp_store_cancel(st, &t, 1003, &n, &err), CP_OK);
	CP_CHECK_INT(n, 2);
	CP_CHECK_INT(cp_store_get_message(st, msg, &e, &err), CP_OK);
	if (e) {
		CP_CHECK_INT(e->nopen, 0);
		CP_CHECK_INT(e->finished, 1003);
		cp_envelope_free(e);
	}
	/* targets */
	t.message = 424242;
	CP_CHECK_INT(cp_store_hold(st, &t, 1000, &n, &err), CP_ENOTFOUND);
	t.message = 0;
	t.rcpt = 424242;
	CP_CHECK_INT(cp_store_release(st, &t, 1000, &n, &err), CP_ENOTFOUND);
	t.message = msg;
	CP_CHECK_INT(cp_store_hold(st, &t, 1000, &n, &err), CP_EINVAL);
	t.message = t.rcpt = 0;
	CP_CHECK_INT(cp_store_hold(st, &t, 1000, &n, &err), CP_EINVAL);
}

CONTRACT(queue_listing_and_counts)
{
	int64_t acme = add_tenant(st, "acme"), beta = add_tenant(st, "beta");
	cp_queue_filter f = { .state = -1, .limit = 4 };
	cp_queue_counts qc;
	struct rcpts c = { 0 };
	cp_err err = { 0 };
	int64_t last = 0;
	size_t total = 0;

	for (int i = 0; i < 5; i++)
		insert(st, acme, 2, 100 + i, 0);
	insert(st, beta, 3, 100, 1);
	do { /* keyset paging, 4 at a time */
		c.n = 0;
		f.after = last;
		CP_CHECK_INT(cp_store_list_queue(st, &f, collect_rcpt, &c,
		    &err), CP_OK);
		for (size_t i = 0; i < c.n; i++) {
			CP_CHECK(c.v[i].id > last, "paging order");
			last = c.v[i].id;
		}
		total += c.n;
	} while (c.n == 4);
	CP_CHECK_INT(total, 13);
	c.n = 0;
	f.after = 0;
	f.limit = 0;
	f.tenant = beta;
	CP_CHECK_INT(cp_store_list_queue(st, &f, collect_rcpt, &c, &err), CP_OK);
	CP_CHECK_INT(c.n, 3);
	c.n = 0;
	f.tenant = 0;
	f.state = CP_RCPT_HELD;
	CP_CHECK_INT(cp_store_list_queue(st, &f, collect_rcpt, &c, &err), CP_OK);
	CP_CHECK_INT(c.n, 3);
	CP_CHECK_INT(cp_store_count_queue(st, 0, 1000, &qc, &err), CP_OK);
	CP_CHECK_INT(qc.state[CP_RCPT_QUEUED], 10);
	CP_CHECK_INT(qc.state[CP_RCPT_HELD], 3);
	CP_CHECK_INT(qc.due, 10);
	CP_CHECK_INT(cp_store_count_queue(st, beta, 1000, &qc, &err), CP_OK);
	CP_CHECK_INT(qc.state[CP_RCPT_QUEUED], 0);
	CP_CHECK_INT(qc.state[CP_RCPT_HELD], 3);
	CP_CHECK_INT(cp_store_count_queue(st, acme, 102, &qc, &err), CP_OK);
	CP_CHECK_INT(qc.due, 6);
	f.state = 9;
	CP_CHECK_INT(cp_store_list_queue(st, &f, collect_rcpt, &c, &err),
	    CP_EINVAL);
}

CONTRACT(retention_purge)
{
	int64_t acme = add_tenant(st, "acme");
	int64_t done = insert(st, acme, 1, 100, 0);
	int64_t open = insert(st, acme, 1, 100, 0);
	cp_due_list *l = NULL;
	cp_attempt v[1];
	cp_envelope *e = NULL;
	cp_buf b;
	cp_err err = { 0 };
	size_t n = 9;

	(void)open;
	CP_CHECK_INT(cp_store_claim_due(st, 5000, "n1", 60, 1, &l, &err), CP_OK);
	CP_CHECK(l && l->n == 1 && l->v[0].rcpt.message == done, "claim");
	if (l && l->n == 1) {
		v[0] = attempt(l->v[0].rcpt.id, 5000, CP_RCPT_DELIVERED, 250,
		    "", "", "250 ok");
		CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err),
		    CP_OK);
	}
	cp_due_list_free(l);
	CP_CHECK_INT(cp_store_purge_bodies(st, 5000 + 3600, 86400, 100, &n,
	    &err), CP_OK);
	CP_CHECK_INT(n, 0); /* finished too recently */
	CP_CHECK_INT(cp_store_purge_bodies(st, 5000 + 86400, 86400, 100, &n,
	    &err), CP_OK);
	CP_CHECK_INT(n, 1);
	cp_buf_init(&b, 1 << 20);
	CP_CHECK_INT(cp_store_get_body(st, done, &b, &err), CP_ENOTFOUND);
	CP_CHECK(strstr(err.msg, "purged") != NULL, "%s", err.msg);
	CP_CHECK_INT(cp_store_get_body(st, open, &b, &err), CP_OK);
	CP_CHECK(b.len > 0, "unfinished message lost its body");
	cp_buf_free(&b);
	CP_CHECK_INT(cp_store_get_message(st, done, &e, &err), CP_OK);
	if (e) { /* the envelope and history stay */
		CP_CHECK_INT(e->body_purged, 1);
		cp_envelope_free(e);
	}
	CP_CHECK_INT(cp_store_purge_bodies(st, 5000 + 86400 * 9, 86400, 100,
	    &n, &err), CP_OK);
	CP_CHECK_INT(n, 0);
}

CONTRACT(expiry_sweep)
{
	static const char *const rcpts[] = { "a@dest.test", "b@dest.test",
		"c@dest.test" };
	int64_t acme = add_tenant(st, "acme");
	cp_envelope env = { .tenant = acme, .mail_from = "ann@acme.test",
		.return_path = "", .rcpts = rcpts, .nrcpts = 3, .received = 1000,
		.expires = 1100, .message_id = "<x@acme.test>" };
	cp_due_list *l = NULL;
	cp_target t = { 0 };
	cp_envelope *e = NULL;
	struct rcpts c;
	cp_err err = { 0 };
	cp_attempt v[1];

	CP_CHECK_INT(cp_store_insert_message(st, &env, "x", 1, &err), CP_OK);
	rcpts_of(st, env.id, &c);
	CP_CHECK_INT(c.v[0].expires, 1100);
	t.rcpt = c.v[2].id; /* held: never expires */
	cp_store_hold(st, &t, 1000, NULL, &err);
	/* a and b claimed; a deferred; b still in flight past the expiry:
	 * left alone until its lease ends */
	CP_CHECK_INT(cp_store_claim_due(st, 1090, "n1", 60, 5, &l, &err), CP_OK);
	CP_CHECK(l && l->n == 2, "claim a and b");
	cp_due_list_free(l);
	l = NULL;
	v[0] = attempt(c.v[0].id, 1091, CP_RCPT_DEFERRED, 451, "4.2.2",
	    "mailbox_full", "451 4.2.2 full");
	v[0].next_attempt = 1500;
	CP_CHECK_INT(cp_store_record_attempts(st, "n1", v, 1, &err), CP_OK);
	CP_CHECK_INT(cp_store_expire_due(st, 1099, 10, &l, &err), CP_OK);
	CP_CHECK(l && l->n == 0, "expired early");
	cp_due_list_free(l);
	CP_CHECK_INT(cp_store_expire_due(st, 1120, 10, &l, &err), CP_OK);
	CP_CHECK(l && l->n == 1, "expired: %zu", l ? l->n : 0);
	if (l && l->n == 1) { /* what a DSN needs */
		CP_CHECK_STR(l->v[0].rcpt.address, "a@dest.test");
		CP_CHECK_INT(l->v[0].rcpt.state, CP_RCPT_EXPIRED);
		CP_CHECK_STR(l->v[0].rcpt.last_reply, "451 4.2.2 full");
		CP_CHECK_STR(l->v[0].rcpt.last_cause, "mailbox_full");
		CP_CHECK_STR(l->v[0].mail_from, "ann@acme.test");
		CP_CHECK_STR(l->v[0].message_id, "<x@acme.test>");
	}
	cp_due_list_free(l);
	CP_CHECK_INT(cp_store_expire_due(st, 1151, 10, &l, &err), CP_OK);
	CP_CHECK(l && l->n == 1 && strcmp(l->v[0].rcpt.address,
	    "b@dest.test") == 0, "after the lease");
	cp_due_list_free(l);
	rcpts_of(st, env.id, &c);
	CP_CHECK_INT(c.v[0].state, CP_RCPT_EXPIRED);
	CP_CHECK_INT(c.v[1].state, CP_RCPT_EXPIRED);
	CP_CHECK_INT(c.v[2].state, CP_RCPT_HELD);
	CP_CHECK_INT(cp_store_get_message(st, env.id, &e, &err), CP_OK);
	if (e) {
		CP_CHECK_INT(e->nopen, 1);
		cp_envelope_free(e);
	}
}

CONTRACT(check_passes)
{
	int64_t acme = add_tenant(st, "acme");
	cp_err err = { 0 };

	insert(st, acme, 2, 100, 0);
	CP_CHECK_INT(cp_store_check(st, &err), CP_OK);
	CP_CHECK(err.msg[0] == '\0', "%s", err.msg);
	(void)dsn;
}

/* ---- crash safety ------------------------------------------------------- */

/* What the child inserts for sequence number seq (a pure function). */
static size_t
crash_nrcpts(uint32_t seq)
{
	return 1 + seq % 5;
}

static void
crash_rcpt(uint32_t seq, size_t k, char *out, size_t n)
{
	snprintf(out, n, "r%u-%zu@dest%u.test", seq, k, seq % 7);
}

static size_t
crash_body(uint32_t seq, unsigned char *out, size_t max)
{
	size_t len = 50 + (seq * 2654435761u) % 6000;

	len = len < max ? len : max;
	for (size_t i = 0; i < len; i++)
		out[i] = (unsigned char)(seq * 31 + i * 7);
	return len;
}

struct crash_rec {
	uint32_t seq;
	uint32_t pad;
	int64_t id;
};

/* The child: insert forever, report (seq, id) after each commit. */
static void
crash_child(const char *dsn, int fd)
{
	static unsigned char bodies[10][6100];
	static char addrs[10][5][64];
	const char *rcpts[10][5];
	char msgid[10][64];
	cp_insert v[10];
	cp_err err = { 0 };
	cp_store *st = cp_store_open(dsn, &err);
	cp_tenant *t = NULL;
	uint32_t seq = 0;

	if (st == NULL || cp_store_get_tenant(st, "acme", &t, &err) != CP_OK)
		_exit(3);
	for (;;) {
		size_t n = (seq / 10) % 2 ? 10 : 1; /* batches and singles */

		for (size_t i = 0; i < n; i++) {
			uint32_t s = seq + (uint32_t)i;

			memset(&v[i], 0, sizeof(v[i]));
			for (size_t k = 0; k < crash_nrcpts(s); k++) {
				crash_rcpt(s, k, addrs[i][k], sizeof(addrs[i][k]));
				rcpts[i][k] = addrs[i][k];
			}
			snprintf(msgid[i], sizeof(msgid[i]), "<%u@crash>", s);
			v[i].env.tenant = t->id;
			v[i].env.mail_from = "ann@acme.test";
			v[i].env.return_path = "";
			v[i].env.rcpts = rcpts[i];
			v[i].env.nrcpts = crash_nrcpts(s);
			v[i].env.received = 1000 + s;
			v[i].env.message_id = msgid[i];
			v[i].body = bodies[i];
			v[i].len = crash_body(s, bodies[i], sizeof(bodies[i]));
		}
		if (cp_store_insert_many(st, v, n, &err) != CP_OK)
			_exit(4);
		for (size_t i = 0; i < n; i++) {
			struct crash_rec r = { seq + (uint32_t)i, 0, v[i].env.id };

			if (v[i].rc != CP_OK ||
			    write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
				_exit(5);
		}
		seq += (uint32_t)n;
	}
}

static int
crash_verify(cp_store *st, const struct crash_rec *r)
{
	unsigned char want[6100];
	size_t wlen = crash_body(r->seq, want, sizeof(want));
	char msgid[64], addr[64];
	cp_envelope *e = NULL;
	struct rcpts c;
	cp_buf b;
	cp_err err = { 0 };
	int ok = 1;

	if (cp_store_get_message(st, r->id, &e, &err) != CP_OK) {
		CP_CHECK(0, "seq %u (id %lld) reported committed, lost: %s",
		    r->seq, (long long)r->id, err.msg);
		return 0;
	}
	snprintf(msgid, sizeof(msgid), "<%u@crash>", r->seq);
	if (strcmp(e->message_id, msgid) != 0 || e->size != (int64_t)wlen) {
		CP_CHECK(0, "seq %u: envelope differs", r->seq);
		ok = 0;
	}
	cp_envelope_free(e);
	cp_buf_init(&b, 1 << 20);
	if (cp_store_get_body(st, r->id, &b, &err) != CP_OK || b.len != wlen ||
	    memcmp(b.data, want, wlen) != 0) {
		CP_CHECK(0, "seq %u: body differs (%s)", r->seq, err.msg);
		ok = 0;
	}
	cp_buf_free(&b);
	rcpts_of(st, r->id, &c);
	if (c.n != crash_nrcpts(r->seq)) {
		CP_CHECK(0, "seq %u: %zu recipients, want %zu", r->seq, c.n,
		    crash_nrcpts(r->seq));
		return 0;
	}
	for (size_t k = 0; k < c.n; k++) {
		crash_rcpt(r->seq, k, addr, sizeof(addr));
		if (strcmp(c.v[k].address, addr) != 0 ||
		    c.v[k].state != CP_RCPT_QUEUED) {
			CP_CHECK(0, "seq %u: recipient %zu differs", r->seq, k);
			ok = 0;
		}
	}
	return ok;
}

CP_TEST(store_crash_safety)
{
	for (size_t bi = 0; bi < store_nbackends; bi++) {
		char dsn[1024], dir[512];
		cp_err err = { 0 };
		cp_store *st;
		size_t total = 0, verified = 0;

		if (store_backends[bi].fresh(dsn, sizeof(dsn), dir, sizeof(dir)) != 0)
			continue;
		st = cp_store_open(dsn, &err);
		CP_CHECK(st != NULL, "open: %s", err.msg);
		if (st == NULL)
			continue;
		add_tenant(st, "acme");
		cp_store_close(st); /* no connection may cross a fork */
		srand((unsigned)time(NULL) ^ (unsigned)getpid());
		for (int round = 0; round < 5; round++) {
			struct crash_rec *recs = NULL, r;
			size_t n = 0, cap = 0;
			int fds[2], status;
			pid_t pid;

			if (pipe(fds) != 0)
				break;
			fflush(NULL);
			pid = fork();
			if (pid == 0) {
				close(fds[0]);
				crash_child(dsn, fds[1]);
				_exit(0);
			}
			close(fds[1]);
			/* let it run 50..550 ms, then kill it mid-flight */
			usleep(50000 + (useconds_t)(rand() % 500000));
			kill(pid, SIGKILL);
			while (read(fds[0], &r, sizeof(r)) == (ssize_t)sizeof(r)) {
				if (n == cap) {
					cap = cap ? cap * 2 : 256;
					recs = realloc(recs, cap * sizeof(*recs));
				}
				recs[n++] = r;
			}
			close(fds[0]);
			waitpid(pid, &status, 0);
			CP_CHECK(WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGKILL,
			    "round %d: child ended on its own (status %d)",
			    round, status);
			st = cp_store_open(dsn, &err);
			CP_CHECK(st != NULL, "round %d: reopen: %s", round,
			    err.msg);
			if (st == NULL) {
				free(recs);
				break;
			}
			CP_CHECK(cp_store_check(st, &err) == CP_OK,
			    "round %d: %s", round, err.msg);
			for (size_t i = 0; i < n; i++)
				verified += (size_t)crash_verify(st, &recs[i]);
			total += n;
			cp_store_close(st);
			free(recs);
		}
		CP_CHECK(total > 0, "the child committed nothing");
		CP_CHECK(verified == total, "%zu of %zu inserts intact",
		    verified, total);
		fprintf(stderr, "    %s: %zu committed inserts over 5 kills, "
		    "all intact\n", store_backends[bi].name, total);
		store_remove_dir(dir);
	}
}
