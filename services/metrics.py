"""Process metrics: counters in Prometheus text format, fed by one server interceptor.

Owns `Metrics` (a registry of labelled counters) and `MetricsInterceptor`, which counts
every finished RPC by service, method and final status code, and the upload figures an
`UploadBlocksResponse` reports. It wraps the other interceptors (it is stacked first in
services/server.py), so it sees the status a client sees, UNAUTHENTICATED included.

Rules: label values come from the server's own method table and status names, never
from request data (no ids, no tokens), so the series count stays bounded; the counters
are per process (a scrape of each process, summed by the collector, is the total).
"""

from __future__ import annotations

from asyncio import CancelledError
from collections import defaultdict
from typing import Any, Callable

import grpc

from services.handlers import items_of, result_of, rewrap

RPC_TOTAL = "blockstore_rpc_total"
UPLOAD_COUNTERS = {  # UploadBlocksResponse field -> counter
    "bytes_received": "blockstore_bytes_received_total",
    "bytes_stored": "blockstore_bytes_stored_total",
    "dedup_hits": "blockstore_dedup_hits_total",
}
HELP = {
    RPC_TOTAL: "RPCs finished, by service, method and status code.",
    "blockstore_bytes_received_total": "Block bytes received by UploadBlocks (committed streams).",
    "blockstore_bytes_stored_total": "Bytes written to the chunk store by committed uploads.",
    "blockstore_dedup_hits_total": "Uploaded blocks the account already stored.",
}


class Metrics:
    """Monotonic counters keyed by (name, sorted labels)."""

    def __init__(self) -> None:
        self._values: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
        for name in HELP:
            self._values[name]
        for name in UPLOAD_COUNTERS.values():   # unlabelled: present from the start
            self._values[name][()] = 0

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        series = self._values[name]
        series[key] = series.get(key, 0) + amount

    def value(self, name: str, **labels: str) -> float:
        return self._values.get(name, {}).get(tuple(sorted(labels.items())), 0)

    def render(self) -> str:
        """The Prometheus text exposition format, version 0.0.4."""
        lines = []
        for name, series in sorted(self._values.items()):
            lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} counter"]
            for labels, value in sorted(series.items()):
                inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                lines.append(f"{name}{{{inner}}} {value:g}" if inner else f"{name} {value:g}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts each finished call and the figures of each committed upload."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def intercept_service(self, continuation: Callable, details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        service, _, method = details.method.lstrip("/").rpartition("/")
        return _wrap(handler, _Recorder(self.metrics, service.rpartition(".")[2], method))


class _Recorder:
    def __init__(self, metrics: Metrics, service: str, method: str) -> None:
        self.metrics, self.service, self.method = metrics, service, method

    def finished(self, context: grpc.aio.ServicerContext, error: BaseException | None) -> None:
        code = context.code()
        if code is None:
            code = grpc.StatusCode.OK if error is None else (
                grpc.StatusCode.CANCELLED if isinstance(error, (CancelledError, GeneratorExit))
                else grpc.StatusCode.UNKNOWN)
        name = code.name if isinstance(code, grpc.StatusCode) else str(code)
        self.metrics.inc(RPC_TOTAL, service=self.service, method=self.method, code=name)

    def response(self, reply: Any) -> None:
        for field, counter in UPLOAD_COUNTERS.items():
            amount = getattr(reply, field, None)
            if isinstance(amount, int) and amount:
                self.metrics.inc(counter, amount)


def _wrap(handler: grpc.RpcMethodHandler, rec: _Recorder):
    def unary(behavior):
        async def call(request, context):
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
            try:
                async for item in items_of(behavior, request, context):
                    yield item
            except BaseException as err:
                rec.finished(context, err)
                raise
            rec.finished(context, None)
        return call

    return rewrap(handler, unary, streaming)
