/*
 * bounce_reason.c - the reason of each failed recipient, in Sisimai's
 * vocabulary (userunknown, mailboxfull, blocked, expired, ...), with the
 * classifier's cause family, receiver and hard/soft judgement.
 *
 * The evidence, strongest first: what the bounce format itself says (a
 * success Action, "X-Unix" diagnostics of local programs, a feedback
 * report), then the receiver's words matched against the phrases below
 * (the bounce-specific wording the SMTP reply rules of the knowledge
 * base do not cover: MTA-written explanations such as "retry timeout
 * exceeded" or "Host or domain name not found"), then the classifier's
 * signature rules (classify.h) over the diagnostic, then the RFC 3463
 * status (RFC 3463 section 3 subjects and details), then the classifier's
 * verdict from the basic code. Hard means the address is dead: an
 * unknown user or host, a moved address, a domain that accepts no mail
 * (RFC 7505 null MX), on a permanent failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce/bounce_int.h"
#include "coldpost/kb.h"

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

/*
 * Phrases of MTAs and receivers per reason; the order reasons are tried
 * in is first_reasons and word_reasons below.
 */
static const bnc_phrase_set phrase_rules[] = {
	{ "expired", L("retry timeout exceeded", "has been delayed",
	    "warning message only", "will be retried",
	    "not accept our requests to connect", "delivery is delayed",
	    "delayed delivery", "retry time not reached",
	    "delivery time expired", "message expired",
	    "could not be delivered for", "has been delayed for",
	    "was not delivered within", "too long in queue",
	    "time limit exceeded", "maximum time", "delivery expired",
	    "message timed out", "have been failing for",
	    "failed for more than", "will not be retried",
	    "could not deliver for", "delivery attempts will continue") },
	{ "mailererror", L("x-unix;", "pipe to |", "local delivery failed",
	    "mailer error", "command died with status",
	    "command output:", "procmail:", "exit code") },
	{ "hostunknown", L("domain is not reachable",
	    "host or domain name not found",
	    "host unknown", "unknown host", "domain not found",
	    "no such domain", "name or service not known",
	    "domain does not exist", "unrouteable address",
	    "unrouteable mail domain",
	    "domain name not found", "host not found",
	    "dns lookup failed", "unknown domain", "domain is not found",
	    "hostname lookup failure", "host name lookup failure",
	    "all relevant mx records point to non-existent hosts",
	    "recipient domain invalid") },
	{ "notaccept", L("does not accept mail", "null mx",
	    "no mx record", "mail exchanger", "no mx or a record",
	    "not accept any mail", "accepts no mail") },
	{ "hasmoved", L("has moved", "address has changed",
	    "no longer at this address", "new address") },
	{ "mailboxfull", L("mailbox full", "mailbox exceeds", "mailbox is full",
	    "over quota", "quota exceeded", "exceeded storage",
	    "exceeds storage", "mailbox size limit", "disk quota",
	    "insufficient disk space", "mailfolder is full",
	    "user is over", "account is full", "quota full",
	    "would exceed mailbox quota", "not enough storage",
	    "exceeded its quota", "out of storage", "storage space",
	    "mailbox has exceeded", "is over its storage limit") },
	{ "suspend", L("temporary locked", "temporarily locked",
	    "mailbox disabled", "account is blocked", "account disabled",
	    "account has been disabled", "is disabled",
	    "account is inactive", "mailbox is inactive",
	    "mailbox has been suspended", "account suspended",
	    "is suspended", "inactive account", "mailbox unavailable due",
	    "temporarily disabled", "recipient suspend",
	    "no longer in use", "account expired", "is not active",
	    "has been deactivated", "mailbox is frozen") },
	{ "requireptr", L("reverse dns", "rdns", "no ptr", "ptr record",
	    "reverse lookup", "cannot find your hostname",
	    "cannot resolve your", "not resolve your address",
	    "hostname does not resolve", "reverse hostname",
	    "ip name lookup failed", "reverse-dns",
	    "no reverse dns", "client host name", "unresolvable") },
	{ "authfailure", L("spf record",
	    "spf check", "spf fail", "spf:", "dmarc",
	    "dkim", "authentication checks failed",
	    "sender policy framework", "not authorized to send",
	    "domain authentication", "sender authentication") },
	{ "norelaying", L("relay access denied", "relaying denied",
	    "relay not permitted", "not permitted to relay",
	    "relaying not allowed", "unable to relay",
	    "relay denied", "we do not relay", "not allowed to relay",
	    "no relaying", "relay prohibited", "relaying prohibited") },
	{ "ratelimited", L("too many connections", "frequency limited", "rate limit",
	    "too many messages", "too many recipients", "throttl",
	    "too fast", "temporarily deferred",
	    "sending rate", "too many concurrent", "exceeded the rate",
	    "connection rate", "sent too many") },
	{ "virusdetected", L("virus", "malware", "infected") },
	{ "spamdetected", L("blacklisted url",
	    "spam", "unsolicited", "bulk mail",
	    "junk mail", "message content rejected") },
	{ "emailtoolarge", L("message too large", "message size exceeds",
	    "message is too big", "too big", "exceeds size limit",
	    "size limit", "message length exceeds", "maximum message size",
	    "message size") },
	{ "failedstarttls", L("starttls", "tls is required",
	    "must issue a starttls", "encryption required") },
	{ "syntaxerror", L("improper sequence", "bad sequence of commands", "malformed address",
	    "syntax error", "command unrecognized",
	    "command not recognized", "unrecognized command",
	    "line too long") },
	{ "notcompliantrfc", L("multiple addresses in from","rfc 5322", "rfc5322", "rfc 2822",
	    "rfc2822", "rfc 822", "not rfc compliant",
	    "duplicate header", "multiple from", "missing date",
	    "malformed header") },
	{ "networkerror", L("connection refused", "connection timed out",
	    "connection reset", "network is unreachable",
	    "no route to host", "lost connection",
	    "timeout while", "timed out while", "connection closed",
	    "could not connect", "couldn't connect", "unable to connect",
	    "failed to connect", "mail loop", "loops back",
	    "too many hops", "routing loop", "hop count exceeded",
	    "delivery loop", "loop detected", "name server") },
	{ "systemfull", L("system full", "insufficient system storage",
	    "out of disk", "disk full") },
	{ "userunknown", L("user unknown",
	    "recipient address rejected: access denied",
	    "invalid final delivery userid", "unknown user", "no such user",
	    "user not found", "mailbox not found", "no mailbox",
	    "user does not exist", "address does not exist",
	    "recipient does not exist", "invalid recipient", "recipient unknown",
	    "unknown recipient", "no such recipient",
	    "no such mailbox", "not a valid mailbox", "invalid mailbox",
	    "mailbox unavailable", "recipient not found",
	    "address unknown", "unknown address", "unknown local part",
	    "not our customer", "user doesn't exist", "user does not exist",
	    "is not a known user", "no such address", "unknown or illegal",
	    "bad recipient", "recipient invalid", "invalid address",
	    "account does not exist", "no account",
	    "unknown mailbox", "mailbox does not exist", "non-existent",
	    "nonexistent", "undeliverable address",
	    "not listed in", "no valid recipients",
	    "address not present", "doesn't have a",
	    "was not found in the directory", "account has been removed",
	    "cannot be delivered to this user", "email account that you tried "
	    "to reach does not exist") },
	{ "blocked", L("smtp server of your isp", "dynamic ip", "dial-up", "residential",
	    "ip blocked", "blocked ip", "host blocked",
	    "blocked by", "blocked using", "blocked for", "been blocked",
	    "is blocked", "blacklist", "blocklist", "block list",
	    "denylist", "listed at", "listed in", "rbl", "spamhaus",
	    "spamcop", "barracuda", "client host rejected",
	    "poor reputation", "banned", "not allowed from your ip",
	    "your ip", "connection refused by",
	    "dnsbl") },
	{ "rejected", L("purported responsible address", "permission to post", "send mail as",
	    "sender rejected", "sender address rejected",
	    "domain of sender", "sender domain", "sender verify failed",
	    "sender verification", "invalid sender", "sender unknown",
	    "sender denied", "from address",
	    "unverified address", "not permitted to send") },
	{ "securityerror", L("smtp authentication",
	    "authentication required",
	    "authentication failed", "must authenticate",
	    "auth required", "authentication is required",
	    "unauthenticated", "certificate", "security policy",
	    "insecure") },
	{ "policyviolation", L("policy", "content presents a potential", "prohibited",
	    "violat") },
	{ "filtered", L("550 : user unknown", ": : user unknown",
	    "message filtered", "was filtered", "filtered by",
	    "content filter", "not authorized", "recipient rejected",
	    "does not accept messages from", "rejected for policy") },
	{ "systemerror", L("system error", "internal error", "server error",
	    "temporary failure", "temporarily unavailable",
	    "service unavailable", "local error", "too many errors",
	    "i/o error", "resources temporarily", "system problem",
	    "configuration error", "misconfigured") },
};

