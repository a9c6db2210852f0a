/*
 * store_fixture.h - what the store's unit tests share: the backends every
 * contract runs on, a fresh empty store of each, and their clean-up.
 */
#ifndef CP_TEST_STORE_FIXTURE_H
#define CP_TEST_STORE_FIXTURE_H

#include <stddef.h>

#include "coldpost/store.h"

typedef struct store_backend {
	const char *name;
	/* a DSN for a new, empty store; dir (may be "") is removed after */
	int (*fresh)(char *dsn, size_t n, char *dir, size_t dn);
} store_backend;

extern const store_backend store_backends[];
extern const size_t store_nbackends;

/* Remove dir and the files in it ("" is nothing). */
void store_remove_dir(const char *dir);

typedef void (*store_contract_fn)(cp_store *st, const char *dsn);
/*
 * Run fn once per backend on a fresh store, then close it and remove its
 * files; a failure inside fn is followed by a note naming test and the
 * backend. With the _owned form fn closes the store itself (it may reopen
 * it by dsn, and must close what it opened).
 */
void store_each_backend(const char *test, store_contract_fn fn);
void store_each_backend_owned(const char *test, store_contract_fn fn);

#endif
