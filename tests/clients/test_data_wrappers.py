"""Data-plane wrappers against a fake DataPlaneService on a real grpc.aio channel:
request shaping (target first, one block per message), batching, paging, typed errors."""

import grpc
import pytest

from blockstore.v1 import data_plane_pb2 as dp, data_plane_pb2_grpc
from clients import AsyncClient, OutOfRange, snapshot_target
from clients.data import MAX_TOKENS_PER_CALL


class FakeDataPlane(data_plane_pb2_grpc.DataPlaneServiceServicer):
    def __init__(self):
        self.uploaded, self.find_calls = [], []

    async def UploadBlocks(self, request_iterator, context):
        self.uploaded = [m async for m in request_iterator]
        return dp.UploadBlocksResponse(blocks_written=len(self.uploaded) - 1)

    async def DownloadBlocks(self, request, context):
        for r in request.ranges:
            yield dp.DownloadBlocksResponse(offset=r.offset, length=r.length, zero=True)
        await context.abort(grpc.StatusCode.OUT_OF_RANGE, "range past the end")

    async def FindMissingChunks(self, request, context):
        self.find_calls.append(len(request.tokens))
        return dp.FindMissingChunksResponse(missing_tokens=request.tokens[:1])

    async def ListBlocks(self, request, context):
        start = int(request.page_token or 0)
        nxt = str(start + 1) if start < 2 else ""
        return dp.ListBlocksResponse(blocks=[dp.BlockEntry(offset=start)], next_page_token=nxt)


@pytest.fixture
async def pair():
    fake, server = FakeDataPlane(), grpc.aio.server()
    data_plane_pb2_grpc.add_DataPlaneServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with AsyncClient(f"127.0.0.1:{port}", "tok") as client:
        yield fake, client
    await server.stop(None)


async def _agen(blocks):
    for b in blocks:
        yield b


@pytest.mark.parametrize("wrap", [list, _agen], ids=["sync-iterable", "async-iterable"])
async def test_upload_sends_target_first_then_one_block_per_message(pair, wrap):
    fake, client = pair
    blocks = [dp.UploadBlock(offset=i * 65536, zero=True) for i in range(3)]
    resp = await client.upload_blocks(snapshot_target("snap-1", 4), wrap(blocks))
    assert resp.blocks_written == 3
    assert fake.uploaded[0].WhichOneof("message") == "target"
    assert fake.uploaded[0].target.snapshot_id == "snap-1"
    assert fake.uploaded[0].target.data_version == 4
    assert [m.block for m in fake.uploaded[1:]] == blocks


async def test_a_sized_stream_announces_its_block_count(pair):
    fake, client = pair
    blocks = [dp.UploadBlock(offset=i * 65536, zero=True) for i in range(3)]
    target = snapshot_target("snap-1", 4)
    await client.upload_blocks(target, blocks)
    assert fake.uploaded[0].target.block_count == 3, \
        "a list of blocks tells the server how many to expect, so a cut stream can't commit"
    assert target.block_count == 0, "the caller's target message is left as it was"
    await client.upload_blocks(target, _agen(blocks))
    assert fake.uploaded[0].target.block_count == 0, \
        "an unsized stream announces nothing rather than a wrong count"


async def test_find_missing_batches_at_the_server_limit(pair):
    fake, client = pair
    tokens = [i.to_bytes(32, "big") for i in range(MAX_TOKENS_PER_CALL + 5)]
    missing = await client.find_missing_chunks(tokens)
    assert fake.find_calls == [MAX_TOKENS_PER_CALL, 5]
    assert missing == [tokens[0], tokens[MAX_TOKENS_PER_CALL]]


async def test_list_blocks_follows_pages_and_needs_one_source(pair):
    _, client = pair
    assert [b.offset async for b in client.list_blocks(volume_id="vol-1")] == [0, 1, 2]
    with pytest.raises(ValueError):
        await client.list_blocks_page(volume_id="vol-1", snapshot_id="snap-1")


async def test_download_yields_blocks_then_raises_typed_error(pair):
    _, client = pair
    got = []
    with pytest.raises(OutOfRange):
        async for blk in client.download_blocks(snapshot_id="snap-1", ranges=[(0, 10), (10, 5)]):
            got.append((blk.offset, blk.length))
    assert got == [(0, 10), (10, 5)]


async def test_an_error_in_the_callers_blocks_comes_out_as_itself_not_as_a_cancellation(pair):
    """grpc.aio swallows an exception from the request iterator and cancels the call; the
    wrapper gives the caller its own error back (a bare CancelledError would look like
    the caller's task being cancelled, and a retry loop could not tell them apart)."""
    _, client = pair

    async def failing():
        yield dp.UploadBlock(offset=0, zero=True)
        raise OSError("the image could not be read at offset 65536")

    with pytest.raises(OSError, match="offset 65536"):
        await client.upload_blocks(snapshot_target("snap-1", 4), failing())


async def test_a_plane_that_goes_away_mid_stream_is_unavailable_never_a_cancellation():
    """The server stops while the stream is being fed: the caller gets UNAVAILABLE (what
    the retry loop and the plane picker act on), whichever way grpc.aio ends the call."""
    import asyncio

    from clients import Unavailable

    started = asyncio.Event()

    class Stalling(data_plane_pb2_grpc.DataPlaneServiceServicer):
        async def UploadBlocks(self, request_iterator, context):
            async for _ in request_iterator:
                started.set()
            return dp.UploadBlocksResponse()

    server = grpc.aio.server()
    data_plane_pb2_grpc.add_DataPlaneServiceServicer_to_server(Stalling(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()

    async def paced():
        for i in range(1000):
            yield dp.UploadBlock(offset=i * 65536, zero=True)
            await asyncio.sleep(0.005)

    async with AsyncClient(f"127.0.0.1:{port}", "tok") as client:
        call = asyncio.ensure_future(client.upload_blocks(snapshot_target("snap-1", 4),
                                                          paced()))
        await started.wait()
        await server.stop(None)
        with pytest.raises(Unavailable):
            await call


async def test_a_stream_the_server_refuses_early_gets_the_servers_answer_every_time():
    """The server refuses the stream on its target while the client is still sending: the
    caller gets the server's code and reason, not grpc.aio's own INTERNAL for the send
    that failed after the refusal (a gateway halves its streams on STREAM_TOO_LONG only)."""
    from clients import InvalidArgument
    from tests.clients.fakeserver import rich_trailers

    class Refusing(data_plane_pb2_grpc.DataPlaneServiceServicer):
        async def UploadBlocks(self, request_iterator, context):
            await request_iterator.__anext__()
            msg = "stream of 40000 blocks is longer than 32768"
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, msg,
                                rich_trailers(grpc.StatusCode.INVALID_ARGUMENT,
                                              "STREAM_TOO_LONG", msg))

    server = grpc.aio.server()
    data_plane_pb2_grpc.add_DataPlaneServiceServicer_to_server(Refusing(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    block = dp.UploadBlock(offset=0, length=65536, data=b"\x01" * 65536)
    try:
        async with AsyncClient(f"127.0.0.1:{port}", "tok") as client:
            for _ in range(40):
                with pytest.raises(InvalidArgument) as refused:
                    await client.upload_blocks(snapshot_target("snap-1", 4), [block] * 400)
                assert refused.value.reason == "STREAM_TOO_LONG"
    finally:
        await server.stop(None)
