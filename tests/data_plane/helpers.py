"""Data-plane test helpers: build UploadBlocks streams, reassemble DownloadBlocks ranges.

A block spec is `(offset, content)` where content is
- `bytes`: a data block (raw, or one zstd frame when `zstd=True`), checksum = BLAKE3;
- `None`: a zero block (`zero: true`, no data);
- `Ref(token)`: a reference (checksum only, no data) to a token the account holds.

`download` checks every block it receives the way a careful client must: contiguous and
in order, zero blocks carry no data, data blocks decode to their length and their
checksum is the BLAKE3 of their plain bytes. A block failing any of that fails the test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable

import blake3
import zstandard

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import data_plane_pb2 as dp

KIB, MIB = 1 << 10, 1 << 20
CHUNK = 64 * KIB
NONE, ZSTD = pb.COMPRESSION_NONE, pb.COMPRESSION_ZSTD
PIT, UPLOAD = pb.SNAPSHOT_MODE_POINT_IN_TIME, pb.SNAPSHOT_MODE_UPLOAD
PENDING, COMPLETED = pb.SNAPSHOT_STATE_PENDING, pb.SNAPSHOT_STATE_COMPLETED


def b3(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def rand(n: int) -> bytes:
    return os.urandom(n)


def pattern(tag: str, n: int) -> bytes:
    """Recognizable, compressible, unique-per-tag content of n bytes."""
    unit = f"<{tag}>".encode()
    return (unit * (n // len(unit) + 1))[:n]


@dataclass(frozen=True)
class Ref:
    token: bytes


@dataclass
class Vol:
    """A volume (or snapshot) geometry plus what the test believes it holds."""

    volume_id: str
    size: int
    chunk: int
    image: bytearray = field(default_factory=bytearray)
    initial_snapshot_id: str = ""     # the snapshot CreateVolume took (version 1)

    def __post_init__(self) -> None:
        if not self.image:
            self.image = bytearray(self.size)

    def length_at(self, offset: int) -> int:
        return min(self.chunk, self.size - offset)

    def apply(self, blocks: Iterable[tuple[int, object]], known: dict[bytes, bytes]) -> None:
        """Record in the expected image what a committed stream wrote."""
        for offset, content in blocks:
            n = self.length_at(offset)
            if content is None:
                data = bytes(n)
            elif isinstance(content, Ref):
                data = known[content.token]
            else:
                data = content
            self.image[offset:offset + n] = data


# -- control plane shorthands -----------------------------------------------------------
async def new_volume(cp, size: int = MIB, chunk: int = CHUNK, **fields) -> Vol:
    created = await cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=size, chunk_size=chunk,
                                                           **fields))
    v = created.volume
    return Vol(v.volume_id, v.size_bytes, v.chunk_size,
               initial_snapshot_id=created.initial_snapshot_id)


async def clone(cp, snapshot_id: str, size: int = 0) -> pb.Volume:
    return (await cp.CreateVolume(cpb.CreateVolumeRequest(
        size_bytes=size, source_snapshot_id=snapshot_id))).volume


async def snapshot(cp, volume_id: str, mode=PIT, tokens: Iterable[tuple[int, bytes]] = ()
                   ) -> pb.Snapshot:
    refs = [pb.BlockRef(offset=o, token=t) for o, t in tokens]
    return (await cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=volume_id, mode=mode, chunk_tokens=refs))).snapshot


async def get_volume(cp, volume_id: str) -> pb.Volume:
    return (await cp.GetVolume(cpb.GetVolumeRequest(volume_id=volume_id))).volume


async def get_snapshot(cp, snapshot_id: str) -> pb.Snapshot:
    return (await cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=snapshot_id))).snapshot


async def complete(cp, snapshot_id: str) -> pb.Snapshot:
    return (await cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=snapshot_id, progress=1.0))).snapshot


# -- upload -------------------------------------------------------------------------------
def target_msg(volume_id: str = "", snapshot_id: str = "",
               data_version: int = 0) -> dp.UploadBlocksRequest:
    if snapshot_id:
        t = dp.UploadTarget(snapshot_id=snapshot_id, data_version=data_version)
    else:
        t = dp.UploadTarget(volume_id=volume_id, data_version=data_version)
    return dp.UploadBlocksRequest(target=t)


def block_msg(offset: int, content: object, length: int, *, zstd: bool = False,
              checksum: bytes | None = None) -> dp.UploadBlocksRequest:
    """One block message; `checksum` overrides the computed one (to forge it)."""
    if content is None:
        block = dp.UploadBlock(offset=offset, length=length, zero=True)
    elif isinstance(content, Ref):
        block = dp.UploadBlock(offset=offset, length=length, checksum=content.token)
    else:
        data, compression = content, NONE
        if zstd:
            data, compression = zstandard.ZstdCompressor(level=3).compress(content), ZSTD
        block = dp.UploadBlock(offset=offset, length=length, checksum=b3(content),
                               compression=compression, data=data)
    if checksum is not None:
        block.checksum = checksum
    return dp.UploadBlocksRequest(block=block)


def stream(vol: Vol, blocks: Iterable[tuple[int, object]], *, zstd: bool = False,
           snapshot_id: str = "", data_version: int = 0) -> list[dp.UploadBlocksRequest]:
    msgs = [target_msg(vol.volume_id, snapshot_id, data_version)]
    msgs += [block_msg(o, c, vol.length_at(o), zstd=zstd) for o, c in blocks]
    return msgs


async def upload(dp_stub, vol: Vol, blocks: list[tuple[int, object]], *, zstd: bool = False,
                 snapshot_id: str = "", data_version: int = 0,
                 known: dict[bytes, bytes] | None = None) -> dp.UploadBlocksResponse:
    """Upload one stream and, once acknowledged, record it in `vol.image`."""
    reply = await dp_stub.UploadBlocks(iter(stream(vol, blocks, zstd=zstd,
                                                   snapshot_id=snapshot_id,
                                                   data_version=data_version)))
    vol.apply(blocks, known or {})
    return reply


# -- download ----------------------------------------------------------------------------
def _source(volume_id: str, snapshot_id: str) -> dict:
    return {"snapshot_id": snapshot_id} if snapshot_id else {"volume_id": volume_id}


async def download_blocks(dp_stub, *, volume_id: str = "", snapshot_id: str = "",
                          ranges: Iterable[tuple[int, int]] = (),
                          accept_zstd: bool = False) -> list[dp.DownloadBlocksResponse]:
    request = dp.DownloadBlocksRequest(
        ranges=[dp.ByteRange(offset=o, length=n) for o, n in ranges],
        accept_compression=[ZSTD] if accept_zstd else [], **_source(volume_id, snapshot_id))
    return [m async for m in dp_stub.DownloadBlocks(request)]


def plain_of(block: dp.DownloadBlocksResponse) -> bytes:
    """A downloaded block's plain bytes, checked: zero has no data, checksum is BLAKE3."""
    where = f"block at offset {block.offset} length {block.length}"
    if block.zero:
        assert not block.data and not block.checksum, f"{where}: zero block carries data"
        return bytes(block.length)
    if block.compression == ZSTD:
        plain = zstandard.ZstdDecompressor().decompress(block.data,
                                                       max_output_size=block.length)
    else:
        assert block.compression in (NONE, pb.COMPRESSION_UNSPECIFIED), where
        plain = block.data
    assert len(plain) == block.length, f"{where}: {len(plain)} plain bytes"
    assert block.checksum == b3(plain), f"{where}: checksum is not BLAKE3 of its plain bytes"
    return plain


