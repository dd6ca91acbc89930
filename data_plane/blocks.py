"""Checking and preparing uploaded blocks; `prepare_batch` runs in a worker thread.

Owns the shape checks of an upload block (range, alignment, length, duplicates,
compression, checksum size) and its preparation (decode, BLAKE3, all-zero detection,
storage form). Rules: a block's BLAKE3 is verified against its plain bytes before
anything is stored; a failure is a domain error naming the block's offset and the
volume or snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import blake3

from blockstore.errors import (BlockOutOfRange, ChecksumMismatch, DuplicateBlock,
                               InvalidArgument, InvalidBlockData, UnalignedBlock)
from chunkstore import Compression, DecodeError, decode, encode

TOKEN_BYTES = 32


@dataclass(frozen=True)
class BlockIn:
    """An UploadBlock as the domain sees it (compression: "none", "zstd" or other)."""

    offset: int
    length: int
    checksum: bytes
    compression: str
    data: bytes
    zero: bool

    @property
    def is_reference(self) -> bool:
        return not self.zero and not self.data


@dataclass(frozen=True)
class Prepared:
    """A verified data block: token, plain bytes and how it arrived on the wire."""

    token: bytes | None           # None: all zeros
    plain: bytes
    wire: bytes
    wire_compression: Compression


def check_shape(block: BlockIn, size: int, chunk: int, seen: set[int], name: str) -> int:
    """Alignment, range, length, duplicates; returns the chunk index."""
    if block.offset < 0 or block.offset >= size:
        raise BlockOutOfRange(f"block at offset {block.offset} is outside {name} "
                              f"({size} bytes)", offset=block.offset)
    if block.offset % chunk:
        raise UnalignedBlock(f"block at offset {block.offset} of {name} is not aligned to "
                             f"its chunk size {chunk}", offset=block.offset)
    expected = min(chunk, size - block.offset)
    if block.length != expected:
        raise UnalignedBlock(f"block at offset {block.offset} of {name} has length "
                             f"{block.length}; it must be {expected}", offset=block.offset)
    index = block.offset // chunk
    if index in seen:
        raise DuplicateBlock(f"offset {block.offset} of {name} appears twice in one stream",
                             offset=block.offset)
    if block.compression not in ("none", "zstd"):
        raise InvalidArgument(f"block at offset {block.offset}: unknown compression "
                              f"{block.compression}", offset=block.offset)
    if not block.zero and len(block.checksum) != TOKEN_BYTES:
        raise ChecksumMismatch(f"block at offset {block.offset} of {name} needs a 32-byte "
                               f"BLAKE3 checksum, got {len(block.checksum)} bytes",
                               offset=block.offset)
    if block.zero and block.data:
        raise InvalidArgument(f"block at offset {block.offset} is marked zero but carries "
                              "data", offset=block.offset)
    seen.add(index)
    return index


def prepare(block: BlockIn, name: str, zeros: bytes) -> Prepared:
    """Decode within the block length, verify BLAKE3, detect all-zero data."""
    if block.compression == "zstd":
        try:
            plain = decode(Compression.ZSTD, block.data, block.length)
        except DecodeError as err:
            raise InvalidBlockData(f"block at offset {block.offset} of {name}: zstd data does "
                                   f"not decode to {block.length} bytes ({err})",
                                   offset=block.offset) from None
    else:
        plain = block.data
        if len(plain) != block.length:
            raise InvalidBlockData(f"block at offset {block.offset} of {name} carries "
                                   f"{len(plain)} bytes; its length is {block.length}",
                                   offset=block.offset)
    token = blake3.blake3(plain).digest()
    if token != block.checksum:
        raise ChecksumMismatch(f"block at offset {block.offset} of {name} failed its BLAKE3 "
                               f"checksum (got {token.hex()[:16]}..., expected "
                               f"{block.checksum.hex()[:16]}...)", offset=block.offset)
    if plain == zeros[:len(plain)]:
        return Prepared(None, b"", b"", Compression.NONE)
    wire_compression = Compression.ZSTD if block.compression == "zstd" else Compression.NONE
    return Prepared(token, plain, block.data, wire_compression)


def storage_form(prepared: Prepared, level: int) -> tuple[Compression, bytes]:
    """Keep a client's zstd frame when it is smaller; else compress if that saves space."""
    if prepared.wire_compression is Compression.ZSTD and len(prepared.wire) < len(prepared.plain):
        return Compression.ZSTD, prepared.wire
    return encode(prepared.plain, level)


def prepare_and_encode(block: BlockIn, name: str, zeros: bytes,
                       level: int) -> tuple[Prepared, tuple[Compression, bytes]]:
    """`prepare` then `storage_form` in one worker-thread hop (zero blocks: nothing to store)."""
    prepared = prepare(block, name, zeros)
    if prepared.token is None:
        return prepared, (Compression.NONE, b"")
    return prepared, storage_form(prepared, level)


def prepare_batch(blocks: list[BlockIn], name: str, zeros: bytes,
                  level: int) -> list[tuple[Prepared, tuple[Compression, bytes]]]:
    """`prepare_and_encode` for each block of a batch, in order: one thread hop for all."""
    return [prepare_and_encode(block, name, zeros, level) for block in blocks]
