-- Costs that follow the work, not the size of the store (schema version 9).

-- Rows written between two versions of one volume: ListChangedBlocks between two
-- snapshots of a volume reads only these, not every row of the volume.
CREATE INDEX blocks_by_version ON blocks(vid, version, chunk_index);

-- GC forgets a swept chunk's account rows by token (the primary key leads with account).
CREATE INDEX account_chunks_by_token ON account_chunks(token);

-- The pending snapshots of a volume (completion order) and of an account (pending cap):
-- few at any time, however many completed snapshots there are.
CREATE INDEX snapshots_pending_by_volume ON snapshots(vid, version)
  WHERE state = 'PENDING' AND deleted_at IS NULL;
CREATE INDEX snapshots_pending_by_account ON snapshots(account_id)
  WHERE state = 'PENDING' AND deleted_at IS NULL;

-- The volume a clone's source snapshot belongs to, so "the clones of volume V" (snapshot
-- completion walks them) is an index step, not a walk over V's snapshots.
ALTER TABLE volumes ADD COLUMN source_vid INTEGER;
UPDATE volumes SET source_vid = (SELECT s.vid FROM snapshots s
  WHERE s.snapshot_id = volumes.source_snapshot_id) WHERE source_snapshot_id IS NOT NULL;
CREATE INDEX volumes_by_source_vid ON volumes(source_vid) WHERE source_vid IS NOT NULL;
