/*
 * net_cache.c - what the submission server remembers of the store, so that
 * the hot path (MAIL FROM of a trusted client, DKIM signing, logins of a
 * sequencer that reconnects all the time) does not wait on the store lock
 * or on Argon2id each time.
 *
 * Two direct-mapped tables behind one mutex each: domains by name (found
 * or not, tenant, selector and the parsed private key, kept 60 s; unknown
 * names 10 s) and successful logins by user and SHA-256 of the password
 * (5 minutes; a failure is never remembered, so every wrong password pays
 * the full Argon2id cost). A slot taken by another name is simply
 * replaced: the tables are bounded and a miss only costs a store call.
 * Store calls and key parsing happen outside the mutexes.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "coldpost/alloc.h"
#include "coldpost/log.h"
#include "net/net_int.h"

#define DOMAIN_SLOTS 512
#define LOGIN_SLOTS 256
#define DOMAIN_TTL 60
#define DOMAIN_NEG_TTL 10
#define LOGIN_TTL 300

typedef struct domain_slot {
	int used;
	int64_t expires;
	net_domain d; /* d.key: the cache's reference */
} domain_slot;

typedef struct login_slot {
	int used;
	int64_t expires;
	char user[CP_STORE_ADDR_MAX + 1];
	unsigned char pwsum[SHA256_DIGEST_LENGTH];
	net_login login;
} login_slot;

struct net_cache {
	cp_store *store;
	pthread_mutex_t dmu, lmu;
	domain_slot dom[DOMAIN_SLOTS];
	login_slot log[LOGIN_SLOTS];
};

static int64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static size_t
name_hash(const char *s, size_t nslot)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		h = (h ^ ch) * 1099511628211ull;
	}
	return (size_t)(h % nslot);
}

net_cache *
net_cache_new(cp_store *st)
{
	net_cache *c = cp_calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->store = st;
	pthread_mutex_init(&c->dmu, NULL);
	pthread_mutex_init(&c->lmu, NULL);
	return c;
}

void
net_cache_free(net_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < DOMAIN_SLOTS; i++)
		cp_dkim_key_free(c->dom[i].d.key);
	OPENSSL_cleanse(c->log, sizeof(c->log));
	pthread_mutex_destroy(&c->dmu);
	pthread_mutex_destroy(&c->lmu);
	cp_free(c);
}

/* ---- domains ------------------------------------------------------------- */

static void
strlcpy_(char *dst, const char *src, size_t n)
{
	size_t len = src ? strlen(src) : 0;

	if (len >= n)
		len = n - 1;
	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
}

/* The row's private key: from key_pem, else the file key_path. */
static void
domain_load_key(const cp_domain *row, net_domain *d)
{
	cp_err err = { 0 };
	int rc;

	if (row->key_pem != NULL && row->key_pem[0] != '\0')
		rc = cp_dkim_key_from_pem(row->key_pem, strlen(row->key_pem),
		    &d->key, &err);
	else if (row->key_path != NULL && row->key_path[0] != '\0')
		rc = cp_dkim_key_load(row->key_path, &d->key, &err);
	else {
		strlcpy_(d->why, "the domain has no DKIM key", sizeof(d->why));
		return;
	}
	if (rc != CP_OK) {
		d->key = NULL;
		strlcpy_(d->why, err.msg, sizeof(d->why));
		cp_log(CP_LOG_WARN, "dkim", "domain=%s key unusable: %s",
		    row->name, err.msg);
	} else if (row->selector == NULL || row->selector[0] == '\0') {
		cp_dkim_key_free(d->key);
		d->key = NULL;
		strlcpy_(d->why, "the domain has no DKIM selector",
		    sizeof(d->why));
	}
}

/* Ask the store; fill d (d->key a new reference). */
static int
domain_fetch(net_cache *c, const char *name, net_domain *d, cp_err *err)
{
	cp_domain *row = NULL;
	int rc;

	memset(d, 0, sizeof(*d));
	strlcpy_(d->name, name, sizeof(d->name));
	rc = cp_store_get_domain(c->store, name, &row, err);
	if (rc == CP_ENOTFOUND || rc == CP_EINVAL) {
		cp_err_clear(err);
		return CP_OK; /* not found */
	}
	if (rc != CP_OK)
		return rc;
	d->found = 1;
	d->id = row->id;
	d->tenant = row->tenant;
	strlcpy_(d->name, row->name, sizeof(d->name));
	strlcpy_(d->selector, row->selector, sizeof(d->selector));
	domain_load_key(row, d);
	cp_domain_free(row);
	return CP_OK;
}

