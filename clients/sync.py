"""`Client`: a blocking facade over `AsyncClient` for scripts and notebooks.

Why a private event loop on a thread rather than `asyncio.run` per call: a grpc.aio
channel belongs to the loop it was created on, so a loop per call would mean a channel
(and TCP/TLS handshake) per call, and `asyncio.run` fails outright when the caller
already runs a loop (Jupyter). One long-lived loop keeps one channel for the client's life.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Iterator

from clients.aio import AsyncClient


class Client:
    """The methods of `AsyncClient`, blocking; async iterators become plain iterators.

    Takes the same arguments as `AsyncClient`. Close it (or use `with`) to stop its thread.
    """

    def __init__(self, *args, **kwargs) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="blockstore-client", daemon=True)
        self._thread.start()
        try:
            self._async: AsyncClient = self._run(_make(*args, **kwargs))
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __getattr__(self, name: str):
        """Forwards public AsyncClient methods: coroutines are awaited, generators drained lazily."""
        if name.startswith("_"):
            raise AttributeError(name)
        member = getattr(AsyncClient, name, None)
        if inspect.isasyncgenfunction(member):
            return lambda *a, **k: self._iterate(getattr(self._async, name)(*a, **k))
        if inspect.iscoroutinefunction(member):
            return lambda *a, **k: self._run(getattr(self._async, name)(*a, **k))
        return getattr(self._async, name)

    def _iterate(self, agen) -> Iterator:
        try:
            while True:
                try:
                    yield self._run(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._run(agen.aclose())

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._async.close())
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


async def _make(*args, **kwargs) -> AsyncClient:
    """Builds the AsyncClient on the private loop, which its channel then belongs to."""
    return AsyncClient(*args, **kwargs)
