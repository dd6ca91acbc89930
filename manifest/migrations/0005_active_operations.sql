-- Active operations and chunk releases, schema version 5 (services/gc.py has the argument).

-- Every stream that reads or relies on chunk data (DownloadBlocks, UploadBlocks) has a
-- row here while it runs. GC never sweeps a chunk such an operation may still use: its
-- cutoff is at most the oldest `started_at`. `vid`/`version` name what a reader reads;
-- compaction keeps every row visible there. `holder` is "host:pid:nonce" of the
-- process, which renews `expires_at` while the operation runs. GC removes a row only
-- once it expired or its process is gone, and an operation that finds its row gone
-- stops with a retryable error. Times are Unix seconds (REAL), like gc_lease.
CREATE TABLE active_operations (
  op_id       TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,             -- "download" | "upload"
  target      TEXT NOT NULL,             -- "volume vol-..." / "snapshot snap-...", for operators
  holder      TEXT NOT NULL,
  vid         INTEGER,
  version     INTEGER,
  started_at  REAL NOT NULL,
  expires_at  REAL NOT NULL
);
CREATE INDEX active_operations_by_holder ON active_operations(holder);

-- When a block row last stopped pointing at a chunk by being overwritten in place (an
-- upload to the same chunk at the same version). A reader that resolved the old row may
-- still read the chunk, so GC keeps it while any operation older than the release runs.
-- (Compaction deletes only rows no reader, active operations included, can see, so it
-- needs no record.) The trigger records every such update, whatever code path makes it;
-- its clock is SQLite's (wall clock, millisecond resolution). An upsert, not INSERT OR
-- REPLACE: the outer upsert of blocks would override a conflict clause in the body.
CREATE TABLE chunk_releases (
  token        BLOB PRIMARY KEY,
  released_at  REAL NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER blocks_release_overwritten AFTER UPDATE OF token ON blocks
  WHEN OLD.token IS NOT NULL AND OLD.token IS NOT NEW.token
  BEGIN INSERT INTO chunk_releases VALUES (OLD.token, (julianday('now') - 2440587.5) * 86400.0)
    ON CONFLICT (token) DO UPDATE SET released_at = excluded.released_at; END;
