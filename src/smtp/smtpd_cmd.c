/*
 * smtpd_cmd.c - SMTP commands of the submission core: each verb has a
 * smtpd_check_<verb> (syntax, sequence, limits: may choose a 5xx/4xx) and
 * a smtpd_do_<verb> (act: a reply, or an event for the caller), and the
 * replies to the caller's answers (see smtpd.h).
 *
 * RFC 5321 4.1.1 (commands), 4.1.2 (paths: source routes accepted and
 * ignored, "<postmaster>" without a domain), 4.1.4 (order: 503 out of
 * sequence; HELO/EHLO resets a transaction), 4.5.3.1 (path, local-part,
 * domain lengths; 452 for too many recipients), 3.1 (a 554 greeting: 503
 * to all but QUIT); RFC 1870 (SIZE=, 552 5.3.4), RFC 6152 (BODY=),
 * RFC 6531 (SMTPUTF8: UTF-8 addresses only with it, 553 5.6.7), RFC 3207
 * (STARTTLS: 220, then input pipelined behind it is discarded), RFC 4954
 * 6 (530 5.7.0 when AUTH is required), RFC 2920 (PIPELINING: nothing here
 * depends on how commands were grouped). AUTH itself is smtpd_auth.c.
 *
 * Counted as errors (421 after conf.max_bad_commands): unknown commands,
 * bad syntax, commands out of sequence, junk commands past their limit.
 * Refusals by rule (530, 552, 452, 553) and by the caller are not. The
 * replies to the caller's answers are smtpd_answer.c.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp/smtpd_int.h"

#define V_JUNK 1    /* NOOP and friends: limited by max_junk_commands */
#define V_REFUSED 2 /* allowed after a 554 greeting */

static int
is_alpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
is_letdig(unsigned char ch)
{
	return is_alpha(ch) || is_digit(ch) || ch >= 0x80; /* U-labels */
}

/* RFC 5322 atext, plus UTF-8 (RFC 6531 3.3), checked against SMTPUTF8
 * by the caller. */
