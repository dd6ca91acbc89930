"""The RPC observer that feeds the process metrics (services/metric_families.py).

Owns `RpcMetrics`, which counts and times every finished RPC by service, method and
final status code, counts the figures an `UploadBlocksResponse` reports and the block
data `DownloadBlocks` sends, and keeps the gauge of UploadBlocks streams in flight. It
is one of the observers of services/observed_calls.py, which measures the call once
for all of them, outside the authentication edge: it sees the status a client sees,
UNAUTHENTICATED included.

Rule: the metrics are per process (a scrape of each process, summed by the collector, is
the total); what storage costs is measured by the storage wrappers, not here.
"""

from __future__ import annotations

from typing import Any

from services.metric_families import UPLOAD_FIELDS, Metrics
from services.rpc_observer import RpcCall

__all__ = ["Metrics", "RpcMetrics"]


class RpcMetrics:
    """Counts and times each finished call and the figures of each committed upload."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def watch(self, call: RpcCall) -> _Recorder:
        kind = _WATCHES.get(call.name, _Recorder)
        return kind(self.metrics, call.service.rpartition(".")[2], call.name)


class _Recorder:
    """One call: started when its behavior is, ended once with its status."""

    def __init__(self, metrics: Metrics, service: str, method: str) -> None:
        self.metrics, self.service, self.method = metrics, service, method

    def ended(self, call: RpcCall) -> None:
        name = call.code.name
        self.metrics.rpcs.labels(self.service, self.method, name).inc()
        self.metrics.rpc_seconds.labels(self.service, self.method, name).observe(call.seconds)


class _Upload(_Recorder):
    """An UploadBlocks stream: in the gauge while it runs; its reply's figures counted."""

    def __init__(self, metrics: Metrics, service: str, method: str) -> None:
        super().__init__(metrics, service, method)
        metrics.upload_streams.inc()

    def sent(self, reply: Any) -> None:
        for field in UPLOAD_FIELDS:
            amount = getattr(reply, field, 0)
            if amount:
                self.metrics.upload[field].inc(amount)

    def ended(self, call: RpcCall) -> None:
        self.metrics.upload_streams.dec()
        super().ended(call)


class _Download(_Recorder):
    """A DownloadBlocks stream: the block data of each item counted as it is sent."""

    def sent(self, item: Any) -> None:
        self.metrics.bytes_sent.inc(len(item.data))


_WATCHES = {"UploadBlocks": _Upload, "DownloadBlocks": _Download}
