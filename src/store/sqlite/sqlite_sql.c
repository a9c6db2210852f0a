/*
 * sqlite_sql.c - every SQL statement of the SQLite backend, in one table
 * indexed by sq_stmt_id (sqlite_int.h); sqlite_store.c prepares each once,
 * on first use, and keeps it.
 *
 * Recipient states are numbers (cp_rcpt_state): "state <= 1" is queued or
 * deferred (waiting for delivery: the partial indexes recipients_due and
 * recipients_expiry hold only those rows), "state <= 2" adds held (not
 * final). A claim sets owner, lease_until and next_attempt = lease_until,
 * so a lease that runs out makes the row due again by itself.
 */
#include "store/sqlite/sqlite_int.h"

#define RCPT_COLS                                                            \
	"r.id, r.message, r.address, r.state, r.attempts, r.next_attempt, "  \
	"r.expires, r.updated, r.owner, r.lease_until, r.last_reply, "       \
	"r.last_code, r.last_enhanced, r.last_cause, r.last_reason, "        \
	"r.last_receiver"
#define DUE_COLS                                                             \
	RCPT_COLS ", m.tenant, m.mailbox, m.mail_from, m.return_path, "      \
	"m.message_id, m.size, m.received"
#define ATTEMPT_COLS                                                         \
	"a.id, a.recipient, r.message, a.time, a.mx, a.source_ip, a.reply, " \
	"a.code, a.enhanced, a.cause, a.reason, a.receiver, a.duration_ms, " \
	"a.outcome"
#define TENANT_COLS "SELECT id, name, created, mailbox_cap FROM tenants "
#define POOL_COLS "SELECT id, tenant, addr, ehlo, created FROM pools "
#define DOMAIN_COLS                                                          \
	"SELECT id, tenant, name, selector, alg, key_pem, key_path, created " \
	"FROM domains "
#define MAILBOX_COLS                                                         \
	"SELECT id, tenant, domain, address, pwhash, tz, created, "          \
	"daily_cap, send_as_domain FROM mailboxes "
#define WH_COLS                                                              \
	"SELECT id, tenant, url, secret, events, created FROM webhooks "
#define WH_OUTBOX_FROM                                                       \
	"SELECT o.id, o.webhook, w.tenant, w.url, w.secret, o.event, "        \
	"o.payload, o.created, o.attempts, o.next_attempt, o.last_error, "   \
	"o.dead FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook "
#define OF_TENANT "message IN (SELECT id FROM messages WHERE tenant = ?1)"
#define RELEASE_SET                                                          \
	"UPDATE recipients SET state = CASE WHEN attempts = 0 THEN 0 "       \
	"ELSE 1 END, next_attempt = CASE WHEN owner IS NOT NULL AND "        \
	"lease_until > ?2 THEN lease_until ELSE ?2 END, updated = ?2 WHERE "
#define RETRY_SET "UPDATE recipients SET next_attempt = ?2 WHERE "
#define RETRY_COND                                                           \
	" AND state <= 1 AND next_attempt > ?2 AND NOT (owner IS NOT NULL "  \
	"AND lease_until > ?2)"
#define ATTEMPTS_FROM                                                        \
	"SELECT " ATTEMPT_COLS " FROM attempts a JOIN recipients r ON "      \
	"r.id = a.recipient WHERE "
#define ATTEMPTS_ORDER " ORDER BY a.time DESC, a.id DESC LIMIT ?2"
#define OPEN_COUNT                                                           \
	"(SELECT count(*) FROM recipients WHERE message = ?1 AND state <= 2)"

