/*
 * cmd_serve.c - `coldpost serve`: the relay daemon.
 *
 *   coldpost serve [--config FILE] [--dns-server HOST:PORT] [--node NAME]
 *                  [--pid-file FILE] [--no-delivery] [--check]
 *
 * Wires the parts together and owns the process: reads the configuration,
 * opens the log and the store, builds the delivery engine (coldpost/
 * deliver.h) and the submission server (coldpost/server.h), binds the
 * listeners, drops root to server.user, starts the threads, then waits for
 * signals on the main thread (sigwait; every other thread has them
 * blocked):
 *   SIGHUP          re-read the configuration (a file with errors is
 *                   refused and the running one kept), reopen the log, hand
 *                   the new settings to the server and delivery;
 *   SIGTERM/SIGINT  drain: the server stops accepting and lets sessions
 *                   finish their message, then delivery finishes what is
 *                   on the wire and gives back the rest; exit 0.
 * Nothing is lost on a harder stop (kill -9): accepted messages are in the
 * store before their 250, and delivery's leases run out or are given back
 * at the next start.
 *
 * Tests only: with COLDPOST_TEST_CLOCK_FILE set, the sending policy's
 * clock runs that many seconds (the file's number) ahead of the system
 * clock, re-read at start and on SIGHUP, so that a test lives through days
 * (daily caps, cool-downs, recovery) in seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/conf.h"
#include "coldpost/deliver.h"
#include "coldpost/http.h"
#include "coldpost/log.h"
#include "coldpost/policy.h"
#include "coldpost/server.h"
#include "coldpost/store.h"
#include "coldpost/webhook.h"
#include "tools.h"

#define SERVE_DRAIN_MS 30000
#define VERP_KEY_LEN 32

typedef struct serve_opts {
	const char *config, *dns, *node, *pidfile, *web_root;
	int no_delivery, check;
} serve_opts;

typedef struct serve_ctx {
	serve_opts o;
	cp_conf conf;
	cp_store *store;
	cp_deliver *deliver;
	cp_server *server;
	cp_http *http;
	cp_policy *policy;
	cp_webhook *webhook;
	char node[CP_STORE_NAME_MAX + 1];
	unsigned char verp[VERP_KEY_LEN];
	unsigned char web_key[VERP_KEY_LEN]; /* unsubscribe tokens, webhooks */
	int64_t clock_skew; /* s; COLDPOST_TEST_CLOCK_FILE (tests) */
} serve_ctx;

static void
serve_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost serve [--config FILE] [--dns-server HOST:PORT] "
	    "[--node NAME]\n"
	    "                      [--pid-file FILE] [--web-root DIR] "
	    "[--no-delivery]\n"
	    "                      [--check]\n\n"
	    "Run the relay: SMTP submission (AUTH per mailbox, STARTTLS and "
	    "implicit TLS),\nthe durable queue, DKIM signing and delivery to "
	    "the recipients' MX hosts.\nStays in the foreground; logs go "
	    "where log.file says.\n\n"
	    "  --config FILE          the configuration (default "
	    CP_CONF_PATH ")\n"
	    "  --dns-server HOST:PORT resolver for MX lookups (default: "
	    "/etc/resolv.conf)\n"
	    "  --node NAME            name of this node in queue leases "
	    "(default: host name)\n"
	    "  --pid-file FILE        write the process id there once "
	    "serving\n"
	    "  --web-root DIR         the dashboard's files (default: the "
	    "installed ones)\n"
	    "  --no-delivery          accept and queue, deliver nothing "
	    "(maintenance, tests)\n"
	    "  --check                check the configuration, store and "
	    "listeners, then exit\n\n"
	    "signals: HUP reloads the configuration and reopens the log; "
	    "TERM and INT drain\nand exit.\n"
	    "exit: 0 stopped cleanly (or --check passed), 1 bad "
	    "configuration, 2 usage,\n      3 system error (store, "
	    "listener, privileges)\n");
}

