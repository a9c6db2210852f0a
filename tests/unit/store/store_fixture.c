/* store_fixture.c - fresh stores for the store's unit tests (see
 * store_fixture.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cptest.h"
#include "store_fixture.h"

static int
sqlite_fresh(char *dsn, size_t n, char *dir, size_t dn)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, dn, "%s/cp-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(dsn, n, "sqlite:%s/store.db", dir);
	return 0;
}

const store_backend store_backends[] = {
	{ "sqlite", sqlite_fresh },
};
const size_t store_nbackends = sizeof(store_backends) /
    sizeof(store_backends[0]);

void
store_remove_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char path[1024];

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
each(const char *test, store_contract_fn fn, int owned)
{
	for (size_t i = 0; i < store_nbackends; i++) {
		char dsn[1024], dir[512];
		cp_err err = { 0 };
		cp_store *st;
		int before = cptest_failures;

		if (store_backends[i].fresh(dsn, sizeof(dsn), dir,
		    sizeof(dir)) != 0) {
			CP_CHECK(0, "%s: no fresh store: %s",
			    store_backends[i].name, strerror(errno));
			continue;
		}
		st = cp_store_open(dsn, &err);
		CP_CHECK(st != NULL, "%s: open %s: %s", store_backends[i].name,
		    dsn, err.msg);
		if (st != NULL) {
			fn(st, dsn);
			if (!owned)
				cp_store_close(st);
		}
		if (cptest_failures != before)
			fprintf(stderr, "    (%s: backend %s)\n", test,
			    store_backends[i].name);
		store_remove_dir(dir);
	}
}

void
store_each_backend(const char *test, store_contract_fn fn)
{
	each(test, fn, 0);
}

void
store_each_backend_owned(const char *test, store_contract_fn fn)
{
	each(test, fn, 1);
}
