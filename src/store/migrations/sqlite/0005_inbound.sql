-- 0005_inbound: mail the relay's inbound listener accepted for the bounce
-- domain (DSNs, feedback reports, unsubscribe mails), kept raw before it
-- is read, with what reading it did; and the per-tenant unsubscribe
-- setting (List-Unsubscribe added on submission when 1).
--
-- kind is "" until the message is processed, then "bounce", "complaint",
-- "unsubscribe" or "none" (nothing attributable); result says what was
-- done ("rcpt=42 userunknown hard suppressed", one line per recipient).

CREATE TABLE inbound (
  id        INTEGER PRIMARY KEY,
  received  INTEGER NOT NULL,
  client    TEXT NOT NULL,
  helo      TEXT NOT NULL,
  mail_from TEXT NOT NULL,
  rcpt_to   TEXT NOT NULL,
  size      INTEGER NOT NULL,
  data      BLOB NOT NULL,
  kind      TEXT NOT NULL DEFAULT '',
  result    TEXT NOT NULL DEFAULT '',
  processed INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX inbound_pending ON inbound(id) WHERE processed = 0;

ALTER TABLE tenants ADD COLUMN unsubscribe INTEGER NOT NULL DEFAULT 0;
