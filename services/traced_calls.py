"""`CallTracing`: a SERVER span per RPC, continuing the caller's W3C `traceparent`.

Why an observer of every call (services/observed_calls.py): every call gets its span,
and the span is current while the call's behavior runs (the watch's `enter`/`leave`),
so the store spans (services/traced_stores.py) become its children, without any plane
knowing about tracing. Stacked by services/server.py only when tracing is on
(services/tracing.py).

Rules: attributes come from the method table, the final status and the authenticated
account id; never from metadata (the bearer token travels there) nor from request
fields. Health checks get no span: load balancers poll them, they would drown the traces.
"""

from __future__ import annotations

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from blockstore.caller import CURRENT_ACCOUNT
from services.rpc_observer import RpcCall

UNTRACED_SERVICES = ("grpc.health.v1.Health",)
# Server spans mark only the server's own faults as errors (OpenTelemetry's gRPC
# conventions): a NOT_FOUND is the caller's mistake, not a failure of this service.
SERVER_FAULTS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED,
                 grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.INTERNAL,
                 grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS}


class CallTracing:
    """A SERVER span around each call, the current span while its behavior runs."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    def watch(self, call: RpcCall) -> _CallSpan | None:
        if call.service in UNTRACED_SERVICES:
            return None
        return _CallSpan(self.tracer, call)


class _CallSpan:
    def __init__(self, tracer: trace.Tracer, call: RpcCall) -> None:
        self.span = tracer.start_span(
            call.method, context=propagate.extract(call.trace_headers()),
            kind=trace.SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "rpc.service": call.service,
                        "rpc.method": call.name})

    def enter(self) -> object:
        return otel_context.attach(trace.set_span_in_context(self.span))

    def leave(self, token: object) -> None:
        otel_context.detach(token)

    def ended(self, call: RpcCall) -> None:
        code = call.code
        self.span.set_attribute("rpc.grpc.status_code", code.value[0])
        self.span.set_attribute("rpc.grpc.status", code.name)
        account = CURRENT_ACCOUNT.get(None)
        if account:
            self.span.set_attribute("blockstore.account_id", account)
        if code in SERVER_FAULTS:
            self.span.set_status(trace.StatusCode.ERROR, code.name)
        self.span.end()