static int
is_atext(unsigned char ch)
{
	if (ch >= 0x80 || is_alpha(ch) || is_digit(ch))
		return 1;
	return ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

static int
has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/*
 * A Reverse-path or Forward-path at p (RFC 5321 4.1.2): "<>" when null_ok,
 * "<postmaster>" when postmaster_ok, else "<" [A-d-l ":"] Mailbox ">".
 * *box is the mailbox without the source route; *used the bytes taken.
 * Returns 0, or -1 on bad syntax or a length past RFC 5321 4.5.3.1.
 */
static int
parse_path(const char *p, size_t n, size_t *used, cp_slice *box,
    int null_ok, int postmaster_ok)
{
	size_t i = 1, start, dstart;

	if (n < 2 || p[0] != '<')
		return -1;
	if (p[1] == '>') {
		if (!null_ok)
			return -1;
		box->p = p + 1;
		box->len = 0;
		*used = 2;
		return 0;
	}
	if (p[i] == '@') { /* A-d-l: accepted and ignored */
		while (i < n && p[i] != ':') {
			unsigned char ch = (unsigned char)p[i];

			if (!is_letdig(ch) && !strchr("@,.-[]", ch))
				return -1;
			i++;
		}
		if (i == n)
			return -1;
		i++;
	}
	start = i;
	if (i < n && p[i] == '"') { /* Quoted-string */
		for (i++;; i++) {
			unsigned char ch;

			if (i >= n)
				return -1;
			ch = (unsigned char)p[i];
			if (ch == '"')
				break;
			if (ch == '\\') {
				i++;
				if (i >= n || p[i] < 32 || p[i] > 126)
					return -1;
			} else if (ch < 32 || ch == 127) {
				return -1;
			}
		}
		i++;
	} else { /* Dot-string */
		for (;;) {
			size_t a = i;

			while (i < n && is_atext((unsigned char)p[i]))
				i++;
			if (i == a)
				return -1;
			if (i < n && p[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i - start > 64 || i >= n)
		return -1;
	if (p[i] == '>') {
		cp_slice lp = { p + start, i - start };

		if (!postmaster_ok || !cp_slice_eqi(lp, "postmaster"))
			return -1;
		*box = lp;
		*used = i + 1;
		return 0;
	}
	if (p[i] != '@')
		return -1;
	i++;
	dstart = i;
	if (i < n && p[i] == '[') { /* address-literal */
		for (i++; i < n && p[i] != ']'; i++)
			if (p[i] < 33 || p[i] > 126 || p[i] == '[' ||
			    p[i] == '\\')
				return -1;
		if (i >= n || i == dstart + 1)
			return -1;
		i++;
	} else {
		for (;;) { /* sub-domain *("." sub-domain) */
			if (i >= n || !is_letdig((unsigned char)p[i]))
				return -1;
			while (i < n && (is_letdig((unsigned char)p[i]) ||
			    p[i] == '-' || p[i] == '_'))
				i++;
			if (p[i - 1] == '-')
				return -1;
			if (i < n && p[i] == '.') {
				i++;
				continue;
			}
			break;
		}
	}
	if (i - dstart > 255 || i >= n || p[i] != '>' || i + 1 > 256)
		return -1;
	box->p = p + start;
	box->len = i - start;
	*used = i + 1;
	return 0;
}

/* "FROM:" / "TO:" then the path (a space after the colon is tolerated,
 * as most servers do). Returns 0 and the rest in *rest, or -1. */
static int
parse_prefix(const char *arg, size_t len, const char *kw, size_t *off)
{
	size_t k = strlen(kw), i;

	if (len < k || strncasecmp(arg, kw, k) != 0)
		return -1;
	for (i = k; i < len && arg[i] == ' '; i++)
		;
	*off = i;
	return 0;
}

/* One ESMTP parameter "keyword[=value]" at p (RFC 5321 4.1.2). */
typedef struct smtpd_param {
	cp_slice key, val;
	int has_val;
} smtpd_param;

/* The next parameter after *i, or 0 at the end; -1 on bad syntax. */
static int
next_param(const char *p, size_t n, size_t *i, smtpd_param *pm)
{
	size_t s, k;

	while (*i < n && p[*i] == ' ')
		(*i)++;
	if (*i >= n)
		return 0;
	s = *i;
	while (*i < n && p[*i] != ' ')
		(*i)++;
	for (k = s; k < *i && p[k] != '='; k++)
		if (!is_alpha(p[k]) && !is_digit(p[k]) &&
		    !(k > s && p[k] == '-'))
			return -1;
	if (k == s)
		return -1;
	pm->key.p = p + s;
	pm->key.len = k - s;
	pm->has_val = k < *i;
	pm->val.p = p + (pm->has_val ? k + 1 : k);
	pm->val.len = pm->has_val ? *i - k - 1 : 0;
	for (k = 0; k < pm->val.len; k++) /* esmtp-value: %d33-60 / %d62-126 */
		if ((unsigned char)pm->val.p[k] < 33 ||
		    (unsigned char)pm->val.p[k] > 126 || pm->val.p[k] == '=')
			return -1;
	if (pm->has_val && pm->val.len == 0)
		return -1;
	return 1;
}

/* ---- HELO / EHLO --------------------------------------------------- */

static int
smtpd_check_helo(cp_smtpd_conn *c, const char *arg, size_t len)
{
	if (len == 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: HELO hostname");
		return SMTPD_CHECK_BAD;
	}
	return SMTPD_CHECK_OK;
}

static int
smtpd_check_ehlo(cp_smtpd_conn *c, const char *arg, size_t len)
{
	if (len == 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: EHLO hostname");
		return SMTPD_CHECK_BAD;
	}
	return SMTPD_CHECK_OK;
}

static void
helo_ask(cp_smtpd_conn *c, const char *arg, size_t len, int esmtp)
{
	cp_smtpd_event *ev;

	/* RFC 5321 4.1.4: HELO/EHLO in a transaction is an RSET */
	smtpd_txn_reset(c, CP_SMTPD_R_HELO);
	if (smtpd_evstr_reserve(c, len + 1) != 0)
		return;
	ev = smtpd_ask(c, CP_SMTPD_EV_HELO);
	ev->helo = smtpd_evstr(c, arg, len);
	ev->esmtp = esmtp;
	c->cmd_flag = esmtp;
}

static void
smtpd_do_helo(cp_smtpd_conn *c, const char *arg, size_t len)
{
	helo_ask(c, arg, len, 0);
}

static void
smtpd_do_ehlo(cp_smtpd_conn *c, const char *arg, size_t len)
{
	helo_ask(c, arg, len, 1);
}

int
smtpd_peer_may_auth(const cp_smtpd_conn *c)
{
	return c->tls || c->conf.auth_cleartext == CP_SMTPD_CLEAR_ALWAYS ||
	    (c->conf.auth_cleartext == CP_SMTPD_CLEAR_LOOPBACK &&
		c->peer.loopback);
}

void
smtpd_ehlo_reply(cp_smtpd_conn *c)
{
	char size[40];
	const char *lines[10];
	size_t n = 0;

	snprintf(size, sizeof(size), "SIZE %llu",
	    (unsigned long long)c->conf.max_message_size);
	lines[n++] = c->conf.hostname;
	lines[n++] = "PIPELINING";
	lines[n++] = size;
	lines[n++] = "8BITMIME";
	lines[n++] = "SMTPUTF8";
	lines[n++] = "ENHANCEDSTATUSCODES";
	if (c->conf.tls_available && !c->tls)
		lines[n++] = "STARTTLS";
	if (smtpd_peer_may_auth(c))
		lines[n++] = "AUTH PLAIN LOGIN";
	for (size_t i = 0; i < n; i++)
		smtpd_reply_line(c, 250, i + 1 == n, NULL, lines[i],
		    strlen(lines[i]));
}

/* ---- MAIL ---------------------------------------------------------- */

static int
smtpd_check_mail(cp_smtpd_conn *c, const char *arg, size_t len)
{
	size_t i, used;
	smtpd_param pm;
	int rc, seen_size = 0;

	if (c->helo == 0) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: send HELO/EHLO first");
		return SMTPD_CHECK_BAD;
	}
	if (c->in_mail) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: nested MAIL command");
		return SMTPD_CHECK_BAD;
	}
	if (c->conf.require_auth && !c->peer.trusted && !c->authenticated) {
		smtpd_set_reply(c, 530, "5.7.0", "Authentication required");
		return SMTPD_CHECK_REFUSE;
	}
	if (parse_prefix(arg, len, "FROM:", &i) != 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
		return SMTPD_CHECK_BAD;
	}
	memset(&c->cmd, 0, sizeof(c->cmd));
	if (parse_path(arg + i, len - i, &used, &c->cmd.addr, 1, 0) != 0 ||
	    (i + used < len && arg[i + used] != ' ')) {
		smtpd_set_reply(c, 501, "5.1.7", "Bad sender address syntax");
		return SMTPD_CHECK_BAD;
	}
	for (i += used; (rc = next_param(arg, len, &i, &pm)) > 0;) {
		if (cp_slice_eqi(pm.key, "SIZE") && pm.has_val && !seen_size) {
			uint64_t v = 0;

			for (size_t k = 0; k < pm.val.len; k++) {
				if (!is_digit(pm.val.p[k]) || k >= 20) {
					smtpd_set_reply(c, 501, "5.5.4",
					    "Bad SIZE parameter");
					return SMTPD_CHECK_BAD;
				}
				v = v > UINT64_MAX / 10 - 1 ? UINT64_MAX :
				    v * 10 + (uint64_t)(pm.val.p[k] - '0');
			}
			c->cmd.size = v;
			seen_size = 1;
		} else if (cp_slice_eqi(pm.key, "BODY") && pm.has_val &&
		    !c->cmd.body) {
			if (cp_slice_eqi(pm.val, "7BIT")) {
				c->cmd.body = CP_SMTPD_BODY_7BIT;
			} else if (cp_slice_eqi(pm.val, "8BITMIME")) {
				c->cmd.body = CP_SMTPD_BODY_8BITMIME;
			} else {
				smtpd_set_reply(c, 555, "5.5.4",
				    "Unsupported BODY value");
				return SMTPD_CHECK_BAD;
			}
		} else if (cp_slice_eqi(pm.key, "SMTPUTF8") && !pm.has_val &&
		    !c->cmd.smtputf8) {
			c->cmd.smtputf8 = 1;
		} else if (cp_slice_eqi(pm.key, "AUTH") && pm.has_val) {
			/* RFC 4954 5: the submitter's identity; ignored */
		} else {
			smtpd_set_reply(c, 555, "5.5.4",
			    "Unsupported or repeated parameter");
			return SMTPD_CHECK_BAD;
		}
	}
	if (rc < 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Bad parameter syntax");
		return SMTPD_CHECK_BAD;
	}
	if (has_8bit(c->cmd.addr.p, c->cmd.addr.len) && !c->cmd.smtputf8) {
		smtpd_set_reply(c, 553, "5.6.7",
		    "Non-ASCII address needs SMTPUTF8");
		return SMTPD_CHECK_REFUSE;
	}
	if (c->cmd.size > c->conf.max_message_size) {
		smtpd_set_reply(c, 552, "5.3.4",
		    "Message size exceeds fixed maximum message size");
		smtpd_error(c, CP_SMTPD_R_MESSAGE_SIZE, 0);
		return SMTPD_CHECK_REFUSE;
	}
	return SMTPD_CHECK_OK;
}

static void
smtpd_do_mail(cp_smtpd_conn *c, const char *arg, size_t len)
{
	cp_smtpd_event *ev;

	if (smtpd_evstr_reserve(c, c->cmd.addr.len + 1) != 0)
		return;
	ev = smtpd_ask(c, CP_SMTPD_EV_MAIL);
	ev->addr = smtpd_evstr(c, c->cmd.addr.p, c->cmd.addr.len);
	ev->size = c->cmd.size;
	ev->body = c->cmd.body;
	ev->smtputf8 = c->cmd.smtputf8;
	c->cmd_flag = c->cmd.smtputf8;
}

/* ---- RCPT ---------------------------------------------------------- */

static int
smtpd_check_rcpt(cp_smtpd_conn *c, const char *arg, size_t len)
{
	size_t i, used;
	smtpd_param pm;

	if (!c->in_mail) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: need MAIL command");
		return SMTPD_CHECK_BAD;
	}
	if (parse_prefix(arg, len, "TO:", &i) != 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: RCPT TO:<address>");
		return SMTPD_CHECK_BAD;
	}
	memset(&c->cmd, 0, sizeof(c->cmd));
	if (parse_path(arg + i, len - i, &used, &c->cmd.addr, 0, 1) != 0 ||
	    (i + used < len && arg[i + used] != ' ')) {
		smtpd_set_reply(c, 501, "5.1.3",
		    "Bad recipient address syntax");
		return SMTPD_CHECK_BAD;
	}
	i += used;
	if (next_param(arg, len, &i, &pm) != 0) { /* no DSN: none known */
		smtpd_set_reply(c, 555, "5.5.4", "Unsupported parameter");
		return SMTPD_CHECK_BAD;
	}
	if (has_8bit(c->cmd.addr.p, c->cmd.addr.len) && !c->mail_smtputf8) {
		smtpd_set_reply(c, 553, "5.6.7",
		    "Non-ASCII address needs SMTPUTF8");
		return SMTPD_CHECK_REFUSE;
	}
	if (c->conf.max_recipients && c->nrcpt >= c->conf.max_recipients) {
		smtpd_set_reply(c, 452, "4.5.3", "Error: too many recipients");
		smtpd_error(c, CP_SMTPD_R_RECIPIENTS, 0);
		return SMTPD_CHECK_REFUSE;
	}
	return SMTPD_CHECK_OK;
}

static void
smtpd_do_rcpt(cp_smtpd_conn *c, const char *arg, size_t len)
{
	cp_smtpd_event *ev;

	if (smtpd_evstr_reserve(c, c->cmd.addr.len + 1) != 0)
		return;
	ev = smtpd_ask(c, CP_SMTPD_EV_RCPT);
	ev->addr = smtpd_evstr(c, c->cmd.addr.p, c->cmd.addr.len);
	ev->n = c->nrcpt;
}

/* ---- DATA ---------------------------------------------------------- */

static int
smtpd_check_data(cp_smtpd_conn *c, const char *arg, size_t len)
{
	if (len > 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: DATA");
		return SMTPD_CHECK_BAD;
	}
	if (!c->in_mail) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: need RCPT command");
		return SMTPD_CHECK_BAD;
	}
	if (c->nrcpt == 0) { /* RFC 2920 3.1: pipelined after failed RCPTs */
		smtpd_set_reply(c, 554, "5.5.1", "Error: no valid recipients");
		return SMTPD_CHECK_REFUSE;
	}
	return SMTPD_CHECK_OK;
}

