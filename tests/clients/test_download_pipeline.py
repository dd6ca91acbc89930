"""A download stream asks for its next range while the blocks of the previous one are
still being written, so the server is not left idle while the client catches up; every
block is still written, verified, before the download returns."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import blake3
import grpc

from blockstore.v1 import common_pb2 as pb, data_plane_pb2 as dp
from clients import AsyncClient
from clients.transfer import Tuning, download_to_fd

CHUNK = 64 << 10
DATA = [os.urandom(CHUNK) for _ in range(3)]


class GatedWrites(ThreadPoolExecutor):
    """Each task waits (at most 5 s) for `gate`; records whether it was open by then."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__(2)
        self.gate, self.opened = gate, []

    def submit(self, fn, *args, **kwargs):
        def gated():
            self.opened.append(self.gate.wait(5))
            return fn(*args, **kwargs)
        return super().submit(gated)


async def test_the_next_request_goes_out_before_the_previous_blocks_are_written(tmp_path):
    asked, gate = [], threading.Event()

    async def download(request, context):
        asked.append(request.ranges[0].offset)
        if len(asked) == len(DATA):
            gate.set()                   # every range asked for: writes may go on
        for r in request.ranges:
            data = DATA[r.offset // CHUNK]
            yield dp.DownloadBlocksResponse(offset=r.offset, length=CHUNK, data=data,
                                            checksum=blake3.blake3(data).digest(),
                                            compression=pb.COMPRESSION_NONE)

    server = grpc.aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "blockstore.v1.DataPlaneService", {"DownloadBlocks": grpc.unary_stream_rpc_method_handler(
            download, request_deserializer=dp.DownloadBlocksRequest.FromString,
            response_serializer=dp.DownloadBlocksResponse.SerializeToString)})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    executor = GatedWrites(gate)
    out = tmp_path / "out"
    # One stream, one chunk per request, a window of four blocks.
    tuning = Tuning(streams=1, max_inflight=4 * CHUNK)
    try:
        async with AsyncClient(f"127.0.0.1:{port}", "tok") as client:
            with open(out, "wb") as f:
                os.ftruncate(f.fileno(), len(DATA) * CHUNK)
                stats = await download_to_fd(client, f.fileno(), len(DATA) * CHUNK, executor,
                                             snapshot_id="snap-1", tuning=tuning,
                                             chunk_size=CHUNK)
    finally:
        executor.shutdown()
        await server.stop(None)
    assert asked == [0, CHUNK, 2 * CHUNK]
    assert executor.opened[:len(DATA)] == [True] * len(DATA), \
        "all three ranges were asked for while the first block's write still waited"
    assert out.read_bytes() == b"".join(DATA) and stats.streams == len(DATA)