async def read(dp_stub, *, volume_id: str = "", snapshot_id: str = "", offset: int = 0,
               length: int | None = None, accept_zstd: bool = False, size: int | None = None
               ) -> bytes:
    """Reassemble [offset, offset+length) from verified blocks (length None: whole size)."""
    ranges = [] if length is None else [(offset, length)]
    blocks = await download_blocks(dp_stub, volume_id=volume_id, snapshot_id=snapshot_id,
                                   ranges=ranges, accept_zstd=accept_zstd)
    out, pos = bytearray(), offset
    for block in blocks:
        assert block.offset == pos, f"blocks must be contiguous: got {block.offset}, want {pos}"
        out += plain_of(block)
        pos += block.length
    if length is not None:
        assert len(out) == length, f"range of {length} bytes came back as {len(out)}"
    if size is not None:
        assert len(out) == size, f"whole read of {size} bytes came back as {len(out)}"
    return bytes(out)


async def list_blocks(dp_stub, *, volume_id: str = "", snapshot_id: str = "",
                      start_offset: int = 0, page_size: int = 0) -> list[tuple[int, bytes, bool]]:
    """Every page of ListBlocks as (offset, token, zero)."""
    out, token = [], ""
    while True:
        page = await dp_stub.ListBlocks(dp.ListBlocksRequest(
            start_offset=start_offset, page_size=page_size, page_token=token,
            **_source(volume_id, snapshot_id)))
        out += [(b.offset, b.token, b.zero) for b in page.blocks]
        token = page.next_page_token
        if not token:
            return out


async def list_changes(dp_stub, target: str, base: str = "", page_size: int = 0
                       ) -> list[tuple[int, bytes, bytes, bool, bool]]:
    """Every page of ListChangedBlocks as (offset, base_token, target_token, base_zero,
    target_zero)."""
    out, token = [], ""
    while True:
        page = await dp_stub.ListChangedBlocks(dp.ListChangedBlocksRequest(
            base_snapshot_id=base, target_snapshot_id=target, page_size=page_size,
            page_token=token))
        out += [(c.offset, c.base_token, c.target_token, c.base_zero, c.target_zero)
                for c in page.changes]
        token = page.next_page_token
        if not token:
            return out


async def missing(dp_stub, tokens: list[bytes]) -> list[bytes]:
    reply = await dp_stub.FindMissingChunks(dp.FindMissingChunksRequest(tokens=tokens))
    return list(reply.missing_tokens)
