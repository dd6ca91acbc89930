"""Hypothesis strategies for upload streams: a target, some valid blocks, one bad block.

Each bad-block kind knows the exact (status, reason) the server must answer with. Valid
blocks go first so a failing stream also proves all-or-nothing: none of them may commit.
"""

from __future__ import annotations

import os

import zstandard
from hypothesis import strategies as st

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dpb
from tests.hostile.world import CHUNK, SIZE, b3, block, target

NONE, ZSTD = pb.COMPRESSION_NONE, pb.COMPRESSION_ZSTD
OUT_OF_RANGE = ("OUT_OF_RANGE", "BLOCK_OUT_OF_RANGE")
UNALIGNED = ("INVALID_ARGUMENT", "UNALIGNED_BLOCK")
MISMATCH = ("INVALID_ARGUMENT", "CHECKSUM_MISMATCH")
BAD_DATA = ("INVALID_ARGUMENT", "INVALID_BLOCK_DATA")
BAD_ARG = ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
DUPLICATE = ("INVALID_ARGUMENT", "DUPLICATE_BLOCK")
UNKNOWN_REF = ("FAILED_PRECONDITION", "UNKNOWN_CHUNK_TOKEN")
NO_VOLUME = ("NOT_FOUND", "INVALID_VOLUME_ID")
NO_SNAPSHOT = ("NOT_FOUND", "INVALID_SNAPSHOT_ID")
BAD_VERSION = ("FAILED_PRECONDITION", "INVALID_DATA_VERSION")
COMPLETE = ("FAILED_PRECONDITION", "SNAPSHOT_ALREADY_COMPLETE")
COUNT = ("INVALID_ARGUMENT", "BLOCK_COUNT_MISMATCH")
SLOTS = SIZE // CHUNK         # full chunks 0..15; chunk 16 is the 512-byte tail


def raw(offset, length, data, checksum, compression=NONE, zero=False):
    return dpb.UploadBlocksRequest(block=dpb.UploadBlock(
        offset=offset, length=length, checksum=checksum, data=data,
        compression=compression, zero=zero))


def bomb_claiming(size: int) -> bytes:
    """A tiny frame of zeros whose header claims `size` bytes."""
    return zstandard.ZstdCompressor(level=19, write_content_size=True).compress(bytes(size))


def bomb_unsized(factor: int) -> bytes:
    """A frame without content size that inflates to `factor` chunks of zeros."""
    cobj = zstandard.ZstdCompressor(level=19, write_content_size=False).compressobj()
    return cobj.compress(bytes(factor * CHUNK)) + cobj.flush()


BOMBS = {"claims-4MiB": bomb_claiming(4 << 20), "claims-64MiB": bomb_claiming(64 << 20),
         "unsized-100x": bomb_unsized(100), "unsized-2x": bomb_unsized(2)}