static void
smtpd_do_data(cp_smtpd_conn *c, const char *arg, size_t len)
{
	cp_smtpd_event *ev = smtpd_ask(c, CP_SMTPD_EV_DATA);

	ev->n = c->nrcpt;
}

/* ---- RSET, NOOP, QUIT, VRFY, HELP, EXPN ---------------------------- */

static int
smtpd_check_noarg(cp_smtpd_conn *c, const char *arg, size_t len)
{
	if (len > 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax error: no parameters "
		    "allowed");
		return SMTPD_CHECK_BAD;
	}
	return SMTPD_CHECK_OK;
}

static void
smtpd_do_rset(cp_smtpd_conn *c, const char *arg, size_t len)
{
	smtpd_txn_reset(c, CP_SMTPD_R_COMMAND);
	smtpd_reply(c, 250, "2.0.0", "Ok");
}

static void
smtpd_do_noop(cp_smtpd_conn *c, const char *arg, size_t len)
{
	smtpd_reply(c, 250, "2.0.0", "Ok");
}

static void
smtpd_do_quit(cp_smtpd_conn *c, const char *arg, size_t len)
{
	smtpd_reply(c, 221, "2.0.0", "Bye");
	smtpd_event(c, CP_SMTPD_EV_QUIT);
	smtpd_close(c, CP_SMTPD_R_QUIT);
}