const bnc_phrase_set *
bnc_reason_sets(size_t *n)
{
	*n = sizeof(phrase_rules) / sizeof(phrase_rules[0]);
	return phrase_rules;
}

/* Did the scan find one of this reason's phrases? The phrase, or NULL. */
static const char *
phrase_of(const char *reason, const bnc_hits *h)
{
	for (size_t i = 0; i < sizeof(phrase_rules) / sizeof(phrase_rules[0]);
	    i++) {
		size_t base;

		/* the reason names are the same literals: compare pointers
		 * first, then the text */
		if (phrase_rules[i].name != reason &&
		    strcmp(phrase_rules[i].name, reason) != 0)
			continue;
		base = bnc_phrase_id(BNC_REG_REASON, i, 0);
		for (size_t j = 0; phrase_rules[i].phrases[j] != NULL; j++)
			if (h->end[base + j] != BNC_NO_HIT)
				return phrase_rules[i].phrases[j];
	}
	return NULL;
}

/*
 * Reasons about the recipient or the sender, decided by the status or
 * the words alike, in this order: a full mailbox says more than the
 * 5.1.1 next to it. Then the reasons the words alone decide, and the
 * status last (see bnc_reason_decide).
 */
static const char *const first_reasons[] = { "mailboxfull",
	"emailtoolarge", "suspend", "hasmoved", "norelaying",
	"notcompliantrfc", "authfailure", "requireptr", "failedstarttls",
	"filtered", "userunknown", "rejected", "hostunknown", "spamdetected",
	"virusdetected", "ratelimited", "blocked", NULL };
