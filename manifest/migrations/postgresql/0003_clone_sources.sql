-- Deleted clones whose snapshots survive still read through their source snapshot, so
-- DeleteSnapshot looks at every volume cloned from it, not only live ones.
CREATE INDEX volumes_by_any_source ON volumes(source_snapshot_id)
  WHERE source_snapshot_id IS NOT NULL;
