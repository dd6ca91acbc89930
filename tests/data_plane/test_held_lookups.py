"""Which chunks the account already holds is looked up for the blocks that have arrived,
not once per batch (data_plane/held_lookups.py): a stream of one-chunk batches (1 MiB
chunks) cost one manifest read per chunk, most of the database's work in a backup. The
answers stay exact: held chunks are dedup hits, the others are stored and charged.
In-process, on a real SQLite file and chunk directory."""

from __future__ import annotations

import os

from chunkstore import Compression, blake3_token
from data_plane.blocks import BlockIn
from data_plane.config import DataPlaneConfig
from data_plane.upload import UploadSession
from tests.data_plane.sessions import upload_target

CHUNK = 64 << 10
ACCOUNT = "acct-held"


class CountedReads:
    def __init__(self, store) -> None:
        self.store, self.reads = store, 0

    def read(self):
        self.reads += 1
        return self.store.read()

    def write(self):
        return self.store.write()


async def test_a_stream_of_one_chunk_batches_looks_up_its_account_a_few_times(local_stores):
    store, chunks, executor = local_stores
    datas = [os.urandom(CHUNK) for _ in range(16)]      # incompressible: stored as sent
    tokens = [blake3_token(d) for d in datas]
    held = tokens[::3]                             # the account holds every third chunk
    for token in held:
        await chunks.put(token, datas[tokens.index(token)], Compression.NONE, CHUNK)
    target = await upload_target(store, ACCOUNT, "vol-held", 16 * CHUNK, CHUNK, held)
    counted = CountedReads(store)
    # One block per batch, as with 1 MiB chunks; blocks arrive faster than batches finish.
    config = DataPlaneConfig(upload_batch_bytes=CHUNK)
    session = UploadSession(target, chunks, counted, executor, config)
    for i, (token, data) in enumerate(zip(tokens, datas)):
        await session.add(BlockIn(i * CHUNK, CHUNK, token, "none", data, False))
    result = await session.finish()
    assert result.dedup_hits == len(held)
    assert result.bytes_stored == (len(tokens) - len(held)) * CHUNK
    assert counted.reads <= len(tokens) // 2, f"{counted.reads} manifest reads for {len(tokens)} batches"
    for token, data in zip(tokens, datas):
        assert (await chunks.get(token)).plain == data
