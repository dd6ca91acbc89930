"""The gateway's view of its volume in the service: which token each chunk holds,
fetching chunks (DownloadBlocks) and committing dirty ones (UploadBlocks).

Rules kept:
- a fetched chunk is handed out only after its BLAKE3 matches (clients.transfer);
- `commit` sends its chunks in streams of at most `stream_cap` blocks (the service's cap,
  halved on STREAM_TOO_LONG for a service configured lower); each stream is applied whole
  or not at all (its size is declared up front), and a chunk is in exactly one stream, so
  every chunk is either its old or its new content, never part of either;
- the token map changes only for the chunks of a stream the service acknowledged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import blake3

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from clients.aio import AsyncClient
from clients.data import MAX_STREAM_BLOCKS, volume_target
from clients.errors import InvalidArgument
from clients.transfer.download import verify_block

ZERO = b""      # the token map's value for a chunk written as zeros


@dataclass
class Layout:
    size: int
    chunk_size: int

    @property
    def chunks(self) -> int:
        return -(-self.size // self.chunk_size)

    def length(self, index: int) -> int:
        return min(self.chunk_size, self.size - index * self.chunk_size)


def _entry(index: int, token: bytes) -> int:
    """One chunk's share of the state digest; zeros and holes (which read alike) add 0."""
    if not token:
        return 0
    return int.from_bytes(blake3.blake3(index.to_bytes(8, "big") + token).digest(16), "big")


class RemoteVolume:
    def __init__(self, client: AsyncClient, volume_id: str, layout: Layout,
                 lease_holder: str = "", stream_cap: int = MAX_STREAM_BLOCKS) -> None:
        self.client, self.volume_id, self.layout = client, volume_id, layout
        self.stream_cap = stream_cap     # blocks per stream; lowered if the service says so
        self.lease_holder = lease_holder     # named on every upload: the service fences others
        self.tokens: dict[int, bytes] = {}       # absent: a hole (reads as zeros)
        self.digest = 0     # XOR of _entry over the map: which state of the volume this is

    async def load(self) -> None:
        """Reads the volume's chunk map (ListBlocks); holes stay absent."""
        self.tokens, self.digest = {}, 0
        async for block in self.client.list_blocks(volume_id=self.volume_id):
            self.set_token(block.offset // self.layout.chunk_size,
                           ZERO if block.zero else bytes(block.token))

    def set_token(self, index: int, token: bytes) -> None:
        self.digest ^= _entry(index, self.tokens.get(index, ZERO)) ^ _entry(index, token)
        self.tokens[index] = token

    def digest_with(self, tokens: dict[int, bytes]) -> int:
        """The digest the map would have with `tokens` set."""
        digest = self.digest
        for index, token in tokens.items():
            digest ^= _entry(index, self.tokens.get(index, ZERO)) ^ _entry(index, token)
        return digest

    async def fetch(self, indices: list[int]) -> dict[int, tuple[bytes, bytes]]:
        """(token, verified plain bytes) of the given chunks; (ZERO, b"") for zero chunks."""
        cs = self.layout.chunk_size
        ranges = [(i * cs, self.layout.length(i)) for i in indices]
        out: dict[int, tuple[bytes, bytes]] = {}
        async for block in self.client.download_blocks(
                volume_id=self.volume_id, ranges=ranges,
                accept_compression=[pb.COMPRESSION_ZSTD]):
            data = await asyncio.to_thread(verify_block, block, f"volume {self.volume_id}")
            if block.zero:
                for i in range(block.offset // cs, -(-(block.offset + block.length) // cs)):
                    out[i] = (ZERO, b"")
            else:
                out[block.offset // cs] = (bytes(block.checksum), data)
        return out

    async def commit(self, chunks: dict[int, bytes | None], before=None) -> dict[int, bytes]:
        """Uploads chunks (None: all zeros) in index order, in streams of at most
        `stream_cap` blocks; returns their tokens. `before(digest)` is awaited before each
        stream with the digest the volume will have after it. If a stream fails, the
        streams before it stay committed (and in the token map) and the error is raised."""
        order = sorted(chunks)
        blocks = await asyncio.to_thread(self._blocks, order, chunks)
        tokens = {i: ZERO if b.zero else bytes(b.checksum) for i, b in zip(order, blocks)}
        done = 0
        while done < len(order):
            n = min(self.stream_cap, len(order) - done)
            if await self._stream(order[done:done + n], blocks[done:done + n], tokens, before):
                done += n
        return tokens

    async def _stream(self, order: list[int], blocks: list[dp.UploadBlock],
                      tokens: dict[int, bytes], before) -> bool:
        """One stream; False if the service refused it as too long (the cap is halved)."""
        mine = {i: tokens[i] for i in order}
        if before is not None:
            await before(self.digest_with(mine))
        try:
            reply = await self.client.upload_blocks(self.target(), blocks)
        except InvalidArgument as err:
            if err.reason != "STREAM_TOO_LONG" or len(blocks) == 1:
                raise
            self.stream_cap = len(blocks) // 2      # nothing of the stream was written
            return False
        if list(reply.tokens) and len(reply.tokens) != len(order):
            raise RuntimeError("the service acknowledged a different number of blocks")
        for index, token in mine.items():
            self.set_token(index, token)
        return True

    def target(self) -> dp.UploadTarget:
        target = volume_target(self.volume_id)
        target.lease_holder_id = self.lease_holder
        return target

    def _blocks(self, order: list[int], chunks: dict[int, bytes | None]) -> list[dp.UploadBlock]:
        cs, blocks = self.layout.chunk_size, []
        for i in order:
            data, length = chunks[i], self.layout.length(i)
            if data is None or data == bytes(length):
                blocks.append(dp.UploadBlock(offset=i * cs, length=length, zero=True))
            else:
                blocks.append(dp.UploadBlock(offset=i * cs, length=length, data=data,
                                             checksum=blake3.blake3(data).digest(),
                                             compression=pb.COMPRESSION_NONE))
        return blocks
