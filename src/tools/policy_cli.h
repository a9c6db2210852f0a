/*
 * policy_cli.h - what `coldpost suppress` and `coldpost policy` share
 * (cmd_policy.c): their common options and opening the configuration and
 * the store.
 */
#ifndef COLDPOST_TOOLS_POLICY_CLI_H
#define COLDPOST_TOOLS_POLICY_CLI_H

#include "coldpost/conf.h"
#include "coldpost/store.h"

/*
 * The configuration (--config FILE, else CP_CONF_PATH when it exists,
 * else the defaults) and the store (--store DSN, else the config's).
 * Prints what went wrong as "coldpost CMD: ..." and returns the exit
 * code; on CP_EXIT_OK the caller owns *conf (cp_conf_clear) and *st.
 */
int policy_cli_open(const char *cmd, const char *config, const char *store,
    cp_conf *conf, cp_store **st);
/* The tenant id of a name; prints the error and returns the exit code. */
int policy_cli_tenant(const char *cmd, cp_store *st, const char *name,
    int64_t *id);

#endif