static const char *const word_reasons[] = { "mailboxfull",
	"spamdetected", "policyviolation", "virusdetected", "norelaying",
	"securityerror", "systemerror", "expired", "networkerror", "suspend",
	"contenterror", "systemfull", "notaccept", "mailererror",
	"syntaxerror", NULL };
/* Status reasons too vague to stand before the words. */
static const char *const vague_reasons[] = { "undefined", "onhold",
	"systemerror", "securityerror", "networkerror", "hostunknown",
	"userunknown", "expired", NULL };

static int
in_list(const char *const *l, const char *s)
{
	for (size_t i = 0; l[i] != NULL; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

/* RFC 3463 status -> reason, where the status alone is clear. */
static const char *
status_reason(const char *st)
{
	static const struct {
		const char *code, *reason;
	} table[] = {
		{ "X.1.1", "userunknown" }, { "X.1.2", "hostunknown" },
		{ "X.1.3", "userunknown" }, { "X.1.4", "userunknown" },
		{ "X.1.5", "userunknown" }, { "X.1.6", "hasmoved" },
		{ "X.1.7", "rejected" }, { "X.1.8", "rejected" },
		{ "X.1.9", "rejected" }, { "X.1.10", "notaccept" },
		{ "X.2.2", "mailboxfull" },
		{ "X.2.3", "emailtoolarge" }, { "X.2.4", "systemerror" },
		{ "X.3.1", "systemfull" }, { "X.3.2", "notaccept" },
		{ "X.3.3", "systemerror" }, { "X.3.0", "systemerror" }, { "X.0.0", "onhold" }, { "X.3.4", "emailtoolarge" },
		{ "X.3.5", "systemerror" }, { "X.4.1", "networkerror" },
		{ "X.4.2", "networkerror" }, { "X.4.3", "systemerror" },
		{ "X.4.4", "networkerror" }, { "X.4.5", "systemerror" },
		{ "X.4.6", "networkerror" }, { "X.4.7", "expired" },
		{ "X.5.3", "ratelimited" },
		{ "X.6.0", "contenterror" }, { "X.4.0", "networkerror" }, { "X.6.1", "contenterror" },
		{ "X.6.2", "contenterror" }, { "X.6.3", "contenterror" },
		{ "X.6.4", "contenterror" }, { "X.6.5", "contenterror" },
		{ "X.7.0", "securityerror" }, { "X.7.1", "securityerror" },
		{ "X.7.2", "securityerror" }, { "X.7.3", "securityerror" },
		{ "X.7.4", "securityerror" }, { "X.7.5", "securityerror" },
		{ "X.7.6", "securityerror" }, { "X.7.7", "securityerror" },
		{ "X.7.8", "securityerror" }, { "X.7.9", "securityerror" },
		{ "X.7.10", "failedstarttls" }, { "X.7.11", "failedstarttls" },
		{ "X.7.13", "suspend" }, { "X.7.14", "securityerror" },
		{ "X.7.15", "securityerror" }, { "X.7.16", "securityerror" },
		{ "X.7.17", "suspend" }, { "X.7.18", "suspend" },
		{ "X.7.20", "authfailure" }, { "X.7.21", "authfailure" },
		{ "X.7.22", "authfailure" }, { "X.7.23", "authfailure" },
		{ "X.7.24", "authfailure" }, { "X.7.25", "requireptr" },
		{ "X.7.26", "authfailure" }, { "X.7.27", "notaccept" },
		{ "X.7.28", "ratelimited" },
	};

	if (st[0] == '\0' || st[1] != '.')
		return NULL;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].code + 1, st + 1) == 0)
			return table[i].reason;
	return NULL;
}

