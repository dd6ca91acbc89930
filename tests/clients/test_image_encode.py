"""The client's block encoding: zstd when it saves bytes, raw otherwise, and the message
carries exactly what the server needs to verify it."""

from __future__ import annotations

import os

import blake3
import zstandard

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from clients.transfer.image import DATA, Chunk, encode

SIZE = 1 << 20


def _encoded(data: bytes) -> tuple[Chunk, dp.UploadBlock]:
    chunk = Chunk(3, 3 * SIZE, len(data), blake3.blake3(data).digest(), data, DATA)
    return chunk, dp.UploadBlocksRequest.FromString(encode(chunk, 1)).block


def test_random_big_chunk_goes_raw():
    noise = os.urandom(SIZE)
    chunk, block = _encoded(noise)
    assert block.compression == pb.COMPRESSION_NONE and block.data == noise
    assert (block.offset, block.length, block.checksum) == (3 * SIZE, SIZE, chunk.token)
    assert chunk.sent == SIZE


def test_a_chunk_with_one_compressible_quarter_goes_compressed():
    for quarter in range(4):
        mixed = bytearray(os.urandom(SIZE))
        mixed[quarter * SIZE // 4:(quarter + 1) * SIZE // 4] = (b"text " * SIZE)[:SIZE // 4]
        chunk, block = _encoded(bytes(mixed))
        assert block.compression == pb.COMPRESSION_ZSTD, quarter
        assert chunk.sent == len(block.data) < SIZE * 4 // 5
        assert zstandard.ZstdDecompressor().decompress(block.data) == mixed
