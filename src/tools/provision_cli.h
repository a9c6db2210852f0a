/*
 * provision_cli.h - the provisioning step (provision_cli.c) that
 * `coldpost provision` (cmd_provision.c) and `coldpost domain add
 * --provision` (cmd_mailbox.c) share: gather the inputs (store, options, key files), compute the plan,
 * print it or apply it, rotate or retire DKIM selectors.
 */
#ifndef COLDPOST_TOOLS_PROVISION_CLI_H
#define COLDPOST_TOOLS_PROVISION_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "coldpost/store.h"

#define PROV_MAX_IPS 64

typedef struct prov_args {
	const char *cmd;           /* "provision", "domain" (messages) */
	const char *domain;
	const char *ips[PROV_MAX_IPS]; /* --ip IP or IP=EHLO */
	size_t nips;
	const char *ehlo;          /* EHLO name of --ip without one */
	const char *bounce, *mx, *selector, *key, *key_dir, *rua;
	const char *server, *tsig, *dns_server, *retire;
	const char *default_bounce; /* from the configuration, or NULL */
	int ed25519, zone, json, apply, rotate, has_grace;
	int64_t grace_ms, wait_ms, timeout_ms;
	uint32_t ttl;
} prov_args;

/* Run the step (st may be NULL: no store); returns the exit code. */
int prov_exit(int rc); /* cp_err code -> exit code */
int prov_run(prov_args *a, cp_store *st);

#endif
