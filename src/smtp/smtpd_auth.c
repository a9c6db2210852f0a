/*
 * smtpd_auth.c - AUTH for the submission core: the PLAIN (RFC 4616) and
 * LOGIN exchanges of RFC 4954, ending in an AUTH event whose answer (the
 * caller checks the password against the store) becomes 235, 454 or 535.
 *
 * RFC 4954 4: an initial response may follow the mechanism ("=" is an
 * empty one); otherwise the server sends "334 <base64 challenge>" and the
 * client answers a line of base64; "*" cancels (501); a response that is
 * not base64 gets 501 5.5.2; AUTH lines may be 12288 bytes long. RFC 4954
 * 6: 538 5.7.11 when the mechanism needs TLS and TLS is not up (here:
 * always, unless conf.auth_cleartext allows this peer), 503 after a
 * successful AUTH or inside a transaction, 504 for unknown mechanisms.
 * Base64 is checked strictly here and decoded by OpenSSL.
 *
 * Failures: each 535 adds one to the count and asks the caller, with a
 * DELAY event, to slow down (auth_delay_ms times the count, as Postfix's
 * smtpd_error_sleep_time grows); at max_auth_failures the reply is 421
 * and the session closes. Secrets (decoded responses, the lines holding
 * them) are wiped as soon as they are no longer needed.
 */
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "coldpost/alloc.h"
#include "smtp/smtpd_int.h"

static int
is_b64(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

/*
 * Decode n bytes of strict base64 (RFC 4648 4: the alphabet, a length
 * that is a multiple of 4, at most two '=' at the end) into out, which
 * has room for n / 4 * 3 bytes. Returns the decoded length, or -1.
 */
static long
auth_b64_decode(const char *s, size_t n, unsigned char *out)
{
	size_t pad = 0;
	int len;

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=') {
			if (i + 2 < n)
				return -1;
			pad++;
		} else if (pad > 0 || !is_b64((unsigned char)s[i])) {
			return -1;
		}
	}
	if (n == 0)
		return 0;
	len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad)
		return -1;
	return (long)((size_t)len - pad);
}

int
smtpd_check_auth(cp_smtpd_conn *c, const char *arg, size_t len)
{
	size_t i;

	if (c->helo == 0) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: send EHLO first");
		return SMTPD_CHECK_BAD;
	}
	if (c->authenticated) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: already "
		    "authenticated");
		return SMTPD_CHECK_BAD;
	}
	if (c->in_mail) {
		smtpd_set_reply(c, 503, "5.5.1", "Error: MAIL transaction in "
		    "progress");
		return SMTPD_CHECK_BAD;
	}
	if (!smtpd_peer_may_auth(c)) {
		smtpd_set_reply(c, 538, "5.7.11", "Encryption required for "
		    "requested authentication mechanism");
		return SMTPD_CHECK_REFUSE;
	}
	for (i = 0; i < len && arg[i] != ' '; i++)
		;
	if (i == 0) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: AUTH mechanism "
		    "[initial-response]");
		return SMTPD_CHECK_BAD;
	}
	if (!(i == 5 && strncasecmp(arg, "PLAIN", 5) == 0) &&
	    !(i == 5 && strncasecmp(arg, "LOGIN", 5) == 0)) {
		smtpd_set_reply(c, 504, "5.5.4", "Unrecognized authentication "
		    "type");
		return SMTPD_CHECK_BAD;
	}
	if (i < len && memchr(arg + i + 1, ' ', len - i - 1)) {
		smtpd_set_reply(c, 501, "5.5.4", "Syntax: AUTH mechanism "
		    "[initial-response]");
		return SMTPD_CHECK_BAD;
	}
	return SMTPD_CHECK_OK;
}

/* The exchange ends without an AUTH event: back to commands. */
static void
auth_abort(cp_smtpd_conn *c)
{
	c->state = SMTPD_S_COMMAND;
	c->auth_mech = 0;
	c->auth_step = 0;
	cp_buf_wipe(&c->evstr);
}

static void
auth_bad(cp_smtpd_conn *c, const char *text)
{
	auth_abort(c);
	smtpd_set_reply(c, 501, "5.5.2", "%s", text);
	smtpd_bad(c);
}

/* PLAIN: authzid NUL authcid NUL passwd (RFC 4616 2). */
static void
auth_plain(cp_smtpd_conn *c, const unsigned char *p, size_t n)
{
	const unsigned char *z1, *z2;
	cp_smtpd_event *ev;
	size_t l0, l1, l2;

	z1 = memchr(p, '\0', n);
	z2 = z1 ? memchr(z1 + 1, '\0', n - (size_t)(z1 + 1 - p)) : NULL;
	if (z2 == NULL || memchr(z2 + 1, '\0', n - (size_t)(z2 + 1 - p))) {
		auth_bad(c, "Invalid PLAIN response");
		return;
	}
	l0 = (size_t)(z1 - p);
	l1 = (size_t)(z2 - z1 - 1);
	l2 = n - (size_t)(z2 + 1 - p);
	if (l1 == 0 || l2 == 0) {
		auth_bad(c, "Invalid PLAIN response");
		return;
	}
	if (smtpd_evstr_reserve(c, n + 16) != 0)
		return;
	c->state = SMTPD_S_COMMAND;
	ev = smtpd_ask(c, CP_SMTPD_EV_AUTH);
	ev->mech = smtpd_evstr(c, "PLAIN", 5);
	ev->authzid = smtpd_evstr(c, (const char *)p, l0);
	ev->user = smtpd_evstr(c, (const char *)z1 + 1, l1);
	ev->pass = smtpd_evstr(c, (const char *)z2 + 1, l2);
	c->auth_ev_user = ev->user;
}