static int
smtpd_check_vrfy(cp_smtpd_conn *c, const char *arg, size_t len)
{
	if (len == 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: VRFY address");
		return SMTPD_CHECK_BAD;
	}
	return SMTPD_CHECK_OK;
}

static void
smtpd_do_vrfy(cp_smtpd_conn *c, const char *arg, size_t len)
{
	/* RFC 5321 3.5.3: 252 when we will not say */
	smtpd_reply(c, 252, "2.5.2", "Cannot VRFY user, but will accept "
	    "message and attempt delivery");
}

static void
smtpd_do_help(cp_smtpd_conn *c, const char *arg, size_t len)
{
	smtpd_reply(c, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA RSET "
	    "NOOP QUIT VRFY HELP STARTTLS AUTH");
}

static int
smtpd_check_expn(cp_smtpd_conn *c, const char *arg, size_t len)
{
	smtpd_set_reply(c, 502, "5.5.1", "Error: command not implemented");
	return SMTPD_CHECK_BAD;
}

/* ---- STARTTLS ------------------------------------------------------ */

static int
smtpd_check_starttls(cp_smtpd_conn *c, const char *arg, size_t len)
{
	if (!c->conf.tls_available) {
		smtpd_set_reply(c, 502, "5.5.1", "Error: command not "
		    "implemented");
		return SMTPD_CHECK_BAD;
	}
	if (c->tls) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: TLS already active");
		return SMTPD_CHECK_BAD;
	}
	if (len > 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: STARTTLS");
		return SMTPD_CHECK_BAD;
	}
	if (c->in_mail) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: MAIL transaction in "
		    "progress");
		return SMTPD_CHECK_BAD;
	}
	return SMTPD_CHECK_OK;
}

