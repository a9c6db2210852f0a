/*
 * Unit tests: src/net/net_policy.c - the submission server's decisions
 * without sockets: the MAIL FROM rule (no open relay, a mailbox sends as
 * itself or its domain, trusted clients need a known domain), the DKIM
 * signing domain, the signed header list, connection accounting.
 */
#include <string.h>

#include "coldpost/err.h"
#include "cptest.h"
#include "net/net_int.h"

static const struct {
	int authenticated, trusted;
	const char *mailbox;
	int send_as_domain;
	const char *addr;
	int want;
} senders[] = {
	/* nobody: authenticate first, whatever the sender (no open relay) */
	{ 0, 0, NULL, 0, "ann@acme.example", NET_SENDER_NEED_AUTH },
	{ 0, 0, NULL, 0, "", NET_SENDER_NEED_AUTH },
	/* a mailbox sends as itself; case of the domain does not matter */
	{ 1, 0, "ann@acme.example", 0, "ann@acme.example", NET_SENDER_OK },
	{ 1, 0, "ann@acme.example", 0, "Ann@ACME.example", NET_SENDER_OK },
	{ 1, 0, "ann@acme.example", 0, "bob@acme.example",
	    NET_SENDER_NOT_MAILBOX },
	{ 1, 0, "ann@acme.example", 0, "", NET_SENDER_NOT_MAILBOX },
	/* send_as_domain: any address of its own domain, nothing else */
	{ 1, 0, "ann@acme.example", 1, "bob@acme.example", NET_SENDER_OK },
	{ 1, 0, "ann@acme.example", 1, "bob@ACME.EXAMPLE", NET_SENDER_OK },
	{ 1, 0, "ann@acme.example", 1, "bob@other.example",
	    NET_SENDER_NOT_MAILBOX },
	{ 1, 0, "ann@acme.example", 1, "bob@sub.acme.example",
	    NET_SENDER_NOT_MAILBOX },
	{ 1, 0, "ann@acme.example", 1, "bob@acme.example.evil",
	    NET_SENDER_NOT_MAILBOX },
	/* authenticated and trusted: the mailbox rule still applies */
	{ 1, 1, "ann@acme.example", 0, "eve@other.example",
	    NET_SENDER_NOT_MAILBOX },
	/* trusted: the domain must be looked up; <> has no tenant */
	{ 0, 1, NULL, 0, "news@acme.example", NET_SENDER_LOOKUP },
	{ 0, 1, NULL, 0, "", NET_SENDER_NULL },
	{ 0, 1, NULL, 0, "postmaster", NET_SENDER_NULL },
};

CP_TEST(net_sender_check)
{
	for (size_t i = 0; i < CP_NELEM(senders); i++) {
		net_identity id = { senders[i].authenticated,
			senders[i].trusted, senders[i].mailbox,
			senders[i].send_as_domain };

		CP_CHECK(net_sender_check(&id, senders[i].addr) ==
		    senders[i].want, "case %zu (%s): got %d, want %d", i,
		    senders[i].addr, net_sender_check(&id, senders[i].addr),
		    senders[i].want);
	}
}

CP_TEST(net_addr_domain)
{
	char d[16];

	CP_CHECK(net_addr_domain("a@Acme.Example", d, sizeof(d)) == 1, "ok");
	CP_CHECK_STR(d, "acme.example");
	/* the last '@' counts: a quoted local part may hold one */
	CP_CHECK(net_addr_domain("\"a@b\"@c.example", d, sizeof(d)) == 1,
	    "quoted");
	CP_CHECK_STR(d, "c.example");
	CP_CHECK(net_addr_domain("nodomain", d, sizeof(d)) == 0, "no @");
	CP_CHECK(net_addr_domain("a@", d, sizeof(d)) == 0, "empty domain");
	CP_CHECK(net_addr_domain("@x.example", d, sizeof(d)) == 0, "no local");
	CP_CHECK(net_addr_domain("a@a-very-long-domain.example", d,
	    sizeof(d)) == 0, "does not fit");
}