static int
reason_cause(const char *reason)
{
	static const struct {
		const char *reason;
		int cause;
	} table[] = {
		{ "userunknown", CP_CAUSE_RECIPIENT_UNKNOWN },
		{ "hasmoved", CP_CAUSE_RECIPIENT_UNKNOWN },
		{ "hostunknown", CP_CAUSE_DNS_OR_ROUTING },
		{ "notaccept", CP_CAUSE_DNS_OR_ROUTING },
		{ "requireptr", CP_CAUSE_DNS_OR_ROUTING },
		{ "mailboxfull", CP_CAUSE_MAILBOX_FULL },
		{ "suspend", CP_CAUSE_MAILBOX_DISABLED },
		{ "expired", CP_CAUSE_TEMPORARY },
		{ "networkerror", CP_CAUSE_TEMPORARY },
		{ "systemerror", CP_CAUSE_TEMPORARY },
		{ "systemfull", CP_CAUSE_TEMPORARY },
		{ "blocked", CP_CAUSE_BLOCKLIST },
		{ "badreputation", CP_CAUSE_REPUTATION },
		{ "rejected", CP_CAUSE_POLICY },
		{ "filtered", CP_CAUSE_POLICY },
		{ "policyviolation", CP_CAUSE_POLICY },
		{ "spamdetected", CP_CAUSE_CONTENT },
		{ "virusdetected", CP_CAUSE_CONTENT },
		{ "contenterror", CP_CAUSE_CONTENT },
		{ "securityerror", CP_CAUSE_AUTHENTICATION },
		{ "authfailure", CP_CAUSE_AUTHENTICATION },
		{ "norelaying", CP_CAUSE_RELAY_DENIED },
		{ "ratelimited", CP_CAUSE_RATE_LIMIT },
		{ "emailtoolarge", CP_CAUSE_MESSAGE_TOO_BIG },
		{ "syntaxerror", CP_CAUSE_PROTOCOL },
		{ "notcompliantrfc", CP_CAUSE_PROTOCOL },
		{ "failedstarttls", CP_CAUSE_TLS },
		{ "mailererror", CP_CAUSE_OTHER },
		{ "onhold", CP_CAUSE_OTHER },
		{ "undefined", CP_CAUSE_OTHER },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].reason, reason) == 0)
			return table[i].cause;
	return -1;
}

int
cp_bounce_reason_known(const char *reason)
{
	return reason != NULL && (reason_cause(reason) >= 0 ||
	    strcmp(reason, "delivered") == 0 ||
	    strcmp(reason, "vacation") == 0 ||
	    strcmp(reason, "feedback") == 0);
}

/* Reply code and a status more precise than the DSN's X.0.0, from the
 * receiver's words. */
static void
fill_codes(cp_bounce_parser *p, bnc_rcpt *r, const char *text)
{
	cp_slice t = bnc_slice(text, strlen(text));
	size_t at;

	if (r->replycode == 0)
		r->replycode = bnc_find_code(t, &at);
	if (r->status[0] == '\0' || strcmp(r->status + 1, ".0.0") == 0) {
		const char *st = bnc_find_status(p, t);

		if (st[0] != '\0' && (r->status[0] == '\0' ||
		    st[0] == r->status[0]))
			r->status = st;
	}
}