static int
serve_parse(int argc, char **argv, serve_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dns-server", required_argument, NULL, 'd' },
		{ "node", required_argument, NULL, 'n' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "web-root", required_argument, NULL, 'w' },
		{ "no-delivery", no_argument, NULL, 'N' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->config = CP_CONF_PATH;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:d:n:p:w:NCh", opts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'd': o->dns = optarg; break;
		case 'n': o->node = optarg; break;
		case 'p': o->pidfile = optarg; break;
		case 'w': o->web_root = optarg; break;
		case 'N': o->no_delivery = 1; break;
		case 'C': o->check = 1; break;
		case 'h': serve_usage(stdout); return -1;
		default: serve_usage(stderr); return CP_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "coldpost serve: unexpected argument '%s'\n",
		    argv[optind]);
		return CP_EXIT_USAGE;
	}
	return CP_EXIT_OK;
}

/* Read the configuration; every problem is printed, one a line. */
static int
serve_load(const char *path, cp_conf *out)
{
	cp_buf diags;
	cp_err err;
	int rc;

	cp_buf_init(&diags, 1 << 20);
	rc = cp_conf_load_file(out, path, &diags, &err);
	if (rc != CP_OK) {
		if (diags.data != NULL)
			cp_log(CP_LOG_ERR, "conf", "%s", diags.data);
		else
			cp_log(CP_LOG_ERR, "conf", "%s", err.msg);
	}
	cp_buf_free(&diags);
	return rc;
}

/* The lease owner's name: --node, else the host name, cut to what the
 * store accepts ([A-Za-z0-9._-], 64 bytes). */
static void
serve_node(serve_ctx *c)
{
	const char *src = c->o.node;
	char host[256] = "";
	size_t n = 0;

	if (src == NULL || *src == '\0') {
		src = c->conf.server.hostname;
		if (src == NULL || *src == '\0') {
			(void)gethostname(host, sizeof(host) - 1);
			src = host;
		}
	}
	for (; *src != '\0' && n < CP_STORE_NAME_MAX; src++) {
		char ch = *src;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
			ch = '_';
		c->node[n++] = ch;
	}
	if (n == 0)
		c->node[n++] = 'x';
	c->node[n] = '\0';
}

/*
 * The VERP key: 32 random bytes kept beside an SQLite store (PATH.verp-key,
 * mode 0600), made on first start, so return paths stay verifiable across
 * restarts. Other stores: a key per run (bounces of earlier runs then fail
 * the tag check and are treated as unattributed).
 */
static int
serve_verp_key(serve_ctx *c)
{
	const char *dsn = c->conf.server.store;
	char path[4200];
	ssize_t got = 0;
	int fd;

	if (RAND_bytes(c->verp, sizeof(c->verp)) != 1)
		return CP_EIO;
	if (strncmp(dsn, "sqlite:", 7) != 0)
		return CP_OK;
	if ((size_t)snprintf(path, sizeof(path), "%s.verp-key", dsn + 7) >=
	    sizeof(path))
		return CP_EINVAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		got = read(fd, c->verp, sizeof(c->verp));
		close(fd);
		if (got == (ssize_t)sizeof(c->verp))
			return CP_OK;
		cp_log(CP_LOG_WARN, "serve", "%s is not a %d-byte key: "
		    "making a new one", path, VERP_KEY_LEN);
		if (RAND_bytes(c->verp, sizeof(c->verp)) != 1)
			return CP_EIO;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, c->verp, sizeof(c->verp)) !=
	    (ssize_t)sizeof(c->verp) || fsync(fd) != 0) {
		cp_log(CP_LOG_ERR, "serve", "cannot write %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return CP_EIO;
	}
	close(fd);
	return CP_OK;
}

/* Give the store's files (SQLite: the database, its WAL and shared-memory
 * files, the VERP key) to the user the server drops to. */
