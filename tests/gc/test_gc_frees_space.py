"""`blockstore gc` against a running server frees what deleted volumes and snapshots held,
and keeps exactly what surviving readers need (real server, real gRPC, real CLI)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from blockstore.v1 import control_plane_pb2 as cpb
from tests.data_plane.helpers import (CHUNK, MIB, b3, new_volume, rand, read, snapshot,
                                      upload)
from tests.gc.helpers import (block_rows, chunk_bytes, clock_past_every_chunk, gc_cli,
                              verify_cli)


async def delete_snapshot(cp, snapshot_id: str) -> None:
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=snapshot_id))


async def delete_volume(cp, volume_id: str) -> None:
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=volume_id))


async def test_deleting_volumes_and_snapshots_frees_their_chunks(server, cp, dp):
    keep = await new_volume(cp, size=MIB)
    await upload(dp, keep, [(i * CHUNK, rand(CHUNK)) for i in range(4)])
    kept_snap = await snapshot(cp, keep.volume_id)
    kept_image = bytes(keep.image)
    doomed = await new_volume(cp, size=MIB)
    shared = keep.image[:CHUNK]                         # dedups against `keep`'s chunk 0
    await upload(dp, doomed, [(0, bytes(shared))] + [(i * CHUNK, rand(CHUNK))
                                                     for i in range(1, 9)])
    doomed_snap = await snapshot(cp, doomed.volume_id)
    before = chunk_bytes(server.data_dir)
    await delete_snapshot(cp, doomed_snap.snapshot_id)
    await delete_volume(cp, doomed.volume_id)
    clock_past_every_chunk(server.data_dir)

    results = Path(server.data_dir) / "gc.prom"
    report = gc_cli(server.data_dir, 0, None, "--metrics-file", str(results))
    assert report["chunks_swept"] == 8 and report["bytes_freed"] >= 8 * CHUNK
    assert report["rows_compacted"] == 9
    figures = {s.name: s.value for f in text_string_to_metric_families(results.read_text())
               for s in f.samples}
    assert (figures["blockstore_gc_last_chunks_freed"],
            figures["blockstore_gc_last_bytes_freed"],
            figures["blockstore_gc_last_rows_compacted"]) == (8, report["bytes_freed"], 9), \
        "--metrics-file: the run's figures for a textfile collector"
    assert before - chunk_bytes(server.data_dir) >= 8 * CHUNK, "the chunk dir shrinks"
    assert block_rows(server.data_dir, doomed.volume_id) == []
    assert await read(dp, snapshot_id=kept_snap.snapshot_id, size=MIB) == kept_image, \
        "a surviving snapshot reads byte-identical, its shared chunk included"
    assert await read(dp, volume_id=keep.volume_id, size=MIB) == kept_image
    assert verify_cli(server.data_dir)[0] == 0


async def test_compaction_keeps_exactly_the_rows_readers_need(server, cp, dp):
    vol = await new_volume(cp, size=MIB)
    datas = [rand(CHUNK) for _ in range(3)]
    snaps = []
    for data in datas:                                  # chunk 0 overwritten 3 times
        await upload(dp, vol, [(0, data), (CHUNK, data[::-1])])
        snaps.append(await snapshot(cp, vol.volume_id))
    final = rand(CHUNK)
    await upload(dp, vol, [(0, final)])                 # at the open version
    versions = [s.version for s in snaps]
    await delete_snapshot(cp, snaps[1].snapshot_id)
    clock_past_every_chunk(server.data_dir)

    report = gc_cli(server.data_dir, grace=0)
    assert report["rows_compacted"] == 2, "only the deleted middle snapshot's two rows"
    assert block_rows(server.data_dir, vol.volume_id) == [
        (0, versions[0], b3(datas[0])), (0, versions[2], b3(datas[2])),
        (0, versions[2] + 1, b3(final)),
        (1, versions[0], b3(datas[0][::-1])), (1, versions[2], b3(datas[2][::-1]))]
    assert report["chunks_swept"] == 2, "the middle snapshot's two chunks are garbage"
    for snap, data in ((snaps[0], datas[0]), (snaps[2], datas[2])):
        image = await read(dp, snapshot_id=snap.snapshot_id, offset=0, length=2 * CHUNK)
        assert image == data + data[::-1]
    assert await read(dp, volume_id=vol.volume_id, offset=0, length=2 * CHUNK) == \
        final + datas[2][::-1]