/* "bounce:phrase:REASON=PHRASE", in the arena. */
static const char *
phrase_rule_id(cp_bounce_parser *p, const char *reason, const char *hit)
{
	size_t a = strlen(reason), b = strlen(hit);
	char *s = bnc_strdup(p, NULL, 14 + a + 1 + b);

	if (s == NULL)
		return "bounce:phrase";
	memcpy(s, "bounce:phrase:", 14);
	memcpy(s + 14, reason, a);
	s[14 + a] = '=';
	memcpy(s + 15 + a, hit, b);
	return s;
}

/* The reply the classifier sees: the diagnostic with its codes. */
static void
make_reply(cp_reply *rp, const bnc_rcpt *r, const char *text)
{
	const char *st = r->status;

	memset(rp, 0, sizeof(*rp));
	rp->code = r->replycode;
	if (st[0] != '\0') {
		const char *d1 = strchr(st, '.');
		const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

		rp->cls = st[0] - '0';
		rp->subject = d1 ? (int)strtol(d1 + 1, NULL, 10) : 0;
		rp->detail = d2 ? (int)strtol(d2 + 1, NULL, 10) : 0;
		if (rp->subject > 7 || rp->detail > 999)
			rp->subject = rp->detail = 0;
		(void)snprintf(rp->enhanced, sizeof(rp->enhanced), "%s", st);
	}
	if (rp->code == 0 && rp->cls == 0)
		rp->code = strcmp(r->action, "delayed") == 0 ? 450 : 550;
	rp->text = text;
	rp->text_len = strlen(text);
	rp->nlines = 1;
}

/*
 * "No such user" said to RCPT TO is about the address. Said after DATA,
 * or without saying when, it is the receiver's filter refusing the
 * message for that user (a per-user rule, a disabled forward): unless the
 * status is X.1.1 itself, Sisimai calls that "filtered".
 */
static const char *
after_data(const bnc_rcpt *r)
{
	const char *c = r->command;

	if (strcmp(r->reason, "userunknown") != 0)
		return r->reason;
	if (r->status[0] != '\0' && strcmp(r->status + 1, ".1.1") == 0)
		return r->reason;
	return strcmp(c, "DATA") == 0 ? "filtered" : r->reason;
}

/*
 * A diagnostic that is an SMTP reply ("550-5.7.1 a 550-5.7.1 b", or
 * wrapped as "host X said: 550 ..."): parsed and classified as one
 * (reply.h), so the words are read without the continuation prefixes.
 * 0 when it is no reply; *rp then is untouched.
 */
static int
reply_text(cp_bounce_parser *p, const bnc_rcpt *r, const char *text,
    cp_verdict *v, cp_reply *rp)
{
	const cp_reply *parsed;

	if (!(text[0] >= '2' && text[0] <= '5' && text[1] >= '0' &&
	    text[1] <= '9' && text[2] >= '0' && text[2] <= '9' &&
	    (text[3] == ' ' || text[3] == '-')))
		return 0;
	if (cp_classify_reply(p->cs, text, strlen(text), r->remote_mta[0] ?
	    r->remote_mta : NULL, v, NULL) != CP_OK)
		return 0;
	parsed = cp_classify_session_reply(p->cs);
	*rp = *parsed;
	return 1;
}

static int
is_hard(const char *reason, int permanent)
{
	return permanent && (strcmp(reason, "userunknown") == 0 ||
	    strcmp(reason, "hostunknown") == 0 ||
	    strcmp(reason, "hasmoved") == 0 ||
	    strcmp(reason, "notaccept") == 0);
}

