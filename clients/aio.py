"""`AsyncClient`: the asyncio client of both Blockstore services over one grpc.aio channel.

Which calls are retried, and why it is safe:
- reads (Get*, List*, FindMissingChunks) change nothing, so they are always retried;
- creates always carry an idempotency key (one is generated per logical call when the
  caller gives none), so a repeat returns the first result instead of a duplicate;
- deletes and progress reports converge on one end state; a retry that finds the work
  already done (NOT_FOUND after a delete, SNAPSHOT_ALREADY_COMPLETE after reporting 1.0)
  is treated as the earlier, unacknowledged attempt having succeeded;
- streams (UploadBlocks, DownloadBlocks) are not retried here: their input can not be
  replayed in general. Each upload stream commits atomically, so the caller re-sends it.

DataPlaneService calls go to the live data planes the given address lists
(clients/planes.py), in turn; one that answers UNAVAILABLE is skipped for a while, so a
retry (ours for unary calls, the caller's for streams) reaches another process.
"""

from __future__ import annotations

import grpc

from blockstore.v1 import control_plane_pb2 as cp
from blockstore.v1 import control_plane_pb2_grpc
from clients.channel import Pem, auth_metadata, open_channel
from clients.control import ControlPlaneMethods
from clients.data import DataPlaneMethods
from clients.errors import from_rpc_error
from clients.planes import DataPlaneRouter
from clients.sharing import SharingMethods
from clients.retry import RetryPolicy, call_with_retry


class AsyncClient(ControlPlaneMethods, DataPlaneMethods, SharingMethods):
    """Every RPC of ControlPlaneService and DataPlaneService, typed errors, retries, deadlines.

    Create it inside a running event loop (grpc.aio binds the channel to it); use it as
    `async with AsyncClient(...) as c:` or call `await c.close()`.
    """

    def __init__(self, address: str, token: str, *, ca_cert: Pem | None = None,
                 client_cert: Pem | None = None, client_key: Pem | None = None,
                 timeout: float = 30.0, stream_timeout: float = 3600.0,
                 retry: RetryPolicy | None = None) -> None:
        if timeout <= 0 or stream_timeout <= 0:
            raise ValueError("timeouts must be positive: every call carries a deadline")
        self.address, self.timeout, self.stream_timeout = address, timeout, stream_timeout
        self.retry = retry or RetryPolicy()
        self._metadata = auth_metadata(token)
        self._channel = open_channel(address, ca_cert, client_cert, client_key)
        self._cp = control_plane_pb2_grpc.ControlPlaneServiceStub(self._channel)
        self.planes = DataPlaneRouter(
            address, self._channel,
            lambda other: open_channel(other, ca_cert, client_cert, client_key),
            self._list_data_planes)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.planes.close()
        await self._channel.close()

    async def _unary(self, method, request, *, timeout: float | None = None):
        """One unary RPC with auth, a per-attempt deadline and the retry policy."""
        async def attempt():
            return await method(request, metadata=self._metadata,
                                timeout=timeout or self.timeout)
        return await call_with_retry(attempt, self.retry)

    async def _data_unary(self, method: str, request):
        """A unary DataPlaneService call; each attempt goes to the next live data plane."""
        async def attempt():
            async with self.planes.use() as plane:
                return await getattr(plane.stub, method)(request, metadata=self._metadata,
                                                         timeout=self.timeout)
        return await call_with_retry(attempt, self.retry)

    async def _list_data_planes(self) -> list[str]:
        """The live data planes' addresses, asked of the given address (one attempt)."""
        try:
            reply = await self._cp.ListDataPlanes(cp.ListDataPlanesRequest(),
                                                  metadata=self._metadata, timeout=self.timeout)
        except grpc.RpcError as rpc:
            raise from_rpc_error(rpc) from rpc
        return [p.address for p in reply.data_planes]

    def _stream_kwargs(self, timeout: float | None) -> dict:
        return {"metadata": self._metadata, "timeout": timeout or self.stream_timeout}
