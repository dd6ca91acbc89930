-- StartSnapshot's Timeout of the EBS direct facade (twin of ../0014_ebs_timeouts.sql):
-- a pending EBS snapshot past `deadline_us` is cancelled; each put pushes the deadline.
CREATE TABLE ebs_timeouts (
  snapshot_id  TEXT PRIMARY KEY,
  account_id   TEXT NOT NULL,
  timeout_us   BIGINT NOT NULL,
  deadline_us  BIGINT NOT NULL
);
CREATE INDEX ebs_timeouts_by_deadline ON ebs_timeouts(deadline_us);