/* The staged decision; sets r->rule. */
static const char *
choose(cp_bounce_parser *p, bnc_rcpt *r, const cp_verdict *v,
    const cp_reply *rp, const bnc_hits *h)
{
	const char *st = status_reason(r->status), *hit;

	if (st != NULL && strcmp(st, "expired") == 0) {
		/* X.4.7: the MTA gave up, whatever the last try said */
		r->rule = "bounce:status";
		return st;
	}
	for (size_t i = 0; first_reasons[i] != NULL; i++) {
		const char *reason = first_reasons[i];

		if (st != NULL && strcmp(st, reason) == 0) {
			r->rule = "bounce:status";
			return reason;
		}
		if ((hit = phrase_of(reason, h)) != NULL) {
			r->rule = phrase_rule_id(p, reason, hit);
			return reason;
		}
	}
	if (strcmp(r->rule, "bounce:x-unix") == 0)
		return "mailererror";
	if (st != NULL && !in_list(vague_reasons, st)) {
		r->rule = "bounce:status";
		return st;
	}
	for (size_t i = 0; word_reasons[i] != NULL; i++)
		if ((hit = phrase_of(word_reasons[i], h)) != NULL) {
			r->rule = phrase_rule_id(p, word_reasons[i], hit);
			return word_reasons[i];
		}
	if (!v->code_only && v->reason != NULL &&
	    strcmp(v->reason, "syntaxerror") != 0) {
		/* (syntax rules fire on any "syntax" or "invalid" word) */
		r->rule = v->rule;
		return v->reason;
	}
	if (st != NULL) {
		r->rule = "bounce:status";
		return st;
	}
	if (strcmp(r->action, "delayed") == 0 || r->status[0] == '4' ||
	    (rp->code >= 400 && rp->code < 500)) {
		/* a temporary failure in a final bounce: retries ran out */
		r->rule = "bounce:delayed";
		return "expired";
	}
	if (r->status[0] != '\0' && strcmp(r->status + 1, ".0.0") == 0 &&
	    r->diagnostic[0] != '\0') {
		/* the receiver spoke, but said nothing we know */
		r->rule = "bounce:onhold";
		return "onhold";
	}
	if ((hit = strrchr(r->recipient, '@')) != NULL &&
	    strcasecmp(hit + 1, "googlegroups.com") == 0) {
		/* Google Groups refuses posts (not a member, no such group)
		 * in the poster's language: the refusal is the reason */
		r->rule = "bounce:googlegroups";
		return "rejected";
	}
	/* the receiver spoke, but said nothing we know: on hold */
	r->rule = "bounce:unmatched";
	return r->diagnostic[0] != '\0' ? "onhold" : "undefined";
}

void
bnc_reason_decide(cp_bounce_parser *p, bnc_rcpt *r, cp_slice context)
{
	cp_verdict v;
	cp_reply rp;
	const char *text = r->diagnostic, *reason;
	const bnc_hits *h;
	const char *canon;
	int permanent;

	if (r->reason[0] != '\0') {
		/* decided by the format: feedback, vacation, suspend */
		if (r->cause < 0)
			r->cause = reason_cause(r->reason);
		return;
	}
	if (strcmp(r->action, "delivered") == 0 ||
	    strcmp(r->action, "relayed") == 0 ||
	    strcmp(r->action, "expanded") == 0 || r->status[0] == '2') {
		r->reason = "delivered";
		r->rule = "bounce:delivered";
		return;
	}
	if (text[0] == '\0' && context.len > 0)
		text = bnc_clean(p, context);
	h = bnc_phrase_scan(p->ps_diag, bnc_slice(text, strlen(text)));
	if (r->command[0] == '\0') {
		r->command = bnc_command_of(h, bnc_slice(text, strlen(text)));
		/* the text part was scanned whole already */
		if (r->command[0] == '\0' && context.len > 0)
			r->command = bnc_command_of(bnc_text_hits(p,
			    p->scanned.len >= context.len &&
			    p->scanned.p == context.p ? p->scanned : context),
			    context);
	}
	fill_codes(p, r, text);
	if (reply_text(p, r, text, &v, &rp)) {
		/* the reply's own text, continuation prefixes gone */
		h = bnc_phrase_scan(p->ps_diag, bnc_slice(rp.text,
		    rp.text_len));
	} else {
		make_reply(&rp, r, text);
		cp_classify_parsed(p->cs, &rp, r->remote_mta[0] ?
		    r->remote_mta : NULL, &v);
	}
	reason = choose(p, r, &v, &rp, h);
	canon = cp_reason_canonical(reason);
	r->reason = canon != NULL ? canon : reason;
	r->reason = after_data(r);
	if (strcmp(r->reason, "hostunknown") == 0 && (r->status[0] == '4' ||
	    (r->status[0] == '\0' && r->replycode >= 400 &&
	    r->replycode < 500)))
		r->reason = "networkerror"; /* a DNS failure, maybe passing */
	r->cause = strcmp(r->reason, v.reason ? v.reason : "") == 0 ?
	    v.cause : reason_cause(r->reason);
	r->receiver = v.receiver != NULL ? v.receiver : "unknown";
	permanent = r->status[0] == '5' || (r->status[0] == '\0' &&
	    r->replycode >= 500) || (r->status[0] == '\0' &&
	    r->replycode == 0 && strcmp(r->action, "delayed") != 0);
	r->hard = is_hard(r->reason, permanent);
}
