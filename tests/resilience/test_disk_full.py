"""A full disk: writes are refused with a reason, reads keep working, and deleting plus
garbage collection frees the way out, with every acknowledged snapshot intact.

The server's data directory is a 48 MiB filesystem of its own (tests/resilience/
smallfs.py). Before the fix every write on a full disk failed as UNKNOWN naming a
server path, temp files stayed behind, and DeleteVolume and `gc` failed too (SQLite
could not write its journal), so nothing in the product could free space.
"""

from __future__ import annotations

import json
import os

import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from tests.hostile.hostile import failure
from tests.limits.conftest import CHUNK, Client, block, target
from tests.hostile.world import read_all
from tests.resilience.smallfs import small_filesystem
from tests.serverproc import blockstore_cmd, serve

FS_MIB = 48
SERVER_ARGS = ("--min-free", "8M")
BLOCKS_PER_STREAM = 32                           # 2 MiB of incompressible data
VOLUME_SIZE = BLOCKS_PER_STREAM * CHUNK


@pytest.fixture
def data_dir(tmp_path):
    with small_filesystem(tmp_path / "fs", FS_MIB) as mounted:
        if isinstance(mounted, str):
            pytest.skip(mounted)
        yield mounted


def fill(client: Client) -> tuple[dict[str, tuple[str, bytes]], Exception]:
    """Volumes, each written whole and snapshotted, until a write is refused.
    Returns {snapshot id: (volume id, bytes)} of what was acknowledged, and the refusal."""
    acked: dict[str, tuple[str, bytes]] = {}
    for _ in range(4 * FS_MIB):
        try:
            vid = client.volume(VOLUME_SIZE)
            data = os.urandom(VOLUME_SIZE)
            client.dp.UploadBlocks(iter([target(vid)] + [
                block(i * CHUNK, data[i * CHUNK:(i + 1) * CHUNK], CHUNK)
                for i in range(BLOCKS_PER_STREAM)]))
            snap = client.cp.CreateSnapshot(cpb.CreateSnapshotRequest(volume_id=vid))
        except Exception as err:                 # noqa: BLE001 (the refusal is checked)
            return acked, err
        acked[snap.snapshot.snapshot_id] = (vid, data)
    raise AssertionError(f"{FS_MIB} MiB never filled up")


def temp_files(root) -> list[str]:
    return [name for _, _, names in os.walk(root) for name in names
            if name.startswith((".tmp-", ".trash-"))]


def test_fill_refuse_delete_collect_and_everything_acknowledged_is_intact(data_dir):
    server = serve(data_dir, *SERVER_ARGS)
    client = Client(server.address, data_dir)
    try:
        acked, refusal = fill(client)
        assert len(acked) >= 4, f"only {len(acked)} volumes fitted"
        assert failure(refusal) == ("RESOURCE_EXHAUSTED", "STORAGE_FULL"), refusal
        assert str(data_dir) not in refusal.details(), "no server path in a message"
        st = os.statvfs(data_dir)
        assert st.f_bavail * st.f_frsize >= 4 << 20, "the reserve was kept free"
        assert temp_files(data_dir / "chunks") == [], "a refused write leaves no temp file"
        some = next(iter(acked))
        assert read_all(client.dp, snapshot_id=some) == acked[some][1], "reads still work"

        # The way out: delete half, collect, write again.
        doomed = list(acked)[: len(acked) // 2]
        for snap_id in doomed:
            client.cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=snap_id))
            client.cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=acked.pop(snap_id)[0]))
        report = json.loads(blockstore_cmd("gc", "--data-dir", str(data_dir), "--grace", "0",
                                           "--json").stdout)
        assert report["chunks_swept"] >= len(doomed) * BLOCKS_PER_STREAM, report
        more, _ = fill(client)
        assert more, "after deleting and collecting, writes are accepted again"
        acked.update(more)

        for snap_id, (_, data) in acked.items():
            assert read_all(client.dp, snapshot_id=snap_id) == data, snap_id
    finally:
        client.close()
        server.stop()
    verified = blockstore_cmd("verify", "--data-dir", str(data_dir), "--json", check=False)
    assert json.loads(verified.stdout)["ok"], verified.stdout
