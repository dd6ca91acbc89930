-- Garbage collection and verification, schema version 2.

-- A lease serializes chunk maintenance (gc, verify) across processes: whoever holds the
-- row `name` until `expires_at` (Unix seconds) runs; others wait or skip. `holder` is
-- "host:pid:nonce", so a holder that died on this host can be recognised and replaced
-- before its lease expires.
CREATE TABLE gc_lease (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  expires_at  REAL NOT NULL
);
