-- Costs that follow the work (twin of ../0009_scale.sql).
CREATE INDEX blocks_by_version ON blocks(vid, version, chunk_index);
CREATE INDEX account_chunks_by_token ON account_chunks(token);
CREATE INDEX snapshots_pending_by_volume ON snapshots(vid, version)
  WHERE state = 'PENDING' AND deleted_at IS NULL;
CREATE INDEX snapshots_pending_by_account ON snapshots(account_id)
  WHERE state = 'PENDING' AND deleted_at IS NULL;
ALTER TABLE volumes ADD COLUMN source_vid BIGINT;
UPDATE volumes SET source_vid = (SELECT s.vid FROM snapshots s
  WHERE s.snapshot_id = volumes.source_snapshot_id) WHERE source_snapshot_id IS NOT NULL;
CREATE INDEX volumes_by_source_vid ON volumes(source_vid) WHERE source_vid IS NOT NULL;