@st.composite
def bad_block(draw, offset: int, foreign_token: bytes):
    """(message, expected failure) for one block that must be rejected at `offset`."""
    data = os.urandom(CHUNK)
    kind = draw(st.sampled_from([
        "out-of-range", "unaligned", "length", "checksum", "checksum-length", "compression",
        "bomb", "garbage-zstd", "raw-size", "unknown-ref", "foreign-ref", "zero-with-data"]))
    if kind == "out-of-range":
        off = draw(st.one_of(st.integers(-(1 << 63), -1), st.integers(SIZE, (1 << 63) - 1)))
        return raw(off, CHUNK, data, b3(data)), OUT_OF_RANGE
    if kind == "unaligned":
        return raw(offset + draw(st.integers(1, CHUNK - 1)), CHUNK, data, b3(data)), UNALIGNED
    if kind == "length":
        length = draw(st.integers(-(1 << 63), (1 << 63) - 1).filter(lambda n: n != CHUNK))
        return raw(offset, length, data, b3(data)), UNALIGNED
    if kind == "checksum":
        return raw(offset, CHUNK, data, os.urandom(32)), MISMATCH
    if kind == "checksum-length":
        n = draw(st.integers(1, 80).filter(lambda n: n != 32))
        return raw(offset, CHUNK, data, os.urandom(n)), MISMATCH
    if kind == "compression":
        c = draw(st.one_of(st.integers(3, (1 << 31) - 1), st.integers(-(1 << 31), -1)))
        return raw(offset, CHUNK, data, b3(data), compression=c), BAD_ARG
    if kind == "bomb":
        frame = BOMBS[draw(st.sampled_from(sorted(BOMBS)))]
        return raw(offset, CHUNK, frame, b3(bytes(CHUNK)), ZSTD), BAD_DATA
    if kind == "garbage-zstd":
        junk = draw(st.binary(max_size=200))
        return raw(offset, CHUNK, b"\x28\xb5\x2f\xfd" + junk, b3(data), ZSTD), BAD_DATA
    if kind == "raw-size":
        n = draw(st.integers(1, 2 * CHUNK).filter(lambda n: n != CHUNK))
        payload = os.urandom(n)
        return raw(offset, CHUNK, payload, b3(payload)), BAD_DATA
    if kind == "unknown-ref":
        return raw(offset, CHUNK, b"", os.urandom(32)), UNKNOWN_REF
    if kind == "foreign-ref":
        return raw(offset, CHUNK, b"", foreign_token), UNKNOWN_REF
    return raw(offset, CHUNK, b"x", b"", zero=True), BAD_ARG


@st.composite
def good_blocks(draw, slots: list[int]):
    out = []
    for slot in slots:
        kind = draw(st.sampled_from(["raw", "zstd", "zero"]))
        data = None if kind == "zero" else os.urandom(CHUNK // 2) + bytes(CHUNK // 2)
        out.append(block(slot * CHUNK, data, CHUNK, zstd=kind == "zstd"))
    return out


@st.composite
def first_message(draw, world):
    """(first message, expected failure or None when the target is valid)."""
    a, b = world.a, world.b
    version = int(a.ids["pending_version"])
    kind = draw(st.sampled_from(["canary", "canary", "canary", "pending", "bad-version",
                                 "garbage-volume", "foreign-volume", "garbage-snapshot",
                                 "foreign-snapshot", "completed", "empty-target",
                                 "block-first", "nothing"]))
    open_version = int(a.ids["canary_open"])    # the version after the canary snapshot's
    if kind == "canary":
        return target(a.ids["canary"], version=draw(st.sampled_from([0, open_version]))), None
    if kind == "pending":
        return target(snapshot_id=a.ids["pending"], version=version), None
    if kind == "bad-version":
        v = draw(st.integers(-(1 << 63), (1 << 63) - 1).filter(
            lambda n: n not in (0, open_version)))
        return target(a.ids["canary"], version=v), BAD_VERSION
    if kind == "garbage-volume":
        vid = draw(st.text(max_size=30).filter(bool)) if draw(st.booleans()) else \
            "vol-" + os.urandom(12).hex()
        return target(vid), NO_VOLUME
    if kind == "foreign-volume":
        return target(b.ids["volume"]), NO_VOLUME
    if kind == "garbage-snapshot":
        return target(snapshot_id="snap-" + os.urandom(12).hex(), version=1), NO_SNAPSHOT
    if kind == "foreign-snapshot":
        sid = draw(st.sampled_from(world.foreign_snapshots))
        return target(snapshot_id=sid, version=draw(st.integers(0, 3))), NO_SNAPSHOT
    if kind == "completed":
        return target(snapshot_id=a.ids["canary_snap"], version=open_version - 1), COMPLETE
    if kind == "empty-target":
        return dpb.UploadBlocksRequest(target=dpb.UploadTarget()), NO_VOLUME
    if kind == "block-first":
        return block(0, os.urandom(CHUNK), CHUNK), BAD_ARG
    return dpb.UploadBlocksRequest(), BAD_ARG