CP_TEST(net_sign_domain)
{
	/* the From domain when the tenant owns it */
	CP_CHECK_STR(net_sign_domain("acme.example", 7, 7, "mbox.example"),
	    "acme.example");
	/* another tenant's domain in From: never signed with its key */
	CP_CHECK_STR(net_sign_domain("other.example", 8, 7, "mbox.example"),
	    "mbox.example");
	/* unknown From domain, or none */
	CP_CHECK_STR(net_sign_domain("gmail.com", 0, 7, "mbox.example"),
	    "mbox.example");
	CP_CHECK_STR(net_sign_domain("", 7, 7, "mbox.example"),
	    "mbox.example");
	CP_CHECK_STR(net_sign_domain(NULL, 0, 7, "mbox.example"),
	    "mbox.example");
}

CP_TEST(net_sign_headers)
{
	unsigned count[32] = { 0 };
	cp_buf b;

	cp_buf_init(&b, 4096);
	/* nothing present: From still listed once, to break an added one */
	CP_CHECK(net_sign_headers(count, &b) == CP_OK, "empty");
	CP_CHECK_STR(b.data, "from");
	cp_buf_reset(&b);
	count[net_sign_index("From", 4)] = 1;
	count[net_sign_index("TO", 2)] = 2;
	count[net_sign_index("subject", 7)] = 1;
	count[net_sign_index("List-Unsubscribe-Post", 21)] = 1;
	CP_CHECK(net_sign_headers(count, &b) == CP_OK, "some");
	CP_CHECK_STR(b.data, "from:from:to:to:subject:list-unsubscribe-post");
	CP_CHECK(net_sign_index("X-Mailer", 8) == -1, "unsigned field");
	CP_CHECK(net_sign_index("Message-Id", 10) >= 0, "case-insensitive");
	CP_CHECK(net_sign_index("Fro", 3) == -1, "prefix is not a match");
	cp_buf_free(&b);
}

CP_TEST(net_limits)
{
	net_limits l;

	CP_CHECK(net_limits_init(&l, 7) == CP_OK, "init");
	CP_CHECK_INT(net_limits_take(&l, "192.0.2.1", 3, 2), NET_LIMIT_OK);
	CP_CHECK_INT(net_limits_take(&l, "192.0.2.1", 3, 2), NET_LIMIT_OK);
	/* a third from the same address passes the per-IP limit */
	CP_CHECK_INT(net_limits_take(&l, "192.0.2.1", 3, 2),
	    NET_LIMIT_PER_IP);
	CP_CHECK_INT(net_limits_count(&l, "192.0.2.1"), 2);
	CP_CHECK_INT(net_limits_take(&l, "2001:db8::1", 3, 2), NET_LIMIT_OK);
	/* the total is reached: anyone is refused */
	CP_CHECK_INT(net_limits_take(&l, "198.51.100.9", 3, 2),
	    NET_LIMIT_TOTAL);
	CP_CHECK_INT(net_limits_count(&l, "198.51.100.9"), 0);
	net_limits_give(&l, "192.0.2.1");
	CP_CHECK_INT(net_limits_count(&l, "192.0.2.1"), 1);
	CP_CHECK_INT(l.total, 2);
	CP_CHECK_INT(net_limits_take(&l, "198.51.100.9", 3, 2), NET_LIMIT_OK);
	/* giving back what was never taken changes nothing */
	net_limits_give(&l, "203.0.113.5");
	CP_CHECK_INT(l.total, 3);
	net_limits_give(&l, "192.0.2.1");
	net_limits_give(&l, "2001:db8::1");
	net_limits_give(&l, "198.51.100.9");
	CP_CHECK_INT(l.total, 0);
	for (size_t i = 0; i < l.nbucket; i++) /* idle clients forgotten */
		CP_CHECK(l.bucket[i] == NULL, "bucket %zu not empty", i);
	net_limits_clear(&l);
}
