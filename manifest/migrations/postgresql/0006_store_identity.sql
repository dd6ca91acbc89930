-- Store identity, schema version 6 (twin of ../0006_store_identity.sql).

-- The random id that binds this manifest to its chunk store: the chunk store keeps the
-- same id (ChunkStore.get_identity), and every server, gc and verify start compares the
-- two and refuses to run on a mismatch (services/identity.py). One row at most.
CREATE TABLE store_identity (
  singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
  store_id    TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
