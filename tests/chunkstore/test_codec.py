"""codec: zstd only when it pays, and no frame can make decode allocate beyond plain_length."""

from __future__ import annotations

import os
import struct
import tracemalloc

import pytest
import zstandard

from chunkstore import Compression, DecodeError, blake3_token, decode, encode


def rle_frame(claimed_size: int, inflated_size: int) -> bytes:
    """A ~14-byte zstd frame whose header claims `claimed_size` and whose single RLE block
    inflates to `inflated_size` bytes (RFC 8878: single-segment, 8-byte content size)."""
    header = struct.pack("<IBQ", 0xFD2FB528, 0xE0, claimed_size)
    block = (1 | 1 << 1 | inflated_size << 3).to_bytes(3, "little")  # last block, RLE
    return header + block + b"\x00"


def test_encode_uses_zstd_only_when_smaller_and_writes_content_size():
    compression, frame = encode(b"a" * 100_000)
    assert compression is Compression.ZSTD and len(frame) < 1000
    assert zstandard.frame_content_size(frame) == 100_000
    noise = os.urandom(4096)
    assert encode(noise) == (Compression.NONE, noise)
    assert encode(b"") == (Compression.NONE, b"")


def test_decode_round_trip():
    plain = b"block " * 10_000
    assert decode(*encode(plain), len(plain)) == plain
    assert decode(Compression.NONE, b"raw", 3) == b"raw"
    assert blake3_token(plain) == blake3_token(bytes(plain)) and len(blake3_token(plain)) == 32


def test_decode_rejects_wrong_lengths():
    with pytest.raises(DecodeError):
        decode(Compression.NONE, b"raw", 4)
    with pytest.raises(DecodeError):
        decode(Compression.ZSTD, encode(b"x" * 1000)[1], 999)
    with pytest.raises(DecodeError):
        decode(Compression.ZSTD, b"not zstd at all", 15)
    with pytest.raises(DecodeError):
        decode(Compression.ZSTD, encode(b"x" * 1000)[1] + b"trailing", 1000)


def test_bomb_claiming_its_true_size_is_rejected_before_inflating():
    frame = zstandard.ZstdCompressor(write_content_size=True).compress(b"\0" * 6_400_000)
    with pytest.raises(DecodeError, match="claims"):
        decode(Compression.ZSTD, frame, 64_000)


def test_bomb_without_content_size_is_cut_off_at_plain_length():
    frame = zstandard.ZstdCompressor(write_content_size=False).compress(b"\0" * 6_400_000)
    assert zstandard.frame_content_size(frame) == -1
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError):
            decode(Compression.ZSTD, frame, 64_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, "decode must not allocate the bomb's 6.4 MB"


def test_frame_claiming_a_huge_size_is_rejected_without_allocating_it():
    with pytest.raises(DecodeError, match="claims 1099511627776"):
        decode(Compression.ZSTD, rle_frame(1 << 40, 1000), 1000)


def test_frame_claiming_plain_length_but_inflating_to_100x_is_rejected():
    with pytest.raises(DecodeError):
        decode(Compression.ZSTD, rle_frame(1000, 100_000), 1000)
    assert decode(Compression.ZSTD, rle_frame(1000, 1000), 1000) == b"\0" * 1000


def test_a_big_chunk_is_compressed_when_only_part_of_it_compresses():
    """Big chunks are tried whole only when a sample shrinks (random data is not); the
    sample spans the chunk, so one compressible quarter is enough to try the whole."""
    size = 1 << 20
    noise = os.urandom(size)
    assert encode(noise) == (Compression.NONE, noise)
    for quarter in range(4):
        mixed = bytearray(noise)
        mixed[quarter * size // 4:(quarter + 1) * size // 4] = (b"text " * size)[:size // 4]
        compression, frame = encode(bytes(mixed))
        assert compression is Compression.ZSTD and len(frame) < size * 4 // 5, quarter
        assert decode(compression, frame, size) == mixed
