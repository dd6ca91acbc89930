"""Invariants of docs/design.md the data plane touches:
1 snapshot immutability, 2/4 all-or-nothing streams and forged checksums, 5 versions."""

from __future__ import annotations

import asyncio

import grpc

import pytest

from blockstore.v1 import data_plane_pb2 as dpb
from tests.data_plane.helpers import (CHUNK, MIB, UPLOAD, b3, block_msg, get_volume,
                                      list_blocks, new_volume, rand, read, snapshot, stream,
                                      target_msg, upload)
from tests.observe import PROBE_OFFSET, chunks_stored, probe_refused_by_cap, until_async
from tests.rpcerrors import expect_error
from tests.serverproc import serve

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One upload stream per account at a time, so `stream_over` can see a stream end."""
    proc = serve(tmp_path_factory.mktemp("data"), "--max-upload-streams-per-account", "1")
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    yield proc
    proc.stop()


async def stream_over(dp, volume_id: str) -> None:
    """Wait until the account's open stream has ended on the server (tests/observe.py)."""
    async def probe_got_in() -> bool:
        try:
            await dp.UploadBlocks(iter([target_msg(volume_id),
                                        block_msg(PROBE_OFFSET, rand(CHUNK), CHUNK)]))
        except grpc.aio.AioRpcError as err:
            return not probe_refused_by_cap(err)
        raise AssertionError("an unaligned probe block was accepted")
    await until_async(probe_got_in, "the cancelled stream ended on the server")


async def stored(server, datas: list[bytes]) -> None:
    await until_async(lambda: chunks_stored(server.data_dir, datas),
                      "the server took the stream's blocks in")


async def test_completed_snapshot_reads_byte_identical_after_overwrites(cp, dp):
    """Invariant 1: a completed snapshot reads byte-identical forever."""
    vol = await new_volume(cp, size=MIB + 512)
    await upload(dp, vol, [(i * CHUNK, rand(CHUNK)) for i in range(6)] + [(16 * CHUNK,
                                                                          rand(512))])
    first_image = bytes(vol.image)
    s1 = await snapshot(cp, vol.volume_id)
    first_list = await list_blocks(dp, snapshot_id=s1.snapshot_id)

    await upload(dp, vol, [(0, rand(CHUNK)), (CHUNK, None), (2 * CHUNK, bytes(CHUNK)),
                           (10 * CHUNK, rand(CHUNK)), (16 * CHUNK, rand(512))])
    second_image = bytes(vol.image)
    s2 = await snapshot(cp, vol.volume_id)
    await upload(dp, vol, [(3 * CHUNK, rand(CHUNK))])

    for accept in (False, True):
        assert await read(dp, snapshot_id=s1.snapshot_id, accept_zstd=accept) == first_image, \
            "invariant 1: the first snapshot still reads byte-identical after overwrites/zeros"
    assert await list_blocks(dp, snapshot_id=s1.snapshot_id) == first_list, \
        "invariant 1: the first snapshot's block list is unchanged"
    assert await read(dp, snapshot_id=s2.snapshot_id) == second_image, \
        "the second snapshot reads the overwritten content"
    assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image), \
        "the volume reads its newest data"
    assert bytes(vol.image) != second_image != first_image


async def test_forged_checksum_in_last_block_commits_nothing(cp, dp):
    """Invariants 2 and 4: one bad block fails the whole stream; nothing is stored."""
    vol = await new_volume(cp, size=MIB)
    await upload(dp, vol, [(0, rand(CHUNK)), (4 * CHUNK, rand(CHUNK))])
    before_list = await list_blocks(dp, volume_id=vol.volume_id)
    before = bytes(vol.image)

    good = [(i * CHUNK, rand(CHUNK)) for i in range(4)]
    last = rand(CHUNK)
    msgs = stream(vol, good) + [block_msg(4 * CHUNK, last, CHUNK, checksum=b3(b"forged"))]
    info = await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "CHECKSUM_MISMATCH")
    assert info.metadata["offset"] == str(4 * CHUNK), "ErrorInfo names the failing offset"

    assert await list_blocks(dp, volume_id=vol.volume_id) == before_list, \
        "invariant 2: a failed stream commits none of its blocks"
    assert await read(dp, volume_id=vol.volume_id) == before, \
        "invariant 2: the volume reads exactly as before the failed stream"
    missing = await dp.FindMissingChunks(dp_request([b3(last)]))
    assert list(missing.missing_tokens) == [b3(last)], \
        "invariant 4: data that failed its checksum is not known to the account"


async def test_forged_checksum_with_zstd_commits_nothing(cp, dp):
    vol = await new_volume(cp, size=MIB)
    good = [(i * CHUNK, rand(CHUNK)) for i in range(4)]
    msgs = stream(vol, good, zstd=True)
    msgs.append(block_msg(4 * CHUNK, rand(CHUNK), CHUNK, zstd=True, checksum=b3(b"x")))
    info = await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "CHECKSUM_MISMATCH")
    assert info.metadata["offset"] == str(4 * CHUNK)
    assert await list_blocks(dp, volume_id=vol.volume_id) == [], "nothing committed"


def dp_request(tokens):
    return dpb.FindMissingChunksRequest(tokens=tokens)


