"""`TracingInterceptor`: a SERVER span per RPC, continuing the caller's W3C `traceparent`.

Why an interceptor: every call gets its span, and the span is current while the call's
behavior runs, so the store spans (services/traced_stores.py) become its children,
without any plane knowing about tracing. Stacked by services/server.py outside the
authentication edge, only when tracing is on (services/tracing.py).

Rules: attributes come from the method table, the final status and the authenticated
account id; never from metadata (the bearer token travels there) nor from request
fields. Health checks get no span: load balancers poll them, they would drown the traces.
"""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator, Callable

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from blockstore.caller import CURRENT_ACCOUNT
from services.handlers import final_code, items_of, result_of, rewrap

UNTRACED_PREFIXES = ("/grpc.health.v1.Health/",)
# Server spans mark only the server's own faults as errors (OpenTelemetry's gRPC
# conventions): a NOT_FOUND is the caller's mistake, not a failure of this service.
SERVER_FAULTS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED,
                 grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.INTERNAL,
                 grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS}


class TracingInterceptor(grpc.aio.ServerInterceptor):
    """A SERVER span around each call, the current span while its behavior runs."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    async def intercept_service(self, continuation: Callable, details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith(UNTRACED_PREFIXES):
            return handler
        return _wrap(handler, _CallSpan(self.tracer, details))


class _CallSpan:
    def __init__(self, tracer: trace.Tracer, details: Any) -> None:
        service, _, method = details.method.lstrip("/").rpartition("/")
        # Only the propagation headers are handed over: the rest of the metadata holds
        # the bearer token, which must reach no exporter.
        carrier = {k: v for k, v in details.invocation_metadata or ()
                   if k in ("traceparent", "tracestate", "baggage")}
        self.span = tracer.start_span(
            f"{service}/{method}", context=propagate.extract(carrier),
            kind=trace.SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method})

    def current(self) -> object:
        return otel_context.attach(trace.set_span_in_context(self.span))

    def end(self, context: Any, error: BaseException | None) -> None:
        code = final_code(context, error)
        self.span.set_attribute("rpc.grpc.status_code", code.value[0])
        self.span.set_attribute("rpc.grpc.status", code.name)
        account = CURRENT_ACCOUNT.get(None)
        if account:
            self.span.set_attribute("blockstore.account_id", account)
        if code in SERVER_FAULTS:
            self.span.set_status(trace.StatusCode.ERROR, code.name)
        self.span.end()


async def _stepwise(items: AsyncIterator[Any], call: _CallSpan) -> AsyncIterator[Any]:
    """`items`, each step run with the call's span current. Attached and detached within
    one step, so the context stays right whoever drives or closes the generator."""
    async with contextlib.aclosing(items):
        while True:
            token = call.current()
            try:
                item = await anext(items)
            except StopAsyncIteration:
                return
            finally:
                otel_context.detach(token)
            yield item


def _wrap(handler: grpc.RpcMethodHandler, call: _CallSpan):
    def unary(behavior):
        async def run(request, context):
            token, error = call.current(), None
            try:
                return await result_of(behavior, request, context)
            except BaseException as err:
                error = err
                raise
            finally:
                otel_context.detach(token)
                call.end(context, error)
        return run

    def streaming(behavior):
        async def run(request, context):
            error = None
            try:
                async for item in _stepwise(items_of(behavior, request, context), call):
                    yield item
            except BaseException as err:
                error = err
                raise
            finally:
                call.end(context, error)
        return run

    return rewrap(handler, unary, streaming)
