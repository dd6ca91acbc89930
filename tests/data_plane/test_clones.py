"""Clones read through to their source snapshot, including a still-pending upload
snapshot, and ListChangedBlocks works across a clone's lineage."""

from __future__ import annotations

from tests.data_plane.helpers import (CHUNK, MIB, UPLOAD, Vol, b3, clone, complete,
                                      get_snapshot,
                                      list_blocks, list_changes, new_volume, rand, read,
                                      snapshot, upload)


async def test_clone_reads_through_and_writes_stay_private(cp, dp):
    vol = await new_volume(cp, size=MIB)
    await upload(dp, vol, [(i * CHUNK, rand(CHUNK)) for i in range(0, 16, 2)])
    s = await snapshot(cp, vol.volume_id)
    snap_image = bytes(vol.image)
    c = await clone(cp, s.snapshot_id)
    assert c.size_bytes == MIB and c.chunk_size == CHUNK and c.source_snapshot_id == s.snapshot_id
    cvol = Vol(c.volume_id, c.size_bytes, c.chunk_size, bytearray(snap_image))
    assert await read(dp, volume_id=c.volume_id) == snap_image, \
        "a clone reads its source snapshot's data"

    await upload(dp, cvol, [(0, rand(CHUNK)), (CHUNK, rand(CHUNK)), (2 * CHUNK, None)])
    assert await read(dp, volume_id=c.volume_id) == bytes(cvol.image), "clone reads its writes"
    assert await read(dp, snapshot_id=s.snapshot_id) == snap_image, \
        "invariant 1: writes to a clone never change its source snapshot"
    assert await read(dp, volume_id=vol.volume_id) == snap_image, \
        "writes to a clone never change the source volume"
    await upload(dp, vol, [(4 * CHUNK, rand(CHUNK))])
    assert await read(dp, volume_id=c.volume_id) == bytes(cvol.image), \
        "later writes to the source volume do not leak into the clone"


async def test_clone_of_pending_upload_snapshot_reads_what_was_uploaded(cp, dp):
    vol = await new_volume(cp, size=MIB)
    up = await snapshot(cp, vol.volume_id, mode=UPLOAD)
    await upload(dp, vol, [(0, rand(CHUNK)), (3 * CHUNK, rand(CHUNK))],
                 snapshot_id=up.snapshot_id, data_version=up.version)
    c = await clone(cp, up.snapshot_id)
    assert await read(dp, volume_id=c.volume_id) == bytes(vol.image), \
        "a clone of a pending upload snapshot reads what has been uploaded so far"
    await upload(dp, vol, [(5 * CHUNK, rand(CHUNK))], snapshot_id=up.snapshot_id,
                 data_version=up.version)
    await complete(cp, up.snapshot_id)
    assert await read(dp, volume_id=c.volume_id) == bytes(vol.image), \
        "it keeps reading through to the snapshot as uploads continue"


async def test_bigger_clone_pads_short_source_chunk_with_zeros(cp, dp):
    vol = await new_volume(cp, size=MIB + 512)
    tail = rand(512)
    await upload(dp, vol, [(0, rand(CHUNK)), (16 * CHUNK, tail)])
    s = await snapshot(cp, vol.volume_id)
    c = await clone(cp, s.snapshot_id, size=2 * MIB)
    assert c.size_bytes == 2 * MIB
    expected = bytes(vol.image) + bytes(2 * MIB - vol.size)
    for accept in (False, True):
        assert await read(dp, volume_id=c.volume_id, accept_zstd=accept, size=2 * MIB) == \
            expected, "the source's short last chunk reads zero-padded in the bigger clone"
    got = await read(dp, volume_id=c.volume_id, offset=16 * CHUNK, length=CHUNK)
    assert got == tail + bytes(CHUNK - 512), "the padded chunk alone reads the same"
    cvol = Vol(c.volume_id, c.size_bytes, c.chunk_size, bytearray(expected))
    await upload(dp, cvol, [(20 * CHUNK, rand(CHUNK))])
    assert await read(dp, volume_id=c.volume_id) == bytes(cvol.image)


async def test_changed_blocks_between_source_and_clone_snapshot(cp, dp):
    vol = await new_volume(cp, size=MIB)
    a, b, c_ = rand(CHUNK), rand(CHUNK), rand(CHUNK)
    await upload(dp, vol, [(0, a), (CHUNK, b), (2 * CHUNK, c_)])
    s = await snapshot(cp, vol.volume_id)
    c = await clone(cp, s.snapshot_id)
    cvol = Vol(c.volume_id, c.size_bytes, c.chunk_size)
    n1, n7 = rand(CHUNK), rand(CHUNK)
    await upload(dp, cvol, [(CHUNK, n1), (0, a), (2 * CHUNK, None), (7 * CHUNK, n7)])
    cs = await snapshot(cp, c.volume_id)
    initial = await get_snapshot(cp, cs.parent_snapshot_id)
    assert (initial.version, initial.parent_snapshot_id) == (1, s.snapshot_id), \
        "a clone's first snapshot's parent is its initial snapshot, whose parent is S"
    expected = [(CHUNK, b3(b), b3(n1), False, False),
                (2 * CHUNK, b3(c_), b"", False, True),
                (7 * CHUNK, b"", b3(n7), False, False)]
    assert await list_changes(dp, cs.snapshot_id, s.snapshot_id) == expected, \
        "changes across the clone's lineage are exact (identical rewrite of 0 is no change)"
    assert await list_changes(dp, cs.snapshot_id, s.snapshot_id, page_size=1) == expected
    listed = await list_blocks(dp, snapshot_id=cs.snapshot_id)
    assert listed == [(0, b3(a), False), (CHUNK, b3(n1), False), (2 * CHUNK, b"", True),
                      (7 * CHUNK, b3(n7), False)], "a clone lists its source's rows too"
