"""The gateway's view of its volume in the service: which token each chunk holds,
fetching chunks (DownloadBlocks) and committing dirty ones (UploadBlocks).

Rules kept:
- a fetched chunk is handed out only after its BLAKE3 matches (clients.transfer);
- `commit` sends every chunk it is given in ONE UploadBlocks stream, so the service
  applies all of them or none (the stream's size is declared up front);
- the token map changes only after the service acknowledged the stream.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import blake3

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from clients.aio import AsyncClient
from clients.data import volume_target
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


class RemoteVolume:
    def __init__(self, client: AsyncClient, volume_id: str, layout: Layout) -> None:
        self.client, self.volume_id, self.layout = client, volume_id, layout
        self.tokens: dict[int, bytes] = {}       # absent: a hole (reads as zeros)

    async def load(self) -> None:
        """Reads the volume's chunk map (ListBlocks); holes stay absent."""
        tokens = {}
        async for block in self.client.list_blocks(volume_id=self.volume_id):
            tokens[block.offset // self.layout.chunk_size] = ZERO if block.zero else block.token
        self.tokens = tokens

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

    async def commit(self, chunks: dict[int, bytes | None]) -> dict[int, bytes]:
        """Uploads chunks (None: all zeros) in one stream; returns their tokens."""
        order = sorted(chunks)
        blocks = await asyncio.to_thread(self._blocks, order, chunks)
        reply = await self.client.upload_blocks(volume_target(self.volume_id), blocks)
        tokens = {i: ZERO if b.zero else b.checksum for i, b in zip(order, blocks)}
        if list(reply.tokens) and len(reply.tokens) != len(order):
            raise RuntimeError("the service acknowledged a different number of blocks")
        self.tokens.update(tokens)
        return tokens

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