static void
smtpd_do_starttls(cp_smtpd_conn *c, const char *arg, size_t len)
{
	size_t left = c->in.len - c->in_off;

	smtpd_reply(c, 220, "2.0.0", "Ready to start TLS");
	if (left > 0) { /* the STARTTLS injection attack (CVE-2011-0411) */
		c->st.discarded += left;
		c->in_off = c->in.len;
		smtpd_error(c, CP_SMTPD_R_INJECTION, 0);
	}
	c->skip_line = 0;
	c->state = SMTPD_S_TLS;
	smtpd_event(c, CP_SMTPD_EV_STARTTLS);
}

/* ---- the dispatcher ------------------------------------------------ */

static const struct smtpd_verb {
	const char *name;
	int (*check)(cp_smtpd_conn *c, const char *arg, size_t len);
	void (*act)(cp_smtpd_conn *c, const char *arg, size_t len);
	unsigned flags;
} verbs[] = {
	{ "EHLO", smtpd_check_ehlo, smtpd_do_ehlo, V_JUNK },
	{ "HELO", smtpd_check_helo, smtpd_do_helo, V_JUNK },
	{ "MAIL", smtpd_check_mail, smtpd_do_mail, 0 },
	{ "RCPT", smtpd_check_rcpt, smtpd_do_rcpt, 0 },
	{ "DATA", smtpd_check_data, smtpd_do_data, 0 },
	{ "RSET", smtpd_check_noarg, smtpd_do_rset, V_JUNK },
	{ "NOOP", NULL, smtpd_do_noop, V_JUNK },
	{ "QUIT", NULL, smtpd_do_quit, V_REFUSED },
	{ "VRFY", smtpd_check_vrfy, smtpd_do_vrfy, V_JUNK },
	{ "HELP", NULL, smtpd_do_help, V_JUNK },
	{ "STARTTLS", smtpd_check_starttls, smtpd_do_starttls, 0 },
	{ "AUTH", smtpd_check_auth, smtpd_do_auth, 0 },
	{ "EXPN", smtpd_check_expn, NULL, V_JUNK },
};

