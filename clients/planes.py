"""Which data-plane process each DataPlaneService call goes to (discovery).

The client is given one address (`BLOCKSTORE_ADDRESS`: a control plane or a `serve`). It
asks that address for the live data planes (ListDataPlanes) and spreads its calls over
them. Rules:

- each call goes to the listed plane with the fewest of this client's calls running,
  ties in turn, so parallel streams land on different processes;
- the list is fetched before the first data-plane call, again every `refresh_s`, and at
  once after a plane answered UNAVAILABLE;
- a plane that answered UNAVAILABLE is skipped for `avoid_s` (a killed process stays
  listed until its registration expires), so the caller's retry goes to another one;
- an empty list (nothing advertised; an old server or a lone data plane that answers
  UNIMPLEMENTED) means the given address, as before;
- when every listed plane failed lately, the one that failed longest ago is tried again
  (the given address may be a control plane, which has no DataPlaneService);
- a control plane that cannot be asked (UNAVAILABLE) leaves the last list in force;
- every channel is opened by the one `open_channel` given, so TLS settings apply to all.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc

from blockstore.v1 import data_plane_pb2_grpc
from clients.errors import BlockstoreError


@dataclass(frozen=True)
class Plane:
    address: str
    channel: grpc.aio.Channel
    stub: data_plane_pb2_grpc.DataPlaneServiceStub


class DataPlaneRouter:
    def __init__(self, address: str, channel: grpc.aio.Channel,
                 open_channel: Callable[[str], grpc.aio.Channel],
                 list_planes: Callable[[], Awaitable[list[str]]], *,
                 refresh_s: float = 30.0, avoid_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.address, self._open, self._list = address, open_channel, list_planes
        self.refresh_s, self.avoid_s, self._clock = refresh_s, avoid_s, clock
        self._planes = {address: _plane(address, channel)}
        self._listed: list[str] = []
        self._fetched_at: float | None = None
        self._avoid: dict[str, float] = {}
        self._turn = random.randrange(1 << 16)    # many clients do not all start on one
        self._lock = asyncio.Lock()
        self._busy: Counter[str] = Counter()

    @asynccontextmanager
    async def use(self) -> AsyncIterator[Plane]:
        """A plane for one call, counted busy while the call runs; UNAVAILABLE from it
        (a gRPC error or its typed form) marks it failed."""
        plane = await self.pick()
        self._busy[plane.address] += 1
        try:
            yield plane
        except Exception as err:
            code = err.code() if isinstance(err, grpc.RpcError) else getattr(err, "code", None)
            if code == grpc.StatusCode.UNAVAILABLE:
                self.failed(plane)
            raise
        finally:
            self._busy[plane.address] -= 1

    async def pick(self) -> Plane:
        """The live plane with the fewest calls running (ties in turn), or the given
        address when there is none."""
        if self._stale():
            async with self._lock:
                if self._stale():
                    await self._refresh()
        now = self._clock()
        live = [a for a in self._listed if self._avoid.get(a, 0.0) <= now]
        if not live and self._listed:
            live = [min(self._listed, key=lambda a: self._avoid.get(a, 0.0))]
        if not live:
            return self._planes[self.address]
        self._turn += 1
        turn = self._turn
        address = min(live, key=lambda a: (self._busy[a], (live.index(a) - turn) % len(live)))
        if address not in self._planes:
            self._planes[address] = _plane(address, self._open(address))
        return self._planes[address]

    def failed(self, plane: Plane) -> None:
        """`plane` answered UNAVAILABLE: skip it for a while and re-read the list."""
        self._avoid[plane.address] = self._clock() + self.avoid_s
        self._fetched_at = None

    def live(self) -> list[str]:
        """The addresses last listed (for tests and diagnostics)."""
        return list(self._listed)

    def used(self) -> set[str]:
        """Addresses this client opened a channel to besides the one given."""
        return set(self._planes) - {self.address}

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self.refresh_s

    async def _refresh(self) -> None:
        try:
            self._listed = await self._list()
        except BlockstoreError as err:
            if err.code == grpc.StatusCode.UNIMPLEMENTED:
                self._listed = []             # no discovery there: use the address given
            elif err.code not in (grpc.StatusCode.UNAVAILABLE,
                                  grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
        self._fetched_at = self._clock()
        self._avoid = {a: t for a, t in self._avoid.items() if t > self._fetched_at}

    async def close(self) -> None:
        for address, plane in self._planes.items():
            if address != self.address:       # the owner closes the channel it gave
                await plane.channel.close()


def _plane(address: str, channel: grpc.aio.Channel) -> Plane:
    return Plane(address, channel, data_plane_pb2_grpc.DataPlaneServiceStub(channel))
