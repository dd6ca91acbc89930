"""data_plane/servicer_wire.block_wire: the hand-framed DownloadBlocksResponse reads back,
with the generated class and with the client's in-place reader, as the message the
generated class would have built field by field."""

import os

import pytest

from blockstore.v1 import common_pb2 as pb, data_plane_pb2 as dp
from chunkstore import Compression
from clients.transfer.wire import parse_block
from data_plane.download import BlockOut
from data_plane.servicer_wire import block_wire

FIELDS = ("offset", "length", "checksum", "compression", "data", "zero")
SIZES = [0, 1, 127, 128, 16383, 16384, 1 << 20, (4 << 20) + 3]


def blocks():
    yield BlockOut(0, 1 << 20, zero=True)
    yield BlockOut(1 << 40, 5, os.urandom(32), Compression.NONE, b"hello")
    for n in SIZES:
        yield BlockOut(n << 20, max(n, 1), os.urandom(32), Compression.ZSTD, os.urandom(n))


@pytest.mark.parametrize("block", list(blocks()), ids=lambda b: f"{b.zero}-{len(b.data)}")
def test_block_wire_reads_back_as_the_generated_message(block):
    want = dp.DownloadBlocksResponse(
        offset=block.offset, length=block.length, checksum=block.checksum,
        compression={Compression.NONE: pb.COMPRESSION_NONE,
                     Compression.ZSTD: pb.COMPRESSION_ZSTD}[block.compression],
        data=block.data, zero=block.zero)
    raw = block_wire(block)
    assert dp.DownloadBlocksResponse.FromString(raw) == want
    got = parse_block(raw)
    assert {f: bytes(getattr(got, f)) if f == "data" else getattr(got, f) for f in FIELDS} \
        == {f: getattr(want, f) for f in FIELDS}
    assert len(raw) == want.ByteSize(), "no byte more than the generated encoding"
