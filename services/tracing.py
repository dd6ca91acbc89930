"""OpenTelemetry traces, configured by the standard `OTEL_*` variables and off without them.

Owns `tracing_from_environment`, which builds the SDK (tracer provider, batch processor,
OTLP/HTTP exporter) only when the environment asks for an exporter, and
`TracingInterceptor`, which gives every RPC a SERVER span continuing the caller's W3C
`traceparent`. The spans of the stores inside a call come from services/traced_stores.py.

Rules:
- Off by default, and then free: `tracing_from_environment` returns None, the SDK is not
  imported, and services/server.py stacks neither the interceptor nor the store wrappers.
- Attributes come from the method table, the final status and the authenticated account
  id; never from metadata (the bearer token travels there) nor from request fields.
- Health checks get no span: load balancers poll them, and they would drown the traces.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Mapping

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from blockstore.caller import CURRENT_ACCOUNT
from services.handlers import final_code, items_of, result_of, rewrap

ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
EXPORTERS = ("otlp", "console")
UNTRACED_PREFIXES = ("/grpc.health.v1.Health/",)
DEFAULT_SERVICE_NAME = "blockstore"
# Server spans mark only the server's own faults as errors (OpenTelemetry's gRPC
# conventions): a NOT_FOUND is the caller's mistake, not a failure of this service.
SERVER_FAULTS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED,
                 grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.INTERNAL,
                 grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS}


@dataclass
class Tracing:
    """The SDK set up for this process; `close` flushes the spans still queued."""

    tracer: trace.Tracer
    provider: Any
    described: str

    async def close(self) -> None:
        await asyncio.to_thread(self.provider.shutdown)


def exporters_wanted(environ: Mapping[str, str]) -> list[str]:
    """The exporters the environment asks for; [] means tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = [n.strip() for n in environ.get("OTEL_TRACES_EXPORTER", "").lower().split(",")
             if n.strip() and n.strip() != "none"]
    if not environ.get("OTEL_TRACES_EXPORTER", "").strip():
        named = ["otlp"] if any(environ.get(k, "").strip() for k in ENDPOINTS) else []
    for name in named:
        if name not in EXPORTERS:
            raise ValueError(f"OTEL_TRACES_EXPORTER {name!r}: expected one of "
                             f"{', '.join(EXPORTERS)} or none")
    for key in PROTOCOLS:
        protocol = environ.get(key, "").strip()
        if "otlp" in named and protocol and protocol != "http/protobuf":
            raise ValueError(f"{key} {protocol!r}: this server exports spans over "
                             "http/protobuf only")
    return named


def traces_endpoint(environ: Mapping[str, str]) -> str:
    """Where OTLP/HTTP spans go, by the specification's rule for the two variables."""
    url = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or "http://localhost:4318"
    return url or base.rstrip("/") + "/v1/traces"


def tracing_from_environment(environ: Mapping[str, str]) -> Tracing | None:
    """The SDK as the standard variables configure it, or None when they ask for nothing.

    `environ` decides whether and where; the SDK reads the rest of its settings (headers,
    timeouts, sampler, batching, resource) from the process environment itself."""
    named = exporters_wanted(environ)
    if not named:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create()     # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)     # OTEL_TRACES_SAMPLER
    described = []
    for name in named:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            exporter = OTLPSpanExporter(endpoint=traces_endpoint(environ))
            described.append(f"otlp {traces_endpoint(environ)}")
        else:
            exporter = ConsoleSpanExporter()
            described.append("console")
        provider.add_span_processor(BatchSpanProcessor(exporter))    # OTEL_BSP_*
    return Tracing(provider.get_tracer("blockstore"), provider,
                   f"{', '.join(described)} as {resource.attributes['service.name']}")


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