/* Copy a slot out, with a key reference when asked. */
static void
domain_copy(const net_domain *from, int want_key, net_domain *out)
{
	*out = *from;
	out->key = want_key && from->key ? cp_dkim_key_ref(from->key) : NULL;
}

int
net_cache_domain(net_cache *c, const char *name, int block, int want_key,
    net_domain *out, cp_err *err)
{
	size_t i = name_hash(name, DOMAIN_SLOTS);
	int64_t now = now_s();
	domain_slot *sl = &c->dom[i];
	net_domain fresh;
	cp_dkim_key *old = NULL;
	int rc;

	pthread_mutex_lock(&c->dmu);
	if (sl->used && sl->expires > now &&
	    strcasecmp(sl->d.name, name) == 0) {
		domain_copy(&sl->d, want_key, out);
		pthread_mutex_unlock(&c->dmu);
		return 1;
	}
	pthread_mutex_unlock(&c->dmu);
	if (!block)
		return 0;
	if ((rc = domain_fetch(c, name, &fresh, err)) != CP_OK)
		return rc;
	domain_copy(&fresh, want_key, out);
	pthread_mutex_lock(&c->dmu);
	old = sl->used ? sl->d.key : NULL;
	sl->used = 1;
	sl->d = fresh; /* the slot keeps fresh's reference */
	sl->expires = now + (fresh.found ? DOMAIN_TTL : DOMAIN_NEG_TTL);
	pthread_mutex_unlock(&c->dmu);
	cp_dkim_key_free(old);
	return 1;
}

/* ---- logins ---------------------------------------------------------------- */

static int
login_fetch(net_cache *c, const char *user, net_login *out, cp_err *err)
{
	cp_mailbox *m = NULL;
	int rc;

	if ((rc = cp_store_get_mailbox(c->store, user, &m, err)) != CP_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->mailbox = m->id;
	out->tenant = m->tenant;
	out->send_as_domain = m->send_as_domain;
	strlcpy_(out->address, m->address, sizeof(out->address));
	if (!net_addr_domain(m->address, out->domain, sizeof(out->domain)))
		out->domain[0] = '\0';
	cp_mailbox_free(m);
	return CP_OK;
}

int
net_cache_login(net_cache *c, const char *user, const char *pass,
    size_t passlen, int *ok, net_login *out, cp_err *err)
{
	unsigned char sum[SHA256_DIGEST_LENGTH];
	size_t i = name_hash(user, LOGIN_SLOTS);
	login_slot *sl = &c->log[i];
	int64_t now = now_s();
	int rc;

	*ok = 0;
	SHA256((const unsigned char *)pass, passlen, sum);
	pthread_mutex_lock(&c->lmu);
	if (sl->used && sl->expires > now && strcmp(sl->user, user) == 0 &&
	    CRYPTO_memcmp(sl->pwsum, sum, sizeof(sum)) == 0) {
		*out = sl->login;
		*ok = 1;
	}
	pthread_mutex_unlock(&c->lmu);
	if (*ok) {
		OPENSSL_cleanse(sum, sizeof(sum));
		return CP_OK;
	}
	rc = cp_store_verify_password(c->store, user, pass, passlen, ok, err);
	if (rc == CP_EINVAL) { /* not an address, too long: a wrong login */
		cp_err_clear(err);
		*ok = 0;
		rc = CP_OK;
	}
	if (rc == CP_OK && *ok) {
		rc = login_fetch(c, user, out, err);
		if (rc == CP_ENOTFOUND) { /* removed meanwhile */
			cp_err_clear(err);
			*ok = 0;
			rc = CP_OK;
		}
	}
	if (rc == CP_OK && *ok && strlen(user) < sizeof(sl->user)) {
		pthread_mutex_lock(&c->lmu);
		sl->used = 1;
		sl->expires = now + LOGIN_TTL;
		strlcpy_(sl->user, user, sizeof(sl->user));
		memcpy(sl->pwsum, sum, sizeof(sum));
		sl->login = *out;
		pthread_mutex_unlock(&c->lmu);
	}
	OPENSSL_cleanse(sum, sizeof(sum));
	return rc;
}
