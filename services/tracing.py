"""OpenTelemetry traces, configured by the standard `OTEL_*` variables and off without them.

Owns `tracing_from_environment`, which builds the SDK (tracer provider, batch processor,
OTLP/HTTP exporter) only when the environment asks for an exporter. The spans come from
services/traced_calls.py (one per RPC, an observer of every call) and the wrappers of
services/traced_stores.py (the manifest's write transactions, chunk writes and reads),
stacked by services/server.py.

Rule: off by default, and then free: `tracing_from_environment` returns None, the SDK is
not imported, and services/server.py stacks neither the call observer nor the store
wrappers. The decision is made once, at start-up; a setting this server cannot honour
(another protocol, an unknown exporter) stops the start, naming the variable.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Mapping

from opentelemetry import trace

ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
PROTOCOLS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
EXPORTERS = ("otlp", "console")
DEFAULT_SERVICE_NAME = "blockstore"


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