const char *const sq_sql[SQ_NSTMTS] = {
	[SQ_BEGIN] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_SAVEPOINT] = "SAVEPOINT op",
	[SQ_RELEASE] = "RELEASE op",
	[SQ_ROLLBACK_TO] = "ROLLBACK TO op",

	[SQ_TENANT_ADD] = "INSERT INTO tenants(name, created, mailbox_cap) "
	    "VALUES (?1, ?2, ?3)",
	[SQ_TENANT_LIST] = TENANT_COLS "ORDER BY name",
	[SQ_TENANT_GET] = TENANT_COLS "WHERE name = ?1",
	[SQ_TENANT_GET_ID] = TENANT_COLS "WHERE id = ?1",
	[SQ_TENANT_NMAILBOXES] = "SELECT count(*) FROM mailboxes "
	    "WHERE tenant = ?1",
	[SQ_TENANT_CANCEL_RCPTS] = "UPDATE recipients SET state = 6, "
	    "updated = ?2, owner = NULL, lease_until = NULL "
	    "WHERE state <= 2 AND " OF_TENANT,
	[SQ_TENANT_CLOSE_MSGS] = "UPDATE messages SET nopen = 0, "
	    "finished = ?2 WHERE tenant = ?1 AND nopen > 0",
	[SQ_TENANT_DEL_MAILBOXES] = "DELETE FROM mailboxes WHERE tenant = ?1",
	[SQ_TENANT_DEL_DOMAINS] = "DELETE FROM domains WHERE tenant = ?1",
	[SQ_TENANT_DEL_POOLS] = "DELETE FROM pools WHERE tenant = ?1",
	[SQ_TENANT_DEL] = "DELETE FROM tenants WHERE id = ?1",

	[SQ_POOL_ADD] = "INSERT INTO pools(tenant, addr, ehlo, created) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[SQ_POOL_LIST] = POOL_COLS "WHERE ?1 = 0 OR tenant = ?1 "
	    "ORDER BY tenant, addr",
	[SQ_POOL_GET] = POOL_COLS "WHERE addr = ?1",
	[SQ_POOL_DEL] = "DELETE FROM pools WHERE addr = ?1",

	[SQ_DOMAIN_ADD] = "INSERT INTO domains(tenant, name, selector, alg, "
	    "key_pem, key_path, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SQ_DOMAIN_LIST] = DOMAIN_COLS "WHERE ?1 = 0 OR tenant = ?1 "
	    "ORDER BY name",
	[SQ_DOMAIN_GET] = DOMAIN_COLS "WHERE name = ?1",
	[SQ_DOMAIN_NMAILBOXES] = "SELECT count(*) FROM mailboxes "
	    "WHERE domain = ?1",
	[SQ_DOMAIN_DEL_MAILBOXES] = "DELETE FROM mailboxes WHERE domain = ?1",
	[SQ_DOMAIN_DEL] = "DELETE FROM domains WHERE id = ?1",
	[SQ_DOMAIN_SET_KEY] = "UPDATE domains SET selector = ?2, alg = ?3, "
	    "key_pem = ?4, key_path = ?5 WHERE name = ?1",

	[SQ_MAILBOX_ADD] = "INSERT INTO mailboxes(tenant, domain, address, "
	    "pwhash, tz, created, daily_cap, send_as_domain) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[SQ_MAILBOX_LIST] = MAILBOX_COLS "WHERE ?1 = 0 OR tenant = ?1 "
	    "ORDER BY address",
	[SQ_MAILBOX_GET] = MAILBOX_COLS "WHERE address = ?1",
	[SQ_MAILBOX_DEL] = "DELETE FROM mailboxes WHERE address = ?1",
	[SQ_MAILBOX_SET_PWHASH] = "UPDATE mailboxes SET pwhash = ?2 "
	    "WHERE address = ?1",

	[SQ_MSG_INSERT] = "INSERT INTO messages(tenant, mailbox, mail_from, "
	    "return_path, message_id, size, received, expires, nrcpts, nopen) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
	[SQ_BODY_INSERT] = "INSERT INTO bodies(message, data) VALUES (?1, ?2)",
	[SQ_RCPT_INSERT] = "INSERT INTO recipients(message, address, state, "
	    "next_attempt, expires, updated, owner, lease_until) "
	    "VALUES (?1, ?2, ?3, coalesce(?7, ?4), ?5, ?4, ?6, ?7)",

	[SQ_CLAIM_SELECT] = "SELECT " DUE_COLS " FROM recipients r "
	    "JOIN messages m ON m.id = r.message "
	    "WHERE r.state <= 1 AND r.next_attempt <= ?1 "
	    "ORDER BY r.next_attempt, r.id LIMIT ?2",
	[SQ_CLAIM_UPDATE] = "UPDATE recipients SET owner = ?2, "
	    "lease_until = ?3, next_attempt = ?3 WHERE id = ?1",
	[SQ_RELEASE_NODE] = "UPDATE recipients SET owner = NULL, "
	    "lease_until = NULL, next_attempt = CASE WHEN state <= 1 AND "
	    "next_attempt > ?2 THEN ?2 ELSE next_attempt END WHERE owner = ?1",

	[SQ_RCPT_STATE] = "SELECT state, message FROM recipients WHERE id = ?1",
	[SQ_ATTEMPT_INSERT] = "INSERT INTO attempts(recipient, time, mx, "
	    "source_ip, reply, code, enhanced, cause, reason, receiver, "
	    "duration_ms, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	    "?9, ?10, ?11, ?12)",
	/* ?12: whether the outcome applies (see sq_record_attempts) */
	[SQ_RCPT_RECORD] = "UPDATE recipients SET "
	    "state = CASE WHEN ?12 THEN ?2 ELSE state END, "
	    "attempts = attempts + 1, "
	    "next_attempt = CASE WHEN ?12 AND ?2 = 1 THEN ?3 "
	    "ELSE next_attempt END, "
	    "updated = CASE WHEN ?12 THEN ?4 ELSE updated END, "
	    "lease_until = CASE WHEN owner = ?5 THEN NULL ELSE lease_until END, "
	    "owner = CASE WHEN owner = ?5 THEN NULL ELSE owner END, "
	    "last_reply = ?6, last_code = ?7, last_enhanced = ?8, "
	    "last_cause = ?9, last_reason = ?10, last_receiver = ?11 "
	    "WHERE id = ?1",
	[SQ_MSG_RECOUNT] = "UPDATE messages SET nopen = " OPEN_COUNT ", "
	    "finished = CASE WHEN " OPEN_COUNT " = 0 THEN "
	    "coalesce(finished, ?2) ELSE NULL END WHERE id = ?1",
	[SQ_MSG_EXISTS] = "SELECT 1 FROM messages WHERE id = ?1",

	[SQ_HOLD_MSG] = "UPDATE recipients SET state = 2, updated = ?2 "
	    "WHERE message = ?1 AND state <= 1",
	[SQ_HOLD_RCPT] = "UPDATE recipients SET state = 2, updated = ?2 "
	    "WHERE id = ?1 AND state <= 1",
	[SQ_RELEASE_MSG] = RELEASE_SET "message = ?1 AND state = 2",
	[SQ_RELEASE_RCPT] = RELEASE_SET "id = ?1 AND state = 2",
	[SQ_CANCEL_MSG] = "UPDATE recipients SET state = 6, updated = ?2 "
	    "WHERE message = ?1 AND state <= 2",
	[SQ_CANCEL_RCPT] = "UPDATE recipients SET state = 6, updated = ?2 "
	    "WHERE id = ?1 AND state <= 2",
	[SQ_RETRY_MSG] = RETRY_SET "message = ?1" RETRY_COND,
	[SQ_RETRY_RCPT] = RETRY_SET "id = ?1" RETRY_COND,

	[SQ_MSG_GET] = "SELECT " SQ_MSG_COLS " FROM messages WHERE id = ?1",
	[SQ_QUEUE_BY_MSG] = "SELECT " RCPT_COLS " FROM recipients r "
	    "WHERE r.message = ?1 AND r.id > ?2 AND (?3 < 0 OR r.state = ?3) "
	    "AND (?5 = 0 OR EXISTS (SELECT 1 FROM messages m "
	    "WHERE m.id = r.message AND m.tenant = ?5)) "
	    "ORDER BY r.id LIMIT ?4",
	[SQ_QUEUE_ALL] = "SELECT " RCPT_COLS " FROM recipients r "
	    "WHERE r.id > ?2 AND (?3 < 0 OR r.state = ?3) "
	    "AND (?5 = 0 OR r.message IN (SELECT id FROM messages "
	    "WHERE tenant = ?5)) ORDER BY r.id LIMIT ?4",

	[SQ_COUNT_STATES] = "SELECT state, count(*) FROM recipients "
	    "WHERE ?1 = 0 OR " OF_TENANT " GROUP BY state",
	[SQ_COUNT_DUE] = "SELECT count(*) FROM recipients WHERE state <= 1 "
	    "AND next_attempt <= ?2 AND (?1 = 0 OR " OF_TENANT ")",
	[SQ_COUNT_INFLIGHT] = "SELECT count(*) FROM recipients "
	    "WHERE owner IS NOT NULL AND state <= 1 AND lease_until > ?2 "
	    "AND (?1 = 0 OR " OF_TENANT ")",

	[SQ_ATTEMPTS_RCPT] = ATTEMPTS_FROM "a.recipient = ?1" ATTEMPTS_ORDER,
	[SQ_ATTEMPTS_MSG] = ATTEMPTS_FROM "r.message = ?1" ATTEMPTS_ORDER,
	[SQ_ATTEMPTS_SINCE] = ATTEMPTS_FROM "a.time >= ?1" ATTEMPTS_ORDER,
	[SQ_ATTEMPTS_COUNT] = "SELECT cause, outcome, count(*) FROM attempts "
	    "WHERE time >= ?1 GROUP BY cause, outcome ORDER BY 3 DESC, 1, 2",

	[SQ_PURGE_SELECT] = "SELECT id FROM messages WHERE finished IS NOT "
	    "NULL AND body_purged = 0 AND finished <= ?1 ORDER BY finished "
	    "LIMIT ?2",
	[SQ_PURGE_BODY] = "DELETE FROM bodies WHERE message = ?1",
	[SQ_PURGE_MARK] = "UPDATE messages SET body_purged = 1 WHERE id = ?1",

	[SQ_EXPIRE_SELECT] = "SELECT " DUE_COLS " FROM recipients r "
	    "JOIN messages m ON m.id = r.message "
	    "WHERE r.state <= 1 AND r.expires <= ?1 AND NOT "
	    "(r.owner IS NOT NULL AND r.lease_until > ?1) "
	    "ORDER BY r.expires, r.id LIMIT ?2",
	[SQ_EXPIRE_UPDATE] = "UPDATE recipients SET state = 5, updated = ?2, "
	    "owner = NULL, lease_until = NULL WHERE id = ?1 AND state <= 1",
	/* sending policy (0002_policy.sql) */
	[SQ_CAP_COUNTED] = "SELECT 1 FROM cap_counted WHERE key = ?1",
	[SQ_CAP_USED] = "SELECT used FROM cap_usage WHERE mailbox = ?1 AND "
	    "day = ?2",
	[SQ_CAP_MARK] = "INSERT INTO cap_counted(key, mailbox, day) VALUES "
	    "(?1, ?2, ?3)",
	[SQ_CAP_ADD] = "INSERT INTO cap_usage(mailbox, day, used) VALUES "
	    "(?1, ?2, 1) ON CONFLICT(mailbox, day) DO UPDATE SET used = "
	    "used + 1",
	[SQ_CAP_PURGE_KEYS] = "DELETE FROM cap_counted WHERE day < ?1",
	[SQ_CAP_PURGE_DAYS] = "DELETE FROM cap_usage WHERE day < ?1",
	[SQ_PSTATE_PUT] = "INSERT OR REPLACE INTO provider_state(source_ip, "
	    "provider, rate, ramp_from, paused_until, cuts, updated) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SQ_PSTATE_LIST] = "SELECT source_ip, provider, rate, ramp_from, "
	    "paused_until, cuts, updated FROM provider_state ORDER BY "
	    "provider, source_ip",
	[SQ_PEVENT_ADD] = "INSERT INTO provider_events(time, source_ip, "
	    "provider, kind, rate_before, rate_after, until, evidence) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[SQ_PEVENT_LIST] = "SELECT id, time, source_ip, provider, kind, "
	    "rate_before, rate_after, until, evidence FROM provider_events "
	    "WHERE time >= ?1 ORDER BY time DESC, id DESC LIMIT ?2",
	[SQ_SUPP_ADD] = "INSERT INTO suppressions(tenant, address, reason, "
	    "note, created) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(tenant, "
	    "address) DO NOTHING",
	[SQ_SUPP_DEL] = "DELETE FROM suppressions WHERE tenant = ?1 AND "
	    "address = ?2",
	[SQ_SUPP_GET] = "SELECT tenant, address, reason, note, created FROM "
	    "suppressions WHERE tenant = ?1 AND address = ?2",
	[SQ_SUPP_LIST] = "SELECT tenant, address, reason, note, created FROM "
	    "suppressions WHERE ?1 = 0 OR tenant = ?1 ORDER BY tenant, address",
	/* webhooks (0003_webhooks.sql) */
	[SQ_WH_ADD] = "INSERT INTO webhooks(tenant, url, secret, events, "
	    "created) VALUES (?1, ?2, ?3, ?4, ?5)",
	[SQ_WH_TENANT] = "SELECT 1 FROM tenants WHERE id = ?1",
	[SQ_WH_LIST] = WH_COLS "WHERE ?1 = 0 OR tenant = ?1 ORDER BY id",
	[SQ_WH_GET] = WH_COLS "WHERE id = ?1",
	[SQ_WH_DEL] = "DELETE FROM webhooks WHERE id = ?1 AND (?2 = 0 OR "
	    "tenant = ?2)",
	[SQ_WH_DEL_OUTBOX] = "DELETE FROM webhook_outbox WHERE webhook = ?1",
	[SQ_WH_ENQUEUE] = "INSERT INTO webhook_outbox(webhook, event, payload, "
	    "created, next_attempt) SELECT id, ?2, ?3, ?4, ?4 FROM webhooks "
	    "WHERE (?1 = 0 OR tenant = ?1) AND (events = '' OR "
	    "instr(',' || events || ',', ',' || ?2 || ',') > 0) ORDER BY id",
	[SQ_WH_CLAIM_SELECT] = WH_OUTBOX_FROM "WHERE o.dead = 0 AND "
	    "o.next_attempt <= ?1 ORDER BY o.next_attempt, o.id LIMIT ?2",
	[SQ_WH_CLAIM_UPDATE] = "UPDATE webhook_outbox SET owner = ?2, "
	    "lease_until = ?3, next_attempt = ?3 WHERE id = ?1",
	[SQ_WH_RELEASE] = "UPDATE webhook_outbox SET owner = NULL, "
	    "lease_until = NULL, next_attempt = ?2 WHERE owner = ?1 AND "
	    "dead = 0",
	[SQ_WH_FINISH] = "DELETE FROM webhook_outbox WHERE id = ?1",
	[SQ_WH_RETRY] = "UPDATE webhook_outbox SET attempts = attempts + 1, "
	    "next_attempt = ?2, last_error = ?3, dead = ?4, owner = NULL, "
	    "lease_until = NULL WHERE id = ?1",
	[SQ_WH_OUTBOX_LIST] = WH_OUTBOX_FROM "WHERE (?1 = 0 OR o.webhook = ?1) "
	    "AND (?2 < 0 OR o.dead = ?2) ORDER BY o.id LIMIT ?3",
	[SQ_WH_OUTBOX_COUNT] = "SELECT dead, count(*) FROM webhook_outbox "
	    "WHERE ?1 = 0 OR webhook = ?1 GROUP BY dead",
	[SQ_WH_DEL_TENANT_OUTBOX] = "DELETE FROM webhook_outbox WHERE webhook IN "
	    "(SELECT id FROM webhooks WHERE tenant = ?1)",
	[SQ_WH_DEL_TENANT] = "DELETE FROM webhooks WHERE tenant = ?1",
};
