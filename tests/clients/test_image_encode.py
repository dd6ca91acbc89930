"""The client's block encoding: zstd when it saves bytes, raw otherwise, and the message
carries exactly what the server needs to verify it."""

from __future__ import annotations

import os

import blake3
import zstandard

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from clients.transfer.image import DATA, Chunk, encode, with_data

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


def test_data_framed_by_hand_parses_as_the_message_protobuf_builds():
    block = dp.UploadBlock(offset=7 << 20, length=SIZE, checksum=b"c" * 32,
                           compression=pb.COMPRESSION_ZSTD)
    for size in (0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 4 << 20):
        data = os.urandom(size)
        expected = dp.UploadBlocksRequest()
        expected.block.CopyFrom(block)
        expected.block.data = data
        parsed = dp.UploadBlocksRequest.FromString(with_data(block, data))
        assert parsed == expected and parsed.WhichOneof("message") == "block", size