static int
serve_chown_store(const serve_ctx *c, uid_t uid, gid_t gid)
{
	static const char *const sfx[] = { "", "-wal", "-shm", ".verp-key" };
	const char *dsn = c->conf.server.store;
	char path[4200];

	if (strncmp(dsn, "sqlite:", 7) != 0)
		return CP_OK;
	for (size_t i = 0; i < CP_NELEM(sfx); i++) {
		snprintf(path, sizeof(path), "%s%s", dsn + 7, sfx[i]);
		if (chown(path, uid, gid) != 0 && errno != ENOENT) {
			cp_log(CP_LOG_ERR, "serve", "chown %s: %s", path,
			    strerror(errno));
			return CP_EIO;
		}
	}
	return CP_OK;
}

/* After the listeners are bound: become server.user (when root and one is
 * set), for good: supplementary groups, group, then user. */
static int
serve_drop_root(const serve_ctx *c)
{
	const char *user = c->conf.server.user;
	struct passwd *pw;

	if (user == NULL || *user == '\0' || geteuid() != 0)
		return CP_OK;
	if ((pw = getpwnam(user)) == NULL) {
		cp_log(CP_LOG_ERR, "serve", "server.user '%s': no such user "
		    "(create it, or set user = to stay root)", user);
		return CP_EINVAL;
	}
	if (serve_chown_store(c, pw->pw_uid, pw->pw_gid) != CP_OK)
		return CP_EIO;
	/* the log file too, so that SIGHUP can reopen it */
	if (c->conf.log.file[0] == '/' &&
	    chown(c->conf.log.file, pw->pw_uid, pw->pw_gid) != 0 &&
	    errno != ENOENT)
		cp_log(CP_LOG_WARN, "serve", "chown %s: %s", c->conf.log.file,
		    strerror(errno));
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		cp_log(CP_LOG_ERR, "serve", "cannot become %s: %s", user,
		    strerror(errno));
		return CP_EIO;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		cp_log(CP_LOG_ERR, "serve", "root could be regained after "
		    "dropping to %s: refusing to run", user);
		return CP_EIO;
	}
	cp_log(CP_LOG_INFO, "serve", "running as %s (uid %u)", user,
	    (unsigned)pw->pw_uid);
	return CP_OK;
}

static int
serve_pidfile(const char *path)
{
	FILE *f;

	if (path == NULL)
		return CP_OK;
	if ((f = fopen(path, "w")) == NULL) {
		cp_log(CP_LOG_ERR, "serve", "pid file %s: %s", path,
		    strerror(errno));
		return CP_EIO;
	}
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? CP_OK : CP_EIO;
}

/* The test clock's offset from its file; 0 when unset or unreadable. */
static void
serve_read_skew(serve_ctx *c)
{
	const char *path = getenv("COLDPOST_TEST_CLOCK_FILE");
	long long v = 0;
	FILE *f;

	if (path == NULL || *path == '\0' || (f = fopen(path, "r")) == NULL)
		return;
	if (fscanf(f, "%lld", &v) == 1) {
		__atomic_store_n(&c->clock_skew, (int64_t)v, __ATOMIC_RELAXED);
		cp_log(CP_LOG_WARN, "serve", "test clock: the policy runs "
		    "%lld s ahead (COLDPOST_TEST_CLOCK_FILE)", v);
	}
	fclose(f);
}

static int64_t
serve_clock(void *arg)
{
	serve_ctx *c = arg;

	return (int64_t)time(NULL) +
	    __atomic_load_n(&c->clock_skew, __ATOMIC_RELAXED);
}

/* Every recipient's outcome, from delivery's loop thread, to whoever
 * watches: the HTTP side's metrics and webhooks. */
static void
serve_observe(void *arg, const cp_deliver_event *ev)
{
	serve_ctx *c = arg;

	cp_policy_deliver_observer(c->policy, ev);
	if (c->webhook != NULL)
		cp_webhook_observe(c->webhook, ev);
	if (c->http != NULL)
		cp_http_observe(c->http, ev);
}

/* The policy answers on its clock; delivery schedules by the system's.
 * They differ by the test clock's skew (COLDPOST_TEST_CLOCK_FILE). */
static int64_t
serve_to_system(serve_ctx *c, int64_t t)
{
	return t > 0 ? t - __atomic_load_n(&c->clock_skew, __ATOMIC_RELAXED) :
	    t;
}

