"""The shared manifest database: the only channel between control and data plane.

Data model (see migrations/0001_initial.sql):
- accounts own volumes, snapshots and a set of chunk tokens they may reference;
- a volume has an `open_version`; writes land on rows `(vid, chunk_index, open_version)`;
- a snapshot takes the volume's open version `v` and bumps the counter, so the snapshot
  reads, per chunk, the row with the greatest version <= v. Later writes land at higher
  versions and never touch the rows a snapshot sees (snapshots are O(1) and immutable);
- a clone reads its own rows, then falls through to its source snapshot's volume at
  the source's version (`LineageLevel`);
- a block row's token NULL means the chunk was written as zeros; a missing row is a hole.

Invariants kept here: every write transaction is serialized (`BEGIN IMMEDIATE`) and
durable on commit; deleted volumes and snapshots are soft-deleted so that snapshots
outlive their volume and rows stay until garbage collection compacts them.

This package imports neither grpc nor the planes.
"""

from manifest.models import (Account, ActiveOperation, BlockRow, ChunkRecord,
                             IdempotencyRecord, LineageLevel, Share, Snapshot, SnapshotMode,
                             SnapshotState, TokenUse, Volume)
from manifest.open import open_manifest, sqlite_path
from manifest.store import ManifestStore, ManifestTx

__all__ = ["Account", "ActiveOperation", "BlockRow", "ChunkRecord", "IdempotencyRecord",
           "LineageLevel", "ManifestStore", "ManifestTx", "Share", "Snapshot", "SnapshotMode",
           "SnapshotState",
           "TokenUse", "Volume", "open_manifest", "sqlite_path"]
