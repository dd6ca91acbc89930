"""The RPC interceptor that feeds the process metrics (services/metric_families.py).

Owns `MetricsInterceptor`, which counts and times every finished RPC by service, method
and final status code, counts the figures an `UploadBlocksResponse` reports and the block
data `DownloadBlocks` sends, and keeps the gauge of UploadBlocks streams in flight. It
wraps the other interceptors (it is stacked first in services/server.py), so it sees the
status a client sees, UNAUTHENTICATED included.

Rule: the metrics are per process (a scrape of each process, summed by the collector, is
the total); what storage costs is measured by the storage wrappers, not here.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Callable

import grpc

from services.handlers import final_code, items_of, result_of, rewrap
from services.metric_families import UPLOAD_FIELDS, Metrics

__all__ = ["Metrics", "MetricsInterceptor"]


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts and times each finished call and the figures of each committed upload."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def intercept_service(self, continuation: Callable, details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        service, _, method = details.method.lstrip("/").rpartition("/")
        return _wrap(handler, self.metrics, service.rpartition(".")[2], method)


class _Recorder:
    """One call: started when its behavior is, finished once with its status."""

    def __init__(self, metrics: Metrics, service: str, method: str) -> None:
        self.metrics, self.service, self.method = metrics, service, method
        self.start = perf_counter()
        self.stream = metrics.upload_streams if method == "UploadBlocks" else None
        if self.stream is not None:
            self.stream.inc()

    def finished(self, context: grpc.aio.ServicerContext, error: BaseException | None) -> None:
        seconds = perf_counter() - self.start
        if self.stream is not None:
            self.stream.dec()
        name = final_code(context, error).name
        self.metrics.rpcs.labels(self.service, self.method, name).inc()
        self.metrics.rpc_seconds.labels(self.service, self.method, name).observe(seconds)

    def response(self, reply: Any) -> None:
        if self.method != "UploadBlocks":
            return
        for field in UPLOAD_FIELDS:
            amount = getattr(reply, field, 0)
            if amount:
                self.metrics.upload[field].inc(amount)


def _wrap(handler: grpc.RpcMethodHandler, metrics: Metrics, service: str, method: str):
    sent = metrics.bytes_sent if method == "DownloadBlocks" else None

    def unary(behavior):
        async def call(request, context):
            rec = _Recorder(metrics, service, method)
            try:
                reply = await result_of(behavior, request, context)
            except BaseException as err:
                rec.finished(context, err)
                raise
            rec.response(reply)
            rec.finished(context, None)
            return reply
        return call

    def streaming(behavior):
        async def call(request, context):
            rec = _Recorder(metrics, service, method)
            try:
                async for item in items_of(behavior, request, context):
                    if sent is not None:
                        sent.inc(len(item.data))
                    yield item
            except BaseException as err:
                rec.finished(context, err)
                raise
            rec.finished(context, None)
        return call

    return rewrap(handler, unary, streaming)