static void
serve_policy(void *arg, int64_t tenant, int64_t mailbox, int64_t rcpt_id,
    const char *rcpt, int null_sender, int64_t now, cp_policy_verdict *out)
{
	serve_ctx *c = arg;

	cp_policy_deliver_hook(c->policy, tenant, mailbox, rcpt_id, rcpt,
	    null_sender, now, out);
	if (now == 0 && out->verdict == CP_POLICY_DEFER)
		out->retry_at = serve_to_system(c, out->retry_at);
}

static int
serve_pace(void *arg, const char *src_ip, const char *mx, int64_t now,
    int64_t *retry_at)
{
	serve_ctx *c = arg;
	int v = cp_policy_may_deliver(c->policy, src_ip, mx, now, retry_at);

	if (now == 0)
		*retry_at = serve_to_system(c, *retry_at);
	return v;
}

/* A pacing decision (cut, pause, recover...) as a webhook event, for the
 * tenant whose pool has the source IP. */
static void
serve_provider_event(void *arg, const cp_provider_event *ev)
{
	serve_ctx *c = arg;

	if (c->webhook != NULL)
		(void)cp_webhook_emit_provider(c->webhook, 0, ev);
}

/* At RCPT, on a server worker: suppressed, or a refusing cap. */
static void
serve_rcpt_check(void *arg, int64_t tenant, int64_t mailbox,
    const char *rcpt, int *code, char enhanced[8], char text[256])
{
	cp_policy_reply r;

	cp_policy_check_rcpt(arg, tenant, mailbox, rcpt, 0, &r);
	*code = r.code;
	snprintf(enhanced, 8, "%s", r.enhanced);
	snprintf(text, 256, "%s", r.text);
}

/* A key for the HTTP side derived from the VERP key, so that one secret
 * file serves both and neither key reveals the other. */
static int
serve_derive(serve_ctx *c)
{
	static const char label[] = "coldpost http";
	unsigned int n = sizeof(c->web_key);

	return HMAC(EVP_sha256(), c->verp, sizeof(c->verp),
	    (const unsigned char *)label, sizeof(label) - 1, c->web_key,
	    &n) != NULL ? CP_OK : CP_EIO;
}

