/*
 * tools.h - what the subcommands of the coldpost binary share.
 *
 * Exit codes, the same for every subcommand (documented in coldpost(1)):
 * 0 done (for checks: nothing failed), 1 the check found a failure or the
 * input was malformed, 2 usage error, 3 system error (I/O, memory).
 */
#ifndef COLDPOST_TOOLS_H
#define COLDPOST_TOOLS_H

#include <stdio.h>

#include <jansson.h>

enum { CP_EXIT_OK = 0, CP_EXIT_FAIL = 1, CP_EXIT_USAGE = 2, CP_EXIT_SYS = 3 };

typedef struct cp_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} cp_cmd;

int cmd_explain(int argc, char **argv);
int cmd_dns(int argc, char **argv);
int cmd_spf(int argc, char **argv);
int cmd_dmarc(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_dkim(int argc, char **argv);
int cmd_auth(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_pool(int argc, char **argv);
int cmd_domain(int argc, char **argv);
int cmd_mailbox(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_cost(int argc, char **argv);
int cmd_blacklist(int argc, char **argv);
int cmd_provision(int argc, char **argv);
int cmd_bounce(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_suppress(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_webhook(int argc, char **argv);
int cmd_apikey(int argc, char **argv);

/* Print text wrapped at width, each line indented by indent spaces. */
void out_wrap(FILE *f, const char *text, int indent, int width);
/* Print one JSON value on one line (compact) and a newline. */
void out_json_line(FILE *f, json_t *v);
/* Print one JSON value indented. */
void out_json_pretty(FILE *f, json_t *v);
/* json_string that tolerates NULL (-> null) and invalid UTF-8 (-> escaped). */
json_t *out_jstr(const char *s);
/*
 * The resolver a command asked for: the fake one loaded with the --zone
 * files when there are any, else c-ares (--dns-server servers, or
 * resolv.conf). On failure NULL, a message on stderr naming cmd, and
 * *exit_code set (bad_zone_exit for a zone file that does not load).
 */
struct cp_dns;
struct cp_dns *tools_open_resolver(const char *cmd, const char *servers,
    const char *const *zones, size_t nzones, long timeout_ms,
    int bad_zone_exit, int *exit_code);
/* Is this argument "--help" or "-h"? */
int out_is_help(const char *arg);

#endif
