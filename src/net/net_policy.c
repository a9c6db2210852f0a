/*
 * net_policy.c - the submission server's decisions that need no socket,
 * no store and no thread, so that unit tests reach them directly: the
 * MAIL FROM rule (an authenticated mailbox sends as itself, or as any
 * address of its domain when allowed; a trusted client must use a domain
 * the store knows; anyone else must authenticate: no open relay), the
 * choice of the DKIM signing domain, the list of header fields signed
 * (RFC 6376 5.4 and 5.4.2: From over-signed so that a From added later
 * breaks the signature), and the per-client connection accounting.
 */
#include <string.h>
#include <strings.h>

#include "coldpost/alloc.h"
#include "coldpost/err.h"
#include "net/net_int.h"

/* ---- MAIL FROM ---------------------------------------------------------- */

int
net_addr_domain(const char *addr, char *out, size_t outlen)
{
	const char *at = strrchr(addr, '@');
	size_t n;

	if (at == NULL || at[1] == '\0' || at == addr)
		return 0;
	n = strlen(at + 1);
	if (n + 1 > outlen)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = at[1 + i];

		out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	out[n] = '\0';
	return 1;
}

int
net_addr_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int
net_sender_check(const net_identity *id, const char *addr)
{
	char dom[CP_STORE_DOMAIN_MAX + 1], mdom[CP_STORE_DOMAIN_MAX + 1];

	if (id->authenticated) {
		if (addr[0] == '\0' || id->mailbox == NULL)
			return NET_SENDER_NOT_MAILBOX;
		if (net_addr_equal(addr, id->mailbox))
			return NET_SENDER_OK;
		if (id->send_as_domain &&
		    net_addr_domain(addr, dom, sizeof(dom)) &&
		    net_addr_domain(id->mailbox, mdom, sizeof(mdom)) &&
		    strcmp(dom, mdom) == 0)
			return NET_SENDER_OK;
		return NET_SENDER_NOT_MAILBOX;
	}
	if (!id->trusted)
		return NET_SENDER_NEED_AUTH;
	if (addr[0] == '\0')
		return NET_SENDER_NULL; /* no domain, so no tenant */
	if (!net_addr_domain(addr, dom, sizeof(dom)))
		return NET_SENDER_NULL;
	return NET_SENDER_LOOKUP;
}

/* ---- DKIM ---------------------------------------------------------------- */

const char *
net_sign_domain(const char *from_domain, int64_t from_tenant, int64_t tenant,
    const char *fallback)
{
	if (from_domain != NULL && from_domain[0] != '\0' && from_tenant != 0 &&
	    from_tenant == tenant)
		return from_domain;
	return fallback;
}

const char *const net_sign_names[] = {
	"from", "to", "cc", "subject", "date", "message-id", "reply-to",
	"mime-version", "content-type", "content-transfer-encoding",
	"in-reply-to", "references", "list-unsubscribe",
	"list-unsubscribe-post", NULL
};

int
net_sign_index(const char *name, size_t len)
{
	for (int i = 0; net_sign_names[i] != NULL; i++)
		if (strlen(net_sign_names[i]) == len &&
		    strncasecmp(net_sign_names[i], name, len) == 0)
			return i;
	return -1;
}

int
net_sign_headers(const unsigned *count, cp_buf *out)
{
	int rc = CP_OK, first = 1;

	for (int i = 0; net_sign_names[i] != NULL && rc == CP_OK; i++) {
		/* index 0 is From: listed once more than present */
		unsigned n = count[i] + (i == 0 ? 1 : 0);

		for (unsigned k = 0; k < n && rc == CP_OK; k++) {
			if (!first)
				rc = cp_buf_addc(out, ':');
			if (rc == CP_OK)
				rc = cp_buf_adds(out, net_sign_names[i]);
			first = 0;
		}
	}
	return rc;
}

/* ---- connection accounting ------------------------------------------------ */

struct net_limit_ent {
	net_limit_ent *next;
	uint64_t n;
	char ip[];
};

static size_t
limits_hash(const char *ip, size_t nbucket)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 1099511628211ull;
	return (size_t)(h % nbucket);
}

int
net_limits_init(net_limits *l, size_t nbucket)
{
	memset(l, 0, sizeof(*l));
	l->bucket = cp_calloc(nbucket, sizeof(*l->bucket));
	if (l->bucket == NULL)
		return CP_ENOMEM;
	l->nbucket = nbucket;
	return CP_OK;
}

void
net_limits_clear(net_limits *l)
{
	for (size_t i = 0; i < l->nbucket; i++)
		while (l->bucket[i] != NULL) {
			net_limit_ent *e = l->bucket[i];

			l->bucket[i] = e->next;
			cp_free(e);
		}
	cp_free(l->bucket);
	memset(l, 0, sizeof(*l));
}

static net_limit_ent **
limits_find(net_limits *l, const char *ip)
{
	net_limit_ent **pp = &l->bucket[limits_hash(ip, l->nbucket)];

	while (*pp != NULL && strcmp((*pp)->ip, ip) != 0)
		pp = &(*pp)->next;
	return pp;
}

uint64_t
net_limits_count(const net_limits *l, const char *ip)
{
	net_limit_ent **pp = limits_find((net_limits *)l, ip);

	return *pp ? (*pp)->n : 0;
}

int
net_limits_take(net_limits *l, const char *ip, uint64_t max_total,
    uint64_t max_per_ip)
{
	net_limit_ent **pp = limits_find(l, ip);
	size_t len;

	if (l->total >= max_total)
		return NET_LIMIT_TOTAL;
	if (*pp != NULL && (*pp)->n >= max_per_ip)
		return NET_LIMIT_PER_IP;
	if (max_per_ip == 0)
		return NET_LIMIT_PER_IP;
	if (*pp == NULL) {
		len = strlen(ip);
		if ((*pp = cp_malloc(sizeof(**pp) + len + 1)) == NULL)
			return NET_LIMIT_NOMEM;
		(*pp)->next = NULL;
		(*pp)->n = 0;
		memcpy((*pp)->ip, ip, len + 1);
	}
	(*pp)->n++;
	l->total++;
	return NET_LIMIT_OK;
}

void
net_limits_give(net_limits *l, const char *ip)
{
	net_limit_ent **pp = limits_find(l, ip), *e = *pp;

	if (e == NULL)
		return;
	if (l->total > 0)
		l->total--;
	if (--e->n == 0) { /* forget idle clients: memory stays bounded */
		*pp = e->next;
		cp_free(e);
	}
}
