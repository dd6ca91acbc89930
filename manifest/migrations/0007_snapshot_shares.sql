-- Snapshot sharing and export control (control_plane/sharing.py).

-- The owner of a snapshot lets another account use it: see it, clone it and, only with
-- allow_export = 1, read it out. Rows of a deleted snapshot are ignored (and its id is
-- never reused).
CREATE TABLE snapshot_shares (
  sid           INTEGER NOT NULL REFERENCES snapshots(sid),
  account_id    TEXT NOT NULL REFERENCES accounts(account_id),
  allow_export  INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (sid, account_id)
);
CREATE INDEX snapshot_shares_by_account ON snapshot_shares(account_id, sid);

-- 1 for a volume whose data may not leave the service through its account: a clone of
-- a snapshot shared without export, and any clone below one. Its snapshots inherit it.
-- Existing volumes are all their owners' own data: 0.
ALTER TABLE volumes ADD COLUMN no_export INTEGER NOT NULL DEFAULT 0;
