/*
 * coldpost.c - the coldpost binary: one command, many subcommands.
 *
 * Parses the subcommand name and hands argv to it; everything it does
 * lives in libcoldpost. See coldpost(1) for the exit codes.
 */
#include <stdio.h>
#include <string.h>

#include "tools.h"

#ifndef CP_VERSION
#define CP_VERSION "0.0.0"
#endif

static const cp_cmd commands[] = {
	{ "explain", "what an SMTP reply means, who sent it, how to fix it",
	    cmd_explain },
	{ "dns", "look a name up through coldpost's resolver (debugging)",
	    cmd_dns },
	{ "spf", "evaluate SPF for an IP and a sender, and say why", cmd_spf },
	{ "dmarc", "evaluate DMARC for SPF and DKIM outcomes", cmd_dmarc },
	{ "config", "show or check the server configuration", cmd_config },
	{ "dkim", "DKIM keys, signing and verifying", cmd_dkim },
	{ "auth", "SPF, DKIM and DMARC of a message: Authentication-Results",
	    cmd_auth },
	{ "check", "deliverability test of a sending domain's DNS set-up",
	    cmd_check },
	{ "serve", "run the relay: submission, queue, DKIM, delivery",
	    cmd_serve },
	{ "tenant", "tenants: add, list, show, rm", cmd_tenant },
	{ "pool", "a tenant's source IPs and EHLO names", cmd_pool },
	{ "domain", "sending domains and their DKIM keys", cmd_domain },
	{ "mailbox", "submission logins: add, list, show, rm, passwd",
	    cmd_mailbox },
	{ "queue", "the queue: list, show, retry, hold, release, delete",
	    cmd_queue },
	{ "status", "queue by state, recent attempts by cause", cmd_status },
	{ "cost", "monthly price and sending capacity of N mailboxes", cmd_cost },
	{ "blacklist", "is an IP or domain on the DNS block lists",
	    cmd_blacklist },
	{ "provision", "write a sending domain's SPF, DKIM, DMARC, MX, PTR",
	    cmd_provision },
	{ "bounce", "read bounce emails: why each recipient failed",
	    cmd_bounce },
	{ "lint", "check a cold email for spam signs and CAN-SPAM gaps",
	    cmd_lint },
	{ "suppress", "a tenant's suppression list: add, rm, list",
	    cmd_suppress },
	{ "policy", "provider pacing and its decisions, mailbox caps",
	    cmd_policy },
	{ "webhook", "a tenant's webhook endpoints: add, list, rm, test",
	    cmd_webhook },
	{ "apikey", "HTTP API keys: add (admin or --tenant), list, rm",
	    cmd_apikey },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: coldpost COMMAND [OPTIONS]\n\n"
		   "cold-email infrastructure: relay, error reference and "
		   "deliverability tools\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f, "  %-10s %s\n", "version", "print the version");
	fprintf(f, "\n'coldpost COMMAND --help' describes a command; "
		   "man coldpost-COMMAND has the details.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CP_EXIT_USAGE;
	}
	if (out_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CP_EXIT_OK;
	}
	if (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		printf("coldpost %s\n", CP_VERSION);
		return CP_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "coldpost: unknown command '%s' (try coldpost --help)\n",
	    argv[1]);
	return CP_EXIT_USAGE;
}
