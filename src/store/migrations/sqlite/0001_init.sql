-- 0001_init: the model (tenants, pools, domains, mailboxes) and the queue
-- (messages, bodies, recipients, attempts). SQLite, STRICT tables.
--
-- Recipient states: 0 queued, 1 deferred, 2 held, 3 delivered, 4 bounced,
-- 5 expired, 6 cancelled (cp_rcpt_state). "state <= 1" is "waiting for
-- delivery"; "state <= 2" is "not final".
--
-- A claim leases a recipient: owner = node, lease_until = next_attempt =
-- now + lease. The row stays queued/deferred, so when the lease runs out
-- the ordinary due query (recipients_due) finds it again.

CREATE TABLE tenants (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created     INTEGER NOT NULL,
  mailbox_cap INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE pools (
  id      INTEGER PRIMARY KEY,
  tenant  INTEGER NOT NULL REFERENCES tenants(id),
  addr    TEXT NOT NULL UNIQUE,
  ehlo    TEXT NOT NULL,
  created INTEGER NOT NULL
) STRICT;
CREATE INDEX pools_tenant ON pools(tenant);

CREATE TABLE domains (
  id       INTEGER PRIMARY KEY,
  tenant   INTEGER NOT NULL REFERENCES tenants(id),
  name     TEXT NOT NULL UNIQUE COLLATE NOCASE,
  selector TEXT NOT NULL,
  alg      TEXT NOT NULL,
  key_pem  TEXT,
  key_path TEXT,
  created  INTEGER NOT NULL,
  CHECK ((key_pem IS NULL) <> (key_path IS NULL))
) STRICT;
CREATE INDEX domains_tenant ON domains(tenant);

CREATE TABLE mailboxes (
  id             INTEGER PRIMARY KEY,
  tenant         INTEGER NOT NULL REFERENCES tenants(id),
  domain         INTEGER NOT NULL REFERENCES domains(id),
  address        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  pwhash         TEXT NOT NULL DEFAULT '',
  tz             TEXT NOT NULL,
  created        INTEGER NOT NULL,
  daily_cap      INTEGER NOT NULL DEFAULT -1,
  send_as_domain INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX mailboxes_tenant ON mailboxes(tenant);
CREATE INDEX mailboxes_domain ON mailboxes(domain);

-- tenant and mailbox are kept as plain numbers: history outlives them.
CREATE TABLE messages (
  id          INTEGER PRIMARY KEY,
  tenant      INTEGER NOT NULL,
  mailbox     INTEGER NOT NULL,
  mail_from   TEXT NOT NULL,
  return_path TEXT NOT NULL,
  message_id  TEXT NOT NULL,
  size        INTEGER NOT NULL,
  received    INTEGER NOT NULL,
  expires     INTEGER NOT NULL,
  nrcpts      INTEGER NOT NULL,
  nopen       INTEGER NOT NULL,        -- recipients not final
  finished    INTEGER,                 -- when nopen reached 0
  body_purged INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX messages_tenant ON messages(tenant);
CREATE INDEX messages_finished ON messages(finished)
  WHERE finished IS NOT NULL AND body_purged = 0;

-- rowid = message id, so a body streams with sqlite3_blob_open
CREATE TABLE bodies (
  message INTEGER PRIMARY KEY REFERENCES messages(id),
  data    BLOB NOT NULL
) STRICT;

CREATE TABLE recipients (
  id            INTEGER PRIMARY KEY,
  message       INTEGER NOT NULL REFERENCES messages(id),
  address       TEXT NOT NULL,
  state         INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_attempt  INTEGER NOT NULL,
  expires       INTEGER NOT NULL,
  updated       INTEGER NOT NULL,
  owner         TEXT,
  lease_until   INTEGER,
  last_reply    TEXT,
  last_code     INTEGER,
  last_enhanced TEXT,
  last_cause    TEXT,
  last_reason   TEXT,
  last_receiver TEXT
) STRICT;
CREATE INDEX recipients_message ON recipients(message, state);
CREATE INDEX recipients_due ON recipients(next_attempt) WHERE state <= 1;
CREATE INDEX recipients_expiry ON recipients(expires) WHERE state <= 1;
CREATE INDEX recipients_owner ON recipients(owner) WHERE owner IS NOT NULL;

CREATE TABLE attempts (
  id          INTEGER PRIMARY KEY,
  recipient   INTEGER NOT NULL REFERENCES recipients(id),
  time        INTEGER NOT NULL,
  mx          TEXT NOT NULL,
  source_ip   TEXT NOT NULL,
  reply       TEXT NOT NULL,
  code        INTEGER NOT NULL,
  enhanced    TEXT NOT NULL,
  cause       TEXT NOT NULL,
  reason      TEXT NOT NULL,
  receiver    TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome     INTEGER NOT NULL
) STRICT;
CREATE INDEX attempts_recipient ON attempts(recipient);
CREATE INDEX attempts_time ON attempts(time);
