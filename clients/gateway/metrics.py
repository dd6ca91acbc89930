"""`blockstore gateway --metrics-listen HOST:PORT`: the gateway's counters as Prometheus text.

Owns the translation of `Stats` (clients/gateway/status.py, the same figures as
`--json-status`) into metric families, read at scrape time, and the listener:
prometheus-client's own HTTP server on a daemon thread (the gateway is a client
process with no server code to share). Reading the counters from that thread is safe:
each is one int or bool the event loop replaces whole.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from clients.gateway.status import Stats

COUNTERS = {
    "cache_hits": "Reads served from the local chunk cache.",
    "cache_misses": "Reads that fetched their chunk from the service.",
    "flushes": "FLUSH/FUA commits to the service.",
    "flush_errors": "Commits that failed (retried later).",
    "chunks_uploaded": "Chunks uploaded to the service.",
    "snapshots_taken": "Snapshots the gateway took (shadow mode, --snapshot-every).",
}
GAUGES = {
    "cache_bytes": "Bytes in the local chunk cache.",
    "dirty_chunks": "Chunks written locally, not yet committed to the service.",
    "dirty_bytes": "Bytes of those chunks.",
    "shadow_backlog_chunks": "Shadow mode: chunks waiting to be uploaded.",
    "shadow_backlog_bytes": "Shadow mode: bytes waiting to be uploaded.",
}


class StatsCollector:
    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    def collect(self):
        for field, text in COUNTERS.items():
            yield CounterMetricFamily(f"blockstore_gateway_{field}", text,
                                      value=getattr(self.stats, field))
        for field, text in GAUGES.items():
            yield GaugeMetricFamily(f"blockstore_gateway_{field}", text,
                                    value=getattr(self.stats, field))


def serve_metrics(stats: Stats, listen: str):
    """Start the listener on HOST:PORT (port 0 picks one); returns (server, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--metrics-listen {listen!r}: expected HOST:PORT")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatsCollector(stats))
    server, _ = start_http_server(int(port), host.strip("[]") or "127.0.0.1",
                                  registry=registry)
    return server, server.server_port
