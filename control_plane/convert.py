"""Domain records <-> protobuf messages for the control plane.

Owns the mapping of `Volume`, `Snapshot` and their enums to the generated messages.
Rule: an edge module (tests/test_layering.py lets it import the stubs); domain code
never sees a protobuf object, and an unspecified snapshot mode means POINT_IN_TIME.
"""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from blockstore.v1 import common_pb2 as pb
from manifest import Snapshot, SnapshotMode, SnapshotState, Volume

MODE_TO_PB = {SnapshotMode.POINT_IN_TIME: pb.SNAPSHOT_MODE_POINT_IN_TIME,
              SnapshotMode.UPLOAD: pb.SNAPSHOT_MODE_UPLOAD}
STATE_TO_PB = {SnapshotState.PENDING: pb.SNAPSHOT_STATE_PENDING,
               SnapshotState.COMPLETED: pb.SNAPSHOT_STATE_COMPLETED}
MODE_FROM_PB = {pb.SNAPSHOT_MODE_UNSPECIFIED: SnapshotMode.POINT_IN_TIME,
                pb.SNAPSHOT_MODE_POINT_IN_TIME: SnapshotMode.POINT_IN_TIME,
                pb.SNAPSHOT_MODE_UPLOAD: SnapshotMode.UPLOAD}


def timestamp(us: int | None) -> Timestamp | None:
    if us is None:
        return None
    ts = Timestamp()
    ts.FromMicroseconds(us)
    return ts


def volume_pb(v: Volume) -> pb.Volume:
    return pb.Volume(volume_id=v.volume_id, size_bytes=v.size_bytes, chunk_size=v.chunk_size,
                     source_snapshot_id=v.source_snapshot_id, open_version=v.open_version,
                     created_at=timestamp(v.created_at), labels=v.labels)


def snapshot_pb(s: Snapshot) -> pb.Snapshot:
    return pb.Snapshot(snapshot_id=s.snapshot_id, volume_id=s.volume_id, version=s.version,
                       mode=MODE_TO_PB[s.mode], state=STATE_TO_PB[s.state],
                       progress=s.progress, size_bytes=s.size_bytes, chunk_size=s.chunk_size,
                       parent_snapshot_id=s.parent_snapshot_id, description=s.description,
                       created_at=timestamp(s.created_at),
                       completed_at=timestamp(s.completed_at), labels=s.labels,
                       owner_account_id=s.account_id)
