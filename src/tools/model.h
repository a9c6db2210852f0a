/*
 * model.h - what the management commands share (cmd_model.c): their
 * options, opening the store named by --store or the configuration file,
 * error messages and exit codes, aligned tables. The groups are
 * cmd_tenant.c (tenant, pool), cmd_mailbox.c (domain, mailbox) and
 * cmd_queue.c (queue, status).
 */
#ifndef COLDPOST_TOOLS_MODEL_H
#define COLDPOST_TOOLS_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "coldpost/err.h"
#include "coldpost/store.h"

enum {
	O_CONFIG = 'c', O_STORE = 's', O_JSON = 'j', O_HELP = 'h',
	O_CAP = 256, O_FORCE, O_EHLO, O_TENANT, O_SELECTOR, O_KEY, O_GENERATE,
	O_PWSTDIN, O_PW, O_TZ, O_STATE, O_LIMIT, O_RCPT, O_SINCE, O_SENDAS,
	O_BODY, O_PROVISION, O_SERVER, O_TSIG, O_DNSSRV, O_BOUNCE, O_UNSUB
};
#define OBIT(o) (1u << ((o) - O_CAP))

/* The parsed command line; the strings point into argv. */
typedef struct mopts {
	const char *group;    /* "tenant" */
	const char *sub;      /* "add" */
	const char *config, *store;
	int json, force, pwstdin, rcpt, sendas, generate, body;
	const char *ehlo, *tenant, *selector, *key, *gentype, *password, *tz;
	const char *state;
	int provision;        /* domain add --provision and its options */
	const char *server, *tsig, *dns_server, *bounce;
	const char *unsub;    /* tenant add/set --unsubscribe on|off */
	int64_t cap, limit, since_ms;
	unsigned given;       /* OBIT of each option given */
	int npos;
	char **pos;
} mopts;

/* What a subcommand accepts: options and positional arguments. */
typedef struct msub {
	const char *name;
	unsigned opts;
	int minpos, maxpos;
	int (*run)(mopts *o, cp_store *st);
} msub;

/* An aligned table: cells row by row, the first row the header. */
typedef struct tbl {
	size_t ncol, n, cap;
	char **cell;
} tbl;

/* Tenant names by id, for listings (the callbacks may not call the store). */
typedef struct model_names {
	size_t n;
	int64_t *id;
	char **name;
} model_names;

typedef struct model_tcounts {
	int64_t pools, domains, mailboxes;
} model_tcounts;

typedef struct model_show {
	tbl *t;
	json_t *a;
	const model_names *nm;
} model_show;

/* The exit code for a cp_err code: 1 bad input / not found, 3 system. */
int model_exit(int rc);
/* Print err's message as "coldpost GROUP: ..." and return its exit code. */
int model_fail(const mopts *o, int rc, const cp_err *err);
int model_failf(const mopts *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int model_parse_count(const char *s, int64_t min, int64_t max, int64_t *out);
/* Run argv (argv[0] the group, argv[1] the subcommand): parse the options
   the subcommand accepts, open the store, call it. */
int model_run(int argc, char **argv, const char *group, const msub *subs,
    size_t nsubs, void (*usage)(FILE *));
void tbl_init(tbl *t, size_t ncol);
void tbl_add(tbl *t, const char *s);
void tbl_addf(tbl *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t tbl_rows(const tbl *t);
void tbl_free(tbl *t);
/* Print aligned and free; a table of the header alone prints empty
   instead (when not NULL). */
void tbl_print(tbl *t, const char *empty);
/* "2026-11-28 01:04:00" (UTC), "-" for 0. */
const char *model_fmt_time(int64_t t, char buf[32]);
const char *model_fmt_cap(int64_t cap, char buf[32]);
void model_field(const char *name, const char *value);
void model_json_done(json_t *v);
/*
 * Finish a listing: on a store error free both outputs and fail; else
 * print the JSON array (--json) or the table (empty: the line shown when
 * it has no rows). Takes ownership of a and t.
 */
/* Report a removal: {"removed": NAME} with --json, else "WHAT NAME removed". */
int model_removed(const mopts *o, const char *what, const char *name);
int model_list_end(const mopts *o, int rc, const cp_err *err, json_t *a,
    tbl *t, const char *empty);
int64_t model_now(void);
const char *model_names_get(const model_names *nm, int64_t id);
void model_names_free(model_names *nm);
int model_load_names(const mopts *o, cp_store *st, model_names *nm);
/* Look a tenant up by name; prints the error and returns the exit code. */
int model_get_tenant(const mopts *o, cp_store *st, const char *name,
    cp_tenant **t);
int model_tenant_counts(cp_store *st, int64_t id, model_tcounts *c,
    cp_err *err);
/* List callbacks that fill a model_show (table rows or JSON objects). */
int model_show_pool_cb(void *arg, const cp_pool *p);
int model_show_domain_cb(void *arg, const cp_domain *d);
json_t *model_mailbox_json(const cp_mailbox *m, const char *tenant);
int model_show_mailbox_cb(void *arg, const cp_mailbox *m);

#endif
