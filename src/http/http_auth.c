/*
 * http_auth.c - API keys and the per-key rate limit.
 *
 * A key is "cpk_" and 43 base64url characters of 32 random bytes
 * (RAND_bytes). The store keeps only its SHA-256. A slow password hash
 * (Argon2id, as for mailbox passwords) buys nothing here: it slows down
 * guessing a low-entropy secret, but a 256-bit random key cannot be
 * guessed whatever the hash, and every API request would pay tens of
 * milliseconds and 64 MiB for it. The key arrives as a Bearer token
 * (RFC 6750 section 2.1).
 *
 * The rate limit is a token bucket per key (its rate per second, or
 * HTTP_RATE_PER_S, refilled; two seconds' worth deep), kept in a small open hash table on the HTTP
 * thread only.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "coldpost/alloc.h"
#include "http/http_int.h"

struct http_bucket {
	int64_t key;     /* 0: free slot */
	double tokens;
	int64_t last_ms;
};

void
http_key_hash(const char *key, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)key, len, md);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

int
http_key_make(char out[48], cp_err *err)
{
	unsigned char raw[32];
	unsigned char b64[48];
	int n;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return cp_err_set(err, CP_EIO, "apikey: no random bytes");
	n = EVP_EncodeBlock(b64, raw, sizeof(raw)); /* 44 with one '=' */
	memcpy(out, "cpk_", 4);
	for (int i = 0, o = 4; i < n && b64[i] != '='; i++, o++) {
		char c = (char)b64[i];

		out[o] = c == '+' ? '-' : c == '/' ? '_' : c;
		out[o + 1] = '\0';
	}
	memset(raw, 0, sizeof(raw));
	return CP_OK;
}

const char *
http_bearer(const char *v, size_t *len)
{
	size_t n;

	if (strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
		return NULL;
	v += 6;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strcspn(v, " \t");
	if (n == 0 || n > 512 || v[n + strspn(v + n, " \t")] != '\0')
		return NULL;
	*len = n;
	return v;
}

static size_t
slot_of(int64_t key, size_t n)
{
	uint64_t x = (uint64_t)key * 0x9e3779b97f4a7c15ull;

	return (size_t)(x >> 32) % n;
}

/* Double the table (keys are few: one per client). */
static int
rate_grow(cp_http *h)
{
	size_t n = h->nbuckets ? h->nbuckets * 2 : 64;
	http_bucket *v = cp_calloc(n, sizeof(*v));

	if (v == NULL)
		return 0;
	for (size_t i = 0; i < h->nbuckets; i++) {
		size_t j;

		if (h->buckets[i].key == 0)
			continue;
		for (j = slot_of(h->buckets[i].key, n); v[j].key != 0;
		    j = (j + 1) % n)
			;
		v[j] = h->buckets[i];
	}
	cp_free(h->buckets);
	h->buckets = v;
	h->nbuckets = n;
	return 1;
}

int
http_rate_take(cp_http *h, const http_key *k, int64_t now_ms)
{
	int64_t key = k->id;
	double rate = k->rate > 0 ? (double)k->rate : HTTP_RATE_PER_S;
	double burst = 2 * rate;
	size_t used = 0, i;
	http_bucket *b;

	pthread_mutex_lock(&h->mu);
	for (i = 0; i < h->nbuckets; i++)
		used += h->buckets[i].key != 0;
	if ((used + 1) * 2 > h->nbuckets && !rate_grow(h)) {
		pthread_mutex_unlock(&h->mu);
		return 1; /* out of memory: do not refuse for that */
	}
	for (i = slot_of(key, h->nbuckets); h->buckets[i].key != 0 &&
	    h->buckets[i].key != key; i = (i + 1) % h->nbuckets)
		;
	b = &h->buckets[i];
	if (b->key == 0) {
		b->key = key;
		b->tokens = burst;
		b->last_ms = now_ms;
	}
	b->tokens += (double)(now_ms - b->last_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last_ms = now_ms;
	if (b->tokens < 1.0) {
		pthread_mutex_unlock(&h->mu);
		return 0;
	}
	b->tokens -= 1.0;
	pthread_mutex_unlock(&h->mu);
	return 1;
}

void
http_rate_free(cp_http *h)
{
	cp_free(h->buckets);
	h->buckets = NULL;
	h->nbuckets = 0;
}

int
cp_http_key_new(char *key, char *hash, cp_err *err)
{
	int rc = http_key_make(key, err);

	if (rc == CP_OK)
		http_key_hash(key, strlen(key), hash);
	return rc;
}

void
cp_http_key_hash(const char *key, size_t len, char *hash)
{
	http_key_hash(key, len, hash);
}
