"""`Metering`: what `--metrics-listen` switches on, handed to services/server.py to stack.

Owns the switch: with `--metrics-listen` the process gets its metric families
(services/metric_families.py), the RPC observer (services/metrics.py), the storage
wrappers (services/metered_chunks.py, services/metered_manifest.py), the GC and EBS
observers and the /metrics listener; without it each of these is the identity or a
no-op, so a server that exports no metrics pays nothing for them (bench/dataplane.py
--metrics-overhead measures what they cost when on). services/server.py still decides
where each piece goes in the stack.
"""

from __future__ import annotations

from typing import Any

from chunkstore import ChunkStore
from manifest import ManifestStore
from services.metered_chunks import MeteredChunkStore, backend_of as chunks_backend
from services.metered_manifest import MeteredManifest, backend_of as manifest_backend
from services.metric_families import Metrics
from services.metrics import RpcMetrics
from services.metrics_http import start_metrics_server


class Metering:
    def __init__(self, listen: str, db_url: str, chunks_url: str) -> None:
        self.listen = listen
        self.metrics = Metrics() if listen else None
        self._backends = manifest_backend(db_url), chunks_backend(chunks_url)

    def observers(self) -> list:
        return [RpcMetrics(self.metrics)] if self.metrics else []

    def manifest(self, store: ManifestStore) -> ManifestStore:
        return MeteredManifest(store, self._backends[0], self.metrics) if self.metrics \
            else store

    def chunks(self, chunks: ChunkStore) -> ChunkStore:
        return MeteredChunkStore(chunks, self._backends[1], self.metrics) if self.metrics \
            else chunks

    def token_cache(self, hit: bool) -> None:
        if self.metrics:
            self.metrics.cache_lookups.labels("bearer_token", "hit" if hit else "miss").inc()

    def gc_finished(self, outcome: str, report: Any = None) -> None:
        if self.metrics:
            self.metrics.gc_finished(outcome, report)

    def ebs_finished(self, operation: str, outcome: str) -> None:
        if self.metrics:
            self.metrics.rpcs.labels("EBS", operation, outcome).inc()

    async def serve(self, closers: list) -> int:
        """Start the /metrics listener (its closer goes on `closers`); its port, 0 if off."""
        if not self.metrics:
            return 0
        http, port = await start_metrics_server(self.metrics, self.listen)

        async def close() -> None:
            http.close()
            await http.wait_closed()

        closers.append(close)
        return port
