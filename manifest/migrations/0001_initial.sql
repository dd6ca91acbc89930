-- Blockstore manifest schema, version 1.
-- Times are integer microseconds since the Unix epoch (UTC).

CREATE TABLE accounts (
  account_id  TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  token_hash  BLOB NOT NULL UNIQUE,      -- SHA-256 of the bearer token; the token itself is never stored
  created_at  INTEGER NOT NULL
);

-- vid is an internal surrogate key so that block rows stay small.
CREATE TABLE volumes (
  vid                 INTEGER PRIMARY KEY,
  volume_id           TEXT NOT NULL UNIQUE,
  account_id          TEXT NOT NULL REFERENCES accounts(account_id),
  size_bytes          INTEGER NOT NULL,
  chunk_size          INTEGER NOT NULL,
  source_snapshot_id  TEXT,              -- clone source (read-through), NULL for a blank volume
  open_version        INTEGER NOT NULL,  -- writes land here; the next snapshot takes it
  labels              TEXT NOT NULL DEFAULT '{}',
  created_at          INTEGER NOT NULL,
  deleted_at          INTEGER            -- soft delete: snapshots outlive their volume
);
CREATE INDEX volumes_by_account ON volumes(account_id, volume_id) WHERE deleted_at IS NULL;
CREATE INDEX volumes_by_source ON volumes(source_snapshot_id) WHERE deleted_at IS NULL;

CREATE TABLE snapshots (
  sid                 INTEGER PRIMARY KEY,
  snapshot_id         TEXT NOT NULL UNIQUE,
  account_id          TEXT NOT NULL REFERENCES accounts(account_id),
  vid                 INTEGER NOT NULL REFERENCES volumes(vid),
  version             INTEGER NOT NULL,
  mode                TEXT NOT NULL CHECK (mode IN ('POINT_IN_TIME', 'UPLOAD')),
  state               TEXT NOT NULL CHECK (state IN ('PENDING', 'COMPLETED')),
  progress            REAL NOT NULL DEFAULT 0,
  size_bytes          INTEGER NOT NULL,
  chunk_size          INTEGER NOT NULL,
  parent_snapshot_id  TEXT,
  description         TEXT NOT NULL DEFAULT '',
  labels              TEXT NOT NULL DEFAULT '{}',
  created_at          INTEGER NOT NULL,
  completed_at        INTEGER,
  deleted_at          INTEGER,
  UNIQUE (vid, version)
);
CREATE INDEX snapshots_by_account ON snapshots(account_id, snapshot_id) WHERE deleted_at IS NULL;
CREATE INDEX snapshots_by_volume ON snapshots(vid, version) WHERE deleted_at IS NULL;

-- The multi-version manifest: a snapshot at version v reads, per chunk, the row
-- with the greatest version <= v. token NULL means the chunk was written as zeros.
CREATE TABLE blocks (
  vid          INTEGER NOT NULL,
  chunk_index  INTEGER NOT NULL,
  version      INTEGER NOT NULL,
  token        BLOB,
  PRIMARY KEY (vid, chunk_index, version)
) WITHOUT ROWID;
CREATE INDEX blocks_by_token ON blocks(token) WHERE token IS NOT NULL;

-- Every chunk the chunk store holds for a committed row (GC marks from blocks).
CREATE TABLE chunks (
  token          BLOB PRIMARY KEY,
  plain_length   INTEGER NOT NULL,
  stored_length  INTEGER NOT NULL,
  created_at     INTEGER NOT NULL
) WITHOUT ROWID;

-- The tokens an account may reference without sending data (no cross-account probing).
CREATE TABLE account_chunks (
  account_id  TEXT NOT NULL,
  token       BLOB NOT NULL,
  PRIMARY KEY (account_id, token)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
  account_id   TEXT NOT NULL,
  operation    TEXT NOT NULL,
  key          TEXT NOT NULL,
  fingerprint  BLOB NOT NULL,            -- hash of the request's parameters
  result       TEXT NOT NULL,            -- JSON of the first result
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (account_id, operation, key)
);
