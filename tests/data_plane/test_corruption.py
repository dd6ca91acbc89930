"""A chunk that rots on disk is DATA_LOSS on read, never wrong bytes (chunk files:
<data_dir>/chunks/ab/cd/<hex>, a 24-byte header then the payload)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from tests.data_plane.helpers import (CHUNK, MIB, b3, download_blocks, new_volume, pattern,
                                      rand, read, upload)
from tests.rpcerrors import expect_error

DATA_LOSS = grpc.StatusCode.DATA_LOSS
HEADER = 24


def chunk_file(server, token: bytes) -> Path:
    """The chunk's file: .../ab/cd/<hex> somewhere under <data_dir>/chunks/ (the default
    store root is <data_dir>/chunks, which itself keeps chunks in a chunks/ subdirectory)."""
    h = token.hex()
    found = list((Path(server.data_dir) / "chunks").rglob(h))
    assert len(found) == 1, f"chunk {h} is stored exactly once, found {found}"
    assert found[0].parent.parent.name == h[:2] and found[0].parent.name == h[2:4]
    return found[0]


def flip(path: Path, at: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0x40
    path.write_bytes(bytes(raw))


def quarantine(server) -> Path:
    [found] = (Path(server.data_dir) / "chunks").rglob("quarantine")
    return found


@pytest.mark.parametrize("way", ["whole", "zstd", "part"])
@pytest.mark.parametrize("content", ["random", "compressible"])
async def test_flipped_payload_byte_is_data_loss_then_healed(cp, dp, server, content, way):
    vol = await new_volume(cp, size=MIB)
    bad = rand(CHUNK) if content == "random" else pattern(rand(8).hex(), CHUNK)
    good = rand(CHUNK)
    await upload(dp, vol, [(0, good), (CHUNK, bad)])
    path = chunk_file(server, b3(bad))
    flip(path, HEADER + (path.stat().st_size - HEADER) // 2)

    first_read = dict(
        whole=download_blocks(dp, volume_id=vol.volume_id, ranges=[(CHUNK, CHUNK)]),
        zstd=download_blocks(dp, volume_id=vol.volume_id, ranges=[(CHUNK, CHUNK)],
                             accept_zstd=True),
        part=read(dp, volume_id=vol.volume_id, offset=CHUNK + 10, length=100))
    await expect_error(first_read[way], DATA_LOSS, "CHUNK_CORRUPT")
    for other in set(first_read) - {way}:
        first_read[other].close()
    assert not path.exists() and list(quarantine(server).glob(b3(bad).hex() + ".*")), \
        "a chunk that failed verification is moved to quarantine"
    await expect_error(read(dp, volume_id=vol.volume_id), DATA_LOSS, "CHUNK_MISSING")
    assert await read(dp, volume_id=vol.volume_id, length=CHUNK) == good, \
        "other chunks still read correctly"

    reply = await upload(dp, vol, [(2 * CHUNK, bad)])
    assert reply.bytes_stored > 0, "the next upload of that data stores it afresh"
    assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image), \
        "the re-upload healed the chunk for every row that names it"


async def test_reupload_over_undetected_rot_is_readable(cp, dp, server):
    """Invariant 2: an acknowledged write's data is durable and reads back."""
    vol = await new_volume(cp, size=MIB)
    data = rand(CHUNK)
    await upload(dp, vol, [(0, data)])
    path = chunk_file(server, b3(data))
    flip(path, HEADER + 5)
    await upload(dp, vol, [(CHUNK, data)])
    assert await read(dp, volume_id=vol.volume_id, offset=CHUNK, length=CHUNK) == data


async def test_missing_chunk_file_is_data_loss(cp, dp, server):
    vol = await new_volume(cp, size=MIB)
    gone = rand(CHUNK)
    await upload(dp, vol, [(2 * CHUNK, gone)])
    chunk_file(server, b3(gone)).unlink()
    await expect_error(download_blocks(dp, volume_id=vol.volume_id, ranges=[(0, 3 * CHUNK)]),
                       DATA_LOSS, "CHUNK_MISSING")
