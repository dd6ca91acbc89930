"""The metric families of one server process, on a `prometheus_client` registry of its own.

Owns the names, help texts, label sets and buckets (docs/operations.md lists them). The
measuring is done elsewhere: the RPC observer (services/metrics.py) and the storage
wrappers (services/metered_chunks.py, services/metered_manifest.py), stacked in
services/server.py, and the server's GC task.

Rules: label values come from the server's own tables (method names, status names,
backend and operation names), never from request data (no ids, no tokens), so the
series count stays bounded; a registry per `Metrics` object, not the library's global
one, so several servers in one process (tests) never share or clash.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.process_collector import ProcessCollector

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4        # what generate_latest writes
# Seconds: a cached lookup (sub-millisecond) up to a long stream (a minute).
RPC_BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60)
# Seconds: one chunk file or object, one manifest transaction.
STORAGE_BUCKETS = (.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5,
                   1, 2.5, 10)
UPLOAD_FIELDS = ("bytes_received", "bytes_stored", "dedup_hits", "blocks_written")


class Metrics:
    """Every family this process exports; callers keep label children they reuse."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)          # CPU, memory, open files of the process
        rpc = ("service", "method", "code")
        self.rpcs = Counter("blockstore_rpc", "RPCs finished, by service, method and "
                            "status code.", rpc, registry=r)
        self.rpc_seconds = Histogram("blockstore_rpc_duration_seconds", "Time from an RPC's "
                                     "start to its status.", rpc, buckets=RPC_BUCKETS,
                                     registry=r)
        self.upload = {
            "bytes_received": Counter("blockstore_bytes_received", "Block bytes received "
                                      "by UploadBlocks (committed streams).", registry=r),
            "bytes_stored": Counter("blockstore_bytes_stored", "Chunk bytes stored for "
                                    "chunks new to the uploading account (committed "
                                    "streams).", registry=r),
            "dedup_hits": Counter("blockstore_dedup_hits", "Uploaded blocks the account "
                                  "already stored (committed streams).", registry=r),
            "blocks_written": Counter("blockstore_blocks_written", "Block rows written by "
                                      "committed UploadBlocks streams.", registry=r),
        }
        self.bytes_sent = Counter("blockstore_bytes_sent", "Block data bytes sent by "
                                  "DownloadBlocks.", registry=r)
        self.upload_streams = Gauge("blockstore_upload_streams_in_flight", "UploadBlocks "
                                    "streams open on this process.", registry=r)
        self.cache_lookups = Counter("blockstore_cache_lookups", "Lookups in an in-process "
                                     "cache, by cache and result (hit, miss).",
                                     ("cache", "result"), registry=r)
        self._storage(r)
        self._gc(r)

    def _storage(self, r: CollectorRegistry) -> None:
        chunk = ("backend", "operation")
        self.chunk_seconds = Histogram("blockstore_chunk_store_operation_seconds",
                                       "Chunk store calls, by backend and operation.",
                                       chunk, buckets=STORAGE_BUCKETS, registry=r)
        self.chunk_errors = Counter("blockstore_chunk_store_errors", "Chunk store calls "
                                    "that raised, by backend and operation.", chunk,
                                    registry=r)
        self.chunk_bytes_written = Counter("blockstore_chunk_store_bytes_written",
                                           "Payload bytes the chunk store wrote (puts that "
                                           "wrote a file or object).", ("backend",),
                                           registry=r)
        self.manifest_seconds = Histogram(
            "blockstore_manifest_transaction_seconds", "Manifest transactions from asking "
            "to commit or rollback, by backend, kind and outcome.",
            ("backend", "kind", "outcome"), buckets=STORAGE_BUCKETS, registry=r)
        self.manifest_wait_seconds = Histogram(
            "blockstore_manifest_transaction_wait_seconds", "Time until a manifest "
            "transaction began (queued for the writer, the pool, the database lock).",
            ("backend", "kind"), buckets=STORAGE_BUCKETS, registry=r)

    def _gc(self, r: CollectorRegistry) -> None:
        self.gc_runs = Counter("blockstore_gc_runs", "Runs of the server's GC task, by "
                               "outcome (ok, skipped: another run held the lease, failed).",
                               ("outcome",), registry=r)
        self.gc_chunks_freed = Counter("blockstore_gc_chunks_freed", "Chunks GC swept.",
                                       registry=r)
        self.gc_bytes_freed = Counter("blockstore_gc_bytes_freed", "Stored bytes of the "
                                      "chunks GC swept.", registry=r)
        self.gc_rows_compacted = Counter("blockstore_gc_rows_compacted", "Block rows GC "
                                         "compacted away.", registry=r)

    def gc_finished(self, outcome: str, report=None) -> None:
        """One run of the GC task (`report`: its services.gc.GcReport when it ran)."""
        self.gc_runs.labels(outcome).inc()
        if report is not None:
            self.gc_chunks_freed.inc(report.chunks_swept)
            self.gc_bytes_freed.inc(report.bytes_freed)
            self.gc_rows_compacted.inc(report.rows_compacted)

    def render(self) -> bytes:
        """The Prometheus text exposition format, version 0.0.4."""
        return generate_latest(self.registry)
