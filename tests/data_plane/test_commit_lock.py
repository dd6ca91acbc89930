"""The upload commit does no chunk-store I/O while it holds the manifest write lock (every
other writer of every process queues behind it): the stream's active-operation record
keeps its chunks, so the commit only checks the account's chunk set in the database.
In-process, on a real SQLite file and chunk directory; bench/upload_commit.py measures."""

from __future__ import annotations

from contextlib import asynccontextmanager

from chunkstore import Compression, blake3_token
from data_plane.blocks import BlockIn
from data_plane.config import DataPlaneConfig
from data_plane.operations import Operations
from data_plane.upload import UploadSession
from tests.data_plane.sessions import upload_target

CHUNK = 64 << 10
ACCOUNT = "acct-lock"


class LockWatch:
    """The manifest and chunk store, noting chunk-store calls made inside a write."""

    def __init__(self, store, chunks) -> None:
        self.store, self.chunks, self.writing, self.inside = store, chunks, False, []

    def read(self):
        return self.store.read()

    @asynccontextmanager
    async def write(self):
        async with self.store.write() as tx:
            self.writing = True
            try:
                yield tx
            finally:
                self.writing = False

    def __getattr__(self, name):                     # the chunk-store side
        method = getattr(self.chunks, name)

        async def call(*args, **kwargs):
            if self.writing:
                self.inside.append(name)
            return await method(*args, **kwargs)
        return call


async def test_the_commit_of_a_stream_of_references_touches_no_chunk_under_the_lock(local_stores):
    store, chunks, executor = local_stores
    datas = [bytes([n]) * CHUNK for n in range(1, 9)]
    tokens = [blake3_token(d) for d in datas]
    for token, data in zip(tokens, datas):
        await chunks.put(token, data, Compression.NONE, CHUNK)
    target = await upload_target(store, ACCOUNT, "vol-lock", 16 * CHUNK, CHUNK, tokens)
    watch = LockWatch(store, chunks)
    operations = Operations(store)
    async with operations.running("upload") as op:
        await operations.record_alone(op, target.name)
        session = UploadSession(target, watch, watch, executor, DataPlaneConfig(),
                                operation=(operations, op))
        for i, token in enumerate(tokens):
            await session.add(BlockIn(i * CHUNK, CHUNK, token, "none", b"", False))
        new = bytes([99]) * CHUNK
        await session.add(BlockIn(8 * CHUNK, CHUNK, blake3_token(new), "none", new, False))
        result = await session.finish()
    assert result.blocks_written == 9
    assert watch.inside == [], f"chunk-store calls under the write lock: {watch.inside}"
    await operations.close()