static int
serve_build_http(serve_ctx *c)
{
	cp_http_opts ho = { .conf = &c->conf, .store = c->store,
		.server = c->server, .deliver = c->deliver, .node = c->node,
		.web_root = c->o.web_root, .secret = c->web_key,
		.dns_servers = c->o.dns,
		.secret_len = sizeof(c->web_key) };
	cp_err err = { 0 };

	if (c->conf.listen.http.n == 0)
		return CP_EXIT_OK;
	if ((c->http = cp_http_new(&ho, &err)) == NULL ||
	    cp_http_listen(c->http, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "http", "%s", err.msg);
		return err.code == CP_EINVAL ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	return CP_EXIT_OK;
}

/* Open the store and build the parts; bind the listeners. */
static int
serve_build(serve_ctx *c)
{
	cp_err err = { 0 };

	if ((c->store = cp_store_open(c->conf.server.store, &err)) == NULL) {
		cp_log(CP_LOG_ERR, "serve", "%s", err.msg);
		return CP_EXIT_SYS;
	}
	serve_node(c);
	if (serve_verp_key(c) != CP_OK || serve_derive(c) != CP_OK)
		return CP_EXIT_SYS;
	cp_webhook_opts wo = { .conf = &c->conf, .store = c->store,
		.node = c->node };
	cp_policy_opts po = { .conf = &c->conf, .store = c->store,
		.clock = serve_clock, .clock_arg = c,
		.on_event = serve_provider_event, .event_arg = c };

	if ((c->webhook = cp_webhook_new(&wo, &err)) == NULL) {
		cp_log(CP_LOG_ERR, "webhook", "%s", err.msg);
		return CP_EXIT_SYS;
	}

	serve_read_skew(c);

	if ((c->policy = cp_policy_new(&po, &err)) == NULL) {
		cp_log(CP_LOG_ERR, "policy", "%s", err.msg);
		return err.code == CP_ESYNTAX || err.code == CP_EINVAL ?
		    CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	if (!c->o.no_delivery) {
		cp_deliver_opts d = { .conf = &c->conf, .store = c->store,
			.node = c->node, .dns_servers = c->o.dns,
			.verp_secret = c->verp,
			.verp_secret_len = sizeof(c->verp),
			.observe = serve_observe, .observe_arg = c,
			.policy = serve_policy, .policy_arg = c,
			.pace = serve_pace, .pace_arg = c };

		if ((c->deliver = cp_deliver_new(&d, &err)) == NULL) {
			cp_log(CP_LOG_ERR, "deliver", "%s", err.msg);
			return err.code == CP_EINVAL ? CP_EXIT_FAIL :
			    CP_EXIT_SYS;
		}
	}
	cp_server_opts so = { .conf = &c->conf, .store = c->store,
		.deliver = c->deliver, .node = c->node,
		.verp_secret = c->verp, .verp_secret_len = sizeof(c->verp),
		.unsub_secret = c->web_key,
		.unsub_secret_len = sizeof(c->web_key),
		.rcpt_check = serve_rcpt_check, .rcpt_check_arg = c->policy,
		.report = cp_webhook_observe_report, .report_arg = c->webhook };

	if ((c->server = cp_server_new(&so, &err)) == NULL ||
	    cp_server_listen(c->server, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "server", "%s", err.msg);
		return err.code == CP_EINVAL ? CP_EXIT_FAIL : CP_EXIT_SYS;
	}
	return serve_build_http(c);
}

static int
serve_start(serve_ctx *c)
{
	cp_err err = { 0 };

	/* webhooks first: delivery's first outcomes go to them */
	if (cp_webhook_start(c->webhook, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "webhook", "%s", err.msg);
		return CP_EXIT_SYS;
	}
	if (c->deliver != NULL && cp_deliver_start(c->deliver, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "deliver", "%s", err.msg);
		return CP_EXIT_SYS;
	}
	if (cp_server_start(c->server, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "server", "%s", err.msg);
		return CP_EXIT_SYS;
	}
	if (c->http != NULL && cp_http_start(c->http, &err) != CP_OK) {
		cp_log(CP_LOG_ERR, "http", "%s", err.msg);
		return CP_EXIT_SYS;
	}
	return CP_EXIT_OK;
}

/* SIGHUP: the new file replaces the running settings only if it is
 * entirely valid; listeners and the store stay as they were. */
static void
serve_reload(serve_ctx *c)
{
	cp_conf next;
	cp_err err = { 0 };

	if (cp_log_reopen(&err) != CP_OK)
		cp_log(CP_LOG_WARN, "serve", "%s", err.msg);
	if (serve_load(c->o.config, &next) != CP_OK) {
		cp_log(CP_LOG_ERR, "serve", "reload refused: %s has errors; "
		    "the running configuration stays", c->o.config);
		return;
	}
	if (cp_log_open(next.log.file, next.log.json, next.log.debug, &err) !=
	    CP_OK)
		cp_log(CP_LOG_WARN, "serve", "%s", err.msg);
	if (cp_server_reload(c->server, &next, &err) != CP_OK)
		cp_log(CP_LOG_ERR, "server", "reload: %s", err.msg);
	if (c->deliver != NULL &&
	    cp_deliver_reload(c->deliver, &next, &err) != CP_OK)
		cp_log(CP_LOG_ERR, "deliver", "reload: %s", err.msg);
	if (c->http != NULL && cp_http_reload(c->http, &next, &err) != CP_OK)
		cp_log(CP_LOG_ERR, "http", "reload: %s", err.msg);
	if (cp_webhook_reload(c->webhook, &next, &err) != CP_OK)
		cp_log(CP_LOG_ERR, "webhook", "reload: %s", err.msg);
	serve_read_skew(c);
	if (cp_policy_reload(c->policy, &next, &err) != CP_OK)
		cp_log(CP_LOG_ERR, "policy", "reload: %s", err.msg);
	cp_conf_clear(&c->conf);
	c->conf = next;
	cp_log(CP_LOG_INFO, "serve", "configuration reloaded from %s",
	    c->o.config);
}

/* The main thread's life once serving: signals, one at a time, and
 * every second the policy's housekeeping (recoveries announced). */
static void
serve_wait(serve_ctx *c, const sigset_t *set)
{
	const struct timespec second = { .tv_sec = 1 };

	for (;;) {
		int sig = sigtimedwait(set, NULL, &second);

		if (sig < 0) {
			if (errno == EAGAIN && c->policy != NULL)
				cp_policy_tick(c->policy, 0);
			continue;
		}
		if (sig == SIGHUP) {
			serve_reload(c);
			continue;
		}
		cp_log(CP_LOG_INFO, "serve", "%s: draining",
		    sig == SIGINT ? "SIGINT" : "SIGTERM");
		return;
	}
}

static void
serve_teardown(serve_ctx *c)
{
	/* HTTP first: it injects into the server and reads delivery. */
	if (c->http != NULL)
		cp_http_stop(c->http);
	if (c->server != NULL)
		cp_server_stop(c->server, SERVE_DRAIN_MS);
	if (c->deliver != NULL)
		cp_deliver_stop(c->deliver, SERVE_DRAIN_MS);
	/* after delivery: its last outcomes are written to the outbox */
	if (c->webhook != NULL)
		cp_webhook_stop(c->webhook);
	cp_http_free(c->http);
	cp_server_free(c->server);
	cp_deliver_free(c->deliver);
	cp_webhook_free(c->webhook);
	cp_policy_free(c->policy);
	cp_store_close(c->store);
	c->http = NULL;
	c->server = NULL;
	c->deliver = NULL;
	c->policy = NULL;
	c->webhook = NULL;
	c->store = NULL;
}

int
cmd_serve(int argc, char **argv)
{
	serve_ctx *c;
	sigset_t set;
	int rc;

	if ((c = cp_calloc(1, sizeof(*c))) == NULL)
		return CP_EXIT_SYS;
	if ((rc = serve_parse(argc, argv, &c->o)) != CP_EXIT_OK) {
		cp_free(c);
		return rc < 0 ? CP_EXIT_OK : rc;
	}
	if (serve_load(c->o.config, &c->conf) != CP_OK) {
		cp_free(c);
		return CP_EXIT_FAIL;
	}
	if (!c->o.check) {
		cp_err err = { 0 };

		if (cp_log_open(c->conf.log.file, c->conf.log.json,
		    c->conf.log.debug, &err) != CP_OK) {
			fprintf(stderr, "coldpost serve: %s\n", err.msg);
			cp_conf_clear(&c->conf);
			cp_free(c);
			return CP_EXIT_SYS;
		}
	}
	/* Every thread made from here on inherits the mask: signals are
	 * taken by sigwait on this thread only. A client gone away must
	 * give EPIPE, not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	rc = serve_build(c);
	if (rc == CP_EXIT_OK && c->o.check) {
		printf("coldpost serve: %s is fine, the store opens, the "
		    "listeners bind\n", c->o.config);
	} else if (rc == CP_EXIT_OK) {
		rc = serve_drop_root(c) == CP_OK ? CP_EXIT_OK : CP_EXIT_SYS;
		if (rc == CP_EXIT_OK)
			rc = serve_start(c);
		if (rc == CP_EXIT_OK && serve_pidfile(c->o.pidfile) != CP_OK)
			rc = CP_EXIT_SYS;
		if (rc == CP_EXIT_OK) {
			cp_log(CP_LOG_INFO, "serve", "coldpost %s serving "
			    "(node %s, store %s%s)", CP_VERSION, c->node,
			    c->conf.server.store,
			    c->deliver ? "" : ", delivery off");
			serve_wait(c, &set);
		}
	}
	serve_teardown(c);
	if (rc == CP_EXIT_OK && !c->o.check)
		cp_log(CP_LOG_INFO, "serve", "stopped");
	if (c->o.pidfile != NULL && !c->o.check)
		(void)unlink(c->o.pidfile);
	cp_conf_clear(&c->conf);
	cp_free(c);
	return rc;
}
