-- Active operations and chunk releases, schema version 5 (twin of
-- ../0005_active_operations.sql; services/gc.py has the argument).

-- Every stream that reads or relies on chunk data has a row here while it runs; GC's
-- cutoff is at most the oldest `started_at`. Times are Unix seconds, like gc_lease.
CREATE TABLE active_operations (
  op_id       TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,             -- "download" | "upload"
  target      TEXT NOT NULL,             -- "volume vol-..." / "snapshot snap-...", for operators
  holder      TEXT NOT NULL,
  vid         BIGINT,
  version     BIGINT,
  started_at  DOUBLE PRECISION NOT NULL,
  expires_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX active_operations_by_holder ON active_operations(holder);

-- When a block row last stopped pointing at a chunk by being overwritten in place. The
-- trigger records every such update, whatever code path makes it; its clock is the
-- server's wall clock (clock_timestamp, not the transaction's start).
CREATE TABLE chunk_releases (
  token        BYTEA PRIMARY KEY,
  released_at  DOUBLE PRECISION NOT NULL
);
CREATE FUNCTION blocks_record_release() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO chunk_releases VALUES (OLD.token, extract(epoch FROM clock_timestamp())) ON CONFLICT (token) DO UPDATE SET released_at = excluded.released_at; RETURN NULL; END $$;
CREATE TRIGGER blocks_release_overwritten AFTER UPDATE OF token ON blocks FOR EACH ROW
  WHEN (OLD.token IS NOT NULL AND OLD.token IS DISTINCT FROM NEW.token)
  EXECUTE FUNCTION blocks_record_release();
