/*
 * store.c - the store interface: backend dispatch by DSN scheme, input
 * checks, the lock, batches (group commit), records, the model and
 * passwords (the queue's calls are in store_queue.c).
 *
 * Every public call checks its input (store_check.c) before the backend
 * sees it, so backends trust lengths and shapes. Calls are serialized by a
 * recursive lock; a batch keeps it from cp_store_begin to cp_store_commit,
 * so calls of the batch's thread join the batch and other threads wait.
 *
 * Passwords are hashed here, outside the lock, with Argon2id through
 * libsodium (crypto_pwhash_str_alg, interactive limits); the backend only
 * stores the resulting string. Verification of an unknown mailbox runs
 * against a dummy hash so that it costs what a wrong password costs.
 * Nothing here knows SQL.
 */
#include <pthread.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coldpost/alloc.h"
#include "store/store_int.h"

static const struct cp_store_ops *const backends[] = {
	&cp_store_sqlite_ops,
};

static const char *const state_names[CP_RCPT_NSTATES] = {
	"queued", "deferred", "held", "delivered", "bounced", "expired",
	"cancelled",
};

const char *
cp_rcpt_state_name(int state)
{
	return state >= 0 && state < CP_RCPT_NSTATES ? state_names[state] : "?";
}

int
cp_rcpt_state_from_name(const char *name)
{
	for (int i = 0; i < CP_RCPT_NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

int
cp_rcpt_state_final(int state)
{
	return state >= CP_RCPT_DELIVERED && state < CP_RCPT_NSTATES;
}

void
store_lock(cp_store *st)
{
	pthread_mutex_lock(&st->lock);
}

void
store_unlock(cp_store *st)
{
	pthread_mutex_unlock(&st->lock);
}

int64_t
store_now(int64_t t)
{
	return t > 0 ? t : (int64_t)time(NULL);
}

/* ---- lifecycle ---------------------------------------------------------- */

cp_store *
cp_store_open(const char *dsn, cp_err *err)
{
	const char *colon;
	pthread_mutexattr_t ma;
	cp_store *st;

	if (dsn == NULL || (colon = strchr(dsn, ':')) == NULL) {
		cp_err_set(err, CP_EINVAL,
		    "store: '%s': want scheme:where (\"sqlite:/var/lib/"
		    "coldpost/queue.db\")", dsn ? dsn : "(null)");
		return NULL;
	}
	if (sodium_init() < 0) {
		cp_err_set(err, CP_ESTORE, "store: libsodium failed to start");
		return NULL;
	}
	for (size_t i = 0; i < CP_NELEM(backends); i++) {
		size_t n = strlen(backends[i]->scheme);

		if ((size_t)(colon - dsn) != n ||
		    strncmp(dsn, backends[i]->scheme, n) != 0)
			continue;
		if (colon[1] == '\0') {
			cp_err_set(err, CP_EINVAL, "store: '%s': nothing after "
			    "'%s:'", dsn, backends[i]->scheme);
			return NULL;
		}
		st = backends[i]->open(colon + 1, err);
		if (st == NULL)
			return NULL;
		st->ops = backends[i];
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&st->lock, &ma);
		pthread_mutexattr_destroy(&ma);
		if (st->ops->migrate(st, err) != CP_OK) {
			cp_store_close(st);
			return NULL;
		}
		return st;
	}
	cp_err_set(err, CP_EINVAL, "store: '%.*s': unknown store (known: "
	    "sqlite)", (int)CP_MIN((size_t)(colon - dsn), 32), dsn);
	return NULL;
}

void
cp_store_close(cp_store *st)
{
	if (st == NULL)
		return;
	if (st->in_batch) {
		st->ops->rollback(st);
		st->in_batch = 0;
	}
	pthread_mutex_destroy(&st->lock);
	st->ops->close(st);
}

int
cp_store_migrate(cp_store *st, cp_err *err)
{
	int rc;

	store_lock(st);
	rc = st->ops->migrate(st, err);
	store_unlock(st);
	return rc;
}

int
cp_store_schema_version(cp_store *st, int *have, int *known, cp_err *err)
{
	int rc;

	store_lock(st);
	rc = st->ops->schema_version(st, have, known, err);
	store_unlock(st);
	return rc;
}

int
cp_store_check(cp_store *st, cp_err *err)
{
	int rc;

	store_lock(st);
	rc = st->ops->check(st, err);
	store_unlock(st);
	return rc;
}

const char *
cp_store_scheme(const cp_store *st)
{
	return st->ops->scheme;
}

void
cp_store_get_stats(cp_store *st, cp_store_stats *out)
{
	store_lock(st);
	out->commits = st->commits;
	out->rollbacks = st->rollbacks;
	store_unlock(st);
	cp_hist_read(&st->commit_latency, &out->commit_latency);
}

/* ---- batches ------------------------------------------------------------ */

int
cp_store_begin(cp_store *st, cp_err *err)
{
	int rc;

	store_lock(st);
	if (st->in_batch) {
		store_unlock(st);
		return cp_err_set(err, CP_EINVAL,
		    "store: a batch is already open");
	}
	rc = st->ops->begin(st, err);
	if (rc != CP_OK) {
		store_unlock(st);
		return rc;
	}
	st->in_batch = 1;
	st->batch_broken = 0;
	return CP_OK; /* the lock stays held until commit or rollback */
}

int
cp_store_commit(cp_store *st, cp_err *err)
{
	int rc;

	store_lock(st);
	if (!st->in_batch) {
		store_unlock(st);
		return cp_err_set(err, CP_EINVAL, "store: commit without a "
		    "batch");
	}
	if (st->batch_broken) {
		st->ops->rollback(st);
		rc = cp_err_set(err, CP_EIO, "store: the batch was lost to an "
		    "earlier error; nothing of it was kept");
	} else {
		rc = st->ops->commit(st, err);
	}
	st->in_batch = 0;
	st->batch_broken = 0;
	store_unlock(st);
	store_unlock(st); /* the batch's hold */
	return rc;
}

void
cp_store_rollback(cp_store *st)
{
	store_lock(st);
	if (!st->in_batch) {
		store_unlock(st);
		return;
	}
	st->ops->rollback(st);
	st->in_batch = 0;
	st->batch_broken = 0;
	store_unlock(st);
	store_unlock(st);
}

/* ---- records ------------------------------------------------------------ */

#define ALIGN_UP(n) (((n) + sizeof(void *) - 1) & ~(sizeof(void *) - 1))

static const char *
field_get(const void *rec, size_t off)
{
	const char *s;

	memcpy(&s, (const char *)rec + off, sizeof(s));
	return s;
}

static void
field_set(void *rec, size_t off, const char *s)
{
	memcpy((char *)rec + off, &s, sizeof(s));
}

void *
store_rec_dup(const void *rec, size_t size, const size_t *offs, size_t n)
{
	size_t total = ALIGN_UP(size);
	char *mem, *p;

	for (size_t i = 0; i < n; i++) {
		const char *s = field_get(rec, offs[i]);

		if (s != NULL)
			total += strlen(s) + 1;
	}
	mem = cp_malloc(total);
	if (mem == NULL)
		return NULL;
	memcpy(mem, rec, size);
	p = mem + ALIGN_UP(size);
	for (size_t i = 0; i < n; i++) {
		const char *s = field_get(rec, offs[i]);
		size_t len;

		if (s == NULL)
			continue;
		len = strlen(s) + 1;
		memcpy(p, s, len);
		field_set(mem, offs[i], p);
		p += len;
	}
	return mem;
}

void
cp_tenant_free(cp_tenant *t)
{
	cp_free(t);
}

void
cp_pool_free(cp_pool *p)
{
	cp_free(p);
}

void
cp_domain_free(cp_domain *d)
{
	if (d != NULL && d->key_pem != NULL) /* our copy, in the same block */
		sodium_memzero((void *)(uintptr_t)d->key_pem,
		    strlen(d->key_pem));
	cp_free(d);
}

void
cp_mailbox_free(cp_mailbox *m)
{
	cp_free(m);
}

void
cp_envelope_free(cp_envelope *e)
{
	cp_free(e);
}

static const size_t due_strs[] = {
	offsetof(cp_due, rcpt.address), offsetof(cp_due, rcpt.owner),
	offsetof(cp_due, rcpt.last_reply),
	offsetof(cp_due, rcpt.last_enhanced),
	offsetof(cp_due, rcpt.last_cause), offsetof(cp_due, rcpt.last_reason),
	offsetof(cp_due, rcpt.last_receiver), offsetof(cp_due, mail_from),
	offsetof(cp_due, return_path), offsetof(cp_due, message_id),
};
#define NDUE_STRS CP_NELEM(due_strs)

void
store_due_builder_init(store_due_builder *b)
{
	memset(b, 0, sizeof(*b));
	cp_buf_init(&b->pool, (size_t)CP_STORE_BATCH_MAX * 8192);
}

int
store_due_builder_add(store_due_builder *b, const cp_due *d)
{
	size_t *soff;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		cp_due *v = cp_realloc(b->v, cap * sizeof(*v));

		if (v == NULL)
			return CP_ENOMEM;
		b->v = v;
		soff = cp_realloc(b->soff, cap * NDUE_STRS * sizeof(*soff));
		if (soff == NULL)
			return CP_ENOMEM;
		b->soff = soff;
		b->cap = cap;
	}
	soff = b->soff + b->n * NDUE_STRS;
	for (size_t i = 0; i < NDUE_STRS; i++) {
		const char *s = field_get(d, due_strs[i]);

		soff[i] = 0;
		if (s == NULL)
			continue;
		soff[i] = b->pool.len + 1;
		if (cp_buf_add(&b->pool, s, strlen(s) + 1) != CP_OK)
			return CP_ENOMEM;
	}
	b->v[b->n++] = *d;
	return CP_OK;
}

