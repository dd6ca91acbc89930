-- Garbage collection and verification, schema version 2 (twin of ../0002_gc_lease.sql).

-- A lease serializes chunk maintenance (gc, verify) across processes: whoever holds the
-- row `name` until `expires_at` (Unix seconds) runs; others wait or skip.
CREATE TABLE gc_lease (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  expires_at  DOUBLE PRECISION NOT NULL
);