/* "GET / HTTP/1.1", "CONNECT host:443 HTTP/1.1": a web client or a
 * proxy probe, never an SMTP client (Postfix's smtpd_forbidden_commands). */
static int
is_http(cp_slice verb, size_t len)
{
	static const char *const http[] = { "GET", "POST", "HEAD", "PUT",
		"CONNECT", "OPTIONS" };

	if (verb.len == len) /* no argument */
		return 0;
	for (size_t i = 0; i < CP_NELEM(http); i++)
		if (cp_slice_eq(verb, http[i]))
			return 1;
	return 0;
}

void
smtpd_command(cp_smtpd_conn *c, const char *line, size_t len)
{
	const struct smtpd_verb *v = NULL;
	cp_slice verb;
	const char *arg;
	size_t alen, i;
	int rc;

	c->st.commands++;
	for (i = 0; i < len && line[i] != ' '; i++)
		;
	verb.p = line;
	verb.len = i;
	arg = line + i + (i < len);
	alen = len - i - (i < len);
	while (alen > 0 && (arg[alen - 1] == ' ' || arg[alen - 1] == '\t'))
		alen--;
	if (memchr(line, '\0', len) || memchr(line, '\r', len)) {
		smtpd_set_reply(c, 500, "5.5.2", "Error: bad character in "
		    "command");
		smtpd_bad(c);
		return;
	}
	if (is_http(verb, len)) {
		smtpd_reply(c, 421, "4.7.0", "%s Error: not an SMTP client",
		    c->conf.hostname);
		smtpd_error(c, CP_SMTPD_R_HTTP, 1);
		smtpd_close(c, CP_SMTPD_R_HTTP);
		return;
	}
	for (i = 0; i < CP_NELEM(verbs); i++)
		if (cp_slice_eqi(verb, verbs[i].name))
			v = &verbs[i];
	if (c->state == SMTPD_S_REFUSED && !(v && (v->flags & V_REFUSED))) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: service refused, "
		    "send QUIT");
		smtpd_bad(c);
		return;
	}
	if (c->conf.require_auth && !c->peer.trusted && !c->authenticated &&
	    !(v && (v->flags & V_REFUSED))) {
		c->st.preauth_commands++;
		if (c->conf.max_preauth_commands &&
		    c->st.preauth_commands > c->conf.max_preauth_commands) {
			smtpd_reply(c, 421, "4.7.0", "%s Error: too many "
			    "commands before authentication",
			    c->conf.hostname);
			smtpd_error(c, CP_SMTPD_R_PREAUTH, 1);
			smtpd_close(c, CP_SMTPD_R_PREAUTH);
			return;
		}
	}
	if (v == NULL) {
		smtpd_set_reply(c, 500, "5.5.1", "Error: command not "
		    "recognized");
		smtpd_bad(c);
		return;
	}
	if (v->flags & V_JUNK) {
		c->st.junk_commands++;
		/* past the junk limit, each one is also an error */
		if (c->conf.max_junk_commands &&
		    c->st.junk_commands > c->conf.max_junk_commands &&
		    c->conf.max_bad_commands &&
		    ++c->st.bad_commands >= c->conf.max_bad_commands) {
			smtpd_reply(c, 421, "4.7.0", "%s Error: too many "
			    "errors", c->conf.hostname);
			smtpd_error(c, CP_SMTPD_R_BAD_COMMANDS, 1);
			smtpd_close(c, CP_SMTPD_R_BAD_COMMANDS);
			return;
		}
	}
	rc = v->check ? v->check(c, arg, alen) : SMTPD_CHECK_OK;
	if (rc == SMTPD_CHECK_BAD)
		smtpd_bad(c);
	else if (rc == SMTPD_CHECK_REFUSE)
		smtpd_reply(c, c->rcode, c->renh, "%s", c->rtext);
	else
		v->act(c, arg, alen);
}
