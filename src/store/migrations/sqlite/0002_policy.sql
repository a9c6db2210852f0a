-- 0002_policy: the sending policy's state that must survive a restart
-- (issue 5): daily cap usage per mailbox per local day, pacing state and
-- decisions per (source IP, provider), and the suppression list.
--
-- day is the mailbox's local date as days since 1970-01-01 (so a row is
-- one day in that mailbox's time zone, whatever the server's zone is).

CREATE TABLE cap_usage (
  mailbox INTEGER NOT NULL,
  day     INTEGER NOT NULL,
  used    INTEGER NOT NULL,
  PRIMARY KEY (mailbox, day)
) STRICT, WITHOUT ROWID;

-- recipients counted already: a retry of one is not counted twice
CREATE TABLE cap_counted (
  key     TEXT NOT NULL PRIMARY KEY,
  mailbox INTEGER NOT NULL,
  day     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX cap_counted_day ON cap_counted(day);

CREATE TABLE provider_state (
  source_ip    TEXT NOT NULL,
  provider     TEXT NOT NULL,
  rate         INTEGER NOT NULL,
  ramp_from    INTEGER NOT NULL,
  paused_until INTEGER NOT NULL,
  cuts         INTEGER NOT NULL,
  updated      INTEGER NOT NULL,
  PRIMARY KEY (provider, source_ip)
) STRICT, WITHOUT ROWID;

CREATE TABLE provider_events (
  id          INTEGER PRIMARY KEY,
  time        INTEGER NOT NULL,
  source_ip   TEXT NOT NULL,
  provider    TEXT NOT NULL,
  kind        TEXT NOT NULL,
  rate_before INTEGER NOT NULL,
  rate_after  INTEGER NOT NULL,
  until       INTEGER NOT NULL,
  evidence    TEXT NOT NULL
) STRICT;
CREATE INDEX provider_events_time ON provider_events(time);

-- tenant kept as a plain number, like messages: the list outlives it
CREATE TABLE suppressions (
  tenant  INTEGER NOT NULL,
  address TEXT NOT NULL COLLATE NOCASE,
  reason  TEXT NOT NULL,
  note    TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (tenant, address)
) STRICT, WITHOUT ROWID;