cp_due_list *
store_due_builder_finish(store_due_builder *b)
{
	cp_due_list *l = cp_calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	for (size_t r = 0; r < b->n; r++)
		for (size_t i = 0; i < NDUE_STRS; i++) {
			size_t o = b->soff[r * NDUE_STRS + i];

			field_set(&b->v[r], due_strs[i],
			    o ? b->pool.data + o - 1 : NULL);
		}
	l->n = b->n;
	l->v = b->v;
	l->mem_ = cp_buf_steal(&b->pool);
	b->v = NULL;
	b->n = b->cap = 0;
	store_due_builder_clear(b);
	return l;
}

void
store_due_builder_clear(store_due_builder *b)
{
	cp_free(b->v);
	cp_free(b->soff);
	cp_buf_free(&b->pool);
	memset(b, 0, sizeof(*b));
}

void
cp_due_list_free(cp_due_list *l)
{
	if (l == NULL)
		return;
	cp_free(l->v);
	cp_free(l->mem_);
	cp_free(l);
}

/* ---- model -------------------------------------------------------------- */

int
store_check_id(int64_t id, const char *what, cp_err *err)
{
	if (id <= 0)
		return cp_err_set(err, CP_EINVAL, "store: %s: id %lld is not "
		    "a valid id", what, (long long)id);
	return CP_OK;
}

