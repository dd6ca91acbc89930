"""A tiny in-memory ControlPlaneService on a real grpc.aio server (127.0.0.1, port 0).

Why a fake and not the real server: these tests pin the client's own behaviour (retries,
error parsing, metadata) by making the server fail on cue, which the real one can't.
Failures are queued per RPC name. A write (create, delete) fails *after* its effect,
like a reply lost on the way back, so the tests also cover what a retry finds.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import defaultdict

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from blockstore.v1 import common_pb2, control_plane_pb2 as cp, control_plane_pb2_grpc


def rich_trailers(code: grpc.StatusCode, reason: str, message: str,
                  retry_delay: float | None = None) -> tuple:
    """Trailing metadata carrying google.rpc.Status + ErrorInfo (+ RetryInfo), as the server does."""
    status = status_pb2.Status(code=code.value[0], message=message)
    info = error_details_pb2.ErrorInfo(reason=reason, domain="blockstore", metadata={"k": "v"})
    status.details.add().Pack(info)
    if retry_delay is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(retry_delay * 1e9))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return (("grpc-status-details-bin", status.SerializeToString()),)


class FakeControlPlane(control_plane_pb2_grpc.ControlPlaneServiceServicer):
    def __init__(self) -> None:
        self.failures: dict[str, list[tuple]] = defaultdict(list)
        self.calls: dict[str, list] = defaultdict(list)
        self.volumes: dict[str, common_pb2.Volume] = {}

    def fail(self, rpc: str, code: grpc.StatusCode, times: int = 1, reason: str = "",
             retry_delay: float | None = None) -> None:
        self.failures[rpc].extend([(code, reason, retry_delay)] * times)

    async def _record(self, rpc: str, request, context) -> None:
        self.calls[rpc].append((request, dict(context.invocation_metadata())))

    async def _maybe_fail(self, rpc: str, context) -> None:
        if self.failures[rpc]:
            code, reason, delay = self.failures[rpc].pop(0)
            message = f"injected {code.name} for {rpc}"
            await context.abort(code, message, rich_trailers(code, reason, message, delay))

    async def CreateVolume(self, request, context):
        await self._record("CreateVolume", request, context)
        vol = common_pb2.Volume(volume_id=f"vol-{len(self.volumes) + 1}",
                                size_bytes=request.size_bytes or 1 << 30,
                                chunk_size=request.chunk_size or 1 << 20, open_version=1,
                                labels=request.labels)
        self.volumes[vol.volume_id] = vol
        await self._maybe_fail("CreateVolume", context)
        return cp.CreateVolumeResponse(volume=vol)

    async def GetVolume(self, request, context):
        await self._record("GetVolume", request, context)
        await self._maybe_fail("GetVolume", context)
        if request.volume_id not in self.volumes:
            msg = f"volume {request.volume_id} not found"
            await context.abort(grpc.StatusCode.NOT_FOUND, msg,
                                rich_trailers(grpc.StatusCode.NOT_FOUND, "INVALID_VOLUME_ID", msg))
        return cp.GetVolumeResponse(volume=self.volumes[request.volume_id])

    async def ListVolumes(self, request, context):
        """Pages of `page_size` (default 2, to exercise paging), token = next index."""
        await self._record("ListVolumes", request, context)
        await self._maybe_fail("ListVolumes", context)
        start, size = int(request.page_token or 0), request.page_size or 2
        vols = list(self.volumes.values())
        nxt = str(start + size) if start + size < len(vols) else ""
        return cp.ListVolumesResponse(volumes=vols[start:start + size], next_page_token=nxt)

    async def DeleteVolume(self, request, context):
        await self._record("DeleteVolume", request, context)
        if self.volumes.pop(request.volume_id, None) is None and not request.allow_missing:
            msg = f"volume {request.volume_id} not found"
            await context.abort(grpc.StatusCode.NOT_FOUND, msg,
                                rich_trailers(grpc.StatusCode.NOT_FOUND, "INVALID_VOLUME_ID", msg))
        await self._maybe_fail("DeleteVolume", context)
        return cp.DeleteVolumeResponse()


@contextlib.asynccontextmanager
async def serve(servicer):
    """The fake on the current event loop; yields its HOST:PORT."""
    server = grpc.aio.server()
    control_plane_pb2_grpc.add_ControlPlaneServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


@contextlib.contextmanager
def serve_in_thread(servicer):
    """The fake on its own loop thread, for synchronous callers (sync Client, the CLI)."""
    loop, ready, stop = asyncio.new_event_loop(), threading.Event(), None
    address: list[str] = []

    async def run() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with serve(servicer) as addr:
            address.append(addr)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    assert ready.wait(10), "fake server did not start"
    try:
        yield address[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
