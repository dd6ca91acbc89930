-- StartSnapshot's Timeout of the EBS direct facade (docs/ebs.md): a snapshot started
-- through EBS that is still pending when `deadline_us` passes (no block put to it and
-- no CompleteSnapshot for `timeout_us`) is cancelled. Each put pushes the deadline to
-- its time + timeout_us. Rows of completed or deleted snapshots are dropped when seen.
CREATE TABLE ebs_timeouts (
  snapshot_id  TEXT PRIMARY KEY,
  account_id   TEXT NOT NULL,
  timeout_us   INTEGER NOT NULL,
  deadline_us  INTEGER NOT NULL
);
CREATE INDEX ebs_timeouts_by_deadline ON ebs_timeouts(deadline_us);