int
store_check_out(const void *out, cp_err *err)
{
	return out == NULL ? cp_err_set(err, CP_EINVAL, "store: no place "
	    "for the result") : CP_OK;
}

int
cp_store_add_tenant(cp_store *st, cp_tenant *t, cp_err *err)
{
	int rc;

	if ((rc = store_check_name(t->name, "tenant name", err)) != CP_OK)
		return rc;
	if (t->mailbox_cap < 0)
		return cp_err_set(err, CP_EINVAL, "store: tenant %s: mailbox "
		    "cap %d: want 0 (none) or more", t->name, t->mailbox_cap);
	t->created = store_now(t->created);
	store_lock(st);
	rc = st->ops->add_tenant(st, t, err);
	store_unlock(st);
	return rc;
}

int
cp_store_list_tenants(cp_store *st, cp_tenant_cb cb, void *arg, cp_err *err)
{
	int rc;

	store_lock(st);
	rc = st->ops->list_tenants(st, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_tenant(cp_store *st, const char *name, cp_tenant **out,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_name(name, "tenant name", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_tenant(st, name, 0, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_tenant_by_id(cp_store *st, int64_t id, cp_tenant **out,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_id(id, "tenant", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_tenant(st, NULL, id, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_remove_tenant(cp_store *st, const char *name, int force,
    int64_t now, cp_err *err)
{
	int rc;

	if ((rc = store_check_name(name, "tenant name", err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->remove_tenant(st, name, force, store_now(now), err);
	store_unlock(st);
	return rc;
}

int
cp_store_add_pool(cp_store *st, cp_pool *p, cp_err *err)
{
	char addr[STORE_IP_MAX + 1];
	cp_pool norm = *p;
	int rc;

	if ((rc = store_check_id(p->tenant, "pool tenant", err)) != CP_OK ||
	    (rc = store_norm_ip(p->addr, addr, "pool address", err)) != CP_OK ||
	    (rc = store_check_domain_str(p->ehlo, "EHLO name", err)) != CP_OK)
		return rc;
	norm.addr = addr;
	norm.created = store_now(p->created);
	store_lock(st);
	rc = st->ops->add_pool(st, &norm, err);
	store_unlock(st);
	p->id = norm.id;
	p->created = norm.created;
	return rc;
}

int
cp_store_list_pools(cp_store *st, int64_t tenant, cp_pool_cb cb, void *arg,
    cp_err *err)
{
	int rc;

	if (tenant < 0)
		return store_check_id(tenant, "tenant", err);
	store_lock(st);
	rc = st->ops->list_pools(st, tenant, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_pool(cp_store *st, const char *addr, cp_pool **out, cp_err *err)
{
	char norm[STORE_IP_MAX + 1];
	int rc;

	if ((rc = store_norm_ip(addr, norm, "pool address", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_pool(st, norm, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_remove_pool(cp_store *st, const char *addr, cp_err *err)
{
	char norm[STORE_IP_MAX + 1];
	int rc;

	if ((rc = store_norm_ip(addr, norm, "pool address", err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->remove_pool(st, norm, err);
	store_unlock(st);
	return rc;
}

int
cp_store_add_domain(cp_store *st, cp_domain *d, cp_err *err)
{
	cp_domain low = *d;
	char name[CP_STORE_DOMAIN_MAX + 1];
	int rc;

	if ((rc = store_check_id(d->tenant, "domain tenant", err)) != CP_OK ||
	    (rc = store_check_domain_str(d->name, "domain", err)) != CP_OK ||
	    (rc = store_check_domain_str(d->selector, "DKIM selector",
	    err)) != CP_OK ||
	    (rc = store_check_alg(d->alg, err)) != CP_OK)
		return rc;
	if ((d->key_pem == NULL) == (d->key_path == NULL))
		return cp_err_set(err, CP_EINVAL, "store: domain %s: give "
		    "either the key PEM or the key path", d->name);
	rc = d->key_pem ? store_check_pem(d->key_pem, err) :
	    store_check_path(d->key_path, "DKIM key path", err);
	if (rc != CP_OK)
		return rc;
	for (size_t i = 0;; i++) { /* ASCII lower case; U-labels as given */
		char c = d->name[i];

		name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		if (c == '\0')
			break;
	}
	low.name = name;
	low.created = store_now(d->created);
	store_lock(st);
	rc = st->ops->add_domain(st, &low, err);
	store_unlock(st);
	d->id = low.id;
	d->created = low.created;
	return rc;
}

int
cp_store_list_domains(cp_store *st, int64_t tenant, cp_domain_cb cb,
    void *arg, cp_err *err)
{
	int rc;

	if (tenant < 0)
		return store_check_id(tenant, "tenant", err);
	store_lock(st);
	rc = st->ops->list_domains(st, tenant, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_domain(cp_store *st, const char *name, cp_domain **out,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_domain_str(name, "domain", err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_domain(st, name, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_remove_domain(cp_store *st, const char *name, int force,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_domain_str(name, "domain", err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->remove_domain(st, name, force, err);
	store_unlock(st);
	return rc;
}

int
cp_store_set_domain_key(cp_store *st, const cp_domain *d, cp_err *err)
{
	cp_domain low = *d;
	char name[CP_STORE_DOMAIN_MAX + 1];
	int rc;

	if ((rc = store_check_domain_str(d->name, "domain", err)) != CP_OK ||
	    (rc = store_check_domain_str(d->selector, "DKIM selector",
	    err)) != CP_OK ||
	    (rc = store_check_alg(d->alg, err)) != CP_OK)
		return rc;
	if ((d->key_pem == NULL) == (d->key_path == NULL))
		return cp_err_set(err, CP_EINVAL, "store: domain %s: give "
		    "either the key PEM or the key path", d->name);
	rc = d->key_pem ? store_check_pem(d->key_pem, err) :
	    store_check_path(d->key_path, "DKIM key path", err);
	if (rc != CP_OK)
		return rc;
	for (size_t i = 0;; i++) { /* as cp_store_add_domain keeps it */
		char c = d->name[i];

		name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		if (c == '\0')
			break;
	}
	low.name = name;
	store_lock(st);
	rc = st->ops->set_domain_key(st, &low, err);
	store_unlock(st);
	return rc;
}

int
cp_store_add_mailbox(cp_store *st, cp_mailbox *m, cp_err *err)
{
	cp_mailbox low = *m;
	char addr[CP_STORE_ADDR_MAX + 1];
	char *at;
	int rc;

	if ((rc = store_check_id(m->tenant, "mailbox tenant", err)) != CP_OK ||
	    (rc = store_check_address_str(m->address, "mailbox address", 0,
	    err)) != CP_OK ||
	    (rc = store_check_tz(m->tz, err)) != CP_OK)
		return rc;
	if (m->daily_cap < -1)
		return cp_err_set(err, CP_EINVAL, "store: mailbox %s: daily "
		    "cap %d: want -1 (tenant default), 0 (none) or more",
		    m->address, m->daily_cap);
	if (m->send_as_domain != 0 && m->send_as_domain != 1)
		return cp_err_set(err, CP_EINVAL, "store: mailbox %s: "
		    "send_as_domain is 0 or 1", m->address);
	memcpy(addr, m->address, strlen(m->address) + 1);
	at = strrchr(addr, '@');
	if (at[1] == '[')
		return cp_err_set(err, CP_EINVAL, "store: mailbox %s: needs a "
		    "domain, not an address literal", m->address);
	for (char *p = at + 1; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	low.address = addr;
	low.pwhash = "";
	low.created = store_now(m->created);
	store_lock(st);
	rc = st->ops->add_mailbox(st, &low, err);
	store_unlock(st);
	m->id = low.id;
	m->domain = low.domain;
	m->created = low.created;
	return rc;
}

int
cp_store_list_mailboxes(cp_store *st, int64_t tenant, cp_mailbox_cb cb,
    void *arg, cp_err *err)
{
	int rc;

	if (tenant < 0)
		return store_check_id(tenant, "tenant", err);
	store_lock(st);
	rc = st->ops->list_mailboxes(st, tenant, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_get_mailbox(cp_store *st, const char *address, cp_mailbox **out,
    cp_err *err)
{
	int rc;

	if ((rc = store_check_address_str(address, "mailbox address", 0,
	    err)) != CP_OK || (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_mailbox(st, address, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_remove_mailbox(cp_store *st, const char *address, cp_err *err)
{
	int rc;

	if ((rc = store_check_address_str(address, "mailbox address", 0,
	    err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->remove_mailbox(st, address, err);
	store_unlock(st);
	return rc;
}

/* ---- passwords ---------------------------------------------------------- */

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy_hash(void)
{
	unsigned char junk[16];

	randombytes_buf(junk, sizeof(junk));
	if (crypto_pwhash_str_alg(dummy_hash, (const char *)junk,
	    sizeof(junk), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		dummy_hash[0] = '\0';
}

static int
store_hash_password(const char *pw, size_t len,
    char out[crypto_pwhash_STRBYTES], cp_err *err)
{
	if (crypto_pwhash_str_alg(out, pw, len,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return cp_err_set(err, CP_ENOMEM, "store: password hashing "
		    "failed (Argon2id needs %zu bytes of memory)",
		    (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE);
	return CP_OK;
}

int
cp_store_set_password(cp_store *st, const char *address, const char *pw,
    size_t pwlen, cp_err *err)
{
	char hash[crypto_pwhash_STRBYTES];
	int rc;

	if ((rc = store_check_address_str(address, "mailbox address", 0,
	    err)) != CP_OK || (rc = store_check_password(pw, pwlen, err)) !=
	    CP_OK)
		return rc;
	if ((rc = store_hash_password(pw, pwlen, hash, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->set_pwhash(st, address, hash, err);
	store_unlock(st);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int
cp_store_verify_password(cp_store *st, const char *address, const char *pw,
    size_t pwlen, int *ok, cp_err *err)
{
	cp_mailbox *m = NULL;
	const char *hash;
	int rc;

	*ok = 0;
	if ((rc = store_check_address_str(address, "mailbox address", 0,
	    err)) != CP_OK || (rc = store_check_password(pw, pwlen, err)) !=
	    CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->get_mailbox(st, address, &m, err);
	store_unlock(st);
	if (rc != CP_OK && rc != CP_ENOTFOUND)
		return rc;
	hash = m != NULL ? m->pwhash : "";
	if (hash[0] == '\0') { /* no such mailbox, or no password: same cost */
		pthread_once(&dummy_once, make_dummy_hash);
		if (dummy_hash[0] != '\0' &&
		    crypto_pwhash_str_verify(dummy_hash, pw, pwlen) == 0)
			*ok = 0; /* a random password: never matches */
		cp_mailbox_free(m);
		cp_err_clear(err);
		return CP_OK;
	}
	*ok = crypto_pwhash_str_verify(hash, pw, pwlen) == 0;
	if (*ok && crypto_pwhash_str_needs_rehash(hash,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		char fresh[crypto_pwhash_STRBYTES];

		/* an upgrade that fails leaves the old, valid hash */
		if (store_hash_password(pw, pwlen, fresh, NULL) == CP_OK) {
			store_lock(st);
			(void)st->ops->set_pwhash(st, address, fresh, NULL);
			store_unlock(st);
		}
		sodium_memzero(fresh, sizeof(fresh));
	}
	cp_mailbox_free(m);
	return CP_OK;
}
