"""A reader that GC overtakes: DownloadBlocks resolves a page of rows, then reads the
chunks lazily while the client consumes. An overwrite plus `blockstore gc --grace 0`
in between must not take a chunk the open reader still needs (real server, real gRPC,
real CLI). The reader gets the data as of when it resolved the row; once it has
finished, the next GC frees the overwritten chunk.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import grpc

from blockstore.v1 import data_plane_pb2 as dpb
from tests.data_plane.helpers import CHUNK, b3, new_volume, plain_of, rand, upload
from tests.gc.helpers import chunk_files, gc_cli, verify_cli
from tests.rpcerrors import expect_error

# 16 MiB in 64 KiB chunks: far more than gRPC buffers for a client that reads one
# message and stops, so the server has resolved the last chunk's row (all 256 rows are
# one page) but not read its chunk when the overwrite and GC happen.
CHUNKS = 256


def holds(data_dir, token: bytes) -> bool:
    return any(p.name == token.hex() for p in chunk_files(data_dir))


async def volume_with_slow_reader(cp, dp):
    """A volume of CHUNKS random chunks and a download of it that has read one block."""
    vol = await new_volume(cp, size=CHUNKS * CHUNK)
    datas = [rand(CHUNK) for _ in range(CHUNKS)]
    for first in range(0, CHUNKS, 64):
        await upload(dp, vol, [(i * CHUNK, datas[i]) for i in range(first, first + 64)])
    call = dp.DownloadBlocks(dpb.DownloadBlocksRequest(volume_id=vol.volume_id))
    return vol, datas, call, await call.read()


def expire_download_records(data_dir) -> int:
    """What a reader's process that stopped renewing its record looks like to GC."""
    conn = sqlite3.connect(Path(data_dir) / "manifest.db")
    try:
        with conn:
            return conn.execute("UPDATE active_operations SET expires_at = 0 "
                                "WHERE kind = 'download'").rowcount
    finally:
        conn.close()


def download_record_expiry(data_dir) -> float:
    """When the reader's record expires (its heartbeat renewed it if > 0)."""
    conn = sqlite3.connect(Path(data_dir) / "manifest.db")
    try:
        return conn.execute("SELECT expires_at FROM active_operations "
                            "WHERE kind = 'download'").fetchone()[0]
    finally:
        conn.close()


async def test_gc_never_collects_a_chunk_an_open_download_still_reads(server, cp, dp):
    vol, datas, call, first = await volume_with_slow_reader(cp, dp)
    last, old = (CHUNKS - 1) * CHUNK, datas[-1]
    blocks = [first]                                    # the slow consumer holds the stream
    await upload(dp, vol, [(last, rand(CHUNK))])        # the old chunk's only row goes
    report = gc_cli(server.data_dir, grace=0)
    assert holds(server.data_dir, b3(old)), \
        f"GC kept the overwritten chunk the open download still reads: {report}"

    while (msg := await call.read()) is not grpc.aio.EOF:
        blocks.append(msg)
    image = b"".join(plain_of(b) for b in blocks)
    assert image == b"".join(datas), \
        "the reader got every block as it was when its rows were resolved"

    deadline = time.monotonic() + 60
    while holds(server.data_dir, b3(old)):              # the reader is gone: now it is garbage
        assert time.monotonic() < deadline, "GC frees the chunk once no reader needs it"
        gc_cli(server.data_dir, grace=0)
    assert verify_cli(server.data_dir)[0] == 0


async def test_a_reader_whose_record_gc_purged_is_told_to_retry_never_data_loss(server, cp,
                                                                                 dp):
    vol, datas, call, _ = await volume_with_slow_reader(cp, dp)
    last, old = (CHUNKS - 1) * CHUNK, datas[-1]
    await upload(dp, vol, [(last, rand(CHUNK))])
    # The reader's process is alive, so its heartbeat (every ttl/4, 15 s) may renew the
    # record between our expiring it and GC's purge: on a loaded machine (a CI run at
    # load 20) it did, and GC rightly kept the chunk. Expire it again then, and only then.
    for _attempt in range(5):
        assert expire_download_records(server.data_dir) == 1
        report = gc_cli(server.data_dir, grace=0)       # purges the record, then sweeps
        if report["active_operations"] == 0:
            break
        assert download_record_expiry(server.data_dir) > 0, \
            f"GC kept an expired reader's record: {report}"
    assert report["active_operations"] == 0 and not holds(server.data_dir, b3(old))

    async def drain():
        while await call.read() is not grpc.aio.EOF:
            pass
    await expect_error(drain(), grpc.StatusCode.ABORTED, "CHUNK_COLLECTED", vol.volume_id)
    quarantine = Path(server.data_dir) / "chunks" / "quarantine"
    assert not quarantine.exists() or not any(quarantine.iterdir()), \
        "a chunk GC collected is not mistaken for a corrupt one"
    assert verify_cli(server.data_dir)[0] == 0
