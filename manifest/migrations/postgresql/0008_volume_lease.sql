-- One writer per volume (twin of ../0008_volume_lease.sql): the row of a volume names the
-- holder and when its lease ends (microseconds since the epoch). No row: the volume is free.
CREATE TABLE volume_leases (
  vid         BIGINT PRIMARY KEY REFERENCES volumes(vid),
  holder      TEXT NOT NULL,
  expires_at  BIGINT NOT NULL
);