/* LOGIN: a user name, then a password, each in its own response. */
static void
auth_login(cp_smtpd_conn *c, const unsigned char *p, size_t n)
{
	cp_smtpd_event *ev;
	const char *user;

	if (n == 0 || memchr(p, '\0', n)) {
		auth_bad(c, "Invalid LOGIN response");
		return;
	}
	if (c->auth_step == 0) {
		/* room for "LOGIN", "", the user and the longest password */
		if (smtpd_evstr_reserve(c, n + c->conf.max_auth_line + 16) !=
		    0)
			return;
		smtpd_evstr(c, (const char *)p, n);
		c->auth_step = 1;
		c->state = SMTPD_S_AUTH;
		smtpd_reply(c, 334, NULL, "UGFzc3dvcmQ6"); /* "Password:" */
		return;
	}
	user = c->evstr.data;
	c->state = SMTPD_S_COMMAND;
	ev = smtpd_ask(c, CP_SMTPD_EV_AUTH);
	ev->pass = smtpd_evstr(c, (const char *)p, n);
	ev->mech = smtpd_evstr(c, "LOGIN", 5);
	ev->authzid = smtpd_evstr(c, "", 0);
	ev->user = user;
	c->auth_ev_user = user;
}

/* A base64 response (initial or after 334), wiped once decoded. */
static void
auth_response(cp_smtpd_conn *c, char *b64, size_t len)
{
	unsigned char *buf;
	long n;

	if (len == 1 && b64[0] == '*') {
		auth_abort(c);
		smtpd_reply(c, 501, "5.7.0", "Authentication aborted");
		return;
	}
	if (len == 1 && b64[0] == '=') /* RFC 4954 4: an empty response */
		len = 0;
	buf = cp_malloc(len / 4 * 3 + 1);
	if (buf == NULL) {
		explicit_bzero(b64, len);
		c->broken = 1;
		return;
	}
	n = auth_b64_decode(b64, len, buf);
	explicit_bzero(b64, len);
	if (n < 0)
		auth_bad(c, "Cannot decode response");
	else if (c->auth_mech == SMTPD_MECH_PLAIN)
		auth_plain(c, buf, (size_t)n);
	else
		auth_login(c, buf, (size_t)n);
	explicit_bzero(buf, len / 4 * 3 + 1);
	cp_free(buf);
}

void
smtpd_do_auth(cp_smtpd_conn *c, const char *arg, size_t len)
{
	size_t i = 5; /* "PLAIN" or "LOGIN", checked */

	c->auth_mech = strncasecmp(arg, "PLAIN", 5) == 0 ? SMTPD_MECH_PLAIN :
	    SMTPD_MECH_LOGIN;
	c->auth_step = 0;
	cp_buf_wipe(&c->evstr);
	if (i < len) { /* initial response; the line is ours to wipe */
		auth_response(c, (char *)arg + i + 1, len - i - 1);
		return;
	}
	c->state = SMTPD_S_AUTH;
	if (c->auth_mech == SMTPD_MECH_PLAIN)
		smtpd_reply(c, 334, NULL, "%s", "");
	else
		smtpd_reply(c, 334, NULL, "VXNlcm5hbWU6"); /* "Username:" */
}

void
smtpd_auth_response(cp_smtpd_conn *c, char *line, size_t len)
{
	auth_response(c, line, len);
}

void
smtpd_auth_answered(cp_smtpd_conn *c, const cp_smtpd_answer *a)
{
	const char *user = a->user ? a->user : c->auth_ev_user;

	c->auth_mech = 0;
	c->auth_step = 0;
	c->auth_ev_user = NULL;
	if (a->verdict == CP_SMTPD_ACCEPT) {
		cp_free(c->auth_user);
		c->auth_user = cp_strdup(user ? user : "");
		if (c->auth_user == NULL) {
			c->broken = 1;
			return;
		}
		c->authenticated = 1;
		c->st.authenticated = 1;
		smtpd_reply(c, 235, "2.7.0", "%s",
		    a->text ? a->text : "Authentication successful");
		return;
	}
	if (a->enhanced && a->verdict != CP_SMTPD_ACCEPT)
		CP_ASSERT(smtpd_enh_ok(a->enhanced, a->code ? a->code :
		    a->verdict == CP_SMTPD_TEMPFAIL ? 454 : 535));
	if (a->verdict == CP_SMTPD_TEMPFAIL) {
		smtpd_reply(c, a->code ? a->code : 454,
		    a->enhanced ? a->enhanced : "4.7.0", "%s",
		    a->text ? a->text : "Temporary authentication failure");
		if (a->close)
			smtpd_close(c, CP_SMTPD_R_REFUSED);
		return;
	}
	c->st.auth_failures++;
	if (c->conf.max_auth_failures &&
	    c->st.auth_failures >= c->conf.max_auth_failures) {
		smtpd_reply(c, 421, "4.7.0", "%s Error: too many "
		    "authentication failures", c->conf.hostname);
		smtpd_error(c, CP_SMTPD_R_AUTH_FAILURES, 1);
		smtpd_close(c, CP_SMTPD_R_AUTH_FAILURES);
		return;
	}
	smtpd_reply(c, a->code ? a->code : 535,
	    a->enhanced ? a->enhanced : "5.7.8", "%s",
	    a->text ? a->text : "Authentication credentials invalid");
	if (a->close) {
		smtpd_close(c, CP_SMTPD_R_REFUSED);
		return;
	}
	if (c->conf.auth_delay_ms) {
		cp_smtpd_event *ev = smtpd_event(c, CP_SMTPD_EV_DELAY);

		ev->delay_ms = c->conf.auth_delay_ms * c->st.auth_failures;
	}
}
