/*
 * store_http.c - the generic half of the HTTP API's store calls (store.h,
 * "HTTP API"): API keys, message listings and the statistics over a time
 * range. Like store.c it checks every input, takes the lock and calls the
 * backend.
 */
#include <string.h>

#include "coldpost/alloc.h"
#include "store/store_int.h"

#define KEY_HASH_LEN 64
#define KEY_PREFIX_MAX 16
#define KEY_NOTE_MAX 256

static int
check_hash(const char *h, cp_err *err)
{
	if (h == NULL || strlen(h) != KEY_HASH_LEN)
		return cp_err_set(err, CP_EINVAL, "store: api key hash: want "
		    "%d hex digits", KEY_HASH_LEN);
	for (size_t i = 0; i < KEY_HASH_LEN; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' &&
		    h[i] <= 'f')))
			return cp_err_set(err, CP_EINVAL, "store: api key "
			    "hash: not lower-case hex at offset %zu", i);
	return CP_OK;
}

static int
check_text(const char *s, size_t max, const char *what, cp_err *err)
{
	size_t len;

	if (s == NULL)
		return cp_err_set(err, CP_EINVAL, "store: %s missing", what);
	len = strnlen(s, max + 1);
	if (len > max)
		return cp_err_set(err, CP_ETOOBIG, "store: %s: more than %zu "
		    "bytes", what, max);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cp_err_set(err, CP_EINVAL, "store: %s: control "
			    "byte at offset %zu", what, i);
	return CP_OK;
}

int
cp_store_add_apikey(cp_store *st, cp_apikey *k, cp_err *err)
{
	int rc;

	if ((rc = store_check_present(k, "api key", err)) != CP_OK ||
	    (rc = check_hash(k->hash, err)) != CP_OK ||
	    (rc = check_text(k->prefix, KEY_PREFIX_MAX, "api key prefix",
	    err)) != CP_OK ||
	    (rc = check_text(k->note != NULL ? k->note : "", KEY_NOTE_MAX,
	    "api key note", err)) != CP_OK)
		return rc;
	if (k->rate < 0 || k->rate > 1000000)
		return cp_err_set(err, CP_EINVAL, "store: api key rate %lld: "
		    "want 0..1000000 per second", (long long)k->rate);
	if (k->tenant < 0)
		return cp_err_set(err, CP_EINVAL, "store: api key tenant %lld",
		    (long long)k->tenant);
	k->created = store_now(k->created);
	store_lock(st);
	rc = st->ops->add_apikey(st, k, err);
	store_unlock(st);
	return rc;
}

int
cp_store_find_apikey(cp_store *st, const char *hash, cp_apikey **out,
    cp_err *err)
{
	int rc;

	if ((rc = check_hash(hash, err)) != CP_OK ||
	    (rc = store_check_out(out, err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->find_apikey(st, hash, out, err);
	store_unlock(st);
	return rc;
}

int
cp_store_list_apikeys(cp_store *st, int64_t tenant, cp_apikey_cb cb,
    void *arg, cp_err *err)
{
	int rc;

	if (cb == NULL || tenant < -1)
		return cp_err_set(err, CP_EINVAL, "store: list api keys: bad "
		    "arguments");
	store_lock(st);
	rc = st->ops->list_apikeys(st, tenant, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_remove_apikey(cp_store *st, int64_t id, cp_err *err)
{
	int rc;

	if ((rc = store_check_id(id, "api key", err)) != CP_OK)
		return rc;
	store_lock(st);
	rc = st->ops->remove_apikey(st, id, err);
	store_unlock(st);
	return rc;
}

void
cp_apikey_free(cp_apikey *k)
{
	cp_free(k);
}

int
cp_store_list_messages(cp_store *st, const cp_message_filter *f,
    cp_envelope_cb cb, void *arg, cp_err *err)
{
	int rc;

	if (cb == NULL || f == NULL || f->tenant < 0 || f->before < 0 ||
	    f->state < -1 || f->state >= CP_RCPT_NSTATES)
		return cp_err_set(err, CP_EINVAL, "store: list messages: bad "
		    "arguments");
	store_lock(st);
	rc = st->ops->list_messages(st, f, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_stat_attempts(cp_store *st, int64_t tenant, int64_t from,
    int64_t to, cp_attempt_stat_cb cb, void *arg, cp_err *err)
{
	int rc;

	if (cb == NULL || tenant < 0 || from > to)
		return cp_err_set(err, CP_EINVAL, "store: attempt statistics: "
		    "bad arguments (from %lld after to %lld?)",
		    (long long)from, (long long)to);
	store_lock(st);
	rc = st->ops->stat_attempts(st, tenant, from, to, cb, arg, err);
	store_unlock(st);
	return rc;
}

int
cp_store_count_accepted(cp_store *st, int64_t tenant, int64_t from,
    int64_t to, int64_t *messages, int64_t *rcpts, cp_err *err)
{
	int rc;

	if (messages == NULL || rcpts == NULL || tenant < 0 || from > to)
		return cp_err_set(err, CP_EINVAL, "store: count accepted: bad "
		    "arguments");
	store_lock(st);
	rc = st->ops->count_accepted(st, tenant, from, to, messages, rcpts,
	    err);
	store_unlock(st);
	return rc;
}
