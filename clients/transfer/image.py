"""Local images: positional chunk reads, hashing and block encoding, from worker threads.

An image shorter than the volume reads as zeros past its end, so a volume rounded up to
512 bytes (or larger than the file) gets the image followed by zeros.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import blake3

from blockstore.compressible import compressor, worth_compressing
from blockstore.protowire import varint
from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp

ZERO, REFERENCE, DATA = "zero", "reference", "data"


@dataclass(slots=True)
class Chunk:
    index: int
    offset: int
    length: int
    token: bytes | None            # BLAKE3-256 of the plain bytes; None: all zeros
    data: bytes | None = None      # kept only while it may still be sent as data
    kind: str = ""                 # ZERO, REFERENCE or DATA once planned
    sent: int = 0                  # data bytes put on the wire (compressed or not)


def file_size(path: str) -> int:
    """Bytes in a regular file or block device (whose st_size is 0)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


class ImageReader:
    """Chunks of a local file or block device laid out on a volume's geometry."""

    def __init__(self, path: str, volume_size: int, chunk_size: int) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.image_size = os.lseek(self.fd, 0, os.SEEK_END)
        self.size, self.chunk_size = volume_size, chunk_size
        self._zeros = bytes(chunk_size)

    def close(self) -> None:
        os.close(self.fd)

    def chunk_count(self) -> int:
        return -(-self.size // self.chunk_size)

    def length(self, index: int) -> int:
        return min(self.chunk_size, self.size - index * self.chunk_size)

    def read(self, index: int) -> bytes:
        offset, length = index * self.chunk_size, self.length(index)
        data = os.pread(self.fd, max(0, min(length, self.image_size - offset)), offset)
        return data if len(data) == length else data.ljust(length, b"\0")

    def hash(self, index: int) -> Chunk:
        """The chunk with its token and data (None for an all-zero chunk)."""
        data = self.read(index)
        if data == self._zeros[:len(data)]:
            return Chunk(index, index * self.chunk_size, len(data), None)
        return Chunk(index, index * self.chunk_size, len(data),
                     blake3.blake3(data).digest(), data)


def encode(chunk: Chunk, level: int) -> bytes:
    """The serialized stream message of a planned chunk; data compressed when that saves
    bytes. Built and serialized here, in a worker thread: doing either on the event loop
    copies the chunk's bytes on the one thread that also drives gRPC. Sets `chunk.sent`."""
    request = dp.UploadBlocksRequest()
    block = request.block
    block.offset, block.length = chunk.offset, chunk.length
    if chunk.kind == ZERO:
        block.zero = True
        return request.SerializeToString()
    block.checksum = chunk.token
    if chunk.kind == REFERENCE:
        return request.SerializeToString()
    data, block.compression = chunk.data, pb.COMPRESSION_NONE
    if level and worth_compressing(data, compressor(level)):
        frame = compressor(level).compress(data)
        if len(frame) < len(data):
            data, block.compression = frame, pb.COMPRESSION_ZSTD
    chunk.sent = len(data)
    return with_data(block, data)


# Field tags (number << 3 | 2, length-delimited) of UploadBlocksRequest.block and
# UploadBlock.data in protos/blockstore/v1/data_plane.proto.
_BLOCK_TAG, _DATA_TAG = b"\x12", b"\x2a"


def with_data(block: dp.UploadBlock, data: bytes) -> bytes:
    """UploadBlocksRequest{block} serialized with `data` as the block's data, copying the
    data once: setting `block.data` and serializing copies it twice. A parser reads the
    fields of a message in any order, so the data field after the others is the same
    message (tests/clients/test_image_encode.py parses it back)."""
    head = block.SerializeToString()
    field = _DATA_TAG + varint(len(data))
    return b"".join((_BLOCK_TAG, varint(len(head) + len(field) + len(data)), head, field,
                     data))


def hash_many(reader: "ImageReader", indexes: range) -> list[Chunk]:
    """Several chunks per worker call: fewer wake-ups of the event loop per MiB."""
    return [reader.hash(i) for i in indexes]


def encode_many(chunks: list[Chunk], level: int) -> list[bytes]:
    """`encode` for several chunks in one worker call: small chunks paid a thread hop
    (two event-loop wake-ups) each, zero and reference blocks included."""
    return [encode(c, level) for c in chunks]
