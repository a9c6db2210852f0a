-- 0004_http: the HTTP API's keys (issue 8). Only the SHA-256 of a key is
-- kept; the key itself is shown once, when it is made. tenant 0 is an
-- admin key (tenants are plain numbers, like messages', so removing a
-- tenant leaves its keys unable to match anything).

CREATE TABLE api_keys (
  id      INTEGER PRIMARY KEY,
  tenant  INTEGER NOT NULL,
  hash    TEXT NOT NULL UNIQUE,
  prefix  TEXT NOT NULL,
  note    TEXT NOT NULL DEFAULT '',
  rate    INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys(tenant);

-- messages accepted over a time range (statistics)
CREATE INDEX messages_received ON messages(received);
