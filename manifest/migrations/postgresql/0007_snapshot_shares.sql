-- Snapshot sharing and export control (twin of ../0007_snapshot_shares.sql).
CREATE TABLE snapshot_shares (
  sid           BIGINT NOT NULL REFERENCES snapshots(sid),
  account_id    TEXT NOT NULL REFERENCES accounts(account_id),
  allow_export  BOOLEAN NOT NULL,
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (sid, account_id)
);
CREATE INDEX snapshot_shares_by_account ON snapshot_shares(account_id, sid);
ALTER TABLE volumes ADD COLUMN no_export BOOLEAN NOT NULL DEFAULT FALSE;
