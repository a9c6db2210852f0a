-- 0003_webhooks: per-tenant webhook endpoints and the outbox of webhook
-- deliveries (issue 8). A delivery row is one event for one endpoint; it
-- is deleted only after the endpoint answered 2xx (at least once), or
-- kept with dead = 1 once the sender gave up. owner/lease_until is the
-- claim of a sender (like recipients): a crashed sender's rows come back
-- when the lease runs out, or at once when it restarts (release).

-- tenant kept as a plain number, like messages
CREATE TABLE webhooks (
  id      INTEGER PRIMARY KEY,
  tenant  INTEGER NOT NULL,
  url     TEXT NOT NULL,
  secret  TEXT NOT NULL,
  events  TEXT NOT NULL,   -- "delivered,bounced"; "" = every event
  created INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_tenant ON webhooks(tenant);

CREATE TABLE webhook_outbox (
  id           INTEGER PRIMARY KEY,
  webhook      INTEGER NOT NULL,
  event        TEXT NOT NULL,
  payload      TEXT NOT NULL,
  created      INTEGER NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  last_error   TEXT NOT NULL DEFAULT '',
  owner        TEXT,
  lease_until  INTEGER,
  dead         INTEGER NOT NULL DEFAULT 0
) STRICT;
-- only live rows wait for a send
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt)
  WHERE dead = 0;
CREATE INDEX webhook_outbox_webhook ON webhook_outbox(webhook);
