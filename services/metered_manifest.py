"""`MeteredManifest`: times every `ManifestStore` transaction by backend, kind and outcome.

Why a wrapper (as `MeteredChunkStore` for chunks): every plane opens transactions in many
places; measuring here, stacked once in services/server.py, covers them all. Two figures:
the wait until the transaction began (the in-process writer lock, the connection pool,
SQLite's busy wait or a PostgreSQL lock: where contention shows) and the whole transaction
to its commit or rollback, by outcome: `commit`, `rollback` (the body raised: a domain
error, a cancelled call) or `error` (BEGIN or COMMIT itself failed).

The backends never retry a transaction (manifest/postgres.py says why), so there is no
retry count to export: a contended commit waits, and shows in the wait histogram.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any, AsyncIterator

from manifest import ManifestStore, ManifestTx
from services.metric_families import Metrics

OUTCOMES = ("commit", "rollback", "error")


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:") else "postgresql"


class MeteredManifest:
    def __init__(self, inner: ManifestStore, backend: str, metrics: Metrics) -> None:
        self.inner = inner
        self._timers = {kind: ({o: metrics.manifest_seconds.labels(backend, kind, o)
                                for o in OUTCOMES},
                               metrics.manifest_wait_seconds.labels(backend, kind))
                        for kind in ("read", "write")}

    def write(self):
        return self._measured(self.inner.write(), *self._timers["write"])

    def read(self):
        return self._measured(self.inner.read(), *self._timers["read"])

    @asynccontextmanager
    async def _measured(self, transaction, seconds: dict, wait: Any) -> AsyncIterator[ManifestTx]:
        start = perf_counter()
        outcome = "error"
        try:
            async with transaction as tx:
                wait.observe(perf_counter() - start)
                try:
                    yield tx
                except BaseException:
                    outcome = "rollback"
                    raise
                outcome = "error"          # until the commit below has returned
            outcome = "commit"
        finally:
            seconds[outcome].observe(perf_counter() - start)

    async def release_space(self, max_pages: int) -> int:
        return await self.inner.release_space(max_pages)

    async def close(self) -> None:
        await self.inner.close()
