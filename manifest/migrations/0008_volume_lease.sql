-- One writer per volume (the NBD gateway, control_plane/leases.py): the row of a volume
-- names the holder (a caller-chosen identity, stable across restarts of one gateway)
-- and when its lease ends (microseconds since the epoch). No row: the volume is free.
CREATE TABLE volume_leases (
  vid         INTEGER PRIMARY KEY REFERENCES volumes(vid),
  holder      TEXT NOT NULL,
  expires_at  INTEGER NOT NULL
);