async def test_cancelled_stream_commits_nothing(server, cp, dp):
    """Invariant 2: a client that cancels mid-stream leaves the volume untouched."""
    vol = await new_volume(cp, size=MIB)
    await upload(dp, vol, [(0, rand(CHUNK))])
    before_list = await list_blocks(dp, volume_id=vol.volume_id)
    datas = [rand(CHUNK) for _ in range(5)]
    hold = asyncio.Event()

    async def requests():
        yield target_msg(vol.volume_id)
        for i, data in enumerate(datas, start=1):
            yield block_msg(i * CHUNK, data, CHUNK)
        await hold.wait()          # never half-close: the stream is cut mid-way

    call = dp.UploadBlocks(requests())
    await stored(server, datas)    # the server holds every block when the client hangs up
    call.cancel()
    try:
        await call
    except asyncio.CancelledError:
        pass
    except grpc.aio.AioRpcError as err:
        assert err.code() == grpc.StatusCode.CANCELLED
    await stream_over(dp, vol.volume_id)
    assert await list_blocks(dp, volume_id=vol.volume_id) == before_list, \
        "invariant 2: a cancelled stream commits none of its blocks"
    assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image)


async def test_cancelled_streams_leave_the_manifest_writable(cp, dp):
    """A cancelled stream may be cut while its commit transaction begins; the server must
    neither commit it nor leave its manifest connection inside a transaction (which held
    SQLite's write lock forever and failed every later write)."""
    vol = await new_volume(cp, size=MIB)
    for round_ in range(20):
        sent = asyncio.Event()

        async def requests():
            yield target_msg(vol.volume_id)
            for i in range(4):
                yield block_msg(i * CHUNK, None if round_ % 2 else rand(CHUNK), CHUNK)
            sent.set()
            await asyncio.Event().wait()

        call = dp.UploadBlocks(requests())
        await asyncio.wait_for(sent.wait(), 10)
        await asyncio.sleep((0.0, 0.005, 0.02, 0.05)[round_ % 4])   # vary where the cut lands
        call.cancel()
        try:
            await call
        except (asyncio.CancelledError, grpc.aio.AioRpcError):
            pass
        await stream_over(dp, vol.volume_id)
        await asyncio.wait_for(new_volume(cp, size=MIB), 10)   # a manifest write works
    assert await list_blocks(dp, volume_id=vol.volume_id) == [], \
        "invariant 2: no cancelled stream committed anything"


async def test_stale_data_version_after_snapshot_is_rejected(cp, dp):
    """Invariant 5: an older write can not overwrite newer data."""
    vol = await new_volume(cp, size=MIB)
    assert (await get_volume(cp, vol.volume_id)).open_version == 2, \
        "writes start at 2: the initial snapshot took version 1"
    await upload(dp, vol, [(0, rand(CHUNK))], data_version=2)
    snap = await snapshot(cp, vol.volume_id)
    assert snap.version == 2
    newer = rand(CHUNK)
    await upload(dp, vol, [(0, newer)], data_version=3)
    for old in (1, 2):
        stale = stream(vol, [(0, rand(CHUNK)), (CHUNK, rand(CHUNK))], data_version=old)
        await expect_error(dp.UploadBlocks(iter(stale)), PRECONDITION, "INVALID_DATA_VERSION")
    future = stream(vol, [(0, rand(CHUNK))], data_version=4)
    await expect_error(dp.UploadBlocks(iter(future)), PRECONDITION, "INVALID_DATA_VERSION")
    negative = stream(vol, [(0, rand(CHUNK))], data_version=-1)
    await expect_error(dp.UploadBlocks(iter(negative)), PRECONDITION, "INVALID_DATA_VERSION")
    assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image), \
        "invariant 5: rejected writes are never applied; the newest data stays"
    assert (await read(dp, volume_id=vol.volume_id, length=CHUNK)) == newer
    await upload(dp, vol, [(CHUNK, rand(CHUNK))], data_version=0)
    assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image), \
        "data_version 0 means the volume's current open version"


async def test_snapshot_target_needs_its_own_version(cp, dp):
    vol = await new_volume(cp, size=MIB)
    await snapshot(cp, vol.volume_id)
    up = await snapshot(cp, vol.volume_id, mode=UPLOAD)
    assert up.version == 3
    for wrong in (0, 1, 2, 4):
        msgs = stream(vol, [(0, rand(CHUNK))], snapshot_id=up.snapshot_id, data_version=wrong)
        await expect_error(dp.UploadBlocks(iter(msgs)), PRECONDITION, "INVALID_DATA_VERSION")
    assert await list_blocks(dp, snapshot_id=up.snapshot_id) == [], \
        "invariant 5: uploads at the wrong version are never applied"
    await upload(dp, vol, [(0, rand(CHUNK))], snapshot_id=up.snapshot_id, data_version=3)
    assert await read(dp, snapshot_id=up.snapshot_id) == bytes(vol.image)


async def test_snapshot_taken_mid_stream_fails_the_stream(server, cp, dp):
    """Invariant 1+5: a stream opened at version v must not land in a snapshot of v taken
    while it was running."""
    vol = await new_volume(cp, size=MIB)
    first, second = rand(CHUNK), rand(CHUNK)
    await upload(dp, vol, [(0, first)])
    go = asyncio.Event()

    async def requests():
        yield target_msg(vol.volume_id)
        yield block_msg(0, second, CHUNK)
        await go.wait()
        yield block_msg(CHUNK, rand(CHUNK), CHUNK)

    call = dp.UploadBlocks(requests())
    await stored(server, [second])     # so the stream opened at version 1, before the snapshot
    snap = await snapshot(cp, vol.volume_id)
    go.set()
    await expect_error(call, PRECONDITION, "INVALID_DATA_VERSION")
    assert await read(dp, snapshot_id=snap.snapshot_id) == bytes(vol.image), \
        "the snapshot holds what was acknowledged before it, nothing of the late stream"
    assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image)
