"""clients/transfer/wire.py reads a DownloadBlocksResponse exactly as the generated parser
does (field order, repeats, unknown fields, truncation), with its data as a view; and a
message that does not parse ends a download with DATA_LOSS, writing nothing."""

import os
import random

import grpc
import pytest
from google.protobuf.message import DecodeError

from blockstore.v1 import common_pb2 as pb, data_plane_pb2 as dp
from clients import AsyncClient, DataLoss
from clients.transfer import download_to_fd
from clients.transfer.wire import parse_block

FIELDS = ("offset", "length", "checksum", "compression", "data", "zero")


def same(raw: bytes) -> None:
    """parse_block(raw) agrees with the generated parser: same fields, or both refuse."""
    try:
        want = dp.DownloadBlocksResponse.FromString(raw)
    except DecodeError:
        with pytest.raises(ValueError):
            parse_block(raw)
        return
    got = parse_block(raw)
    assert {f: bytes(v) if f == "data" else v for f in FIELDS
            for v in [getattr(got, f)]} == {f: getattr(want, f) for f in FIELDS}


MESSAGES = [
    dp.DownloadBlocksResponse(),
    dp.DownloadBlocksResponse(offset=5 << 40, length=1 << 20, zero=True),
    dp.DownloadBlocksResponse(offset=1 << 20, length=4096, checksum=os.urandom(32),
                              compression=pb.COMPRESSION_ZSTD, data=os.urandom(300)),
    dp.DownloadBlocksResponse(offset=-1, length=-7, compression=-3, data=b"\0" * 200),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=range(len(MESSAGES)))
def test_reads_what_the_generated_class_writes(msg):
    raw = msg.SerializeToString()
    same(raw)
    assert isinstance(parse_block(raw).data, (memoryview, bytes))


def test_data_is_a_view_into_the_message_not_a_copy():
    raw = dp.DownloadBlocksResponse(offset=0, length=100, data=b"x" * 100).SerializeToString()
    data = parse_block(raw).data
    assert isinstance(data, memoryview) and data.obj is raw


def test_any_field_order_repeats_and_unknown_fields_as_protobuf_reads_them():
    rng = random.Random(7)
    unknown = [b"\x38\x05", b"\x42\x03abc", b"\x49" + bytes(8), b"\x55" + bytes(4)]  # 7-10
    parts = [m.SerializeToString() for m in MESSAGES] + unknown
    for _ in range(200):
        same(b"".join(rng.sample(parts, rng.randint(1, len(parts)))))


def test_truncations_and_wrong_wire_types_are_read_as_protobuf_reads_them():
    raw = MESSAGES[2].SerializeToString()
    for end in range(len(raw)):
        same(raw[:end])
    same(b"\x0a\x01x")                     # field 1 (int64) as bytes: an unknown field
    same(b"\x2a\x80\x80\x80\x80\x10x")     # data longer than the message
    same(b"\x0b")                           # a group start: not proto3


async def test_a_message_that_does_not_parse_is_data_loss(tmp_path):
    async def broken(request, context):
        yield b"\x2a\x10short"              # data field claims 16 bytes, carries 5

    server = grpc.aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "blockstore.v1.DataPlaneService",
        {"DownloadBlocks": grpc.unary_stream_rpc_method_handler(broken)})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    out = tmp_path / "out"
    try:
        async with AsyncClient(f"127.0.0.1:{port}", "tok") as client:
            with open(out, "wb") as f, pytest.raises(DataLoss) as err:
                await download_to_fd(client, f.fileno(), 1 << 20, snapshot_id="snap-1")
    finally:
        await server.stop(None)
    assert err.value.reason == "CLIENT_VERIFICATION_FAILED"
    assert "snapshot snap-1" in err.value.message and "does not parse" in err.value.message
    assert out.stat().st_size == 0
